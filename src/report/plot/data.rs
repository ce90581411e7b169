//! What the plots read: `summary.json` and the events of `trace.jsonl` that
//! a chart draws. Plots never see the live simulator, so `fraclab plot DIR`
//! redraws exactly what `fraclab run` drew.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::path::Path;

use super::PlotError;
use crate::schema;
pub use crate::schema::Summary;
pub use crate::schema::summary::{EPOCHS_MAX, MEMBERS_MAX, MEMBERS_MIN};
use crate::schema::trace::{LeakAudience, LeakTo, Name, TRACE_FORMAT, TraceLine};

/// A message as the sequence chart draws it.
#[derive(Clone, Debug)]
pub struct Message {
    /// The send line's `seq`: its position in the run's total order.
    pub seq: u64,
    /// When it was sent, virtual time in µs.
    pub t_send_us: u64,
    /// When it was first delivered; `None` if it never was.
    pub t_deliver_us: Option<u64>,
    /// When and why it was dropped, if it was never delivered.
    pub dropped: Option<(u64, String)>,
    /// The sender: a member id, or 0 for the SM.
    pub from: u32,
    /// The receiver: a member id, or 0 for the SM.
    pub to: u32,
    /// The protocol mode: `I` (initialisation), `G` (key generation), `R` (recovery).
    pub mode: Name,
    /// The trace's `iter`: the iteration j; a recovery (`R`) message's is
    /// not an epoch (see [`Message::epoch`]).
    pub iter: u64,
    /// The payload kind as the trace names it (`delta`, `theta`, `pad`, `hfk`, …).
    pub kind: Name,
    /// 0 for the first transmission, k for the k-th resend.
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
        match &*self.kind {
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
    /// A member crashed (a `crash` line).
    Crash {
        /// The member.
        member: u32,
    },
    /// A replacement took a crashed member's index.
    Replace {
        /// The index (member id) it took.
        member: u32,
    },
    /// A recovery of a failed member ended.
    Recovered {
        /// The member recovered.
        member: u32,
        /// The trace's `iter` of the recovery (r).
        iter: u64,
        /// The recovered values equal the originals and the key confirmed.
        ok: bool,
    },
    /// A member leaked a secret (a `leak` event).
    Leak {
        /// The member who leaked.
        member: u32,
        /// `alpha`, `fk`, `theta` or `sk`, as the trace names it.
        secret: String,
        /// The epoch e the secret belongs to.
        epoch: u64,
        /// Who it reaches: `group`, `outsider`, or a JSON list of member ids.
        to: String,
    },
    /// A view derived a secret (a `learn` event).
    Learn {
        /// Who learned it.
        view: View,
        /// The secret's label (see [`crate::report::secret_label`]), e.g. `FK[3,1]`, `θ_2`.
        label: String,
    },
    /// A failed check at `member`: "silence" (declares `culprit` failed) or
    /// a verification check, which may name no one.
    Detect {
        /// The member whose check failed.
        member: u32,
        /// The party the check names (0 = SM), if any.
        culprit: Option<u32>,
        /// `silence`, or the name of the verification check that failed.
        check: String,
    },
}

impl From<&schema::View> for View {
    fn from(v: &schema::View) -> View {
        match v {
            schema::View::Member(m) => View::Members(vec![*m]),
            schema::View::Coalition(ms) => View::Members(ms.clone()),
            schema::View::Outsider => View::Outsider,
            schema::View::Replacement { member, nth } => {
                View::Replacement(*member, format!("replacement:{member}#{nth}"))
            }
        }
    }
}

/// Who learned: the `view` of a `learn` event, as the charts order and
/// label it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum View {
    /// One member, or a coalition of several (ids in increasing order).
    Members(Vec<u32>),
    /// The network outsider: what its channel exposes, plus leaks to it.
    Outsider,
    /// `replacement:3#1`, shown on member 3's lifeline.
    Replacement(u32, String),
}

