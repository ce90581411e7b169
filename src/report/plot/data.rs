//! What the plots read: `summary.json` and the events of `trace.jsonl` that
//! a chart draws. Plots never see the live simulator, so `fraclab plot DIR`
//! redraws exactly what `fraclab run` drew.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::path::Path;

use serde::Deserialize;

use super::PlotError;
use crate::report::trace::TRACE_FORMAT;

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
    format: Option<String>,
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
    /// A view as trace and summary write it: a member id, a list of ids,
    /// `"outsider"` or `"replacement:M#K"`.
    pub fn from_json(v: &serde_json::Value) -> Result<View, String> {
        let id = |x: &serde_json::Value| {
            x.as_u64().and_then(|x| u32::try_from(x).ok()).ok_or_else(|| format!("{x} is not a member id"))
        };
        match v {
            serde_json::Value::Number(_) => Ok(View::Members(vec![id(v)?])),
            serde_json::Value::Array(a) if !a.is_empty() => {
                Ok(View::Members(a.iter().map(id).collect::<Result<_, _>>()?))
            }
            serde_json::Value::String(s) if s == "outsider" => Ok(View::Outsider),
            serde_json::Value::String(s) => {
                let member = s
                    .strip_prefix("replacement:")
                    .and_then(|r| r.split_once('#'))
                    .filter(|(_, nth)| nth.parse::<u32>().is_ok())
                    .and_then(|(m, _)| m.parse().ok())
                    .ok_or_else(|| format!("\"{s}\" is not a view (a member id, a list of ids, \"outsider\" or \"replacement:M#K\")"))?;
                Ok(View::Replacement(member, s.clone()))
            }
            other => Err(format!(
                "{other} is not a view (a member id, a list of ids, \"outsider\" or \"replacement:M#K\")"
            )),
        }
    }

    /// The view, if every member it names is one of `members`.
    fn within(self, members: u32) -> Result<View, String> {
        let ids: &[u32] = match &self {
            View::Members(ms) => ms,
            View::Replacement(m, _) => std::slice::from_ref(m),
            View::Outsider => &[],
        };
        match ids.iter().find(|&&m| m == 0 || m > members) {
            Some(m) => Err(format!("member {m} is not one of 1..={members}")),
            None => Ok(self),
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
    /// Set when the trace holds more than [`TRACE_ITEMS_MAX`] messages or
    /// marks: the rest were not kept, and no sequence chart is drawn.
    pub truncated: bool,
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
        let mut reader = std::io::BufReader::new(file);
        let mut buf = Vec::new();
        let mut k = 0;
        loop {
            buf.clear();
            let n = (&mut reader)
                .take(TRACE_LINE_MAX as u64 + 1)
                .read_until(b'\n', &mut buf)
                .map_err(PlotError::io(path))?;
            if n == 0 {
                break;
            }
            k += 1;
            if buf.len() > TRACE_LINE_MAX {
                return Err(bad(k, format!("longer than {TRACE_LINE_MAX} bytes; not a line fraclab writes")));
            }
            let l: Line = serde_json::from_slice(&buf).map_err(|e| bad(k, json_message(&e)))?;
            if k == 1 && l.ty != "header" {
                return Err(bad(1, format!("a {} event; the first line is the header", l.ty)));
            }
            if k > 1 && l.ty == "header" {
                return Err(bad(k, "a second header".into()));
            }
            let members = t.members;
            let need = |v: Option<u32>, f: &str| {
                let v = v.ok_or_else(|| bad(k, format!("{} event without {f}", l.ty)))?;
                if v > members {
                    return Err(bad(k, format!("{f}: {v} is not a party of this run (0..={members})")));
                }
                Ok(v)
            };
            let epoch_ok = |v: Option<u64>, f: &str| {
                let v = v.unwrap_or(0);
                if v > EPOCHS_MAX + 1 {
                    return Err(bad(k, format!("{f}: {v} is beyond the epoch limit ({EPOCHS_MAX})")));
                }
                Ok(v)
            };
            let full = t.messages.len() >= TRACE_ITEMS_MAX || t.marks.len() >= TRACE_ITEMS_MAX;
            if full && l.ty != "header" {
                t.truncated = true;
            }
            match l.ty.as_str() {
                "header" => {
                    match l.format.as_deref() {
                        Some(TRACE_FORMAT) => {}
                        Some(f) => {
                            return Err(bad(
                                1,
                                format!("format: \"{f}\"; this fraclab reads {TRACE_FORMAT}"),
                            ));
                        }
                        None => return Err(bad(1, format!("header without format ({TRACE_FORMAT})"))),
                    }
                    let m = l.members.ok_or_else(|| bad(1, "header without members".into()))?;
                    if !(MEMBERS_MIN..=MEMBERS_MAX).contains(&m) {
                        return Err(bad(
                            1,
                            format!("members: {m} is out of range; allowed: {MEMBERS_MIN}..={MEMBERS_MAX}"),
                        ));
                    }
                    t.members = m;
                    t.init = l.init.clone().unwrap_or_default();
                    t.level = l.trace.clone().unwrap_or_else(|| "full".into());
                }
                "send" => {
                    let kind = l.kind.clone().unwrap_or_default();
                    if kind == "ack" {
                        t.acks += 1;
                        continue;
                    }
                    let to = match &l.to {
                        None => None,
                        Some(v) => Some(
                            v.as_u64()
                                .and_then(|v| u32::try_from(v).ok())
                                .ok_or_else(|| bad(k, format!("to: {v} is not a party id")))?,
                        ),
                    };
                    let m = Message {
                        seq: l.seq,
                        t_send_us: l.t_us,
                        t_deliver_us: None,
                        dropped: None,
                        from: need(l.from, "from")?,
                        to: need(to, "to")?,
                        mode: l.mode.clone().unwrap_or_default(),
                        iter: epoch_ok(l.iter, "iter")?,
                        kind,
                        attempt: l.attempt,
                    };
                    if full {
                        continue;
                    }
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
                "crash" | "replace" | "recovered" | "leak" | "learn" | "detect" => {
                    let mark = match l.ty.as_str() {
                        "crash" => Mark::Crash { member: need(l.member, "member")? },
                        "replace" => Mark::Replace { member: need(l.member, "member")? },
                        "recovered" => Mark::Recovered {
                            member: need(l.member, "member")?,
                            iter: epoch_ok(l.iter, "iter")?,
                            ok: l.ok.unwrap_or(false),
                        },
                        "leak" => {
                            let member = need(l.member, "member")?;
                            let epoch = epoch_ok(l.epoch, "epoch")?;
                            let secret = l.secret.clone().unwrap_or_default();
                            let to = match &l.to {
                                Some(serde_json::Value::String(s)) => s.clone(),
                                Some(v) => v.to_string(),
                                None => String::new(),
                            };
                            Mark::Leak { member, secret, epoch, to }
                        }
                        "learn" => {
                            let view = View::from_json(l.view.as_ref().unwrap_or(&serde_json::Value::Null))
                                .and_then(|v| v.within(members))
                                .map_err(|e| bad(k, format!("view: {e}")))?;
                            let target = match l.target {
                                Some(o) => Some(need(Some(o), "target")?),
                                None => None,
                            };
                            let label = secret_label(
                                &l.name.clone().unwrap_or_default(),
                                target,
                                l.index.unwrap_or(0),
                            );
                            Mark::Learn { view, target, label }
                        }
                        _ => Mark::Detect {
                            member: need(l.member, "member")?,
                            culprit: match l.culprit {
                                Some(c) => Some(need(Some(c), "culprit")?),
                                None => None,
                            },
                            check: l.check.clone().unwrap_or_default(),
                        },
                    };
                    if !full {
                        t.marks.push((l.t_us, l.seq, mark));
                    }
                }
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

/// The limits of reference §9, as readers of fraclab's files check them.
pub const MEMBERS_MIN: u32 = 2;
pub const MEMBERS_MAX: u32 = 4096;
pub const EPOCHS_MAX: u64 = 100_000;
/// The longest trace line the plot reader accepts.
pub const TRACE_LINE_MAX: usize = 1 << 20;
/// Messages (and, apart, marks) the plot reader keeps; a longer trace gets
/// no sequence chart.
pub const TRACE_ITEMS_MAX: usize = 1_000_000;
/// The largest `summary.json` or `sweep.json` a reader accepts.
pub const JSON_FILE_MAX: u64 = 256 << 20;

/// serde_json's message without its " at line L column C" suffix.
pub fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rsplit_once(" at line ") {
        Some((m, _)) if e.line() > 0 => m.to_string(),
        _ => full,
    }
}

/// A file of at most `max` bytes, as text.
pub fn read_bounded(path: &Path, max: u64) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > max {
        return Err(format!("{}: larger than {max} bytes; not a file fraclab writes", path.display()));
    }
    String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8 text: {e}", path.display()))
}

/// Parses one of fraclab's JSON files: first its `format` string, which
/// must be `format` exactly, then the typed contents. Errors read
/// `FILE: line L: KEY: message`.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
    format: &str,
) -> Result<T, String> {
    let at = |line: usize, key: &str, m: &str| {
        let key = if key.is_empty() || key == "." { String::new() } else { format!("{key}: ") };
        format!("{}: line {line}: {key}{m}", path.display())
    };
    let located = |e: serde_path_to_error::Error<serde_json::Error>| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        at(inner.line(), &key, &json_message(&inner))
    };
    #[derive(Deserialize)]
    #[serde(rename = "a JSON object")]
    struct Format {
        format: Option<serde_json::Value>,
    }
    let head: Format =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text)).map_err(located)?;
    let line = text.find("\"format\"").map_or(1, |i| text[..i].matches('\n').count() + 1);
    match head.format {
        Some(serde_json::Value::String(f)) if f == format => {}
        Some(f) => return Err(at(line, "format", &format!("{f}; this fraclab reads \"{format}\""))),
        None => return Err(at(1, "format", &format!("missing; this fraclab reads \"{format}\""))),
    }
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text)).map_err(located)
}

