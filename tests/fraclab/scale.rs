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
