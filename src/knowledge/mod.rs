//! The knowledge engine (reference §2): for every view — each member, each
//! declared coalition, the outsider — decide by elimination over GF(q) which
//! secrets of other parties lie in the span of what the view holds, when
//! that first happened, and how.
//!
//! Every derived value is recomputed from the view's own concrete values and
//! compared with the ground truth; every observation's form is evaluated on
//! the ground truth and compared with the value the view saw. A mismatch is
//! a bug in fraclab and fails the run.

pub mod basis;
pub mod field;
pub mod form;
pub mod span;
pub mod view;

use std::collections::BTreeMap;

use basis::{Basis, eval};
use field::{Field, coeff_text};
use form::{Form, Layout, Var};
use span::Span;
pub use view::{Collector, Obs, ViewId};

use crate::group::{GroupParams, Scalar};
use crate::protocol::MemberId;

/// A secret some view may derive: FK_{i,j} (x_{i,j} under ElGamal),
/// α_{i,e} or v_i of a member, or θ_e for the outsider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target(pub Var);

impl Target {
    /// The member whose secret it is; θ belongs to the group.
    pub fn owner(self) -> Option<MemberId> {
        match self.0 {
            Var::Alpha(k, _) | Var::Fk(k, _) | Var::V(k) | Var::Share(k, _) | Var::W(_, k) => {
                Some(MemberId(k))
            }
            Var::Theta(_) | Var::Gamma | Var::GammaR(_) => None,
        }
    }

    /// (name, index) as trace events write them.
    pub fn name_index(self) -> (&'static str, u64) {
        match self.0 {
            Var::Alpha(_, e) => ("alpha", e),
            Var::Fk(_, j) => ("fk", j),
            Var::V(_) => ("v", 1),
            Var::Theta(e) => ("theta", e),
            Var::Gamma => ("gamma", 1),
            Var::Share(_, k) => ("share", u64::from(k)),
            Var::W(k, _) => ("w", u64::from(k)),
            Var::GammaR(k) => ("gamma", u64::from(k)),
        }
    }

    /// The label under additive key generation, e.g. `FK[3,1]`.
    pub fn label(self) -> String {
        self.0.label()
    }

    /// The label under the run's key generation (x for FK under ElGamal).
    pub fn label_as(self, elgamal: bool) -> String {
        self.0.label_as(elgamal)
    }

    /// (name, index) as trace events write them, under the run's key
    /// generation (`x` for FK under ElGamal).
    pub fn name_index_as(self, elgamal: bool) -> (&'static str, u64) {
        match (self.0, elgamal) {
            (Var::Fk(_, j), true) => ("x", j),
            _ => self.name_index(),
        }
    }

    /// Parses `fk[3,1]`, `alpha[3,2]`, `v[3]`, `theta[2]` (as `--explain` takes them).
    ///
    /// ```
    /// use fraclab::knowledge::{Target, form::Var};
    ///
    /// let t = Target::parse("fk[3,1]").unwrap();
    /// assert_eq!(t, Target(Var::Fk(3, 1)));
    /// assert_eq!(Target::parse("x[3,1]"), Ok(t), "x names the same column under ElGamal");
    /// assert_eq!(t.label_as(true), "x[3,1]");
    /// assert!(Target::parse("hfk[3,1]").is_err(), "an HFK is a message, not a secret");
    /// ```
    pub fn parse(s: &str) -> Result<Target, String> {
        let err = || {
            format!(
                "\"{s}\" is not a secret; allowed: fk[i,j] (x[i,j] under ElGamal), alpha[i,e], v[i], theta[e]"
            )
        };
        let (name, rest) = s.split_once('[').ok_or_else(err)?;
        let inner = rest.strip_suffix(']').ok_or_else(err)?;
        let nums: Vec<u64> =
            inner.split(',').map(|x| x.trim().parse::<u64>()).collect::<Result<_, _>>().map_err(|_| err())?;
        if nums.iter().any(|&x| x > u64::from(u32::MAX)) {
            return Err(err());
        }
        let var = match (name, nums.as_slice()) {
            ("fk" | "x", [i, j]) => Var::Fk(*i as u32, *j),
            ("alpha", [i, e]) => Var::Alpha(*i as u32, *e),
            ("v", [i]) => Var::V(*i as u32),
            ("theta", [e]) => Var::Theta(*e),
            _ => return Err(err()),
        };
        Ok(Target(var))
    }
}

