//! Issue 7: the sealed channel and the network adversary. On the sealed
//! channel nothing an adversary sends or alters reaches a member, the
//! protocol completes through the losses, and only the adversary's messages
//! are refused; on the plain and ideal channels the same attacks get
//! through.

use std::collections::BTreeMap;

use fraclab::scenario::Scenario;

use crate::harness::{Collected, run_collect, scenario};

/// The run configurations the many-seed tests cover: both initialisations,
/// both key generations, commitments, and crashes before and after a send
/// with a replacement recovering.
const SHAPES: [(&str, &str, &str, Option<&str>); 5] = [
    ("ring", "additive", "none", None),
    ("sm", "elgamal", "commitments", None),
    ("ring", "additive", "none", Some("after-send")),
    ("sm", "additive", "none", Some("before-send")),
    ("ring", "elgamal", "commitments", Some("after-send")),
];

fn build(seed: u64, shape: usize, channel: &str, adversary: &str, network: &str) -> Scenario {
    let (init, keygen, verify, crash) = SHAPES[shape];
    let fault = crash.map_or(String::new(), |when| {
        format!("[[fault]]\nkind = \"crash\"\nmember = 2\nat = {{ epoch = 2, when = \"{when}\" }}\nreplace = true\n")
    });
    scenario(&format!(
        "name = \"t\"\nseed = {seed}\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = {}\ninit = \"{init}\"\nkeygen = \"{keygen}\"\nverify = \"{verify}\"\nepochs = 4\nchannel = \"{channel}\"\n[network]\n{network}\n{fault}{adversary}\n[output]\nanalysis = false\n",
        3 + seed % 3
    ))
}

fn crashes(shape: usize) -> bool {
    SHAPES[shape].3.is_some()
}

const LOSSY: &str =
    "latency_ms = { dist = \"exponential\", min = 2, mean = 15 }\nloss = 0.2\nclock_skew_ms = 15";

fn attack(kind: &str, p: f64) -> String {
    format!("[[adversary]]\nkind = \"{kind}\"\nprobability = {p}\n")
}

/// Every refusal in `c` is of a message the adversary made or changed.
fn only_attacks_refused(c: &Collected, what: &str) {
    for (member, msg, reason) in &c.rejects {
        assert!(
            c.attacked.contains_key(msg),
            "{what}: member {member} refused honest message {msg} ({reason})"
        );
    }
}

/// Over many seeds and every run shape, with 20 % loss and skewed clocks:
/// tamper, replay and forge at 20 % each. Zero accepted forgeries, every
/// epoch completes, the keys agree (replacements recover), every refusal is
/// of an adversary's message, and the trace shows the refusals.
#[test]
fn every_attack_at_20_percent_is_refused_and_the_protocol_completes() {
    for kind in ["tamper", "replay", "forge"] {
        let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
        for seed in 1..=16 {
            for shape in 0..SHAPES.len() {
                let what = format!("{kind}, seed {seed}, shape {shape}");
                let sc = build(seed, shape, "sealed", &attack(kind, 0.2), LOSSY);
                let (out, c) = run_collect(&sc);
                let v = &out.verdict;
                assert_eq!(out.accepted_forgeries, 0, "{what}");
                assert!(c.forgeries.is_empty(), "{what}");
                assert_eq!(v.epochs_completed, 4, "{what}: {:?}", v.stall);
                assert!(v.keys_agreed, "{what}: {:?}", v.findings);
                if crashes(shape) {
                    assert!(v.recoveries.iter().any(|r| r.ok), "{what}: no recovery");
                }
                only_attacks_refused(&c, &what);
                let counted: u64 = out.rejected.values().sum();
                assert_eq!(counted, c.rejects.len() as u64, "{what}: the summary counts every reject event");
                for (_, _, reason) in &c.rejects {
                    *reasons.entry(reason).or_default() += 1;
                }
            }
        }
        let expected: &[&str] = match kind {
            "tamper" => &["undecryptable"],
            "replay" => &["replayed", "timestamp", "wrong-mode"],
            _ => &["bad-signature"],
        };
        for r in expected {
            assert!(reasons.get(r).is_some_and(|&n| n > 0), "{kind}: no {r} refusal in {reasons:?}");
        }
        if kind != "replay" {
            assert_eq!(reasons.len(), 1, "{kind}: {reasons:?}");
        }
    }
}

