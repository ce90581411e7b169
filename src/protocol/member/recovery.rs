//! Process 700: detecting a failed member and recovering its FK and pads.
//!
//! - **Detection.** A member that has started iteration j and still lacks
//!   member k's HFK_{k,j} a round timeout later declares k failed (a
//!   `Declared` note, traced as `detect`).
//! - **RI.** The lowest-numbered member not missing from the round is the
//!   recovery initiator. With r = j − 1 it sends the replacement at index k
//!   HFK_{k,r} (none when r = 0), θ_{r+1} and SK_{r+1}.
//! - **The ring.** The replacement draws γ' and starts a process-400 ring
//!   over the survivors in id order. Survivor l adds its draw w_l. The ring
//!   returns ξ = Σ w_l to the replacement, which sends ξ to every survivor.
//! - **ĤFK.** Survivor l answers ĤFK_l = β_l + FK_{l,r}, with
//!   β_l = ξ − w_l. When r = 0 it uses v_l = θ_1 − α_{l,1} in place of
//!   FK_{l,0}. It also resends its current HFK and confirmation, which died
//!   with the old node.
//! - **Recovery.** The replacement computes S = Σ ĤFK_l − (n−2)·ξ
//!   = Σ_{l≠k} FK_{l,r}, then FK_{k,r} = θ_{r+1} − S,
//!   α_{k,r} = HFK_{k,r} − FK_{k,r} and α_{k,r+1} = θ_{r+1} − FK_{k,r}. It
//!   checks KDF(θ_{r+1}) against the SK it was sent and resumes key
//!   generation at iteration r+1.
//! - **Failure.** A survivor that withholds its ĤFK makes the replacement give
//!   up a round timeout after it sent ξ, naming who did not answer.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand_core::Rng;

use super::{Member, Phase};
use crate::group::{Scalar, SharedKey};
use crate::protocol::{
    Body, Epoch, Iteration, LocalTime, MemberId, Mode, Note, Output, Party, SecretName, message,
};

/// A recovery ring: (failed member, the replacement's incarnation, r).
type Ring = (MemberId, u32, u64);

/// What the RI sent a replacement.
pub(super) struct Handover {
    r: u64,
    hfk: Option<Scalar>,
    theta: Scalar,
    sk: SharedKey,
}

/// A replacement's recovery in progress (until it completes and the
/// member holds θ_{r+1}).
pub(super) struct Replacing {
    handover: Handover,
    gamma: Scalar,
    /// ξ, once the ring has closed.
    xi: Option<Scalar>,
    started_at: LocalTime,
    hats: BTreeMap<MemberId, Scalar>,
    /// The replacement gave up waiting (late ĤFKs still complete it).
    gave_up: bool,
}

/// How many round timeouts a replacement waits, from the handover, before
/// it reports the survivors it has not heard from.
const RECOVERY_PATIENCE: i64 = 4;

#[derive(Default)]
pub(super) struct State {
    /// A survivor's draw w_l per (failed member, r).
    w: BTreeMap<Ring, Scalar>,
    /// ξ received before this survivor completed round r.
    pending_xi: BTreeMap<Ring, Scalar>,
}

impl Member {
    /// Everyone but `failed`, in id order: the recovery ring.
    fn survivors(&self, failed: MemberId) -> Vec<MemberId> {
        (1..=self.cfg.members).map(MemberId).filter(|&m| m != failed).collect()
    }

    /// The next hop after `me` on the recovery ring for `failed`.
    fn ring_next(&self, failed: MemberId) -> MemberId {
        let ring = self.survivors(failed);
        let at = ring.iter().position(|&m| m == self.cfg.id).expect("a survivor is on the ring");
        ring.get(at + 1).copied().unwrap_or(failed)
    }

    /// Who this member is waiting on, since when, and for which iteration j
    /// (a recovery then restores r = j − 1): the HFKs of the current round,
    /// or else the confirmations of the epoch it holds (the last iteration
    /// has no next round to notice a member that died after sending).
    fn waiting_on(&self) -> Option<(Vec<MemberId>, LocalTime, u64)> {
        let everyone = (1..=self.cfg.members).map(MemberId);
        if let Some(round) = self.round() {
            let publishes = self.publishes();
            let missing = everyone.filter(|&m| !round.parts.has(m, publishes)).collect();
            return Some((missing, round.started, round.j));
        }
        let held = self.held()?;
        let by = self.confirmed_by.get(&held.epoch);
        let me = self.cfg.id;
        let missing = everyone.filter(|&m| m != me && by.is_none_or(|b| !b.contains_key(&m))).collect();
        Some((missing, held.since, held.epoch))
    }

