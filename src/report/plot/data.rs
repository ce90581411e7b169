//! What the plots read: `summary.json` and the events of `trace.jsonl` that
//! a chart draws. Plots never see the live simulator, so `fraclab plot DIR`
//! redraws exactly what `fraclab run` drew.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use super::PlotError;

/// One trace line, with only the fields the plots use.
#[derive(Debug, Deserialize)]
struct Line {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    t_us: u64,
    #[serde(default)]
    seq: u64,
    msg: Option<u64>,
    from: Option<u32>,
    to: Option<serde_json::Value>,
    mode: Option<String>,
    iter: Option<u64>,
    kind: Option<String>,
    #[serde(default)]
    attempt: u32,
    member: Option<u32>,
    culprit: Option<u32>,
    check: Option<String>,
    secret: Option<String>,
    epoch: Option<u64>,
    ok: Option<bool>,
    reason: Option<String>,
    view: Option<serde_json::Value>,
    target: Option<u32>,
    name: Option<String>,
    index: Option<u64>,
    members: Option<u32>,
    init: Option<String>,
    trace: Option<String>,
    #[serde(default)]
    duplicate: bool,
}

/// A message as the sequence chart draws it.
#[derive(Clone, Debug)]
pub struct Message {
    pub seq: u64,
    pub t_send_us: u64,
    /// When it was first delivered; `None` if it never was.
    pub t_deliver_us: Option<u64>,
    /// When and why it was dropped, if it was never delivered.
    pub dropped: Option<(u64, String)>,
    pub from: u32,
    pub to: u32,
    pub mode: String,
    pub iter: u64,
    pub kind: String,
    pub attempt: u32,
}

impl Message {
    /// A resend that died at a crashed member: the link layer keeps trying
    /// until the member is declared failed, and charts leave these out.
    pub fn futile(&self) -> bool {
        self.attempt > 0 && self.dropped.as_ref().is_some_and(|(_, why)| why == "crashed")
    }

    /// The epoch of an initialisation (1) or key-generation message (j + 1
    /// for iteration j). A recovery message's `iter` is not an epoch: place
    /// those by time with [`Trace::epoch_at`].
    pub fn epoch(&self) -> u64 {
        if self.mode == "I" { 1 } else { self.iter + 1 }
    }

    /// The symbol a chart writes on the arrow.
    pub fn symbol(&self) -> &str {
        match self.kind.as_str() {
            "delta" => "δ",
            "theta" => "θ",
            "pad" => "α, θ",
            "hfk" => "HFK",
            "hfk_hat" => "ĤFK",
            "hfk_relay" => "HFK relay",
            "xi" => "ξ",
            "confirm" => "confirm",
            other => other,
        }
    }
}

/// A point event on a lifeline.
#[derive(Clone, Debug)]
pub enum Mark {
    Crash {
        member: u32,
    },
    Replace {
        member: u32,
    },
    Recovered {
        member: u32,
        iter: u64,
        ok: bool,
    },
    Leak {
        member: u32,
        secret: String,
        epoch: u64,
        to: String,
    },
    Learn {
        view: View,
        target: Option<u32>,
        label: String,
    },
    /// A failed check at `member`: "silence" (declares `culprit` failed) or
    /// a verification check, which may name no one.
    Detect {
        member: u32,
        culprit: Option<u32>,
        check: String,
    },
}

/// Who learned: the `view` of a `learn` event.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum View {
    Members(Vec<u32>),
    Outsider,
    /// `replacement:3#1`, shown on member 3's lifeline.
    Replacement(u32, String),
}

impl View {
    pub fn from_json(v: &serde_json::Value) -> View {
        match v {
            serde_json::Value::Number(n) => View::Members(vec![n.as_u64().unwrap_or(0) as u32]),
            serde_json::Value::Array(a) => {
                View::Members(a.iter().filter_map(|x| x.as_u64()).map(|x| x as u32).collect())
            }
            serde_json::Value::String(s) if s == "outsider" => View::Outsider,
            serde_json::Value::String(s) => {
                let member = s
                    .strip_prefix("replacement:")
                    .and_then(|r| r.split('#').next())
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(0);
                View::Replacement(member, s.clone())
            }
            _ => View::Outsider,
        }
    }

