//! `fraclab sweep` (reference §6): one scenario over a grid of varied keys and
//! seeds. Runs go in parallel (rayon); each finished run is appended to
//! `sweep.csv` at once, so an interrupted sweep keeps its work and
//! `--resume` skips it. When every run is in, the file is rewritten in run
//! order: the varied values (first key slowest), then the seed. That order
//! does not depend on `--jobs` or on sharding, so `sweep merge` of the
//! shards writes the same bytes as an unsharded sweep.
//!
//! `sweep.json` (format `fraclab-sweep/1`) records the grid; `--resume` and
//! `merge` refuse outputs of a different sweep.

pub mod grid;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use grid::{Grid, Shard, Vary};

use crate::report::plot::data;
use crate::report::{self, Summary};
use crate::scenario::{self, LoadError, TraceLevel};

pub const SWEEP_FORMAT: &str = "fraclab-sweep/1";

/// The most parallel runs `--jobs` asks for: a fixed bound, the same on
/// every machine, far above any core count fraclab runs on, and far below
/// what makes thread creation fail.
pub const JOBS_MAX: usize = 256;
/// `--seeds N`: at most this many.
pub const SEEDS_MAX: u64 = 1_000_000;
/// The most runs one sweep may have.
pub const RUNS_MAX: u64 = 100_000_000;

/// A sweep's columns: the varied keys, `seed`, the metrics.
fn columns_of(vary: &[Vary]) -> Vec<String> {
    let mut columns: Vec<String> = vary.iter().map(|v| v.key.clone()).collect();
    columns.push("seed".into());
    columns.extend(METRICS.iter().map(|m| m.to_string()));
    columns
}

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

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Bad arguments, a scenario that does not load, or outputs of another sweep.
    #[error("{0}")]
    BadInput(String),
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |error| SweepError::Io { path: path.to_path_buf(), error }
}

/// What `sweep.json` records: enough to tell two sweeps apart, nothing that
/// differs between machines (no paths, no times).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub scenario: String,
    pub scenario_sha256: String,
    pub vary: Vec<Vary>,
    /// The seeds, in order: the scenario's seed and the N−1 after it.
    pub seeds: Vec<u64>,
    pub runs: u64,
    pub columns: Vec<String>,
    /// Set for the output of `--shard K/N`.
    pub shard: Option<Shard>,
    pub fraclab: String,
}

impl Manifest {
    pub fn grid(&self) -> Grid {
        Grid { sizes: self.vary.iter().map(|v| v.values.len()).collect(), seeds: self.seeds.len() as u64 }
    }

