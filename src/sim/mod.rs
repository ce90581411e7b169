//! The deterministic discrete-event simulator. It alone owns virtual time,
//! randomness, the network, faults (crashes, partitions, replacements) and
//! adversaries; the protocol parties in `protocol` only answer calls.
//!
//! A run is a [`Simulation`]: [`Simulation::step`] starts the parties, then
//! processes one event at a time, and [`Simulation::run`] steps to the end.
//! Between steps, code may inject a crash or a partition. Each party lives
//! in its own slot (its node, RNG stream, clock skew, timer, liveness).
//!
//! A run ends when nothing is left to do, or when nothing has progressed
//! (no secret, θ, key or recovery) for a stall horizon of
//! 2 × rekey interval + 10 × round timeout + 4 × clock skew (plus, under
//! loss, the time a payload needs to get through): members that wait for a crashed
//! peer or across an unhealed partition would otherwise retransmit forever.
//!
//! Virtual time is integer µs. Events are totally ordered by (time,
//! sequence). Every party draws from its own named ChaCha20 stream, the
//! network from "network", clock skews from "clock". Everything the run does
//! is reported, in order, to a [`Recorder`] as [`Record`]s numbered by a
//! strictly increasing `seq`; the trace writer in `report` is one recorder.

pub mod fault;
pub mod network;
pub mod queue;
pub mod rng;
pub mod truth;
pub(crate) mod wire;

use std::io;

use rand_chacha::ChaCha20Rng;

use crate::adversary::{Adversaries, Leak, LeakSecret, WireAttack};
use crate::group::{GroupParams, Scalar, SharedKey};
use crate::protocol::link::Backoff;
use crate::protocol::member::{Member, MemberConfig};
use crate::protocol::sealed;
use crate::protocol::sm::SecurityManager;
use crate::protocol::{
    Body, Channel, Check, Envelope, InitKind, KeygenKind, LocalTime, MemberId, Mode, Node, Note, Output,
    Party, SecretName, Verify,
};
use fault::{CrashAt, Faults, Halt, Partition};
use network::{Fate, NetworkModel};
use queue::EventQueue;
pub use truth::{Detection, Finding, Recovery, Stall, Verdict};

/// Virtual time in µs since the start of the run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct SimTime(pub u64);

/// Everything a run needs; built from a scenario.
#[derive(Clone, Debug)]
pub struct Config {
    /// The run's seed: every named random stream ([`rng::stream`]) is
    /// derived from it, so one seed gives one run.
    pub seed: u64,
    /// The group every scalar and element of the run lives in.
    pub group: &'static GroupParams,
    /// n, the number of members, numbered 1..=n (a scenario allows
    /// 2..=4096).
    pub members: u32,
    /// How θ_1 and the first pads are produced: by a security manager
    /// (process 300) or a ring (process 400, or the hardened ring).
    pub init: InitKind,
    /// How each key-generation iteration draws a member's key part:
    /// additive (process 500) or ElGamal (process 600).
    pub keygen: KeygenKind,
    /// Commitments (processes 800, 900 and verified key generation).
    pub verify: Verify,
    /// Key-generation iterations to run after initialisation; the run is
    /// complete once every member holds θ_{epochs+1}. May be 0.
    pub epochs: u64,
    /// Iteration j falls due when a member's own clock reads j × this, in
    /// µs (a scenario's `rekey_interval_ms` × 1000).
    pub rekey_interval_us: i64,
    /// Latency, loss and duplication of every transmission.
    pub network: NetworkModel,
    /// The bound on each member's clock offset from virtual time, in µs:
    /// every member's offset is drawn uniform in ±this from the "clock"
    /// stream (the SM's clock is exact).
    pub clock_skew_us: i64,
    /// Events after which the run stops with [`SimError::EventLimit`].
    pub max_events: u64,
    /// The scenario's adversaries: leaks, coalitions, rogue members or SM,
    /// and network adversaries.
    pub adversaries: Adversaries,
    /// Silence, in µs, after which a member missing from a round is
    /// declared failed; a member waits at least
    /// [`Config::loss_allowance_us`] and adds the clocks' spread.
    pub round_timeout_us: i64,
    /// Crashes and partitions scheduled by the scenario;
    /// [`Simulation::partition`] adds to them during a run.
    pub faults: Faults,
    /// `channel`: [`Channel::Sealed`] signs and encrypts every message
    /// (`plain` and `ideal` differ only in what the eavesdropper reads).
    pub channel: Channel,
}

impl Config {
    /// How long a run may go without progress before it is declared
    /// stalled. The base is two rekey intervals, ten round timeouts and
    /// twice the clocks' spread (a round falls due up to one spread apart on
    /// two clocks, and silence is timed with one spread of slack). On a
    /// lossy network it grows by the time a payload needs to get through
    /// with overwhelming probability ([`attempts_through`]), so a slow but
    /// live run is never cut off as stalled.
    pub fn stall_after_us(&self) -> u64 {
        let through = self.backoff().span_us(attempts_through(self.network.loss));
        self.base_horizon_us().saturating_add(through) as u64
    }

    fn base_horizon_us(&self) -> i64 {
        let spread = 2 * self.clock_skew_us;
        2 * self.rekey_interval_us + 10 * self.round_timeout_us + 2 * spread
    }

    /// How long a live member's payload may take to get through: the time
    /// until the transmission by which every one of them is lost with
    /// probability below 10⁻⁹ (the first transmission without loss).
    /// Failure detection waits at least this long, so loss alone does not
    /// get a live member declared failed.
    pub fn loss_allowance_us(&self) -> i64 {
        let attempts = attempts_below(self.network.loss, 1e-9);
        self.backoff()
            .span_us(attempts.saturating_sub(1))
            .saturating_add(self.network.latency.bound_us() as i64)
    }

