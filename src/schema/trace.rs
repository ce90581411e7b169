//! `trace.jsonl`, format `fraclab-trace/1` (reference §5; README "Outputs"):
//! one [`TraceLine`] per line, a [`Header`] first and a [`Footer`] last.
//!
//! The writer (`report::trace`) serialises these values and the readers
//! (`verify-trace`, the plots) deserialise them, so the format is stated once.
//! Field order is the order the trace has always been written in: the key
//! order of a line is part of the golden trace hash. Readers accept keys in
//! any order and ignore keys they do not know (formats are extended
//! compatibly); `verify-trace` additionally insists on exactly the keys the
//! writer writes.
//!
//! Names from small closed sets that the simulator supplies as static
//! strings (message kinds, modes, secret names, drop and reject reasons,
//! checks, attacks) are [`Name`]s: borrowed when written, owned when read,
//! and checked against their sets by the reader that needs them.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::View;

/// The format string of a trace header.
pub const TRACE_FORMAT: &str = "fraclab-trace/1";

/// A name from a closed set: borrowed from the simulator when written, owned
/// when read back.
pub type Name = Cow<'static, str>;

/// One line of `trace.jsonl`, tagged by its `"type"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum TraceLine {
    /// The first line: what ran.
    Header(Header),
    /// A secret drawn or derived.
    Secret(Secret),
    /// A transmission (level `full` only).
    Send(Sent),
    /// A delivery (level `full` only).
    Deliver(Deliver),
    /// A message lost, partitioned away or sent to a crashed party (level
    /// `full` only).
    Drop(Dropped),
    /// A network adversary's move (level `full` only).
    Attack(Attack),
    /// A receiver's channel refused a message.
    Reject(Reject),
    /// An adversary's message reached a party's protocol state.
    Forgery(Forgery),
    /// A member crashed.
    Crash(Crash),
    /// A failed check.
    Detect(Detect),
    /// A replacement took a crashed member's index.
    Replace(Replace),
    /// A replacement's recovery (process 700) ended.
    Recovered(Recovered),
    /// A member revealed a secret.
    Leak(Leak),
    /// A view derived a secret (knowledge analysis).
    Learn(Learn),
    /// A member holds θ of an epoch.
    Theta(Theta),
    /// A member derived the key of an epoch.
    Key(Key),
    /// The last line: how many lines came between header and footer.
    Footer(Footer),
}

/// The header: the run's scenario, seed, parameters and trace level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// [`TRACE_FORMAT`].
    pub format: String,
    /// The scenario's name.
    pub scenario: String,
    /// SHA-256 (hex) of the scenario file's bytes.
    pub scenario_sha256: String,
    /// The run's seed.
    pub seed: u64,
    /// The parameter set's name.
    pub params: String,
    /// n.
    pub members: u32,
    /// The fraclab version that wrote the trace.
    pub fraclab: String,
    /// `sm`, `ring` or `ring-hardened`.
    pub init: String,
    /// `additive` or `elgamal`.
    pub keygen: String,
    /// Key-generation iterations the scenario asks for.
    pub epochs: u64,
    /// `ideal`, `plain` or `sealed`.
    pub channel: String,
    /// `full` or `protocol`.
    pub trace: String,
}

/// A `secret` line: `member`'s `name[index]` is `value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Secret {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// The owner (the SM's draw v_i belongs to member i).
    pub member: u32,
    /// v, gamma, delta, alpha, fk, x, share, w, xi or beta.
    pub name: Name,
    /// The epoch, iteration, recipient or recovery the value belongs to.
    pub index: u64,
    /// The scalar, lowercase hex of the byte length of q.
    pub value: String,
}

/// A `send` line: one transmission of a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// Unique per transmission.
    pub msg: u64,
    /// The sender (0 = SM).
    pub from: u32,
    /// The recipient (0 = SM).
    pub to: u32,
    /// `I`, `G` or `R`.
    pub mode: Name,
    /// The iteration.
    pub iter: u64,
    /// The message kind (`pad`, `hfk`, `ack`, …).
    pub kind: Name,
    /// What the message carries, by kind.
    pub value: Payload,
    /// The sender's number for this payload to this recipient (0 for acks).
    pub sender_seq: u64,
    /// 0, or the retransmission's number.
    pub attempt: u32,
}

