//! `fraclab explore`: the same seed gives the same bytes whatever `--jobs`
//! and however often it is interrupted; a goal search finds the minimal
//! leak set the derivability rule predicts; a planted bug is found and
//! shrunk; every shrunk scenario still shows what it was shrunk for; and a
//! clean explore of the default space finds no violation.

use std::fs;
use std::path::Path;
use std::time::Duration;

use fraclab::adversary::PlantedBug;
use fraclab::lab::explore::{self, Config, Goal, Report, Space, Verdict, property};
use fraclab::protocol::MemberId;
use fraclab::scenario;

use crate::harness::{fraclab, repo_root, stderr, stdout};

fn config(space: Space, runs: u64, seed: u64, jobs: usize) -> Config {
    Config {
        space,
        space_file: None,
        runs,
        seed,
        jobs,
        goal: None,
        time_limit: None,
        resume: false,
        planted: None,
    }
}

fn explore_into(cfg: &Config, out: &Path) -> Report {
    explore::run(cfg, out, &|_, _| {}).expect("the explore completes")
}

/// Every file of an explore's folder, by relative path, as bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A finding's scenario file as written: it loads, and rerun it shows
/// again what it was shrunk for (`planted` as the explore had it).
fn replays(out: &Path, f: &explore::Found, goal: Option<&Goal>, planted: Option<PlantedBug>) {
    let path = out.join(&f.scenario);
    let mut sc = scenario::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    sc.plant(planted);
    let o = fraclab::run(&sc, &fraclab::Options::default()).expect("it runs");
    if let Some(g) = goal {
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("[expect]"), "a finding pins what it shows");
        // The [expect] block pins the summary fields the goal is about.
        assert!(
            o.summary.passed(),
            "{}: `{g}` no longer shows on replay: {:?}",
            path.display(),
            o.summary.expectations
        );
    } else {
        assert!(
            !o.summary.passed(),
            "{}: the replayed run fails as the property's [expect] says",
            path.display()
        );
    }
}

#[test]
fn the_same_seed_writes_the_same_bytes_whatever_jobs_or_interruptions() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = if cfg!(debug_assertions) { 40 } else { 96 };
    let (one, two, cut) = (tmp.path().join("j1"), tmp.path().join("j2"), tmp.path().join("cut"));
    let a = explore_into(&config(Space::default(), runs, 7, 1), &one);
    let b = explore_into(&config(Space::default(), runs, 7, 2), &two);
    assert_eq!(a, b);
    assert_eq!(files(&one), files(&two), "--jobs 1 and --jobs 2 write the same bytes");
    // A time limit of 0 stops after each chunk; --resume continues it.
    let mut cfg = config(Space::default(), runs, 7, 2);
    cfg.time_limit = Some(Duration::ZERO);
    let first = explore_into(&cfg, &cut);
    assert_eq!(first.runs_done, explore::CHUNK, "one chunk, then the limit");
    assert!(first.stopped.as_deref().is_some_and(|s| s.contains("--resume")));
    cfg.resume = true;
    let mut sessions = 1;
    while explore_into(&cfg, &cut).stopped.is_some() {
        sessions += 1;
    }
    assert!(sessions >= 2);
    assert_eq!(files(&one), files(&cut), "an interrupted, resumed explore writes the same bytes");
    let other = explore_into(&config(Space::default(), runs, 8, 2), &tmp.path().join("s8"));
    assert_ne!(
        fs::read(one.join("explore.csv")).unwrap(),
        fs::read(tmp.path().join("s8/explore.csv")).unwrap()
    );
    assert_eq!(other.runs_done, runs);
    // Resuming with other arguments is refused.
    let mut wrong = config(Space::default(), runs, 9, 2);
    wrong.resume = true;
    let e = explore::run(&wrong, &one, &|_, _| {}).unwrap_err().to_string();
    assert!(e.contains("from another explore"), "{e}");
}

const LEAKS_ONLY: &str = r#"
[protocol]
members = [5, 5]
epochs = [1, 2]
init = ["sm"]
keygen = ["additive"]
verify = ["none"]
channel = ["ideal"]

[network]
latency = ["fixed"]
loss = [0.0, 0.0]
duplicate = [0.0, 0.0]
clock_skew_ms = [0, 0]

[faults]
crashes = [0, 0]
partitions = [0, 0]

[adversaries]
count = [0, 6]
kinds = ["leak"]
members = [2, 5]
secrets = ["alpha"]
"#;

