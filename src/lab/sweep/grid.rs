//! The grid of a sweep: `--vary KEY=VALUES` parsed, and numbered so that
//! every run has one index whatever the shard or `--jobs`. The values are
//! applied by the scenario's validated overrides
//! ([`crate::scenario::Builder::set`]).

pub use crate::schema::sweep::{Shard, VALUES_MAX, Vary};

use crate::scenario::{DottedKey, value_from_str};

impl Vary {
    /// Parses `KEY=VALUES`: VALUES is an inclusive integer range `A..B`
    /// (or `A..=B`, optionally `:STEP`), or a comma-separated list of
    /// integers, floats, booleans or bare strings.
    pub fn parse(spec: &str) -> Result<Vary, String> {
        let (key, values) = spec
            .split_once('=')
            .ok_or_else(|| format!("--vary {spec}: expected KEY=VALUES, e.g. protocol.members=3..10"))?;
        let key = key.trim();
        DottedKey::parse(key).map_err(|e| format!("--vary {spec}: {e}"))?;
        if key == "seed" {
            return Err(format!("--vary {spec}: the seed is varied by --seeds N"));
        }
        let values = expand(values.trim()).map_err(|e| format!("--vary {spec}: {e}"))?;
        Ok(Vary { key: key.to_string(), values })
    }
}

/// The values of `VALUES` in `--vary KEY=VALUES`: a range expanded, or a
/// list with integers written canonically; at most [`VALUES_MAX`], no value twice.
fn expand(values: &str) -> Result<Vec<String>, String> {
    if let Some((a, rest)) = values.split_once("..") {
        let (b, step) = rest.split_once(':').unwrap_or((rest, "1"));
        let b = b.strip_prefix('=').unwrap_or(b);
        let err = || format!("\"{values}\" is not an integer range A..B[:STEP] with A ≤ B and STEP ≥ 1");
        let (a, b, step): (i128, i128, i128) = (
            a.trim().parse().map_err(|_| err())?,
            b.trim().parse().map_err(|_| err())?,
            step.trim().parse().map_err(|_| err())?,
        );
        if a > b || step < 1 {
            return Err(err());
        }
        if a < i128::from(i64::MIN) || b > i128::from(i64::MAX) {
            return Err(err());
        }
        let count = (b - a) / step + 1;
        if count > VALUES_MAX as i128 {
            return Err(format!("\"{values}\" has {count} values; at most {VALUES_MAX}"));
        }
        return Ok((0..count).map(|k| (a + k * step).to_string()).collect());
    }
    // Integers are written canonically, so 3 and 03 are the same value.
    let canonical = |v: &str| v.parse::<i64>().map_or_else(|_| v.to_string(), |i| i.to_string());
    let list: Vec<String> = values.split(',').map(|v| canonical(v.trim())).collect();
    if list.iter().any(String::is_empty) {
        return Err(format!("\"{values}\" has an empty value; write A..B or a,b,c"));
    }
    if list.len() > VALUES_MAX {
        return Err(format!("{} values; at most {VALUES_MAX}", list.len()));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = list.iter().find(|v| !seen.insert(value_from_str(v).to_string())) {
        return Err(format!("\"{dup}\" is listed twice (as the same value)"));
    }
    Ok(list)
}

/// How the runs of a grid are numbered: the varied values in command-line
/// order (the first varies slowest), then the seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    /// Number of values of each varied key, in `--vary` order.
    pub sizes: Vec<usize>,
    /// Seeds per grid point (`--seeds N`, 1..=1000000).
    pub seeds: u64,
}

impl Grid {
    /// The number of runs: the product of `sizes`, times `seeds`.
    pub fn runs(&self) -> u64 {
        self.sizes.iter().map(|&s| s as u64).product::<u64>() * self.seeds
    }

    /// The value indices and seed offset of run `i`.
    pub fn point(&self, i: u64) -> (Vec<usize>, u64) {
        let seed = i % self.seeds;
        let mut rest = i / self.seeds;
        let mut idx = vec![0; self.sizes.len()];
        for (k, &size) in self.sizes.iter().enumerate().rev() {
            idx[k] = (rest % size as u64) as usize;
            rest /= size as u64;
        }
        (idx, seed)
    }

    /// The run index of value indices `idx` and seed offset `seed`.
    pub fn index(&self, idx: &[usize], seed: u64) -> u64 {
        let combo = idx.iter().zip(&self.sizes).fold(0u64, |acc, (&i, &size)| acc * size as u64 + i as u64);
        combo * self.seeds + seed
    }
}

impl Shard {
    /// Parses `--shard K/N` (1 ≤ K ≤ N); the error names the argument.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let err = || format!("--shard {s}: expected K/N with 1 ≤ K ≤ N, e.g. 2/8");
        let (k, n) = s.split_once('/').ok_or_else(err)?;
        let (index, count): (u64, u64) =
            (k.trim().parse().map_err(|_| err())?, n.trim().parse().map_err(|_| err())?);
        if index >= 1 && index <= count { Ok(Shard { index, count }) } else { Err(err()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_lists_and_keys() {
        assert_eq!(Vary::parse("protocol.members=3..6").unwrap().values, ["3", "4", "5", "6"]);
        assert_eq!(Vary::parse("protocol.members=3..=9:3").unwrap().values, ["3", "6", "9"]);
        assert_eq!(Vary::parse("protocol.init=sm, ring").unwrap().values, ["sm", "ring"]);
        assert!(Vary::parse("protocol.members=6..3").is_err());
        assert!(Vary::parse("protocol.members").is_err());
        assert!(Vary::parse("seed=1,2").is_err());
        assert!(Vary::parse("a..b=1").is_err());
        assert!(Vary::parse("protocol.init=sm,sm").is_err());
        assert!(Vary::parse("protocol.members=3,03").is_err());
        assert!(Vary::parse("protocol.members=-9223372036854775808..9223372036854775807").is_err());
        assert!(Vary::parse("network.loss=0.1,0.10").is_err());
    }

    #[test]
    fn numbering_round_trips() {
        let g = Grid { sizes: vec![4, 2, 3], seeds: 5 };
        assert_eq!(g.runs(), 120);
        for i in 0..g.runs() {
            let (idx, s) = g.point(i);
            assert_eq!(g.index(&idx, s), i);
        }
        assert_eq!(g.point(5), (vec![0, 0, 1], 0));
        let s = Shard::parse("2/3").unwrap();
        assert!(s.holds(1) && s.holds(4) && !s.holds(0));
        assert!(Shard::parse("0/3").is_err() && Shard::parse("4/3").is_err());
    }
}
