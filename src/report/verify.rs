//! `fraclab verify-trace`: re-checks a trace from its own lines, sharing
//! nothing with the run that wrote it but the group arithmetic, the KDF, the
//! knowledge engine's pure span test and the trace schema
//! ([`crate::schema::trace`]).
//!
//! Every line is read into its typed [`TraceLine`] with exactly the keys the
//! writer writes (the schema's other readers ignore unknown keys; this one
//! refuses them). Then every record is range-checked: member ids in 1..=n
//! (0 = the SM where the SM may appear), epochs and iterations within the
//! header's `epochs`, names from their closed sets, scalars canonical
//! lowercase hex. Then:
//! - the header against the body: `init` (pad lines or ring lines), `keygen`
//!   (fk or x), `epochs` (no epoch past epochs + 1, a run that ends short
//!   shows a crash or a failure detection), `members`, `trace` (a `protocol`
//!   trace has no `send`/`deliver`/`drop`, a `full` one has sends);
//! - the secrets: the δ chain δ_i = δ_(i−1) + contribution_i (δ_0 = γ), the
//!   pad rule α_(i,e) = θ_e − FK_(i,e−1) (θ_1 − v_i) at every α, the
//!   recovery's ξ = Σ w and β_l = ξ − w_l, and a replacement's re-recorded v,
//!   α and FK equal to the originals (an FK after r may be a fresh draw);
//! - θ_(j+1) = Σ_i FK_(i,j) (θ_1 = Σ v), SK_e = KDF(θ_e), all members agree,
//!   every member holds every epoch any holds, and I1 at every epoch;
//! - every `send`: its metadata, its kind's mode and iteration, and its value
//!   from the secrets it carries (HFK = α + FK, pad, δ, θ, share, confirm,
//!   fk_pub, commit, the recovery ring's δ′, ξ, ĤFK, the RI's handover and
//!   relay); an ack's value is a sender_seq delivered to the acknowledger;
//!   a retransmission repeats its original;
//! - every `deliver` and `drop` follows its message (a send or an injected
//!   one), to its recipient, never earlier; a message has at most one
//!   delivery, one duplicate and two fates; drop reasons are the simulator's;
//! - `attack`, `reject`, `forgery`, `leak`, `detect`, `crash`, `replace`,
//!   `recovered`: their ids, names and references;
//! - every `learn`: its view and target well-formed, its value the ground
//!   truth, and (see the `learn` module) the derivation re-decided from what the view
//!   holds in the trace;
//! - `seq` strictly increasing, `t_us` non-decreasing, the footer's count,
//!   and nothing after the footer.
//!
//! Records of one step (one `t_us`) may come in any order: the checks that
//! depend on other records of the step run after the step's draws, derived
//! secrets, θ and keys are read. It stops at the first violation, naming
//! its line and `seq`.

mod learn;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::BufRead;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::group::{GroupParams, Scalar, SharedKey, confirm_tag, derive_sk};
use crate::knowledge::form::Var;
use crate::protocol::InitKind;
use crate::schema::View;
use crate::schema::trace::{
    Attack, Crash, Deliver, Detect, Dropped, Footer, Forgery, Key, Leak, LeakAudience, LeakTo, Learn,
    LineError, PadValue, Payload, RecoverValue, Recovered, Reject, RelayValue, Replace, RingCommitValue,
    Secret, Sent, SmCommitValue, TRACE_FORMAT, Theta, TraceLine,
};
use learn::{Claim, Holdings, LearnView, Terms};

/// What a successful verification covered.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Lines between header and footer.
    pub events: u64,
    /// HFK messages checked as α + FK.
    pub hfk_messages: u64,
    /// pad, delta, theta, share, confirm, fk_pub, commit and recovery
    /// messages checked against the secrets they carry.
    pub other_messages: u64,
    /// Acks whose value is a sequence number delivered to the acknowledger.
    pub acks: u64,
    /// `deliver` and `drop` lines matched to their message.
    pub fates: u64,
    /// `leak` lines whose leaker held the secret.
    pub leaks: u64,
    /// δ_i = δ_(i−1) + contribution_i on the ring.
    pub delta_links: u64,
    /// The recovery ring: δ′ links, ξ and β.
    pub recovery_values: u64,
    /// α_(i,e) = θ_e − v_i or θ_e − FK_(i,e−1).
    pub pad_rules: u64,
    /// θ lines checked as Σ FK (or Σ v).
    pub theta_sums: u64,
    /// Epochs at which I1 (Σ α = (n−1)θ) was checked.
    pub i1_epochs: u64,
    /// `key` lines checked as KDF(θ) and agreed.
    pub keys: u64,
    /// `learn` events whose value is the ground truth.
    pub learns: u64,
    /// Learns whose derivation was re-decided from the view's holdings.
    pub learns_redecided: u64,
    /// Learns that could not be re-decided: at level `protocol` (no
    /// deliveries), after a recovery began, or of a replacement view.
    pub learns_not_redecided: u64,
    /// The trace has no `send` events, so no payload could be checked.
    pub without_messages: bool,
}

impl fmt::Display for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "trace OK: {} events", self.events)?;
        writeln!(f, "  I1 (Σα = (n−1)θ):     {} epochs", self.i1_epochs)?;
        writeln!(f, "  θ = Σ FK (or Σ v):    {} theta events", self.theta_sums)?;
        writeln!(f, "  α = θ − FK (or − v):  {} pads", self.pad_rules)?;
        writeln!(f, "  δ chain:              {} links", self.delta_links)?;
        writeln!(f, "  recovery ring:        {} values (δ′, ξ, β)", self.recovery_values)?;
        writeln!(f, "  SK = KDF(θ), agreed:  {} key events, every member every epoch", self.keys)?;
        writeln!(f, "  leaks:                {} (the leaker held the secret)", self.leaks)?;
        writeln!(f, "  learn = ground truth: {} derived values", self.learns)?;
        writeln!(
            f,
            "  learn re-decided:     {} re-decided / {} not re-decidable (protocol level, recovery or replacement view)",
            self.learns_redecided, self.learns_not_redecided
        )?;
        if self.without_messages {
            write!(f, "  messages:             not checked (the trace has no send events)")
        } else {
            writeln!(f, "  HFK = α + FK:         {} messages", self.hfk_messages)?;
            writeln!(
                f,
                "  other payloads:       {} messages (pad, delta, theta, share, confirm, fk_pub, commit, recovery)",
                self.other_messages
            )?;
            writeln!(f, "  acks:                 {} (each acknowledges a delivered message)", self.acks)?;
            write!(f, "  deliver/drop:         {} (each follows its message, to its recipient)", self.fates)
        }
    }
}

/// Why a trace was rejected.
#[derive(Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// The trace cannot be read as a fraclab trace at all.
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A record is wrong: the line and `seq` it is at.
    Violation {
        /// 1-based line number.
        line: usize,
        /// The record's `seq`.
        seq: u64,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Malformed { line, message } => write!(f, "line {line}: malformed trace: {message}"),
            VerifyError::Violation { line, seq, message } => {
                write!(f, "line {line}: violation at seq {seq}: {message}")
            }
        }
    }
}

impl std::error::Error for VerifyError {}

type Res<T> = Result<T, VerifyError>;

/// Where a record is: every violation names its line and `seq`.
#[derive(Clone, Copy)]
struct At {
    line: usize,
    seq: u64,
}

impl At {
    fn err(self, message: String) -> VerifyError {
        VerifyError::Violation { line: self.line, seq: self.seq, message }
    }

    fn fail<T>(self, message: String) -> Res<T> {
        Err(self.err(message))
    }

    /// A range check's verdict, located here.
    fn ok<T>(self, r: Result<T, String>) -> Res<T> {
        r.map_err(|m| self.err(m))
    }
}

/// A member id in 1..=n.
fn member_id(k: &str, v: u32, n: u32) -> Result<u32, String> {
    if (1..=n).contains(&v) { Ok(v) } else { Err(format!("`{k}` = {v} is not a member id (1..={n})")) }
}

/// A party: a member id, or 0 for the SM where `sm` allows it.
fn party_id(k: &str, v: u32, n: u32, sm: bool) -> Result<u32, String> {
    if (v == 0 && sm) || (1..=n).contains(&v) {
        return Ok(v);
    }
    let allowed = if sm { format!("0 (the SM) or 1..={n}") } else { format!("1..={n}") };
    Err(format!("`{k}` = {v} is not a party id ({allowed})"))
}

