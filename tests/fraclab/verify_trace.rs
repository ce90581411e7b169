//! `fraclab verify-trace`: independent re-checking of traces.

use std::fs;
use std::io::BufReader;

use fraclab::report::execute;
use fraclab::report::verify::{VerifyError, verify};
use fraclab::scenario;

use crate::harness::repo_root;

fn bundled() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = fs::read_dir(repo_root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    assert!(v.len() >= 4);
    v
}

/// Every bundled scenario's trace passes verification.
#[test]
fn accepts_every_bundled_scenario_trace() {
    let tmp = tempfile::tempdir().unwrap();
    for path in bundled() {
        let sc = scenario::load(&path).unwrap();
        let dir = tmp.path().join(&sc.name);
        execute(&sc, sc.trace, Some(&dir)).unwrap();
        let f = fs::File::open(dir.join("trace.jsonl")).unwrap();
        let checked = verify(BufReader::new(f)).unwrap_or_else(|e| panic!("{}: {e}", sc.name));
        assert!(checked.keys > 0 && checked.i1_epochs == sc.epochs + 1, "{}: {checked:?}", sc.name);
        if !checked.without_messages {
            assert!(checked.hfk_messages >= sc.epochs * u64::from(sc.members) * u64::from(sc.members - 1));
        }
    }
}

fn baseline_trace() -> String {
    let tmp = tempfile::tempdir().unwrap();
    let sc = scenario::load(&repo_root().join("scenarios/baseline-sm.toml")).unwrap();
    execute(&sc, sc.trace, Some(tmp.path())).unwrap();
    fs::read_to_string(tmp.path().join("trace.jsonl")).unwrap()
}

/// Altering one HFK in flight is caught, and the violation names the
/// altered event's seq.
#[test]
fn rejects_an_altered_hfk_naming_its_seq() {
    let trace = baseline_trace();
    let mut lines: Vec<String> = trace.lines().map(str::to_string).collect();
    let hfks: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].contains("\"kind\":\"hfk\"")).collect();
    let victim = hfks[hfks.len() / 2];
    let mut ev: serde_json::Value = serde_json::from_str(&lines[victim]).unwrap();
    let seq = ev["seq"].as_u64().unwrap();
    let old = ev["value"].as_str().unwrap().to_string();
    let last = old.chars().last().unwrap();
    let new = format!("{}{}", &old[..old.len() - 1], if last == '0' { '1' } else { '0' });
    ev["value"] = new.into();
    lines[victim] = serde_json::to_string(&ev).unwrap();
    let tampered = lines.join("\n") + "\n";
    match verify(BufReader::new(tampered.as_bytes())) {
        Err(VerifyError::Violation { seq: s, message }) => {
            assert_eq!(s, seq);
            assert!(message.contains("HFK"), "{message}");
        }
        other => panic!("expected a violation at seq {seq}, got {other:?}"),
    }
    assert!(verify(BufReader::new(trace.as_bytes())).is_ok(), "the untouched trace passes");
}

/// A changed θ or key, and a truncated trace, are each rejected.
#[test]
fn rejects_altered_theta_keys_and_truncation() {
    let trace = baseline_trace();
    let tamper = |kind: &str, field: &str| {
        let mut lines: Vec<String> = trace.lines().map(str::to_string).collect();
        let i = lines.iter().rposition(|l| l.contains(&format!("\"type\":\"{kind}\""))).unwrap();
        let mut ev: serde_json::Value = serde_json::from_str(&lines[i]).unwrap();
        let v = ev[field].as_str().unwrap().to_string();
        ev[field] = format!("{}{}", if v.starts_with('0') { '1' } else { '0' }, &v[1..]).into();
        let seq = ev["seq"].as_u64().unwrap();
        lines[i] = serde_json::to_string(&ev).unwrap();
        (lines.join("\n") + "\n", seq)
    };
    for (kind, field) in [("theta", "value"), ("key", "sk")] {
        let (t, seq) = tamper(kind, field);
        match verify(BufReader::new(t.as_bytes())) {
            Err(VerifyError::Violation { seq: s, .. }) => assert_eq!(s, seq, "{kind}"),
            other => panic!("{kind}: expected a violation, got {other:?}"),
        }
    }
    let cut: String = trace.lines().take(100).map(|l| format!("{l}\n")).collect();
    assert!(matches!(verify(BufReader::new(cut.as_bytes())), Err(VerifyError::Malformed { .. })));
}
