//! The TOML file types. Unknown keys are rejected everywhere; every leaf
//! that has a range or a set of allowed values is a newtype whose `try_from`
//! says what is allowed, so the error lands on the value's own span.

use serde::Deserialize;
use toml::Spanned;

use super::error::SpanError;
use super::{ANALYSIS_MEMBERS_MAX, Expect, FULL_TRACE_MEMBERS_MAX, MAX_EVENTS, Scenario};
use crate::adversary::{
    Adversaries, Adversary, CheatPhase, DlogView, Leak, LeakSecret, LeakTo, Wire, WireAttack,
};

/// The dlog adversary's default and largest work budget, in group operations.
const DLOG_BUDGET_DEFAULT: u64 = 1_000_000_000;
const DLOG_BUDGET_MAX: u64 = 1_000_000_000_000;
use crate::group::{GroupParams, PARAMS_NAMES, by_name};
use crate::protocol::member::Halt;
use crate::protocol::{InitKind, MemberId, Mode, Party};
use crate::sim::fault::{Crash, CrashAt, Faults, Partition};
use crate::sim::network::{Latency, NetworkModel};

pub fn deserialize(src: &str) -> Result<RawScenario, SpanError> {
    let de = toml::Deserializer::parse(src).map_err(|e| SpanError {
        key: String::new(),
        span: e.span(),
        message: format!("malformed TOML: {}", e.message()),
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let message = e.inner().message().to_string();
        let message = if message.contains("untagged enum RawLeakTo") {
            "to: allowed: \"group\", \"outsider\" or a list of member ids, e.g. [2, 3]".to_string()
        } else {
            message
        };
        SpanError {
            // `Spanned` fields add an internal path segment; users never wrote it.
            key: e.path().to_string().replace(".$__serde_spanned_private_value", ""),
            span: e.inner().span(),
            message,
        }
    })
}

/// A sorted set of member ids from an `[expect]` list, each in 1..=n.
fn member_set(ids: Spanned<Vec<u32>>, key: &str, n: u32) -> Result<Vec<MemberId>, SpanError> {
    let span = ids.span();
    let mut ids = ids.into_inner();
    ids.sort_unstable();
    ids.dedup();
    match ids.iter().find(|&&m| m == 0 || m > n) {
        Some(bad) => Err(SpanError {
            key: key.into(),
            span: Some(span),
            message: format!("member {bad} does not exist; allowed: ids in 1..={n}"),
        }),
        None => Ok(ids.into_iter().map(MemberId).collect()),
    }
}

/// An error from a table-level check, located: `table[i].field` when the
/// message starts with `field = …` (kept, it shows the value) or `field: …`
/// (dropped from the message, the key says it). Table-level checks know the
/// field but only the table's position.
fn field_error(table: &str, span: std::ops::Range<usize>, message: String) -> SpanError {
    let len = message.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_' || *c == '.').count();
    let (field, rest) = message.split_at(len);
    let (key, message) = match (len > 0, rest.strip_prefix(": ")) {
        (true, Some(tail)) => (format!("{table}.{field}"), tail.to_string()),
        (true, None) if rest.starts_with(" = ") => (format!("{table}.{field}"), message.clone()),
        _ => (table.to_string(), message.clone()),
    };
    SpanError { key, span: Some(span), message }
}

use crate::protocol::sealed::REASONS as REJECT_REASONS;

/// Allowed values of a string enum, quoted, for error messages.
fn allowed(values: &[&str]) -> String {
    values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ")
}

/// Declares a string-valued enum: its allowed spellings, and the spellings
/// SPEC §4 names that a later version of fraclab implements.
macro_rules! string_enum {
    ($name:ident, [$($text:literal => $variant:ident),+], later: [$($later:literal),*]) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
        #[serde(try_from = "String")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALLOWED: &'static [&'static str] = &[$($text),+];
            #[allow(dead_code, reason = "not every enum is printed")]
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                match s.as_str() {
                    $($text => Ok($name::$variant),)+
                    $($later => Err(format!(
                        "\"{s}\" is not implemented in fraclab {} yet; allowed: {}",
                        env!("CARGO_PKG_VERSION"), allowed(Self::ALLOWED)
                    )),)*
                    _ => Err(format!("unknown value \"{s}\"; allowed: {}", allowed(Self::ALLOWED))),
                }
            }
        }
    };
}

