//! Scenario load errors: file, line:column, key, and what is allowed.
//!
//! Checks return a [`FieldError`]: the dotted key, the value's byte span
//! and a typed [`Problem`]. [`FieldError::located`] turns the span into
//! line:column and the problem into the message of a [`LoadError`].
//!
//! Also the helpers that keep messages readable whatever the input: echoed
//! values are clipped, internal type names never show, and an unknown name
//! gets the closest allowed one as a suggestion.

use std::fmt;
use std::ops::Range;

/// An echoed value longer than this many characters is cut, with "…".
pub const ECHO_CHARS_MAX: usize = 60;

/// A key path longer than this many characters is cut, with "…".
const KEY_CHARS_MAX: usize = 120;

/// What is wrong with one value of a scenario. Its `Display` is the
/// message after `file:line:col: key: `.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// `{value} is out of range; allowed: {allowed}`; `value` may name its
    /// key (`at_ms = 5`).
    OutOfRange { value: String, allowed: String },
    /// Not an id in 1..=n: `{field} = {value} is not a member`, or for an
    /// `[expect]` list `member {value} does not exist`.
    NotAMember { field: Option<&'static str>, value: i64, n: u32 },
    /// Not an id in `least..=n`, where 0 is the SM (with init = "sm").
    NotAParty { value: i64, least: u32, n: u32 },
    /// `{named} is unknown; allowed: {allowed}`, e.g. `secret = "x"`.
    Unknown { named: String, allowed: String },
    /// The scenario is over a limit of reference §9.
    OverLimit(String),
    /// A value that breaks a rule of the protocol or of another value (one
    /// cheat per party, commitments with ring-hardened, …): the sentence,
    /// with what is allowed.
    Refused(String),
    /// What reading the file reported: TOML syntax, a type, an unknown key,
    /// a value a leaf refused while it was read.
    Read(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::OutOfRange { value, allowed } => {
                write!(f, "{value} is out of range; allowed: {allowed}")
            }
            Problem::NotAMember { field: Some(field), value, n } => {
                write!(f, "{field} = {value} is not a member; allowed: 1..={n}")
            }
            Problem::NotAMember { field: None, value, n } => {
                write!(f, "member {value} does not exist; allowed: ids in 1..={n}")
            }
            Problem::NotAParty { value, least, n } => {
                let sm = if *least == 0 { " (0 is the SM)" } else { " (0, the SM, only with init = \"sm\")" };
                write!(f, "{value} is not a party; allowed: ids in {least}..={n}{sm}")
            }
            Problem::Unknown { named, allowed } => write!(f, "{named} is unknown; allowed: {allowed}"),
            Problem::OverLimit(m) | Problem::Refused(m) | Problem::Read(m) => f.write_str(m),
        }
    }
}

/// An error at a byte span of the scenario text, under a dotted key, not
/// yet located: [`FieldError::located`] turns the span into line:column.
#[derive(Debug)]
pub struct FieldError {
    /// `protocol.members`, `adversary[0].member`; empty for the file.
    pub key: String,
    /// The offending value's bytes in the text.
    pub span: Range<usize>,
    /// What is wrong.
    pub problem: Problem,
}

impl FieldError {
    /// `problem` at `key`, whose value is `span` of the text.
    pub fn new(key: impl Into<String>, span: Range<usize>, problem: Problem) -> FieldError {
        FieldError { key: key.into(), span, problem }
    }

    /// What reading reported ([`Problem::Read`]) at `key`.
    pub fn read(key: impl Into<String>, span: Range<usize>, message: impl Into<String>) -> FieldError {
        FieldError::new(key, span, Problem::Read(message.into()))
    }

    /// A rule broken ([`Problem::Refused`]) at `key`.
    pub fn refused(key: impl Into<String>, span: Range<usize>, message: impl Into<String>) -> FieldError {
        FieldError::new(key, span, Problem::Refused(message.into()))
    }

