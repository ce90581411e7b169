//! Running the dlog adversaries (reference §4) after a run: collect the
//! commitments each attacker's view sees, take their discrete logs within
//! the budget, and check every exponent found against the ground truth.

use std::collections::BTreeMap;
use std::io;

use crate::adversary::dlog::{self, Outcome};
use crate::adversary::{Adversary, DlogView};
use crate::group::{Element, Scalar};
use crate::protocol::{Body, Commitment, Party};
use crate::scenario::{Keygen, Scenario};
use crate::schema::{Finding, View};
use crate::sim::{Record, Recorder, SimTime};

/// A commitment on the wire: who sent it, to whom, what it commits to.
struct Public {
    from: Party,
    to: Party,
    /// (name as trace events write it, owner, index) of the committed secret.
    secret: (&'static str, u32, u64),
    element: Element,
}

#[derive(Default)]
struct Collect {
    elgamal: bool,
    publics: Vec<Public>,
    truth: BTreeMap<(&'static str, u32, u64), Scalar>,
}

impl Recorder for Collect {
    fn wants_messages(&self) -> bool {
        true
    }

    fn record(&mut self, _: u64, _: SimTime, rec: &Record<'_>) -> io::Result<()> {
        match rec {
            Record::Send { env, .. } => {
                let from_id = env.from.trace_id();
                let mut push = |secret, element: &Element| {
                    self.publics.push(Public { from: env.from, to: env.to, secret, element: element.clone() })
                };
                let commit = match &env.body {
                    Body::Commit(c) => Some(&**c),
                    _ => None,
                };
                match (&env.body, commit) {
                    (_, Some(Commitment::Pads { alphas, theta })) => {
                        for (i, c) in alphas.iter().enumerate() {
                            push(("alpha", i as u32 + 1, 1), c);
                        }
                        push(("theta", 0, 1), theta);
                    }
                    (_, Some(Commitment::Ring { v, delta, gamma })) => {
                        push(("v", from_id, 1), v);
                        push(("delta", from_id, 1), delta);
                        if let Some(gm) = gamma {
                            push(("gamma", from_id, 1), gm);
                        }
                    }
                    (Body::FkPub(e), _) => {
                        push((if self.elgamal { "x" } else { "fk" }, from_id, env.iter), e)
                    }
                    _ => {}
                }
            }
            Record::Secret { owner, name, index, value, .. } => {
                self.truth.entry((name.as_str(), owner.0, *index)).or_insert_with(|| (*value).clone());
            }
            Record::Theta { epoch: 1, value, .. } => {
                self.truth.entry(("theta", 0, 1)).or_insert_with(|| (*value).clone());
            }
            _ => {}
        }
        Ok(())
    }
}

fn label((name, owner, index): (&str, u32, u64)) -> String {
    crate::report::secret_label(name, Some(owner), index)
}

/// The dlog adversaries' share of a run: a [`Recorder`] that collects the
/// commitments on the wire and the ground truth while another pass (the
/// analysis or the trace) runs, so the simulator does not run again for
/// them. `None` when the scenario has no dlog adversary.
pub(crate) struct Pass {
    attackers: Vec<(DlogView, u64)>,
    collect: Collect,
}

impl Pass {
    /// The pass `sc`'s dlog adversaries need, if it has any.
    pub(crate) fn of(sc: &Scenario) -> Option<Pass> {
        let attackers: Vec<(DlogView, u64)> = sc
            .adversaries()
            .list
            .iter()
            .filter_map(|a| match a {
                Adversary::Dlog { view, budget } => Some((*view, *budget)),
                _ => None,
            })
            .collect();
        let collect = Collect { elgamal: sc.keygen() == Keygen::Elgamal, ..Collect::default() };
        (!attackers.is_empty()).then_some(Pass { attackers, collect })
    }
}

impl Recorder for Pass {
    fn wants_messages(&self) -> bool {
        self.collect.wants_messages()
    }

    fn record(&mut self, seq: u64, at: SimTime, rec: &Record<'_>) -> io::Result<()> {
        self.collect.record(seq, at, rec)
    }
}

/// The findings of every dlog adversary, from what its [`Pass`] collected:
/// one `dlog` finding per exponent recovered and one `dlog-attack` summary
/// per attacker.
pub(crate) fn findings(sc: &Scenario, pass: Pass) -> Vec<Finding> {
    let Pass { attackers, collect: c } = pass;
    let g = sc.group();
    let mut out = Vec::new();
    for (view, budget) in attackers {
        // A member attacks what reaches it, not its own secrets (nor θ_1,
        // which it holds).
        let sees = |p: &Public| match view {
            DlogView::Outsider => true,
            DlogView::Member(m) => {
                let own = p.secret.1 == m.0 || p.secret.0 == "theta";
                (p.to == Party::Member(m) || p.from == Party::Member(m)) && !own
            }
        };
        let mut targets: Vec<&Public> = Vec::new();
        for p in c.publics.iter().filter(|p| sees(p)) {
            if !targets.iter().any(|t| t.secret == p.secret) {
                targets.push(p);
            }
        }
        let q_bits = g.q.bits();
        let who = match view {
            DlogView::Outsider => View::Outsider,
            DlogView::Member(m) => View::Member(m.0),
        };
        let summary = |recovered: usize, work: u64, detail: String| Finding::DlogAttack {
            view: who.clone(),
            params: g.name.into(),
            q_bits,
            budget,
            targets: targets.len() as u64,
            recovered: recovered as u64,
            work,
            detail,
        };
        if let Some(refusal) = dlog::refusal(g) {
            out.push(summary(0, 0, refusal));
            continue;
        }
        let (mut spent, mut recovered, mut exhausted) = (0u64, 0usize, false);
        for (k, t) in targets.iter().enumerate() {
            if spent >= budget {
                exhausted = true;
                break;
            }
            match dlog::rho(g, &t.element, budget - spent, k as u64 + 1) {
                Outcome::Found { exponent, work } => {
                    spent += work;
                    recovered += 1;
                    let truth = c.truth.get(&t.secret);
                    out.push(Finding::Dlog {
                        view: who.clone(),
                        secret: label(t.secret),
                        value: g.scalar_hex(&exponent),
                        work,
                        matches_truth: truth == Some(&exponent),
                    });
                }
                Outcome::OutOfBudget { work } => {
                    spent += work;
                    exhausted = true;
                    break;
                }
            }
        }
        let detail = if exhausted {
            format!("budget exhausted: recovered {recovered} of {} commitments", targets.len())
        } else {
            format!("recovered {recovered} of {} commitments", targets.len())
        };
        out.push(summary(recovered, spent, format!("{detail} in {spent} group operations")));
    }
    out
}
