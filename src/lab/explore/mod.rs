//! `fraclab explore`: draws scenarios from a [`Space`], runs each, checks
//! every [property](property::PROPERTIES), and shrinks what fails (or what
//! satisfies a `--goal`) to a minimal scenario file anyone can replay.
//!
//! Run `i` draws from its own stream of the seed, so a run's plan and
//! verdicts do not depend on `--jobs`, on the runs before it or on
//! `--time-limit`. Runs go in chunks of [`CHUNK`]: each chunk is computed in
//! parallel, then its findings are shrunk (in parallel, each shrink
//! sequential), then its rows are appended to `explore.csv` and
//! `explore.json` is rewritten, all in run order. A time limit stops between
//! chunks, and `--resume` continues from the last complete chunk, so an
//! interrupted and resumed explore writes the same bytes as one that ran
//! through.

pub mod goal;
pub mod oracle;
pub mod plan;
pub mod property;
pub mod space;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use goal::Goal;
pub use plan::Plan;
pub use property::{Evaluation, PROPERTIES, Verdict};
pub use space::Space;

use crate::adversary::PlantedBug;
use crate::report::csv_line;
use crate::schema::Summary;

/// The format string of `explore.json`.
pub const EXPLORE_FORMAT: &str = "fraclab-explore/1";
/// The most runs one explore makes.
pub const RUNS_MAX: u64 = 10_000_000;
/// Runs per chunk: the unit of parallel work, of `--time-limit` and of `--resume`.
pub const CHUNK: u64 = 32;
/// Every this-many-th run (run 0, 16, 32, …) is rerun twice with a full
/// trace for the `determinism` property.
pub const SAMPLE_EVERY: u64 = 16;
/// The most runs one shrink tries.
pub const SHRINK_TRIES_MAX: u64 = 400;
/// The most distinct findings one explore shrinks and writes; later failing
/// runs are counted and listed in `explore.csv` but not shrunk.
pub const FINDINGS_MAX: usize = 20;

/// What to explore.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where plans come from.
    pub space: Space,
    /// The space file, as given (`None`: the default space); named in the
    /// reproducing command.
    pub space_file: Option<PathBuf>,
    /// Runs to make.
    pub runs: u64,
    /// The explore's seed.
    pub seed: u64,
    /// Parallel runs.
    pub jobs: usize,
    /// The goal; `None` looks for property violations.
    pub goal: Option<Goal>,
    /// Stop cleanly (between chunks) after this much wall time.
    pub time_limit: Option<Duration>,
    /// Continue the explore whose outputs are in the folder.
    pub resume: bool,
    /// A defect planted in every run, for tests only.
    #[doc(hidden)]
    pub planted: Option<PlantedBug>,
}

/// Why an explore did not complete. The CLI exits 2 for
/// [`ExploreError::BadInput`] and 1 for [`ExploreError::Io`].
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    /// Bad arguments, or `--resume` on outputs of another explore.
    #[error("{0}")]
    BadInput(String),
    /// An output could not be written or read back.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExploreError + '_ {
    move |error| ExploreError::Io { path: path.to_path_buf(), error }
}

/// Pass/fail counts of one property.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Runs where it held.
    pub pass: u64,
    /// Runs where it broke: violations.
    pub fail: u64,
    /// Runs where it broke under a documented limitation, by limitation.
    pub excused: BTreeMap<String, u64>,
    /// Runs it did not apply to.
    pub not_applicable: u64,
}

/// One shrunk finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// 1, 2, … in run order.
    pub id: u64,
    /// The run that first showed it.
    pub run: u64,
    /// The violated property, or `goal`.
    pub what: String,
    /// What the first run showed.
    pub detail: String,
    /// The minimal scenario, relative to the output folder.
    pub scenario: String,
    /// The command that replays it.
    pub reproduce: String,
    /// n and epochs of the minimal scenario.
    pub members: u32,
    /// Epochs of the minimal scenario.
    pub epochs: u64,
    /// Adversaries and faults left in it.
    pub adversaries: u64,
    /// Faults left in it.
    pub faults: u64,
    /// Accepted shrink steps.
    pub steps: u64,
    /// Runs the shrink tried.
    pub tried: u64,
    /// Whether every single further step loses it (false: the try budget ran out).
    pub minimal: bool,
    /// SHA-256 of what was found and the minimal plan without its seed:
    /// runs that shrink to the same scenario up to the seed are one finding.
    pub plan_sha256: String,
    /// Later runs that shrank to the same scenario (up to the seed).
    pub also: Vec<u64>,
}

