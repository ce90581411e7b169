//! Pure writers and readers of fraclab's outputs (reference §5): the trace
//! writer (a simulator `Recorder` that formats `trace.jsonl`), the summary
//! builder, the bounded readers every consumer shares ([`read`]),
//! `verify-trace` (an independent re-check of a trace), the derivation
//! graph ([`derivations`]) and the plots (feature `plots`), which read the
//! files back and never the live simulator.
//!
//! Nothing here runs a scenario: that is the lab layer's job.

#[cfg(feature = "plots")]
pub mod derivations;
#[cfg(feature = "plots")]
pub mod plot;
pub mod read;
pub mod summary;
pub mod trace;
pub mod verify;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use crate::schema::Summary;

/// Writes `bytes` to `path` through a temporary name beside it, so a reader
/// never sees half a file. On failure, the path that failed and why.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), (PathBuf, io::Error)> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.partial"));
    fs::write(&tmp, bytes).map_err(|e| (tmp.clone(), e))?;
    fs::rename(&tmp, path).map_err(|e| (path.to_path_buf(), e))
}

/// One CSV record's bytes, `\n`-terminated, as fraclab's CSV writers
/// (`sweep.csv`, `explore.csv`) format it.
pub fn csv_line(cells: &[String]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    w.write_record(cells).expect("writing CSV to memory cannot fail");
    w.into_inner().expect("writing CSV to memory cannot fail")
}

/// A derivation told in words, as `fraclab run` and the walkthrough tell
/// it: `member 3 learns α[1,1] = … (α[1,2] leaked by member 1)`, or "is
/// handed X" when the expression is `X = X` (a value given as is).
/// `sources` are the witness's values that are not the view's own.
pub fn learn_sentence(view: &str, expression: &str, sources: &[&str]) -> String {
    let from = if sources.is_empty() { String::new() } else { format!(" ({})", sources.join("; ")) };
    match expression.split_once(" = ") {
        Some((lhs, rhs)) if lhs == rhs => format!("{view} is handed {lhs}{from}"),
        _ => format!("{view} learns {expression}{from}"),
    }
}

/// A secret's label from a trace event's (name, owner, index), as the
/// knowledge engine writes them: `FK[3,1]`, `α[1,2]`, `θ_2`, `v[1]`.
pub fn secret_label(name: &str, owner: Option<u32>, index: u64) -> String {
    let o = owner.map_or(String::new(), |o| o.to_string());
    match name {
        "fk" => format!("FK[{o},{index}]"),
        "alpha" => format!("α[{o},{index}]"),
        "theta" => format!("θ_{index}"),
        "sk" => format!("SK_{index}"),
        "v" => format!("v[{o}]"),
        "gamma" => "γ".into(),
        "delta" => format!("δ[{o}]"),
        "x" => format!("x[{o},{index}]"),
        other => format!("{other}[{o},{index}]"),
    }
}