impl View {
    /// The view, if every member it names is one of `members` (and a
    /// coalition names some).
    fn within(self, members: u32) -> Result<View, String> {
        let ids: &[u32] = match &self {
            View::Members(ms) if ms.is_empty() => {
                return Err(format!(
                    "[] is not a view ({})",
                    "a member id, a list of ids, \"outsider\" or \"replacement:M#K\""
                ));
            }
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
    /// n, the header's `members`.
    pub members: u32,
    /// The header's `init`: `sm` or `ring`.
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
    /// Set when the trace holds more than `TRACE_ITEMS_MAX` (10⁶) messages or
    /// marks: the rest were not kept, and no sequence chart is drawn.
    pub truncated: bool,
}

impl Trace {
    /// Reads and checks a fraclab-trace/1 file; errors name the line.
    pub fn read(path: &Path) -> Result<Trace, PlotError> {
        let mut builder = TraceBuilder::default();
        read_lines(path, |k, l| builder.take(k, l).map(|()| true))?;
        builder.finish().map_err(|message| PlotError::Data { path: path.to_path_buf(), message })
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

/// Reads `path` line by line, bounded ([`TRACE_LINE_MAX`] bytes a line,
/// UTF-8, each a [`TraceLine`]; lines of a type this version does not know
/// are skipped after the header), and hands each to `take` with its line
/// number. `take` returns whether to go on; its error (a message) is
/// reported for the file. Errors name the line.
pub fn read_lines(
    path: &Path,
    mut take: impl FnMut(usize, TraceLine) -> Result<bool, String>,
) -> Result<(), PlotError> {
    let file = std::fs::File::open(path).map_err(PlotError::io(path))?;
    let bad = |line: usize, m: String| PlotError::Data {
        path: path.to_path_buf(),
        message: format!("line {line}: {m}"),
    };
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
            return Ok(());
        }
        k += 1;
        if buf.len() > TRACE_LINE_MAX {
            return Err(bad(k, format!("longer than {TRACE_LINE_MAX} bytes; not a line fraclab writes")));
        }
        let text = std::str::from_utf8(&buf).map_err(|e| bad(k, format!("not UTF-8 text: {e}")))?;
        let l = match TraceLine::from_json(text) {
            Ok(l) => l,
            Err(e) if e.unknown_type && k > 1 => continue,
            Err(e) => return Err(bad(k, e.to_string())),
        };
        let more = take(k, l).map_err(|message| PlotError::Data { path: path.to_path_buf(), message })?;
        if !more {
            return Ok(());
        }
    }
}

/// A send line's `msg` → its index in [`Trace::messages`]. A trace numbers
/// its transmissions 0, 1, 2, … in the order of their send lines, so the
/// index is a vector by msg; a msg that breaks that order (a hand-edited
/// trace) goes to a map. Either way a later send of the same msg replaces
/// the earlier, as a map would.
#[derive(Default)]
struct MsgIndex {
    /// `dense[msg]`: the index, or `NONE` for an ack or a gap.
    dense: Vec<u32>,
    sparse: BTreeMap<u64, usize>,
}

impl MsgIndex {
    const NONE: u32 = u32::MAX;
    /// Gaps up to this long are filled in `dense`; longer ones go to `sparse`.
    const GAP_MAX: u64 = 16;
    /// `dense` grows no further than this (72 MB), whatever a hand-made
    /// trace holds: a file of nothing but acks would otherwise grow it
    /// without end. Real traces stop storing messages at
    /// [`TRACE_ITEMS_MAX`], long before.
    const DENSE_MAX: usize = (Self::GAP_MAX as usize + 2) * TRACE_ITEMS_MAX;

    /// The dense slot of `msg`, grown to it when the gap is short.
    fn slot(&mut self, msg: u64) -> Option<&mut u32> {
        let len = self.dense.len() as u64;
        if msg >= len {
            if msg - len > Self::GAP_MAX || self.dense.len() >= Self::DENSE_MAX {
                return None;
            }
            let new_len = usize::try_from(msg + 1).ok()?;
            self.dense.resize(new_len, Self::NONE);
        }
        self.dense.get_mut(usize::try_from(msg).ok()?)
    }

    fn insert(&mut self, msg: u64, i: usize) {
        match (u32::try_from(i).ok().filter(|&i| i != Self::NONE), self.slot(msg)) {
            (Some(i), Some(slot)) => {
                *slot = i;
                self.sparse.remove(&msg);
            }
            _ => {
                self.sparse.insert(msg, i);
            }
        }
    }

    /// An ack's msg: numbered like the others, never looked up.
    fn pass(&mut self, msg: u64) {
        if msg == self.dense.len() as u64 && self.dense.len() < Self::DENSE_MAX {
            self.dense.push(Self::NONE);
        }
    }

    fn get(&self, msg: u64) -> Option<usize> {
        let dense = usize::try_from(msg).ok().and_then(|m| self.dense.get(m)).filter(|&&i| i != Self::NONE);
        dense.map(|&i| i as usize).or_else(|| self.sparse.get(&msg).copied())
    }
}

/// Builds a [`Trace`] line by line: what [`Trace::read`] does with each line
/// it parses, and what `fraclab run` does with each line as it writes it
/// (so that the plots need not read the trace back). Errors are
/// `line L: message`.
#[derive(Default)]
pub struct TraceBuilder {
    t: Trace,
    by_msg: MsgIndex,
    lines: usize,
}

impl TraceBuilder {
    /// Takes the next line (line numbers count from 1).
    pub fn line(&mut self, l: TraceLine) -> Result<(), String> {
        self.lines += 1;
        self.take(self.lines, l)
    }

    /// Takes line `k`.
    fn take(&mut self, k: usize, l: TraceLine) -> Result<(), String> {
        let bad = |line: usize, m: String| format!("line {line}: {m}");
        let TraceBuilder { t, by_msg, .. } = self;
        let ty = l.type_name();
        if k == 1 && ty != "header" {
            return Err(bad(1, format!("a {ty} event; the first line is the header")));
        }
        if k > 1 && ty == "header" {
            return Err(bad(k, "a second header".into()));
        }
        let members = t.members;
        let need = |v: u32, f: &str| {
            if v > members {
                return Err(bad(k, format!("{f}: {v} is not a party of this run (0..={members})")));
            }
            Ok(v)
        };
        let epoch_ok = |v: u64, f: &str| {
            if v > EPOCHS_MAX + 1 {
                return Err(bad(k, format!("{f}: {v} is beyond the epoch limit ({EPOCHS_MAX})")));
            }
            Ok(v)
        };
        let full = t.messages.len() >= TRACE_ITEMS_MAX || t.marks.len() >= TRACE_ITEMS_MAX;
        if full && ty != "header" {
            t.truncated = true;
        }
        let mark = match l {
            TraceLine::Header(h) => {
                if h.format != TRACE_FORMAT {
                    return Err(bad(
                        1,
                        format!("format: \"{}\"; this fraclab reads {TRACE_FORMAT}", h.format),
                    ));
                }
                let m = h.members;
                if !(MEMBERS_MIN..=MEMBERS_MAX).contains(&m) {
                    return Err(bad(
                        1,
                        format!("members: {m} is out of range; allowed: {MEMBERS_MIN}..={MEMBERS_MAX}"),
                    ));
                }
                t.members = m;
                t.init = h.init;
                t.level = h.trace;
                return Ok(());
            }
            TraceLine::Send(l) => {
                if l.kind == "ack" {
                    by_msg.pass(l.msg);
                    t.acks += 1;
                    return Ok(());
                }
                let m = Message {
                    seq: l.seq,
                    t_send_us: l.t_us,
                    t_deliver_us: None,
                    dropped: None,
                    from: need(l.from, "from")?,
                    to: need(l.to, "to")?,
                    mode: l.mode,
                    iter: epoch_ok(l.iter, "iter")?,
                    kind: l.kind,
                    attempt: l.attempt,
                };
                if full {
                    return Ok(());
                }
                if m.mode != "R" {
                    t.epoch_starts.entry(m.epoch()).or_insert(m.t_send_us);
                }
                by_msg.insert(l.msg, t.messages.len());
                t.messages.push(m);
                return Ok(());
            }
            TraceLine::Deliver(l) => {
                if let Some(i) = by_msg.get(l.msg) {
                    let m = &mut t.messages[i];
                    if m.t_deliver_us.is_none() && !l.duplicate {
                        m.t_deliver_us = Some(l.t_us);
                    }
                }
                return Ok(());
            }
            TraceLine::Drop(l) => {
                if let Some(i) = by_msg.get(l.msg) {
                    let m = &mut t.messages[i];
                    if m.t_deliver_us.is_none() && m.dropped.is_none() {
                        m.dropped = Some((l.t_us, l.reason.into_owned()));
                    }
                }
                return Ok(());
            }
            TraceLine::Crash(l) => (l.t_us, l.seq, Mark::Crash { member: need(l.member, "member")? }),
            TraceLine::Replace(l) => (l.t_us, l.seq, Mark::Replace { member: need(l.member, "member")? }),
            TraceLine::Recovered(l) => {
                let (member, iter) = (need(l.member, "member")?, epoch_ok(l.iter, "iter")?);
                (l.t_us, l.seq, Mark::Recovered { member, iter, ok: l.ok })
            }
            TraceLine::Leak(l) => {
                let member = need(l.member, "member")?;
                let epoch = epoch_ok(l.epoch, "epoch")?;
                let to = match &l.to {
                    LeakTo::Named(LeakAudience::Group) => "group".to_string(),
                    LeakTo::Named(LeakAudience::Outsider) => "outsider".to_string(),
                    LeakTo::Members(ids) => serde_json::to_string(ids).unwrap_or_default(),
                };
                (l.t_us, l.seq, Mark::Leak { member, secret: l.secret.into_owned(), epoch, to })
            }
            TraceLine::Learn(l) => {
                let view = View::from(&l.view).within(members).map_err(|e| bad(k, format!("view: {e}")))?;
                let target = match l.target {
                    Some(o) => Some(need(o, "target")?),
                    None => None,
                };
                let label = secret_label(&l.name, target, l.index);
                (l.t_us, l.seq, Mark::Learn { view, label })
            }
            TraceLine::Detect(l) => {
                let member = need(l.member, "member")?;
                let culprit = match l.culprit {
                    Some(c) => Some(need(c, "culprit")?),
                    None => None,
                };
                (l.t_us, l.seq, Mark::Detect { member, culprit, check: l.check.into_owned() })
            }
            _ => return Ok(()),
        };
        if !full {
            t.marks.push(mark);
        }
        Ok(())
    }

    /// The trace, once every line is in.
    pub fn finish(self) -> Result<Trace, String> {
        if self.t.members == 0 {
            return Err("line 1: no header line".into());
        }
        Ok(self.t)
    }
}

/// The longest trace line the plot reader accepts.
pub const TRACE_LINE_MAX: usize = 1 << 20;
/// Messages (and, apart, marks) the plot reader keeps; a longer trace gets
/// no sequence chart.
pub const TRACE_ITEMS_MAX: usize = 1_000_000;
use crate::report::read::{JSON_FILE_MAX, read_bounded};
pub use crate::report::secret_label;

/// Reads `path` as a summary: at most [`JSON_FILE_MAX`] bytes, every field
/// typed, within reference §9. Errors read `FILE: line L: KEY: message`.
pub fn read_summary(path: &Path) -> Result<Summary, PlotError> {
    let text = read_bounded(path, JSON_FILE_MAX).map_err(PlotError::Read)?;
    Summary::from_json(&text).map_err(|e| PlotError::Read(format!("{}: {e}", path.display())))
}