/// `explore.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// [`EXPLORE_FORMAT`].
    pub format: String,
    /// The explore's seed.
    pub seed: u64,
    /// Runs asked for.
    pub runs: u64,
    /// Runs done (all of them unless a time limit stopped the explore).
    pub runs_done: u64,
    /// The goal, as canonical text; null for property violations.
    pub goal: Option<String>,
    /// SHA-256 of the space as drawn from (its debug form), so `--resume`
    /// refuses another space.
    pub space_sha256: String,
    /// The space file, if one was given.
    pub space_file: Option<String>,
    /// Per property.
    pub properties: BTreeMap<String, Counts>,
    /// Runs with any violation.
    pub violations: u64,
    /// Runs satisfying the goal.
    pub goal_hits: u64,
    /// Runs whose draw found no loadable scenario.
    pub undrawable: u64,
    /// The shrunk findings, in run order.
    pub findings: Vec<Found>,
    /// Why the explore stopped before `runs`, if it did.
    pub stopped: Option<String>,
}

impl Report {
    /// `explore.json`'s bytes.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a report always serialises");
        s.push('\n');
        s
    }
}

/// The columns of `explore.csv`: the drawn values, a few outcomes, one
/// verdict per property, the goal and the finding.
pub fn columns() -> Vec<String> {
    let mut c: Vec<String> = [
        "run",
        "seed",
        "members",
        "init",
        "keygen",
        "verify",
        "channel",
        "epochs",
        "latency",
        "loss",
        "duplicate",
        "clock_skew_ms",
        "faults",
        "adversaries",
        "keys_agreed",
        "epochs_completed",
        "compromised",
    ]
    .map(String::from)
    .to_vec();
    c.extend(PROPERTIES.iter().map(|p| p.to_string()));
    c.extend(["goal", "finding", "shrunk"].map(String::from));
    c
}

/// One run before shrinking.
struct Ran {
    run: u64,
    plan: Option<Plan>,
    eval: Option<Evaluation>,
    goal: Option<bool>,
}

impl Ran {
    /// What makes this run a finding: (what, detail).
    fn wanted(&self, goal: Option<&Goal>) -> Option<(String, String)> {
        let eval = self.eval.as_ref()?;
        match goal {
            Some(g) => (self.goal == Some(true)).then(|| ("goal".to_string(), g.to_string())),
            None => eval.violation().map(|(p, d)| (p.to_string(), d.to_string())),
        }
    }
}

