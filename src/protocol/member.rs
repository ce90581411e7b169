//! A group member: process 400 (ring initialisation, as the group initiator
//! when it is member 1) and fraclab's hardened ring (shares first, then the
//! ring over partial sums), its side of process 300 (receiving the SM's pad),
//! processes 500 and 600 (additive and ElGamal key generation), key
//! confirmation, process 700 (detection and recovery, as survivor, RI or
//! replacement: the `recovery` submodule) and the checks of processes 800,
//! 900 and verified key generation (the `verify` submodule).
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
use std::sync::Arc;

use rand_core::Rng;

mod by_member;
mod recovery;
#[cfg(test)]
mod tests;
mod verify;

use by_member::ByMember;

use super::Verify;
use super::conduct::{self, Conduct, Context, Outgoing};
use super::link::{Backoff, Link};
use super::sealed;
use super::{
    Body, Check, Envelope, Epoch, InitKind, Iteration, KeygenKind, LocalTime, MemberId, Mode, Node, Note,
    Output, Party, SecretName, Timer,
};
use crate::group::{Element, GroupParams, KeyTag, Scalar, SharedKey, confirm_tag, derive_sk};

/// Everything a member is configured with before the run.
#[derive(Clone, Debug)]
pub struct MemberConfig {
    /// The member's index, 1..=`members`.
    pub id: MemberId,
    /// n, the size of the group.
    pub members: u32,
    /// The parameter set every scalar and element lives in.
    pub group: &'static GroupParams,
    /// How epoch 1 comes about: the SM's pad or one of the rings. The whole
    /// group must agree.
    pub init: InitKind,
    /// Additive (process 500) or ElGamal (process 600) key generation.
    pub keygen: KeygenKind,
    /// Commitments: processes 800 and 900 and verified key generation.
    pub verify: Verify,
    /// Key-generation iterations to run after initialisation.
    pub epochs: u64,
    /// Iteration j falls due when the member's own clock reads j times
    /// this, µs (`rekey_interval_ms` in a scenario).
    pub rekey_interval_us: i64,
    /// When the link retransmits.
    pub backoff: Backoff,
    /// Silence after which a member missing from a round is declared failed.
    pub round_timeout_us: i64,
    /// The group's bound on how far one member's clock may be from
    /// another's (twice the per-clock skew bound). A round falls due at a
    /// different moment on every clock, so a member waits this much longer
    /// before it takes a peer's silence for a failure.
    pub clock_spread_us: i64,
    /// How long a live peer's payload may take to get through the group's
    /// lossy network (see `sim::Config::loss_allowance_us`): silence
    /// shorter than this is not taken for a failure either.
    pub loss_allowance_us: i64,
    /// 0 for an original member, k for the k-th replacement of its index.
    pub incarnation: u32,
}

/// A completed iteration: the member's own FK (or x), every HFK and, when
/// they are published, every public FK.
struct Past {
    fk: Scalar,
    hfks: ByMember<Scalar>,
    pubs: ByMember<Element>,
    /// The incarnation each member's parts came from.
    incs: ByMember<u32>,
}

/// Members' parts of one iteration: HFKs, public FKs and the incarnation
/// they came from. A member's HFK and public FK count together only when
/// one incarnation sent both: a replacement's fresh draw displaces what its
/// dead predecessor got out, and a late part of the predecessor is ignored.
struct Parts {
    hfks: ByMember<Scalar>,
    pubs: ByMember<Element>,
    incs: ByMember<u32>,
    /// Members whose HFK and public FK are both in: kept up to date as
    /// parts arrive, so that "are all parts in?" is a lookup, not a count
    /// over every member on every arrival.
    both: usize,
}

impl Parts {
    /// No parts yet, in a group of `members`.
    fn new(members: u32) -> Parts {
        Parts {
            hfks: ByMember::new(members),
            pubs: ByMember::new(members),
            incs: ByMember::new(members),
            both: 0,
        }
    }

    /// Whether a part from `m`'s incarnation `inc` is current; clears the
    /// older incarnation's parts when it is newer.
    fn admit(&mut self, m: MemberId, inc: u32) -> bool {
        match self.incs.get(&m) {
            Some(&held) if held > inc => false,
            Some(&held) if held == inc => true,
            _ => {
                let had_hfk = self.hfks.remove(&m).is_some();
                let had_pub = self.pubs.remove(&m).is_some();
                self.both -= usize::from(had_hfk && had_pub);
                self.incs.insert(m, inc);
                true
            }
        }
    }

