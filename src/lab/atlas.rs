//! The derivability atlas (`fraclab atlas`, reference §6): for a range of group
//! sizes, how many members the engine finds compromised
//! - when members 1..r leak their pad α at epoch 2, every member curious
//!   (SM initialisation, additive key generation);
//! - when members t−1 and t+1 collude against t on the ring and on the
//!   hardened ring;
//! - in two dimensions, for both operators (addition mod q and XOR): the
//!   smallest n at which r leaked pads and c curious members pooling their
//!   views expose no honest member.
//!
//! Every cell is a full simulated run analysed by the engine — nothing is
//! looked up — so the table reproduces the patent's corollary (one leaked
//! pad is safe from n = 4 on) by computation.

use super::{LabError, RunError, analyse};
use crate::group::GroupParams;
use crate::scenario::{self, Scenario};

/// One row of `atlas-leaks.csv`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LeakRow {
    /// The group size n.
    pub members: u32,
    /// r: members 1..=r leak their pad α_{·,2} to the group.
    pub leaked_pads: u32,
    /// How many members the engine finds compromised (the leakers
    /// included, when anyone derives their secrets).
    pub compromised: u32,
}

/// One row of `atlas-ring.csv`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RingRow {
    /// The group size n (≥ 3).
    pub members: u32,
    /// `"ring"` (process 400) or `"ring-hardened"`.
    pub init: &'static str,
    /// The member t whose ring neighbours t − 1 and t + 1 collude.
    pub target: u32,
    /// How many members the engine finds compromised.
    pub compromised: u32,
}

/// One row of `atlas-safe.csv`: a cell of the two-dimensional atlas.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SafeRow {
    /// `"add"` or `"xor"`.
    pub operator: &'static str,
    /// The parameter set the runs used, e.g. `toy-64` or `xor-256`.
    pub params: &'static str,
    /// r: members 1..=r leak their pad α_{·,2} to the group.
    pub leaked_pads: u32,
    /// c: members r+1..=r+c are curious and pool their views (c = 1: a
    /// lone curious member, which every member is anyway).
    pub curious: u32,
    /// The smallest n in the atlas from which every larger n it ran keeps
    /// every honest member (past r + c) uncompromised; empty if none.
    pub smallest_safe_n: Option<u32>,
    /// The smallest n the atlas ran for this cell: the range's start, or
    /// r + c + 1 (one honest member) if larger. When `smallest_safe_n`
    /// equals it and it is above r + c + 1, a smaller n was not tried.
    pub checked_from: u32,
    /// The largest n the atlas ran.
    pub checked_to: u32,
}

/// The largest r and c of the two-dimensional atlas.
pub const GRID_MAX: u32 = 8;

/// The parameter sets an atlas uses: `tables` for the leak and ring
/// tables, `add` and `xor` for the two-dimensional one.
#[derive(Clone, Copy, Debug)]
pub struct Sets {
    /// The set of `atlas-leaks.csv` and `atlas-ring.csv`.
    pub tables: &'static GroupParams,
    /// The prime group of the two-dimensional atlas's `add` half.
    pub add: &'static GroupParams,
    /// The `xor-L` set of its `xor` half.
    pub xor: &'static GroupParams,
}

impl Sets {
    /// `tables` for the one-dimensional tables; toy-64 and xor-256 for the
    /// two-dimensional one unless `tables` is one of them.
    pub fn around(tables: &'static GroupParams) -> Sets {
        let fallback = |name| crate::group::by_name(name).expect("a bundled parameter set");
        let add = if tables.is_xor() { fallback("toy-64") } else { tables };
        let xor = if tables.is_xor() {
            tables
        } else {
            crate::group::xor(crate::group::XOR_BITS_DEFAULT).expect("the default length is allowed")
        };
        Sets { tables, add, xor }
    }
}

const EPOCHS: u64 = 3;
const LEAK_EPOCH: u64 = 2;

fn build(toml: &str) -> Scenario {
    scenario::parse(toml, "atlas").expect("atlas scenarios are well formed")
}

fn header(group: &GroupParams, n: u32, init: &str, seed: u64) -> String {
    format!(
        "name = \"atlas\"\nseed = {seed}\n[group]\n{}[protocol]\nmembers = {n}\ninit = \"{init}\"\nkeygen = \"additive\"\nepochs = {EPOCHS}\n[output]\nanalysis = true\n",
        scenario::group_keys(group)
    )
}

