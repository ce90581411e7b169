//! Verification with commitments (processes 800, 900, verified key
//! generation) and cheaters: every cheat is caught and names exactly its
//! culprit; without verification the same cheats pass silently and the
//! summary says what they broke.

use std::fs;

use fraclab::lab::execute;
use fraclab::report::Summary;
use fraclab::scenario::{self, TraceLevel};

use crate::harness::repo_root;

fn run(n: u32, init: &str, keygen: &str, verify: &str, adversary: &str, seed: u64) -> Summary {
    let toml = format!(
        "name = \"v\"\nseed = {seed}\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = {n}\ninit = \"{init}\"\nkeygen = \"{keygen}\"\nepochs = 3\nverify = \"{verify}\"\n[network]\nlatency_ms = {{ dist = \"uniform\", min = 2, max = 40 }}\nloss = 0.1\n{adversary}"
    );
    let sc = scenario::parse(&toml, "v.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"));
    execute(&sc, TraceLevel::None, None).unwrap().summary
}

fn cheat(member: u32, phase: &str, epoch: Option<u64>) -> String {
    let epoch = epoch.map_or(String::new(), |e| format!("epoch = {e}\n"));
    format!("[[adversary]]\nkind = \"cheat\"\nmember = {member}\nphase = \"{phase}\"\n{epoch}")
}

fn sm_cheat(member: u32) -> String {
    format!("[[adversary]]\nkind = \"sm-cheat\"\nmember = {member}\n")
}

/// The summary's findings as JSON values, as `summary.json` writes them.
fn findings(s: &Summary) -> Vec<serde_json::Value> {
    s.findings.iter().map(|f| serde_json::to_value(f).unwrap()).collect()
}

/// Every culprit any detect finding names.
fn named(s: &Summary) -> Vec<Option<u64>> {
    findings(s).into_iter().filter(|f| f["kind"] == "detect").map(|f| f["culprit"].as_u64()).collect()
}

/// The summary's verdict on a cheat: caught exactly, nobody honest named,
/// the run completes with agreeing keys and says the cheat was detected.
fn assert_caught(s: &Summary, culprit: u32, what: &str) {
    assert_eq!(s.detected, [culprit], "{what}");
    assert!(named(s).iter().all(|c| c.is_none() || *c == Some(u64::from(culprit))), "{what}: {:?}", named(s));
    assert!(s.keys_agreed && s.epochs_completed == 3, "{what}");
    let f = findings(s).into_iter().find(|f| f["kind"] == "cheat").expect("a cheat finding");
    assert_eq!(f["detected"], true, "{what}");
    assert!(s.passed(), "{what}: {:?}", s.problems());
}

/// Each ring position's δ cheat names that member, for n = 3..=6.
#[test]
fn each_ring_position_is_named() {
    for n in 3..=6 {
        for c in 1..=n {
            let s = run(n, "ring", "additive", "commitments", &cheat(c, "init", None), u64::from(n * 10 + c));
            assert_caught(&s, c, &format!("n = {n}, ring cheat by {c}"));
        }
    }
}

/// The SM's inconsistent pad, to any member, names the SM (0).
#[test]
fn the_sm_is_named() {
    for n in [3, 5] {
        for victim in 1..=n {
            let s = run(n, "sm", "additive", "commitments", &sm_cheat(victim), u64::from(victim));
            assert_caught(&s, 0, &format!("n = {n}, sm-cheat on {victim}"));
        }
    }
}

/// An HFK cheat in iteration 1, 2 or 3, after either initialisation and
/// under either key generation, names exactly the cheater.
#[test]
fn keygen_cheats_are_named_at_every_iteration() {
    for init in ["sm", "ring"] {
        for keygen in ["additive", "elgamal"] {
            for j in 1..=3 {
                for c in [1, 4] {
                    let s = run(
                        4,
                        init,
                        keygen,
                        "commitments",
                        &cheat(c, "keygen", Some(j)),
                        j * 7 + u64::from(c),
                    );
                    assert_caught(&s, c, &format!("{init}, {keygen}, HFK cheat by {c} in iteration {j}"));
                }
            }
        }
    }
}

