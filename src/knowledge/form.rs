//! Linear forms over a run's variables (reference §2).
//!
//! The independent draws are v_i, γ, FK_{i,j} and, on the hardened ring, the
//! shares s_{i,k} (k ≠ i). Two further kinds of variable name intermediate
//! quantities: θ_e and α_{i,e}. They are tied to the draws by *constraint*
//! rows that every view holds (they are the protocol's public structure):
//! θ_1 = Σ v_i, α_{i,1} = θ_1 − v_i, θ_{j+1} = Σ_i FK_{i,j},
//! α_{i,j+1} = θ_{j+1} − FK_{i,j}. Naming them keeps every message's form
//! short (HFK_{i,j} = α_{i,j} + FK_{i,j}) and lets derivations read as the
//! patent writes them.
//!
//! Variables are numbered so that a row's first non-zero column is a good
//! pivot: α's first, then θ's, then FK's by iteration *descending*, then v, γ
//! and the shares. With that order the constraint rows are already in
//! echelon form, and an HFK row reduces to FK_{i,j} + Σ_{l≠i} FK_{l,j−1}.

use std::collections::BTreeMap;

use crate::protocol::{InitKind, MemberId};

/// A variable of the run. Member numbers are 1..=n, epochs e and
/// iterations j count from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Var {
    /// α_{i,e}: member i's pad for epoch e (1..=epochs + 1); named, tied to
    /// the draws by the constraint rows.
    Alpha(u32, u64),
    /// θ_e: the group's binding value of epoch e (1..=epochs + 1); named.
    Theta(u64),
    /// FK_{i,j}: member i's fractional key of iteration j (1..=epochs), a
    /// draw; under ElGamal the private exponent x_{i,j}.
    Fk(u32, u64),
    /// v_i: member i's initialisation draw (process 300 or 400).
    V(u32),
    /// γ: the ring initiator's blinding (process 400; absent under SM
    /// initialisation).
    Gamma,
    /// s_{i,k}: the share of v_i that member i sends member k on the
    /// hardened ring (i ≠ k).
    Share(u32, u32),
    /// Recovery k's draw w_l of survivor l (process 700).
    W(u32, u32),
    /// Recovery k's blinding γ', drawn by the replacement.
    GammaR(u32),
}

impl Var {
    /// Whether it is an independent draw (not θ or α).
    pub fn is_draw(self) -> bool {
        !matches!(self, Var::Alpha(..) | Var::Theta(_))
    }

    /// The label under additive key generation, e.g. `FK[3,1]`, `α[1,2]`,
    /// `θ_2`.
    pub fn label(self) -> String {
        self.label_as(false)
    }

    /// The label, with FK written x (the private exponent) under ElGamal.
    pub fn label_as(self, elgamal: bool) -> String {
        match self {
            Var::Alpha(k, e) => format!("α[{k},{e}]"),
            Var::Theta(e) => format!("θ_{e}"),
            Var::Fk(k, j) if elgamal => format!("x[{k},{j}]"),
            Var::Fk(k, j) => format!("FK[{k},{j}]"),
            Var::V(k) => format!("v[{k}]"),
            Var::Gamma => "γ".to_string(),
            Var::Share(i, k) => format!("share[{i}→{k}]"),
            Var::W(k, l) => format!("w#{k}[{l}]"),
            Var::GammaR(k) => format!("γ'#{k}"),
        }
    }
}

/// A linear form: sorted (column, small integer coefficient) pairs. Every
/// form the protocol produces has small integer coefficients.
pub type Form = Vec<(u32, i64)>;

/// The numbering of a run's variables.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// The group size n.
    pub members: u32,
    /// Key-generation iterations the run may hold (j = 1..=epochs); θ and α
    /// go one further, to epochs + 1.
    pub epochs: u64,
    /// The initialisation: the hardened ring adds the share columns.
    pub init: InitKind,
    /// How many process-700 recoveries the run may hold.
    pub recoveries: u32,
    /// ElGamal key generation: the FK columns hold the private exponents x,
    /// and labels say so.
    pub elgamal: bool,
}

impl Layout {
    fn n(&self) -> u64 {
        u64::from(self.members)
    }
    fn base_theta(&self) -> u64 {
        self.n() * (self.epochs + 1)
    }
    fn base_fk(&self) -> u64 {
        self.base_theta() + self.epochs + 1
    }
    fn base_v(&self) -> u64 {
        self.base_fk() + self.n() * self.epochs
    }
    fn gamma(&self) -> u64 {
        self.base_v() + self.n()
    }
    fn base_share(&self) -> u64 {
        self.gamma() + 1
    }

