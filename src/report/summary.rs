//! `summary.json`, format `fraclab-summary/1` (reference §5): the run's verdict,
//! counters, findings and expectations. Fields that belong to capabilities
//! fraclab does not have yet (detection, recovery, rejection) are absent
//! rather than filled with values nobody computed; the knowledge fields are
//! null when the analysis is off.

use serde::Serialize;

use super::trace::learn_seq;
use crate::knowledge::{Analysis, Learn};
use crate::protocol::MemberId;
use crate::scenario::Scenario;
use crate::sim::{Finding, Outcome};

pub const SUMMARY_FORMAT: &str = "fraclab-summary/1";

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Expectation {
    pub key: &'static str,
    pub expected: serde_json::Value,
    pub observed: serde_json::Value,
    pub held: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    pub format: &'static str,
    pub scenario: String,
    pub seed: u64,
    pub params: &'static str,
    pub members: u32,
    pub init: &'static str,
    pub keygen: &'static str,
    pub channel: &'static str,
    pub epochs: u64,
    pub epochs_completed: u64,
    pub keys_agreed: bool,
    pub final_sk: Option<String>,
    pub invariants_held: bool,
    /// Members some view that excludes them derived an FK or α of; null when
    /// the knowledge analysis is off.
    pub compromised: Option<Vec<u32>>,
    pub secure: Option<Vec<u32>>,
    pub outsider_learns_key: Option<bool>,
    /// Indices whose replacement recovered (process 700) with every value
    /// equal to the ground truth and the key confirmed.
    pub recovered: Vec<u32>,
    /// Culprits named by a failed verification check (0 is the SM), sorted.
    pub detected: Vec<u32>,
    /// Set when the run ended short of its epochs: which iteration did not
    /// complete, who never completed it, and who was down.
    pub stalled: Option<serde_json::Value>,
    pub events: u64,
    pub messages_sent: u64,
    pub messages_delivered: u64,
    pub messages_dropped: u64,
    pub retransmissions: u64,
    pub sim_time_us: u64,
    /// Messages the receiver's channel refused, by reason (reference §5).
    pub rejected: std::collections::BTreeMap<&'static str, u64>,
    /// Adversaries' messages (tampered, replayed, forged) that reached a
    /// party's protocol state; 0 on the sealed channel.
    pub accepted_forgeries: u64,
    /// The network adversaries' moves, by attack (messages tampered with,
    /// replayed, forged).
    pub attacks: std::collections::BTreeMap<&'static str, u64>,
    pub findings: Vec<serde_json::Value>,
    pub expectations: Vec<Expectation>,
    pub warnings: Vec<String>,
    pub trace: &'static str,
    pub trace_sha256: Option<String>,
    /// A cheater is declared, or an adversary's message reached a member:
    /// broken invariants and failed checks are its effects (reported in
    /// `cheat` and `wire` findings), not failures of the run.
    #[serde(skip)]
    pub cheated: bool,
}

impl Summary {
    pub fn new(
        sc: &Scenario,
        trace: &'static str,
        outcome: &Outcome,
        analysis: Option<&Analysis>,
        trace_sha256: Option<String>,
    ) -> Summary {
        let v = &outcome.verdict;
        let ids = |ms: &[MemberId]| ms.iter().map(|m| m.0).collect::<Vec<_>>();
        let mut findings: Vec<serde_json::Value> = v.findings.iter().map(finding_json).collect();
        for r in &v.recoveries {
            findings.push(if r.ok {
                serde_json::json!({"kind": "recovered", "member": r.member.0, "iter": r.iter, "ok": true})
            } else {
                serde_json::json!({
                    "kind": "recovery-failed", "member": r.member.0, "iter": r.iter,
                    "withheld_by": ids(&r.withheld_by),
                    "detail": if r.withheld_by.is_empty() {
                        "the recovered values or key did not check out".to_string()
                    } else {
                        format!("no ĤFK from survivor(s) {:?}: they withheld it or could not answer", ids(&r.withheld_by))
                    },
                })
            });
        }
        let stalled = v.stall.as_ref().map(|st| {
            serde_json::json!({
                "iter": st.iter,
                "incomplete": ids(&st.incomplete),
                "failed": ids(&st.failed),
                "detail": format!(
                    "iteration {} never completed{}",
                    st.iter,
                    if st.failed.is_empty() { String::new() } else { format!("; member(s) {:?} down", ids(&st.failed)) }
                ),
            })
        });
        if let Some(st) = &stalled {
            let mut f = st.clone();
            f["kind"] = "stalled".into();
            findings.push(f);
        }
        for d in &v.detections {
            findings.push(serde_json::json!({
                "kind": "detect", "member": d.member.0, "check": d.check,
                "culprit": d.culprit.map(|c| c.trace_id()), "iter": d.iter,
            }));
        }
        let detected = culprits(v);
        let cheats = cheat_findings(sc, v, &detected);
        let cheated = !cheats.is_empty() || outcome.accepted_forgeries > 0;
        findings.extend(cheats);
        findings.extend(wire_findings(sc, outcome));
        let mut recovered: Vec<u32> = v.recoveries.iter().filter(|r| r.ok).map(|r| r.member.0).collect();
        recovered.sort_unstable();
        recovered.dedup();
        if let Some(a) = analysis {
            findings.extend(a.learns.iter().enumerate().map(|(i, l)| learn_json(sc, &a.learns, i, l)));
            findings.extend(a.outsider_sks.iter().map(
                |(epoch, _)| serde_json::json!({"kind": "sk-leak", "view": "outsider", "epoch": epoch}),
            ));
            findings
                .extend(a.errors.iter().map(|e| serde_json::json!({"kind": "analysis-error", "detail": e})));
        }
        Summary {
            format: SUMMARY_FORMAT,
            scenario: sc.name.clone(),
            seed: sc.seed,
            params: sc.group.name,
            members: sc.members,
            init: sc.init.as_str(),
            keygen: sc.keygen.as_str(),
            channel: sc.channel.as_str(),
            epochs: sc.epochs,
            epochs_completed: v.epochs_completed,
            keys_agreed: v.keys_agreed,
            final_sk: v.final_sk.map(|k| k.to_hex()),
            invariants_held: !v.findings.iter().any(|f| matches!(f, Finding::Invariant { .. }))
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
            rejected: outcome.rejected.clone(),
            accepted_forgeries: outcome.accepted_forgeries,
            attacks: outcome.attacks.clone(),
            findings,
            expectations: expectations(sc, outcome, analysis),
            warnings: sc.warnings.clone(),
            trace,
            trace_sha256,
            cheated,
        }
    }

