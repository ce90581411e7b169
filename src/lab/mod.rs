//! Orchestration: everything that runs the simulator on a user's behalf.
//! One scenario with its passes ([`run`](mod@run), with the dlog
//! adversaries recording beside one of them), the derivability atlas
//! ([`atlas`]), parameter sweeps ([`sweep`]), the README's gallery
//! ([`gallery`]) and output folders ([`out`]). The command line is a thin
//! layer over these: it parses, calls one function here, prints and maps the
//! error to an exit status. No command calls another.

pub mod atlas;
pub mod attacks;
pub(crate) mod dlog;
pub mod explore;
#[cfg(feature = "plots")]
pub mod gallery;
pub mod out;
pub mod run;
pub mod sweep;

use std::path::{Path, PathBuf};

pub use run::{Options, Outcome, RunError, analyse, collect, execute, run, run_into};

use crate::scenario::{self, LoadError, Scenario};

/// Why a lab job stopped: the user's input (exit status 2) or a failure
/// while running (exit status 1).
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Bad input or usage, found before anything was written.
    #[error("{0}")]
    BadInput(String),
    /// The job failed while running; `reproduce` is the command that reruns
    /// it, when one does.
    #[error("{message}")]
    Failed {
        /// What failed, as printed.
        message: String,
        /// `fraclab run <file> --seed <seed>`, when a rerun reproduces it.
        reproduce: Option<String>,
    },
}

impl LabError {
    /// A failure with no reproducing command (an I/O error, a plot).
    pub fn failed(message: impl Into<String>) -> LabError {
        LabError::Failed { message: message.into(), reproduce: None }
    }
}

impl From<LoadError> for LabError {
    fn from(e: LoadError) -> LabError {
        LabError::BadInput(e.to_string())
    }
}

/// The command that reruns exactly this scenario and seed.
pub fn reproduce_command(path: &Path, seed: u64) -> String {
    format!("fraclab run {} --seed {seed}", path.display())
}

/// Loads a scenario file, with its seed replaced by `seed` when given.
pub fn load(path: &Path, seed: Option<u64>) -> Result<Scenario, LoadError> {
    let mut sc = scenario::load(path)?;
    if let Some(s) = seed {
        sc.set_seed(s);
    }
    Ok(sc)
}

/// The scenario files named by `paths` (default `scenarios/`): files as
/// given, folders' `*.toml` sorted by name.
pub fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let defaults = [PathBuf::from("scenarios")];
    let paths = if paths.is_empty() { &defaults[..] } else { paths };
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries = std::fs::read_dir(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}
