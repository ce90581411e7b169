//! `fraclab verify-trace`: independent re-checking of traces.

use std::fs;
use std::io::BufReader;

use fraclab::adversary::{Adversary, WireAttack};
use fraclab::lab::execute;
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
        let dir = tmp.path().join(sc.name());
        let report = execute(&sc, sc.trace(), Some(&dir)).unwrap();
        let completed = report.summary.epochs_completed;
        let f = fs::File::open(dir.join("trace.jsonl")).unwrap();
        // A cheater's values, and tampered or forged payloads that members
        // took on an unsealed channel, break the invariants the trace shows.
        let cheats = sc.adversaries().list.iter().any(|a| match a {
            Adversary::Cheat { .. } | Adversary::SmCheat { .. } => true,
            Adversary::Wire(w) => w.attack != WireAttack::Replay && sc.channel() != Channel::Sealed,
            _ => false,
        });
        if cheats {
            let e = verify(BufReader::new(f)).expect_err(sc.name());
            assert!(matches!(e, VerifyError::Violation { .. }), "{}: {e}", sc.name());
            continue;
        }
        let checked = verify(BufReader::new(f)).unwrap_or_else(|e| panic!("{}: {e}", sc.name()));
        if checked.keys == 0 {
            // Stalled before θ_1 (a crash during initialisation): nothing to check but the messages.
            assert!(completed == 0 && report.summary.stalled.is_some(), "{}: {checked:?}", sc.name());
            continue;
        }
        assert!(checked.i1_epochs == completed + 1, "{}: {checked:?}", sc.name());
        if !checked.without_messages {
            assert!(
                checked.hfk_messages >= completed * u64::from(sc.members()) * u64::from(sc.members() - 1)
            );
        }
    }
}

