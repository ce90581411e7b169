//! The command line: run, check, params.

use std::fs;

use crate::harness::{fraclab, repo_root, stderr, stdout};

/// `fraclab check scenarios/` passes on the bundled scenarios, with one
/// line per expectation.
#[test]
fn check_passes_on_the_bundled_scenarios() {
    let o = fraclab(&["check", "scenarios"], repo_root());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    assert!(out.contains("ok    baseline-sm"), "{out}");
    assert!(out.contains("large-group"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    let scenarios = fs::read_dir(repo_root().join("scenarios")).unwrap().count();
    assert!(out.contains(&format!("{scenarios} passed, 0 failed")), "{out}");
}

/// A failed expectation makes `check` exit 1 and print the command that
/// reproduces it; so does a scenario without an [expect] block.
#[test]
fn check_reports_failures_with_a_reproduce_command() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fs::read_to_string(repo_root().join("scenarios/baseline-sm.toml")).unwrap();
    fs::write(tmp.path().join("wrong.toml"), base.replace("epochs_completed = 4", "epochs_completed = 9"))
        .unwrap();
    let no_expect = &base[..base.find("[expect]").unwrap()];
    fs::write(tmp.path().join("silent.toml"), no_expect.replace("baseline-sm", "silent")).unwrap();
    let o = fraclab(&["check", "."], tmp.path());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL  baseline-sm"), "{out}");
    assert!(out.contains("epochs_completed = 9 (observed 4)"), "{out}");
    assert!(out.contains("reproduce: fraclab run ./wrong.toml --seed 7"), "{out}");
    assert!(out.contains("FAIL  silent") && out.contains("no [expect] block"), "{out}");
    assert!(out.contains("0 passed, 2 failed"), "{out}");
}

/// `fraclab run` exits 1 when an expectation fails, and still writes its
/// outputs (they are how one finds out why).
#[test]
fn run_exits_1_on_a_failed_expectation() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fs::read_to_string(repo_root().join("scenarios/baseline-ring.toml")).unwrap();
    fs::write(tmp.path().join("s.toml"), base.replace("keys_agreed = true", "keys_agreed = false")).unwrap();
    let o = fraclab(&["run", "s.toml", "--out", "o"], tmp.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("reproduce: fraclab run s.toml --seed 11"), "{}", stderr(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.path().join("o/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["expectations"][0]["held"], false);
    assert_eq!(summary["format"], "fraclab-summary/1");
}

/// `--seed`, `--trace` and the default output folder results/<name>/.
#[test]
fn run_options_seed_trace_and_default_out() {
    let tmp = tempfile::tempdir().unwrap();
    fs::copy(repo_root().join("scenarios/baseline-sm.toml"), tmp.path().join("b.toml")).unwrap();
    let o = fraclab(&["run", "b.toml", "--seed", "42", "--trace", "protocol"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = tmp.path().join("results/baseline-sm");
    let trace = fs::read_to_string(dir.join("trace.jsonl")).unwrap();
    assert!(trace.starts_with("{\"type\":\"header\",\"format\":\"fraclab-trace/1\""));
    assert!(trace.contains("\"seed\":42") && trace.contains("\"trace\":\"protocol\""));
    assert!(!trace.contains("\"type\":\"send\""), "protocol level has no per-message events");
    assert!(trace.contains("\"type\":\"secret\"") && trace.contains("\"type\":\"key\""));
    assert!(stdout(&o).contains("keys agreed: yes"));
    // --trace none leaves only the summary (and removes a stale trace).
    let o = fraclab(&["run", "b.toml", "--trace", "none", "--quiet"], tmp.path());
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).is_empty());
    assert!(!dir.join("trace.jsonl").exists());
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["trace_sha256"], serde_json::Value::Null);
    assert_eq!(summary["keys_agreed"], true);
}

/// `fraclab params NAME --json` prints the set in lowercase hex.
#[test]
fn params_json_prints_the_named_set() {
    let o = fraclab(&["params", "toy-16", "--json"], repo_root());
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["name"], "toy-16");
    assert_eq!(v["p"], "fef3"); // 2^16 − 269 = 65267
    assert_eq!(v["q"], "7f79"); // (P − 1)/2 = 32633
    assert_eq!(v["g"], "0004", "a group element, padded to the byte length of P");
    assert_eq!(v["p_bits"], 16);
    assert_eq!(v["q_bits"], 15);
    assert!(stdout(&o).starts_with("{\"name\":\"toy-16\",\"p\":"));
    let o = fraclab(&["params", "modp-2048", "--json"], repo_root());
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let p = v["p"].as_str().unwrap();
    assert!(p.starts_with("ffffffffffffffffc90fdaa2") && p == p.to_lowercase());
    let o = fraclab(&["params"], repo_root());
    assert_eq!(stdout(&o).lines().count(), 9);
    let o = fraclab(&["params", "nope"], repo_root());
    assert_eq!(o.status.code(), Some(2));
}

/// `verify-trace` exits 0 on a good trace and 1 on a tampered one.
#[test]
fn verify_trace_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    fs::copy(repo_root().join("scenarios/baseline-sm.toml"), tmp.path().join("b.toml")).unwrap();
    assert_eq!(fraclab(&["run", "b.toml", "--out", "o", "--quiet"], tmp.path()).status.code(), Some(0));
    let o = fraclab(&["verify-trace", "o/trace.jsonl"], tmp.path());
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("trace OK"));
    // One pad changed (same width, still below q): I1 no longer holds.
    let trace = fs::read_to_string(tmp.path().join("o/trace.jsonl")).unwrap();
    let needle = "\"name\":\"alpha\",\"index\":2,\"value\":\"";
    let at = trace.find(needle).unwrap() + needle.len();
    let flipped = if &trace[at..at + 1] == "0" { "1" } else { "0" };
    let bad = format!("{}{flipped}{}", &trace[..at], &trace[at + 1..]);
    fs::write(tmp.path().join("bad.jsonl"), bad).unwrap();
    let o = fraclab(&["verify-trace", "bad.jsonl"], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("violation at seq"), "{}", stderr(&o));
    let o = fraclab(&["verify-trace", "missing.jsonl"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
}

/// `fraclab atlas` reproduces the patent's corollary by computation: one
/// leaked pad is safe from n = 4 on (and r pads from n = r + 3).
#[test]
fn atlas_reproduces_the_corollary() {
    let tmp = tempfile::tempdir().unwrap();
    let o = fraclab(&["atlas", "--members", "2..6", "--out", "o"], tmp.path());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.contains("leaked pads 0: smallest safe n = 3"), "{out}");
    assert!(out.contains("leaked pads 1: smallest safe n = 4"), "{out}");
    assert!(out.contains("leaked pads 3: smallest safe n = 6"), "{out}");
    assert!(out.contains("leaked pads 4: smallest safe n = none up to 6"), "{out}");
    let leaks = fs::read_to_string(tmp.path().join("o/atlas-leaks.csv")).unwrap();
    assert!(leaks.starts_with("members,leaked_pads,compromised\n"));
    assert_eq!(leaks.lines().count(), 1 + (2..=6).sum::<usize>());
    assert!(leaks.contains("\n3,1,3\n") && leaks.contains("\n4,1,1\n"), "{leaks}");
    let ring = fs::read_to_string(tmp.path().join("o/atlas-ring.csv")).unwrap();
    assert!(ring.starts_with("members,init,target,compromised\n"));
    assert_eq!(ring.lines().count(), 1 + (3..=6).map(|n| 2 * n).sum::<usize>());
    assert!(ring.contains("\n5,ring,3,1\n") && ring.contains("\n5,ring-hardened,3,0\n"), "{ring}");
    let late = fraclab(&["atlas", "--members", "5..6", "--out", "late"], tmp.path());
    assert!(
        stdout(&late).contains("leaked pads 1: smallest safe n ≤ 5 (the range starts at 5)"),
        "{}",
        stdout(&late)
    );
    let bad = fraclab(&["atlas", "--members", "6..2"], tmp.path());
    assert_eq!(bad.status.code(), Some(2));
}

