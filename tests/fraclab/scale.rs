//! Work per event stays constant as the group grows (issue 14), counted by
//! the simulator's instrumented work counter, never by a clock.

use fraclab::scenario;
use fraclab::sim::{NullRecorder, Simulation, Step};

/// (events, work) of one SM-initialised, additive run of `members` over
/// `epochs` epochs on toy-64 with uniform latency (so that deliveries spread
/// over many queue slots).
fn work(members: u32, epochs: u64) -> (u64, u64) {
    let toml = format!(
        "name = \"w\"\nseed = 9\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = {members}\ninit = \"sm\"\nkeygen = \"additive\"\nepochs = {epochs}\n[network]\nlatency_ms = {{ dist = \"uniform\", min = 5, max = 40 }}\n"
    );
    let cfg = scenario::parse(&toml, "w.toml").expect("a valid scenario").sim_config();
    let mut rec = NullRecorder;
    let mut sim = Simulation::new(&cfg, &mut rec);
    while sim.step().expect("the run completes") != Step::Done {}
    let (events, work) = (sim.events(), sim.work());
    assert!(sim.finish().verdict.keys_agreed);
    (events, work)
}

#[test]
fn work_per_event_does_not_grow_with_the_group() {
    let (e32, w32) = work(32, 2);
    let (e64, w64) = work(64, 2);
    let (e128, w128) = work(128, 2);
    // Each doubling of n quadruples the events (every member broadcasts)...
    assert!(e64 > 3 * e32 && e128 > 3 * e64, "events {e32} {e64} {e128}");
    let per = |w: u64, e: u64| w as f64 / e as f64;
    let (p32, p64, p128) = (per(w32, e32), per(w64, e64), per(w128, e128));
    // ...while the work per event stays a small constant: no scan of the
    // members, the queue or the pending payloads per message.
    assert!(p128 < 4.0, "work per event at n = 128: {p128}");
    assert!(p128 <= 1.25 * p64 && p64 <= 1.25 * p32, "work per event grows: {p32} {p64} {p128}");
}

/// (observations, work) of the knowledge analysis of a ring-initialised run
/// of `members` over 4 epochs with one α leaked to the group (the analysis
/// benchmark's shape), counted by the engine's instrumented work counter.
fn analysis_work(members: u32, init: &str) -> (u64, u64, Vec<u32>) {
    let toml = format!(
        "name = \"a\"\nseed = 5\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = {members}\ninit = \"{init}\"\n\
         keygen = \"additive\"\nepochs = 4\n[[adversary]]\nkind = \"leak\"\nmember = 1\nsecret = \"alpha\"\nepoch = 2\nto = \"group\"\n"
    );
    let sc = scenario::parse(&toml, "a.toml").expect("a valid scenario");
    let (_, _, a) = fraclab::lab::analyse(&sc).expect("the run completes");
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    (a.observations, a.work, a.compromised.iter().map(|m| m.0).collect())
}

#[test]
fn analysis_work_per_observation_does_not_grow_with_the_group() {
    for init in ["ring", "sm", "ring-hardened"] {
        let (o32, w32, c32) = analysis_work(32, init);
        let (o64, w64, c64) = analysis_work(64, init);
        let (o128, w128, c128) = analysis_work(128, init);
        // Every view sees every HFK: observations grow as n²...
        assert!(o64 > 3 * o32 && o128 > 3 * o64, "{init}: observations {o32} {o64} {o128}");
        // ...and the leak compromises member 1 alone at every size.
        assert!(c32 == [1] && c64 == [1] && c128 == [1], "{init}: {c32:?} {c64:?} {c128:?}");
        // The elimination's work per observation stays a small constant: no
        // row as long as the group is touched per HFK (the echelon basis
        // reduced every HFK through its iteration's θ row, O(n) each).
        let per = |w: u64, o: u64| w as f64 / o as f64;
        let (p32, p64, p128) = (per(w32, o32), per(w64, o64), per(w128, o128));
        assert!(p128 < 64.0, "{init}: analysis work per observation at n = 128: {p128}");
        assert!(
            p128 <= 1.3 * p64 && p64 <= 1.3 * p32.max(20.0),
            "{init}: work per observation grows: {p32} {p64} {p128}"
        );
    }
}