/// A view derived a secret it does not own.
#[derive(Clone, Debug)]
pub struct Learn {
    /// Who derived it.
    pub view: ViewId,
    /// What it derived.
    pub target: Target,
    /// The simulator record after which the view could derive it.
    pub rec: u64,
    /// The virtual time of that record, in microseconds.
    pub t_us: u64,
    /// The latest epoch any member held at that moment (1 during
    /// initialisation).
    pub epoch: u64,
    /// The derived value, computed from the view's own observations (and
    /// checked against the ground truth).
    pub value: Scalar,
    /// (observation, coefficient) with target = Σ coefficient · observation;
    /// written out for the first derivation of each (view, owner) pair and
    /// by `--explain` (later ones are telescoping repeats of it and would
    /// grow the summary as n·E per derivation).
    pub witness: Option<Vec<(String, String)>>,
    /// The same as an equation, e.g. `FK[3,1] = α[1,2] − FK[2,1]`.
    pub expression: Option<String>,
}

/// Everything the engine concluded about a run.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    /// In the order they happened (record, then view, then target).
    pub learns: Vec<Learn>,
    /// Members some view not including them derives an FK (or x) or α of,
    /// sorted (reference §2); a replacement recovering its own index's
    /// secrets does not count.
    pub compromised: Vec<MemberId>,
    /// The other members, sorted: 1..=n minus `compromised`.
    pub secure: Vec<MemberId>,
    /// The outsider derives some θ_e or was handed some SK_e by a leak.
    pub outsider_learns_key: bool,
    /// Epochs whose SK was handed to the outsider by a leak, with the record.
    pub outsider_sks: Vec<(u64, u64)>,
    /// Mismatches between derived values and the ground truth: fraclab bugs.
    pub errors: Vec<String>,
    /// Every view analysed, in the order of [`views`].
    pub views: Vec<ViewId>,
    /// Entries the elimination visited over all views beyond the shared
    /// constraint rows ([`Span::work`]): an instrumented measure of the
    /// analysis's cost, not part of any output.
    pub work: u64,
    /// Observations inserted over all views.
    pub observations: u64,
}

/// The views a run is analysed for: every member, every coalition, the
/// outsider, and every replacement (process 700).
pub fn views(c: &Collector, coalitions: &[Vec<MemberId>]) -> Vec<ViewId> {
    let mut v: Vec<ViewId> = (1..=c.layout.members).map(|m| ViewId::Member(MemberId(m))).collect();
    v.extend(coalitions.iter().cloned().map(ViewId::Coalition));
    v.push(ViewId::Outsider);
    v.extend(c.replacements.iter().enumerate().map(|(i, r)| ViewId::Replacement {
        member: r.member,
        nth: r.nth,
        k: i as u32 + 1,
    }));
    v
}

/// Analyses every view of a collected run.
pub fn analyse(c: &Collector, group: &'static GroupParams, coalitions: &[Vec<MemberId>]) -> Analysis {
    field::with_field!(group, |f| Engine::new(f, c).analyse(coalitions))
}

/// Why a secret is or is not derivable by a view, for `--explain`.
#[derive(Clone, Debug)]
pub enum Explanation {
    /// The view derives it; the learn carries its witness and expression.
    Derivable(Learn),
    /// The view does not: two assignments of the run's variables, A (the
    /// ground truth) and B, agree on everything the view holds but give the
    /// secret different values.
    Hidden {
        /// Variables that differ between the two assignments: (name, A, B).
        differing: Vec<(String, Scalar, Scalar)>,
        /// The secret's value under A (its true value).
        target_a: Scalar,
        /// The secret's value under B.
        target_b: Scalar,
        /// How many observations (and constraints) agree under both.
        checked: usize,
    },
}

