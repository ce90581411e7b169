//! Reliable delivery over a lossy, duplicating network: every payload is
//! acknowledged, retransmitted with capped exponential backoff ([`Backoff`])
//! until it is, and a receiver passes
//! each (sender, seq) up once. Acks are not acknowledged; a lost ack costs a
//! retransmission, which the receiver acks again and otherwise ignores.
//!
//! Sequence numbers count per (sender, recipient) pair from 1, so a
//! receiver remembers what it has seen from each sender as a low-water mark
//! plus the few numbers above it that arrived out of order: memory stays
//! bounded however long the run. Acks carry sequence number 0.
//!
//! Retransmission is unbounded, so any loss < 1 completes; the simulator's
//! event limit (reference §9) bounds a run.

use std::collections::{BTreeMap, BTreeSet};

use super::{Body, Envelope, LocalTime, Mode, Party};

struct Pending {
    env: Envelope,
    deadline: LocalTime,
}

/// What a receiver has seen from one sender.
#[derive(Default)]
struct Window {
    /// Every seq below this has been seen.
    below: u64,
    /// Seqs at or above `below` seen out of order.
    above: BTreeSet<u64>,
}

impl Window {
    /// Records `seq`; returns whether it is new.
    fn insert(&mut self, seq: u64) -> bool {
        if seq < self.below || !self.above.insert(seq) {
            return false;
        }
        while self.above.remove(&self.below) {
            self.below += 1;
        }
        true
    }
}

/// When a link retransmits: the first retransmission after `rto_us`, each
/// later one after twice the previous wait, never more than `cap_us`
/// (exponential backoff, as TCP does). Under loss a payload still gets
/// through; to a peer that has died, the retransmissions thin out instead
/// of flooding the network for the rest of the run. (Doubling stops at
/// 2⁴⁰ × `rto_us`, however high the cap.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The retransmission timeout: the wait before the first
    /// retransmission, µs. A [`Link`] requires it to be positive.
    pub rto_us: i64,
    /// The longest wait between two transmissions, µs; a cap below
    /// `rto_us` counts as `rto_us`.
    pub cap_us: i64,
}

impl Backoff {
    /// No backoff: every retransmission after `rto_us`.
    pub fn fixed(rto_us: i64) -> Backoff {
        Backoff { rto_us, cap_us: rto_us }
    }

    /// The wait before transmission `attempt + 1` of a payload, given that
    /// transmission `attempt` (0 = the first) has just gone out.
    pub fn wait_us(&self, attempt: u32) -> i64 {
        let doubled = self.rto_us.saturating_mul(1i64 << attempt.min(40));
        doubled.clamp(self.rto_us, self.cap_us.max(self.rto_us))
    }

    /// The time from a payload's first transmission to its `attempts`-th
    /// retransmission.
    pub fn span_us(&self, attempts: u32) -> i64 {
        (0..attempts).fold(0i64, |t, a| t.saturating_add(self.wait_us(a)))
    }
}

/// One party's reliable-delivery layer (see the module docs): it numbers
/// every payload it sends and keeps it until acknowledged, resends it from
/// [`Link::due`], acks what arrives and passes each payload up once. It
/// follows each peer's incarnation, so that traffic from a dead incarnation,
/// or for this node's dead predecessor, is told apart.
pub struct Link {
    me: Party,
    /// This node's incarnation (0 original, k for the k-th replacement).
    incarnation: u32,
    /// The incarnation last seen of each peer.
    peer_inc: BTreeMap<Party, u32>,
    backoff: Backoff,
    /// The next seq towards each recipient.
    next_seq: BTreeMap<Party, u64>,
    /// Unacknowledged payloads by (recipient, seq).
    pending: BTreeMap<(Party, u32, u64), Pending>,
    /// The same entries ordered by deadline.
    deadlines: BTreeSet<(LocalTime, Party, u32, u64)>,
    /// What has been passed up, per sender and per the incarnation of this
    /// node the sender addressed: each such pair numbers from 1.
    seen: BTreeMap<(Party, u32), Window>,
}

/// What the link made of one incoming envelope.
pub struct Received {
    /// The ack to send back, for every payload (fresh or duplicate).
    pub ack: Option<Envelope>,
    /// The envelope, if it is a payload not seen before.
    pub fresh: Option<Envelope>,
    /// The sender turned out to be a new incarnation (a replacement): the
    /// link has forgotten everything it kept for the old one.
    pub restarted: Option<Party>,
}

impl Link {
    /// The link of an original party (incarnation 0). Panics if
    /// `backoff.rto_us` is not positive.
    pub fn new(me: Party, backoff: Backoff) -> Link {
        Link::incarnation(me, 0, backoff)
    }

