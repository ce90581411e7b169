//! Sweep curves: a metric (mean over seeds) against the first varied key,
//! one line per combination of the other varied keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::canvas::{self, Chart, de};
use crate::schema::Manifest;

/// The metrics drawn, with their axis titles and a scale applied to values
/// (0 means log10).
const PLOTTED: [(&str, &str, f64); 6] = [
    ("compromised_count", "compromised members", 1.0),
    ("messages_per_epoch", "messages sent per epoch", 1.0),
    ("sim_time_us_per_epoch", "virtual time per epoch (ms)", 1e-3),
    ("keys_agreed", "share of runs whose keys agreed", 1.0),
    ("retransmissions", "retransmissions per run", 1.0),
    // Work grows as √q: a log scale shows it as a line against bits.
    ("dlog_work", "discrete-log work, log10(group operations)", 0.0),
];

/// At most this many lines (combinations of the other varied keys) per chart.
const LINES_MAX: usize = 24;

/// At most this many category labels on the x axis.
const CATEGORIES_MAX: usize = 60;

/// Line colours, in order, for the sweep and atlas line charts.
pub const PALETTE: [RGBColor; 8] = [
    canvas::MODE_I,
    canvas::DANGER,
    canvas::MODE_G,
    canvas::KEY,
    canvas::WARN,
    canvas::MODE_R,
    canvas::GREY,
    RGBColor(0, 0, 0),
];

struct Curves {
    title: String,
    x_desc: String,
    y_desc: String,
    /// x tick labels when the varied values are not numbers.
    categories: Option<Vec<String>>,
    /// (legend, points (x, mean)).
    lines: Vec<(String, Vec<(f64, f64)>)>,
}

/// A sweep's manifest and rows, read and checked (see [`crate::report::read::read_rows`]).
pub struct SweepFiles {
    manifest: Manifest,
    rows: Vec<Vec<String>>,
}

/// Reads and checks `dir/sweep.json` and `dir/sweep.csv`.
pub fn load(dir: &Path) -> Result<SweepFiles, PlotError> {
    let manifest = crate::report::read::read_manifest(dir).map_err(PlotError::Read)?;
    let (rows, _) = crate::report::read::read_rows(dir, &manifest).map_err(|e| match e {
        crate::report::read::RowsError::Io(path, error) => PlotError::Io { path, error },
        crate::report::read::RowsError::Bad(message) => PlotError::Read(message),
    })?;
    Ok(SweepFiles { manifest, rows: rows.into_values().map(|r| r.cells()).collect() })
}