/// Explains whether `view` derives `target` in the collected run `c`
/// (`--explain`): the derivation, or a witness that it is hidden. An error
/// names a target that does not exist in the run, or an internal
/// inconsistency (a fraclab bug).
pub fn explain(
    c: &Collector,
    group: &'static GroupParams,
    view: &ViewId,
    target: Target,
) -> Result<Explanation, String> {
    if !c.layout.has(target.0) || !c.truth.contains_key(&target.0) {
        return Err(format!("{} does not exist in this run", target.label_as(c.layout.elgamal)));
    }
    field::with_field!(group, |f| Engine::new(f, c).explain(view, target))
}

struct Engine<'a, F: Field> {
    f: &'a F,
    c: &'a Collector,
    layout: Layout,
    constraints: Vec<Form>,
    /// The ground truth of every variable (undrawn ones are 0).
    truth: Vec<F::E>,
}

impl<'a, F: Field> Engine<'a, F> {
    fn new(f: &'a F, c: &'a Collector) -> Self {
        let layout = c.layout;
        let mut truth = vec![f.zero(); layout.len()];
        for (var, value) in &c.truth {
            if var.is_draw() && layout.has(*var) {
                truth[layout.index(*var) as usize] = f.elem_of(value);
            }
        }
        // θ and α follow from the draws through the constraints.
        let get = |t: &Vec<F::E>, v: Var| t[layout.index(v) as usize].clone();
        let n = layout.members;
        let mut theta = (1..=n).fold(f.zero(), |acc, k| f.add(&acc, &get(&truth, Var::V(k))));
        for e in 1..=layout.epochs + 1 {
            if e > 1 {
                theta = (1..=n).fold(f.zero(), |acc, k| f.add(&acc, &get(&truth, Var::Fk(k, e - 1))));
            }
            truth[layout.index(Var::Theta(e)) as usize] = theta.clone();
            for k in 1..=n {
                let prev = if e == 1 { Var::V(k) } else { Var::Fk(k, e - 1) };
                let alpha = f.sub(&theta, &get(&truth, prev));
                truth[layout.index(Var::Alpha(k, e)) as usize] = alpha;
            }
        }
        Engine { f, c, layout, constraints: layout.constraints(), truth }
    }

    /// The observations of a view, in the order it got them, after the
    /// constraint rows (which every view holds from the start).
    fn observations(&self, view: &ViewId) -> Vec<Obs> {
        let c = self.c;
        let mut obs: Vec<Obs> = self
            .constraints
            .iter()
            .map(|form| Obs {
                rec: 0,
                t_us: 0,
                epoch: 0,
                form: std::sync::Arc::new(form.clone()),
                value: self.f.to_scalar(&self.f.zero()),
                label: "".into(),
            })
            .collect();
        match view {
            ViewId::Member(m) => obs.extend(c.members[m.0 as usize - 1].iter().cloned()),
            ViewId::Outsider => obs.extend(c.outsider.iter().cloned()),
            ViewId::Replacement { k, .. } => obs.extend(c.replacements[*k as usize - 1].obs.iter().cloned()),
            ViewId::Coalition(ms) => {
                let mut pooled: Vec<Obs> =
                    ms.iter().flat_map(|m| c.members[m.0 as usize - 1].iter().cloned()).collect();
                pooled.sort_by_key(|o| o.rec);
                let mut seen = std::collections::BTreeSet::new();
                obs.extend(pooled.into_iter().filter(|o| seen.insert(o.form.clone())));
            }
        }
        obs
    }