    fn put_hfk(&mut self, m: MemberId, inc: u32, hfk: Scalar) {
        if self.admit(m, inc) && self.hfks.insert(m, hfk).is_none() {
            self.both += usize::from(self.pubs.contains_key(&m));
        }
    }

    fn put_pub(&mut self, m: MemberId, inc: u32, fk_pub: Element) {
        if self.admit(m, inc) && self.pubs.insert(m, fk_pub).is_none() {
            self.both += usize::from(self.hfks.contains_key(&m));
        }
    }

    /// Whether `m`'s part is in: its HFK and, when public FKs are
    /// published, its FK too.
    fn has(&self, m: MemberId, publishes: bool) -> bool {
        self.hfks.contains_key(&m) && (!publishes || self.pubs.contains_key(&m))
    }

    /// How many members' parts are in: their HFK and, when public FKs are
    /// published, their public FK too. O(1).
    fn complete(&self, publishes: bool) -> usize {
        if publishes { self.both } else { self.hfks.len() }
    }
}

/// θ_e and α_{i,e} for the epoch the member currently holds, and since
/// when it holds them.
struct Held {
    epoch: u64,
    theta: Scalar,
    alpha: Scalar,
    since: LocalTime,
}

/// Where a member is in the protocol. Each phase holds what only it needs,
/// so that what a step relies on (θ held, a recovery running) is there by
/// construction.
enum Phase {
    /// [`Node::start`] has not been called yet.
    Created,
    /// An original member before it holds θ_1 (process 300, 400 or the
    /// hardened ring).
    Init(Init),
    /// A replacement (process 700) waiting for the RI's handover.
    AwaitingHandover,
    /// A replacement running the recovery ring.
    Recovering(recovery::Replacing),
    /// Holding epoch e: key generation, with iteration e in progress or
    /// not yet due.
    Holding { held: Held, round: Option<Round> },
}

/// An original member's side of initialisation, until it holds θ_1.
enum Init {
    /// Process 300: the pad comes from the SM.
    Pad,
    /// The ring, before the member has sent its δ_i: δ_{i−1} once it has
    /// arrived (never needed by the GI) and, on the hardened ring, the
    /// shares.
    Ring { pending_delta: Option<Scalar>, shares: Option<Shares> },
    /// δ_i has gone out: the member's v_i (to take α_{i,1} = θ_1 − v_i)
    /// and, for the GI, its blinding γ (to unblind δ_n).
    Sent { v: Scalar, gamma: Option<Scalar> },
}

/// The hardened ring: v_i, the share s_{i,i} the member keeps, the shares
/// received and, once all are in, the partial sum it contributes.
struct Shares {
    v: Scalar,
    kept: Scalar,
    received: BTreeMap<MemberId, Scalar>,
    partial: Option<Scalar>,
}

impl Shares {
    /// Once every other member's share is in: the partial sum, fixed from
    /// then on.
    fn maybe_sum(&mut self, g: &GroupParams, members: u32) {
        if self.partial.is_none() && self.received.len() + 1 == members as usize {
            self.partial = Some(g.add(&self.kept, &g.sum(self.received.values())));
        }
    }
}

/// An iteration in progress: the member's own FK (x under ElGamal) and
/// the HFKs collected; under ElGamal also its public FK = g^x and the
/// public FKs collected.
struct Round {
    j: u64,
    fk: Scalar,
    hfk: Scalar,
    fk_pub: Option<Element>,
    parts: Parts,
    started: LocalTime,
}