/// `s` as the member of `allowed` it equals.
fn one_of(k: &str, s: &str, allowed: &[&'static str]) -> Result<&'static str, String> {
    allowed
        .iter()
        .find(|a| **a == s)
        .copied()
        .ok_or_else(|| format!("`{k}` = \"{s}\" is not one of {}", allowed.join(", ")))
}

const KINDS: [&str; 15] = [
    "pad",
    "delta",
    "theta",
    "share",
    "hfk",
    "fk_pub",
    "commit",
    "confirm",
    "recover",
    "xi",
    "hfk_relay",
    "hfk_hat",
    "joined",
    "ack",
    "hfk",
];
const MODES: [&str; 3] = ["I", "G", "R"];
const DROP_REASONS: [&str; 3] = ["loss", "partition", "crashed"];
const ATTACKS: [&str; 3] = ["tamper", "replay", "forge"];
const CHECKS: [&str; 9] =
    ["silence", "group-key", "pad", "pad-sum", "theta", "delta", "ring-link", "hfk", "hfk-after-recovery"];
const SECRET_NAMES: [&str; 10] = ["v", "gamma", "delta", "alpha", "fk", "x", "share", "w", "xi", "beta"];
const LEAK_SECRETS: [&str; 4] = ["alpha", "fk", "theta", "sk"];
const LEARN_NAMES: [&str; 5] = ["alpha", "fk", "x", "v", "theta"];

/// Why a line could not be read: its `seq` when it is an event with a
/// readable one, and what is wrong.
struct Misread {
    seq: Option<u64>,
    message: String,
}

impl Misread {
    /// As an error of a body line: a violation when the line has a `seq`.
    fn at(self, line: usize) -> VerifyError {
        match self.seq {
            Some(seq) => VerifyError::Violation { line, seq, message: self.message },
            None => VerifyError::Malformed { line, message: self.message },
        }
    }
}

/// Reads one line into the typed schema, refusing any key the writer does
/// not write and any it writes that is missing (an absent optional value
/// reads as null, so the schema alone would accept it).
fn read_line(text: &str) -> Result<TraceLine, Misread> {
    let raw: Value = serde_json::from_str(text).map_err(|e| Misread { seq: None, message: e.to_string() })?;
    let line = TraceLine::from_value(&raw).map_err(|e| {
        let message = if e.key.as_deref() == Some("value") { value_error(&raw, &e) } else { e.to_string() };
        Misread { seq: e.seq, message }
    })?;
    let seq = line.at().map(|(_, seq)| seq);
    let written = serde_json::to_value(&line).map_err(|e| Misread { seq, message: e.to_string() })?;
    if let TraceLine::Deliver(Deliver { duplicate: false, .. }) = &line {
        // The one key the writer leaves out when it has its default value.
        if raw.as_object().is_some_and(|m| m.contains_key("duplicate")) {
            return Err(Misread { seq, message: "`duplicate` is written only as true".into() });
        }
    }
    exact_keys(&raw, &written, "").map_err(|message| Misread { seq, message })?;
    Ok(line)
}

/// Why the `value` of a line is not what it should be: for a `send`, read
/// as the shape its kind carries, so that the error names the key inside it
/// (the schema reads a payload as any of the shapes, and can only say that
/// none fits).
fn value_error(raw: &Value, e: &LineError) -> String {
    let mut probe = raw.clone();
    if let Some(m) = probe.as_object_mut() {
        m.insert("value".into(), Value::Null);
    }
    match (TraceLine::from_value(&probe), raw.as_object().and_then(|m| m.get("value"))) {
        (Ok(TraceLine::Send(s)), Some(value)) => payload_error(&s.kind, s.from, value),
        _ => None,
    }
    .unwrap_or_else(|| e.to_string())
}

/// What is wrong with `value` as the payload of a `kind` message from
/// `from`; `None` for a kind this version does not know.
fn payload_error(kind: &str, from: u32, value: &Value) -> Option<String> {
    fn shape<T: DeserializeOwned>(value: &Value, kind: &str) -> String {
        if !value.is_object() {
            // serde would read a list as the struct's fields in order.
            return format!("the `{kind}` value is not an object");
        }
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(_) => format!("`value` is not the value of a `{kind}` message"),
            Err(e) => {
                let path = e.path().to_string();
                let key = if path == "." { "value".to_string() } else { format!("value.{path}") };
                format!("`{key}`: {}", e.into_inner())
            }
        }
    }
    Some(match kind {
        "pad" => shape::<PadValue>(value, kind),
        "commit" if from == 0 => shape::<SmCommitValue>(value, kind),
        "commit" => shape::<RingCommitValue>(value, kind),
        "recover" => shape::<RecoverValue>(value, kind),
        "hfk_relay" => shape::<RelayValue>(value, kind),
        "ack" => "an ack's value is not a sender_seq ≥ 1".into(),
        "joined" => "a `joined` message carries null".into(),
        "hfk" | "delta" | "theta" | "share" | "xi" | "hfk_hat" | "fk_pub" | "confirm" => {
            "`value` is not a string".into()
        }
        _ => return None,
    })
}

/// `raw` has, in every object at any depth, exactly the keys of `written`.
fn exact_keys(raw: &Value, written: &Value, path: &str) -> Result<(), String> {
    let at = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
    match (raw, written) {
        (Value::Object(r), Value::Object(w)) => {
            if let Some(k) = w.keys().find(|k| !r.contains_key(*k)) {
                return Err(format!("missing field `{}`", at(k)));
            }
            if let Some(k) = r.keys().find(|k| !w.contains_key(*k)) {
                return Err(format!("unknown field `{}`", at(k)));
            }
            w.iter().try_for_each(|(k, w)| exact_keys(&r[k], w, &at(k)))
        }
        (Value::Array(r), Value::Array(w)) => {
            r.iter().zip(w).enumerate().try_for_each(|(i, (r, w))| exact_keys(r, w, &at(&i.to_string())))
        }
        _ => Ok(()),
    }
}

/// One recorded value: the value, and where it was recorded.
#[derive(Clone)]
struct Rec {
    value: Scalar,
    line: usize,
    seq: u64,
}

/// (from, to, sender_seq, kind, mode, iter) of a payload.
type Original = (u32, u32, u64, &'static str, &'static str, u64);

/// What a message says it is: a send's metadata, or what an attack claims.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Wire {
    from: u32,
    to: u32,
    mode: &'static str,
    iter: u64,
    kind: &'static str,
}

/// A message on the wire: a send, or one an attack injected.
struct Msg {
    t: u64,
    wire: Wire,
    sender_seq: u64,
    /// Injected by a replay or forgery (no send line).
    injected: bool,
    tampered: bool,
    /// The payload's linear observations (for the views it reaches).
    terms: Vec<Terms>,
    delivered: bool,
    duplicated: bool,
    fates: u8,
    lost: bool,
    /// A recovery δ′'s value, for the survivor it reaches.
    rdelta: Option<Scalar>,
}

impl Msg {
    fn new(t: u64, wire: Wire, sender_seq: u64, injected: bool) -> Msg {
        Msg {
            t,
            wire,
            sender_seq,
            injected,
            tampered: false,
            terms: Vec::new(),
            delivered: false,
            duplicated: false,
            fates: 0,
            lost: false,
            rdelta: None,
        }
    }
}