    fn targets(&self, view: &ViewId) -> Vec<Target> {
        // A replacement's own index: what it recovers (FK up to r, α up to
        // r + 1, v) is a target; what it draws afterwards is its own.
        let own_recovered = |t: Target| match (view, t.0) {
            (ViewId::Replacement { k, .. }, v) => {
                let r = self.c.replacements[*k as usize - 1].r.unwrap_or(0);
                match v {
                    Var::Fk(_, j) => j <= r,
                    Var::Alpha(_, e) => e <= r + 1,
                    _ => true,
                }
            }
            _ => false,
        };
        self.c
            .truth
            .keys()
            .map(|&v| Target(v))
            .filter(|t| match (t.0, t.owner()) {
                (Var::Theta(_), _) => *view == ViewId::Outsider,
                (Var::Alpha(..) | Var::Fk(..) | Var::V(_), Some(owner)) => {
                    !view.includes(owner) || own_recovered(*t)
                }
                _ => false,
            })
            .collect()
    }

    fn basis(&self, obs: &[Obs], errors: &mut Vec<String>, view: &ViewId) -> Basis<'a, F> {
        let f = self.f;
        let mut b = Basis::new(f, self.layout.len());
        for (i, o) in obs.iter().enumerate() {
            let value = f.elem_of(&o.value);
            if eval(f, &o.form, &self.truth) != value {
                errors.push(format!("{}: observation {} does not match its form", view.describe(), o.label));
            }
            b.insert(&o.form, value, i);
        }
        b
    }

    fn learn(
        &self,
        b: &Basis<'a, F>,
        obs: &[Obs],
        view: &ViewId,
        target: Target,
        used: &[(usize, F::E)],
    ) -> Learn {
        let f = self.f;
        let first = &obs[b.first_tag(used)];
        Learn {
            view: view.clone(),
            target,
            rec: first.rec,
            t_us: first.t_us,
            epoch: first.epoch,
            value: f.to_scalar(&b.value_of(used)),
            witness: None,
            expression: None,
        }
    }

    /// Writes out `learn`'s derivation from its witness: (observation,
    /// coefficient) pairs in observation order. Constraint rows (no label)
    /// are structure every view knows and are left out.
    fn write_witness<'o>(&self, learn: &mut Learn, terms: impl Iterator<Item = (&'o Obs, F::E)>) {
        let f = self.f;
        let mut witness = Vec::new();
        let mut expr = String::new();
        for (o, coeff) in terms {
            if o.label.is_empty() || f.is_zero(&coeff) {
                continue;
            }
            witness.push((o.label.to_string(), coeff_text(f, &coeff)));
            let short = o.label.split_whitespace().next().unwrap_or("");
            expr.push_str(&term(f, &coeff, short, expr.is_empty()));
        }
        learn.witness = Some(witness);
        learn.expression = Some(format!(
            "{} = {}",
            learn.target.label_as(self.layout.elgamal),
            if expr.is_empty() { "0".into() } else { expr }
        ));
    }

    /// The observations of a view in the order it got them, without the
    /// constraint rows; a coalition pools its members' and keeps the first
    /// of each form.
    fn view_obs(&self, view: &ViewId) -> Vec<&'a Obs> {
        let c = self.c;
        match view {
            ViewId::Member(m) => c.members[m.0 as usize - 1].iter().collect(),
            ViewId::Outsider => c.outsider.iter().collect(),
            ViewId::Replacement { k, .. } => c.replacements[*k as usize - 1].obs.iter().collect(),
            ViewId::Coalition(ms) => {
                let mut pooled: Vec<&Obs> =
                    ms.iter().flat_map(|m| c.members[m.0 as usize - 1].iter()).collect();
                pooled.sort_by_key(|o| o.rec);
                let mut seen = std::collections::BTreeSet::new();
                pooled.into_iter().filter(|o| seen.insert(&o.form)).collect()
            }
        }
    }

    /// The constraint rows, checked against the ground truth and reduced
    /// once: every view starts from a copy. The short α rows go in before
    /// the θ rows so that each θ row pivots on one of its fractional keys.
    fn shared_span(&self, errors: &mut Vec<String>) -> Span<'a, F> {
        let f = self.f;
        let mut span = Span::new(f, self.layout.len());
        let mut order: Vec<&Form> = self.constraints.iter().collect();
        order.sort_by_key(|form| form.len());
        for (i, form) in order.into_iter().enumerate() {
            if !f.is_zero(&eval(f, form, &self.truth)) {
                errors.push(format!("constraint row {i} does not hold on the ground truth"));
            }
            span.insert(form, f.zero(), None);
        }
        span
    }

    /// A learn of `target` by `view`, first derivable at `first` (None: from
    /// the constraint rows alone), with its value checked against the
    /// ground truth.
    fn found(
        &self,
        view: &ViewId,
        target: Target,
        first: Option<&Obs>,
        value: &F::E,
        errors: &mut Vec<String>,
    ) -> Learn {
        let f = self.f;
        if *value != self.truth[self.layout.index(target.0) as usize] {
            errors.push(format!(
                "{} derives {} = {} but the ground truth differs",
                view.describe(),
                target.label_as(self.layout.elgamal),
                f.group().scalar_hex(&f.to_scalar(value))
            ));
        }
        Learn {
            view: view.clone(),
            target,
            rec: first.map_or(0, |o| o.rec),
            t_us: first.map_or(0, |o| o.t_us),
            epoch: first.map_or(0, |o| o.epoch),
            value: f.to_scalar(value),
            witness: None,
            expression: None,
        }
    }

    fn analyse(&self, coalitions: &[Vec<MemberId>]) -> Analysis {
        let f = self.f;
        let mut out = Analysis { outsider_sks: self.c.outsider_sks.clone(), ..Analysis::default() };
        let shared = self.shared_span(&mut out.errors);
        let mut is_target = vec![false; self.layout.len()];
        for view in views(self.c, coalitions) {
            let obs = self.view_obs(&view);
            let targets = self.targets(&view);
            for t in &targets {
                is_target[self.layout.index(t.0) as usize] = true;
            }
            let mut span = shared.clone();
            let mut found: Vec<(Learn, u32)> = Vec::new();
            for t in &targets {
                let col = self.layout.index(t.0);
                if let Some(value) = span.known(col) {
                    found.push((self.found(&view, *t, None, value, &mut out.errors), col));
                }
            }
            out.observations += obs.len() as u64;
            for (i, o) in obs.iter().enumerate() {
                let value = f.elem_of(&o.value);
                if eval(f, &o.form, &self.truth) != value {
                    out.errors.push(format!(
                        "{}: observation {} does not match its form",
                        view.describe(),
                        o.label
                    ));
                }
                span.insert(&o.form, value, Some(i as u32));
                for &col in span.newly_known() {
                    if is_target[col as usize] {
                        let value = span.known(col).expect("a newly known column is known");
                        let target = Target(self.layout.var(col));
                        found.push((self.found(&view, target, Some(o), value, &mut out.errors), col));
                    }
                }
            }
            out.work += span.work() - shared.work();
            for t in &targets {
                is_target[self.layout.index(t.0) as usize] = false;
            }
            for i in firsts(&found) {
                let (learn, col) = &mut found[i];
                let witness = span.witness(*col);
                self.write_witness(learn, witness.into_iter().map(|(tag, k)| (obs[tag as usize], k)));
            }
            out.learns.extend(found.into_iter().map(|(l, _)| l));
            out.views.push(view);
        }
        verdicts(&mut out, self.layout.members);
        out
    }

    fn explain(&self, view: &ViewId, target: Target) -> Result<Explanation, String> {
        let f = self.f;
        let obs = self.observations(view);
        let mut errors = Vec::new();
        let mut b = self.basis(&obs, &mut errors, view);
        let r = b.reduce(&self.layout.unit(target.0));
        if r.residual.is_empty() {
            let mut learn = self.learn(&b, &obs, view, target, &r.used);
            self.write_witness(&mut learn, b.witness(&r.used).into_iter().map(|(idx, k)| (&obs[idx], k)));
            if f.elem_of(&learn.value) != self.truth[self.layout.index(target.0) as usize] {
                return Err(format!(
                    "internal error: the derived {} differs from the ground truth",
                    target.label_as(self.layout.elgamal)
                ));
            }
            return Ok(Explanation::Derivable(learn));
        }
        let z = b.null_vector(&r.residual);
        let a = &self.truth;
        let bb: Vec<F::E> = a.iter().zip(&z).map(|(x, d)| f.add(x, d)).collect();
        // The witness is only a witness if it checks out: recompute.
        for o in &obs {
            if eval(f, &o.form, a) != eval(f, &o.form, &bb) {
                return Err(format!("internal error: the witness changes {}", o.label));
            }
        }
        let t = self.layout.unit(target.0);
        let (ta, tb) = (eval(f, &t, a), eval(f, &t, &bb));
        if ta == tb {
            return Err("internal error: the witness does not change the target".into());
        }
        let differing = (0..z.len())
            .filter(|&i| !f.is_zero(&z[i]))
            .map(|i| {
                (
                    self.layout.var(i as u32).label_as(self.layout.elgamal),
                    f.to_scalar(&a[i]),
                    f.to_scalar(&bb[i]),
                )
            })
            .collect();
        Ok(Explanation::Hidden {
            differing,
            target_a: f.to_scalar(&ta),
            target_b: f.to_scalar(&tb),
            checked: obs.len(),
        })
    }
}

