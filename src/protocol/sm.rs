//! Process 300: the security manager, a third party that is not a member.
//! It draws v_i uniformly from Z_q, sets θ_1 = Σ v_i and α_{i,1} = θ_1 − v_i
//! (reference §1, ambiguity 2: this keeps invariant I1) and sends (α_{i,1}, θ_1)
//! to each member i. With verification (process 800) it also sends every
//! member the commitments C_i = g^{α_{i,1}} and C_θ = g^{θ_1}.
//!
//! A cheating SM (the `sm-cheat` adversary) hands one member α + 1 and
//! commits to what it handed, so Π C_i ≠ C_θ^{n−1} gives it away.

use rand_core::Rng;

use super::link::{Backoff, Link};
use super::sealed;
use super::{Body, Commitment, Envelope, LocalTime, MemberId, Mode, Node, Note, Output, Party, SecretName};
use crate::group::GroupParams;

pub struct SecurityManager {
    group: &'static GroupParams,
    members: u32,
    link: Link,
    verify: bool,
    cheat_on: Option<MemberId>,
}

impl SecurityManager {
    pub fn new(
        group: &'static GroupParams,
        members: u32,
        backoff: Backoff,
        verify: bool,
        cheat_on: Option<MemberId>,
    ) -> SecurityManager {
        SecurityManager { group, members, link: Link::new(Party::Sm, backoff), verify, cheat_on }
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
        let mut alphas = Vec::with_capacity(vs.len());
        for (i, v) in (1..=self.members).zip(vs) {
            let owner = MemberId(i);
            let mut alpha = g.sub(&theta, &v);
            if self.cheat_on == Some(owner) {
                alpha = g.add(&alpha, &g.scalar_from_u64(1));
                out.notes.push(Note::Cheated { by: Party::Sm });
            }
            out.notes.push(Note::Secret { owner, name: SecretName::V, index: 1, value: v });
            let body = Body::Pad { alpha: alpha.clone(), theta: theta.clone() };
            out.sends.push(self.link.send(now, Party::Member(owner), Mode::Init, 1, body));
            alphas.push(alpha);
        }
        if self.verify {
            let commitment = Commitment::Pads {
                alphas: alphas.iter().map(|a| g.pow_g(a)).collect(),
                theta: g.pow_g(&theta),
            };
            for i in 1..=self.members {
                let body = Body::Commit(commitment.clone());
                out.sends.push(self.link.send(now, Party::Member(MemberId(i)), Mode::Init, 1, body));
            }
        }
        out
    }

    fn handle_message(&mut self, _now: LocalTime, env: Envelope, _rng: &mut dyn Rng) -> Output {
        // The SM only ever receives acks; anything else is acked and ignored.
        let r = self.link.receive(env);
        Output { sends: r.ack.into_iter().collect(), notes: Vec::new(), fresh: r.fresh.is_some() }
    }

    fn handle_timeout(&mut self, now: LocalTime, _rng: &mut dyn Rng) -> Output {
        Output { sends: self.link.due(now), ..Output::default() }
    }

    fn poll_timeout(&self) -> Option<LocalTime> {
        self.link.next_deadline()
    }

    /// The SM takes part in initialisation only: acks of its pads.
    #[allow(clippy::reversed_empty_ranges)]
    fn admits(&self) -> sealed::Admit {
        sealed::Admit { modes: b"I", iters: [1..=1, 1..=0, 1..=0] }
    }
}
