//! `sequence.mmd`: a Mermaid `sequenceDiagram` of a small run for teaching
//! notes. Messages in trace order (acks aside, key confirmations folded into
//! one note per epoch), a note where each epoch starts, and a note where a
//! secret falls: leaks, derivations, crashes, replacements, detections.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::data::{Mark, Message, Summary, Trace, View};

/// Messages drawn before the diagram is cut at the end of an epoch.
pub const MESSAGES_MAX: usize = 600;

fn party(p: u32) -> String {
    match p {
        0 => "SM".into(),
        u32::MAX => "O".into(),
        m => format!("M{m}"),
    }
}

/// Mermaid notes span at most two participants: the first and the last.
fn over(view: &View) -> String {
    match view {
        View::Members(ms) if ms.len() > 1 => format!("{},{}", party(ms[0]), party(ms[ms.len() - 1])),
        View::Members(ms) => party(ms[0]),
        View::Replacement(m, _) => party(*m),
        View::Outsider => party(u32::MAX),
    }
}

/// Text Mermaid takes literally: `;` ends a statement and `#` starts an
/// entity, so neither may appear in a label.
fn clean(text: &str) -> String {
    text.replace(';', ",").replace('#', " no. ")
}

enum Item<'a> {
    Msg(&'a Message),
    Mark(&'a Mark),
}

/// `sequence.mmd`: the run as a Mermaid sequence diagram (n ≤ 8).
pub fn render(s: &Summary, t: &Trace) -> String {
    let outsider = t.marks.iter().any(|(_, _, m)| match m {
        Mark::Leak { to, .. } => to == "outsider",
        Mark::Learn { view, .. } => *view == View::Outsider,
        _ => false,
    });
    let mut out = String::new();
    let _ = writeln!(out, "%% {} · n = {} · written by fraclab from trace.jsonl", s.scenario, t.members);
    let _ = writeln!(out, "sequenceDiagram");
    if t.has_sm() {
        let _ = writeln!(out, "    participant SM as security manager");
    }
    for m in 1..=t.members {
        let _ = writeln!(out, "    participant M{m} as member {m}");
    }
    if outsider {
        let _ = writeln!(out, "    participant O as outsider");
    }
    let everyone = format!("M1,M{}", t.members);
    let mut items: Vec<(u64, Item)> = t.messages.iter().map(|m| (m.seq, Item::Msg(m))).collect();
    items.extend(t.marks.iter().map(|(_, seq, m)| (*seq, Item::Mark(m))));
    items.sort_by_key(|(seq, _)| *seq);
    let mut epochs_seen = BTreeSet::new();
    let mut recoveries_seen = BTreeSet::new();
    let mut confirms_noted = BTreeSet::new();
    let mut drawn = 0usize;
    let mut k = 0;
    while k < items.len() {
        match &items[k].1 {
            Item::Msg(m) => {
                let epoch = m.epoch();
                if m.mode != "R" && epochs_seen.insert(epoch) {
                    if drawn >= MESSAGES_MAX {
                        let rest = t.messages.iter().filter(|x| x.seq >= m.seq).count();
                        let _ = writeln!(
                            out,
                            "    Note over {everyone}: … {rest} more messages from epoch {epoch} on, in trace.jsonl"
                        );
                        break;
                    }
                    let what = if m.mode == "I" {
                        "initialisation (mode I)".to_string()
                    } else {
                        format!("key generation j = {} (mode G)", m.iter)
                    };
                    let _ = writeln!(out, "    Note over {everyone}: epoch {epoch} · {what}");
                }
                if m.mode == "R" && recoveries_seen.insert(m.iter) {
                    let _ = writeln!(
                        out,
                        "    Note over {everyone}: recovery, iteration r = {} (mode R)",
                        m.iter
                    );
                }
                if m.futile() {
                    // Resends to a crashed member: noted once, after the crash.
                } else if m.kind == "confirm" {
                    if confirms_noted.insert((m.mode.to_string(), m.iter)) {
                        let n = t
                            .messages
                            .iter()
                            .filter(|x| x.kind == "confirm" && x.iter == m.iter && x.mode == m.mode)
                            .count();
                        let _ = writeln!(out, "    Note over {everyone}: key confirmation ({n} messages)");
                    }
                } else {
                    let arrow = match (m.t_deliver_us, &*m.mode) {
                        (None, _) => "-x",
                        (Some(_), "R") => "-->>",
                        _ => "->>",
                    };
                    let mut label = m.symbol().to_string();
                    if m.attempt > 0 {
                        label.push_str(" (resent)");
                    }
                    if let (None, Some((_, why))) = (m.t_deliver_us, &m.dropped) {
                        let _ = write!(label, " (dropped: {why})");
                    }
                    let _ = writeln!(out, "    {}{arrow}{}: {}", party(m.from), party(m.to), clean(&label));
                    drawn += 1;
                }
            }
            Item::Mark(Mark::Learn { view, .. }) => {
                // Fold consecutive derivations of one view into one note.
                let mut labels = Vec::new();
                while let Some((_, Item::Mark(Mark::Learn { view: v, label, .. }))) = items.get(k) {
                    if v != view {
                        break;
                    }
                    labels.push(label.as_str());
                    k += 1;
                }
                labels.sort_by_key(|l| super::data::severity_rank(l));
                let shown = labels.iter().take(4).copied().collect::<Vec<_>>().join(", ");
                let more =
                    if labels.len() > 4 { format!(" and {} more", labels.len() - 4) } else { String::new() };
                let who = match view {
                    View::Members(ms) if ms.len() == 1 => format!("member {}", ms[0]),
                    View::Replacement(m, name) => match name.rsplit_once('#') {
                        Some((_, nth)) if nth != "1" => format!("replacement {nth} of member {m}"),
                        _ => format!("the replacement of member {m}"),
                    },
                    _ => view.short(),
                };
                let _ = writeln!(
                    out,
                    "    Note over {}: {}",
                    over(view),
                    clean(&format!("{who} learns {shown}{more}"))
                );
                continue;
            }
            Item::Mark(mark) => {
                let (at, text) = match mark {
                    Mark::Crash { member } => {
                        let resends = t.messages.iter().filter(|m| m.futile() && m.to == *member).count();
                        let more = if resends > 0 {
                            format!(" ({resends} resends to it are not shown)")
                        } else {
                            String::new()
                        };
                        (party(*member), format!("member {member} crashes{more}"))
                    }
                    Mark::Replace { member } => {
                        (party(*member), format!("a replacement for member {member} joins"))
                    }
                    Mark::Recovered { member, iter, ok } => (
                        party(*member),
                        if *ok {
                            format!("FK and α of member {member} recovered (r = {iter})")
                        } else {
                            format!("recovery of member {member} failed (r = {iter})")
                        },
                    ),
                    Mark::Leak { member, secret, epoch, to } => {
                        let label = super::data::secret_label(secret, Some(*member), *epoch);
                        (party(*member), format!("member {member} leaks {label} to {to}"))
                    }
                    Mark::Detect { member, culprit, check } => (
                        party(*member),
                        format!("member {member} {}", super::data::detect_text(*culprit, check)),
                    ),
                    Mark::Learn { .. } => unreachable!("handled above"),
                };
                let _ = writeln!(out, "    Note over {at}: {}", clean(&text));
            }
        }
        k += 1;
    }
    out
}