/// Draws `sweep-<metric>.svg` for each charted metric; returns the files written.
pub fn draw(dir: &Path, files: &SweepFiles) -> Result<Vec<PathBuf>, PlotError> {
    let (m, rows) = (&files.manifest, &files.rows);
    let path = dir.join("sweep.csv");
    let bad = |message: String| PlotError::Data { path: path.clone(), message };
    let k = m.vary.len();
    // x: the first varied key, or the seed when nothing is varied.
    let (x_desc, x_values): (String, Vec<String>) = match m.vary.first() {
        Some(v) => (v.key.clone(), v.values.clone()),
        None => ("seed".into(), m.seeds.iter().map(u64::to_string).collect()),
    };
    // A parameter set is placed by the bits of its q: cost against bits.
    let by_bits = x_desc == "group.params";
    let numeric: Option<Vec<f64>> = if by_bits {
        x_values.iter().map(|v| crate::group::lookup(v).map(|g| g.scalar_bits() as f64)).collect()
    } else {
        x_values.iter().map(|v| v.parse::<f64>().ok()).collect()
    };
    let x_desc = if by_bits { "bits of q (group.params)".to_string() } else { x_desc };
    let x_of = |cell: &str| -> Option<f64> {
        let i = x_values.iter().position(|v| v == cell)?;
        Some(numeric.as_ref().map_or(i as f64, |n| n[i]))
    };
    let mut written = Vec::new();
    for (metric, y_desc, scale) in PLOTTED {
        let col =
            m.columns.iter().position(|c| c == metric).ok_or_else(|| bad(format!("no column {metric}")))?;
        // group (other varied values) → x → values
        let mut groups: BTreeMap<Vec<usize>, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
        for row in rows {
            let value = match row[col].as_str() {
                "" => continue,
                "true" => 1.0,
                "false" => 0.0,
                v => match v.parse::<f64>() {
                    Ok(f) if scale == 0.0 => f.max(1.0).log10(),
                    Ok(f) => f * scale,
                    Err(_) => continue,
                },
            };
            let group: Vec<usize> = (1..k)
                .map(|j| m.vary[j].values.iter().position(|v| *v == row[j]).unwrap_or(usize::MAX))
                .collect();
            // Column 0 is the first varied key, or the seed when nothing is varied.
            let Some(xi) = x_values.iter().position(|v| *v == row[0]) else { continue };
            groups.entry(group).or_default().entry(xi).or_default().push(value);
        }
        if groups.is_empty() {
            continue;
        }
        let total_lines = groups.len();
        let lines = groups
            .into_iter()
            .take(LINES_MAX)
            .map(|(g, per_x)| {
                let legend = g
                    .iter()
                    .enumerate()
                    .map(|(j, &vi)| {
                        format!("{} = {}", m.vary[j + 1].key, m.vary[j + 1].values.get(vi).map_or("?", |s| s))
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut pts: Vec<(f64, f64)> = per_x
                    .into_iter()
                    .filter_map(|(xi, vs)| {
                        Some((x_of(&x_values[xi])?, vs.iter().sum::<f64>() / vs.len() as f64))
                    })
                    .collect();
                // Numeric values may be listed in any order; lines run left to right.
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                (legend, pts)
            })
            .collect();
        let seeds = m.seeds.len();
        let chart = Curves {
            title: format!(
                "{y_desc} vs {x_desc} · {} · {}",
                m.scenario,
                if k == 0 { "one run per seed".to_string() } else { format!("mean of {seeds} seed(s)") }
            ) + &if total_lines > LINES_MAX {
                format!(" · first {LINES_MAX} of {total_lines} lines")
            } else {
                String::new()
            },
            x_desc: x_desc.clone(),
            y_desc: y_desc.to_string(),
            categories: if numeric.is_some() { None } else { Some(x_values.clone()) },
            lines,
        };
        written.push(canvas::write_svg(&dir.join(format!("sweep-{metric}.svg")), &chart)?);
    }
    Ok(written)
}

impl Chart for Curves {
    fn title(&self) -> String {
        self.title.clone()
    }
    fn desc(&self) -> String {
        format!(
            "{} against {}: one line per value of the other varied keys, each point the mean over seeds.",
            self.y_desc, self.x_desc
        )
    }
    fn size(&self) -> (u32, u32) {
        (960, 600)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let xs = self.lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0));
        let (x0, x1) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
        let (x0, x1) = if x0 > x1 { (0.0, 1.0) } else { (x0 - 0.5, x1 + 0.5) };
        let top = self.lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)).fold(0.0f64, f64::max);
        let top = if top <= 0.0 { 1.0 } else { top * 1.12 };
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, canvas::bold(17.0))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, 0f64..top)
            .map_err(de)?;
        let cats = self.categories.clone();
        let fmt = move |x: &f64| match &cats {
            Some(c) => {
                let i = x.round();
                if (x - i).abs() < 1e-9 && i >= 0.0 {
                    c.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
            None if (x - x.round()).abs() < 1e-9 => format!("{}", x.round()),
            None => format!("{x:.2}"),
        };
        let ticks = match &self.categories {
            Some(c) => c.len().clamp(2, CATEGORIES_MAX) * 2 + 1,
            None => ((x1 - x0).round() as usize + 1).clamp(2, 12),
        };
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .x_labels(ticks)
            .x_label_formatter(&fmt)
            .label_style(canvas::text(12.0))
            .axis_desc_style(canvas::text(13.0))
            .draw()
            .map_err(de)?;
        // A line with the same values as an earlier one would hide it (or
        // be hidden): it is shifted right by a hair per earlier twin, marked
        // with another shape, and the legend says whose values it repeats.
        let nudge = (x1 - x0) * 0.006;
        let mut twins: Vec<usize> = Vec::new();
        for (i, (legend, pts)) in self.lines.iter().enumerate() {
            let same = self.lines[..i].iter().position(|(_, q)| q == pts);
            let (pts, legend) = match same {
                Some(first) => {
                    twins.push(first);
                    let k = twins.iter().filter(|&&t| t == first).count() as f64;
                    let shifted: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x + k * nudge, y)).collect();
                    let note = if legend.is_empty() {
                        legend.clone()
                    } else {
                        format!("{legend} (same values as {}, shifted right)", self.lines[first].0)
                    };
                    (shifted, note)
                }
                None => (pts.clone(), legend.clone()),
            };
            canvas::line_marked(&mut chart, &pts, PALETTE[i % PALETTE.len()], &legend, i)?;
        }
        if self.lines.iter().any(|(l, _)| !l.is_empty()) {
            canvas::legend(&mut chart)?;
        }
        Ok(())
    }
}