/// The index in `found` of each owner's first derivation (by record, then
/// target), in owner order: the learns that get their witness written out.
fn firsts<T>(found: &[(Learn, T)]) -> Vec<usize> {
    let mut firsts: BTreeMap<Option<MemberId>, usize> = BTreeMap::new();
    for (i, (l, _)) in found.iter().enumerate() {
        let e = firsts.entry(l.target.owner()).or_insert(i);
        if (l.rec, l.target) < (found[*e].0.rec, found[*e].0.target) {
            *e = i;
        }
    }
    firsts.into_values().collect()
}

/// Sorts the learns (by record, then view, then target) and derives the
/// verdicts from them. A replacement recovering its own index's secrets is
/// process 700 working, not a compromise.
fn verdicts(out: &mut Analysis, members: u32) {
    out.learns.sort_by(|a, b| (a.rec, &a.view, a.target).cmp(&(b.rec, &b.view, b.target)));
    let mut compromised: Vec<MemberId> = out
        .learns
        .iter()
        .filter(|l| matches!(l.target.0, Var::Fk(..) | Var::Alpha(..)))
        .filter_map(|l| l.target.owner().filter(|&o| !l.view.includes(o)))
        .collect();
    compromised.sort();
    compromised.dedup();
    out.secure = (1..=members).map(MemberId).filter(|m| !compromised.contains(m)).collect();
    out.compromised = compromised;
    out.outsider_learns_key = !out.outsider_sks.is_empty()
        || out.learns.iter().any(|l| l.view == ViewId::Outsider && matches!(l.target.0, Var::Theta(_)));
}

