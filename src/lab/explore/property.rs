//! The properties every explore run is checked against, each with a name,
//! and the record a goal is evaluated over.
//!
//! | property | holds when |
//! |---|---|
//! | `safety.keys` | with no cheater and no network adversary (or only network adversaries on the sealed channel), every epoch's key agrees |
//! | `safety.invariants` | under the same condition, no invariant broke (I1, θ sums, θ agreement, recovered values) |
//! | `safety.recovery` | every value a replacement recovered equals the ground truth, whoever is present |
//! | `safety.blame` | verification names only declared cheaters (0 for a cheating SM); not judged when a network adversary alters messages on an unsealed channel |
//! | `safety.sealed` | on the sealed channel no adversary's message reaches a party's state |
//! | `safety.truth` | every value the knowledge analysis derives equals the ground truth |
//! | `analysis` | for n ≤ 6, `compromised` and `outsider_learns_key` equal the brute-force decision of [`super::oracle`] |
//! | `liveness` | a run whose partitions all heal, with no withholding survivor, every crash replaced and no cheater, completes all its epochs |
//! | `determinism` | on a sample of runs, two more runs with a full trace give the same summary and trace bytes |
//! | `run` | the run completes without a simulator error |
//!
//! A property that does not apply to a run is `n/a`. A failure that is one
//! of fraclab's documented limitations is `excused:<name>` and is not a
//! violation; see [`excuse`].

use super::goal::{Kind, Value};
use super::oracle;
use super::plan::{Adversary, CrashAt, Fault, Plan, REKEY_INTERVAL_MS};
use crate::adversary::PlantedBug;
use crate::lab::run::{self, Outcome};
use crate::scenario::{Scenario, TraceLevel};
use crate::schema::Summary;
use crate::schema::summary::Finding;

/// Every property, in report order.
pub const PROPERTIES: [&str; 10] = [
    "run",
    "safety.keys",
    "safety.invariants",
    "safety.recovery",
    "safety.blame",
    "safety.sealed",
    "safety.truth",
    "analysis",
    "liveness",
    "determinism",
];

/// One property's verdict on one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It held.
    Pass,
    /// It broke: what was seen.
    Fail(String),
    /// It broke in a way fraclab documents as a known limitation (the name).
    Excused(&'static str),
    /// It does not apply to this run.
    NotApplicable,
}

impl Verdict {
    /// `pass`, `FAIL`, `excused:<name>` or `n/a`, as `explore.csv` writes it.
    pub fn label(&self) -> String {
        match self {
            Verdict::Pass => "pass".into(),
            Verdict::Fail(_) => "FAIL".into(),
            Verdict::Excused(why) => format!("excused:{why}"),
            Verdict::NotApplicable => "n/a".into(),
        }
    }
}

/// One run checked: its plan's summary and every property's verdict.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// The run's summary; `None` when the run itself failed.
    pub summary: Option<Summary>,
    /// (property, verdict), in [`PROPERTIES`] order.
    pub verdicts: Vec<(&'static str, Verdict)>,
}

impl Evaluation {
    /// The first property that failed.
    pub fn violation(&self) -> Option<(&'static str, &str)> {
        self.verdicts.iter().find_map(|(p, v)| match v {
            Verdict::Fail(d) => Some((*p, d.as_str())),
            _ => None,
        })
    }

    /// The verdict of `property`.
    pub fn verdict(&self, property: &str) -> Option<&Verdict> {
        self.verdicts.iter().find(|(p, _)| *p == property).map(|(_, v)| v)
    }
}

