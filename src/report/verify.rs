//! `fraclab verify-trace`: re-checks a trace from its own lines, sharing
//! nothing with the run that wrote it but the group arithmetic, the KDF and
//! the knowledge engine's pure span test.
//!
//! Every line is read into a typed record: exactly the keys its type has,
//! member ids in 1..=n (0 = the SM where the SM may appear), epochs and
//! iterations within the header's `epochs`, scalars canonical lowercase hex.
//! Then:
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

use serde_json::{Map, Value};

use crate::group::{GroupParams, Scalar, SharedKey, by_name, confirm_tag, derive_sk};
use crate::knowledge::form::Var;
use crate::protocol::InitKind;
use learn::{Claim, Holdings, LearnView, Terms};

/// What a successful verification covered.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Checked {
    pub events: u64,
    pub hfk_messages: u64,
    /// pad, delta, theta, share, confirm, fk_pub, commit and recovery
    /// messages checked against the secrets they carry.
    pub other_messages: u64,
    /// Acks whose value is a sequence number delivered to the acknowledger.
    pub acks: u64,
    /// `deliver` and `drop` lines matched to their message.
    pub fates: u64,
    pub leaks: u64,
    /// δ_i = δ_(i−1) + contribution_i on the ring.
    pub delta_links: u64,
    /// The recovery ring: δ′ links, ξ and β.
    pub recovery_values: u64,
    /// α_(i,e) = θ_e − v_i or θ_e − FK_(i,e−1).
    pub pad_rules: u64,
    pub theta_sums: u64,
    pub i1_epochs: u64,
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
    Malformed { line: usize, message: String },
    /// A record is wrong: the line and `seq` it is at.
    Violation { line: usize, seq: u64, message: String },
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

/// A JSON object of one line, with the location its errors name.
struct Obj<'a> {
    m: &'a Map<String, Value>,
    line: usize,
    seq: Option<u64>,
}

impl<'a> Obj<'a> {
    fn err(&self, message: String) -> VerifyError {
        match self.seq {
            Some(seq) => VerifyError::Violation { line: self.line, seq, message },
            None => VerifyError::Malformed { line: self.line, message },
        }
    }

    /// The object has exactly `required` keys, plus any of `optional`.
    fn keys(&self, required: &[&str], optional: &[&str]) -> Res<()> {
        for k in required {
            if !self.m.contains_key(*k) {
                return Err(self.err(format!("missing field `{k}`")));
            }
        }
        if let Some(k) =
            self.m.keys().find(|k| !required.contains(&k.as_str()) && !optional.contains(&k.as_str()))
        {
            return Err(self.err(format!("unknown field `{k}`")));
        }
        Ok(())
    }