/// A `send` line's `value`: its shape follows the message kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a message value: a sender_seq, a hex string, null, or the object of a pad, commit, recover or hfk_relay message"
)]
pub enum Payload {
    /// An ack: the acknowledged `sender_seq`.
    Seq(u64),
    /// A scalar, an element or a confirmation tag, in hex.
    Hex(String),
    /// The SM's pad (process 300).
    Pad(PadValue),
    /// The SM's commitments (process 800).
    SmCommit(SmCommitValue),
    /// A ring member's commitments (process 900).
    RingCommit(RingCommitValue),
    /// The RI's handover to a replacement (process 700).
    Recover(RecoverValue),
    /// An HFK relayed by the RI to a survivor (process 700).
    Relay(RelayValue),
    /// `joined`: nothing.
    Null,
}

/// `{"alpha","theta"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PadValue {
    /// α_(i,1).
    pub alpha: String,
    /// θ_1.
    pub theta: String,
}

/// `{"alphas":[C_1,…,C_n],"theta":C_θ}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmCommitValue {
    /// g^α_(i,1) for every member, in id order.
    pub alphas: Vec<String>,
    /// g^θ_1.
    pub theta: String,
}

/// `{"v":V_i,"delta":D_i,"gamma":Γ|null}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RingCommitValue {
    /// g^v_i.
    pub v: String,
    /// g^δ_i.
    pub delta: String,
    /// g^γ from the GI (member 1), else null.
    pub gamma: Option<String>,
}

/// `{"hfk":…|null,"theta":…,"sk":…}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverValue {
    /// HFK of the replaced member at r (null at r = 0).
    pub hfk: Option<String>,
    /// θ_(r+1).
    pub theta: String,
    /// SK_(r+1), 64 hex digits.
    pub sk: String,
}

/// `{"owner":ī,"hfk":…}` plus `"fk_pub"` when FKs are published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayValue {
    /// Whose HFK it is.
    pub owner: u32,
    /// HFK_(ī,r).
    pub hfk: String,
    /// g^FK_(ī,r), when FKs are published; absent otherwise (never null).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub fk_pub: Option<String>,
}

/// A key that, when present, holds a string (absent is `None`, null an error).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// A `deliver` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deliver {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// The delivered message.
    pub msg: u64,
    /// The recipient (0 = SM).
    pub to: u32,
    /// A network duplicate; written only when true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub duplicate: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A `drop` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// The dropped message.
    pub msg: u64,
    /// `loss`, `partition` or `crashed`.
    pub reason: Name,
}

/// An `attack` line: what the tampered or injected message claims to be.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attack {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// The message (a tamper keeps its `msg`, an injection gets a new one).
    pub msg: u64,
    /// `tamper`, `replay` or `forge`.
    pub attack: Name,
    /// The replayed message's `msg`, else null.
    pub of: Option<u64>,
    /// Claimed sender.
    pub from: u32,
    /// Recipient.
    pub to: u32,
    /// Claimed mode.
    pub mode: Name,
    /// Claimed iteration.
    pub iter: u64,
    /// Claimed kind.
    pub kind: Name,
}

/// A `reject` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reject {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// The receiver (0 = SM).
    pub member: u32,
    /// The refused message.
    pub msg: u64,
    /// Why the channel refused it.
    pub reason: Name,
}

/// A `forgery` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Forgery {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// The party whose protocol state took it (0 = SM).
    pub member: u32,
    /// The adversary's message.
    pub msg: u64,
    /// `tamper`, `replay` or `forge`.
    pub attack: Name,
}

/// A `crash` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Crash {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// Who crashed.
    pub member: u32,
}

/// A `detect` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detect {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// Who found it.
    pub member: u32,
    /// `silence` or a verification check.
    pub check: Name,
    /// The party the check names (0 = SM), or null.
    pub culprit: Option<u32>,
    /// The iteration.
    pub iter: u64,
}

/// A `replace` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Replace {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// The index the replacement takes.
    pub member: u32,
}

/// A `recovered` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recovered {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// The replaced index.
    pub member: u32,
    /// r.
    pub iter: u64,
    /// The recovered values equal the originals and the key confirmed.
    pub ok: bool,
}

/// A `leak` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Leak {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// The leaker.
    pub member: u32,
    /// `alpha`, `fk`, `theta` or `sk`.
    pub secret: Name,
    /// The epoch (the iteration j for FK).
    pub epoch: u64,
    /// Who it reaches.
    pub to: LeakTo,
}

