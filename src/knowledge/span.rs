//! The span of a view kept fully reduced: the engine behind
//! [`analyse`](super::analyse).
//!
//! [`Basis`](super::basis::Basis) keeps rows in echelon form with a fixed
//! column order, which is simple and is what `--explain` uses. Its cost on
//! the protocol's structure is poor: every HFK row reduces through the θ row
//! of its iteration, which holds all n fractional keys, so a view of n
//! members and E epochs costs about n²·E² and the whole analysis n³.
//!
//! [`Span`] keeps the rows in *reduced* row-echelon form instead, with
//! pivots chosen by sparsity:
//! - no row holds another row's pivot column, so reducing a form against the
//!   span is one pass over the rows its own pivot columns name;
//! - a new row's pivot is the column of its residual that the fewest rows
//!   hold (Markowitz's rule for fill), and those rows are cleared of it;
//! - a unit target x is in the span exactly when x is a pivot and its row
//!   holds nothing else: the engine sees a secret become derivable at the
//!   observation that empties its row, with no reduction per target.
//!
//! Every row also keeps a *derivation*: a node in a log of the combinations
//! that made it, each node a short sum of tagged observations and earlier
//! nodes. Expanding a known column's node gives it as a combination of the
//! independent observations, which is unique: exactly the witness
//! [`Basis::witness`](super::basis::Basis::witness) computes. The log costs
//! two terms per elimination; the expansion is paid only for the witnesses
//! a run writes out. Which observations are independent (each one against those
//! before it), when a target first becomes derivable, its value and its
//! witness depend only on the observations and their order, never on the
//! pivots, so both engines agree; the test suite checks that they do.

use std::rc::Rc;

use super::field::Field;
use super::form::Form;

const NONE: u32 = u32::MAX;
/// Marks a derivation input as a tagged observation, not a node.
const TAG: u32 = 1 << 31;

/// A sparse vector: (index, value) sorted by index, no zero values.
type Sparse<E> = Vec<(u32, E)>;

/// Rows longer than this are stored densely: the few rows that sum a whole
/// iteration (θ_{j+1} = Σ FK_{i,j}) change at every HFK, and a dense row
/// takes such a change in time proportional to the change.
const DENSE_AFTER: usize = 48;

/// A row's non-pivot entries.
#[derive(Clone)]
enum Rest<E> {
    Sparse(Sparse<E>),
    /// Values by column, with the columns ever non-zero listed once and the
    /// count of those non-zero now.
    Dense {
        vals: Vec<E>,
        listed: Vec<bool>,
        cols: Vec<u32>,
        nnz: usize,
    },
}

impl<E: Clone> Rest<E> {
    fn len(&self) -> usize {
        match self {
            Rest::Sparse(v) => v.len(),
            Rest::Dense { nnz, .. } => *nnz,
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many entries iterating it visits: a dense row scans every column
    /// it ever held, zero or not (what the work counter counts).
    fn scanned(&self) -> usize {
        match self {
            Rest::Sparse(v) => v.len(),
            Rest::Dense { cols, .. } => cols.len(),
        }
    }

    /// The non-zero entries, in no particular order for a dense row.
    fn entries<'a, F: Field<E = E>>(&'a self, f: &'a F) -> Entries<'a, F> {
        match self {
            Rest::Sparse(v) => Entries::Sparse(v.iter()),
            Rest::Dense { vals, cols, .. } => Entries::Dense { f, vals, cols: cols.iter() },
        }
    }
}

/// The iterator of [`Rest::entries`].
enum Entries<'a, F: Field> {
    Sparse(std::slice::Iter<'a, (u32, F::E)>),
    Dense { f: &'a F, vals: &'a [F::E], cols: std::slice::Iter<'a, u32> },
}

impl<'a, F: Field> Iterator for Entries<'a, F> {
    type Item = (u32, &'a F::E);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Entries::Sparse(it) => it.next().map(|(c, e)| (*c, e)),
            Entries::Dense { f, vals, cols } => {
                cols.find(|&&c| !f.is_zero(&vals[c as usize])).map(|&c| (c, &vals[c as usize]))
            }
        }
    }
}

#[derive(Clone)]
struct Row<E> {
    /// Its pivot column; the pivot's coefficient is 1 and is not stored.
    pivot: u32,
    /// The other non-zero columns, none of them a pivot.
    rest: Rest<E>,
    value: E,
    /// The derivation node that gives the row as a combination of tagged
    /// observations, or NONE when that combination is empty.
    node: u32,
}

/// A view's span over GF(q) in reduced row-echelon form (see the module
/// docs). `Clone` lets a run reduce the rows every view shares once and
/// extend a copy per view.
///
/// The same tiny view as [`Basis`](super::basis::Basis)'s example, on
/// toy-16 with columns x0, x1, x2: it holds x0 + x1 = 10, then
/// x1 + x2 = 20, then x2 = 5, and derives x0 and x1 only at the third:
///
/// ```
/// use fraclab::group::by_name;
/// use fraclab::knowledge::field::{Field, U64Field};
/// use fraclab::knowledge::span::Span;
///
/// let f = U64Field::new(by_name("toy-16").unwrap()).unwrap();
/// let mut view = Span::new(&f, 3);
/// assert!(view.insert(&vec![(0, 1), (1, 1)], 10, Some(0)));
/// assert!(view.insert(&vec![(1, 1), (2, 1)], 20, Some(1)));
/// assert!(view.newly_known().is_empty());
/// assert!(view.insert(&vec![(2, 1)], 5, Some(2)));
/// let mut known = view.newly_known().to_vec();
/// known.sort();
/// assert_eq!(known, [0, 1, 2]);
///
/// assert_eq!(view.known(0), Some(&f.elem_i64(-5)), "x0 = 10 − 20 + 5");
/// assert_eq!(view.witness(0), [(0, 1), (1, f.elem_i64(-1)), (2, 1)]);
/// assert!(!view.insert(&vec![(0, 1), (2, 1)], 0, Some(3)), "x0 + x2 adds nothing");
/// ```
pub struct Span<'f, F: Field> {
    f: &'f F,
    /// The row whose pivot each column is, or NONE.
    pivot_row: Vec<u32>,
    /// Shared with the span it was cloned from until first changed.
    rows: Vec<Rc<Row<F::E>>>,
    /// Rows that may hold each non-pivot column, as linked lists through
    /// `links` (stale entries allowed; `holds` is exact): a flat structure,
    /// so a clone is a few copies, not one allocation per column.
    head: Vec<u32>,
    links: Vec<(u32, u32)>,
    holds: Vec<u32>,
    /// Columns whose row became a lone pivot in the last insert.
    newly: Vec<u32>,
    /// The derivation: node i is Σ k·input over terms[starts[i]..starts[i+1]],
    /// an input being a tagged observation (TAG bit set) or an earlier node.
    starts: Vec<u32>,
    terms: Vec<(u32, F::E)>,
    work: u64,
    // Scratch, kept zeroed between calls.
    acc: Vec<F::E>,
    mark: Vec<bool>,
    touched: Vec<u32>,
    merged: Sparse<F::E>,
    added: Vec<u32>,
    removed: Vec<u32>,
}

impl<F: Field> Clone for Span<'_, F> {
    fn clone(&self) -> Self {
        Span {
            f: self.f,
            pivot_row: self.pivot_row.clone(),
            rows: self.rows.clone(),
            head: self.head.clone(),
            links: self.links.clone(),
            holds: self.holds.clone(),
            newly: Vec::new(),
            starts: self.starts.clone(),
            terms: self.terms.clone(),
            work: self.work,
            acc: self.acc.clone(),
            mark: self.mark.clone(),
            touched: Vec::new(),
            merged: Vec::new(),
            added: Vec::new(),
            removed: Vec::new(),
        }
    }
}

