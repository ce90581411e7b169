//! `[[fault]]` tables: crashes and partitions, each field checked at its own
//! line:column.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use super::adversaries::{Ctx, within};
use super::error::{FieldError, Problem};
use super::tagged::tables;
use crate::protocol::{InitKind, MemberId};
use crate::sim::fault::{Crash, CrashAt, Halt, Partition};

/// The `kind`s a `[[fault]]` table may have.
pub const KINDS: &[&str] = &["crash", "partition"];

/// Fault times are whole ms up to a year of virtual time.
const FAULT_MS_MAX: u64 = 365 * 86_400_000;

/// One `[[fault]]` table, its fields read but not yet checked.
#[derive(Debug)]
pub struct FaultTable {
    /// `fault[i]`.
    pub key: String,
    /// The table's span: its header.
    pub span: Range<usize>,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Crash(CrashFields),
    Partition(PartitionFields),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CrashFields {
    member: Spanned<i64>,
    at: Option<Spanned<CrashPoint>>,
    at_ms: Option<Spanned<i64>>,
    replace: Option<bool>,
}

/// `at = { epoch = 3, when = "before-send" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table like { epoch = 3, when = \"before-send\" }")]
struct CrashPoint {
    epoch: Spanned<i64>,
    when: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartitionFields {
    groups: Spanned<Vec<Spanned<Vec<Spanned<i64>>>>>,
    from_ms: Spanned<i64>,
    until_ms: Option<Spanned<i64>>,
}

/// A checked fault.
pub enum Fault {
    Crash(Crash),
    Partition(Partition),
}

/// The file's `[[fault]]` tables, each read as its kind's fields.
pub fn read(value: Option<Spanned<DeValue<'_>>>) -> Result<Vec<FaultTable>, FieldError> {
    let mut out = Vec::new();
    for t in tables(value, "fault", KINDS)? {
        let (key, span) = (t.key.clone(), t.span.clone());
        let body = match t.kind.as_str() {
            "crash" => Body::Crash(t.fields()?),
            _ => Body::Partition(t.fields()?),
        };
        out.push(FaultTable { key, span, body });
    }
    Ok(out)
}

impl FaultTable {
    /// Checks the table against n and the epochs, and builds the fault.
    pub fn check(self, n: u32, epochs: u64) -> Result<Fault, FieldError> {
        let cx = Ctx { key: &self.key, n, epochs, init: InitKind::Sm };
        match self.body {
            Body::Crash(f) => crash(&cx, f, self.span),
            Body::Partition(f) => partition(&cx, f),
        }
    }
}

fn crash(cx: &Ctx<'_>, f: CrashFields, table: Range<usize>) -> Result<Fault, FieldError> {
    let member = cx.member("member", &f.member)?;
    let epochs = cx.epochs;
    let at = match (f.at, f.at_ms) {
        (Some(p), None) => {
            let p = p.into_inner();
            let Some(iteration) = within(*p.epoch.get_ref(), 1..=epochs) else {
                return Err(cx.err(
                    "at.epoch",
                    p.epoch.span(),
                    format!("at.epoch = {}: this run has iterations 1..={epochs}", p.epoch.get_ref()),
                ));
            };
            let after_send = match p.when.get_ref().as_str() {
                "before-send" => false,
                "after-send" => true,
                other => {
                    let allowed = "\"before-send\", \"after-send\"";
                    return Err(cx.unknown("at.when", p.when.span(), other, allowed));
                }
            };
            CrashAt::Point(Halt { iteration, after_send })
        }
        (None, Some(ms)) => match within(*ms.get_ref(), 0..=FAULT_MS_MAX) {
            Some(t) => CrashAt::Time(t * 1_000),
            None => {
                let value = format!("at_ms = {}", ms.get_ref());
                let allowed = format!("0..={FAULT_MS_MAX}");
                return Err(cx.at("at_ms", ms.span(), Problem::OutOfRange { value, allowed }));
            }
        },
        (Some(_), Some(ms)) => {
            return Err(cx.err(
                "at_ms",
                ms.span(),
                "a crash needs exactly one of at = { epoch, when } and at_ms; allowed: one of them",
            ));
        }
        (None, None) => {
            return Err(FieldError::refused(
                cx.key,
                table,
                "a crash needs exactly one of at = { epoch, when } and at_ms",
            ));
        }
    };
    Ok(Fault::Crash(Crash { member, at, replace: f.replace.unwrap_or(false) }))
}

/// A partition must separate someone: no empty group, no member twice, and
/// at least two sides (members named in no group form one side together).
fn partition(cx: &Ctx<'_>, f: PartitionFields) -> Result<Fault, FieldError> {
    let example = "e.g. groups = [[1, 2], [3, 4]]";
    let groups_span = f.groups.span();
    if f.groups.get_ref().is_empty() {
        return Err(cx.err("groups", groups_span, format!("a partition needs groups, {example}")));
    }
    // member → the group (1-based) that names it
    let mut seen: BTreeMap<MemberId, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (g, group) in f.groups.get_ref().iter().enumerate() {
        let g = g + 1;
        if group.get_ref().is_empty() {
            return Err(cx.err(
                "groups",
                group.span(),
                format!("group {g} is empty; allowed: groups of member ids, {example}"),
            ));
        }
        let mut ids = Vec::new();
        for id in group.get_ref() {
            let m = cx.member("groups", id)?;
            if let Some(&first) = seen.get(&m) {
                let message = if first == g {
                    format!("member {m} is twice in group {g}; allowed: each member once")
                } else {
                    format!("member {m} is in two groups ({first} and {g}); allowed: disjoint groups")
                };
                return Err(cx.err("groups", id.span(), message));
            }
            seen.insert(m, g);
            ids.push(m);
        }
        out.push(ids);
    }
    let unnamed = seen.len() < cx.n as usize;
    let sides = out.len() + usize::from(unnamed);
    if sides < 2 {
        return Err(cx.err(
            "groups",
            groups_span,
            format!(
                "a single group holding all {} members separates nobody; allowed: two groups or more, or one that leaves members out (they form the other side), {example}",
                cx.n
            ),
        ));
    }
    let from_ms = within(*f.from_ms.get_ref(), 0..=FAULT_MS_MAX);
    let Some(from_ms) = from_ms else {
        return Err(cx.err(
            "from_ms",
            f.from_ms.span(),
            format!(
                "from_ms = {}: from_ms must be before until_ms, both within 0..={FAULT_MS_MAX}",
                f.from_ms.get_ref()
            ),
        ));
    };
    let until_ms = match f.until_ms {
        None => None,
        Some(u) => match within(*u.get_ref(), 0..=FAULT_MS_MAX).filter(|&u| u > from_ms) {
            Some(u) => Some(u),
            None => {
                return Err(cx.err(
                    "until_ms",
                    u.span(),
                    format!(
                        "until_ms = {}: from_ms must be before until_ms, both within 0..={FAULT_MS_MAX}",
                        u.get_ref()
                    ),
                ));
            }
        },
    };
    Ok(Fault::Partition(Partition {
        groups: out,
        from_us: from_ms * 1_000,
        until_us: until_ms.map(|u| u * 1_000),
    }))
}
