//! `fraclab attacks`: the model of the honest views, the minimal attacks
//! against brute force and the patent's cases, and the replays.

use std::collections::BTreeSet;

use fraclab::adversary::LeakSecret;
use fraclab::group::by_name;
use fraclab::lab::attacks::{self, Action, Capability, Goal, LeakDest, Model, Query};
use fraclab::protocol::{Channel, InitKind, MemberId};

use super::harness::{fraclab, stderr, stdout};

fn query(n: u32, init: InitKind, goal: Goal, allow: &[Capability], max_cost: u32) -> Query {
    Query {
        members: n,
        init,
        elgamal: false,
        epochs: 1,
        channel: Channel::Ideal,
        goal,
        max_cost,
        allow: allow.iter().copied().collect(),
        leak_to: LeakDest::Group,
        leak_secrets: [LeakSecret::Alpha, LeakSecret::Fk, LeakSecret::Theta].into_iter().collect(),
        per_member: 2,
        group: by_name("toy-64").unwrap(),
    }
}

fn search(q: &Query) -> attacks::Search {
    q.check().unwrap();
    Model::new(q).search(&mut |_, _, _| {}).unwrap()
}

/// Every attack with each action replaced by any of its alternatives.
fn expand(a: &attacks::Attack) -> Vec<BTreeSet<Action>> {
    let mut out: Vec<Vec<Action>> = vec![Vec::new()];
    for (x, alt) in a.actions.iter().zip(&a.alternatives) {
        let choices: Vec<&Action> = std::iter::once(x).chain(alt).collect();
        out = out
            .iter()
            .flat_map(|p| choices.iter().map(move |c| [p.clone(), vec![(*c).clone()]].concat()))
            .collect();
    }
    out.into_iter().map(|v| v.into_iter().collect()).collect()
}

/// The model's honest views are the views a simulated run records.
#[test]
fn the_model_holds_what_a_simulated_run_records() {
    for init in ["sm", "ring", "ring-hardened"] {
        for n in 3..=5u32 {
            for epochs in 0..=2u64 {
                let toml = format!(
                    "name = \"m\"\nseed = {}\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = {n}\ninit = \"{init}\"\nkeygen = \"additive\"\nepochs = {epochs}\nchannel = \"plain\"\n[[adversary]]\nkind = \"eavesdropper\"\n",
                    n as u64 * 10 + epochs
                );
                let sc = fraclab::scenario::parse(&toml, "m.toml").unwrap();
                let (_, c) = fraclab::lab::collect(&sc).unwrap();
                let kind = sc.init();
                let mut q = query(n, kind, Goal::Key, &Capability::ALL, 0);
                q.epochs = epochs;
                q.channel = Channel::Plain;
                let (members, outsider) = Model::new(&q).honest_views();
                assert_eq!(members.len(), n as usize);
                for (m, (got, want)) in c.members.iter().zip(&members).enumerate() {
                    let sim: BTreeSet<_> = got.iter().map(|o| (*o.form).clone()).collect();
                    assert_eq!(&sim, want, "{init} n={n} epochs={epochs}: member {}", m + 1);
                }
                let sim: BTreeSet<_> = c.outsider.iter().map(|o| (*o.form).clone()).collect();
                assert_eq!(sim, outsider, "{init} n={n} epochs={epochs}: the outsider");
                // The ground truth names the same secrets, so the targets agree.
                let model_vars: BTreeSet<_> = Model::new(&q).collector(&[]).0.truth.keys().copied().collect();
                let sim_vars: BTreeSet<_> = c.truth.keys().copied().collect();
                assert_eq!(model_vars, sim_vars, "{init} n={n} epochs={epochs}: the secrets");
            }
        }
    }
}