string_enum!(Init, ["sm" => Sm, "ring" => Ring, "ring-hardened" => RingHardened], later: []);
string_enum!(Keygen, ["additive" => Additive, "elgamal" => Elgamal], later: []);
string_enum!(Verify, ["none" => None, "commitments" => Commitments], later: []);
string_enum!(Channel, ["plain" => Plain, "ideal" => Ideal, "sealed" => Sealed], later: []);
string_enum!(TraceLevel, ["full" => Full, "protocol" => Protocol, "none" => None], later: []);

/// A whole number in an inclusive range.
macro_rules! ranged {
    ($name:ident, $t:ty, $lo:expr, $hi:expr) => {
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
            Err(format!("{p} is out of range; allowed: a probability in [0, 1) (0 ≤ p < 1)"))
        }
    }
}

/// A duration in ms: finite, 0 ..= 60 000, converted to whole µs.
fn ms_to_us(what: &str, ms: f64) -> Result<u64, String> {
    if ms.is_finite() && (0.0..=60_000.0).contains(&ms) {
        Ok((ms * 1_000.0).round() as u64)
    } else {
        Err(format!("{what} = {ms} is out of range; allowed: 0..=60000 ms"))
    }
}

/// `[group] params`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct ParamsName(&'static GroupParams);

impl TryFrom<String> for ParamsName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        by_name(&s)
            .map(ParamsName)
            .ok_or_else(|| format!("unknown parameter set \"{s}\"; allowed: {}", allowed(&PARAMS_NAMES)))
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
            Err(format!("\"{s}\" is not a valid name; allowed: 1 to 64 of [a-z0-9-]"))
        }
    }
}

