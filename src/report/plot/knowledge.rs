//! The knowledge timeline: one row per (view, whose secrets), one column per
//! epoch. A cell names the secrets the view first derives in that epoch;
//! from then on the row keeps the colour of the worst thing it knows, so the
//! epoch an attack lands is where a row turns red.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{self, Chart, de};
use super::data::{Mark, Summary, Trace, View};

/// What a derived secret exposes, worst last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Severity {
    /// v, γ, δ, shares, recovery values: parts of the initialisation.
    Init,
    /// θ or SK: the group's key.
    Key,
    /// α: the member's pad (the member is compromised).
    Alpha,
    /// FK: the member's fractional key (the member is compromised).
    Fk,
}

impl Severity {
    fn of(label: &str) -> Severity {
        match super::data::severity_rank(label) {
            0 => Severity::Fk,
            1 => Severity::Alpha,
            2 => Severity::Key,
            _ => Severity::Init,
        }
    }

    fn color(self) -> RGBColor {
        match self {
            Severity::Fk => canvas::DANGER,
            Severity::Alpha => canvas::WARN,
            Severity::Key => canvas::KEY,
            Severity::Init => canvas::MILD,
        }
    }
}

/// At most this many rows are drawn; the rest are counted in a footnote.
const ROWS_MAX: usize = 120;

/// At most this many columns are drawn: a longer run gets several epochs
/// per column (said in the subtitle), so the chart's size never follows a
/// number read from a file.
pub const COLUMNS_MAX: u64 = 100;

/// The row order: single members, coalitions, replacements, the outsider.
fn view_rank(v: &View) -> u8 {
    match v {
        View::Members(ms) if ms.len() == 1 => 0,
        View::Members(_) => 1,
        View::Replacement(..) => 2,
        View::Outsider => 3,
    }
}

type RowKey = (u8, View, Option<u32>);

/// The knowledge timeline (`knowledge.svg`/`.png`): per view, per epoch,
/// the secrets first derived then, with the leaks and the compromised members.
pub struct Timeline {
    scenario: String,
    /// Columns drawn: the epochs (the initialisation is epoch 1), `per` to a column.
    epochs: u64,
    /// Epochs per column: 1 unless the run has more than [`COLUMNS_MAX`].
    per: u64,
    /// Per row, per epoch: the labels first derived then.
    rows: Vec<(RowKey, BTreeMap<u64, Vec<String>>)>,
    hidden_rows: usize,
    /// Per epoch, the leaks in it.
    leaks: BTreeMap<u64, Vec<String>>,
    compromised: Vec<u32>,
}

impl Timeline {
    /// The timeline of a run from its summary and, if any, its trace.
    pub fn new(s: &Summary, trace: Option<&Trace>) -> Timeline {
        let epochs = s.epochs.saturating_add(1);
        let per = epochs.div_ceil(COLUMNS_MAX).max(1);
        let column = |e: u64| e.saturating_sub(1) / per + 1;
        let mut rows: BTreeMap<RowKey, BTreeMap<u64, Vec<String>>> = BTreeMap::new();
        for l in s.learns() {
            let (epoch, view, owner, label) = (l.epoch, View::from(&l.view), l.target, l.secret.clone());
            let cell =
                rows.entry((view_rank(&view), view, owner)).or_default().entry(column(epoch)).or_default();
            if !cell.contains(&label) {
                cell.push(label);
            }
        }
        for cells in rows.values_mut() {
            for labels in cells.values_mut() {
                labels.sort_by_key(|l| super::data::severity_rank(l));
            }
        }
        let mut leaks: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for (_, _, mark) in trace.map_or(&[][..], |t| &t.marks[..]) {
            if let Mark::Leak { member, secret, epoch, .. } = mark {
                let label = super::data::secret_label(secret, Some(*member), *epoch);
                leaks.entry(column(*epoch)).or_default().push(format!("{member} leaks {label}"));
            }
        }
        let total = rows.len();
        let rows: Vec<_> = rows.into_iter().take(ROWS_MAX).collect();
        Timeline {
            scenario: s.scenario.clone(),
            epochs: epochs.div_ceil(per),
            per,
            hidden_rows: total - rows.len(),
            rows,
            leaks,
            compromised: s.compromised.clone().unwrap_or_default(),
        }
    }

