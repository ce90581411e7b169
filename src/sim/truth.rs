//! Ground truth and the invariants checked after every epoch, in every
//! build (they are what makes a run trustworthy, so they are never compiled
//! out):
//! - all members hold the same θ_e;
//! - I1: Σ_i α_{i,e} = (n−1)·θ_e (mod q);
//! - θ_{j+1} = Σ_i FK_{i,j} for every key-generation iteration j;
//! - a replacement's recovery (process 700) re-derives v, FK and α with
//!   the values its dead predecessor had.
//!
//! A violation is a [`Finding`], not a panic: the run ends normally, says
//! what broke, and exits 1.

use std::collections::{BTreeMap, BTreeSet};

use crate::group::{GroupParams, Scalar, SharedKey};
use crate::protocol::{Check, Epoch, Iteration, MemberId, Note, Party, SecretName};

/// Something the run found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A protocol invariant failed at `epoch`.
    Invariant {
        /// Which: `"theta_agree"` (members hold different θ), `"I1"` (the
        /// pads do not sum to (n−1)·θ), `"theta_sum"` (θ is not the sum of
        /// the FKs) or `"recovery"` (a recovered secret differs).
        check: &'static str,
        /// The epoch checked; for `"recovery"`, the index of the secret
        /// that differs.
        epoch: u64,
        /// What failed, in words, for the summary.
        detail: String,
    },
    /// `member` received a confirmation of SK_epoch from `with` that did not
    /// match its own key.
    Divergence {
        /// The member whose key the confirmation did not match.
        member: MemberId,
        /// The epoch of the key.
        epoch: u64,
        /// The member that sent the confirmation.
        with: MemberId,
    },
}

/// A verification check that failed at a member (reference §1, processes
/// 600, 800, 900 and verified key generation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detection {
    /// The member that ran the check.
    pub member: MemberId,
    /// The check that failed.
    pub check: Check,
    /// The party the check names, if it can name one.
    pub culprit: Option<Party>,
    /// The iteration the check ran in (1 for the initialisation checks of
    /// processes 800 and 900).
    pub iter: u64,
}

/// The outcome of one process-700 recovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// The index the replacement took.
    pub member: MemberId,
    /// The iteration recovered: the replacement resumes at `iter + 1`.
    pub iter: u64,
    /// Whether it succeeded: every survivor's ĤFK arrived, the key the
    /// replacement derived matched the SK the RI sent, and every re-derived
    /// secret equals the original.
    pub ok: bool,
    /// Survivors that never sent their ĤFK (a failed recovery).
    pub withheld_by: Vec<MemberId>,
}

/// Why a run did not complete every epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    /// The key-generation iteration that did not complete.
    pub iter: u64,
    /// Members that never held θ_{iter+1}.
    pub incomplete: Vec<MemberId>,
    /// Members down at the end (crashed and not replaced, or replaced but
    /// not recovered).
    pub failed: Vec<MemberId>,
}

/// The simulator's record of every secret, θ, key and confirmation the
/// members noted, checked as it grows.
pub(crate) struct Truth {
    group: &'static GroupParams,
    members: u32,
    recoveries: Vec<Recovery>,
    /// A re-recorded secret differed from its original since the last
    /// recovery was reported.
    mismatch: bool,
    /// The notes being observed complete a recovery: re-derived values must
    /// equal the originals. (Outside a recovery, a replacement's fresh draw
    /// may replace a draw its dead predecessor never got out.)
    recovering: Option<u64>,
    secrets: BTreeMap<(MemberId, SecretName, u64), Scalar>,
    thetas: BTreeMap<u64, BTreeMap<MemberId, Scalar>>,
    keys: BTreeMap<u64, BTreeMap<MemberId, SharedKey>>,
    confirmed: BTreeMap<u64, BTreeSet<MemberId>>,
    findings: Vec<Finding>,
    detections: Vec<Detection>,
    /// Parties (trace ids) whose cheat was carried out.
    cheated: BTreeSet<u32>,
}

/// The verdict on a finished run.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Verdict {
    /// Key-generation iterations completed by every member.
    pub epochs_completed: u64,
    /// Every epoch up to the last completed one produced one key, derived and
    /// confirmed by every member, with no divergence.
    pub keys_agreed: bool,
    /// SK of the last epoch every member holds, when the keys agreed.
    pub final_sk: Option<SharedKey>,
    /// Invariant failures and key divergences, in the order found.
    pub findings: Vec<Finding>,
    /// Every process-700 recovery that finished or gave up, in order.
    pub recoveries: Vec<Recovery>,
    /// Verification checks that failed, in the order they failed.
    pub detections: Vec<Detection>,
    /// Parties (trace ids, 0 = SM) whose declared cheat was carried out.
    pub cheated: Vec<u32>,
    /// Set when the run ended short of its epochs.
    pub stall: Option<Stall>,
}

