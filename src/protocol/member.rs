//! A group member: process 400 (ring initialisation, as the group initiator
//! when it is member 1), its side of process 300 (receiving the SM's pad),
//! process 500 (additive key generation) and key confirmation.
//!
//! Epoch e is "held" once the member knows θ_e and its pad α_{i,e}; it then
//! derives SK_e = KDF(θ_e) and broadcasts H("fraclab/confirm/v1" ‖ SK_e).
//! Iteration j starts when the member's own clock reads j·rekey_interval
//! (or as soon as epoch j is held, if that is later): the member draws
//! FK_{i,j}, broadcasts HFK_{i,j} = α_{i,j} + FK_{i,j}, and once it holds all
//! n HFKs computes θ_{j+1} = (1−n)·θ_j + Σ HFK = Σ FK and
//! α_{i,j+1} = θ_{j+1} − FK_{i,j}. HFKs that arrive early are kept for their
//! iteration; stale ones are ignored.

use std::collections::{BTreeMap, BTreeSet};

use rand_core::Rng;

use super::link::Link;
use super::{Body, Envelope, InitKind, LocalTime, MemberId, Mode, Node, Note, Output, Party, SecretName};
use crate::group::{GroupParams, KeyTag, Scalar, SharedKey, confirm_tag, derive_sk};

/// Everything a member is configured with before the run.
#[derive(Clone, Debug)]
pub struct MemberConfig {
    pub id: MemberId,
    pub members: u32,
    pub group: &'static GroupParams,
    pub init: InitKind,
    /// Key-generation iterations to run after initialisation.
    pub epochs: u64,
    pub rekey_interval_us: i64,
    /// Link retransmission timeout.
    pub rto_us: i64,
}

/// θ_e and α_{i,e} for the epoch the member currently holds.
struct Held {
    epoch: u64,
    theta: Scalar,
    alpha: Scalar,
}

/// An iteration in progress: the member's own FK and the HFKs collected.
struct Round {
    j: u64,
    fk: Scalar,
    hfks: BTreeMap<MemberId, Scalar>,
}

pub struct Member {
    cfg: MemberConfig,
    link: Link,
    started_at: Option<LocalTime>,
    /// The member's initialisation draw v_i (process 300 keeps it at the SM).
    v: Option<Scalar>,
    /// The GI's blinding γ.
    gamma: Option<Scalar>,
    held: Option<Held>,
    round: Option<Round>,
    early_hfks: BTreeMap<u64, BTreeMap<MemberId, Scalar>>,
    keys: BTreeMap<u64, SharedKey>,
    /// Confirmation tags received, by epoch, until they have been compared.
    confirms: BTreeMap<u64, BTreeMap<MemberId, KeyTag>>,
    /// Matching confirmations counted per epoch.
    matched: BTreeMap<u64, u32>,
    diverged: BTreeSet<(u64, MemberId)>,
}

impl Member {
    pub fn new(cfg: MemberConfig) -> Member {
        let link = Link::new(Party::Member(cfg.id), cfg.rto_us);
        Member {
            cfg,
            link,
            started_at: None,
            v: None,
            gamma: None,
            held: None,
            round: None,
            early_hfks: BTreeMap::new(),
            keys: BTreeMap::new(),
            confirms: BTreeMap::new(),
            matched: BTreeMap::new(),
            diverged: BTreeSet::new(),
        }
    }

    pub fn id(&self) -> MemberId {
        self.cfg.id
    }