fn baseline_trace() -> String {
    let tmp = tempfile::tempdir().unwrap();
    let sc = scenario::load(&repo_root().join("scenarios/baseline-sm.toml")).unwrap();
    execute(&sc, sc.trace(), Some(tmp.path())).unwrap();
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
        Err(VerifyError::Violation { seq: s, message, .. }) => {
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
    execute(&sc, sc.trace(), Some(tmp.path())).unwrap();
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
        if level == "full" {
            let last = ev.len() - 1;
            for (k, e) in ev.iter_mut().enumerate().take(last).skip(1) {
                e["seq"] = (k as u64 - 1).into();
            }
        }
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

// Regressions of issue 12 ("verify-trace accepts corrupted traces"): every
// reproducer of the issue, each rejected as a violation naming its line.

fn verdict(events: &[serde_json::Value]) -> Result<fraclab::report::verify::Checked, VerifyError> {
    verify(BufReader::new(render(events).as_bytes()))
}

/// The trace is rejected with a violation at line `line` (1-based, the
/// header is line 1), and no panic.
fn assert_rejected_at_line(events: &[serde_json::Value], line: usize, what: &str) {
    match verdict(events) {
        Err(VerifyError::Violation { line: l, .. }) => assert_eq!(l, line, "{what}"),
        other => panic!("{what}: expected a violation at line {line}, got {other:?}"),
    }
}

fn flip_hex(s: &str) -> String {
    let last = s.chars().last().unwrap();
    let to = if last == '0' { '1' } else { '0' };
    format!("{}{to}", &s[..s.len() - 1])
}

fn line_of(ev: &[serde_json::Value], pred: impl Fn(&serde_json::Value) -> bool) -> usize {
    ev.iter().position(pred).unwrap_or_else(|| panic!("no such line"))
}

/// Recovery values: the recovery ring's δ′, a survivor's w, the
/// replacement's γ′ and a re-recorded α are all checked.
#[test]
fn rejects_altered_recovery_values() {
    let ev = trace_of("crash-recover.toml");
    assert!(verdict(&ev).is_ok());
    let replaced = ev.iter().find(|e| e["type"] == "replace").unwrap()["member"].as_u64().unwrap();
    type Pick = Box<dyn Fn(&serde_json::Value) -> bool>;
    let cases: Vec<(&str, Pick)> = vec![
        ("mode-R delta", Box::new(|e| e["type"] == "send" && e["kind"] == "delta" && e["mode"] == "R")),
        ("w", Box::new(|e| e["type"] == "secret" && e["name"] == "w")),
        (
            "gamma'",
            Box::new(move |e| e["type"] == "secret" && e["name"] == "gamma" && e["member"] == replaced),
        ),
        ("xi", Box::new(|e| e["type"] == "secret" && e["name"] == "xi")),
        ("beta", Box::new(|e| e["type"] == "secret" && e["name"] == "beta")),
    ];
    for (what, pred) in cases {
        let i = line_of(&ev, pred);
        let mut t = ev.clone();
        t[i]["value"] = flip_hex(t[i]["value"].as_str().unwrap()).into();
        match verdict(&t) {
            Err(VerifyError::Violation { .. }) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
    // The replacement's re-recorded α differs from the original.
    let replace_at = line_of(&ev, |e| e["type"] == "replace");
    let i = (replace_at..ev.len())
        .find(|&i| ev[i]["type"] == "secret" && ev[i]["name"] == "alpha" && ev[i]["member"] == replaced)
        .unwrap();
    let mut t = ev.clone();
    t[i]["value"] = flip_hex(t[i]["value"].as_str().unwrap()).into();
    assert_rejected_at_line(&t, i + 1, "re-recorded alpha");
}

/// A send of an unknown kind is a violation, not a skipped payload.
#[test]
fn rejects_unknown_message_kinds() {
    let ev = trace_of("baseline-sm.toml");
    let i = line_of(&ev, |e| e["type"] == "send" && e["kind"] == "hfk");
    for kind in ["hfkx", "", "G"] {
        let mut t = ev.clone();
        t[i]["kind"] = kind.into();
        assert_rejected_at_line(&t, i + 1, kind);
    }
}

/// Learn views are re-decided: every view set to "outsider" or to 99 is
/// refused, as is a learn by a view that owns the secret.
#[test]
fn rejects_rewritten_learn_views() {
    let ev = trace_of("fractional-attack-n3.toml");
    let checked = verdict(&ev).unwrap();
    assert!(checked.learns_redecided > 0 && checked.learns_redecided == checked.learns, "{checked:?}");
    for view in [
        serde_json::json!("outsider"),
        serde_json::json!(99),
        serde_json::json!(0),
        serde_json::json!([1, 1]),
    ] {
        let mut t = ev.clone();
        for e in t.iter_mut().filter(|e| e["type"] == "learn") {
            e["view"] = view.clone();
        }
        assert!(matches!(verdict(&t), Err(VerifyError::Violation { .. })), "view {view}");
    }
    // One learn's view changed to the target's owner.
    let i = line_of(&ev, |e| e["type"] == "learn" && e["target"].is_u64());
    let mut t = ev.clone();
    t[i]["view"] = t[i]["target"].clone();
    assert_rejected_at_line(&t, i + 1, "owner view");
    // One learn moved before the event that completes its derivation.
    let mut t = ev.clone();
    let l = t.remove(i);
    t.insert(i - 1, l);
    let (a, b) = (t[i - 1]["seq"].clone(), t[i]["seq"].clone());
    t[i - 1]["seq"] = b;
    t[i]["seq"] = a;
    assert!(matches!(verdict(&t), Err(VerifyError::Violation { .. })), "moved learn");
}

/// A leak's recipients are what the learns rest on: the pad leaked to the
/// group, rewritten as leaked to the outsider, leaves the members' claims
/// underivable.
#[test]
fn rejects_learns_whose_leak_went_elsewhere() {
    let mut ev = trace_of("fractional-attack-n3.toml");
    let i = line_of(&ev, |e| e["type"] == "leak");
    assert_eq!(ev[i]["to"], "group");
    ev[i]["to"] = "outsider".into();
    assert!(matches!(verdict(&ev), Err(VerifyError::Violation { .. })));
}

/// Deliveries and drops are matched to their messages.
#[test]
fn rejects_forged_deliveries_and_drops() {
    let ev = trace_of("baseline-sm.toml");
    // Every deliver turned into a drop for a cosmic ray.
    let mut t = ev.clone();
    for e in t.iter_mut().filter(|e| e["type"] == "deliver") {
        let (ty, t_us, seq, msg) = (e["type"].clone(), e["t_us"].clone(), e["seq"].clone(), e["msg"].clone());
        let _ = ty;
        *e =
            serde_json::json!({"type": "drop", "t_us": t_us, "seq": seq, "msg": msg, "reason": "cosmic-ray"});
    }
    assert!(matches!(verdict(&t), Err(VerifyError::Violation { .. })));
    // One payload's delivery turned into a partition drop: its ack then
    // acknowledges a message never delivered.
    let i = line_of(&ev, |e| e["type"] == "deliver" && e["to"] != 0);
    let msg = ev[i]["msg"].clone();
    let sent = ev.iter().find(|e| e["type"] == "send" && e["msg"] == msg).unwrap();
    assert_ne!(sent["kind"], "ack");
    let mut t = ev.clone();
    t[i] = serde_json::json!({"type": "drop", "t_us": ev[i]["t_us"], "seq": ev[i]["seq"], "msg": msg, "reason": "partition"});
    assert!(matches!(verdict(&t), Err(VerifyError::Violation { .. })));
    // A delivery to another party, of a message never sent, and before its send.
    for (what, field, value) in [
        ("recipient", "to", serde_json::json!(if ev[i]["to"] == 1 { 2 } else { 1 })),
        ("msg", "msg", serde_json::json!(1_000_000)),
    ] {
        let mut t = ev.clone();
        t[i][field] = value;
        assert_rejected_at_line(&t, i + 1, what);
    }
    let j = line_of(&ev, |e| e["type"] == "send" && e["msg"] == msg);
    let mut t = ev.clone();
    let d = t.remove(i);
    t.insert(j, d);
    for (k, e) in t.iter_mut().enumerate().skip(1) {
        if e["type"] != "footer" {
            e["seq"] = (k as u64 - 1).into();
        }
    }
    assert!(matches!(verdict(&t), Err(VerifyError::Violation { .. })), "deliver before its send");
}

/// The header is checked against the body.
#[test]
fn rejects_a_header_that_misstates_the_body() {
    let ev = trace_of("baseline-ring.toml");
    assert!(verdict(&ev).is_ok());
    for (key, value) in [
        ("init", serde_json::json!("sm")),
        ("init", serde_json::json!("ring-hardened")),
        ("epochs", serde_json::json!(9)),
        ("epochs", serde_json::json!(4)),
        ("trace", serde_json::json!("protocol")),
        ("keygen", serde_json::json!("elgamal")),
        ("members", serde_json::json!(7)),
        ("members", serde_json::json!(5)),
    ] {
        let mut t = ev.clone();
        t[0][key] = value.clone();
        assert!(
            matches!(verdict(&t), Err(VerifyError::Violation { .. } | VerifyError::Malformed { .. })),
            "{key} = {value}"
        );
    }
    // A header without its `trace` field is not a fraclab-trace/1 header.
    let mut t = ev.clone();
    t[0].as_object_mut().unwrap().remove("trace");
    assert!(matches!(verdict(&t), Err(VerifyError::Malformed { line: 1, .. })));
}

/// Send metadata is checked on every kind: missing, mistyped or 2^64
/// values, and an ack's value.
#[test]
fn rejects_bad_send_metadata_on_every_kind() {
    let ev = trace_of("elgamal-baseline.toml");
    for kind in ["ack", "hfk", "fk_pub", "confirm"] {
        let i = line_of(&ev, |e| e["type"] == "send" && e["kind"] == kind);
        for key in ["msg", "mode", "sender_seq", "attempt", "from", "to", "iter"] {
            for bad in [
                None,
                Some(serde_json::json!("1")),
                Some(serde_json::json!(18446744073709551616.0)),
                Some(serde_json::json!(-1)),
            ] {
                let mut t = ev.clone();
                match &bad {
                    None => {
                        t[i].as_object_mut().unwrap().remove(key);
                    }
                    Some(b) => t[i][key] = b.clone(),
                }
                assert_rejected_at_line(&t, i + 1, &format!("{kind}.{key} = {bad:?}"));
            }
        }
    }
    let i = line_of(&ev, |e| e["type"] == "send" && e["kind"] == "ack");
    let mut t = ev.clone();
    t[i]["value"] = (t[i]["value"].as_u64().unwrap() + 1).into();
    assert_rejected_at_line(&t, i + 1, "ack value");
}

/// Crafted values that overflowed the arithmetic are violations.
#[test]
fn rejects_crafted_overflowing_values() {
    let sm = trace_of("baseline-sm.toml");
    let ring = trace_of("baseline-ring.toml");
    let rec = trace_of("crash-recover.toml");
    let d = line_of(&ring, |e| e["type"] == "secret" && e["name"] == "delta");
    let mut t = ring.clone();
    t[d]["member"] = 0.into();
    assert_rejected_at_line(&t, d + 1, "delta member 0");
    let th = line_of(&sm, |e| e["type"] == "theta");
    let mut t = sm.clone();
    t[th]["epoch"] = 0.into();
    assert_rejected_at_line(&t, th + 1, "theta epoch 0");
    let r = line_of(&rec, |e| e["type"] == "send" && e["kind"] == "recover");
    let mut t = rec.clone();
    t[r]["iter"] = u64::MAX.into();
    assert_rejected_at_line(&t, r + 1, "recover iter 2^64 - 1");
    for (what, key) in [("member", "member"), ("epoch", "epoch")] {
        let mut t = sm.clone();
        t[th][key] = u64::MAX.into();
        assert_rejected_at_line(&t, th + 1, what);
    }
}

/// The records of one derivation may come in any order within their step:
/// θ_2 before α_{1,2} is accepted.
#[test]
fn accepts_theta_before_its_pad_in_the_same_step() {
    let ev = trace_of("baseline-sm.toml");
    let a = line_of(&ev, |e| {
        e["type"] == "secret" && e["name"] == "alpha" && e["member"] == 1 && e["index"] == 2
    });
    let th = line_of(&ev, |e| e["type"] == "theta" && e["member"] == 1 && e["epoch"] == 2);
    assert!(a < th && ev[a]["t_us"] == ev[th]["t_us"], "the test needs both in one step");
    let mut t = ev.clone();
    let theta = t.remove(th);
    t.insert(a, theta);
    for (k, e) in t.iter_mut().enumerate().skip(1) {
        if e["type"] != "footer" {
            e["seq"] = (k as u64 - 1).into();
        }
    }
    verdict(&t).unwrap_or_else(|e| panic!("{e}"));
    // Across steps the order still matters: θ_2 moved before the first
    // FK_{·,1} it sums.
    let mut t = ev.clone();
    let mut theta = t.remove(th);
    let fk = line_of(&t, |e| e["type"] == "secret" && e["name"] == "fk" && e["index"] == 1);
    theta["t_us"] = t[fk - 1]["t_us"].clone();
    t.insert(fk, theta);
    for (k, e) in t.iter_mut().enumerate().skip(1) {
        if e["type"] != "footer" {
            e["seq"] = (k as u64 - 1).into();
        }
    }
    assert!(matches!(verdict(&t), Err(VerifyError::Violation { .. })));
}

/// The report says what was checked: messages at level full, "not checked"
/// only when the trace has no send events.
#[test]
fn report_states_what_it_checked() {
    let ev = trace_of("baseline-sm.toml");
    let full = verdict(&ev).unwrap();
    let text = full.to_string();
    assert!(!full.without_messages && full.acks > 0 && full.fates > 0, "{full:?}");
    assert!(text.contains("HFK = α + FK:") && !text.contains("not checked"), "{text}");
    let mut p = ev.clone();
    p.retain(|e| !matches!(e["type"].as_str(), Some("send" | "deliver" | "drop")));
    p[0]["trace"] = "protocol".into();
    let n = p.len() as u64 - 2;
    *p.last_mut().unwrap() = serde_json::json!({"type": "footer", "events": n});
    let proto = verdict(&p).unwrap();
    assert!(proto.without_messages);
    assert!(proto.to_string().contains("not checked (the trace has no send events)"));
    let learns = verdict(&trace_of("fractional-attack-n3.toml")).unwrap().to_string();
    assert!(learns.contains("40 re-decided / 0 not re-decidable"), "{learns}");
}

/// Every line is read through the typed schema with exactly the keys the
/// writer writes: an unknown key, a missing optional one (which serde alone
/// would read as null), a mistyped value and a payload of the wrong shape
/// are each a violation at their line that names the key and what was
/// expected; the footer's are malformed-trace errors.
#[test]
fn refuses_keys_the_writer_does_not_write() {
    let sm = trace_of("baseline-sm.toml");
    let pad = line_of(&sm, |e| e["type"] == "send" && e["kind"] == "pad");
    let deliver = line_of(&sm, |e| e["type"] == "deliver");
    let commits = trace_of("dlog-toy-commitments.toml");
    let ring_commit = line_of(&commits, |e| e["type"] == "send" && e["kind"] == "commit" && e["from"] != 0);
    let tamper = trace_of("plain-tamper.toml");
    let attack = line_of(&tamper, |e| e["type"] == "attack");
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&[serde_json::Value], usize, Edit, &str)> = vec![
        (&sm, pad, Box::new(|e| e["extra"] = 1.into()), "unknown field `extra`"),
        (&sm, pad, Box::new(|e| e["value"]["zzz"] = 1.into()), "unknown field `zzz`"),
        (
            &sm,
            pad,
            Box::new(|e| {
                e["value"].as_object_mut().unwrap().remove("alpha");
            }),
            "`value`: missing field `alpha`",
        ),
        (&sm, pad, Box::new(|e| e["value"] = serde_json::json!([1])), "the `pad` value is not an object"),
        (&sm, pad, Box::new(|e| e["value"] = 5.into()), "the `pad` value is not an object"),
        (&sm, pad, Box::new(|e| e["msg"] = "1".into()), "`msg`: invalid type: string \"1\", expected u64"),
        (&sm, deliver, Box::new(|e| e["duplicate"] = false.into()), "`duplicate` is written only as true"),
        (
            &commits,
            ring_commit,
            Box::new(|e| {
                e["value"].as_object_mut().unwrap().remove("gamma");
            }),
            "missing field `value.gamma`",
        ),
        (
            &tamper,
            attack,
            Box::new(|e| {
                e.as_object_mut().unwrap().remove("of");
            }),
            "missing field `of`",
        ),
    ];
    for (trace, i, edit, want) in cases {
        let mut t = trace.to_vec();
        edit(&mut t[i]);
        match verdict(&t) {
            Err(e @ VerifyError::Violation { line, .. }) => {
                assert_eq!(line, i + 1, "{want}: {e}");
                let text = e.to_string();
                assert!(
                    text.starts_with(&format!("line {}: ", i + 1)) && text.contains(want),
                    "{want}: {text}"
                );
            }
            other => panic!("{want}: {other:?}"),
        }
    }
    let mut t = sm.clone();
    let last = t.len() - 1;
    t[last]["seq"] = 5.into();
    match verdict(&t) {
        Err(VerifyError::Malformed { line, message }) => {
            assert_eq!((line, message.as_str()), (last + 1, "unknown field `seq`"));
        }
        other => panic!("footer with a seq: {other:?}"),
    }
}
