//! `summary.json`, format `fraclab-summary/1` (reference §5; README
//! "Outputs"): the run's verdict, counters, typed [`Finding`]s and
//! [`Expectation`]s. `report::summary` builds one from a run; anything can
//! read one back with [`Summary::from_json`].
//!
//! Findings (and `stalled`) are written with their keys in alphabetical
//! order, as they always have been: they began as JSON maps, and the
//! committed summaries keep those bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{JsonError, View};

/// The format string of a summary.
pub const SUMMARY_FORMAT: &str = "fraclab-summary/1";

/// The fewest members a run has (reference §9).
pub const MEMBERS_MIN: u32 = 2;
/// The most members a run has (reference §9).
pub const MEMBERS_MAX: u32 = 4096;
/// The most epochs a run has (reference §9).
pub const EPOCHS_MAX: u64 = 100_000;

/// `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// [`SUMMARY_FORMAT`].
    pub format: String,
    /// The scenario's name.
    pub scenario: String,
    /// The run's seed.
    pub seed: u64,
    /// The parameter set's name.
    pub params: String,
    /// n, within reference §9.
    #[serde(deserialize_with = "members")]
    pub members: u32,
    /// `sm`, `ring` or `ring-hardened`.
    pub init: String,
    /// `additive` or `elgamal`.
    pub keygen: String,
    /// `ideal`, `plain` or `sealed`.
    pub channel: String,
    /// Key-generation iterations asked for, within reference §9.
    #[serde(deserialize_with = "epochs")]
    pub epochs: u64,
    /// Iterations every member completed.
    pub epochs_completed: u64,
    /// Every epoch up to the last completed one produced one confirmed key.
    pub keys_agreed: bool,
    /// That last key (hex), when the keys agreed.
    pub final_sk: Option<String>,
    /// No invariant broke and the analysis agreed with the ground truth.
    pub invariants_held: bool,
    /// Members some view that excludes them derived an FK or α of; null when
    /// the knowledge analysis is off.
    pub compromised: Option<Vec<u32>>,
    /// The other members; null when the analysis is off.
    pub secure: Option<Vec<u32>>,
    /// The outsider derives some θ or is handed some SK; null when the
    /// analysis is off.
    pub outsider_learns_key: Option<bool>,
    /// Indices whose replacement recovered (process 700) with every value
    /// equal to the ground truth and the key confirmed.
    pub recovered: Vec<u32>,
    /// Culprits named by a failed verification check (0 is the SM), sorted.
    pub detected: Vec<u32>,
    /// Set when the run ended short of its epochs.
    #[serde(serialize_with = "sorted_keys")]
    pub stalled: Option<Stall>,
    /// Simulator events (deliveries and timers that fired).
    pub events: u64,
    /// Transmissions, retransmissions included.
    pub messages_sent: u64,
    /// Deliveries.
    pub messages_delivered: u64,
    /// Drops.
    pub messages_dropped: u64,
    /// Retransmissions.
    pub retransmissions: u64,
    /// Virtual time at the end, µs.
    pub sim_time_us: u64,
    /// Messages the receiver's channel refused, by reason.
    pub rejected: BTreeMap<String, u64>,
    /// Adversaries' messages (tampered, replayed, forged) that reached a
    /// party's protocol state; 0 on the sealed channel.
    pub accepted_forgeries: u64,
    /// The network adversaries' moves, by attack.
    pub attacks: BTreeMap<String, u64>,
    /// Broken invariants, divergences, derivations, detections, …
    #[serde(serialize_with = "sorted_keys")]
    pub findings: Vec<Finding>,
    /// The scenario's `[expect]`, each with what was observed.
    pub expectations: Vec<Expectation>,
    /// The scenario's warnings.
    pub warnings: Vec<String>,
    /// The trace level written.
    pub trace: String,
    /// SHA-256 (hex) of `trace.jsonl`; null at level `none`.
    pub trace_sha256: Option<String>,
}

/// Why the run stopped short: the iteration that never completed, who
/// never completed it, who was down. Fields in alphabetical order (see the
/// module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stall {
    /// One sentence for people.
    pub detail: String,
    /// Members that were down.
    pub failed: Vec<u32>,
    /// Members that never completed `iter`.
    pub incomplete: Vec<u32>,
    /// The iteration that never completed.
    pub iter: u64,
}

