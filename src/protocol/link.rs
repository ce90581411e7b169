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

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use thin_vec::ThinVec;

use super::{Body, Envelope, LocalTime, Mode, Party};

/// The end of a peer's list of pending payloads, and of the free list.
const NIL: u32 = u32::MAX;

/// An unacknowledged payload: what its retransmission needs beyond what the
/// link and the peer's slot already know (sender, recipient, sender's
/// incarnation).
struct Pending {
    deadline: LocalTime,
    iter: u64,
    seq: u64,
    attempt: u32,
    /// The recipient's incarnation addressed.
    to_inc: u32,
    mode: Mode,
    /// The next payload pending to the same peer (or the next free slot).
    next: u32,
    body: Body,
}

/// A peer's pending payloads: a list through the link's [`Store`], in
/// the order they were sent.
#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

impl Default for List {
    fn default() -> Self {
        List { head: NIL, tail: NIL }
    }
}

impl List {
    fn is_empty(&self) -> bool {
        self.head == NIL
    }
}

/// Every payload a link keeps until acknowledged, in one slab reused
/// through a free list, linked per peer. A group of n keeps up to
/// 2n(n − 1) payloads pending during a round, one or two per peer: a
/// vector per peer would cost an allocation (and its header and slack)
/// for each.
struct Store {
    slab: Vec<Pending>,
    free: u32,
}

impl Store {
    fn new() -> Store {
        Store { slab: Vec::new(), free: NIL }
    }

    /// Appends `p` to `list`.
    fn push(&mut self, list: &mut List, mut p: Pending) {
        p.next = NIL;
        let at = if self.free == NIL {
            let at = u32::try_from(self.slab.len())
                .ok()
                .filter(|&at| at != NIL)
                .expect("fewer than 2^32 − 1 payloads pending");
            self.slab.push(p);
            at
        } else {
            let at = self.free;
            self.free = self.slab[at as usize].next;
            self.slab[at as usize] = p;
            at
        };
        if list.tail == NIL {
            list.head = at;
        } else {
            self.slab[list.tail as usize].next = at;
        }
        list.tail = at;
    }

    /// The slot of the payload (`inc`, `seq`) in `list`, with the slot
    /// before it (`NIL` for the first).
    fn find(&self, list: &List, inc: u32, seq: u64) -> Option<(u32, u32)> {
        let (mut prev, mut at) = (NIL, list.head);
        while at != NIL {
            let p = &self.slab[at as usize];
            if (p.to_inc, p.seq) == (inc, seq) {
                return Some((prev, at));
            }
            (prev, at) = (at, p.next);
        }
        None
    }

    fn get_mut(&mut self, at: u32) -> &mut Pending {
        &mut self.slab[at as usize]
    }

    /// Unlinks slot `at` (after `prev`) from `list` and frees it; returns
    /// its deadline, incarnation and seq.
    fn unlink(&mut self, list: &mut List, prev: u32, at: u32) -> (LocalTime, u32, u64) {
        let p = &mut self.slab[at as usize];
        let next = p.next;
        let key = (p.deadline, p.to_inc, p.seq);
        // Drop the payload's values now, not when the slot is reused.
        p.body = Body::Joined;
        p.next = self.free;
        self.free = at;
        if prev == NIL {
            list.head = next;
        } else {
            self.slab[prev as usize].next = next;
        }
        if list.tail == at {
            list.tail = prev;
        }
        key
    }

    /// Removes from `list` every payload `drop` picks, in order, and
    /// returns the (deadline, incarnation, seq) of each.
    fn remove_if(
        &mut self,
        list: &mut List,
        mut drop: impl FnMut(&Pending) -> bool,
    ) -> Vec<(LocalTime, u32, u64)> {
        let mut gone = Vec::new();
        let (mut prev, mut at) = (NIL, list.head);
        while at != NIL {
            let next = self.slab[at as usize].next;
            if drop(&self.slab[at as usize]) {
                gone.push(self.unlink(list, prev, at));
            } else {
                prev = at;
            }
            at = next;
        }
        gone
    }
}