/// The fields a goal may name, with their kinds.
pub const GOAL_FIELDS: [(&str, Kind); 22] = [
    ("members", Kind::Int),
    ("epochs", Kind::Int),
    ("epochs_completed", Kind::Int),
    ("adversaries", Kind::Int),
    ("crashes", Kind::Int),
    ("partitions", Kind::Int),
    ("accepted_forgeries", Kind::Int),
    ("keys_agreed", Kind::Bool),
    ("invariants_held", Kind::Bool),
    ("outsider_learns_key", Kind::Bool),
    ("stalled", Kind::Bool),
    ("violation", Kind::Bool),
    ("init", Kind::Str),
    ("keygen", Kind::Str),
    ("verify", Kind::Str),
    ("channel", Kind::Str),
    ("excused", Kind::Str),
    ("compromised", Kind::IntList),
    ("victims", Kind::IntList),
    ("actors", Kind::IntList),
    ("recovered", Kind::IntList),
    ("detected", Kind::IntList),
];

/// The value of goal field `name` for a run of `plan`.
pub fn field(plan: &Plan, e: &Evaluation, name: &str) -> Option<Value> {
    let ints = |v: &[u32]| Value::IntList(v.iter().map(|&x| i64::from(x)).collect());
    let s = e.summary.as_ref();
    Some(match name {
        "members" => Value::Int(i64::from(plan.members)),
        "epochs" => Value::Int(plan.epochs as i64),
        "adversaries" => Value::Int(plan.adversaries.len() as i64),
        "crashes" => Value::Int(plan.crashes() as i64),
        "partitions" => Value::Int(plan.partitions() as i64),
        "init" => Value::Str(plan.init.into()),
        "keygen" => Value::Str(plan.keygen.into()),
        "verify" => Value::Str(plan.verify.into()),
        "channel" => Value::Str(plan.channel.into()),
        "actors" => ints(&plan.actors()),
        "violation" => Value::Bool(e.violation().is_some()),
        "excused" => Value::Str(
            e.verdicts
                .iter()
                .find_map(|(_, v)| match v {
                    Verdict::Excused(why) => Some(why.to_string()),
                    _ => None,
                })
                .unwrap_or_default(),
        ),
        "epochs_completed" => Value::Int(s?.epochs_completed as i64),
        "accepted_forgeries" => Value::Int(s?.accepted_forgeries as i64),
        "keys_agreed" => Value::Bool(s?.keys_agreed),
        "invariants_held" => Value::Bool(s?.invariants_held),
        "outsider_learns_key" => Value::Bool(s?.outsider_learns_key?),
        "stalled" => Value::Bool(s?.stalled.is_some()),
        "compromised" => ints(s?.compromised.as_ref()?),
        "victims" => ints(&victims(plan, s?)?),
        "recovered" => ints(&s?.recovered),
        "detected" => ints(&s?.detected),
        _ => return None,
    })
}

/// Compromised members that play no adversary role in the run: not a
/// leaker, a coalition member, a colluder, a withholder or a cheater.
pub fn victims(plan: &Plan, s: &Summary) -> Option<Vec<u32>> {
    let actors = plan.actors();
    Some(s.compromised.as_ref()?.iter().copied().filter(|m| !actors.contains(m)).collect())
}

/// Runs `plan` (with the planted defect, if any) and checks every property;
/// `determinism` is checked only when `sample` is set.
pub fn evaluate(plan: &Plan, planted: Option<PlantedBug>, sample: bool) -> Evaluation {
    let mut sc = match plan.scenario("explore") {
        Ok(sc) => sc,
        Err(e) => return failed_run(format!("the plan does not load: {e}")),
    };
    sc.plant(planted);
    let outcome = match run::execute(&sc, TraceLevel::None, None) {
        Ok(o) => o,
        Err(e) => return failed_run(e.to_string()),
    };
    let mut verdicts = vec![("run", Verdict::Pass)];
    let s = &outcome.summary;
    verdicts.push(("safety.keys", keys(plan, s)));
    verdicts.push(("safety.invariants", invariants(plan, s)));
    verdicts.push(("safety.recovery", recovery(plan, s)));
    verdicts.push(("safety.blame", blame(plan, s)));
    verdicts.push(("safety.sealed", sealed(plan, s)));
    verdicts.push(("safety.truth", truth(&outcome)));
    verdicts.push(("analysis", analysis(&sc, &outcome)));
    verdicts.push(("liveness", liveness(plan, s)));
    verdicts.push(("determinism", if sample { determinism(&sc, s) } else { Verdict::NotApplicable }));
    Evaluation { summary: Some(outcome.summary), verdicts }
}

