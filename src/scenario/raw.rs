//! The TOML file types. Unknown keys are rejected everywhere; every leaf
//! that has a range or a set of allowed values is a newtype whose `try_from`
//! says what is allowed, so the error lands on the value's own span.

use std::ops::Range;

use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;
use toml::de::DeTable;

use super::adversaries::{self, AdversaryTable};
use super::error::{FieldError, Problem, did_you_mean, num, quoted};
use super::faults::{self, Fault, FaultTable};
use super::tagged::{parse_error, serde_error};
use super::{ANALYSIS_MEMBERS_MAX, Expect, FULL_TRACE_MEMBERS_MAX, MAX_EVENTS, Scenario, defaults};
use crate::adversary::{Adversaries, Adversary, WireAttack};
use crate::group::{GroupParams, PARAMS_NAMES, XOR_BITS, XOR_BITS_DEFAULT};
pub use crate::protocol::{Channel, Verify};
use crate::protocol::{InitKind, MemberId};
use crate::sim::fault::Faults;
use crate::sim::network::{Latency, NetworkModel};

/// Reads the file types: the tables tagged by `kind` in a second step (see
/// [`super::tagged`]), so their errors too land on the field.
pub fn deserialize(src: &str) -> Result<RawScenario, FieldError> {
    let root = DeTable::parse(src).map_err(|e| parse_error(src, e))?;
    let adversary = root.get_ref().get("adversary").cloned();
    let fault = root.get_ref().get("fault").cloned();
    let span = root.span();
    let mut raw: RawScenario = serde_path_to_error::deserialize(toml::Deserializer::from(root))
        .map_err(|e| serde_error(e, "", &[], span))?;
    raw.adversary = adversaries::read(adversary)?;
    raw.fault = faults::read(fault)?;
    Ok(raw)
}

/// A sorted set of member ids from an `[expect]` list, each in 1..=n.
fn member_set(ids: Spanned<Vec<u32>>, key: &str, n: u32) -> Result<Vec<MemberId>, FieldError> {
    let span = ids.span();
    let mut ids = ids.into_inner();
    ids.sort_unstable();
    ids.dedup();
    match ids.iter().find(|&&m| m == 0 || m > n) {
        Some(&bad) => {
            Err(FieldError::new(key, span, Problem::NotAMember { field: None, value: i64::from(bad), n }))
        }
        None => Ok(ids.into_iter().map(MemberId).collect()),
    }
}

use crate::protocol::sealed::REASONS as REJECT_REASONS;

/// Allowed values of a string enum, quoted, for error messages.
fn allowed(values: &[&str]) -> String {
    values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ")
}