    /// Short form for chart labels: `2`, `{1,3}`, `outsider`, `3′`.
    pub fn short(&self) -> String {
        match self {
            View::Members(ms) if ms.len() == 1 => ms[0].to_string(),
            View::Members(ms) => {
                format!("{{{}}}", ms.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(","))
            }
            View::Outsider => "outsider".into(),
            View::Replacement(m, s) => match s.rsplit_once('#') {
                Some((_, "1")) | None => format!("{m}′"),
                Some((_, nth)) => format!("{m}′#{nth}"),
            },
        }
    }
}

/// What a detect mark says: "detects 3 (silence)", "names the SM (pad-sum)",
/// "check theta fails".
pub fn detect_text(culprit: Option<u32>, check: &str) -> String {
    match (culprit, check) {
        (Some(c), "silence") => format!("detects {c} (silence)"),
        (Some(0), _) => format!("names the SM ({check})"),
        (Some(c), _) => format!("names {c} ({check})"),
        (None, _) => format!("check {check} fails"),
    }
}

/// A secret's label from a trace event's (name, owner, index), as the
/// knowledge engine writes them: FK[3,1], α[1,2], θ_2, v[1].
pub fn secret_label(name: &str, owner: Option<u32>, index: u64) -> String {
    let o = owner.map_or(String::new(), |o| o.to_string());
    match name {
        "fk" => format!("FK[{o},{index}]"),
        "alpha" => format!("α[{o},{index}]"),
        "theta" => format!("θ_{index}"),
        "sk" => format!("SK_{index}"),
        "v" => format!("v[{o}]"),
        "gamma" => "γ".into(),
        "delta" => format!("δ[{o}]"),
        "x" => format!("x[{o},{index}]"),
        other => format!("{other}[{o},{index}]"),
    }
}

/// How much a derived secret exposes, worst first: FK (x under ElGamal), α,
/// θ or SK, the rest.
pub fn severity_rank(label: &str) -> u8 {
    if label.starts_with("FK") || label.starts_with("x[") {
        0
    } else if label.starts_with('α') {
        1
    } else if label.starts_with('θ') || label.starts_with("SK") {
        2
    } else {
        3
    }
}

/// The parts of a trace the sequence chart and Mermaid export draw.
#[derive(Debug, Default)]
pub struct Trace {
    pub members: u32,
    pub init: String,
    /// The trace level the run wrote (`full` has messages).
    pub level: String,
    /// Every message but link-layer acks, in send order.
    pub messages: Vec<Message>,
    /// Acks, counted but not drawn.
    pub acks: u64,
    /// Point events in trace order: (time, seq, mark).
    pub marks: Vec<(u64, u64, Mark)>,
    /// When each epoch's first message (init or key generation) was sent.
    pub epoch_starts: BTreeMap<u64, u64>,
}