impl Pending {
    /// The envelope of its next transmission, from `me`'s incarnation
    /// `from_inc` to `to`.
    fn envelope(&self, me: Party, from_inc: u32, to: Party) -> Envelope {
        Envelope {
            from: me,
            to,
            mode: self.mode,
            iter: self.iter,
            seq: self.seq,
            attempt: self.attempt,
            from_inc,
            to_inc: self.to_inc,
            body: self.body.clone(),
        }
    }
}

/// What a receiver has seen from one sender.
struct Window {
    /// Every seq below this has been seen.
    below: u64,
    /// Seqs above `below` seen out of order, sorted. Out-of-order arrivals
    /// are few (at most what is in flight from one peer), and an empty
    /// `ThinVec` is one pointer: a group of n keeps n² windows.
    above: ThinVec<u64>,
}

impl Default for Window {
    /// Nothing seen yet: seqs number from 1 (0 is the acks').
    fn default() -> Self {
        Window { below: 1, above: ThinVec::new() }
    }
}

impl Window {
    /// Records `seq`; returns whether it is new.
    fn insert(&mut self, seq: u64) -> bool {
        if seq == self.below && self.above.is_empty() {
            // In order, the common case: nothing stored.
            self.below += 1;
            return true;
        }
        if seq < self.below {
            return false;
        }
        match self.above.binary_search(&seq) {
            Ok(_) => return false,
            Err(at) => self.above.insert(at, seq),
        }
        let run = self.above.iter().zip(self.below..).take_while(|(s, want)| **s == *want).count();
        if run > 0 {
            self.below += run as u64;
            self.above.drain(..run);
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
    backoff: Backoff,
    /// What the link keeps per peer, by the peer's index (0 the SM, i
    /// member i): a slot per party, so that a message costs an index, not
    /// a search.
    peers: Vec<Peer>,
    /// What has been passed up from senders that addressed another
    /// incarnation of this node than itself (a recovery message for its
    /// dead predecessor, say), per (sender, that incarnation). Rare.
    seen_other: BTreeMap<(Party, u32), Window>,
    /// The unacknowledged payloads, linked per peer.
    store: Store,
    /// The unacknowledged payloads' keys, ordered by deadline.
    deadlines: Deadlines,
    /// How many payloads are unacknowledged.
    pending: usize,
}

/// What a link keeps for one peer.
#[derive(Default)]
struct Peer {
    /// The incarnation last seen (0 until a replacement speaks).
    inc: u32,
    /// The last seq used towards the peer (0: none yet).
    last_seq: u64,
    /// What has been passed up from the peer, when it addressed this node's
    /// own incarnation.
    seen: Window,
    /// Unacknowledged payloads to the peer, in the link's [`Store`],
    /// sorted by (its incarnation addressed, seq): sends append in that
    /// order (seqs grow, and a new incarnation is a higher one). A peer has
    /// one or two payloads pending at a time, acked mostly in order, so a
    /// search walks one or two links.
    pending: List,
}

/// A deadline's key: (deadline, recipient's index (0 the SM, i member i:
/// the order of [`Party`]), incarnation addressed, seq). 24 bytes: a group
/// of n keeps up to 2n(n − 1) of them during a round.
type Key = (LocalTime, u32, u32, u64);

/// The deadlines of the unacknowledged payloads, ordered by (deadline,
/// recipient, incarnation, seq): the order retransmissions go out in.
///
/// First transmissions get `now + rto`, so their keys arrive in order: they
/// go to the back of a sorted deque, where an ack finds its key by binary
/// search and marks it, and marked keys leave from the front. Keys that
/// arrive out of order (retransmissions, with their backoff) go to a tree.
/// The earliest deadline is the smaller of the two fronts. No insert or
/// removal allocates or rebalances on the common path.
#[derive(Default)]
struct Deadlines {
    /// Sorted keys, each with whether it is still pending.
    run: VecDeque<(Key, bool)>,
    /// How many keys of `run` are still pending.
    live: usize,
    tree: BTreeSet<Key>,
    /// Marked keys dropped from the front of the run: the work counter of
    /// [`Link::work`].
    walked: u64,
}

impl Deadlines {
    fn insert(&mut self, key: Key) {
        if self.run.back().is_none_or(|(last, _)| key > *last) {
            self.run.push_back((key, true));
            self.live += 1;
        } else {
            self.tree.insert(key);
        }
    }

    fn remove(&mut self, key: &Key) {
        // Acks mostly come back in the order their payloads went out: the
        // key is then the run's first (marked keys leave the front at once).
        let found = match self.run.front() {
            Some((first, _)) if first == key => Ok(0),
            _ => self.run.binary_search_by(|(k, _)| k.cmp(key)),
        };
        if let Ok(i) = found {
            if std::mem::replace(&mut self.run[i].1, false) {
                self.live -= 1;
                self.trim();
            }
            return;
        }
        self.tree.remove(key);
    }

    /// Drops marked keys from the front of the run.
    fn trim(&mut self) {
        while self.run.front().is_some_and(|(_, pending)| !pending) {
            self.run.pop_front();
            self.walked += 1;
        }
        if self.live == 0 {
            self.walked += self.run.len() as u64;
            self.run.clear();
        }
    }

    /// The earliest pending key.
    fn first_key(&self) -> Option<Key> {
        let run = self.run.front().map(|(k, _)| *k);
        match (run, self.tree.first()) {
            (Some(a), Some(b)) => Some(a.min(*b)),
            (a, b) => a.or(b.copied()),
        }
    }

    fn first(&self) -> Option<LocalTime> {
        self.first_key().map(|k| k.0)
    }

    /// Takes the first entry, if its deadline is at or before `now`.
    fn pop_due(&mut self, now: LocalTime) -> Option<Key> {
        let key = self.first_key().filter(|k| k.0 <= now)?;
        self.remove(&key);
        Some(key)
    }
}

/// The slot of `p` in `peers`, made if it is new; `None` for an index no
/// group has. (A function of the slots alone, so that a caller can hold a
/// slot and the link's [`Store`] at once.)
fn slot_mut(peers: &mut Vec<Peer>, p: Party) -> Option<&mut Peer> {
    let i = p.trace_id() as usize;
    if i >= PEERS_MAX {
        return None;
    }
    if i >= peers.len() {
        peers.resize_with(i + 1, Peer::default);
    }
    Some(&mut peers[i])
}

/// Parties' indices beyond this are not fraclab's (a group has at most
/// 4096 members): an envelope from one is ignored rather than given a slot.
const PEERS_MAX: usize = 1 << 16;

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

impl Received {
    const NOTHING: Received = Received { ack: None, fresh: None, restarted: None };
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
            backoff,
            peers: Vec::new(),
            seen_other: BTreeMap::new(),
            store: Store::new(),
            deadlines: Deadlines::default(),
            pending: 0,
        }
    }