    /// Whether the run passed: every invariant and every expectation held,
    /// and the keys agreed — unless the scenario expects them not to (an
    /// attack on the keys is then the point of the run).
    pub fn passed(&self) -> bool {
        self.problems().is_empty() && self.expectations.iter().all(|e| e.held)
    }

    /// What makes the run fail besides its expectations: broken invariants,
    /// analysis errors, keys that diverged or a stall that no expectation
    /// announced. One line each, for `run` and `check` to print.
    pub fn problems(&self) -> Vec<String> {
        let divergence_expected =
            self.expectations.iter().any(|e| e.key == "keys_agreed" && e.expected == false);
        let stall_expected = self
            .expectations
            .iter()
            .any(|e| e.key == "epochs_completed" && e.expected.as_u64().is_some_and(|x| x < self.epochs));
        let mut out: Vec<String> = self
            .findings
            .iter()
            .filter(|f| (f["kind"] == "invariant" && !self.cheated) || f["kind"] == "analysis-error")
            .map(|f| f.to_string())
            .collect();
        if !self.keys_agreed && !divergence_expected {
            let n = self.findings.iter().filter(|f| f["kind"] == "divergence").count();
            out.push(format!("keys did not agree ({n} divergence findings)"));
        }
        if let Some(stall) = self.stalled.as_ref().filter(|_| !stall_expected) {
            out.push(format!("stalled: {}", stall["detail"].as_str().unwrap_or("")));
        }
        // A failed verification check is a problem unless the scenario says
        // who it expects to be caught (an `[expect] detected`).
        if !self.cheated && !self.expectations.iter().any(|e| e.key == "detected") {
            out.extend(
                self.findings
                    .iter()
                    .filter(|f| f["kind"] == "detect")
                    .map(|f| format!("verification failed: {f}")),
            );
        }
        out
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a summary always serialises");
        s.push('\n');
        s
    }
}