/// " + 2·x", " − x", or "x" for the first term; " ⊕ x" under XOR, where
/// every coefficient is 1.
fn term<F: Field>(f: &F, c: &F::E, name: &str, first: bool) -> String {
    if f.group().is_xor() {
        return if first { name.to_string() } else { format!(" ⊕ {name}") };
    }
    let (neg, mag) = match field::small_ratio(f, c) {
        Some((v, 1)) => (v < 0, v.abs().to_string()),
        Some((v, d)) => (v < 0, format!("({}/{d})", v.abs())),
        None => (false, coeff_text(f, c)),
    };
    let coeff = if mag == "1" { String::new() } else { format!("{mag}·") };
    match (first, neg) {
        (true, false) => format!("{coeff}{name}"),
        (true, true) => format!("−{coeff}{name}"),
        (false, false) => format!(" + {coeff}{name}"),
        (false, true) => format!(" − {coeff}{name}"),
    }
}

/// Parses `--explain` views: a member id, ids joined by commas, or "outsider".
pub fn parse_view(s: &str, members: u32) -> Result<ViewId, String> {
    if s == "outsider" {
        return Ok(ViewId::Outsider);
    }
    let ids: Result<Vec<u32>, _> = s.split(',').map(|x| x.trim().parse::<u32>()).collect();
    let err =
        || format!("\"{s}\" is not a view; allowed: a member id 1..={members}, ids like 1,3, or outsider");
    let mut ids = ids.map_err(|_| err())?;
    if ids.is_empty() || ids.iter().any(|&m| m == 0 || m > members) {
        return Err(err());
    }
    ids.sort();
    ids.dedup();
    Ok(if ids.len() == 1 {
        ViewId::Member(MemberId(ids[0]))
    } else {
        ViewId::Coalition(ids.into_iter().map(MemberId).collect())
    })
}

