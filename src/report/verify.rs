//! `fraclab verify-trace`: re-checks a trace from its own lines, sharing
//! nothing with the run that wrote it but the group arithmetic and the KDF.
//!
//! From `secret`, `send`, `theta` and `key` events it recomputes:
//! - HFK_{i,j} = α_{i,j} + FK_{i,j} for every `hfk` message sent;
//! - θ_{j+1} = Σ_i FK_{i,j} at every `theta` event of epoch j+1;
//! - all members hold the same θ_e and the same SK_e;
//! - I1: Σ_i α_{i,e} = (n−1)·θ_e once every pad of epoch e is recorded;
//! - SK_e = KDF(θ_e) for every `key` event;
//! - `seq` strictly increasing, `t_us` non-decreasing, footer count right.
//!
//! and stops at the first violation, naming its `seq`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::BufRead;

use serde_json::Value;

use crate::group::{GroupParams, Scalar, by_name, derive_sk};

/// What a successful verification covered.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Checked {
    pub events: u64,
    pub hfk_messages: u64,
    pub theta_sums: u64,
    pub i1_epochs: u64,
    pub keys: u64,
    /// The trace has no `send` events (level `protocol`), so HFK = α + FK
    /// could not be checked.
    pub without_messages: bool,
}

impl fmt::Display for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "trace OK: {} events", self.events)?;
        writeln!(f, "  I1 (Σα = (n−1)θ):     {} epochs", self.i1_epochs)?;
        writeln!(f, "  θ_(j+1) = Σ FK:       {} theta events", self.theta_sums)?;
        writeln!(f, "  SK = KDF(θ), agreed:  {} key events", self.keys)?;
        if self.without_messages {
            write!(f, "  HFK = α + FK:         not checked (no send events at this trace level)")
        } else {
            write!(f, "  HFK = α + FK:         {} messages", self.hfk_messages)
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
    alphas: BTreeMap<u64, BTreeMap<u64, Scalar>>,
    fks: BTreeMap<u64, BTreeMap<u64, Scalar>>,
    thetas: BTreeMap<u64, BTreeMap<u64, Scalar>>,
    keys: BTreeMap<u64, BTreeMap<u64, String>>,
    i1_done: BTreeMap<u64, bool>,
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

impl Verifier {
    fn scalar(&self, v: &Value, key: &str, line: usize) -> Result<Scalar, VerifyError> {
        let s = text(v, key, line)?;
        self.group
            .scalar_from_hex(s)
            .map_err(|e| VerifyError::Malformed { line, message: format!("`{key}`: {e}") })
    }

    fn event(&mut self, ev: &Value, seq: u64, line: usize) -> Step {
        let violation = |message: String| Err(VerifyError::Violation { seq, message });
        match text(ev, "type", line)? {
            "secret" => {
                let (member, index) = (uint(ev, "member", line)?, uint(ev, "index", line)?);
                let value = self.scalar(ev, "value", line)?;
                match text(ev, "name", line)? {
                    "alpha" => {
                        self.alphas.entry(index).or_default().insert(member, value);
                        self.check_i1(index, seq)?;
                    }
                    "fk" => {
                        self.fks.entry(index).or_default().insert(member, value);
                    }
                    _ => {}
                }
            }
            "send" if text(ev, "kind", line)? == "hfk" => {
                let (from, j) = (uint(ev, "from", line)?, uint(ev, "iter", line)?);
                let hfk = self.scalar(ev, "value", line)?;
                let alpha = self.alphas.get(&j).and_then(|a| a.get(&from));
                let fk = self.fks.get(&j).and_then(|a| a.get(&from));
                let (Some(alpha), Some(fk)) = (alpha, fk) else {
                    return violation(format!(
                        "HFK_{{{from},{j}}} sent before α_{{{from},{j}}} and FK_{{{from},{j}}} were recorded"
                    ));
                };
                if self.group.add(alpha, fk) != hfk {
                    return violation(format!(
                        "HFK_{{{from},{j}}} sent by member {from} ≠ α_{{{from},{j}}} + FK_{{{from},{j}}}"
                    ));
                }
                self.checked.hfk_messages += 1;
            }
            "send" => {}
            "theta" => {
                let (member, epoch) = (uint(ev, "member", line)?, uint(ev, "epoch", line)?);
                let theta = self.scalar(ev, "value", line)?;
                let first = self.thetas.get(&epoch).and_then(|r| r.iter().next());
                if let Some((other, _)) = first.filter(|(_, t)| **t != theta) {
                    return violation(format!(
                        "member {member} holds θ_{epoch} different from member {other}'s"
                    ));
                }
                if epoch >= 2 {
                    let j = epoch - 1;
                    let fks = self.fks.get(&j).filter(|r| r.len() == self.members as usize);
                    let Some(fks) = fks else {
                        return violation(format!(
                            "θ_{epoch} derived before every FK_{{i,{j}}} was recorded"
                        ));
                    };
                    if self.group.sum(fks.values()) != theta {
                        return violation(format!("θ_{epoch} held by member {member} ≠ Σ_i FK_{{i,{j}}}"));
                    }
                    self.checked.theta_sums += 1;
                }
                self.thetas.entry(epoch).or_default().insert(member, theta);
                self.check_i1(epoch, seq)?;
            }
            "key" => {
                let (member, epoch) = (uint(ev, "member", line)?, uint(ev, "epoch", line)?);
                let sk = text(ev, "sk", line)?.to_string();
                let Some(theta) = self.thetas.get(&epoch).and_then(|r| r.get(&member)) else {
                    return violation(format!("SK_{epoch} of member {member} recorded before its θ_{epoch}"));
                };
                if derive_sk(self.group, self.members, epoch, theta).to_hex() != sk {
                    return violation(format!("SK_{epoch} of member {member} ≠ KDF(θ_{epoch})"));
                }
                let first = self.keys.get(&epoch).and_then(|r| r.iter().next());
                if let Some((other, _)) = first.filter(|(_, k)| **k != sk) {
                    return violation(format!("member {member}'s SK_{epoch} differs from member {other}'s"));
                }
                self.keys.entry(epoch).or_default().insert(member, sk);
                self.checked.keys += 1;
            }
            _ => {}
        }
        Ok(())
    }

    /// I1 for `epoch`, once all n pads and some θ_epoch are known.
    fn check_i1(&mut self, epoch: u64, seq: u64) -> Step {
        let n = self.members as usize;
        if self.i1_done.get(&epoch).copied().unwrap_or(false) {
            return Ok(());
        }
        let (Some(alphas), Some(theta)) =
            (self.alphas.get(&epoch), self.thetas.get(&epoch).and_then(|r| r.values().next()))
        else {
            return Ok(());
        };
        if alphas.len() < n {
            return Ok(());
        }
        let g = self.group;
        if g.sum(alphas.values()) != g.mul_i64(theta, n as i64 - 1) {
            let message = format!("I1 fails at epoch {epoch}: Σ_i α_{{i,{epoch}}} ≠ (n−1)·θ_{epoch}");
            return Err(VerifyError::Violation { seq, message });
        }
        self.i1_done.insert(epoch, true);
        self.checked.i1_epochs += 1;
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
    let members = u32::try_from(uint(&header, "members", ln)?)
        .map_err(|_| VerifyError::Malformed { line: ln, message: "members out of range".into() })?;
    let mut v = Verifier {
        group,
        members,
        alphas: BTreeMap::new(),
        fks: BTreeMap::new(),
        thetas: BTreeMap::new(),
        keys: BTreeMap::new(),
        i1_done: BTreeMap::new(),
        checked: Checked {
            without_messages: text(&header, "trace", ln).ok() != Some("full"),
            ..Checked::default()
        },
    };
    let (mut last_seq, mut last_t) = (None::<u64>, 0u64);
    for (ln, l) in lines {
        let ev = parse(ln, l)?;
        if text(&ev, "type", ln)? == "footer" {
            let declared = uint(&ev, "events", ln)?;
            if declared != v.checked.events {
                let message = format!("footer says {declared} events, the trace has {}", v.checked.events);
                return Err(VerifyError::Malformed { line: ln, message });
            }
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
        v.checked.events += 1;
        v.event(&ev, seq, ln)?;
    }
    Err(VerifyError::Malformed { line: 0, message: "no footer: the trace is truncated".into() })
}