/// Why an atlas could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum AtlasError {
    /// A cell's run failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// A derived value disagreed with the ground truth: a fraclab bug.
    #[error("the knowledge engine disagrees with the ground truth: {0}")]
    Analysis(String),
}

fn compromised(sc: &Scenario) -> Result<u32, AtlasError> {
    let (_, _, analysis) = analyse(sc)?;
    if let Some(e) = analysis.errors.first() {
        return Err(AtlasError::Analysis(e.clone()));
    }
    Ok(analysis.compromised.len() as u32)
}

/// Members 1..r leak α[·, 2] to the group, for every n in `members` and r < n.
pub fn leaks(
    group: &GroupParams,
    members: std::ops::RangeInclusive<u32>,
    mut progress: impl FnMut(),
) -> Result<Vec<LeakRow>, AtlasError> {
    let mut rows = Vec::new();
    for n in members {
        for r in 0..n {
            let mut toml = header(group, n, "sm", u64::from(n * 100 + r));
            for m in 1..=r {
                toml.push_str(&format!(
                    "[[adversary]]\nkind = \"leak\"\nmember = {m}\nsecret = \"alpha\"\nepoch = {LEAK_EPOCH}\nto = \"group\"\n"
                ));
            }
            rows.push(LeakRow { members: n, leaked_pads: r, compromised: compromised(&build(&toml))? });
            progress();
        }
    }
    Ok(rows)
}

/// Members t−1 and t+1 collude against t, for every n ≥ 3, both ring inits, every t.
pub fn ring(
    group: &GroupParams,
    members: std::ops::RangeInclusive<u32>,
    mut progress: impl FnMut(),
) -> Result<Vec<RingRow>, AtlasError> {
    let mut rows = Vec::new();
    for n in members.filter(|&n| n >= 3) {
        for init in ["ring", "ring-hardened"] {
            for t in 1..=n {
                let mut toml = header(group, n, init, u64::from(n * 100 + t));
                toml.push_str(&format!("[[adversary]]\nkind = \"ring-collusion\"\ntarget = {t}\n"));
                rows.push(RingRow { members: n, init, target: t, compromised: compromised(&build(&toml))? });
                progress();
            }
        }
    }
    Ok(rows)
}

/// The (r, c) cells of the two-dimensional atlas for a largest n.
fn grid(n_max: u32) -> impl Iterator<Item = (u32, u32)> {
    (0..=GRID_MAX.min(n_max.saturating_sub(2)))
        .flat_map(move |r| (1..=GRID_MAX.min(n_max.saturating_sub(1 + r))).map(move |c| (r, c)))
}