    /// The links' retransmission policy: the first wait is the network's
    /// RTO, each later wait doubles, up to a 64th of the base stall horizon
    /// (so a payload to a dead member is retransmitted some 70 times before
    /// the run ends, however long the round timeout).
    pub fn backoff(&self) -> Backoff {
        let rto_us = self.network.retransmit_timeout_us();
        Backoff { rto_us, cap_us: rto_us.max(self.base_horizon_us() / 64) }
    }
}

/// How many transmissions a payload needs so that, at this loss rate, all
/// of them are lost with probability below 10⁻¹² (1 without loss): the stall
/// horizon's allowance.
pub fn attempts_through(loss: f64) -> u32 {
    attempts_below(loss, 1e-12)
}

/// The number of transmissions k with loss^k < `p` (at least 1, at most
/// 10⁶). Counted by repeated multiplication, each step correctly rounded,
/// so that every platform gets the same k (`f64::ln` is not guaranteed to).
fn attempts_below(loss: f64, p: f64) -> u32 {
    let mut k = 1;
    let mut all_lost = loss;
    while all_lost >= p && k < 1_000_000 {
        all_lost *= loss;
        k += 1;
    }
    k
}

/// One traceable happening, in the order the simulator saw it.
#[derive(Debug)]
pub enum Record<'a> {
    /// A secret was drawn or derived; `by` is the party that drew or
    /// derived it (the SM draws members' v).
    Secret {
        /// Whose secret it is (the SM's draw v_i is member i's).
        owner: MemberId,
        /// Which secret: v, γ, δ, α, FK, x, a share, w, ξ or β.
        name: SecretName,
        /// The epoch for α, the iteration for FK and x, the recipient for
        /// a share, the recovered iteration for process 700's draws, and 1
        /// for the other initialisation secrets.
        index: u64,
        /// The secret itself.
        value: &'a Scalar,
        /// The party whose node drew or derived it.
        by: Party,
    },
    /// A leak adversary acted: its member revealed its secret of its epoch
    /// to its audience, the moment the member came to hold it.
    Leak {
        /// The declared leak that was carried out.
        leak: &'a Leak,
        /// The θ, α or FK revealed (an SK is not a scalar and has none).
        value: Option<&'a Scalar>,
    },
    /// A party put a message on the network (a retransmission too).
    Send {
        /// The message's number in this run: 0, 1, 2, … in order of
        /// transmission, shared with the messages adversaries inject.
        msg: u64,
        /// The envelope as the sender built it (before any sealing or
        /// tampering).
        env: &'a Envelope,
    },
    /// The network delivered a copy of message `msg` to a live node; the
    /// recipient's channel may still refuse it ([`Record::Reject`]).
    Deliver {
        /// The message delivered.
        msg: u64,
        /// Its recipient.
        to: Party,
        /// Whether this is the network's extra copy of a duplicated
        /// message.
        duplicate: bool,
    },
    /// The network did not deliver (a copy of) message `msg`.
    Drop {
        /// The message dropped.
        msg: u64,
        /// Why it was dropped.
        reason: DropReason,
    },
    /// A network adversary tampered with message `msg` in flight, or
    /// injected it (a replay of message `of`, or a forgery); `env` is what
    /// the message claims to be.
    Attack {
        /// The message tampered with, or the new number of the injected
        /// one.
        msg: u64,
        /// What the adversary did.
        attack: WireAttack,
        /// For a replay, the message replayed; `None` otherwise.
        of: Option<u64>,
        /// The envelope the message claims to carry.
        env: &'a Envelope,
    },
    /// `member`'s channel refused message `msg`.
    Reject {
        /// The recipient that refused it.
        member: Party,
        /// The message refused.
        msg: u64,
        /// The check it failed.
        reason: sealed::Reject,
    },
    /// An adversary's message reached `member`'s protocol state.
    Forgery {
        /// The recipient whose protocol state took it.
        member: Party,
        /// The message, as numbered in its [`Record::Attack`].
        msg: u64,
        /// How the adversary made or changed it.
        attack: WireAttack,
    },
    /// `member` now holds θ_`epoch`.
    Theta {
        /// The member.
        member: MemberId,
        /// The epoch, from 1 (initialisation gives θ_1).
        epoch: u64,
        /// θ_epoch as the member holds it.
        value: &'a Scalar,
    },
    /// `member` derived SK_`epoch`.
    Key {
        /// The member.
        member: MemberId,
        /// The epoch, from 1.
        epoch: u64,
        /// The key it derived.
        sk: &'a SharedKey,
    },
    /// `member`'s node crashed (a scheduled crash, an injected one, or a
    /// crash point reached); it is never called again.
    Crash {
        /// The member whose node crashed.
        member: MemberId,
    },
    /// `member` found `check` failing in iteration `iter`: silence (it
    /// declares `culprit` failed) or a verification check, which names a
    /// culprit when it can.
    Detect {
        /// The member that ran the check.
        member: MemberId,
        /// The check that failed ([`Check::Silence`] for a failure
        /// declared after silence).
        check: Check,
        /// The party the check blames, if it can name one.
        culprit: Option<Party>,
        /// The iteration the check ran in (1 for the initialisation checks
        /// of processes 800 and 900).
        iter: u64,
    },
    /// A replacement node took `member`'s index (process 700 starts).
    Replace {
        /// The index taken.
        member: MemberId,
    },
    /// `member`'s replacement finished (or gave up on) process 700 for
    /// iteration `iter`.
    Recovered {
        /// The index recovered.
        member: MemberId,
        /// The iteration recovered: the replacement resumes at `iter + 1`.
        iter: u64,
        /// Whether it recovered: every survivor's ĤFK arrived, its key
        /// matched the SK the RI sent, and every re-derived secret equals
        /// the original.
        ok: bool,
    },
}

