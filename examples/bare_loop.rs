//! The bare event-loop baseline of `bench/run.py`: the least a discrete-event
//! simulator of n parties can do per event. A `BinaryHeap` ordered by
//! (time, sequence number), a 64-byte payload, and O(1) work per event: the
//! delivery folds the payload into its receiver's state and schedules one
//! new message at a pseudo-random later time (xorshift), so the heap keeps
//! n·(n−1) events in flight, a broadcast's worth, as fraclab's does.
//!
//! `cargo run --release --example bare_loop -- EVENTS [MEMBERS]` (MEMBERS
//! defaults to 256) prints one JSON line:
//! `{"events":…,"members":…,"in_flight":…,"elapsed_s":…,"events_per_s":…,"checksum":…}`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Instant;

/// 64 bytes, the size the benchmark compares against.
type Payload = [u64; 8];

struct Entry {
    at: u64,
    seq: u64,
    to: u32,
    payload: Payload,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Reversed: `BinaryHeap` is a max-heap and the earliest event goes first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A latency in µs, uniform in 5..40 ms as in the bundled scenarios.
    fn latency(&mut self) -> u64 {
        5_000 + self.next() % 35_000
    }
}

fn arg(args: &[String], i: usize, default: Option<u64>) -> u64 {
    match args.get(i) {
        Some(s) => s.parse().unwrap_or_else(|_| {
            eprintln!("bare_loop: {s:?} is not a whole number; usage: bare_loop EVENTS [MEMBERS]");
            std::process::exit(2)
        }),
        None => default.unwrap_or_else(|| {
            eprintln!("usage: bare_loop EVENTS [MEMBERS]");
            std::process::exit(2)
        }),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let events = arg(&args, 1, None);
    let members = arg(&args, 2, Some(256)).max(2);
    let in_flight = (members * (members - 1)).min(events);

    let start = Instant::now();
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut heap = BinaryHeap::with_capacity(in_flight as usize + 1);
    let mut state = vec![0u64; members as usize];
    let mut seq = 0u64;
    let schedule = |heap: &mut BinaryHeap<Entry>, at: u64, from: u64, to: u64, seq: &mut u64| {
        let payload = [from, to, at, *seq, from ^ to, at ^ *seq, 0, 0];
        heap.push(Entry { at, seq: *seq, to: to as u32, payload });
        *seq += 1;
    };
    // A broadcast's worth in flight: every member to every other.
    'fill: for from in 0..members {
        for to in 0..members {
            if from == to {
                continue;
            }
            if seq == in_flight {
                break 'fill;
            }
            let at = rng.latency();
            schedule(&mut heap, at, from, to, &mut seq);
        }
    }
    let mut done = 0u64;
    while let Some(Entry { at, to, payload, .. }) = heap.pop() {
        done += 1;
        let s = &mut state[to as usize];
        *s = s.rotate_left(5) ^ payload[0] ^ payload[3] ^ payload[5];
        if seq < events {
            let next = rng.next() % members;
            let next = if next == u64::from(to) { (next + 1) % members } else { next };
            let later = at + rng.latency();
            schedule(&mut heap, later, u64::from(to), next, &mut seq);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let checksum = state.iter().fold(0u64, |a, s| a.rotate_left(1) ^ s);
    println!(
        "{{\"events\":{done},\"members\":{members},\"in_flight\":{in_flight},\"elapsed_s\":{elapsed:.6},\"events_per_s\":{:.1},\"checksum\":{checksum}}}",
        done as f64 / elapsed.max(1e-9)
    );
}
