//! Builds `summary.json` (format `fraclab-summary/1`, the typed
//! [`Summary`] of [`crate::schema`]) from a run with [`build`]: the verdict,
//! counters, findings and expectations. The knowledge fields are null when
//! the analysis is off. [`Summary::read`] reads the file back.

use std::path::Path;

use super::trace::learn_seq;
use crate::knowledge::{Analysis, Learn};
use crate::protocol::MemberId;
use crate::scenario::Scenario;
use crate::schema::summary::LearnFinding;
pub use crate::schema::summary::SUMMARY_FORMAT;
use crate::schema::{Expectation, Finding, Observed, Stall, Summary, View, Witness};
use crate::sim::{self, Outcome};

impl Summary {
    /// Reads `summary.json` at `path` (at most
    /// [`JSON_FILE_MAX`](crate::report::read::JSON_FILE_MAX) bytes)
    /// into the typed schema. Errors read `FILE: line L: KEY: message`.
    pub fn read(path: &Path) -> Result<Summary, String> {
        let text = super::read::read_bounded(path, super::read::JSON_FILE_MAX)?;
        Summary::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The summary of a run of `sc` whose trace (at level `trace`) hashed to
/// `trace_sha256`.
pub fn build(
    sc: &Scenario,
    trace: &'static str,
    outcome: &Outcome,
    analysis: Option<&Analysis>,
    trace_sha256: Option<String>,
) -> Summary {
    let v = &outcome.verdict;
    let ids = |ms: &[MemberId]| ms.iter().map(|m| m.0).collect::<Vec<_>>();
    let mut findings: Vec<Finding> = v.findings.iter().map(finding).collect();
    for r in &v.recoveries {
        findings.push(if r.ok {
            Finding::Recovered { member: r.member.0, iter: r.iter, ok: true }
        } else {
            Finding::RecoveryFailed {
                member: r.member.0,
                iter: r.iter,
                withheld_by: ids(&r.withheld_by),
                detail: if r.withheld_by.is_empty() {
                    "the recovered values or key did not check out".to_string()
                } else {
                    format!(
                        "no ĤFK from survivor(s) {:?}: they withheld it or could not answer",
                        ids(&r.withheld_by)
                    )
                },
            }
        });
    }
    let stalled = v.stall.as_ref().map(|st| Stall {
        iter: st.iter,
        incomplete: ids(&st.incomplete),
        failed: ids(&st.failed),
        detail: format!(
            "iteration {} never completed{}",
            st.iter,
            if st.failed.is_empty() {
                String::new()
            } else {
                format!("; member(s) {:?} down", ids(&st.failed))
            }
        ),
    });
    if let Some(st) = &stalled {
        findings.push(Finding::Stalled(st.clone()));
    }
    for d in &v.detections {
        findings.push(Finding::Detect {
            member: d.member.0,
            check: d.check.to_string(),
            culprit: d.culprit.map(|c| c.trace_id()),
            iter: d.iter,
        });
    }
    let detected = culprits(v);
    findings.extend(cheat_findings(sc, v, &detected));
    findings.extend(wire_findings(sc, outcome));
    let mut recovered: Vec<u32> = v.recoveries.iter().filter(|r| r.ok).map(|r| r.member.0).collect();
    recovered.sort_unstable();
    recovered.dedup();
    if let Some(a) = analysis {
        findings.extend(a.learns.iter().enumerate().map(|(i, l)| learn_finding(sc, &a.learns, i, l)));
        findings.extend(
            a.outsider_sks.iter().map(|(epoch, _)| Finding::SkLeak { view: View::Outsider, epoch: *epoch }),
        );
        findings.extend(a.errors.iter().map(|e| Finding::AnalysisError { detail: e.clone() }));
    }
    let rejected = outcome.rejected.iter().map(|(k, v)| (k.as_str().to_string(), *v)).collect();
    let attacks = outcome.attacks.iter().map(|(k, v)| (k.as_str().to_string(), *v)).collect();
    Summary {
        format: SUMMARY_FORMAT.into(),
        scenario: sc.name().to_string(),
        seed: sc.seed(),
        params: sc.group().name.into(),
        members: sc.members(),
        init: sc.init().as_str().into(),
        keygen: sc.keygen().as_str().into(),
        channel: sc.channel().as_str().into(),
        epochs: sc.epochs(),
        epochs_completed: v.epochs_completed,
        keys_agreed: v.keys_agreed,
        final_sk: v.final_sk.map(|k| k.to_hex()),
        invariants_held: !v.findings.iter().any(|f| matches!(f, sim::Finding::Invariant { .. }))
            && analysis.is_none_or(|a| a.errors.is_empty()),
        compromised: analysis.map(|a| ids(&a.compromised)),
        secure: analysis.map(|a| ids(&a.secure)),
        outsider_learns_key: analysis.map(|a| a.outsider_learns_key),
        recovered,
        detected,
        stalled,
        events: outcome.events,
        messages_sent: outcome.messages_sent,
        messages_delivered: outcome.messages_delivered,
        messages_dropped: outcome.messages_dropped,
        retransmissions: outcome.retransmissions,
        sim_time_us: outcome.sim_time_us,
        rejected,
        accepted_forgeries: outcome.accepted_forgeries,
        attacks,
        findings,
        expectations: expectations(sc, outcome, analysis),
        warnings: sc.warnings().to_vec(),
        trace: trace.into(),
        trace_sha256,
    }
}

/// One finding per declared cheater: what it forged, whether verification
/// named it, and what the ground truth says the cheat did (the reference: without
/// verification the run says what broke, silently).
fn cheat_findings(sc: &Scenario, v: &crate::sim::Verdict, detected: &[u32]) -> Vec<Finding> {
    use crate::adversary::{Adversary, CheatPhase};
    let broken = |check: &str| -> Vec<u64> {
        let mut epochs: Vec<u64> = v
            .findings
            .iter()
            .filter_map(|f| match f {
                sim::Finding::Invariant { check: c, epoch, .. } if *c == check => Some(*epoch),
                _ => None,
            })
            .collect();
        epochs.dedup();
        epochs
    };
    let list = |es: &[u64]| es.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    let mut effects = Vec::new();
    for (check, what) in
        [("I1", "I1 (Σα = (n−1)θ)"), ("theta_sum", "θ = Σ FK"), ("theta_agree", "agreement on θ")]
    {
        let es = broken(check);
        if !es.is_empty() {
            effects.push(format!("{what} broken at epoch(s) {}", list(&es)));
        }
    }
    if effects.is_empty() {
        effects.push("no invariant broken".into());
    }
    effects.push(keys_effect(v, "still agree"));
    let effect = effects.join("; ");
    sc.adversaries()
        .list
        .iter()
        .filter_map(|a| match a {
            Adversary::Cheat { member, phase } => Some((
                member.0,
                match phase {
                    CheatPhase::Init => "its ring δ (initialisation) differs from its commitment".to_string(),
                    CheatPhase::Keygen(j) => format!("its HFK of iteration {j} differs from α + FK"),
                },
            )),
            Adversary::SmCheat { member } => {
                Some((0, format!("the SM's pad for member {member} is off by one")))
            }
            _ => None,
        })
        .map(|(culprit, what)| {
            let caught = detected.contains(&culprit);
            let carried_out = v.cheated.contains(&culprit);
            let noticed = v
                .detections
                .iter()
                .any(|d| d.culprit.is_none() && d.check == crate::protocol::Check::GroupKey);
            let verdict = match (carried_out, caught, noticed) {
                (false, _, _) => "never carried out (the cheater was down when its turn came)",
                (true, true, _) => "detected: verification names it",
                (true, false, true) => "noticed by the group-key check, which names no one",
                (true, false, false) => "undetected",
            };
            Finding::Cheat {
                culprit,
                what,
                carried_out,
                detected: caught,
                effect: format!("{verdict}; {effect}"),
            }
        })
        .collect()
}

/// What became of the keys, for a finding's effect: "the keys `agree`",
/// "the keys diverge" (a divergence was seen), or, when no divergence was
/// seen but the keys did not agree either, that some key was never derived.
fn keys_effect(v: &crate::sim::Verdict, agree: &str) -> String {
    let diverged = v.findings.iter().any(|f| matches!(f, sim::Finding::Divergence { .. }));
    match (v.keys_agreed, diverged) {
        (true, _) => format!("the keys {agree}"),
        (false, true) => "the keys diverge".into(),
        (false, false) => "not every member derived every key".into(),
    }
}

/// One finding per kind of network attack the run saw: how many moves, and
/// what became of them (refused by the channel, or taken by a member).
fn wire_findings(sc: &Scenario, outcome: &Outcome) -> Vec<Finding> {
    let v = &outcome.verdict;
    let mut kinds: Vec<&'static str> = sc.adversaries().wire().map(|w| w.attack.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let refused: u64 = outcome.rejected.values().sum();
    kinds
        .into_iter()
        .map(|attack| {
            let moves = outcome.attacks.iter().find(|(k, _)| k.as_str() == attack).map_or(0, |(_, n)| *n);
            let effect = if outcome.accepted_forgeries == 0 {
                format!(
                    "no adversary's message reached protocol state ({refused} refused by the channel in all); {}",
                    keys_effect(v, "agree")
                )
            } else {
                format!(
                    "{} message(s) from the adversary reached protocol state; {}",
                    outcome.accepted_forgeries,
                    keys_effect(v, "still agree")
                )
            };
            Finding::Wire { attack: attack.to_string(), moves, effect }
        })
        .collect()
}

/// The culprits verification named, sorted (0 is the SM).
fn culprits(v: &crate::sim::Verdict) -> Vec<u32> {
    let mut ids: Vec<u32> = v.detections.iter().filter_map(|d| d.culprit.map(|c| c.trace_id())).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn finding(f: &sim::Finding) -> Finding {
    match f {
        sim::Finding::Invariant { check, epoch, detail } => {
            Finding::Invariant { check: check.to_string(), epoch: *epoch, detail: detail.clone() }
        }
        sim::Finding::Divergence { member, epoch, with } => {
            Finding::Divergence { member: member.0, epoch: *epoch, with: with.0 }
        }
    }
}

fn learn_finding(sc: &Scenario, learns: &[Learn], i: usize, l: &Learn) -> Finding {
    let elgamal = sc.keygen() == crate::scenario::Keygen::Elgamal;
    let (name, index) = l.target.name_index_as(elgamal);
    let witness = l.witness.as_ref().map(|w| {
        w.iter().map(|(value, coeff)| Witness { value: value.clone(), coeff: coeff.clone() }).collect()
    });
    Finding::Learn(LearnFinding {
        view: View::from(&l.view),
        target: l.target.owner().map(|m| m.0),
        secret: l.target.label_as(elgamal),
        name: name.to_string(),
        index,
        epoch: l.epoch,
        seq: learn_seq(learns, i),
        t_us: l.t_us,
        value: sc.group().scalar_hex(&l.value),
        expression: l.expression.clone(),
        witness,
    })
}

/// One expectation: `want` against `got`, held when they are equal.
fn compare<T: PartialEq + Into<Observed>>(key: &'static str, want: T, got: T) -> Expectation {
    let held = want == got;
    Expectation { key: key.into(), expected: want.into(), observed: got.into(), held }
}

fn expectations(sc: &Scenario, outcome: &Outcome, analysis: Option<&Analysis>) -> Vec<Expectation> {
    let v = &outcome.verdict;
    let mut out = Vec::new();
    if let Some(want) = sc.expect().keys_agreed {
        out.push(compare("keys_agreed", want, v.keys_agreed));
    }
    if let Some(want) = sc.expect().epochs_completed {
        out.push(compare("epochs_completed", want, v.epochs_completed));
    }
    if let (Some(want), Some(a)) = (&sc.expect().compromised, analysis) {
        let (want, got): (Vec<u32>, Vec<u32>) =
            (want.iter().map(|m| m.0).collect(), a.compromised.iter().map(|m| m.0).collect());
        out.push(compare("compromised", want, got));
    }
    if let Some(want) = &sc.expect().recovered {
        let want: Vec<u32> = want.iter().map(|m| m.0).collect();
        let mut got: Vec<u32> = v.recoveries.iter().filter(|r| r.ok).map(|r| r.member.0).collect();
        got.sort_unstable();
        got.dedup();
        out.push(compare("recovered", want, got));
    }
    if let Some(want) = &sc.expect().detected {
        let got = culprits(v);
        out.push(compare("detected", want.clone(), got));
    }
    if let Some(want) = sc.expect().accepted_forgeries {
        out.push(compare("accepted_forgeries", want, outcome.accepted_forgeries));
    }
    if let Some(want) = &sc.expect().rejected {
        let mut got: Vec<String> = outcome.rejected.keys().map(|r| r.as_str().to_string()).collect();
        got.sort_unstable();
        out.push(compare("rejected", want.clone(), got));
    }
    if let (Some(want), Some(a)) = (sc.expect().outsider_learns_key, analysis) {
        out.push(compare("outsider_learns_key", want, a.outsider_learns_key));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Outcome, Verdict};

    fn summary(expect: &str, keys_agreed: bool) -> Summary {
        let toml = format!(
            "name = \"s\"\n[group]\nparams = \"toy-16\"\n[protocol]\nmembers = 3\ninit = \"sm\"\nkeygen = \"additive\"\nepochs = 1\n{expect}"
        );
        let sc = crate::scenario::parse(&toml, "s.toml").unwrap();
        let verdict = Verdict { epochs_completed: 1, keys_agreed, ..Verdict::default() };
        let outcome = Outcome { verdict, ..Outcome::default() };
        build(&sc, "none", &outcome, None, None)
    }

    /// Keys that do not agree fail a run (exit 1) unless the scenario says
    /// that is what it shows.
    #[test]
    fn diverging_keys_fail_unless_expected() {
        assert!(summary("", true).passed());
        assert!(!summary("", false).passed());
        assert!(summary("[expect]\nkeys_agreed = false\n", false).passed());
        assert!(!summary("[expect]\nkeys_agreed = false\n", true).passed());
    }
}
