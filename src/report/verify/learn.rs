//! Learn re-decision: whether a view could really derive what a `learn`
//! line claims, decided from the trace's own lines.
//!
//! Every value is a linear form over the run's independent draws (v, γ,
//! FK or x, the hardened ring's shares), with θ_e and α_{i,e} tied to them
//! by the protocol's public relations. What a view holds is collected here
//! from the trace: its own `secret` draws, the payloads of every `send`
//! matched to a `deliver` to it, the `leak`s that reach it, and (for the
//! outsider on a `plain` channel) every payload on the wire. A claim is
//! re-decided by elimination over GF(q): the target must lie in the span of
//! what the view held by the learn line and, where the view is known
//! exactly, not in the span of what it held before the line the learn
//! follows.
//!
//! The variable numbering and the span test are the knowledge engine's pure
//! pieces (`Layout`, `Basis`, `Field`); which rows a view holds is decided
//! here alone.

use std::collections::BTreeMap;

use crate::group::GroupParams;
use crate::knowledge::basis::Basis;
use crate::knowledge::field::Field;
use crate::knowledge::form::{Form, Layout, Var};
use crate::protocol::InitKind;

/// A linear observation: terms over the run's variables.
pub type Terms = Vec<(Var, i64)>;

/// A view as a `learn` line names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LearnView {
    /// One member.
    Member(u32),
    /// A coalition: sorted distinct ids, at least two.
    Coalition(Vec<u32>),
    /// The network outsider.
    Outsider,
    /// The K-th replacement (second field) of member M (first field).
    Replacement(u32, u32),
}

impl LearnView {
    /// Whether the view is, or contains, member `m`.
    pub fn includes(&self, m: u32) -> bool {
        match self {
            LearnView::Member(x) | LearnView::Replacement(x, _) => *x == m,
            LearnView::Coalition(ms) => ms.contains(&m),
            LearnView::Outsider => false,
        }
    }

    /// The view in words, for messages.
    pub fn describe(&self) -> String {
        match self {
            LearnView::Member(m) => format!("member {m}"),
            LearnView::Coalition(ms) => {
                let ids: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
                format!("coalition {{{}}}", ids.join(", "))
            }
            LearnView::Outsider => "the outsider".to_string(),
            LearnView::Replacement(m, k) => format!("replacement #{k} of member {m}"),
        }
    }
}

/// A `learn` line to re-decide.
pub struct Claim {
    /// The learn's line.
    pub line: usize,
    /// The learn's `seq`.
    pub seq: u64,
    /// The nearest earlier line that is not a `learn`: the event after which
    /// the view first holds everything the derivation needs.
    pub after: usize,
    /// Who claims to derive it.
    pub view: LearnView,
    /// What it claims to derive.
    pub target: Var,
    /// The target as messages name it (`fk[2,1]`, `θ_3`).
    pub label: String,
}

/// What every view holds, by trace line.
pub struct Holdings {
    /// Member m's observations at index m − 1, each with its trace line.
    pub members: Vec<Vec<(usize, Terms)>>,
    /// The outsider's observations, each with its trace line.
    pub outsider: Vec<(usize, Terms)>,
    /// The outsider's view is known exactly (no tapping on this channel);
    /// on `plain` it is bounded above by every payload on the wire.
    pub outsider_exact: bool,
}

/// A failed re-decision: (line, seq, message).
pub type Refusal = (usize, u64, String);

/// Re-decides every claim: the target is in the span of what the view held
/// by the learn line and, where the view is known exactly, not before the
/// line the learn follows. The earliest refusal is returned.
pub fn redecide(
    group: &'static GroupParams,
    layout: &Layout,
    holdings: &Holdings,
    claims: &[Claim],
) -> Result<(), Refusal> {
    crate::knowledge::field::with_field!(group, |f| run(f, layout, holdings, claims))
}

/// The form of `terms`, if every variable exists in `layout`.
pub fn form_of(layout: &Layout, terms: &[(Var, i64)]) -> Option<Form> {
    terms.iter().all(|(v, _)| layout.has(*v)).then(|| layout.form(terms))
}

fn run<F: Field>(f: &F, layout: &Layout, h: &Holdings, claims: &[Claim]) -> Result<(), Refusal> {
    // Group the claims by view, keeping line order within each.
    let mut by_view: BTreeMap<&LearnView, Vec<&Claim>> = BTreeMap::new();
    for c in claims {
        by_view.entry(&c.view).or_default().push(c);
    }
    let constraints = layout.constraints();
    let mut first_refusal: Option<Refusal> = None;
    for (view, list) in by_view {
        let (mut obs, exact): (Vec<&(usize, Terms)>, bool) = match view {
            LearnView::Member(m) => (h.members[*m as usize - 1].iter().collect(), true),
            LearnView::Coalition(ms) => {
                (ms.iter().flat_map(|m| h.members[*m as usize - 1].iter()).collect(), true)
            }
            LearnView::Outsider => (h.outsider.iter().collect(), h.outsider_exact),
            LearnView::Replacement(..) => continue,
        };
        obs.sort_by_key(|(line, _)| *line);
        let mut basis = Basis::new(f, layout.len());
        for (i, c) in constraints.iter().enumerate() {
            basis.insert(c, f.zero(), i);
        }
        let mut next = 0usize;
        let insert_below = |basis: &mut Basis<'_, F>, line: usize, next: &mut usize| {
            while *next < obs.len() && obs[*next].0 < line {
                if let Some(form) = form_of(layout, &obs[*next].1) {
                    basis.insert(&form, f.zero(), constraints.len() + *next);
                }
                *next += 1;
            }
        };
        let mut i = 0;
        while i < list.len() {
            let after = list[i].after;
            let group_end = list[i..].iter().position(|c| c.after != after).map_or(list.len(), |p| i + p);
            // What the view held before the event the learns follow.
            insert_below(&mut basis, after, &mut next);
            if exact {
                for c in &list[i..group_end] {
                    let target = layout.unit(c.target);
                    if basis.reduce(&target).residual.is_empty() {
                        let why = format!(
                            "{} could derive {} before line {after}: a learn follows the event that first completes the derivation",
                            view.describe(),
                            c.label
                        );
                        first_refusal = earliest(first_refusal, (c.line, c.seq, why));
                    }
                }
            }
            for c in &list[i..group_end] {
                insert_below(&mut basis, c.line, &mut next);
                let target = layout.unit(c.target);
                if !basis.reduce(&target).residual.is_empty() {
                    let why = format!(
                        "{} cannot derive {} from what the trace shows it holding by then",
                        view.describe(),
                        c.label
                    );
                    first_refusal = earliest(first_refusal, (c.line, c.seq, why));
                }
            }
            i = group_end;
        }
    }
    first_refusal.map_or(Ok(()), Err)
}

fn earliest(a: Option<Refusal>, b: Refusal) -> Option<Refusal> {
    match a {
        Some(a) if a.0 <= b.0 => Some(a),
        _ => Some(b),
    }
}

/// The knowledge-engine layout of a trace, if its size is one the engine
/// analyses (a cap keeps a crafted header from allocating without bound).
pub fn layout_for(members: u32, epochs: u64, init: InitKind, elgamal: bool) -> Option<Layout> {
    if members > 4096 || epochs > 1 << 16 {
        return None;
    }
    let n = u64::from(members);
    let shares = if init == InitKind::RingHardened { n * n } else { 0 };
    let len = n * (epochs + 1) + (epochs + 1) + n * epochs + n + 1 + shares;
    if len > 1 << 22 {
        return None;
    }
    Some(Layout { members, epochs, init, recoveries: 0, elgamal })
}