    fn cell_w(&self) -> i32 {
        if self.epochs <= 12 { 112 } else { (1344 / self.epochs as i32).max(14) }
    }

    const LEFT: i32 = 180;
    const TOP: i32 = 96;
    const ROW_H: i32 = 26;
    const BOTTOM: i32 = 96;

    /// The legend's y offset of its first line from the foot.
    const TOP_OF_LEGEND: i32 = 0;

    /// The legend's keys laid out in lines that fit `width`: (severity,
    /// text, y offset from the foot, x). Widths are estimated at 7.5 px a
    /// character of 12 px text, above DejaVu Sans' average, so nothing
    /// reaches the right edge.
    fn legend(width: i32) -> Vec<(Severity, &'static str, i32, i32)> {
        let keys = [
            (Severity::Fk, "FK: fractional key (compromised)"),
            (Severity::Alpha, "α: pad (compromised)"),
            (Severity::Key, "θ / SK: group key"),
            (Severity::Init, "initialisation values"),
        ];
        let (mut x, mut y, mut out) = (12, Self::TOP_OF_LEGEND, Vec::new());
        for (s, what) in keys {
            let w = 20 + (7.5 * what.chars().count() as f64).ceil() as i32;
            if x > 12 && x + w > width - 12 {
                x = 12;
                y += 22;
            }
            out.push((s, what, y, x));
            x += w + 14;
        }
        out
    }

    fn row_label(key: &RowKey) -> String {
        let (_, view, owner) = key;
        let whose = owner.map_or("group".to_string(), |o| format!("member {o}"));
        let who = match view {
            View::Members(ms) if ms.len() == 1 => format!("member {}", ms[0]),
            View::Members(_) => format!("coalition {}", view.short()),
            View::Replacement(..) => format!("replacement {}", view.short()),
            View::Outsider => "outsider".to_string(),
        };
        format!("{who} → {whose}")
    }
}