/// SM init, leaks only: the minimal attacks against K are exactly the
/// (n − 2)-subsets of the other members each leaking any α, as a brute
/// force over every set of α leaks finds.
#[test]
fn sm_leak_attacks_are_the_n_minus_2_subsets_as_brute_force_finds() {
    for n in 3..=7u32 {
        let k = MemberId(n);
        let mut q = query(n, InitKind::Sm, Goal::Compromise(k), &[Capability::Leak], n - 1);
        q.leak_secrets = [LeakSecret::Alpha].into_iter().collect();
        let found: BTreeSet<BTreeSet<Action>> = search(&q).attacks.iter().flat_map(expand).collect();

        // Brute force: every subset of the α leaks (α[m,1], α[m,2] for m ≠ K),
        // decided by the engine, then its inclusion-minimal winners.
        let model = Model::new(&q);
        let atoms: Vec<Action> = (1..n)
            .flat_map(|m| {
                (1..=2).map(move |e| Action::Leak {
                    member: MemberId(m),
                    secret: LeakSecret::Alpha,
                    epoch: e,
                })
            })
            .collect();
        let mut winners: Vec<BTreeSet<Action>> = Vec::new();
        for mask in 0u32..(1 << atoms.len()) {
            let set: Vec<Action> = atoms
                .iter()
                .enumerate()
                .filter(|(i, _)| mask >> i & 1 == 1)
                .map(|(_, a)| a.clone())
                .collect();
            if model.verdict(&set).unwrap().compromised.contains(&k) {
                winners.push(set.into_iter().collect());
            }
        }
        let minimal: BTreeSet<BTreeSet<Action>> = winners
            .iter()
            .filter(|w| !winners.iter().any(|o| o.len() < w.len() && o.is_subset(w)))
            .cloned()
            .collect();
        assert_eq!(found, minimal, "n = {n}: the search against brute force");

        // And the patent's rule: n − 2 distinct others, one α each.
        let rule: BTreeSet<BTreeSet<Action>> = minimal
            .iter()
            .filter(|s| {
                let members: BTreeSet<MemberId> = s.iter().filter_map(Action::member).collect();
                members.len() == s.len() && s.len() == (n - 2).max(1) as usize
            })
            .cloned()
            .collect();
        assert_eq!(rule, minimal, "n = {n}: every minimal attack is n − 2 members with one α each");
        let others = (n - 1) as usize;
        let choose = (1..=others).product::<usize>()
            / ((1..=(n - 2).max(1) as usize).product::<usize>()
                * (1..=others - (n - 2).max(1) as usize).product::<usize>());
        assert_eq!(minimal.len(), choose * 2usize.pow((n - 2).max(1)), "n = {n}: C(n−1, n−2) · 2^(n−2)");
    }
}

/// n = 3: any single leaked α compromises everyone.
#[test]
fn at_three_one_leaked_alpha_compromises_everyone() {
    let q = query(3, InitKind::Sm, Goal::All, &[Capability::Leak], 2);
    let s = search(&q);
    assert_eq!(s.cheapest, Some(1));
    let singles: Vec<_> = s.attacks.iter().filter(|a| a.cost == 1).collect();
    assert_eq!(singles.len(), 3, "one per member");
    for a in singles {
        assert_eq!(a.verdict.compromised, vec![MemberId(1), MemberId(2), MemberId(3)]);
        let alts = &a.alternatives[0];
        assert!(alts.iter().any(|x| matches!(x, Action::Leak { secret: LeakSecret::Alpha, epoch: 2, .. })));
    }
}

/// Ring init, n = 5..=8, every t: the only minimal pair against t is
/// {t−1, t+1} pooling, and nothing cheaper, with leaks open too.
#[test]
fn on_the_ring_the_only_minimal_pair_is_t_minus_1_and_t_plus_1() {
    for n in 5..=8u32 {
        for t in 1..=n {
            let before = if t == 1 { n } else { t - 1 };
            let after = if t == n { 1 } else { t + 1 };
            let mut pair = vec![MemberId(before), MemberId(after)];
            pair.sort();
            let q = query(
                n,
                InitKind::Ring,
                Goal::Compromise(MemberId(t)),
                &[Capability::Leak, Capability::Coalition],
                2,
            );
            let s = search(&q);
            assert_eq!(s.cheapest, Some(2), "n={n} t={t}");
            let pairs: Vec<Vec<MemberId>> =
                s.attacks.iter().filter(|a| a.cost == 2).map(|a| a.members()).collect();
            assert_eq!(pairs, vec![pair.clone()], "n={n} t={t}");
            assert!(s.attacks[0].actions.iter().all(|a| matches!(a, Action::Pool(_))));
        }
    }
}

