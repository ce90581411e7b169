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
use sha2::{Digest, Sha256};

pub use grid::{Grid, Shard, Vary};

use crate::report::read as data;
use crate::report::{self, Summary, csv_line};
use crate::scenario::{self, LoadError, TraceLevel};

use crate::schema::Finding;
use crate::schema::sweep::columns_of;
pub use crate::schema::sweep::{METRICS, Manifest, RUNS_MAX, Row, SEEDS_MAX, SWEEP_FORMAT};

/// The most parallel runs `--jobs` asks for: a fixed bound, the same on
/// every machine, far above any core count fraclab runs on, and far below
/// what makes thread creation fail.
pub const JOBS_MAX: usize = 256;

/// Why a sweep, `--resume` or `sweep merge` did not complete; the CLI
/// exits 2 for [`SweepError::BadInput`] and 1 for [`SweepError::Io`].
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Bad arguments, a scenario that does not load, or outputs of another sweep.
    #[error("{0}")]
    BadInput(String),
    /// An output file could not be written (or read back).
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |error| SweepError::Io { path: path.to_path_buf(), error }
}

impl Manifest {
    /// The grid the manifest's varied values and seeds span.
    pub fn grid(&self) -> Grid {
        Grid { sizes: self.vary.iter().map(|v| v.values.len()).collect(), seeds: self.seeds.len() as u64 }
    }

    /// Reads `dir/sweep.json` (see [`crate::report::read::read_manifest`]).
    pub fn read(dir: &Path) -> Result<Manifest, SweepError> {
        data::read_manifest(dir).map_err(SweepError::BadInput)
    }

    fn write(&self, dir: &Path) -> Result<(), SweepError> {
        write_atomic(&dir.join("sweep.json"), self.to_json().as_bytes())
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SweepError> {
    report::write_atomic(path, bytes).map_err(|(path, error)| SweepError::Io { path, error })
}

/// A sweep ready to run: the base scenario's TOML and the grid.
#[derive(Debug)]
pub struct Plan {
    /// What `sweep.json` will record (format `fraclab-sweep/1`), unsharded.
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
            .and_then(|sc| crate::lab::execute(&sc, TraceLevel::None, None).map_err(|e| e.to_string()));
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
    fn run_guarded(&self, i: u64) -> Vec<String> {
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

/// The metric cells of a run's row, in [`METRICS`] order (the `error` cell empty).
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
    let attacks: Vec<u64> = s
        .findings
        .iter()
        .filter_map(|f| match (f, field) {
            (Finding::DlogAttack { recovered, .. }, "recovered") => Some(*recovered),
            (Finding::DlogAttack { work, .. }, "work") => Some(*work),
            _ => None,
        })
        .collect();
    if attacks.is_empty() { String::new() } else { attacks.iter().sum::<u64>().to_string() }
}

/// `sweep.csv`'s bytes: the header, then the rows in run order.
fn csv_file(m: &Manifest, rows: &BTreeMap<u64, Vec<String>>) -> Vec<u8> {
    let mut out = csv_line(&m.columns);
    for row in rows.values() {
        out.extend(csv_line(row));
    }
    out
}

/// The complete rows of `dir/sweep.csv`, by run index, each checked
/// against the manifest (see [`crate::report::read::read_rows`]). A
/// missing file has no rows; the count is of a last line cut off mid-write.
pub fn read_rows(dir: &Path, m: &Manifest) -> Result<(BTreeMap<u64, Vec<String>>, usize), SweepError> {
    let (rows, dropped) = data::read_rows(dir, m).map_err(|e| match e {
        data::RowsError::Io(path, error) => SweepError::Io { path, error },
        data::RowsError::Bad(message) => SweepError::BadInput(message),
    })?;
    Ok((rows.into_iter().map(|(i, r)| (i, r.cells())).collect(), dropped))
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
    /// Parallel runs, `--jobs` (1..=[`JOBS_MAX`]).
    pub jobs: usize,
    /// `--shard K/N`: run only that slice; `None` runs them all.
    pub shard: Option<Shard>,
    /// `--resume`: continue the sweep already in the output folder.
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
    crate::lab::out::check(out).map_err(SweepError::BadInput)?;
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
    crate::lab::out::prepare(out).map_err(SweepError::BadInput)?;
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

/// Counts the rows with an error and the rows that failed.
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
    let out_c = crate::lab::out::canonical(out).map_err(|e| bad(format!("cannot resolve the path: {e}")))?;
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
    crate::lab::out::check(out).map_err(SweepError::BadInput)?;
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
    crate::lab::out::prepare(out).map_err(SweepError::BadInput)?;
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
        use crate::schema::sweep::check_cell;
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