/// A leak's recipients: `"group"`, `"outsider"` or a list of ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, expecting = "\"group\", \"outsider\" or a list of member ids")]
pub enum LeakTo {
    /// `"group"` or `"outsider"`.
    Named(LeakAudience),
    /// These members.
    Members(Vec<u32>),
}

/// The named recipients of a leak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeakAudience {
    /// Every other member.
    Group,
    /// The outsider.
    Outsider,
}

/// A `learn` line: `view` derived `name[target,index]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Learn {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// Who derived it.
    pub view: View,
    /// The owner; null for θ.
    pub target: Option<u32>,
    /// fk (x under ElGamal), alpha, v or theta.
    pub name: Name,
    /// The epoch or iteration.
    pub index: u64,
    /// The derived scalar.
    pub value: String,
}

/// A `theta` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Theta {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// Who holds it.
    pub member: u32,
    /// The epoch.
    pub epoch: u64,
    /// θ_epoch.
    pub value: String,
}

/// A `key` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Key {
    /// Virtual time, µs.
    pub t_us: u64,
    /// Position in the run's total order.
    pub seq: u64,
    /// Who derived it.
    pub member: u32,
    /// The epoch.
    pub epoch: u64,
    /// SK_epoch, 64 hex digits.
    pub sk: String,
}

/// The footer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Footer {
    /// Lines between header and footer.
    pub events: u64,
}