/// One node of a member index (the original or one of its replacements):
/// a [`Node`] that runs initialisation, key generation, key confirmation,
/// recovery and verification as its [`MemberConfig`] says, and sends
/// through its [`Conduct`].
pub struct Member {
    cfg: MemberConfig,
    /// How the member's payloads leave it (honest unless an adversary
    /// supplies another conduct).
    conduct: Box<dyn Conduct>,
    /// The conduct's output for one send, kept for its capacity.
    conducted: Vec<Outgoing>,
    link: Link,
    phase: Phase,
    /// Parts of iterations this member has not started yet.
    early: BTreeMap<u64, Parts>,
    keys: BTreeMap<u64, SharedKey>,
    /// The confirmation tag of each key in `keys`, computed once: every
    /// other member's confirmation is compared with it.
    tags: BTreeMap<u64, KeyTag>,
    /// Confirmation tags received, by epoch, until they have been compared.
    confirms: BTreeMap<u64, BTreeMap<MemberId, (u32, KeyTag)>>,
    /// Matching confirmations counted per epoch.
    matched: BTreeMap<u64, u32>,
    /// Who has confirmed (or contradicted) each epoch's key.
    confirmed_by: BTreeMap<u64, ByMember<()>>,
    diverged: BTreeSet<(u64, MemberId)>,
    /// Completed iterations: own FK and every HFK (process 700 needs
    /// FK_{l,r} and HFK_{ī,r} of the last one). The last two are kept.
    past: BTreeMap<u64, Past>,
    /// (iteration, member, its incarnation) already declared failed.
    declared: BTreeSet<(u64, MemberId, u32)>,
    recovery: recovery::State,
    verif: verify::Verif,
}

impl MemberConfig {
    /// How long a peer may stay silent in a round before it is declared
    /// failed: the round timeout (or, on a network so lossy that a live
    /// peer's payload may take longer to get through, that time), plus the
    /// clocks' spread.
    pub fn silence_timeout_us(&self) -> i64 {
        self.round_timeout_us.max(self.loss_allowance_us).saturating_add(self.clock_spread_us)
    }
}

impl Member {
    /// A member that sends through `conduct` ([`conduct::Honest`] for one
    /// that follows the protocol).
    pub fn new(cfg: MemberConfig, conduct: Box<dyn Conduct>) -> Member {
        let mut link = Link::incarnation(Party::Member(cfg.id), cfg.incarnation, cfg.backoff);
        link.expect_parties(cfg.members);
        Member {
            cfg,
            conduct,
            conducted: Vec::new(),
            link,
            phase: Phase::Created,
            early: BTreeMap::new(),
            keys: BTreeMap::new(),
            tags: BTreeMap::new(),
            confirms: BTreeMap::new(),
            matched: BTreeMap::new(),
            confirmed_by: BTreeMap::new(),
            diverged: BTreeSet::new(),
            past: BTreeMap::new(),
            declared: BTreeSet::new(),
            recovery: recovery::State::default(),
            verif: verify::Verif::default(),
        }
    }

    /// Every timer of the member with its deadline, if armed.
    pub fn timers(&self) -> [(Timer, Option<LocalTime>); 4] {
        [
            (Timer::Retransmit, self.link.next_deadline()),
            (Timer::Rekey, self.next_iteration().map(|j| self.rekey_due(j))),
            (Timer::Silence, self.silence_deadline()),
            (Timer::RecoveryPatience, self.recovery_deadline()),
        ]
    }

    /// The member's link, for a driver that watches what is still
    /// unacknowledged (the simulator's after-send crash point).
    pub fn link(&self) -> &Link {
        &self.link
    }

    /// The member index this node plays.
    pub fn id(&self) -> MemberId {
        self.cfg.id
    }