fn sha(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn goal_holds(goal: &Goal, plan: &Plan, e: &Evaluation) -> bool {
    goal.eval(&|name| property::field(plan, e, name))
}

/// The reproducing command line of an explore.
fn command(cfg: &Config) -> String {
    let mut c = String::from("fraclab explore");
    if let Some(f) = &cfg.space_file {
        c.push_str(&format!(" {}", f.display()));
    }
    c.push_str(&format!(" --runs {} --seed {}", cfg.runs, cfg.seed));
    if let Some(g) = &cfg.goal {
        c.push_str(&format!(" --goal '{}'", g.to_string().replace('\'', "'\\''")));
    }
    c
}

/// Runs the explore into `out`, calling `progress(done, total)` after each
/// chunk; returns the report as written to `out/explore.json`.
pub fn run(cfg: &Config, out: &Path, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<Report, ExploreError> {
    if !(1..=RUNS_MAX).contains(&cfg.runs) {
        return Err(ExploreError::BadInput(format!("--runs {}: allowed: 1..={RUNS_MAX}", cfg.runs)));
    }
    super::out::prepare(out).map_err(ExploreError::BadInput)?;
    let json_path = out.join("explore.json");
    let csv_path = out.join("explore.csv");
    let fresh = Report {
        format: EXPLORE_FORMAT.into(),
        seed: cfg.seed,
        runs: cfg.runs,
        runs_done: 0,
        goal: cfg.goal.as_ref().map(Goal::to_string),
        space_sha256: sha(&format!("{:?}", cfg.space)),
        space_file: cfg.space_file.as_ref().map(|p| p.display().to_string()),
        properties: PROPERTIES.iter().map(|p| (p.to_string(), Counts::default())).collect(),
        violations: 0,
        goal_hits: 0,
        undrawable: 0,
        findings: Vec::new(),
        stopped: None,
    };
    let mut report = if cfg.resume { resume(&fresh, &json_path, &csv_path)? } else { fresh };
    if !cfg.resume || report.runs_done == 0 {
        let findings = out.join("findings");
        if findings.exists() {
            fs::remove_dir_all(&findings).map_err(io_err(&findings))?;
        }
        fs::write(&csv_path, csv_line(&columns())).map_err(io_err(&csv_path))?;
    }
    report.stopped = None;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.jobs.max(1))
        .build()
        .map_err(|e| ExploreError::BadInput(format!("--jobs {}: {e}", cfg.jobs)))?;
    let started = Instant::now();
    let mut csv = fs::OpenOptions::new().append(true).open(&csv_path).map_err(io_err(&csv_path))?;
    progress(report.runs_done, cfg.runs);
    while report.runs_done < cfg.runs {
        let from = report.runs_done;
        let to = (from + CHUNK).min(cfg.runs);
        let ran: Vec<Ran> = pool.install(|| (from..to).into_par_iter().map(|i| one(cfg, i)).collect());
        let mut rows = Vec::new();
        let mut chosen: Vec<(usize, String, String)> = Vec::new();
        for (k, r) in ran.iter().enumerate() {
            count(&mut report, r);
            if let Some((what, detail)) = r.wanted(cfg.goal.as_ref())
                && report.findings.len() + chosen.len() < FINDINGS_MAX
            {
                chosen.push((k, what, detail));
            }
        }
        let shrunk: Vec<(Plan, u64, u64, bool)> = pool.install(|| {
            chosen
                .par_iter()
                .map(|(k, what, _)| {
                    let r = &ran[*k];
                    shrink(cfg, r.plan.as_ref().expect("a finding has a plan"), what)
                })
                .collect()
        });
        let mut finding_of: BTreeMap<usize, u64> = BTreeMap::new();
        for ((k, what, detail), (plan, steps, tried, minimal)) in chosen.into_iter().zip(shrunk) {
            let r = &ran[k];
            // The same minimal scenario up to its seed is the same finding.
            let unseeded = Plan { seed: 0, ..plan.clone() };
            let plan_sha = sha(&format!("{what}\n{}", unseeded.to_toml("x", "", "", "")));
            if let Some(f) = report.findings.iter_mut().find(|f| f.plan_sha256 == plan_sha) {
                f.also.push(r.run);
                finding_of.insert(k, f.id);
                continue;
            }
            let id = report.findings.len() as u64 + 1;
            let found =
                write_finding(cfg, out, id, r.run, &what, &detail, &plan, (steps, tried, minimal), plan_sha)?;
            report.findings.push(found);
            finding_of.insert(k, id);
        }
        for (k, r) in ran.iter().enumerate() {
            rows.extend(csv_line(&row(r, finding_of.get(&k).copied())));
        }
        csv.write_all(&rows).and_then(|_| csv.flush()).map_err(io_err(&csv_path))?;
        report.runs_done = to;
        write_atomic(&json_path, report.to_json().as_bytes())?;
        progress(report.runs_done, cfg.runs);
        // Checked after a chunk, so every session makes progress.
        if let Some(limit) = cfg.time_limit
            && started.elapsed() >= limit
            && report.runs_done < cfg.runs
        {
            report.stopped = Some(format!(
                "--time-limit {}s: stopped after {} of {} runs; `--resume` continues",
                limit.as_secs(),
                report.runs_done,
                cfg.runs
            ));
            break;
        }
    }
    write_atomic(&json_path, report.to_json().as_bytes())?;
    Ok(report)
}

fn one(cfg: &Config, i: u64) -> Ran {
    let Some(plan) = cfg.space.draw(cfg.seed, i) else {
        return Ran { run: i, plan: None, eval: None, goal: None };
    };
    let eval = property::evaluate(&plan, cfg.planted, i.is_multiple_of(SAMPLE_EVERY));
    let goal = cfg.goal.as_ref().map(|g| goal_holds(g, &plan, &eval));
    Ran { run: i, plan: Some(plan), eval: Some(eval), goal }
}

fn count(report: &mut Report, r: &Ran) {
    let Some(e) = &r.eval else {
        report.undrawable += 1;
        return;
    };
    for (p, v) in &e.verdicts {
        let c = report.properties.entry(p.to_string()).or_default();
        match v {
            Verdict::Pass => c.pass += 1,
            Verdict::Fail(_) => c.fail += 1,
            Verdict::Excused(why) => *c.excused.entry(why.to_string()).or_default() += 1,
            Verdict::NotApplicable => c.not_applicable += 1,
        }
    }
    report.violations += u64::from(e.violation().is_some());
    report.goal_hits += u64::from(r.goal == Some(true));
}

/// Shrinks `plan` while it keeps showing `what` (a property that fails, or
/// `goal`): tries [`Plan::shrink_steps`] in order and takes the first that
/// still shows it, until none does. Returns (plan, steps, tried, minimal).
pub fn shrink(cfg: &Config, plan: &Plan, what: &str) -> (Plan, u64, u64, bool) {
    let keeps = |p: &Plan| -> bool {
        let e = property::evaluate(p, cfg.planted, what == "determinism");
        match (&cfg.goal, what) {
            (Some(g), "goal") => goal_holds(g, p, &e),
            _ => matches!(e.verdict(what), Some(Verdict::Fail(_))),
        }
    };
    let (mut cur, mut steps, mut tried) = (plan.clone(), 0u64, 0u64);
    loop {
        let mut advanced = false;
        for cand in cur.shrink_steps(cfg.space.members.0) {
            if !cfg.space.admits(&cand) || cand.scenario("explore").is_err() {
                continue;
            }
            if tried >= SHRINK_TRIES_MAX {
                return (cur, steps, tried, false);
            }
            tried += 1;
            if keeps(&cand) {
                cur = cand;
                steps += 1;
                advanced = true;
                break;
            }
        }
        if !advanced {
            return (cur, steps, tried, true);
        }
    }
}

/// The `[expect]` body for a finding: what the run shows, with the violated
/// property's key set to what the property requires.
fn expect_of(plan: &Plan, s: &Summary, what: &str) -> String {
    let ids = |v: &[u32]| format!("[{}]", v.iter().map(u32::to_string).collect::<Vec<_>>().join(", "));
    let keys_agreed = what == "safety.keys" || s.keys_agreed;
    let epochs = if what == "liveness" { plan.epochs } else { s.epochs_completed };
    let mut t = format!("keys_agreed = {keys_agreed}\nepochs_completed = {epochs}\n");
    if let Some(c) = &s.compromised {
        t.push_str(&format!("compromised = {}\n", ids(c)));
    }
    if let Some(o) = s.outsider_learns_key {
        t.push_str(&format!("outsider_learns_key = {o}\n"));
    }
    t.push_str(&format!("recovered = {}\n", ids(&s.recovered)));
    let detected: Vec<u32> = if what == "safety.blame" {
        s.detected.iter().copied().filter(|d| plan.culprits().contains(d)).collect()
    } else {
        s.detected.clone()
    };
    t.push_str(&format!("detected = {}\n", ids(&detected)));
    let forgeries = if what == "safety.sealed" { 0 } else { s.accepted_forgeries };
    t.push_str(&format!("accepted_forgeries = {forgeries}\n"));
    t
}

#[allow(clippy::too_many_arguments)]
fn write_finding(
    cfg: &Config,
    out: &Path,
    id: u64,
    run: u64,
    what: &str,
    detail: &str,
    plan: &Plan,
    (steps, tried, minimal): (u64, u64, bool),
    plan_sha256: String,
) -> Result<Found, ExploreError> {
    let dir = out.join("findings");
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let name = format!("explore-{id}-{}", what.replace('.', "-"));
    let file = format!("findings/{name}.toml");
    let path = out.join(&file);
    let reproduce = format!("fraclab run {}", path.display());
    let eval = property::evaluate(plan, cfg.planted, what == "determinism");
    let summary = eval.summary.clone();
    let shown = match what {
        "goal" => format!("satisfies the goal `{detail}`"),
        p => match eval.verdict(p) {
            Some(Verdict::Fail(d)) => format!("violates `{p}`: {d}"),
            _ => format!("violated `{p}` when found: {detail}"),
        },
    };
    let mut comment = format!(
        "Found by `{}`, run {run}; {shown}.\nShrunk in {steps} steps ({tried} runs tried){}.\nReproduce: {reproduce}\n",
        command(cfg),
        if minimal {
            "; every single further step loses it"
        } else {
            "; the try budget ran out before a minimal scenario"
        }
    );
    comment.push_str(if what == "goal" {
        "The [expect] block pins what this run shows: `fraclab check` passes while it still does.\n"
    } else {
        "The [expect] block states what the property requires: `fraclab check` fails on this file until the bug is fixed.\n"
    });
    if cfg.planted.is_some() {
        comment.push_str("This explore planted a test-only defect that a scenario file cannot express.\n");
    }
    let description = format!("explore finding {id}: {shown}");
    let mut expect = summary.as_ref().map_or(String::new(), |s| expect_of(plan, s, what));
    if what == "analysis"
        && let Some(v) = property::oracle_verdict(plan, cfg.planted)
    {
        // What the brute-force decision says the engine should report.
        let ids: Vec<String> = v.compromised.iter().map(u32::to_string).collect();
        let lines: Vec<String> = expect
            .lines()
            .map(|l| match l.split_once(" = ").map(|(k, _)| k) {
                Some("compromised") => format!("compromised = [{}]", ids.join(", ")),
                Some("outsider_learns_key") => format!("outsider_learns_key = {}", v.outsider_learns_key),
                _ => l.to_string(),
            })
            .collect();
        expect = lines.join("\n") + "\n";
    }
    let text = plan.to_toml(&name, &clip(&description, 300), &comment, &expect);
    write_atomic(&path, text.as_bytes())?;
    Ok(Found {
        id,
        run,
        what: what.to_string(),
        detail: detail.to_string(),
        scenario: file,
        reproduce,
        members: plan.members,
        epochs: plan.epochs,
        adversaries: plan.adversaries.len() as u64,
        faults: plan.faults.len() as u64,
        steps,
        tried,
        minimal,
        plan_sha256,
        also: Vec::new(),
    })
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max).collect::<String>())
    } else {
        s.to_string()
    }
}

