//! A sweep's files (reference §5; README "Sweeps"): `sweep.json` (format
//! `fraclab-sweep/1`, the [`Manifest`]) and the rows of `sweep.csv`
//! ([`Row`]), with the checks every reader holds them to. `lab::sweep`
//! writes both; `sweep merge`, `--resume` and the sweep plot read them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::JsonError;
use super::summary::{EPOCHS_MAX, MEMBERS_MAX};

/// The format string of `sweep.json`.
pub const SWEEP_FORMAT: &str = "fraclab-sweep/1";

/// `--seeds N`: at most this many.
pub const SEEDS_MAX: u64 = 1_000_000;
/// The most runs one sweep may have.
pub const RUNS_MAX: u64 = 100_000_000;
/// The largest number of values one `--vary` may list or expand to.
pub const VALUES_MAX: usize = 100_000;

/// The summary metrics a sweep writes per run, after the varied keys and
/// `seed`. Per-epoch figures divide by the epochs completed plus one (the
/// initialisation is epoch 1). Knowledge columns are empty when the run's
/// analysis is off, the dlog columns when no dlog adversary is declared;
/// `error` is empty unless the run could not be made.
pub const METRICS: [&str; 23] = [
    "passed",
    "keys_agreed",
    "epochs_completed",
    "compromised_count",
    "secure_count",
    "outsider_learns_key",
    "recovered_count",
    "stalled",
    "invariants_held",
    "events",
    "messages_sent",
    "messages_delivered",
    "messages_dropped",
    "retransmissions",
    "sim_time_us",
    "messages_per_epoch",
    "sim_time_us_per_epoch",
    "detected_count",
    "dlog_recovered",
    "dlog_work",
    "rejected_count",
    "accepted_forgeries",
    "error",
];

/// One `--vary KEY=VALUES`: the dotted key and its values as the CSV writes
/// them (a range `3..6` is expanded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vary {
    /// The dotted scenario key.
    pub key: String,
    /// Its values, as the CSV writes them.
    pub values: Vec<String>,
}

/// `--shard K/N`: the runs with index ≡ K−1 (mod N).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// K, from 1.
    pub index: u64,
    /// N.
    pub count: u64,
}

impl Shard {
    /// Whether run `run` belongs to this shard.
    pub fn holds(&self, run: u64) -> bool {
        run % self.count == self.index - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What `sweep.json` records: enough to tell two sweeps apart, nothing that
/// differs between machines (no paths, no times).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`SWEEP_FORMAT`].
    pub format: String,
    /// The scenario's name.
    pub scenario: String,
    /// SHA-256 (hex) of the scenario file.
    pub scenario_sha256: String,
    /// The varied keys, first slowest.
    pub vary: Vec<Vary>,
    /// The seeds, in order: the scenario's seed and the N−1 after it.
    pub seeds: Vec<u64>,
    /// Runs in the whole grid.
    pub runs: u64,
    /// The CSV's columns: the varied keys, `seed`, [`METRICS`].
    pub columns: Vec<String>,
    /// Set for the output of `--shard K/N`.
    pub shard: Option<Shard>,
    /// The fraclab version.
    pub fraclab: String,
}

/// A sweep's columns: the varied keys, `seed`, the metrics.
pub fn columns_of(vary: &[Vary]) -> Vec<String> {
    let mut columns: Vec<String> = vary.iter().map(|v| v.key.clone()).collect();
    columns.push("seed".into());
    columns.extend(METRICS.iter().map(|m| m.to_string()));
    columns
}

impl Manifest {
    /// Reads `sweep.json`'s text: the format string exactly, then every
    /// field typed, then [`Manifest::check`]. Errors name the line and key.
    pub fn from_json(text: &str) -> Result<Manifest, JsonError> {
        let m: Manifest = super::parse_json(text, SWEEP_FORMAT)?;
        m.check().map_err(|message| JsonError { line: None, key: String::new(), message })?;
        Ok(m)
    }