/// Without commitments nobody is named. The ground truth says what broke,
/// and says whether the keys still agree. Under ElGamal the group-key check
/// still notices that something is wrong, but it can name no one.
#[test]
fn without_verification_cheats_pass_silently() {
    let cases = [
        ("ring", "additive", cheat(2, "init", None)),
        ("sm", "additive", sm_cheat(3)),
        ("ring", "additive", cheat(3, "keygen", Some(2))),
        ("sm", "elgamal", cheat(1, "keygen", Some(1))),
    ];
    for (init, keygen, adversary) in cases {
        let s = run(5, init, keygen, "none", &adversary, 3);
        assert!(s.detected.is_empty(), "{init} {keygen}: {:?}", s.detected);
        assert!(!s.invariants_held, "the ground truth sees the cheat");
        let f = findings(&s).into_iter().find(|f| f["kind"] == "cheat").expect("a cheat finding");
        assert_eq!(f["detected"], false);
        let effect = f["effect"].as_str().unwrap();
        let verdict = if keygen == "elgamal" {
            "noticed by the group-key check, which names no one"
        } else {
            "undetected"
        };
        assert!(effect.starts_with(&format!("{verdict}; I1")), "{effect}");
        assert_eq!(f["carried_out"], true);
        assert!(effect.ends_with("the keys still agree"), "{effect}");
        let unnamed = named(&s);
        if keygen == "elgamal" {
            assert!(
                !unnamed.is_empty() && unnamed.iter().all(Option::is_none),
                "group-key mismatches: {unnamed:?}"
            );
        } else {
            assert!(unnamed.is_empty());
        }
    }
}

/// Honest runs with commitments never detect anything, lossy network and
/// all, for n = 3..=8, both initialisations and both key generations.
#[test]
fn honest_runs_are_never_accused() {
    for n in 3..=8 {
        for init in ["sm", "ring"] {
            for keygen in ["additive", "elgamal"] {
                let s = run(n, init, keygen, "commitments", "", u64::from(n));
                assert!(named(&s).is_empty(), "n = {n}, {init}, {keygen}: {:?}", named(&s));
                assert!(s.passed() && s.keys_agreed, "n = {n}, {init}, {keygen}: {:?}", s.problems());
            }
        }
    }
}

/// Verification and process 700 together: a replacement skips the checks it
/// lacks commitments for, the survivors check it, and nobody is accused.
#[test]
fn verification_survives_recovery() {
    for name in ["crash-recover", "crash-before-send"] {
        let text = fs::read_to_string(repo_root().join(format!("scenarios/{name}.toml"))).unwrap();
        let text = text.replace("keygen = \"additive\"", "keygen = \"additive\"\nverify = \"commitments\"");
        let sc = scenario::parse(&text, name).unwrap();
        let s = execute(&sc, TraceLevel::None, None).unwrap().summary;
        assert!(named(&s).is_empty(), "{name}: {:?}", named(&s));
        assert!(s.passed(), "{name}: {:?}", s.problems());
    }
}

fn dlog_run(params: &str, budget: u64, view: &str) -> Summary {
    let toml = format!(
        "name = \"d\"\nseed = 4\n[group]\nparams = \"{params}\"\n[protocol]\nmembers = 3\ninit = \"ring\"\nkeygen = \"additive\"\nepochs = 1\nverify = \"commitments\"\n[[adversary]]\nkind = \"dlog\"\nview = {view}\nbudget = {budget}\n"
    );
    let sc = scenario::parse(&toml, "d.toml").unwrap_or_else(|e| panic!("{e}"));
    execute(&sc, TraceLevel::None, None).unwrap().summary
}

fn attack(s: &Summary) -> serde_json::Value {
    findings(s).into_iter().find(|f| f["kind"] == "dlog-attack").expect("a dlog-attack finding")
}

/// Pollard's rho takes the discrete log of every commitment in toy-16 and
/// toy-32 (v, δ, γ and E = g^FK), each value equal to the ground truth; it
/// costs more in the larger group; published groups are refused with the
/// bits of q; a small budget runs out and says so.
#[test]
fn dlog_recovers_commitments_in_toy_groups_and_refuses_big_ones() {
    let mut work = Vec::new();
    for params in ["toy-16", "toy-32"] {
        // The outsider: v, δ per member, γ, E per member. Member 2: the
        // same without its own v[2], δ[2] and FK[2,1].
        for (view, targets) in [("\"outsider\"", 10), ("2", 7)] {
            let s = dlog_run(params, 1_000_000_000, view);
            let a = attack(&s);
            assert_eq!(a["targets"], targets, "{params}, view {view}");
            assert_eq!(a["recovered"], a["targets"], "{params}: {a}");
            let found: Vec<serde_json::Value> =
                findings(&s).into_iter().filter(|f| f["kind"] == "dlog").collect();
            assert_eq!(found.len(), targets);
            assert!(found.iter().all(|f| f["matches_truth"] == true), "{params}: {found:?}");
            for secret in ["v[1]", "v[3]", "γ", "FK[3,1]"] {
                assert!(found.iter().any(|f| f["secret"] == secret), "{params}: {secret}");
            }
            assert_eq!(
                found.iter().any(|f| f["secret"] == "v[2]"),
                view != "2",
                "a member does not attack itself"
            );
            work.push(a["work"].as_u64().unwrap());
        }
    }
    assert!(work[2] > 10 * work[0], "toy-32 costs far more than toy-16: {work:?}");
    let s = dlog_run("modp-2048", 1_000_000_000, "\"outsider\"");
    let a = attack(&s);
    assert_eq!(a["detail"], "not attempted: q has 2047 bits");
    assert_eq!((a["work"].as_u64(), a["recovered"].as_u64()), (Some(0), Some(0)));
    assert!(!findings(&s).into_iter().any(|f| f["kind"] == "dlog"));
    let s = dlog_run("toy-32", 1000, "\"outsider\"");
    let a = attack(&s);
    assert!(a["detail"].as_str().unwrap().starts_with("budget exhausted"), "{a}");
    assert!(a["work"].as_u64().unwrap() <= 1000, "the budget is never overshot: {a}");
}