/// What became of a message: a `deliver` or a `drop` line.
#[derive(Clone, Copy)]
enum Fate {
    Delivered { to: u32, duplicate: bool },
    Dropped(&'static str),
}

/// A process 800 or 900 commitment, checked at the footer.
enum Commitment {
    Sm(SmCommitValue),
    Ring(RingCommitValue),
}

/// What the header says about the run.
struct Run {
    group: &'static GroupParams,
    n: u32,
    init: InitKind,
    elgamal: bool,
    epochs: u64,
    channel: &'static str,
    full: bool,
}

struct Verifier {
    h: Run,
    /// (name, owner, index) → every record of it (a replacement may
    /// re-record a value), in line order.
    secrets: BTreeMap<(&'static str, u32, u64), Vec<Rec>>,
    thetas: BTreeMap<u64, BTreeMap<u32, Rec>>,
    keys: BTreeMap<u64, BTreeMap<u32, String>>,
    /// Times each member crashed, and was replaced.
    crashes: BTreeMap<u32, u32>,
    replaces: BTreeMap<u32, u32>,
    /// Re-recorded draws of a replacement that differ from the original:
    /// legitimate only for an FK after the recovered iteration r.
    fresh: Vec<(usize, u64, u32, &'static str, u64)>,
    msgs: BTreeMap<u64, Msg>,
    /// (from, to, sender_seq, kind, mode, iter) → the value and the last
    /// attempt, for retransmissions.
    originals: BTreeMap<Original, (Payload, u32)>,
    /// (receiver, sender, sender_seq, mode, iter) of every delivered payload.
    delivered: BTreeSet<(u32, u32, u64, &'static str, u64)>,
    /// Whether some injected message from → to was delivered.
    injected_to: BTreeSet<(u32, u32)>,
    /// Recovery δ′ values delivered to each member, by iteration.
    rdelta_in: BTreeMap<(u32, u64), Vec<Scalar>>,
    commits: Vec<(At, u32, Commitment)>,
    sends: u64,
    detects: u64,
    /// The first line at which a recovery starts (a replace or a mode-R send).
    recovery_from: Option<usize>,
    holdings: Holdings,
    claims: Vec<Claim>,
    /// (view, target) of every learn, to refuse a second claim.
    claimed: BTreeSet<(LearnView, Var)>,
    /// (line, seq, name, target, value) of every learn, checked against the
    /// ground truth at the footer.
    learn_values: Vec<(usize, u64, &'static str, Var, Scalar)>,
    /// Learns whose value was checked but whose derivation is not re-decided.
    not_redecided: u64,
    last_nonlearn: usize,
    last_line: usize,
    last_seq: u64,
    checked: Checked,
}

/// A read line waiting for its step to end.
struct Pending {
    at: At,
    ev: TraceLine,
    /// The nearest earlier non-learn line (for learns).
    after: usize,
}

/// Within a step: draws, then derived secrets, θ, keys, then the rest in
/// line order.
fn rank(p: &Pending) -> (u8, u64) {
    match &p.ev {
        TraceLine::Secret(s) => match s.name.as_ref() {
            "delta" => (1, u64::from(s.member)),
            "xi" => (2, 0),
            "alpha" | "beta" => (3, 0),
            _ => (0, 0),
        },
        TraceLine::Theta(_) => (4, 0),
        TraceLine::Key(_) => (5, 0),
        _ => (6, 0),
    }
}

fn violation<T>(line: usize, seq: u64, message: String) -> Res<T> {
    Err(VerifyError::Violation { line, seq, message })
}

/// A payload's hex text, if it is one.
fn hex_of(p: &Payload) -> Option<&str> {
    match p {
        Payload::Hex(s) => Some(s),
        _ => None,
    }
}

/// Member ids in 1..=n, strictly increasing; `None` for anything else.
fn sorted_ids(ids: &[u32], n: u32) -> Option<Vec<u32>> {
    let ok = ids.iter().all(|m| (1..=n).contains(m)) && ids.windows(2).all(|w| w[0] < w[1]);
    ok.then(|| ids.to_vec())
}

impl Verifier {
    fn new(h: Run) -> Verifier {
        let n = h.n as usize;
        let outsider_exact = h.channel != "plain";
        Verifier {
            h,
            secrets: BTreeMap::new(),
            thetas: BTreeMap::new(),
            keys: BTreeMap::new(),
            crashes: BTreeMap::new(),
            replaces: BTreeMap::new(),
            fresh: Vec::new(),
            msgs: BTreeMap::new(),
            originals: BTreeMap::new(),
            delivered: BTreeSet::new(),
            injected_to: BTreeSet::new(),
            rdelta_in: BTreeMap::new(),
            commits: Vec::new(),
            sends: 0,
            detects: 0,
            recovery_from: None,
            holdings: Holdings { members: vec![Vec::new(); n], outsider: Vec::new(), outsider_exact },
            claims: Vec::new(),
            claimed: BTreeSet::new(),
            not_redecided: 0,
            learn_values: Vec::new(),
            last_nonlearn: 1,
            last_line: 1,
            last_seq: 0,
            checked: Checked::default(),
        }
    }

    fn g(&self) -> &'static GroupParams {
        self.h.group
    }

    fn sm(&self) -> bool {
        self.h.init == InitKind::Sm
    }

    fn scalar(&self, at: At, s: &str, what: &str) -> Res<Scalar> {
        let x = self.g().scalar_from_hex(s).map_err(|e| at.err(format!("`{what}`: {e}")))?;
        if self.g().scalar_hex(&x) != s {
            return at.fail(format!("`{what}` is not lowercase hex of the byte length of q"));
        }
        Ok(x)
    }

    /// A send's `value` that must be a scalar.
    fn payload_scalar(&self, at: At, value: &Payload) -> Res<Scalar> {
        match hex_of(value) {
            Some(s) => self.scalar(at, s, "value"),
            None => at.fail("`value` is not a string".into()),
        }
    }

    fn key_hex(at: At, s: &str, what: &str) -> Res<String> {
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return at.fail(format!("`{what}` is not 64 lowercase hex digits"));
        }
        Ok(s.to_string())
    }

    /// The value of a secret in force at `line`: the latest record before
    /// it, else the first record of the same step (records of one step may
    /// come in any order).
    fn secret(&self, name: &str, owner: u32, index: u64) -> Option<&Scalar> {
        let name = if name == "x" { "fk" } else { name };
        let key = SECRET_NAMES.iter().find(|n| **n == name)?;
        self.secrets.get(&(*key, owner, index)).and_then(|v| v.last()).map(|r| &r.value)
    }

    fn original(&self, name: &'static str, owner: u32, index: u64) -> Option<&Rec> {
        self.secrets.get(&(name, owner, index)).and_then(|v| v.first())
    }

    fn sum_all(&self, name: &str, index: u64) -> Option<Scalar> {
        let parts: Option<Vec<&Scalar>> = (1..=self.h.n).map(|m| self.secret(name, m, index)).collect();
        parts.map(|p| self.g().sum(p))
    }

    /// What member i adds on the ring: v_i, or on the hardened ring the sum
    /// of the shares addressed to it (its kept share v_i − Σ sent shares).
    fn contribution(&self, i: u32) -> Option<Scalar> {
        let g = self.g();
        let v = self.secret("v", i, 1)?.clone();
        if self.h.init != InitKind::RingHardened {
            return Some(v);
        }
        let mut c = v;
        for k in (1..=self.h.n).filter(|&k| k != i) {
            c = g.sub(&c, self.secret("share", i, u64::from(k))?);
            c = g.add(&c, self.secret("share", k, u64::from(i))?);
        }
        Some(c)
    }

    fn max_epoch(&self) -> u64 {
        self.h.epochs + 1
    }

    fn replaced(&self, m: u32) -> bool {
        self.replaces.get(&m).copied().unwrap_or(0) > 0
    }

    fn event(&mut self, p: &Pending) -> Res<()> {
        let at = p.at;
        match &p.ev {
            TraceLine::Secret(l) => self.on_secret(at, l),
            TraceLine::Send(l) => self.on_send(at, l),
            TraceLine::Deliver(l) => self.on_deliver(at, l),
            TraceLine::Drop(l) => self.on_drop(at, l),
            TraceLine::Attack(l) => self.on_attack(at, l),
            TraceLine::Reject(l) => self.on_reject(at, l),
            TraceLine::Forgery(l) => self.on_forgery(at, l),
            TraceLine::Crash(l) => self.on_crash(at, l),
            TraceLine::Replace(l) => self.on_replace(at, l),
            TraceLine::Detect(l) => self.on_detect(at, l),
            TraceLine::Recovered(l) => self.on_recovered(at, l),
            TraceLine::Leak(l) => self.on_leak(at, l),
            TraceLine::Learn(l) => self.on_learn(at, p.after, l),
            TraceLine::Theta(l) => self.on_theta(at, l),
            TraceLine::Key(l) => self.on_key(at, l),
            TraceLine::Header(_) | TraceLine::Footer(_) => {
                at.fail("a header or footer among the events".into())
            }
        }
    }

    fn on_deliver(&mut self, at: At, l: &Deliver) -> Res<()> {
        let to = at.ok(party_id("to", l.to, self.h.n, self.sm()))?;
        self.on_fate(at, l.t_us, l.msg, Fate::Delivered { to, duplicate: l.duplicate })
    }

    fn on_drop(&mut self, at: At, l: &Dropped) -> Res<()> {
        let reason = at.ok(one_of("reason", &l.reason, &DROP_REASONS))?;
        self.on_fate(at, l.t_us, l.msg, Fate::Dropped(reason))
    }

    fn on_reject(&mut self, at: At, l: &Reject) -> Res<()> {
        let member = at.ok(party_id("member", l.member, self.h.n, self.sm()))?;
        at.ok(one_of("reason", &l.reason, &crate::protocol::sealed::REASONS))?;
        self.refused_or_taken(at, "reject", member, l.msg)
    }

    fn on_forgery(&mut self, at: At, l: &Forgery) -> Res<()> {
        let member = at.ok(party_id("member", l.member, self.h.n, self.sm()))?;
        at.ok(one_of("attack", &l.attack, &ATTACKS))?;
        if self.h.channel == "sealed" {
            return at.fail("a forgery on the sealed channel".into());
        }
        self.refused_or_taken(at, "forgery", member, l.msg)
    }

    /// A `reject` or `forgery` names a message delivered to that party (a
    /// reject may be of its network duplicate).
    fn refused_or_taken(&self, at: At, what: &str, member: u32, msg: u64) -> Res<()> {
        match self.msgs.get(&msg) {
            Some(m) if m.wire.to == member && m.delivered => Ok(()),
            Some(m) if what == "reject" && m.wire.to == member && m.duplicated => Ok(()),
            Some(m) if m.wire.to != member => at.fail(format!(
                "a {what} by party {member} of message {msg}, which was sent to {}",
                m.wire.to
            )),
            _ => at.fail(format!("a {what} of message {msg}, never delivered")),
        }
    }

    fn on_crash(&mut self, at: At, l: &Crash) -> Res<()> {
        let m = at.ok(member_id("member", l.member, self.h.n))?;
        *self.crashes.entry(m).or_default() += 1;
        Ok(())
    }

    fn on_replace(&mut self, at: At, l: &Replace) -> Res<()> {
        let m = at.ok(member_id("member", l.member, self.h.n))?;
        let (c, r) =
            (self.crashes.get(&m).copied().unwrap_or(0), self.replaces.get(&m).copied().unwrap_or(0));
        if c <= r {
            return at.fail(format!("member {m} replaced without a crash to replace"));
        }
        self.replaces.insert(m, r + 1);
        self.recovery_from.get_or_insert(at.line);
        self.set_aside(m);
        Ok(())
    }

    fn on_detect(&mut self, at: At, l: &Detect) -> Res<()> {
        at.ok(member_id("member", l.member, self.h.n))?;
        at.ok(one_of("check", &l.check, &CHECKS))?;
        if let Some(c) = l.culprit {
            at.ok(party_id("culprit", c, self.h.n, self.sm()))?;
        }
        if l.iter > self.max_epoch() {
            return at.fail(format!("`iter` beyond the header's epochs + 1 = {}", self.max_epoch()));
        }
        self.detects += 1;
        Ok(())
    }

    fn on_recovered(&mut self, at: At, l: &Recovered) -> Res<()> {
        let m = at.ok(member_id("member", l.member, self.h.n))?;
        let r = l.iter;
        if r > self.h.epochs {
            return at.fail(format!("`iter` beyond the header's epochs {}", self.h.epochs));
        }
        if !self.replaces.contains_key(&m) {
            return at.fail(format!("member {m} recovered without a replacement"));
        }
        // A replacement re-derives v, FK up to r and α: only an FK after r
        // may be a fresh draw.
        if let Some(&(l, s, _, name, index)) =
            self.fresh.iter().find(|f| f.2 == m && (f.3 != "fk" || f.4 <= r))
        {
            return violation(
                l,
                s,
                format!(
                    "the replacement of member {m} re-records {name}[{m},{index}] different from the original"
                ),
            );
        }
        self.fresh.retain(|f| f.2 != m);
        Ok(())
    }

    /// A replaced member's θ and keys beyond what every survivor holds were
    /// derived from a draw that died with it: they are set aside.
    fn set_aside(&mut self, m: u32) {
        let survivors_max = (1..=self.h.n)
            .filter(|&x| x != m)
            .map(|x| {
                self.thetas.iter().filter(|(_, r)| r.contains_key(&x)).map(|(e, _)| *e).max().unwrap_or(0)
            })
            .min()
            .unwrap_or(0);
        for (e, row) in self.thetas.iter_mut() {
            if *e > survivors_max {
                row.remove(&m);
            }
        }
        for (e, row) in self.keys.iter_mut() {
            if *e > survivors_max {
                row.remove(&m);
            }
        }
    }

    fn on_secret(&mut self, at: At, l: &Secret) -> Res<()> {
        let n = self.h.n;
        let member = at.ok(member_id("member", l.member, n))?;
        let raw = at.ok(one_of("name", &l.name, &SECRET_NAMES))?;
        let index = l.index;
        let value = self.scalar(at, &l.value, "value")?;
        let replaced = self.replaced(member);
        match (raw, self.h.elgamal) {
            ("x", false) => {
                return at.fail("an ElGamal x in a trace whose header says keygen additive".into());
            }
            ("fk", true) => {
                return at.fail("an additive FK in a trace whose header says keygen elgamal".into());
            }
            _ => {}
        }
        let name: &'static str = if raw == "x" { "fk" } else { raw };
        // Index ranges by name.
        let (lo, hi) = match name {
            "alpha" => (1, self.max_epoch()),
            "fk" => (1, self.h.epochs),
            "share" => (1, u64::from(n)),
            "w" | "xi" | "beta" => (0, self.h.epochs),
            "gamma" if replaced => (0, self.h.epochs),
            _ => (1, 1),
        };
        if !(lo..=hi).contains(&index) {
            return at.fail(format!("{raw}[{member}] has index {index}, outside {lo}..={hi}"));
        }
        self.secret_fits_init(at, name, member, replaced)?;
        if name == "gamma" && replaced {
            self.recovery_from.get_or_insert(at.line);
        }
        self.derived_secret(at, name, member, index, &value)?;
        self.record_secret(at, raw, name, member, index, value)
    }

    /// Whether the header's `init` has this secret at all.
    fn secret_fits_init(&self, at: At, name: &str, member: u32, replaced: bool) -> Res<()> {
        let ring = self.h.init != InitKind::Sm;
        match name {
            "delta" if !ring => at.fail("a ring δ in a trace whose header says init sm".into()),
            "gamma" if !replaced && (!ring || member != 1) => {
                at.fail(format!("γ recorded for member {member}: only the ring's GI (member 1) draws γ"))
            }
            "share" if self.h.init != InitKind::RingHardened => {
                at.fail("a share in a trace whose header does not say init ring-hardened".into())
            }
            _ => Ok(()),
        }
    }

    /// Checks a derived secret (δ, α, ξ, β) against what it is made of.
    fn derived_secret(&mut self, at: At, name: &str, member: u32, index: u64, value: &Scalar) -> Res<()> {
        match name {
            "delta" => self.delta_link(at, member, value),
            "alpha" => self.pad_rule(at, member, index, value),
            "xi" => self.recovery_xi(at, member, index, value),
            "beta" => self.recovery_beta(at, member, index, value),
            _ => Ok(()),
        }
    }

    /// δ_i = δ_(i−1) + contribution_i, δ_0 = γ.
    fn delta_link(&mut self, at: At, member: u32, value: &Scalar) -> Res<()> {
        let base = match member {
            1 => self.secret("gamma", 1, 1).cloned(),
            m => self.secret("delta", m - 1, 1).cloned(),
        };
        let (Some(base), Some(c)) = (base, self.contribution(member)) else {
            return at.fail(format!("δ_{member} recorded before the values it is made of"));
        };
        if self.g().add(&base, &c) != *value {
            return at.fail(format!("δ_{member} ≠ δ_{} + member {member}'s contribution", member - 1));
        }
        self.checked.delta_links += 1;
        Ok(())
    }

    /// α_(i,e) = θ_e − FK_(i,e−1), α_(i,1) = θ_1 − v_i.
    fn pad_rule(&mut self, at: At, member: u32, index: u64, value: &Scalar) -> Res<()> {
        let (sum, own, rule) = if index == 1 {
            (self.sum_all("v", 1), self.secret("v", member, 1), format!("θ_1 − v_{member}"))
        } else {
            (
                self.sum_all("fk", index - 1),
                self.secret("fk", member, index - 1),
                format!("θ_{index} − FK_{{{member},{}}}", index - 1),
            )
        };
        let (Some(sum), Some(own)) = (sum, own) else {
            return at.fail(format!("α_{{{member},{index}}} recorded before the draws it is made of"));
        };
        if self.g().sub(&sum, own) != *value {
            return at.fail(format!("α_{{{member},{index}}} ≠ {rule}"));
        }
        self.checked.pad_rules += 1;
        Ok(())
    }

    /// The recovery's ξ = Σ of every survivor's w.
    fn recovery_xi(&mut self, at: At, member: u32, index: u64, value: &Scalar) -> Res<()> {
        let parts: Option<Vec<&Scalar>> =
            (1..=self.h.n).filter(|&l| l != member).map(|l| self.secret("w", l, index)).collect();
        match parts {
            Some(w) if self.g().sum(w.iter().copied()) == *value => {
                self.checked.recovery_values += 1;
                Ok(())
            }
            Some(_) => at.fail(format!("ξ of the recovery of member {member} at r = {index} ≠ Σ_l w_l")),
            None => at.fail(format!("ξ at r = {index} recorded before every survivor's w")),
        }
    }

    /// The recovery's β_l = ξ − w_l.
    fn recovery_beta(&mut self, at: At, member: u32, index: u64, value: &Scalar) -> Res<()> {
        let g = self.g();
        let Some(w) = self.secret("w", member, index) else {
            return at.fail(format!("β_{member} at r = {index} recorded before w_{member}"));
        };
        let ok = (1..=self.h.n)
            .filter(|&f| f != member)
            .filter_map(|f| self.secret("xi", f, index))
            .any(|xi| g.sub(xi, w) == *value);
        if !ok {
            return at.fail(format!("β_{member} at r = {index} ≠ ξ − w_{member}"));
        }
        self.checked.recovery_values += 1;
        Ok(())
    }

    /// Records a secret: refuses a second record except a replacement's,
    /// and adds a member's own draws to its view.
    fn record_secret(
        &mut self,
        at: At,
        raw: &str,
        name: &'static str,
        member: u32,
        index: u64,
        value: Scalar,
    ) -> Res<()> {
        let replaced = self.replaced(member);
        if let Some(first) = self.original(name, member, index).cloned() {
            // A second record: only a replacement re-records, and only what
            // it recovers (v, α, FK) — or a fresh FK, or a recovery's γ′.
            let redo = replaced && matches!(name, "v" | "alpha" | "fk" | "gamma" | "w" | "beta" | "xi");
            if !redo {
                return at
                    .fail(format!("{raw}[{member},{index}] recorded twice (first at line {})", first.line));
            }
            if first.value != value && matches!(name, "v" | "fk") {
                self.fresh.push((at.line, at.seq, member, name, index));
            }
        }
        // A member's own draws are in its view (the SM's v are not).
        if self.recovery_from.is_none() {
            let own = match name {
                "v" if self.h.init != InitKind::Sm => Some(Var::V(member)),
                "gamma" => Some(Var::Gamma),
                "fk" => Some(Var::Fk(member, index)),
                "share" if index != u64::from(member) => {
                    u32::try_from(index).ok().map(|k| Var::Share(member, k))
                }
                _ => None,
            };
            if let Some(v) = own {
                self.holdings.members[member as usize - 1].push((at.line, vec![(v, 1)]));
            }
        }
        self.secrets.entry((name, member, index)).or_default().push(Rec {
            value,
            line: at.line,
            seq: at.seq,
        });
        Ok(())
    }

    fn on_theta(&mut self, at: At, l: &Theta) -> Res<()> {
        let member = at.ok(member_id("member", l.member, self.h.n))?;
        let epoch = l.epoch;
        if !(1..=self.max_epoch()).contains(&epoch) {
            return at.fail(format!("θ_{epoch}: the epoch is outside 1..={}", self.max_epoch()));
        }
        let theta = self.scalar(at, &l.value, "value")?;
        let sum = if epoch == 1 { self.sum_all("v", 1) } else { self.sum_all("fk", epoch - 1) };
        let Some(sum) = sum else {
            return at.fail(format!("θ_{epoch} derived before every draw it sums was recorded"));
        };
        if sum != theta {
            let what = if epoch == 1 {
                "θ_1 ≠ Σ_i v_i".to_string()
            } else {
                format!("θ_{epoch} held by member {member} ≠ Σ_i FK_{{i,{}}}", epoch - 1)
            };
            return at.fail(what);
        }
        if let Some((other, _)) =
            self.thetas.get(&epoch).and_then(|r| r.iter().find(|(_, t)| t.value != theta))
        {
            return at.fail(format!("member {member} holds θ_{epoch} different from member {other}'s"));
        }
        if self.thetas.get(&epoch).is_some_and(|r| r.contains_key(&member)) && !self.replaced(member) {
            return at.fail(format!("member {member}'s θ_{epoch} recorded twice"));
        }
        self.checked.theta_sums += 1;
        self.thetas
            .entry(epoch)
            .or_default()
            .insert(member, Rec { value: theta, line: at.line, seq: at.seq });
        Ok(())
    }

    fn on_key(&mut self, at: At, l: &Key) -> Res<()> {
        let member = at.ok(member_id("member", l.member, self.h.n))?;
        let epoch = l.epoch;
        if !(1..=self.max_epoch()).contains(&epoch) {
            return at.fail(format!("SK_{epoch}: the epoch is outside 1..={}", self.max_epoch()));
        }
        let sk = Self::key_hex(at, &l.sk, "sk")?;
        let Some(theta) = self.thetas.get(&epoch).and_then(|r| r.get(&member)) else {
            return at.fail(format!("SK_{epoch} of member {member} recorded before its θ_{epoch}"));
        };
        if derive_sk(self.g(), self.h.n, epoch, &theta.value).to_hex() != sk {
            return at.fail(format!("SK_{epoch} of member {member} ≠ KDF(θ_{epoch})"));
        }
        if let Some((other, _)) = self.keys.get(&epoch).and_then(|r| r.iter().find(|(_, k)| **k != sk)) {
            return at.fail(format!("member {member}'s SK_{epoch} differs from member {other}'s"));
        }
        self.keys.entry(epoch).or_default().insert(member, sk);
        self.checked.keys += 1;
        Ok(())
    }

    /// A message's sender and recipient: parties of this run.
    fn parties(&self, at: At, from: u32, to: u32) -> Res<(u32, u32)> {
        let (n, sm) = (self.h.n, self.sm());
        Ok((at.ok(party_id("from", from, n, sm))?, at.ok(party_id("to", to, n, sm))?))
    }

    /// A message's mode, iteration (at most epochs + 1) and kind.
    fn mode_iter_kind(
        &self,
        at: At,
        mode: &str,
        iter: u64,
        kind: &str,
    ) -> Res<(&'static str, u64, &'static str)> {
        let mode = at.ok(one_of("mode", mode, &MODES))?;
        if iter > self.max_epoch() {
            return at.fail(format!("`iter` = {iter} beyond the header's epochs + 1 = {}", self.max_epoch()));
        }
        Ok((mode, iter, at.ok(one_of("kind", kind, &KINDS))?))
    }

    /// Whether `kind` may travel in `mode` at `iter`, by the README's table.
    fn kind_rule(&self, w: &Wire) -> Result<(), String> {
        let (kind, mode, iter, from) = (w.kind, w.mode, w.iter, w.from);
        let e = self.h.epochs;
        let ring = self.h.init != InitKind::Sm;
        let ok = match kind {
            "pad" => mode == "I" && iter == 1 && from == 0 && !ring,
            "delta" => (mode == "I" && iter == 1 && ring) || (mode == "R" && iter <= e),
            "theta" => mode == "I" && iter == 1 && ring && from == 1,
            "share" => mode == "I" && iter == 1 && self.h.init == InitKind::RingHardened,
            "commit" => mode == "I" && iter == 1,
            "confirm" => (mode == "I" && iter == 1) || (mode == "G" && (1..=e).contains(&iter)),
            "hfk" | "fk_pub" => mode == "G" && (1..=e).contains(&iter),
            "recover" | "xi" | "hfk_hat" | "hfk_relay" | "joined" => mode == "R" && iter <= e,
            "ack" => true,
            _ => false,
        };
        let sm_ok = from != 0 || matches!(kind, "pad" | "commit" | "ack");
        if ok && sm_ok {
            Ok(())
        } else {
            Err(format!(
                "a `{kind}` message in mode {mode} at iteration {iter} from party {from} is not one the protocol sends (init {:?}, epochs {e})",
                self.h.init
            ))
        }
    }

    fn on_send(&mut self, at: At, s: &Sent) -> Res<()> {
        if !self.h.full {
            return at.fail("a send in a trace whose header says trace protocol".into());
        }
        self.sends += 1;
        let w = self.send_metadata(at, s)?;
        if self.msgs.contains_key(&s.msg) {
            return at.fail(format!("message id {} used twice", s.msg));
        }
        if w.mode == "R" {
            self.recovery_from.get_or_insert(at.line);
        }
        self.retransmission(at, &w, s)?;
        let terms = self.check_payload(at, &w, &s.value)?;
        let rdelta =
            if w.kind == "delta" && w.mode == "R" { Some(self.payload_scalar(at, &s.value)?) } else { None };
        if self.h.channel == "plain" && self.recovery_from.is_none() {
            for t in &terms {
                self.holdings.outsider.push((at.line, t.clone()));
            }
        }
        let mut m = Msg::new(s.t_us, w, s.sender_seq, false);
        m.terms = terms;
        m.rdelta = rdelta;
        self.msgs.insert(s.msg, m);
        Ok(())
    }

    /// A send's metadata: parties, mode, iteration, kind, and the
    /// sender_seq and attempt an ack or a payload carries.
    fn send_metadata(&self, at: At, s: &Sent) -> Res<Wire> {
        let (from, to) = self.parties(at, s.from, s.to)?;
        if from == to {
            return at.fail(format!("a message from party {from} to itself"));
        }
        let (mode, iter, kind) = self.mode_iter_kind(at, &s.mode, s.iter, &s.kind)?;
        let w = Wire { from, to, mode, iter, kind };
        at.ok(self.kind_rule(&w))?;
        if (kind == "ack") != (s.sender_seq == 0) {
            return at.fail(format!("`sender_seq` = {}: acks carry 0, payloads count from 1", s.sender_seq));
        }
        if kind == "ack" && s.attempt != 0 {
            return at.fail("an ack is never retransmitted (attempt must be 0)".into());
        }
        Ok(w)
    }

    /// A retransmission repeats its original, attempt after attempt; an
    /// original payload is remembered for its retransmissions.
    fn retransmission(&mut self, at: At, w: &Wire, s: &Sent) -> Res<()> {
        let (attempt, sender_seq) = (s.attempt, s.sender_seq);
        let key = (w.from, w.to, sender_seq, w.kind, w.mode, w.iter);
        if attempt == 0 {
            if w.kind != "ack" {
                self.originals.insert(key, (s.value.clone(), 0));
            }
            return Ok(());
        }
        match self.originals.get_mut(&key) {
            Some((v, last)) if *v == s.value && last.checked_add(1) == Some(attempt) => {
                *last = attempt;
                Ok(())
            }
            Some((v, last)) if *v == s.value => {
                let last = *last;
                at.fail(format!("retransmission attempt {attempt} follows attempt {last}"))
            }
            Some(_) => at.fail(format!(
                "a retransmission (attempt {attempt}) whose value differs from its original"
            )),
            None => at.fail(format!(
                "a retransmission (attempt {attempt}) of sender_seq {sender_seq} from {} to {} with no original",
                w.from, w.to
            )),
        }
    }

    /// Checks a payload against the secrets; returns its linear observations.
    fn check_payload(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        if self.g().is_xor() && matches!(w.kind, "fk_pub" | "commit") {
            return at.fail(format!(
                "a `{}` message under {}: XOR values are not exponents, so nothing is published as g^x",
                w.kind,
                self.g().name
            ));
        }
        match w.kind {
            "hfk" => self.payload_hfk(at, w, value),
            "pad" => self.payload_pad(at, w, value),
            "delta" if w.mode == "I" => self.payload_delta(at, w, value),
            "delta" => self.payload_recovery_delta(at, w, value),
            "theta" => self.payload_theta(at, w, value),
            "share" => self.payload_share(at, w, value),
            "xi" => self.payload_xi(at, w, value),
            "hfk_hat" => self.payload_hfk_hat(at, w, value),
            "hfk_relay" => self.payload_relay(at, w, value),
            "recover" => self.payload_recover(at, w, value),
            "fk_pub" => self.payload_fk_pub(at, w, value),
            "confirm" => self.payload_confirm(at, w, value),
            "commit" => self.payload_commit(at, w, value),
            "joined" => self.payload_joined(at, w, value),
            "ack" => self.payload_ack(at, w, value),
            kind => at.fail(format!("unknown message kind \"{kind}\"")),
        }
    }

    /// Payloads that only go to members.
    fn member_to(at: At, w: &Wire) -> Res<()> {
        if w.to == 0 { at.fail(format!("a `{}` message to the SM", w.kind)) } else { Ok(()) }
    }

    /// A payload of the shape its kind carries.
    fn shaped<'a, T>(at: At, w: &Wire, got: Option<&'a T>, shape: &str) -> Res<&'a T> {
        got.ok_or_else(|| at.err(format!("the `{}` value is not {shape}", w.kind)))
    }