    /// The manifest as `sweep.json` holds it.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest serialises");
        text.push('\n');
        text
    }

    /// The run index of value indices `idx` and seed offset `seed` (the
    /// varied values in order, the first slowest, then the seed).
    pub fn index(&self, idx: &[usize], seed: u64) -> u64 {
        let sizes = self.vary.iter().map(|v| v.values.len() as u64);
        let combo = idx.iter().zip(sizes).fold(0u64, |acc, (&i, size)| acc * size + i as u64);
        combo * self.seeds.len() as u64 + seed
    }

    /// The run index of a row, from its varied values and seed.
    pub fn run_of(&self, row: &Row) -> Option<u64> {
        let idx: Option<Vec<usize>> = self
            .vary
            .iter()
            .zip(&row.values)
            .map(|(v, cell)| v.values.iter().position(|x| x == cell))
            .collect();
        let s = self.seeds.iter().position(|&x| x == row.seed)? as u64;
        Some(self.index(&idx?, s))
    }

    /// How many runs this sweep's output (sharded or not) holds.
    pub fn held_runs(&self) -> u64 {
        match self.shard {
            None => self.runs,
            Some(s) => self.runs / s.count + u64::from(s.index - 1 < self.runs % s.count),
        }
    }

    /// Whether this sweep's output (sharded or not) holds run `i`.
    pub fn holds(&self, i: u64) -> bool {
        self.shard.is_none_or(|s| s.holds(i))
    }

