//! Outputs: running a scenario into `trace.jsonl` and `summary.json`
//! (reference §5), and re-checking a trace independently (`verify-trace`).
//!
//! Outputs are written to temporary names and renamed into place only when
//! the run has finished, so a failed run never leaves half a trace behind.

pub mod dlog;
pub mod plot;
pub mod summary;
pub mod trace;
pub mod verify;

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::knowledge::form::Layout;
use crate::knowledge::{self, Analysis, Collector, Learn};
use crate::scenario::{Channel, Scenario, TraceLevel};
use crate::sim::{self, NullRecorder, SimError};
pub use summary::Summary;
use trace::TraceWriter;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: io::Error },
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error("the run is not deterministic: the tracing pass differs from the analysis pass (a fraclab bug)")]
    Nondeterministic,
}

/// The result of running one scenario.
#[derive(Debug)]
pub struct RunReport {
    pub summary: Summary,
    pub outcome: sim::Outcome,
    pub analysis: Option<Analysis>,
    /// Where the trace and summary were written, if anywhere.
    pub out_dir: Option<PathBuf>,
}

/// Writes `bytes` to `path` through a temporary name beside it, so a reader
/// never sees half a file. On failure, the path that failed and why.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), (PathBuf, io::Error)> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.partial"));
    fs::write(&tmp, bytes).map_err(|e| (tmp.clone(), e))?;
    fs::rename(&tmp, path).map_err(|e| (path.to_path_buf(), e))
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RunError + '_ {
    move |error| RunError::Io { path: path.to_path_buf(), error }
}

/// The collector and knowledge analysis of a scenario: the simulator's first
/// pass, with every record going to the views.
pub fn analyse(sc: &Scenario) -> Result<(sim::Outcome, Collector, Analysis), RunError> {
    let (outcome, collector) = collect(sc)?;
    let analysis = knowledge::analyse(&collector, sc.group(), &sc.adversaries().coalitions(sc.members()));
    Ok((outcome, collector, analysis))
}

/// The simulator's run with every record going to the views, unanalysed
/// (what `--explain` needs for one question).
pub fn collect(sc: &Scenario) -> Result<(sim::Outcome, Collector), RunError> {
    let cfg = sc.sim_config();
    // Each replacement may restart its ring once (a survivor further on).
    let recoveries = 2 * sc.faults().crashes.iter().filter(|c| c.replace).count() as u32;
    let elgamal = sc.keygen() == crate::scenario::Keygen::Elgamal;
    let layout = Layout { members: sc.members(), epochs: sc.epochs(), init: sc.init(), recoveries, elgamal };
    let tapped = match (sc.channel(), sc.adversaries().tapped_modes()) {
        (Channel::Plain, Some(modes)) => modes,
        _ => Vec::new(),
    };
    let mut collector = Collector::new(layout, tapped);
    let outcome = sim::run(&cfg, &mut collector)?;
    Ok((outcome, collector))
}

/// Runs the simulator writing a trace at `level` into `sink`; returns the
/// outcome and the trace's SHA-256.
fn traced<W: Write>(
    sc: &Scenario,
    level: TraceLevel,
    learns: &[Learn],
    sink: W,
) -> Result<(sim::Outcome, W, String), RunError> {
    let stage = Path::new("trace");
    let mut w = TraceWriter::new(sink, sc, level, learns).map_err(io_err(stage))?;
    let outcome = sim::run(&sc.sim_config(), &mut w)?;
    let (sink, sha) = w.finish().map_err(io_err(stage))?;
    Ok((outcome, sink, sha))
}

/// Runs `sc` and, when `out_dir` is given, writes its trace (at `level`) and
/// summary there. Without `out_dir` the trace is still formatted and hashed
/// (so `trace_sha256` is the same) but goes nowhere.
///
/// With the knowledge analysis on, the simulator runs twice: once to collect
/// every view and analyse it, once to write the trace with each `learn`
/// event at its place. Both runs must agree, and are checked to.
pub fn execute(sc: &Scenario, level: TraceLevel, out_dir: Option<&Path>) -> Result<RunReport, RunError> {
    let (first, analysis) = if sc.analysis() {
        let (outcome, _, analysis) = analyse(sc)?;
        (Some(outcome), Some(analysis))
    } else {
        (None, None)
    };
    // The dlog adversaries work on their own pass, before anything is written.
    let dlog_findings = dlog::attacks(sc)?;
    let learns: &[Learn] = analysis.as_ref().map_or(&[], |a| &a.learns);
    let trace_tmp = out_dir.map(|d| d.join(".trace.jsonl.partial"));
    let created = out_dir.filter(|d| !d.exists());
    if let Some(dir) = out_dir {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let result = (|| {
        let (outcome, sha) = match (level, &trace_tmp) {
            (TraceLevel::None, _) => match &first {
                Some(o) => (o.clone(), None),
                None => (sim::run(&sc.sim_config(), &mut NullRecorder)?, None),
            },
            (_, None) => {
                let (o, _, sha) = traced(sc, level, learns, io::sink())?;
                (o, Some(sha))
            }
            (_, Some(tmp)) => {
                let file = File::create(tmp).map_err(io_err(tmp))?;
                let (o, file, sha) = traced(sc, level, learns, file)?;
                file.sync_all().map_err(io_err(tmp))?;
                (o, Some(sha))
            }
        };
        if first.as_ref().is_some_and(|f| *f != outcome) {
            return Err(RunError::Nondeterministic);
        }
        Ok((outcome, sha))
    })();
    let (outcome, sha) = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(tmp) = &trace_tmp {
                let _ = fs::remove_file(tmp);
            }
            if let Some(dir) = created {
                // Only removes the folder if this run made it and left it empty.
                let _ = fs::remove_dir(dir);
            }
            return Err(e);
        }
    };
    let mut summary = Summary::new(sc, level.as_str(), &outcome, analysis.as_ref(), sha);
    summary.findings.extend(dlog_findings);
    if let Some(dir) = out_dir {
        commit_outputs(dir, level, &summary)?;
    }
    Ok(RunReport { summary, outcome, analysis, out_dir: out_dir.map(Path::to_path_buf) })
}

/// Moves a finished run's files into place.
fn commit_outputs(dir: &Path, level: TraceLevel, summary: &Summary) -> Result<(), RunError> {
    let trace_path = dir.join("trace.jsonl");
    let trace_tmp = dir.join(".trace.jsonl.partial");
    let summary_tmp = dir.join(".summary.json.partial");
    fs::write(&summary_tmp, summary.to_json()).map_err(io_err(&summary_tmp))?;
    if level == TraceLevel::None {
        // A trace from an earlier run would no longer match this summary.
        match fs::remove_file(&trace_path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(&trace_path)(e)),
            _ => {}
        }
    } else {
        fs::rename(&trace_tmp, &trace_path).map_err(io_err(&trace_path))?;
    }
    let summary_path = dir.join("summary.json");
    fs::rename(&summary_tmp, &summary_path).map_err(io_err(&summary_path))
}
