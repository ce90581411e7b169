//! A second, deliberately simple decision of who is compromised, for the
//! `analysis` property: for every view, dense Gaussian elimination mod q of
//! the protocol's constraint rows and the view's observed forms, then one
//! membership test per secret. No reduced span, no sparse rows, no shared
//! public part, no witnesses: nothing of the engine in `knowledge` but the
//! collector's record of what each view saw. Small groups only.

use num_traits::ToPrimitive;

use crate::knowledge::form::{Form, Var};
use crate::knowledge::{Collector, Obs};
use crate::protocol::MemberId;

/// The largest n the oracle decides.
pub const MEMBERS_MAX: u32 = 6;

/// What the oracle decides: compromised members (sorted) and whether the
/// outsider learns a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Members some view without them derives an FK or α of.
    pub compromised: Vec<u32>,
    /// The outsider derives a θ or was handed an SK.
    pub outsider_learns_key: bool,
}

/// The verdict for a collected run with `coalitions`, or `None` when n is
/// past [`MEMBERS_MAX`] or q does not fit 63 bits.
pub fn decide(c: &Collector, q: &num_bigint::BigUint, coalitions: &[Vec<MemberId>]) -> Option<Verdict> {
    let q = q.to_u64().filter(|&q| q < 1 << 63)?;
    let n = c.layout.members;
    if n > MEMBERS_MAX {
        return None;
    }
    let width = c.layout.len();
    let constraints = c.layout.constraints();
    let mut views: Vec<(Vec<u32>, Vec<&Obs>)> =
        (1..=n).map(|m| (vec![m], c.members[m as usize - 1].iter().collect())).collect();
    for co in coalitions {
        let obs = co.iter().flat_map(|m| c.members[m.0 as usize - 1].iter()).collect();
        views.push((co.iter().map(|m| m.0).collect(), obs));
    }
    // The outsider holds no secret of its own: whatever it derives counts.
    views.push((vec![], c.outsider.iter().collect()));
    for r in &c.replacements {
        views.push((vec![r.member.0], r.obs.iter().collect()));
    }
    let mut compromised = Vec::new();
    for (inside, obs) in &views {
        let m = Matrix::reduce(q, width, constraints.iter().chain(obs.iter().map(|o| &*o.form)));
        for &v in c.truth.keys() {
            let owner = match v {
                Var::Fk(k, _) | Var::Alpha(k, _) => k,
                _ => continue,
            };
            if !inside.contains(&owner) && m.spans(c.layout.index(v) as usize) {
                compromised.push(owner);
            }
        }
    }
    compromised.sort_unstable();
    compromised.dedup();
    let outsider = Matrix::reduce(q, width, constraints.iter().chain(c.outsider.iter().map(|o| &*o.form)));
    let theta =
        c.truth.keys().any(|&v| matches!(v, Var::Theta(_)) && outsider.spans(c.layout.index(v) as usize));
    Some(Verdict { compromised, outsider_learns_key: theta || !c.outsider_sks.is_empty() })
}

/// Rows in reduced row-echelon form mod q: `pivots[i]` is row i's leading
/// column, where every other row is 0.
struct Matrix {
    q: u64,
    rows: Vec<Vec<u64>>,
    pivots: Vec<usize>,
}

impl Matrix {
    fn mul(&self, a: u64, b: u64) -> u64 {
        ((u128::from(a) * u128::from(b)) % u128::from(self.q)) as u64
    }

    fn sub_mul(&self, a: u64, k: u64, b: u64) -> u64 {
        let kb = self.mul(k, b);
        if a >= kb { a - kb } else { a + (self.q - kb) }
    }

    fn inverse(&self, a: u64) -> u64 {
        // Fermat: q is prime.
        let (mut base, mut e, mut acc) = (a, self.q - 2, 1u64);
        while e > 0 {
            if e & 1 == 1 {
                acc = self.mul(acc, base);
            }
            base = self.mul(base, base);
            e >>= 1;
        }
        acc
    }

    fn reduce<'f>(q: u64, width: usize, forms: impl Iterator<Item = &'f Form>) -> Matrix {
        let mut m = Matrix { q, rows: Vec::new(), pivots: Vec::new() };
        for form in forms {
            let mut row = vec![0u64; width];
            for &(col, coeff) in form {
                let c = i128::from(coeff).rem_euclid(i128::from(q)) as u64;
                row[col as usize] = (row[col as usize] + c) % q;
            }
            m.insert(row);
        }
        m
    }

    /// Eliminates `row` against the pivots; what is left.
    fn eliminate(&self, mut row: Vec<u64>) -> Vec<u64> {
        for (r, &p) in self.rows.iter().zip(&self.pivots) {
            let k = row[p];
            if k != 0 {
                for (x, &y) in row.iter_mut().zip(r) {
                    *x = self.sub_mul(*x, k, y);
                }
            }
        }
        row
    }

    fn insert(&mut self, row: Vec<u64>) {
        let mut row = self.eliminate(row);
        let Some(p) = row.iter().position(|&x| x != 0) else { return };
        let inv = self.inverse(row[p]);
        for x in &mut row {
            *x = self.mul(*x, inv);
        }
        for i in 0..self.rows.len() {
            let k = self.rows[i][p];
            if k != 0 {
                let updated: Vec<u64> =
                    self.rows[i].iter().zip(&row).map(|(&x, &y)| self.sub_mul(x, k, y)).collect();
                self.rows[i] = updated;
            }
        }
        self.rows.push(row);
        self.pivots.push(p);
    }

    /// Whether the unit vector of column `col` is in the row space.
    fn spans(&self, col: usize) -> bool {
        let width = self.rows.first().map_or(col + 1, Vec::len);
        let mut unit = vec![0u64; width.max(col + 1)];
        unit[col] = 1;
        self.eliminate(unit).iter().all(|&x| x == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elimination_decides_membership() {
        // Over GF(7): rows x0 + x1, x1 + 2·x2. x0 − 2·x2 is in the span, x0 alone is not.
        let m = Matrix::reduce(7, 3, [vec![(0, 1), (1, 1)], vec![(1, 1), (2, 2)]].iter());
        assert!(!m.spans(0) && !m.spans(2));
        let m2 = Matrix::reduce(7, 3, [vec![(0, 1), (1, 1)], vec![(1, 1), (2, 2)], vec![(2, -3)]].iter());
        assert!(m2.spans(0) && m2.spans(1) && m2.spans(2));
    }
}