impl Chart for Timeline {
    fn title(&self) -> String {
        format!("Knowledge timeline of {}", self.scenario)
    }
    fn desc(&self) -> String {
        format!(
            "Per epoch (columns), which secrets of whom each view (rows) has first derived; leaks are marked per epoch. Compromised: {:?}.",
            self.compromised
        )
    }
    fn size(&self) -> (u32, u32) {
        let w = (Self::LEFT + self.cell_w() * self.epochs as i32 + 24).max(640);
        let rows = self.rows.len().max(1) as i32;
        let extra = (Self::legend(w).last().map_or(0, |k| k.2) - Self::TOP_OF_LEGEND).max(0);
        (w as u32, (Self::TOP + rows * Self::ROW_H + Self::BOTTOM + extra) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (w, _) = self.size();
        let cw = self.cell_w();
        let x_of = |e: u64| Self::LEFT + cw * (e as i32 - 1);
        area.draw(&Text::new(
            format!("Knowledge timeline · {}", self.scenario),
            (12, 10),
            canvas::bold(20.0),
        ))
        .map_err(de)?;
        let subtitle = if self.per == 1 {
            "who (left) has derived which secrets of whom, per epoch; a named cell is the first derivation"
                .to_string()
        } else {
            format!(
                "who (left) has derived which secrets of whom; each column is {} epochs (column k starts at epoch {}·(k−1) + 1)",
                self.per, self.per
            )
        };
        area.draw(&Text::new(subtitle, (12, 38), canvas::text(13.0).color(&canvas::GREY))).map_err(de)?;
        let header_y = Self::TOP - 22;
        for e in 1..=self.epochs {
            let cx = x_of(e) + cw / 2;
            let label = if self.per > 1 {
                if e == 1 || e % 10 == 0 {
                    format!("epoch {}", (e - 1) * self.per + 1)
                } else {
                    String::new()
                }
            } else if e == 1 && cw >= 80 {
                "epoch 1 · init".to_string()
            } else if cw >= 60 || e == 1 || e % 5 == 0 {
                format!("epoch {e}")
            } else {
                String::new()
            };
            area.draw(&Text::new(label, (cx, header_y), canvas::centred(canvas::bold(12.0)))).map_err(de)?;
            if let Some(l) = self.leaks.get(&e) {
                let shown =
                    if l.len() == 1 || cw < 112 { l[0].clone() } else { format!("{} leaks", l.len()) };
                if cw >= 60 {
                    area.draw(&Text::new(
                        shown,
                        (cx, header_y + 14),
                        canvas::centred(canvas::text(10.0).color(&canvas::DANGER)),
                    ))
                    .map_err(de)?;
                }
                area.draw(&PathElement::new(
                    vec![(x_of(e), Self::TOP), (x_of(e), Self::TOP + self.rows.len() as i32 * Self::ROW_H)],
                    canvas::DANGER.stroke_width(2),
                ))
                .map_err(de)?;
            }
        }
        if self.rows.is_empty() {
            area.draw(&Text::new(
                "no view derived a secret it does not own",
                (Self::LEFT, Self::TOP + Self::ROW_H / 2),
                canvas::left(canvas::text(13.0)),
            ))
            .map_err(de)?;
        }
        for (r, (key, cells)) in self.rows.iter().enumerate() {
            let y0 = Self::TOP + r as i32 * Self::ROW_H;
            let cy = y0 + Self::ROW_H / 2;
            area.draw(&Text::new(
                Self::row_label(key),
                (Self::LEFT - 8, cy),
                canvas::right(canvas::text(12.0)),
            ))
            .map_err(de)?;
            let mut known: Option<Severity> = None;
            for e in 1..=self.epochs {
                let new = cells.get(&e);
                if let Some(labels) = new {
                    known = known.max(labels.iter().map(|l| Severity::of(l)).max());
                }
                let fill = match (known, new) {
                    (Some(s), Some(_)) => canvas::shade(s.color(), 0.8),
                    (Some(s), None) => canvas::shade(s.color(), 0.35),
                    (None, _) => canvas::LIGHT,
                };
                let x0 = x_of(e);
                area.draw(&Rectangle::new(
                    [(x0 + 1, y0 + 1), (x0 + cw - 1, y0 + Self::ROW_H - 1)],
                    fill.filled(),
                ))
                .map_err(de)?;
                if let (Some(labels), true) = (new, cw >= 60) {
                    let more =
                        if labels.len() > 1 { format!(" +{}", labels.len() - 1) } else { String::new() };
                    let text = format!("{}{more}", labels[0]);
                    area.draw(&Text::new(text, (x0 + cw / 2, cy), canvas::centred(canvas::bold(11.0))))
                        .map_err(de)?;
                }
            }
        }
        let foot = Self::TOP + self.rows.len().max(1) as i32 * Self::ROW_H + 16;
        let legend = Self::legend(w as i32);
        for &(s, what, dy, x) in &legend {
            let y = foot + dy;
            area.draw(&Rectangle::new([(x, y), (x + 14, y + 14)], canvas::shade(s.color(), 0.8).filled()))
                .map_err(de)?;
            area.draw(&Text::new(what, (x + 20, y + 7), canvas::left(canvas::text(12.0)))).map_err(de)?;
        }
        let foot = foot + legend.last().map_or(0, |k| k.2);
        let ids: Vec<String> = self.compromised.iter().map(|m| m.to_string()).collect();
        let verdict = if ids.is_empty() {
            "compromised: none".to_string()
        } else {
            format!("compromised: members {}", ids.join(", "))
        };
        area.draw(&Text::new(verdict, (12, foot + 34), canvas::left(canvas::bold(13.0)))).map_err(de)?;
        if self.hidden_rows > 0 {
            let more = format!("… {} more rows in summary.json (findings)", self.hidden_rows);
            area.draw(&Text::new(more, (w as i32 / 2, foot + 56), canvas::left(canvas::text(11.0))))
                .map_err(de)?;
        }
        Ok(())
    }
}
