//! Verification with commitments (reference §1): processes 800 (SM
//! initialisation) and 900 (ring initialisation), and verified key
//! generation. A failed check is a `Verification` note naming the culprit
//! when the check can.
//!
//! - **800.** The SM sends C_i = g^{α_{i,1}} for every i and C_θ = g^{θ_1}.
//!   Member i checks g^{α_{i,1}} = C_i, g^{θ_1} = C_θ and
//!   Π C_i = C_θ^{n−1} (I1 in the exponent); any failure names the SM.
//! - **900.** Member i publishes V_i = g^{v_i} and D_i = g^{δ_i}; the GI
//!   also Γ = g^γ. Each member checks the δ it received against its
//!   sender's D (naming the sender), the chain D_1 = Γ·V_1,
//!   D_k = D_{k−1}·V_k (the first broken link k names member k−1, whose δ
//!   made it break; link 1 names the GI), and g^{θ_1} = Π V_i (which names
//!   no one: the GI or member n may have lied).
//! - **Key generation.** With HFK_{i,j} each member publishes
//!   E_{i,j} = g^{FK_{i,j}} (under ElGamal, the public FK = g^x is E).
//!   Everyone checks g^{HFK_{i,j}} = g^{α_{i,j}}·E_{i,j}, with g^{α_{i,j}}
//!   known publicly: C_i (800) or g^{θ_1}/V_i (900) for j = 1, and
//!   g^{θ_j}/E_{i,j−1} after. Divisions are avoided by multiplying both
//!   sides through. A mismatch names member i.
//!
//! A replacement (process 700) has not seen the earlier commitments: it
//! skips the checks it lacks the values for, and says nothing.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::Member;
use super::by_member::ByMember;
use crate::group::{Element, Scalar};
use crate::protocol::{Check, Commitment, MemberId, Note, Output, Party};

/// What a member holds for verification.
#[derive(Default)]
pub(super) struct Verif {
    /// Process 800: (C_1..C_n, C_θ) from the SM.
    pads: Option<(Vec<Element>, Element)>,
    /// Process 900: (V_k, D_k, Γ from the GI) by member.
    ring: BTreeMap<MemberId, (Element, Element, Option<Element>)>,
    /// The δ this member received on the ring (δ_n for the GI).
    delta_in: Option<Scalar>,
    /// θ_1 and α_{i,1} once held.
    epoch1: Option<(Scalar, Scalar)>,
    init_checked: bool,
    /// E_{k,j} (the public FKs) of the last two iterations, with the
    /// incarnation of k that published each.
    pubs: BTreeMap<u64, BTreeMap<MemberId, (Element, u32)>>,
}

impl Member {
    fn fail(&self, out: &mut Output, check: Check, culprit: Option<Party>, iter: u64) {
        out.notes.push(Note::Verification { member: self.cfg.id, check, culprit, iter });
    }

    pub(super) fn on_commit(&mut self, from: Party, c: &Commitment, out: &mut Output) {
        if !self.cfg.verify.commits() {
            return;
        }
        // A broadcast's envelopes share one commitment: copied only when kept.
        match (from, c) {
            (Party::Sm, Commitment::Pads { alphas, theta }) => {
                self.verif.pads.get_or_insert_with(|| (alphas.clone(), theta.clone()));
            }
            (Party::Member(m), Commitment::Ring { v, delta, gamma }) => {
                self.verif.ring.entry(m).or_insert_with(|| (v.clone(), delta.clone(), gamma.clone()));
            }
            _ => {}
        }
        self.maybe_check_init(out);
    }

    /// The member's own ring commitments, as it broadcasts them.
    pub(super) fn own_ring_commitment(
        &mut self,
        v: &Scalar,
        delta: &Scalar,
        gamma: Option<&Scalar>,
    ) -> Commitment {
        let g = self.group();
        let c = (g.pow_g(v), g.pow_g(delta), gamma.map(|x| g.pow_g(x)));
        self.verif.ring.insert(self.cfg.id, c.clone());
        Commitment::Ring { v: c.0, delta: c.1, gamma: c.2 }
    }

