//! Plots (reference §7), drawn with plotters from a run's, sweep's or atlas's
//! files alone, so `fraclab plot DIR` redraws what `run`, `sweep` and
//! `atlas` drew, byte for byte.
//!
//! SVG text is SVG `<text>`; text is measured, and PNGs are rasterised,
//! with DejaVu Sans compiled into the binary (the `dejavu` crate), so no
//! system font library is needed.
//!
//! - run: `knowledge.svg`/`.png` (analysis on), `sequence.svg` (full
//!   trace; a lifeline chart for n ≤ 8, message counts per epoch above),
//!   `sequence.mmd` (Mermaid, n ≤ 8);
//! - sweep: `sweep-<metric>.svg`, one line per group of the other varied keys;
//! - atlas: `atlas-leaks.svg`/`.png` and `atlas-ring.svg`/`.png` heatmaps,
//!   `atlas-leaks-lines.svg`.

mod atlas;
mod canvas;
mod data;
mod explore;
pub use data::{Trace, TraceBuilder};
mod knowledge;
mod mermaid;
mod raster;
mod sequence;
mod sweep;
pub mod walkthrough;

use std::path::{Path, PathBuf};

/// Why plots were not drawn. `fraclab plot` exits 2 for [`PlotError::Nothing`],
/// [`PlotError::Data`] and [`PlotError::Read`] (bad input, found before any
/// plot is written) and 1 for the others.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A file could not be read, written or removed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// A file that is not what fraclab writes, or files of different runs.
    #[error("{path}: {message}")]
    Data {
        /// The file.
        path: PathBuf,
        /// Where and what: `line L: KEY: …`.
        message: String,
    },
    /// plotters failed to draw or encode a chart.
    #[error("{path}: drawing failed: {message}")]
    Draw {
        /// The plot file being drawn.
        path: PathBuf,
        /// plotters' message.
        message: String,
    },
    /// The folder holds no `summary.json`, `sweep.json` or `atlas-*.csv`.
    #[error("{0}: no summary.json, sweep.json or atlas-*.csv to plot")]
    Nothing(PathBuf),
    /// A file that is not what fraclab writes (the message names the file).
    #[error("{0}")]
    Read(String),
}

impl PlotError {
    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PlotError + '_ {
        move |error| PlotError::Io { path: path.to_path_buf(), error }
    }
}

/// Mermaid is written for runs up to this many members.
pub const SEQUENCE_MEMBERS_MAX: u32 = 8;

/// The lifeline chart is drawn for runs up to this many messages and marks;
/// a longer run gets the per-epoch chart (and no Mermaid export).
pub const LIFELINE_ITEMS_MAX: usize = 4000;

/// What a run's plots are drawn from, read and checked before anything is
/// written.
struct RunFiles {
    summary: data::Summary,
    trace: Option<data::Trace>,
}

impl RunFiles {
    /// A run's summary and trace, checked to be of one run.
    fn of(dir: &Path, summary: data::Summary, trace: Option<data::Trace>) -> Result<RunFiles, PlotError> {
        if let Some(t) = &trace
            && t.members != summary.members
        {
            return Err(PlotError::Data {
                path: dir.join("trace.jsonl"),
                message: format!(
                    "line 1: members: {}, but summary.json says {}; the files are of different runs",
                    t.members, summary.members
                ),
            });
        }
        Ok(RunFiles { summary, trace })
    }
}

/// Reads and checks `dir/summary.json` and, if present, `dir/trace.jsonl`.
fn load_run(dir: &Path) -> Result<RunFiles, PlotError> {
    let summary = data::read_summary(&dir.join("summary.json"))?;
    let trace_path = dir.join("trace.jsonl");
    let trace = if trace_path.exists() { Some(data::Trace::read(&trace_path)?) } else { None };
    RunFiles::of(dir, summary, trace)
}

/// Whether a trace gets the lifeline chart and the Mermaid export.
fn lifelines_drawn(t: &data::Trace) -> bool {
    t.members <= SEQUENCE_MEMBERS_MAX
        && !t.truncated
        && t.messages.len() + t.marks.len() <= LIFELINE_ITEMS_MAX
}