fn describe_faults(p: &Plan) -> String {
    let v: Vec<String> = p
        .faults
        .iter()
        .map(|f| match f {
            plan::Fault::Crash { member, at, replace } => {
                let at = match at {
                    plan::CrashAt::Point { epoch, before: true } => format!("e{epoch}-before"),
                    plan::CrashAt::Point { epoch, before: false } => format!("e{epoch}-after"),
                    plan::CrashAt::Ms(ms) => format!("{ms}ms"),
                };
                format!("crash {member}@{at}{}", if *replace { " replaced" } else { "" })
            }
            plan::Fault::Partition { groups, from_ms, until_ms } => {
                let g: Vec<String> = groups.iter().map(|g| format!("{g:?}")).collect();
                let until = until_ms.map_or("never".to_string(), |u| u.to_string());
                format!("partition {} {from_ms}-{until}ms", g.join("|"))
            }
        })
        .collect();
    v.join("; ")
}

fn describe_adversaries(p: &Plan) -> String {
    let v: Vec<String> = p
        .adversaries
        .iter()
        .map(|a| match a {
            plan::Adversary::Leak { member, secret, epoch, to } => {
                let to = match to {
                    plan::LeakTo::Group => "group".to_string(),
                    plan::LeakTo::Outsider => "outsider".to_string(),
                    plan::LeakTo::Members(ms) => format!("{ms:?}"),
                };
                format!("leak {member} {secret}@{epoch}>{to}")
            }
            plan::Adversary::Coalition(ms) => format!("coalition {ms:?}"),
            plan::Adversary::RingCollusion { target } => format!("ring-collusion {target}"),
            plan::Adversary::Eavesdropper(m) => format!("eavesdropper {}", m.join("")),
            plan::Adversary::Withhold { member } => format!("withhold {member}"),
            plan::Adversary::Cheat { member, epoch: None } => format!("cheat {member}@init"),
            plan::Adversary::Cheat { member, epoch: Some(j) } => format!("cheat {member}@{j}"),
            plan::Adversary::SmCheat { member } => format!("sm-cheat {member}"),
            plan::Adversary::Wire { kind, probability } => format!("{} {probability}", kind.as_str()),
        })
        .collect();
    v.join("; ")
}