/// The summary fields the plots use.
#[derive(Debug, Deserialize)]
pub struct Summary {
    pub scenario: String,
    #[serde(deserialize_with = "members")]
    pub members: u32,
    #[serde(deserialize_with = "epochs")]
    pub epochs: u64,
    pub init: String,
    pub compromised: Option<Vec<u32>>,
    pub findings: Vec<serde_json::Value>,
}

/// A member count within reference §9, checked as it is read (so the error has its line).
fn members<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u64::deserialize(d)?;
    match u32::try_from(n) {
        Ok(n) if (MEMBERS_MIN..=MEMBERS_MAX).contains(&n) => Ok(n),
        _ => Err(serde::de::Error::custom(format!(
            "{n} is out of range; allowed: {MEMBERS_MIN}..={MEMBERS_MAX}"
        ))),
    }
}

/// An epoch count within reference §9, checked as it is read.
fn epochs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let e = u64::deserialize(d)?;
    if e > EPOCHS_MAX {
        return Err(serde::de::Error::custom(format!("{e} is out of range; allowed: 0..={EPOCHS_MAX}")));
    }
    Ok(e)
}

impl Summary {
    pub fn read(path: &Path) -> Result<Summary, PlotError> {
        let data = |message: String| PlotError::Data { path: path.to_path_buf(), message };
        let text = read_bounded(path, JSON_FILE_MAX).map_err(PlotError::Read)?;
        let s: Summary =
            parse_json(&text, path, crate::report::summary::SUMMARY_FORMAT).map_err(PlotError::Read)?;
        s.check().map_err(data)?;
        Ok(s)
    }

