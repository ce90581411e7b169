//! `fraclab plot DIR` and `fraclab gallery [SCENARIOS] [--out results]`.

use std::path::Path;

use super::{EXIT_BAD_INPUT, EXIT_FAILED};
use crate::report::plot::{self, PlotError};

fn names(files: &[std::path::PathBuf]) -> String {
    let names: Vec<String> =
        files.iter().filter_map(|f| f.file_name()).map(|f| f.to_string_lossy().into_owned()).collect();
    names.join(", ")
}

pub fn plot(dir: &Path) -> u8 {
    match plot::any(dir) {
        Ok(files) if files.is_empty() => {
            println!("nothing to draw in {}: no analysis and no full trace", dir.display());
            0
        }
        Ok(files) => {
            println!("wrote {} to {}", names(&files), dir.display());
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

/// Draws a finished run's plots into its folder; used by `run` and `gallery`.
pub fn run_plots(dir: &Path) -> Result<String, PlotError> {
    plot::remove_run_plots(dir)?;
    plot::run(dir).map(|files| names(&files))
}

/// The gallery's sweeps: (folder, scenario, --vary, seeds).
const GALLERY_SWEEPS: [(&str, &str, &[&str], u64); 2] = [
    (
        "baseline-ring-sweep",
        "baseline-ring.toml",
        &["protocol.members=3..10", "protocol.init=sm,ring,ring-hardened"],
        3,
    ),
    ("dlog-sweep", "dlog-toy-commitments.toml", &["group.params=toy-16,toy-32"], 5),
];

/// Regenerates the README's gallery: every scenario of `scenarios` into
/// `out/<name>/` with its plots, the atlas for n = 3..8 into `out/atlas/`,
/// and a sweep of baseline-ring over n and the initialisation into
/// `out/baseline-ring-sweep/`.
pub fn gallery(scenarios: &Path, out: &Path) -> u8 {
    let files = match super::check::scenario_files(&[scenarios.to_path_buf()]) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            eprintln!("error: no scenarios (*.toml) in {}", scenarios.display());
            return EXIT_BAD_INPUT;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    // Everything is checked before anything runs: every scenario loads and
    // every output folder can be one.
    let mut loaded = Vec::new();
    for file in &files {
        match super::run::load_with_seed(file, None) {
            Ok(sc) => loaded.push((file, sc.name().to_string())),
            Err(code) => return code,
        }
    }
    let mut folders: Vec<std::path::PathBuf> = vec![out.to_path_buf(), out.join("atlas")];
    folders.extend(loaded.iter().map(|(_, name)| out.join(name)));
    folders.extend(GALLERY_SWEEPS.iter().map(|(folder, ..)| out.join(folder)));
    for (_, scenario, ..) in GALLERY_SWEEPS {
        let path = scenarios.join(scenario);
        if !path.is_file() {
            eprintln!("error: {}: the gallery sweeps it; no such scenario", path.display());
            return EXIT_BAD_INPUT;
        }
    }
    for f in &folders {
        if let Err(e) = super::out::check(f) {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    }
    if let Err(e) = super::out::prepare(out) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let mut failed = 0;
    for (file, name) in &loaded {
        let dir = out.join(name);
        println!("== {} → {}", file.display(), dir.display());
        let code = super::run::run(file, None, Some(dir), None, true, None);
        if code != 0 {
            failed += 1;
        }
    }
    println!("== atlas → {}", out.join("atlas").display());
    if super::atlas::atlas("3..8", "toy-64", Some(out.join("atlas"))) != 0 {
        failed += 1;
    }
    for (folder, scenario, vary, seeds) in GALLERY_SWEEPS {
        let dir = out.join(folder);
        println!("== sweep → {}", dir.display());
        // A fresh sweep: the folder is regenerated, not resumed.
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            eprintln!("error: {}: {e}", dir.display());
            return EXIT_FAILED;
        }
        let vary: Vec<String> = vary.iter().map(|v| v.to_string()).collect();
        let path = scenarios.join(scenario);
        if super::sweep::sweep(&path, &vary, seeds, None, None, Some(dir), false, false) != 0 {
            failed += 1;
        }
    }
    if failed > 0 {
        eprintln!("{failed} gallery step(s) failed");
        return EXIT_FAILED;
    }
    println!("gallery written to {}", out.display());
    0
}