/// One finding of a run, tagged by its `"kind"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Finding {
    /// A broken invariant: `I1`, `theta_sum` or `theta_agree`.
    Invariant {
        /// The invariant.
        check: String,
        /// The epoch it broke at.
        epoch: u64,
        /// What differs.
        detail: String,
    },
    /// `member`'s key of `epoch` differs from `with`'s.
    Divergence {
        /// One member.
        member: u32,
        /// The epoch.
        epoch: u64,
        /// The member it differs from.
        with: u32,
    },
    /// A replacement recovered correctly.
    Recovered {
        /// The replaced index.
        member: u32,
        /// r.
        iter: u64,
        /// Always true.
        ok: bool,
    },
    /// A recovery that did not check out.
    RecoveryFailed {
        /// The replaced index.
        member: u32,
        /// r.
        iter: u64,
        /// Survivors whose ĤFK never came.
        withheld_by: Vec<u32>,
        /// One sentence for people.
        detail: String,
    },
    /// The run stalled (the same as the summary's `stalled`).
    Stalled(Stall),
    /// A failed check.
    Detect {
        /// Who found it.
        member: u32,
        /// The check.
        check: String,
        /// The party it names (0 = SM), or null.
        culprit: Option<u32>,
        /// The iteration.
        iter: u64,
    },
    /// A declared cheater and what became of its cheat.
    Cheat {
        /// The cheater (0 = SM).
        culprit: u32,
        /// What it forged.
        what: String,
        /// Whether it was up to cheat when its turn came.
        carried_out: bool,
        /// Whether verification named it.
        detected: bool,
        /// What the ground truth says the cheat did.
        effect: String,
    },
    /// One kind of network attack.
    Wire {
        /// `tamper`, `replay` or `forge`.
        attack: String,
        /// How many moves.
        moves: u64,
        /// What became of them.
        effect: String,
    },
    /// A derivation by the knowledge analysis.
    Learn(LearnFinding),
    /// SK handed to the outsider.
    SkLeak {
        /// Always the outsider.
        view: View,
        /// The epoch.
        epoch: u64,
    },
    /// A derived value that disagrees with the ground truth (a fraclab bug).
    AnalysisError {
        /// What disagrees.
        detail: String,
    },
    /// An exponent the dlog adversary found.
    Dlog {
        /// The attacker's view.
        view: View,
        /// The secret's label.
        secret: String,
        /// The exponent found (hex).
        value: String,
        /// Group operations spent.
        work: u64,
        /// Whether it is the ground truth.
        matches_truth: bool,
    },
    /// One dlog attacker's account.
    DlogAttack {
        /// The attacker's view.
        view: View,
        /// The parameter set.
        params: String,
        /// Bits of q.
        q_bits: u64,
        /// The work budget.
        budget: u64,
        /// Exponents it went after.
        targets: u64,
        /// Exponents it found.
        recovered: u64,
        /// Group operations spent.
        work: u64,
        /// One sentence for people.
        detail: String,
    },
}

impl std::fmt::Display for Finding {
    /// The finding as one line of JSON, keys sorted (as `summary.json` has it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = serde_json::to_value(self).map_err(|_| std::fmt::Error)?;
        write!(f, "{v}")
    }
}

/// A `learn` finding: a view derived a secret (README "Outputs").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnFinding {
    /// Who derived it.
    pub view: View,
    /// The owner; null for θ.
    pub target: Option<u32>,
    /// Its label, e.g. `FK[3,1]`.
    pub secret: String,
    /// Its trace name (fk, x, alpha, v, theta).
    pub name: String,
    /// Its trace index.
    pub index: u64,
    /// The latest epoch any member held at that moment.
    pub epoch: u64,
    /// The trace `seq` of the matching `learn` line.
    pub seq: u64,
    /// Virtual time, µs.
    pub t_us: u64,
    /// The derived scalar (hex).
    pub value: String,
    /// The derivation as an equation, for the first of each (view, owner).
    pub expression: Option<String>,
    /// The derivation's terms, for the first of each (view, owner).
    pub witness: Option<Vec<Witness>>,
}

/// One term of a derivation: `coeff` · `value`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    /// The observation, e.g. `FK[2,1] (own)`.
    pub value: String,
    /// A small integer or fraction, e.g. `-1`, `1/3`.
    pub coeff: String,
}

/// One `[expect]` entry and what the run observed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    /// The expectation's key (`keys_agreed`, `compromised`, …).
    pub key: String,
    /// What the scenario expects.
    pub expected: Observed,
    /// What the run gave.
    pub observed: Observed,
    /// Whether they are equal.
    pub held: bool,
}

/// An expected or observed value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Observed {
    /// `keys_agreed`, `outsider_learns_key`.
    Bool(bool),
    /// `epochs_completed`, `accepted_forgeries`.
    Count(u64),
    /// `compromised`, `recovered`, `detected`: member ids.
    Ids(Vec<u32>),
    /// `rejected`: reasons.
    Names(Vec<String>),
}

impl std::fmt::Display for Observed {
    /// The value as JSON.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| std::fmt::Error)?)
    }
}

impl From<bool> for Observed {
    fn from(b: bool) -> Observed {
        Observed::Bool(b)
    }
}

impl From<u64> for Observed {
    fn from(x: u64) -> Observed {
        Observed::Count(x)
    }
}

impl From<Vec<u32>> for Observed {
    fn from(ids: Vec<u32>) -> Observed {
        Observed::Ids(ids)
    }
}

impl From<Vec<String>> for Observed {
    fn from(names: Vec<String>) -> Observed {
        Observed::Names(names)
    }
}

/// Serialises through a JSON value, whose maps keep their keys sorted.
fn sorted_keys<T: Serialize, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    serde_json::to_value(value).map_err(serde::ser::Error::custom)?.serialize(s)
}