/// `latency_ms = { dist = "…", … }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLatency {
    dist: String,
    value: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    mean: Option<f64>,
}

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
                    return Err(format!("min = {lo} is above max = {hi}; allowed: min ≤ max"));
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
                return Err(format!(
                    "unknown dist \"{}\"; allowed: {}",
                    r.dist,
                    allowed(&["fixed", "uniform", "exponential"])
                ));
            }
        };
        Ok(LatencyMs(latency))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    name: Name,
    description: Option<String>,
    seed: Option<u64>,
    group: RawGroup,
    protocol: RawProtocol,
    #[serde(default)]
    network: RawNetwork,
    #[serde(default)]
    fault: Vec<Spanned<RawFault>>,
    #[serde(default)]
    adversary: Vec<Spanned<RawAdversary>>,
    #[serde(default)]
    output: RawOutput,
    #[serde(default)]
    expect: RawExpect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    params: ParamsName,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProtocol {
    members: Members,
    init: Init,
    keygen: Keygen,
    epochs: Spanned<Epochs>,
    rekey_interval_ms: Option<IntervalMs>,
    round_timeout_ms: Option<IntervalMs>,
    verify: Option<Spanned<Verify>>,
    channel: Option<Channel>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    latency_ms: Option<LatencyMs>,
    loss: Option<Probability>,
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
#[serde(deny_unknown_fields)]
struct RawOutput {
    trace: Option<TraceLevel>,
    analysis: Option<Spanned<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Cross-field checks and defaults (SPEC §4).
    pub fn validate(mut self, source_sha256: String) -> Result<Scenario, SpanError> {
        let p = self.protocol;
        let members = p.members.0;
        let epochs = p.epochs.get_ref().0;
        // A lossless run delivers, per epoch, n(n−1) payloads of each of two
        // kinds (HFK, confirmation) plus as many acks.
        let n = u128::from(members);
        let least_events = u128::from(epochs + 1) * n * (n - 1) * 4;
        if least_events > u128::from(MAX_EVENTS) {
            return Err(SpanError {
                key: "protocol.epochs".into(),
                span: Some(p.epochs.span()),
                message: format!(
                    "{members} members × {epochs} epochs need at least {least_events} events, over the limit of {MAX_EVENTS} (SPEC §9); allowed: fewer members or epochs"
                ),
            });
        }
        let group = self.group.params.0;
        let mut warnings = Vec::new();
        if members == 2 {
            warnings.push("n = 2: each member can compute the other's FK from θ and its own; fraclab runs it, but it protects nothing between the two".to_string());
        }
        if group.is_toy() {
            warnings.push(format!(
                "{} is a toy group for teaching and brute-force demonstrations only",
                group.name
            ));
        }
        let trace = match self.output.trace {
            Some(level) => level,
            None if members > FULL_TRACE_MEMBERS_MAX => {
                warnings.push(format!(
                "n = {members} > {FULL_TRACE_MEMBERS_MAX}: trace level \"protocol\" (no per-message events); set [output] trace = \"full\" or pass --trace full for every message"
            ));
                TraceLevel::Protocol
            }
            None => TraceLevel::Full,
        };
        let init = match p.init {
            Init::Sm => InitKind::Sm,
            Init::Ring => InitKind::Ring,
            Init::RingHardened => InitKind::RingHardened,
        };
        let mut adversaries: Vec<Adversary> = Vec::new();
        for (i, a) in self.adversary.into_iter().enumerate() {
            let span = a.span();
            let checked = a
                .into_inner()
                .check(members, epochs, init)
                .map_err(|message| field_error(&format!("adversary[{i}]"), span.clone(), message))?;
            // One cheat per party: a second would silently not happen.
            let twice = adversaries.iter().any(|b| match (b, &checked) {
                (Adversary::Cheat { member: x, .. }, Adversary::Cheat { member: y, .. }) => x == y,
                (Adversary::SmCheat { .. }, Adversary::SmCheat { .. }) => true,
                _ => false,
            });
            if twice {
                let who = match &checked {
                    Adversary::SmCheat { .. } => "the SM already cheats".to_string(),
                    Adversary::Cheat { member, .. } => format!("member {member} already cheats"),
                    _ => unreachable!("only cheats are compared"),
                };
                return Err(SpanError {
                    key: format!("adversary[{i}].kind"),
                    span: Some(span),
                    message: format!("{who} in an earlier [[adversary]]; allowed: one cheat per party"),
                });
            }
            adversaries.push(checked);
        }
        let verify = p.verify.as_ref().map(|v| (*v.get_ref(), v.span()));
        if let (Some((Verify::Commitments, span)), InitKind::RingHardened) = (verify.clone(), init) {
            return Err(SpanError {
                key: "protocol.verify".into(),
                span: Some(span),
                message: "commitments verify the SM's pads (process 800) and the plain ring (process 900); allowed with init = \"sm\" or \"ring\"".into(),
            });
        }
        let tapped = adversaries.iter().any(|a| matches!(a, Adversary::Eavesdropper { .. }));
        if tapped && p.channel != Some(Channel::Plain) {
            warnings.push(
                "an eavesdropper on a channel other than \"plain\" reads no payloads: the outsider taps metadata only".into(),
            );
        }
        let cheats =
            adversaries.iter().any(|a| matches!(a, Adversary::Cheat { .. } | Adversary::SmCheat { .. }));
        // Tampered and forged payloads reach members unless the channel is
        // sealed: like a cheater's, their values are off the algebra.
        let corrupts = p.channel != Some(Channel::Sealed)
            && adversaries.iter().any(|a| matches!(a, Adversary::Wire(w) if w.attack != WireAttack::Replay));
        let asked = self.output.analysis.as_ref().map(|a| (*a.get_ref(), a.span()));
        if let (true, Some((true, span))) = (cheats || corrupts, asked.clone()) {
            let who = if cheats {
                "a cheater's values are"
            } else {
                "tampered and forged payloads on an unsealed channel are"
            };
            return Err(SpanError {
                key: "output.analysis".into(),
                span: Some(span),
                message: format!(
                    "the knowledge analysis models honest-but-curious members; {who} off the protocol's algebra; allowed: analysis = false (or leave it out)"
                ),
            });
        }
        let analysis =
            !cheats && !corrupts && asked.as_ref().map_or(members <= ANALYSIS_MEMBERS_MAX, |a| a.0);
        if cheats {
            warnings.push("a cheater breaks the protocol's algebra: the knowledge analysis is off".into());
        } else if corrupts {
            warnings.push("tampered or forged payloads reach members on an unsealed channel: the knowledge analysis is off".into());
        } else if !analysis && self.output.analysis.is_none() {
            warnings.push(format!(
                "n = {members} > {ANALYSIS_MEMBERS_MAX}: the knowledge analysis is off; set [output] analysis = true to run it"
            ));
        }
        let mut expect = Expect {
            keys_agreed: self.expect.keys_agreed,
            epochs_completed: self.expect.epochs_completed,
            accepted_forgeries: self.expect.accepted_forgeries,
            ..Expect::default()
        };
        if let Some(r) = self.expect.rejected.take() {
            let span = r.span();
            let mut reasons = r.into_inner();
            if let Some(bad) = reasons.iter().find(|x| !REJECT_REASONS.contains(&x.as_str())) {
                return Err(SpanError {
                    key: "expect.rejected".into(),
                    span: Some(span),
                    message: format!(
                        "\"{bad}\" is not a rejection reason; allowed: {}",
                        allowed(&REJECT_REASONS)
                    ),
                });
            }
            reasons.sort();
            reasons.dedup();
            expect.rejected = Some(reasons);
        }
        let needs_analysis =
            self.expect.compromised_span().or(self.expect.outsider_learns_key.as_ref().map(|b| b.span()));
        if let Some(c) = self.expect.compromised {
            expect.compromised = Some(member_set(c, "expect.compromised", members)?);
        }
        expect.outsider_learns_key = self.expect.outsider_learns_key.as_ref().map(|b| *b.get_ref());
        if let Some(rec) = self.expect.recovered {
            expect.recovered = Some(member_set(rec, "expect.recovered", members)?);
        }
        if let Some(d) = self.expect.detected {
            let span = d.span();
            let mut ids = d.into_inner();
            ids.sort_unstable();
            ids.dedup();
            let least = if p.init == Init::Sm { 0 } else { 1 };
            if let Some(bad) = ids.iter().find(|&&m| m < least || m > members) {
                let sm = if least == 0 { " (0 is the SM)" } else { " (0, the SM, only with init = \"sm\")" };
                return Err(SpanError {
                    key: "expect.detected".into(),
                    span: Some(span),
                    message: format!("{bad} is not a party; allowed: ids in {least}..={members}{sm}"),
                });
            }
            expect.detected = Some(ids);
        }
        let mut faults = Faults::default();
        for (i, f) in self.fault.into_iter().enumerate() {
            let span = f.span();
            let located = |message: String| field_error(&format!("fault[{i}]"), span.clone(), message);
            match f.into_inner().check(members, epochs).map_err(located)? {
                Fault::Crash(c) => faults.crashes.push(c),
                Fault::Partition(p) => faults.partitions.push(p),
            }
        }
        if let (false, Some(span)) = (analysis, needs_analysis) {
            return Err(SpanError {
                key: "expect".into(),
                span: Some(span),
                message: "this expectation needs the knowledge analysis, which is off; allowed: set [output] analysis = true".into(),
            });
        }
        let net = self.network;
        Ok(Scenario {
            name: self.name.0,
            description: self.description,
            seed: self.seed.unwrap_or(1),
            group,
            members,
            init,
            keygen: p.keygen,
            epochs,
            rekey_interval_ms: p.rekey_interval_ms.map_or(1_000, |v| v.0),
            round_timeout_ms: p.round_timeout_ms.map_or(500, |v| v.0),
            verify: verify.map_or(Verify::None, |v| v.0),
            channel: p.channel.unwrap_or(Channel::Ideal),
            network: NetworkModel {
                latency: net.latency_ms.map_or(Latency::Fixed { value_us: 10_000 }, |l| l.0),
                loss: net.loss.unwrap_or_default().0,
                duplicate: net.duplicate.unwrap_or_default().0,
            },
            clock_skew_us: net.clock_skew_ms.map_or(0, |s| s.0 as i64),
            trace,
            expect,
            adversaries: Adversaries { list: adversaries },
            faults,
            analysis,
            source_sha256,
            warnings,
        })
    }
}

/// One `[[adversary]]` table, by its `kind`.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum RawAdversary {
    Leak { member: u32, secret: String, epoch: u64, to: Option<RawLeakTo> },
    Coalition { members: Vec<u32> },
    RingCollusion { target: u32 },
    Eavesdropper { modes: Option<Vec<String>> },
    Cheat { member: u32, phase: String, epoch: Option<u64> },
    SmCheat { member: u32 },
    Tamper { probability: f64, modes: Option<Vec<String>>, senders: Option<Vec<u32>> },
    Replay { probability: f64, modes: Option<Vec<String>>, senders: Option<Vec<u32>> },
    Forge { probability: f64, modes: Option<Vec<String>>, senders: Option<Vec<u32>> },
    Withhold { member: u32, phase: Option<String> },
    Dlog { view: Option<RawDlogView>, budget: Option<u64> },
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawDlogView {
    Name(String),
    Member(u32),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawLeakTo {
    Name(String),
    Members(Vec<u32>),
}

impl RawAdversary {
    fn check(self, n: u32, epochs: u64, init: InitKind) -> Result<Adversary, String> {
        let in_range = |m: u32, what: &str| {
            if (1..=n).contains(&m) {
                Ok(MemberId(m))
            } else {
                Err(format!("{what} = {m} is not a member; allowed: 1..={n}"))
            }
        };
        let wire = |attack: WireAttack,
                    probability: f64,
                    modes: Option<Vec<String>>,
                    senders: Option<Vec<u32>>| {
            if !(0.0..1.0).contains(&probability) {
                return Err(format!(
                    "probability = {probability} is out of range; allowed: a probability in [0, 1) (0 ≤ p < 1)"
                ));
            }
            let modes = parse_modes(modes, "a network adversary filtering out every mode attacks nothing")?;
            let senders = match senders {
                None => None,
                Some(ids) => {
                    let least = if init == InitKind::Sm { 0 } else { 1 };
                    let mut parties = Vec::new();
                    for id in ids {
                        if id < least || id > n {
                            let sm = if least == 0 {
                                " (0 is the SM)"
                            } else {
                                " (0, the SM, only with init = \"sm\")"
                            };
                            return Err(format!(
                                "senders: {id} is not a party; allowed: ids in {least}..={n}{sm}"
                            ));
                        }
                        parties.push(if id == 0 { Party::Sm } else { Party::Member(MemberId(id)) });
                    }
                    parties.sort();
                    parties.dedup();
                    if parties.is_empty() {
                        return Err("senders: an empty list attacks nothing; allowed: party ids (or leave senders out for all)".into());
                    }
                    Some(parties)
                }
            };
            Ok(Adversary::Wire(Wire { attack, probability, modes, senders }))
        };
        match self {
            RawAdversary::Leak { member: m, secret, epoch, to } => {
                let member = in_range(m, "member")?;
                let (secret, last) = match secret.as_str() {
                    "alpha" => (LeakSecret::Alpha, epochs + 1),
                    "fk" => (LeakSecret::Fk, epochs),
                    "theta" => (LeakSecret::Theta, epochs + 1),
                    "sk" => (LeakSecret::Sk, epochs + 1),
                    other => {
                        return Err(format!(
                            "secret = \"{other}\" is unknown; allowed: \"alpha\", \"fk\", \"theta\", \"sk\""
                        ));
                    }
                };
                if !(1..=last).contains(&epoch) {
                    return Err(format!(
                        "epoch = {epoch}: this run has no {} of that epoch; allowed: 1..={last}",
                        secret.as_str()
                    ));
                }
                let to = match to {
                    None => LeakTo::Group,
                    Some(RawLeakTo::Name(s)) if s == "group" => LeakTo::Group,
                    Some(RawLeakTo::Name(s)) if s == "outsider" => LeakTo::Outsider,
                    Some(RawLeakTo::Name(s)) => {
                        return Err(format!(
                            "to = \"{s}\" is unknown; allowed: \"group\", \"outsider\" or a list of member ids"
                        ));
                    }
                    Some(RawLeakTo::Members(ms)) => {
                        let ms: Result<Vec<MemberId>, String> =
                            ms.into_iter().map(|x| in_range(x, "to")).collect();
                        let mut ms = ms?;
                        ms.sort();
                        ms.dedup();
                        ms.retain(|&m| m != member);
                        if ms.is_empty() {
                            return Err("to: the leak reaches nobody; allowed: \"group\", \"outsider\" or ids of other members".into());
                        }
                        LeakTo::Members(ms)
                    }
                };
                Ok(Adversary::Leak(Leak { member, secret, epoch, to }))
            }
            RawAdversary::Coalition { members } => {
                let mut ms: Vec<MemberId> =
                    members.into_iter().map(|x| in_range(x, "members")).collect::<Result<_, _>>()?;
                ms.sort();
                ms.dedup();
                if ms.len() < 2 {
                    return Err("members: a coalition needs at least two distinct members".into());
                }
                if ms.len() == n as usize {
                    return Err(format!(
                        "members: a coalition of all {n} members has no one outside it to learn about; allowed: at most {} members",
                        n - 1
                    ));
                }
                Ok(Adversary::Coalition { members: ms })
            }
            RawAdversary::RingCollusion { target } => {
                if init == InitKind::Sm {
                    return Err("ring-collusion attacks the ring initialisation; allowed with init = \"ring\" or \"ring-hardened\"".into());
                }
                if n < 3 {
                    return Err(format!(
                        "ring-collusion needs a target and two other members; allowed: members ≥ 3 (here {n})"
                    ));
                }
                Ok(Adversary::RingCollusion { target: in_range(target, "target")? })
            }
            RawAdversary::Eavesdropper { modes } => Ok(Adversary::Eavesdropper {
                modes: parse_modes(modes, "an eavesdropper tapping no mode sees nothing")?,
            }),
            RawAdversary::Cheat { member, phase, epoch } => {
                let member = in_range(member, "member")?;
                let phase = match (phase.as_str(), epoch) {
                    ("init", _) if init != InitKind::Ring => {
                        return Err("phase: a member cheats in initialisation by its ring δ; allowed with init = \"ring\" (use sm-cheat for the SM, or phase = \"keygen\")".into());
                    }
                    ("init", None | Some(1)) => CheatPhase::Init,
                    ("init", Some(e)) => {
                        return Err(format!(
                            "epoch = {e}: initialisation is epoch 1; allowed: 1 or leave it out"
                        ));
                    }
                    ("keygen", Some(j)) if (1..=epochs).contains(&j) => CheatPhase::Keygen(j),
                    ("keygen", Some(j)) => {
                        return Err(format!(
                            "epoch = {j}: the HFK of key-generation iteration j; allowed: 1..={epochs}"
                        ));
                    }
                    ("keygen", None) => {
                        return Err(format!("epoch: which iteration's HFK is forged; allowed: 1..={epochs}"));
                    }
                    (other, _) => {
                        return Err(format!("phase = \"{other}\" is unknown; allowed: \"init\", \"keygen\""));
                    }
                };
                Ok(Adversary::Cheat { member, phase })
            }
            RawAdversary::SmCheat { member } => {
                if init != InitKind::Sm {
                    return Err("sm-cheat needs a security manager; allowed with init = \"sm\"".into());
                }
                Ok(Adversary::SmCheat { member: in_range(member, "member")? })
            }
            RawAdversary::Tamper { probability, modes, senders } => {
                wire(WireAttack::Tamper, probability, modes, senders)
            }
            RawAdversary::Replay { probability, modes, senders } => {
                wire(WireAttack::Replay, probability, modes, senders)
            }
            RawAdversary::Forge { probability, modes, senders } => {
                wire(WireAttack::Forge, probability, modes, senders)
            }
            RawAdversary::Withhold { member, phase } => {
                if phase.as_deref().is_some_and(|p| p != "recovery") {
                    return Err("phase: a member can withhold only in recovery; allowed: \"recovery\"".into());
                }
                Ok(Adversary::Withhold { member: in_range(member, "member")? })
            }
            RawAdversary::Dlog { view, budget } => {
                let view = match view {
                    None => DlogView::Outsider,
                    Some(RawDlogView::Name(s)) if s == "outsider" => DlogView::Outsider,
                    Some(RawDlogView::Member(m)) => DlogView::Member(in_range(m, "view")?),
                    Some(RawDlogView::Name(s)) => {
                        return Err(format!(
                            "view = \"{s}\" is unknown; allowed: \"outsider\" or a member id"
                        ));
                    }
                };
                let budget = budget.unwrap_or(DLOG_BUDGET_DEFAULT);
                if !(1..=DLOG_BUDGET_MAX).contains(&budget) {
                    return Err(format!(
                        "budget = {budget}: allowed: 1..={DLOG_BUDGET_MAX} group operations"
                    ));
                }
                Ok(Adversary::Dlog { view, budget })
            }
        }
    }
}

/// `modes = ["I", "G", "R"]`: all three if left out; `empty` says why an
/// empty list is refused.
fn parse_modes(modes: Option<Vec<String>>, empty: &str) -> Result<Vec<Mode>, String> {
    let modes: Vec<Mode> = match modes {
        None => vec![Mode::Init, Mode::Generation, Mode::Recovery],
        Some(ms) => ms
            .iter()
            .map(|m| match m.as_str() {
                "I" => Ok(Mode::Init),
                "G" => Ok(Mode::Generation),
                "R" => Ok(Mode::Recovery),
                other => Err(format!("modes: mode \"{other}\" is unknown; allowed: \"I\", \"G\", \"R\"")),
            })
            .collect::<Result<_, _>>()?,
    };
    if modes.is_empty() {
        return Err(format!(
            "modes: {empty}; allowed: some of \"I\", \"G\", \"R\" (or leave modes out for all)"
        ));
    }
    Ok(modes)
}

impl RawExpect {
    fn compromised_span(&self) -> Option<std::ops::Range<usize>> {
        self.compromised.as_ref().map(|c| c.span())
    }
}

/// One `[[fault]]` table, by its `kind`.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum RawFault {
    Crash { member: u32, at: Option<RawCrashPoint>, at_ms: Option<u64>, replace: Option<bool> },
    Partition { groups: Vec<Vec<u32>>, from_ms: u64, until_ms: Option<u64> },
}

/// `at = { epoch = 3, when = "before-send" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCrashPoint {
    epoch: u64,
    when: String,
}

