//! `fraclab verify-trace`: re-checks a trace from its own lines, sharing
//! nothing with the run that wrote it but the group arithmetic and the KDF.
//!
//! From `secret`, `send`, `theta` and `key` events it recomputes:
//! - HFK_{i,j} = α_{i,j} + FK_{i,j} for every `hfk` message sent, and the
//!   value of every `pad`, `delta`, `theta`, `share` and `confirm` message
//!   from the secrets it carries;
//! - the δ chain of the ring: δ_i = δ_{i−1} + contribution_i (δ_0 = γ);
//! - θ_{j+1} = Σ_i FK_{i,j} (θ_1 = Σ_i v_i) at every `theta` event;
//! - the pad rule α_{i,e} = θ_e − FK_{i,e−1} (α_{i,1} = θ_1 − v_i), blaming
//!   the α event when it fails;
//! - all members hold the same θ_e and the same SK_e, and every member holds
//!   every epoch that any member holds;
//! - I1: Σ_i α_{i,e} = (n−1)·θ_e once every pad of epoch e is recorded;
//! - SK_e = KDF(θ_e) for every `key` event;
//! - `seq` strictly increasing, `t_us` non-decreasing, the footer's count,
//!   and nothing after the footer.
//!
//! and stops at the first violation, naming its `seq`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::BufRead;

use serde_json::Value;

use crate::group::{GroupParams, Scalar, SharedKey, by_name, confirm_tag, derive_sk};

/// What a successful verification covered.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Checked {
    pub events: u64,
    pub hfk_messages: u64,
    /// pad, delta, theta, share and confirm messages checked against the
    /// secrets they carry.
    pub other_messages: u64,
    /// δ_i = δ_(i−1) + contribution_i on the ring.
    pub delta_links: u64,
    /// α_(i,e) = θ_e − v_i or θ_e − FK_(i,e−1).
    pub pad_rules: u64,
    pub theta_sums: u64,
    pub i1_epochs: u64,
    pub keys: u64,
    /// `learn` events whose value is the ground truth.
    pub learns: u64,
    /// The trace has no `send` events (level `protocol`), so HFK = α + FK
    /// could not be checked.
    pub without_messages: bool,
}

/// A secret's name as the checks key it: under ElGamal the private
/// exponent x plays FK's part everywhere.
fn as_fk(name: &str) -> String {
    if name == "x" { "fk".to_string() } else { name.to_string() }
}

impl fmt::Display for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "trace OK: {} events", self.events)?;
        writeln!(f, "  I1 (Σα = (n−1)θ):     {} epochs", self.i1_epochs)?;
        writeln!(f, "  θ = Σ FK (or Σ v):    {} theta events", self.theta_sums)?;
        writeln!(f, "  α = θ − FK (or − v):  {} pads", self.pad_rules)?;
        writeln!(f, "  δ chain:              {} links", self.delta_links)?;
        writeln!(f, "  learn = ground truth: {} derived values", self.learns)?;
        writeln!(f, "  SK = KDF(θ), agreed:  {} key events, every member every epoch", self.keys)?;
        if self.without_messages {
            write!(f, "  HFK = α + FK:         not checked (no send events at this trace level)")
        } else {
            writeln!(f, "  HFK = α + FK:         {} messages", self.hfk_messages)?;
            write!(
                f,
                "  other payloads:       {} messages (pad, delta, theta, share, confirm)",
                self.other_messages
            )
        }
    }
}

/// Why a trace was rejected.
#[derive(Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// The trace cannot be read as a fraclab trace at all.
    Malformed { line: usize, message: String },
    /// An invariant failed at the event numbered `seq`.
    Violation { seq: u64, message: String },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Malformed { line, message } => write!(f, "line {line}: malformed trace: {message}"),
            VerifyError::Violation { seq, message } => write!(f, "violation at seq {seq}: {message}"),
        }
    }
}

impl std::error::Error for VerifyError {}