/// With no adversary the sealed channel refuses nothing, over the same
/// seeds and shapes (late retransmissions included).
#[test]
fn honest_traffic_is_never_refused() {
    for seed in 1..=16 {
        for shape in 0..SHAPES.len() {
            let (out, c) = run_collect(&build(seed, shape, "sealed", "", LOSSY));
            assert!(c.rejects.is_empty(), "seed {seed}, shape {shape}: {:?}", c.rejects);
            assert_eq!(out.verdict.epochs_completed, 4);
            assert!(out.verdict.keys_agreed);
        }
    }
}

/// A network duplicate is a replay to the receiver: refused as replayed,
/// and the protocol is not disturbed.
#[test]
fn network_duplicates_are_refused_as_replays() {
    let network = "latency_ms = { dist = \"uniform\", min = 5, max = 40 }\nduplicate = 0.3";
    let (out, c) = run_collect(&build(2, 0, "sealed", "", network));
    assert!(!c.rejects.is_empty());
    for (_, msg, reason) in &c.rejects {
        assert_eq!(*reason, "replayed");
        assert!(c.duplicated.contains(msg), "message {msg} was refused but never duplicated");
    }
    assert!(out.verdict.keys_agreed && out.verdict.epochs_completed == 4);
}

/// Sealing changes no protocol draw: a run draws the same secrets and keys
/// on the sealed channel as on the ideal one.
#[test]
fn the_sealed_channel_draws_the_same_secrets_as_the_ideal_one() {
    let (a, ca) = run_collect(&build(4, 2, "ideal", "", LOSSY));
    let (b, cb) = run_collect(&build(4, 2, "sealed", "", LOSSY));
    assert_eq!(ca.secrets, cb.secrets);
    assert_eq!(ca.keys, cb.keys);
    assert_eq!(a.verdict.final_sk, b.verdict.final_sk);
}

/// Without the sealed channel the same attacks get through: tampered and
/// forged payloads reach members and the keys diverge (key confirmation
/// reports it); a verbatim replay is only a duplicate to the link.
#[test]
fn unsealed_channels_take_tampered_and_forged_messages() {
    for channel in ["plain", "ideal"] {
        for kind in ["tamper", "forge"] {
            let mut accepted = 0;
            let mut diverged = 0;
            for seed in 1..=6 {
                let (out, c) = run_collect(&build(seed, 0, channel, &attack(kind, 0.2), LOSSY));
                assert_eq!(out.accepted_forgeries, c.forgeries.len() as u64);
                accepted += out.accepted_forgeries;
                if !out.verdict.keys_agreed {
                    diverged += 1;
                    let confirmed = out
                        .verdict
                        .findings
                        .iter()
                        .any(|f| matches!(f, fraclab::sim::Finding::Divergence { .. }));
                    assert!(confirmed, "{channel} {kind} seed {seed}: diverged unseen");
                }
            }
            assert!(accepted > 0, "{channel} {kind}: nothing got through");
            assert!(diverged > 0, "{channel} {kind}: the keys never diverged");
        }
        let (out, _) = run_collect(&build(1, 0, channel, &attack("replay", 0.2), LOSSY));
        assert!(out.verdict.keys_agreed && out.attacks[&fraclab::adversary::WireAttack::Replay] > 0);
    }
}

/// Filters: an adversary restricted to mode G and member 1 touches only
/// member 1's key-generation messages.
#[test]
fn filters_restrict_what_is_attacked() {
    let adv = "[[adversary]]\nkind = \"forge\"\nprobability = 0.5\nmodes = [\"G\"]\nsenders = [1]\n";
    let sc = build(3, 0, "sealed", adv, LOSSY);
    let mut rec = crate::harness::Collected::default();
    let out = fraclab::sim::run(&sc.sim_config(), &mut rec).unwrap();
    assert!(out.attacks[&fraclab::adversary::WireAttack::Forge] > 0);
    let sc = build(3, 0, "ideal", adv, LOSSY);
    let tmp = tempfile::tempdir().unwrap();
    fraclab::lab::execute(&sc, fraclab::scenario::TraceLevel::Full, Some(tmp.path())).unwrap();
    let text = std::fs::read_to_string(tmp.path().join("trace.jsonl")).unwrap();
    let attacks: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "attack")
        .collect();
    assert!(!attacks.is_empty());
    for a in &attacks {
        assert_eq!((a["from"].as_u64(), a["mode"].as_str()), (Some(1), Some("G")), "{a}");
    }
}
