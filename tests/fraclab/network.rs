//! reference §8 network model: loss and duplication never stall the protocol.

use crate::harness::{assert_protocol_invariants, make, run_collect};

/// With 30 % loss and 20 % duplication, retransmission and duplicate
/// suppression still complete every epoch with agreeing keys — over several
/// seeds and both initialisations, and the run really did lose and
/// duplicate messages.
#[test]
fn loss_and_duplication_still_complete_every_epoch() {
    for init in ["sm", "ring"] {
        for seed in 1..=4 {
            let net = "latency_ms = { dist = \"exponential\", min = 2, mean = 15 }\nloss = 0.3\nduplicate = 0.2\nclock_skew_ms = 40";
            let sc = make("toy-64", 5, init, 4, net, seed);
            let (outcome, c) = run_collect(&sc);
            assert_eq!(outcome.verdict.epochs_completed, 4, "{init}, seed {seed}");
            assert!(outcome.verdict.keys_agreed, "{init}, seed {seed}");
            assert_protocol_invariants(sc.group(), 5, 4, &c);
            assert!(c.drops > 0 && c.duplicates > 0, "the network really lost and duplicated");
            assert!(outcome.retransmissions > 0);
            assert_eq!(outcome.messages_dropped, c.drops);
        }
    }
}

/// Even very heavy loss only slows the protocol down.
#[test]
fn heavy_loss_is_slower_but_completes() {
    let calm = make("toy-32", 4, "ring", 2, "", 8);
    let stormy = make("toy-32", 4, "ring", 2, "loss = 0.7", 8);
    let (calm, _) = run_collect(&calm);
    let (stormy, _) = run_collect(&stormy);
    assert!(stormy.verdict.keys_agreed);
    assert_eq!(stormy.verdict.epochs_completed, 2);
    assert!(stormy.messages_sent > 3 * calm.messages_sent);
}

/// Clock skew moves when members rekey, not what they draw: each member has
/// its own stream, so the same seed gives the same keys with or without skew
/// (and with or without loss).
#[test]
fn clock_skew_changes_timing_not_keys() {
    let straight = make("toy-64", 4, "sm", 3, "", 21);
    let skewed = make("toy-64", 4, "sm", 3, "clock_skew_ms = 300", 21);
    let (a, _) = run_collect(&straight);
    let (b, _) = run_collect(&skewed);
    assert!(a.verdict.keys_agreed && b.verdict.keys_agreed);
    assert_ne!(a.sim_time_us, b.sim_time_us);
    assert_eq!(a.verdict.final_sk, b.verdict.final_sk);
    let lossy = make("toy-64", 4, "sm", 3, "loss = 0.25\nclock_skew_ms = 300", 21);
    let (c, _) = run_collect(&lossy);
    assert_eq!(c.verdict.final_sk, a.verdict.final_sk);
    assert_ne!(c.messages_sent, a.messages_sent);
}