    /// The link of the `incarnation`-th replacement of `me`.
    pub fn incarnation(me: Party, incarnation: u32, backoff: Backoff) -> Link {
        assert!(backoff.rto_us > 0, "retransmission timeout must be positive");
        Link {
            me,
            incarnation,
            peer_inc: BTreeMap::new(),
            backoff,
            next_seq: BTreeMap::new(),
            pending: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            seen: BTreeMap::new(),
        }
    }

    fn take_seq(&mut self, to: Party) -> u64 {
        let next = self.next_seq.entry(to).or_insert(1);
        let s = *next;
        *next += 1;
        s
    }

    /// Frames `body` for `to` and keeps it until acknowledged.
    pub fn send(&mut self, now: LocalTime, to: Party, mode: Mode, iter: u64, body: Body) -> Envelope {
        let seq = self.take_seq(to);
        let (from_inc, to_inc) = (self.incarnation, self.peer_inc(to));
        let env = Envelope { from: self.me, to, mode, iter, seq, attempt: 0, from_inc, to_inc, body };
        let deadline = now.plus_us(self.backoff.wait_us(0));
        self.deadlines.insert((deadline, to, to_inc, seq));
        self.pending.insert((to, to_inc, seq), Pending { env: env.clone(), deadline });
        env
    }

    /// The incarnation of `p` last heard from (0 until a replacement speaks).
    pub fn peer_inc(&self, p: Party) -> u32 {
        self.peer_inc.get(&p).copied().unwrap_or(0)
    }

    /// Forgets everything kept for `peer`'s old incarnation.
    fn forget(&mut self, peer: Party) {
        self.next_seq.remove(&peer);
        self.seen.retain(|(p, _), _| *p != peer);
        // Recovery messages (mode R) were meant for the replacement all along:
        // they stay pending, keyed by the old incarnation they addressed.
        let stale: Vec<(u32, u64)> = self
            .pending
            .range((peer, 0, 0)..=(peer, u32::MAX, u64::MAX))
            .filter(|(_, p)| p.env.mode != Mode::Recovery)
            .map(|(&(_, inc, s), _)| (inc, s))
            .collect();
        for (inc, seq) in stale {
            if let Some(p) = self.pending.remove(&(peer, inc, seq)) {
                self.deadlines.remove(&(p.deadline, peer, inc, seq));
            }
        }
    }

    /// Takes one incoming envelope. An ack clears the payload it
    /// acknowledges; any other payload is acked and, if this node has not
    /// seen it, passed up as fresh. An envelope from a peer's dead
    /// incarnation is dropped unacked; one addressed to this node's dead
    /// predecessor is acked but not passed up, unless it is a recovery
    /// message (mode R), which was meant for the replacement.
    pub fn receive(&mut self, env: Envelope) -> Received {
        let known = self.peer_inc(env.from);
        if env.from_inc < known {
            // From a dead incarnation, still in flight: not for anyone.
            return Received { ack: None, fresh: None, restarted: None };
        }
        let restarted = (env.from_inc > known).then(|| {
            self.forget(env.from);
            self.peer_inc.insert(env.from, env.from_inc);
            env.from
        });
        if let Body::Ack { seq, inc } = env.body {
            if let Some(p) = self.pending.remove(&(env.from, inc, seq)) {
                self.deadlines.remove(&(p.deadline, env.from, inc, seq));
            }
            return Received { ack: None, fresh: None, restarted };
        }
        let ack = Envelope {
            from: self.me,
            to: env.from,
            mode: env.mode,
            iter: env.iter,
            seq: 0,
            attempt: 0,
            from_inc: self.incarnation,
            to_inc: env.from_inc,
            body: Body::Ack { seq: env.seq, inc: env.to_inc },
        };
        if env.to_inc < self.incarnation && env.mode != Mode::Recovery {
            // Addressed to this node's dead predecessor: acknowledged, so the
            // sender stops retransmitting it, but not for this node. Recovery
            // messages are for the replacement, whatever the sender knew.
            return Received { ack: Some(ack), fresh: None, restarted };
        }
        let window = self
            .seen
            .entry((env.from, env.to_inc))
            .or_insert_with(|| Window { below: 1, above: BTreeSet::new() });
        let fresh = window.insert(env.seq).then_some(env);
        Received { ack: Some(ack), fresh, restarted }
    }

