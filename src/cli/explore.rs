//! `fraclab explore [SPACE.toml] --runs N --seed S [--jobs J] [--out DIR] [--goal EXPR] [--time-limit SECS] [--resume]`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{EXIT_BAD_INPUT, EXIT_FAILED};
use crate::lab::explore::{self, Config, ExploreError, Goal, Report, Space, property};
use crate::lab::sweep::JOBS_MAX;
use crate::report::plot;

/// The command's arguments.
pub(super) struct Args {
    pub space: Option<PathBuf>,
    pub runs: u64,
    pub seed: u64,
    pub jobs: Option<usize>,
    pub out: Option<PathBuf>,
    pub goal: Option<String>,
    pub time_limit: Option<u64>,
    pub resume: bool,
    pub quiet: bool,
}

fn bad(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    EXIT_BAD_INPUT
}

/// Runs the explore; returns the exit status.
pub(super) fn explore(a: Args) -> u8 {
    let space = match &a.space {
        Some(path) => match Space::load(path) {
            Ok(s) => s,
            Err(e) => return bad(e),
        },
        None => Space::default(),
    };
    let goal = match a.goal.as_deref().map(|g| Goal::parse(g, &property::GOAL_FIELDS)).transpose() {
        Ok(g) => g,
        Err(e) => return bad(e),
    };
    if let Some(j) = a.jobs
        && !(1..=JOBS_MAX).contains(&j)
    {
        return bad(format!("--jobs {j}: allowed: 1..={JOBS_MAX}"));
    }
    if !(1..=explore::RUNS_MAX).contains(&a.runs) {
        return bad(format!("--runs {}: allowed: 1..={}", a.runs, explore::RUNS_MAX));
    }
    let out = a.out.unwrap_or_else(|| Path::new("out").join("explore"));
    if let Err(e) = crate::lab::out::check(&out) {
        return bad(e);
    }
    let jobs =
        a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(JOBS_MAX));
    let cfg = Config {
        space,
        space_file: a.space.clone(),
        runs: a.runs,
        seed: a.seed,
        jobs,
        goal,
        time_limit: a.time_limit.map(Duration::from_secs),
        resume: a.resume,
        planted: None,
    };
    if !a.quiet {
        let looking =
            cfg.goal.as_ref().map_or("property violations".to_string(), |g| format!("the goal `{g}`"));
        eprintln!("explore: {} runs from seed {}, {jobs} jobs, looking for {looking}", a.runs, a.seed);
    }
    let bar = super::runs_bar(a.quiet);
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let report = match explore::run(&cfg, &out, &progress) {
        Ok(r) => r,
        Err(e) => {
            bar.abandon();
            eprintln!("error: {e}");
            return match e {
                ExploreError::BadInput(_) => EXIT_BAD_INPUT,
                ExploreError::Io { .. } => EXIT_FAILED,
            };
        }
    };
    bar.finish_and_clear();
    let drawn = match plot::explore(&out) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_FAILED;
        }
    };
    if !a.quiet {
        print_report(&report, &out, &drawn);
    }
    if report.violations > 0 { EXIT_FAILED } else { 0 }
}

fn print_report(r: &Report, out: &Path, drawn: &[PathBuf]) {
    println!("{:<18} {:>6} {:>6} {:>8} {:>6}", "property", "pass", "FAIL", "excused", "n/a");
    for (p, c) in &r.properties {
        let excused: u64 = c.excused.values().sum();
        println!("{p:<18} {:>6} {:>6} {excused:>8} {:>6}", c.pass, c.fail, c.not_applicable);
    }
    for (p, c) in &r.properties {
        for (why, k) in &c.excused {
            println!("  {p}: {k} excused as the known limitation `{why}`");
        }
    }
    if let Some(g) = &r.goal {
        println!("{} of {} runs satisfy `{g}`", r.goal_hits, r.runs_done);
    }
    println!("{} of {} runs violated a property", r.violations, r.runs_done);
    if r.undrawable > 0 {
        println!(
            "{} of {} runs could not be drawn: no scenario the space allows loaded in 64 tries (for example xor sets with only elgamal keygen); they were not run",
            r.undrawable, r.runs_done
        );
    }
    for f in &r.findings {
        let also =
            if f.also.is_empty() { String::new() } else { format!(" (and {} more runs)", f.also.len()) };
        println!(
            "finding {}: {} from run {}{also}, shrunk to n = {}, {} epochs, {} adversaries, {} faults in {} steps{}",
            f.id,
            f.what,
            f.run,
            f.members,
            f.epochs,
            f.adversaries,
            f.faults,
            f.steps,
            if f.minimal { "" } else { " (not minimal: try budget spent)" }
        );
        println!("  {}", f.reproduce);
    }
    if let Some(s) = &r.stopped {
        println!("{s}");
    }
    println!("wrote explore.csv, explore.json, {} to {}", super::file_names(drawn), out.display());
}