/// The hardened ring: no coalition, forward or tap is cheaper than n − 1
/// members; the n − 1 others pooling is an attack.
#[test]
fn the_hardened_ring_has_no_attack_cheaper_than_n_minus_1() {
    for n in 5..=8u32 {
        let allow = [Capability::Coalition, Capability::Forward, Capability::Eavesdrop];
        let q = query(n, InitKind::RingHardened, Goal::Compromise(MemberId(3)), &allow, n - 2);
        assert!(search(&q).attacks.is_empty(), "n = {n}: an attack of cost < n − 1");
        let q = query(n, InitKind::RingHardened, Goal::Compromise(MemberId(3)), &allow, n - 1);
        let s = search(&q);
        assert_eq!(s.cheapest, Some(n - 1), "n = {n}");
        // Leaks reach key generation's n − 1 rule: n − 2 leaks and one
        // more curious member, on every initialisation.
        let q = query(n, InitKind::RingHardened, Goal::Compromise(MemberId(3)), &[Capability::Leak], n - 2);
        assert_eq!(search(&q).cheapest, Some(n - 2), "n = {n}: leaks");
    }
}

/// Every listed attack is minimal (dropping any action loses the goal),
/// and none contains another.
#[test]
fn listed_attacks_are_minimal_and_never_supersets() {
    let cases = [
        query(5, InitKind::Ring, Goal::Compromise(MemberId(3)), &Capability::ALL, 2),
        query(4, InitKind::Sm, Goal::All, &[Capability::Leak, Capability::Eavesdrop], 3),
        {
            let mut q = query(4, InitKind::Sm, Goal::Key, &Capability::ALL, 1);
            q.channel = Channel::Plain;
            q.leak_to = LeakDest::Outsider;
            q
        },
        query(6, InitKind::RingHardened, Goal::CompromiseAny, &Capability::ALL, 4),
    ];
    for q in cases {
        let model = Model::new(&q);
        let s = model.search(&mut |_, _, _| {}).unwrap();
        assert!(!s.attacks.is_empty(), "{}", q.command());
        for a in &s.attacks {
            for i in 0..a.actions.len() {
                let mut less = a.actions.clone();
                less.remove(i);
                let v = model.verdict(&less).unwrap();
                let reached = match q.goal {
                    Goal::Compromise(k) => v.compromised.contains(&k),
                    Goal::CompromiseAny => {
                        let bad: BTreeSet<_> = less.iter().filter_map(Action::member).collect();
                        v.compromised.iter().any(|m| !bad.contains(m))
                    }
                    Goal::Key => v.outsider_learns_key,
                    Goal::All => v.compromised.len() == q.members as usize,
                };
                assert!(!reached, "{}: {:?} without {:?} still works", q.command(), a.actions, a.actions[i]);
            }
            for b in &s.attacks {
                let (a_set, b_set): (BTreeSet<_>, BTreeSet<_>) =
                    (a.actions.iter().collect(), b.actions.iter().collect());
                assert!(a_set == b_set || !a_set.is_subset(&b_set), "{:?} ⊂ {:?}", a.actions, b.actions);
            }
        }
        let costs: Vec<u32> = s.attacks.iter().map(|a| a.cost).collect();
        assert!(costs.windows(2).all(|w| w[0] <= w[1]), "cheapest first: {costs:?}");
    }
}