    fn payload_hfk(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let (from, iter, g) = (w.from, w.iter, self.g());
        let (Some(alpha), Some(fk)) = (self.secret("alpha", from, iter), self.secret("fk", from, iter))
        else {
            return at.fail(format!(
                "HFK_{{{from},{iter}}} sent before α_{{{from},{iter}}} and FK_{{{from},{iter}}} were recorded"
            ));
        };
        if g.add(alpha, fk) != self.payload_scalar(at, value)? {
            return at.fail(format!(
                "HFK_{{{from},{iter}}} sent by member {from} ≠ α_{{{from},{iter}}} + FK_{{{from},{iter}}}"
            ));
        }
        self.checked.hfk_messages += 1;
        Ok(vec![vec![(Var::Alpha(from, iter), 1), (Var::Fk(from, iter), 1)]])
    }

    fn payload_pad(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let (to, g) = (w.to, self.g());
        Self::member_to(at, w)?;
        let got = match value {
            Payload::Pad(p) => Some(p),
            _ => None,
        };
        let pad: &PadValue = Self::shaped(at, w, got, "an object {\"alpha\",\"theta\"}")?;
        let (Some(theta), Some(v)) = (self.sum_all("v", 1), self.secret("v", to, 1)) else {
            return at.fail(format!("the SM's pad for member {to} sent before its draws were recorded"));
        };
        let alpha = g.sub(&theta, v);
        if self.scalar(at, &pad.theta, "theta")? != theta || self.scalar(at, &pad.alpha, "alpha")? != alpha {
            return at.fail(format!("the SM's pad for member {to} is not (θ_1 − v_{to}, θ_1 = Σ v)"));
        }
        self.checked.other_messages += 1;
        Ok(vec![vec![(Var::Alpha(to, 1), 1)], vec![(Var::Theta(1), 1)]])
    }