/// `fraclab run` narrates the fractional attack the way a teacher tells it.
#[test]
fn run_narrates_the_fractional_attack() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = repo_root().join("scenarios/fractional-attack-n3.toml");
    let o = fraclab(&["run", scen.to_str().unwrap(), "--out", "o"], tmp.path());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("epoch 2: member 2 is handed α[1,2] (α[1,2] leaked by member 1)"), "{out}");
    assert!(
        out.contains("epoch 2: member 2 learns FK[3,1] = −FK[2,1] + α[1,2] (α[1,2] leaked by member 1)"),
        "{out}"
    );
    assert!(out.contains("compromised: [1, 2, 3] · secure: []"), "{out}");
}

/// `--explain` answers both ways and rejects a malformed question.
#[test]
fn explain_from_the_command_line() {
    let scen = repo_root().join("scenarios/fractional-attack-n4.toml");
    let s = scen.to_str().unwrap();
    let o = fraclab(&["run", s, "--explain", "2:fk[3,1]"], repo_root());
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("member 2 cannot derive FK[3,1]."), "{}", stdout(&o));
    assert!(stdout(&o).contains("checked by recomputation"));
    let o = fraclab(&["run", s, "--explain", "3:alpha[1,2]"], repo_root());
    assert!(stdout(&o).contains("member 3 derives α[1,2]"), "{}", stdout(&o));
    let o = fraclab(&["run", s, "--explain", "2:fk[3"], repo_root());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("allowed: fk[i,j] (x[i,j] under ElGamal), alpha[i,e], v[i], theta[e]"),
        "{}",
        stderr(&o)
    );
}

