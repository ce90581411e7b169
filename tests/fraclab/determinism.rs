//! reference §8: same scenario and seed ⇒ the same bytes.

use std::fs;

use fraclab::lab::execute;
use fraclab::scenario::{self, TraceLevel};
use sha2::{Digest, Sha256};

use crate::harness::repo_root;

fn run_to(dir: &std::path::Path, file: &str, seed: Option<u64>) -> (Vec<u8>, Vec<u8>) {
    let mut sc = scenario::load(&repo_root().join("scenarios").join(file)).unwrap();
    if let Some(s) = seed {
        sc.set_seed(s);
    }
    execute(&sc, sc.trace(), Some(dir)).unwrap();
    (fs::read(dir.join("trace.jsonl")).unwrap(), fs::read(dir.join("summary.json")).unwrap())
}

/// The same scenario and seed twice gives byte-identical trace and summary;
/// another seed gives a different trace.
#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    for file in ["baseline-sm.toml", "lossy-network.toml", "sealed-replay.toml", "sealed-tamper.toml"] {
        let a = run_to(&tmp.path().join("a"), file, None);
        let b = run_to(&tmp.path().join("b"), file, None);
        assert!(a.0 == b.0, "{file}: traces differ");
        assert!(a.1 == b.1, "{file}: summaries differ");
        let c = run_to(&tmp.path().join("c"), file, Some(999));
        assert!(a.0 != c.0, "{file}: another seed gave the same trace");
    }
}

/// The golden hash pins the trace format: any change to what a trace says
/// or how it says it must be a conscious decision (bump this hash, and the
/// format version and README if the format changed).
#[test]
fn golden_trace_hash_of_baseline_sm() {
    let tmp = tempfile::tempdir().unwrap();
    let (trace, summary) = run_to(tmp.path(), "baseline-sm.toml", None);
    let sha = hex::encode(Sha256::digest(&trace));
    assert_eq!(sha, GOLDEN_BASELINE_SM);
    // The summary's trace_sha256 was computed while writing and matches.
    let summary: serde_json::Value = serde_json::from_slice(&summary).unwrap();
    assert_eq!(summary["trace_sha256"], sha.as_str());
}

const GOLDEN_BASELINE_SM: &str = "f7e87e202e2700878ecbf145a5a2e4fc873fbf081f88a27919fa7051e751c2dc";

/// No output depends on where or when it was produced: no wall clock, path
/// or host name reaches the trace or the summary.
#[test]
fn outputs_carry_no_path_host_or_wall_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let (trace, summary) = run_to(tmp.path(), "baseline-ring.toml", None);
    let all = [trace, summary].concat();
    let text = String::from_utf8(all).unwrap();
    let tmp_name = tmp.path().to_string_lossy();
    assert!(!text.contains(tmp_name.as_ref()));
    assert!(!text.contains("scenarios/") && !text.contains(repo_root().to_string_lossy().as_ref()));
    if let Ok(host) = fs::read_to_string("/etc/hostname") {
        let host = host.trim();
        assert!(host.len() < 4 || !text.contains(host), "host name {host} in the output");
    }
    // No calendar date or clock time anywhere: no "YYYY-MM-DD" or "HH:MM:SS".
    let bytes = text.as_bytes();
    let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    for i in 0..bytes.len() {
        let date = (0..4).all(|k| digit(i + k))
            && bytes.get(i + 4) == Some(&b'-')
            && digit(i + 5)
            && digit(i + 6)
            && bytes.get(i + 7) == Some(&b'-');
        let clock = digit(i)
            && digit(i + 1)
            && bytes.get(i + 2) == Some(&b':')
            && digit(i + 3)
            && digit(i + 4)
            && bytes.get(i + 5) == Some(&b':');
        assert!(
            !date && !clock,
            "a date or time at byte {i}: {}",
            &text[i.saturating_sub(20)..(i + 20).min(text.len())]
        );
    }
}

/// An event has the same `seq` at every trace level: the protocol-level
/// trace is exactly the full trace without send/deliver/drop lines.
#[test]
fn seq_is_the_same_at_every_trace_level() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = scenario::load(&repo_root().join("scenarios/fractional-attack-n3.toml")).unwrap();
    execute(&sc, TraceLevel::Full, Some(&tmp.path().join("full"))).unwrap();
    execute(&sc, TraceLevel::Protocol, Some(&tmp.path().join("proto"))).unwrap();
    let lines = |d: &str| -> Vec<serde_json::Value> {
        fs::read_to_string(tmp.path().join(d).join("trace.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .filter(|e: &serde_json::Value| !matches!(e["type"].as_str(), Some("header" | "footer")))
            .collect()
    };
    let full: Vec<_> = lines("full")
        .into_iter()
        .filter(|e| !matches!(e["type"].as_str(), Some("send" | "deliver" | "drop")))
        .collect();
    let proto = lines("proto");
    assert!(proto.len() > 100);
    assert_eq!(full, proto);
}

/// Writing the trace at level none or into nowhere does not change the run:
/// the summary (apart from the trace fields) is the same at every level, and
/// the in-memory trace hash equals the written file's.
#[test]
fn trace_level_changes_only_the_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = scenario::load(&repo_root().join("scenarios/baseline-ring.toml")).unwrap();
    let full = execute(&sc, TraceLevel::Full, Some(tmp.path())).unwrap();
    let memory = execute(&sc, TraceLevel::Full, None).unwrap();
    let none = execute(&sc, TraceLevel::None, None).unwrap();
    let proto = execute(&sc, TraceLevel::Protocol, None).unwrap();
    assert_eq!(full.summary.trace_sha256, memory.summary.trace_sha256);
    assert_eq!(none.summary.trace_sha256, None);
    assert_ne!(proto.summary.trace_sha256, full.summary.trace_sha256);
    assert_eq!(full.sim, none.sim);
    assert_eq!(full.sim, proto.sim);
}

/// Adversaries and the two-pass analysis keep runs byte-identical, and the
/// trace's learn events are exactly the summary's learn findings, at the same
/// seq.
#[test]
fn attack_runs_are_deterministic_and_learns_match_findings() {
    let tmp = tempfile::tempdir().unwrap();
    for file in ["fractional-attack-n3.toml", "ring-hardened-collusion.toml", "theta-leak-outsider.toml"] {
        let a = run_to(&tmp.path().join("a"), file, None);
        let b = run_to(&tmp.path().join("b"), file, None);
        assert!(a.0 == b.0 && a.1 == b.1, "{file}: outputs differ between two runs");
        let trace = String::from_utf8(a.0).unwrap();
        let summary: serde_json::Value = serde_json::from_slice(&a.1).unwrap();
        let mut from_trace: Vec<(u64, String)> = trace
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|e| e["type"] == "learn")
            .map(|e| (e["seq"].as_u64().unwrap(), format!("{}:{}[{}]", e["view"], e["name"], e["index"])))
            .collect();
        let mut from_summary: Vec<(u64, String)> = summary["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "learn")
            .map(|f| (f["seq"].as_u64().unwrap(), format!("{}:{}[{}]", f["view"], f["name"], f["index"])))
            .collect();
        from_trace.sort();
        from_summary.sort();
        assert_eq!(from_trace, from_summary, "{file}");
        assert!(!from_trace.is_empty() || file.starts_with("ring-hardened"), "{file}");
    }
}