struct Verifier {
    group: &'static GroupParams,
    members: u32,
    /// "sm", "ring" or "ring-hardened", from the header.
    init: String,
    /// (name, owner, index) → (value, seq) for every `secret` event.
    secrets: BTreeMap<(String, u64, u64), (Scalar, u64)>,
    thetas: BTreeMap<u64, BTreeMap<u64, Scalar>>,
    keys: BTreeMap<u64, BTreeMap<u64, String>>,
    i1_done: BTreeMap<u64, bool>,
    /// Members with a `crash` event.
    crashed: std::collections::BTreeSet<u64>,
    /// `learn` events (seq, name, target, index, value), checked at the end
    /// against the ground truth (an outsider may derive θ before members do).
    learns: Vec<(u64, String, Option<u64>, u64, Scalar)>,
    last_seq: u64,
    checked: Checked,
}

type Step = Result<(), VerifyError>;

fn field<'a>(v: &'a Value, key: &str, line: usize) -> Result<&'a Value, VerifyError> {
    v.get(key).ok_or_else(|| VerifyError::Malformed { line, message: format!("missing field `{key}`") })
}

fn uint(v: &Value, key: &str, line: usize) -> Result<u64, VerifyError> {
    field(v, key, line)?
        .as_u64()
        .ok_or_else(|| VerifyError::Malformed { line, message: format!("`{key}` is not a whole number") })
}

fn text<'a>(v: &'a Value, key: &str, line: usize) -> Result<&'a str, VerifyError> {
    field(v, key, line)?
        .as_str()
        .ok_or_else(|| VerifyError::Malformed { line, message: format!("`{key}` is not a string") })
}

fn violation(seq: u64, message: String) -> Step {
    Err(VerifyError::Violation { seq, message })
}

impl Verifier {
    fn scalar_at(&self, v: &Value, line: usize, what: &str) -> Result<Scalar, VerifyError> {
        let s = v
            .as_str()
            .ok_or_else(|| VerifyError::Malformed { line, message: format!("`{what}` is not a string") })?;
        self.group
            .scalar_from_hex(s)
            .map_err(|e| VerifyError::Malformed { line, message: format!("`{what}`: {e}") })
    }

    fn scalar(&self, v: &Value, key: &str, line: usize) -> Result<Scalar, VerifyError> {
        self.scalar_at(field(v, key, line)?, line, key)
    }

    fn secret(&self, name: &str, owner: u64, index: u64) -> Option<&Scalar> {
        self.secrets.get(&(name.to_string(), owner, index)).map(|(v, _)| v)
    }

    /// Σ over all members of secret `name` at `index`, if every one is recorded.
    fn sum_all(&self, name: &str, index: u64) -> Option<Scalar> {
        let parts: Option<Vec<&Scalar>> =
            (1..=u64::from(self.members)).map(|m| self.secret(name, m, index)).collect();
        parts.map(|p| self.group.sum(p))
    }

    /// What member i adds on the ring: v_i, or on the hardened ring the sum
    /// of the shares addressed to it (its kept share included).
    fn contribution(&self, i: u64) -> Option<Scalar> {
        if self.init == "ring-hardened" {
            let parts: Option<Vec<&Scalar>> =
                (1..=u64::from(self.members)).map(|k| self.secret("share", k, i)).collect();
            parts.map(|p| self.group.sum(p))
        } else {
            self.secret("v", i, 1).cloned()
        }
    }

