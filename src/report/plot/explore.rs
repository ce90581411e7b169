//! The explore plot: runs with a property violation, runs satisfying the
//! goal and distinct findings, each counted cumulatively against the runs
//! made, from `explore.csv` alone.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::canvas::{self, Chart, de};

/// The most bytes of `explore.csv` read.
const CSV_BYTES_MAX: u64 = 1 << 30;

/// One counted line: its legend, colour and points.
type Line = (String, RGBColor, Vec<(f64, f64)>);

struct Cumulative {
    runs: u64,
    /// (legend, colour, points).
    lines: Vec<Line>,
}

/// Draws `explore.svg` from `dir/explore.csv`; returns the file written.
pub fn draw(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let path = dir.join("explore.csv");
    let bad = |message: String| PlotError::Data { path: path.clone(), message };
    let meta = std::fs::metadata(&path).map_err(|error| PlotError::Io { path: path.clone(), error })?;
    if meta.len() > CSV_BYTES_MAX {
        return Err(bad(format!("{} bytes; allowed: at most {CSV_BYTES_MAX}", meta.len())));
    }
    let mut reader =
        csv::ReaderBuilder::new().from_path(&path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let header: Vec<String> =
        reader.headers().map_err(|e| bad(format!("line 1: {e}")))?.iter().map(String::from).collect();
    let col = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| bad(format!("line 1: no column {name}")))
    };
    let (run_col, goal_col, finding_col) = (col("run")?, col("goal")?, col("finding")?);
    let first_property = col("compromised")? + 1;
    let (mut violations, mut goals, mut findings) = (Vec::new(), Vec::new(), Vec::new());
    let (mut v, mut g, mut seen) = (0u64, 0u64, std::collections::BTreeSet::new());
    let mut any_goal = false;
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("line {}: {e}", i + 2)))?;
        if rec.len() != header.len() {
            return Err(bad(format!("line {}: {} cells; allowed: {}", i + 2, rec.len(), header.len())));
        }
        let run: u64 =
            rec[run_col].parse().map_err(|_| bad(format!("line {}: run: not a run number", i + 2)))?;
        let x = run as f64 + 1.0;
        v += u64::from((first_property..goal_col).any(|c| &rec[c] == "FAIL"));
        any_goal |= !rec[goal_col].is_empty();
        g += u64::from(&rec[goal_col] == "true");
        if !rec[finding_col].is_empty() {
            seen.insert(rec[finding_col].to_string());
        }
        violations.push((x, v as f64));
        goals.push((x, g as f64));
        findings.push((x, seen.len() as f64));
    }
    let runs = violations.len() as u64;
    let mut lines = vec![("runs with a property violation".to_string(), canvas::DANGER, violations)];
    if any_goal {
        lines.push(("runs satisfying the goal".to_string(), canvas::MODE_I, goals));
    }
    lines.push(("distinct shrunk findings".to_string(), canvas::WARN, findings));
    let out = dir.join("explore.svg");
    Ok(vec![canvas::write_svg(&out, &Cumulative { runs, lines })?])
}

impl Chart for Cumulative {
    fn title(&self) -> String {
        format!("fraclab explore: {} runs", self.runs)
    }
    fn desc(&self) -> String {
        "Cumulative counts over the runs of an explore, one line per property or goal.".into()
    }
    fn size(&self) -> (u32, u32) {
        (960, 540)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let top = self.lines.iter().flat_map(|(_, _, p)| p.iter().map(|q| q.1)).fold(0.0f64, f64::max);
        let top = if top <= 0.0 { 1.0 } else { top * 1.15 };
        let mut chart = ChartBuilder::on(area)
            .caption(format!("fraclab explore: what {} runs found", self.runs), canvas::bold(17.0))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(0f64..(self.runs.max(1) as f64 + 0.5), 0f64..top)
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_desc("runs made")
            .y_desc("count so far")
            .label_style(canvas::text(12.0))
            .axis_desc_style(canvas::text(13.0))
            .draw()
            .map_err(de)?;
        for (label, color, pts) in &self.lines {
            // A step line: the count holds until the run that changes it.
            let mut steps: Vec<(f64, f64)> = vec![(0.0, 0.0)];
            for &(x, y) in pts {
                let last = steps.last().map_or(0.0, |p| p.1);
                if y != last {
                    steps.push((x, last));
                    steps.push((x, y));
                }
            }
            steps.push((self.runs as f64, steps.last().map_or(0.0, |p| p.1)));
            canvas::line(&mut chart, &steps, *color, label)?;
        }
        canvas::legend(&mut chart)
    }
}