/// Why a line is not a [`TraceLine`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// The line's `seq`, when it is an event with a readable one.
    pub seq: Option<u64>,
    /// The key at fault (`from`, `value.alpha`), when serde can name one.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
    /// The line is an event of a type this version does not know (readers
    /// that only draw may skip it: formats are extended compatibly).
    pub unknown_type: bool,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.key {
            Some(k) => write!(f, "`{k}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The keys every line is read for first: its type and position.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    ty: Option<Value>,
    seq: Option<Value>,
}

impl TraceLine {
    /// The line's `"type"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            TraceLine::Header(_) => "header",
            TraceLine::Secret(_) => "secret",
            TraceLine::Send(_) => "send",
            TraceLine::Deliver(_) => "deliver",
            TraceLine::Drop(_) => "drop",
            TraceLine::Attack(_) => "attack",
            TraceLine::Reject(_) => "reject",
            TraceLine::Forgery(_) => "forgery",
            TraceLine::Crash(_) => "crash",
            TraceLine::Detect(_) => "detect",
            TraceLine::Replace(_) => "replace",
            TraceLine::Recovered(_) => "recovered",
            TraceLine::Leak(_) => "leak",
            TraceLine::Learn(_) => "learn",
            TraceLine::Theta(_) => "theta",
            TraceLine::Key(_) => "key",
            TraceLine::Footer(_) => "footer",
        }
    }

    /// (t_us, seq) of an event line; `None` for header and footer.
    pub fn at(&self) -> Option<(u64, u64)> {
        Some(match self {
            TraceLine::Header(_) | TraceLine::Footer(_) => return None,
            TraceLine::Secret(l) => (l.t_us, l.seq),
            TraceLine::Send(l) => (l.t_us, l.seq),
            TraceLine::Deliver(l) => (l.t_us, l.seq),
            TraceLine::Drop(l) => (l.t_us, l.seq),
            TraceLine::Attack(l) => (l.t_us, l.seq),
            TraceLine::Reject(l) => (l.t_us, l.seq),
            TraceLine::Forgery(l) => (l.t_us, l.seq),
            TraceLine::Crash(l) => (l.t_us, l.seq),
            TraceLine::Detect(l) => (l.t_us, l.seq),
            TraceLine::Replace(l) => (l.t_us, l.seq),
            TraceLine::Recovered(l) => (l.t_us, l.seq),
            TraceLine::Leak(l) => (l.t_us, l.seq),
            TraceLine::Learn(l) => (l.t_us, l.seq),
            TraceLine::Theta(l) => (l.t_us, l.seq),
            TraceLine::Key(l) => (l.t_us, l.seq),
        })
    }

    /// Reads one line with an error that names the key at fault and, when
    /// the line has a readable `seq`, its position. Unknown keys are
    /// ignored; an unknown `type` is an error.
    pub fn from_json(text: &str) -> Result<TraceLine, LineError> {
        // The common case, a valid line, straight into its type: no JSON
        // tree, no path tracking. Anything this path refuses (or a line with
        // a key twice, which the tree reads as its last value) goes the slow
        // way below, which gives the same line or the located error.
        if let Some(line) = Self::fast(text) {
            return Ok(line);
        }
        let value: Value = serde_json::from_str(text).map_err(|e| LineError {
            seq: None,
            key: None,
            message: e.to_string(),
            unknown_type: false,
        })?;
        Self::from_value(&value)
    }

    /// A valid line read without a JSON tree, or `None`.
    fn fast(text: &str) -> Option<TraceLine> {
        #[derive(Deserialize)]
        struct Type<'a> {
            #[serde(rename = "type", borrow)]
            ty: std::borrow::Cow<'a, str>,
        }
        fn typed<'a, T: Deserialize<'a>>(text: &'a str) -> Option<T> {
            serde_json::from_str(text).ok()
        }
        let ty: Type = serde_json::from_str(text).ok()?;
        Some(match ty.ty.as_ref() {
            "header" => TraceLine::Header(typed(text)?),
            "secret" => TraceLine::Secret(typed(text)?),
            "send" => TraceLine::Send(typed(text)?),
            "deliver" => TraceLine::Deliver(typed(text)?),
            "drop" => TraceLine::Drop(typed(text)?),
            "attack" => TraceLine::Attack(typed(text)?),
            "reject" => TraceLine::Reject(typed(text)?),
            "forgery" => TraceLine::Forgery(typed(text)?),
            "crash" => TraceLine::Crash(typed(text)?),
            "detect" => TraceLine::Detect(typed(text)?),
            "replace" => TraceLine::Replace(typed(text)?),
            "recovered" => TraceLine::Recovered(typed(text)?),
            "leak" => TraceLine::Leak(typed(text)?),
            "learn" => TraceLine::Learn(typed(text)?),
            "theta" => TraceLine::Theta(typed(text)?),
            "key" => TraceLine::Key(typed(text)?),
            "footer" => TraceLine::Footer(typed(text)?),
            _ => return None,
        })
    }

    /// [`TraceLine::from_json`] of an already parsed JSON value.
    pub fn from_value(value: &Value) -> Result<TraceLine, LineError> {
        let plain = |message: String| LineError { seq: None, key: None, message, unknown_type: false };
        if !value.is_object() {
            return Err(plain("not a JSON object".into()));
        }
        let head = Head::deserialize(value).map_err(|e| plain(e.to_string()))?;
        let ty = match head.ty {
            Some(Value::String(s)) => s,
            Some(_) => return Err(plain("`type` is not a string".into())),
            None => return Err(plain("missing field `type`".into())),
        };
        // Header and footer have no `seq`: a key of that name is not one.
        let event = !matches!(ty.as_str(), "header" | "footer");
        let seq = head.seq.as_ref().and_then(Value::as_u64).filter(|_| event);
        fn typed<T: serde::de::DeserializeOwned>(v: &Value, seq: Option<u64>) -> Result<T, LineError> {
            serde_path_to_error::deserialize(v).map_err(|e| {
                let path = e.path().to_string();
                let key = (path != ".").then_some(path);
                LineError { seq, key, message: e.into_inner().to_string(), unknown_type: false }
            })
        }
        Ok(match ty.as_str() {
            "header" => TraceLine::Header(typed(value, seq)?),
            "secret" => TraceLine::Secret(typed(value, seq)?),
            "send" => TraceLine::Send(typed(value, seq)?),
            "deliver" => TraceLine::Deliver(typed(value, seq)?),
            "drop" => TraceLine::Drop(typed(value, seq)?),
            "attack" => TraceLine::Attack(typed(value, seq)?),
            "reject" => TraceLine::Reject(typed(value, seq)?),
            "forgery" => TraceLine::Forgery(typed(value, seq)?),
            "crash" => TraceLine::Crash(typed(value, seq)?),
            "detect" => TraceLine::Detect(typed(value, seq)?),
            "replace" => TraceLine::Replace(typed(value, seq)?),
            "recovered" => TraceLine::Recovered(typed(value, seq)?),
            "leak" => TraceLine::Leak(typed(value, seq)?),
            "learn" => TraceLine::Learn(typed(value, seq)?),
            "theta" => TraceLine::Theta(typed(value, seq)?),
            "key" => TraceLine::Key(typed(value, seq)?),
            "footer" => TraceLine::Footer(typed(value, seq)?),
            other => {
                let message = format!("unknown event type \"{other}\"");
                return Err(LineError { seq, key: None, message, unknown_type: true });
            }
        })
    }

    /// The line as the writer writes it, without the newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a trace line always serialises")
    }
}