    fn get(&self, k: &str) -> Res<&'a Value> {
        self.m.get(k).ok_or_else(|| self.err(format!("missing field `{k}`")))
    }

    fn u64(&self, k: &str) -> Res<u64> {
        self.get(k)?.as_u64().ok_or_else(|| self.err(format!("`{k}` is not a whole number in 0..2^64")))
    }

    fn str(&self, k: &str) -> Res<&'a str> {
        self.get(k)?.as_str().ok_or_else(|| self.err(format!("`{k}` is not a string")))
    }

    fn bool(&self, k: &str) -> Res<bool> {
        self.get(k)?.as_bool().ok_or_else(|| self.err(format!("`{k}` is not true or false")))
    }

    /// A member id in 1..=n.
    fn member(&self, k: &str, n: u32) -> Res<u32> {
        let v = self.u64(k)?;
        u32::try_from(v)
            .ok()
            .filter(|m| (1..=n).contains(m))
            .ok_or_else(|| self.err(format!("`{k}` = {v} is not a member id (1..={n})")))
    }

    /// A party: a member id, or 0 for the SM where `sm` allows it.
    fn party(&self, k: &str, n: u32, sm: bool) -> Res<u32> {
        let v = self.u64(k)?;
        match u32::try_from(v) {
            Ok(0) if sm => Ok(0),
            Ok(m) if (1..=n).contains(&m) => Ok(m),
            _ => {
                let allowed = if sm { format!("0 (the SM) or 1..={n}") } else { format!("1..={n}") };
                Err(self.err(format!("`{k}` = {v} is not a party id ({allowed})")))
            }
        }
    }

    fn one_of(&self, k: &str, allowed: &[&'static str]) -> Res<&'static str> {
        let s = self.str(k)?;
        allowed
            .iter()
            .find(|a| **a == s)
            .copied()
            .ok_or_else(|| self.err(format!("`{k}` = \"{s}\" is not one of {}", allowed.join(", "))))
    }
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
const DROP_REASONS: [&str; 3] = ["loss", "partition", "crashed"];
const ATTACKS: [&str; 3] = ["tamper", "replay", "forge"];
const CHECKS: [&str; 9] =
    ["silence", "group-key", "pad", "pad-sum", "theta", "delta", "ring-link", "hfk", "hfk-after-recovery"];
const SECRET_NAMES: [&str; 10] = ["v", "gamma", "delta", "alpha", "fk", "x", "share", "w", "xi", "beta"];

/// One recorded value: the value, and where it was recorded.
#[derive(Clone)]
struct Rec {
    value: Scalar,
    line: usize,
    seq: u64,
}

/// (from, to, sender_seq, kind, mode, iter) of a payload.
type Original = (u32, u32, u64, &'static str, &'static str, u64);

/// A message on the wire: a send, or one an attack injected.
struct Msg {
    t: u64,
    from: u32,
    to: u32,
    mode: &'static str,
    iter: u64,
    kind: &'static str,
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

struct Header {
    group: &'static GroupParams,
    n: u32,
    init: InitKind,
    elgamal: bool,
    epochs: u64,
    channel: &'static str,
    full: bool,
}

struct Verifier {
    h: Header,
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
    /// (from, to, sender_seq, kind, mode, iter) → the value's text, for
    /// retransmissions.
    originals: BTreeMap<Original, (String, u64)>,
    /// (receiver, sender, sender_seq, mode, iter) of every delivered payload.
    delivered: BTreeSet<(u32, u32, u64, &'static str, u64)>,
    /// Whether some injected message from → to was delivered.
    injected_to: BTreeSet<(u32, u32)>,
    /// Recovery δ′ values delivered to each member, by iteration.
    rdelta_in: BTreeMap<(u32, u64), Vec<Scalar>>,
    commits: Vec<(usize, u64, u32, Value)>,
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

/// A parsed line waiting for its step to end.
struct Pending {
    line: usize,
    seq: u64,
    t: u64,
    ty: &'static str,
    ev: Map<String, Value>,
    /// The nearest earlier non-learn line (for learns).
    after: usize,
}

const TYPES: [&str; 15] = [
    "secret",
    "send",
    "deliver",
    "drop",
    "attack",
    "reject",
    "forgery",
    "crash",
    "detect",
    "replace",
    "recovered",
    "leak",
    "learn",
    "theta",
    "key",
];

/// Within a step: draws, then derived secrets, θ, keys, then the rest in
/// line order.
fn rank(p: &Pending) -> (u8, u64) {
    match p.ty {
        "secret" => match p.ev.get("name").and_then(Value::as_str) {
            Some("delta") => (1, p.ev.get("member").and_then(Value::as_u64).unwrap_or(0)),
            Some("xi") => (2, 0),
            Some("alpha" | "beta") => (3, 0),
            _ => (0, 0),
        },
        "theta" => (4, 0),
        "key" => (5, 0),
        _ => (6, 0),
    }
}

fn violation<T>(line: usize, seq: u64, message: String) -> Res<T> {
    Err(VerifyError::Violation { line, seq, message })
}

impl Verifier {
    fn g(&self) -> &'static GroupParams {
        self.h.group
    }

    fn scalar(&self, o: &Obj<'_>, v: &Value, what: &str) -> Res<Scalar> {
        let s = v.as_str().ok_or_else(|| o.err(format!("`{what}` is not a string")))?;
        let x = self.g().scalar_from_hex(s).map_err(|e| o.err(format!("`{what}`: {e}")))?;
        if self.g().scalar_hex(&x) != s {
            return Err(o.err(format!("`{what}` is not lowercase hex of the byte length of q")));
        }
        Ok(x)
    }

    fn key_hex(o: &Obj<'_>, v: &Value, what: &str) -> Res<String> {
        let s = v.as_str().ok_or_else(|| o.err(format!("`{what}` is not a string")))?;
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(o.err(format!("`{what}` is not 64 lowercase hex digits")));
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

    fn event(&mut self, p: &Pending) -> Res<()> {
        let o = Obj { m: &p.ev, line: p.line, seq: Some(p.seq) };
        let (line, seq, n) = (p.line, p.seq, self.h.n);
        let head = ["type", "t_us", "seq"];
        let keys = |extra: &[&str], opt: &[&str]| {
            let req: Vec<&str> = head.iter().chain(extra).copied().collect();
            o.keys(&req, opt)
        };
        match p.ty {
            "secret" => {
                keys(&["member", "name", "index", "value"], &[])?;
                self.on_secret(&o, p)
            }
            "send" => {
                keys(&["msg", "from", "to", "mode", "iter", "kind", "value", "sender_seq", "attempt"], &[])?;
                self.on_send(&o, p)
            }
            "deliver" => {
                keys(&["msg", "to"], &["duplicate"])?;
                let duplicate = match p.ev.get("duplicate") {
                    None => false,
                    Some(Value::Bool(true)) => true,
                    Some(_) => return Err(o.err("`duplicate` is written only as true".into())),
                };
                let to = o.party("to", n, self.h.init == InitKind::Sm)?;
                self.on_fate(&o, p, Some((to, duplicate)), None)
            }
            "drop" => {
                keys(&["msg", "reason"], &[])?;
                let reason = o.one_of("reason", &DROP_REASONS)?;
                self.on_fate(&o, p, None, Some(reason))
            }
            "attack" => {
                keys(&["msg", "attack", "of", "from", "to", "mode", "iter", "kind"], &[])?;
                self.on_attack(&o, p)
            }
            "reject" | "forgery" => {
                let extra = if p.ty == "reject" { "reason" } else { "attack" };
                keys(&["member", "msg", extra], &[])?;
                let member = o.party("member", n, self.h.init == InitKind::Sm)?;
                let msg = o.u64("msg")?;
                if p.ty == "reject" {
                    o.one_of("reason", &crate::protocol::sealed::REASONS)?;
                } else {
                    o.one_of("attack", &ATTACKS)?;
                    if self.h.channel == "sealed" {
                        return violation(line, seq, "a forgery on the sealed channel".into());
                    }
                }
                match self.msgs.get(&msg) {
                    Some(m) if m.to == member && m.delivered => Ok(()),
                    Some(m) if p.ty == "reject" && m.to == member && m.duplicated => Ok(()),
                    Some(m) if m.to != member => violation(
                        line,
                        seq,
                        format!("a {} by party {member} of message {msg}, which was sent to {}", p.ty, m.to),
                    ),
                    _ => violation(line, seq, format!("a {} of message {msg}, never delivered", p.ty)),
                }
            }
            "crash" | "replace" => {
                keys(&["member"], &[])?;
                let m = o.member("member", n)?;
                if p.ty == "crash" {
                    *self.crashes.entry(m).or_default() += 1;
                } else {
                    let (c, r) = (
                        self.crashes.get(&m).copied().unwrap_or(0),
                        self.replaces.get(&m).copied().unwrap_or(0),
                    );
                    if c <= r {
                        return violation(
                            line,
                            seq,
                            format!("member {m} replaced without a crash to replace"),
                        );
                    }
                    self.replaces.insert(m, r + 1);
                    self.recovery_from.get_or_insert(line);
                    self.set_aside(m);
                }
                Ok(())
            }
            "detect" => {
                keys(&["member", "check", "culprit", "iter"], &[])?;
                o.member("member", n)?;
                o.one_of("check", &CHECKS)?;
                if !o.get("culprit")?.is_null() {
                    o.party("culprit", n, self.h.init == InitKind::Sm)?;
                }
                if o.u64("iter")? > self.max_epoch() {
                    return Err(
                        o.err(format!("`iter` beyond the header's epochs + 1 = {}", self.max_epoch()))
                    );
                }
                self.detects += 1;
                Ok(())
            }
            "recovered" => {
                keys(&["member", "iter", "ok"], &[])?;
                let m = o.member("member", n)?;
                let r = o.u64("iter")?;
                o.bool("ok")?;
                if r > self.h.epochs {
                    return Err(o.err(format!("`iter` beyond the header's epochs {}", self.h.epochs)));
                }
                if !self.replaces.contains_key(&m) {
                    return violation(line, seq, format!("member {m} recovered without a replacement"));
                }
                // A replacement re-derives v, FK up to r and α: only an FK
                // after r may be a fresh draw.
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
            "leak" => {
                keys(&["member", "secret", "epoch", "to"], &[])?;
                self.on_leak(&o, p)
            }
            "learn" => {
                keys(&["view", "target", "name", "index", "value"], &[])?;
                self.on_learn(&o, p)
            }
            "theta" => {
                keys(&["member", "epoch", "value"], &[])?;
                self.on_theta(&o, p)
            }
            "key" => {
                keys(&["member", "epoch", "sk"], &[])?;
                self.on_key(&o, p)
            }
            _ => Err(o.err("unknown event type".into())),
        }
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

    fn on_secret(&mut self, o: &Obj<'_>, p: &Pending) -> Res<()> {
        let (line, seq, n, g) = (p.line, p.seq, self.h.n, self.g());
        let member = o.member("member", n)?;
        let raw = o.one_of("name", &SECRET_NAMES)?;
        let index = o.u64("index")?;
        let value = self.scalar(o, o.get("value")?, "value")?;
        let replaced = self.replaces.get(&member).copied().unwrap_or(0) > 0;
        match (raw, self.h.elgamal) {
            ("x", false) => {
                return violation(
                    line,
                    seq,
                    "an ElGamal x in a trace whose header says keygen additive".into(),
                );
            }
            ("fk", true) => {
                return violation(
                    line,
                    seq,
                    "an additive FK in a trace whose header says keygen elgamal".into(),
                );
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
            return violation(line, seq, format!("{raw}[{member}] has index {index}, outside {lo}..={hi}"));
        }
        let ring = self.h.init != InitKind::Sm;
        match name {
            "delta" if !ring => {
                return violation(line, seq, "a ring δ in a trace whose header says init sm".into());
            }
            "gamma" if !replaced && (!ring || member != 1) => {
                return violation(
                    line,
                    seq,
                    format!("γ recorded for member {member}: only the ring's GI (member 1) draws γ"),
                );
            }
            "share" if self.h.init != InitKind::RingHardened => {
                return violation(
                    line,
                    seq,
                    "a share in a trace whose header does not say init ring-hardened".into(),
                );
            }
            _ => {}
        }
        let recovery_gamma = name == "gamma" && replaced;
        if recovery_gamma {
            self.recovery_from.get_or_insert(line);
        }
        // Checks of derived secrets against what they are made of.
        match name {
            "delta" => {
                let base = match member {
                    1 => self.secret("gamma", 1, 1).cloned(),
                    m => self.secret("delta", m - 1, 1).cloned(),
                };
                let (Some(base), Some(c)) = (base, self.contribution(member)) else {
                    return violation(
                        line,
                        seq,
                        format!("δ_{member} recorded before the values it is made of"),
                    );
                };
                if g.add(&base, &c) != value {
                    return violation(
                        line,
                        seq,
                        format!("δ_{member} ≠ δ_{} + member {member}'s contribution", member - 1),
                    );
                }
                self.checked.delta_links += 1;
            }
            "alpha" => {
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
                    return violation(
                        line,
                        seq,
                        format!("α_{{{member},{index}}} recorded before the draws it is made of"),
                    );
                };
                if g.sub(&sum, own) != value {
                    return violation(line, seq, format!("α_{{{member},{index}}} ≠ {rule}"));
                }
                self.checked.pad_rules += 1;
            }
            "xi" => {
                let parts: Option<Vec<&Scalar>> =
                    (1..=n).filter(|&l| l != member).map(|l| self.secret("w", l, index)).collect();
                match parts {
                    Some(w) if g.sum(w.iter().copied()) == value => self.checked.recovery_values += 1,
                    Some(_) => {
                        return violation(
                            line,
                            seq,
                            format!("ξ of the recovery of member {member} at r = {index} ≠ Σ_l w_l"),
                        );
                    }
                    None => {
                        return violation(
                            line,
                            seq,
                            format!("ξ at r = {index} recorded before every survivor's w"),
                        );
                    }
                }
            }
            "beta" => {
                let Some(w) = self.secret("w", member, index) else {
                    return violation(
                        line,
                        seq,
                        format!("β_{member} at r = {index} recorded before w_{member}"),
                    );
                };
                let ok = (1..=n)
                    .filter(|&f| f != member)
                    .filter_map(|f| self.secret("xi", f, index))
                    .any(|xi| g.sub(xi, w) == value);
                if !ok {
                    return violation(line, seq, format!("β_{member} at r = {index} ≠ ξ − w_{member}"));
                }
                self.checked.recovery_values += 1;
            }
            _ => {}
        }
        let key = (name, member, index);
        if let Some(first) = self.original(name, member, index).cloned() {
            // A second record: only a replacement re-records, and only what
            // it recovers (v, α, FK) — or a fresh FK, or a recovery's γ′.
            let redo = replaced && matches!(name, "v" | "alpha" | "fk" | "gamma" | "w" | "beta" | "xi");
            if !redo {
                return violation(
                    line,
                    seq,
                    format!("{raw}[{member},{index}] recorded twice (first at line {})", first.line),
                );
            }
            if first.value != value && matches!(name, "v" | "fk") {
                self.fresh.push((line, seq, member, name, index));
            }
        } else if replaced && name == "alpha" {
            // An α the replacement derives afresh is checked by the pad rule.
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
                self.holdings.members[member as usize - 1].push((line, vec![(v, 1)]));
            }
        }
        self.secrets.entry(key).or_default().push(Rec { value, line, seq });
        Ok(())
    }

    fn on_theta(&mut self, o: &Obj<'_>, p: &Pending) -> Res<()> {
        let (line, seq) = (p.line, p.seq);
        let member = o.member("member", self.h.n)?;
        let epoch = o.u64("epoch")?;
        if !(1..=self.max_epoch()).contains(&epoch) {
            return violation(line, seq, format!("θ_{epoch}: the epoch is outside 1..={}", self.max_epoch()));
        }
        let theta = self.scalar(o, o.get("value")?, "value")?;
        let sum = if epoch == 1 { self.sum_all("v", 1) } else { self.sum_all("fk", epoch - 1) };
        let Some(sum) = sum else {
            return violation(line, seq, format!("θ_{epoch} derived before every draw it sums was recorded"));
        };
        if sum != theta {
            let what = if epoch == 1 {
                "θ_1 ≠ Σ_i v_i".to_string()
            } else {
                format!("θ_{epoch} held by member {member} ≠ Σ_i FK_{{i,{}}}", epoch - 1)
            };
            return violation(line, seq, what);
        }
        if let Some((other, _)) =
            self.thetas.get(&epoch).and_then(|r| r.iter().find(|(_, t)| t.value != theta))
        {
            return violation(
                line,
                seq,
                format!("member {member} holds θ_{epoch} different from member {other}'s"),
            );
        }
        if self.thetas.get(&epoch).is_some_and(|r| r.contains_key(&member))
            && self.replaces.get(&member).copied().unwrap_or(0) == 0
        {
            return violation(line, seq, format!("member {member}'s θ_{epoch} recorded twice"));
        }
        self.checked.theta_sums += 1;
        self.thetas.entry(epoch).or_default().insert(member, Rec { value: theta, line, seq });
        Ok(())
    }

    fn on_key(&mut self, o: &Obj<'_>, p: &Pending) -> Res<()> {
        let (line, seq) = (p.line, p.seq);
        let member = o.member("member", self.h.n)?;
        let epoch = o.u64("epoch")?;
        if !(1..=self.max_epoch()).contains(&epoch) {
            return violation(
                line,
                seq,
                format!("SK_{epoch}: the epoch is outside 1..={}", self.max_epoch()),
            );
        }
        let sk = Self::key_hex(o, o.get("sk")?, "sk")?;
        let Some(theta) = self.thetas.get(&epoch).and_then(|r| r.get(&member)) else {
            return violation(
                line,
                seq,
                format!("SK_{epoch} of member {member} recorded before its θ_{epoch}"),
            );
        };
        if derive_sk(self.g(), self.h.n, epoch, &theta.value).to_hex() != sk {
            return violation(line, seq, format!("SK_{epoch} of member {member} ≠ KDF(θ_{epoch})"));
        }
        if let Some((other, _)) = self.keys.get(&epoch).and_then(|r| r.iter().find(|(_, k)| **k != sk)) {
            return violation(
                line,
                seq,
                format!("member {member}'s SK_{epoch} differs from member {other}'s"),
            );
        }
        self.keys.entry(epoch).or_default().insert(member, sk);
        self.checked.keys += 1;
        Ok(())
    }

    fn mode_iter(&self, o: &Obj<'_>) -> Res<(&'static str, u64)> {
        let mode = o.one_of("mode", &["I", "G", "R"])?;
        let iter = o.u64("iter")?;
        if iter > self.max_epoch() {
            return Err(
                o.err(format!("`iter` = {iter} beyond the header's epochs + 1 = {}", self.max_epoch()))
            );
        }
        Ok((mode, iter))
    }

    /// Whether `kind` may travel in `mode` at `iter`, by the README's table.
    fn kind_rule(&self, kind: &str, mode: &str, iter: u64, from: u32) -> Result<(), String> {
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

    fn on_send(&mut self, o: &Obj<'_>, p: &Pending) -> Res<()> {
        let (line, seq, n) = (p.line, p.seq, self.h.n);
        if !self.h.full {
            return violation(line, seq, "a send in a trace whose header says trace protocol".into());
        }
        self.sends += 1;
        let sm = self.h.init == InitKind::Sm;
        let msg = o.u64("msg")?;
        let (from, to) = (o.party("from", n, sm)?, o.party("to", n, sm)?);
        if from == to {
            return violation(line, seq, format!("a message from party {from} to itself"));
        }
        let (mode, iter) = self.mode_iter(o)?;
        let kind = o.one_of("kind", &KINDS)?;
        let sender_seq = o.u64("sender_seq")?;
        let attempt = o.u64("attempt")?;
        self.kind_rule(kind, mode, iter, from).or_else(|m| violation(line, seq, m))?;
        if (kind == "ack") != (sender_seq == 0) {
            return violation(
                line,
                seq,
                format!("`sender_seq` = {sender_seq}: acks carry 0, payloads count from 1"),
            );
        }
        if kind == "ack" && attempt != 0 {
            return violation(line, seq, "an ack is never retransmitted (attempt must be 0)".into());
        }
        if self.msgs.contains_key(&msg) {
            return violation(line, seq, format!("message id {msg} used twice"));
        }
        if mode == "R" {
            self.recovery_from.get_or_insert(line);
        }
        let value = o.get("value")?;
        let text = value.to_string();
        if attempt > 0 {
            match self.originals.get_mut(&(from, to, sender_seq, kind, mode, iter)) {
                Some((v, last)) if *v == text && last.checked_add(1) == Some(attempt) => *last = attempt,
                Some((v, last)) if *v == text => {
                    let last = *last;
                    return violation(
                        line,
                        seq,
                        format!("retransmission attempt {attempt} follows attempt {last}"),
                    );
                }
                Some(_) => {
                    return violation(
                        line,
                        seq,
                        format!("a retransmission (attempt {attempt}) whose value differs from its original"),
                    );
                }
                None => {
                    return violation(
                        line,
                        seq,
                        format!(
                            "a retransmission (attempt {attempt}) of sender_seq {sender_seq} from {from} to {to} with no original"
                        ),
                    );
                }
            }
        } else if kind != "ack" {
            self.originals.insert((from, to, sender_seq, kind, mode, iter), (text, 0));
        }
        let terms = self.check_payload(o, p, kind, mode, from, to, iter, value)?;
        let rdelta =
            if kind == "delta" && mode == "R" { Some(self.scalar(o, value, "value")?) } else { None };
        if self.h.channel == "plain" && self.recovery_from.is_none() {
            for t in &terms {
                self.holdings.outsider.push((line, t.clone()));
            }
        }
        self.msgs.insert(
            msg,
            Msg {
                t: p.t,
                from,
                to,
                mode,
                iter,
                kind,
                sender_seq,
                injected: false,
                tampered: false,
                terms,
                delivered: false,
                duplicated: false,
                fates: 0,
                lost: false,
                rdelta,
            },
        );
        Ok(())
    }

    /// Checks a payload against the secrets; returns its linear observations.
    #[allow(clippy::too_many_arguments)]
    fn check_payload(
        &mut self,
        o: &Obj<'_>,
        p: &Pending,
        kind: &str,
        mode: &str,
        from: u32,
        to: u32,
        iter: u64,
        value: &Value,
    ) -> Res<Vec<Terms>> {
        let (line, seq, n, g) = (p.line, p.seq, self.h.n, self.g());
        let fail = |m: String| -> Res<Vec<Terms>> { violation(line, seq, m) };
        let obj = |v: &Value, keys: &[&str], opt: &[&str]| -> Res<()> {
            match v.as_object() {
                Some(m) => Obj { m, line, seq: Some(seq) }.keys(keys, opt),
                None => Err(o.err(format!("the `{kind}` value is not an object"))),
            }
        };
        let member_to = |t: u32| -> Res<()> {
            if t == 0 { Err(o.err(format!("a `{kind}` message to the SM"))) } else { Ok(()) }
        };
        match kind {
            "hfk" => {
                let (Some(alpha), Some(fk)) =
                    (self.secret("alpha", from, iter), self.secret("fk", from, iter))
                else {
                    return fail(format!(
                        "HFK_{{{from},{iter}}} sent before α_{{{from},{iter}}} and FK_{{{from},{iter}}} were recorded"
                    ));
                };
                if g.add(alpha, fk) != self.scalar(o, value, "value")? {
                    return fail(format!(
                        "HFK_{{{from},{iter}}} sent by member {from} ≠ α_{{{from},{iter}}} + FK_{{{from},{iter}}}"
                    ));
                }
                self.checked.hfk_messages += 1;
                Ok(vec![vec![(Var::Alpha(from, iter), 1), (Var::Fk(from, iter), 1)]])
            }
            "pad" => {
                member_to(to)?;
                obj(value, &["alpha", "theta"], &[])?;
                let (Some(theta), Some(v)) = (self.sum_all("v", 1), self.secret("v", to, 1)) else {
                    return fail(format!("the SM's pad for member {to} sent before its draws were recorded"));
                };
                let alpha = g.sub(&theta, v);
                if self.scalar(o, &value["theta"], "theta")? != theta
                    || self.scalar(o, &value["alpha"], "alpha")? != alpha
                {
                    return fail(format!("the SM's pad for member {to} is not (θ_1 − v_{to}, θ_1 = Σ v)"));
                }
                self.checked.other_messages += 1;
                Ok(vec![vec![(Var::Alpha(to, 1), 1)], vec![(Var::Theta(1), 1)]])
            }
            "delta" if mode == "I" => {
                let Some(d) = self.secret("delta", from, 1).cloned() else {
                    return fail(format!("δ_{from} sent before it was recorded"));
                };
                if self.scalar(o, value, "value")? != d {
                    return fail(format!("the `delta` message from {from} to {to} does not carry δ_{from}"));
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
            "delta" => {
                // The recovery ring: the replacement sends γ′, each survivor
                // the δ′ it got plus its w.
                let d = self.scalar(o, value, "value")?;
                let replaced = self.replaces.get(&from).copied().unwrap_or(0) > 0;
                let from_gamma = replaced && self.secret("gamma", from, iter) == Some(&d);
                let from_chain = self.secret("w", from, iter).is_some_and(|w| {
                    self.rdelta_in.get(&(from, iter)).is_some_and(|ins| ins.iter().any(|x| g.add(x, w) == d))
                });
                if !(from_gamma || from_chain) {
                    return fail(format!(
                        "the recovery δ′ from {from} at r = {iter} is neither the replacement's γ′ nor a δ′ delivered to it plus its w"
                    ));
                }
                self.checked.recovery_values += 1;
                self.checked.other_messages += 1;
                Ok(Vec::new())
            }
            "theta" => {
                member_to(to)?;
                let (Some(d), Some(gm)) = (self.secret("delta", n, 1), self.secret("gamma", 1, 1)) else {
                    return fail("θ_1 sent before δ_n and γ were recorded".into());
                };
                if self.scalar(o, value, "value")? != g.sub(d, gm) {
                    return fail(format!(
                        "the `theta` message from {from} to {to} does not carry θ_1 = δ_n − γ"
                    ));
                }
                self.checked.other_messages += 1;
                Ok(vec![vec![(Var::Theta(1), 1)]])
            }
            "share" => {
                member_to(to)?;
                let Some(s) = self.secret("share", from, u64::from(to)).cloned() else {
                    return fail(format!("share s_{{{from},{to}}} sent before it was recorded"));
                };
                if self.scalar(o, value, "value")? != s {
                    return fail(format!(
                        "the `share` message from {from} to {to} does not carry s_{{{from},{to}}}"
                    ));
                }
                self.checked.other_messages += 1;
                Ok(vec![vec![(Var::Share(from, to), 1)]])
            }
            "xi" => {
                let Some(x) = self.secret("xi", from, iter).cloned() else {
                    return fail(format!("ξ at r = {iter} sent before it was recorded"));
                };
                if self.scalar(o, value, "value")? != x {
                    return fail(format!(
                        "the `xi` message from {from} to {to} does not carry ξ of the recovery at r = {iter}"
                    ));
                }
                self.checked.other_messages += 1;
                Ok(Vec::new())
            }
            "hfk_hat" => {
                let own = if iter == 0 { self.secret("v", from, 1) } else { self.secret("fk", from, iter) };
                let (Some(b), Some(f)) = (self.secret("beta", from, iter), own) else {
                    return fail(format!("ĤFK_{from} at r = {iter} sent before β and FK were recorded"));
                };
                if self.scalar(o, value, "value")? != g.add(b, f) {
                    return fail(format!("ĤFK_{from} ≠ β_{from} + FK_{{{from},{iter}}}"));
                }
                self.checked.other_messages += 1;
                Ok(Vec::new())
            }
            "hfk_relay" => {
                obj(value, &["owner", "hfk"], &["fk_pub"])?;
                let vo = Obj { m: value.as_object().expect("checked an object"), line, seq: Some(seq) };
                let owner = vo.member("owner", n)?;
                let relayed = self.scalar(o, &value["hfk"], "hfk")?;
                match (self.secret("alpha", owner, iter), self.secret("fk", owner, iter)) {
                    (Some(a), Some(f)) if g.add(a, f) == relayed => {}
                    _ => return fail(format!("the relayed HFK_{{{owner},{iter}}} ≠ α + FK")),
                }
                if let Some(pubv) = value.get("fk_pub") {
                    let want = self.secret("fk", owner, iter).map(|x| g.element_hex(&g.pow_g(x)));
                    if pubv.as_str() != want.as_deref() {
                        return fail(format!("the relayed public FK_{{{owner},{iter}}} ≠ g^FK"));
                    }
                }
                self.checked.other_messages += 1;
                Ok(Vec::new())
            }
            "recover" => {
                member_to(to)?;
                obj(value, &["hfk", "theta", "sk"], &[])?;
                let r = iter;
                let next = r + 1;
                let theta = self.thetas.get(&next).and_then(|t| t.get(&from)).map(|t| t.value.clone());
                let sk = self.keys.get(&next).and_then(|k| k.get(&from)).cloned();
                let (Some(theta), Some(sk)) = (theta, sk) else {
                    return fail(format!("the RI hands over θ_{next} before holding it"));
                };
                let hfk = match (self.secret("alpha", to, r), self.secret("fk", to, r)) {
                    (Some(a), Some(f)) => Some(g.add(a, f)),
                    _ => None,
                };
                let sent_hfk = &value["hfk"];
                let hfk_ok = match (r, sent_hfk.is_null(), hfk) {
                    (0, true, _) => true,
                    (_, false, Some(h)) => self.scalar(o, sent_hfk, "hfk")? == h,
                    _ => false,
                };
                let sk_sent = Self::key_hex(o, &value["sk"], "sk")?;
                if !hfk_ok || self.scalar(o, &value["theta"], "theta")? != theta || sk_sent != sk {
                    return fail(format!(
                        "the RI's handover for member {to} is not (HFK_{{{to},{r}}}, θ_{next}, SK_{next})"
                    ));
                }
                self.checked.other_messages += 1;
                Ok(Vec::new())
            }
            "fk_pub" => {
                let Some(x) = self.secret("fk", from, iter) else {
                    return fail(format!("FK_{{{from},{iter}}} = g^x published before x was recorded"));
                };
                if value.as_str() != Some(g.element_hex(&g.pow_g(x)).as_str()) {
                    return fail(format!("the public FK_{{{from},{iter}}} sent by member {from} ≠ g^x"));
                }
                self.checked.other_messages += 1;
                Ok(Vec::new())
            }
            "confirm" => {
                let epoch = if mode == "I" { 1 } else { iter + 1 };
                let Some(sk) = self.keys.get(&epoch).and_then(|k| k.get(&from)) else {
                    return fail(format!("member {from} confirms SK_{epoch} before deriving it"));
                };
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(sk, &mut bytes).map_err(|_| o.err("`sk` is not hex".into()))?;
                if value.as_str() != Some(confirm_tag(&SharedKey(bytes)).to_hex().as_str()) {
                    return fail(format!(
                        "member {from}'s confirmation of SK_{epoch} ≠ H(confirm ‖ SK_{epoch})"
                    ));
                }
                self.checked.other_messages += 1;
                Ok(Vec::new())
            }
            "commit" => {
                if from == 0 {
                    obj(value, &["alphas", "theta"], &[])?;
                } else {
                    obj(value, &["v", "delta", "gamma"], &[])?;
                }
                self.commits.push((line, seq, from, value.clone()));
                Ok(Vec::new())
            }
            "joined" => {
                if !value.is_null() {
                    return fail("a `joined` message carries null".into());
                }
                if self.replaces.get(&from).copied().unwrap_or(0) == 0 {
                    return fail(format!("member {from} announces a replacement that never happened"));
                }
                Ok(Vec::new())
            }
            "ack" => {
                let acked = value
                    .as_u64()
                    .filter(|&s| s > 0)
                    .ok_or_else(|| o.err("an ack's value is not a sender_seq ≥ 1".into()))?;
                // The acknowledged message was delivered to the acker.
                if !self.delivered.contains(&(from, to, acked, mode, iter))
                    && !self.injected_to.contains(&(to, from))
                {
                    return fail(format!(
                        "member {from} acknowledges sender_seq {acked} (mode {mode}, iteration {iter}) from {to}, which was never delivered to it"
                    ));
                }
                self.checked.acks += 1;
                Ok(Vec::new())
            }
            _ => fail(format!("unknown message kind \"{kind}\"")),
        }
    }

    fn on_attack(&mut self, o: &Obj<'_>, p: &Pending) -> Res<()> {
        let (line, seq, n) = (p.line, p.seq, self.h.n);
        if !self.h.full {
            return violation(
                line,
                seq,
                "an attack line in a trace whose header says trace protocol (written at level full only)"
                    .into(),
            );
        }
        let msg = o.u64("msg")?;
        let attack = o.one_of("attack", &ATTACKS)?;
        let sm = self.h.init == InitKind::Sm;
        let (from, to) = (o.party("from", n, sm)?, o.party("to", n, sm)?);
        let (mode, iter) = self.mode_iter(o)?;
        let kind = o.one_of("kind", &KINDS)?;
        let of = o.get("of")?;
        match attack {
            "tamper" => {
                if !of.is_null() {
                    return violation(line, seq, "a tamper has `of` null".into());
                }
                let Some(m) = self.msgs.get_mut(&msg) else {
                    return violation(line, seq, format!("a tamper of message {msg}, never sent"));
                };
                if (m.from, m.to, m.mode, m.iter, m.kind) != (from, to, mode, iter, kind) {
                    return violation(
                        line,
                        seq,
                        format!("the tamper of message {msg} misstates what the message is"),
                    );
                }
                m.tampered = true;
            }
            _ => {
                if self.msgs.contains_key(&msg) {
                    return violation(line, seq, format!("an injected message reuses message id {msg}"));
                }
                if attack == "replay" {
                    let of =
                        of.as_u64().ok_or_else(|| o.err("a replay's `of` is not a message id".into()))?;
                    match self.msgs.get(&of) {
                        Some(m) if (m.from, m.to, m.mode, m.iter, m.kind) == (from, to, mode, iter, kind) => {
                        }
                        _ => {
                            return violation(
                                line,
                                seq,
                                format!("a replay of message {of}, which is not this message"),
                            );
                        }
                    }
                } else if !of.is_null() {
                    return violation(line, seq, "a forgery has `of` null".into());
                }
                self.msgs.insert(
                    msg,
                    Msg {
                        t: p.t,
                        from,
                        to,
                        mode,
                        iter,
                        kind,
                        sender_seq: 0,
                        injected: true,
                        tampered: false,
                        terms: Vec::new(),
                        delivered: false,
                        duplicated: false,
                        fates: 0,
                        lost: false,
                        rdelta: None,
                    },
                );
            }
        }
        Ok(())
    }

    fn on_fate(
        &mut self,
        o: &Obj<'_>,
        p: &Pending,
        deliver: Option<(u32, bool)>,
        reason: Option<&str>,
    ) -> Res<()> {
        let (line, seq) = (p.line, p.seq);
        if !self.h.full {
            return violation(
                line,
                seq,
                format!(
                    "a {} in a trace whose header says trace protocol",
                    if deliver.is_some() { "deliver" } else { "drop" }
                ),
            );
        }
        let msg = o.u64("msg")?;
        let crashed = |m: u32| self.crashes.get(&m).copied().unwrap_or(0) > 0;
        let Some(m) = self.msgs.get(&msg) else {
            return violation(line, seq, format!("message {msg} has no earlier send or attack"));
        };
        if p.t < m.t {
            return violation(line, seq, format!("message {msg} arrives before it was sent"));
        }
        if m.lost || m.fates >= 2 {
            return violation(
                line,
                seq,
                format!("message {msg} has more fates than a send and a network duplicate"),
            );
        }
        let to_crashed = crashed(m.to);
        let (m_from, m_to, m_t) = (m.from, m.to, m.t);
        let m = self.msgs.get_mut(&msg).expect("looked up above");
        m.fates += 1;
        match (deliver, reason) {
            (Some((to, duplicate)), _) => {
                if to != m.to {
                    return violation(
                        line,
                        seq,
                        format!("message {msg} was sent to {}, delivered to {to}", m.to),
                    );
                }
                if duplicate {
                    if m.duplicated {
                        return violation(line, seq, format!("message {msg} delivered as a duplicate twice"));
                    }
                    m.duplicated = true;
                } else {
                    if m.delivered {
                        return violation(
                            line,
                            seq,
                            format!("message {msg} delivered twice without \"duplicate\":true"),
                        );
                    }
                    m.delivered = true;
                }
                if m.injected {
                    self.injected_to.insert((m.from, m.to));
                } else {
                    if m.kind != "ack" {
                        self.delivered.insert((m.to, m.from, m.sender_seq, m.mode, m.iter));
                    }
                    if !m.tampered && m.to != 0 && self.recovery_from.is_none() {
                        for t in &m.terms {
                            self.holdings.members[m.to as usize - 1].push((line, t.clone()));
                        }
                    }
                    if let Some(d) = &m.rdelta {
                        self.rdelta_in.entry((m.to, m.iter)).or_default().push(d.clone());
                    }
                }
            }
            (None, Some(reason)) => match reason {
                "loss" => {
                    if m.fates != 1 || p.t != m_t {
                        return violation(
                            line,
                            seq,
                            format!("message {msg} lost on the wire, not at its send"),
                        );
                    }
                    m.lost = true;
                }
                "partition" if m_from == 0 || m_to == 0 => {
                    return violation(
                        line,
                        seq,
                        format!("message {msg} dropped by a partition, which separates members only"),
                    );
                }
                "crashed" if !to_crashed => {
                    return violation(
                        line,
                        seq,
                        format!("message {msg} dropped as \"crashed\", but party {m_to} never crashed"),
                    );
                }
                _ => {}
            },
            _ => unreachable!("a fate is a deliver or a drop"),
        }
        self.checked.fates += 1;
        Ok(())
    }

    fn on_leak(&mut self, o: &Obj<'_>, p: &Pending) -> Res<()> {
        let (line, seq, n) = (p.line, p.seq, self.h.n);
        let member = o.member("member", n)?;
        let secret = o.one_of("secret", &["alpha", "fk", "theta", "sk"])?;
        let epoch = o.u64("epoch")?;
        let hi = if secret == "fk" { self.h.epochs } else { self.max_epoch() };
        if !(1..=hi).contains(&epoch) {
            return violation(line, seq, format!("a leak of {secret} at epoch {epoch}, outside 1..={hi}"));
        }
        let to = o.get("to")?;
        // Who it reaches: None = the outsider, Some(list) = those members.
        let reach: Option<Vec<u32>> = match to {
            Value::String(s) if s == "group" => Some((1..=n).collect()),
            Value::String(s) if s == "outsider" => None,
            Value::Array(ids) => {
                let Some(out) = sorted_ids(ids, n) else {
                    return violation(
                        line,
                        seq,
                        format!("a leak's `to` must be sorted distinct member ids in 1..={n}"),
                    );
                };
                if out.is_empty() {
                    return violation(line, seq, "a leak to nobody".into());
                }
                Some(out)
            }
            _ => {
                return violation(
                    line,
                    seq,
                    "a leak's `to` is \"group\", \"outsider\" or a list of ids".into(),
                );
            }
        };
        // The member leaks it the moment it holds it.
        let held_line = match secret {
            "alpha" | "fk" => {
                self.secrets.get(&(secret, member, epoch)).and_then(|v| v.last()).map(|r| r.line)
            }
            "theta" => self.thetas.get(&epoch).and_then(|r| r.get(&member)).map(|r| r.line),
            _ => self.keys.get(&epoch).and_then(|r| r.get(&member)).map(|_| line),
        };
        if held_line.is_none() {
            return violation(
                line,
                seq,
                format!("member {member} leaks {secret} of epoch {epoch}, which it does not hold"),
            );
        }
        let var = match secret {
            "alpha" => Some(Var::Alpha(member, epoch)),
            "fk" => Some(Var::Fk(member, epoch)),
            "theta" => Some(Var::Theta(epoch)),
            _ => None,
        };
        if let (Some(v), None) = (var, self.recovery_from) {
            match reach {
                None => self.holdings.outsider.push((line, vec![(v, 1)])),
                Some(ms) => {
                    for m in ms.into_iter().filter(|&m| m != member) {
                        self.holdings.members[m as usize - 1].push((line, vec![(v, 1)]));
                    }
                }
            }
        }
        self.checked.leaks += 1;
        Ok(())
    }

    fn on_learn(&mut self, o: &Obj<'_>, p: &Pending) -> Res<()> {
        let (line, seq, n) = (p.line, p.seq, self.h.n);
        let view = match o.get("view")? {
            Value::String(s) if s == "outsider" => LearnView::Outsider,
            Value::String(s) => {
                let parsed =
                    s.strip_prefix("replacement:").and_then(|r| r.split_once('#')).and_then(|(m, k)| {
                        let (m, k) = (m.parse::<u32>().ok()?, k.parse::<u32>().ok()?);
                        (m.to_string() + "#" + &k.to_string() == s["replacement:".len()..]).then_some((m, k))
                    });
                match parsed {
                    Some((m, k)) if (1..=n).contains(&m) && k >= 1 => {
                        if self.replaces.get(&m).copied().unwrap_or(0) < k {
                            return violation(
                                line,
                                seq,
                                format!(
                                    "a learn by replacement #{k} of member {m}, which does not exist yet"
                                ),
                            );
                        }
                        LearnView::Replacement(m, k)
                    }
                    _ => {
                        return violation(
                            line,
                            seq,
                            format!(
                                "`view` = \"{s}\" is not \"outsider\" or \"replacement:M#K\" with M in 1..={n}"
                            ),
                        );
                    }
                }
            }
            Value::Array(ids) => {
                let Some(out) = sorted_ids(ids, n) else {
                    return violation(
                        line,
                        seq,
                        format!("a coalition view is a sorted list of distinct ids in 1..={n}"),
                    );
                };
                if out.len() < 2 {
                    return violation(line, seq, "a coalition view has at least two members".into());
                }
                LearnView::Coalition(out)
            }
            Value::Number(_) => LearnView::Member(o.member("view", n)?),
            _ => return violation(line, seq, "`view` is a member id, a list of ids or a string".into()),
        };
        let fk_name = if self.h.elgamal { "x" } else { "fk" };
        let name = o.one_of("name", &["alpha", "fk", "x", "v", "theta"])?;
        if matches!(name, "fk" | "x") && name != fk_name {
            return violation(
                line,
                seq,
                format!("a learn of {name} in a trace whose key generation names it {fk_name}"),
            );
        }
        let index = o.u64("index")?;
        let value = self.scalar(o, o.get("value")?, "value")?;
        let target = match name {
            "theta" => {
                if !o.get("target")?.is_null() {
                    return violation(line, seq, "a learn of θ has target null".into());
                }
                None
            }
            _ => Some(o.member("target", n)?),
        };
        let (var, _truth) = match (name, target) {
            ("theta", _) => {
                if view != LearnView::Outsider {
                    return violation(
                        line,
                        seq,
                        format!("{} holds θ: only the outsider learns θ", view.describe()),
                    );
                }
                (Var::Theta(index), None::<Scalar>)
            }
            (_, Some(t)) => {
                let var = match name {
                    "alpha" => Var::Alpha(t, index),
                    "v" => Var::V(t),
                    _ => Var::Fk(t, index),
                };
                if name == "v" && index != 1 {
                    return violation(line, seq, format!("a learn of v[{t}] has index 1, not {index}"));
                }
                let own_recovered = matches!(view, LearnView::Replacement(m, _) if m == t);
                if view.includes(t) && !own_recovered {
                    return violation(
                        line,
                        seq,
                        format!(
                            "{} owns {name}[{t},{index}]: a learn names a secret of another party",
                            view.describe()
                        ),
                    );
                }
                (var, None)
            }
            _ => unreachable!("a non-θ learn has a target"),
        };
        let hi = if matches!(var, Var::Fk(..)) { self.h.epochs } else { self.max_epoch() };
        if !(1..=hi).contains(&index) {
            return violation(line, seq, format!("a learn of {name} at index {index}, outside 1..={hi}"));
        }
        // Checked at the footer: the outsider may derive θ or a pad before
        // any member records it.
        self.learn_values.push((line, seq, name, var, value));
        if !self.claimed.insert((view.clone(), var)) {
            return violation(line, seq, format!("{} learns {name}[{index}] a second time", view.describe()));
        }
        let decidable =
            self.h.full && self.recovery_from.is_none() && !matches!(view, LearnView::Replacement(..));
        if decidable {
            let label = match target {
                Some(t) => format!("{name}[{t},{index}]"),
                None => format!("θ_{index}"),
            };
            self.claims.push(Claim { line, seq, after: p.after, view, target: var, label });
        } else {
            self.not_redecided += 1;
        }
        Ok(())
    }

    /// Process 800 and 900 commitments, once every value is recorded.
    fn check_commits(&mut self) -> Res<()> {
        let g = self.g();
        let n = self.h.n;
        let el = |s: &Scalar| g.element_hex(&g.pow_g(s));
        let commits = std::mem::take(&mut self.commits);
        for (line, seq, from, value) in commits {
            let ok = if from == 0 {
                let theta = self.sum_all("v", 1);
                let alphas = value["alphas"].as_array();
                match (theta, alphas) {
                    (Some(theta), Some(a)) if a.len() == n as usize => {
                        value["theta"].as_str() == Some(el(&theta).as_str())
                            && (1..=n).all(|i| {
                                self.secret("v", i, 1).is_some_and(|v| {
                                    a[i as usize - 1].as_str() == Some(el(&g.sub(&theta, v)).as_str())
                                })
                            })
                    }
                    _ => false,
                }
            } else {
                let v = self.original("v", from, 1).map(|r| el(&r.value));
                let d = self.original("delta", from, 1).map(|r| el(&r.value));
                let gamma = if from == 1 {
                    self.original("gamma", 1, 1).map(|r| Value::String(el(&r.value)))
                } else {
                    Some(Value::Null)
                };
                v.is_some_and(|v| value["v"].as_str() == Some(v.as_str()))
                    && d.is_some_and(|d| value["delta"].as_str() == Some(d.as_str()))
                    && gamma.is_some_and(|gm| value["gamma"] == gm)
            };
            if !ok {
                return violation(
                    line,
                    seq,
                    format!("the commitment sent by party {from} is not g^ of the values it commits to"),
                );
            }
            self.checked.other_messages += 1;
        }
        Ok(())
    }

    /// At the footer.
    fn finish(&mut self, line: usize) -> Res<()> {
        let seq = self.last_seq;
        self.check_commits()?;
        let n = self.h.n;
        let g = self.g();
        // I1 at every epoch whose pads are all recorded.
        let epochs: Vec<u64> = self.thetas.keys().copied().collect();
        for e in epochs {
            let theta = self.thetas.get(&e).and_then(|r| r.values().next()).map(|r| r.value.clone());
            if let (Some(alphas), Some(theta)) = (self.sum_all("alpha", e), theta) {
                if alphas != g.mul_i64(&theta, i64::from(n) - 1) {
                    let last = (1..=n)
                        .filter_map(|m| self.secrets.get(&("alpha", m, e)).and_then(|v| v.last()))
                        .max_by_key(|r| r.line)
                        .cloned();
                    let (l, s) = last.map_or((line, seq), |r| (r.line, r.seq));
                    return violation(l, s, format!("I1 fails at epoch {e}: Σ_i α_{{i,{e}}} ≠ (n−1)·θ_{e}"));
                }
                self.checked.i1_epochs += 1;
            }
        }
        // Every member holds θ and SK of every epoch any holds (a member
        // that crashed is excused: it may have stopped for good).
        for (epoch, row) in &self.thetas {
            for m in (1..=n).filter(|m| !self.crashes.contains_key(m)) {
                let has_key = self.keys.get(epoch).is_some_and(|k| k.contains_key(&m));
                if !row.contains_key(&m) || !has_key {
                    return violation(
                        line,
                        seq,
                        format!("member {m} never holds θ_{epoch} and SK_{epoch}, which other members hold"),
                    );
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
        // The header against the body.
        let ring = self.h.init != InitKind::Sm;
        if ring && self.original("delta", n, 1).is_none() && self.thetas.contains_key(&1) {
            return violation(
                line,
                seq,
                "the header says a ring initialisation, and no δ_n was ever recorded".into(),
            );
        }
        if self.h.init == InitKind::RingHardened
            && self.original("share", 1, 2).is_none()
            && self.thetas.contains_key(&1)
        {
            return violation(
                line,
                seq,
                "the header says init ring-hardened, and no shares were recorded".into(),
            );
        }
        let held = self.thetas.keys().next_back().copied().unwrap_or(0);
        if held < self.max_epoch() && self.crashes.is_empty() && self.detects == 0 {
            return violation(
                line,
                seq,
                format!(
                    "the run ends holding epoch {held}, short of the header's epochs + 1 = {}, with no crash or failure detection to stop it",
                    self.max_epoch()
                ),
            );
        }
        if self.h.full && self.sends == 0 && self.thetas.contains_key(&1) {
            return violation(
                line,
                seq,
                "the header says trace full, and the trace has no send events".into(),
            );
        }
        self.checked.without_messages = self.sends == 0;
        // Every learn states the ground truth.
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
        // Learn re-decision.
        if !self.claims.is_empty() {
            let layout = learn::layout_for(n, self.h.epochs, self.h.init, self.h.elgamal);
            match layout {
                Some(layout) => {
                    learn::redecide(g, &layout, &self.holdings, &self.claims)
                        .or_else(|(l, s, m)| violation(l, s, m))?;
                    self.checked.learns_redecided = self.claims.len() as u64;
                }
                None => self.not_redecided += self.claims.len() as u64,
            }
        }
        self.checked.learns_not_redecided = self.not_redecided;
        Ok(())
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

fn parse_header(line: usize, text: &str) -> Res<Header> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| VerifyError::Malformed { line, message: e.to_string() })?;
    let m = v
        .as_object()
        .ok_or_else(|| VerifyError::Malformed { line, message: "the header is not an object".into() })?;
    let o = Obj { m, line, seq: None };
    o.keys(
        &[
            "type",
            "format",
            "scenario",
            "scenario_sha256",
            "seed",
            "params",
            "members",
            "fraclab",
            "init",
            "keygen",
            "epochs",
            "channel",
            "trace",
        ],
        &[],
    )?;
    if o.str("type")? != "header" || o.str("format")? != super::trace::TRACE_FORMAT {
        return Err(o.err("not a fraclab-trace/1 header".into()));
    }
    o.str("scenario")?;
    o.str("fraclab")?;
    let sha = o.str("scenario_sha256")?;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(o.err("`scenario_sha256` is not 64 hex digits".into()));
    }
    o.u64("seed")?;
    let params = o.str("params")?;
    let group = by_name(params).ok_or_else(|| o.err(format!("unknown params \"{params}\"")))?;
    let members = o.u64("members")?;
    let n = u32::try_from(members)
        .ok()
        .filter(|m| (2..=4096).contains(m))
        .ok_or_else(|| o.err("members out of range 2..=4096".into()))?;
    let init = match o.one_of("init", &["sm", "ring", "ring-hardened"])? {
        "sm" => InitKind::Sm,
        "ring" => InitKind::Ring,
        _ => InitKind::RingHardened,
    };
    let elgamal = o.one_of("keygen", &["additive", "elgamal"])? == "elgamal";
    let epochs = o.u64("epochs")?;
    if !(1..=1_000_000_000).contains(&epochs) {
        return Err(o.err("epochs out of range 1..=10^9".into()));
    }
    let channel = o.one_of("channel", &["ideal", "plain", "sealed"])?;
    let full = o.one_of("trace", &["full", "protocol"])? == "full";
    Ok(Header { group, n, init, elgamal, epochs, channel, full })
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
    let h = parse_header(ln, &read(ln, first)?)?;
    let n = h.n;
    let mut v = Verifier {
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
        holdings: Holdings {
            members: vec![Vec::new(); n as usize],
            outsider: Vec::new(),
            outsider_exact: true,
        },
        claims: Vec::new(),
        claimed: BTreeSet::new(),
        not_redecided: 0,
        learn_values: Vec::new(),
        last_nonlearn: 1,
        last_line: 1,
        last_seq: 0,
        checked: Checked::default(),
    };
    v.holdings.outsider_exact = v.h.channel != "plain";
    let (mut last_seq, mut last_t) = (None::<u64>, 0u64);
    let mut step: Vec<Pending> = Vec::new();
    while let Some((ln, l)) = lines.next() {
        v.last_line = ln;
        let text = read(ln, l)?;
        let ev: Value = serde_json::from_str(&text)
            .map_err(|e| VerifyError::Malformed { line: ln, message: e.to_string() })?;
        let Value::Object(ev) = ev else {
            return Err(VerifyError::Malformed { line: ln, message: "not a JSON object".into() });
        };
        let o = Obj { m: &ev, line: ln, seq: None };
        let ty = o.str("type")?;
        if ty == "footer" {
            o.keys(&["type", "events"], &[])?;
            let declared = o.u64("events")?;
            if declared != v.checked.events {
                let message = format!("footer says {declared} events, the trace has {}", v.checked.events);
                return Err(VerifyError::Malformed { line: ln, message });
            }
            if let Some((extra, _)) = lines.next() {
                return Err(VerifyError::Malformed {
                    line: extra,
                    message: "content after the footer".into(),
                });
            }
            v.step(std::mem::take(&mut step))?;
            v.finish(ln)?;
            return Ok(v.checked);
        }
        let seq = o.u64("seq")?;
        let o = Obj { m: &ev, line: ln, seq: Some(seq) };
        let t = o.u64("t_us")?;
        let Some(ty) = TYPES.iter().find(|x| **x == ty).copied() else {
            return Err(o.err(format!("unknown event type \"{ty}\"")));
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
        if ty != "learn" {
            v.last_nonlearn = ln;
        }
        step.push(Pending { line: ln, seq, t, ty, ev, after });
    }
    Err(VerifyError::Malformed { line: v.last_line + 1, message: "no footer: the trace is truncated".into() })
}

/// Member ids in 1..=n, strictly increasing; `None` for anything else.
fn sorted_ids(ids: &[Value], n: u32) -> Option<Vec<u32>> {
    let mut out: Vec<u32> = Vec::with_capacity(ids.len());
    for id in ids {
        let m = id.as_u64().and_then(|x| u32::try_from(x).ok()).filter(|m| (1..=n).contains(m))?;
        if out.last().is_some_and(|l| *l >= m) {
            return None;
        }
        out.push(m);
    }
    Some(out)
}
