//! Reading TOML into the file types with errors that land on the user's own
//! key and span.
//!
//! `[[adversary]]` and `[[fault]]` tables are tagged by `kind`. serde's
//! tagged enums buffer a table before reading its fields, which loses every
//! field's span and key (an error then points at the table header). So they
//! are read in two steps: the `kind` first, then the rest of the table as
//! that kind's struct, straight from toml's spanned tables.

use std::ops::Range;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{FieldError, Problem, did_you_mean, listed, quoted, ticked};

/// A toml parse error: `duplicate key` names the key and where it is.
pub fn parse_error(src: &str, e: toml::de::Error) -> FieldError {
    let span = e.span();
    let message = e.message();
    if let (true, Some(span)) = (message.starts_with("duplicate key"), span.clone()) {
        let name = src.get(span.clone()).unwrap_or_default().trim();
        let key = key_path_at(src, span.start, name);
        let message = format!(
            "duplicate key {}: it is already set in this table; allowed: each key (and each [table]) once",
            ticked(name)
        );
        return FieldError::new(key, span, Problem::Read(message));
    }
    FieldError::new("", span.unwrap_or(0..0), Problem::Read(format!("malformed TOML: {message}")))
}

/// Best effort: the dotted path of the key written at `offset` (`name`),
/// from the `[table]` header above it and, inside an inline table, the key
/// that holds the table. The error's line:column is toml's and exact.
fn key_path_at(src: &str, offset: usize, name: &str) -> String {
    let offset = (0..=offset.min(src.len())).rev().find(|&i| src.is_char_boundary(i)).unwrap_or(0);
    let line_start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = &src[line_start..offset];
    let header = |line: &str| -> Option<(bool, String)> {
        let t = line.trim();
        let array = t.starts_with("[[");
        let inner = t.trim_start_matches('[');
        let end = inner.find(']')?;
        t.starts_with('[').then(|| (array, inner[..end].trim().to_string()))
    };
    if before.trim_start().starts_with('[') {
        return header(src[line_start..].lines().next().unwrap_or_default())
            .map_or_else(|| name.to_string(), |(_, h)| h);
    }
    let mut parts = Vec::new();
    let above = &src[..line_start];
    if let Some((array, h)) = above.lines().rev().find_map(header) {
        if array {
            let count = above.lines().filter_map(header).filter(|(a, x)| *a && *x == h).count();
            parts.push(format!("{h}[{}]", count.saturating_sub(1)));
        } else {
            parts.push(h);
        }
    }
    if let Some(eq) = before.find('=') {
        parts.push(before[..eq].trim().to_string());
    }
    parts.push(name.to_string());
    parts.retain(|p| !p.is_empty());
    parts.join(".")
}

/// A serde error from reading a table, keyed under `prefix` (`fault[0]`, or
/// nothing for the file). `extra` names allowed keys the struct does not
/// list (a tagged table's `kind`); `fallback` locates errors toml left
/// without a span.
pub fn serde_error(
    e: serde_path_to_error::Error<toml::de::Error>,
    prefix: &str,
    extra: &[&str],
    fallback: Range<usize>,
) -> FieldError {
    let mut key = prefix.to_string();
    let mut last = None;
    let mut depth = 0;
    for segment in e.path().iter() {
        match segment {
            // `Spanned` fields and date-times add internal segments; users
            // never wrote them.
            Segment::Map { key: k } if k.starts_with("$__") => {}
            Segment::Map { key: k } | Segment::Enum { variant: k } => {
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(k);
                last = Some(k.as_str());
                depth += 1;
            }
            Segment::Seq { index } => key.push_str(&format!("[{index}]")),
            Segment::Unknown => {}
        }
    }
    let inner = e.inner();
    let message = inner.message();
    // `extra` keys belong to the table itself, not to tables inside it.
    let extra = if depth <= 1 { extra } else { &[] };
    let message = match message.strip_prefix("unknown field `") {
        // toml hands a date-time to a struct as a table with one private key
        Some(tail) if tail.starts_with("$__") => {
            let expected = tail.split_once(", expected ").map_or("", |(_, e)| e);
            let fields: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            format!("invalid type: date-time, expected a table with {}", listed(&fields, ticked))
        }
        Some(tail) => {
            unknown_field(last.unwrap_or_else(|| tail.split('`').next().unwrap_or_default()), tail, extra)
        }
        None => plain_types(message),
    };
    FieldError::new(key, inner.span().unwrap_or(fallback), Problem::Read(message))
}

