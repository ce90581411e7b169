//! The simulator stepped from code (`sim::Simulation::step`), with faults
//! injected between steps.

use std::io;

use fraclab::protocol::{Check, MemberId};
use fraclab::scenario;
use fraclab::sim::fault::Partition;
use fraclab::sim::{self, Config, DropReason, NullRecorder, Record, Recorder, SimTime, Simulation, Step};

/// Five members on the ring, six epochs of 1 s, no faults.
fn config() -> Config {
    let toml = "name = \"t\"\nseed = 3\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = 5\ninit = \"ring\"\nkeygen = \"additive\"\nepochs = 6\n";
    scenario::parse(toml, "t.toml").expect("a valid scenario").sim_config()
}

/// Keeps the fault-related records, as text, and counts partition drops.
#[derive(Default)]
struct Faults {
    lines: Vec<String>,
    partition_drops: u64,
}

impl Recorder for Faults {
    fn wants_messages(&self) -> bool {
        true
    }

    fn record(&mut self, _: u64, _: SimTime, rec: &Record<'_>) -> io::Result<()> {
        match rec {
            Record::Crash { member } => self.lines.push(format!("crash {member}")),
            Record::Detect { member, check: Check::Silence, culprit, .. } => {
                self.lines.push(format!("{member} declares {culprit:?}"))
            }
            Record::Replace { member } => self.lines.push(format!("replace {member}")),
            Record::Recovered { member, ok, .. } => self.lines.push(format!("recovered {member} {ok}")),
            Record::Drop { reason: DropReason::Partition, .. } => self.partition_drops += 1,
            _ => {}
        }
        Ok(())
    }
}

/// Steps `sim` until virtual time reaches `t_us`.
fn step_until(sim: &mut Simulation<'_>, t_us: u64) {
    while sim.now().0 < t_us {
        assert_ne!(sim.step().expect("no simulator error"), Step::Done, "the run ended before {t_us} µs");
    }
}

/// Stepping one event at a time ends exactly where `run` does: the first
/// step starts the parties, event times never go back, and the outcome is
/// the same.
#[test]
fn stepping_to_the_end_is_running() {
    let cfg = config();
    let ran = sim::run(&cfg, &mut NullRecorder).expect("the run completes");
    let mut rec = NullRecorder;
    let mut sim = Simulation::new(&cfg, &mut rec);
    assert_eq!(sim.step().expect("start"), Step::Started);
    let mut last = SimTime(0);
    let mut events = 0;
    loop {
        match sim.step().expect("no simulator error") {
            Step::Event(at) => {
                assert!(at >= last, "time went back from {last:?} to {at:?}");
                last = at;
                events += 1;
            }
            Step::Done => break,
            Step::Started => panic!("started twice"),
        }
    }
    assert_eq!(sim.step().expect("done stays done"), Step::Done);
    let stepped = sim.finish();
    assert_eq!(stepped, ran);
    assert_eq!(stepped.events, events);
    assert!(stepped.verdict.keys_agreed && stepped.verdict.epochs_completed == 6);
}

/// A crash injected between steps, with a replacement, in the middle of
/// iteration 2: the survivors declare member 3 failed, a replacement
/// recovers it (process 700) and every epoch completes with agreed keys.
#[test]
fn an_injected_crash_is_detected_and_recovered() {
    let cfg = config();
    let mut rec = Faults::default();
    let mut sim = Simulation::new(&cfg, &mut rec);
    step_until(&mut sim, 2_100_000);
    sim.crash(MemberId(3), true).expect("the crash is recorded");
    assert!(sim.is_down(MemberId(3)));
    let outcome = sim.run().expect("the run completes");
    assert!(outcome.verdict.keys_agreed, "{:?}", outcome.verdict);
    assert_eq!(outcome.verdict.epochs_completed, 6);
    let recovered: Vec<(MemberId, bool)> =
        outcome.verdict.recoveries.iter().map(|r| (r.member, r.ok)).collect();
    assert_eq!(recovered, [(MemberId(3), true)]);
    assert_eq!(rec.lines.first().map(String::as_str), Some("crash 3"));
    assert!(rec.lines.iter().any(|l| l == "1 declares Some(Member(MemberId(3)))"), "{:?}", rec.lines);
    assert!(rec.lines.contains(&"replace 3".to_string()));
    assert_eq!(rec.lines.last().map(String::as_str), Some("recovered 3 true"));
}

/// The same crash without a replacement: member 3 is declared failed and
/// the run stalls in the iteration it never finished, naming it.
#[test]
fn an_injected_crash_without_replacement_stalls() {
    let cfg = config();
    let mut rec = Faults::default();
    let mut sim = Simulation::new(&cfg, &mut rec);
    step_until(&mut sim, 2_100_000);
    sim.crash(MemberId(3), false).expect("the crash is recorded");
    let outcome = sim.run().expect("the run completes");
    let stall = outcome.verdict.stall.expect("the run stalls");
    assert_eq!(stall.failed, [MemberId(3)]);
    assert!(outcome.verdict.epochs_completed < 6);
    assert!(rec.lines.iter().any(|l| l.ends_with("declares Some(Member(MemberId(3)))")));
    assert!(!rec.lines.iter().any(|l| l.starts_with("replace")), "{:?}", rec.lines);
}

/// A partition injected between steps drops the messages across it while
/// it lasts; once it heals, retransmission completes every epoch.
#[test]
fn an_injected_partition_drops_across_it_and_heals() {
    let cfg = config();
    let mut rec = Faults::default();
    let mut sim = Simulation::new(&cfg, &mut rec);
    step_until(&mut sim, 1_500_000);
    let from_us = sim.now().0;
    let groups = vec![vec![MemberId(1), MemberId(2)]];
    sim.partition(Partition { groups, from_us, until_us: Some(from_us + 600_000) });
    let outcome = sim.run().expect("the run completes");
    assert!(rec.partition_drops > 0, "nothing crossed the partition");
    assert!(outcome.verdict.keys_agreed && outcome.verdict.epochs_completed == 6, "{:?}", outcome.verdict);
}
