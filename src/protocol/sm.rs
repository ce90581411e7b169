//! Process 300: the security manager, a third party that is not a member.
//! It draws v_i uniformly from Z_q, sets θ_1 = Σ v_i and α_{i,1} = θ_1 − v_i
//! (reference §1, ambiguity 2: this keeps invariant I1) and sends (α_{i,1}, θ_1)
//! to each member i. With verification (process 800) it also sends every
//! member the commitments C_i = g^{α_{i,1}} and C_θ = g^{θ_1}.
//!
//! The SM commits to the pads as its [`Conduct`] sent them: a cheating SM
//! (the `sm-cheat` adversary's conduct) hands one member α + 1 and commits
//! to what it handed, so Π C_i ≠ C_θ^{n−1} gives it away.

use std::sync::Arc;

use rand_core::Rng;

use super::Verify;
use super::conduct::{self, Conduct, Context, Outgoing};
use super::link::{Backoff, Link};
use super::sealed;
use super::{
    Body, Commitment, Envelope, LocalTime, MemberId, Mode, Node, Note, Output, Party, SecretName, Timer,
};
use crate::group::GroupParams;

/// The security manager, party 0: a [`Node`] that at its start draws and
/// sends every member's pad (and, with commitments, the process 800
/// commitments), then only retransmits until each is acknowledged.
pub struct SecurityManager {
    group: &'static GroupParams,
    members: u32,
    link: Link,
    verify: Verify,
    /// How the SM's payloads leave it.
    conduct: Box<dyn Conduct>,
}

impl SecurityManager {
    /// The SM of a group of `members`, sending through `conduct`
    /// ([`conduct::Honest`] for one that follows the protocol).
    pub fn new(
        group: &'static GroupParams,
        members: u32,
        backoff: Backoff,
        verify: Verify,
        conduct: Box<dyn Conduct>,
    ) -> SecurityManager {
        let mut link = Link::new(Party::Sm, backoff);
        link.expect_parties(members);
        SecurityManager { group, members, link, verify, conduct }
    }

    /// Sends `body` to member `to` in mode I through the SM's conduct.
    fn send(&mut self, now: LocalTime, to: MemberId, body: Body, out: &mut Output) {
        let ctx = Context { party: Party::Sm, incarnation: 0, mode: Mode::Init, iter: 1, group: self.group };
        let msg = Outgoing { to: Party::Member(to), body };
        for msg in conduct::conduct(&mut *self.conduct, &ctx, msg, &mut out.notes) {
            out.sends.push(self.link.send(now, msg.to, Mode::Init, 1, msg.body));
        }
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
            let alpha = g.sub(&theta, &v);
            out.notes.push(Note::Secret { owner, name: SecretName::V, index: 1, value: v });
            let first = out.sends.len();
            self.send(now, owner, Body::Pad { alpha: alpha.clone(), theta: theta.clone() }, &mut out);
            // The pad as sent to its owner is the one committed to.
            let sent = out.sends[first..].iter().find_map(|e| match &e.body {
                Body::Pad { alpha, .. } if e.to == Party::Member(owner) => Some(alpha.clone()),
                _ => None,
            });
            alphas.push(sent.unwrap_or(alpha));
        }
        if self.verify.commits() {
            let commitment = Arc::new(Commitment::Pads {
                alphas: alphas.iter().map(|a| g.pow_g(a)).collect(),
                theta: g.pow_g(&theta),
            });
            for i in 1..=self.members {
                self.send(now, MemberId(i), Body::Commit(commitment.clone()), &mut out);
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

    fn poll_timeout(&self) -> Option<(Timer, LocalTime)> {
        self.link.next_deadline().map(|at| (Timer::Retransmit, at))
    }

    /// The SM takes part in initialisation only: acks of its pads.
    #[allow(clippy::reversed_empty_ranges)]
    fn admits(&self) -> sealed::Admit {
        sealed::Admit { modes: b"I", iters: [1..=1, 1..=0, 1..=0] }
    }
}
