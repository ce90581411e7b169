//! Regression tests for the simulator defects a fuzzing campaign found
//! (issue 12): each reproducer is here, and each test failed before its fix.

use std::io;
use std::path::Path;

use fraclab::scenario::Scenario;
use fraclab::sim::{self, Outcome, Record, Recorder, SimTime};

use crate::harness::{fraclab, repo_root, scenario, stderr};

/// A bundled scenario's text with `extra` lines added to one of its tables
/// (created at the end when the file has no such table).
fn bundled_with(name: &str, table: &str, extra: &str) -> String {
    let path = repo_root().join("scenarios").join(format!("{name}.toml"));
    with_line(&std::fs::read_to_string(path).expect("bundled scenario"), table, extra)
}

/// `text` with `extra` added to `table` (created at the end if missing).
fn with_line(text: &str, table: &str, extra: &str) -> String {
    let header = format!("[{table}]\n");
    match text.find(&header) {
        Some(at) => {
            let at = at + header.len();
            format!("{}{extra}\n{}", &text[..at], &text[at..])
        }
        None => format!("{text}\n{header}{extra}\n"),
    }
}

/// The number of silence declarations ("member X is failed") and the
/// channel's refusals a run made.
#[derive(Default)]
struct Declarations {
    silence: u64,
    malformed: u64,
}

impl Recorder for Declarations {
    fn wants_messages(&self) -> bool {
        false
    }
    fn record(&mut self, _: u64, _: SimTime, rec: &Record<'_>) -> io::Result<()> {
        match rec {
            Record::Detect { check: fraclab::protocol::Check::Silence, .. } => self.silence += 1,
            Record::Reject { reason: fraclab::protocol::sealed::Reject::Malformed, .. } => {
                self.malformed += 1
            }
            _ => {}
        }
        Ok(())
    }
}

fn run_counting(sc: &Scenario) -> (Outcome, Declarations) {
    let mut d = Declarations::default();
    let outcome = sim::run(&sc.sim_config(), &mut d).expect("the run ends without a simulator error");
    (outcome, d)
}

/// A tampered recovery message whose member id no longer names a member is
/// refused as malformed data; it used to become an address and panic at an
/// index (`crash-recover` plus this adversary, seed 1, on `ideal`).
#[test]
fn a_tampered_member_id_is_refused_not_an_index() {
    let adversary = "kind = \"tamper\"\nprobability = 0.5\nmodes = [\"R\"]";
    let mut malformed = 0;
    for channel in ["ideal", "plain"] {
        let text = bundled_with("crash-recover", "protocol", &format!("channel = \"{channel}\""));
        let text = format!("{text}\n[[adversary]]\n{adversary}\n");
        for seed in 1..=12 {
            let mut sc = scenario(&text);
            sc.set_seed(seed);
            let (_, d) = run_counting(&sc);
            malformed += d.malformed;
        }
    }
    assert!(malformed > 0, "some tampered recovery payload was refused as malformed");
}

/// The same reproducer through the command line: a finding and exit 0 or
/// 1, never a panic (exit 101).
#[test]
fn the_tamper_reproducer_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let text = bundled_with("crash-recover", "protocol", "channel = \"ideal\"");
    let text = format!("{text}\n[[adversary]]\nkind = \"tamper\"\nprobability = 0.5\nmodes = [\"R\"]\n");
    let file = dir.path().join("tamper.toml");
    std::fs::write(&file, text).unwrap();
    let out = fraclab(&["run", file.to_str().unwrap(), "--seed", "1", "--out", "o", "--quiet"], dir.path());
    assert!(matches!(out.status.code(), Some(0 | 1)), "exit {:?}: {}", out.status.code(), stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
    let summary = std::fs::read_to_string(dir.path().join("o/summary.json")).unwrap();
    assert!(summary.contains("\"malformed\""), "the refusal is in the summary: {summary}");
}

/// Clock skew up to the limit (60 s) with a healthy network completes every
/// epoch and declares nobody failed: failure detection and the stall
/// horizon both allow for the clocks' spread. At 15 s every run used to
/// stall with live members declared failed.
#[test]
fn clock_skew_up_to_the_limit_completes() {
    for skew in [15_000, 60_000] {
        for (name, epochs) in [("baseline-sm", 4), ("baseline-ring", 5), ("sealed-baseline", 4)] {
            let path = repo_root().join("scenarios").join(format!("{name}.toml"));
            let kept: String = std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with("clock_skew_ms"))
                .map(|l| format!("{l}\n"))
                .collect();
            let text = with_line(&kept, "network", &format!("clock_skew_ms = {skew}"));
            let (outcome, d) = run_counting(&scenario(&text));
            let v = &outcome.verdict;
            assert_eq!((v.epochs_completed, v.keys_agreed), (epochs, true), "{name}, skew {skew} ms");
            assert_eq!(d.silence, 0, "{name}, skew {skew} ms: nobody is declared failed");
        }
    }
}

