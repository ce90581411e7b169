//! The derivability atlas (`fraclab atlas`, reference §6): for a range of group
//! sizes, how many members the engine finds compromised
//! - when members 1..r leak their pad α at epoch 2, every member curious
//!   (SM initialisation, additive key generation);
//! - when members t−1 and t+1 collude against t on the ring and on the
//!   hardened ring.
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
    /// The plot files drawn beside `atlas-leaks.csv` and `atlas-ring.csv`.
    pub plots: Vec<std::path::PathBuf>,
}

/// How many simulated runs [`write()`] makes for `members`.
pub fn runs(members: &std::ops::RangeInclusive<u32>) -> u32 {
    members.clone().map(|n| n + if n >= 3 { 2 * n } else { 0 }).sum()
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

/// Runs the whole atlas for `members` with `group` into `out` (which must
/// exist): `atlas-leaks.csv`, `atlas-ring.csv` and their plots. `progress`
/// is called after every run.
pub fn write(
    group: &GroupParams,
    members: std::ops::RangeInclusive<u32>,
    out: &std::path::Path,
    mut progress: impl FnMut(),
) -> Result<Written, LabError> {
    let leaks = leaks(group, members.clone(), &mut progress).map_err(|e| LabError::failed(e.to_string()))?;
    let ring = ring(group, members, &mut progress).map_err(|e| LabError::failed(e.to_string()))?;
    write_csv(&out.join("atlas-leaks.csv"), &leaks)?;
    write_csv(&out.join("atlas-ring.csv"), &ring)?;
    #[cfg(feature = "plots")]
    let plots = crate::report::plot::atlas(out).map_err(|e| LabError::failed(e.to_string()))?;
    #[cfg(not(feature = "plots"))]
    let plots = Vec::new();
    Ok(Written { leaks, ring, plots })
}
