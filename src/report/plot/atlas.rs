//! Atlas plots: heatmaps of compromised members by group size and leaked
//! pads (or ring-collusion target), the leaked-pad curves, and the
//! two-dimensional heatmap of the smallest safe n by leaked pads and
//! curious members, one panel per operator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::canvas::{self, Chart, de};
use super::sweep::PALETTE;

/// A heatmap cell: its text, how strongly it is shaded (0..=1) and whether
/// it is safe (green) or not (red).
#[derive(Clone, Debug)]
struct Cell {
    text: String,
    shade: f64,
    safe: bool,
}

impl Cell {
    /// `compromised` of `members`, safe or not.
    fn count(compromised: u32, members: u32, safe: bool) -> Cell {
        Cell {
            text: compromised.to_string(),
            shade: f64::from(compromised) / f64::from(members.max(1)),
            safe,
        }
    }
}

/// One heatmap row: column → cell.
type Row = BTreeMap<u32, Cell>;

/// One heatmap panel: labelled rows.
struct Panel {
    title: String,
    rows: Vec<(String, Row)>,
}

struct Heatmap {
    title: String,
    subtitle: String,
    columns: Vec<u32>,
    /// What the columns count, under them.
    x_label: String,
    panels: Vec<Panel>,
}

const CELL: i32 = 44;
const LEFT: i32 = 110;
const TOP: i32 = 100;

impl Heatmap {
    fn panel_h(p: &Panel) -> i32 {
        p.rows.len() as i32 * CELL + 70
    }
}