    /// The bounds of reference §9 and ids within the run's members, so that no
    /// chart is sized by a number a run cannot produce.
    fn check(&self) -> Result<(), String> {
        let (n, e) = (self.members, self.epochs);
        if !(MEMBERS_MIN..=MEMBERS_MAX).contains(&n) {
            return Err(format!("members: {n} is out of range; allowed: {MEMBERS_MIN}..={MEMBERS_MAX}"));
        }
        if e > EPOCHS_MAX {
            return Err(format!("epochs: {e} is out of range; allowed: 0..={EPOCHS_MAX}"));
        }
        for (k, &m) in self.compromised.iter().flatten().enumerate() {
            if m == 0 || m > n {
                return Err(format!("compromised[{k}]: member {m} is not one of 1..={n}"));
            }
        }
        for (k, f) in self.findings.iter().enumerate() {
            if f["kind"] != "learn" {
                continue;
            }
            let at = |key: &str, m: String| format!("findings[{k}].{key}: {m}");
            let epoch = f["epoch"].as_u64().filter(|&x| (1..=e + 1).contains(&x));
            if epoch.is_none() {
                return Err(at(
                    "epoch",
                    format!("{} is not an epoch of this run (1..={})", f["epoch"], e + 1),
                ));
            }
            View::from_json(&f["view"]).and_then(|v| v.within(n)).map_err(|m| at("view", m))?;
            match &f["target"] {
                serde_json::Value::Null => {}
                t => {
                    if t.as_u64().is_none_or(|t| t > u64::from(n)) {
                        return Err(at("target", format!("{t} is not a party of this run (0..={n})")));
                    }
                }
            }
            if !f["secret"].is_string() {
                return Err(at("secret", format!("{} is not a secret's label", f["secret"])));
            }
        }
        Ok(())
    }

    /// The `learn` findings as (epoch, view, owner, label), in finding order.
    pub fn learns(&self) -> Vec<(u64, View, Option<u32>, String)> {
        self.findings
            .iter()
            .filter(|f| f["kind"] == "learn")
            .map(|f| {
                (
                    f["epoch"].as_u64().unwrap_or(0),
                    View::from_json(&f["view"]).unwrap_or(View::Outsider),
                    f["target"].as_u64().map(|t| t as u32),
                    f["secret"].as_str().unwrap_or("?").to_string(),
                )
            })
            .collect()
    }
}