    fn payload_delta(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let (from, to, n) = (w.from, w.to, self.h.n);
        let Some(d) = self.secret("delta", from, 1).cloned() else {
            return at.fail(format!("δ_{from} sent before it was recorded"));
        };
        if self.payload_scalar(at, value)? != d {
            return at.fail(format!("the `delta` message from {from} to {to} does not carry δ_{from}"));
        }
        self.checked.other_messages += 1;
        // δ_i = γ + Σ_{l ≤ i} contribution_l.
        let mut t: Terms = vec![(Var::Gamma, 1)];
        for l in 1..=from {
            t.push((Var::V(l), 1));
            if self.h.init == InitKind::RingHardened {
                for k in (1..=n).filter(|&k| k != l) {
                    t.push((Var::Share(k, l), 1));
                    t.push((Var::Share(l, k), -1));
                }
            }
        }
        Ok(vec![t])
    }

    /// The recovery ring: the replacement sends γ′, each survivor the δ′ it
    /// got plus its w.
    fn payload_recovery_delta(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let (from, iter, g) = (w.from, w.iter, self.g());
        let d = self.payload_scalar(at, value)?;
        let from_gamma = self.replaced(from) && self.secret("gamma", from, iter) == Some(&d);
        let from_chain = self.secret("w", from, iter).is_some_and(|w| {
            self.rdelta_in.get(&(from, iter)).is_some_and(|ins| ins.iter().any(|x| g.add(x, w) == d))
        });
        if !(from_gamma || from_chain) {
            return at.fail(format!(
                "the recovery δ′ from {from} at r = {iter} is neither the replacement's γ′ nor a δ′ delivered to it plus its w"
            ));
        }
        self.checked.recovery_values += 1;
        self.checked.other_messages += 1;
        Ok(Vec::new())
    }

    fn payload_theta(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let (from, to, g) = (w.from, w.to, self.g());
        Self::member_to(at, w)?;
        let (Some(d), Some(gm)) = (self.secret("delta", self.h.n, 1), self.secret("gamma", 1, 1)) else {
            return at.fail("θ_1 sent before δ_n and γ were recorded".into());
        };
        if self.payload_scalar(at, value)? != g.sub(d, gm) {
            return at.fail(format!("the `theta` message from {from} to {to} does not carry θ_1 = δ_n − γ"));
        }
        self.checked.other_messages += 1;
        Ok(vec![vec![(Var::Theta(1), 1)]])
    }