    /// Called after every event, so it counts instead of listing: who is
    /// missing versus how many were declared failed in this iteration.
    pub(super) fn silence_deadline(&self) -> Option<LocalTime> {
        let n = self.cfg.members as usize;
        let (missing, since, j) = if let Some(round) = self.round() {
            (n - round.parts.complete(self.publishes()), round.started, round.j)
        } else {
            let held = self.held()?;
            let confirmed = self.confirmed_by.get(&held.epoch).map_or(0, |c| c.len());
            (n - 1 - confirmed, held.since, held.epoch)
        };
        let declared = self.declared.range((j, MemberId(0), 0)..=(j, MemberId(u32::MAX), u32::MAX)).count();
        (missing > declared).then(|| since.plus_us(self.cfg.silence_timeout_us()))
    }

    /// Declares every member still silent a round timeout after it was due.
    pub(super) fn detect_silence(&mut self, now: LocalTime, out: &mut Output) {
        let Some((missing, since, j)) = self.waiting_on() else { return };
        if since.plus_us(self.cfg.silence_timeout_us()) > now {
            return;
        }
        // A member already holding HFKs of the next round is behind: it lost
        // the failed member's last HFK. Others are current and one of them
        // initiates (and relays that HFK); a lagging RI would hand over the
        // wrong r.
        let behind = self.early.get(&(j + 1)).is_some_and(|p| !p.hfks.is_empty());
        let ri = (1..=self.cfg.members).map(MemberId).find(|m| !missing.contains(m)).filter(|_| !behind);
        for &failed in &missing {
            let inc = self.link.peer_inc(Party::Member(failed));
            if !self.declared.insert((j, failed, inc)) {
                continue;
            }
            out.notes.push(Note::Declared { member: self.cfg.id, failed, iter: j });
            if ri == Some(self.cfg.id) {
                self.send_handover(now, failed, j, out);
            }
        }
    }

    /// A declared-failed member came back as a new incarnation: if this
    /// member is its RI, it hands over (again) to the replacement.
    pub(super) fn on_peer_restarted(&mut self, now: LocalTime, m: MemberId, out: &mut Output) {
        let Some((missing, _, j)) = self.waiting_on() else { return };
        let ri = (1..=self.cfg.members).map(MemberId).find(|x| !missing.contains(x));
        let declared = self.declared.range((j, m, 0)..=(j, m, u32::MAX)).next().is_some();
        if declared && ri == Some(self.cfg.id) {
            self.send_handover(now, m, j, out);
        }
    }

    /// The RI's step 710: HFK_{ī,r}, θ_{r+1} and SK_{r+1} to the replacement.
    fn send_handover(&mut self, now: LocalTime, failed: MemberId, j: u64, out: &mut Output) {
        let r = j - 1;
        let hfk = if r == 0 {
            None
        } else {
            match self.past.get(&r).and_then(|p| p.hfks.get(&failed)) {
                Some(h) => Some(h.clone()),
                None => return, // this RI never held HFK_{ī,r}: nothing to hand over
            }
        };
        let (Some(held), Some(sk)) = (self.held(), self.keys.get(&j)) else { return };
        let body = Body::Recover(Box::new(message::Recover {
            hfk: hfk.clone(),
            theta: held.theta.clone(),
            sk: *sk,
        }));
        self.send(now, Party::Member(failed), Mode::Recovery, r, body, out);
        // A survivor that lost its copy of HFK_{ī,r} (the failed member died
        // before retransmitting it) is a round behind and could not answer
        // the recovery ring: the RI relays it to every survivor.
        if let Some(hfk) = hfk {
            let past = self.past.get(&r);
            let fk_pub = past.and_then(|p| p.pubs.get(&failed)).cloned();
            let inc = past.and_then(|p| p.incs.get(&failed)).copied().unwrap_or(0);
            let me = self.cfg.id;
            for l in self.survivors(failed).into_iter().filter(|&l| l != me) {
                let relay =
                    message::HfkRelay { owner: failed, inc, hfk: hfk.clone(), fk_pub: fk_pub.clone() };
                let body = Body::HfkRelay(Box::new(relay));
                self.send(now, Party::Member(l), Mode::Recovery, r, body, out);
            }
        }
    }

