//! The grid of a sweep: `--vary KEY=VALUES` parsed, applied to the
//! scenario's TOML, and numbered so that every run has one index whatever
//! the shard or `--jobs`.

pub use crate::schema::sweep::{Shard, VALUES_MAX, Vary};

/// One step of a dotted key: a table key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

fn steps(key: &str) -> Result<Vec<Step>, String> {
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(format!("\"{key}\" is not a dotted key like protocol.members or adversary.0.member"));
    }
    Ok(key
        .split('.')
        .map(|s| match s.parse::<usize>() {
            Ok(i) => Step::Index(i),
            Err(_) => Step::Key(s.to_string()),
        })
        .collect())
}

impl Vary {
    /// Parses `KEY=VALUES`: VALUES is an inclusive integer range `A..B`
    /// (or `A..=B`, optionally `:STEP`), or a comma-separated list of
    /// integers, floats, booleans or bare strings.
    pub fn parse(spec: &str) -> Result<Vary, String> {
        let (key, values) = spec
            .split_once('=')
            .ok_or_else(|| format!("--vary {spec}: expected KEY=VALUES, e.g. protocol.members=3..10"))?;
        let key = key.trim();
        steps(key).map_err(|e| format!("--vary {spec}: {e}"))?;
        if key == "seed" {
            return Err(format!("--vary {spec}: the seed is varied by --seeds N"));
        }
        let values = expand(values.trim()).map_err(|e| format!("--vary {spec}: {e}"))?;
        Ok(Vary { key: key.to_string(), values })
    }
}

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
    if let Some(dup) = list.iter().find(|v| !seen.insert(toml_value(v).to_string())) {
        return Err(format!("\"{dup}\" is listed twice (as the same value)"));
    }
    Ok(list)
}

/// A value as TOML: integer, float, boolean, or else a string.
pub fn toml_value(s: &str) -> toml::Value {
    if let Ok(i) = s.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let (true, Ok(f)) = (s.bytes().any(|b| b.is_ascii_digit()), s.parse::<f64>()) {
        toml::Value::Float(f)
    } else if let Ok(b) = s.parse::<bool>() {
        toml::Value::Boolean(b)
    } else {
        toml::Value::String(s.to_string())
    }
}

/// Sets `key` to `value` in a scenario's TOML. Tables on the way are created
/// (`network.loss` in a scenario without `[network]`); array entries must
/// exist (`adversary.1` needs two `[[adversary]]` blocks).
pub fn set(root: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let steps = steps(key)?;
    let (last, path) = steps.split_last().expect("steps() never returns an empty path");
    let mut here = Slot::Table(root);
    let mut walked = String::new();
    for (k, step) in path.iter().enumerate() {
        here = here.descend(step, &steps[k + 1], &walked)?;
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(&step_str(step));
    }
    here.put(last, value, &walked)
}

fn step_str(s: &Step) -> String {
    match s {
        Step::Key(k) => k.clone(),
        Step::Index(i) => i.to_string(),
    }
}

enum Slot<'a> {
    Table(&'a mut toml::Table),
    Array(&'a mut Vec<toml::Value>),
}

fn at(walked: &str) -> String {
    if walked.is_empty() { "the scenario's top level".to_string() } else { walked.to_string() }
}

impl<'a> Slot<'a> {
    fn descend(self, step: &Step, next: &Step, walked: &str) -> Result<Slot<'a>, String> {
        let child = match (self, step) {
            (Slot::Table(t), Step::Key(k)) => {
                if let (None, Step::Index(_)) = (t.get(k), next) {
                    return Err(format!("the scenario has no [[{k}]] entries to index"));
                }
                t.entry(k.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()))
            }
            (Slot::Array(a), Step::Index(i)) => {
                let len = a.len();
                a.get_mut(*i).ok_or_else(|| {
                    format!(
                        "{}: index {i} is out of range; the scenario has {len} entries (0..{len})",
                        at(walked)
                    )
                })?
            }
            (Slot::Table(_), Step::Index(i)) => {
                return Err(format!("{} is a table; {i} is not one of its keys", at(walked)));
            }
            (Slot::Array(_), Step::Key(k)) => {
                return Err(format!(
                    "{} is an array; use an index (e.g. {walked}.0), not \"{k}\"",
                    at(walked)
                ));
            }
        };
        match child {
            toml::Value::Table(t) => Ok(Slot::Table(t)),
            toml::Value::Array(a) => Ok(Slot::Array(a)),
            _ => Err(format!("{}.{} is a value, not a table or array", at(walked), step_str(step))),
        }
    }

    fn put(self, step: &Step, value: toml::Value, walked: &str) -> Result<(), String> {
        match (self, step) {
            (Slot::Table(t), Step::Key(k)) => {
                if matches!(t.get(k), Some(toml::Value::Table(_) | toml::Value::Array(_))) {
                    return Err(format!("{} is a table or array; vary one of its keys", k));
                }
                t.insert(k.clone(), value);
                Ok(())
            }
            (Slot::Array(a), Step::Index(i)) => {
                let len = a.len();
                let slot = a.get_mut(*i).ok_or_else(|| {
                    format!(
                        "{}: index {i} is out of range; the scenario has {len} entries (0..{len})",
                        at(walked)
                    )
                })?;
                *slot = value;
                Ok(())
            }
            (Slot::Table(_), Step::Index(i)) => {
                Err(format!("{} is a table; {i} is not one of its keys", at(walked)))
            }
            (Slot::Array(_), Step::Key(k)) => {
                Err(format!("{} is an array; use an index (e.g. {walked}.0), not \"{k}\"", at(walked)))
            }
        }
    }
}

/// How the runs of a grid are numbered: the varied values in command-line
/// order (the first varies slowest), then the seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    /// Number of values of each varied key.
    pub sizes: Vec<usize>,
    pub seeds: u64,
}

impl Grid {
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
        assert_eq!(toml_value("0.25"), toml::Value::Float(0.25));
        assert_eq!(toml_value("true"), toml::Value::Boolean(true));
        assert_eq!(toml_value("ring"), toml::Value::String("ring".into()));
    }

    #[test]
    fn set_creates_tables_and_checks_indices() {
        let mut t: toml::Table =
            toml::from_str("[protocol]\nmembers = 3\n[[adversary]]\nkind = \"leak\"\n").unwrap();
        set(&mut t, "network.loss", toml_value("0.1")).unwrap();
        set(&mut t, "adversary.0.member", toml_value("2")).unwrap();
        assert_eq!(t["network"]["loss"].as_float(), Some(0.1));
        assert_eq!(t["adversary"][0]["member"].as_integer(), Some(2));
        let e = set(&mut t, "adversary.1.member", toml_value("2")).unwrap_err();
        assert!(e.contains("index 1 is out of range"), "{e}");
        assert!(set(&mut t, "protocol", toml_value("2")).is_err());
        assert!(set(&mut t, "protocol.members.x", toml_value("2")).is_err());
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