    fn payload_share(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let (from, to) = (w.from, w.to);
        Self::member_to(at, w)?;
        let Some(s) = self.secret("share", from, u64::from(to)).cloned() else {
            return at.fail(format!("share s_{{{from},{to}}} sent before it was recorded"));
        };
        if self.payload_scalar(at, value)? != s {
            return at
                .fail(format!("the `share` message from {from} to {to} does not carry s_{{{from},{to}}}"));
        }
        self.checked.other_messages += 1;
        Ok(vec![vec![(Var::Share(from, to), 1)]])
    }

    fn payload_xi(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let (from, to, iter) = (w.from, w.to, w.iter);
        let Some(x) = self.secret("xi", from, iter).cloned() else {
            return at.fail(format!("ξ at r = {iter} sent before it was recorded"));
        };
        if self.payload_scalar(at, value)? != x {
            return at.fail(format!(
                "the `xi` message from {from} to {to} does not carry ξ of the recovery at r = {iter}"
            ));
        }
        self.checked.other_messages += 1;
        Ok(Vec::new())
    }

    fn payload_hfk_hat(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let (from, iter, g) = (w.from, w.iter, self.g());
        let own = if iter == 0 { self.secret("v", from, 1) } else { self.secret("fk", from, iter) };
        let (Some(b), Some(f)) = (self.secret("beta", from, iter), own) else {
            return at.fail(format!("ĤFK_{from} at r = {iter} sent before β and FK were recorded"));
        };
        if self.payload_scalar(at, value)? != g.add(b, f) {
            return at.fail(format!("ĤFK_{from} ≠ β_{from} + FK_{{{from},{iter}}}"));
        }
        self.checked.other_messages += 1;
        Ok(Vec::new())
    }

    fn payload_relay(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let (iter, g) = (w.iter, self.g());
        let got = match value {
            Payload::Relay(r) => Some(r),
            _ => None,
        };
        let relay: &RelayValue = Self::shaped(at, w, got, "an object {\"owner\",\"hfk\"[,\"fk_pub\"]}")?;
        let owner = at.ok(member_id("owner", relay.owner, self.h.n))?;
        let relayed = self.scalar(at, &relay.hfk, "hfk")?;
        match (self.secret("alpha", owner, iter), self.secret("fk", owner, iter)) {
            (Some(a), Some(f)) if g.add(a, f) == relayed => {}
            _ => return at.fail(format!("the relayed HFK_{{{owner},{iter}}} ≠ α + FK")),
        }
        if let Some(pubv) = &relay.fk_pub {
            if g.is_xor() {
                return at
                    .fail(format!("a relayed public FK under {}: XOR values are not exponents", g.name));
            }
            let want = self.secret("fk", owner, iter).map(|x| g.element_hex(&g.pow_g(x)));
            if Some(pubv.as_str()) != want.as_deref() {
                return at.fail(format!("the relayed public FK_{{{owner},{iter}}} ≠ g^FK"));
            }
        }
        self.checked.other_messages += 1;
        Ok(Vec::new())
    }

    /// The RI's handover to a replacement: (HFK_(to,r), θ_(r+1), SK_(r+1)).
    fn payload_recover(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let (from, to, g) = (w.from, w.to, self.g());
        Self::member_to(at, w)?;
        let got = match value {
            Payload::Recover(r) => Some(r),
            _ => None,
        };
        let sent: &RecoverValue = Self::shaped(at, w, got, "an object {\"hfk\",\"theta\",\"sk\"}")?;
        let r = w.iter;
        let next = r + 1;
        let theta = self.thetas.get(&next).and_then(|t| t.get(&from)).map(|t| t.value.clone());
        let sk = self.keys.get(&next).and_then(|k| k.get(&from)).cloned();
        let (Some(theta), Some(sk)) = (theta, sk) else {
            return at.fail(format!("the RI hands over θ_{next} before holding it"));
        };
        let hfk = match (self.secret("alpha", to, r), self.secret("fk", to, r)) {
            (Some(a), Some(f)) => Some(g.add(a, f)),
            _ => None,
        };
        let hfk_ok = match (r, &sent.hfk, hfk) {
            (0, None, _) => true,
            (_, Some(s), Some(h)) => self.scalar(at, s, "hfk")? == h,
            _ => false,
        };
        let sk_sent = Self::key_hex(at, &sent.sk, "sk")?;
        if !hfk_ok || self.scalar(at, &sent.theta, "theta")? != theta || sk_sent != sk {
            return at.fail(format!(
                "the RI's handover for member {to} is not (HFK_{{{to},{r}}}, θ_{next}, SK_{next})"
            ));
        }
        self.checked.other_messages += 1;
        Ok(Vec::new())
    }

    fn payload_fk_pub(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let (from, iter, g) = (w.from, w.iter, self.g());
        let Some(x) = self.secret("fk", from, iter) else {
            return at.fail(format!("FK_{{{from},{iter}}} = g^x published before x was recorded"));
        };
        if hex_of(value) != Some(g.element_hex(&g.pow_g(x)).as_str()) {
            return at.fail(format!("the public FK_{{{from},{iter}}} sent by member {from} ≠ g^x"));
        }
        self.checked.other_messages += 1;
        Ok(Vec::new())
    }

    fn payload_confirm(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let from = w.from;
        let epoch = if w.mode == "I" { 1 } else { w.iter + 1 };
        let Some(sk) = self.keys.get(&epoch).and_then(|k| k.get(&from)) else {
            return at.fail(format!("member {from} confirms SK_{epoch} before deriving it"));
        };
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(sk, &mut bytes).map_err(|_| at.err("`sk` is not hex".into()))?;
        if hex_of(value) != Some(confirm_tag(&SharedKey(bytes)).to_hex().as_str()) {
            return at.fail(format!("member {from}'s confirmation of SK_{epoch} ≠ H(confirm ‖ SK_{epoch})"));
        }
        self.checked.other_messages += 1;
        Ok(Vec::new())
    }

    /// Commitments are checked at the footer, once every value is recorded.
    fn payload_commit(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let commitment = match (w.from, value) {
            (0, Payload::SmCommit(c)) => Commitment::Sm(c.clone()),
            (0, _) => return at.fail("the `commit` value is not an object {\"alphas\",\"theta\"}".into()),
            (_, Payload::RingCommit(c)) => Commitment::Ring(c.clone()),
            _ => return at.fail("the `commit` value is not an object {\"v\",\"delta\",\"gamma\"}".into()),
        };
        self.commits.push((at, w.from, commitment));
        Ok(Vec::new())
    }

    fn payload_joined(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        if *value != Payload::Null {
            return at.fail("a `joined` message carries null".into());
        }
        if !self.replaced(w.from) {
            return at.fail(format!("member {} announces a replacement that never happened", w.from));
        }
        Ok(Vec::new())
    }

    /// The acknowledged message was delivered to the acker.
    fn payload_ack(&mut self, at: At, w: &Wire, value: &Payload) -> Res<Vec<Terms>> {
        let acked = match value {
            Payload::Seq(s) if *s > 0 => *s,
            _ => return at.fail("an ack's value is not a sender_seq ≥ 1".into()),
        };
        let (from, to, mode, iter) = (w.from, w.to, w.mode, w.iter);
        if !self.delivered.contains(&(from, to, acked, mode, iter)) && !self.injected_to.contains(&(to, from))
        {
            return at.fail(format!(
                "member {from} acknowledges sender_seq {acked} (mode {mode}, iteration {iter}) from {to}, which was never delivered to it"
            ));
        }
        self.checked.acks += 1;
        Ok(Vec::new())
    }

    fn on_attack(&mut self, at: At, l: &Attack) -> Res<()> {
        if !self.h.full {
            return at.fail(
                "an attack line in a trace whose header says trace protocol (written at level full only)"
                    .into(),
            );
        }
        let msg = l.msg;
        let attack = at.ok(one_of("attack", &l.attack, &ATTACKS))?;
        let (from, to) = self.parties(at, l.from, l.to)?;
        let (mode, iter, kind) = self.mode_iter_kind(at, &l.mode, l.iter, &l.kind)?;
        let w = Wire { from, to, mode, iter, kind };
        if attack == "tamper" {
            if l.of.is_some() {
                return at.fail("a tamper has `of` null".into());
            }
            let Some(m) = self.msgs.get_mut(&msg) else {
                return at.fail(format!("a tamper of message {msg}, never sent"));
            };
            if m.wire != w {
                return at.fail(format!("the tamper of message {msg} misstates what the message is"));
            }
            m.tampered = true;
            return Ok(());
        }
        if self.msgs.contains_key(&msg) {
            return at.fail(format!("an injected message reuses message id {msg}"));
        }
        if attack == "replay" {
            let of = l.of.ok_or_else(|| at.err("a replay's `of` is not a message id".into()))?;
            if !self.msgs.get(&of).is_some_and(|m| m.wire == w) {
                return at.fail(format!("a replay of message {of}, which is not this message"));
            }
        } else if l.of.is_some() {
            return at.fail("a forgery has `of` null".into());
        }
        self.msgs.insert(msg, Msg::new(l.t_us, w, 0, true));
        Ok(())
    }

    fn on_fate(&mut self, at: At, t: u64, msg: u64, fate: Fate) -> Res<()> {
        if !self.h.full {
            let what = if matches!(fate, Fate::Delivered { .. }) { "deliver" } else { "drop" };
            return at.fail(format!("a {what} in a trace whose header says trace protocol"));
        }
        let Some(m) = self.msgs.get(&msg) else {
            return at.fail(format!("message {msg} has no earlier send or attack"));
        };
        if t < m.t {
            return at.fail(format!("message {msg} arrives before it was sent"));
        }
        if m.lost || m.fates >= 2 {
            return at.fail(format!("message {msg} has more fates than a send and a network duplicate"));
        }
        match fate {
            Fate::Delivered { to, duplicate } => self.delivery(at, msg, to, duplicate)?,
            Fate::Dropped(reason) => self.drop_reason(at, t, msg, reason)?,
        }
        self.checked.fates += 1;
        Ok(())
    }