/// Draws a run's plots from its files, already read and checked.
fn draw_run(dir: &Path, files: &RunFiles) -> Result<Vec<PathBuf>, PlotError> {
    let (summary, trace) = (&files.summary, files.trace.as_ref());
    let mut written = Vec::new();
    if summary.compromised.is_some() {
        let chart = knowledge::Timeline::new(summary, trace);
        written.push(canvas::write_svg(&dir.join("knowledge.svg"), &chart)?);
        written.push(canvas::write_png(&dir.join("knowledge.png"), &chart)?);
    }
    if let Some(graph) = crate::report::derivations::dot(summary) {
        let path = dir.join(crate::report::derivations::DERIVATIONS_FILE);
        canvas::write_atomic(&path, graph.as_bytes())?;
        written.push(path);
    }
    if let Some(t) = trace.filter(|t| t.level == "full" && !t.truncated) {
        if lifelines_drawn(t) {
            written
                .push(canvas::write_svg(&dir.join("sequence.svg"), &sequence::Lifelines::new(summary, t))?);
            let mmd = dir.join("sequence.mmd");
            canvas::write_atomic(&mmd, mermaid::render(summary, t).as_bytes())?;
            written.push(mmd);
        } else {
            written.push(canvas::write_svg(&dir.join("sequence.svg"), &sequence::PerEpoch::new(summary, t))?);
        }
    }
    // A run that wrote a trace gets its walkthrough from it; without the
    // trace (a copied folder, the committed gallery) an existing
    // report.html is left as it is, like the sequence chart.
    if trace.is_some() || summary.trace == "none" {
        written.push(walkthrough::write(dir, summary, trace)?);
    }
    Ok(written)
}

/// Writes `dir/report.html` alone, from `dir/summary.json` and (if
/// present) `dir/trace.jsonl`: `fraclab report DIR`.
pub fn report(dir: &Path) -> Result<PathBuf, PlotError> {
    let files = load_run(dir)?;
    if files.trace.is_none() && files.summary.trace != "none" {
        return Err(PlotError::Data {
            path: dir.join("trace.jsonl"),
            message: format!(
                "missing: the run wrote a trace at level {}, and the walkthrough is drawn from it",
                files.summary.trace
            ),
        });
    }
    walkthrough::write(dir, &files.summary, files.trace.as_ref())
}

/// Draws a run's plots from `dir/summary.json` and, if present,
/// `dir/trace.jsonl`. Returns the files written.
pub fn run(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    draw_run(dir, &load_run(dir)?)
}

/// The plot files a run may have; `fraclab run` removes them before
/// drawing, since those of an earlier run in the folder would not match.
pub const RUN_PLOTS: [&str; 6] = [
    walkthrough::REPORT_FILE,
    "knowledge.svg",
    "knowledge.png",
    "sequence.svg",
    "sequence.mmd",
    crate::report::derivations::DERIVATIONS_FILE,
];

/// Redraws a finished run's plots in its folder: the old ones are removed
/// first, so none is left from an earlier run that this one would not draw.
pub fn redraw_run(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    remove_run_plots(dir)?;
    run(dir)
}

/// [`redraw_run`] with the trace already in memory (built from its lines as
/// they were written): only `dir/summary.json` is read.
pub fn redraw_run_with(dir: &Path, trace: Option<Trace>) -> Result<Vec<PathBuf>, PlotError> {
    remove_run_plots(dir)?;
    let summary = data::read_summary(&dir.join("summary.json"))?;
    draw_run(dir, &RunFiles::of(dir, summary, trace)?)
}

/// Removes the [`RUN_PLOTS`] in `dir`; a missing one is no error.
fn remove_run_plots(dir: &Path) -> Result<(), PlotError> {
    for stale in RUN_PLOTS {
        match std::fs::remove_file(dir.join(stale)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(PlotError::io(&dir.join(stale))(e));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Draws a sweep's plots from `dir/sweep.json` and `dir/sweep.csv`.
pub fn sweep(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    sweep::draw(dir, &sweep::load(dir)?)
}

/// Draws `explore.svg` from `dir/explore.csv`.
pub fn explore(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    explore::draw(dir)
}

/// Draws the atlas plots from `dir/atlas-leaks.csv` and `dir/atlas-ring.csv`.
pub fn atlas(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    atlas::draw(dir, &atlas::load(dir)?)
}

/// `fraclab plot DIR`: whatever `dir` holds (a run, a sweep, an atlas).
/// Every file is read and checked before any plot is written, so a bad
/// file leaves the folder as it was.
pub fn any(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let run = if dir.join("summary.json").exists() { Some(load_run(dir)?) } else { None };
    let sweep = if dir.join("sweep.json").exists() { Some(sweep::load(dir)?) } else { None };
    let atlas =
        if ["atlas-leaks.csv", "atlas-ring.csv", "atlas-safe.csv"].iter().any(|f| dir.join(f).exists()) {
            Some(atlas::load(dir)?)
        } else {
            None
        };
    if run.is_none() && sweep.is_none() && atlas.is_none() {
        return Err(PlotError::Nothing(dir.to_path_buf()));
    }
    let mut written = Vec::new();
    if let Some(r) = &run {
        written.extend(draw_run(dir, r)?);
    }
    if let Some(s) = &sweep {
        written.extend(sweep::draw(dir, s)?);
    }
    if let Some(a) = &atlas {
        written.extend(atlas::draw(dir, a)?);
    }
    Ok(written)
}