impl Record<'_> {
    /// Whether this is a per-message record (send, deliver, drop, attack):
    /// one the simulator builds only for a recorder that
    /// [wants messages](Recorder::wants_messages).
    pub fn is_message(&self) -> bool {
        matches!(
            self,
            Record::Send { .. } | Record::Deliver { .. } | Record::Drop { .. } | Record::Attack { .. }
        )
    }
}

/// Why the network dropped a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// The network lost it.
    Loss,
    /// A partition separates its sender from its recipient.
    Partition,
    /// Its recipient (the node it is sealed to) has crashed.
    Crashed,
}

impl DropReason {
    /// The reason's name in traces.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::Crashed => "crashed",
        }
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a run's records go.
pub trait Recorder {
    /// Whether per-message records (send, deliver, drop, attack) are
    /// wanted at all; when not, the simulator does not build them (their
    /// `seq` numbers are still used, so a record has the same `seq` at every
    /// trace level).
    fn wants_messages(&self) -> bool;
    /// Takes one record: `seq` is its number (0, 1, 2, … with gaps where
    /// message records were not built), `at` the virtual time it happened.
    /// An error ends the run with [`SimError::Io`].
    fn record(&mut self, seq: u64, at: SimTime, rec: &Record<'_>) -> io::Result<()>;
}

/// A recorder that keeps nothing.
pub struct NullRecorder;

impl Recorder for NullRecorder {
    fn wants_messages(&self) -> bool {
        false
    }
    fn record(&mut self, _: u64, _: SimTime, _: &Record<'_>) -> io::Result<()> {
        Ok(())
    }
}

/// Why a run stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The [`Recorder`] failed (writing the trace, say).
    #[error("writing the trace failed: {0}")]
    Io(#[from] io::Error),
    /// The run processed more than [`Config::max_events`] events.
    #[error("the run reached the limit of {limit} events (reference §9) at t = {at_us} µs")]
    EventLimit {
        /// The limit, [`Config::max_events`].
        limit: u64,
        /// Virtual time, in µs, of the event past the limit.
        at_us: u64,
    },
    /// A party addressed a message to a party the group does not have: a
    /// fraclab bug (payloads naming such parties are refused on receipt),
    /// reported as an error rather than an out-of-range index.
    #[error(
        "fraclab bug: {from} sent a message to {to}, which is not a party of this group, at t = {at_us} µs"
    )]
    Misaddressed {
        /// The sender, as its `Debug` form.
        from: String,
        /// The recipient it named, as its `Debug` form.
        to: String,
        /// Virtual time of the send, in µs.
        at_us: u64,
    },
}

/// Counters and the verdict of a finished run.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Outcome {
    /// What the ground truth says of the run: epochs completed, key
    /// agreement, findings, recoveries, detections, a stall.
    pub verdict: Verdict,
    /// Events the simulator processed: deliveries, timers that fired and
    /// scheduled crashes (not the trace's line count, which the footer
    /// gives).
    pub events: u64,
    /// Transmissions by the parties, retransmissions included (a tampered
    /// message too; adversaries' injections are not counted).
    pub messages_sent: u64,
    /// Copies of the parties' messages handed to a live recipient,
    /// duplicates included, whether or not its channel then accepted them.
    pub messages_delivered: u64,
    /// Copies of the parties' messages lost, cut off by a partition, or
    /// addressed to a node that had crashed.
    pub messages_dropped: u64,
    /// Transmissions that were retransmissions (attempt ≥ 1) of a payload
    /// not acknowledged in time; part of `messages_sent`.
    pub retransmissions: u64,
    /// Virtual time at the end, in µs: the time of the last event
    /// processed.
    pub sim_time_us: u64,
    /// Messages the channel refused, by reason.
    pub rejected: std::collections::BTreeMap<sealed::Reject, u64>,
    /// Adversaries' messages (tampered, replayed, forged) that reached
    /// protocol state.
    pub accepted_forgeries: u64,
    /// The network adversaries' moves, by attack.
    pub attacks: std::collections::BTreeMap<WireAttack, u64>,
}

enum Event {
    /// The message travels inline: the calendar queue moves an event once
    /// in and once out, so a box per message would cost more (an allocation
    /// and a free) than it saves.
    Deliver {
        msg: u64,
        wire: wire::Wire,
        duplicate: bool,
        /// The attack that made or changed it; `None` for an honest message.
        origin: Option<WireAttack>,
    },
    Timer {
        party: Party,
        generation: u64,
    },
    /// A crash at a time, of the member's `incarnation`.
    Crash {
        member: MemberId,
        incarnation: u32,
    },
}

/// The configuration of member `id`'s `incarnation`-th node.
fn member_config(cfg: &Config, id: MemberId, incarnation: u32) -> MemberConfig {
    MemberConfig {
        id,
        members: cfg.members,
        group: cfg.group,
        init: cfg.init,
        keygen: cfg.keygen,
        verify: cfg.verify,
        epochs: cfg.epochs,
        rekey_interval_us: cfg.rekey_interval_us,
        backoff: cfg.backoff(),
        round_timeout_us: cfg.round_timeout_us,
        clock_spread_us: 2 * cfg.clock_skew_us,
        loss_allowance_us: cfg.loss_allowance_us(),
        incarnation,
    }
}

/// Member `id`'s `incarnation`-th node, with the conduct the adversaries
/// give it.
fn member_node(cfg: &Config, id: MemberId, incarnation: u32) -> Member {
    let conduct = cfg.adversaries.member_conduct(id, incarnation, cfg.members);
    Member::new(member_config(cfg, id, incarnation), conduct)
}

/// Who occupies a party's slot.
#[allow(clippy::large_enum_variant, reason = "one per party, in place in its slot")]
enum Occupant {
    Sm(SecurityManager),
    Member(Member),
    /// The SM's slot in a run without one (process 400).
    Vacant,
}

