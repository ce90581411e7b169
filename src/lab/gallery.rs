//! The README's gallery (`fraclab gallery`): every bundled scenario into
//! `out/<name>/` with its plots, the atlas for n = 3..8 into `out/atlas/`,
//! and the gallery's sweeps.

use std::path::{Path, PathBuf};

use super::{LabError, sweep};

/// The gallery's sweeps: (folder, scenario, --vary, seeds).
const SWEEPS: [(&str, &str, &[&str], u64); 2] = [
    (
        "baseline-ring-sweep",
        "baseline-ring.toml",
        &["protocol.members=3..10", "protocol.init=sm,ring,ring-hardened"],
        3,
    ),
    ("dlog-sweep", "dlog-toy-commitments.toml", &["group.params=toy-16,toy-32"], 5),
];

/// The atlas the gallery draws: n = 3..=8 over toy-64.
const ATLAS_MEMBERS: std::ops::RangeInclusive<u32> = 3..=8;
const ATLAS_PARAMS: &str = "toy-64";

/// What [`gallery`] reports while it works.
#[derive(Debug)]
pub enum Step<'a> {
    /// A step starts: what it makes and where.
    Start {
        /// The scenario file, `atlas` or `sweep`.
        what: String,
        /// The output folder it writes.
        dir: &'a Path,
    },
    /// A step did not succeed; the gallery goes on with the next.
    Failed {
        /// The scenario file, `atlas` or `sweep <folder>`.
        what: String,
        /// What went wrong: unmet expectations and problems, or the error.
        problems: Vec<String>,
    },
}

/// Regenerates the gallery into `out`. Everything is checked before
/// anything runs: every scenario loads and every output folder can be one.
/// Returns how many steps failed.
pub fn gallery(scenarios: &Path, out: &Path, mut say: impl FnMut(Step<'_>)) -> Result<usize, LabError> {
    let files = super::scenario_files(&[scenarios.to_path_buf()]).map_err(LabError::BadInput)?;
    if files.is_empty() {
        return Err(LabError::BadInput(format!("no scenarios (*.toml) in {}", scenarios.display())));
    }
    let mut loaded = Vec::new();
    for file in &files {
        loaded.push((file, super::load(file, None)?));
    }
    let mut folders: Vec<PathBuf> = vec![out.to_path_buf(), out.join("atlas")];
    folders.extend(loaded.iter().map(|(_, sc)| out.join(sc.name())));
    folders.extend(SWEEPS.iter().map(|(folder, ..)| out.join(folder)));
    for (_, scenario, ..) in SWEEPS {
        let path = scenarios.join(scenario);
        if !path.is_file() {
            return Err(LabError::BadInput(format!(
                "{}: the gallery sweeps it; no such scenario",
                path.display()
            )));
        }
    }
    for f in &folders {
        super::out::check(f).map_err(LabError::BadInput)?;
    }
    super::out::prepare(out).map_err(LabError::BadInput)?;
    let mut failed = 0;
    for (file, sc) in &loaded {
        let dir = out.join(sc.name());
        say(Step::Start { what: file.display().to_string(), dir: &dir });
        let problems = match super::run_into(sc, file, sc.trace(), &dir) {
            Ok((report, _)) if report.summary.passed() => continue,
            Ok((report, _)) => {
                let s = &report.summary;
                let unmet = s.expectations.iter().filter(|e| !e.held);
                let mut problems: Vec<String> = unmet
                    .map(|e| format!("expect {} = {} (observed {})", e.key, e.expected, e.observed))
                    .collect();
                problems.extend(s.problems());
                problems
            }
            Err(e) => vec![e.to_string()],
        };
        failed += 1;
        say(Step::Failed { what: file.display().to_string(), problems });
    }
    let atlas_dir = out.join("atlas");
    say(Step::Start { what: "atlas".to_string(), dir: &atlas_dir });
    if let Err(e) = atlas(&atlas_dir) {
        failed += 1;
        say(Step::Failed { what: "atlas".to_string(), problems: vec![e.to_string()] });
    }
    for (folder, scenario, vary, seeds) in SWEEPS {
        let dir = out.join(folder);
        say(Step::Start { what: "sweep".to_string(), dir: &dir });
        if let Err(e) = sweep_into(&scenarios.join(scenario), vary, seeds, &dir) {
            failed += 1;
            say(Step::Failed { what: format!("sweep {folder}"), problems: vec![e] });
        }
    }
    Ok(failed)
}

fn atlas(dir: &Path) -> Result<(), LabError> {
    let group =
        crate::group::by_name(ATLAS_PARAMS).ok_or_else(|| LabError::failed("no toy-64 parameters"))?;
    super::out::prepare(dir).map_err(LabError::BadInput)?;
    super::atlas::write(super::atlas::Sets::around(group), ATLAS_MEMBERS, dir, || {}).map(|_| ())
}

/// A fresh sweep into `dir` (regenerated, not resumed) with its plots.
fn sweep_into(scenario: &Path, vary: &[&str], seeds: u64, dir: &Path) -> Result<(), String> {
    if let Err(e) = std::fs::remove_dir_all(dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return Err(format!("{}: {e}", dir.display()));
    }
    let vary: Vec<String> = vary.iter().map(|v| v.to_string()).collect();
    let plan = sweep::Plan::new(scenario, &vary, seeds).map_err(|e| e.to_string())?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get()).min(sweep::JOBS_MAX);
    let opts = sweep::Options { jobs, shard: None, resume: false };
    let done = sweep::execute(&plan, dir, &opts, &|_, _| {}).map_err(|e| e.to_string())?;
    crate::report::plot::sweep(dir).map_err(|e| e.to_string())?;
    if done.errors > 0 {
        return Err(format!("{} runs did not complete (column error); see sweep.csv", done.errors));
    }
    Ok(())
}
