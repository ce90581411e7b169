//! Dotted keys (`protocol.members`, `adversary.0.member`) and setting one in
//! a scenario's TOML table: the path half of an override. What the value
//! means is checked afterwards, by the same loader that reads files.

use std::fmt;

/// One step of a dotted key: a table key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A key path into a scenario's TOML, written with dots: `network.loss`,
/// `adversary.0.member` (a number indexes an array of tables).
///
/// ```
/// use fraclab::scenario::DottedKey;
/// assert_eq!(DottedKey::parse("protocol.members").unwrap().to_string(), "protocol.members");
/// assert!(DottedKey::parse("protocol..members").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DottedKey {
    steps: Vec<Step>,
}

impl DottedKey {
    /// Reads `key`; an empty key or an empty step is refused.
    pub fn parse(key: &str) -> Result<DottedKey, String> {
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(format!("\"{key}\" is not a dotted key like protocol.members or adversary.0.member"));
        }
        let steps = key
            .split('.')
            .map(|s| match s.parse::<usize>() {
                Ok(i) => Step::Index(i),
                Err(_) => Step::Key(s.to_string()),
            })
            .collect();
        Ok(DottedKey { steps })
    }

    /// Sets this key to `value` in a scenario's TOML. Tables on the way are
    /// created (`network.loss` in a scenario without `[network]`); array
    /// entries must exist (`adversary.1` needs two `[[adversary]]` blocks).
    /// A table is never replaced whole, nor a list by a single value.
    pub fn set_in(&self, root: &mut toml::Table, value: toml::Value) -> Result<(), String> {
        let Some((last, path)) = self.steps.split_last() else {
            return Err("an empty key names no setting".into());
        };
        let mut here = Slot::Table(root);
        let mut walked = String::new();
        for (k, step) in path.iter().enumerate() {
            here = here.descend(step, &self.steps[k + 1], &walked)?;
            if !walked.is_empty() {
                walked.push('.');
            }
            walked.push_str(&step_str(step));
        }
        here.put(last, value, &walked)
    }
}

impl fmt::Display for DottedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let steps: Vec<String> = self.steps.iter().map(step_str).collect();
        f.write_str(&steps.join("."))
    }
}

/// A value typed on a command line, as TOML: an integer, a float (it has a
/// digit), a boolean, or else a string. `--vary` reads its values this way.
///
/// ```
/// use fraclab::scenario::value_from_str;
/// assert_eq!(value_from_str("3"), toml::Value::Integer(3));
/// assert_eq!(value_from_str("0.25"), toml::Value::Float(0.25));
/// assert_eq!(value_from_str("ring"), toml::Value::String("ring".into()));
/// ```
pub fn value_from_str(s: &str) -> toml::Value {
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

fn out_of_range(walked: &str, i: usize, len: usize) -> String {
    format!("{}: index {i} is out of range; the scenario has {len} entries (0..{len})", at(walked))
}

/// The error for a step that does not fit its slot: an index into a table,
/// or a key into an array.
fn mismatch(step: &Step, walked: &str) -> String {
    match step {
        Step::Index(i) => format!("{} is a table; {i} is not one of its keys", at(walked)),
        Step::Key(k) => format!("{} is an array; use an index (e.g. {walked}.0), not \"{k}\"", at(walked)),
    }
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
                a.get_mut(*i).ok_or_else(|| out_of_range(walked, *i, len))?
            }
            (_, step) => return Err(mismatch(step, walked)),
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
                // A list may be replaced by a list (`members = [2, 5]`),
                // never a table or a list by a single value.
                let shape = (t.get(k), &value);
                if matches!(shape, (Some(toml::Value::Table(_)), _))
                    || matches!(shape, (Some(toml::Value::Array(_)), v) if !v.is_array())
                {
                    return Err(format!("{} is a table or array; vary one of its keys", k));
                }
                t.insert(k.clone(), value);
                Ok(())
            }
            (Slot::Array(a), Step::Index(i)) => {
                let len = a.len();
                *a.get_mut(*i).ok_or_else(|| out_of_range(walked, *i, len))? = value;
                Ok(())
            }
            (_, step) => Err(mismatch(step, walked)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(t: &mut toml::Table, key: &str, value: &str) -> Result<(), String> {
        DottedKey::parse(key)?.set_in(t, value_from_str(value))
    }

    #[test]
    fn set_creates_tables_and_checks_indices() {
        let mut t: toml::Table =
            toml::from_str("[protocol]\nmembers = 3\n[[adversary]]\nkind = \"leak\"\n").unwrap();
        set(&mut t, "network.loss", "0.1").unwrap();
        set(&mut t, "adversary.0.member", "2").unwrap();
        assert_eq!(t["network"]["loss"].as_float(), Some(0.1));
        assert_eq!(t["adversary"][0]["member"].as_integer(), Some(2));
        let e = set(&mut t, "adversary.1.member", "2").unwrap_err();
        assert!(e.contains("index 1 is out of range"), "{e}");
        assert!(set(&mut t, "protocol", "2").is_err());
        let e = set(&mut t, "adversary", "2").unwrap_err();
        assert_eq!(e, "adversary is a table or array; vary one of its keys");
        let list = DottedKey::parse("adversary").unwrap().set_in(&mut t, vec![1, 2].into());
        assert!(list.is_ok(), "a list replaces a list");
        assert!(set(&mut t, "protocol.members.x", "2").is_err());
        let e = set(&mut t, "adversary.kind", "x").unwrap_err();
        assert_eq!(e, "adversary is an array; use an index (e.g. adversary.0), not \"kind\"");
        let e = set(&mut t, "protocol.0", "x").unwrap_err();
        assert_eq!(e, "protocol is a table; 0 is not one of its keys");
        assert!(set(&mut t, "a..b", "1").is_err());
    }

    #[test]
    fn values_from_strings() {
        assert_eq!(value_from_str("0.25"), toml::Value::Float(0.25));
        assert_eq!(value_from_str("true"), toml::Value::Boolean(true));
        assert_eq!(value_from_str("ring"), toml::Value::String("ring".into()));
        assert_eq!(value_from_str("inf"), toml::Value::String("inf".into()));
    }
}