/// The command writes attacks.csv and one replayable scenario and graph per
/// attack; every written scenario holds its [expect] through the simulator
/// and through `fraclab check`.
#[test]
fn written_attacks_replay_with_their_expectations() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a");
    let args =
        ["attacks", "--members", "5", "--init", "ring", "--goal", "compromise:3", "--max-cost", "2", "--out"];
    let mut args: Vec<&str> = args.to_vec();
    args.push(out.to_str().unwrap());
    let o = fraclab(&args, tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let table = stdout(&o);
    assert!(table.contains("2 forwards δ[2]"), "{table}");
    assert!(table.contains("2 pools; 4 pools"), "{table}");
    let csv = std::fs::read_to_string(out.join("attacks.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(rows.len() >= 3, "{csv}");
    assert!(rows.iter().all(|r| r.ends_with(",true")), "{csv}");
    for k in 1..=rows.len() {
        assert!(out.join(format!("attacks/{k}.toml")).is_file());
        let dot = std::fs::read_to_string(out.join(format!("attacks/{k}.dot"))).unwrap();
        assert!(dot.contains("digraph derivations"), "{dot}");
    }
    let check = fraclab(&["check", out.join("attacks").to_str().unwrap()], tmp.path());
    assert_eq!(check.status.code(), Some(0), "{}{}", stdout(&check), stderr(&check));
}

/// Bad input: a clear error, exit 2, and no folder written.
#[test]
fn bad_attack_queries_are_usage_errors_that_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("never");
    let o = out.to_str().unwrap();
    for (args, needle) in [
        (vec!["--members", "2", "--init", "sm", "--goal", "all"], "--members 2: allowed: 3..=12"),
        (vec!["--members", "5", "--init", "star", "--goal", "all"], "allowed: sm, ring, ring-hardened"),
        (vec!["--members", "5", "--init", "sm", "--goal", "compromise:9"], "9 is not a member"),
        (vec!["--members", "5", "--init", "sm", "--goal", "all", "--max-cost", "5"], "allowed: 0..=4"),
        (
            vec!["--members", "5", "--init", "sm", "--goal", "all", "--allow", "bribe"],
            "unknown capability \"bribe\"",
        ),
        (
            vec!["--members", "5", "--init", "sm", "--goal", "all", "--leak-secrets", "sk"],
            "unknown secret \"sk\"",
        ),
    ] {
        let mut a = vec!["attacks"];
        a.extend(args);
        a.extend(["--out", o]);
        let r = fraclab(&a, tmp.path());
        assert_eq!(r.status.code(), Some(2), "{a:?}");
        assert!(stderr(&r).contains(needle), "{a:?}: {}", stderr(&r));
        assert!(!out.exists(), "{a:?} wrote {}", out.display());
    }
}

fn forward_scenario(init: &str, adversary: &str) -> Result<fraclab::scenario::Scenario, String> {
    let toml = format!(
        "name = \"f\"\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = 5\ninit = \"{init}\"\nkeygen = \"additive\"\nepochs = 1\n[[adversary]]\nkind = \"forward\"\n{adversary}"
    );
    fraclab::scenario::parse(&toml, "f.toml").map_err(|e| e.to_string())
}

/// `kind = "forward"`: the recipient's view holds the forwarded δ (member
/// 4 with δ[2] and δ[3] derives v[3]); bad recipients are located errors.
#[test]
fn a_forwarded_delta_reaches_the_recipients_view() {
    let sc = forward_scenario("ring", "member = 2\nto = [4]\n").unwrap();
    let (_, _, a) = fraclab::lab::analyse(&sc).unwrap();
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert_eq!(a.compromised, vec![MemberId(3)]);
    assert!(a.learns.iter().any(|l| l.view == fraclab::knowledge::ViewId::Member(MemberId(4))));
    let honest = forward_scenario("ring", "member = 2\nto = [5]\n").unwrap();
    assert!(fraclab::lab::analyse(&honest).unwrap().2.compromised.is_empty(), "δ[2] tells member 5 nothing");
    for (init, adv, needle) in [
        ("sm", "member = 2\n", "f.toml:10:8: adversary[0].kind: forward sends a ring δ"),
        ("ring", "member = 2\nto = [3]\n", "adversary[0].to: member 3 is its ring successor"),
        ("ring", "member = 2\nto = [2]\n", "member 2 is the forwarding member itself"),
        ("ring", "member = 9\n", "adversary[0].member"),
        ("ring", "member = 2\nto = \"everyone\"\n", "allowed: \"group\" or a list of member ids"),
    ] {
        let e = forward_scenario(init, adv).unwrap_err();
        assert!(e.contains(needle), "{adv}: {e}");
    }
}