/// Declares a string-valued enum: its allowed spellings, and the spellings
/// reference §4 names that a later version of fraclab implements. Doc
/// comments before the name and before each variant are kept.
macro_rules! string_enum {
    (
        $(#[$meta:meta])* $name:ident,
        [$($(#[$vmeta:meta])* $text:literal => $variant:ident),+],
        later: [$($later:literal),*]
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every spelling a scenario may write, in declaration order.
            pub const ALLOWED: &'static [&'static str] = &[$($text),+];
            /// The spelling, as a scenario file (and a trace header) writes it.
            #[allow(dead_code, reason = "not every enum is printed")]
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            fn from_name(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        string_parse!($name, later: [$($later),*]);
    };
}

/// Reads a string-valued enum (declared here or below, with `ALLOWED` and
/// `from_name`) from a scenario, with the messages for an unknown spelling
/// and for one a later version implements.
macro_rules! string_parse {
    ($name:ident, later: [$($later:literal),*]) => {
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                if let Some(v) = $name::from_name(&s) {
                    return Ok(v);
                }
                match s.as_str() {
                    $($later => Err(format!(
                        "{} is not implemented in fraclab {} yet; allowed: {}",
                        quoted(&s), env!("CARGO_PKG_VERSION"), allowed($name::ALLOWED)
                    )),)*
                    _ => Err(format!(
                        "unknown value {}; {}allowed: {}",
                        quoted(&s), did_you_mean(&s, $name::ALLOWED, quoted), allowed($name::ALLOWED)
                    )),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::try_from(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_enum!(
    /// `protocol.init`: how θ_1 and the pads α_{i,1} are set up (reference §1).
    Init,
    [
        /// `"sm"`: the security manager draws them (process 300).
        "sm" => Sm,
        /// `"ring"`: the δ ring led by member 1, the group initiator (process 400).
        "ring" => Ring,
        /// `"ring-hardened"`: fraclab's own ring over additive shares of each v_i.
        "ring-hardened" => RingHardened
    ],
    later: []
);
string_enum!(
    /// `protocol.keygen`: how each iteration j makes θ_{j+1} (reference §1).
    Keygen,
    [
        /// `"additive"`: HFK_{i,j} = α_{i,j} + FK_{i,j}, θ_{j+1} = Σ_i FK_{i,j} (process 500).
        "additive" => Additive,
        /// `"elgamal"`: FK_{i,j} = g^{x_{i,j}} is public, θ_{j+1} = Σ_i x_{i,j} (process 600).
        "elgamal" => Elgamal
    ],
    later: []
);
string_enum!(
    /// `[group] operator`: the patent's ⊙ and ⋄ (reference §3).
    OperatorName,
    [
        /// `"add"`: addition mod q of the named `params` set.
        "add" => Add,
        /// `"xor"`: XOR of `bits`-bit strings, the patent's ⊕.
        "xor" => Xor
    ],
    later: []
);
string_parse!(Verify, later: []);
string_parse!(Channel, later: []);
string_enum!(
    /// `[output] trace`: which lines `trace.jsonl` (fraclab-trace/1) holds.
    TraceLevel,
    [
        /// `"full"`: every event.
        "full" => Full,
        /// `"protocol"`: no `send`, `deliver`, `drop` or `attack` lines; every
        /// other event keeps the `seq` it has at `full`.
        "protocol" => Protocol,
        /// `"none"`: no trace is written.
        "none" => None
    ],
    later: []
);

/// A whole number in an inclusive range.
macro_rules! ranged {
    ($name:ident, $t:ty, $lo:expr, $hi:expr) => {
        #[doc = concat!("A whole number in ", stringify!($lo), "..=", stringify!($hi), ".")]
        #[derive(Clone, Copy, Debug, Deserialize)]
        #[serde(try_from = "i64")]
        pub struct $name(pub $t);

        impl TryFrom<i64> for $name {
            type Error = String;
            fn try_from(v: i64) -> Result<Self, String> {
                let (lo, hi): (i64, i64) = ($lo, $hi);
                if (lo..=hi).contains(&v) {
                    Ok($name(v as $t))
                } else {
                    Err(format!("{v} is out of range; allowed: {lo}..={hi}"))
                }
            }
        }
    };
}

ranged!(Members, u32, 2, 4096);
ranged!(Epochs, u64, 0, 100_000);
ranged!(IntervalMs, u64, 1, 86_400_000);

/// A probability in [0, 1).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(try_from = "f64")]
pub struct Probability(pub f64);

impl TryFrom<f64> for Probability {
    type Error = String;
    fn try_from(p: f64) -> Result<Self, String> {
        if (0.0..1.0).contains(&p) {
            Ok(Probability(p))
        } else {
            Err(format!("{} is out of range; allowed: a probability in [0, 1) (0 ≤ p < 1)", num(p)))
        }
    }
}

/// A duration in ms: finite, 0 ..= 60 000, converted to whole µs.
fn ms_to_us(what: &str, ms: f64) -> Result<u64, String> {
    if ms.is_finite() && (0.0..=60_000.0).contains(&ms) {
        Ok((ms * 1_000.0).round() as u64)
    } else {
        Err(format!("{what} = {} is out of range; allowed: 0..=60000 ms", num(ms)))
    }
}

/// `[group] params`: one of the nine, or `xor-L`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct ParamsName(&'static GroupParams);

impl TryFrom<String> for ParamsName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        crate::group::lookup(&s).map(ParamsName).ok_or_else(|| {
            format!(
                "unknown parameter set {}; {}allowed: {}, or xor-L for L in {}..={} (the same as operator = \"xor\" with bits = L)",
                quoted(&s),
                did_you_mean(&s, &PARAMS_NAMES, quoted),
                allowed(&PARAMS_NAMES),
                XOR_BITS.start(),
                XOR_BITS.end()
            )
        })
    }
}

/// `[group] bits`: L, the length of an XOR value, in [`XOR_BITS`].
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "i64")]
pub struct XorBits(u32);

impl TryFrom<i64> for XorBits {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        u32::try_from(v).ok().filter(|b| XOR_BITS.contains(b)).map(XorBits).ok_or_else(|| {
            format!("bits = {v} is out of range; allowed: {}..={}", XOR_BITS.start(), XOR_BITS.end())
        })
    }
}

/// `name`: [a-z0-9-]+, it names the output folder.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct Name(String);

impl TryFrom<String> for Name {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
        if ok {
            Ok(Name(s))
        } else {
            Err(format!("{} is not a valid name; allowed: 1 to 64 of [a-z0-9-]", quoted(&s)))
        }
    }
}

/// `latency_ms = { dist = "…", … }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table like { dist = \"uniform\", min = 5, max = 40 }")]
struct RawLatency {
    dist: String,
    value: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    mean: Option<f64>,
}

/// `network.latency_ms`: a latency distribution, its values in ms checked
/// and held as whole µs.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "RawLatency")]
pub struct LatencyMs(Latency);

impl TryFrom<RawLatency> for LatencyMs {
    type Error = String;
    fn try_from(r: RawLatency) -> Result<Self, String> {
        let forms = "{ dist = \"fixed\", value }, { dist = \"uniform\", min, max } or { dist = \"exponential\", min, mean }";
        let latency = match (r.dist.as_str(), r.value, r.min, r.max, r.mean) {
            ("fixed", Some(v), None, None, None) => Latency::Fixed { value_us: ms_to_us("value", v)? },
            ("uniform", None, Some(lo), Some(hi), None) => {
                let (min_us, max_us) = (ms_to_us("min", lo)?, ms_to_us("max", hi)?);
                if min_us > max_us {
                    return Err(format!("min = {} is above max = {}; allowed: min ≤ max", num(lo), num(hi)));
                }
                Latency::Uniform { min_us, max_us }
            }
            ("exponential", None, Some(lo), None, Some(mean)) => {
                Latency::Exponential { min_us: ms_to_us("min", lo)?, mean_us: ms_to_us("mean", mean)? }
            }
            (dist @ ("fixed" | "uniform" | "exponential"), ..) => {
                let wanted: &[&str] = match dist {
                    "fixed" => &["value"],
                    "uniform" => &["min", "max"],
                    _ => &["min", "mean"],
                };
                let present: Vec<&str> =
                    [("value", r.value), ("min", r.min), ("max", r.max), ("mean", r.mean)]
                        .iter()
                        .filter(|(_, v)| v.is_some())
                        .map(|(k, _)| *k)
                        .collect();
                let missing: Vec<&str> = wanted.iter().copied().filter(|k| !present.contains(k)).collect();
                let extra: Vec<&str> = present.iter().copied().filter(|k| !wanted.contains(k)).collect();
                let mut why = Vec::new();
                if !missing.is_empty() {
                    why.push(format!("missing {}", missing.join(", ")));
                }
                if !extra.is_empty() {
                    why.push(format!("{} not allowed with it", extra.join(", ")));
                }
                return Err(format!("dist = \"{dist}\": {}; allowed: {forms}", why.join("; ")));
            }
            _ => {
                let dists = ["fixed", "uniform", "exponential"];
                return Err(format!(
                    "unknown dist {}; {}allowed: {}",
                    quoted(&r.dist),
                    did_you_mean(&r.dist, &dists, quoted),
                    allowed(&dists)
                ));
            }
        };
        Ok(LatencyMs(latency))
    }
}

/// A scenario file as read: every value typed and within its own range,
/// not yet checked as a whole ([`RawScenario::validate`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    name: Name,
    description: Option<String>,
    seed: Option<u64>,
    group: Spanned<RawGroup>,
    protocol: RawProtocol,
    #[serde(default)]
    network: RawNetwork,
    /// Read in a second step, into `fault` (here for the list of keys).
    #[serde(default, rename = "fault")]
    _fault: Option<IgnoredAny>,
    #[serde(skip)]
    fault: Vec<FaultTable>,
    /// Read in a second step, into `adversary`.
    #[serde(default, rename = "adversary")]
    _adversary: Option<IgnoredAny>,
    #[serde(skip)]
    adversary: Vec<AdversaryTable>,
    #[serde(default)]
    output: RawOutput,
    #[serde(default)]
    expect: RawExpect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [group] table")]
struct RawGroup {
    params: Option<Spanned<ParamsName>>,
    operator: Option<Spanned<OperatorName>>,
    bits: Option<Spanned<XorBits>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [protocol] table")]
struct RawProtocol {
    members: Members,
    init: Init,
    keygen: Spanned<Keygen>,
    epochs: Spanned<Epochs>,
    rekey_interval_ms: Option<IntervalMs>,
    round_timeout_ms: Option<IntervalMs>,
    verify: Option<Spanned<Verify>>,
    channel: Option<Channel>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [network] table")]
struct RawNetwork {
    latency_ms: Option<LatencyMs>,
    loss: Option<Spanned<Probability>>,
    duplicate: Option<Probability>,
    clock_skew_ms: Option<SkewMs>,
}

/// `clock_skew_ms`: 0 ..= 60 000 ms.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "f64")]
struct SkewMs(u64);

impl TryFrom<f64> for SkewMs {
    type Error = String;
    fn try_from(ms: f64) -> Result<Self, String> {
        ms_to_us("clock_skew_ms", ms).map(SkewMs)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [output] table")]
struct RawOutput {
    trace: Option<TraceLevel>,
    analysis: Option<Spanned<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [expect] table")]
struct RawExpect {
    keys_agreed: Option<bool>,
    epochs_completed: Option<u64>,
    compromised: Option<Spanned<Vec<u32>>>,
    outsider_learns_key: Option<Spanned<bool>>,
    detected: Option<Spanned<Vec<u32>>>,
    recovered: Option<Spanned<Vec<u32>>>,
    accepted_forgeries: Option<u64>,
    rejected: Option<Spanned<Vec<String>>>,
}

impl RawScenario {
    /// Cross-field checks and defaults (reference §4), section by section;
    /// the first error found is returned, in this order.
    pub fn validate(self, source_sha256: String) -> Result<Scenario, FieldError> {
        let p = self.protocol;
        let (members, epochs) = (p.members.0, p.epochs.get_ref().0);
        check_events(&p, self.network.loss.as_ref())?;
        let group = check_group(&self.group, &p)?;
        let mut warnings = size_warnings(members, group);
        let trace = trace_level(self.output.trace, members, &mut warnings);
        let init = match p.init {
            Init::Sm => InitKind::Sm,
            Init::Ring => InitKind::Ring,
            Init::RingHardened => InitKind::RingHardened,
        };
        let adversaries = check_adversaries(self.adversary, members, epochs, init, group)?;
        let verify = check_verify(p.verify.as_ref(), init)?;
        let analysis = check_analysis(&self.output, &adversaries, p.channel, members, &mut warnings)?;
        let (expect, needs_analysis) = self.expect.check(members, init)?;
        let faults = check_faults(self.fault, members, epochs)?;
        if let (false, Some(span)) = (analysis, needs_analysis) {
            return Err(FieldError::refused(
                "expect",
                span,
                "this expectation needs the knowledge analysis, which is off; allowed: set [output] analysis = true",
            ));
        }
        let net = self.network;
        Ok(Scenario {
            name: self.name.0,
            description: self.description,
            seed: self.seed.unwrap_or(defaults::SEED),
            group,
            members,
            init,
            keygen: *p.keygen.get_ref(),
            epochs,
            rekey_interval_ms: p.rekey_interval_ms.map_or(defaults::REKEY_INTERVAL_MS, |v| v.0),
            round_timeout_ms: p.round_timeout_ms.map_or(defaults::ROUND_TIMEOUT_MS, |v| v.0),
            verify,
            channel: p.channel.unwrap_or(defaults::CHANNEL),
            network: NetworkModel {
                latency: net.latency_ms.map_or(defaults::LATENCY, |l| l.0),
                loss: net.loss.as_ref().map_or(defaults::LOSS, |l| l.get_ref().0),
                duplicate: net.duplicate.map_or(defaults::DUPLICATE, |d| d.0),
            },
            clock_skew_us: net.clock_skew_ms.map_or(defaults::CLOCK_SKEW_US, |s| s.0 as i64),
            trace,
            expect,
            adversaries,
            faults,
            analysis,
            source_sha256,
            warnings,
            doc: toml::Table::new(),
            origin: String::new(),
        })
    }
}

/// reference §9: the least number of events the run needs must be under
/// [`MAX_EVENTS`], at the key that makes it so (`epochs`, or `loss`).
fn check_events(p: &RawProtocol, loss: Option<&Spanned<Probability>>) -> Result<(), FieldError> {
    let (members, epochs) = (p.members.0, p.epochs.get_ref().0);
    // A lossless run delivers, per epoch, n(n−1) payloads of each of two
    // kinds (HFK, confirmation) plus as many acks.
    let n = u128::from(members);
    let least_events = u128::from(epochs + 1) * n * (n - 1) * 4;
    if least_events > u128::from(MAX_EVENTS) {
        return Err(FieldError::new(
            "protocol.epochs",
            p.epochs.span(),
            Problem::OverLimit(format!(
                "{members} members × {epochs} epochs need at least {least_events} events, over the limit of {MAX_EVENTS} (reference §9); allowed: fewer members or epochs"
            )),
        ));
    }
    let Some(loss) = loss else { return Ok(()) };
    let p = loss.get_ref().0;
    // Under loss a payload goes out until its ack is back: 1/(1 − p)² times
    // on average; its ack 1/(1 − p) times. Every retransmission is a timer
    // event.
    let expected = least_events as f64 / 2.0 * (1.0 / (1.0 - p) + 1.0 / ((1.0 - p) * (1.0 - p)));
    if expected > MAX_EVENTS as f64 {
        return Err(FieldError::new(
            "network.loss",
            loss.span(),
            Problem::OverLimit(format!(
                "at loss = {p}, {members} members × {epochs} epochs need about {expected:.3e} events (a payload is sent 1/(1 − loss)² times on average, until its ack gets back), over the limit of {MAX_EVENTS} (reference §9); allowed: a lower loss, or fewer members or epochs"
            )),
        ));
    }
    Ok(())
}

/// Warnings about n = 2 and toy groups.
fn size_warnings(members: u32, group: &GroupParams) -> Vec<String> {
    let mut warnings = Vec::new();
    if members == 2 {
        warnings.push("n = 2: each member can compute the other's FK from θ and its own; fraclab runs it, but it protects nothing between the two".to_string());
    }
    if group.is_toy() {
        warnings
            .push(format!("{} is a toy group for teaching and brute-force demonstrations only", group.name));
    }
    warnings
}

/// `[output] trace`, or `protocol` above [`FULL_TRACE_MEMBERS_MAX`] members
/// (with a warning) and `full` below.
fn trace_level(asked: Option<TraceLevel>, members: u32, warnings: &mut Vec<String>) -> TraceLevel {
    match asked {
        Some(level) => level,
        None if members > FULL_TRACE_MEMBERS_MAX => {
            warnings.push(format!(
                "n = {members} > {FULL_TRACE_MEMBERS_MAX}: trace level \"protocol\" (no per-message events); set [output] trace = \"full\" or pass --trace full for every message"
            ));
            TraceLevel::Protocol
        }
        None => TraceLevel::Full,
    }
}

/// Each `[[adversary]]` checked, and one cheat per party: a second would
/// silently not happen.
fn check_adversaries(
    tables: Vec<AdversaryTable>,
    members: u32,
    epochs: u64,
    init: InitKind,
    group: &GroupParams,
) -> Result<Adversaries, FieldError> {
    let mut list: Vec<Adversary> = Vec::new();
    for a in tables {
        let (key, span) = (format!("{}.kind", a.key), a.kind_span.clone());
        let checked = a.check(members, epochs, init)?;
        if group.is_xor() && matches!(checked, Adversary::Dlog { .. }) {
            return Err(FieldError::refused(
                key,
                span,
                "the dlog adversary takes discrete logs of commitments, and XOR values are not exponents; allowed with [group] operator = \"add\"",
            ));
        }
        let earlier = list.iter().find_map(|b| match (b, &checked) {
            (Adversary::Cheat { member: x, .. }, Adversary::Cheat { member: y, .. }) if x == y => {
                Some(format!("member {x} already cheats"))
            }
            (Adversary::SmCheat { .. }, Adversary::SmCheat { .. }) => {
                Some("the SM already cheats".to_string())
            }
            _ => None,
        });
        if let Some(who) = earlier {
            return Err(FieldError::refused(
                key,
                span,
                format!("{who} in an earlier [[adversary]]; allowed: one cheat per party"),
            ));
        }
        list.push(checked);
    }
    Ok(Adversaries { list, planted: None })
}

/// The parameter set `[group]` names: `params` (one of the nine, or
/// `xor-L`, the name traces and summaries record), or `operator = "xor"`
/// with `bits = L`. XOR values are not exponents, so ElGamal and
/// commitments are refused with an XOR set.
fn check_group(g: &Spanned<RawGroup>, p: &RawProtocol) -> Result<&'static GroupParams, FieldError> {
    let raw = g.get_ref();
    let group = match (&raw.params, raw.operator.as_ref().map(|o| (*o.get_ref(), o.span()))) {
        (Some(params), operator) => {
            let group = params.get_ref().0;
            if let Some(bits) = &raw.bits {
                let hint = if group.is_xor() {
                    "remove bits: the name gives L"
                } else {
                    "bits goes with operator = \"xor\" and no params"
                };
                return Err(FieldError::refused(
                    "group.bits",
                    bits.span(),
                    format!("bits beside params; allowed: {hint}"),
                ));
            }
            match operator {
                Some((OperatorName::Xor, _)) if !group.is_xor() => {
                    return Err(FieldError::refused(
                        "group.params",
                        params.span(),
                        "params names a prime-order group, and operator = \"xor\" uses L-bit strings instead; allowed: remove params, set bits = L",
                    ));
                }
                Some((OperatorName::Add, span)) if group.is_xor() => {
                    return Err(FieldError::refused(
                        "group.operator",
                        span,
                        format!(
                            "{} is an XOR set; allowed: operator = \"xor\", or a prime group in params",
                            group.name
                        ),
                    ));
                }
                _ => group,
            }
        }
        (None, Some((OperatorName::Xor, _))) => {
            let bits = raw.bits.as_ref().map_or(XOR_BITS_DEFAULT, |b| b.get_ref().0);
            crate::group::xor(bits).expect("bits was checked against XOR_BITS")
        }
        (None, _) => {
            if let Some(bits) = &raw.bits {
                return Err(FieldError::refused(
                    "group.bits",
                    bits.span(),
                    "bits is the length of an XOR value; allowed only with operator = \"xor\"",
                ));
            }
            return Err(FieldError::refused(
                "group.params",
                g.span(),
                format!(
                    "missing field `params`: [group] needs a parameter set under operator = \"add\" (the default); allowed: {}, or operator = \"xor\" with bits",
                    allowed(&PARAMS_NAMES)
                ),
            ));
        }
    };
    if group.is_xor() {
        if *p.keygen.get_ref() == Keygen::Elgamal {
            return Err(FieldError::refused(
                "protocol.keygen",
                p.keygen.span(),
                "ElGamal key generation uses the pads as exponents (HFK = α + x mod q, FK = g^x), and XOR values are not exponents; allowed with operator = \"xor\": \"additive\"",
            ));
        }
        if let Some(v) = p.verify.as_ref().filter(|v| *v.get_ref() == Verify::Commitments) {
            return Err(FieldError::refused(
                "protocol.verify",
                v.span(),
                "commitments are g^α, and XOR values are not exponents; allowed with operator = \"xor\": \"none\"",
            ));
        }
    }
    Ok(group)
}

/// `verify = "commitments"` needs pads to verify: not with ring-hardened.
fn check_verify(verify: Option<&Spanned<Verify>>, init: InitKind) -> Result<Verify, FieldError> {
    match verify {
        Some(v) if *v.get_ref() == Verify::Commitments && init == InitKind::RingHardened => {
            Err(FieldError::refused(
                "protocol.verify",
                v.span(),
                "commitments verify the SM's pads (process 800) and the plain ring (process 900); allowed with init = \"sm\" or \"ring\"",
            ))
        }
        Some(v) => Ok(*v.get_ref()),
        None => Ok(defaults::VERIFY),
    }
}

/// Whether the knowledge analysis runs: never with values off the algebra
/// (a cheater, or tampered and forged payloads on an unsealed channel),
/// else as `[output] analysis` asks, else up to [`ANALYSIS_MEMBERS_MAX`].
fn check_analysis(
    output: &RawOutput,
    adversaries: &Adversaries,
    channel: Option<Channel>,
    members: u32,
    warnings: &mut Vec<String>,
) -> Result<bool, FieldError> {
    let list = &adversaries.list;
    let tapped = list.iter().any(|a| matches!(a, Adversary::Eavesdropper { .. }));
    if tapped && channel != Some(Channel::Plain) {
        warnings.push(
            "an eavesdropper on a channel other than \"plain\" reads no payloads: the outsider taps metadata only".into(),
        );
    }
    let cheats = list.iter().any(|a| matches!(a, Adversary::Cheat { .. } | Adversary::SmCheat { .. }));
    // Tampered and forged payloads reach members unless the channel is
    // sealed: like a cheater's, their values are off the algebra.
    let corrupts = channel != Some(Channel::Sealed)
        && list.iter().any(|a| matches!(a, Adversary::Wire(w) if w.attack != WireAttack::Replay));
    let asked = output.analysis.as_ref().map(|a| (*a.get_ref(), a.span()));
    if let (true, Some((true, span))) = (cheats || corrupts, asked.clone()) {
        let who = if cheats {
            "a cheater's values are"
        } else {
            "tampered and forged payloads on an unsealed channel are"
        };
        return Err(FieldError::refused(
            "output.analysis",
            span,
            format!(
                "the knowledge analysis models honest-but-curious members; {who} off the protocol's algebra; allowed: analysis = false (or leave it out)"
            ),
        ));
    }
    let analysis = !cheats && !corrupts && asked.as_ref().map_or(members <= ANALYSIS_MEMBERS_MAX, |a| a.0);
    if cheats {
        warnings.push("a cheater breaks the protocol's algebra: the knowledge analysis is off".into());
    } else if corrupts {
        warnings.push(
            "tampered or forged payloads reach members on an unsealed channel: the knowledge analysis is off"
                .into(),
        );
    } else if !analysis && asked.is_none() {
        warnings.push(format!(
            "n = {members} > {ANALYSIS_MEMBERS_MAX}: the knowledge analysis is off; set [output] analysis = true to run it"
        ));
    }
    Ok(analysis)
}

/// Each `[[fault]]` checked.
fn check_faults(tables: Vec<FaultTable>, members: u32, epochs: u64) -> Result<Faults, FieldError> {
    let mut faults = Faults::default();
    for f in tables {
        match f.check(members, epochs)? {
            Fault::Crash(c) => faults.crashes.push(c),
            Fault::Partition(p) => faults.partitions.push(p),
        }
    }
    Ok(faults)
}

impl RawExpect {
    /// `[expect]` checked against n and init; with the span of the first
    /// expectation that needs the knowledge analysis, if any.
    fn check(self, members: u32, init: InitKind) -> Result<(Expect, Option<Range<usize>>), FieldError> {
        let rejected = self.rejected.map(reject_reasons).transpose()?;
        let needs_analysis = self
            .compromised
            .as_ref()
            .map(|c| c.span())
            .or(self.outsider_learns_key.as_ref().map(|b| b.span()));
        let expect = Expect {
            keys_agreed: self.keys_agreed,
            epochs_completed: self.epochs_completed,
            compromised: self
                .compromised
                .map(|c| member_set(c, "expect.compromised", members))
                .transpose()?,
            outsider_learns_key: self.outsider_learns_key.map(|b| b.into_inner()),
            recovered: self.recovered.map(|r| member_set(r, "expect.recovered", members)).transpose()?,
            detected: self.detected.map(|d| party_set(d, members, init)).transpose()?,
            accepted_forgeries: self.accepted_forgeries,
            rejected,
        };
        Ok((expect, needs_analysis))
    }
}

/// `expect.rejected`: known reasons, sorted, each once.
fn reject_reasons(r: Spanned<Vec<String>>) -> Result<Vec<String>, FieldError> {
    let span = r.span();
    let mut reasons = r.into_inner();
    if let Some(bad) = reasons.iter().find(|x| !REJECT_REASONS.contains(&x.as_str())) {
        return Err(FieldError::refused(
            "expect.rejected",
            span,
            format!(
                "{} is not a rejection reason; {}allowed: {}",
                quoted(bad),
                did_you_mean(bad, &REJECT_REASONS, quoted),
                allowed(&REJECT_REASONS)
            ),
        ));
    }
    reasons.sort();
    reasons.dedup();
    Ok(reasons)
}

/// `expect.detected`: party ids, sorted, each once; 0 is the SM, with
/// init = "sm" only.
fn party_set(d: Spanned<Vec<u32>>, members: u32, init: InitKind) -> Result<Vec<u32>, FieldError> {
    let span = d.span();
    let mut ids = d.into_inner();
    ids.sort_unstable();
    ids.dedup();
    let least = if init == InitKind::Sm { 0 } else { 1 };
    match ids.iter().find(|&&m| m < least || m > members) {
        Some(&bad) => Err(FieldError::new(
            "expect.detected",
            span,
            Problem::NotAParty { value: i64::from(bad), least, n: members },
        )),
        None => Ok(ids),
    }
}