    /// A delivery to the message's recipient: what it carries joins the
    /// recipient's view.
    fn delivery(&mut self, at: At, msg: u64, to: u32, duplicate: bool) -> Res<()> {
        let recovering = self.recovery_from.is_some();
        let Some(m) = self.msgs.get_mut(&msg) else {
            return at.fail(format!("message {msg} has no earlier send or attack"));
        };
        m.fates += 1;
        let w = m.wire;
        if to != w.to {
            return at.fail(format!("message {msg} was sent to {}, delivered to {to}", w.to));
        }
        if duplicate {
            if m.duplicated {
                return at.fail(format!("message {msg} delivered as a duplicate twice"));
            }
            m.duplicated = true;
        } else {
            if m.delivered {
                return at.fail(format!("message {msg} delivered twice without \"duplicate\":true"));
            }
            m.delivered = true;
        }
        if m.injected {
            self.injected_to.insert((w.from, w.to));
            return Ok(());
        }
        if w.kind != "ack" {
            self.delivered.insert((w.to, w.from, m.sender_seq, w.mode, w.iter));
        }
        if !m.tampered && w.to != 0 && !recovering {
            for t in &m.terms {
                self.holdings.members[w.to as usize - 1].push((at.line, t.clone()));
            }
        }
        if let Some(d) = &m.rdelta {
            self.rdelta_in.entry((w.to, w.iter)).or_default().push(d.clone());
        }
        Ok(())
    }

    /// A drop whose reason fits the message: a loss at its send, a
    /// partition between members, a crash of its recipient.
    fn drop_reason(&mut self, at: At, t: u64, msg: u64, reason: &str) -> Res<()> {
        let Some(m) = self.msgs.get_mut(&msg) else {
            return at.fail(format!("message {msg} has no earlier send or attack"));
        };
        let w = m.wire;
        let to_crashed = self.crashes.get(&w.to).copied().unwrap_or(0) > 0;
        match reason {
            "loss" if m.fates != 0 || t != m.t => {
                at.fail(format!("message {msg} lost on the wire, not at its send"))
            }
            "partition" if w.from == 0 || w.to == 0 => {
                at.fail(format!("message {msg} dropped by a partition, which separates members only"))
            }
            "crashed" if !to_crashed => {
                at.fail(format!("message {msg} dropped as \"crashed\", but party {} never crashed", w.to))
            }
            _ => {
                m.fates += 1;
                m.lost |= reason == "loss";
                Ok(())
            }
        }
    }

    /// Who a leak reaches: `None` = the outsider, `Some(list)` = those
    /// members.
    fn leak_reach(at: At, to: &LeakTo, n: u32) -> Res<Option<Vec<u32>>> {
        match to {
            LeakTo::Named(LeakAudience::Group) => Ok(Some((1..=n).collect())),
            LeakTo::Named(LeakAudience::Outsider) => Ok(None),
            LeakTo::Members(ids) => {
                let Some(out) = sorted_ids(ids, n) else {
                    return at.fail(format!("a leak's `to` must be sorted distinct member ids in 1..={n}"));
                };
                if out.is_empty() {
                    return at.fail("a leak to nobody".into());
                }
                Ok(Some(out))
            }
        }
    }

    fn on_leak(&mut self, at: At, l: &Leak) -> Res<()> {
        let n = self.h.n;
        let member = at.ok(member_id("member", l.member, n))?;
        let secret = at.ok(one_of("secret", &l.secret, &LEAK_SECRETS))?;
        let epoch = l.epoch;
        let hi = if secret == "fk" { self.h.epochs } else { self.max_epoch() };
        if !(1..=hi).contains(&epoch) {
            return at.fail(format!("a leak of {secret} at epoch {epoch}, outside 1..={hi}"));
        }
        let reach = Self::leak_reach(at, &l.to, n)?;
        // The member leaks it the moment it holds it.
        let held = match secret {
            "alpha" | "fk" => self.secrets.get(&(secret, member, epoch)).is_some_and(|v| !v.is_empty()),
            "theta" => self.thetas.get(&epoch).is_some_and(|r| r.contains_key(&member)),
            _ => self.keys.get(&epoch).is_some_and(|r| r.contains_key(&member)),
        };
        if !held {
            return at
                .fail(format!("member {member} leaks {secret} of epoch {epoch}, which it does not hold"));
        }
        let var = match secret {
            "alpha" => Some(Var::Alpha(member, epoch)),
            "fk" => Some(Var::Fk(member, epoch)),
            "theta" => Some(Var::Theta(epoch)),
            _ => None,
        };
        if let (Some(v), None) = (var, self.recovery_from) {
            match reach {
                None => self.holdings.outsider.push((at.line, vec![(v, 1)])),
                Some(ms) => {
                    for m in ms.into_iter().filter(|&m| m != member) {
                        self.holdings.members[m as usize - 1].push((at.line, vec![(v, 1)]));
                    }
                }
            }
        }
        self.checked.leaks += 1;
        Ok(())
    }

    /// A learn's view: well-formed, and (a replacement's) existing by now.
    fn learn_view(&self, at: At, view: &View) -> Res<LearnView> {
        let n = self.h.n;
        match view {
            View::Outsider => Ok(LearnView::Outsider),
            &View::Replacement { member: m, nth: k } => {
                if !(1..=n).contains(&m) || k < 1 {
                    return at.fail(format!(
                        "`view` = \"replacement:{m}#{k}\" is not \"outsider\" or \"replacement:M#K\" with M in 1..={n}"
                    ));
                }
                if self.replaces.get(&m).copied().unwrap_or(0) < k {
                    return at.fail(format!(
                        "a learn by replacement #{k} of member {m}, which does not exist yet"
                    ));
                }
                Ok(LearnView::Replacement(m, k))
            }
            View::Coalition(ids) => {
                let Some(out) = sorted_ids(ids, n) else {
                    return at.fail(format!("a coalition view is a sorted list of distinct ids in 1..={n}"));
                };
                if out.len() < 2 {
                    return at.fail("a coalition view has at least two members".into());
                }
                Ok(LearnView::Coalition(out))
            }
            &View::Member(m) => Ok(LearnView::Member(at.ok(member_id("view", m, n))?)),
        }
    }

    /// A learn's target: θ has none; any other secret is another party's.
    fn learn_target(&self, at: At, view: &LearnView, name: &str, l: &Learn) -> Res<Var> {
        let index = l.index;
        if name == "theta" {
            if l.target.is_some() {
                return at.fail("a learn of θ has target null".into());
            }
            if *view != LearnView::Outsider {
                return at.fail(format!("{} holds θ: only the outsider learns θ", view.describe()));
            }
            return Ok(Var::Theta(index));
        }
        let n = self.h.n;
        let t = match l.target {
            Some(t) => at.ok(member_id("target", t, n))?,
            None => return at.fail(format!("`target` = null is not a member id (1..={n})")),
        };
        let var = match name {
            "alpha" => Var::Alpha(t, index),
            "v" => Var::V(t),
            _ => Var::Fk(t, index),
        };
        if name == "v" && index != 1 {
            return at.fail(format!("a learn of v[{t}] has index 1, not {index}"));
        }
        let own_recovered = matches!(view, LearnView::Replacement(m, _) if *m == t);
        if view.includes(t) && !own_recovered {
            return at.fail(format!(
                "{} owns {name}[{t},{index}]: a learn names a secret of another party",
                view.describe()
            ));
        }
        Ok(var)
    }

    fn on_learn(&mut self, at: At, after: usize, l: &Learn) -> Res<()> {
        let view = self.learn_view(at, &l.view)?;
        let fk_name = if self.h.elgamal { "x" } else { "fk" };
        let name = at.ok(one_of("name", &l.name, &LEARN_NAMES))?;
        if matches!(name, "fk" | "x") && name != fk_name {
            return at.fail(format!("a learn of {name} in a trace whose key generation names it {fk_name}"));
        }
        let index = l.index;
        let value = self.scalar(at, &l.value, "value")?;
        let var = self.learn_target(at, &view, name, l)?;
        let hi = if matches!(var, Var::Fk(..)) { self.h.epochs } else { self.max_epoch() };
        if !(1..=hi).contains(&index) {
            return at.fail(format!("a learn of {name} at index {index}, outside 1..={hi}"));
        }
        // Checked at the footer: the outsider may derive θ or a pad before
        // any member records it.
        self.learn_values.push((at.line, at.seq, name, var, value));
        if !self.claimed.insert((view.clone(), var)) {
            return at.fail(format!("{} learns {name}[{index}] a second time", view.describe()));
        }
        let decidable =
            self.h.full && self.recovery_from.is_none() && !matches!(view, LearnView::Replacement(..));
        if decidable {
            let label = match l.target {
                Some(t) => format!("{name}[{t},{index}]"),
                None => format!("θ_{index}"),
            };
            self.claims.push(Claim { line: at.line, seq: at.seq, after, view, target: var, label });
        } else {
            self.not_redecided += 1;
        }
        Ok(())
    }

    /// Whether a commitment is g^ of the values it commits to.
    fn commitment_holds(&self, from: u32, c: &Commitment) -> bool {
        let g = self.g();
        let n = self.h.n;
        let el = |s: &Scalar| g.element_hex(&g.pow_g(s));
        match c {
            Commitment::Sm(c) => {
                let Some(theta) = self.sum_all("v", 1) else { return false };
                c.alphas.len() == n as usize
                    && c.theta == el(&theta)
                    && (1..=n).all(|i| {
                        self.secret("v", i, 1)
                            .is_some_and(|v| c.alphas[i as usize - 1] == el(&g.sub(&theta, v)))
                    })
            }
            Commitment::Ring(c) => {
                let v = self.original("v", from, 1).map(|r| el(&r.value));
                let d = self.original("delta", from, 1).map(|r| el(&r.value));
                let gamma = if from == 1 {
                    self.original("gamma", 1, 1).map(|r| Some(el(&r.value)))
                } else {
                    Some(None)
                };
                v.is_some_and(|v| c.v == v)
                    && d.is_some_and(|d| c.delta == d)
                    && gamma.is_some_and(|gm| c.gamma == gm)
            }
        }
    }

