//! reference §1 process 700, and faults: crashes, partitions, withholding.

use fraclab::knowledge::ViewId;
use fraclab::knowledge::form::Var;
use fraclab::lab::{analyse, execute};
use fraclab::protocol::MemberId;
use fraclab::scenario::{self, Scenario, TraceLevel};
use fraclab::schema::Finding;

fn build(n: u32, init: &str, epochs: u64, extra: &str, seed: u64) -> Scenario {
    let toml = format!(
        "name = \"t\"\nseed = {seed}\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = {n}\ninit = \"{init}\"\nkeygen = \"additive\"\nepochs = {epochs}\n{extra}"
    );
    scenario::parse(&toml, "t.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

fn crash(member: u32, epoch: u64, when: &str, replace: bool) -> String {
    format!(
        "[[fault]]\nkind = \"crash\"\nmember = {member}\nat = {{ epoch = {epoch}, when = \"{when}\" }}\nreplace = {replace}\n"
    )
}

/// For n in 3..=8, crashes at every iteration, before and after sending,
/// of the first, a middle and the last member: the replacement's recovered
/// FK and α equal the originals (the simulator compares every re-derived
/// value with the ground truth), and every key of every later epoch agrees.
/// A crash after sending in the last iteration needs no recovery: the
/// member had already finished, and nobody waits for it.
#[test]
fn every_crash_position_recovers_exactly() {
    let epochs = 3;
    for n in 3..=8u32 {
        for init in ["sm", "ring"] {
            for member in [1, n.div_ceil(2), n] {
                for epoch in 1..=epochs {
                    for when in ["before-send", "after-send"] {
                        let seed = u64::from(n * 1000 + member * 10) + epoch;
                        let sc = build(
                            n,
                            init,
                            epochs,
                            &format!("[output]\nanalysis = false\n{}", crash(member, epoch, when, true)),
                            seed,
                        );
                        let report = execute(&sc, TraceLevel::None, None).unwrap();
                        let v = &report.sim.verdict;
                        let case = format!("n = {n}, {init}, member {member}, iteration {epoch}, {when}");
                        assert!(report.summary.invariants_held, "{case}: {:?}", v.findings);
                        assert_eq!(v.epochs_completed, epochs, "{case}");
                        assert!(v.keys_agreed, "{case}");
                        let expect_recovery = !(epoch == epochs && when == "after-send");
                        if expect_recovery {
                            let r = if when == "before-send" { epoch - 1 } else { epoch };
                            assert_eq!(v.recoveries.len(), 1, "{case}");
                            let rec = &v.recoveries[0];
                            assert!(
                                rec.ok && rec.member == MemberId(member) && rec.iter == r,
                                "{case}: {rec:?}"
                            );
                        } else {
                            assert!(v.recoveries.is_empty(), "{case}");
                        }
                    }
                }
            }
        }
    }
}

/// The replacement's own view (the engine's check): it derives FK[ī,r],
/// α[ī,r] and α[ī,r+1] — what process 700 promises — and no survivor's FK
/// or α; nobody is compromised by the recovery.
#[test]
fn the_replacement_learns_its_index_and_nothing_about_survivors() {
    // (5, 1, …): member 1 fails, so member 2 is RI and declares first — the
    // replacement must exist before the handover is recorded.
    for (n, member, epoch, when) in
        [(5, 3, 3, "after-send"), (4, 2, 2, "before-send"), (6, 6, 1, "before-send"), (5, 1, 2, "after-send")]
    {
        let sc = build(n, "ring", 4, &crash(member, epoch, when, true), 7);
        let (outcome, _, a) = analyse(&sc).unwrap();
        assert!(a.errors.is_empty(), "{:?}", a.errors);
        assert!(a.compromised.is_empty(), "{:?}", a.compromised);
        let case = format!("n = {n}, member {member}, iteration {epoch}, {when}");
        assert_eq!(outcome.verdict.recoveries.len(), 1, "{case}: {:?}", outcome.verdict.stall);
        let r = outcome.verdict.recoveries[0].iter;
        let rep = ViewId::Replacement { member: MemberId(member), nth: 1, k: 1 };
        let mut learned: Vec<Var> = a.learns.iter().filter(|l| l.view == rep).map(|l| l.target.0).collect();
        learned.sort();
        let mut expected = if r == 0 {
            vec![Var::Alpha(member, 1), Var::V(member)]
        } else {
            vec![Var::Alpha(member, r), Var::Alpha(member, r + 1), Var::Fk(member, r)]
        };
        expected.sort();
        assert_eq!(learned, expected, "n = {n}, member {member}, r = {r}");
        // No other view learns anything either.
        assert!(
            a.learns.iter().all(|l| l.view == rep),
            "{:?}",
            a.learns.iter().map(|l| &l.view).collect::<Vec<_>>()
        );
    }
}

/// A withholding survivor makes recovery fail, naming it; the run ends
/// without a panic, stalled at the iteration it could not finish.
#[test]
fn withholding_fails_recovery_and_names_the_withholder() {
    let adv = "[[adversary]]\nkind = \"withhold\"\nmember = 2\nphase = \"recovery\"\n";
    let sc = build(5, "sm", 4, &format!("{}{adv}", crash(4, 3, "before-send", true)), 3);
    let report = execute(&sc, TraceLevel::None, None).unwrap();
    let v = &report.sim.verdict;
    assert_eq!(v.recoveries.len(), 1);
    assert!(!v.recoveries[0].ok);
    assert_eq!(v.recoveries[0].withheld_by, [MemberId(2)]);
    assert_eq!(v.epochs_completed, 2);
    let stall = v.stall.as_ref().expect("a stalled verdict");
    assert_eq!((stall.iter, stall.failed.clone()), (3, vec![MemberId(4)]));
    assert!(report.summary.recovered.is_empty());
    assert!(!report.summary.passed(), "a stall without an expectation fails the run");
    let failed =
        report.summary.findings.iter().find(|f| matches!(f, Finding::RecoveryFailed { .. })).unwrap();
    assert!(matches!(failed, Finding::RecoveryFailed { withheld_by, .. } if withheld_by == &[2]), "{failed}");
}

/// Without a replacement the group stalls, and the verdict names the failed
/// member and the iteration.
#[test]
fn a_crash_without_replacement_stalls_with_a_clear_verdict() {
    let sc = build(4, "ring", 4, &crash(3, 2, "before-send", false), 5);
    let report = execute(&sc, TraceLevel::None, None).unwrap();
    let stall = report.sim.verdict.stall.clone().expect("stalled");
    assert_eq!((stall.iter, stall.failed), (2, vec![MemberId(3)]));
    assert_eq!(report.sim.verdict.epochs_completed, 1);
    let s = &report.summary;
    assert_eq!(s.stalled.as_ref().unwrap().failed, [3]);
    assert!(s.stalled.as_ref().unwrap().detail.contains("iteration 2 never completed"));
}

/// A partition that heals: keys agree afterwards, nobody is replaced; one
/// that never heals: a stalled verdict with nobody down.
#[test]
fn partitions_heal_or_stall() {
    let part = |until: &str| {
        format!("[[fault]]\nkind = \"partition\"\ngroups = [[1, 2], [3, 4, 5]]\nfrom_ms = 1500\n{until}")
    };
    let healed = build(5, "sm", 5, &part("until_ms = 3200\n"), 12);
    let report = execute(&healed, TraceLevel::None, None).unwrap();
    let v = &report.sim.verdict;
    assert!(v.keys_agreed && v.epochs_completed == 5 && v.stall.is_none(), "{v:?}");
    assert!(v.recoveries.is_empty());
    assert!(report.sim.messages_dropped > 0);
    let split = build(5, "sm", 5, &part(""), 12);
    let report = execute(&split, TraceLevel::None, None).unwrap();
    let stall = report.sim.verdict.stall.clone().expect("stalled");
    assert!(stall.failed.is_empty());
    assert_eq!(stall.incomplete.len(), 5);
    assert!(report.sim.verdict.epochs_completed < 5);
}

/// Same seed, same bytes — with crashes, replacements and partitions.
#[test]
fn faults_are_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    for file in ["churn.toml", "partition-heal.toml", "recovery-withheld.toml"] {
        let sc = scenario::load(&crate::harness::repo_root().join("scenarios").join(file)).unwrap();
        execute(&sc, TraceLevel::Full, Some(&tmp.path().join("a"))).unwrap();
        execute(&sc, TraceLevel::Full, Some(&tmp.path().join("b"))).unwrap();
        for f in ["trace.jsonl", "summary.json"] {
            let a = std::fs::read(tmp.path().join("a").join(f)).unwrap();
            let b = std::fs::read(tmp.path().join("b").join(f)).unwrap();
            assert!(a == b, "{file}: {f} differs");
        }
    }
}

/// A crash in the middle of a broadcast, under loss: one survivor lost the
/// dying member's last HFK and is a round behind. The RI relays that HFK
/// with its handover, the survivor catches up, and recovery completes.
#[test]
fn a_survivor_behind_catches_up_through_the_relay() {
    let net =
        "[network]\nlatency_ms = { dist = \"uniform\", min = 2, max = 20 }\nloss = 0.2\nclock_skew_ms = 30\n";
    let fault = "[[fault]]\nkind = \"crash\"\nmember = 3\nat_ms = 3008\nreplace = true\n";
    let sc = build(5, "ring", 5, &format!("{net}{fault}"), 3008);
    let tmp = tempfile::tempdir().unwrap();
    let report = execute(&sc, TraceLevel::Full, Some(tmp.path())).unwrap();
    let v = &report.sim.verdict;
    assert!(v.keys_agreed && v.epochs_completed == 5, "{v:?}");
    assert_eq!(report.summary.recovered, [3]);
    let trace = std::fs::read_to_string(tmp.path().join("trace.jsonl")).unwrap();
    assert!(trace.contains("\"kind\":\"hfk_relay\""), "the RI relayed HFK[3,r]");
    let f = std::fs::File::open(tmp.path().join("trace.jsonl")).unwrap();
    fraclab::report::verify::verify(std::io::BufReader::new(f)).unwrap();
}

/// A member suspected (here: skewed clocks make a round look silent) before
/// it really crashes is still replaced and recovered once it does.
#[test]
fn a_member_suspected_before_it_crashes_is_still_replaced() {
    let net = "[network]\nclock_skew_ms = 300\n";
    let sc = build(5, "ring", 4, &format!("{net}{}", crash(3, 2, "before-send", true)), 11);
    let report = execute(&sc, TraceLevel::None, None).unwrap();
    let v = &report.sim.verdict;
    assert_eq!(report.summary.recovered, [3], "{:?}", v.stall);
    assert!(v.keys_agreed && v.epochs_completed == 4 && report.summary.invariants_held);
}

/// Crashes at arbitrary instants, mid-broadcast, under loss and skew: the
/// survivors end up a round apart, yet recovery settles on the latest
/// iteration any survivor completed and every key agrees. These instants
/// once stalled or handed over a stale r.
#[test]
fn crashes_mid_broadcast_under_loss_recover() {
    for (at_ms, loss, member) in
        [(1010, 0.3, 1), (1010, 0.3, 3), (2004, 0.3, 1), (3006, 0.3, 1), (3008, 0.1, 1), (4005, 0.3, 3)]
    {
        let net = format!(
            "[network]\nlatency_ms = {{ dist = \"uniform\", min = 2, max = 20 }}\nloss = {loss}\nclock_skew_ms = 30\n"
        );
        let fault =
            format!("[[fault]]\nkind = \"crash\"\nmember = {member}\nat_ms = {at_ms}\nreplace = true\n");
        let sc = build(5, "ring", 5, &format!("{net}{fault}"), at_ms + u64::from(member));
        let tmp = tempfile::tempdir().unwrap();
        let report = execute(&sc, TraceLevel::Full, Some(tmp.path())).unwrap();
        let case = format!("at_ms {at_ms}, loss {loss}, member {member}");
        let v = &report.sim.verdict;
        assert!(v.keys_agreed && v.epochs_completed == 5, "{case}: {:?}", v.stall);
        assert_eq!(report.summary.recovered, [member], "{case}");
        assert!(report.summary.invariants_held, "{case}: {:?}", report.summary.findings);
        let f = std::fs::File::open(tmp.path().join("trace.jsonl")).unwrap();
        fraclab::report::verify::verify(std::io::BufReader::new(f)).unwrap_or_else(|e| panic!("{case}: {e}"));
    }
}

/// A replacement that crashes in the very iteration it resumes is replaced
/// in turn: declarations, the recovery ring and the analysis are keyed by
/// the failed member's incarnation, so the second recovery at the same r is
/// a new one.
#[test]
fn a_replacement_crashing_at_once_is_replaced_again() {
    let twice = format!("{}{}", crash(3, 2, "before-send", true), crash(3, 2, "before-send", true));
    let sc = build(5, "sm", 5, &twice, 1);
    let (outcome, _, a) = analyse(&sc).unwrap();
    let v = &outcome.verdict;
    assert!(v.keys_agreed && v.epochs_completed == 5, "{:?}", v.stall);
    assert_eq!(v.recoveries.iter().filter(|r| r.ok).count(), 2, "{:?}", v.recoveries);
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert!(a.compromised.is_empty());
}

/// Review finding: a member completes an iteration, confirms its key and
/// dies before its HFK reaches everyone, so the recovery redraws that
/// iteration. Its stale confirmation and θ must not count against the
/// replacement: the run completes with agreeing keys (it used to report a
/// key divergence or a broken `theta_agree`).
#[test]
fn a_dead_incarnations_key_does_not_count() {
    for (seed, verify, loss, at_ms) in
        [(3, "commitments", 0.2, 3070), (1, "none", 0.3, 3110), (1, "none", 0.3, 3050)]
    {
        let toml = format!(
            "name = \"d\"\nseed = {seed}\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = 3\ninit = \"ring\"\nkeygen = \"additive\"\nepochs = 6\nverify = \"{verify}\"\n[network]\nlatency_ms = {{ dist = \"uniform\", min = 5, max = 40 }}\nloss = {loss}\nduplicate = 0.1\nclock_skew_ms = 50\n[[fault]]\nkind = \"crash\"\nmember = 3\nat_ms = {at_ms}\nreplace = true\n"
        );
        let sc = fraclab::scenario::parse(&toml, "d.toml").unwrap();
        let s = fraclab::lab::execute(&sc, fraclab::scenario::TraceLevel::None, None).unwrap().summary;
        assert!(s.passed() && s.keys_agreed, "seed {seed}, {verify}, crash at {at_ms}: {:?}", s.problems());
        assert_eq!(s.recovered, [3]);
    }
}