/// A cheat and a recovery in one run (review finding): process 700 rebuilds
/// the failed member's α from a θ the cheat shifted, so its replacement's
/// HFK disagrees with the predecessor's commitments. That is reported
/// without a culprit (`hfk-after-recovery`): only the cheater is named.
#[test]
fn a_cheat_with_a_recovery_names_only_the_cheater() {
    let crash = "[[fault]]\nkind = \"crash\"\nmember = 4\nat = { epoch = 2, when = \"before-send\" }\nreplace = true\n";
    for (init, adversary, culprit) in [
        ("ring", cheat(2, "init", None), 2),
        ("ring", cheat(2, "keygen", Some(1)), 2),
        ("sm", sm_cheat(2), 0),
    ] {
        for seed in 1..=3 {
            let s = run(5, init, "additive", "commitments", &format!("{adversary}{crash}"), seed);
            assert_eq!(s.detected, [culprit], "{init} {adversary}: {:?}", named(&s));
            assert!(named(&s).iter().all(|c| c.is_none() || *c == Some(u64::from(culprit))));
            assert!(findings(&s).into_iter().any(|f| f["check"] == "hfk-after-recovery"), "{adversary}");
        }
    }
}

/// A cheater that crashes before its turn never cheats, and the finding
/// says so rather than calling it a missed detection.
#[test]
fn a_cheat_never_carried_out_says_so() {
    let crash = "[[fault]]\nkind = \"crash\"\nmember = 3\nat = { epoch = 1, when = \"before-send\" }\nreplace = true\n";
    let s = run(5, "ring", "additive", "commitments", &format!("{}{crash}", cheat(3, "keygen", Some(2))), 1);
    let f = findings(&s).into_iter().find(|f| f["kind"] == "cheat").unwrap();
    assert_eq!(f["carried_out"], false);
    assert!(f["effect"].as_str().unwrap().starts_with("never carried out"), "{f}");
    assert!(s.detected.is_empty());
}

/// Review finding: process 700 under loss with published FKs (ElGamal, or
/// commitments). A survivor that lost the crashed member's last public FK
/// still recovers; the RI relays the FK with the HFK. With a crash in the
/// middle of iteration 3, every run completes, keys agree, recovery
/// succeeds and nobody is accused.
#[test]
fn recovery_under_loss_with_published_fks() {
    for (keygen, verify) in [("elgamal", "none"), ("additive", "commitments"), ("elgamal", "commitments")] {
        for at_ms in [3005, 3020, 3040] {
            for seed in 1..=8 {
                let toml = format!(
                    "name = \"r\"\nseed = {seed}\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = 5\ninit = \"ring\"\nkeygen = \"{keygen}\"\nepochs = 5\nverify = \"{verify}\"\n[network]\nlatency_ms = {{ dist = \"uniform\", min = 5, max = 40 }}\nloss = 0.3\n[[fault]]\nkind = \"crash\"\nmember = 3\nat_ms = {at_ms}\nreplace = true\n"
                );
                let sc = scenario::parse(&toml, "r.toml").unwrap();
                let s = execute(&sc, TraceLevel::None, None).unwrap().summary;
                let what = format!("{keygen}/{verify}, crash at {at_ms} ms, seed {seed}");
                assert!(s.passed() && s.stalled.is_none(), "{what}: {:?}", s.problems());
                assert_eq!(s.recovered, [3], "{what}");
                assert!(named(&s).is_empty(), "{what}: {:?}", named(&s));
            }
        }
    }
}

/// Two cheaters in the same iteration: the batch check fails and the
/// one-by-one checks name both, and only them.
#[test]
fn two_cheaters_in_one_iteration_are_both_named() {
    for keygen in ["additive", "elgamal"] {
        let adversaries = format!("{}{}", cheat(2, "keygen", Some(2)), cheat(4, "keygen", Some(2)));
        let s = run(5, "ring", keygen, "commitments", &adversaries, 5);
        assert_eq!(s.detected, [2, 4], "{keygen}");
        assert!(named(&s).iter().all(|c| matches!(c, None | Some(2) | Some(4))));
    }
}