impl Truth {
    /// Nothing observed yet, for `members` members in `group`.
    pub fn new(group: &'static GroupParams, members: u32) -> Truth {
        Truth {
            group,
            members,
            recoveries: Vec::new(),
            mismatch: false,
            recovering: None,
            secrets: BTreeMap::new(),
            thetas: BTreeMap::new(),
            keys: BTreeMap::new(),
            confirmed: BTreeMap::new(),
            findings: Vec::new(),
            detections: Vec::new(),
            cheated: BTreeSet::new(),
        }
    }

    /// Takes one note of a party's output; an epoch is checked the moment
    /// every member holds its θ.
    pub fn observe(&mut self, note: &Note) {
        match note {
            Note::Secret { owner, name: as_named, index, value } => {
                // x (ElGamal) plays FK's part in every invariant.
                let name = if *as_named == SecretName::X { SecretName::Fk } else { *as_named };
                let key = (*owner, name, *index);
                // What a recovery of iteration r restores: v (r = 0), FK up to
                // r and α up to r + 1. A fresh draw of a later FK is not one.
                let recovered = self.recovering.is_some_and(|r| match name {
                    SecretName::V => r == 0,
                    SecretName::Fk => *index <= r,
                    SecretName::Alpha => *index <= r + 1,
                    _ => false,
                });
                if recovered && self.secrets.get(&key).is_some_and(|old| old != value) {
                    self.mismatch = true;
                    let detail = format!(
                        "{}[{owner},{index}] was re-derived with a different value",
                        as_named.as_str()
                    );
                    self.fail("recovery", *index, detail);
                }
                self.secrets.insert(key, value.clone());
            }
            Note::Theta { member, epoch, value } => {
                let row = self.thetas.entry(*epoch).or_default();
                row.insert(*member, value.clone());
                if row.len() == self.members as usize {
                    self.check_epoch(*epoch);
                }
            }
            Note::Key { member, epoch, sk } => {
                self.keys.entry(*epoch).or_default().insert(*member, *sk);
            }
            Note::Confirmed { member, epoch } => {
                self.confirmed.entry(*epoch).or_default().insert(*member);
            }
            Note::Divergence { member, epoch, with } => {
                self.findings.push(Finding::Divergence { member: *member, epoch: *epoch, with: *with });
            }
            Note::Verification { member, check, culprit, iter } => self.detections.push(Detection {
                member: *member,
                check: *check,
                culprit: *culprit,
                iter: *iter,
            }),
            Note::Cheated { by } => {
                self.cheated.insert(by.trace_id());
            }
            Note::RoundStart { .. }
            | Note::Declared { .. }
            | Note::Recovered { .. }
            | Note::RecoveryFailed { .. } => {}
        }
    }

    /// Marks the notes about to be observed as (not) completing a recovery.
    pub fn set_recovering(&mut self, recovering: Option<u64>) {
        self.recovering = recovering;
    }

    /// Whether a recovered value differed from the original since the last call.
    pub fn take_recovery_mismatch(&mut self) -> bool {
        std::mem::take(&mut self.mismatch)
    }

    /// Records a recovery's outcome; a successful one forgets what the dead
    /// incarnation held past epoch `iter + 1`.
    pub fn recovered(&mut self, member: MemberId, iter: u64, ok: bool, withheld_by: Vec<MemberId>) {
        self.recoveries.push(Recovery { member, iter, ok, withheld_by });
        // A recovery of iteration r resumes at r + 1: what the dead
        // incarnation held beyond epoch r + 1 (θ and SK from an FK the
        // replacement redraws) is not this member's any more.
        if ok {
            for e in iter + 2.. {
                let had_theta = self.thetas.get_mut(&e).is_some_and(|row| row.remove(&member).is_some());
                let had_key = self.keys.get_mut(&e).is_some_and(|row| row.remove(&member).is_some());
                self.confirmed.get_mut(&e).map(|c| c.remove(&member));
                if !had_theta && !had_key {
                    break;
                }
            }
        }
    }