    fn group(&self) -> &'static GroupParams {
        self.cfg.group
    }

    fn next_in_ring(&self) -> MemberId {
        MemberId(self.cfg.id.0 % self.cfg.members + 1)
    }

    fn others(&self) -> impl Iterator<Item = MemberId> + use<> {
        let me = self.cfg.id;
        (1..=self.cfg.members).map(MemberId).filter(move |&m| m != me)
    }

    fn note_secret(&self, out: &mut Output, name: SecretName, index: u64, value: &Scalar) {
        out.notes.push(Note::Secret { owner: self.cfg.id, name, index, value: value.clone() });
    }

    fn broadcast(&mut self, now: LocalTime, mode: Mode, iter: u64, body: Body, out: &mut Output) {
        for m in self.others() {
            let env = self.link.send(now, Party::Member(m), mode, iter, body.clone());
            out.sends.push(env);
        }
    }

    /// Process 400, steps 410–420: the GI draws γ and v_1 and starts the ring.
    fn start_ring(&mut self, now: LocalTime, rng: &mut dyn Rng, out: &mut Output) {
        let g = self.group();
        let gamma = g.random_scalar(rng);
        let v = g.random_scalar(rng);
        let delta = g.add(&gamma, &v);
        self.note_secret(out, SecretName::Gamma, 1, &gamma);
        self.note_secret(out, SecretName::V, 1, &v);
        self.note_secret(out, SecretName::Delta, 1, &delta);
        self.gamma = Some(gamma);
        self.v = Some(v);
        let to = Party::Member(self.next_in_ring());
        out.sends.push(self.link.send(now, to, Mode::Init, 1, Body::Delta(delta)));
    }

    fn on_delta(&mut self, now: LocalTime, prev: Scalar, rng: &mut dyn Rng, out: &mut Output) {
        let g = self.group();
        if let Some(gamma) = &self.gamma {
            // Step 475: δ_n came back to the GI.
            if self.held.is_some() {
                return;
            }
            let theta = g.sub(&prev, gamma);
            self.broadcast(now, Mode::Init, 1, Body::Theta(theta.clone()), out);
            self.adopt_theta1(now, theta, out);
        } else if self.v.is_none() {
            // Steps 430–440: draw v_i, forward δ_i = δ_{i−1} + v_i.
            let v = g.random_scalar(rng);
            let delta = g.add(&prev, &v);
            self.note_secret(out, SecretName::V, 1, &v);
            self.note_secret(out, SecretName::Delta, 1, &delta);
            self.v = Some(v);
            let to = Party::Member(self.next_in_ring());
            out.sends.push(self.link.send(now, to, Mode::Init, 1, Body::Delta(delta)));
        }
    }

    /// Step 490: α_{i,1} = θ_1 − v_i.
    fn adopt_theta1(&mut self, now: LocalTime, theta: Scalar, out: &mut Output) {
        let Some(v) = &self.v else {
            return; // θ_1 cannot precede δ_{i−1} on the ring; ignore a forged one.
        };
        let alpha = self.group().sub(&theta, v);
        self.enter_epoch(now, 1, theta, alpha, out);
    }

    /// The member now holds θ_e and α_{i,e}: derive SK_e and confirm it.
    fn enter_epoch(&mut self, now: LocalTime, epoch: u64, theta: Scalar, alpha: Scalar, out: &mut Output) {
        let id = self.cfg.id;
        self.note_secret(out, SecretName::Alpha, epoch, &alpha);
        out.notes.push(Note::Theta { member: id, epoch, value: theta.clone() });
        let sk = derive_sk(self.group(), self.cfg.members, epoch, &theta);
        out.notes.push(Note::Key { member: id, epoch, sk });
        self.keys.insert(epoch, sk);
        self.held = Some(Held { epoch, theta, alpha });
        let (mode, iter) = if epoch == 1 { (Mode::Init, 1) } else { (Mode::Generation, epoch - 1) };
        self.broadcast(now, mode, iter, Body::Confirm(confirm_tag(&sk)), out);
        if let Some(pending) = self.confirms.remove(&epoch) {
            for (from, tag) in pending {
                self.compare_confirm(epoch, from, tag, out);
            }
        }
    }

    fn on_confirm(&mut self, epoch: u64, from: MemberId, tag: KeyTag, out: &mut Output) {
        if self.keys.contains_key(&epoch) {
            self.compare_confirm(epoch, from, tag, out);
        } else {
            self.confirms.entry(epoch).or_default().insert(from, tag);
        }
    }

    fn compare_confirm(&mut self, epoch: u64, from: MemberId, tag: KeyTag, out: &mut Output) {
        let id = self.cfg.id;
        if confirm_tag(&self.keys[&epoch]) != tag {
            if self.diverged.insert((epoch, from)) {
                out.notes.push(Note::Divergence { member: id, epoch, with: from });
            }
            return;
        }
        let count = self.matched.entry(epoch).or_insert(0);
        *count += 1;
        if *count == self.cfg.members - 1 {
            out.notes.push(Note::Confirmed { member: id, epoch });
        }
    }

    /// The local time at which iteration j is due: the group's schedule says
    /// j·rekey_interval after the start, and each member reads it off its own
    /// (possibly skewed) clock, so a fast clock rekeys early.
    fn rekey_due(&self, j: u64) -> Option<LocalTime> {
        self.started_at?;
        Some(LocalTime(self.cfg.rekey_interval_us.saturating_mul(j as i64)))
    }

    /// The iteration the member could start next, if any.
    fn next_iteration(&self) -> Option<u64> {
        let held = self.held.as_ref()?;
        (self.round.is_none() && held.epoch <= self.cfg.epochs).then_some(held.epoch)
    }

    /// Steps 515–525: draw FK_{i,j} and broadcast HFK_{i,j} once due.
    fn maybe_start_round(&mut self, now: LocalTime, rng: &mut dyn Rng, out: &mut Output) {
        let Some(j) = self.next_iteration() else { return };
        if self.rekey_due(j).is_none_or(|due| due > now) {
            return;
        }
        let g = self.group();
        let alpha = &self.held.as_ref().expect("next_iteration implies held").alpha;
        let fk = g.random_scalar(rng);
        let hfk = g.add(alpha, &fk);
        self.note_secret(out, SecretName::Fk, j, &fk);
        self.broadcast(now, Mode::Generation, j, Body::Hfk(hfk.clone()), out);
        let mut hfks = self.early_hfks.remove(&j).unwrap_or_default();
        hfks.insert(self.cfg.id, hfk);
        self.round = Some(Round { j, fk, hfks });
        self.maybe_finish_round(now, out);
    }

    fn on_hfk(&mut self, now: LocalTime, j: u64, from: MemberId, hfk: Scalar, out: &mut Output) {
        match &mut self.round {
            Some(round) if round.j == j => {
                round.hfks.insert(from, hfk);
                self.maybe_finish_round(now, out);
            }
            _ => {
                let current = self.held.as_ref().map_or(1, |h| h.epoch);
                if j >= current && j <= self.cfg.epochs {
                    self.early_hfks.entry(j).or_default().insert(from, hfk);
                }
            }
        }
    }

    /// Steps 545–550: θ_{j+1} = (1−n)·θ_j + Σ HFK, α_{i,j+1} = θ_{j+1} − FK_{i,j}.
    fn maybe_finish_round(&mut self, now: LocalTime, out: &mut Output) {
        let n = self.cfg.members;
        if self.round.as_ref().is_none_or(|r| r.hfks.len() < n as usize) {
            return;
        }
        let round = self.round.take().expect("checked above");
        let held = self.held.as_ref().expect("a round runs on a held epoch");
        let g = self.group();
        let lambda = 1 - i64::from(n);
        let theta = g.add(&g.mul_i64(&held.theta, lambda), &g.sum(round.hfks.values()));
        let alpha = g.sub(&theta, &round.fk);
        self.enter_epoch(now, round.j + 1, theta, alpha, out);
    }

    fn dispatch(&mut self, now: LocalTime, env: Envelope, rng: &mut dyn Rng, out: &mut Output) {
        let Party::Member(from) = env.from else {
            if let (Body::Pad { alpha, theta }, InitKind::Sm, None) = (env.body, self.cfg.init, &self.held) {
                self.enter_epoch(now, 1, theta, alpha, out);
            }
            return;
        };
        match (env.mode, env.body) {
            (Mode::Init, Body::Delta(d)) if self.cfg.init == InitKind::Ring => {
                self.on_delta(now, d, rng, out)
            }
            (Mode::Init, Body::Theta(t)) if self.held.is_none() => self.adopt_theta1(now, t, out),
            (Mode::Generation, Body::Hfk(h)) => self.on_hfk(now, env.iter, from, h, out),
            (Mode::Init, Body::Confirm(tag)) => self.on_confirm(1, from, tag, out),
            (Mode::Generation, Body::Confirm(tag)) => self.on_confirm(env.iter + 1, from, tag, out),
            _ => {}
        }
    }
}

impl Node for Member {
    fn party(&self) -> Party {
        Party::Member(self.cfg.id)
    }

    fn start(&mut self, now: LocalTime, rng: &mut dyn Rng) -> Output {
        self.started_at = Some(now);
        let mut out = Output::default();
        if self.cfg.init == InitKind::Ring && self.cfg.id == MemberId(1) {
            self.start_ring(now, rng, &mut out);
        }
        out
    }

    fn handle_message(&mut self, now: LocalTime, env: Envelope, rng: &mut dyn Rng) -> Output {
        let mut out = Output::default();
        let received = self.link.receive(env);
        out.sends.extend(received.ack);
        if let Some(env) = received.fresh {
            self.dispatch(now, env, rng, &mut out);
        }
        self.maybe_start_round(now, rng, &mut out);
        out
    }

    fn handle_timeout(&mut self, now: LocalTime, rng: &mut dyn Rng) -> Output {
        let mut out = Output { sends: self.link.due(now), notes: Vec::new() };
        self.maybe_start_round(now, rng, &mut out);
        out
    }

    fn poll_timeout(&self) -> Option<LocalTime> {
        let rekey = self.next_iteration().and_then(|j| self.rekey_due(j));
        match (self.link.next_deadline(), rekey) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