    fn shares(&self) -> u64 {
        if self.init == InitKind::RingHardened { self.n() * self.n() } else { 0 }
    }

    /// Per recovery: n draws w and one γ'.
    fn base_recovery(&self) -> u64 {
        self.base_share() + self.shares()
    }

    /// The number of columns: the dimension of every form of the run.
    pub fn len(&self) -> usize {
        (self.base_recovery() + u64::from(self.recoveries) * (self.n() + 1)) as usize
    }

    /// Whether there are no columns (never, for n ≥ 1).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column of `v` (which must [exist](Self::has) in this run).
    pub fn index(&self, v: Var) -> u32 {
        let n = self.n();
        let i = match v {
            Var::Alpha(k, e) => (e - 1) * n + u64::from(k - 1),
            Var::Theta(e) => self.base_theta() + e - 1,
            Var::Fk(k, j) => self.base_fk() + (self.epochs - j) * n + u64::from(k - 1),
            Var::V(k) => self.base_v() + u64::from(k - 1),
            Var::Gamma => self.gamma(),
            Var::Share(i, k) => self.base_share() + u64::from(i - 1) * n + u64::from(k - 1),
            Var::W(k, l) => self.base_recovery() + u64::from(k - 1) * (n + 1) + u64::from(l - 1),
            Var::GammaR(k) => self.base_recovery() + u64::from(k - 1) * (n + 1) + n,
        };
        i as u32
    }

    /// The variable in column `index` (below [`len`](Self::len)): the inverse
    /// of [`index`](Self::index).
    pub fn var(&self, index: u32) -> Var {
        let (i, n) = (u64::from(index), self.n());
        let member = |x: u64| (x % n + 1) as u32;
        if i < self.base_theta() {
            Var::Alpha(member(i), i / n + 1)
        } else if i < self.base_fk() {
            Var::Theta(i - self.base_theta() + 1)
        } else if i < self.base_v() {
            let x = i - self.base_fk();
            Var::Fk(member(x), self.epochs - x / n)
        } else if i < self.gamma() {
            Var::V((i - self.base_v() + 1) as u32)
        } else if i == self.gamma() {
            Var::Gamma
        } else if i < self.base_recovery() {
            let x = i - self.base_share();
            Var::Share((x / n + 1) as u32, member(x))
        } else {
            let x = i - self.base_recovery();
            let (k, at) = ((x / (n + 1) + 1) as u32, x % (n + 1));
            if at == n { Var::GammaR(k) } else { Var::W(k, (at + 1) as u32) }
        }
    }

    /// Whether `v` exists in this run (epochs in range, members in range).
    pub fn has(&self, v: Var) -> bool {
        let m = |k: u32| (1..=self.members).contains(&k);
        match v {
            Var::Alpha(k, e) => m(k) && (1..=self.epochs + 1).contains(&e),
            Var::Theta(e) => (1..=self.epochs + 1).contains(&e),
            Var::Fk(k, j) => m(k) && (1..=self.epochs).contains(&j),
            Var::V(k) => m(k),
            Var::Gamma => self.init != InitKind::Sm,
            Var::Share(i, k) => self.init == InitKind::RingHardened && m(i) && m(k) && i != k,
            Var::W(k, l) => (1..=self.recoveries).contains(&k) && m(l),
            Var::GammaR(k) => (1..=self.recoveries).contains(&k),
        }
    }

    /// The form of `v` alone: what holding or deriving `v` means.
    pub fn unit(&self, v: Var) -> Form {
        vec![(self.index(v), 1)]
    }

    /// The form Σ c·v of `terms`, with repeated variables added up and
    /// zero coefficients left out.
    pub fn form(&self, terms: &[(Var, i64)]) -> Form {
        let mut acc: BTreeMap<u32, i64> = BTreeMap::new();
        for &(v, c) in terms {
            *acc.entry(self.index(v)).or_insert(0) += c;
        }
        acc.into_iter().filter(|&(_, c)| c != 0).collect()
    }

    /// HFK_{k,j} = α_{k,j} + FK_{k,j}.
    pub fn hfk(&self, k: MemberId, j: u64) -> Form {
        self.form(&[(Var::Alpha(k.0, j), 1), (Var::Fk(k.0, j), 1)])
    }