/// The first learn of each (view, target owner) pair, in the order of
/// `learns`, for narration.
pub fn first_per_pair(learns: &[Learn]) -> Vec<&Learn> {
    let mut seen: BTreeMap<(ViewId, Option<MemberId>), ()> = BTreeMap::new();
    learns.iter().filter(|l| seen.insert((l.view.clone(), l.target.owner()), ()).is_none()).collect()
}

/// The basis rows (and coefficients) a derivation used.
type Used<E> = Vec<(usize, E)>;

/// [`analyse`] as the echelon engine did it before the reduced span: one
/// echelon basis ([`Basis`]) per view holding the constraint rows and then
/// the observations, and every target reduced against it. Slower by a
/// factor of n, and kept as the reference that tests hold the fast engine
/// to (they must agree learn for learn and verdict for verdict).
pub fn analyse_reference(
    c: &Collector,
    group: &'static GroupParams,
    coalitions: &[Vec<MemberId>],
) -> Analysis {
    field::with_field!(group, |f| Engine::new(f, c).analyse_echelon(coalitions))
}

impl<F: Field> Engine<'_, F> {
    /// The analysis as the echelon engine did it before the reduced span
    /// (f0e0611^, which recorded the golden file): one echelon basis per
    /// view holding the constraint rows then the observations, and every
    /// target reduced against it. Kept here as the test oracle.
    fn analyse_echelon(&self, coalitions: &[Vec<MemberId>]) -> Analysis {
        let f = self.f;
        let mut out = Analysis { outsider_sks: self.c.outsider_sks.clone(), ..Analysis::default() };
        for view in views(self.c, coalitions) {
            let obs = self.observations(&view);
            let mut b = self.basis(&obs, &mut out.errors, &view);
            let mut found: Vec<(Learn, Used<F::E>)> = Vec::new();
            for target in self.targets(&view) {
                let r = b.reduce(&self.layout.unit(target.0));
                if !r.residual.is_empty() {
                    continue;
                }
                let learn = self.learn(&b, &obs, &view, target, &r.used);
                if f.elem_of(&learn.value) != self.truth[self.layout.index(target.0) as usize] {
                    out.errors.push(format!("{} derives {} wrongly", view.describe(), target.label()));
                }
                found.push((learn, r.used));
            }
            for i in firsts(&found) {
                let (learn, used) = &mut found[i];
                self.write_witness(learn, b.witness(used).into_iter().map(|(idx, k)| (&obs[idx], k)));
            }
            out.learns.extend(found.into_iter().map(|(l, _)| l));
            out.views.push(view);
        }
        verdicts(&mut out, self.layout.members);
        out
    }
}