impl<'f, F: Field> Span<'f, F> {
    /// An empty span over `dim` columns.
    pub fn new(f: &'f F, dim: usize) -> Self {
        Span {
            f,
            pivot_row: vec![NONE; dim],
            rows: Vec::new(),
            head: vec![NONE; dim],
            links: Vec::new(),
            holds: vec![0; dim],
            newly: Vec::new(),
            starts: vec![0],
            terms: Vec::new(),
            work: 0,
            acc: vec![f.zero(); dim],
            mark: vec![false; dim],
            touched: Vec::new(),
            merged: Vec::new(),
            added: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// How many independent rows it holds.
    pub fn rank(&self) -> usize {
        self.rows.len()
    }

    /// Entries visited so far by reductions and eliminations: an
    /// instrumented measure of the work done, for tests and benchmarks.
    pub fn work(&self) -> u64 {
        self.work
    }

    /// The value of column `col`, if the span holds its unit vector.
    pub fn known(&self, col: u32) -> Option<&F::E> {
        let r = *self.pivot_row.get(col as usize)?;
        let row = self.rows.get(r as usize)?;
        row.rest.is_empty().then_some(&row.value)
    }

    /// The columns that became known (see [`known`](Self::known)) in the
    /// last [`insert`](Self::insert), in no particular order.
    pub fn newly_known(&self) -> &[u32] {
        &self.newly
    }

    /// A known column as a combination of the tagged observations: (tag,
    /// coefficient) pairs sorted by tag, without zeros. It is unique, since
    /// only independent observations enter the span. Empty for a column
    /// that is not known or follows from untagged rows alone.
    pub fn witness(&self, col: u32) -> Vec<(u32, F::E)> {
        let Some(&r) = self.pivot_row.get(col as usize) else { return Vec::new() };
        let Some(row) = self.rows.get(r as usize).filter(|row| row.rest.is_empty()) else {
            return Vec::new();
        };
        self.expand(row.node).into_iter().filter(|(_, k)| !self.f.is_zero(k)).collect()
    }

    /// A derivation node as (tag, coefficient) pairs by tag (zeros kept);
    /// empty for NONE. Every node refers only to earlier ones, so taking
    /// the largest pending node first visits each once, with its
    /// coefficient complete.
    fn expand(&self, node: u32) -> std::collections::BTreeMap<u32, F::E> {
        let f = self.f;
        let mut coef: std::collections::BTreeMap<u32, F::E> = std::collections::BTreeMap::new();
        let mut out: std::collections::BTreeMap<u32, F::E> = std::collections::BTreeMap::new();
        if node != NONE {
            coef.insert(node, f.elem_i64(1));
        }
        while let Some((node, k)) = coef.pop_last() {
            let (lo, hi) = (self.starts[node as usize] as usize, self.starts[node as usize + 1] as usize);
            for (input, c) in &self.terms[lo..hi] {
                let d = f.mul(&k, c);
                let map = if input & TAG != 0 { &mut out } else { &mut coef };
                let e = map.entry(input & !TAG).or_insert_with(|| f.zero());
                *e = f.add(e, &d);
            }
        }
        out
    }

    /// Appends a derivation node; returns its index, or NONE if it has no
    /// terms.
    fn node(&mut self, terms: &[(u32, F::E)]) -> u32 {
        if terms.is_empty() {
            return NONE;
        }
        self.terms.extend_from_slice(terms);
        self.starts.push(self.terms.len() as u32);
        (self.starts.len() - 2) as u32
    }

    /// Inserts an observation `form = value`; returns whether it added to
    /// the span. With a tag (below 2^31), the observation counts in
    /// witnesses (tags must be distinct); without one (the constraint rows
    /// every view holds), it does not.
    pub fn insert(&mut self, form: &Form, value: F::E, tag: Option<u32>) -> bool {
        let f = self.f;
        self.newly.clear();
        // Load the form, subtracting the rows of its pivot columns: no row
        // holds another's pivot, so one pass leaves only non-pivot columns.
        let mut value = value;
        let mut made: Vec<(u32, F::E)> = Vec::new();
        if let Some(t) = tag {
            assert!(t & TAG == 0, "tags are below 2^31");
            made.push((t | TAG, f.elem_i64(1)));
        }
        for &(c, k) in form {
            let coef = f.elem_i64(k);
            let r = self.pivot_row[c as usize];
            if r == NONE {
                self.add_acc(c, &coef);
                continue;
            }
            let row = &self.rows[r as usize];
            self.work += 1 + row.rest.scanned() as u64;
            for (x, e) in row.rest.entries(f) {
                let x = &x;
                let d = f.sub(&f.zero(), &f.mul(&coef, e));
                let at = *x as usize;
                self.acc[at] = f.add(&self.acc[at], &d);
                if !self.mark[at] {
                    self.mark[at] = true;
                    self.touched.push(*x);
                }
            }
            value = f.sub(&value, &f.mul(&coef, &row.value));
            if row.node != NONE {
                made.push((row.node, f.sub(&f.zero(), &coef)));
            }
        }
        let mut residual: Sparse<F::E> = Vec::new();
        for &c in &self.touched {
            let at = c as usize;
            self.mark[at] = false;
            let v = std::mem::replace(&mut self.acc[at], f.zero());
            if !f.is_zero(&v) {
                residual.push((c, v));
            }
        }
        self.touched.clear();
        if residual.is_empty() {
            return false;
        }
        residual.sort_unstable_by_key(|&(c, _)| c);
        // The pivot: the residual's column the fewest rows hold, and of
        // those the last (the oldest variable in the layout's order: v, then
        // FK by iteration ascending), which keeps each member's chain of
        // fractional keys two entries per row.
        let mut best = 0;
        for (i, (c, _)) in residual.iter().enumerate() {
            if self.holds[*c as usize] <= self.holds[residual[best].0 as usize] {
                best = i;
            }
        }
        let (pivot, lead) = residual.remove(best);
        let scale = f.inv(&lead);
        for (_, v) in residual.iter_mut() {
            *v = f.mul(v, &scale);
        }
        for (_, v) in made.iter_mut() {
            *v = f.mul(v, &scale);
        }
        let node = self.node(&made);
        let rest = if residual.len() > DENSE_AFTER {
            dense(f, residual, self.pivot_row.len())
        } else {
            Rest::Sparse(residual)
        };
        let new = Row { pivot, rest, value: f.mul(&value, &scale), node };
        let at = self.rows.len() as u32;
        // Clear the new pivot from every row that holds it.
        let mut link = std::mem::replace(&mut self.head[pivot as usize], NONE);
        while link != NONE {
            let (r, next) = self.links[link as usize];
            self.eliminate(r, &new);
            link = next;
        }
        debug_assert_eq!(self.holds[pivot as usize], 0);
        for (x, _) in new.rest.entries(f) {
            push_holder(&mut self.head, &mut self.links, x, at);
            self.holds[x as usize] += 1;
        }
        if new.rest.is_empty() {
            self.newly.push(pivot);
        }
        self.work += 1 + new.rest.scanned() as u64;
        self.pivot_row[pivot as usize] = at;
        self.rows.push(Rc::new(new));
        true
    }

    fn add_acc(&mut self, c: u32, v: &F::E) {
        let at = c as usize;
        self.acc[at] = self.f.add(&self.acc[at], v);
        if !self.mark[at] {
            self.mark[at] = true;
            self.touched.push(c);
        }
    }

    /// Row r −= r[new.pivot] · new, if r still holds that column.
    fn eliminate(&mut self, r: u32, new: &Row<F::E>) {
        let f = self.f;
        let p = new.pivot;
        // Only rows that hold the pivot are copied out of a shared span.
        if !holds(&self.rows[r as usize].rest, p, f) {
            return; // a stale holder entry
        }
        let row = Rc::make_mut(&mut self.rows[r as usize]);
        self.added.clear();
        self.removed.clear();
        let coef = match &mut row.rest {
            Rest::Sparse(v) => {
                let Ok(i) = v.binary_search_by_key(&p, |&(c, _)| c) else {
                    return; // a stale holder entry
                };
                let (_, coef) = v.remove(i);
                let neg = f.sub(&f.zero(), &coef);
                self.work += 1 + v.len() as u64 + new.rest.scanned() as u64;
                match &new.rest {
                    Rest::Sparse(src) => {
                        merge(f, v, &neg, src, &mut self.merged, &mut self.added, &mut self.removed)
                    }
                    Rest::Dense { .. } => {
                        let src: Sparse<F::E> = new.rest.entries(f).map(|(c, e)| (c, e.clone())).collect();
                        let mut src = src;
                        src.sort_unstable_by_key(|&(c, _)| c);
                        merge(f, v, &neg, &src, &mut self.merged, &mut self.added, &mut self.removed);
                    }
                }
                if v.len() > DENSE_AFTER {
                    row.rest = dense(f, std::mem::take(v), self.pivot_row.len());
                }
                coef
            }
            Rest::Dense { vals, listed, cols, nnz } => {
                let at = p as usize;
                if f.is_zero(&vals[at]) {
                    return;
                }
                let coef = std::mem::replace(&mut vals[at], f.zero());
                *nnz -= 1;
                let neg = f.sub(&f.zero(), &coef);
                self.work += 1 + new.rest.scanned() as u64;
                for (x, e) in new.rest.entries(f) {
                    let xi = x as usize;
                    let was_zero = f.is_zero(&vals[xi]);
                    vals[xi] = f.add(&vals[xi], &f.mul(&neg, e));
                    match (was_zero, f.is_zero(&vals[xi])) {
                        (true, false) => {
                            *nnz += 1;
                            self.added.push(x);
                            if !listed[xi] {
                                listed[xi] = true;
                                cols.push(x);
                            }
                        }
                        (false, true) => {
                            *nnz -= 1;
                            self.removed.push(x);
                        }
                        _ => {}
                    }
                }
                coef
            }
        };
        self.holds[p as usize] -= 1;
        let neg = f.sub(&f.zero(), &coef);
        row.value = f.sub(&row.value, &f.mul(&coef, &new.value));
        let (old, pivot) = (row.node, row.pivot);
        if new.node != NONE {
            if old != NONE {
                self.terms.push((old, f.elem_i64(1)));
            }
            self.terms.push((new.node, neg));
            self.starts.push(self.terms.len() as u32);
            let node = (self.starts.len() - 2) as u32;
            Rc::make_mut(&mut self.rows[r as usize]).node = node;
        }
        let row_empty = self.rows[r as usize].rest.is_empty();
        for &x in &self.added {
            push_holder(&mut self.head, &mut self.links, x, r);
            self.holds[x as usize] += 1;
        }
        for &x in &self.removed {
            self.holds[x as usize] -= 1;
        }
        if row_empty {
            self.newly.push(pivot);
        }
    }
}

/// Whether a row's rest holds column `c`.
fn holds<F: Field>(rest: &Rest<F::E>, c: u32, f: &F) -> bool {
    match rest {
        Rest::Sparse(v) => v.binary_search_by_key(&c, |&(x, _)| x).is_ok(),
        Rest::Dense { vals, .. } => !f.is_zero(&vals[c as usize]),
    }
}

/// Records that row `r` holds column `c`.
fn push_holder(head: &mut [u32], links: &mut Vec<(u32, u32)>, c: u32, r: u32) {
    links.push((r, head[c as usize]));
    head[c as usize] = (links.len() - 1) as u32;
}

/// A sparse row stored densely over `dim` columns.
fn dense<F: Field>(f: &F, v: Sparse<F::E>, dim: usize) -> Rest<F::E> {
    let mut vals = vec![f.zero(); dim];
    let mut listed = vec![false; dim];
    let nnz = v.len();
    let mut cols = Vec::with_capacity(nnz * 2);
    for (c, e) in v {
        vals[c as usize] = e;
        listed[c as usize] = true;
        cols.push(c);
    }
    Rest::Dense { vals, listed, cols, nnz }
}

/// dst += k · src, dropping zeros; pushes the indices dst gained to `added`
/// and those it lost to `removed`.
fn merge<F: Field>(
    f: &F,
    dst: &mut Sparse<F::E>,
    k: &F::E,
    src: &[(u32, F::E)],
    out: &mut Sparse<F::E>,
    added: &mut Vec<u32>,
    removed: &mut Vec<u32>,
) {
    out.clear();
    out.reserve(dst.len() + src.len());
    let (mut i, mut j) = (0, 0);
    while i < dst.len() || j < src.len() {
        let a = dst.get(i).map_or(NONE, |e| e.0);
        let b = src.get(j).map_or(NONE, |e| e.0);
        if a < b {
            out.push(dst[i].clone());
            i += 1;
        } else if b < a {
            out.push((b, f.mul(k, &src[j].1)));
            added.push(b);
            j += 1;
        } else {
            let v = f.add(&dst[i].1, &f.mul(k, &src[j].1));
            if f.is_zero(&v) {
                removed.push(a);
            } else {
                out.push((a, v));
            }
            i += 1;
            j += 1;
        }
    }
    std::mem::swap(dst, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::by_name;
    use crate::knowledge::basis::Basis;
    use crate::knowledge::field::{BigField, U64Field};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// A small deterministic generator for the random spans below.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, m: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 33) % m
        }
    }

    /// On random sparse forms, the reduced span and the echelon basis agree
    /// on which rows are independent, on when each unit vector becomes
    /// derivable, on its value and on its witness.
    #[test]
    fn agrees_with_the_echelon_basis() {
        let f = U64Field::new(by_name("toy-64").unwrap()).unwrap();
        for case in 0..300u64 {
            let mut g = Lcg(case);
            let dim = 2 + g.next(12) as usize;
            let truth: Vec<u64> = (0..dim).map(|_| g.next(1 << 40)).collect();
            let mut span = Span::new(&f, dim);
            let mut basis = Basis::new(&f, dim);
            let mut first_seen: Vec<Option<usize>> = vec![None; dim];
            for tag in 0..(dim + 4) {
                let mut form: Form = Vec::new();
                for c in 0..dim as u32 {
                    if g.next(3) == 0 {
                        form.push((c, g.next(7) as i64 - 3));
                    }
                }
                form.retain(|&(_, k)| k != 0);
                let value = form
                    .iter()
                    .fold(0, |acc, &(c, k)| f.add(&acc, &f.mul(&f.elem_i64(k), &truth[c as usize])));
                let a = span.insert(&form, value, Some(tag as u32));
                let b = basis.insert(&form, value, tag);
                assert_eq!(a, b, "case {case}, tag {tag}: independence");
                for &c in span.newly_known() {
                    assert!(first_seen[c as usize].is_none(), "case {case}: column {c} became known twice");
                    first_seen[c as usize] = Some(tag);
                }
            }
            for c in 0..dim as u32 {
                let r = basis.reduce(&vec![(c, 1)]);
                match span.known(c) {
                    None => assert!(!r.residual.is_empty(), "case {case}: column {c} missed"),
                    Some(value) => {
                        let rep = span.witness(c);
                        assert!(r.residual.is_empty(), "case {case}: column {c} wrongly known");
                        assert_eq!(*value, truth[c as usize]);
                        assert_eq!(
                            first_seen[c as usize],
                            Some(basis.first_tag(&r.used)),
                            "case {case}: col {c}"
                        );
                        let w: Vec<(u32, u64)> =
                            basis.witness(&r.used).into_iter().map(|(t, k)| (t as u32, k)).collect();
                        assert_eq!(rep, w, "case {case}: witness of column {c}");
                    }
                }
            }
        }
    }

    /// The structural invariants the module docs state, checked from
    /// scratch: every row's pivot is mapped back to it and held by no row;
    /// rests hold only non-zero, non-pivot columns (sparse ones sorted,
    /// dense ones with `nnz`, `listed` and `cols` consistent with `vals`);
    /// `holds[c]` is the exact number of rows holding c and every such row
    /// is on c's holder list; every derivation node refers only to earlier
    /// nodes.
    impl<F: Field> Span<'_, F> {
        fn check_invariants(&self) -> Result<(), String> {
            let f = self.f;
            let dim = self.pivot_row.len();
            let mut count = vec![0u32; dim];
            let mut holders: Vec<Vec<u32>> = vec![Vec::new(); dim];
            for (i, row) in self.rows.iter().enumerate() {
                let p = row.pivot as usize;
                if self.pivot_row[p] != i as u32 {
                    return Err(format!("row {i}: pivot {p} maps to {}", self.pivot_row[p]));
                }
                match &row.rest {
                    Rest::Sparse(v) => {
                        if v.windows(2).any(|w| w[0].0 >= w[1].0) {
                            return Err(format!("row {i}: sparse rest not strictly sorted"));
                        }
                        if v.iter().any(|(_, e)| f.is_zero(e)) {
                            return Err(format!("row {i}: sparse rest holds a zero"));
                        }
                    }
                    Rest::Dense { vals, listed, cols, nnz } => {
                        if vals.len() != dim || listed.len() != dim {
                            return Err(format!("row {i}: dense vectors of the wrong length"));
                        }
                        let nonzero = vals.iter().filter(|e| !f.is_zero(e)).count();
                        if nonzero != *nnz {
                            return Err(format!("row {i}: nnz {nnz} but {nonzero} non-zero values"));
                        }
                        let mut in_cols = vec![false; dim];
                        for &c in cols {
                            if in_cols[c as usize] {
                                return Err(format!("row {i}: column {c} listed twice"));
                            }
                            in_cols[c as usize] = true;
                        }
                        for c in 0..dim {
                            if in_cols[c] != listed[c] {
                                return Err(format!("row {i}: listed[{c}] disagrees with cols"));
                            }
                            if !f.is_zero(&vals[c]) && !listed[c] {
                                return Err(format!("row {i}: non-zero column {c} missing from cols"));
                            }
                        }
                    }
                }
                if row.rest.entries(f).count() != row.rest.len() {
                    return Err(format!("row {i}: entries() and len() disagree"));
                }
                for (c, _) in row.rest.entries(f) {
                    if c == row.pivot {
                        return Err(format!("row {i}: holds its own pivot"));
                    }
                    if self.pivot_row[c as usize] != NONE {
                        return Err(format!("row {i}: holds column {c}, the pivot of another row"));
                    }
                    count[c as usize] += 1;
                    holders[c as usize].push(i as u32);
                }
                if row.node != NONE && row.node as usize + 1 >= self.starts.len() {
                    return Err(format!("row {i}: node {} does not exist", row.node));
                }
            }
            for (c, &r) in self.pivot_row.iter().enumerate() {
                if r != NONE && (r as usize >= self.rows.len() || self.rows[r as usize].pivot as usize != c) {
                    return Err(format!("pivot_row[{c}] = {r} is not the row of pivot {c}"));
                }
            }
            for c in 0..dim {
                if self.holds[c] != count[c] {
                    return Err(format!("holds[{c}] = {} but {} rows hold it", self.holds[c], count[c]));
                }
                let mut listed = Vec::new();
                let mut link = self.head[c];
                while link != NONE {
                    let (r, next) = self.links[link as usize];
                    listed.push(r);
                    link = next;
                }
                for r in &holders[c] {
                    if !listed.contains(r) {
                        return Err(format!("row {r} holds column {c} but is not on its holder list"));
                    }
                }
            }
            for node in 0..self.starts.len() - 1 {
                let (lo, hi) = (self.starts[node] as usize, self.starts[node + 1] as usize);
                if lo > hi || hi > self.terms.len() {
                    return Err(format!("node {node}: bad term range {lo}..{hi}"));
                }
                for (input, _) in &self.terms[lo..hi] {
                    if input & TAG == 0 && *input as usize >= node {
                        return Err(format!("node {node} refers to node {input}, not an earlier one"));
                    }
                }
            }
            if self.acc.iter().any(|e| !f.is_zero(e)) || self.mark.iter().any(|&m| m) {
                return Err("scratch not zeroed between calls".into());
            }
            Ok(())
        }

        /// Row `r` (pivot coefficient 1) as a dense vector.
        fn row_vector(&self, r: usize) -> Vec<F::E> {
            let f = self.f;
            let row = &self.rows[r];
            let mut out = vec![f.zero(); self.pivot_row.len()];
            out[row.pivot as usize] = f.elem_i64(1);
            for (c, e) in row.rest.entries(f) {
                out[c as usize] = e.clone();
            }
            out
        }

        /// Whether any row is stored densely.
        fn dense_rows(&self) -> usize {
            self.rows.iter().filter(|r| matches!(r.rest, Rest::Dense { .. })).count()
        }

        /// Row `r`'s derivation expanded: (tag, coefficient), zeros left out.
        fn derivation(&self, r: usize) -> BTreeMap<u32, F::E> {
            let mut out = self.expand(self.rows[r].node);
            out.retain(|_, k| !self.f.is_zero(k));
            out
        }
    }