/// serde's "unknown field `x`, expected one of `a`, `b`" as
/// "unknown field `x`; did you mean `a`? allowed: `a`, `b`". `tail` is the
/// message after "unknown field `".
fn unknown_field(given: &str, tail: &str, extra: &[&str]) -> String {
    let expected = tail.split_once(", expected ").map_or("", |(_, e)| e);
    let mut allowed: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    for x in extra {
        if !allowed.contains(x) {
            allowed.push(x);
        }
    }
    let list = if allowed.is_empty() { "no keys here".to_string() } else { listed(&allowed, ticked) };
    format!("unknown field {}; {}allowed: {list}", ticked(given), did_you_mean(given, &allowed, ticked))
}

/// serde names Rust types where a user expects TOML ones.
fn plain_types(message: &str) -> String {
    let words = [
        ("i64", "an integer"),
        ("u64", "an integer in 0..=18446744073709551615"),
        ("u32", "an integer in 0..=4294967295"),
        ("f64", "a number"),
        ("a sequence", "a list, e.g. [1, 2]"),
    ];
    for (rust, toml) in words {
        if let Some(head) = message.strip_suffix(&format!("expected {rust}")) {
            return format!("{head}expected {toml}");
        }
    }
    message.to_string()
}

/// One `[[name]]` table with its `kind` taken out.
pub struct Tagged<'i> {
    /// `name[i]`.
    pub key: String,
    /// The table's span: its header.
    pub span: Range<usize>,
    /// The `kind` value.
    pub kind: String,
    /// The `kind` value's bytes in the text.
    pub kind_span: Range<usize>,
    fields: DeTable<'i>,
}

impl Tagged<'_> {
    /// The table's other fields, as the kind's struct `T`.
    pub fn fields<T: DeserializeOwned>(self) -> Result<T, FieldError> {
        let de = toml::Deserializer::from(Spanned::new(self.span.clone(), self.fields));
        serde_path_to_error::deserialize(de).map_err(|e| serde_error(e, &self.key, &["kind"], self.span))
    }
}

/// The `[[name]]` tables of the file (`value` is the root's `name` entry),
/// each with a `kind` from `kinds`.
pub fn tables<'i>(
    value: Option<Spanned<DeValue<'i>>>,
    name: &str,
    kinds: &[&str],
) -> Result<Vec<Tagged<'i>>, FieldError> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let allowed = listed(kinds, quoted);
    let span = value.span();
    let DeValue::Array(items) = value.into_inner() else {
        return Err(FieldError::read(
            name,
            span,
            format!("expected [[{name}]] tables; allowed: one [[{name}]] table each, with kind = {allowed}"),
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let key = format!("{name}[{i}]");
        let span = item.span();
        let DeValue::Table(mut fields) = item.into_inner() else {
            return Err(FieldError::read(
                key,
                span,
                format!("expected a table with a kind; allowed: kind = {allowed}"),
            ));
        };
        let Some((_, kind)) = fields.remove_entry("kind") else {
            return Err(FieldError::read(key, span, format!("missing field `kind`; allowed: {allowed}")));
        };
        let kind_span = kind.span();
        let DeValue::String(kind) = kind.into_inner() else {
            return Err(FieldError::read(
                format!("{key}.kind"),
                kind_span,
                format!("expected a string; allowed: {allowed}"),
            ));
        };
        if !kinds.contains(&kind.as_ref()) {
            return Err(FieldError::read(
                format!("{key}.kind"),
                kind_span,
                format!(
                    "unknown kind {}; {}allowed: {allowed}",
                    quoted(&kind),
                    did_you_mean(&kind, kinds, quoted)
                ),
            ));
        }
        out.push(Tagged { key, span, kind: kind.into_owned(), kind_span, fields });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_of_duplicates() {
        let src = "a = 1\n[protocol]\nmembers = 3\nmembers = 4\n";
        assert_eq!(key_path_at(src, src.rfind("members").unwrap(), "members"), "protocol.members");
        let src = "[[fault]]\nx = 1\n[[fault]]\nx = 1\nx = 2\n";
        assert_eq!(key_path_at(src, src.rfind('x').unwrap(), "x"), "fault[1].x");
        let src = "[network]\nlatency_ms = { dist = \"a\", dist = \"b\" }\n";
        assert_eq!(key_path_at(src, src.rfind("dist").unwrap(), "dist"), "network.latency_ms.dist");
        let src = "[network]\n[network]\n";
        assert_eq!(key_path_at(src, src.rfind("network").unwrap(), "network"), "network");
        assert_eq!(key_path_at("x = 1\nx = 2", 6, "x"), "x");
    }
}