/// One party's place in the simulation: its node and everything the
/// simulator keeps about it.
struct Slot {
    occupant: Occupant,
    /// The party's own stream ("sm", "member/i", "member/i/k" for the k-th
    /// replacement).
    rng: ChaCha20Rng,
    /// How far the party's clock is off virtual time.
    skew_us: i64,
    /// The deadline the party's timer is armed for, and its generation (a
    /// re-armed timer makes older timer events stale).
    armed: (Option<LocalTime>, u64),
    crashed: bool,
    /// Which incarnation of the index the node is.
    incarnation: u32,
    /// The payloads (recipient, its incarnation, seq) whose acknowledgement
    /// an after-send crash point waits for.
    watch: Vec<(Party, u32, u64)>,
    /// For a crash injected by [`Simulation::crash`]: whether a replacement
    /// takes the index (the scenario's crashes say so themselves).
    injected_replace: Option<bool>,
}

impl Slot {
    fn new(occupant: Occupant, rng: ChaCha20Rng, skew_us: i64) -> Slot {
        Slot {
            occupant,
            rng,
            skew_us,
            armed: (None, 0),
            crashed: false,
            incarnation: 0,
            watch: Vec::new(),
            injected_replace: None,
        }
    }

    fn node(&self) -> Option<&dyn Node> {
        match &self.occupant {
            Occupant::Sm(sm) => Some(sm),
            Occupant::Member(m) => Some(m),
            Occupant::Vacant => None,
        }
    }
}

/// What one [`Simulation::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Every party was started (the first step).
    Started,
    /// One event (a delivery, a timer, a scheduled crash) at this time.
    Event(SimTime),
    /// Nothing is left to do, or nothing has progressed for the stall
    /// horizon: the run is over ([`Simulation::finish`]).
    Done,
}

/// A run in progress, driven one [`Simulation::step`] at a time (or to the
/// end by [`Simulation::run`]). Between steps, code may inject a crash
/// ([`Simulation::crash`]) or a partition ([`Simulation::partition`]).
pub struct Simulation<'r> {
    cfg: Config,
    rec: &'r mut dyn Recorder,
    queue: EventQueue<Event>,
    /// Slot 0 is the SM's, slot i member i's.
    slots: Vec<Slot>,
    net_rng: ChaCha20Rng,
    /// [`NetworkModel::certain`], once.
    certain_fate: Option<network::Fate>,
    truth: truth::Truth,
    now: SimTime,
    next_record: u64,
    next_msg: u64,
    out: Outcome,
    /// Indices taken by a replacement that has not recovered (yet).
    unrecovered: std::collections::BTreeSet<MemberId>,
    /// Members some survivor has declared failed (a crash may come later).
    suspected: std::collections::BTreeSet<MemberId>,
    last_progress: SimTime,
    chan: wire::Channel,
    /// The stall horizon, [`Config::stall_after_us`].
    stall_after_us: u64,
    started: bool,
    done: bool,
}

/// Runs `cfg` to the end, reporting to `rec`.
pub fn run(cfg: &Config, rec: &mut dyn Recorder) -> Result<Outcome, SimError> {
    Simulation::new(cfg, rec).run()
}

/// A party's index among the slots: 0 for the SM, i for member i.
fn index(p: Party) -> usize {
    p.trace_id() as usize
}

