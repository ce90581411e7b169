//! The event queue, totally ordered by (virtual time, sequence number), as
//! FoundationDB orders its run queue: two events at the same microsecond
//! run in the order they were scheduled, on every machine.
//!
//! [`EventQueue`] is a calendar queue (a timing wheel). A run's events
//! cluster in time: a broadcast puts n − 1 deliveries a latency ahead, and
//! a fixed latency puts them all at one microsecond. The wheel has one slot
//! per microsecond of a 65.536 ms window ahead of the clock; each slot is a
//! FIFO of the events at that microsecond, so an event scheduled later at
//! the same time lands behind the earlier ones and the (time, sequence)
//! order needs no comparison at all. Events further ahead wait in an ordered
//! overflow map, one FIFO per microsecond, and move into the wheel as the
//! clock comes within a window of them (before anything else can be put in
//! their slot, so they stay first). Push and pop are O(1) apart from that
//! move and the overflow's O(log) for far timers; a two-level bitmap finds
//! the next non-empty slot.
//!
//! Events live in one slab of nodes linked per slot, reused through a free
//! list: no allocation per event once the slab has grown to the peak number
//! of events in flight.
//!
//! [`HeapQueue`] is the plain binary heap on (time, sequence) that the
//! wheel replaced. It stays as the reference the wheel is tested against
//! and as the benchmarks' baseline.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use super::SimTime;

/// log2 of the wheel's window, in µs.
const WINDOW_BITS: u32 = 16;
/// The wheel's window: 65 536 µs, one slot per µs.
const WINDOW: u64 = 1 << WINDOW_BITS;
const WORDS: usize = (WINDOW / 64) as usize;
/// The end of a slot's list, and of the free list.
const NIL: u32 = u32::MAX;

/// One event in the slab, linked to the next one of its slot (or of the
/// free list).
struct Node<E> {
    event: Option<E>,
    next: u32,
}

/// A FIFO of slab nodes: its first and last node.
#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List { head: NIL, tail: NIL };

/// Pending events of type `E`, each at a virtual time: a calendar queue
/// (see the module docs). Times pushed must not precede the time last
/// popped, which a simulation's clock guarantees.
pub struct EventQueue<E> {
    slab: Vec<Node<E>>,
    free: u32,
    /// Slot t mod [`WINDOW`] holds the events at time t, for t in
    /// `now .. now + WINDOW`.
    slots: Vec<List>,
    /// Bit s of word s / 64: slot s is not empty.
    occupied: Vec<u64>,
    /// Bit w: `occupied[w]` is not zero.
    summary: [u64; WORDS / 64],
    /// The time last popped: every event in the wheel is at or after it.
    now: u64,
    /// Events in the wheel (not in the overflow).
    in_wheel: usize,
    /// Events at `now + WINDOW` or later, by time, with their count.
    overflow: BTreeMap<u64, (List, usize)>,
    len: usize,
    /// Work done beyond the O(1) push and pop: bitmap words inspected to
    /// find the next slot, and overflow lists moved into the wheel. An
    /// instrumented counter (not a clock) for the tests that hold the
    /// queue's work per event constant as groups grow.
    work: u64,
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            slab: Vec::new(),
            free: NIL,
            slots: vec![EMPTY; WINDOW as usize],
            occupied: vec![0; WORDS],
            summary: [0; WORDS / 64],
            now: 0,
            in_wheel: 0,
            overflow: BTreeMap::new(),
            len: 0,
            work: 0,
        }
    }

    /// How many events are pending.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The work counter: bitmap words inspected and overflow lists moved
    /// so far (see the field's docs).
    pub fn work(&self) -> u64 {
        self.work
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Schedules `event` at `at`, after every event already scheduled at
    /// that time.
    ///
    /// # Panics
    /// If `at` precedes the time of the event last popped: a simulator bug
    /// (its clock never runs backwards).
    pub fn push(&mut self, at: SimTime, event: E) {
        assert!(at.0 >= self.now, "event at {} µs scheduled after {} µs had run", at.0, self.now);
        let node = self.alloc(event);
        self.len += 1;
        if at.0 - self.now < WINDOW {
            let slot = (at.0 % WINDOW) as usize;
            self.append(slot, node);
            self.in_wheel += 1;
        } else {
            let (list, count) = self.overflow.entry(at.0).or_insert((EMPTY, 0));
            if list.tail == NIL {
                list.head = node;
            } else {
                self.slab[list.tail as usize].next = node;
            }
            list.tail = node;
            *count += 1;
        }
    }

    /// Takes the earliest event (of those at one time, the first
    /// scheduled) with its time, or `None` when the queue is empty.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let at = match self.next_in_wheel() {
            Some(at) => at,
            None => *self.overflow.keys().next()?,
        };
        if at != self.now {
            self.now = at;
            self.pull_overflow();
        }
        let slot = (at % WINDOW) as usize;
        let node = self.slots[slot].head;
        let next = self.slab[node as usize].next;
        self.slots[slot].head = next;
        if next == NIL {
            self.slots[slot].tail = NIL;
            self.mark(slot, false);
        }
        self.in_wheel -= 1;
        self.len -= 1;
        let event = self.release(node);
        Some((SimTime(at), event))
    }

    fn alloc(&mut self, event: E) -> u32 {
        if self.free == NIL {
            let index = u32::try_from(self.slab.len()).expect("fewer than 2^32 events in flight");
            self.slab.push(Node { event: Some(event), next: NIL });
            return index;
        }
        let index = self.free;
        let node = &mut self.slab[index as usize];
        self.free = node.next;
        node.event = Some(event);
        node.next = NIL;
        index
    }

    fn release(&mut self, index: u32) -> E {
        let node = &mut self.slab[index as usize];
        node.next = self.free;
        self.free = index;
        node.event.take().expect("a linked node holds an event")
    }

    fn append(&mut self, slot: usize, node: u32) {
        let list = &mut self.slots[slot];
        if list.tail == NIL {
            list.head = node;
            list.tail = node;
            self.mark(slot, true);
        } else {
            let tail = list.tail;
            list.tail = node;
            self.slab[tail as usize].next = node;
        }
    }

    fn mark(&mut self, slot: usize, occupied: bool) {
        let (word, bit) = (slot / 64, slot % 64);
        if occupied {
            self.occupied[word] |= 1 << bit;
            self.summary[word / 64] |= 1 << (word % 64);
        } else {
            self.occupied[word] &= !(1 << bit);
            if self.occupied[word] == 0 {
                self.summary[word / 64] &= !(1 << (word % 64));
            }
        }
    }

    /// The time of the earliest event in the wheel.
    fn next_in_wheel(&mut self) -> Option<u64> {
        if self.in_wheel == 0 {
            return None;
        }
        let start = (self.now % WINDOW) as usize;
        // Slots from the clock's to the window's end, then from 0 (the
        // times that wrapped around).
        let slot = self.first_occupied(start).or_else(|| self.first_occupied(0));
        let slot = slot?;
        let offset = (slot as u64 + WINDOW - start as u64) % WINDOW;
        Some(self.now + offset)
    }

    /// The first occupied slot at or after `from`.
    fn first_occupied(&mut self, from: usize) -> Option<usize> {
        self.work += 1;
        let word = from / 64;
        let here = self.occupied[word] & (u64::MAX << (from % 64));
        if here != 0 {
            return Some(word * 64 + here.trailing_zeros() as usize);
        }
        let next = word + 1;
        if next == WORDS {
            return None;
        }
        let (s, bit) = (next / 64, next % 64);
        let mut summary = self.summary[s] & (u64::MAX << bit);
        let mut s = s;
        loop {
            if summary != 0 {
                let w = s * 64 + summary.trailing_zeros() as usize;
                return Some(w * 64 + self.occupied[w].trailing_zeros() as usize);
            }
            s += 1;
            self.work += 1;
            if s == self.summary.len() {
                return None;
            }
            summary = self.summary[s];
        }
    }

    /// Moves the overflow's events that are now within the window into
    /// their (empty) slots.
    fn pull_overflow(&mut self) {
        while let Some(entry) = self.overflow.first_entry() {
            if *entry.key() - self.now >= WINDOW {
                break;
            }
            let at = *entry.key();
            let (list, count) = entry.remove();
            let slot = (at % WINDOW) as usize;
            debug_assert_eq!(self.slots[slot].head, NIL, "a slot entering the window is empty");
            self.slots[slot] = list;
            self.mark(slot, true);
            self.in_wheel += count;
            self.work += 1;
        }
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

struct Entry<E> {
    at: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest event.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// The same order as [`EventQueue`] from a binary heap on (time, sequence):
/// the reference the wheel is tested against, and the benchmarks' baseline.
pub struct HeapQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> HeapQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        HeapQueue { heap: BinaryHeap::new(), next_seq: 0 }
    }

    /// Schedules `event` at `at`, after every event already scheduled at
    /// that time.
    pub fn push(&mut self, at: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { at, seq, event });
    }

    /// Takes the earliest event (of those at one time, the first
    /// scheduled) with its time, or `None` when the queue is empty.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| (e.at, e.event))
    }
}