    /// Makes room for the slots of a group of `members` and its SM at once,
    /// so that the slots (one per party, and a group of n keeps n² of them)
    /// do not grow by doubling as peers are first addressed. Parties beyond
    /// still get slots as they appear.
    pub fn expect_parties(&mut self, members: u32) {
        let parties = (members as usize).saturating_add(1).min(PEERS_MAX);
        self.peers.reserve_exact(parties.saturating_sub(self.peers.len()));
    }

    /// The slot of `p`, made if it is new; `None` for an index no group has.
    fn peer_mut(&mut self, p: Party) -> Option<&mut Peer> {
        slot_mut(&mut self.peers, p)
    }

    fn peer(&self, p: Party) -> Option<&Peer> {
        self.peers.get(p.trace_id() as usize)
    }

    /// Frames `body` for `to` and keeps it until acknowledged.
    ///
    /// # Panics
    /// If `to`'s index is beyond any group's (a bug of the caller: parties
    /// only address members of their group).
    pub fn send(&mut self, now: LocalTime, to: Party, mode: Mode, iter: u64, body: Body) -> Envelope {
        let (me, from_inc) = (self.me, self.incarnation);
        let deadline = now.plus_us(self.backoff.wait_us(0));
        // Slot 0 is the SM's: no party has member id 0.
        debug_assert_ne!(to, Party::Member(super::MemberId(0)), "no member has id 0");
        let peer = slot_mut(&mut self.peers, to).expect("a party addresses only members of its group");
        peer.last_seq += 1;
        let (seq, to_inc) = (peer.last_seq, peer.inc);
        let env = Envelope { from: me, to, mode, iter, seq, attempt: 0, from_inc, to_inc, body };
        let list = &mut peer.pending;
        debug_assert!(
            list.tail == NIL || {
                let last = &self.store.slab[list.tail as usize];
                (last.to_inc, last.seq) < (to_inc, seq)
            }
        );
        let p = Pending { deadline, iter, seq, attempt: 0, to_inc, mode, next: NIL, body: env.body.clone() };
        self.store.push(list, p);
        self.deadlines.insert((deadline, to.trace_id(), to_inc, seq));
        self.pending += 1;
        env
    }