    /// The run index of a CSV row, from its varied values and seed.
    fn run_of(&self, row: &[String]) -> Option<u64> {
        let k = self.vary.len();
        let idx: Option<Vec<usize>> =
            self.vary.iter().zip(row).map(|(v, cell)| v.values.iter().position(|x| x == cell)).collect();
        let seed: u64 = row.get(k)?.parse().ok()?;
        let s = self.seeds.iter().position(|&x| x == seed)? as u64;
        Some(self.grid().index(&idx?, s))
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

    /// Reads `dir/sweep.json`: the format string exactly, then every size
    /// within the limits `fraclab sweep` itself enforces, the run count and
    /// the columns consistent with the grid. Errors name the file, line and key.
    pub fn read(dir: &Path) -> Result<Manifest, SweepError> {
        let path = dir.join("sweep.json");
        if !path.exists() {
            return Err(SweepError::BadInput(format!(
                "{}: not a sweep folder (no sweep.json)",
                dir.display()
            )));
        }
        let text = data::read_bounded(&path, data::JSON_FILE_MAX).map_err(SweepError::BadInput)?;
        let m: Manifest = data::parse_json(&text, &path, SWEEP_FORMAT).map_err(SweepError::BadInput)?;
        m.check().map_err(|e| SweepError::BadInput(format!("{}: {e}", path.display())))?;
        Ok(m)
    }

    fn check(&self) -> Result<(), String> {
        if !(1..=SEEDS_MAX as usize).contains(&self.seeds.len()) {
            return Err(format!("seeds: {} seeds; allowed: 1..={SEEDS_MAX}", self.seeds.len()));
        }
        let mut keys = std::collections::BTreeSet::new();
        for (k, v) in self.vary.iter().enumerate() {
            if !(1..=grid::VALUES_MAX).contains(&v.values.len()) {
                return Err(format!(
                    "vary[{k}].values: {} values; allowed: 1..={}",
                    v.values.len(),
                    grid::VALUES_MAX
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

    fn write(&self, dir: &Path) -> Result<(), SweepError> {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest serialises");
        text.push('\n');
        write_atomic(&dir.join("sweep.json"), text.as_bytes())
    }

    /// How `other` differs from this manifest, ignoring the shard.
    fn difference(&self, other: &Manifest) -> Option<&'static str> {
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
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SweepError> {
    report::write_atomic(path, bytes).map_err(|(path, error)| SweepError::Io { path, error })
}

/// A sweep ready to run: the base scenario's TOML and the grid.
#[derive(Debug)]
pub struct Plan {
    pub manifest: Manifest,
    base: scenario::Scenario,
}

impl Plan {
    /// Reads the scenario and checks every varied value on its own against
    /// it, so a typo fails before anything runs. Combinations that only fail
    /// together (a member id beyond a smaller n) become rows with an `error`.
    pub fn new(path: &Path, vary: &[String], seeds: u64) -> Result<Plan, SweepError> {
        let file = path.display().to_string();
        let src = match fs::read_to_string(path) {
            Ok(src) => src,
            // Not UTF-8: the loader locates the first bad byte.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                let located = scenario::load(path).err().map(|l| l.to_string());
                return Err(SweepError::BadInput(located.unwrap_or(format!("{file}: {e}"))));
            }
            Err(e) => return Err(SweepError::BadInput(format!("{file}: cannot read the scenario: {e}"))),
        };
        let sc = scenario::parse(&src, &file).map_err(|e| SweepError::BadInput(e.to_string()))?;
        let vary: Vec<Vary> =
            vary.iter().map(|s| Vary::parse(s)).collect::<Result<_, _>>().map_err(SweepError::BadInput)?;
        let mut keys = std::collections::BTreeSet::new();
        if let Some(v) = vary.iter().find(|v| !keys.insert(v.key.as_str())) {
            return Err(SweepError::BadInput(format!("--vary {}: the key is varied twice", v.key)));
        }
        if !(1..=SEEDS_MAX).contains(&seeds) {
            return Err(SweepError::BadInput(format!("--seeds {seeds}: expected 1..={SEEDS_MAX}")));
        }
        let seeds: Vec<u64> = (0..seeds)
            .map(|k| sc.seed().checked_add(k))
            .collect::<Option<_>>()
            .ok_or_else(|| SweepError::BadInput(format!("seed {} + {seeds} overflows a u64", sc.seed())))?;
        let columns = columns_of(&vary);
        let grid = Grid { sizes: vary.iter().map(|v| v.values.len()).collect(), seeds: seeds.len() as u64 };
        let runs = grid.sizes.iter().try_fold(grid.seeds, |acc, &s| acc.checked_mul(s as u64));
        let runs = runs
            .filter(|&r| r <= RUNS_MAX)
            .ok_or_else(|| SweepError::BadInput("the sweep has more than 10^8 runs".into()))?;
        let manifest = Manifest {
            format: SWEEP_FORMAT.into(),
            scenario: sc.name().to_string(),
            scenario_sha256: hex::encode(Sha256::digest(src.as_bytes())),
            vary,
            seeds,
            runs,
            columns,
            shard: None,
            fraclab: env!("CARGO_PKG_VERSION").into(),
        };
        let plan = Plan { manifest, base: sc };
        plan.check_values()?;
        Ok(plan)
    }

    /// Every varied value must make a valid scenario together with some
    /// values of the other keys (a typo or an out-of-range value never
    /// does). At most `TRIES` combinations are tried per value.
    fn check_values(&self) -> Result<(), SweepError> {
        const TRIES: u64 = 1000;
        let vary = &self.manifest.vary;
        for (k, v) in vary.iter().enumerate() {
            let mut others = Grid { sizes: vary.iter().map(|v| v.values.len()).collect(), seeds: 1 };
            others.sizes[k] = 1;
            for (vi, value) in v.values.iter().enumerate() {
                let mut first_err = None;
                let loads = (0..others.runs().min(TRIES)).any(|i| {
                    let (mut idx, _) = others.point(i);
                    idx[k] = vi;
                    let sets: Vec<(&str, &str)> =
                        vary.iter().zip(&idx).map(|(v, &j)| (v.key.as_str(), v.values[j].as_str())).collect();
                    match self.scenario(&sets, None) {
                        Ok(_) => true,
                        Err(e) => {
                            first_err.get_or_insert(e);
                            false
                        }
                    }
                });
                if let (false, Some(e)) = (loads, first_err) {
                    let with = if vary.len() > 1 { " (with any value of the other varied keys)" } else { "" };
                    return Err(SweepError::BadInput(format!(
                        "--vary {}={value}: {}{with}",
                        v.key,
                        e.without_location()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The base scenario with `sets` applied, loaded and validated.
    fn scenario(&self, sets: &[(&str, &str)], seed: Option<u64>) -> Result<scenario::Scenario, LoadError> {
        let mut b = self.base.to_builder();
        for (key, value) in sets {
            b = b.set(key, scenario::value_from_str(value))?;
        }
        if let Some(s) = seed {
            b = b.seed(s);
        }
        b.build()
    }

    /// Runs number `i` and returns its CSV row.
    pub fn run(&self, i: u64) -> Vec<String> {
        let m = &self.manifest;
        let (idx, s) = m.grid().point(i);
        let sets: Vec<(&str, &str)> =
            m.vary.iter().zip(&idx).map(|(v, &k)| (v.key.as_str(), v.values[k].as_str())).collect();
        let seed = m.seeds[s as usize];
        let mut row: Vec<String> = sets.iter().map(|(_, v)| v.to_string()).collect();
        row.push(seed.to_string());
        let result = self
            .scenario(&sets, Some(seed))
            .map_err(|e| format!("invalid scenario: {}", e.without_location()))
            .and_then(|sc| report::execute(&sc, TraceLevel::None, None).map_err(|e| e.to_string()));
        match result {
            Ok(r) => row.extend(metrics(&r.summary)),
            Err(e) => {
                row.extend(std::iter::repeat_n(String::new(), METRICS.len() - 1));
                row.push(e);
            }
        }
        row
    }
}

impl Plan {
    /// [`Plan::run`], with a panic turned into the row's `error` (a fraclab
    /// bug, to report): the other runs go on, every row written is whole,
    /// and the sweep ends with exit 1 naming the rows that did not complete.
    pub fn run_guarded(&self, i: u64) -> Vec<String> {
        guarded(
            self.manifest.columns.len(),
            || self.run(i),
            || {
                let (idx, s) = self.manifest.grid().point(i);
                let mut row: Vec<String> =
                    self.manifest.vary.iter().zip(&idx).map(|(v, &k)| v.values[k].clone()).collect();
                row.push(self.manifest.seeds[s as usize].to_string());
                row
            },
        )
    }
}

/// Runs `f`; if it panics, a row of `width` cells: `key` (the varied values
/// and seed), empty metrics, and the panic in `error`.
fn guarded(width: usize, f: impl FnOnce() -> Vec<String>, key: impl FnOnce() -> Vec<String>) -> Vec<String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(row) => row,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            let mut row = key();
            row.resize(width.saturating_sub(1), String::new());
            row.push(format!("fraclab bug: the run panicked: {what}"));
            row
        }
    }
}

fn metrics(s: &Summary) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let per_epoch = |x: u64| format!("{:.1}", x as f64 / (s.epochs_completed + 1) as f64);
    let row = vec![
        s.passed().to_string(),
        s.keys_agreed.to_string(),
        s.epochs_completed.to_string(),
        opt(s.compromised.as_ref().map(|c| c.len().to_string())),
        opt(s.secure.as_ref().map(|c| c.len().to_string())),
        opt(s.outsider_learns_key.map(|b| b.to_string())),
        s.recovered.len().to_string(),
        s.stalled.is_some().to_string(),
        s.invariants_held.to_string(),
        s.events.to_string(),
        s.messages_sent.to_string(),
        s.messages_delivered.to_string(),
        s.messages_dropped.to_string(),
        s.retransmissions.to_string(),
        s.sim_time_us.to_string(),
        per_epoch(s.messages_sent),
        per_epoch(s.sim_time_us),
        s.detected.len().to_string(),
        dlog_sum(s, "recovered"),
        dlog_sum(s, "work"),
        s.rejected.values().sum::<u64>().to_string(),
        s.accepted_forgeries.to_string(),
        String::new(),
    ];
    debug_assert_eq!(row.len(), METRICS.len());
    row
}

/// The sum of a field over the dlog attacks' summaries; empty without any.
fn dlog_sum(s: &Summary, field: &str) -> String {
    let attacks: Vec<u64> =
        s.findings.iter().filter(|f| f["kind"] == "dlog-attack").filter_map(|f| f[field].as_u64()).collect();
    if attacks.is_empty() { String::new() } else { attacks.iter().sum::<u64>().to_string() }
}

/// One CSV record's bytes, as every writer of `sweep.csv` formats it.
fn csv_line(cells: &[String]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    w.write_record(cells).expect("writing CSV to memory cannot fail");
    w.into_inner().expect("writing CSV to memory cannot fail")
}

/// `sweep.csv`'s bytes: the header, then the rows in run order.
fn csv_file(m: &Manifest, rows: &BTreeMap<u64, Vec<String>>) -> Vec<u8> {
    let mut out = csv_line(&m.columns);
    for row in rows.values() {
        out.extend(csv_line(row));
    }
    out
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

/// Whether `cell` is a value of its column; `errored`: the row's `error` is set,
/// and then every other metric is empty.
fn check_cell(metric: &str, cell: &str, errored: bool) -> Result<(), String> {
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
            let max = match metric {
                "compromised_count" | "secure_count" | "recovered_count" => u64::from(data::MEMBERS_MAX),
                "epochs_completed" => data::EPOCHS_MAX,
                _ => u64::MAX,
            };
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
        Cell::Count | Cell::OptCount => {
            let max = match metric {
                "compromised_count" | "secure_count" | "recovered_count" => {
                    format!("0..={}", data::MEMBERS_MAX)
                }
                "epochs_completed" => format!("0..={}", data::EPOCHS_MAX),
                _ => "a count".to_string(),
            };
            if kind == Cell::OptCount { format!("{max} or empty") } else { max }
        }
        Cell::Mean => "a non-negative number".to_string(),
        Cell::Text => String::new(),
    };
    Err(format!("{cell:?}; allowed: {allowed}"))
}

/// The longest row a reader accepts (a real row is a few hundred bytes).
const ROW_BYTES_MAX: u64 = 16 << 10;

/// The complete rows of `dir/sweep.csv`, by run index, each checked
/// against the manifest: the header is the manifest's columns, every row
/// has one cell per column, varied values and the seed are this sweep's,
/// every metric has its type. Only a last line cut off mid-write (no
/// newline) is dropped, and counted; anything else wrong is an error
/// `sweep.csv:LINE: column X: …`. A missing file has no rows.
pub fn read_rows(dir: &Path, m: &Manifest) -> Result<(BTreeMap<u64, Vec<String>>, usize), SweepError> {
    let path = dir.join("sweep.csv");
    let held = m.held_runs();
    let max = (held + 1).saturating_mul(ROW_BYTES_MAX);
    let mut bytes = match fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((BTreeMap::new(), 0)),
        Err(e) => return Err(io_err(&path)(e)),
        Ok(meta) if meta.len() > max => {
            return Err(SweepError::BadInput(format!(
                "{}: {} bytes, more than {} rows of this sweep can hold",
                path.display(),
                meta.len(),
                held
            )));
        }
        Ok(_) => fs::read(&path).map_err(io_err(&path))?,
    };
    let mut dropped = 0;
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        let cut = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        bytes.truncate(cut);
        dropped += 1;
    }
    let at = |line: u64, what: String| SweepError::BadInput(format!("{}:{line}: {what}", path.display()));
    let mut r = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(&bytes[..]);
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
                    csv::ErrorKind::Utf8 { err, .. } => format!("field {}: not UTF-8 text", err.field() + 1),
                    _ => e.to_string(),
                };
                return Err(at(line, what));
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        if first {
            first = false;
            if cells != m.columns {
                let k = cells.iter().zip(&m.columns).take_while(|(a, b)| a == b).count();
                let what = match (cells.get(k), m.columns.get(k)) {
                    (Some(c), Some(want)) => format!("column {}: \"{c}\"; sweep.json says \"{want}\"", k + 1),
                    (Some(c), None) => format!("column {}: \"{c}\" is not a column of this sweep", k + 1),
                    _ => format!("{} columns; sweep.json lists {}", cells.len(), m.columns.len()),
                };
                return Err(at(line, format!("the header is not this sweep's: {what}")));
            }
            continue;
        }
        if cells.len() != m.columns.len() {
            return Err(at(line, format!("{} fields; the header has {}", cells.len(), m.columns.len())));
        }
        let k = m.vary.len();
        for (v, cell) in m.vary.iter().zip(&cells) {
            if !v.values.contains(cell) {
                return Err(at(
                    line,
                    format!("column {}: {cell:?} is not one of this sweep's values", v.key),
                ));
            }
        }
        let seed_ok = cells[k].parse::<u64>().ok().filter(|s| m.seeds.contains(s));
        if seed_ok.is_none() {
            return Err(at(line, format!("column seed: {:?} is not one of this sweep's seeds", cells[k])));
        }
        let metrics = &cells[k + 1..];
        let errored = metrics.last().is_some_and(|e| !e.is_empty());
        for (name, cell) in METRICS.iter().zip(metrics) {
            check_cell(name, cell, errored).map_err(|e| at(line, format!("column {name}: {e}")))?;
        }
        let i = m
            .run_of(&cells)
            .filter(|&i| m.holds(i))
            .ok_or_else(|| at(line, "a run that is not part of this sweep (or of this shard)".into()))?;
        if rows.insert(i, cells).is_some() {
            return Err(at(line, "the run is listed twice".into()));
        }
    }
    Ok((rows, dropped))
}

/// What a finished (or resumed) sweep did.
#[derive(Debug, PartialEq, Eq)]
pub struct Done {
    /// Runs found finished in `sweep.csv` and kept (with `--resume`).
    pub kept: u64,
    /// Runs computed now.
    pub ran: u64,
    /// Rows whose `error` column is set.
    pub errors: u64,
    /// Rows that ran but failed an expectation or invariant.
    pub failed: u64,
}

/// Options of one `fraclab sweep` invocation.
#[derive(Clone, Debug)]
pub struct Options {
    pub jobs: usize,
    pub shard: Option<Shard>,
    pub resume: bool,
}

/// Runs the sweep (or its shard) into `out`. `progress` is called once per
/// finished run with (done, total) for this invocation.
pub fn execute(
    plan: &Plan,
    out: &Path,
    opts: &Options,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Done, SweepError> {
    let manifest = Manifest { shard: opts.shard, ..plan.manifest.clone() };
    if !(1..=JOBS_MAX).contains(&opts.jobs) {
        return Err(SweepError::BadInput(format!("--jobs {}: expected 1..={JOBS_MAX}", opts.jobs)));
    }
    crate::cli::out::check(out).map_err(SweepError::BadInput)?;
    let has_manifest = out.join("sweep.json").exists();
    if has_manifest && !opts.resume {
        return Err(SweepError::BadInput(format!(
            "{} already holds a sweep; pass --resume to continue it, or choose another --out",
            out.display()
        )));
    }
    if has_manifest {
        let old = Manifest::read(out)?;
        if let Some(what) = old.difference(&manifest).or((old.shard != manifest.shard).then_some("the shard"))
        {
            return Err(SweepError::BadInput(format!(
                "{}: --resume: the sweep there differs in {what}; choose another --out",
                out.display()
            )));
        }
    }
    let (mut rows, _) = if has_manifest { read_rows(out, &manifest)? } else { (BTreeMap::new(), 0) };
    let kept = rows.len() as u64;
    crate::cli::out::prepare(out).map_err(SweepError::BadInput)?;
    manifest.write(out)?;
    let csv_path = out.join("sweep.csv");
    write_atomic(&csv_path, &csv_file(&manifest, &rows))?;
    let todo: Vec<u64> =
        (0..manifest.runs).filter(|&i| manifest.holds(i) && !rows.contains_key(&i)).collect();
    let total = todo.len() as u64;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .map_err(|e| SweepError::BadInput(format!("--jobs {}: {e}", opts.jobs)))?;
    let mut file = fs::OpenOptions::new().append(true).open(&csv_path).map_err(io_err(&csv_path))?;
    let (tx, rx) = mpsc::channel::<(u64, Vec<String>)>();
    let written: Result<(), SweepError> = std::thread::scope(|s| {
        s.spawn(|| {
            pool.install(|| {
                todo.par_iter().for_each_with(tx, |tx, &i| drop(tx.send((i, plan.run_guarded(i)))))
            })
        });
        let mut done = 0;
        for (i, row) in rx {
            file.write_all(&csv_line(&row)).and_then(|_| file.flush()).map_err(io_err(&csv_path))?;
            rows.insert(i, row);
            done += 1;
            progress(done, total);
        }
        Ok(())
    });
    written?;
    write_atomic(&csv_path, &csv_file(&manifest, &rows))?;
    Ok(tally(kept, total, &rows))
}

fn tally(kept: u64, ran: u64, rows: &BTreeMap<u64, Vec<String>>) -> Done {
    let col = |name: &str| METRICS.iter().position(|m| *m == name).expect("a metric column");
    let (err, passed) = (col("error"), col("passed"));
    let metric = |row: &Vec<String>, k: usize| row[row.len() - METRICS.len() + k].clone();
    let errors = rows.values().filter(|r| !metric(r, err).is_empty()).count() as u64;
    let failed =
        rows.values().filter(|r| metric(r, err).is_empty() && metric(r, passed) == "false").count() as u64;
    Done { kept, ran, errors, failed }
}

/// Refuses an `--out` that is one of the shard folders or inside one
/// (merging would overwrite a shard's own files), compared canonically.
fn out_outside_shards(out: &Path, shards: &[PathBuf]) -> Result<(), SweepError> {
    let bad = |what: String| SweepError::BadInput(format!("--out {}: {what}", out.display()));
    let out_c = crate::cli::out::canonical(out).map_err(|e| bad(format!("cannot resolve the path: {e}")))?;
    for dir in shards {
        let dir_c =
            dir.canonicalize().map_err(|e| SweepError::BadInput(format!("{}: {e}", dir.display())))?;
        if out_c == dir_c {
            return Err(bad(format!("is the shard folder {}; choose another --out", dir.display())));
        }
        if out_c.starts_with(&dir_c) {
            return Err(bad(format!("is inside the shard folder {}; choose another --out", dir.display())));
        }
    }
    Ok(())
}

/// `fraclab sweep merge`: combines the outputs of `--shard 1/N … N/N` into
/// the `sweep.json` and `sweep.csv` an unsharded sweep writes. `--out` may
/// be missing (it is created) or a folder, not a file, not a shard.
pub fn merge(out: &Path, shards: &[PathBuf]) -> Result<Done, SweepError> {
    let bad = |s: String| SweepError::BadInput(s);
    crate::cli::out::check(out).map_err(SweepError::BadInput)?;
    let mut first: Option<Manifest> = None;
    let mut seen: BTreeMap<u64, PathBuf> = BTreeMap::new();
    let mut rows = BTreeMap::new();
    for dir in shards {
        let m = Manifest::read(dir)?;
        let shard =
            m.shard.ok_or_else(|| bad(format!("{}: not a shard (run with --shard K/N)", dir.display())))?;
        if let Some(f) = &first {
            if let Some(what) = f.difference(&m) {
                return Err(bad(format!(
                    "{}: a shard of another sweep (it differs in {what})",
                    dir.display()
                )));
            }
            let n = f.shard.expect("first is a shard").count;
            if shard.count != n {
                return Err(bad(format!("{}: shard {shard}, but the first shard is of {n}", dir.display())));
            }
        }
        if let Some(other) = seen.insert(shard.index, dir.clone()) {
            return Err(bad(format!(
                "shard {shard} is given twice: {} and {}",
                other.display(),
                dir.display()
            )));
        }
        let (shard_rows, dropped) = read_rows(dir, &m)?;
        let expected = m.held_runs() as usize;
        if shard_rows.len() != expected || dropped > 0 {
            return Err(bad(format!(
                "{}: shard {shard} is incomplete ({} of {expected} runs); finish it with --resume",
                dir.display(),
                shard_rows.len()
            )));
        }
        rows.extend(shard_rows);
        first.get_or_insert(m);
    }
    let mut m = first.ok_or_else(|| bad("no shard folders given".into()))?;
    out_outside_shards(out, shards)?;
    let n = m.shard.expect("a shard").count;
    let missing: Vec<String> =
        (1..=n).filter(|k| !seen.contains_key(k)).map(|k| format!("{k}/{n}")).collect();
    if !missing.is_empty() {
        return Err(bad(format!("missing shard(s) {}", missing.join(", "))));
    }
    m.shard = None;
    crate::cli::out::prepare(out).map_err(SweepError::BadInput)?;
    m.write(out)?;
    write_atomic(&out.join("sweep.csv"), &csv_file(&m, &rows))?;
    Ok(tally(0, 0, &rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run that panics becomes a whole row with the panic in `error` (and
    /// the other runs go on), so sweep.csv never holds half a row from it.
    #[test]
    fn a_panicking_run_becomes_an_error_row() {
        let width = 2 + METRICS.len();
        let row = guarded(width, || panic!("boom at {}", 3), || vec!["3".into(), "7".into()]);
        assert_eq!(row.len(), width);
        assert_eq!(&row[..2], ["3", "7"]);
        assert!(row[2..width - 1].iter().all(String::is_empty));
        assert_eq!(row[width - 1], "fraclab bug: the run panicked: boom at 3");
        let row = guarded(width, || vec!["ok".into()], || unreachable!());
        assert_eq!(row, ["ok"]);
    }

    /// The cell types the CSV reader holds rows to.
    #[test]
    fn cells_are_typed() {
        assert!(check_cell("passed", "true", false).is_ok());
        assert!(check_cell("passed", "", false).is_err());
        assert!(check_cell("compromised_count", "", false).is_ok());
        assert!(check_cell("compromised_count", "4097", false).is_err());
        assert!(check_cell("messages_per_epoch", "22.8", false).is_ok());
        for bad in ["NaN", "inf", "-1.0", "+1", "1e400"] {
            assert!(check_cell("messages_per_epoch", bad, false).is_err(), "{bad}");
        }
        assert!(check_cell("events", "+5", false).is_err());
        assert!(check_cell("events", "", true).is_ok());
        assert!(check_cell("events", "5", true).is_err(), "an error row has no metrics");
    }

    #[test]
    fn held_runs_counts_a_shards_runs() {
        for runs in 0..20u64 {
            for count in 1..6 {
                for index in 1..=count {
                    let shard = Shard { index, count };
                    let held = (0..runs).filter(|&i| shard.holds(i)).count() as u64;
                    let m = Manifest {
                        format: SWEEP_FORMAT.into(),
                        scenario: String::new(),
                        scenario_sha256: String::new(),
                        vary: vec![],
                        seeds: vec![1],
                        runs,
                        columns: vec![],
                        shard: Some(shard),
                        fraclab: String::new(),
                    };
                    assert_eq!(m.held_runs(), held, "{runs} runs, shard {shard}");
                }
            }
        }
    }
}