/// A hand-written JSON writer for the lines a full trace is made of (`send`
/// with a scalar, an ack or a pad, `deliver`, `secret`, `theta`, `key`),
/// byte for byte what `serde_json` writes for them; every other line, and
/// any line with a string that would need escaping, goes through
/// `serde_json`. A full trace at n = 256 is millions of such lines, and the
/// generic serialiser was most of its cost.
mod fast {
    use super::{Deliver, Key, Payload, Secret, Sent, Theta, TraceLine};

    /// Appends `l`'s JSON (no newline) to `out`.
    pub(super) fn write(l: &TraceLine, out: &mut Vec<u8>) {
        let start = out.len();
        if !try_write(l, out) {
            out.truncate(start);
            serde_json::to_writer(&mut *out, l).expect("a trace line serialises into memory");
        }
    }

    /// Whether `s` is written by serde_json as itself between quotes.
    /// (No early exit, so that the loop vectorises.)
    fn plain(s: &str) -> bool {
        s.bytes().fold(true, |ok, b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'))
    }

    /// `v` in decimal. The digits go left-aligned into a fixed 20-byte
    /// block that is copied whole and then cut, which the compiler turns
    /// into two moves instead of a call to memcpy.
    #[inline(always)]
    pub(super) fn digits(out: &mut Vec<u8>, mut v: u64) {
        let len = v.checked_ilog10().map_or(1, |l| l as usize + 1);
        let mut block = [0u8; 20];
        for d in block[..len].iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        let start = out.len();
        out.extend_from_slice(&block);
        out.truncate(start + len);
    }

    #[inline(always)]
    fn num(out: &mut Vec<u8>, key: &str, v: u64) {
        out.push(b',');
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        digits(out, v);
    }

    /// `,"key":"s"`; false when `s` needs escaping.
    #[inline(always)]
    fn text(out: &mut Vec<u8>, key: &str, s: &str) -> bool {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":\"");
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        plain(s)
    }

    /// `{"type":"ty","t_us":…,"seq":…`
    #[inline(always)]
    fn open(out: &mut Vec<u8>, ty: &str, t_us: u64, seq: u64) {
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(ty.as_bytes());
        out.push(b'"');
        num(out, "t_us", t_us);
        num(out, "seq", seq);
    }

    fn try_write(l: &TraceLine, out: &mut Vec<u8>) -> bool {
        let ok = match l {
            TraceLine::Send(Sent {
                t_us,
                seq,
                msg,
                from,
                to,
                mode,
                iter,
                kind,
                value,
                sender_seq,
                attempt,
            }) => {
                open(out, "send", *t_us, *seq);
                num(out, "msg", *msg);
                num(out, "from", u64::from(*from));
                num(out, "to", u64::from(*to));
                let mut ok = text(out, "mode", mode);
                num(out, "iter", *iter);
                ok &= text(out, "kind", kind);
                out.extend_from_slice(b",\"value\":");
                ok &= match value {
                    Payload::Seq(s) => {
                        digits(out, *s);
                        true
                    }
                    Payload::Hex(h) => {
                        out.push(b'"');
                        out.extend_from_slice(h.as_bytes());
                        out.push(b'"');
                        plain(h)
                    }
                    Payload::Pad(p) => {
                        out.extend_from_slice(b"{\"alpha\":\"");
                        out.extend_from_slice(p.alpha.as_bytes());
                        out.push(b'"');
                        let t = text(out, "theta", &p.theta);
                        out.push(b'}');
                        plain(&p.alpha) && t
                    }
                    _ => false,
                };
                num(out, "sender_seq", *sender_seq);
                num(out, "attempt", u64::from(*attempt));
                ok
            }
            TraceLine::Deliver(Deliver { t_us, seq, msg, to, duplicate }) => {
                open(out, "deliver", *t_us, *seq);
                num(out, "msg", *msg);
                num(out, "to", u64::from(*to));
                if *duplicate {
                    out.extend_from_slice(b",\"duplicate\":true");
                }
                true
            }
            TraceLine::Secret(Secret { t_us, seq, member, name, index, value }) => {
                open(out, "secret", *t_us, *seq);
                num(out, "member", u64::from(*member));
                let ok = text(out, "name", name);
                num(out, "index", *index);
                ok & text(out, "value", value)
            }
            TraceLine::Theta(Theta { t_us, seq, member, epoch, value }) => {
                open(out, "theta", *t_us, *seq);
                num(out, "member", u64::from(*member));
                num(out, "epoch", *epoch);
                text(out, "value", value)
            }
            TraceLine::Key(Key { t_us, seq, member, epoch, sk }) => {
                open(out, "key", *t_us, *seq);
                num(out, "member", u64::from(*member));
                num(out, "epoch", *epoch);
                text(out, "sk", sk)
            }
            _ => return false,
        };
        out.push(b'}');
        ok
    }
}