fn failed_run(detail: String) -> Evaluation {
    let mut verdicts = vec![("run", Verdict::Fail(detail))];
    verdicts.extend(PROPERTIES[1..].iter().map(|p| (*p, Verdict::NotApplicable)));
    Evaluation { summary: None, verdicts }
}

/// Safety is judged when nothing alters messages: no cheater, and network
/// adversaries only where the sealed channel stops them.
fn unaltered(plan: &Plan) -> bool {
    !plan.cheats() && (!plan.wire_attacks() || plan.channel == "sealed")
}

fn keys(plan: &Plan, s: &Summary) -> Verdict {
    if !unaltered(plan) {
        return Verdict::NotApplicable;
    }
    if s.keys_agreed {
        return Verdict::Pass;
    }
    Verdict::Fail("keys_agreed = false with no adversary altering messages".into())
}

fn broken(s: &Summary, recovery: bool) -> Vec<String> {
    s.findings
        .iter()
        .filter_map(|f| match f {
            Finding::Invariant { check, epoch, detail } if (check == "recovery") == recovery => {
                Some(format!("{check} at {epoch}: {detail}"))
            }
            _ => None,
        })
        .collect()
}

fn invariants(plan: &Plan, s: &Summary) -> Verdict {
    if !unaltered(plan) {
        return Verdict::NotApplicable;
    }
    match broken(s, false).first() {
        None => Verdict::Pass,
        Some(d) => Verdict::Fail(d.clone()),
    }
}

fn recovery(plan: &Plan, s: &Summary) -> Verdict {
    if plan.crashes() == 0 || plan.cheats() {
        return Verdict::NotApplicable;
    }
    match broken(s, true).first() {
        None => Verdict::Pass,
        Some(_) if plan.partitions() > 0 => Verdict::Excused("partition-and-crash"),
        Some(_) if plan.wire_attacks() && plan.channel != "sealed" => Verdict::NotApplicable,
        Some(d) => Verdict::Fail(d.clone()),
    }
}

fn blame(plan: &Plan, s: &Summary) -> Verdict {
    if plan.wire_attacks() && plan.channel != "sealed" {
        return Verdict::NotApplicable;
    }
    let culprits = plan.culprits();
    match s.detected.iter().find(|d| !culprits.contains(d)) {
        None => Verdict::Pass,
        Some(d) => Verdict::Fail(format!("verification named {d}, not a declared cheater ({culprits:?})")),
    }
}

fn sealed(plan: &Plan, s: &Summary) -> Verdict {
    match (plan.channel, s.accepted_forgeries) {
        ("sealed", 0) => Verdict::Pass,
        ("sealed", k) => Verdict::Fail(format!("{k} forged messages reached a party on the sealed channel")),
        _ => Verdict::NotApplicable,
    }
}

fn truth(o: &Outcome) -> Verdict {
    let Some(a) = &o.analysis else { return Verdict::NotApplicable };
    match a.errors.first() {
        None => Verdict::Pass,
        Some(e) => Verdict::Fail(e.clone()),
    }
}

/// The oracle's verdict on `plan`'s run, when it decides one (n ≤ 6).
pub fn oracle_verdict(plan: &Plan, planted: Option<PlantedBug>) -> Option<oracle::Verdict> {
    let mut sc = plan.scenario("explore").ok()?;
    sc.plant(planted);
    if !sc.analysis() {
        return None;
    }
    brute_force(&sc)
}

/// The oracle on `sc`'s run: collected once more (n ≤ 6 only, checked
/// before the run).
fn brute_force(sc: &Scenario) -> Option<oracle::Verdict> {
    if sc.members() > oracle::MEMBERS_MAX {
        return None;
    }
    let (_, collector) = run::collect(sc).ok()?;
    oracle::decide(&collector, &sc.group().field_order(), &sc.adversaries().coalitions(sc.members()))
}