    /// Every size within the limits `fraclab sweep` itself enforces, the
    /// run count and the columns consistent with the grid.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=SEEDS_MAX as usize).contains(&self.seeds.len()) {
            return Err(format!("seeds: {} seeds; allowed: 1..={SEEDS_MAX}", self.seeds.len()));
        }
        let mut keys = BTreeSet::new();
        for (k, v) in self.vary.iter().enumerate() {
            if !(1..=VALUES_MAX).contains(&v.values.len()) {
                return Err(format!(
                    "vary[{k}].values: {} values; allowed: 1..={VALUES_MAX}",
                    v.values.len()
                ));
            }
            if !keys.insert(v.key.as_str()) || v.key == "seed" {
                return Err(format!("vary[{k}].key: \"{}\" is varied twice", v.key));
            }
        }
        let runs = self
            .vary
            .iter()
            .try_fold(self.seeds.len() as u64, |acc, v| acc.checked_mul(v.values.len() as u64));
        match runs {
            Some(r) if r == self.runs && r <= RUNS_MAX => {}
            Some(r) if r <= RUNS_MAX => {
                return Err(format!("runs: {}, but the grid has {r}", self.runs));
            }
            _ => return Err(format!("runs: the grid has more than {RUNS_MAX} runs")),
        }
        let expected = columns_of(&self.vary);
        if self.columns != expected {
            let k = self.columns.iter().zip(&expected).take_while(|(a, b)| a == b).count();
            let found = self.columns.get(k).map_or("nothing".to_string(), |c| format!("\"{c}\""));
            let want = expected.get(k).map_or("nothing".to_string(), |c| format!("\"{c}\""));
            return Err(format!("columns[{k}]: {found}; this fraclab writes {want} there"));
        }
        if let Some(sh) = self.shard
            && !(sh.index >= 1 && sh.index <= sh.count)
        {
            return Err(format!(
                "shard: {{\"index\": {}, \"count\": {}}}; expected 1 ≤ index ≤ count",
                sh.index, sh.count
            ));
        }
        Ok(())
    }

    /// How `other` differs from this manifest, ignoring the shard.
    pub fn difference(&self, other: &Manifest) -> Option<&'static str> {
        if self.scenario_sha256 != other.scenario_sha256 || self.scenario != other.scenario {
            Some("the scenario")
        } else if self.vary != other.vary {
            Some("the varied keys or values")
        } else if self.seeds != other.seeds {
            Some("the seeds")
        } else if self.columns != other.columns {
            Some("the columns")
        } else if self.fraclab != other.fraclab {
            Some("the fraclab version")
        } else {
            None
        }
    }

    /// The rows of a `sweep.csv` (its bytes), by run index, each checked
    /// against the manifest: the header is the manifest's columns, every
    /// row has one cell per column, varied values and the seed are this
    /// sweep's, every metric has its type. Only a last line cut off
    /// mid-write (no newline) is dropped, and counted. An error is
    /// (line, message).
    pub fn parse_rows(&self, bytes: &[u8]) -> Result<(BTreeMap<u64, Row>, usize), (u64, String)> {
        let mut bytes = bytes;
        let mut dropped = 0;
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            let cut = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            bytes = &bytes[..cut];
            dropped += 1;
        }
        let mut r = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(bytes);
        let mut rows = BTreeMap::new();
        let mut record = csv::StringRecord::new();
        let mut first = true;
        loop {
            let line = r.position().line();
            match r.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(line, |p| p.line());
                    let what = match e.kind() {
                        csv::ErrorKind::Utf8 { err, .. } => {
                            format!("field {}: not UTF-8 text", err.field() + 1)
                        }
                        _ => e.to_string(),
                    };
                    return Err((line, what));
                }
            }
            let line = record.position().map_or(line, |p| p.line());
            let cells: Vec<String> = record.iter().map(str::to_string).collect();
            if first {
                first = false;
                self.check_header(&cells).map_err(|m| (line, m))?;
                continue;
            }
            let row = self.row(cells).map_err(|m| (line, m))?;
            let i = self.run_of(&row).filter(|&i| self.holds(i)).ok_or_else(|| {
                (line, "a run that is not part of this sweep (or of this shard)".to_string())
            })?;
            if rows.insert(i, row).is_some() {
                return Err((line, "the run is listed twice".into()));
            }
        }
        Ok((rows, dropped))
    }

    fn check_header(&self, cells: &[String]) -> Result<(), String> {
        if cells == self.columns {
            return Ok(());
        }
        let k = cells.iter().zip(&self.columns).take_while(|(a, b)| a == b).count();
        let what = match (cells.get(k), self.columns.get(k)) {
            (Some(c), Some(want)) => format!("column {}: \"{c}\"; sweep.json says \"{want}\"", k + 1),
            (Some(c), None) => format!("column {}: \"{c}\" is not a column of this sweep", k + 1),
            _ => format!("{} columns; sweep.json lists {}", cells.len(), self.columns.len()),
        };
        Err(format!("the header is not this sweep's: {what}"))
    }

    /// One data row of this sweep, its cells checked.
    pub fn row(&self, mut cells: Vec<String>) -> Result<Row, String> {
        if cells.len() != self.columns.len() {
            return Err(format!("{} fields; the header has {}", cells.len(), self.columns.len()));
        }
        let k = self.vary.len();
        for (v, cell) in self.vary.iter().zip(&cells) {
            if !v.values.contains(cell) {
                return Err(format!("column {}: {cell:?} is not one of this sweep's values", v.key));
            }
        }
        let seed = cells[k].parse::<u64>().ok().filter(|s| self.seeds.contains(s));
        let Some(seed) = seed else {
            return Err(format!("column seed: {:?} is not one of this sweep's seeds", cells[k]));
        };
        let metrics = cells.split_off(k + 1);
        cells.truncate(k);
        let errored = metrics.last().is_some_and(|e| !e.is_empty());
        for (name, cell) in METRICS.iter().zip(&metrics) {
            check_cell(name, cell, errored).map_err(|e| format!("column {name}: {e}"))?;
        }
        Ok(Row { values: cells, seed, metrics })
    }
}

