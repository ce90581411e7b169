//! Reliable delivery over a lossy, duplicating network: every payload is
//! acknowledged, retransmitted after `rto` until it is, and a receiver passes
//! each (sender, seq) up once. Acks are not acknowledged; a lost ack costs a
//! retransmission, which the receiver acks again and otherwise ignores.
//!
//! Retransmission is unbounded, so any loss < 1 completes; the simulator's
//! event limit (SPEC §9) bounds a run.

use std::collections::{BTreeMap, BTreeSet};

use super::{Body, Envelope, LocalTime, Mode, Party};

struct Pending {
    env: Envelope,
    deadline: LocalTime,
}

pub struct Link {
    me: Party,
    rto_us: i64,
    next_seq: u64,
    /// Unacknowledged payloads by (recipient, seq).
    pending: BTreeMap<(Party, u64), Pending>,
    /// The same entries ordered by deadline.
    deadlines: BTreeSet<(LocalTime, Party, u64)>,
    /// (sender, seq) of every payload already passed up.
    seen: BTreeSet<(Party, u64)>,
}

/// What the link made of one incoming envelope.
pub struct Received {
    /// The ack to send back, for every payload (fresh or duplicate).
    pub ack: Option<Envelope>,
    /// The envelope, if it is a payload not seen before.
    pub fresh: Option<Envelope>,
}

impl Link {
    pub fn new(me: Party, rto_us: i64) -> Link {
        assert!(rto_us > 0, "retransmission timeout must be positive");
        Link {
            me,
            rto_us,
            next_seq: 1,
            pending: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            seen: BTreeSet::new(),
        }
    }

    fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// Frames `body` for `to` and keeps it until acknowledged.
    pub fn send(&mut self, now: LocalTime, to: Party, mode: Mode, iter: u64, body: Body) -> Envelope {
        let seq = self.take_seq();
        let env = Envelope { from: self.me, to, mode, iter, seq, attempt: 0, body };
        let deadline = now.plus_us(self.rto_us);
        self.deadlines.insert((deadline, to, seq));
        self.pending.insert((to, seq), Pending { env: env.clone(), deadline });
        env
    }

    pub fn receive(&mut self, env: Envelope) -> Received {
        if let Body::Ack { seq } = env.body {
            if let Some(p) = self.pending.remove(&(env.from, seq)) {
                self.deadlines.remove(&(p.deadline, env.from, seq));
            }
            return Received { ack: None, fresh: None };
        }
        let ack_seq = self.take_seq();
        let ack = Envelope {
            from: self.me,
            to: env.from,
            mode: env.mode,
            iter: env.iter,
            seq: ack_seq,
            attempt: 0,
            body: Body::Ack { seq: env.seq },
        };
        let fresh = self.seen.insert((env.from, env.seq)).then_some(env);
        Received { ack: Some(ack), fresh }
    }

    /// Every payload whose retransmission deadline has passed, re-framed.
    pub fn due(&mut self, now: LocalTime) -> Vec<Envelope> {
        let mut out = Vec::new();
        while let Some(&(deadline, to, seq)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_first();
            let p = self.pending.get_mut(&(to, seq)).expect("deadline without pending entry");
            p.env.attempt += 1;
            p.deadline = now.plus_us(self.rto_us);
            self.deadlines.insert((p.deadline, to, seq));
            out.push(p.env.clone());
        }
        out
    }

    pub fn next_deadline(&self) -> Option<LocalTime> {
        self.deadlines.first().map(|&(d, _, _)| d)
    }

    /// Whether every payload sent has been acknowledged.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }
}
