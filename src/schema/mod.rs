//! One typed schema for every file fraclab writes (reference §5): the trace
//! lines of `trace.jsonl` ([`TraceLine`]), `summary.json` ([`Summary`] with
//! its typed [`Finding`]s) and a sweep's `sweep.json` ([`Manifest`]) and
//! `sweep.csv` rows ([`Row`]).
//!
//! Plain serde types and the checks that belong to reading them; no I/O.
//! The writers (`report::trace`, `report::summary`, `lab::sweep`) build
//! these values and every reader (`verify-trace`, the plots, `sweep merge`
//! and `--resume`) reads them, so each format is stated here once. Field
//! order is output order: the bytes of every committed output depend on it.

pub mod summary;
pub mod sweep;
pub mod trace;

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use summary::{Expectation, Finding, Observed, SUMMARY_FORMAT, Stall, Summary, Witness};
pub use sweep::{Manifest, Row, SWEEP_FORMAT, Shard, Vary};
pub use trace::{LineError, TRACE_FORMAT, TraceLine};

use crate::knowledge::ViewId;

/// Who holds or derived something, as trace and summary write it: a member
/// id, a sorted list of ids (a coalition), `"outsider"`, or
/// `"replacement:M#K"` (the K-th replacement of member M, process 700).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum View {
    /// One member.
    Member(u32),
    /// A coalition's pooled view (as read: any list of ids).
    Coalition(Vec<u32>),
    /// The network outsider.
    Outsider,
    /// The `nth` replacement of `member`.
    Replacement {
        /// The index it took.
        member: u32,
        /// 1 for the first replacement of that index.
        nth: u32,
    },
}

impl View {
    /// The member ids the view names (none for the outsider).
    pub fn ids(&self) -> &[u32] {
        match self {
            View::Member(m) | View::Replacement { member: m, .. } => std::slice::from_ref(m),
            View::Coalition(ms) => ms,
            View::Outsider => &[],
        }
    }
}

impl From<&ViewId> for View {
    fn from(v: &ViewId) -> View {
        match v {
            ViewId::Member(m) => View::Member(m.0),
            ViewId::Coalition(ms) => View::Coalition(ms.iter().map(|m| m.0).collect()),
            ViewId::Outsider => View::Outsider,
            ViewId::Replacement { member, nth, .. } => View::Replacement { member: member.0, nth: *nth },
        }
    }
}

impl Serialize for View {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            View::Member(m) => s.serialize_u32(*m),
            View::Coalition(ms) => ms.serialize(s),
            View::Outsider => s.serialize_str("outsider"),
            View::Replacement { member, nth } => s.collect_str(&format_args!("replacement:{member}#{nth}")),
        }
    }
}

/// What a view may be written as, for error messages.
const VIEW_FORMS: &str = "a member id, a list of ids, \"outsider\" or \"replacement:M#K\"";

impl<'de> Deserialize<'de> for View {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<View, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = View;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(VIEW_FORMS)
            }
            fn visit_u64<E: de::Error>(self, x: u64) -> Result<View, E> {
                u32::try_from(x).map(View::Member).map_err(|_| E::custom(format!("{x} is not a member id")))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<View, A::Error> {
                let mut ids = Vec::new();
                while let Some(id) = a.next_element::<u32>()? {
                    ids.push(id);
                }
                Ok(View::Coalition(ids))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<View, E> {
                if s == "outsider" {
                    return Ok(View::Outsider);
                }
                let parsed =
                    s.strip_prefix("replacement:").and_then(|r| r.split_once('#')).and_then(|(m, k)| {
                        let (member, nth) = (m.parse::<u32>().ok()?, k.parse::<u32>().ok()?);
                        // Only the canonical spelling, so that reading and
                        // writing give back the same bytes.
                        (format!("replacement:{member}#{nth}") == s)
                            .then_some(View::Replacement { member, nth })
                    });
                parsed.ok_or_else(|| E::custom(format!("\"{s}\" is not a view ({VIEW_FORMS})")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Why one of fraclab's JSON files cannot be read: the line and key at
/// fault (as `FILE: line L: KEY: message` prints them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// 1-based line in the file; `None` for a check of the whole file.
    pub line: Option<usize>,
    /// The key path at fault (`findings[3].epoch`); empty for the whole file.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// serde_json's message without its " at line L column C" suffix.
pub fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rsplit_once(" at line ") {
        Some((m, _)) if e.line() > 0 => m.to_string(),
        _ => full,
    }
}

/// Parses one of fraclab's JSON files: first its `format` string, which
/// must be `format` exactly, then the typed contents, with the line and key
/// path of the first error.
pub fn parse_json<T: de::DeserializeOwned>(text: &str, format: &str) -> Result<T, JsonError> {
    let located = |e: serde_path_to_error::Error<serde_json::Error>| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let key = if key.is_empty() || key == "." { String::new() } else { key };
        JsonError { line: Some(inner.line()), key, message: json_message(&inner) }
    };
    #[derive(Deserialize)]
    #[serde(rename = "a JSON object")]
    struct Format {
        format: Option<serde_json::Value>,
    }
    let head: Format =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text)).map_err(located)?;
    let line = text.find("\"format\"").map_or(1, |i| text[..i].matches('\n').count() + 1);
    let at = |line: usize, message: String| JsonError { line: Some(line), key: "format".into(), message };
    match head.format {
        Some(serde_json::Value::String(f)) if f == format => {}
        Some(f) => return Err(at(line, format!("{f}; this fraclab reads \"{format}\""))),
        None => return Err(at(1, format!("missing; this fraclab reads \"{format}\""))),
    }
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text)).map_err(located)
}