    fn group(&self) -> &'static GroupParams {
        self.cfg.group
    }

    /// The epoch held, if any.
    fn held(&self) -> Option<&Held> {
        match &self.phase {
            Phase::Holding { held, .. } => Some(held),
            _ => None,
        }
    }

    /// The key-generation round in progress, if any.
    fn round(&self) -> Option<&Round> {
        match &self.phase {
            Phase::Holding { round, .. } => round.as_ref(),
            _ => None,
        }
    }

    fn next_in_ring(&self) -> MemberId {
        super::ring_neighbours(self.cfg.id, self.cfg.members).1
    }

    fn others(&self) -> impl Iterator<Item = MemberId> + use<> {
        let me = self.cfg.id;
        (1..=self.cfg.members).map(MemberId).filter(move |&m| m != me)
    }

    fn note_secret(&self, out: &mut Output, name: SecretName, index: u64, value: &Scalar) {
        out.notes.push(Note::Secret { owner: self.cfg.id, name, index, value: value.clone() });
    }

    fn context(&self, mode: Mode, iter: u64) -> Context {
        let (party, incarnation, group) = (Party::Member(self.cfg.id), self.cfg.incarnation, self.cfg.group);
        Context { party, incarnation, mode, iter, group }
    }

    /// Sends `body` to `to` through the member's conduct; the link frames
    /// what the conduct lets out.
    fn send(&mut self, now: LocalTime, to: Party, mode: Mode, iter: u64, body: Body, out: &mut Output) {
        let ctx = self.context(mode, iter);
        // One buffer for what the conduct lets out, reused message after
        // message: no allocation per send.
        let mut sends = std::mem::take(&mut self.conducted);
        self.conduct.outgoing(&ctx, Outgoing { to, body }, &mut sends, &mut out.notes);
        for msg in sends.drain(..) {
            out.sends.push(self.link.send(now, msg.to, mode, iter, msg.body));
        }
        self.conducted = sends;
    }

    /// The member's own part of a round, `body` passed through its conduct
    /// as a message to itself (see [`conduct`]); `None` if the conduct
    /// keeps none.
    fn own_part(&mut self, mode: Mode, iter: u64, body: Body, out: &mut Output) -> Option<Body> {
        let (ctx, me) = (self.context(mode, iter), Party::Member(self.cfg.id));
        let msg = Outgoing { to: me, body };
        conduct::conduct(&mut *self.conduct, &ctx, msg, &mut out.notes)
            .into_iter()
            .find(|m| m.to == me)
            .map(|m| m.body)
    }

    fn broadcast(&mut self, now: LocalTime, mode: Mode, iter: u64, body: Body, out: &mut Output) {
        for m in self.others() {
            self.send(now, Party::Member(m), mode, iter, body.clone(), out);
        }
    }

    fn ring_predecessor(&self) -> MemberId {
        super::ring_neighbours(self.cfg.id, self.cfg.members).0
    }

    /// The initialisation an original member starts: the pad (process
    /// 300) or the ring; on the hardened ring it first deals its shares.
    fn start_init(&mut self, now: LocalTime, rng: &mut dyn Rng, out: &mut Output) {
        self.phase = Phase::Init(match self.cfg.init {
            InitKind::Sm => Init::Pad,
            InitKind::Ring => Init::Ring { pending_delta: None, shares: None },
            InitKind::RingHardened => {
                let shares = self.deal_shares(now, rng, out);
                Init::Ring { pending_delta: None, shares: Some(shares) }
            }
        });
        self.maybe_send_delta(now, rng, out);
    }

    /// Hardened ring, first step: split v_i into n additive shares, keep
    /// s_{i,i} = v_i − Σ_{k≠i} s_{i,k}, send s_{i,k} to each member k.
    fn deal_shares(&mut self, now: LocalTime, rng: &mut dyn Rng, out: &mut Output) -> Shares {
        let g = self.group();
        let v = g.random_scalar(rng);
        self.note_secret(out, SecretName::V, 1, &v);
        let mut kept = v.clone();
        for k in self.others() {
            let share = g.random_scalar(rng);
            kept = g.sub(&kept, &share);
            self.note_secret(out, SecretName::Share, u64::from(k.0), &share);
            self.send(now, Party::Member(k), Mode::Init, 1, Body::Share(share), out);
        }
        self.note_secret(out, SecretName::Share, u64::from(self.cfg.id.0), &kept);
        let mut shares = Shares { v, kept, received: BTreeMap::new(), partial: None };
        shares.maybe_sum(g, self.cfg.members);
        shares
    }

    fn on_share(&mut self, from: MemberId, share: Scalar) {
        let (g, n) = (self.group(), self.cfg.members);
        if let Phase::Init(Init::Ring { shares: Some(shares), .. }) = &mut self.phase {
            shares.received.insert(from, share);
            shares.maybe_sum(g, n);
        }
    }

    /// What this member adds to δ, and its v_i: v_i itself on the plain
    /// ring (drawn when first needed, step 430), the partial sum of shares
    /// on the hardened ring, once complete.
    fn ring_contribution(&self, rng: &mut dyn Rng, out: &mut Output) -> Option<(Scalar, Scalar)> {
        match &self.phase {
            Phase::Init(Init::Ring { shares: None, .. }) => {
                let v = self.group().random_scalar(rng);
                self.note_secret(out, SecretName::V, 1, &v);
                Some((v.clone(), v))
            }
            Phase::Init(Init::Ring { shares: Some(s), .. }) => Some((s.partial.clone()?, s.v.clone())),
            _ => None,
        }
    }

    /// Sends δ_i = δ_{i−1} + contribution (for the GI, γ + contribution) to
    /// the next member once both are at hand.
    fn maybe_send_delta(&mut self, now: LocalTime, rng: &mut dyn Rng, out: &mut Output) {
        let is_gi = self.cfg.id == MemberId(1);
        let pending = match &self.phase {
            Phase::Init(Init::Ring { pending_delta, .. }) => pending_delta.clone(),
            _ => return,
        };
        if !is_gi && pending.is_none() {
            return;
        }
        let Some((contribution, v)) = self.ring_contribution(rng, out) else { return };
        let g = self.group();
        let (base, gamma) = match pending {
            Some(prev) if !is_gi => (prev, None),
            _ => {
                // Steps 410–415: the GI blinds its contribution with γ.
                let gamma = g.random_scalar(rng);
                self.note_secret(out, SecretName::Gamma, 1, &gamma);
                (gamma.clone(), Some(gamma))
            }
        };
        let delta = g.add(&base, &contribution);
        self.note_secret(out, SecretName::Delta, 1, &delta);
        self.phase = Phase::Init(Init::Sent { v, gamma: gamma.clone() });
        let next = self.next_in_ring();
        self.send(now, Party::Member(next), Mode::Init, 1, Body::Delta(delta.clone()), out);
        if self.cfg.verify.commits() {
            let c = self.own_ring_commitment(&contribution, &delta, gamma.as_ref());
            self.broadcast(now, Mode::Init, 1, Body::Commit(Arc::new(c)), out);
        }
    }

    fn on_delta(&mut self, now: LocalTime, prev: Scalar, rng: &mut dyn Rng, out: &mut Output) {
        self.note_delta_in(&prev);
        let gamma = match &mut self.phase {
            Phase::Init(Init::Sent { gamma: Some(gamma), .. }) => gamma.clone(),
            Phase::Init(Init::Ring { pending_delta, .. }) => {
                // Steps 430–440.
                *pending_delta = Some(prev);
                return self.maybe_send_delta(now, rng, out);
            }
            _ => return,
        };
        // Step 475: δ_n came back to the GI; θ_1 = δ_n − γ.
        let theta = self.group().sub(&prev, &gamma);
        self.broadcast(now, Mode::Init, 1, Body::Theta(theta.clone()), out);
        self.adopt_theta1(now, theta, out);
    }

    /// Step 490: α_{i,1} = θ_1 − v_i.
    fn adopt_theta1(&mut self, now: LocalTime, theta: Scalar, out: &mut Output) {
        let v = match &self.phase {
            Phase::Init(Init::Sent { v, .. } | Init::Ring { shares: Some(Shares { v, .. }), .. }) => v,
            // θ_1 cannot precede δ_{i−1} on the ring; ignore a forged one.
            _ => return,
        };
        let alpha = self.group().sub(&theta, v);
        self.enter_epoch1(now, theta, alpha, out);
    }

    /// Epoch 1 is held (from the SM's pad or the ring): verify it.
    fn enter_epoch1(&mut self, now: LocalTime, theta: Scalar, alpha: Scalar, out: &mut Output) {
        self.enter_epoch(now, 1, theta.clone(), alpha.clone(), out);
        self.note_epoch1(&theta, &alpha, out);
    }

    /// The member now holds θ_e and α_{i,e}: derive SK_e and confirm it.
    fn enter_epoch(&mut self, now: LocalTime, epoch: u64, theta: Scalar, alpha: Scalar, out: &mut Output) {
        let id = self.cfg.id;
        self.note_secret(out, SecretName::Alpha, epoch, &alpha);
        out.notes.push(Note::Theta { member: id, epoch, value: theta.clone() });
        let sk = derive_sk(self.group(), self.cfg.members, epoch, &theta);
        out.notes.push(Note::Key { member: id, epoch, sk });
        self.keys.insert(epoch, sk);
        let tag = confirm_tag(&sk);
        self.tags.insert(epoch, tag);
        self.phase = Phase::Holding { held: Held { epoch, theta, alpha, since: now }, round: None };
        self.link.retire(epoch);
        // Silence detection looks at the epoch held; older confirmations
        // only need their counts (kept in `matched`).
        self.confirmed_by.retain(|&e, _| e + 1 >= epoch);
        let (mode, Iteration(iter)) = Epoch(epoch).round();
        self.broadcast(now, mode, iter, Body::Confirm(Arc::new(tag)), out);
        if let Some(pending) = self.confirms.remove(&epoch) {
            for (from, (inc, tag)) in pending {
                // A dead incarnation's confirmation, superseded by its
                // replacement (which may have redrawn that iteration).
                if inc < self.link.peer_inc(Party::Member(from)) {
                    continue;
                }
                self.compare_confirm(epoch, from, tag, out);
            }
        }
    }

    fn on_confirm(&mut self, epoch: u64, from: (MemberId, u32), tag: KeyTag, out: &mut Output) {
        if self.keys.contains_key(&epoch) {
            self.compare_confirm(epoch, from.0, tag, out);
        } else {
            let pending = self.confirms.entry(epoch).or_default();
            if pending.get(&from.0).is_none_or(|(inc, _)| *inc <= from.1) {
                pending.insert(from.0, (from.1, tag));
            }
        }
    }

    fn compare_confirm(&mut self, epoch: u64, from: MemberId, tag: KeyTag, out: &mut Output) {
        let id = self.cfg.id;
        let members = self.cfg.members;
        if self.confirmed_by.entry(epoch).or_insert_with(|| ByMember::new(members)).insert(from, ()).is_some()
        {
            return;
        }
        if self.tags[&epoch] != tag {
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
    fn rekey_due(&self, j: u64) -> LocalTime {
        LocalTime(self.cfg.rekey_interval_us.saturating_mul(j as i64))
    }

    /// The iteration the member could start next, if any.
    fn next_iteration(&self) -> Option<u64> {
        match &self.phase {
            Phase::Holding { held, round: None } if held.epoch <= self.cfg.epochs => Some(held.epoch),
            _ => None,
        }
    }

    /// Steps 515–525 (process 600: 615–625): draw FK_{i,j} (x_{i,j}) and
    /// broadcast HFK_{i,j} once due; under ElGamal also FK_{i,j} = g^x.
    fn maybe_start_round(&mut self, now: LocalTime, rng: &mut dyn Rng, out: &mut Output) {
        let Some(j) = self.next_iteration() else { return };
        let Some(held) = self.held().filter(|_| self.rekey_due(j) <= now) else { return };
        let g = self.group();
        let hfk_of = |fk: &Scalar| g.add(&held.alpha, fk);
        out.notes.push(Note::RoundStart { member: self.cfg.id, iter: j });
        let fk = g.random_scalar(rng);
        let hfk = hfk_of(&fk);
        let own = match self.own_part(Mode::Generation, j, Body::Hfk(hfk.clone()), out) {
            Some(Body::Hfk(h)) => h,
            _ => hfk.clone(),
        };
        self.note_secret(out, self.cfg.keygen.key_part(), j, &fk);
        let fk_pub = self.publishes().then(|| g.pow_g(&fk));
        self.broadcast(now, Mode::Generation, j, Body::Hfk(hfk.clone()), out);
        if let Some(p) = &fk_pub {
            self.broadcast(now, Mode::Generation, j, Body::FkPub(p.clone()), out);
        }
        let mut parts = self.early.remove(&j).unwrap_or_else(|| Parts::new(self.cfg.members));
        let (me, inc) = (self.cfg.id, self.cfg.incarnation);
        parts.put_hfk(me, inc, own);
        if let Some(p) = &fk_pub {
            parts.put_pub(me, inc, p.clone());
        }
        if let Phase::Holding { round, .. } = &mut self.phase {
            *round = Some(Round { j, fk, hfk, fk_pub, parts, started: now });
        }
        self.maybe_finish_round(now, out);
    }

    /// The parts of iteration j, if they are still wanted: the round in
    /// progress, or a later one kept until it starts.
    fn parts_of(&mut self, j: u64) -> Option<&mut Parts> {
        let current = self.held().map_or(1, |h| h.epoch);
        match &mut self.phase {
            Phase::Holding { round: Some(round), .. } if round.j == j => Some(&mut round.parts),
            _ if j >= current && j <= self.cfg.epochs => {
                Some(self.early.entry(j).or_insert_with(|| Parts::new(self.cfg.members)))
            }
            _ => None,
        }
    }

    fn on_hfk(&mut self, now: LocalTime, j: u64, from: (MemberId, u32), hfk: Scalar, out: &mut Output) {
        if let Some(parts) = self.parts_of(j) {
            parts.put_hfk(from.0, from.1, hfk);
            self.maybe_finish_round(now, out);
        }
    }

    /// Process 600: the public FK_{from,j}, kept like an HFK.
    /// Whether members publish FK_{i,j} = g^FK (ElGamal, or commitments).
    fn publishes(&self) -> bool {
        self.cfg.keygen == KeygenKind::Elgamal || self.cfg.verify.commits()
    }

    fn on_fk_pub(
        &mut self,
        now: LocalTime,
        j: u64,
        from: (MemberId, u32),
        fk_pub: Element,
        out: &mut Output,
    ) {
        if !self.publishes() {
            return;
        }
        if let Some(parts) = self.parts_of(j) {
            parts.put_pub(from.0, from.1, fk_pub);
            self.maybe_finish_round(now, out);
        }
    }

    /// Steps 545–550: θ_{j+1} = (1−n)·θ_j + Σ HFK, α_{i,j+1} = θ_{j+1} − FK_{i,j}.
    /// Under ElGamal (steps 645–655) the round also waits for every public
    /// FK and checks g^{θ_{j+1}} = Π FK_{i,j}, the group public key.
    fn maybe_finish_round(&mut self, now: LocalTime, out: &mut Output) {
        let n = self.cfg.members as usize;
        let elgamal = self.cfg.keygen == KeygenKind::Elgamal;
        let publishes = self.publishes();
        let Phase::Holding { held, round } = &mut self.phase else { return };
        let Some(round) = round.take_if(|r| r.parts.complete(publishes) >= n) else { return };
        let theta_j = held.theta.clone();
        let g = self.group();
        let lambda = 1 - n as i64;
        let Parts { hfks, pubs, incs, .. } = round.parts;
        let theta = g.add(&g.mul_i64(&theta_j, lambda), &g.sum(hfks.values()));
        let alpha = g.sub(&theta, &round.fk);
        self.check_round(round.j, &theta_j, &hfks, &pubs, &incs, out);
        if elgamal && g.pow_g(&theta) != g.product(pubs.values()) {
            let (member, iter) = (self.cfg.id, round.j);
            out.notes.push(Note::Verification { member, check: Check::GroupKey, culprit: None, iter });
        }
        self.past.insert(round.j, Past { fk: round.fk.clone(), hfks, pubs, incs });
        self.answer_pending_xi(now, round.j, out);
        while self.past.len() > 2 {
            self.past.pop_first();
        }
        self.enter_epoch(now, round.j + 1, theta, alpha, out);
    }

    fn dispatch(&mut self, now: LocalTime, env: Envelope, rng: &mut dyn Rng, out: &mut Output) {
        let Party::Member(from) = env.from else {
            match (env.body, &self.phase) {
                (Body::Pad { alpha, theta }, Phase::Init(Init::Pad)) => {
                    self.enter_epoch1(now, theta, alpha, out)
                }
                (Body::Commit(c), _) if self.cfg.init == InitKind::Sm => self.on_commit(Party::Sm, &c, out),
                _ => {}
            }
            return;
        };
        let from_predecessor = from == self.ring_predecessor();
        match (env.mode, env.body) {
            // A δ from anyone but the ring predecessor (a colluder's extra
            // copy, say) is not part of this member's protocol.
            (Mode::Init, Body::Delta(d)) if from_predecessor && self.cfg.init != InitKind::Sm => {
                self.on_delta(now, d, rng, out)
            }
            (Mode::Init, Body::Share(sh)) => {
                self.on_share(from, sh);
                self.maybe_send_delta(now, rng, out);
            }
            (Mode::Init, Body::Theta(t)) => self.adopt_theta1(now, t, out),
            (Mode::Init, Body::Commit(c)) => self.on_commit(Party::Member(from), &c, out),
            (Mode::Generation, Body::Hfk(h)) => self.on_hfk(now, env.iter, (from, env.from_inc), h, out),
            (Mode::Generation, Body::FkPub(p)) => self.on_fk_pub(now, env.iter, (from, env.from_inc), p, out),
            (Mode::Recovery, body) => {
                self.on_recovery_message(now, from, env.from_inc, env.iter, body, rng, out)
            }
            (Mode::Init | Mode::Generation, Body::Confirm(tag)) => {
                let Epoch(epoch) = Epoch::of_round(env.mode, Iteration(env.iter));
                self.on_confirm(epoch, (from, env.from_inc), *tag, out)
            }
            _ => {}
        }
    }
}

impl Node for Member {
    fn party(&self) -> Party {
        Party::Member(self.cfg.id)
    }

    fn start(&mut self, now: LocalTime, rng: &mut dyn Rng) -> Output {
        let mut out = Output::default();
        if self.cfg.incarnation > 0 {
            // A replacement announces itself and waits for the RI (process 700).
            self.phase = Phase::AwaitingHandover;
            for m in self.others() {
                self.send(now, Party::Member(m), Mode::Recovery, 0, Body::Joined, &mut out);
            }
            return out;
        }
        self.start_init(now, rng, &mut out);
        out
    }

    fn handle_message(&mut self, now: LocalTime, env: Envelope, rng: &mut dyn Rng) -> Output {
        let mut out = Output::default();
        let received = self.link.receive(env);
        out.sends.extend(received.ack);
        if let Some(Party::Member(m)) = received.restarted {
            self.on_peer_restarted(now, m, &mut out);
        }
        if let Some(env) = received.fresh {
            out.fresh = true;
            self.dispatch(now, env, rng, &mut out);
        }
        self.maybe_start_round(now, rng, &mut out);
        out
    }

    fn handle_timeout(&mut self, now: LocalTime, rng: &mut dyn Rng) -> Output {
        let mut out = Output { sends: self.link.due(now), ..Output::default() };
        self.detect_silence(now, &mut out);
        self.recovery_timeout(now, &mut out);
        self.maybe_start_round(now, rng, &mut out);
        out
    }

    /// With c the epoch held (1 before initialisation ends): mode G for
    /// iterations c−3 ..= c+1 (no honest member is more than one ahead, and
    /// senders retire G payloads two iterations back, see `Link::retire`:
    /// the third covers one still in flight); mode I, always iteration 1,
    /// until epoch 4 (senders retire I payloads at epoch 3); mode R up to
    /// iteration c+1 (Joined is 0).
    /// A replacement that has not recovered yet takes G and R of any
    /// iteration: it does not know where the group is.
    fn admits(&self) -> sealed::Admit {
        let Some(held) = self.held() else {
            if self.cfg.incarnation > 0 {
                // Mode I too: initialisation messages to a predecessor that
                // died during it are acked (and dropped) by the link.
                return sealed::Admit { modes: b"IGR", iters: [1..=1, 0..=u64::MAX, 0..=u64::MAX] };
            }
            return sealed::Admit { modes: b"IGR", iters: [1..=1, 0..=2, 0..=2] };
        };
        let c = held.epoch;
        let modes: &'static [u8] = if c <= 4 { b"IGR" } else { b"GR" };
        sealed::Admit { modes, iters: [1..=1, c.saturating_sub(3)..=c + 1, 0..=c + 1] }
    }

    fn poll_timeout(&self) -> Option<(Timer, LocalTime)> {
        // The earliest of `timers()`, the first of those tied. Called after
        // every event, so it compares as it goes rather than building the
        // array and searching it.
        let mut earliest: Option<(Timer, LocalTime)> = None;
        let mut consider = |timer, at: Option<LocalTime>| {
            if let Some(at) = at
                && earliest.is_none_or(|(_, e)| at < e)
            {
                earliest = Some((timer, at));
            }
        };
        consider(Timer::Retransmit, self.link.next_deadline());
        consider(Timer::Rekey, self.next_iteration().map(|j| self.rekey_due(j)));
        consider(Timer::Silence, self.silence_deadline());
        consider(Timer::RecoveryPatience, self.recovery_deadline());
        earliest
    }
}
