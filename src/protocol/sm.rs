//! Process 300: the security manager, a third party that is not a member.
//! It draws v_i uniformly from Z_q, sets θ_1 = Σ v_i and α_{i,1} = θ_1 − v_i
//! (SPEC §1, ambiguity 2: this keeps invariant I1) and sends (α_{i,1}, θ_1)
//! to each member i.

use rand_core::Rng;

use super::link::Link;
use super::{Body, Envelope, LocalTime, MemberId, Mode, Node, Note, Output, Party, SecretName};
use crate::group::GroupParams;

pub struct SecurityManager {
    group: &'static GroupParams,
    members: u32,
    link: Link,
}

impl SecurityManager {
    pub fn new(group: &'static GroupParams, members: u32, rto_us: i64) -> SecurityManager {
        SecurityManager { group, members, link: Link::new(Party::Sm, rto_us) }
    }
}

impl Node for SecurityManager {
    fn party(&self) -> Party {
        Party::Sm
    }

    fn start(&mut self, now: LocalTime, rng: &mut dyn Rng) -> Output {
        let g = self.group;
        let mut out = Output::default();
        let vs: Vec<_> = (1..=self.members).map(|_| g.random_scalar(rng)).collect();
        let theta = g.sum(&vs);
        for (i, v) in (1..=self.members).zip(vs) {
            let owner = MemberId(i);
            let alpha = g.sub(&theta, &v);
            out.notes.push(Note::Secret { owner, name: SecretName::V, index: 1, value: v });
            let body = Body::Pad { alpha, theta: theta.clone() };
            out.sends.push(self.link.send(now, Party::Member(owner), Mode::Init, 1, body));
        }
        out
    }

    fn handle_message(&mut self, _now: LocalTime, env: Envelope, _rng: &mut dyn Rng) -> Output {
        // The SM only ever receives acks; anything else is acked and ignored.
        let r = self.link.receive(env);
        Output { sends: r.ack.into_iter().collect(), notes: Vec::new() }
    }

    fn handle_timeout(&mut self, now: LocalTime, _rng: &mut dyn Rng) -> Output {
        Output { sends: self.link.due(now), notes: Vec::new() }
    }

    fn poll_timeout(&self) -> Option<LocalTime> {
        self.link.next_deadline()
    }
}
