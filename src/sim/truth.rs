//! Ground truth and the invariants checked after every epoch, in every
//! build (they are what makes a run trustworthy, so they are never compiled
//! out):
//! - all members hold the same θ_e;
//! - I1: Σ_i α_{i,e} = (n−1)·θ_e (mod q);
//! - θ_{j+1} = Σ_i FK_{i,j} for every key-generation iteration j.
//!
//! A violation is a [`Finding`], not a panic: the run ends normally, says
//! what broke, and exits 1.

use std::collections::{BTreeMap, BTreeSet};

use crate::group::{GroupParams, Scalar, SharedKey};
use crate::protocol::{MemberId, Note, SecretName};

/// Something the run found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A protocol invariant failed at `epoch`.
    Invariant { check: &'static str, epoch: u64, detail: String },
    /// `member` received a confirmation of SK_epoch from `with` that did not
    /// match its own key.
    Divergence { member: MemberId, epoch: u64, with: MemberId },
}

pub struct Truth {
    group: &'static GroupParams,
    members: u32,
    secrets: BTreeMap<(MemberId, SecretName, u64), Scalar>,
    thetas: BTreeMap<u64, BTreeMap<MemberId, Scalar>>,
    keys: BTreeMap<u64, BTreeMap<MemberId, SharedKey>>,
    confirmed: BTreeMap<u64, BTreeSet<MemberId>>,
    findings: Vec<Finding>,
}

/// The verdict on a finished run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Key-generation iterations completed by every member.
    pub epochs_completed: u64,
    /// Every epoch up to the last completed one produced one key, derived and
    /// confirmed by every member, with no divergence.
    pub keys_agreed: bool,
    /// SK of the last epoch every member holds, when the keys agreed.
    pub final_sk: Option<SharedKey>,
    pub findings: Vec<Finding>,
}

impl Truth {
    pub fn new(group: &'static GroupParams, members: u32) -> Truth {
        Truth {
            group,
            members,
            secrets: BTreeMap::new(),
            thetas: BTreeMap::new(),
            keys: BTreeMap::new(),
            confirmed: BTreeMap::new(),
            findings: Vec::new(),
        }
    }

    pub fn observe(&mut self, note: &Note) {
        match note {
            Note::Secret { owner, name, index, value } => {
                self.secrets.insert((*owner, *name, *index), value.clone());
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
        }
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
        if epoch >= 2 {
            let j = epoch - 1;
            let fks: Option<Vec<Scalar>> = ids.map(|m| self.secret(m, SecretName::Fk, j).cloned()).collect();
            let holds = fks.is_some_and(|fks| g.sum(&fks) == theta);
            if !holds {
                self.fail("theta_sum", epoch, format!("θ_{epoch} ≠ Σ_i FK_{{i,{j}}}"));
            }
        }
    }

    pub fn verdict(&self, epochs: u64) -> Verdict {
        let n = self.members as usize;
        let held_by_all = |e: u64| self.thetas.get(&e).is_some_and(|r| r.len() == n);
        let last = (1..=epochs + 1).take_while(|&e| held_by_all(e)).last();
        let epochs_completed = last.map_or(0, |e| e - 1);
        let agreed_at = |e: u64| {
            let keys = self.keys.get(&e);
            let one_key =
                keys.is_some_and(|k| k.len() == n && k.values().all(|sk| Some(sk) == k.values().next()));
            one_key && self.confirmed.get(&e).is_some_and(|c| c.len() == n)
        };
        let keys_agreed = last.is_some_and(|last| (1..=last).all(agreed_at))
            && !self.findings.iter().any(|f| matches!(f, Finding::Divergence { .. }));
        let final_sk = last.filter(|_| keys_agreed).and_then(|e| self.keys[&e].values().next().copied());
        Verdict { epochs_completed, keys_agreed, final_sk, findings: self.findings.clone() }
    }
}
