//! `fraclab verify-trace`: independent re-checking of traces.

use std::fs;
use std::io::BufReader;

use fraclab::adversary::{Adversary, WireAttack};
use fraclab::report::execute;
use fraclab::report::verify::{VerifyError, verify};
use fraclab::scenario::{self, Channel};

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

/// Every bundled scenario's trace passes verification, except those with a
/// cheater: there the trace itself shows the forged value, and verify-trace
/// stops at it (whether or not the run's own verification caught it).
#[test]
fn accepts_every_bundled_scenario_trace() {
    let tmp = tempfile::tempdir().unwrap();
    for path in bundled() {
        let sc = scenario::load(&path).unwrap();
        let dir = tmp.path().join(&sc.name);
        let report = execute(&sc, sc.trace, Some(&dir)).unwrap();
        let completed = report.summary.epochs_completed;
        let f = fs::File::open(dir.join("trace.jsonl")).unwrap();
        // A cheater's values, and tampered or forged payloads that members
        // took on an unsealed channel, break the invariants the trace shows.
        let cheats = sc.adversaries.list.iter().any(|a| match a {
            Adversary::Cheat { .. } | Adversary::SmCheat { .. } => true,
            Adversary::Wire(w) => w.attack != WireAttack::Replay && sc.channel != Channel::Sealed,
            _ => false,
        });
        if cheats {
            let e = verify(BufReader::new(f)).expect_err(&sc.name);
            assert!(matches!(e, VerifyError::Violation { .. }), "{}: {e}", sc.name);
            continue;
        }
        let checked = verify(BufReader::new(f)).unwrap_or_else(|e| panic!("{}: {e}", sc.name));
        assert!(checked.keys > 0 && checked.i1_epochs == completed + 1, "{}: {checked:?}", sc.name);
        if !checked.without_messages {
            assert!(checked.hfk_messages >= completed * u64::from(sc.members) * u64::from(sc.members - 1));
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

fn trace_of(file: &str) -> Vec<serde_json::Value> {
    let tmp = tempfile::tempdir().unwrap();
    let sc = scenario::load(&repo_root().join("scenarios").join(file)).unwrap();
    execute(&sc, sc.trace, Some(tmp.path())).unwrap();
    fs::read_to_string(tmp.path().join("trace.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn render(events: &[serde_json::Value]) -> String {
    events.iter().map(|e| serde_json::to_string(e).unwrap() + "\n").collect()
}

/// Adds `delta` (a small number) to a hex scalar of `g`, keeping its width.
fn bump(g: &fraclab::group::GroupParams, hex: &str, delta: i64) -> String {
    let a = g.scalar_from_hex(hex).unwrap();
    g.scalar_hex(&g.add(&a, &g.mul_i64(&g.scalar_from_u64(1), delta)))
}

fn rejected_at(events: &[serde_json::Value]) -> Result<u64, String> {
    match verify(BufReader::new(render(events).as_bytes())) {
        Err(VerifyError::Violation { seq, .. }) => Ok(seq),
        other => Err(format!("{other:?}")),
    }
}

/// Shifting value between two members' pads of the last epoch keeps I1 and
/// touches no HFK; the pad rule α = θ − FK still catches it, at the α event.
#[test]
fn rejects_pads_shifted_between_members() {
    let g = fraclab::group::by_name("toy-64").unwrap();
    for level in ["full", "protocol"] {
        let mut ev = trace_of("baseline-sm.toml");
        if level == "protocol" {
            ev.retain(|e| !matches!(e["type"].as_str(), Some("send" | "deliver" | "drop")));
            ev[0]["trace"] = "protocol".into();
            let n = ev.len() as u64 - 2;
            *ev.last_mut().unwrap() = serde_json::json!({"type": "footer", "events": n});
        }
        let last_alpha = |m: u64| {
            ev.iter()
                .rposition(|e| e["type"] == "secret" && e["name"] == "alpha" && e["member"] == m)
                .unwrap()
        };
        let (a1, a2) = (last_alpha(1), last_alpha(2));
        let seq1 = ev[a1]["seq"].as_u64().unwrap();
        ev[a1]["value"] = bump(g, ev[a1]["value"].as_str().unwrap(), 5).into();
        ev[a2]["value"] = bump(g, ev[a2]["value"].as_str().unwrap(), -5).into();
        assert_eq!(rejected_at(&ev), Ok(seq1), "level {level}");
    }
}

/// The ring's init secrets and messages are checked: a changed v or δ breaks
/// the δ chain; a changed θ_1 message is caught as the wrong payload.
#[test]
fn rejects_a_broken_ring() {
    let g = fraclab::group::by_name("toy-64").unwrap();
    let ev = trace_of("baseline-ring.toml");
    let find = |pred: &dyn Fn(&serde_json::Value) -> bool| ev.iter().position(pred).unwrap();
    // v_3 changed: δ_3 no longer equals δ_2 + v_3.
    let mut t = ev.clone();
    let i = find(&|e| e["type"] == "secret" && e["name"] == "v" && e["member"] == 3);
    t[i]["value"] = bump(g, t[i]["value"].as_str().unwrap(), 1).into();
    let delta3 = find(&|e| e["type"] == "secret" && e["name"] == "delta" && e["member"] == 3);
    assert_eq!(rejected_at(&t), Ok(ev[delta3]["seq"].as_u64().unwrap()));
    // The GI's θ_1 message to member 4 altered in flight.
    let mut t = ev.clone();
    let i = find(&|e| e["type"] == "send" && e["kind"] == "theta" && e["to"] == 4);
    t[i]["value"] = bump(g, t[i]["value"].as_str().unwrap(), 1).into();
    assert_eq!(rejected_at(&t), Ok(ev[i]["seq"].as_u64().unwrap()));
    // A confirmation tag altered.
    let mut t = ev.clone();
    let i = find(&|e| e["type"] == "send" && e["kind"] == "confirm");
    let tag = t[i]["value"].as_str().unwrap().to_string();
    t[i]["value"] = format!("{}{}", if tag.starts_with('0') { "1" } else { "0" }, &tag[1..]).into();
    assert_eq!(rejected_at(&t), Ok(ev[i]["seq"].as_u64().unwrap()));
}

/// A member's last epoch deleted (footer fixed up) is rejected: by its
/// confirmation of a key it never derived in a full trace, by the
/// completeness check at a protocol-level one. Lines after the footer are
/// rejected too.
#[test]
fn rejects_a_missing_epoch_and_content_after_the_footer() {
    for level in ["full", "protocol"] {
        let mut ev = trace_of("baseline-sm.toml");
        if level == "protocol" {
            ev.retain(|e| !matches!(e["type"].as_str(), Some("send" | "deliver" | "drop")));
            ev[0]["trace"] = "protocol".into();
        }
        let epochs = ev[0]["epochs"].as_u64().unwrap();
        ev.retain(|e| {
            !(matches!(e["type"].as_str(), Some("theta" | "key"))
                && e["member"] == 2
                && e["epoch"] == epochs + 1)
        });
        let n = ev.len() as u64 - 2;
        *ev.last_mut().unwrap() = serde_json::json!({"type": "footer", "events": n});
        match verify(BufReader::new(render(&ev).as_bytes())) {
            Err(VerifyError::Violation { message, .. }) => {
                let why = if level == "full" {
                    "member 2 confirms SK_5 before deriving it"
                } else {
                    "member 2 never holds"
                };
                assert!(message.contains(why), "{level}: {message}");
            }
            other => panic!("{level}: {other:?}"),
        }
    }
    let good = trace_of("baseline-sm.toml");
    let extra = render(&good) + "{\"type\":\"key\"}\n";
    assert!(matches!(verify(BufReader::new(extra.as_bytes())), Err(VerifyError::Malformed { .. })));
}

/// A `learn` event states a derived value; a wrong one is rejected.
#[test]
fn rejects_a_wrong_derived_value() {
    let g = fraclab::group::by_name("toy-64").unwrap();
    let mut ev = trace_of("fractional-attack-n3.toml");
    let i = ev.iter().position(|e| e["type"] == "learn" && e["name"] == "fk").unwrap();
    let seq = ev[i]["seq"].as_u64().unwrap();
    ev[i]["value"] = bump(g, ev[i]["value"].as_str().unwrap(), 1).into();
    assert_eq!(rejected_at(&ev), Ok(seq));
}