impl<E> Default for HeapQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), "b");
        q.push(SimTime(1), "a");
        q.push(SimTime(5), "c");
        q.push(SimTime(0), "z");
        q.push(SimTime(3 * WINDOW + 7), "far");
        q.push(SimTime(WINDOW + 5), "next window");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, ["z", "a", "b", "c", "next window", "far"]);
        assert!(q.is_empty());
    }

    #[test]
    fn an_overflowed_event_stays_ahead_of_later_pushes_at_its_time() {
        let mut q = EventQueue::new();
        let t = WINDOW + 10;
        q.push(SimTime(t), "early, from the overflow");
        q.push(SimTime(20), "step");
        assert_eq!(q.pop(), Some((SimTime(20), "step")));
        // t is in the window now: this lands in its slot, behind.
        q.push(SimTime(t), "later");
        assert_eq!(q.pop(), Some((SimTime(t), "early, from the overflow")));
        assert_eq!(q.pop(), Some((SimTime(t), "later")));
        assert_eq!(q.pop(), None);
    }

    proptest! {
        /// Any interleaving of pushes (never before the clock) and pops
        /// gives the heap's (time, sequence) order.
        #[test]
        fn agrees_with_the_heap(ops in prop::collection::vec((0u8..3, 0u64..3 * WINDOW, 0u64..40), 1..400)) {
            let (mut wheel, mut heap) = (EventQueue::new(), HeapQueue::new());
            let mut now = 0u64;
            for (i, (op, far, near)) in ops.into_iter().enumerate() {
                if op == 0 {
                    let a = wheel.pop();
                    prop_assert_eq!(a, heap.pop());
                    if let Some((t, _)) = a {
                        now = t.0;
                    }
                } else {
                    let at = if op == 1 { now + near } else { now + far };
                    wheel.push(SimTime(at), i);
                    heap.push(SimTime(at), i);
                }
            }
            while let Some(a) = heap.pop() {
                prop_assert_eq!(wheel.pop(), Some(a));
            }
            prop_assert_eq!(wheel.pop(), None);
            prop_assert_eq!(wheel.len(), 0);
        }
    }
}
