//! The space explore draws scenarios from: ranges and choices for every
//! part of a scenario, a default that covers everything fraclab supports,
//! and `SPACE.toml`, which narrows it with errors located like a
//! scenario's. [`Space::draw`] turns (seed, run) into a [`Plan`] from its
//! own named ChaCha stream, so a run's draw depends on nothing else.

use std::ops::Range;

use rand_core::Rng;
use serde::Deserialize;
use toml::Spanned;

use super::plan::{
    Adversary, CrashAt, Fault, Latency, LeakTo, Plan, REKEY_INTERVAL_MS, ROUND_TIMEOUT_MS, WireKind,
};
use crate::group::PARAMS_NAMES;
use crate::scenario::{self, LoadError};
use crate::schema::summary::{MEMBERS_MAX, MEMBERS_MIN};
use crate::sim::rng::{stream, uniform_i64, unit_f64};

/// The parameter sets a space may name: the prime groups, and XOR sets of
/// common lengths (a draw that pairs XOR with ElGamal or commitments does
/// not load and is drawn again).
pub const PARAMS: [&str; 15] = [
    PARAMS_NAMES[0],
    PARAMS_NAMES[1],
    PARAMS_NAMES[2],
    PARAMS_NAMES[3],
    PARAMS_NAMES[4],
    PARAMS_NAMES[5],
    PARAMS_NAMES[6],
    PARAMS_NAMES[7],
    PARAMS_NAMES[8],
    "xor-8",
    "xor-16",
    "xor-32",
    "xor-64",
    "xor-128",
    "xor-256",
];
/// The initialisations.
pub const INITS: [&str; 3] = ["sm", "ring", "ring-hardened"];
/// The key generations.
pub const KEYGENS: [&str; 2] = ["additive", "elgamal"];
/// The verifications.
pub const VERIFIES: [&str; 2] = ["none", "commitments"];
/// The channels.
pub const CHANNELS: [&str; 3] = ["plain", "ideal", "sealed"];
/// The latency distributions.
pub const LATENCIES: [&str; 3] = ["fixed", "uniform", "exponential"];
/// The crash points: an iteration before or after its send, a virtual
/// time, during initialisation, or while a recovery of an earlier crash is
/// under way.
pub const CRASH_POINTS: [&str; 5] = ["before-send", "after-send", "at-ms", "init", "recovery"];
/// The adversary kinds explore draws (`dlog` is an offline computation on
/// commitments, not a behaviour in the run, and is left out).
pub const KINDS: [&str; 10] = [
    "leak",
    "coalition",
    "ring-collusion",
    "eavesdropper",
    "withhold",
    "cheat",
    "sm-cheat",
    "tamper",
    "replay",
    "forge",
];
/// The secrets a leak may reveal.
pub const SECRETS: [&str; 4] = ["alpha", "fk", "theta", "sk"];

/// The most epochs a space may draw.
pub const EPOCHS_MAX: u64 = 50;
/// The most crashes, partitions or adversaries a space may draw per run.
pub const BUDGET_MAX: u64 = 16;

/// An inclusive range.
pub type Between<T> = (T, T);

/// Where each drawn value comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Space {
    /// n.
    pub members: Between<u32>,
    /// Key-generation iterations.
    pub epochs: Between<u64>,
    /// Parameter sets.
    pub params: Vec<String>,
    /// Initialisations.
    pub init: Vec<&'static str>,
    /// Key generations.
    pub keygen: Vec<&'static str>,
    /// Verifications.
    pub verify: Vec<&'static str>,
    /// Channels.
    pub channel: Vec<&'static str>,
    /// Latency distributions.
    pub latency: Vec<&'static str>,
    /// Latency values, ms.
    pub latency_ms: Between<u64>,
    /// Loss, when not 0 (half the draws are lossless).
    pub loss: Between<f64>,
    /// Duplication, when not 0 (half the draws have none).
    pub duplicate: Between<f64>,
    /// Clock skew, ms, when not 0 (half the draws have none).
    pub clock_skew_ms: Between<u64>,
    /// Crashes per run.
    pub crashes: Between<u64>,
    /// Where a crash falls.
    pub crash_at: Vec<&'static str>,
    /// Whether a crashed member is replaced.
    pub replace: Vec<bool>,
    /// Partitions per run.
    pub partitions: Between<u64>,
    /// Whether a partition heals.
    pub heal: Vec<bool>,
    /// Adversaries per run.
    pub adversaries: Between<u64>,
    /// Adversary kinds.
    pub kinds: Vec<&'static str>,
    /// The members adversaries act through (clamped to 1..=n).
    pub actors: Between<u32>,
    /// What leaks reveal.
    pub secrets: Vec<&'static str>,
}