    /// What member l adds on the ring: v_l, or on the hardened ring the
    /// partial sum Σ_i s_{i,l} with the kept share s_{l,l} = v_l − Σ_{k≠l} s_{l,k}.
    fn contribution(&self, l: u32, terms: &mut Vec<(Var, i64)>) {
        terms.push((Var::V(l), 1));
        if self.init == InitKind::RingHardened {
            for k in (1..=self.members).filter(|&k| k != l) {
                terms.push((Var::Share(k, l), 1));
                terms.push((Var::Share(l, k), -1));
            }
        }
    }

    /// δ_i = γ + Σ_{l ≤ i} contribution_l.
    pub fn delta(&self, i: MemberId) -> Form {
        let mut terms = vec![(Var::Gamma, 1)];
        for l in 1..=i.0 {
            self.contribution(l, &mut terms);
        }
        self.form(&terms)
    }

    /// δ' of recovery `k` for `failed` as sent by `sender`: γ'_k, plus the
    /// draws of every survivor up to the sender on the ring.
    pub fn recovery_delta(&self, k: u32, failed: MemberId, sender: MemberId) -> Form {
        let mut terms = vec![(Var::GammaR(k), 1)];
        if sender != failed {
            terms.extend((1..=sender.0).filter(|&l| l != failed.0).map(|l| (Var::W(k, l), 1)));
        }
        self.form(&terms)
    }

    /// ξ_k = Σ_l w_{k,l} over the survivors of `failed`.
    pub fn xi(&self, k: u32, failed: MemberId) -> Form {
        let terms: Vec<(Var, i64)> =
            (1..=self.members).filter(|&l| l != failed.0).map(|l| (Var::W(k, l), 1)).collect();
        self.form(&terms)
    }

    /// ĤFK_l = ξ_k − w_{k,l} + FK_{l,r} (v_l when r = 0).
    pub fn hfk_hat(&self, k: u32, failed: MemberId, l: MemberId, r: u64) -> Form {
        let mut terms: Vec<(Var, i64)> =
            (1..=self.members).filter(|&x| x != failed.0).map(|x| (Var::W(k, x), 1)).collect();
        terms.push((Var::W(k, l.0), -1));
        terms.push((if r == 0 { Var::V(l.0) } else { Var::Fk(l.0, r) }, 1));
        self.form(&terms)
    }

    /// The constraint rows every view holds (each has value 0).
    pub fn constraints(&self) -> Vec<Form> {
        let n = self.members;
        let mut out = Vec::new();
        let mut t1: Vec<(Var, i64)> = vec![(Var::Theta(1), 1)];
        t1.extend((1..=n).map(|k| (Var::V(k), -1)));
        out.push(self.form(&t1));
        for k in 1..=n {
            out.push(self.form(&[(Var::Alpha(k, 1), 1), (Var::Theta(1), -1), (Var::V(k), 1)]));
        }
        for j in 1..=self.epochs {
            let mut t: Vec<(Var, i64)> = vec![(Var::Theta(j + 1), 1)];
            t.extend((1..=n).map(|k| (Var::Fk(k, j), -1)));
            out.push(self.form(&t));
            for k in 1..=n {
                out.push(self.form(&[
                    (Var::Alpha(k, j + 1), 1),
                    (Var::Theta(j + 1), -1),
                    (Var::Fk(k, j), 1),
                ]));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_round_trip_and_are_dense() {
        for init in [InitKind::Sm, InitKind::Ring, InitKind::RingHardened] {
            let l = Layout { members: 4, epochs: 3, init, recoveries: 2, elgamal: false };
            let mut seen = vec![false; l.len()];
            for idx in 0..l.len() as u32 {
                let v = l.var(idx);
                assert_eq!(l.index(v), idx, "{v:?}");
                seen[idx as usize] = true;
            }
            assert!(seen.iter().all(|&s| s));
        }
    }

    #[test]
    fn constraint_rows_start_on_distinct_columns() {
        let l = Layout { members: 5, epochs: 4, init: InitKind::Ring, recoveries: 0, elgamal: false };
        let mut firsts: Vec<u32> = l.constraints().iter().map(|f| f[0].0).collect();
        let before = firsts.len();
        firsts.sort();
        firsts.dedup();
        assert_eq!(firsts.len(), before);
    }
}