    /// How the random forms of the property below are made: each is
    /// materialised against the forms made before it, over `dim` columns.
    #[derive(Clone, Debug)]
    enum Op {
        /// Terms on arbitrary columns (possibly long: up to 110).
        Terms(Vec<(u32, i64)>),
        /// A unit vector: empties rows, sparse or dense, one entry at a time.
        Unit(u32),
        /// k times the sum of a run of columns (a θ-like row).
        Block { start: u32, len: u32, k: i64 },
        /// ka·(form a) + kb·(form b) + extra terms, a and b picked among the
        /// forms made so far: dependent forms, or near-copies of long rows
        /// whose difference is short (cancellations inside dense rows).
        Mix { a: usize, b: usize, ka: i64, kb: i64, extra: Vec<(u32, i64)> },
    }

    fn coef() -> impl Strategy<Value = i64> {
        prop_oneof![
            4 => Just(1i64),
            4 => Just(-1i64),
            1 => Just(2i64),
            1 => Just(-2i64),
            1 => Just(3i64),
            1 => any::<i64>(),
        ]
    }

    fn terms(max: usize) -> impl Strategy<Value = Vec<(u32, i64)>> {
        prop::collection::vec((any::<u32>(), coef()), 0..=max)
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => terms(4).prop_map(Op::Terms),
            2 => terms(110).prop_map(Op::Terms),
            3 => any::<u32>().prop_map(Op::Unit),
            1 => (any::<u32>(), 40u32..100, coef()).prop_map(|(start, len, k)| Op::Block { start, len, k }),
            3 => (any::<usize>(), any::<usize>(), -3i64..=3, -3i64..=3, terms(3))
                .prop_map(|(a, b, ka, kb, extra)| Op::Mix { a, b, ka, kb, extra }),
        ]
    }

    /// A form from its op: columns taken mod `dim`, repeats added up, zero
    /// coefficients (mod q as well) left out, sorted.
    fn materialise<F: Field>(f: &F, op: &Op, made: &[Form], dim: u32) -> Form {
        let mut acc: BTreeMap<u32, i128> = BTreeMap::new();
        let mut add = |c: u32, k: i128| *acc.entry(c % dim).or_insert(0) += k;
        match op {
            Op::Terms(t) => t.iter().for_each(|&(c, k)| add(c, k.into())),
            Op::Unit(c) => add(*c, 1),
            Op::Block { start, len, k } => {
                (0..*len).for_each(|i| add(start.wrapping_add(i) % dim, (*k).into()))
            }
            Op::Mix { a, b, ka, kb, extra } => {
                if !made.is_empty() {
                    for &(c, k) in &made[a % made.len()] {
                        add(c, i128::from(k) * i128::from(*ka));
                    }
                    for &(c, k) in &made[b % made.len()] {
                        add(c, i128::from(k) * i128::from(*kb));
                    }
                }
                extra.iter().for_each(|&(c, k)| add(c, k.into()));
            }
        }
        // Forms hold i64 coefficients: fold the rare bigger sums into
        // range (any fixed rule will do: both engines get the same form).
        let wrap = i128::from(i64::MAX);
        acc.into_iter()
            .map(|(c, k)| (c, if k.abs() > wrap { k % wrap } else { k } as i64))
            .filter(|&(_, k)| k != 0 && !f.is_zero(&f.elem_i64(k)))
            .collect()
    }

    struct SplitMix(u64);
    impl SplitMix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
    }

    /// What the property found, to check it reached the paths it is for.
    #[derive(Default, Debug)]
    struct Reached {
        dense_rows: usize,
        sparse_to_dense: usize,
        dense_emptied: usize,
        dependent: usize,
        known_at_insert_of_other_row: usize,
    }

    /// Inserts `prefix` untagged into a span and the echelon basis, then
    /// for each of `views` extends a clone of that span (the shared rows
    /// of analyse) and a fresh basis holding the prefix and the view's
    /// forms, and checks after every insert: the same independence, the
    /// same columns known (newly_known exactly the ones that became known,
    /// at the moment the basis's first_tag names), the same values (the
    /// observations' values are random, so a wrong combination shows), the
    /// same witnesses, the rows' derivations reproduce the rows, and the
    /// span's invariants hold. The shared span is checked unchanged at the
    /// end (copy-on-write).
    fn compare<F: Field>(
        f: &F,
        dim: u32,
        prefix: &[Op],
        views: &[Vec<Op>],
        seed: u64,
        reached: &mut Reached,
    ) -> Result<(), String> {
        let mut g = SplitMix(seed);
        let value = |g: &mut SplitMix| {
            // A product of two draws: a full-width element on toy-128 too.
            let a = f.elem_i64(g.next() as i64);
            let b = f.elem_i64(g.next() as i64);
            f.mul(&a, &f.add(&b, &f.elem_i64(1)))
        };
        let mut made: Vec<Form> = Vec::new();
        let mut prefix_obs: Vec<(Form, F::E)> = Vec::new();
        let mut shared = Span::new(f, dim as usize);
        for op in prefix {
            let form = materialise(f, op, &made, dim);
            let v = value(&mut g);
            shared.insert(&form, v.clone(), None);
            shared.check_invariants().map_err(|e| format!("prefix: {e}"))?;
            made.push(form.clone());
            prefix_obs.push((form, v));
        }
        let before: Vec<Vec<F::E>> = (0..shared.rank()).map(|r| shared.row_vector(r)).collect();
        let before_values: Vec<F::E> = shared.rows.iter().map(|r| r.value.clone()).collect();
        let p = prefix_obs.len();
        // The span of the prefix alone, to check derivations modulo it.
        let mut untagged = Basis::new(f, dim as usize);
        for (i, (form, v)) in prefix_obs.iter().enumerate() {
            untagged.insert(form, v.clone(), i);
        }
        // Each unit column reduced against it: (residual, value), for the
        // derivation check (reduction is linear).
        let units: Vec<Unit<F::E>> = (0..dim)
            .map(|c| {
                let r = untagged.reduce(&vec![(c, 1)]);
                let v = untagged.value_of(&r.used);
                (r.residual, v)
            })
            .collect();
        for ops in views {
            let mut span = shared.clone();
            let mut basis = Basis::new(f, dim as usize);
            for (i, (form, v)) in prefix_obs.iter().enumerate() {
                basis.insert(form, v.clone(), i);
            }
            let mut view_made = made.clone();
            let mut obs: Vec<(Form, F::E)> = Vec::new();
            let in_basis = |basis: &mut Basis<'_, F>, c: u32| basis.reduce(&vec![(c, 1)]).residual.is_empty();
            let mut known: Vec<bool> = (0..dim).map(|c| in_basis(&mut basis, c)).collect();
            for c in 0..dim {
                if known[c as usize] != span.known(c).is_some() {
                    return Err(format!("prefix: column {c} known {} in the basis", known[c as usize]));
                }
            }
            for (t, op) in ops.iter().enumerate() {
                let form = materialise(f, op, &view_made, dim);
                let v = value(&mut g);
                let dense_before: Vec<bool> =
                    span.rows.iter().map(|r| matches!(r.rest, Rest::Dense { .. })).collect();
                let a = span.insert(&form, v.clone(), Some(t as u32));
                let b = basis.insert(&form, v.clone(), p + t);
                if a != b {
                    return Err(format!("insert {t} ({form:?}): span says {a}, basis {b}"));
                }
                reached.dependent += usize::from(!a);
                view_made.push(form.clone());
                obs.push((form, v));
                span.check_invariants().map_err(|e| format!("after insert {t}: {e}"))?;
                for (r, was) in dense_before.iter().enumerate() {
                    let now = matches!(span.rows[r].rest, Rest::Dense { .. });
                    reached.sparse_to_dense += usize::from(!was && now);
                }
                reached.dense_rows = reached.dense_rows.max(span.dense_rows());
                let mut newly: Vec<u32> = span.newly_known().to_vec();
                newly.sort_unstable();
                if newly.windows(2).any(|w| w[0] == w[1]) {
                    return Err(format!("insert {t}: a column reported twice in {newly:?}"));
                }
                let mut became = Vec::new();
                for c in 0..dim {
                    if !known[c as usize] && in_basis(&mut basis, c) {
                        known[c as usize] = true;
                        became.push(c);
                    }
                    if known[c as usize] != span.known(c).is_some() {
                        return Err(format!(
                            "insert {t}: column {c} known {} in the basis",
                            known[c as usize]
                        ));
                    }
                }
                if newly != became {
                    return Err(format!("insert {t}: newly_known {newly:?}, the basis {became:?}"));
                }
                for &c in &newly {
                    let r = span.pivot_row[c as usize] as usize;
                    if r != span.rank() - 1 {
                        reached.known_at_insert_of_other_row += 1;
                        if matches!(span.rows[r].rest, Rest::Dense { .. }) {
                            reached.dense_emptied += 1;
                        }
                    }
                    let red = basis.reduce(&vec![(c, 1)]);
                    if basis.first_tag(&red.used) != p + t {
                        return Err(format!(
                            "column {c}: first_tag {} ≠ {}",
                            basis.first_tag(&red.used),
                            p + t
                        ));
                    }
                }
                if t % 16 == 15 || t + 1 == ops.len() {
                    check_derivations(f, &span, &obs, &units)
                        .map_err(|e| format!("after insert {t}: {e}"))?;
                }
            }
            // Values and witnesses of every known column against the basis.
            for c in 0..dim {
                let Some(value) = span.known(c) else { continue };
                let red = basis.reduce(&vec![(c, 1)]);
                if *value != basis.value_of(&red.used) {
                    return Err(format!("column {c}: value differs"));
                }
                let w: Vec<(u32, F::E)> = basis
                    .witness(&red.used)
                    .into_iter()
                    .filter(|(tag, _)| *tag >= p)
                    .map(|(tag, k)| ((tag - p) as u32, k))
                    .collect();
                if span.witness(c) != w {
                    return Err(format!("column {c}: witness {:?}, basis {w:?}", span.witness(c)));
                }
            }
        }
        // Copy-on-write: the shared rows are as they were.
        let after: Vec<Vec<F::E>> = (0..shared.rank()).map(|r| shared.row_vector(r)).collect();
        let after_values: Vec<F::E> = shared.rows.iter().map(|r| r.value.clone()).collect();
        if before != after || before_values != after_values {
            return Err("extending a clone changed the shared span".into());
        }
        shared.check_invariants().map_err(|e| format!("shared, at the end: {e}"))
    }

    /// A unit column reduced against the untagged rows: (residual, value).
    type Unit<E> = (Vec<(u32, E)>, E);

    /// Every row is its derivation's combination of the tagged
    /// observations plus a vector in the untagged rows' span (`units`: each
    /// unit column reduced against that span), and its value is the
    /// combination's value plus that vector's.
    fn check_derivations<F: Field>(
        f: &F,
        span: &Span<'_, F>,
        obs: &[(Form, F::E)],
        units: &[Unit<F::E>],
    ) -> Result<(), String> {
        for r in 0..span.rank() {
            let mut diff = span.row_vector(r);
            let mut val = span.rows[r].value.clone();
            for (tag, k) in span.derivation(r) {
                let (form, v) = &obs[tag as usize];
                for &(c, e) in form {
                    let at = c as usize;
                    diff[at] = f.sub(&diff[at], &f.mul(&k, &f.elem_i64(e)));
                }
                val = f.sub(&val, &f.mul(&k, v));
            }
            let mut residual = vec![f.zero(); diff.len()];
            let mut value = f.zero();
            for (c, e) in diff.iter().enumerate().filter(|(_, e)| !f.is_zero(e)) {
                let (res, v) = &units[c];
                value = f.add(&value, &f.mul(e, v));
                for (x, k) in res {
                    residual[*x as usize] = f.add(&residual[*x as usize], &f.mul(e, k));
                }
            }
            if residual.iter().any(|k| !f.is_zero(k)) {
                return Err(format!("row {r} is not its derivation (modulo the untagged rows)"));
            }
            if value != val {
                return Err(format!("row {r}'s value is not its derivation's"));
            }
        }
        Ok(())
    }

    fn views() -> impl Strategy<Value = (u32, Vec<Op>, Vec<Vec<Op>>, u64)> {
        (
            60u32..100,
            prop::collection::vec(op(), 0..30),
            prop::collection::vec(prop::collection::vec(op(), 20..120), 1..3),
            any::<u64>(),
        )
    }

    /// `cases` by default (a quarter without optimisation), or
    /// `FRACLAB_FUZZ_CASES` (as the integration fuzzers) for a longer
    /// campaign; no persistence files.
    fn config(cases: u32) -> ProptestConfig {
        let cases = if cfg!(debug_assertions) { cases.div_ceil(4) } else { cases };
        let cases = std::env::var("FRACLAB_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
        ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
    }

    proptest! {
        #![proptest_config(config(48))]

        /// Span against Basis on toy-64 (the u64 field and its ±1 and
        /// extended-Euclid fast paths), with long rows.
        #[test]
        fn span_matches_basis_u64_toy64((dim, prefix, views, seed) in views()) {
            let f = U64Field::new(by_name("toy-64").unwrap()).unwrap();
            compare(&f, dim, &prefix, &views, seed, &mut Reached::default()).map_err(TestCaseError::fail)?;
        }

        /// The same on toy-16, where q = 32633 makes accidental
        /// cancellations (entries of a dense row summing to 0) common.
        #[test]
        fn span_matches_basis_u64_toy16((dim, prefix, views, seed) in views()) {
            let f = U64Field::new(by_name("toy-16").unwrap()).unwrap();
            compare(&f, dim, &prefix, &views, seed, &mut Reached::default()).map_err(TestCaseError::fail)?;
        }
    }

    proptest! {
        #![proptest_config(config(12))]

        /// The same over BigUint on toy-128.
        #[test]
        fn span_matches_basis_big_toy128((dim, prefix, views, seed) in views()) {
            let f = BigField::new(by_name("toy-128").unwrap());
            compare(&f, dim, &prefix, &views, seed, &mut Reached::default()).map_err(TestCaseError::fail)?;
        }
    }

    /// The generator above reaches what it is for: dense rows, rows turned
    /// dense by an elimination, dense rows emptied by eliminations (a
    /// secret known at another row's insert), and dependent forms.
    #[test]
    fn span_property_reaches_the_dense_paths() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let f = U64Field::new(by_name("toy-16").unwrap()).unwrap();
        let mut runner = TestRunner::deterministic();
        let mut totals = Reached::default();
        for _ in 0..24 {
            let (dim, prefix, views, seed) = views().new_tree(&mut runner).unwrap().current();
            let mut reached = Reached::default();
            compare(&f, dim, &prefix, &views, seed, &mut reached).unwrap();
            totals.dense_rows += usize::from(reached.dense_rows > 0);
            totals.sparse_to_dense += reached.sparse_to_dense;
            totals.dense_emptied += reached.dense_emptied;
            totals.dependent += reached.dependent;
            totals.known_at_insert_of_other_row += reached.known_at_insert_of_other_row;
        }
        assert!(totals.dense_rows >= 12, "{totals:?}");
        assert!(totals.sparse_to_dense >= 5, "{totals:?}");
        assert!(totals.dense_emptied >= 5, "{totals:?}");
        assert!(totals.dependent >= 20, "{totals:?}");
        assert!(totals.known_at_insert_of_other_row >= 20, "{totals:?}");
    }
}