enum Fault {
    Crash(Crash),
    Partition(Partition),
}

/// Fault times are whole ms up to a year of virtual time.
const FAULT_MS_MAX: u64 = 365 * 86_400_000;

impl RawFault {
    fn check(self, n: u32, epochs: u64) -> Result<Fault, String> {
        let in_range = |m: u32, what: &str| {
            if (1..=n).contains(&m) {
                Ok(MemberId(m))
            } else {
                Err(format!("{what} = {m} is not a member; allowed: 1..={n}"))
            }
        };
        match self {
            RawFault::Crash { member, at, at_ms, replace } => {
                let member = in_range(member, "member")?;
                let at = match (at, at_ms) {
                    (Some(p), None) => {
                        if !(1..=epochs).contains(&p.epoch) {
                            return Err(format!(
                                "at.epoch = {}: this run has iterations 1..={epochs}",
                                p.epoch
                            ));
                        }
                        let after_send = match p.when.as_str() {
                            "before-send" => false,
                            "after-send" => true,
                            other => {
                                return Err(format!(
                                    "at.when = \"{other}\" is unknown; allowed: \"before-send\", \"after-send\""
                                ));
                            }
                        };
                        CrashAt::Point(Halt { iteration: p.epoch, after_send })
                    }
                    (None, Some(ms)) if ms <= FAULT_MS_MAX => CrashAt::Time(ms * 1_000),
                    (None, Some(ms)) => {
                        return Err(format!("at_ms = {ms} is out of range; allowed: 0..={FAULT_MS_MAX}"));
                    }
                    _ => {
                        return Err("a crash needs exactly one of at = { epoch, when } and at_ms".into());
                    }
                };
                Ok(Fault::Crash(Crash { member, at, replace: replace.unwrap_or(false) }))
            }
            RawFault::Partition { groups, from_ms, until_ms } => {
                let mut seen = std::collections::BTreeSet::new();
                let mut out = Vec::new();
                for g in groups {
                    let ids: Vec<MemberId> =
                        g.into_iter().map(|m| in_range(m, "groups")).collect::<Result<_, _>>()?;
                    if let Some(dup) = ids.iter().find(|m| !seen.insert(**m)) {
                        return Err(format!("member {dup} is in two groups; allowed: disjoint groups"));
                    }
                    out.push(ids);
                }
                if out.is_empty() {
                    return Err("a partition needs groups, e.g. groups = [[1, 2], [3, 4]]".into());
                }
                if from_ms > FAULT_MS_MAX || until_ms.is_some_and(|u| u <= from_ms || u > FAULT_MS_MAX) {
                    return Err(format!("from_ms must be before until_ms, both within 0..={FAULT_MS_MAX}"));
                }
                Ok(Fault::Partition(Partition {
                    groups: out,
                    from_us: from_ms * 1_000,
                    until_us: until_ms.map(|u| u * 1_000),
                }))
            }
        }
    }
}