    /// Process 800 and 900 commitments, once every value is recorded.
    fn check_commits(&mut self) -> Res<()> {
        let commits = std::mem::take(&mut self.commits);
        for (at, from, c) in &commits {
            if !self.commitment_holds(*from, c) {
                return at.fail(format!(
                    "the commitment sent by party {from} is not g^ of the values it commits to"
                ));
            }
            self.checked.other_messages += 1;
        }
        Ok(())
    }

    /// At the footer.
    fn finish(&mut self, line: usize) -> Res<()> {
        let at = At { line, seq: self.last_seq };
        self.check_commits()?;
        self.check_i1(at)?;
        self.check_complete(at)?;
        self.check_header_against_body(at)?;
        self.check_learns()
    }

    /// I1 at every epoch whose pads are all recorded.
    fn check_i1(&mut self, at: At) -> Res<()> {
        let (n, g) = (self.h.n, self.g());
        let epochs: Vec<u64> = self.thetas.keys().copied().collect();
        for e in epochs {
            let theta = self.thetas.get(&e).and_then(|r| r.values().next()).map(|r| r.value.clone());
            if let (Some(alphas), Some(theta)) = (self.sum_all("alpha", e), theta) {
                if alphas != g.mul_i64(&theta, i64::from(n) - 1) {
                    let last = (1..=n)
                        .filter_map(|m| self.secrets.get(&("alpha", m, e)).and_then(|v| v.last()))
                        .max_by_key(|r| r.line)
                        .cloned();
                    let (l, s) = last.map_or((at.line, at.seq), |r| (r.line, r.seq));
                    return violation(l, s, format!("I1 fails at epoch {e}: Σ_i α_{{i,{e}}} ≠ (n−1)·θ_{e}"));
                }
                self.checked.i1_epochs += 1;
            }
        }
        Ok(())
    }

    /// Every member holds θ and SK of every epoch any holds (a member that
    /// crashed is excused: it may have stopped for good), and no draw was
    /// re-recorded differently without a recovery.
    fn check_complete(&self, at: At) -> Res<()> {
        for (epoch, row) in &self.thetas {
            for m in (1..=self.h.n).filter(|m| !self.crashes.contains_key(m)) {
                let has_key = self.keys.get(epoch).is_some_and(|k| k.contains_key(&m));
                if !row.contains_key(&m) || !has_key {
                    return at.fail(format!(
                        "member {m} never holds θ_{epoch} and SK_{epoch}, which other members hold"
                    ));
                }
            }
        }
        if let Some(&(l, s, m, name, index)) = self.fresh.first() {
            return violation(
                l,
                s,
                format!("member {m}'s {name}[{m},{index}] recorded again, different, with no recovery"),
            );
        }
        Ok(())
    }

    /// The header against the body.
    fn check_header_against_body(&mut self, at: At) -> Res<()> {
        let ring = self.h.init != InitKind::Sm;
        if ring && self.original("delta", self.h.n, 1).is_none() && self.thetas.contains_key(&1) {
            return at.fail("the header says a ring initialisation, and no δ_n was ever recorded".into());
        }
        if self.h.init == InitKind::RingHardened
            && self.original("share", 1, 2).is_none()
            && self.thetas.contains_key(&1)
        {
            return at.fail("the header says init ring-hardened, and no shares were recorded".into());
        }
        let held = self.thetas.keys().next_back().copied().unwrap_or(0);
        if held < self.max_epoch() && self.crashes.is_empty() && self.detects == 0 {
            return at.fail(format!(
                "the run ends holding epoch {held}, short of the header's epochs + 1 = {}, with no crash or failure detection to stop it",
                self.max_epoch()
            ));
        }
        if self.h.full && self.sends == 0 && self.thetas.contains_key(&1) {
            return at.fail("the header says trace full, and the trace has no send events".into());
        }
        self.checked.without_messages = self.sends == 0;
        Ok(())
    }

    /// Every learn states the ground truth, and its derivation is
    /// re-decided where it can be.
    fn check_learns(&mut self) -> Res<()> {
        for (l, s, name, var, value) in std::mem::take(&mut self.learn_values) {
            let truth = match var {
                Var::Theta(e) => self.thetas.get(&e).and_then(|r| r.values().next()).map(|r| r.value.clone()),
                Var::Alpha(t, e) => self.original("alpha", t, e).map(|r| r.value.clone()),
                Var::Fk(t, j) => self.original("fk", t, j).map(|r| r.value.clone()),
                Var::V(t) => self.original("v", t, 1).map(|r| r.value.clone()),
                _ => None,
            };
            match truth {
                Some(t) if t == value => self.checked.learns += 1,
                Some(_) => return violation(l, s, format!("the derived {name} is not the ground truth")),
                None => {
                    return violation(l, s, format!("a derived {name} with no ground truth in the trace"));
                }
            }
        }
        if !self.claims.is_empty() {
            let layout = learn::layout_for(self.h.n, self.h.epochs, self.h.init, self.h.elgamal);
            match layout {
                Some(layout) => {
                    learn::redecide(self.g(), &layout, &self.holdings, &self.claims)
                        .or_else(|(l, s, m)| violation(l, s, m))?;
                    self.checked.learns_redecided = self.claims.len() as u64;
                }
                None => self.not_redecided += self.claims.len() as u64,
            }
        }
        self.checked.learns_not_redecided = self.not_redecided;
        Ok(())
    }

    /// The footer at line `line`: its count, nothing after it (`after` is
    /// the next line's number, if any), then the last step and the checks
    /// of the whole trace.
    fn end(mut self, line: usize, footer: &Footer, after: Option<usize>, step: Vec<Pending>) -> Res<Checked> {
        if footer.events != self.checked.events {
            let message =
                format!("footer says {} events, the trace has {}", footer.events, self.checked.events);
            return Err(VerifyError::Malformed { line, message });
        }
        if let Some(extra) = after {
            return Err(VerifyError::Malformed { line: extra, message: "content after the footer".into() });
        }
        self.step(step)?;
        self.finish(line)?;
        Ok(self.checked)
    }

    /// Processes one step's records, derived values after what they need.
    fn step(&mut self, mut pending: Vec<Pending>) -> Res<()> {
        pending.sort_by_key(rank);
        for p in &pending {
            self.event(p)?;
        }
        Ok(())
    }
}

/// Reads the first line: a `fraclab-trace/1` header whose values are ones
/// this version knows.
fn read_header(line: usize, text: &str) -> Res<Run> {
    let bad = |message: String| VerifyError::Malformed { line, message };
    let h = match read_line(text).map_err(|e| bad(e.message))? {
        TraceLine::Header(h) if h.format == TRACE_FORMAT => h,
        _ => return Err(bad("not a fraclab-trace/1 header".into())),
    };
    let sha = &h.scenario_sha256;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("`scenario_sha256` is not 64 hex digits".into()));
    }
    let group =
        crate::group::lookup(&h.params).ok_or_else(|| bad(format!("unknown params \"{}\"", h.params)))?;
    if !(2..=4096).contains(&h.members) {
        return Err(bad("members out of range 2..=4096".into()));
    }
    let init = match one_of("init", &h.init, &["sm", "ring", "ring-hardened"]).map_err(bad)? {
        "sm" => InitKind::Sm,
        "ring" => InitKind::Ring,
        _ => InitKind::RingHardened,
    };
    let elgamal = one_of("keygen", &h.keygen, &["additive", "elgamal"]).map_err(bad)? == "elgamal";
    if elgamal && group.is_xor() {
        return Err(bad(format!(
            "keygen \"elgamal\" with params \"{}\": XOR values are not exponents",
            h.params
        )));
    }
    if !(1..=1_000_000_000).contains(&h.epochs) {
        return Err(bad("epochs out of range 1..=10^9".into()));
    }
    let channel = one_of("channel", &h.channel, &["ideal", "plain", "sealed"]).map_err(bad)?;
    let full = one_of("trace", &h.trace, &["full", "protocol"]).map_err(bad)? == "full";
    Ok(Run { group, n: h.members, init, elgamal, epochs: h.epochs, channel, full })
}

/// Verifies a whole trace read from `input`.
pub fn verify(input: impl BufRead) -> Result<Checked, VerifyError> {
    let mut lines = input.lines().enumerate().map(|(i, l)| (i + 1, l));
    let read = |line: usize, l: std::io::Result<String>| -> Res<String> {
        l.map_err(|e| VerifyError::Malformed { line, message: e.to_string() })
    };
    let Some((ln, first)) = lines.next() else {
        return Err(VerifyError::Malformed { line: 1, message: "empty file".into() });
    };
    let mut v = Verifier::new(read_header(ln, &read(ln, first)?)?);
    let (mut last_seq, mut last_t) = (None::<u64>, 0u64);
    let mut step: Vec<Pending> = Vec::new();
    while let Some((ln, l)) = lines.next() {
        v.last_line = ln;
        let ev = read_line(&read(ln, l)?).map_err(|e| e.at(ln))?;
        let Some((t, seq)) = ev.at() else {
            let TraceLine::Footer(footer) = ev else {
                return Err(VerifyError::Malformed { line: ln, message: "a second header".into() });
            };
            let after = lines.next().map(|(extra, _)| extra);
            return v.end(ln, &footer, after, step);
        };
        if last_seq.is_some_and(|s| seq <= s) || t < last_t {
            return violation(ln, seq, "seq not increasing or time going backwards".into());
        }
        // At level full every record is written: seq counts 0, 1, 2, …
        let expected = last_seq.map_or(Some(0), |s| s.checked_add(1));
        if v.h.full && expected != Some(seq) {
            return violation(
                ln,
                seq,
                format!("a full trace numbers its events 0, 1, 2, …; expected seq {}", expected.unwrap_or(0)),
            );
        }
        if t != last_t {
            v.step(std::mem::take(&mut step))?;
        }
        (last_seq, last_t) = (Some(seq), t);
        v.last_seq = seq;
        v.checked.events += 1;
        let after = v.last_nonlearn;
        if !matches!(ev, TraceLine::Learn(_)) {
            v.last_nonlearn = ln;
        }
        step.push(Pending { at: At { line: ln, seq }, ev, after });
    }
    Err(VerifyError::Malformed { line: v.last_line + 1, message: "no footer: the trace is truncated".into() })
}