    /// The incarnation of `p` last heard from (0 until a replacement speaks).
    pub fn peer_inc(&self, p: Party) -> u32 {
        self.peer(p).map_or(0, |peer| peer.inc)
    }

    /// `peer` is now its incarnation `inc`: forgets everything kept for
    /// the old one.
    fn restart(&mut self, peer: Party, inc: u32) {
        self.seen_other.retain(|(p, _), _| *p != peer);
        let Some(slot) = slot_mut(&mut self.peers, peer) else { return };
        slot.inc = inc;
        slot.last_seq = 0;
        slot.seen = Window::default();
        // Recovery messages (mode R) were meant for the replacement all along:
        // they stay pending, keyed by the old incarnation they addressed.
        let stale = self.store.remove_if(&mut slot.pending, |p| p.mode != Mode::Recovery);
        self.pending -= stale.len();
        for (deadline, inc, seq) in stale {
            self.deadlines.remove(&(deadline, peer.trace_id(), inc, seq));
        }
    }

    /// Takes one incoming envelope. An ack clears the payload it
    /// acknowledges; any other payload is acked and, if this node has not
    /// seen it, passed up as fresh. An envelope from a peer's dead
    /// incarnation is dropped unacked; one addressed to this node's dead
    /// predecessor is acked but not passed up, unless it is a recovery
    /// message (mode R), which was meant for the replacement.
    pub fn receive(&mut self, env: Envelope) -> Received {
        let Some(peer) = self.peer_mut(env.from) else { return Received::NOTHING };
        let known = peer.inc;
        if env.from_inc < known {
            // From a dead incarnation, still in flight: not for anyone.
            return Received::NOTHING;
        }
        let restarted = (env.from_inc > known).then(|| {
            self.restart(env.from, env.from_inc);
            env.from
        });
        let (me, incarnation) = (self.me, self.incarnation);
        let Some(peer) = slot_mut(&mut self.peers, env.from) else { return Received::NOTHING };
        if let Body::Ack { seq, inc } = env.body {
            if let Some((prev, at)) = self.store.find(&peer.pending, inc, seq) {
                let (deadline, ..) = self.store.unlink(&mut peer.pending, prev, at);
                self.pending -= 1;
                self.deadlines.remove(&(deadline, env.from.trace_id(), inc, seq));
            }
            return Received { ack: None, fresh: None, restarted };
        }
        let ack = Envelope {
            from: me,
            to: env.from,
            mode: env.mode,
            iter: env.iter,
            seq: 0,
            attempt: 0,
            from_inc: incarnation,
            to_inc: env.from_inc,
            body: Body::Ack { seq: env.seq, inc: env.to_inc },
        };
        if env.to_inc < incarnation && env.mode != Mode::Recovery {
            // Addressed to this node's dead predecessor: acknowledged, so the
            // sender stops retransmitting it, but not for this node. Recovery
            // messages are for the replacement, whatever the sender knew.
            return Received { ack: Some(ack), fresh: None, restarted };
        }
        let window = if env.to_inc == incarnation {
            &mut peer.seen
        } else {
            self.seen_other.entry((env.from, env.to_inc)).or_default()
        };
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
        if self.pending == 0 {
            return;
        }
        let retired = |p: &Pending| {
            !matches!(p.body, Body::Confirm(_))
                && match p.mode {
                    Mode::Generation => p.iter + 2 <= epoch,
                    Mode::Init => epoch >= 3,
                    Mode::Recovery => false,
                }
        };
        for (index, peer) in self.peers.iter_mut().enumerate() {
            if peer.pending.is_empty() {
                continue;
            }
            let to = index as u32;
            for (deadline, inc, seq) in self.store.remove_if(&mut peer.pending, retired) {
                self.deadlines.remove(&(deadline, to, inc, seq));
                self.pending -= 1;
            }
        }
    }

