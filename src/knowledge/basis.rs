//! An incremental row-echelon basis over GF(q): the span test of reference §2.
//!
//! Observations are inserted in the order the view received them. A row
//! enters the basis when it is independent of the rows before it; its pivot
//! is its first non-zero column and it is scaled so the pivot is 1. Each row
//! remembers the observation that created it (its *tag*) and how it was made
//! from that observation and earlier rows, so that:
//! - a target t in the span is t = Σ c_r·row_r, uniquely (the rows are
//!   independent);
//! - its value is Σ c_r·value_r, computed from the view's own values;
//! - the first moment it was derivable is the largest tag among the rows with
//!   c_r ≠ 0: the rows inserted up to any moment span exactly what the view
//!   held then, and the unique representation uses only rows of that span;
//! - it can be written back as a combination of observations (the witness);
//! - a target outside the span gets a vector z with row·z = 0 for every row
//!   and t·z ≠ 0: adding z to the hidden draws changes t and nothing the view
//!   holds.

use std::collections::BTreeMap;

use super::field::Field;
use super::form::Form;

struct Row<E> {
    pivot: u32,
    /// Sorted (column, coefficient); the first is the pivot, with 1.
    entries: Vec<(u32, E)>,
    value: E,
    /// The observation index that created this row.
    tag: usize,
    /// row = scale · (observation[tag] − Σ c·row[r]) over these (r, c).
    made_from: Vec<(usize, E)>,
    scale: E,
}

/// The span of one view over GF(q): independent rows in echelon form, each
/// tagged with the observation that created it (see the module docs).
///
/// A tiny view on toy-16, with columns x0, x1, x2: it holds x0 + x1 = 10 and
/// x1 + x2 = 20. It derives x0 − x2 (= −10, from observations 0 and 1) but
/// not x0 alone:
///
/// ```
/// use fraclab::group::by_name;
/// use fraclab::knowledge::basis::Basis;
/// use fraclab::knowledge::field::{Field, U64Field};
///
/// let f = U64Field::new(by_name("toy-16").unwrap()).unwrap();
/// let mut view = Basis::new(&f, 3);
/// assert!(view.insert(&vec![(0, 1), (1, 1)], 10, 0));
/// assert!(view.insert(&vec![(1, 1), (2, 1)], 20, 1));
/// assert!(!view.insert(&vec![(0, 1), (1, 2), (2, 1)], 30, 2), "the sum adds nothing");
///
/// let r = view.reduce(&vec![(0, 1), (2, -1)]);
/// assert!(r.residual.is_empty(), "x0 − x2 is in the span");
/// assert_eq!(view.value_of(&r.used), f.elem_i64(-10));
/// assert_eq!(view.first_tag(&r.used), 1, "derivable once observation 1 arrived");
///
/// assert!(!view.reduce(&vec![(0, 1)]).residual.is_empty(), "x0 is hidden");
/// ```
pub struct Basis<'f, F: Field> {
    f: &'f F,
    dim: usize,
    pivot_row: Vec<Option<usize>>,
    rows: Vec<Row<F::E>>,
    acc: Vec<F::E>,
    /// Columns of `acc` that may be non-zero: reductions visit only these,
    /// in order, so a reduction costs what it touches, not the dimension.
    touched: std::collections::BTreeSet<u32>,
}

/// The result of reducing a form against the basis.
pub struct Reduced<E> {
    /// (row, coefficient) of every row subtracted, c ≠ 0.
    pub used: Vec<(usize, E)>,
    /// What is left: non-zero only on non-pivot columns.
    pub residual: Vec<(u32, E)>,
}

impl<'f, F: Field> Basis<'f, F> {
    /// An empty basis over `dim` columns (a run's [`Layout::len`](super::form::Layout::len)).
    pub fn new(f: &'f F, dim: usize) -> Self {
        let (pivot_row, acc) = (vec![None; dim], vec![f.zero(); dim]);
        Basis { f, dim, pivot_row, rows: Vec::new(), acc, touched: std::collections::BTreeSet::new() }
    }

    /// Loads `form` into the accumulator and reduces it; returns the rows used
    /// and leaves the residual in `self.acc`.
    fn reduce_into_acc(&mut self, form: &Form) -> Vec<(usize, F::E)> {
        let f = self.f;
        for &(c, v) in form {
            self.acc[c as usize] = f.elem_i64(v);
            self.touched.insert(c);
        }
        let mut used = Vec::new();
        let mut residual = std::collections::BTreeSet::new();
        // Rows only reach columns at or after their pivot, so taking the
        // smallest touched column each time visits columns in order.
        while let Some(col) = self.touched.pop_first() {
            let at = col as usize;
            if f.is_zero(&self.acc[at]) {
                continue;
            }
            match self.pivot_row[at] {
                Some(r) => {
                    let c = self.acc[at].clone();
                    for (x, v) in &self.rows[r].entries {
                        let xi = *x as usize;
                        self.acc[xi] = f.sub(&self.acc[xi], &f.mul(&c, v));
                        if *x != col {
                            self.touched.insert(*x);
                        }
                    }
                    used.push((r, c));
                }
                None => {
                    residual.insert(col);
                }
            }
        }
        self.touched = residual;
        used
    }

    /// Takes the residual out of the accumulator, leaving it zeroed.
    fn drain_acc(&mut self) -> Vec<(u32, F::E)> {
        let f = self.f;
        let mut out = Vec::new();
        for col in std::mem::take(&mut self.touched) {
            let at = col as usize;
            if !f.is_zero(&self.acc[at]) {
                out.push((col, std::mem::replace(&mut self.acc[at], f.zero())));
            }
        }
        out
    }