    #[allow(clippy::too_many_arguments, reason = "the envelope's header fields, unpacked")]
    pub(super) fn on_recovery_message(
        &mut self,
        now: LocalTime,
        from: MemberId,
        from_inc: u32,
        r: u64,
        body: Body,
        rng: &mut dyn Rng,
        out: &mut Output,
    ) {
        match body {
            Body::Recover(m) => {
                let message::Recover { hfk, theta, sk } = *m;
                self.on_handover(now, Handover { r, hfk, theta, sk }, rng, out)
            }
            // The ring closing on this replacement (a δ' for an earlier
            // incarnation of this index falls through and is ignored).
            Body::RecoveryDelta { failed, inc, delta }
                if failed == self.cfg.id && inc == self.cfg.incarnation =>
            {
                self.on_ring_closed(now, r, delta, out)
            }
            Body::RecoveryDelta { failed, inc, delta } => {
                self.on_ring_step(now, from, (failed, inc, r), delta, rng, out)
            }
            Body::Xi(xi) => self.on_xi(now, (from, from_inc, r), xi, out),
            Body::HfkRelay(m) => {
                let message::HfkRelay { owner, inc, hfk, fk_pub } = *m;
                if let Some(p) = fk_pub {
                    self.on_fk_pub(now, r, (owner, inc), p, out);
                }
                self.on_hfk(now, r, (owner, inc), hfk, out)
            }
            Body::HfkHat(hat) => self.on_hat(now, from, r, hat, out),
            _ => {}
        }
    }

    /// The replacement starts the recovery ring with its blinding γ'.
    fn on_handover(&mut self, now: LocalTime, h: Handover, rng: &mut dyn Rng, out: &mut Output) {
        // Only a replacement that has not recovered yet takes a handover. A
        // later one with a larger r comes from a survivor that is ahead of
        // the first RI: the group is further on, so start again.
        match &self.phase {
            Phase::AwaitingHandover => {}
            Phase::Recovering(rep) if h.r > rep.handover.r => {}
            _ => return,
        }
        let gamma = self.group().random_scalar(rng);
        self.note_secret(out, SecretName::Gamma, h.r, &gamma);
        let first = self.survivors(self.cfg.id)[0];
        let body =
            Body::RecoveryDelta { failed: self.cfg.id, inc: self.cfg.incarnation, delta: gamma.clone() };
        self.send(now, Party::Member(first), Mode::Recovery, h.r, body, out);
        self.phase = Phase::Recovering(Replacing {
            handover: h,
            gamma,
            xi: None,
            started_at: now,
            hats: BTreeMap::new(),
            gave_up: false,
        });
    }

    /// A survivor adds its w_l and passes δ' on.
    #[allow(clippy::too_many_arguments, reason = "one ring step needs them all")]
    fn on_ring_step(
        &mut self,
        now: LocalTime,
        from: MemberId,
        ring: Ring,
        delta: Scalar,
        rng: &mut dyn Rng,
        out: &mut Output,
    ) {
        let (failed, inc, r) = ring;
        let survivors = self.survivors(failed);
        let at = survivors.iter().position(|&m| m == self.cfg.id);
        let expected_from = match at {
            Some(0) => failed,
            Some(i) => survivors[i - 1],
            None => return,
        };
        if from != expected_from || self.recovery.w.contains_key(&ring) {
            return;
        }
        let g = self.group();
        let w = g.random_scalar(rng);
        self.note_secret(out, SecretName::W, r, &w);
        let next = self.ring_next(failed);
        let body = Body::RecoveryDelta { failed, inc, delta: g.add(&delta, &w) };
        self.send(now, Party::Member(next), Mode::Recovery, r, body, out);
        self.recovery.w.insert(ring, w);
    }

    /// The replacement: ξ = δ'_last − γ', sent to every survivor.
    fn on_ring_closed(&mut self, now: LocalTime, r: u64, delta: Scalar, out: &mut Output) {
        let g = self.cfg.group;
        let Phase::Recovering(rep) = &mut self.phase else { return };
        if rep.xi.is_some() || rep.handover.r != r {
            return;
        }
        let xi = g.sub(&delta, &rep.gamma);
        rep.xi = Some(xi.clone());
        self.note_secret(out, SecretName::Xi, r, &xi);
        for l in self.survivors(self.cfg.id) {
            self.send(now, Party::Member(l), Mode::Recovery, r, Body::Xi(xi.clone()), out);
        }
    }

    /// A survivor: β_l = ξ − w_l, ĤFK_l = β_l + FK_{l,r}; and what the old
    /// node lost of the current iteration.
    fn on_xi(&mut self, now: LocalTime, ring: Ring, xi: Scalar, out: &mut Output) {
        let (failed, _, r) = ring;
        let to = Party::Member(failed);
        // Ahead of this recovery's r (the first RI was a round behind): hand
        // over the later iteration instead, and relay its HFK to the others.
        let latest = self.held().and_then(|h| Iteration::producing(Epoch(h.epoch))).map_or(0, |j| j.0);
        if latest > r && self.past.get(&latest).is_some_and(|p| p.hfks.contains_key(&failed)) {
            self.send_handover(now, failed, latest + 1, out);
        } else if !self.answer_xi(now, ring, &xi, out) {
            // Behind: answer once round r completes (a relay brings its HFK).
            self.recovery.pending_xi.insert(ring, xi);
        }
        if let Some(round) = self.round() {
            let (j, hfk, fk_pub) = (round.j, round.hfk.clone(), round.fk_pub.clone());
            self.send(now, to, Mode::Generation, j, Body::Hfk(hfk), out);
            if let Some(p) = fk_pub {
                self.send(now, to, Mode::Generation, j, Body::FkPub(p), out);
            }
        }
        if let Some(held) = self.held() {
            let (mode, Iteration(iter)) = Epoch(held.epoch).round();
            let tag = self.tags[&held.epoch];
            self.send(now, to, mode, iter, Body::Confirm(Arc::new(tag)), out);
        }
    }