    /// Every payload whose retransmission deadline has passed, re-framed.
    pub fn due(&mut self, now: LocalTime) -> Vec<Envelope> {
        let mut out = Vec::new();
        while let Some((_, to, inc, seq)) = self.deadlines.pop_due(now) {
            let wait_us = |attempt| self.backoff.wait_us(attempt);
            let peer = self.peers.get_mut(to as usize).expect("a deadline has its peer");
            let (_, at) = self.store.find(&peer.pending, inc, seq).expect("a deadline has its pending entry");
            let p = self.store.get_mut(at);
            p.attempt += 1;
            p.deadline = now.plus_us(wait_us(p.attempt));
            out.push(p.envelope(self.me, self.incarnation, super::sealed::party(to)));
            self.deadlines.insert((p.deadline, to, inc, seq));
        }
        out
    }

    /// The earliest retransmission deadline, if any payload is still
    /// unacknowledged.
    pub fn next_deadline(&self) -> Option<LocalTime> {
        self.deadlines.first()
    }

    /// Work beyond a message's O(log) tree operations: deadline entries
    /// walked to find the earliest again. An instrumented counter (not a
    /// clock) for the tests that hold the work per event constant as groups
    /// grow.
    pub fn work(&self) -> u64 {
        self.deadlines.walked
    }

    /// Whether every payload sent has been acknowledged.
    pub fn is_idle(&self) -> bool {
        self.pending == 0
    }