    /// Stops retransmitting what no one can need once this member holds
    /// epoch `epoch`: key-generation payloads of iterations j ≤ epoch − 2
    /// and, from epoch 3, initialisation payloads. Holding epoch j + 2 means
    /// iteration j + 1 completed, with every member's HFK of it: every
    /// member was past iteration j by then. (The sealed channel refuses such
    /// messages as stale.) Key confirmations and recovery messages are
    /// never retired: each confirmation is wanted, whenever it comes.
    pub fn retire(&mut self, epoch: u64) {
        let done: Vec<(LocalTime, Party, u32, u64)> = self
            .pending
            .iter()
            .filter(|(_, p)| !matches!(p.env.body, Body::Confirm(_)))
            .filter(|(_, p)| match p.env.mode {
                Mode::Generation => p.env.iter + 2 <= epoch,
                Mode::Init => epoch >= 3,
                Mode::Recovery => false,
            })
            .map(|(&(to, inc, seq), p)| (p.deadline, to, inc, seq))
            .collect();
        for (deadline, to, inc, seq) in done {
            self.pending.remove(&(to, inc, seq));
            self.deadlines.remove(&(deadline, to, inc, seq));
        }
    }

    /// Every payload whose retransmission deadline has passed, re-framed.
    pub fn due(&mut self, now: LocalTime) -> Vec<Envelope> {
        let mut out = Vec::new();
        while let Some(&(deadline, to, inc, seq)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_first();
            let p = self.pending.get_mut(&(to, inc, seq)).expect("deadline without pending entry");
            p.env.attempt += 1;
            p.deadline = now.plus_us(self.backoff.wait_us(p.env.attempt));
            self.deadlines.insert((p.deadline, to, inc, seq));
            out.push(p.env.clone());
        }
        out
    }

    /// The earliest retransmission deadline, if any payload is still
    /// unacknowledged.
    pub fn next_deadline(&self) -> Option<LocalTime> {
        self.deadlines.first().map(|&(d, ..)| d)
    }

    /// Whether every payload sent has been acknowledged.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }

    /// Whether the payload `seq` to `to` is still unacknowledged.
    pub fn is_pending(&self, to: Party, inc: u32, seq: u64) -> bool {
        self.pending.contains_key(&(to, inc, seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::MemberId;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff { rto_us: 10, cap_us: 75 };
        let waits: Vec<i64> = (0..6).map(|a| b.wait_us(a)).collect();
        assert_eq!(waits, [10, 20, 40, 75, 75, 75]);
        assert_eq!(b.span_us(4), 10 + 20 + 40 + 75);
        assert_eq!(Backoff::fixed(10).wait_us(30), 10);
        assert_eq!(Backoff { rto_us: 10, cap_us: i64::MAX }.wait_us(u32::MAX), 10i64 << 40);
    }

    #[test]
    fn retransmissions_follow_the_backoff() {
        let (a, b) = (Party::Member(MemberId(1)), Party::Member(MemberId(2)));
        let mut link = Link::new(a, Backoff { rto_us: 10, cap_us: 40 });
        link.send(LocalTime(0), b, Mode::Generation, 1, Body::Joined);
        let mut sent_at = Vec::new();
        let mut now = LocalTime(0);
        while sent_at.len() < 5 {
            now = link.next_deadline().expect("pending");
            assert_eq!(link.due(now).len(), 1);
            sent_at.push(now.0);
        }
        assert_eq!(sent_at, [10, 30, 70, 110, 150]);
        assert!(now.0 > 0);
    }

    #[test]
    fn window_passes_each_seq_once_and_stays_small() {
        let mut w = Window { below: 1, above: BTreeSet::new() };
        assert!(w.insert(2));
        assert!(w.insert(1));
        assert!(!w.insert(2) && !w.insert(1));
        assert_eq!((w.below, w.above.len()), (3, 0));
        assert!(w.insert(5));
        assert!(!w.insert(5));
        assert_eq!(w.above.len(), 1);
    }

    #[test]
    fn duplicates_are_acked_but_not_passed_up() {
        let (a, b) = (Party::Member(MemberId(1)), Party::Member(MemberId(2)));
        let mut sender = Link::new(a, Backoff::fixed(10));
        let mut receiver = Link::new(b, Backoff::fixed(10));
        let env = sender.send(LocalTime(0), b, Mode::Generation, 1, Body::Ack { seq: 0, inc: 0 });
        let env = Envelope { body: Body::Confirm(crate::group::KeyTag([0; 32])), ..env };
        let first = receiver.receive(env.clone());
        assert!(first.fresh.is_some() && first.ack.is_some());
        let again = receiver.receive(env);
        assert!(again.fresh.is_none() && again.ack.is_some());
        assert!(!sender.is_idle());
        sender.receive(first.ack.unwrap());
        assert!(sender.is_idle());
        assert_eq!(sender.next_deadline(), None);
    }
}