impl<'r> Simulation<'r> {
    /// A run of `cfg`, not started yet, reporting to `rec`.
    pub fn new(cfg: &Config, rec: &'r mut dyn Recorder) -> Simulation<'r> {
        let cfg = cfg.clone();
        let n = cfg.members;
        let backoff = cfg.backoff();
        let sm = match cfg.init {
            InitKind::Sm => Occupant::Sm(SecurityManager::new(
                cfg.group,
                n,
                backoff,
                cfg.verify,
                cfg.adversaries.sm_conduct(),
            )),
            _ => Occupant::Vacant,
        };
        let mut queue = EventQueue::new();
        for c in &cfg.faults.crashes {
            if let CrashAt::Time(t) = c.at {
                let incarnation =
                    cfg.faults.crashes.iter().filter(|x| x.member == c.member).position(|x| x == c);
                let incarnation = incarnation.expect("the crash is in the list") as u32;
                queue.push(SimTime(t), Event::Crash { member: c.member, incarnation });
            }
        }
        let mut slots = vec![Slot::new(sm, rng::stream(cfg.seed, "sm"), 0)];
        let mut clock = rng::stream(cfg.seed, "clock");
        let window_us = wire::window_us(cfg.clock_skew_us, cfg.network.latency.bound_us());
        let chan = wire::Channel::new(
            cfg.seed,
            cfg.group,
            cfg.channel.is_sealed(),
            n as usize + 1,
            window_us,
            cfg.adversaries.wire().cloned(),
        );
        for i in 1..=n {
            let node = Occupant::Member(member_node(&cfg, MemberId(i), 0));
            let rng = rng::stream(cfg.seed, &format!("member/{i}"));
            slots.push(Slot::new(node, rng, network::draw_skew(&mut clock, cfg.clock_skew_us)));
        }
        Simulation {
            rec,
            queue,
            slots,
            unrecovered: std::collections::BTreeSet::new(),
            suspected: std::collections::BTreeSet::new(),
            last_progress: SimTime(0),
            chan,
            stall_after_us: cfg.stall_after_us(),
            started: false,
            done: false,
            net_rng: rng::stream(cfg.seed, "network"),
            certain_fate: cfg.network.certain(),
            truth: truth::Truth::new(cfg.group, n),
            now: SimTime(0),
            next_record: 0,
            next_msg: 0,
            out: Outcome::default(),
            cfg,
        }
    }

    /// A new node at a crashed member's index: the next incarnation.
    fn spawn_replacement(&mut self, member: MemberId) -> Result<(), SimError> {
        let party = Party::Member(member);
        let incarnation = self.slot(party).incarnation + 1;
        let node = member_node(&self.cfg, member, incarnation);
        let rng = rng::stream(self.cfg.seed, &format!("member/{}/{incarnation}", member.0));
        let slot = self.slot_mut(party);
        slot.occupant = Occupant::Member(node);
        slot.rng = rng;
        slot.incarnation = incarnation;
        slot.crashed = false;
        slot.injected_replace = None;
        self.chan.replaced(index(party), incarnation);
        self.unrecovered.insert(member);
        self.record(&Record::Replace { member })?;
        let now = self.local(party);
        let out = self.with_rng(party, |node, rng| node.start(now, rng));
        self.apply(party, out)
    }

    fn slot(&self, p: Party) -> &Slot {
        &self.slots[index(p)]
    }

    fn slot_mut(&mut self, p: Party) -> &mut Slot {
        &mut self.slots[index(p)]
    }

    /// Crashes `party`'s node now; it is never called again.
    fn crash_now(&mut self, party: Party) -> io::Result<()> {
        let slot = self.slot_mut(party);
        slot.crashed = true;
        slot.watch.clear();
        slot.armed.1 += 1;
        slot.armed.0 = None;
        let member = match party {
            Party::Member(m) => m,
            Party::Sm => MemberId(0),
        };
        self.record(&Record::Crash { member })
    }

    fn local(&self, p: Party) -> LocalTime {
        LocalTime(self.now.0 as i64 + self.slot(p).skew_us)
    }

    fn record(&mut self, rec: &Record<'_>) -> io::Result<()> {
        let seq = self.next_record;
        self.next_record += 1;
        self.rec.record(seq, self.now, rec)
    }

    /// Skips a message record's `seq` when messages are not being recorded.
    fn record_message(&mut self, rec: impl FnOnce() -> Record<'static>) -> io::Result<()> {
        if self.rec.wants_messages() {
            self.record(&rec())
        } else {
            self.next_record += 1;
            Ok(())
        }
    }

    /// Starts every party (the first call), or processes the next event.
    /// Stale timers are skipped, not counted as events.
    pub fn step(&mut self) -> Result<Step, SimError> {
        if !self.started {
            self.started = true;
            self.start_all()?;
            return Ok(Step::Started);
        }
        while !self.done {
            let Some((at, event)) = self.queue.pop() else { break };
            // A timer re-armed since it was scheduled is stale: not an event.
            if let Event::Timer { party, generation } = event
                && (self.slot(party).armed.1 != generation || self.slot(party).crashed)
            {
                continue;
            }
            if at.0 > self.last_progress.0 + self.stall_after_us {
                break; // nothing has moved for the horizon: end the run
            }
            self.now = at;
            self.out.events += 1;
            if self.out.events > self.cfg.max_events {
                return Err(SimError::EventLimit { limit: self.cfg.max_events, at_us: at.0 });
            }
            self.handle(event)?;
            return Ok(Step::Event(at));
        }
        self.done = true;
        Ok(Step::Done)
    }

    /// Steps to the end and returns the outcome.
    pub fn run(mut self) -> Result<Outcome, SimError> {
        while self.step()? != Step::Done {}
        Ok(self.finish())
    }

    /// The outcome of the run so far: its counters and the verdict on what
    /// happened up to now (after [`Step::Done`], the run's outcome).
    pub fn finish(mut self) -> Outcome {
        let down: Vec<MemberId> = (1..=self.cfg.members).map(MemberId).filter(|&m| self.is_down(m)).collect();
        // A partition still in force at the end keeps confirmations from
        // crossing it for good, as a crash does.
        let now = self.now.0;
        let cut_off = self.cfg.faults.partitions.iter().any(|p| p.active(now));
        self.out.verdict = self.truth.verdict(self.cfg.epochs, &down, cut_off);
        // Hitting the horizon after every epoch is no stall: it only ends
        // retransmissions to a member that died after finishing.
        if self.out.verdict.epochs_completed < self.cfg.epochs {
            self.out.verdict.stall = Some(self.truth.stall(self.cfg.epochs, down));
        }
        self.out.sim_time_us = self.now.0;
        self.out
    }

    /// The instrumented work counter: the event queue's work beyond O(1)
    /// per push and pop ([`queue::EventQueue::work`]) plus every member
    /// link's ([`Link::work`](crate::protocol::link::Link::work)). Tests
    /// divide it by the events processed to check that the work per event
    /// does not grow with the group; it counts steps, not time, so it is
    /// the same on every machine.
    pub fn work(&self) -> u64 {
        let links: u64 = self
            .slots
            .iter()
            .map(|slot| match &slot.occupant {
                Occupant::Member(m) => m.link().work(),
                _ => 0,
            })
            .sum();
        self.queue.work() + links
    }

    /// Events processed so far (deliveries, timers that fired, scheduled
    /// crashes): [`Outcome::events`] of the run so far.
    pub fn events(&self) -> u64 {
        self.out.events
    }

    /// Virtual time now: the time of the last event processed.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Whether `member` is down: its node crashed (and not replaced), or
    /// its replacement has not recovered.
    pub fn is_down(&self, member: MemberId) -> bool {
        self.slot(Party::Member(member)).crashed || self.unrecovered.contains(&member)
    }

    /// The incarnation of `member`'s current node (0 for the original).
    pub fn incarnation(&self, member: MemberId) -> u32 {
        self.slot(Party::Member(member)).incarnation
    }

    /// Crashes `member`'s node now, between steps, as a scenario's crash at
    /// this time would; with `replace`, a replacement takes the index once
    /// a survivor has declared it failed (process 700). A member outside
    /// the group, or already crashed, is left alone.
    pub fn crash(&mut self, member: MemberId, replace: bool) -> Result<(), SimError> {
        if !(1..=self.cfg.members).contains(&member.0) || self.slot(Party::Member(member)).crashed {
            return Ok(());
        }
        self.slot_mut(Party::Member(member)).injected_replace = Some(replace);
        self.crash_now(Party::Member(member))?;
        self.maybe_replace(member)
    }

    /// Separates the groups of `partition` from each other (members named
    /// in no group form one more group) over its time span, as a
    /// scenario's partition would; messages already in flight across it
    /// are lost when they arrive during it.
    pub fn partition(&mut self, partition: Partition) {
        self.cfg.faults.partitions.push(partition);
    }

    fn start_all(&mut self) -> Result<(), SimError> {
        let first = if matches!(self.slots[0].occupant, Occupant::Vacant) { 1 } else { 0 };
        for id in first..=self.cfg.members {
            let party = sealed::party(id);
            let now = self.local(party);
            let out = self.with_rng(party, |node, rng| node.start(now, rng));
            self.apply(party, out)?;
        }
        Ok(())
    }

    fn handle(&mut self, event: Event) -> Result<(), SimError> {
        match event {
            Event::Deliver { msg, wire, duplicate, origin } => self.deliver(msg, wire, duplicate, origin),
            Event::Timer { party, .. } => {
                self.slot_mut(party).armed.0 = None;
                let now = self.local(party);
                let out = self.with_rng(party, |node, rng| node.handle_timeout(now, rng));
                self.apply(party, out)
            }
            Event::Crash { member, incarnation } => {
                let slot = self.slot(Party::Member(member));
                if slot.incarnation == incarnation && !slot.crashed {
                    self.crash_now(Party::Member(member))?;
                    self.maybe_replace(member)?;
                }
                Ok(())
            }
        }
    }

    /// Calls into `party`'s node with its own RNG stream.
    fn with_rng(
        &mut self,
        party: Party,
        f: impl FnOnce(&mut dyn Node, &mut ChaCha20Rng) -> Output,
    ) -> Output {
        let slot = self.slot_mut(party);
        let node: &mut dyn Node = match &mut slot.occupant {
            Occupant::Sm(sm) => sm,
            Occupant::Member(m) => m,
            Occupant::Vacant => unreachable!("no message or timer is addressed to a vacant slot"),
        };
        f(node, &mut slot.rng)
    }

    fn deliver(
        &mut self,
        msg: u64,
        wire: wire::Wire,
        duplicate: bool,
        origin: Option<WireAttack>,
    ) -> Result<(), SimError> {
        let (to, sealed_to) = wire.to();
        // Counters count what members sent (a tampered message too); what an
        // adversary injected is counted apart.
        let honest = !matches!(origin, Some(WireAttack::Replay | WireAttack::Forge));
        if let Some(reason) = self.blocked(wire.from(), to) {
            self.out.messages_dropped += u64::from(honest);
            return Ok(self.record_message(|| Record::Drop { msg, reason })?);
        }
        // A sealed message goes to the node whose key it is sealed to: if
        // that node has died (even if a replacement holds the slot now), it
        // is lost with it.
        let slot = self.slot(to);
        if slot.crashed || sealed_to.is_some_and(|inc| inc != slot.incarnation) {
            self.out.messages_dropped += u64::from(honest);
            return Ok(self.record_message(|| Record::Drop { msg, reason: DropReason::Crashed })?);
        }
        self.out.messages_delivered += u64::from(honest);
        self.record_message(|| Record::Deliver { msg, to, duplicate })?;
        let now = self.local(to);
        // Only the sealed channel asks what the receiver admits.
        let admit = match self.slot(to).node() {
            Some(node) if self.chan.is_sealed() => node.admits(),
            _ => sealed::Admit::all(),
        };
        // A replaying adversary records the wire delivered; otherwise the
        // wire is spent here, and a clear envelope is moved, not copied.
        let keep = origin.is_none() && !duplicate && self.chan.replays();
        let (received, wire) = if keep {
            (self.chan.receive(index(to), now, &wire, &admit), Some(wire))
        } else {
            (self.chan.receive_owned(index(to), now, wire, &admit), None)
        };
        let env = match received {
            Ok(env) => env,
            Err(reject) => {
                *self.out.rejected.entry(reject).or_default() += 1;
                return Ok(self.record(&Record::Reject { member: to, msg, reason: reject })?);
            }
        };
        let kept = wire.map(|wire| (wire, env.clone()));
        let out = self.with_rng(to, |node, rng| node.handle_message(now, env, rng));
        let halt = self.acked_all_watched(to);
        // Counted once past the channel, whatever the link then makes of it
        // (a duplicate, an ack): the channel is what must stop it.
        if let Some(attack) = origin {
            self.out.accepted_forgeries += 1;
            self.record(&Record::Forgery { member: to, msg, attack })?;
        }
        if let Some((wire, env)) = kept {
            self.chan.delivered(msg, wire, env);
        }
        if halt {
            self.slot_mut(to).watch.clear();
        }
        self.apply_then(to, out, halt)
    }

    /// The crash point of `party`'s current node, if it has one.
    fn crash_point(&self, party: Party) -> Option<Halt> {
        let Party::Member(member) = party else { return None };
        match self.cfg.faults.crash(member, self.slot(party).incarnation)?.at {
            CrashAt::Point(h) => Some(h),
            CrashAt::Time(_) => None,
        }
    }

    /// Whether every payload the after-send crash point of `party` watches
    /// has been acknowledged (or retired): the moment it crashes.
    fn acked_all_watched(&self, party: Party) -> bool {
        let slot = self.slot(party);
        let (watch, Occupant::Member(member)) = (&slot.watch, &slot.occupant) else { return false };
        let link = member.link();
        !watch.is_empty() && watch.iter().all(|&(to, inc, seq)| !link.is_pending(to, inc, seq))
    }

    /// Carries out `party`'s crash point at `iter`, which the node has just
    /// started: the index of the note before which a before-send crash cuts
    /// the output, if it does. An after-send point starts watching the HFKs
    /// (and public FKs) just sent.
    fn crash_point_reached(&mut self, party: Party, out: &Output) -> Option<usize> {
        let point = self.crash_point(party)?;
        let at = out
            .notes
            .iter()
            .position(|n| matches!(n, Note::RoundStart { iter, .. } if *iter == point.iteration))?;
        if !point.after_send {
            return Some(at);
        }
        self.slot_mut(party).watch = out
            .sends
            .iter()
            .filter(|e| e.mode == Mode::Generation && e.iter == point.iteration && e.attempt == 0)
            .filter(|e| matches!(e.body, Body::Hfk(_) | Body::FkPub(_)))
            .map(|e| (e.to, e.to_inc, e.seq))
            .collect();
        None
    }

    /// Records a party's notes, puts its messages on the network and re-arms
    /// its timer.
    fn apply(&mut self, party: Party, out: Output) -> Result<(), SimError> {
        self.apply_then(party, out, false)
    }

    /// [`Simulation::apply`], crashing the node after its notes when `crash` is
    /// set (its messages are then lost with it). A crash point reached in
    /// `out` crashes it too.
    fn apply_then(&mut self, party: Party, mut out: Output, crash: bool) -> Result<(), SimError> {
        let by = party;
        let cut = self.crash_point_reached(party, &out);
        if let Some(at) = cut {
            out.notes.truncate(at);
        }
        let mut replace = Vec::new();
        self.truth.set_recovering(out.notes.iter().find_map(|n| match n {
            Note::Recovered { iter, .. } => Some(*iter),
            _ => None,
        }));
        for note in &out.notes {
            self.truth.observe(note);
            if matches!(
                note,
                Note::Secret { .. } | Note::Theta { .. } | Note::Key { .. } | Note::Recovered { .. }
            ) {
                self.last_progress = self.now;
            }
            match note {
                Note::Secret { owner, name, index, value } => {
                    self.record(&Record::Secret { owner: *owner, name: *name, index: *index, value, by })?
                }
                Note::Theta { member, epoch, value } => {
                    self.record(&Record::Theta { member: *member, epoch: *epoch, value })?
                }
                Note::Key { member, epoch, sk } => {
                    self.record(&Record::Key { member: *member, epoch: *epoch, sk })?
                }
                Note::Confirmed { .. }
                | Note::Divergence { .. }
                | Note::Cheated { .. }
                | Note::RoundStart { .. } => {}
                Note::Verification { member, check, culprit, iter } => self.record(&Record::Detect {
                    member: *member,
                    check: *check,
                    culprit: *culprit,
                    iter: *iter,
                })?,
                Note::Declared { member, failed, iter } => {
                    let culprit = Some(Party::Member(*failed));
                    self.record(&Record::Detect {
                        member: *member,
                        check: Check::Silence,
                        culprit,
                        iter: *iter,
                    })?;
                    replace.push(*failed);
                }
                Note::Recovered { member, iter, key_ok } => {
                    let ok = *key_ok && !self.truth.take_recovery_mismatch();
                    if ok {
                        self.unrecovered.remove(member);
                    }
                    self.truth.recovered(*member, *iter, ok, Vec::new());
                    self.record(&Record::Recovered { member: *member, iter: *iter, ok })?;
                }
                Note::RecoveryFailed { member, iter, missing } => {
                    self.truth.recovered(*member, *iter, false, missing.clone());
                    self.record(&Record::Recovered { member: *member, iter: *iter, ok: false })?;
                }
            }
            self.leak_if_due(note)?;
        }
        if crash || cut.is_some() {
            self.crash_now(party)?;
        }
        if self.slot(party).crashed {
            // A crashed node's last words are lost with it; if it was already
            // suspected, its replacement comes now.
            let Party::Member(member) = party else { return Ok(()) };
            return self.maybe_replace(member);
        }
        // Replacements first, so that the RI's handover (sent in this same
        // step) is addressed to a node that exists.
        for failed in replace {
            self.suspected.insert(failed);
            self.maybe_replace(failed)?;
        }
        for env in out.sends {
            self.transmit(party, env)?;
        }
        self.arm(party);
        Ok(())
    }

    /// Spawns a replacement for `member` once it is both crashed (with
    /// `replace = true`) and declared failed by someone.
    fn maybe_replace(&mut self, member: MemberId) -> Result<(), SimError> {
        let slot = self.slot(Party::Member(member));
        let replace = slot
            .injected_replace
            .or_else(|| self.cfg.faults.crash(member, slot.incarnation).map(|c| c.replace));
        if slot.crashed && self.suspected.contains(&member) && replace == Some(true) {
            self.suspected.remove(&member);
            self.spawn_replacement(member)?;
        }
        Ok(())
    }

    /// Why a message from `from` to `to` cannot pass now, if it cannot.
    fn blocked(&self, from: Party, to: Party) -> Option<DropReason> {
        match (from, to) {
            (Party::Member(a), Party::Member(b)) if self.cfg.faults.separated(a, b, self.now.0) => {
                Some(DropReason::Partition)
            }
            _ => None,
        }
    }

    /// Carries out every leak whose secret `note` has just produced.
    fn leak_if_due(&mut self, note: &Note) -> io::Result<()> {
        let (member, secret, epoch, value) = match note {
            Note::Secret { owner, name: SecretName::Alpha, index, value } => {
                (*owner, LeakSecret::Alpha, *index, Some(value))
            }
            Note::Secret { owner, name: SecretName::Fk | SecretName::X, index, value } => {
                (*owner, LeakSecret::Fk, *index, Some(value))
            }
            Note::Theta { member, epoch, value } => (*member, LeakSecret::Theta, *epoch, Some(value)),
            Note::Key { member, epoch, .. } => (*member, LeakSecret::Sk, *epoch, None),
            _ => return Ok(()),
        };
        let due: Vec<Leak> = self
            .cfg
            .adversaries
            .leaks()
            .filter(|l| l.member == member && l.secret == secret && l.epoch == epoch)
            .cloned()
            .collect();
        for leak in &due {
            self.record(&Record::Leak { leak, value })?;
        }
        Ok(())
    }

    /// Puts `env`, sent by the party in `slot`, on the wire: sealed on the
    /// sealed channel, exposed to the network adversaries, then to the
    /// network's loss, duplication and latency.
    fn transmit(&mut self, party: Party, env: Envelope) -> Result<(), SimError> {
        let outside = match env.to {
            Party::Member(m) => m.0 == 0 || m.0 > self.cfg.members,
            Party::Sm => self.slot(Party::Sm).node().is_none(),
        };
        if outside {
            let (from, to) = (format!("{:?}", env.from), format!("{:?}", env.to));
            return Err(SimError::Misaddressed { from, to, at_us: self.now.0 });
        }
        let msg = self.next_msg;
        self.next_msg += 1;
        self.out.messages_sent += 1;
        if env.attempt > 0 {
            self.out.retransmissions += 1;
        }
        if self.rec.wants_messages() {
            self.record(&Record::Send { msg, env: &env })?;
        } else {
            self.next_record += 1;
        }
        // The network stream feeds nothing but fates, so a network that
        // leaves nothing to chance need not draw them: no output changes.
        let fate = match self.certain_fate {
            Some(fate) => fate,
            None => self.cfg.network.transmit(&mut self.net_rng),
        };
        let (local, slot) = (self.local(party), index(party));
        let (from, to) = (env.from, env.to);
        let attacked = self.chan.attacks();
        let (mut wire, env) = if attacked {
            (self.chan.send(slot, local, env.clone()), Some(env))
        } else {
            (self.chan.send(slot, local, env), None)
        };
        let mut origin = None;
        if let Some(env) = env {
            for m in self.chan.attack(&self.cfg.network, &env, &wire) {
                match m {
                    wire::Move::Tampered(w) => {
                        wire = w;
                        origin = Some(WireAttack::Tamper);
                        *self.out.attacks.entry(WireAttack::Tamper).or_default() += 1;
                        self.record_attack(msg, WireAttack::Tamper, None, &env)?;
                    }
                    wire::Move::Inject { attack, of, wire, env, fate } => {
                        let id = self.next_msg;
                        self.next_msg += 1;
                        *self.out.attacks.entry(attack).or_default() += 1;
                        self.record_attack(id, attack, of, &env)?;
                        self.route(id, wire, fate, Some(attack))?;
                    }
                }
            }
        }
        if let Some(reason) = self.blocked(from, to) {
            self.out.messages_dropped += 1;
            return Ok(self.record_message(|| Record::Drop { msg, reason })?);
        }
        self.route(msg, wire, fate, origin)
    }

    fn record_attack(
        &mut self,
        msg: u64,
        attack: WireAttack,
        of: Option<u64>,
        env: &Envelope,
    ) -> io::Result<()> {
        if self.rec.wants_messages() {
            self.record(&Record::Attack { msg, attack, of, env })
        } else {
            self.next_record += 1;
            Ok(())
        }
    }

    /// Schedules the deliveries `fate` makes of `wire`.
    fn route(
        &mut self,
        msg: u64,
        wire: wire::Wire,
        fate: Fate,
        origin: Option<WireAttack>,
    ) -> Result<(), SimError> {
        let now = self.now.0;
        let honest = !matches!(origin, Some(WireAttack::Replay | WireAttack::Forge));
        match fate {
            Fate::Lost => {
                self.out.messages_dropped += u64::from(honest);
                self.record_message(|| Record::Drop { msg, reason: DropReason::Loss })?;
            }
            Fate::Delivered { latency_us } => {
                let ev = Event::Deliver { msg, wire, duplicate: false, origin };
                self.queue.push(SimTime(now + latency_us), ev);
            }
            Fate::Duplicated { latency_us, copy_latency_us } => {
                let copy = Event::Deliver { msg, wire: wire.clone(), duplicate: true, origin };
                let first = Event::Deliver { msg, wire, duplicate: false, origin };
                self.queue.push(SimTime(now + latency_us), first);
                self.queue.push(SimTime(now + copy_latency_us), copy);
            }
        }
        Ok(())
    }

    fn arm(&mut self, party: Party) {
        let now = self.now;
        let slot = self.slot_mut(party);
        let wanted = slot.node().and_then(|node| node.poll_timeout()).map(|(_, at)| at);
        let (armed, generation) = slot.armed;
        if wanted == armed {
            return;
        }
        let generation = generation + 1;
        slot.armed = (wanted, generation);
        if let Some(deadline) = wanted {
            let global = (deadline.0 - slot.skew_us).max(now.0 as i64) as u64;
            self.queue.push(SimTime(global), Event::Timer { party, generation });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one in-flight message costs the queue: the sizes the README's
    /// "bytes per in-flight message" is made of. A new variant that widens
    /// them belongs behind a box or an `Arc`, as the rare large ones are.
    #[test]
    fn in_flight_messages_stay_compact() {
        use std::mem::size_of;
        assert!(size_of::<crate::protocol::Body>() <= 24, "Body: {} B", size_of::<crate::protocol::Body>());
        assert!(size_of::<Envelope>() <= 72, "Envelope: {} B", size_of::<Envelope>());
        assert!(size_of::<wire::Wire>() <= 80, "Wire: {} B", size_of::<wire::Wire>());
        assert!(size_of::<Event>() <= 96, "Event: {} B", size_of::<Event>());
    }
}