#[test]
fn a_goal_search_finds_exactly_the_leaks_the_rule_needs() {
    let space = Space::parse(LEAKS_ONLY, "leaks.toml").expect("the space loads");
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(space, 64, 3, 2);
    let goal = Goal::parse("compromised contains 1", &property::GOAL_FIELDS).unwrap();
    cfg.goal = Some(goal.clone());
    let r = explore_into(&cfg, tmp.path());
    assert_eq!(r.violations, 0, "leaks break no property");
    assert!(r.goal_hits > 0 && !r.findings.is_empty(), "some draw compromises member 1");
    for f in &r.findings {
        assert_eq!(f.what, "goal");
        assert!(f.minimal, "finding {} is minimal", f.id);
        assert_eq!((f.members, f.faults), (5, 0));
        // n = 5: a member other than 1 holds its own pad; with n − 2 = 3 other
        // pads leaked it has n − 1 of the epoch's pads and θ, so member 1's.
        assert_eq!(f.adversaries, 3, "finding {}: exactly three leakers", f.id);
        replays(tmp.path(), f, Some(&goal), None);
    }
    // One fewer is safe: drop any leak from the first finding.
    let text = fs::read_to_string(tmp.path().join(&r.findings[0].scenario)).unwrap();
    let sc = scenario::parse(&text, "finding").unwrap();
    let leaks = sc.adversaries().list.len();
    for drop in 0..leaks {
        let kept: Vec<&str> = text.split("[[adversary]]").collect();
        let mut t = kept[0].to_string();
        for (i, part) in kept[1..].iter().enumerate() {
            if i != drop {
                t.push_str("[[adversary]]");
                t.push_str(part);
            }
        }
        let t = t.replace("compromised = [", "# compromised = [");
        let o = fraclab::run(&scenario::parse(&t, "fewer").unwrap(), &fraclab::Options::default()).unwrap();
        assert!(!o.summary.compromised.unwrap().contains(&1), "without leak {drop}, member 1 is safe");
    }
}

#[test]
fn a_planted_bug_is_found_and_shrunk_small() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(Space::default(), 200, 1, 2);
    let bug = PlantedBug { member: MemberId(2), iter: 2 };
    cfg.planted = Some(bug);
    let r = explore_into(&cfg, tmp.path());
    assert!(r.violations > 0, "the planted HFK flip is found");
    let f = r.findings.iter().min_by_key(|f| (f.members, f.epochs)).expect("a shrunk finding");
    assert!(f.members <= 4 && f.epochs <= 2, "shrunk to n = {}, {} epochs", f.members, f.epochs);
    for f in &r.findings {
        replays(tmp.path(), f, None, Some(bug));
        let text = fs::read_to_string(tmp.path().join(&f.scenario)).unwrap();
        assert!(text.contains("planted a test-only defect"), "the file says it needs the planted defect");
    }
    // Without the defect the same shrunk scenario passes its property.
    let text = fs::read_to_string(tmp.path().join(&f.scenario)).unwrap();
    let clean =
        fraclab::run(&scenario::parse(&text, "clean").unwrap(), &fraclab::Options::default()).unwrap();
    assert!(clean.summary.invariants_held && clean.summary.keys_agreed);
}

#[test]
fn shrinking_keeps_the_violation_at_every_step() {
    // Every accepted step of a shrink still violates: replaying the plan
    // of each prefix of the steps (monotone), on the planted bug.
    let bug = PlantedBug { member: MemberId(2), iter: 2 };
    let space = Space::default();
    let mut cfg = config(space.clone(), 1, 1, 1);
    cfg.planted = Some(bug);
    let start = (0..400)
        .filter_map(|i| space.draw(11, i))
        .find(|p| property::evaluate(p, Some(bug), false).violation().is_some() && p.members >= 6)
        .expect("a large violating draw");
    let what = property::evaluate(&start, Some(bug), false).violation().unwrap().0;
    let (small, steps, _, minimal) = explore::shrink(&cfg, &start, what);
    assert!(steps > 0 && minimal);
    assert!(small.members < start.members);
    assert!(matches!(property::evaluate(&small, Some(bug), false).verdict(what), Some(Verdict::Fail(_))));
    // Minimal: no single step keeps it.
    for step in small.shrink_steps(space.members.0) {
        if space.admits(&step) && step.scenario("x").is_ok() {
            let e = property::evaluate(&step, Some(bug), false);
            assert!(
                !matches!(e.verdict(what), Some(Verdict::Fail(_))),
                "a further step still fails: {step:?}"
            );
        }
    }
}

#[test]
fn a_clean_explore_of_the_default_space_finds_no_violation() {
    // 2000 runs in release (about a minute on two cores); 150 without optimisation.
    let runs = if cfg!(debug_assertions) { 150 } else { 2000 };
    let tmp = tempfile::tempdir().unwrap();
    let r = explore_into(&config(Space::default(), runs, 2026, 2), tmp.path());
    let failed: Vec<String> = r
        .findings
        .iter()
        .map(|f| format!("{} run {}: {} ({})", f.what, f.run, f.detail, f.reproduce))
        .collect();
    assert_eq!(r.violations, 0, "violations:\n{}", failed.join("\n"));
    assert_eq!(r.runs_done, runs);
    for p in explore::PROPERTIES {
        let c = &r.properties[p];
        assert!(c.pass > 0, "{p} was checked on some run");
    }
}