fn analysis(sc: &Scenario, o: &Outcome) -> Verdict {
    let Some(a) = &o.analysis else { return Verdict::NotApplicable };
    if !a.errors.is_empty() {
        return Verdict::NotApplicable;
    }
    let Some(v) = brute_force(sc) else { return Verdict::NotApplicable };
    let engine: Vec<u32> = a.compromised.iter().map(|m| m.0).collect();
    if engine == v.compromised && a.outsider_learns_key == v.outsider_learns_key {
        Verdict::Pass
    } else {
        Verdict::Fail(format!(
            "the engine says compromised {engine:?}, outsider {}; brute force says {:?}, outsider {}",
            a.outsider_learns_key, v.compromised, v.outsider_learns_key
        ))
    }
}

fn liveness(plan: &Plan, s: &Summary) -> Verdict {
    let heals = plan.faults.iter().all(|f| match f {
        Fault::Crash { replace, .. } => *replace,
        Fault::Partition { until_ms, .. } => until_ms.is_some(),
    });
    let withholds = plan.adversaries.iter().any(|a| matches!(a, Adversary::Withhold { .. }));
    if !heals || withholds || !unaltered(plan) {
        return Verdict::NotApplicable;
    }
    if s.epochs_completed >= plan.epochs {
        return Verdict::Pass;
    }
    excuse(plan, s).map_or_else(
        || Verdict::Fail(format!("{} of {} epochs completed", s.epochs_completed, plan.epochs)),
        Verdict::Excused,
    )
}

fn determinism(sc: &Scenario, first: &Summary) -> Verdict {
    let twice = || run::execute(sc, TraceLevel::Full, None).map(|o| o.summary);
    match (twice(), twice()) {
        (Ok(a), Ok(b)) if a.to_json() != b.to_json() => {
            Verdict::Fail("two traced runs wrote different summaries".into())
        }
        (Ok(a), Ok(_))
            if Summary { trace: String::new(), trace_sha256: None, ..a.clone() }.to_json()
                != Summary { trace: String::new(), trace_sha256: None, ..first.clone() }.to_json() =>
        {
            Verdict::Fail("the traced run's summary differs from the untraced run's".into())
        }
        (Ok(_), Ok(_)) => Verdict::Pass,
        (Err(e), _) | (_, Err(e)) => Verdict::Fail(format!("a traced rerun failed: {e}")),
    }
}

/// The documented limitation a run that fell short of its epochs falls
/// under, if any (README, "Known limitations"), for `liveness` only: each
/// of these ends in a stall, never in a wrong key, so no safety property is
/// ever excused. A crash during initialisation (no epoch completed and a
/// crash before the first rekey); two members down at once or a crash
/// during another's recovery (two crashes within three rekey intervals); a
/// partition together with a crash; a crash at an arbitrary moment on a
/// lossy, duplicating or skewed network, where a live member can be
/// suspected first.
pub fn excuse(plan: &Plan, s: &Summary) -> Option<&'static str> {
    let crashes: Vec<CrashAt> = plan
        .faults
        .iter()
        .filter_map(|f| match f {
            Fault::Crash { at, .. } => Some(*at),
            _ => None,
        })
        .collect();
    if crashes.is_empty() {
        return None;
    }
    if s.epochs_completed == 0 && crashes.iter().any(|&at| Plan::crash_ms(at) < REKEY_INTERVAL_MS) {
        return Some("init-crash");
    }
    let mut times: Vec<u64> = crashes.iter().map(|&at| Plan::crash_ms(at)).collect();
    times.sort_unstable();
    if times.windows(2).any(|w| w[1] - w[0] < 3 * REKEY_INTERVAL_MS) {
        return Some("two-down");
    }
    if plan.partitions() > 0 {
        return Some("partition-and-crash");
    }
    let arbitrary = crashes.iter().any(|at| matches!(at, CrashAt::Ms(_)));
    if arbitrary && (plan.loss > 0.0 || plan.clock_skew_ms > 0.0 || plan.duplicate > 0.0) {
        return Some("crash-mid-round");
    }
    None
}