    /// Where a run that fell short of `epochs` iterations stopped.
    pub fn stall(&self, epochs: u64, failed: Vec<MemberId>) -> Stall {
        let n = self.members as usize;
        let held = |e: u64| self.thetas.get(&e).is_some_and(|r| r.len() == n);
        let completed = (1..=epochs + 1)
            .take_while(|&e| held(e))
            .last()
            .and_then(|e| Iteration::producing(Epoch(e)))
            .map_or(0, |j| j.0);
        let iter = (completed + 1).min(epochs.max(1));
        let row = self.thetas.get(&Epoch::after(Iteration(iter)).0);
        let incomplete =
            (1..=self.members).map(MemberId).filter(|m| row.is_none_or(|r| !r.contains_key(m))).collect();
        Stall { iter, incomplete, failed }
    }

    fn secret(&self, owner: MemberId, name: SecretName, index: u64) -> Option<&Scalar> {
        self.secrets.get(&(owner, name, index))
    }

    fn fail(&mut self, check: &'static str, epoch: u64, detail: String) {
        self.findings.push(Finding::Invariant { check, epoch, detail });
    }

    /// Runs once every member holds θ_epoch.
    fn check_epoch(&mut self, epoch: u64) {
        let g = self.group;
        let n = self.members;
        let row = &self.thetas[&epoch];
        let theta = row.values().next().expect("a full row").clone();
        if let Some((m, _)) = row.iter().find(|(_, t)| **t != theta) {
            let detail = format!("member {m} holds a different θ_{epoch} from member 1");
            self.fail("theta_agree", epoch, detail);
            return;
        }
        let ids = (1..=n).map(MemberId);
        let alphas: Option<Vec<Scalar>> =
            ids.clone().map(|m| self.secret(m, SecretName::Alpha, epoch).cloned()).collect();
        match alphas {
            None => self.fail("I1", epoch, format!("a pad α_{{i,{epoch}}} was never recorded")),
            Some(alphas) => {
                let lhs = g.sum(&alphas);
                let rhs = g.mul_i64(&theta, i64::from(n) - 1);
                if lhs != rhs {
                    let detail = format!("Σ α_{{i,{epoch}}} ≠ (n−1)·θ_{epoch}");
                    self.fail("I1", epoch, detail);
                }
            }
        }
        if let Some(Iteration(j)) = Iteration::producing(Epoch(epoch)) {
            let fks: Option<Vec<Scalar>> = ids.map(|m| self.secret(m, SecretName::Fk, j).cloned()).collect();
            let holds = fks.is_some_and(|fks| g.sum(&fks) == theta);
            if !holds {
                self.fail("theta_sum", epoch, format!("θ_{epoch} ≠ Σ_i FK_{{i,{j}}}"));
            }
        }
    }