/// One finding per declared cheater: what it forged, whether verification
/// named it, and what the ground truth says the cheat did (the reference: without
/// verification the run says what broke, silently).
fn cheat_findings(sc: &Scenario, v: &crate::sim::Verdict, detected: &[u32]) -> Vec<serde_json::Value> {
    use crate::adversary::{Adversary, CheatPhase};
    let broken = |check: &str| -> Vec<u64> {
        let mut epochs: Vec<u64> = v
            .findings
            .iter()
            .filter_map(|f| match f {
                Finding::Invariant { check: c, epoch, .. } if *c == check => Some(*epoch),
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
    sc.adversaries
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
            let noticed = v.detections.iter().any(|d| d.culprit.is_none() && d.check == crate::protocol::Check::GroupKey);
            let verdict = match (carried_out, caught, noticed) {
                (false, _, _) => "never carried out (the cheater was down when its turn came)",
                (true, true, _) => "detected: verification names it",
                (true, false, true) => "noticed by the group-key check, which names no one",
                (true, false, false) => "undetected",
            };
            serde_json::json!({
                "kind": "cheat", "culprit": culprit, "what": what, "carried_out": carried_out, "detected": caught,
                "effect": format!("{verdict}; {effect}"),
            })
        })
        .collect()
}

/// What became of the keys, for a finding's effect: "the keys `agree`",
/// "the keys diverge" (a divergence was seen), or, when no divergence was
/// seen but the keys did not agree either, that some key was never derived.
fn keys_effect(v: &crate::sim::Verdict, agree: &str) -> String {
    let diverged = v.findings.iter().any(|f| matches!(f, Finding::Divergence { .. }));
    match (v.keys_agreed, diverged) {
        (true, _) => format!("the keys {agree}"),
        (false, true) => "the keys diverge".into(),
        (false, false) => "not every member derived every key".into(),
    }
}

/// One finding per kind of network attack the run saw: how many moves, and
/// what became of them (refused by the channel, or taken by a member).
fn wire_findings(sc: &Scenario, outcome: &Outcome) -> Vec<serde_json::Value> {
    let v = &outcome.verdict;
    let mut kinds: Vec<&'static str> = sc.adversaries.wire().map(|w| w.attack.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let refused: u64 = outcome.rejected.values().sum();
    kinds
        .into_iter()
        .map(|attack| {
            let moves = outcome.attacks.get(attack).copied().unwrap_or(0);
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
            serde_json::json!({"kind": "wire", "attack": attack, "moves": moves, "effect": effect})
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

fn finding_json(f: &Finding) -> serde_json::Value {
    match f {
        Finding::Invariant { check, epoch, detail } => serde_json::json!({
            "kind": "invariant", "check": check, "epoch": epoch, "detail": detail,
        }),
        Finding::Divergence { member, epoch, with } => serde_json::json!({
            "kind": "divergence", "member": member.0, "epoch": epoch, "with": with.0,
        }),
    }
}

fn learn_json(sc: &Scenario, learns: &[Learn], i: usize, l: &Learn) -> serde_json::Value {
    let elgamal = sc.keygen == crate::scenario::Keygen::Elgamal;
    let (name, index) = l.target.name_index_as(elgamal);
    let witness: Option<Vec<serde_json::Value>> = l.witness.as_ref().map(|w| {
        w.iter().map(|(value, coeff)| serde_json::json!({"value": value, "coeff": coeff})).collect()
    });
    serde_json::json!({
        "kind": "learn",
        "view": l.view.to_json(),
        "target": l.target.owner().map(|m| m.0),
        "secret": l.target.label_as(elgamal),
        "name": name,
        "index": index,
        "epoch": l.epoch,
        "seq": learn_seq(learns, i),
        "t_us": l.t_us,
        "value": sc.group.scalar_hex(&l.value),
        "expression": l.expression,
        "witness": witness,
    })
}

/// One expectation: `want` against `got`, held when they are equal.
fn compare<T: PartialEq + Into<serde_json::Value>>(key: &'static str, want: T, got: T) -> Expectation {
    let held = want == got;
    Expectation { key, expected: want.into(), observed: got.into(), held }
}

fn expectations(sc: &Scenario, outcome: &Outcome, analysis: Option<&Analysis>) -> Vec<Expectation> {
    let v = &outcome.verdict;
    let mut out = Vec::new();
    if let Some(want) = sc.expect.keys_agreed {
        out.push(compare("keys_agreed", want, v.keys_agreed));
    }
    if let Some(want) = sc.expect.epochs_completed {
        out.push(compare("epochs_completed", want, v.epochs_completed));
    }
    if let (Some(want), Some(a)) = (&sc.expect.compromised, analysis) {
        let (want, got): (Vec<u32>, Vec<u32>) =
            (want.iter().map(|m| m.0).collect(), a.compromised.iter().map(|m| m.0).collect());
        out.push(compare("compromised", want, got));
    }
    if let Some(want) = &sc.expect.recovered {
        let want: Vec<u32> = want.iter().map(|m| m.0).collect();
        let mut got: Vec<u32> = v.recoveries.iter().filter(|r| r.ok).map(|r| r.member.0).collect();
        got.sort_unstable();
        got.dedup();
        out.push(compare("recovered", want, got));
    }
    if let Some(want) = &sc.expect.detected {
        let got = culprits(v);
        out.push(compare("detected", want.clone(), got));
    }
    if let Some(want) = sc.expect.accepted_forgeries {
        out.push(compare("accepted_forgeries", want, outcome.accepted_forgeries));
    }
    if let Some(want) = &sc.expect.rejected {
        let got: Vec<String> = outcome.rejected.keys().map(|r| r.to_string()).collect();
        out.push(compare("rejected", want.clone(), got));
    }
    if let (Some(want), Some(a)) = (sc.expect.outsider_learns_key, analysis) {
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
        Summary::new(&sc, "none", &outcome, None, None)
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
