//! reference §1 "What the lab must reproduce" and §2: the engine's verdicts.

use std::collections::BTreeSet;

use fraclab::knowledge::form::Var;
use fraclab::knowledge::{Explanation, Target, ViewId, explain};
use fraclab::lab::analyse;
use fraclab::protocol::MemberId;
use fraclab::scenario::{self, Scenario};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

fn build(params: &str, n: u32, init: &str, epochs: u64, adversaries: &str, seed: u64) -> Scenario {
    let toml = format!(
        "name = \"t\"\nseed = {seed}\n[group]\nparams = \"{params}\"\n[protocol]\nmembers = {n}\ninit = \"{init}\"\nkeygen = \"additive\"\nepochs = {epochs}\n{adversaries}"
    );
    scenario::parse(&toml, "t.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

fn leak(member: u32, secret: &str, epoch: u64) -> String {
    format!(
        "[[adversary]]\nkind = \"leak\"\nmember = {member}\nsecret = \"{secret}\"\nepoch = {epoch}\nto = \"group\"\n"
    )
}

fn compromised(sc: &Scenario) -> Vec<u32> {
    let (_, _, a) = analyse(sc).unwrap();
    assert!(a.errors.is_empty(), "derived values disagree with the ground truth: {:?}", a.errors);
    a.compromised.iter().map(|m| m.0).collect()
}

/// With n = 3, one leaked pad compromises everyone; with n = 4 only its owner
/// (section V and its corollary) — for both initialisations.
#[test]
fn fractional_attack_succeeds_at_three_and_fails_at_four() {
    for init in ["sm", "ring"] {
        for seed in 1..=3 {
            assert_eq!(compromised(&build("toy-64", 3, init, 4, &leak(1, "alpha", 2), seed)), [1, 2, 3]);
            assert_eq!(compromised(&build("toy-64", 4, init, 4, &leak(1, "alpha", 2), seed)), [1]);
            assert_eq!(compromised(&build("toy-64", 3, init, 4, "", seed)), Vec::<u32>::new());
        }
    }
}

/// Members t−1 and t+1 recover member t's secrets on the ring for every
/// n in 3..=8 and every position t, the GI included; on the hardened ring
/// only when they are already n − 1 members (n = 3). The engine also finds
/// what the patent leaves unsaid on the plain ring: with n = 4 the pair
/// {t−1, t+1} brackets member t+2 as well (it holds δ_(t+1) and δ_(t+2)), and
/// with n = 3 member t+1 alone learns v_t, holds v_(t+1), and θ_1 = Σ v gives
/// it the forwarding colluder's v_(t−1).
#[test]
fn ring_collusion_compromises_exactly_the_target_and_not_on_the_hardened_ring() {
    for n in 3..=8u32 {
        for t in 1..=n {
            let adv = format!("[[adversary]]\nkind = \"ring-collusion\"\ntarget = {t}\n");
            let plain = build("toy-32", n, "ring", 2, &adv, u64::from(n * 10 + t));
            let ring_pos = |d: u32| (t - 1 + d) % n + 1;
            let mut expect_plain = match n {
                3 => vec![t, ring_pos(n - 1)],
                4 => vec![t, ring_pos(2)],
                _ => vec![t],
            };
            expect_plain.sort();
            assert_eq!(compromised(&plain), expect_plain, "ring, n = {n}, t = {t}");
            let hardened = build("toy-32", n, "ring-hardened", 2, &adv, u64::from(n * 10 + t));
            let expect: Vec<u32> = if n == 3 { vec![t] } else { vec![] };
            assert_eq!(compromised(&hardened), expect, "ring-hardened, n = {n}, t = {t}");
        }
    }
}

/// Without collusion the plain ring exposes no one, and the hardened ring
/// still agrees on every key.
#[test]
fn honest_rings_expose_no_one() {
    for init in ["ring", "ring-hardened"] {
        let sc = build("toy-64", 5, init, 3, "", 4);
        let (outcome, _, a) = analyse(&sc).unwrap();
        assert!(outcome.verdict.keys_agreed, "{init}");
        assert!(a.compromised.is_empty() && a.learns.is_empty(), "{init}: {:?}", a.compromised);
    }
}

/// Property (reference §1): under SM initialisation and additive key generation,
/// a view holding c parties' secrets (its own members plus every leaker)
/// derives an outside member's FK or α iff c ≥ n − 1; a leaker's secrets are
/// derivable by everyone; and every derived value equals the ground truth.
#[test]
fn derivability_follows_the_n_minus_1_rule_on_random_cases() {
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let mut pick = |lo: u64, hi: u64| lo + rng.next_u64() % (hi - lo + 1);
    for case in 0..40 {
        let n = pick(3, 8) as u32;
        let epochs = pick(2, 4);
        let mut adv = String::new();
        let mut leakers = BTreeSet::new();
        for _ in 0..pick(0, 2) {
            let m = pick(1, u64::from(n)) as u32;
            let (secret, epoch) =
                if pick(0, 1) == 0 { ("alpha", pick(1, epochs + 1)) } else { ("fk", pick(1, epochs)) };
            if leakers.insert(m) {
                adv.push_str(&leak(m, secret, epoch));
            }
        }
        let mut coalitions = Vec::new();
        for _ in 0..pick(0, 2) {
            let size = pick(2, u64::from(n) - 1) as usize;
            let mut ms: Vec<u32> = (1..=n).collect();
            for i in (1..ms.len()).rev() {
                ms.swap(i, pick(0, i as u64) as usize);
            }
            let mut c: Vec<u32> = ms[..size].to_vec();
            c.sort();
            let list: Vec<String> = c.iter().map(u32::to_string).collect();
            adv.push_str(&format!("[[adversary]]\nkind = \"coalition\"\nmembers = [{}]\n", list.join(", ")));
            coalitions.push(c);
        }
        let sc = build("toy-64", n, "sm", epochs, &adv, 1000 + case);
        let (_, _, a) = analyse(&sc).unwrap();
        assert!(a.errors.is_empty(), "case {case}: {:?}", a.errors);
        let mut views: Vec<Vec<u32>> = (1..=n).map(|m| vec![m]).collect();
        views.extend(coalitions);
        for v in &views {
            let id = if v.len() == 1 {
                ViewId::Member(MemberId(v[0]))
            } else {
                ViewId::Coalition(v.iter().map(|&m| MemberId(m)).collect())
            };
            let known: BTreeSet<u32> = v.iter().copied().chain(leakers.iter().copied()).collect();
            for k in (1..=n).filter(|k| !v.contains(k)) {
                let derived = a.learns.iter().any(|l| {
                    l.view == id
                        && l.target.owner() == Some(MemberId(k))
                        && matches!(l.target.0, Var::Fk(..) | Var::Alpha(..))
                });
                let rule = leakers.contains(&k) || known.len() as u32 >= n - 1;
                assert_eq!(
                    derived, rule,
                    "case {case}: n = {n}, view {v:?}, leakers {leakers:?}, member {k}"
                );
            }
        }
    }
}

/// The outsider: plaintext traffic gives it everything; every HFK but no θ
/// gives it nothing; one θ more gives it every key.
#[test]
fn outsider_learns_keys_only_with_a_theta() {
    let tap = |modes: &str| format!("[[adversary]]\nkind = \"eavesdropper\"\n{modes}\n");
    let plain = |extra: &str| {
        let mut sc = build("toy-64", 4, "sm", 3, extra, 2);
        sc.set("protocol.channel", "plain").expect("a plain channel is valid");
        sc
    };
    let (_, _, all) = analyse(&plain(&tap(""))).unwrap();
    assert!(all.outsider_learns_key);
    assert_eq!(all.compromised.len(), 4);
    let (_, _, hfk) = analyse(&plain(&tap("modes = [\"G\"]"))).unwrap();
    assert!(!hfk.outsider_learns_key && hfk.compromised.is_empty());
    let leak_theta = format!(
        "{}[[adversary]]\nkind = \"leak\"\nmember = 2\nsecret = \"theta\"\nepoch = 3\nto = \"outsider\"\n",
        tap("modes = [\"G\"]")
    );
    let (_, _, th) = analyse(&plain(&leak_theta)).unwrap();
    assert!(th.outsider_learns_key && th.compromised.is_empty());
    let thetas: BTreeSet<u64> = th
        .learns
        .iter()
        .filter(|l| l.view == ViewId::Outsider)
        .filter_map(|l| if let Var::Theta(e) = l.target.0 { Some(e) } else { None })
        .collect();
    assert_eq!(thetas, (1..=4).collect(), "every θ, before and after the leaked one");
    // The same eavesdropper on the ideal channel sees no payload at all.
    let (_, _, ideal) = analyse(&build("toy-64", 4, "sm", 3, &tap(""), 2)).unwrap();
    assert!(!ideal.outsider_learns_key && ideal.learns.is_empty());
}

/// A non-derivability witness really is one, checked here by recomputing
/// the protocol's own relations (not the engine's forms) under both
/// assignments: every value member 2 holds — θ's, its own pads and FKs, the
/// HFKs it received — is the same, and FK[3,1] is not.
#[test]
fn non_derivability_witness_agrees_on_the_view_and_differs_on_the_target() {
    let sc = build("toy-64", 4, "sm", 3, &leak(1, "alpha", 2), 7);
    let (_, collector, _) = analyse(&sc).unwrap();
    let target = Target::parse("fk[3,1]").unwrap();
    let Explanation::Hidden { differing, target_a, target_b, .. } =
        explain(&collector, sc.group(), &ViewId::Member(MemberId(2)), target).unwrap()
    else {
        panic!("member 2 should not derive FK[3,1] with n = 4");
    };
    assert_ne!(target_a, target_b);
    let g = sc.group();
    let truth = |v: Var| collector.truth.get(&v).cloned();
    let b_of = |v: Var| {
        differing
            .iter()
            .find(|(name, _, _)| *name == v.label())
            .map(|(_, _, b)| b.clone())
            .or_else(|| truth(v))
    };
    assert_eq!(truth(target.0).unwrap(), target_a, "A is this run");
    let (n, epochs) = (4u32, 3u64);
    for e in 1..=epochs + 1 {
        let theta_a = truth(Var::Theta(e)).unwrap();
        // θ_e = Σ FK_(·,e−1) (or Σ v for e = 1) under B.
        let parts: Vec<_> =
            (1..=n).map(|k| if e == 1 { b_of(Var::V(k)) } else { b_of(Var::Fk(k, e - 1)) }).collect();
        let theta_b = g.sum(parts.iter().map(|p| p.as_ref().unwrap()));
        assert_eq!(theta_b, theta_a, "θ_{e} differs under B");
        assert_eq!(b_of(Var::Alpha(2, e)), truth(Var::Alpha(2, e)), "member 2's own α_{e}");
    }
    for j in 1..=epochs {
        assert_eq!(b_of(Var::Fk(2, j)), truth(Var::Fk(2, j)), "member 2's own FK");
        for k in 1..=n {
            // α under B follows from θ and FK under B: α_(k,j) = θ_j − FK_(k,j−1).
            let alpha_b = g.sub(
                &truth(Var::Theta(j)).unwrap(),
                &if j == 1 { b_of(Var::V(k)) } else { b_of(Var::Fk(k, j - 1)) }.unwrap(),
            );
            let hfk_b = g.add(&alpha_b, &b_of(Var::Fk(k, j)).unwrap());
            let hfk_a = g.add(&truth(Var::Alpha(k, j)).unwrap(), &truth(Var::Fk(k, j)).unwrap());
            assert_eq!(hfk_b, hfk_a, "HFK[{k},{j}] differs under B");
        }
    }
    // The leaked α[1,2] is unchanged too.
    let alpha12_b = g.sub(&truth(Var::Theta(2)).unwrap(), &b_of(Var::Fk(1, 1)).unwrap());
    assert_eq!(Some(alpha12_b), truth(Var::Alpha(1, 2)));
}

/// A derivable secret gets a derivation, not a witness of ignorance.
#[test]
fn explain_gives_a_derivation_when_one_exists() {
    let sc = build("toy-64", 3, "ring", 3, &leak(1, "alpha", 2), 7);
    let (_, collector, _) = analyse(&sc).unwrap();
    match explain(&collector, sc.group(), &ViewId::Member(MemberId(2)), Target::parse("fk[3,1]").unwrap())
        .unwrap()
    {
        Explanation::Derivable(l) => {
            assert_eq!(Some(&l.value), collector.truth.get(&Var::Fk(3, 1)));
            assert_eq!(l.expression.as_deref(), Some("FK[3,1] = −FK[2,1] + α[1,2]"));
        }
        Explanation::Hidden { .. } => panic!("member 2 derives FK[3,1] once α[1,2] leaks (n = 3)"),
    }
    assert!(
        explain(&collector, sc.group(), &ViewId::Member(MemberId(2)), Target::parse("fk[3,9]").unwrap())
            .is_err()
    );
}

/// Scale (reference §2): 64 members, 10 epochs, every member's view analysed.
#[test]
fn sixty_four_members_ten_epochs_every_view_analysed() {
    let sc = build("toy-64", 64, "sm", 10, &leak(1, "alpha", 2), 3);
    let (outcome, _, a) = analyse(&sc).unwrap();
    assert!(outcome.verdict.keys_agreed);
    assert_eq!(a.views.len(), 65, "64 members and the outsider");
    assert!(a.errors.is_empty());
    assert_eq!(a.compromised, [MemberId(1)]);
    // Every other member derives all of member 1's FKs.
    let fk1 = a.learns.iter().filter(|l| matches!(l.target.0, Var::Fk(1, _))).count();
    assert_eq!(fk1, 63 * 10);
}

/// reference §1 in full for n = 3: once α[1,2] leaks, member 2 derives *every* FK
/// and α of member 3 (all epochs, before and after the leak), and its first
/// derivation comes at the leak itself — the learn event follows the leak
/// event in the trace.
#[test]
fn the_fractional_attack_exposes_every_later_and_earlier_secret_at_the_leak() {
    use std::collections::BTreeSet;
    let epochs = 4;
    let sc = build("toy-64", 3, "ring", epochs, &leak(1, "alpha", 2), 7);
    let (_, _, a) = analyse(&sc).unwrap();
    let by2: BTreeSet<Var> = a
        .learns
        .iter()
        .filter(|l| l.view == ViewId::Member(MemberId(2)) && l.target.owner() == Some(MemberId(3)))
        .map(|l| l.target.0)
        .collect();
    for j in 1..=epochs {
        assert!(by2.contains(&Var::Fk(3, j)), "FK[3,{j}]");
    }
    for e in 1..=epochs + 1 {
        assert!(by2.contains(&Var::Alpha(3, e)), "α[3,{e}]");
    }
    let tmp = tempfile::tempdir().unwrap();
    fraclab::lab::execute(&sc, fraclab::scenario::TraceLevel::Full, Some(tmp.path())).unwrap();
    let trace: Vec<serde_json::Value> = std::fs::read_to_string(tmp.path().join("trace.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let leak_at = trace.iter().position(|e| e["type"] == "leak").unwrap();
    let fk31 = trace
        .iter()
        .position(|e| {
            e["type"] == "learn" && e["view"] == 2 && e["name"] == "fk" && e["target"] == 3 && e["index"] == 1
        })
        .unwrap();
    assert!(fk31 > leak_at, "learned before the leak");
    let between: Vec<&str> = trace[leak_at + 1..fk31].iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(between.iter().all(|t| *t == "learn"), "FK[3,1] is learned at the leak itself: {between:?}");
}