impl Trace {
    pub fn read(path: &Path) -> Result<Trace, PlotError> {
        let file = std::fs::File::open(path).map_err(PlotError::io(path))?;
        let bad = |line: usize, m: String| PlotError::Data {
            path: path.to_path_buf(),
            message: format!("line {line}: {m}"),
        };
        let mut t = Trace::default();
        let mut by_msg: BTreeMap<u64, usize> = BTreeMap::new();
        for (k, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(PlotError::io(path))?;
            let l: Line = serde_json::from_str(&line).map_err(|e| bad(k + 1, e.to_string()))?;
            let need =
                |v: Option<u32>, f: &str| v.ok_or_else(|| bad(k + 1, format!("{} event without {f}", l.ty)));
            match l.ty.as_str() {
                "header" => {
                    t.members = l.members.ok_or_else(|| bad(k + 1, "header without members".into()))?;
                    t.init = l.init.clone().unwrap_or_default();
                    t.level = l.trace.clone().unwrap_or_else(|| "full".into());
                }
                "send" => {
                    let kind = l.kind.clone().unwrap_or_default();
                    if kind == "ack" {
                        t.acks += 1;
                        continue;
                    }
                    let to = l.to.as_ref().and_then(|v| v.as_u64()).map(|v| v as u32);
                    let m = Message {
                        seq: l.seq,
                        t_send_us: l.t_us,
                        t_deliver_us: None,
                        dropped: None,
                        from: need(l.from, "from")?,
                        to: need(to, "to")?,
                        mode: l.mode.clone().unwrap_or_default(),
                        iter: l.iter.unwrap_or(0),
                        kind,
                        attempt: l.attempt,
                    };
                    if m.mode != "R" {
                        t.epoch_starts.entry(m.epoch()).or_insert(m.t_send_us);
                    }
                    by_msg.insert(l.msg.unwrap_or(u64::MAX), t.messages.len());
                    t.messages.push(m);
                }
                "deliver" => {
                    if let Some(&i) = l.msg.as_ref().and_then(|m| by_msg.get(m)) {
                        let m = &mut t.messages[i];
                        if m.t_deliver_us.is_none() && !l.duplicate {
                            m.t_deliver_us = Some(l.t_us);
                        }
                    }
                }
                "drop" => {
                    if let Some(&i) = l.msg.as_ref().and_then(|m| by_msg.get(m)) {
                        let m = &mut t.messages[i];
                        if m.t_deliver_us.is_none() && m.dropped.is_none() {
                            m.dropped = Some((l.t_us, l.reason.clone().unwrap_or_default()));
                        }
                    }
                }
                "crash" => t.marks.push((l.t_us, l.seq, Mark::Crash { member: need(l.member, "member")? })),
                "replace" => {
                    t.marks.push((l.t_us, l.seq, Mark::Replace { member: need(l.member, "member")? }))
                }
                "recovered" => t.marks.push((
                    l.t_us,
                    l.seq,
                    Mark::Recovered {
                        member: need(l.member, "member")?,
                        iter: l.iter.unwrap_or(0),
                        ok: l.ok.unwrap_or(false),
                    },
                )),
                "leak" => {
                    let member = need(l.member, "member")?;
                    let epoch = l.epoch.unwrap_or(0);
                    let secret = l.secret.clone().unwrap_or_default();
                    let to = match &l.to {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                        None => String::new(),
                    };
                    t.marks.push((l.t_us, l.seq, Mark::Leak { member, secret, epoch, to }));
                }
                "learn" => {
                    let view = View::from_json(l.view.as_ref().unwrap_or(&serde_json::Value::Null));
                    let name = l.name.clone().unwrap_or_default();
                    let label = secret_label(&name, l.target, l.index.unwrap_or(0));
                    t.marks.push((l.t_us, l.seq, Mark::Learn { view, target: l.target, label }));
                }
                "detect" => t.marks.push((
                    l.t_us,
                    l.seq,
                    Mark::Detect {
                        member: need(l.member, "member")?,
                        culprit: l.culprit,
                        check: l.check.clone().unwrap_or_default(),
                    },
                )),
                _ => {}
            }
        }
        if t.members == 0 {
            return Err(bad(1, "no header line".into()));
        }
        Ok(t)
    }

    /// The epoch under way at time `t`: the last one whose first message
    /// was sent by then.
    pub fn epoch_at(&self, t: u64) -> u64 {
        self.epoch_starts.iter().rev().find(|(_, start)| **start <= t).map_or(1, |(e, _)| *e)
    }

    /// Whether the SM sends (SM initialisation).
    pub fn has_sm(&self) -> bool {
        self.messages.iter().any(|m| m.from == 0 || m.to == 0)
    }
}

/// The summary fields the plots use.
#[derive(Debug, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub members: u32,
    pub epochs: u64,
    pub init: String,
    pub compromised: Option<Vec<u32>>,
    pub findings: Vec<serde_json::Value>,
}

impl Summary {
    pub fn read(path: &Path) -> Result<Summary, PlotError> {
        let text = std::fs::read_to_string(path).map_err(PlotError::io(path))?;
        serde_json::from_str(&text).map_err(|e| PlotError::Data {
            path: path.to_path_buf(),
            message: format!("not a fraclab summary: {e}"),
        })
    }

    /// The `learn` findings as (epoch, view, owner, label), in finding order.
    pub fn learns(&self) -> Vec<(u64, View, Option<u32>, String)> {
        self.findings
            .iter()
            .filter(|f| f["kind"] == "learn")
            .map(|f| {
                (
                    f["epoch"].as_u64().unwrap_or(0),
                    View::from_json(&f["view"]),
                    f["target"].as_u64().map(|t| t as u32),
                    f["secret"].as_str().unwrap_or("?").to_string(),
                )
            })
            .collect()
    }
}
