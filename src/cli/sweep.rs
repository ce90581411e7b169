//! `fraclab sweep SCENARIO --vary KEY=VALUES… --seeds N [--jobs J] [--shard K/N] [--out DIR] [--resume]`
//! and `fraclab sweep merge --out DIR SHARD_DIR…`.

use std::path::{Path, PathBuf};

use super::{EXIT_BAD_INPUT, EXIT_FAILED};
use crate::lab::sweep::{self, Done, Options, Plan, Shard, SweepError};
use crate::report::plot;

fn fail(e: SweepError) -> u8 {
    eprintln!("error: {e}");
    match e {
        SweepError::BadInput(_) => EXIT_BAD_INPUT,
        SweepError::Io { .. } => EXIT_FAILED,
    }
}

/// `fraclab sweep SCENARIO --vary … --seeds N`: runs the grid; returns the exit status.
#[allow(clippy::too_many_arguments)]
pub(super) fn sweep(
    scenario: &Path,
    vary: &[String],
    seeds: u64,
    jobs: Option<usize>,
    shard: Option<&str>,
    out: Option<PathBuf>,
    resume: bool,
    quiet: bool,
) -> u8 {
    let shard = match shard.map(Shard::parse).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(j) = jobs
        && !(1..=sweep::JOBS_MAX).contains(&j)
    {
        eprintln!("error: --jobs {j}: expected 1..={}", sweep::JOBS_MAX);
        return EXIT_BAD_INPUT;
    }
    let plan = match Plan::new(scenario, vary, seeds) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let m = &plan.manifest;
    let out = out.unwrap_or_else(|| Path::new("results").join(format!("{}-sweep", m.scenario)));
    if let Err(e) = crate::lab::out::check(&out) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let jobs = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(sweep::JOBS_MAX));
    let shown = shard.map_or(String::new(), |s| format!(" (shard {s})"));
    if !quiet {
        let keys: Vec<String> =
            m.vary.iter().map(|v| format!("{} ({} values)", v.key, v.values.len())).collect();
        let keys = if keys.is_empty() { "no varied keys".to_string() } else { keys.join(" × ") };
        eprintln!(
            "sweep {}: {keys} × {} seeds = {} runs{shown}, {jobs} jobs",
            m.scenario,
            m.seeds.len(),
            m.runs
        );
    }
    let bar = super::runs_bar(quiet);
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let opts = Options { jobs, shard, resume };
    let done = match sweep::execute(&plan, &out, &opts, &progress) {
        Ok(d) => d,
        Err(e) => {
            bar.abandon();
            return fail(e);
        }
    };
    bar.finish_and_clear();
    if !quiet && resume {
        eprintln!("resumed: {} runs were already done, {} computed now", done.kept, done.ran);
    }
    finish(&out, &done, shard.is_none(), quiet)
}

/// Draws the sweep plots (unless sharded) and reports the rows that did not run clean.
fn finish(out: &Path, done: &Done, plots: bool, quiet: bool) -> u8 {
    let mut drawn = Vec::new();
    if plots {
        match plot::sweep(out) {
            Ok(files) => drawn = files,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_FAILED;
            }
        }
    }
    if !quiet {
        let names: Vec<String> =
            drawn.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).collect();
        let plots = if names.is_empty() { String::new() } else { format!(", {}", names.join(", ")) };
        println!("wrote sweep.json, sweep.csv{plots} to {}", out.display());
        if done.failed > 0 {
            println!("{} runs failed an expectation or invariant (column passed = false)", done.failed);
        }
    }
    if done.errors > 0 {
        eprintln!("{} runs did not complete (column error); see sweep.csv", done.errors);
        return EXIT_FAILED;
    }
    0
}

/// `fraclab sweep merge --out DIR SHARDS…`: combines shard outputs; returns the exit status.
pub(super) fn merge(out: &Path, shards: &[PathBuf], quiet: bool) -> u8 {
    match sweep::merge(out, shards) {
        Ok(done) => finish(out, &done, true, quiet),
        Err(e) => fail(e),
    }
}