impl Chart for Heatmap {
    fn title(&self) -> String {
        self.title.clone()
    }
    fn desc(&self) -> String {
        format!(
            "{}. Columns: {}; rows as labelled, one panel each: {}.",
            self.subtitle,
            self.x_label,
            self.panels.iter().map(|p| p.title.as_str()).collect::<Vec<_>>().join(", ")
        )
    }
    fn size(&self) -> (u32, u32) {
        let w = LEFT + self.columns.len() as i32 * CELL + 40;
        let h = TOP + self.panels.iter().map(Self::panel_h).sum::<i32>() - 20;
        (w.max(720) as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        area.draw(&Text::new(self.title.clone(), (12, 10), canvas::bold(19.0))).map_err(de)?;
        area.draw(&Text::new(self.subtitle.clone(), (12, 38), canvas::text(12.0).color(&canvas::GREY)))
            .map_err(de)?;
        let mut y0 = TOP;
        for p in &self.panels {
            area.draw(&Text::new(p.title.clone(), (LEFT, y0 - 24), canvas::left(canvas::bold(14.0))))
                .map_err(de)?;
            for (r, (label, cells)) in p.rows.iter().enumerate() {
                let y = y0 + r as i32 * CELL;
                area.draw(&Text::new(
                    label.clone(),
                    (LEFT - 10, y + CELL / 2),
                    canvas::right(canvas::text(12.0)),
                ))
                .map_err(de)?;
                for (c, n) in self.columns.iter().enumerate() {
                    let x = LEFT + c as i32 * CELL;
                    let Some(cell) = cells.get(n) else { continue };
                    let (f, safe) = (cell.shade, cell.safe);
                    let fill = if safe {
                        canvas::shade(canvas::MODE_G, 0.25 + 0.5 * f)
                    } else {
                        canvas::shade(canvas::DANGER, 0.2 + 0.8 * f)
                    };
                    area.draw(&Rectangle::new([(x + 1, y + 1), (x + CELL - 1, y + CELL - 1)], fill.filled()))
                        .map_err(de)?;
                    let color = if !safe && f > 0.6 { WHITE } else { BLACK };
                    area.draw(&Text::new(
                        cell.text.clone(),
                        (x + CELL / 2, y + CELL / 2),
                        canvas::centred(canvas::bold(13.0).color(&color)),
                    ))
                    .map_err(de)?;
                }
            }
            let yb = y0 + p.rows.len() as i32 * CELL;
            for (c, n) in self.columns.iter().enumerate() {
                let x = LEFT + c as i32 * CELL + CELL / 2;
                area.draw(&Text::new(n.to_string(), (x, yb + 12), canvas::centred(canvas::text(12.0))))
                    .map_err(de)?;
            }
            area.draw(&Text::new(
                self.x_label.clone(),
                (LEFT + self.columns.len() as i32 * CELL / 2, yb + 30),
                canvas::centred(canvas::text(12.0).color(&canvas::GREY)),
            ))
            .map_err(de)?;
            y0 += Self::panel_h(p);
        }
        Ok(())
    }
}

struct LeakLines {
    title: String,
    /// r → (n, compromised)
    lines: BTreeMap<u32, Vec<(u32, u32)>>,
}

impl Chart for LeakLines {
    fn title(&self) -> String {
        self.title.clone()
    }
    fn desc(&self) -> String {
        "Compromised members against the group size n, one line per number of leaked pads; the grey line y = n is everyone.".into()
    }
    fn size(&self) -> (u32, u32) {
        (960, 600)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let ns = self.lines.values().flatten().map(|p| p.0);
        let (n0, n1) = ns.fold((u32::MAX, 0), |(a, b), n| (a.min(n), b.max(n)));
        let (n0, n1) = if n0 > n1 { (2, 3) } else { (n0, n1) };
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, canvas::bold(17.0))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(f64::from(n0) - 0.5..f64::from(n1) + 0.5, 0f64..f64::from(n1) + 0.5)
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_desc("members n")
            .y_desc("compromised members")
            .x_labels((n1 - n0 + 1).clamp(2, 30) as usize)
            .x_label_formatter(&|x| format!("{}", x.round()))
            .label_style(canvas::text(12.0))
            .axis_desc_style(canvas::text(13.0))
            .draw()
            .map_err(de)?;
        let everyone: Vec<(f64, f64)> = (n0..=n1).map(|n| (f64::from(n), f64::from(n))).collect();
        chart
            .draw_series(LineSeries::new(everyone, canvas::GREY.stroke_width(1)))
            .map_err(de)?
            .label("everyone (y = n)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], canvas::GREY.stroke_width(1)));
        for (i, (r, pts)) in self.lines.iter().enumerate() {
            let pts: Vec<(f64, f64)> = pts.iter().map(|&(n, c)| (f64::from(n), f64::from(c))).collect();
            let label = format!("{r} leaked pad{}", if *r == 1 { "" } else { "s" });
            canvas::line(&mut chart, &pts, PALETTE[i % PALETTE.len()], &label)?;
        }
        canvas::legend(&mut chart)
    }
}

/// The rows an atlas plot draws, read and checked.
pub struct AtlasFiles {
    leaks: Option<Vec<BTreeMap<String, String>>>,
    ring: Option<Vec<BTreeMap<String, String>>>,
    safe: Option<Vec<BTreeMap<String, String>>>,
}

/// The most rows an atlas CSV of n = 2..=64 has.
const ATLAS_ROWS_MAX: usize = 64 * 64 * 2;

fn read_csv(path: &Path) -> Result<Option<Vec<BTreeMap<String, String>>>, PlotError> {
    if !path.exists() {
        return Ok(None);
    }
    let bad = |e: csv::Error| {
        let line = e.position().map_or(String::new(), |p| format!("line {}: ", p.line()));
        let message = match e.kind() {
            csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
            _ => e.to_string(),
        };
        PlotError::Data { path: path.to_path_buf(), message: format!("{line}{message}") }
    };
    let mut r = csv::Reader::from_path(path).map_err(bad)?;
    let mut rows = Vec::new();
    for row in r.deserialize::<BTreeMap<String, String>>() {
        rows.push(row.map_err(bad)?);
        if rows.len() > ATLAS_ROWS_MAX {
            return Err(PlotError::Data {
                path: path.to_path_buf(),
                message: format!("more than {ATLAS_ROWS_MAX} rows; not an atlas of n ≤ 64"),
            });
        }
    }
    Ok(Some(rows))
}

/// The number in column `key` of row `k` (0 is the first data row), within `range`.
fn num(
    path: &Path,
    k: usize,
    row: &BTreeMap<String, String>,
    key: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, PlotError> {
    row.get(key).and_then(|v| v.parse().ok()).filter(|v| range.contains(v)).ok_or_else(|| PlotError::Data {
        path: path.to_path_buf(),
        message: format!(
            "line {}: column {key}: {:?} is not a number in {}..={}",
            k + 2,
            row.get(key).map_or("", |s| s.as_str()),
            range.start(),
            range.end()
        ),
    })
}

/// Reads and checks both atlas CSVs (members 2..=64, counts within n).
pub fn load(dir: &Path) -> Result<AtlasFiles, PlotError> {
    let files = AtlasFiles {
        leaks: read_csv(&dir.join("atlas-leaks.csv"))?,
        ring: read_csv(&dir.join("atlas-ring.csv"))?,
        safe: read_csv(&dir.join("atlas-safe.csv"))?,
    };
    let path = dir.join("atlas-leaks.csv");
    for (k, row) in files.leaks.iter().flatten().enumerate() {
        let n = num(&path, k, row, "members", 2..=64)?;
        num(&path, k, row, "leaked_pads", 0..=n)?;
        num(&path, k, row, "compromised", 0..=n)?;
    }
    let path = dir.join("atlas-ring.csv");
    for (k, row) in files.ring.iter().flatten().enumerate() {
        let n = num(&path, k, row, "members", 2..=64)?;
        num(&path, k, row, "target", 1..=n)?;
        num(&path, k, row, "compromised", 0..=n)?;
        let init = row.get("init").map_or("", |s| s.as_str());
        if !["ring", "ring-hardened"].contains(&init) {
            return Err(PlotError::Data {
                path,
                message: format!("line {}: column init: {init:?}; allowed: ring, ring-hardened", k + 2),
            });
        }
    }
    let path = dir.join("atlas-safe.csv");
    // At most one add set and one xor set, each (r, c) cell once.
    let mut sets: BTreeMap<String, String> = BTreeMap::new();
    let mut cells = std::collections::BTreeSet::new();
    for (k, row) in files.safe.iter().flatten().enumerate() {
        let operator = row.get("operator").map_or("", |s| s.as_str());
        let params = row.get("params").map_or("", |s| s.as_str());
        let known = crate::group::lookup(params).is_some_and(|g| g.operator.as_str() == operator);
        if !known {
            return Err(PlotError::Data {
                path,
                message: format!(
                    "line {}: columns operator, params: {operator:?}, {params:?} is not an add set (toy-64, …) or an xor-L set",
                    k + 2
                ),
            });
        }
        if *sets.entry(operator.to_string()).or_insert_with(|| params.to_string()) != params {
            return Err(PlotError::Data {
                path,
                message: format!(
                    "line {}: a second {operator} set ({params}); an atlas has one of each",
                    k + 2
                ),
            });
        }
        let top = num(&path, k, row, "checked_to", 2..=64)?;
        let r = num(&path, k, row, "leaked_pads", 0..=top)?;
        let c = num(&path, k, row, "curious", 1..=top)?;
        if r + c >= top {
            return Err(PlotError::Data {
                path,
                message: format!(
                    "line {}: leaked_pads + curious = {} leaves no honest member at n ≤ {top}",
                    k + 2,
                    r + c
                ),
            });
        }
        num(&path, k, row, "checked_from", (r + c + 1)..=top)?;
        if !cells.insert((operator.to_string(), r, c)) {
            return Err(PlotError::Data {
                path,
                message: format!("line {}: the cell r = {r}, c = {c} again", k + 2),
            });
        }
        if row.get("smallest_safe_n").is_some_and(|v| !v.is_empty()) {
            num(&path, k, row, "smallest_safe_n", 2..=top)?;
        }
    }
    Ok(files)
}

/// Draws the atlas heatmaps (SVG and PNG) and the leaked-pad curves; returns the files written.
pub fn draw(dir: &Path, files: &AtlasFiles) -> Result<Vec<PathBuf>, PlotError> {
    let mut written = Vec::new();
    let leaks_path = dir.join("atlas-leaks.csv");
    if let Some(rows) = &files.leaks {
        let mut by_r: BTreeMap<u32, Row> = BTreeMap::new();
        let mut lines: BTreeMap<u32, Vec<(u32, u32)>> = BTreeMap::new();
        for (k, row) in rows.iter().enumerate() {
            let (n, r, c) = (
                num(&leaks_path, k, row, "members", 2..=64)?,
                num(&leaks_path, k, row, "leaked_pads", 0..=64)?,
                num(&leaks_path, k, row, "compromised", 0..=64)?,
            );
            by_r.entry(r).or_default().insert(n, Cell::count(c, n, c <= r));
            if r <= 3 {
                lines.entry(r).or_default().push((n, c));
            }
        }
        let columns: Vec<u32> = by_r
            .values()
            .flat_map(|c| c.keys().copied())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let heat = Heatmap {
            title: "Atlas · members 1..r leak their pad α (every member curious)".into(),
            subtitle: "cell: compromised members; green: safe (only the leakers), red: others fall".into(),
            columns,
            x_label: "members n".into(),
            panels: vec![Panel {
                title: "leaked pads r".into(),
                rows: by_r.into_iter().map(|(r, cells)| (format!("r = {r}"), cells)).collect(),
            }],
        };
        written.push(canvas::write_svg(&dir.join("atlas-leaks.svg"), &heat)?);
        written.push(canvas::write_png(&dir.join("atlas-leaks.png"), &heat)?);
        let curves = LeakLines { title: "Compromised members vs n for 0..3 leaked pads".into(), lines };
        written.push(canvas::write_svg(&dir.join("atlas-leaks-lines.svg"), &curves)?);
    }
    let ring_path = dir.join("atlas-ring.csv");
    if let Some(rows) = &files.ring {
        let mut panels: BTreeMap<String, BTreeMap<u32, Row>> = BTreeMap::new();
        let mut columns = std::collections::BTreeSet::new();
        for (k, row) in rows.iter().enumerate() {
            let (n, t, c) = (
                num(&ring_path, k, row, "members", 2..=64)?,
                num(&ring_path, k, row, "target", 1..=64)?,
                num(&ring_path, k, row, "compromised", 0..=64)?,
            );
            let init = row.get("init").cloned().unwrap_or_default();
            columns.insert(n);
            // Safe: the colluders' pooled view exposes nobody but themselves.
            panels.entry(init).or_default().entry(t).or_default().insert(n, Cell::count(c, n, c == 0));
        }
        let heat = Heatmap {
            title: "Atlas · members t−1 and t+1 collude against t".into(),
            subtitle: "cell: members compromised by the pair's pooled view; green: none".into(),
            columns: columns.into_iter().collect(),
            x_label: "members n".into(),
            panels: panels
                .into_iter()
                .map(|(init, by_t)| Panel {
                    title: format!("init = {init}"),
                    rows: by_t.into_iter().map(|(t, cells)| (format!("t = {t}"), cells)).collect(),
                })
                .collect(),
        };
        written.push(canvas::write_svg(&dir.join("atlas-ring.svg"), &heat)?);
        written.push(canvas::write_png(&dir.join("atlas-ring.png"), &heat)?);
    }
    let safe_path = dir.join("atlas-safe.csv");
    if let Some(rows) = &files.safe {
        // (operator, params) → r → c → cell, in the file's order of sets.
        let mut panels: Vec<(String, BTreeMap<u32, Row>)> = Vec::new();
        let mut columns = std::collections::BTreeSet::new();
        let mut top = 2;
        for (k, row) in rows.iter().enumerate() {
            top = top.max(num(&safe_path, k, row, "checked_to", 2..=64)?);
        }
        for (k, row) in rows.iter().enumerate() {
            let (r, c) = (
                num(&safe_path, k, row, "leaked_pads", 0..=64)?,
                num(&safe_path, k, row, "curious", 1..=64)?,
            );
            let safe_n = match row.get("smallest_safe_n").map(|s| s.as_str()) {
                None | Some("") => None,
                Some(_) => Some(num(&safe_path, k, row, "smallest_safe_n", 2..=64)?),
            };
            let title = format!(
                "operator = {} ({})",
                row.get("operator").map_or("", |s| s.as_str()),
                row.get("params").map_or("", |s| s.as_str())
            );
            if panels.last().is_none_or(|(t, _)| *t != title) {
                panels.push((title, BTreeMap::new()));
            }
            let from = num(&safe_path, k, row, "checked_from", 1..=64)?;
            let cell = match safe_n {
                // Darker green: a larger group is needed. "≤n": the range
                // started above the first n this cell could have.
                Some(n) => Cell {
                    text: if n == from && n > r + c + 1 { format!("≤{n}") } else { n.to_string() },
                    shade: f64::from(n) / f64::from(top),
                    safe: true,
                },
                None => Cell { text: format!(">{top}"), shade: 0.6, safe: false },
            };
            columns.insert(c);
            if let Some((_, by_r)) = panels.last_mut() {
                by_r.entry(r).or_default().insert(c, cell);
            }
        }
        let heat = Heatmap {
            title: "Atlas · the smallest safe n, by leaked pads and pooling members".into(),
            subtitle: format!(
                "members 1..r leak α; members r+1..r+c pool their views; cell: smallest n with no honest member compromised (red: none up to n = {top})"
            ),
            columns: columns.into_iter().collect(),
            x_label: "curious members c pooling their views".into(),
            panels: panels
                .into_iter()
                .map(|(title, by_r)| Panel {
                    title,
                    rows: by_r.into_iter().map(|(r, cells)| (format!("r = {r}"), cells)).collect(),
                })
                .collect(),
        };
        written.push(canvas::write_svg(&dir.join("atlas-safe.svg"), &heat)?);
        written.push(canvas::write_png(&dir.join("atlas-safe.png"), &heat)?);
    }
    Ok(written)
}
