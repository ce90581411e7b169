//! Outputs: running a scenario into `trace.jsonl` and `summary.json`
//! (SPEC §5), and re-checking a trace independently (`verify-trace`).
//!
//! Outputs are written to temporary names and renamed into place only when
//! the run has finished, so a failed run never leaves half a trace behind.

pub mod summary;
pub mod trace;
pub mod verify;

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::protocol::InitKind;
use crate::scenario::{Scenario, TraceLevel};
use crate::sim::{self, NullRecorder, SimError};
pub use summary::Summary;
use trace::TraceWriter;

pub fn init_name(init: InitKind) -> &'static str {
    match init {
        InitKind::Sm => "sm",
        InitKind::Ring => "ring",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: io::Error },
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// The result of running one scenario.
#[derive(Debug)]
pub struct RunReport {
    pub summary: Summary,
    pub outcome: sim::Outcome,
    /// Where the trace and summary were written, if anywhere.
    pub out_dir: Option<PathBuf>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RunError + '_ {
    move |error| RunError::Io { path: path.to_path_buf(), error }
}

/// Runs `sc` and, when `out_dir` is given, writes its trace (at `level`) and
/// summary there. Without `out_dir` the trace is still formatted and hashed
/// (so `trace_sha256` is the same) but goes nowhere.
pub fn execute(sc: &Scenario, level: TraceLevel, out_dir: Option<&Path>) -> Result<RunReport, RunError> {
    let cfg = sc.sim_config();
    let Some(dir) = out_dir else {
        let (outcome, sha) = match level {
            TraceLevel::None => (sim::run(&cfg, &mut NullRecorder)?, None),
            _ => {
                let mut w = TraceWriter::new(io::sink(), sc, level).map_err(io_err(Path::new("-")))?;
                let outcome = sim::run(&cfg, &mut w)?;
                let (_, sha) = w.finish().map_err(io_err(Path::new("-")))?;
                (outcome, Some(sha))
            }
        };
        let summary = Summary::new(sc, level.as_str(), &outcome, sha);
        return Ok(RunReport { summary, outcome, out_dir: None });
    };
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let trace_path = dir.join("trace.jsonl");
    let trace_tmp = dir.join(".trace.jsonl.partial");
    let summary_path = dir.join("summary.json");
    let summary_tmp = dir.join(".summary.json.partial");
    let result = (|| {
        let (outcome, sha) = match level {
            TraceLevel::None => (sim::run(&cfg, &mut NullRecorder)?, None),
            _ => {
                let file = File::create(&trace_tmp).map_err(io_err(&trace_tmp))?;
                let mut w = TraceWriter::new(file, sc, level).map_err(io_err(&trace_tmp))?;
                let outcome = sim::run(&cfg, &mut w)?;
                let (file, sha) = w.finish().map_err(io_err(&trace_tmp))?;
                file.sync_all().map_err(io_err(&trace_tmp))?;
                (outcome, Some(sha))
            }
        };
        let summary = Summary::new(sc, level.as_str(), &outcome, sha);
        fs::write(&summary_tmp, summary.to_json()).map_err(io_err(&summary_tmp))?;
        Ok((summary, outcome))
    })();
    match result {
        Ok((summary, outcome)) => {
            if level == TraceLevel::None {
                // A trace from an earlier run would no longer match this summary.
                match fs::remove_file(&trace_path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(&trace_path)(e)),
                    _ => {}
                }
            } else {
                fs::rename(&trace_tmp, &trace_path).map_err(io_err(&trace_path))?;
            }
            fs::rename(&summary_tmp, &summary_path).map_err(io_err(&summary_path))?;
            Ok(RunReport { summary, outcome, out_dir: Some(dir.to_path_buf()) })
        }
        Err(e) => {
            let _ = fs::remove_file(&trace_tmp);
            let _ = fs::remove_file(&summary_tmp);
            Err(e)
        }
    }
}
