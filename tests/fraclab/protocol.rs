//! reference §1: processes 300, 400 and 500 with key confirmation.

use fraclab::sim::{self, Finding, NullRecorder, SimError};

use crate::harness::{assert_protocol_invariants, make, run_collect};

/// For n in 2..=9 and both initialisations, every member derives the same
/// SK every epoch, I1 holds and θ_{j+1} = Σ FK — checked from the records,
/// not from the simulator's own verdict, and then the verdict is checked too.
#[test]
fn all_members_agree_and_invariants_hold_for_n_2_to_9_and_both_inits() {
    for init in ["sm", "ring"] {
        for n in 2..=9u32 {
            let epochs = 3;
            let sc = make(
                "toy-64",
                n,
                init,
                epochs,
                "latency_ms = { dist = \"uniform\", min = 1, max = 30 }",
                100 + u64::from(n),
            );
            let (outcome, c) = run_collect(&sc);
            assert_protocol_invariants(sc.group(), n, epochs, &c);
            let v = &outcome.verdict;
            assert_eq!(v.epochs_completed, epochs, "init {init}, n = {n}");
            assert!(v.keys_agreed, "init {init}, n = {n}");
            assert!(v.findings.is_empty(), "init {init}, n = {n}: {:?}", v.findings);
            assert_eq!(v.final_sk, Some(c.keys[&(epochs + 1)][&1]));
        }
    }
}

/// The ring's records show the patent's δ chain: δ_1 = γ + v_1,
/// δ_i = δ_{i−1} + v_i, and θ_1 = δ_n − γ = Σ v_i.
#[test]
fn ring_initialisation_follows_process_400() {
    let n = 5;
    let sc = make("toy-32", n, "ring", 1, "", 9);
    let (_, c) = run_collect(&sc);
    let g = sc.group();
    let gamma = c.secret("gamma", 1, 1);
    let mut delta = g.add(gamma, c.secret("v", 1, 1));
    assert_eq!(&delta, c.secret("delta", 1, 1));
    for i in 2..=n {
        delta = g.add(&delta, c.secret("v", i, 1));
        assert_eq!(&delta, c.secret("delta", i, 1), "δ_{i}");
    }
    let theta1 = &c.thetas[&1][&1];
    assert_eq!(&g.sub(&delta, gamma), theta1);
    for i in 1..=n {
        assert_eq!(c.secret("alpha", i, 1), &g.sub(theta1, c.secret("v", i, 1)), "α_(i,1) = θ_1 − v_i");
    }
}

/// Process 500 step 545: HFK sums with λ = 1 − n recover θ_{j+1} = Σ FK;
/// the pads roll forward as α_{i,j+1} = θ_{j+1} − FK_{i,j}.
#[test]
fn pads_roll_forward_as_theta_minus_fk() {
    let n = 4;
    let sc = make("toy-128", n, "sm", 3, "", 5);
    let (_, c) = run_collect(&sc);
    let g = sc.group();
    for j in 1..=3u64 {
        let theta_next = &c.thetas[&(j + 1)][&1];
        for i in 1..=n {
            let expect = g.sub(theta_next, c.secret("fk", i, j));
            assert_eq!(c.secret("alpha", i, j + 1), &expect);
        }
    }
}

/// Zero epochs: initialisation alone yields SK_1 (claim 1(a)).
#[test]
fn initialisation_alone_yields_the_first_key() {
    let sc = make("toy-16", 3, "ring", 0, "", 1);
    let (outcome, c) = run_collect(&sc);
    assert_eq!(outcome.verdict.epochs_completed, 0);
    assert!(outcome.verdict.keys_agreed);
    assert_eq!(c.keys.len(), 1);
}

/// reference §9: a run that exceeds its event budget stops with an error naming
/// the limit, instead of running forever.
#[test]
fn the_event_limit_stops_a_run() {
    let sc = make("toy-64", 4, "sm", 5, "", 1);
    let mut cfg = sc.sim_config();
    cfg.max_events = 50;
    match sim::run(&cfg, &mut NullRecorder) {
        Err(e @ SimError::EventLimit { limit: 50, .. }) => {
            assert!(e.to_string().contains("limit of 50 events"))
        }
        other => panic!("expected the event limit, got {other:?}"),
    }
}

/// On a published group (256-bit q inside a 2048-bit P) an honest run has
/// no findings at all: no broken invariant, no divergence.
#[test]
fn honest_runs_have_no_findings() {
    let sc = make("rfc5114-2048-256", 3, "ring", 2, "", 77);
    let (outcome, _) = run_collect(&sc);
    assert_eq!(outcome.verdict.findings, Vec::<Finding>::new());
    assert!(outcome.verdict.keys_agreed);
}