    pub(super) fn note_delta_in(&mut self, delta: &Scalar) {
        self.verif.delta_in.get_or_insert_with(|| delta.clone());
    }

    pub(super) fn note_epoch1(&mut self, theta: &Scalar, alpha: &Scalar, out: &mut Output) {
        if self.cfg.verify.commits() && self.cfg.incarnation == 0 {
            self.verif.epoch1 = Some((theta.clone(), alpha.clone()));
            self.maybe_check_init(out);
        }
    }

    fn maybe_check_init(&mut self, out: &mut Output) {
        let Some((theta, alpha)) = self.verif.epoch1.clone() else { return };
        if self.verif.init_checked {
            return;
        }
        let g = self.group();
        let n = self.cfg.members as usize;
        if let Some((cs, c_theta)) = &self.verif.pads {
            self.verif.init_checked = true;
            let sm = Some(Party::Sm);
            let mine = cs.get(self.cfg.id.0 as usize - 1);
            if cs.len() != n || mine != Some(&g.pow_g(&alpha)) {
                self.fail(out, Check::Pad, sm, 1);
            }
            if g.pow_g(&theta) != *c_theta {
                self.fail(out, Check::Theta, sm, 1);
            }
            if g.product(cs) != g.pow_element(c_theta, &num_bigint::BigUint::from(n as u64 - 1)) {
                self.fail(out, Check::PadSum, sm, 1);
            }
            return;
        }
        if self.verif.ring.len() < n {
            return;
        }
        self.verif.init_checked = true;
        let member = |k: u32| Some(Party::Member(MemberId(k)));
        let pred = super::super::ring_neighbours(self.cfg.id, self.cfg.members).0;
        let commits = &self.verif.ring;
        if let Some(d) = &self.verif.delta_in
            && g.pow_g(d) != commits[&pred].1
        {
            self.fail(out, Check::Delta, member(pred.0), 1);
        }
        let gamma = commits[&MemberId(1)].2.clone();
        let mut prev = gamma;
        for k in 1..=self.cfg.members {
            let (v, d, _) = &commits[&MemberId(k)];
            let link_ok = prev.as_ref().is_some_and(|p| g.mul_elements(p, v) == *d);
            if !link_ok {
                self.fail(out, Check::RingLink, member(if k == 1 { 1 } else { k - 1 }), 1);
                break;
            }
            prev = Some(d.clone());
        }
        if g.pow_g(&theta) != g.product(commits.values().map(|c| &c.0)) {
            self.fail(out, Check::Theta, None, 1);
        }
    }