/// Loss below 1 completes: at 90 % loss with a 20 ms round timeout the run
/// used to stop after 2.2 virtual seconds with live members declared
/// failed; now every epoch completes and nobody is declared failed.
#[test]
fn heavy_loss_completes_without_false_failures() {
    for (loss, timeout) in [(0.9, 20), (0.9, 500), (0.6, 20), (0.3, 5)] {
        let text = bundled_with("lossy-network", "protocol", &format!("round_timeout_ms = {timeout}"))
            .replace("loss = 0.2", &format!("loss = {loss}"));
        for seed in 1..=3 {
            let mut sc = scenario(&text);
            sc.set_seed(seed);
            let (outcome, d) = run_counting(&sc);
            let v = &outcome.verdict;
            assert_eq!(
                (v.epochs_completed, v.keys_agreed),
                (5, true),
                "loss {loss}, timeout {timeout}, seed {seed}"
            );
            assert_eq!(d.silence, 0, "loss {loss}, timeout {timeout}, seed {seed}: no false failure");
        }
    }
}

/// A day-long round timeout with a dead member used to send 325 M
/// retransmissions over 864,000 virtual seconds. With exponential backoff
/// capped at a 64th of the horizon, a payload to the dead member is resent
/// some 70 times, so the run sends a few hundred messages.
#[test]
fn a_huge_round_timeout_backs_off() {
    let text = bundled_with("crash-no-replacement", "protocol", "round_timeout_ms = 86400000");
    let (outcome, _) = run_counting(&scenario(&text));
    assert_eq!(outcome.verdict.epochs_completed, 1);
    assert!(outcome.verdict.stall.is_some(), "still the stalled verdict of the bundled scenario");
    assert!(outcome.messages_sent < 2_000, "{} messages sent", outcome.messages_sent);
    assert!(outcome.sim_time_us > 800_000_000_000, "the run lasts the whole horizon");
}

/// A `wire` finding on a run that derived no key at all does not claim the
/// keys diverge.
#[test]
fn the_wire_finding_does_not_claim_a_divergence_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    // A crash during initialisation stalls before any key; the tamperer
    // still moves.
    let text = "name = \"t\"\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = 3\ninit = \"ring\"\n\
                keygen = \"additive\"\nepochs = 2\n[[fault]]\nkind = \"crash\"\nmember = 2\n\
                at_ms = 1\n[[adversary]]\nkind = \"tamper\"\nprobability = 0.3\n";
    let file = dir.path().join("t.toml");
    std::fs::write(&file, text).unwrap();
    let out = fraclab(&["run", file.to_str().unwrap(), "--out", "o", "--quiet"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let summary = std::fs::read_to_string(Path::new(dir.path()).join("o/summary.json")).unwrap();
    assert!(summary.contains("\"kind\": \"wire\""), "{summary}");
    assert!(!summary.contains("the keys diverge"), "{summary}");
}

/// Every example command in the README that writes a folder writes it under
/// `out/` (ignored by git) or names a scratch folder, never into the
/// committed gallery: the README's sweep example used to collide with
/// `results/baseline-ring-sweep`, and its atlas example rewrote
/// `results/atlas`.
#[test]
fn readme_examples_leave_the_checkout_clean() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let gitignore = std::fs::read_to_string(repo_root().join(".gitignore")).unwrap();
    assert!(gitignore.lines().any(|l| l == "/out/"), "out/ is ignored");
    let mut in_code = false;
    let mut examples = 0;
    let lines: Vec<&str> = readme.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let cmd = line.trim_start_matches("$ ");
        if !in_code || cmd.contains('[') {
            continue; // prose, or a synopsis line
        }
        // A command continued with `\` on the next line counts whole.
        let full = if cmd.ends_with('\\') { format!("{cmd} {}", lines[i + 1]) } else { cmd.to_string() };
        for writer in ["fraclab sweep ", "fraclab atlas ", "fraclab gallery"] {
            if full.starts_with(writer) && !full.starts_with("fraclab sweep merge") {
                examples += 1;
                let out = full.split("--out ").nth(1).map(|o| o.split_whitespace().next().unwrap_or(""));
                let ok = out.is_some_and(|o| o.starts_with("out/") || o.starts_with("shard-"));
                assert!(ok, "README line {}: `{full}` must write under out/", i + 1);
            }
        }
    }
    assert!(examples >= 2, "the sweep and atlas examples were found");
}

/// A loss so high that the run would need more than 10^9 events is refused
/// at load, at `network.loss`, and nothing is written.
#[test]
fn a_loss_beyond_the_event_limit_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_root().join("scenarios/lossy-network.toml"))
        .unwrap()
        .replace("loss = 0.2", "loss = 0.9999999");
    let file = dir.path().join("l.toml");
    std::fs::write(&file, text).unwrap();
    let out = fraclab(&["run", file.to_str().unwrap(), "--out", "o"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("l.toml:18:8: network.loss:") && err.contains("over the limit"), "{err}");
    assert!(!dir.path().join("o").exists(), "nothing written");
}

/// `fraclab sweep` locates a scenario that is not UTF-8, as `run` does.
#[test]
fn sweep_locates_a_scenario_that_is_not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, b"name = \"t\"\ndescription = \"\xff\"\n").unwrap();
    let out = fraclab(&["sweep", file.to_str().unwrap(), "--seeds", "1", "--out", "o"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.toml:2:"), "{}", stderr(&out));
    assert!(!dir.path().join("o").exists());
}