#[test]
fn the_command_line_reports_and_refuses_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ex");
    let o = fraclab(
        &[
            "explore",
            "--runs",
            "8",
            "--seed",
            "4",
            "--out",
            out.to_str().unwrap(),
            "--goal",
            "members >= 3 and not stalled",
        ],
        repo_root(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("runs satisfy `members >= 3 and not stalled`"), "{text}");
    assert!(
        text.contains("finding 1: goal from run 0")
            && text.contains("shrunk to n = 3, 1 epochs, 0 adversaries, 0 faults"),
        "{text}"
    );
    assert!(
        !text.contains("finding 2:"),
        "runs that shrink to one scenario (up to the seed) are one finding: {text}"
    );
    for f in ["explore.csv", "explore.json", "explore.svg"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let rows = fs::read_to_string(out.join("explore.csv")).unwrap();
    assert_eq!(rows.lines().count(), 9, "a header and one row per run");
    assert!(rows.lines().next().unwrap().starts_with("run,seed,members,init"));

    let bad =
        fraclab(&["explore", "--goal", "compromized contains 3", "--out", "/nonexistent/x"], repo_root());
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("unknown field `compromized`; did you mean `compromised`?"),
        "{}",
        stderr(&bad)
    );
    let space = tmp.path().join("space.toml");
    fs::write(&space, "[protocol]\nmembers = [3, 9000]\n").unwrap();
    let never = tmp.path().join("never");
    let bad = fraclab(&["explore", space.to_str().unwrap(), "--out", never.to_str().unwrap()], repo_root());
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("space.toml:2:11: protocol.members: [3, 9000] is out of range"),
        "{}",
        stderr(&bad)
    );
    assert!(!never.exists(), "nothing is written");
}

/// A valid space file with every key, for the fuzzers to mutate.
const FULL_SPACE: &str = r#"[protocol]
members = [3, 8]
epochs = [1, 4]
params = ["toy-64"]
init = ["sm", "ring", "ring-hardened"]
keygen = ["additive", "elgamal"]
verify = ["none", "commitments"]
channel = ["plain", "ideal", "sealed"]
[network]
latency = ["fixed", "uniform", "exponential"]
latency_ms = [1, 40]
loss = [0.01, 0.3]
duplicate = [0.01, 0.2]
clock_skew_ms = [1, 50]
[faults]
crashes = [0, 2]
crash_at = ["before-send", "after-send", "at-ms", "init", "recovery"]
replace = [true, false]
partitions = [0, 1]
heal = [true, false]
[adversaries]
count = [0, 2]
kinds = ["leak", "coalition", "ring-collusion", "eavesdropper", "withhold", "cheat", "sm-cheat", "tamper", "replay", "forge"]
members = [1, 4096]
secrets = ["alpha", "fk", "theta", "sk"]
"#;

#[test]
fn the_full_space_file_is_the_default_space() {
    assert_eq!(Space::parse(FULL_SPACE, "full.toml").unwrap(), Space::default());
}

proptest::proptest! {
    #![proptest_config(crate::harness::fuzz_config(200))]

    /// A mutated space file never panics: it loads, or is refused with a
    /// located error; a space that loads draws loadable plans (or none).
    #[test]
    fn fuzz_space_files(at in 0usize..2000, len in 0usize..6, with in "[\\[\\]\"=,.0-9a-z\\- \n]{0,8}") {
        let mut text = FULL_SPACE.to_string();
        let at = (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        let end = (at..=(at + len).min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(at);
        text.replace_range(at..end, &with);
        match Space::parse(&text, "m.toml") {
            Ok(space) => {
                for run in 0..3 {
                    if let Some(plan) = space.draw(1, run) {
                        proptest::prop_assert!(plan.scenario("x").is_ok());
                        proptest::prop_assert!(space.admits(&plan) || plan.adversaries.len() < space.adversaries.0 as usize
                            || plan.crashes() < space.crashes.0 as usize || plan.partitions() < space.partitions.0 as usize);
                    }
                }
            }
            Err(e) => proptest::prop_assert!(e.to_string().starts_with("m.toml:"), "{e}"),
        }
    }

    /// Arbitrary goal text never panics, and what parses prints back to itself.
    #[test]
    fn fuzz_goals(text in "[a-z_ ()\\[\\],=<>!\"0-9-]{0,40}") {
        if let Ok(g) = Goal::parse(&text, &property::GOAL_FIELDS) {
            proptest::prop_assert_eq!(Goal::parse(&g.to_string(), &property::GOAL_FIELDS).unwrap(), g);
        }
    }
}