/// Issue 12: an --out that is a file, or lies under one, is a usage error
/// for run, atlas, sweep and gallery: exit 2, a message naming the file, no
/// `reproduce:` line, nothing written; gallery checks before it runs anything.
#[test]
fn output_path_problems_exit_2_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("afile"), "x").unwrap();
    let scenario = repo_root().join("scenarios/baseline-sm.toml");
    let scenario = scenario.to_str().unwrap();
    let scenarios = repo_root().join("scenarios");
    let cases: [(&[&str], &str); 6] = [
        (&["run", scenario, "--out", "afile/sub"], "--out afile/sub: afile is a file, not a directory"),
        (&["run", scenario, "--out", "afile"], "--out afile: exists and is not a folder"),
        (&["atlas", "--members", "3..4", "--out", "afile"], "--out afile: exists and is not a folder"),
        (
            &["sweep", scenario, "--seeds", "2", "--out", "afile/sub"],
            "--out afile/sub: afile is a file, not a directory",
        ),
        (
            &["gallery", scenarios.to_str().unwrap(), "--out", "afile"],
            "--out afile: exists and is not a folder",
        ),
        (
            &["gallery", scenarios.to_str().unwrap(), "--out", "afile/g"],
            "--out afile/g: afile is a file, not a directory",
        ),
    ];
    for (args, says) in cases {
        let o = fraclab(args, tmp.path());
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(says), "{args:?}: {e}");
        assert!(!e.contains("reproduce"), "{args:?}: {e}");
        assert!(!stdout(&o).contains("=="), "{args:?}: gallery ran a step: {}", stdout(&o));
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1, "{args:?} wrote something");
    }
    // A gallery whose scenario folder lacks a sweep's scenario is refused
    // before any run.
    let only = tmp.path().join("only");
    fs::create_dir(&only).unwrap();
    fs::copy(repo_root().join("scenarios/baseline-sm.toml"), only.join("baseline-sm.toml")).unwrap();
    let o = fraclab(&["gallery", "only", "--out", "g"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("baseline-ring.toml: the gallery sweeps it"), "{}", stderr(&o));
    assert!(!tmp.path().join("g").exists());
}

/// Every positional argument has a description, and each subcommand's help
/// states its exit codes; those with limits state them.
#[test]
fn help_describes_arguments_exit_codes_and_limits() {
    let cases: [(&[&str], &[&str]); 9] = [
        (&["run", "--help"], &["<SCENARIO>  The scenario file", "members ≤ 4096", "epochs ≤ 100000"]),
        (&["check", "--help"], &["[PATHS]...  Scenario files"]),
        (&["params", "--help"], &["[NAME]  A parameter set"]),
        (&["verify-trace", "--help"], &["<TRACE>  A trace.jsonl"]),
        (&["atlas", "--help"], &["2 ≤ A ≤ B ≤ 64"]),
        (&["sweep", "--help"], &["<SCENARIO>  The scenario file", "--jobs 1..=256", "--seeds 1..=1000000"]),
        (&["sweep", "merge", "--help"], &["<SHARDS>...  The folders", "one of the shards or inside one"]),
        (&["plot", "--help"], &["<DIR>  A folder", "fraclab-summary/1", "epochs ≤ 100000"]),
        (&["gallery", "--help"], &["[SCENARIOS]  Scenario folder"]),
    ];
    for (args, says) in cases {
        let o = fraclab(args, repo_root());
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        let out = stdout(&o);
        assert!(out.contains("Exit status: 0"), "{args:?}: {out}");
        for s in says {
            assert!(out.contains(s), "{args:?} lacks {s:?}: {out}");
        }
    }
}