    /// Inserts an observation; returns whether it added to the span.
    pub fn insert(&mut self, form: &Form, value: F::E, tag: usize) -> bool {
        let f = self.f;
        let used = self.reduce_into_acc(form);
        let residual = self.drain_acc();
        let Some((pivot, lead)) = residual.first().cloned() else { return false };
        let scale = f.inv(&lead);
        let entries: Vec<(u32, F::E)> = residual.into_iter().map(|(c, v)| (c, f.mul(&v, &scale))).collect();
        let mut v = value;
        for (r, c) in &used {
            v = f.sub(&v, &f.mul(c, &self.rows[*r].value));
        }
        let value = f.mul(&v, &scale);
        self.pivot_row[pivot as usize] = Some(self.rows.len());
        self.rows.push(Row { pivot, entries, value, tag, made_from: used, scale });
        true
    }

    /// Reduces `form` against the rows: it is in the span exactly when the
    /// residual is empty, and then `used` gives its unique combination of
    /// rows (for [`value_of`](Self::value_of), [`first_tag`](Self::first_tag)
    /// and [`witness`](Self::witness)). The basis itself is not changed.
    pub fn reduce(&mut self, form: &Form) -> Reduced<F::E> {
        let used = self.reduce_into_acc(form);
        let residual = self.drain_acc();
        Reduced { used, residual }
    }

    /// The value of a form in the span: Σ c_r · value_r.
    pub fn value_of(&self, used: &[(usize, F::E)]) -> F::E {
        let f = self.f;
        used.iter().fold(f.zero(), |acc, (r, c)| f.add(&acc, &f.mul(c, &self.rows[*r].value)))
    }

    /// The first observation index at which the form became derivable.
    pub fn first_tag(&self, used: &[(usize, F::E)]) -> usize {
        used.iter().map(|(r, _)| self.rows[*r].tag).max().unwrap_or(0)
    }

    /// The form as a combination of observations: observation index → coefficient.
    pub fn witness(&self, used: &[(usize, F::E)]) -> BTreeMap<usize, F::E> {
        let f = self.f;
        // Rows only refer to earlier rows, so expanding in increasing order
        // visits every row once.
        let mut need: BTreeMap<usize, F::E> = BTreeMap::new();
        for (r, c) in used {
            add_to(f, &mut need, *r, c);
        }
        let mut out: BTreeMap<usize, F::E> = BTreeMap::new();
        while let Some((r, c)) = need.pop_last() {
            let row = &self.rows[r];
            let k = f.mul(&c, &row.scale);
            add_to(f, &mut out, row.tag, &k);
            for (r2, c2) in &row.made_from {
                let neg = f.sub(&f.zero(), &f.mul(&k, c2));
                add_to(f, &mut need, *r2, &neg);
            }
        }
        out.retain(|_, c| !f.is_zero(c));
        out
    }

    /// A vector z with row·z = 0 for every row and residual·z ≠ 0; `residual`
    /// must be the non-zero residual of a reduced target.
    pub fn null_vector(&self, residual: &[(u32, F::E)]) -> Vec<F::E> {
        let f = self.f;
        let mut z = vec![f.zero(); self.dim];
        let (free, _) = residual.first().expect("a non-derivable target has a residual");
        z[*free as usize] = f.elem_i64(1);
        let mut by_pivot: Vec<&Row<F::E>> = self.rows.iter().collect();
        by_pivot.sort_by_key(|r| std::cmp::Reverse(r.pivot));
        for row in by_pivot {
            let s =
                row.entries[1..].iter().fold(f.zero(), |acc, (x, v)| f.add(&acc, &f.mul(v, &z[*x as usize])));
            z[row.pivot as usize] = f.sub(&f.zero(), &s);
        }
        z
    }
}

fn add_to<F: Field>(f: &F, map: &mut BTreeMap<usize, F::E>, key: usize, c: &F::E) {
    let e = map.entry(key).or_insert_with(|| f.zero());
    *e = f.add(e, c);
}

/// Evaluates a form on an assignment of all variables.
pub fn eval<F: Field>(f: &F, form: &Form, assignment: &[F::E]) -> F::E {
    form.iter().fold(f.zero(), |acc, &(c, k)| f.add(&acc, &f.mul(&f.elem_i64(k), &assignment[c as usize])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::by_name;
    use crate::knowledge::field::U64Field;

    #[test]
    fn span_membership_values_and_witnesses() {
        let f = U64Field::new(by_name("toy-16").unwrap()).unwrap();
        let mut b = Basis::new(&f, 4);
        // x0 + x1 = 10, x1 + x2 = 20 (true values x = 3, 7, 13, 5)
        assert!(b.insert(&vec![(0, 1), (1, 1)], 10, 0));
        assert!(b.insert(&vec![(1, 1), (2, 1)], 20, 1));
        assert!(!b.insert(&vec![(0, 1), (2, 1), (1, 2)], 30, 2), "dependent");
        // x0 − x2 = obs0 − obs1 = −10
        let r = b.reduce(&vec![(0, 1), (2, -1)]);
        assert!(r.residual.is_empty());
        assert_eq!(b.value_of(&r.used), f.elem_i64(-10));
        assert_eq!(b.first_tag(&r.used), 1);
        let w = b.witness(&r.used);
        assert_eq!(w.get(&0), Some(&1));
        assert_eq!(w.get(&1), Some(&f.elem_i64(-1)));
        // x0 alone is not derivable; the null vector proves it.
        let r = b.reduce(&vec![(0, 1)]);
        assert!(!r.residual.is_empty());
        let z = b.null_vector(&r.residual);
        assert_eq!(eval(&f, &vec![(0, 1), (1, 1)], &z), 0);
        assert_eq!(eval(&f, &vec![(1, 1), (2, 1)], &z), 0);
        assert_ne!(eval(&f, &vec![(0, 1)], &z), 0);
    }
}