/// One row of `sweep.csv`: a run's varied values, seed and metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The varied values, in the manifest's order.
    pub values: Vec<String>,
    /// The run's seed.
    pub seed: u64,
    /// One cell per [`METRICS`] column, as the CSV writes it (checked
    /// against the column's type when read).
    pub metrics: Vec<String>,
}

impl Row {
    /// The cells in column order.
    pub fn cells(&self) -> Vec<String> {
        let mut out = self.values.clone();
        out.push(self.seed.to_string());
        out.extend(self.metrics.iter().cloned());
        out
    }

    /// The cell of metric `name`; `None` for a name not in [`METRICS`].
    pub fn metric(&self, name: &str) -> Option<&str> {
        let k = METRICS.iter().position(|m| *m == name)?;
        self.metrics.get(k).map(String::as_str)
    }

    /// The run could not be made: the `error` cell, when set.
    pub fn error(&self) -> Option<&str> {
        self.metric("error").filter(|e| !e.is_empty())
    }

    /// The run was made and failed an expectation or invariant.
    pub fn failed(&self) -> bool {
        self.error().is_none() && self.metric("passed") == Some("false")
    }
}

/// What a metric cell holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    Bool,
    /// Empty when the knowledge analysis is off.
    OptBool,
    Count,
    /// Empty when the analysis is off or no dlog adversary is declared.
    OptCount,
    /// A per-epoch mean, written with one decimal.
    Mean,
    Text,
}

fn cell_kind(metric: &str) -> Cell {
    match metric {
        "passed" | "keys_agreed" | "stalled" | "invariants_held" => Cell::Bool,
        "outsider_learns_key" => Cell::OptBool,
        "compromised_count" | "secure_count" | "dlog_recovered" | "dlog_work" => Cell::OptCount,
        "messages_per_epoch" | "sim_time_us_per_epoch" => Cell::Mean,
        "error" => Cell::Text,
        _ => Cell::Count,
    }
}

/// The largest value of a count column, and how an error states it.
fn count_max(metric: &str) -> (u64, String) {
    match metric {
        "compromised_count" | "secure_count" | "recovered_count" => {
            (u64::from(MEMBERS_MAX), format!("0..={MEMBERS_MAX}"))
        }
        "epochs_completed" => (EPOCHS_MAX, format!("0..={EPOCHS_MAX}")),
        _ => (u64::MAX, "a count".to_string()),
    }
}

/// Whether `cell` is a value of its column; `errored`: the row's `error` is set,
/// and then every other metric is empty.
pub fn check_cell(metric: &str, cell: &str, errored: bool) -> Result<(), String> {
    let kind = cell_kind(metric);
    if kind == Cell::Text {
        return Ok(());
    }
    if errored {
        return if cell.is_empty() {
            Ok(())
        } else {
            Err(format!("{cell:?}: a run with an error has no metrics"))
        };
    }
    let ok = match kind {
        Cell::OptBool | Cell::OptCount if cell.is_empty() => true,
        Cell::Bool | Cell::OptBool => cell == "true" || cell == "false",
        Cell::Count | Cell::OptCount => {
            let max = count_max(metric).0;
            cell.bytes().all(|b| b.is_ascii_digit()) && cell.parse::<u64>().is_ok_and(|v| v <= max)
        }
        Cell::Mean => cell.parse::<f64>().is_ok_and(|v| v.is_finite() && v >= 0.0) && !cell.starts_with('+'),
        Cell::Text => true,
    };
    if ok {
        return Ok(());
    }
    let allowed = match kind {
        Cell::Bool => "true or false".to_string(),
        Cell::OptBool => "true, false or empty".to_string(),
        Cell::Count => count_max(metric).1,
        Cell::OptCount => format!("{} or empty", count_max(metric).1),
        Cell::Mean => "a non-negative number".to_string(),
        Cell::Text => String::new(),
    };
    Err(format!("{cell:?}; allowed: {allowed}"))
}