/// The two-dimensional atlas over `groups`: for each r and c (r + c < n),
/// members 1..=r leak α[·, 2] to the group and members r+1..=r+c pool their
/// views (when c ≥ 2), for every n in `members`; a run is safe when no
/// member past r + c is compromised.
pub fn safe(
    groups: &[&'static GroupParams],
    members: std::ops::RangeInclusive<u32>,
    mut progress: impl FnMut(),
) -> Result<Vec<SafeRow>, AtlasError> {
    let n_max = *members.end();
    let mut rows = Vec::new();
    for group in groups {
        for (r, c) in grid(n_max) {
            // The runs of this cell, n ascending: is every honest member safe?
            let mut safe_at: Vec<(u32, bool)> = Vec::new();
            for n in members.clone().filter(|&n| n > r + c) {
                let mut toml = header(group, n, "sm", u64::from(n * 10_000 + r * 100 + c));
                for m in 1..=r {
                    toml.push_str(&format!(
                        "[[adversary]]\nkind = \"leak\"\nmember = {m}\nsecret = \"alpha\"\nepoch = {LEAK_EPOCH}\nto = \"group\"\n"
                    ));
                }
                if c >= 2 {
                    let pooled: Vec<String> = (r + 1..=r + c).map(|m| m.to_string()).collect();
                    toml.push_str(&format!(
                        "[[adversary]]\nkind = \"coalition\"\nmembers = [{}]\n",
                        pooled.join(", ")
                    ));
                }
                let sc = build(&toml);
                let (_, _, analysis) = analyse(&sc)?;
                if let Some(e) = analysis.errors.first() {
                    return Err(AtlasError::Analysis(e.clone()));
                }
                safe_at.push((n, analysis.compromised.iter().all(|m| m.0 <= r + c)));
                progress();
            }
            // The smallest n from which every larger n that ran is safe.
            let unsafe_last = safe_at.iter().rev().find(|(_, ok)| !ok).map(|(n, _)| *n);
            let smallest_safe_n = match unsafe_last {
                None => safe_at.first().map(|(n, _)| *n),
                Some(u) => safe_at.iter().map(|(n, _)| *n).find(|&n| n > u),
            };
            let operator = group.operator.as_str();
            let checked_from = (*members.start()).max(r + c + 1);
            rows.push(SafeRow {
                operator,
                params: group.name,
                leaked_pads: r,
                curious: c,
                smallest_safe_n,
                checked_from,
                checked_to: n_max,
            });
        }
    }
    Ok(rows)
}

/// For each r, the smallest n in the atlas at which r leaked pads expose no
/// one but the leakers.
pub fn smallest_safe(rows: &[LeakRow]) -> Vec<(u32, Option<u32>)> {
    let max_r = rows.iter().map(|r| r.leaked_pads).max().unwrap_or(0);
    (0..=max_r)
        .map(|r| {
            let safe =
                rows.iter().filter(|x| x.leaked_pads == r && x.compromised <= r).map(|x| x.members).min();
            (r, safe)
        })
        .collect()
}

/// A written atlas: its rows and the plots drawn from them.
#[derive(Debug)]
pub struct Written {
    /// The rows of `atlas-leaks.csv`.
    pub leaks: Vec<LeakRow>,
    /// The rows of `atlas-ring.csv`.
    pub ring: Vec<RingRow>,
    /// The rows of `atlas-safe.csv`.
    pub safe: Vec<SafeRow>,
    /// The plot files drawn beside `atlas-leaks.csv` and `atlas-ring.csv`.
    pub plots: Vec<std::path::PathBuf>,
}

/// How many simulated runs [`write()`] makes for `members`.
pub fn runs(members: &std::ops::RangeInclusive<u32>) -> u32 {
    let tables: u32 = members.clone().map(|n| n + if n >= 3 { 2 * n } else { 0 }).sum();
    let cells: u32 =
        grid(*members.end()).map(|(r, c)| members.clone().filter(|&n| n > r + c).count() as u32).sum();
    tables + 2 * cells
}

fn write_csv<T: serde::Serialize>(path: &std::path::Path, rows: &[T]) -> Result<(), LabError> {
    let failed =
        |p: &std::path::Path, e: &dyn std::fmt::Display| LabError::failed(format!("{}: {e}", p.display()));
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| failed(path, &e))?;
    }
    let bytes = w.into_inner().map_err(|e| failed(path, &e))?;
    crate::report::write_atomic(path, &bytes).map_err(|(p, e)| failed(&p, &e))
}

/// Runs the whole atlas for `members` into `out` (which must exist):
/// `atlas-leaks.csv` and `atlas-ring.csv` over `sets.tables`,
/// `atlas-safe.csv` over `sets.add` and `sets.xor`, and their plots.
/// `progress` is called after every run.
pub fn write(
    sets: Sets,
    members: std::ops::RangeInclusive<u32>,
    out: &std::path::Path,
    mut progress: impl FnMut(),
) -> Result<Written, LabError> {
    let failed = |e: AtlasError| LabError::failed(e.to_string());
    let leaks = leaks(sets.tables, members.clone(), &mut progress).map_err(failed)?;
    let ring = ring(sets.tables, members.clone(), &mut progress).map_err(failed)?;
    let safe = safe(&[sets.add, sets.xor], members, &mut progress).map_err(failed)?;
    write_csv(&out.join("atlas-leaks.csv"), &leaks)?;
    write_csv(&out.join("atlas-ring.csv"), &ring)?;
    write_csv(&out.join("atlas-safe.csv"), &safe)?;
    #[cfg(feature = "plots")]
    let plots = crate::report::plot::atlas(out).map_err(|e| LabError::failed(e.to_string()))?;
    #[cfg(not(feature = "plots"))]
    let plots = Vec::new();
    Ok(Written { leaks, ring, safe, plots })
}

impl SafeRow {
    /// The cell as the grid prints it: `n`, `≤n` when the range started
    /// above the first n the cell could have, or `-` when no n in the range
    /// was safe.
    pub fn cell(&self) -> String {
        match self.smallest_safe_n {
            Some(n) if n == self.checked_from && n > self.leaked_pads + self.curious + 1 => format!("≤{n}"),
            Some(n) => n.to_string(),
            None => "-".to_string(),
        }
    }
}