impl Default for Space {
    /// Everything fraclab supports, at the sizes where runs take
    /// milliseconds: n 3..=8, 1..=4 epochs, toy-64.
    fn default() -> Space {
        Space {
            members: (3, 8),
            epochs: (1, 4),
            params: vec!["toy-64".to_string()],
            init: INITS.to_vec(),
            keygen: KEYGENS.to_vec(),
            verify: VERIFIES.to_vec(),
            channel: CHANNELS.to_vec(),
            latency: LATENCIES.to_vec(),
            latency_ms: (1, 40),
            loss: (0.01, 0.3),
            duplicate: (0.01, 0.2),
            clock_skew_ms: (1, 50),
            crashes: (0, 2),
            crash_at: CRASH_POINTS.to_vec(),
            replace: vec![true, false],
            partitions: (0, 1),
            heal: vec![true, false],
            adversaries: (0, 2),
            kinds: KINDS.to_vec(),
            actors: (1, MEMBERS_MAX),
            secrets: SECRETS.to_vec(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSpace {
    protocol: Option<RawProtocol>,
    network: Option<RawNetwork>,
    faults: Option<RawFaults>,
    adversaries: Option<RawAdversaries>,
}

type Pair<T> = Spanned<Vec<T>>;
type Names = Spanned<Vec<Spanned<String>>>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawProtocol {
    members: Option<Pair<u32>>,
    epochs: Option<Pair<u64>>,
    params: Option<Names>,
    init: Option<Names>,
    keygen: Option<Names>,
    verify: Option<Names>,
    channel: Option<Names>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    latency: Option<Names>,
    latency_ms: Option<Pair<u64>>,
    loss: Option<Pair<f64>>,
    duplicate: Option<Pair<f64>>,
    clock_skew_ms: Option<Pair<u64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFaults {
    crashes: Option<Pair<u64>>,
    crash_at: Option<Names>,
    replace: Option<Spanned<Vec<bool>>>,
    partitions: Option<Pair<u64>>,
    heal: Option<Spanned<Vec<bool>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAdversaries {
    count: Option<Pair<u64>>,
    kinds: Option<Names>,
    members: Option<Pair<u32>>,
    secrets: Option<Names>,
}

/// Reads one section of a space file and checks its values.
struct Check<'a> {
    src: &'a str,
    file: &'a str,
}

impl Check<'_> {
    fn err(&self, key: &str, span: Range<usize>, message: String) -> LoadError {
        scenario::error_at(self.src, self.file, key, span, &message)
    }

    /// `[lo, hi]` with `limit.0 ≤ lo ≤ hi ≤ limit.1`.
    fn range<T: Copy + PartialOrd + std::fmt::Display>(
        &self,
        key: &str,
        v: Option<Pair<T>>,
        limit: (T, T),
        default: (T, T),
    ) -> Result<(T, T), LoadError> {
        let Some(v) = v else { return Ok(default) };
        let span = v.span();
        let allowed = format!("allowed: [lo, hi] with {} ≤ lo ≤ hi ≤ {}", limit.0, limit.1);
        match v.get_ref().as_slice() {
            &[lo, hi] if limit.0 <= lo && lo <= hi && hi <= limit.1 => Ok((lo, hi)),
            &[lo, hi] => Err(self.err(key, span, format!("[{lo}, {hi}] is out of range; {allowed}"))),
            other => Err(self.err(key, span, format!("a list of {} values; {allowed}", other.len()))),
        }
    }

    /// A non-empty list of names from `allowed`, each once.
    fn names(
        &self,
        key: &str,
        v: Option<Names>,
        allowed: &[&'static str],
        default: &[&'static str],
    ) -> Result<Vec<&'static str>, LoadError> {
        let Some(v) = v else { return Ok(default.to_vec()) };
        let listed = scenario::listed(allowed, scenario::quoted);
        if v.get_ref().is_empty() {
            return Err(self.err(
                key,
                v.span(),
                format!("an empty list draws nothing; allowed: some of {listed}"),
            ));
        }
        let mut out = Vec::new();
        for name in v.into_inner() {
            let Some(&known) = allowed.iter().find(|a| **a == name.get_ref().as_str()) else {
                let (given, hint) =
                    (name.get_ref(), scenario::did_you_mean(name.get_ref(), allowed, scenario::quoted));
                return Err(self.err(
                    key,
                    name.span(),
                    format!("{} is unknown; {hint}allowed: {listed}", scenario::quoted(given)),
                ));
            };
            if out.contains(&known) {
                return Err(self.err(
                    key,
                    name.span(),
                    format!("\"{known}\" is listed twice; allowed: each once"),
                ));
            }
            out.push(known);
        }
        Ok(out)
    }

    fn bools(&self, key: &str, v: Option<Spanned<Vec<bool>>>) -> Result<Vec<bool>, LoadError> {
        let Some(v) = v else { return Ok(vec![true, false]) };
        let span = v.span();
        let mut out = v.into_inner();
        out.sort_unstable();
        out.dedup();
        out.reverse();
        if out.is_empty() {
            return Err(self.err(
                key,
                span,
                "an empty list draws nothing; allowed: [true], [false] or both".into(),
            ));
        }
        Ok(out)
    }
}

impl Space {
    /// Reads a space file's text (`file` names it in errors): every key is
    /// optional, and a key left out keeps [`Space::default`]'s value.
    pub fn parse(src: &str, file: &str) -> Result<Space, LoadError> {
        let raw: RawSpace = scenario::read_toml(src, file)?;
        let c = Check { src, file };
        let d = Space::default();
        let p = raw.protocol.unwrap_or_default();
        let n = raw.network.unwrap_or_default();
        let f = raw.faults.unwrap_or_default();
        let a = raw.adversaries.unwrap_or_default();
        let params: Vec<&'static str> = c.names("protocol.params", p.params, &PARAMS, &["toy-64"])?;
        let fraction = |key: &str, v: Option<Pair<f64>>, default| c.range(key, v, (0.0, 0.95), default);
        let space = Space {
            members: c.range("protocol.members", p.members, (MEMBERS_MIN, MEMBERS_MAX), d.members)?,
            epochs: c.range("protocol.epochs", p.epochs, (1, EPOCHS_MAX), d.epochs)?,
            params: params.into_iter().map(String::from).collect(),
            init: c.names("protocol.init", p.init, &INITS, &d.init)?,
            keygen: c.names("protocol.keygen", p.keygen, &KEYGENS, &d.keygen)?,
            verify: c.names("protocol.verify", p.verify, &VERIFIES, &d.verify)?,
            channel: c.names("protocol.channel", p.channel, &CHANNELS, &d.channel)?,
            latency: c.names("network.latency", n.latency, &LATENCIES, &d.latency)?,
            latency_ms: c.range("network.latency_ms", n.latency_ms, (0, 60_000), d.latency_ms)?,
            loss: fraction("network.loss", n.loss, d.loss)?,
            duplicate: fraction("network.duplicate", n.duplicate, d.duplicate)?,
            clock_skew_ms: c.range("network.clock_skew_ms", n.clock_skew_ms, (0, 60_000), d.clock_skew_ms)?,
            crashes: c.range("faults.crashes", f.crashes, (0, BUDGET_MAX), d.crashes)?,
            crash_at: c.names("faults.crash_at", f.crash_at, &CRASH_POINTS, &d.crash_at)?,
            replace: c.bools("faults.replace", f.replace)?,
            partitions: c.range("faults.partitions", f.partitions, (0, BUDGET_MAX), d.partitions)?,
            heal: c.bools("faults.heal", f.heal)?,
            adversaries: c.range("adversaries.count", a.count, (0, BUDGET_MAX), d.adversaries)?,
            kinds: c.names("adversaries.kinds", a.kinds, &KINDS, &d.kinds)?,
            actors: c.range("adversaries.members", a.members, (1, MEMBERS_MAX), d.actors)?,
            secrets: c.names("adversaries.secrets", a.secrets, &SECRETS, &d.secrets)?,
        };
        Ok(space)
    }

    /// Loads a space file.
    pub fn load(path: &std::path::Path) -> Result<Space, LoadError> {
        let (file, src) = scenario::read_text(path)?;
        Space::parse(&src, &file)
    }

    /// Whether `p` lies in the space, as far as shrinking must respect it:
    /// n, epochs and the budgets' lower bounds, and the protocol and
    /// latency choices. Lower probabilities and fewer faults or adversaries
    /// (down to the budgets' minimums) always are.
    pub fn admits(&self, p: &Plan) -> bool {
        let latency = match p.latency {
            Latency::Fixed(_) => "fixed",
            Latency::Uniform(..) => "uniform",
            Latency::Exponential(..) => "exponential",
        };
        let crash_points = p.faults.iter().all(|f| match f {
            Fault::Crash { at: CrashAt::Point { before: true, .. }, .. } => {
                self.crash_at.contains(&"before-send")
            }
            Fault::Crash { at: CrashAt::Point { before: false, .. }, .. } => {
                self.crash_at.contains(&"after-send")
            }
            Fault::Crash { at: CrashAt::Ms(ms), .. } if *ms < REKEY_INTERVAL_MS => {
                self.crash_at.iter().any(|c| *c == "init" || *c == "recovery")
            }
            Fault::Crash { .. } => self.crash_at.iter().any(|c| *c == "at-ms" || *c == "recovery"),
            Fault::Partition { until_ms, .. } => self.heal.contains(&until_ms.is_some()),
        });
        let within = |v: f64| (self.latency_ms.0 as f64..=self.latency_ms.1 as f64).contains(&v);
        let latency_values = match p.latency {
            Latency::Fixed(v) => within(v),
            Latency::Uniform(a, b) => within(a) && within(b),
            Latency::Exponential(a, _) => within(a),
        };
        crash_points
            && latency_values
            && (self.members.0..=self.members.1).contains(&p.members)
            && p.epochs >= self.epochs.0
            && self.init.contains(&p.init)
            && self.keygen.contains(&p.keygen)
            && self.verify.contains(&p.verify)
            && self.channel.contains(&p.channel)
            && self.latency.contains(&latency)
            && p.crashes() as u64 >= self.crashes.0
            && p.partitions() as u64 >= self.partitions.0
            && p.adversaries.len() as u64 >= self.adversaries.0
    }

    /// Run `run`'s plan: drawn from the stream `explore/<run>` of `seed`,
    /// retried from the same stream until the scenario loader accepts it
    /// (at most 64 draws; `None` if none loads).
    pub fn draw(&self, seed: u64, run: u64) -> Option<Plan> {
        let mut rng = stream(seed, &format!("explore/{run}"));
        (0..64).find_map(|_| {
            let plan = self.draw_once(&mut rng);
            plan.scenario("explore").is_ok().then_some(plan)
        })
    }

    fn draw_once(&self, r: &mut dyn Rng) -> Plan {
        let n = between_u64(r, (u64::from(self.members.0), u64::from(self.members.1))) as u32;
        let epochs = between_u64(r, self.epochs);
        let init = *pick(r, &self.init);
        let verify = if init == "ring-hardened" && self.verify.contains(&"none") {
            "none"
        } else {
            *pick(r, &self.verify)
        };
        let latency = match *pick(r, &self.latency) {
            "fixed" => Latency::Fixed(between_u64(r, self.latency_ms) as f64),
            "uniform" => {
                let a = between_u64(r, self.latency_ms);
                Latency::Uniform(a as f64, between_u64(r, (a, self.latency_ms.1)) as f64)
            }
            _ => {
                let a = between_u64(r, (self.latency_ms.0, self.latency_ms.0.max(self.latency_ms.1 / 4)));
                Latency::Exponential(a as f64, between_u64(r, (a.max(1), self.latency_ms.1.max(1))) as f64)
            }
        };
        // In this order: seed, parameter set, key generation, channel.
        let seed = between_u64(r, (1, 999_999));
        let params = pick(r, &self.params).clone();
        let keygen = *pick(r, &self.keygen);
        let channel = *pick(r, &self.channel);
        let mut plan = Plan {
            seed,
            params,
            members: n,
            init,
            keygen,
            verify,
            channel,
            epochs,
            latency,
            loss: sometimes(r, self.loss),
            duplicate: sometimes(r, self.duplicate),
            clock_skew_ms: sometimes(r, (self.clock_skew_ms.0 as f64, self.clock_skew_ms.1 as f64)).round(),
            faults: Vec::new(),
            adversaries: Vec::new(),
        };
        let member = |r: &mut dyn Rng| between_u64(r, (1, u64::from(n))) as u32;
        let mut last_crash_ms = None;
        for _ in 0..between_u64(r, self.crashes) {
            let at = match *pick(r, &self.crash_at) {
                "before-send" | "after-send" if epochs == 0 => CrashAt::Ms(REKEY_INTERVAL_MS),
                "before-send" => CrashAt::Point { epoch: between_u64(r, (1, epochs)), before: true },
                "after-send" => CrashAt::Point { epoch: between_u64(r, (1, epochs)), before: false },
                "init" => CrashAt::Ms(between_u64(r, (0, 60))),
                "recovery" if last_crash_ms.is_some() => {
                    let after: u64 = last_crash_ms.unwrap_or(0) + ROUND_TIMEOUT_MS;
                    CrashAt::Ms(between_u64(r, (after, after + 2 * ROUND_TIMEOUT_MS)))
                }
                _ => CrashAt::Ms(between_u64(r, (REKEY_INTERVAL_MS, (epochs + 1) * REKEY_INTERVAL_MS))),
            };
            last_crash_ms = Some(Plan::crash_ms(at));
            plan.faults.push(Fault::Crash { member: member(r), at, replace: *pick(r, &self.replace) });
        }
        for _ in 0..between_u64(r, self.partitions) {
            let mut side: Vec<u32> = (1..=n).filter(|_| r.next_u64() & 1 == 1).collect();
            if side.is_empty() || side.len() == n as usize {
                side = vec![member(r)];
            }
            let from_ms = between_u64(r, (REKEY_INTERVAL_MS / 2, epochs.max(1) * REKEY_INTERVAL_MS));
            let until_ms = pick(r, &self.heal).then(|| from_ms + between_u64(r, (200, 2000)));
            plan.faults.push(Fault::Partition { groups: vec![side], from_ms, until_ms });
        }
        let lo = self.actors.0.min(n);
        let hi = self.actors.1.min(n);
        let actor = |r: &mut dyn Rng| between_u64(r, (u64::from(lo), u64::from(hi))) as u32;
        let kinds: Vec<&'static str> = self
            .kinds
            .iter()
            .copied()
            .filter(|k| match *k {
                "ring-collusion" => init != "sm" && n >= 3,
                "sm-cheat" => init == "sm",
                "coalition" => n >= 3,
                _ => true,
            })
            .collect();
        for _ in 0..between_u64(r, self.adversaries) {
            if kinds.is_empty() {
                break;
            }
            let a = match *pick(r, &kinds) {
                "leak" => {
                    let secret = *pick(r, &self.secrets);
                    let last = if secret == "fk" { epochs.max(1) } else { epochs + 1 };
                    let member = actor(r);
                    let to = match r.next_u64() % 4 {
                        0 | 1 => LeakTo::Group,
                        2 => LeakTo::Outsider,
                        _ => LeakTo::Members(vec![member % n + 1]),
                    };
                    Adversary::Leak { member, secret, epoch: between_u64(r, (1, last)), to }
                }
                "coalition" => {
                    let size = between_u64(r, (2, u64::from(n - 1).min(3))) as usize;
                    let mut ms: Vec<u32> = Vec::new();
                    for _ in 0..4 * size {
                        let m = actor(r);
                        if ms.len() < size && !ms.contains(&m) {
                            ms.push(m);
                        }
                    }
                    if ms.len() < 2 {
                        ms = vec![1, 2];
                    }
                    ms.sort_unstable();
                    Adversary::Coalition(ms)
                }
                "ring-collusion" => Adversary::RingCollusion { target: member(r) },
                "eavesdropper" => {
                    let mut modes: Vec<&'static str> =
                        ["I", "G", "R"].into_iter().filter(|_| r.next_u64() & 1 == 1).collect();
                    if modes.is_empty() {
                        modes = vec!["G"];
                    }
                    Adversary::Eavesdropper(modes)
                }
                "withhold" => Adversary::Withhold { member: actor(r) },
                "cheat" => {
                    let epoch = if init == "ring" && r.next_u64().is_multiple_of(3) || epochs == 0 {
                        None
                    } else {
                        Some(between_u64(r, (1, epochs)))
                    };
                    Adversary::Cheat { member: actor(r), epoch }
                }
                "sm-cheat" => Adversary::SmCheat { member: member(r) },
                kind => {
                    let kind = match kind {
                        "tamper" => WireKind::Tamper,
                        "replay" => WireKind::Replay,
                        _ => WireKind::Forge,
                    };
                    Adversary::Wire { kind, probability: (between_u64(r, (5, 30)) as f64) / 100.0 }
                }
            };
            plan.adversaries.push(a);
        }
        plan
    }
}

/// A uniform integer in the inclusive range.
fn between_u64(r: &mut dyn Rng, (lo, hi): Between<u64>) -> u64 {
    let (lo, hi) = (lo.min(i64::MAX as u64), hi.min(i64::MAX as u64));
    if hi <= lo { lo } else { uniform_i64(r, lo as i64, hi as i64) as u64 }
}

/// 0 in half the draws, else uniform in the range, to two decimals.
fn sometimes(r: &mut dyn Rng, (lo, hi): Between<f64>) -> f64 {
    if r.next_u64() & 1 == 0 {
        return 0.0;
    }
    let x = lo + unit_f64(r) * (hi - lo);
    (x * 100.0).round() / 100.0
}

fn pick<'a, T>(r: &mut dyn Rng, xs: &'a [T]) -> &'a T {
    &xs[between_u64(r, (0, xs.len() as u64 - 1)) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_space_draws_loadable_plans_of_every_kind() {
        let s = Space::default();
        let plans: Vec<Plan> = (0..300).filter_map(|i| s.draw(9, i)).collect();
        assert_eq!(plans.len(), 300, "every run finds a loadable draw");
        for kind in KINDS {
            assert!(
                plans.iter().any(|p| p.adversaries.iter().any(|a| a.kind() == kind)),
                "{kind} never drawn"
            );
        }
        assert!(plans.iter().any(|p| p.crashes() > 0) && plans.iter().any(|p| p.partitions() > 0));
        assert_eq!(s.draw(9, 17), s.draw(9, 17), "a draw depends only on (seed, run)");
        assert_ne!(s.draw(9, 17), s.draw(10, 17));
    }

    #[test]
    fn space_files_narrow_and_errors_are_located() {
        let s = Space::parse("[protocol]\nmembers = [5, 5]\ninit = [\"sm\"]\n", "s.toml").unwrap();
        assert_eq!((s.members, s.init.clone()), ((5, 5), vec!["sm"]));
        assert_eq!(s.kinds, KINDS.to_vec(), "what is left out keeps the default");
        let e = Space::parse("[protocol]\nmembers = [5, 2]\n", "s.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("s.toml:2:11: protocol.members: [5, 2] is out of range; allowed: [lo, hi]"),
            "{e}"
        );
        let e = Space::parse("[adversaries]\nkinds = [\"leek\"]\n", "s.toml").unwrap_err().to_string();
        assert!(
            e.contains("s.toml:2:10: adversaries.kinds: \"leek\" is unknown; did you mean \"leak\"?"),
            "{e}"
        );
        let e = Space::parse("[network]\nlos = [0.1, 0.2]\n", "s.toml").unwrap_err().to_string();
        assert!(e.contains("s.toml:2:1: network.los: unknown field `los`; did you mean `loss`?"), "{e}");
    }
}