    fn event(&mut self, ev: &Value, seq: u64, line: usize) -> Step {
        match text(ev, "type", line)? {
            "secret" => self.on_secret(ev, seq, line),
            "send" => self.on_send(ev, seq, line),
            "theta" => self.on_theta(ev, seq, line),
            "key" => self.on_key(ev, seq, line),
            "crash" => {
                self.crashed.insert(uint(ev, "member", line)?);
                Ok(())
            }
            "learn" => {
                let name = as_fk(text(ev, "name", line)?);
                let target = field(ev, "target", line)?.as_u64();
                let index = uint(ev, "index", line)?;
                let value = self.scalar(ev, "value", line)?;
                self.learns.push((seq, name, target, index, value));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn on_secret(&mut self, ev: &Value, seq: u64, line: usize) -> Step {
        let (member, index) = (uint(ev, "member", line)?, uint(ev, "index", line)?);
        let name = as_fk(text(ev, "name", line)?);
        let value = self.scalar(ev, "value", line)?;
        if name == "delta" && self.init != "sm" {
            // Process 400: δ_1 = γ + contribution_1, δ_i = δ_(i−1) + contribution_i.
            let base =
                if member == 1 { self.secret("gamma", 1, 1) } else { self.secret("delta", member - 1, 1) };
            let (Some(base), Some(c)) = (base.cloned(), self.contribution(member)) else {
                return violation(seq, format!("δ_{member} recorded before the values it is made of"));
            };
            if self.group.add(&base, &c) != value {
                return violation(
                    seq,
                    format!("δ_{member} ≠ δ_{} + member {member}'s contribution", member - 1),
                );
            }
            self.checked.delta_links += 1;
        }
        self.secrets.insert((name, member, index), (value, seq));
        Ok(())
    }

    fn on_send(&mut self, ev: &Value, seq: u64, line: usize) -> Step {
        let (from, to, iter) = (uint(ev, "from", line)?, uint(ev, "to", line)?, uint(ev, "iter", line)?);
        let g = self.group;
        let value = field(ev, "value", line)?;
        let kind = text(ev, "kind", line)?;
        let expected = match kind {
            "hfk" => {
                let (Some(alpha), Some(fk)) =
                    (self.secret("alpha", from, iter), self.secret("fk", from, iter))
                else {
                    return violation(
                        seq,
                        format!(
                            "HFK_{{{from},{iter}}} sent before α_{{{from},{iter}}} and FK_{{{from},{iter}}} were recorded"
                        ),
                    );
                };
                if g.add(alpha, fk) != self.scalar_at(value, line, "value")? {
                    return violation(
                        seq,
                        format!(
                            "HFK_{{{from},{iter}}} sent by member {from} ≠ α_{{{from},{iter}}} + FK_{{{from},{iter}}}"
                        ),
                    );
                }
                self.checked.hfk_messages += 1;
                return Ok(());
            }
            "pad" => {
                let theta = self.sum_all("v", 1);
                let (Some(theta), Some(v)) = (theta, self.secret("v", to, 1)) else {
                    return violation(
                        seq,
                        format!("the SM's pad for member {to} sent before its draws were recorded"),
                    );
                };
                let alpha = g.sub(&theta, v);
                if self.scalar(value, "theta", line)? != theta || self.scalar(value, "alpha", line)? != alpha
                {
                    return violation(
                        seq,
                        format!("the SM's pad for member {to} is not (θ_1 − v_{to}, θ_1 = Σ v)"),
                    );
                }
                self.checked.other_messages += 1;
                return Ok(());
            }
            "delta" if text(ev, "mode", line)? == "I" => {
                self.secret("delta", from, 1).cloned().map(|d| (d, format!("δ_{from}")))
            }
            // The recovery ring's δ' (mode R) is checked through ξ and ĤFK.
            "delta" => return Ok(()),
            "hfk_relay" => {
                let owner = uint(value, "owner", line)?;
                let relayed = self.scalar(value, "hfk", line)?;
                match (self.secret("alpha", owner, iter), self.secret("fk", owner, iter)) {
                    (Some(a), Some(f)) if g.add(a, f) == relayed => {
                        self.checked.other_messages += 1;
                        return Ok(());
                    }
                    _ => return violation(seq, format!("the relayed HFK_{{{owner},{iter}}} ≠ α + FK")),
                }
            }
            "xi" => self
                .secret("xi", from, iter)
                .cloned()
                .map(|x| (x, format!("ξ of the recovery at r = {iter}"))),
            "hfk_hat" => {
                let own = if iter == 0 { self.secret("v", from, 1) } else { self.secret("fk", from, iter) };
                match (self.secret("beta", from, iter), own) {
                    (Some(b), Some(f)) => {
                        Some((g.add(b, f), format!("ĤFK_{from} = β_{from} + FK_{{{from},{iter}}}")))
                    }
                    _ => None,
                }
            }
            "recover" => {
                let r = iter;
                let theta = self.thetas.get(&(r + 1)).and_then(|t| t.get(&from)).cloned();
                let hfk = match (self.secret("alpha", to, r), self.secret("fk", to, r)) {
                    (Some(a), Some(f)) => Some(g.add(a, f)),
                    _ => None,
                };
                let sk = self.keys.get(&(r + 1)).and_then(|k| k.get(&from)).cloned();
                let (Some(theta), Some(sk)) = (theta, sk) else {
                    return violation(seq, format!("the RI hands over θ_{} before holding it", r + 1));
                };
                let sent_hfk = field(value, "hfk", line)?;
                let hfk_ok = match (r, sent_hfk.is_null(), hfk) {
                    (0, true, _) => true,
                    (_, false, Some(h)) => self.scalar_at(sent_hfk, line, "hfk")? == h,
                    _ => false,
                };
                if !hfk_ok
                    || self.scalar(value, "theta", line)? != theta
                    || value["sk"].as_str() != Some(sk.as_str())
                {
                    return violation(
                        seq,
                        format!(
                            "the RI's handover for member {to} is not (HFK_{{{to},{r}}}, θ_{}, SK_{})",
                            r + 1,
                            r + 1
                        ),
                    );
                }
                self.checked.other_messages += 1;
                return Ok(());
            }
            "share" => {
                self.secret("share", from, to).cloned().map(|s| (s, format!("share s_{{{from},{to}}}")))
            }
            "theta" => {
                let n = u64::from(self.members);
                match (self.secret("delta", n, 1), self.secret("gamma", 1, 1)) {
                    (Some(d), Some(gm)) => Some((g.sub(d, gm), "θ_1 = δ_n − γ".to_string())),
                    _ => None,
                }
            }
            "fk_pub" => {
                let Some(x) = self.secret("fk", from, iter) else {
                    return violation(
                        seq,
                        format!("FK_{{{from},{iter}}} = g^x published before x was recorded"),
                    );
                };
                let published = value.as_str().and_then(|s| g.element_from_hex(s).ok());
                if published.as_ref() != Some(&g.pow_g(x)) {
                    return violation(
                        seq,
                        format!("the public FK_{{{from},{iter}}} sent by member {from} ≠ g^x"),
                    );
                }
                self.checked.other_messages += 1;
                return Ok(());
            }
            "confirm" => {
                let epoch = if text(ev, "mode", line)? == "I" { 1 } else { iter + 1 };
                let Some(sk) = self.keys.get(&epoch).and_then(|k| k.get(&from)) else {
                    return violation(seq, format!("member {from} confirms SK_{epoch} before deriving it"));
                };
                let bytes = hex::decode(sk)
                    .map_err(|_| VerifyError::Malformed { line, message: "`sk` is not hex".into() })?;
                let tag =
                    confirm_tag(&SharedKey(bytes.try_into().map_err(|_| VerifyError::Malformed {
                        line,
                        message: "`sk` is not 32 bytes".into(),
                    })?));
                if value.as_str() != Some(tag.to_hex().as_str()) {
                    return violation(
                        seq,
                        format!("member {from}'s confirmation of SK_{epoch} ≠ H(confirm ‖ SK_{epoch})"),
                    );
                }
                self.checked.other_messages += 1;
                return Ok(());
            }
            _ => return Ok(()),
        };
        let Some((want, what)) = expected else {
            return violation(
                seq,
                format!("a `{kind}` message sent before the values it carries were recorded"),
            );
        };
        if self.scalar_at(value, line, "value")? != want {
            return violation(seq, format!("the `{kind}` message from {from} to {to} does not carry {what}"));
        }
        self.checked.other_messages += 1;
        Ok(())
    }

    fn on_theta(&mut self, ev: &Value, seq: u64, line: usize) -> Step {
        let (member, epoch) = (uint(ev, "member", line)?, uint(ev, "epoch", line)?);
        let theta = self.scalar(ev, "value", line)?;
        let g = self.group;
        // θ_e = Σ_i FK_(i,e−1), or θ_1 = Σ_i v_i.
        let (sum, what) = if epoch == 1 {
            (self.sum_all("v", 1), "θ_1 ≠ Σ_i v_i".to_string())
        } else {
            (
                self.sum_all("fk", epoch - 1),
                format!("θ_{epoch} held by member {member} ≠ Σ_i FK_{{i,{}}}", epoch - 1),
            )
        };
        let Some(sum) = sum else {
            return violation(seq, format!("θ_{epoch} derived before every draw it sums was recorded"));
        };
        if sum != theta {
            return violation(seq, what);
        }
        self.checked.theta_sums += 1;
        if let Some((other, _)) =
            self.thetas.get(&epoch).and_then(|r| r.iter().next()).filter(|(_, t)| **t != theta)
        {
            return violation(
                seq,
                format!("member {member} holds θ_{epoch} different from member {other}'s"),
            );
        }
        // The pad rule: α_(m,e) = θ_e − v_m (e = 1) or θ_e − FK_(m,e−1).
        let prev =
            if epoch == 1 { self.secret("v", member, 1) } else { self.secret("fk", member, epoch - 1) };
        let Some((alpha, alpha_seq)) = self.secrets.get(&("alpha".to_string(), member, epoch)).cloned()
        else {
            return violation(
                seq,
                format!("member {member} holds θ_{epoch} but no α_{{{member},{epoch}}} was recorded"),
            );
        };
        match prev {
            Some(p) if g.sub(&theta, p) == alpha => self.checked.pad_rules += 1,
            _ => {
                let rule = if epoch == 1 {
                    format!("θ_1 − v_{member}")
                } else {
                    format!("θ_{epoch} − FK_{{{member},{}}}", epoch - 1)
                };
                return violation(alpha_seq, format!("α_{{{member},{epoch}}} ≠ {rule}"));
            }
        }
        self.thetas.entry(epoch).or_default().insert(member, theta);
        self.check_i1(epoch, seq)
    }

    fn on_key(&mut self, ev: &Value, seq: u64, line: usize) -> Step {
        let (member, epoch) = (uint(ev, "member", line)?, uint(ev, "epoch", line)?);
        let sk = text(ev, "sk", line)?.to_string();
        let Some(theta) = self.thetas.get(&epoch).and_then(|r| r.get(&member)) else {
            return violation(seq, format!("SK_{epoch} of member {member} recorded before its θ_{epoch}"));
        };
        if derive_sk(self.group, self.members, epoch, theta).to_hex() != sk {
            return violation(seq, format!("SK_{epoch} of member {member} ≠ KDF(θ_{epoch})"));
        }
        let first = self.keys.get(&epoch).and_then(|r| r.iter().next());
        if let Some((other, _)) = first.filter(|(_, k)| **k != sk) {
            return violation(seq, format!("member {member}'s SK_{epoch} differs from member {other}'s"));
        }
        self.keys.entry(epoch).or_default().insert(member, sk);
        self.checked.keys += 1;
        Ok(())
    }

    /// I1 for `epoch`, once all n pads and some θ_epoch are known.
    fn check_i1(&mut self, epoch: u64, seq: u64) -> Step {
        let n = u64::from(self.members);
        if self.i1_done.get(&epoch).copied().unwrap_or(false) {
            return Ok(());
        }
        let (Some(alphas), Some(theta)) =
            (self.sum_all("alpha", epoch), self.thetas.get(&epoch).and_then(|r| r.values().next()))
        else {
            return Ok(());
        };
        let g = self.group;
        if alphas != g.mul_i64(theta, n as i64 - 1) {
            return violation(
                seq,
                format!("I1 fails at epoch {epoch}: Σ_i α_{{i,{epoch}}} ≠ (n−1)·θ_{epoch}"),
            );
        }
        self.i1_done.insert(epoch, true);
        self.checked.i1_epochs += 1;
        Ok(())
    }

    /// Every derived value a `learn` event states is the ground truth.
    fn check_learns(&mut self) -> Step {
        for (seq, name, target, index, value) in &self.learns {
            let truth = match (name.as_str(), target) {
                ("theta", _) => self.thetas.get(index).and_then(|r| r.values().next()),
                (n, Some(owner)) => self.secret(n, *owner, *index),
                _ => None,
            };
            match truth {
                Some(t) if t == value => self.checked.learns += 1,
                Some(_) => {
                    return violation(*seq, format!("the derived {name}[{index}] is not the ground truth"));
                }
                None => {
                    return violation(
                        *seq,
                        format!("a derived {name}[{index}] with no ground truth in the trace"),
                    );
                }
            }
        }
        Ok(())
    }

    /// At the footer: every member holds θ and SK of every epoch any holds
    /// (a member that crashed is excused: it may have stopped for good).
    fn check_complete(&self) -> Step {
        for (epoch, row) in &self.thetas {
            for m in (1..=u64::from(self.members)).filter(|m| !self.crashed.contains(m)) {
                let has_key = self.keys.get(epoch).is_some_and(|k| k.contains_key(&m));
                if !row.contains_key(&m) || !has_key {
                    return violation(
                        self.last_seq,
                        format!("member {m} never holds θ_{epoch} and SK_{epoch}, which other members hold"),
                    );
                }
            }
        }
        Ok(())
    }
}

/// Verifies a whole trace read from `input`.
pub fn verify(input: impl BufRead) -> Result<Checked, VerifyError> {
    let mut lines = input.lines().enumerate().map(|(i, l)| (i + 1, l));
    let parse = |line: usize, l: std::io::Result<String>| -> Result<Value, VerifyError> {
        let l = l.map_err(|e| VerifyError::Malformed { line, message: e.to_string() })?;
        serde_json::from_str(&l).map_err(|e| VerifyError::Malformed { line, message: e.to_string() })
    };
    let Some((ln, first)) = lines.next() else {
        return Err(VerifyError::Malformed { line: 1, message: "empty file".into() });
    };
    let header = parse(ln, first)?;
    if text(&header, "type", ln)? != "header" || text(&header, "format", ln)? != super::trace::TRACE_FORMAT {
        return Err(VerifyError::Malformed { line: ln, message: "not a fraclab-trace/1 header".into() });
    }
    let params = text(&header, "params", ln)?;
    let group = by_name(params).ok_or_else(|| VerifyError::Malformed {
        line: ln,
        message: format!("unknown params \"{params}\""),
    })?;
    let members =
        u32::try_from(uint(&header, "members", ln)?).ok().filter(|m| (2..=4096).contains(m)).ok_or_else(
            || VerifyError::Malformed { line: ln, message: "members out of range 2..=4096".into() },
        )?;
    let mut v = Verifier {
        group,
        members,
        init: text(&header, "init", ln).unwrap_or("sm").to_string(),
        secrets: BTreeMap::new(),
        thetas: BTreeMap::new(),
        keys: BTreeMap::new(),
        i1_done: BTreeMap::new(),
        crashed: std::collections::BTreeSet::new(),
        learns: Vec::new(),
        last_seq: 0,
        checked: Checked {
            without_messages: text(&header, "trace", ln).ok() != Some("full"),
            ..Checked::default()
        },
    };
    let (mut last_seq, mut last_t, mut last_line) = (None::<u64>, 0u64, 1usize);
    while let Some((ln, l)) = lines.next() {
        last_line = ln;
        let ev = parse(ln, l)?;
        if text(&ev, "type", ln)? == "footer" {
            let declared = uint(&ev, "events", ln)?;
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
            v.check_complete()?;
            v.check_learns()?;
            return Ok(v.checked);
        }
        let (seq, t) = (uint(&ev, "seq", ln)?, uint(&ev, "t_us", ln)?);
        if last_seq.is_some_and(|s| seq <= s) || t < last_t {
            return Err(VerifyError::Violation {
                seq,
                message: "seq not increasing or time going backwards".into(),
            });
        }
        (last_seq, last_t) = (Some(seq), t);
        v.last_seq = seq;
        v.checked.events += 1;
        v.event(&ev, seq, ln)?;
    }
    Err(VerifyError::Malformed { line: last_line + 1, message: "no footer: the trace is truncated".into() })
}
