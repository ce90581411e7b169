//! Property tests over `verify-trace`: real traces, mutated. Two kinds of
//! property:
//! - **no panic**: whatever a line is turned into (deleted, duplicated,
//!   swapped, any value replaced by any JSON), verification returns;
//! - **detection**: each mutation family below changes the trace's meaning,
//!   and every mutation in it must be reported as a violation.
//!
//! Families that some mutations would pass, and why they are left out:
//! - `t_us` moved by a microsecond: no latency bound is in the header, so a
//!   later delivery time is as valid as the recorded one;
//! - the header's `scenario`, `scenario_sha256`, `seed`, `fraclab` and
//!   `channel`: nothing in the body depends on them (the channel only
//!   through forgery lines and the outsider's taps);
//! - a learn's view changed to an undeclared coalition, or a view on a
//!   `plain` channel or after a recovery began: the coalitions a run
//!   analyses and the eavesdropper's modes are not in the trace, and
//!   recovery views are not re-decided;
//! - a duplicate delivery, or an ack's delivery, turned into a drop: no
//!   later line depends on it.
//!
//! A bounded number of cases runs by default; `FRACLAB_FUZZ_CASES=N` runs a
//! longer campaign.

use std::fs;
use std::io::BufReader;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Value, json};

use fraclab::lab::execute;
use fraclab::report::verify::{VerifyError, verify};
use fraclab::scenario;

use crate::harness::{fuzz_config, repo_root};

/// Scenarios whose traces are fuzzed: SM and ring initialisation, a leak
/// and learns, ElGamal with public FKs, and a recovery.
const SCENARIOS: [&str; 5] =
    ["baseline-sm", "fractional-attack-n3", "ring-collusion", "elgamal-baseline", "crash-recover"];

struct Trace {
    name: &'static str,
    events: Vec<Value>,
}

fn traces() -> &'static [Trace] {
    static T: OnceLock<Vec<Trace>> = OnceLock::new();
    T.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        SCENARIOS
            .iter()
            .map(|name| {
                let sc = scenario::load(&repo_root().join("scenarios").join(format!("{name}.toml"))).unwrap();
                let dir = tmp.path().join(name);
                execute(&sc, sc.trace(), Some(&dir)).unwrap();
                let events: Vec<Value> = fs::read_to_string(dir.join("trace.jsonl"))
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                let t = Trace { name, events };
                assert!(run(&t.events).is_ok(), "{name}: the untouched trace passes");
                t
            })
            .collect()
    })
}

fn trace(name: &str) -> &'static Trace {
    traces().iter().find(|t| t.name == name).unwrap()
}

fn render(events: &[Value]) -> String {
    events.iter().map(|e| serde_json::to_string(e).unwrap() + "\n").collect()
}

fn run(events: &[Value]) -> Result<fraclab::report::verify::Checked, VerifyError> {
    verify(BufReader::new(render(events).as_bytes()))
}

/// Verifies `text`, failing the property on a panic.
fn no_panic(text: &str) -> Result<(), TestCaseError> {
    let r = catch_unwind(AssertUnwindSafe(|| verify(BufReader::new(text.as_bytes())).map(|_| ())));
    prop_assert!(r.is_ok(), "verify-trace panicked");
    Ok(())
}

fn assert_violation(events: &[Value], what: &str) -> Result<(), TestCaseError> {
    let r = catch_unwind(AssertUnwindSafe(|| run(events)));
    match r {
        Ok(Err(VerifyError::Violation { .. } | VerifyError::Malformed { .. })) => Ok(()),
        Ok(Ok(_)) => Err(TestCaseError::fail(format!("{what}: the mutated trace verified"))),
        Err(_) => Err(TestCaseError::fail(format!("{what}: verify-trace panicked"))),
    }
}