fn row(r: &Ran, finding: Option<u64>) -> Vec<String> {
    let mut c = vec![r.run.to_string()];
    let Some(p) = &r.plan else {
        c.resize(columns().len(), String::new());
        return c;
    };
    let latency = match p.latency {
        plan::Latency::Fixed(v) => format!("fixed {v}"),
        plan::Latency::Uniform(a, b) => format!("uniform {a}-{b}"),
        plan::Latency::Exponential(a, m) => format!("exponential {a}+{m}"),
    };
    c.extend([
        p.seed.to_string(),
        p.members.to_string(),
        p.init.to_string(),
        p.keygen.to_string(),
        p.verify.to_string(),
        p.channel.to_string(),
        p.epochs.to_string(),
        latency,
        p.loss.to_string(),
        p.duplicate.to_string(),
        p.clock_skew_ms.to_string(),
        describe_faults(p),
        describe_adversaries(p),
    ]);
    let s = r.eval.as_ref().and_then(|e| e.summary.as_ref());
    c.push(s.map_or(String::new(), |s| s.keys_agreed.to_string()));
    c.push(s.map_or(String::new(), |s| s.epochs_completed.to_string()));
    c.push(
        s.and_then(|s| s.compromised.as_ref())
            .map_or(String::new(), |v| v.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")),
    );
    let e = r.eval.as_ref();
    c.extend(PROPERTIES.iter().map(|p| e.and_then(|e| e.verdict(p)).map_or(String::new(), Verdict::label)));
    c.push(r.goal.map_or(String::new(), |g| g.to_string()));
    c.push(finding.map_or(String::new(), |f| f.to_string()));
    c.push(finding.is_some().to_string());
    c
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExploreError> {
    crate::report::write_atomic(path, bytes).map_err(|(path, error)| ExploreError::Io { path, error })
}

/// The report of the explore in the folder, checked to be the same explore
/// as `fresh` describes, with `explore.csv` cut back to its `runs_done` rows.
fn resume(fresh: &Report, json: &Path, csv_path: &Path) -> Result<Report, ExploreError> {
    let Ok(text) = fs::read_to_string(json) else { return Ok(fresh.clone()) };
    let old: Report = serde_json::from_str(&text).map_err(|e| {
        ExploreError::BadInput(format!("--resume: {}: not an explore report: {e}", json.display()))
    })?;
    let same = old.format == fresh.format
        && (old.seed, old.runs, &old.goal, &old.space_sha256)
            == (fresh.seed, fresh.runs, &fresh.goal, &fresh.space_sha256);
    if !same {
        return Err(ExploreError::BadInput(format!(
            "--resume: {} is from another explore (seed, runs, goal or space differ); allowed: the same arguments, or a new --out",
            json.display()
        )));
    }
    // Every count is bounded by runs_done, itself a whole number of chunks
    // (or all the runs): a report an explore cannot write is refused.
    let counted = |c: &Counts| {
        c.excused
            .values()
            .try_fold(c.pass, |a, &b| a.checked_add(b))?
            .checked_add(c.fail)?
            .checked_add(c.not_applicable)
    };
    let consistent = old.runs_done <= old.runs
        && (old.runs_done.is_multiple_of(CHUNK) || old.runs_done == old.runs)
        && old.findings.len() <= FINDINGS_MAX
        && old.properties.len() == PROPERTIES.len()
        && PROPERTIES.iter().all(|p| {
            old.properties.get(*p).and_then(counted) == Some(old.runs_done.saturating_sub(old.undrawable))
        })
        && old.violations <= old.runs_done
        && old.goal_hits <= old.runs_done
        && old.undrawable <= old.runs_done;
    if !consistent {
        return Err(ExploreError::BadInput(format!(
            "--resume: {}: its counts are not those of an explore (runs_done, per-property totals or findings out of range); allowed: the file explore writes",
            json.display()
        )));
    }
    let bytes = fs::read(csv_path).map_err(|e| {
        ExploreError::BadInput(format!(
            "--resume: {}: {e}; allowed: the explore.csv beside explore.json",
            csv_path.display()
        ))
    })?;
    let mut lines = 0u64;
    let mut keep = bytes.len();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            lines += 1;
            if lines == old.runs_done + 1 {
                keep = i + 1;
                break;
            }
        }
    }
    if lines < old.runs_done + 1 {
        return Err(ExploreError::BadInput(format!(
            "--resume: {} has fewer rows than explore.json's runs_done = {}",
            csv_path.display(),
            old.runs_done
        )));
    }
    fs::write(csv_path, &bytes[..keep]).map_err(io_err(csv_path))?;
    Ok(old)
}
