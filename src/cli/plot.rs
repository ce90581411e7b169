//! `fraclab plot DIR` and `fraclab gallery [SCENARIOS] [--out results]`.

use std::path::Path;

use super::{EXIT_BAD_INPUT, EXIT_FAILED};
use crate::lab::gallery::Step;
use crate::report::plot::{self, PlotError};

/// `fraclab plot DIR`: redraws a run, sweep or atlas folder's plots; returns the exit status.
pub(super) fn plot(dir: &Path) -> u8 {
    match plot::any(dir) {
        Ok(files) if files.is_empty() => {
            println!("nothing to draw in {}: no analysis and no full trace", dir.display());
            0
        }
        Ok(files) => {
            println!("wrote {} to {}", super::file_names(&files), dir.display());
            if dir.join("summary.json").exists() && !dir.join("trace.jsonl").exists() {
                println!("no trace.jsonl: the sequence chart and sequence.mmd were not redrawn");
            }
            0
        }
        // A file that is not what fraclab writes is bad input; it was
        // found before any plot was written.
        Err(e @ (PlotError::Nothing(_) | PlotError::Data { .. } | PlotError::Read(_))) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}

/// `fraclab report DIR`: writes `DIR/report.html` again; returns the exit status.
pub(super) fn report(dir: &Path) -> u8 {
    if !dir.join("summary.json").exists() {
        eprintln!(
            "error: {}: no summary.json; `fraclab report` needs a folder written by `fraclab run`",
            dir.display()
        );
        return EXIT_BAD_INPUT;
    }
    match plot::report(dir) {
        Ok(path) => {
            println!("wrote {}", path.display());
            0
        }
        Err(e @ (PlotError::Nothing(_) | PlotError::Data { .. } | PlotError::Read(_))) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}

/// Regenerates the README's gallery (see [`crate::lab::gallery`]); returns the exit status.
pub(super) fn gallery(scenarios: &Path, out: &Path) -> u8 {
    let say = |step: Step<'_>| match step {
        Step::Start { what, dir } => println!("== {what} → {}", dir.display()),
        Step::Failed { what, problems } => {
            for p in problems {
                eprintln!("problem: {what}: {p}");
            }
        }
    };
    match crate::lab::gallery::gallery(scenarios, out, say) {
        Ok(0) => {
            println!("gallery written to {}", out.display());
            0
        }
        Ok(failed) => {
            eprintln!("{failed} gallery step(s) failed");
            EXIT_FAILED
        }
        Err(e) => super::say_lab_error(e),
    }
}