fn is_hex(s: &str) -> bool {
    s.len() >= 16 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Paths (keys and indices) of every hex string in a value.
fn hex_paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::String(s) if is_hex(s) => out.push(at.clone()),
        Value::Object(m) => {
            for (k, x) in m {
                at.push(k.clone());
                hex_paths(x, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(i.to_string());
                hex_paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn at_path<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match v {
        Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
        other => &mut other[k.as_str()],
    })
}

/// Every (line, path) of a hex value outside the header.
fn hex_sites(events: &[Value]) -> Vec<(usize, Vec<String>)> {
    let mut sites = Vec::new();
    for (i, e) in events.iter().enumerate().skip(1) {
        let mut out = Vec::new();
        hex_paths(e, &mut Vec::new(), &mut out);
        sites.extend(out.into_iter().map(|p| (i, p)));
    }
    sites
}

/// Replaces the hex digit at `pos` by a different one (`by` in 1..16).
fn flip_digit(s: &str, pos: usize, by: u8) -> String {
    let mut b = s.as_bytes().to_vec();
    let pos = pos % b.len();
    let d = (b[pos] as char).to_digit(16).unwrap() as u8;
    b[pos] = b"0123456789abcdef"[usize::from((d + by) % 16)];
    String::from_utf8(b).unwrap()
}

/// Every hex value of a smallish trace flipped once (its last digit):
/// each flip is a violation. This is the sweep, deterministic.
#[test]
fn every_single_hex_flip_is_reported() {
    let t = trace("fractional-attack-n3");
    let sites = hex_sites(&t.events);
    assert!(sites.len() > 100, "{}", sites.len());
    let mut passed = Vec::new();
    for (line, path) in &sites {
        let mut ev = t.events.clone();
        let v = at_path(&mut ev[*line], path);
        let s = v.as_str().unwrap().to_string();
        *v = flip_digit(&s, s.len() - 1, 1).into();
        if !matches!(run(&ev), Err(VerifyError::Violation { .. })) {
            passed.push(format!("line {} {}", line + 1, path.join(".")));
        }
    }
    assert!(passed.is_empty(), "{} of {} flips verified: {passed:?}", passed.len(), sites.len());
}

fn member_views(t: &Trace) -> Vec<usize> {
    (0..t.events.len()).filter(|&i| t.events[i]["type"] == "learn").collect()
}

proptest! {
    #![proptest_config(fuzz_config(256))]

    /// Any hex digit of any value (secret, payload, learn, θ, key, tag,
    /// element) changed: reported.
    #[test]
    fn hex_digit_changes_are_reported(which in 0..SCENARIOS.len(), site in any::<prop::sample::Index>(), pos in 0usize..64, by in 1u8..16) {
        let t = &traces()[which];
        let sites = hex_sites(&t.events);
        let (line, path) = &sites[site.index(sites.len())];
        let mut ev = t.events.clone();
        let v = at_path(&mut ev[*line], path);
        let s = v.as_str().unwrap().to_string();
        *v = flip_digit(&s, pos, by).into();
        assert_violation(&ev, &format!("{} line {} {}", t.name, line + 1, path.join(".")))?;
    }

    /// A learn's view rewritten to a view that cannot have made that claim.
    #[test]
    fn learn_view_changes_are_reported(which in 0usize..2, pick in any::<prop::sample::Index>(), to in 0usize..9) {
        let t = trace(["fractional-attack-n3", "ring-collusion"][which]);
        let learns = member_views(t);
        let i = learns[pick.index(learns.len())];
        let n = t.events[0]["members"].as_u64().unwrap();
        let current = t.events[i]["view"].clone();
        let candidates = [
            json!("outsider"), json!(0), json!(99), json!(n + 1), json!(""), json!([1]),
            json!("replacement:1#9"), json!(true), json!(u64::MAX),
        ];
        let mut view = candidates[to].clone();
        if view == current {
            view = json!(99);
        }
        let mut ev = t.events.clone();
        ev[i]["view"] = view.clone();
        assert_violation(&ev, &format!("{} line {} view {current} → {view}", t.name, i + 1))?;
    }

    /// A learn's view moved to another member: that member either owns the
    /// secret, cannot derive it, derived it earlier, or claimed it itself.
    #[test]
    fn learn_view_moved_to_another_member_is_reported(which in 0usize..2, pick in any::<prop::sample::Index>(), to in 1u64..6) {
        let t = trace(["fractional-attack-n3", "ring-collusion"][which]);
        let learns = member_views(t);
        let i = learns[pick.index(learns.len())];
        let n = t.events[0]["members"].as_u64().unwrap();
        let mut m = (to - 1) % n + 1;
        if t.events[i]["view"] == json!(m) {
            m = m % n + 1;
        }
        let mut ev = t.events.clone();
        ev[i]["view"] = json!(m);
        assert_violation(&ev, &format!("{} line {} view → {m}", t.name, i + 1))?;
    }

    /// A delivered payload turned into a drop, with any reason.
    #[test]
    fn delivered_payloads_turned_into_drops_are_reported(which in 0usize..3, pick in any::<prop::sample::Index>(), reason in 0usize..5) {
        let t = &traces()[which];
        let ev0 = &t.events;
        let sends: std::collections::BTreeMap<u64, &Value> =
            ev0.iter().filter(|e| e["type"] == "send").map(|e| (e["msg"].as_u64().unwrap(), e)).collect();
        let delivers: Vec<usize> = (0..ev0.len())
            .filter(|&i| ev0[i]["type"] == "deliver" && ev0[i].get("duplicate").is_none())
            .filter(|&i| sends.get(&ev0[i]["msg"].as_u64().unwrap()).is_some_and(|s| s["kind"] != "ack"))
            .collect();
        let i = delivers[pick.index(delivers.len())];
        let reason = ["partition", "crashed", "loss", "cosmic-ray", ""][reason];
        let mut ev = ev0.clone();
        ev[i] = json!({"type": "drop", "t_us": ev0[i]["t_us"], "seq": ev0[i]["seq"], "msg": ev0[i]["msg"], "reason": reason});
        assert_violation(&ev, &format!("{} line {} → drop {reason}", t.name, i + 1))?;
    }

    /// Send metadata missing, mistyped or out of range, on any kind.
    #[test]
    fn bad_send_metadata_is_reported(which in 0..SCENARIOS.len(), pick in any::<prop::sample::Index>(), key in 0usize..8, bad in 0usize..6) {
        let t = &traces()[which];
        let sends: Vec<usize> = (0..t.events.len()).filter(|&i| t.events[i]["type"] == "send").collect();
        let i = sends[pick.index(sends.len())];
        let key = ["msg", "from", "to", "mode", "iter", "kind", "sender_seq", "attempt"][key];
        let mut ev = t.events.clone();
        match bad {
            0 => { ev[i].as_object_mut().unwrap().remove(key); }
            1 => ev[i][key] = json!("1"),
            2 => ev[i][key] = json!(18446744073709551616.0),
            3 => ev[i][key] = json!(-1),
            4 => ev[i][key] = json!(null),
            _ => ev[i][key] = json!([1]),
        }
        assert_violation(&ev, &format!("{} line {} {key} bad #{bad}", t.name, i + 1))?;
    }

    /// Ids and epochs set out of range (2^64 − 1, or n + 1 for an id) on
    /// any line that has them.
    #[test]
    fn out_of_range_numbers_are_reported(which in 0..SCENARIOS.len(), pick in any::<prop::sample::Index>(), key in 0usize..8, huge in any::<bool>()) {
        let t = &traces()[which];
        let key = ["member", "epoch", "index", "iter", "from", "to", "target", "sender_seq"][key];
        let lines: Vec<usize> = (1..t.events.len() - 1)
            .filter(|&i| t.events[i].get(key).is_some_and(Value::is_u64))
            .filter(|&i| !(key == "sender_seq" && t.events[i]["kind"] != "ack"))
            .filter(|&i| !(key == "to" && t.events[i]["type"] == "leak"))
            .collect();
        prop_assume!(!lines.is_empty());
        let i = lines[pick.index(lines.len())];
        let n = t.events[0]["members"].as_u64().unwrap();
        let id = matches!(key, "member" | "from" | "to" | "target");
        let value = if huge || !id { u64::MAX } else { n + 1 };
        let mut ev = t.events.clone();
        ev[i][key] = json!(value);
        assert_violation(&ev, &format!("{} line {} {key} = {value}", t.name, i + 1))?;
    }

    /// The header changed so that it no longer describes the body.
    #[test]
    fn header_changes_are_reported(which in 0usize..3, change in 0usize..14) {
        let t = &traces()[which];
        let h = &t.events[0];
        let (epochs, n) = (h["epochs"].as_u64().unwrap(), h["members"].as_u64().unwrap());
        let other_init = if h["init"] == "sm" { "ring" } else { "sm" };
        let (key, value) = match change {
            0 => ("init", json!(other_init)),
            1 => ("init", json!("ring-hardened")),
            2 => ("keygen", json!("elgamal")),
            3 => ("epochs", json!(epochs + 1)),
            4 => ("epochs", json!(epochs - 1)),
            5 => ("epochs", json!(9)),
            6 => ("epochs", json!(0)),
            7 => ("members", json!(n + 1)),
            8 => ("members", json!(n - 1)),
            9 => ("trace", json!("protocol")),
            10 => ("params", json!("toy-128")),
            11 => ("format", json!("fraclab-trace/2")),
            12 => ("init", json!("")),
            _ => ("trace", json!(null)),
        };
        prop_assume!(h[key] != value);
        let mut ev = t.events.clone();
        ev[0][key] = value.clone();
        assert_violation(&ev, &format!("{} header {key} = {value}", t.name))?;
    }

    /// Lines deleted, duplicated or swapped, and any value replaced by any
    /// JSON: never a panic.
    #[test]
    fn arbitrary_mutations_never_panic(
        which in 0..SCENARIOS.len(),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
        op in 0usize..5,
        key in any::<prop::sample::Index>(),
        value in prop_oneof![
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,12}".prop_map(Value::from),
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            Just(json!([0, u64::MAX])),
            Just(json!({"alpha": "00", "theta": null})),
        ],
    ) {
        let t = &traces()[which];
        let mut ev = t.events.clone();
        let (i, j) = (a.index(ev.len()), b.index(ev.len()));
        match op {
            0 => { ev.remove(i); }
            1 => { let l = ev[i].clone(); ev.insert(j, l); }
            2 => ev.swap(i, j),
            3 => {
                if let Some(m) = ev[i].as_object_mut() {
                    let keys: Vec<String> = m.keys().cloned().collect();
                    let k = &keys[key.index(keys.len())];
                    m.insert(k.clone(), value);
                }
            }
            _ => {
                let mut text = render(&ev);
                let cut = i.min(text.len());
                let cut = (0..=cut).rev().find(|&c| text.is_char_boundary(c)).unwrap_or(0);
                text.truncate(cut);
                return no_panic(&text);
            }
        }
        no_panic(&render(&ev))?;
    }
}
