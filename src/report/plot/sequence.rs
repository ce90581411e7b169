//! The message sequence chart. For n ≤ 8 members are lifelines and every
//! message (acks aside) is an arrow coloured by mode; crashes, leaks,
//! derivations and detections are marked where they happen. Virtual time
//! runs down the page, with idle stretches between epochs cut short (the
//! cut says how long it was). Above 8 members the chart is a summary:
//! messages per epoch by mode.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{self, Chart, de};
use super::data::{Mark, Message, Summary, Trace, View};

/// Gaps longer than this are drawn as a fixed-height cut.
const GAP_US: u64 = 60_000;
const CUT_PX: f64 = 30.0;
const HEIGHT_MAX_PX: f64 = 7_000.0;

/// Virtual time → y, with long idle gaps cut.
struct TimeAxis {
    /// Sorted event times and their y.
    ys: Vec<(u64, f64)>,
    /// (y in the middle of the cut, gap length).
    cuts: Vec<(f64, u64)>,
    end: f64,
}

impl TimeAxis {
    fn new(mut times: Vec<u64>, top: f64) -> TimeAxis {
        times.sort_unstable();
        times.dedup();
        let active: u64 = times.windows(2).map(|w| w[1] - w[0]).filter(|&g| g <= GAP_US).sum();
        let cuts = times.windows(2).filter(|w| w[1] - w[0] > GAP_US).count() as f64;
        let px_per_us = (2.4e-3f64).min((HEIGHT_MAX_PX - cuts * CUT_PX).max(200.0) / active.max(1) as f64);
        let mut ys = Vec::with_capacity(times.len());
        let mut axis_cuts = Vec::new();
        let mut y = top;
        for (k, &t) in times.iter().enumerate() {
            if k > 0 {
                let gap = t - times[k - 1];
                if gap > GAP_US {
                    axis_cuts.push((y + CUT_PX / 2.0, gap));
                    y += CUT_PX;
                } else {
                    y += gap as f64 * px_per_us;
                }
            }
            ys.push((t, y));
        }
        TimeAxis { ys, cuts: axis_cuts, end: y + 20.0 }
    }

    fn y(&self, t: u64) -> i32 {
        let k = self.ys.partition_point(|&(x, _)| x < t).min(self.ys.len().saturating_sub(1));
        self.ys.get(k).map_or(0.0, |&(_, y)| y).round() as i32
    }
}

/// The lifeline chart (`sequence.svg`, n ≤ 8): one lifeline per party,
/// an arrow per message, marks for crashes, leaks, learns and detections.
pub struct Lifelines {
    scenario: String,
    members: u32,
    sm: bool,
    outsider: bool,
    messages: Vec<Message>,
    acks: u64,
    futile: usize,
    marks: Vec<(u64, u64, Mark)>,
    epoch_starts: BTreeMap<u64, u64>,
    axis: TimeAxis,
}

const LEFT: i32 = 120;
const COL_W: i32 = 170;
const TOP: i32 = 120;

impl Lifelines {
    /// The chart of a full trace.
    pub fn new(s: &Summary, t: &Trace) -> Lifelines {
        let outsider = t.marks.iter().any(|(_, _, m)| match m {
            Mark::Leak { to, .. } => to == "outsider",
            Mark::Learn { view, .. } => *view == View::Outsider,
            _ => false,
        });
        let messages: Vec<Message> = t.messages.iter().filter(|m| !m.futile()).cloned().collect();
        let mut times: Vec<u64> = t.marks.iter().map(|(t, _, _)| *t).collect();
        for m in &messages {
            times.push(m.t_send_us);
            times.extend(m.t_deliver_us.or(m.dropped.as_ref().map(|d| d.0)));
        }
        Lifelines {
            scenario: s.scenario.clone(),
            members: t.members,
            sm: t.has_sm(),
            outsider,
            futile: t.messages.len() - messages.len(),
            messages,
            acks: t.acks,
            marks: t.marks.clone(),
            epoch_starts: t.epoch_starts.clone(),
            axis: TimeAxis::new(times, f64::from(TOP + 20)),
        }
    }

    fn columns(&self) -> i32 {
        self.members as i32 + i32::from(self.sm) + i32::from(self.outsider)
    }

    /// The x of a party's lifeline: 0 is the SM, `u32::MAX` the outsider.
    fn x(&self, party: u32) -> i32 {
        let col = match party {
            0 => 0,
            u32::MAX => self.columns() - 1,
            m => m as i32 - 1 + i32::from(self.sm),
        };
        LEFT + COL_W / 2 + col * COL_W
    }
}