    /// The error located in `file`, whose text is `src`: line:column of the span's start.
    pub fn located(self, src: &str, file: &str) -> LoadError {
        let (line, col) = line_col(src, self.span.start);
        let key = if self.key.is_empty() || self.key == "." { "(file)".to_string() } else { self.key };
        LoadError::Invalid {
            file: file.to_string(),
            line,
            col,
            key: clip_to(&single_line(&key), KEY_CHARS_MAX),
            message: polish(&self.problem.to_string()),
        }
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `src`;
/// an offset past the end or inside a character counts from the character
/// it falls in.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The error for a file that is not UTF-8: the line and column of the first
/// byte that is not.
pub fn not_utf8(bytes: &[u8], error: std::str::Utf8Error, file: &str) -> LoadError {
    let good = bytes.get(..error.valid_up_to()).unwrap_or_default();
    let good = std::str::from_utf8(good).unwrap_or_default();
    let (line, col) = line_col(good, good.len());
    let byte = bytes.get(error.valid_up_to()).map_or(String::new(), |b| format!(" (byte 0x{b:02x})"));
    LoadError::Invalid {
        file: file.to_string(),
        line,
        col,
        key: "(file)".into(),
        message: format!("the file is not valid UTF-8{byte}; allowed: UTF-8 text"),
    }
}

/// Why a scenario could not be loaded. Its `Display` is the one-line message
/// the CLI prints before exiting with status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The file could not be read.
    Io {
        /// The file, as given.
        file: String,
        /// The operating system's reason.
        error: String,
    },
    /// The text is not a valid scenario: `file:line:col: key: message`.
    Invalid {
        /// The file, or `<inline>`.
        file: String,
        /// 1-based line of the offending value.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// The dotted key, e.g. `protocol.members` or `adversary[0].member`.
        key: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A setting made in code (a [`Builder`](super::Builder), an override or
    /// `--vary`) makes the scenario invalid: `file: key: message`, with the
    /// key and message the file loader gives for the same value. There is no
    /// line:column: the TOML the loader read was generated, not written.
    Setting {
        /// The scenario's file, or `<builder>` / `<inline>`.
        file: String,
        /// The dotted key the loader names (it may be another key than the
        /// one set: `protocol.members = 2` can make `adversary[0].member`
        /// name no member).
        key: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

impl LoadError {
    /// `key: message`, without the file and line:column (for a sweep row).
    pub fn without_location(&self) -> String {
        match self {
            LoadError::Invalid { key, message, .. } | LoadError::Setting { key, message, .. } => {
                format!("{key}: {message}")
            }
            LoadError::Io { .. } => self.to_string(),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { file, error } => write!(f, "{file}: cannot read the scenario: {error}"),
            LoadError::Invalid { file, line, col, key, message } => {
                write!(f, "{file}:{line}:{col}: {key}: {message}")
            }
            LoadError::Setting { file, key, message } => write!(f, "{file}: {key}: {message}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// `s` cut to `max` characters, with "…" when cut.
fn clip_to(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((end, _)) => format!("{}…", &s[..end]),
    }
}

/// A user's value, clipped to [`ECHO_CHARS_MAX`] characters.
pub fn clip(s: &str) -> String {
    clip_to(s, ECHO_CHARS_MAX)
}

/// A user's string as a message shows it: quoted, escaped, clipped.
pub fn quoted(s: &str) -> String {
    format!("{:?}", clip(s))
}

/// A user's key as a message shows it: in backticks, escaped, clipped.
pub fn ticked(s: &str) -> String {
    format!("`{}`", clip(s).escape_debug())
}

/// A user's number as a message shows it: `1e300` stays short.
pub fn num(x: f64) -> String {
    let plain = x.to_string();
    if plain.len() <= 24 { plain } else { format!("{x:e}") }
}

/// Edit distance in characters: insertions, deletions, substitutions and
/// swaps of two neighbours (optimal string alignment).
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // d[i][j]: distance between a[..i] and b[..j]
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j - 1] + cost).min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The allowed name closest to `given`, if one is close enough to be what
/// the user meant: a few edits away, or `given` with a suffix missing.
pub fn closest<'a>(given: &str, allowed: &[&'a str]) -> Option<&'a str> {
    if given.chars().count() > 2 * ECHO_CHARS_MAX {
        return None;
    }
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let g = norm(given);
    let near = |a: &str| {
        let a = norm(a);
        let d = distance(&g, &a);
        let close = d <= (g.chars().count().min(a.chars().count()) / 3).max(1);
        let prefix = g.len() >= 3 && (a.starts_with(&g) || g.starts_with(&a));
        (close || prefix).then_some(d)
    };
    allowed
        .iter()
        .filter(|a| **a != given)
        .filter_map(|a| near(a).map(|d| (d, *a)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

/// "did you mean `x`? " when an allowed name is close to `given`.
pub fn did_you_mean(given: &str, allowed: &[&str], quote: fn(&str) -> String) -> String {
    closest(given, allowed).map_or(String::new(), |a| format!("did you mean {}? ", quote(a)))
}

/// Allowed names, each quoted by `quote`, comma separated.
pub fn listed(allowed: &[&str], quote: fn(&str) -> String) -> String {
    allowed.iter().map(|a| quote(a)).collect::<Vec<_>>().join(", ")
}

/// Control characters (a newline in a quoted key, say) as spaces: an error
/// is one line.
fn single_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The last pass over every message: one line, no internal type names, no
/// quoted value longer than [`ECHO_CHARS_MAX`]. Messages are built to need
/// none of it; this holds for the ones serde and toml compose.
pub fn polish(message: &str) -> String {
    let message = single_line(message);
    let message = without_internal_names(&message);
    clip_quoted(&message)
}

/// `struct RawCrashPoint`, `enum RawLeakTo` and bare `Raw…` identifiers
/// are this crate's; a user sees "a table" or "a value".
fn without_internal_names(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("Raw") {
        let ident_end = |s: &str| s.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(s.len());
        let starts_word = !rest[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        let tail = &rest[at + 3..];
        if !starts_word || !tail.starts_with(|c: char| c.is_ascii_uppercase()) {
            out.push_str(&rest[..at + 3]);
            rest = tail;
            continue;
        }
        let mut head = &rest[..at];
        let mut what = "a value";
        for (word, shape) in [("struct ", "a table"), ("untagged enum ", "a value"), ("enum ", "a value")] {
            if let Some(h) = head.strip_suffix(word) {
                head = h;
                what = shape;
                break;
            }
        }
        out.push_str(head);
        out.push_str(what);
        rest = &tail[ident_end(tail)..];
    }
    out.push_str(rest);
    out
}

/// Every `"…"` (with backslash escapes) and `` `…` `` span of `message`,
/// clipped to [`ECHO_CHARS_MAX`] characters of content.
fn clip_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '"' && c != '`' {
            continue;
        }
        let mut content = 0usize;
        let mut escaped = false;
        for d in chars.by_ref() {
            let closes = d == c && !escaped;
            escaped = c == '"' && d == '\\' && !escaped;
            if closes {
                out.push(d);
                break;
            }
            content += 1;
            if content <= ECHO_CHARS_MAX {
                out.push(d);
            } else if content == ECHO_CHARS_MAX + 1 {
                out.push('…');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each typed problem renders the message the checks wrote before they
    /// were typed, and its span alone locates it.
    #[test]
    fn problems_render_and_locate() {
        let cases = [
            (
                Problem::OutOfRange { value: "at_ms = -1".into(), allowed: "0..=9".into() },
                "at_ms = -1 is out of range; allowed: 0..=9",
            ),
            (
                Problem::NotAMember { field: Some("member"), value: 9, n: 4 },
                "member = 9 is not a member; allowed: 1..=4",
            ),
            (
                Problem::NotAMember { field: None, value: 9, n: 4 },
                "member 9 does not exist; allowed: ids in 1..=4",
            ),
            (
                Problem::NotAParty { value: 9, least: 0, n: 4 },
                "9 is not a party; allowed: ids in 0..=4 (0 is the SM)",
            ),
            (
                Problem::NotAParty { value: 0, least: 1, n: 4 },
                "0 is not a party; allowed: ids in 1..=4 (0, the SM, only with init = \"sm\")",
            ),
            (
                Problem::Unknown { named: "mode \"X\"".into(), allowed: "\"I\"".into() },
                "mode \"X\" is unknown; allowed: \"I\"",
            ),
        ];
        for (problem, text) in cases {
            assert_eq!(problem.to_string(), text);
        }
        let e = FieldError::new("fault[0].at_ms", 6..8, Problem::Refused("no".into()))
            .located("a = 1\nb = 22", "f.toml");
        assert_eq!(e.to_string(), "f.toml:2:1: fault[0].at_ms: no");
    }

    #[test]
    fn line_col_never_splits_a_character() {
        let s = "a\nδx";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 2), (2, 1));
        assert_eq!(line_col(s, 3), (2, 1), "inside δ");
        assert_eq!(line_col(s, 4), (2, 2));
        assert_eq!(line_col(s, 99), (2, 3));
    }

    #[test]
    fn suggestions_are_close_names_only() {
        let keys = ["members", "init", "keygen", "epochs", "rekey_interval_ms", "round_timeout_ms"];
        assert_eq!(closest("epoch", &keys), Some("epochs"));
        assert_eq!(closest("member", &keys), Some("members"));
        assert_eq!(closest("round-timeout-ms", &keys), Some("round_timeout_ms"));
        assert_eq!(closest("rekey_interval", &keys), Some("rekey_interval_ms"));
        assert_eq!(closest("colour", &keys), None);
        assert_eq!(closest("", &keys), None);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("rign", "ring"), 1);
        assert_eq!(closest("rign", &["sm", "ring", "ring-hardened"]), Some("ring"));
    }

    #[test]
    fn polish_clips_and_hides_internal_names() {
        let long = "x".repeat(10_000);
        let m = polish(&format!("invalid type: string {long:?}, expected struct RawCrashPoint"));
        assert!(m.len() < 200, "{m}");
        assert!(m.contains(&format!("\"{}…\"", "x".repeat(60))), "{m}");
        assert!(m.ends_with("expected a table"), "{m}");
        assert_eq!(
            polish("data did not match any variant of untagged enum RawLeakTo"),
            "data did not match any variant of a value"
        );
        assert_eq!(polish("Rawness of RawX"), "Rawness of a value");
        assert_eq!(polish("a \"b\\\"c\" `d`\nnext"), "a \"b\\\"c\" `d` next");
        assert_eq!(clip("δδδ"), "δδδ");
        assert_eq!(clip(&"δ".repeat(61)), format!("{}…", "δ".repeat(60)));
        assert_eq!(num(1e300), "1e300");
        assert_eq!(num(0.25), "0.25");
    }
}