    /// ĤFK_l = β_l + FK_{l,r}; false if this survivor has not completed
    /// round r yet.
    fn answer_xi(&mut self, now: LocalTime, ring: Ring, xi: &Scalar, out: &mut Output) -> bool {
        let (failed, _, r) = ring;
        let g = self.group();
        let Some(w) = self.recovery.w.get(&ring).cloned() else { return true };
        let own = if r == 0 {
            // FK_{l,0} is the init draw: v_l = θ_1 − α_{l,1}.
            self.held().filter(|h| h.epoch == 1).map(|h| g.sub(&h.theta, &h.alpha))
        } else {
            self.past.get(&r).map(|p| p.fk.clone())
        };
        let Some(own) = own else { return false };
        let beta = g.sub(xi, &w);
        self.note_secret(out, SecretName::Beta, r, &beta);
        let body = Body::HfkHat(g.add(&beta, &own));
        self.send(now, Party::Member(failed), Mode::Recovery, r, body, out);
        true
    }

    /// Answers the ξ that waited for round `j` to complete.
    pub(super) fn answer_pending_xi(&mut self, now: LocalTime, j: u64, out: &mut Output) {
        let due: Vec<Ring> = self.recovery.pending_xi.keys().filter(|(_, _, r)| *r == j).copied().collect();
        for ring in due {
            let xi = self.recovery.pending_xi.remove(&ring).expect("listed above");
            self.answer_xi(now, ring, &xi, out);
        }
    }

    /// The replacement collects ĤFKs; with all n − 1 it recovers.
    fn on_hat(&mut self, now: LocalTime, from: MemberId, r: u64, hat: Scalar, out: &mut Output) {
        let (n, g) = (self.cfg.members, self.cfg.group);
        let Phase::Recovering(rep) = &mut self.phase else { return };
        let Some(xi) = rep.xi.clone().filter(|_| rep.handover.r == r) else { return };
        rep.hats.insert(from, hat);
        if rep.hats.len() + 1 < n as usize {
            return;
        }
        let h = &rep.handover;
        let s = g.sub(&g.sum(rep.hats.values()), &g.mul_i64(&xi, i64::from(n) - 2));
        let own = g.sub(&h.theta, &s);
        let (r, theta, sk) = (h.r, h.theta.clone(), h.sk);
        let alpha_r = h.hfk.as_ref().map(|hfk| g.sub(hfk, &own));
        // A handover carries HFK_{ī,r} exactly when r ≥ 1 (`Envelope::fits`).
        match &alpha_r {
            None => self.note_secret(out, SecretName::V, 1, &own),
            Some(alpha_r) => {
                self.note_secret(out, self.cfg.keygen.key_part(), r, &own);
                self.note_secret(out, SecretName::Alpha, r, alpha_r);
            }
        }
        let alpha_next = g.sub(&theta, &own);
        self.enter_epoch(now, r + 1, theta, alpha_next, out);
        let key_ok = self.keys.get(&(r + 1)) == Some(&sk);
        out.notes.push(Note::Recovered { member: self.cfg.id, iter: r, key_ok });
    }

    pub(super) fn recovery_deadline(&self) -> Option<LocalTime> {
        let Phase::Recovering(rep) = &self.phase else { return None };
        let patience_us = RECOVERY_PATIENCE.saturating_mul(self.cfg.silence_timeout_us());
        (!rep.gave_up).then(|| rep.started_at.plus_us(patience_us))
    }

    /// The replacement gives up on survivors that never answered.
    pub(super) fn recovery_timeout(&mut self, now: LocalTime, out: &mut Output) {
        let Some(deadline) = self.recovery_deadline() else { return };
        if deadline > now {
            return;
        }
        let me = self.cfg.id;
        let survivors = self.survivors(me);
        let Phase::Recovering(rep) = &mut self.phase else { return };
        rep.gave_up = true;
        let missing = survivors.into_iter().filter(|l| !rep.hats.contains_key(l)).collect();
        out.notes.push(Note::RecoveryFailed { member: me, iter: rep.handover.r, missing });
    }
}