impl TraceLine {
    /// Appends this line's JSON, without the newline, to `out`: the bytes
    /// `serde_json::to_writer` writes, faster for the common lines.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        fast::write(self, out)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Any text, quotes, backslashes, control characters and non-ASCII
    /// included, so that the writer's fall-back to serde is exercised.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9a-f]{0,64}",
            any::<String>(),
            Just("a\"b".to_string()),
            Just("c\\d".to_string()),
            Just("\u{1}\n".to_string()),
            Just("\u{1f}\u{7f}\u{80}".to_string()),
            "[\\x00-\\x7f]{0,8}",
        ]
    }

    fn name() -> impl Strategy<Value = Name> {
        prop_oneof![Just(Name::Borrowed("I")), Just(Name::Borrowed("pad")), text().prop_map(Name::Owned)]
    }

    fn payload() -> impl Strategy<Value = Payload> {
        prop_oneof![
            any::<u64>().prop_map(Payload::Seq),
            text().prop_map(Payload::Hex),
            (text(), text()).prop_map(|(alpha, theta)| Payload::Pad(PadValue { alpha, theta })),
            Just(Payload::Null),
            (any::<u32>(), text()).prop_map(|(owner, hfk)| Payload::Relay(RelayValue {
                owner,
                hfk,
                fk_pub: None
            })),
        ]
    }

    fn line() -> impl Strategy<Value = TraceLine> {
        let u = any::<u64>;
        prop_oneof![
            (u(), u(), u(), any::<u32>(), any::<u32>(), name(), u(), name(), payload(), u(), any::<u32>())
                .prop_map(|(t_us, seq, msg, from, to, mode, iter, kind, value, sender_seq, attempt)| {
                    TraceLine::Send(Sent {
                        t_us,
                        seq,
                        msg,
                        from,
                        to,
                        mode,
                        iter,
                        kind,
                        value,
                        sender_seq,
                        attempt,
                    })
                }),
            (u(), u(), u(), any::<u32>(), any::<bool>()).prop_map(|(t_us, seq, msg, to, duplicate)| {
                TraceLine::Deliver(Deliver { t_us, seq, msg, to, duplicate })
            }),
            (u(), u(), any::<u32>(), name(), u(), text()).prop_map(
                |(t_us, seq, member, name, index, value)| {
                    TraceLine::Secret(Secret { t_us, seq, member, name, index, value })
                }
            ),
            (u(), u(), any::<u32>(), u(), text()).prop_map(|(t_us, seq, member, epoch, value)| {
                TraceLine::Theta(Theta { t_us, seq, member, epoch, value })
            }),
            (u(), u(), any::<u32>(), u(), text()).prop_map(|(t_us, seq, member, epoch, sk)| TraceLine::Key(
                Key { t_us, seq, member, epoch, sk }
            )),
            u().prop_map(|events| TraceLine::Footer(Footer { events })),
        ]
    }

    proptest! {
        /// `write_json` appends exactly serde_json's bytes, whatever came
        /// before it in the buffer, for the lines it writes by hand and for
        /// those it hands to serde.
        #[test]
        fn write_json_writes_serdes_bytes(l in line(), before in "[a-z]{0,3}") {
            let mut out = before.clone().into_bytes();
            l.write_json(&mut out);
            let mut want = before.into_bytes();
            want.extend(serde_json::to_vec(&l).unwrap());
            prop_assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&want));
        }
    }

    #[test]
    fn digits_cover_every_width() {
        for v in [0u64, 9, 10, 99, 100, 12_345, u64::MAX / 10, u64::MAX] {
            let mut out = Vec::new();
            fast::digits(&mut out, v);
            assert_eq!(out, v.to_string().into_bytes());
        }
    }
}