    /// The verdict; members in `down` (crashed at the end) are excused from
    /// having received every confirmation — they derived their keys, but
    /// died before hearing back. `cut_off`: a partition still holds at the
    /// end, so confirmations across it can never arrive either; then too
    /// one key derived by every member, and no divergence, is agreement.
    pub fn verdict(&self, epochs: u64, down: &[MemberId], cut_off: bool) -> Verdict {
        let n = self.members as usize;
        let held_by_all = |e: u64| self.thetas.get(&e).is_some_and(|r| r.len() == n);
        let last = (1..=epochs + 1).take_while(|&e| held_by_all(e)).last();
        let epochs_completed = last.map_or(0, |e| e - 1);
        let agreed_at = |e: u64| {
            let keys = self.keys.get(&e);
            let one_key =
                keys.is_some_and(|k| k.len() == n && k.values().all(|sk| Some(sk) == k.values().next()));
            // With a member down, a survivor may never hear its confirmation
            // (lost with it): then one key, derived by every member up, and no
            // divergence (checked below) is what agreement can mean.
            let up = (1..=self.members).map(MemberId).filter(|m| !down.contains(m));
            let confirmed = self.confirmed.get(&e).is_some_and(|c| up.clone().all(|m| c.contains(&m)));
            // A replacement that resumed at r + 1 never holds the keys of
            // epochs 1..=r; the dead incarnation's confirmations of them
            // may have died with it, and nobody sends them again.
            let lost_with_crash = self.recoveries.iter().any(|r| r.ok && e <= r.iter);
            one_key && (confirmed || !down.is_empty() || cut_off || lost_with_crash)
        };
        // No epoch completed: no key was produced, so none disagreed (a
        // stall before θ_1 is reported as a stall, not as a divergence).
        let keys_agreed = last.is_none_or(|last| (1..=last).all(agreed_at))
            && !self.findings.iter().any(|f| matches!(f, Finding::Divergence { .. }));
        let final_sk = last.filter(|_| keys_agreed).and_then(|e| self.keys[&e].values().next().copied());
        Verdict {
            epochs_completed,
            keys_agreed,
            final_sk,
            findings: self.findings.clone(),
            recoveries: self.recoveries.clone(),
            detections: self.detections.clone(),
            cheated: self.cheated.iter().copied().collect(),
            stall: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::{by_name, derive_sk};

    /// Feeds a consistent n = 3 run of one iteration, with `tweak` applied to
    /// the notes first, and returns the verdict.
    fn run(tweak: impl Fn(&mut Vec<Note>)) -> Verdict {
        let g = by_name("toy-16").unwrap();
        let s = |v: u64| g.scalar_from_u64(v);
        let m = MemberId;
        let (v, fk) = ([5u64, 7, 11], [3u64, 4, 6]);
        let theta1 = s(23);
        let theta2 = s(13);
        let mut notes = Vec::new();
        for i in 0..3 {
            let id = m(i as u32 + 1);
            notes.push(Note::Secret { owner: id, name: SecretName::Fk, index: 1, value: s(fk[i]) });
            notes.push(Note::Secret {
                owner: id,
                name: SecretName::Alpha,
                index: 1,
                value: g.sub(&theta1, &s(v[i])),
            });
            notes.push(Note::Secret {
                owner: id,
                name: SecretName::Alpha,
                index: 2,
                value: g.sub(&theta2, &s(fk[i])),
            });
        }
        for e in 1..=2u64 {
            let theta = if e == 1 { theta1.clone() } else { theta2.clone() };
            for i in 1..=3 {
                notes.push(Note::Theta { member: m(i), epoch: e, value: theta.clone() });
                notes.push(Note::Key { member: m(i), epoch: e, sk: derive_sk(g, 3, e, &theta) });
                notes.push(Note::Confirmed { member: m(i), epoch: e });
            }
        }
        tweak(&mut notes);
        let mut t = Truth::new(g, 3);
        for n in &notes {
            t.observe(n);
        }
        t.verdict(1, &[], false)
    }

    #[test]
    fn a_consistent_run_has_no_findings() {
        let v = run(|_| {});
        assert_eq!((v.epochs_completed, v.keys_agreed, v.findings.len()), (1, true, 0));
    }

    #[test]
    fn a_wrong_pad_breaks_i1_at_its_epoch() {
        let v = run(|notes| {
            if let Some(Note::Secret { value, .. }) = notes.iter_mut().find(|n| {
                matches!(n, Note::Secret { name: SecretName::Alpha, index: 2, owner: MemberId(2), .. })
            }) {
                *value = by_name("toy-16").unwrap().scalar_from_u64(1);
            }
        });
        assert!(
            matches!(&v.findings[..], [Finding::Invariant { check: "I1", epoch: 2, .. }]),
            "{:?}",
            v.findings
        );
    }

    #[test]
    fn a_wrong_fk_breaks_theta_sum() {
        let v = run(|notes| {
            if let Some(Note::Secret { value, .. }) = notes
                .iter_mut()
                .find(|n| matches!(n, Note::Secret { name: SecretName::Fk, owner: MemberId(3), .. }))
            {
                *value = by_name("toy-16").unwrap().scalar_from_u64(1);
            }
        });
        let checks: Vec<&str> = v
            .findings
            .iter()
            .filter_map(|f| if let Finding::Invariant { check, .. } = f { Some(*check) } else { None })
            .collect();
        assert!(checks.contains(&"theta_sum"), "{checks:?}");
    }

    #[test]
    fn disagreeing_thetas_and_divergence_are_findings() {
        let v = run(|notes| {
            if let Some(Note::Theta { value, .. }) =
                notes.iter_mut().find(|n| matches!(n, Note::Theta { member: MemberId(3), epoch: 2, .. }))
            {
                *value = by_name("toy-16").unwrap().scalar_from_u64(99);
            }
            notes.push(Note::Divergence { member: MemberId(1), epoch: 2, with: MemberId(3) });
        });
        assert!(
            v.findings.iter().any(|f| matches!(f, Finding::Invariant { check: "theta_agree", epoch: 2, .. }))
        );
        assert!(v.findings.contains(&Finding::Divergence {
            member: MemberId(1),
            epoch: 2,
            with: MemberId(3)
        }));
        assert!(!v.keys_agreed);
    }
}