    /// Whether the payload `seq` to `to` is still unacknowledged.
    pub fn is_pending(&self, to: Party, inc: u32, seq: u64) -> bool {
        self.peer(to).is_some_and(|peer| self.store.find(&peer.pending, inc, seq).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::MemberId;

    /// A group of n keeps n² peer slots and up to two pending payloads and
    /// deadline keys per slot during a round: their sizes are most of the
    /// README's bytes per in-flight message.
    #[test]
    fn per_pair_state_stays_compact() {
        use std::mem::size_of;
        assert!(size_of::<Peer>() <= 40, "Peer: {} B", size_of::<Peer>());
        assert!(size_of::<Pending>() <= 64, "Pending: {} B", size_of::<Pending>());
        assert!(size_of::<(Key, bool)>() <= 32, "deadline entry: {} B", size_of::<(Key, bool)>());
    }

    #[test]
    fn window_takes_out_of_order_seqs_in_any_order() {
        let mut w = Window::default();
        for seq in [4, 2, 6, 3, 1, 5] {
            assert!(w.insert(seq), "{seq} is new");
        }
        assert_eq!((w.below, w.above.len()), (7, 0));
        assert!(w.insert(9) && w.insert(8));
        assert_eq!((w.below, w.above.as_slice()), (7, &[8, 9][..]));
        assert!(w.insert(7));
        assert_eq!((w.below, w.above.len()), (10, 0));
        assert!(!w.insert(8) && !w.insert(1));
    }

    proptest::proptest! {
        /// The window says "new" exactly for the seqs not seen before, in
        /// any arrival order, and keeps only the seqs above its low-water
        /// mark.
        #[test]
        fn window_agrees_with_a_set_of_everything_seen(seqs in proptest::collection::vec(1u64..48, 0..200)) {
            let mut w = Window::default();
            let mut seen = BTreeSet::new();
            for seq in seqs {
                proptest::prop_assert_eq!(w.insert(seq), seen.insert(seq));
                let below = (1..).find(|s| !seen.contains(s)).unwrap();
                proptest::prop_assert_eq!(w.below, below);
                let above: Vec<u64> = seen.range(below..).copied().collect();
                proptest::prop_assert_eq!(w.above.as_slice(), &above[..]);
            }
        }
    }

    proptest::proptest! {
        /// Several peers' lists through one store keep each peer's
        /// payloads in send order, find and unlink any of them, and reuse
        /// freed slots: the same as a vector per peer.
        #[test]
        fn store_lists_agree_with_a_vector_per_peer(ops in proptest::collection::vec((0u8..4, 0usize..3, 0usize..6), 0..300)) {
            let mut store = Store::new();
            let mut lists = [List::default(); 3];
            let mut model: [Vec<(u32, u64)>; 3] = Default::default();
            let (mut next_seq, mut peak) = (1u64, 0usize);
            for (op, peer, pick) in ops {
                let (list, want) = (&mut lists[peer], &mut model[peer]);
                match op {
                    0 | 1 => {
                        let key = (u32::from(op), next_seq);
                        next_seq += 1;
                        let p = Pending {
                            deadline: LocalTime(next_seq as i64),
                            iter: 1,
                            seq: key.1,
                            attempt: 0,
                            to_inc: key.0,
                            mode: Mode::Generation,
                            next: NIL,
                            body: Body::Joined,
                        };
                        store.push(list, p);
                        want.push(key);
                    }
                    2 if !want.is_empty() => {
                        let (inc, seq) = want.remove(pick % want.len());
                        let (prev, at) = store.find(list, inc, seq).expect("pending");
                        proptest::prop_assert_eq!(store.unlink(list, prev, at), (LocalTime(seq as i64 + 1), inc, seq));
                    }
                    _ => {
                        let gone = store.remove_if(list, |p| p.to_inc == 1);
                        let (keep, drop): (Vec<_>, Vec<_>) = want.iter().partition(|k| k.0 != 1);
                        proptest::prop_assert_eq!(gone.iter().map(|g| (g.1, g.2)).collect::<Vec<_>>(), drop);
                        *want = keep;
                    }
                }
                peak = peak.max(model.iter().map(Vec::len).sum());
                // A slot is added only when none is free.
                proptest::prop_assert_eq!(store.slab.len(), peak);
                for (list, want) in lists.iter().zip(&model) {
                    let mut got = Vec::new();
                    let mut at = list.head;
                    while at != NIL {
                        let p = &store.slab[at as usize];
                        got.push((p.to_inc, p.seq));
                        at = p.next;
                    }
                    proptest::prop_assert_eq!(&got, want);
                    proptest::prop_assert_eq!(list.is_empty(), want.is_empty());
                    let tail = (list.tail != NIL).then(|| &store.slab[list.tail as usize]).map(|p| (p.to_inc, p.seq));
                    proptest::prop_assert_eq!(tail, want.last().copied());
                }
            }
        }
    }

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
        let mut w = Window::default();
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
        let env = Envelope { body: Body::Confirm(crate::group::KeyTag([0; 32]).into()), ..env };
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