/// A member count within reference §9, checked as it is read (so the error has its line).
fn members<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u64::deserialize(d)?;
    match u32::try_from(n) {
        Ok(n) if (MEMBERS_MIN..=MEMBERS_MAX).contains(&n) => Ok(n),
        _ => Err(serde::de::Error::custom(format!(
            "{n} is out of range; allowed: {MEMBERS_MIN}..={MEMBERS_MAX}"
        ))),
    }
}

/// An epoch count within reference §9, checked as it is read.
fn epochs<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let e = u64::deserialize(d)?;
    if e > EPOCHS_MAX {
        return Err(serde::de::Error::custom(format!("{e} is out of range; allowed: 0..={EPOCHS_MAX}")));
    }
    Ok(e)
}

impl Summary {
    /// Reads a summary from its text: the format string first, then every
    /// field typed, then [`Summary::check`]. Errors name the line and key.
    pub fn from_json(text: &str) -> Result<Summary, JsonError> {
        let s: Summary = super::parse_json(text, SUMMARY_FORMAT)?;
        s.check().map_err(|(key, message)| JsonError { line: None, key, message })?;
        Ok(s)
    }

    /// The summary as `summary.json` holds it (pretty, with a final newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a summary always serialises");
        s.push('\n');
        s
    }

    /// The bounds of reference §9 and ids within the run's members, so that
    /// no reader sizes anything by a number a run cannot produce. The error
    /// is (key path, message).
    pub fn check(&self) -> Result<(), (String, String)> {
        let (n, e) = (self.members, self.epochs);
        if !(MEMBERS_MIN..=MEMBERS_MAX).contains(&n) {
            let m = format!("{n} is out of range; allowed: {MEMBERS_MIN}..={MEMBERS_MAX}");
            return Err(("members".into(), m));
        }
        if e > EPOCHS_MAX {
            return Err(("epochs".into(), format!("{e} is out of range; allowed: 0..={EPOCHS_MAX}")));
        }
        for (k, &m) in self.compromised.iter().flatten().enumerate() {
            if m == 0 || m > n {
                return Err((format!("compromised[{k}]"), format!("member {m} is not one of 1..={n}")));
            }
        }
        for (k, f) in self.findings.iter().enumerate() {
            let Finding::Learn(l) = f else { continue };
            let at = |key: &str, m: String| (format!("findings[{k}].{key}"), m);
            if !(1..=e + 1).contains(&l.epoch) {
                return Err(at("epoch", format!("{} is not an epoch of this run (1..={})", l.epoch, e + 1)));
            }
            if let Some(m) = l.view.ids().iter().find(|&&m| m == 0 || m > n) {
                return Err(at("view", format!("member {m} is not one of 1..={n}")));
            }
            if l.target.is_some_and(|t| t > n) {
                let t = l.target.unwrap_or(0);
                return Err(at("target", format!("{t} is not a party of this run (0..={n})")));
            }
        }
        Ok(())
    }

    /// A cheater is declared, or an adversary's message reached a member:
    /// broken invariants and failed checks are its effects (reported in
    /// `cheat` and `wire` findings), not failures of the run.
    pub fn cheated(&self) -> bool {
        self.accepted_forgeries > 0 || self.findings.iter().any(|f| matches!(f, Finding::Cheat { .. }))
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
        let expects = |key: &str, pred: &dyn Fn(&Observed) -> bool| {
            self.expectations.iter().any(|e| e.key == key && pred(&e.expected))
        };
        let divergence_expected = expects("keys_agreed", &|v| *v == Observed::Bool(false));
        let stall_expected =
            expects("epochs_completed", &|v| matches!(v, Observed::Count(x) if *x < self.epochs));
        let cheated = self.cheated();
        let json = |f: &Finding| f.to_string();
        let mut out: Vec<String> = self
            .findings
            .iter()
            .filter(|f| {
                (matches!(f, Finding::Invariant { .. }) && !cheated)
                    || matches!(f, Finding::AnalysisError { .. })
            })
            .map(json)
            .collect();
        if !self.keys_agreed && !divergence_expected {
            let n = self.findings.iter().filter(|f| matches!(f, Finding::Divergence { .. })).count();
            out.push(format!("keys did not agree ({n} divergence findings)"));
        }
        if let Some(stall) = self.stalled.as_ref().filter(|_| !stall_expected) {
            out.push(format!("stalled: {}", stall.detail));
        }
        // A failed verification check is a problem unless the scenario says
        // who it expects to be caught (an `[expect] detected`).
        if !cheated && !self.expectations.iter().any(|e| e.key == "detected") {
            out.extend(
                self.findings
                    .iter()
                    .filter(|f| matches!(f, Finding::Detect { .. }))
                    .map(|f| format!("verification failed: {}", json(f))),
            );
        }
        out
    }

    /// The `learn` findings, in finding order.
    pub fn learns(&self) -> impl Iterator<Item = &LearnFinding> {
        self.findings.iter().filter_map(|f| match f {
            Finding::Learn(l) => Some(l),
            _ => None,
        })
    }
}