fn arrow<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    from: (i32, i32),
    to: (i32, i32),
    style: ShapeStyle,
) -> Result<(), String> {
    area.draw(&PathElement::new(vec![from, to], style)).map_err(de)?;
    let (dx, dy) = (f64::from(to.0 - from.0), f64::from(to.1 - from.1));
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let back = (f64::from(to.0) - 8.0 * ux, f64::from(to.1) - 8.0 * uy);
    let wing = |s: f64| ((back.0 - 4.0 * uy * s).round() as i32, (back.1 + 4.0 * ux * s).round() as i32);
    area.draw(&Polygon::new(vec![to, wing(1.0), wing(-1.0)], style.color.filled())).map_err(de)
}

impl Chart for Lifelines {
    fn title(&self) -> String {
        format!("Sequence chart of {}", self.scenario)
    }
    fn desc(&self) -> String {
        format!(
            "One lifeline per party ({} members{}), time downwards; arrows are messages coloured by mode, marks are leaks, learns, crashes, detections and recoveries.",
            self.members,
            if self.sm { " and the SM" } else { "" }
        )
    }
    fn size(&self) -> (u32, u32) {
        ((LEFT + self.columns() * COL_W + 180) as u32, (self.axis.end as i32 + 40).max(300) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (w, h) = self.size();
        let (w, h) = (w as i32, h as i32);
        let title = format!("Message sequence · {} · n = {}", self.scenario, self.members);
        area.draw(&Text::new(title, (12, 10), canvas::bold(20.0))).map_err(de)?;
        let mut x = 12;
        for (color, what) in [
            (canvas::MODE_I, "I: initialisation"),
            (canvas::MODE_G, "G: key generation"),
            (canvas::MODE_R, "R: recovery"),
            (canvas::CONFIRM, "key confirmation"),
        ] {
            area.draw(&PathElement::new(vec![(x, 46), (x + 24, 46)], color.stroke_width(3))).map_err(de)?;
            area.draw(&Text::new(what, (x + 30, 46), canvas::left(canvas::text(12.0)))).map_err(de)?;
            x += 50 + 7 * what.chars().count() as i32;
        }
        let futile = if self.futile > 0 {
            format!(", nor {} resends to crashed members", self.futile)
        } else {
            String::new()
        };
        let note = format!(
            "✕ dropped · ● a view derives a secret · idle time is cut (≈) · {} acks not drawn{futile}",
            self.acks
        );
        area.draw(&Text::new(note, (12, 66), canvas::left(canvas::text(11.0).color(&canvas::GREY))))
            .map_err(de)?;
        // Participants and lifelines.
        let mut parties: Vec<(u32, String)> = Vec::new();
        if self.sm {
            parties.push((0, "SM".into()));
        }
        parties.extend((1..=self.members).map(|m| (m, format!("member {m}"))));
        if self.outsider {
            parties.push((u32::MAX, "outsider".into()));
        }
        for (p, name) in &parties {
            let x = self.x(*p);
            area.draw(&Rectangle::new([(x - 48, TOP - 30), (x + 48, TOP - 6)], canvas::LIGHT.filled()))
                .map_err(de)?;
            area.draw(&Text::new(name.clone(), (x, TOP - 18), canvas::centred(canvas::bold(12.0))))
                .map_err(de)?;
            area.draw(&PathElement::new(vec![(x, TOP - 6), (x, h - 20)], canvas::GREY.stroke_width(1)))
                .map_err(de)?;
        }
        // Crashed stretches of a lifeline, until the replacement joins.
        for (t, _, m) in &self.marks {
            if let Mark::Crash { member } = m {
                let until = self
                    .marks
                    .iter()
                    .find(|(t2, _, m2)| t2 >= t && matches!(m2, Mark::Replace { member: r } if r == member))
                    .map_or(h - 20, |(t2, _, _)| self.axis.y(*t2));
                let x = self.x(*member);
                area.draw(&Rectangle::new(
                    [(x - 3, self.axis.y(*t)), (x + 3, until)],
                    canvas::shade(canvas::DANGER, 0.3).filled(),
                ))
                .map_err(de)?;
            }
        }
        // Epochs and cuts.
        for (e, t) in &self.epoch_starts {
            let y = self.axis.y(*t);
            let label = if *e == 1 { "epoch 1 · init".to_string() } else { format!("epoch {e}") };
            area.draw(&PathElement::new(vec![(8, y), (w - 8, y)], canvas::LIGHT.stroke_width(1)))
                .map_err(de)?;
            area.draw(&Text::new(label, (10, y + 8), canvas::left(canvas::bold(12.0)))).map_err(de)?;
        }
        for (y, gap) in &self.axis.cuts {
            let y = y.round() as i32;
            area.draw(&Text::new(
                format!("≈ {:.2} s", *gap as f64 / 1e6),
                (LEFT - 10, y),
                canvas::right(canvas::text(10.0).color(&canvas::GREY)),
            ))
            .map_err(de)?;
        }
        // Messages.
        for m in &self.messages {
            let color = if m.kind == "confirm" { canvas::CONFIRM } else { canvas::mode_color(&m.mode) };
            let style = color.stroke_width(if m.kind == "confirm" { 1 } else { 2 });
            let from = (self.x(m.from), self.axis.y(m.t_send_us));
            match m.t_deliver_us {
                Some(t) => {
                    let to = (self.x(m.to), self.axis.y(t));
                    arrow(area, from, to, style)?;
                    if !matches!(&*m.kind, "hfk" | "fk_pub" | "confirm") {
                        let mid = ((from.0 + to.0) / 2, (from.1 + to.1) / 2 - 7);
                        let label = if m.attempt > 0 {
                            format!("{} (resent)", m.symbol())
                        } else {
                            m.symbol().to_string()
                        };
                        area.draw(&Text::new(label, mid, canvas::centred(canvas::text(11.0).color(&color))))
                            .map_err(de)?;
                    }
                }
                None => {
                    let t = m.dropped.as_ref().map_or(m.t_send_us, |d| d.0);
                    let end_x = from.0 + (self.x(m.to) - from.0) * 6 / 10;
                    // Slanted, so that the sender and receiver stay apparent.
                    let end = (end_x, self.axis.y(t).max(from.1 + 12));
                    area.draw(&PathElement::new(vec![from, end], style)).map_err(de)?;
                    area.draw(&Cross::new(end, 5, canvas::DANGER.stroke_width(2))).map_err(de)?;
                }
            }
        }
        // Point events, stacked when they share a place.
        let mut used: BTreeMap<(i32, i32), i32> = BTreeMap::new();
        let mut place = |x: i32, y: i32| {
            let k = used.entry((x, y)).or_insert(0);
            *k += 1;
            (x, y + (*k - 1) * 13)
        };
        let mut learns: BTreeMap<(u64, View), Vec<String>> = BTreeMap::new();
        for (t, _, m) in &self.marks {
            if let Mark::Learn { view, label, .. } = m {
                learns.entry((*t, view.clone())).or_default().push(label.clone());
            }
        }
        for labels in learns.values_mut() {
            labels.sort_by_key(|l| super::data::severity_rank(l));
        }
        for (t, _, m) in &self.marks {
            let y = self.axis.y(*t);
            let (x, text, color) = match m {
                Mark::Crash { member } => {
                    let x = self.x(*member);
                    area.draw(&Cross::new((x, y), 7, canvas::DANGER.stroke_width(3))).map_err(de)?;
                    (x, "crash".to_string(), canvas::DANGER)
                }
                Mark::Replace { member } => {
                    let x = self.x(*member);
                    area.draw(&Circle::new((x, y), 5, canvas::MODE_G.filled())).map_err(de)?;
                    (x, "replacement joins".to_string(), canvas::MODE_G)
                }
                Mark::Recovered { member, ok, .. } => {
                    let text = if *ok { "recovered FK, α" } else { "recovery failed" };
                    (self.x(*member), text.to_string(), if *ok { canvas::MODE_G } else { canvas::DANGER })
                }
                Mark::Leak { member, secret, epoch, to } => {
                    let x = self.x(*member);
                    let label = super::data::secret_label(secret, Some(*member), *epoch);
                    area.draw(&Circle::new((x, y), 6, canvas::WARN.filled())).map_err(de)?;
                    (x, format!("leaks {label} to {to}"), canvas::WARN)
                }
                Mark::Detect { member, culprit, check } => {
                    let color = if check == "silence" { canvas::GREY } else { canvas::DANGER };
                    (self.x(*member), super::data::detect_text(*culprit, check), color)
                }
                Mark::Learn { view, .. } => {
                    let Some(labels) = learns.remove(&(*t, view.clone())) else { continue };
                    let party = match view {
                        View::Members(ms) => ms[0],
                        View::Replacement(m, _) => *m,
                        View::Outsider => u32::MAX,
                    };
                    let x = self.x(party);
                    area.draw(&Circle::new((x, y), 5, canvas::DANGER.filled())).map_err(de)?;
                    let who = match view {
                        View::Members(ms) if ms.len() > 1 => format!("{} ", view.short()),
                        _ => String::new(),
                    };
                    let more =
                        if labels.len() > 1 { format!(" +{}", labels.len() - 1) } else { String::new() };
                    (x, format!("{who}learns {}{more}", labels[0]), canvas::DANGER)
                }
            };
            let at = place(x, y);
            let style = canvas::left(canvas::bold(10.0).color(&color));
            let (tw, th) = area.estimate_text_size(&text, &style).map_err(de)?;
            let (tw, th) = (tw as i32, th as i32);
            area.draw(&Rectangle::new(
                [(at.0 + 7, at.1 - th / 2 - 1), (at.0 + 11 + tw, at.1 + th / 2 + 1)],
                WHITE.mix(0.85).filled(),
            ))
            .map_err(de)?;
            area.draw(&Text::new(text, (at.0 + 9, at.1), style)).map_err(de)?;
        }
        Ok(())
    }
}

/// Above 8 members: messages per epoch, one line per mode.
pub struct PerEpoch {
    scenario: String,
    members: u32,
    /// mode → epoch → messages.
    counts: BTreeMap<String, BTreeMap<u64, u64>>,
    dropped: BTreeMap<u64, u64>,
    crashes: Vec<(u64, u32)>,
}

impl PerEpoch {
    /// The chart of a full trace.
    pub fn new(s: &Summary, t: &Trace) -> PerEpoch {
        let mut counts: BTreeMap<String, BTreeMap<u64, u64>> = BTreeMap::new();
        let mut dropped: BTreeMap<u64, u64> = BTreeMap::new();
        for m in &t.messages {
            let mode = if m.kind == "confirm" { "confirm".to_string() } else { m.mode.to_string() };
            let epoch = if m.mode == "R" { t.epoch_at(m.t_send_us) } else { m.epoch() };
            *counts.entry(mode).or_default().entry(epoch).or_default() += 1;
            if m.t_deliver_us.is_none() {
                *dropped.entry(epoch).or_default() += 1;
            }
        }
        let crashes = t
            .marks
            .iter()
            .filter_map(|(time, _, m)| match m {
                Mark::Crash { member } => Some((t.epoch_at(*time), *member)),
                _ => None,
            })
            .collect();
        PerEpoch { scenario: s.scenario.clone(), members: t.members, counts, dropped, crashes }
    }
}

impl Chart for PerEpoch {
    fn title(&self) -> String {
        format!("Messages per epoch of {}", self.scenario)
    }
    fn desc(&self) -> String {
        format!("For {} members: messages per epoch by mode, drops, and the crashes marked.", self.members)
    }
    fn size(&self) -> (u32, u32) {
        (960, 540)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let epochs = self.counts.values().flat_map(|c| c.keys()).max().copied().unwrap_or(1);
        let top = self.counts.values().flat_map(|c| c.values()).max().copied().unwrap_or(1);
        let caption = format!(
            "Messages per epoch · {} · n = {} (too many {} for lifelines)",
            self.scenario,
            self.members,
            if self.members > super::SEQUENCE_MEMBERS_MAX { "members" } else { "messages" }
        );
        let mut chart = ChartBuilder::on(area)
            .caption(caption, canvas::bold(18.0))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.5f64..epochs as f64 + 0.5, 0f64..top as f64 * 1.1)
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_desc("epoch (1 = initialisation)")
            .y_desc("messages sent (acks aside)")
            .label_style(canvas::text(12.0))
            .axis_desc_style(canvas::text(13.0))
            .draw()
            .map_err(de)?;
        for (mode, per) in &self.counts {
            let (color, name) = match mode.as_str() {
                "confirm" => (canvas::GREY, "key confirmation".to_string()),
                m => (canvas::mode_color(m), format!("mode {m}")),
            };
            let pts: Vec<(f64, f64)> = per.iter().map(|(e, c)| (*e as f64, *c as f64)).collect();
            canvas::line(&mut chart, &pts, color, &name)?;
        }
        if !self.dropped.is_empty() {
            let pts: Vec<(f64, f64)> = self.dropped.iter().map(|(e, c)| (*e as f64, *c as f64)).collect();
            canvas::line(&mut chart, &pts, canvas::DANGER, "never delivered")?;
        }
        for (e, m) in &self.crashes {
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("✕ {m} crashes"),
                    (*e as f64, top as f64 * 1.05),
                    canvas::bold(11.0).color(&canvas::DANGER),
                )))
                .map_err(de)?;
        }
        canvas::legend(&mut chart)?;
        Ok(())
    }
}