    /// Verified key generation: g^{HFK_{k,j}}·(what divides α) =
    /// (g^θ_j or C_k)·E_{k,j} for every member k of round j.
    ///
    /// When k's parts come from a replacement while the commitment to its
    /// α came from its predecessor (init commitments are incarnation 0's),
    /// the check spans a recovery: process 700 rebuilt α from θ, so a cheat
    /// elsewhere that shifted θ shows up here without k having lied. Such a
    /// mismatch names no one (check `hfk-after-recovery`).
    pub(super) fn check_round(
        &mut self,
        j: u64,
        theta_j: &Scalar,
        hfks: &ByMember<Scalar>,
        pubs: &ByMember<Element>,
        incs: &ByMember<u32>,
        out: &mut Output,
    ) {
        if !self.cfg.verify.commits() {
            return;
        }
        let g = self.group();
        // Each member k's equation g^{HFK_k}·D_k = B_k·E_k: D_k is V_k (ring,
        // j = 1) or E_{k,j−1} (absent for the SM's pads), B_k is g^{θ_j} or C_k.
        struct Eq<'a> {
            k: MemberId,
            hfk: &'a Scalar,
            e: &'a Element,
            d: Option<Element>,
            c: Option<Element>,
            spans_recovery: bool,
        }
        let mut eqs = Vec::new();
        for (k, hfk) in hfks.iter() {
            let k = &k;
            let Some(e) = pubs.get(k) else { continue };
            let inc = incs.get(k).copied().unwrap_or(0);
            let sides = if j == 1 {
                match (&self.verif.pads, self.verif.ring.get(k)) {
                    (Some((cs, _)), _) => cs.get(k.0 as usize - 1).map(|c| (None, Some(c.clone()), 0)),
                    (None, Some((v, _, _))) => Some((Some(v.clone()), None, 0)),
                    _ => None,
                }
            } else {
                let prev = self.verif.pubs.get(&(j - 1)).and_then(|p| p.get(k));
                prev.map(|(d, prev_inc)| (Some(d.clone()), None, *prev_inc))
            };
            if let Some((d, c, prev_inc)) = sides {
                eqs.push(Eq { k: *k, hfk, e, d, c, spans_recovery: inc != prev_inc });
            }
        }
        // One batch check with pseudo-random 63-bit weights r_k (hashed from
        // the values, so colluding cheaters cannot cancel out): Π lhs^r =
        // Π rhs^r costs two fixed-base exponentiations and small ones. Only
        // when it fails is each member checked on its own, to name culprits.
        let weight = |eq: &Eq| -> i64 {
            let mut h = Sha256::new();
            h.update(b"fraclab/batch/v1");
            h.update(j.to_be_bytes());
            h.update(eq.k.0.to_be_bytes());
            h.update(g.scalar_bytes(eq.hfk));
            h.update(eq.e.as_biguint().to_bytes_be());
            let bytes: [u8; 8] = h.finalize()[..8].try_into().expect("8 bytes");
            (u64::from_be_bytes(bytes) >> 1) as i64
        };
        let small = |x: &Element, r: i64| g.pow_element(x, &num_bigint::BigUint::from(r as u64));
        let rs: Vec<i64> = eqs.iter().map(weight).collect();
        let mut lhs =
            g.pow_g(&g.sum(&eqs.iter().zip(&rs).map(|(eq, &r)| g.mul_i64(eq.hfk, r)).collect::<Vec<_>>()));
        let theta_r: Vec<Scalar> = eqs
            .iter()
            .zip(&rs)
            .filter(|(eq, _)| eq.c.is_none())
            .map(|(_, &r)| g.mul_i64(theta_j, r))
            .collect();
        let mut rhs = g.pow_g(&g.sum(&theta_r));
        for (eq, &r) in eqs.iter().zip(&rs) {
            if let Some(d) = &eq.d {
                lhs = g.mul_elements(&lhs, &small(d, r));
            }
            let base_e = match &eq.c {
                Some(c) => g.mul_elements(c, eq.e),
                None => eq.e.clone(),
            };
            rhs = g.mul_elements(&rhs, &small(&base_e, r));
        }
        if lhs != rhs {
            let g_theta = g.pow_g(theta_j);
            for eq in &eqs {
                let l =
                    eq.d.as_ref().map_or_else(|| g.pow_g(eq.hfk), |d| g.mul_elements(&g.pow_g(eq.hfk), d));
                let r = g.mul_elements(eq.c.as_ref().unwrap_or(&g_theta), eq.e);
                if l == r {
                    continue;
                }
                if eq.spans_recovery {
                    self.fail(out, Check::HfkAfterRecovery, None, j);
                } else {
                    self.fail(out, Check::Hfk, Some(Party::Member(eq.k)), j);
                }
            }
        }
        let with_incs =
            pubs.iter().map(|(k, e)| (k, (e.clone(), incs.get(&k).copied().unwrap_or(0)))).collect();
        self.verif.pubs.insert(j, with_incs);
        while self.verif.pubs.len() > 2 {
            self.verif.pubs.pop_first();
        }
    }
}
