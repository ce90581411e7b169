//! Issue 12: property tests over the scenario loader. Whatever the TOML,
//! loading never panics or aborts; a valid scenario loads (and loads the
//! same again); an invalid one gets one located line naming the key the
//! user got wrong; and the CLI exits 2 without writing anything.
//!
//! CI runs a bounded number of cases; `FRACLAB_FUZZ_CASES=100000 cargo test
//! --release fuzz_scenario` runs a campaign. A failing case prints its TOML;
//! each one becomes a named test in `regressions` below.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};

use fraclab::scenario::{self, LoadError, Scenario};
use proptest::prelude::*;

use crate::harness::{Rng, fraclab, fuzz_config, repo_root, stderr};

/// One `key = value` line, with values that are certainly invalid there.
#[derive(Clone, Debug)]
struct Field {
    key: String,
    value: String,
    bad: Vec<String>,
    required: bool,
}

fn field(key: &str, value: impl ToString, bad: &[String]) -> Field {
    Field { key: key.into(), value: value.to_string(), bad: bad.to_vec(), required: false }
}

fn required(key: &str, value: impl ToString, bad: &[String]) -> Field {
    Field { required: true, ..field(key, value, bad) }
}

/// Bad values from literals.
fn bad(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

/// A table: the root (no header), `[name]` or `[[name]]`.
#[derive(Clone, Debug)]
struct Table {
    header: Option<String>,
    /// The key path errors in it start with: "" for the root, `protocol`,
    /// `adversary[1]`.
    path: String,
    fields: Vec<Field>,
}

impl Table {
    fn new(header: &str, path: &str) -> Table {
        Table { header: Some(header.into()), path: path.into(), fields: Vec::new() }
    }
    fn key(&self, field: &str) -> String {
        if self.path.is_empty() { field.to_string() } else { format!("{}.{field}", self.path) }
    }
}

#[derive(Clone, Debug)]
struct Doc {
    tables: Vec<Table>,
}

/// Where a rendered document put each header and field (1-based lines).
struct Rendered {
    text: String,
    header_line: Vec<usize>,
    field_line: Vec<Vec<usize>>,
}

impl Doc {
    fn render(&self) -> Rendered {
        let mut lines: Vec<String> = Vec::new();
        let (mut header_line, mut field_line) = (Vec::new(), Vec::new());
        for t in &self.tables {
            if let Some(h) = &t.header {
                lines.push(String::new());
                lines.push(h.clone());
            }
            header_line.push(lines.len().max(1));
            let mut at = Vec::new();
            for f in &t.fields {
                lines.push(format!("{} = {}", f.key, f.value));
                at.push(lines.len());
            }
            field_line.push(at);
        }
        Rendered { text: lines.join("\n") + "\n", header_line, field_line }
    }
}

fn quote(s: &str) -> String {
    format!("\"{s}\"")
}

fn list<T: ToString>(xs: &[T]) -> String {
    format!("[{}]", xs.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", "))
}

/// A float as TOML writes it (always with a point).
fn float(x: f64) -> String {
    format!("{x:?}")
}

/// A valid scenario with every kind of adversary and fault possible, and
/// random fields within their ranges.
fn valid_doc(r: &mut Rng) -> Doc {
    let n = r.range(2, 8);
    let init = *r.pick(&["sm", "ring", "ring-hardened"]);
    let epochs = r.range(0, 4);
    let sm = init == "sm";
    let ids_bad = |r: &mut Rng| -> Vec<String> {
        let mut b = bad(&["0", "-1", "4294967296", "\"2\"", "1.5", "true"]);
        b.push((n + 1 + r.range(0, 3)).to_string());
        b
    };
    let mut tables = Vec::new();

    let mut root = Table { header: None, path: String::new(), fields: Vec::new() };
    root.fields.push(required(
        "name",
        quote(&format!("fuzz-{}", r.range(0, 999))),
        &[quote("Bad Name"), quote(""), quote(&"x".repeat(10_000)), "7".into()],
    ));
    if r.chance(50) {
        root.fields.push(field("seed", r.range(0, i64::MAX), &bad(&["-4", "\"s\"", "1.5"])));
    }
    if r.chance(30) {
        root.fields.push(field("description", quote("a fuzzed scenario"), &bad(&["3", "[1]"])));
    }
    tables.push(root);

    let mut group = Table::new("[group]", "group");
    let params = r.pick(&fraclab::group::PARAMS_NAMES);
    group.fields.push(required("params", quote(params), &bad(&["\"toy-99\"", "64"])));
    tables.push(group);

    let mut protocol = Table::new("[protocol]", "protocol");
    protocol.fields.push(required("members", n, &bad(&["1", "4097", "\"four\"", "2.5", "-3"])));
    protocol.fields.push(required("init", quote(init), &bad(&["\"ringy\"", "3"])));
    let keygen = r.pick(&["additive", "elgamal"]);
    protocol.fields.push(required("keygen", quote(keygen), &bad(&["\"mult\""])));
    protocol.fields.push(required("epochs", epochs, &bad(&["-1", "100001", "2.5", "\"3\""])));
    if r.chance(30) {
        let v = r.range(1, 5_000);
        protocol.fields.push(field("rekey_interval_ms", v, &bad(&["0", "86400001", "\"1s\""])));
    }
    if r.chance(30) {
        let v = r.range(1, 5_000);
        protocol.fields.push(field("round_timeout_ms", v, &bad(&["0", "86400001", "-5"])));
    }
    if r.chance(40) && init != "ring-hardened" {
        let v = r.pick(&["none", "commitments"]);
        protocol.fields.push(field("verify", quote(v), &bad(&["\"all\"", "true"])));
    }
    let channel = if r.chance(60) { Some(*r.pick(&["plain", "ideal", "sealed"])) } else { None };
    if let Some(c) = channel {
        protocol.fields.push(field("channel", quote(c), &bad(&["\"secret\"", "1"])));
    }
    tables.push(protocol);

    if r.chance(60) {
        let mut net = Table::new("[network]", "network");
        let p_bad = bad(&["1.0", "-0.5", "\"lots\"", "1e300"]);
        if r.chance(50) {
            net.fields.push(field("loss", float(r.range(0, 49) as f64 / 100.0), &p_bad));
        }
        if r.chance(50) {
            net.fields.push(field("duplicate", float(r.range(0, 49) as f64 / 100.0), &p_bad));
        }
        if r.chance(50) {
            let lo = r.range(0, 20);
            let latency = match r.range(0, 2) {
                0 => format!("{{ dist = \"fixed\", value = {lo} }}"),
                1 => format!("{{ dist = \"uniform\", min = {lo}, max = {} }}", lo + r.range(0, 20)),
                _ => format!("{{ dist = \"exponential\", min = {lo}, mean = {} }}", r.range(0, 30)),
            };
            let lat_bad = bad(&[
                "{ dist = \"normal\", value = 5 }",
                "{ dist = \"uniform\", min = 50, max = 5 }",
                "{ dist = \"fixed\" }",
                "{ dist = \"fixed\", value = 99999999 }",
                "5",
            ]);
            net.fields.push(field("latency_ms", latency, &lat_bad));
        }
        tables.push(net);
    }

    // Adversaries, each kind only where it is allowed.
    let mut cheaters: Vec<i64> = Vec::new();
    let mut sm_cheat = false;
    let mut corrupts = false;
    let count = r.range(0, 3);
    for i in 0..count {
        let path = format!("adversary[{i}]");
        let mut t = Table::new("[[adversary]]", &path);
        let kinds = [
            "leak",
            "coalition",
            "ring-collusion",
            "eavesdropper",
            "cheat",
            "sm-cheat",
            "tamper",
            "replay",
            "forge",
            "withhold",
            "dlog",
        ];
        let kind = *r.pick(&kinds);
        let member = r.range(1, n);
        let modes_bad = bad(&["[]", "[\"X\"]", "\"I\"", "[1]"]);
        let modes = |r: &mut Rng| -> Option<String> {
            let ms = r.subset(&["\"I\"", "\"G\"", "\"R\""]);
            (!ms.is_empty() && r.chance(50)).then(|| list(&ms))
        };
        let body: Vec<Field> = match kind {
            "leak" => {
                let mut secrets = vec!["alpha", "theta", "sk"];
                if epochs >= 1 {
                    secrets.push("fk");
                }
                let secret = *r.pick(&secrets);
                let last = if secret == "fk" { epochs } else { epochs + 1 };
                let mut f = vec![
                    required("member", member, &ids_bad(r)),
                    required("secret", quote(secret), &bad(&["\"pad\"", "1"])),
                    required(
                        "epoch",
                        r.range(1, last),
                        &[0.to_string(), (last + 1).to_string(), "-1".into(), "\"1\"".into()],
                    ),
                ];
                let others: Vec<i64> = (1..=n).filter(|&m| m != member).collect();
                let to = match r.range(0, 3) {
                    0 => None,
                    1 => Some(quote(r.pick::<&str>(&["group", "outsider"]))),
                    _ => {
                        let mut ms = r.subset(&others);
                        if ms.is_empty() {
                            ms.push(others[0]);
                        }
                        if r.chance(30) {
                            ms.push(member);
                        }
                        Some(list(&ms))
                    }
                };
                if let Some(to) = to {
                    let to_bad = vec![
                        "5".into(),
                        quote("all"),
                        list(&[member]),
                        list(&[n + 1]),
                        "[]".into(),
                        "1.5".into(),
                    ];
                    f.push(field("to", to, &to_bad));
                }
                f
            }
            "coalition" if n >= 3 => {
                let mut ms: Vec<i64> = (1..=n).collect();
                ms.truncate(r.range(2, n - 1) as usize);
                let all: Vec<i64> = (1..=n).collect();
                let members_bad = vec![list(&[1]), list(&[2, 2]), list(&all), list(&[1, n + 1]), "3".into()];
                vec![required("members", list(&ms), &members_bad)]
            }
            "ring-collusion" if !sm && n >= 3 => vec![required("target", member, &ids_bad(r))],
            "eavesdropper" => modes(r).map(|m| field("modes", m, &modes_bad)).into_iter().collect(),
            "cheat" if !cheaters.contains(&member) && (init == "ring" || epochs >= 1) => {
                cheaters.push(member);
                let mut f = vec![required("member", member, &ids_bad(r))];
                if init == "ring" && (epochs == 0 || r.chance(50)) {
                    f.push(required("phase", quote("init"), &bad(&["\"later\"", "1"])));
                    if r.chance(50) {
                        f.push(field("epoch", 1, &bad(&["2", "-1", "\"1\""])));
                    }
                } else {
                    f.push(required("phase", quote("keygen"), &bad(&["\"later\"", "1"])));
                    let e_bad = vec!["0".into(), (epochs + 1).to_string(), "-2".into()];
                    f.push(field("epoch", r.range(1, epochs), &e_bad));
                }
                f
            }
            "sm-cheat" if sm && !sm_cheat => {
                sm_cheat = true;
                vec![required("member", member, &ids_bad(r))]
            }
            "tamper" | "replay" | "forge" => {
                corrupts |= kind != "replay" && channel != Some("sealed");
                let p = float(r.range(0, 99) as f64 / 100.0);
                let mut f = vec![required("probability", p, &bad(&["1.0", "-0.1", "\"p\"", "nan", "1e300"]))];
                if let Some(m) = modes(r) {
                    f.push(field("modes", m, &modes_bad));
                }
                if r.chance(50) {
                    let least = if sm { 0 } else { 1 };
                    let parties: Vec<i64> = (least..=n).collect();
                    let mut ss = r.subset(&parties);
                    if ss.is_empty() {
                        ss.push(n);
                    }
                    let mut s_bad = vec!["[]".into(), list(&[n + 1]), list(&[-1]), "1".into()];
                    if !sm {
                        s_bad.push(list(&[0]));
                    }
                    f.push(field("senders", list(&ss), &s_bad));
                }
                f
            }
            "withhold" => {
                let mut f = vec![required("member", member, &ids_bad(r))];
                if r.chance(50) {
                    f.push(field("phase", quote("recovery"), &bad(&["\"init\"", "2"])));
                }
                f
            }
            "dlog" => {
                let mut f = Vec::new();
                if r.chance(50) {
                    let view = if r.chance(50) { quote("outsider") } else { member.to_string() };
                    let v_bad = vec![quote("insider"), "0".into(), (n + 1).to_string(), "1.5".into()];
                    f.push(field("view", view, &v_bad));
                }
                if r.chance(50) {
                    let b_bad = bad(&["0", "1000000000001", "-5", "\"big\""]);
                    f.push(field("budget", r.range(1, 1_000_000_000_000), &b_bad));
                }
                f
            }
            // A kind this scenario cannot take: an eavesdropper instead.
            _ => Vec::new(),
        };
        let kind =
            if body.is_empty() && !matches!(kind, "dlog" | "eavesdropper") { "eavesdropper" } else { kind };
        t.fields.push(required("kind", quote(kind), &bad(&["\"bogus\"", "7"])));
        t.fields.extend(body);
        tables.push(t);
    }

    for i in 0..r.range(0, 2) {
        let mut t = Table::new("[[fault]]", &format!("fault[{i}]"));
        if r.chance(50) {
            t.fields.push(required("kind", quote("crash"), &bad(&["\"crush\"", "1"])));
            t.fields.push(required("member", r.range(1, n), &ids_bad(r)));
            if epochs >= 1 && r.chance(50) {
                let when = r.pick(&["before-send", "after-send"]);
                let at = format!("{{ epoch = {}, when = \"{when}\" }}", r.range(1, epochs));
                let at_bad = vec![
                    "5".into(),
                    format!("{{ epoch = 0, when = \"{when}\" }}"),
                    format!("{{ epoch = {}, when = \"{when}\" }}", epochs + 1),
                    "{ epoch = 1, when = \"during\" }".into(),
                    "{ epoch = 1 }".into(),
                    "{ epoch = 1, when = \"before-send\", extra = 2 }".into(),
                ];
                t.fields.push(field("at", at, &at_bad));
            } else {
                let ms_bad = bad(&["-1", "31536000001", "\"soon\"", "1.5"]);
                t.fields.push(field("at_ms", r.range(0, 100_000), &ms_bad));
            }
            if r.chance(50) {
                t.fields.push(field("replace", "true", &bad(&["1", "\"yes\""])));
            }
        } else {
            t.fields.push(required("kind", quote("partition"), &bad(&["\"split\""])));
            let mut ids: Vec<i64> = (1..=n).collect();
            // rotate so groups are not always [1, 2, …]
            ids.rotate_left(r.range(0, n - 1) as usize);
            let cut = r.range(1, n - 1) as usize;
            let (a, b) = ids.split_at(cut);
            let groups =
                if r.chance(50) { format!("[{}]", list(a)) } else { format!("[{}, {}]", list(a), list(b)) };
            let all: Vec<i64> = (1..=n).collect();
            let g_bad = vec![
                "[]".into(),
                "[[]]".into(),
                format!("[{}, []]", list(a)),
                format!("[{}]", list(&all)),
                "[[1, 1]]".into(),
                format!("[[1], [{}]]", n + 1),
                "[1, 2]".into(),
            ];
            t.fields.push(required("groups", groups, &g_bad));
            let from = r.range(0, 10_000);
            t.fields.push(required("from_ms", from, &bad(&["-1", "\"0\"", "31536000001"])));
            if r.chance(50) {
                let u_bad = vec![from.to_string(), "-1".into(), "31536000001".into()];
                t.fields.push(field("until_ms", from + r.range(1, 10_000), &u_bad));
            }
        }
        tables.push(t);
    }

    if r.chance(40) {
        let mut out = Table::new("[output]", "output");
        let trace = r.pick(&["full", "protocol", "none"]);
        out.fields.push(field("trace", quote(trace), &bad(&["\"all\"", "1"])));
        tables.push(out);
    }
    if r.chance(60) {
        let mut ex = Table::new("[expect]", "expect");
        if r.chance(50) {
            ex.fields.push(field("keys_agreed", "true", &bad(&["1", "\"yes\""])));
        }
        if r.chance(50) {
            ex.fields.push(field("epochs_completed", epochs, &bad(&["-1", "\"2\""])));
        }
        let members: Vec<i64> = (1..=n).collect();
        if r.chance(40) {
            ex.fields.push(field("recovered", list(&r.subset(&members)), &[list(&[n + 1]), list(&[0])]));
        }
        if r.chance(40) {
            let least = if sm { 0 } else { 1 };
            let parties: Vec<i64> = (least..=n).collect();
            ex.fields.push(field("detected", list(&r.subset(&parties)), &[list(&[n + 1]), list(&[-1])]));
        }
        if r.chance(40) {
            let reasons: Vec<String> = fraclab::protocol::sealed::REASONS.iter().map(|s| quote(s)).collect();
            ex.fields.push(field("rejected", list(&r.subset(&reasons)), &bad(&["[\"bogus\"]", "[1]"])));
        }
        // Needs the analysis, which is off with cheaters or corrupted payloads.
        if cheaters.is_empty() && !sm_cheat && !corrupts && r.chance(40) {
            ex.fields.push(field("compromised", list(&r.subset(&members)), &[list(&[0]), list(&[n + 1])]));
        }
        tables.push(ex);
    }
    Doc { tables }
}

/// What a single mutation of a valid document must produce.
#[derive(Debug)]
struct Expected {
    /// The error's key is this or starts with it followed by `.` or `[`.
    key: String,
    /// The table, and the field (its header when `None`), the error is on.
    table: usize,
    field: Option<usize>,
    /// Its 1-based line, once rendered.
    line: usize,
    /// The column, when the value is a scalar whose span toml reports.
    col: Option<usize>,
    /// A fragment of the message.
    says: Option<&'static str>,
}

/// Breaks one thing in `doc`: a value out of range or of the wrong type, an
/// unknown key, a missing required key, or a duplicated line.
fn mutate(doc: &mut Doc, r: &mut Rng) -> Expected {
    let ti = r.range(0, doc.tables.len() as i64 - 1) as usize;
    let t = &mut doc.tables[ti];
    let fields = t.fields.len();
    let at = |key: String, field: Option<usize>, col: Option<usize>, says: Option<&'static str>| Expected {
        key,
        table: ti,
        field,
        line: 0,
        col,
        says,
    };
    let what = r.range(0, 9);
    if fields == 0 || what == 9 {
        // an unknown key, close to a real one when there is one
        let name = match t.fields.first() {
            Some(f) if r.chance(50) => format!("{}x", f.key),
            _ => "bogus_key".to_string(),
        };
        t.fields.push(field(&name, "1", &[]));
        return at(t.key(&name), Some(fields), Some(1), Some("unknown field"));
    }
    let fi = r.range(0, fields as i64 - 1) as usize;
    let f = t.fields[fi].clone();
    let key = t.key(&f.key);
    if what == 8 {
        // the same line twice: the error is on the second
        t.fields.insert(fi + 1, f.clone());
        return at(key, Some(fi + 1), Some(1), Some("duplicate key"));
    }
    if what == 7 && f.required {
        t.fields.remove(fi);
        return at(t.path.clone(), None, None, Some("missing field"));
    }
    if f.bad.is_empty() {
        let name = format!("{}x", f.key);
        t.fields[fi].key = name.clone();
        return at(t.key(&name), Some(fi), Some(1), Some("unknown field"));
    }
    let bad = r.pick(&f.bad).clone();
    let scalar = !bad.starts_with('[') && !bad.starts_with('{');
    t.fields[fi].value = bad;
    at(key, Some(fi), scalar.then_some(f.key.chars().count() + 4), None)
}

/// A valid document with one mistake, rendered, and what its error must be.
fn broken(r: &mut Rng) -> (String, Expected) {
    let mut doc = valid_doc(r);
    let mut ex = mutate(&mut doc, r);
    let out = doc.render();
    ex.line = match ex.field {
        Some(f) => out.field_line[ex.table][f],
        // the root table's span starts the file
        None if ex.table == 0 => 1,
        None => out.header_line[ex.table],
    };
    (out.text, ex)
}

/// `parse`, with a panic turned into a failure that shows the input.
fn parse(text: &str) -> Result<Result<Scenario, LoadError>, String> {
    catch_unwind(AssertUnwindSafe(|| scenario::parse(text, "test.toml")))
        .map_err(|_| format!("the loader panicked on:\n{text}"))
}

/// What every load error holds to: one line, `file:line:col: key: message`
/// with the line inside the file, no internal names, no runaway echo.
fn check_error(
    e: &LoadError,
    file: &str,
    text_lines: usize,
) -> Result<(usize, usize, String, String), String> {
    let shown = e.to_string();
    let LoadError::Invalid { file: f, line, col, key, message } = e else {
        return Err(format!("not a located error: {shown}"));
    };
    let fail = |why: &str| Err(format!("{why}: {shown}"));
    if f != file || !shown.starts_with(&format!("{file}:{line}:{col}: {key}: ")) {
        return fail("not file:line:col: key: message");
    }
    if *line == 0 || *col == 0 || *line > text_lines + 1 {
        return fail("line:col outside the file");
    }
    if key.is_empty() || message.is_empty() || shown.contains('\n') {
        return fail("empty key or message, or more than one line");
    }
    if shown.chars().count() > 1_000 {
        return fail("too long");
    }
    // The key and message only: the file's path is the user's (a temporary
    // folder may well be called `.tmpF7RawT`).
    let said = format!("{key}: {message}");
    let internal = ["Raw", "serde", "untagged", "$__", "RawCrashPoint", "variant of"];
    if let Some(word) = internal.iter().find(|w| {
        said.match_indices(**w)
            .any(|(i, _)| **w != "Raw" || said[i + 3..].starts_with(|c: char| c.is_ascii_uppercase()))
    }) {
        return Err(format!("internal name {word:?} in: {shown}"));
    }
    Ok((*line, *col, key.clone(), message.clone()))
}

fn lines(text: &str) -> usize {
    text.lines().count()
}

// CI's budget: about a second in release for all of them.
proptest! {
    #![proptest_config(fuzz_config(1500))]

    /// Valid scenarios with every adversary and fault kind load, and load
    /// the same the second time.
    #[test]
    fn valid_scenarios_load(seed in any::<u64>()) {
        let text = valid_doc(&mut Rng(seed)).render().text;
        let first = parse(&text).map_err(TestCaseError::fail)?;
        let sc = first.map_err(|e| TestCaseError::fail(format!("{e}\nrejects a valid scenario:\n{text}")))?;
        let again = parse(&text).map_err(TestCaseError::fail)?.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(format!("{sc:?}"), format!("{again:?}"));
        let tables = |h: &str| text.lines().filter(|l| *l == h).count();
        prop_assert_eq!(sc.adversaries().list.len(), tables("[[adversary]]"));
        prop_assert_eq!(sc.faults().crashes.len() + sc.faults().partitions.len(), tables("[[fault]]"));
    }

    /// One thing broken in a valid scenario: the error names that key, on
    /// that line (at the value's column for a scalar).
    #[test]
    fn one_mistake_is_named_where_it_is(seed in any::<u64>()) {
        let (text, ex) = broken(&mut Rng(seed));
        let result = parse(&text).map_err(TestCaseError::fail)?;
        let Err(e) = result else {
            return Err(TestCaseError::fail(format!("accepted, expected an error at {ex:?}:\n{text}")));
        };
        let (line, col, key, message) = check_error(&e, "test.toml", lines(&text)).map_err(TestCaseError::fail)?;
        let want_key = if ex.key.is_empty() { "(file)".to_string() } else { ex.key.clone() };
        let key_ok = key == want_key || key.starts_with(&format!("{want_key}.")) || key.starts_with(&format!("{want_key}["));
        prop_assert!(key_ok, "{e}\nexpected key {want_key} for {ex:?}:\n{text}");
        prop_assert_eq!(line, ex.line, "{}\nexpected {:?}:\n{}", e, ex, text);
        if let (Some(c), None) = (ex.col, ex.says) {
            // A whole-table check (say, min above max) may point at the table.
            if key == want_key {
                prop_assert_eq!(col, c, "{}\nexpected {:?}:\n{}", e, ex, text);
            }
        }
        if let Some(says) = ex.says {
            prop_assert!(message.contains(says), "{e}\nexpected {says:?}:\n{text}");
        }
    }

}

proptest! {
    #![proptest_config(fuzz_config(1500))]

    /// Tables of any kind (or none) with any of the fields any kind takes,
    /// holding any value: never a panic, and every error is located.
    #[test]
    fn random_tables_never_panic(seed in any::<u64>()) {
        let r = &mut Rng(seed);
        let base = valid_doc(r).render().text;
        let mut text = base.clone();
        let names = [
            "kind", "member", "members", "target", "modes", "phase", "epoch", "probability", "senders",
            "secret", "to", "view", "budget", "at", "at_ms", "replace", "groups", "from_ms", "until_ms",
        ];
        let kinds = [
            "leak", "coalition", "ring-collusion", "eavesdropper", "cheat", "sm-cheat", "tamper",
            "replay", "forge", "withhold", "dlog", "crash", "partition", "", "LEAK",
        ];
        let values = [
            "0", "1", "2", "3", "-1", "9", "4294967296", "9223372036854775807", "-9223372036854775808",
            "0.5", "1.0", "-0.0", "nan", "inf", "1e308", "true", "\"\"", "\"x\"", "\"I\"", "\"alpha\"",
            "\"fk\"", "\"init\"", "\"keygen\"", "\"recovery\"", "\"outsider\"", "\"group\"",
            "\"before-send\"", "[]", "[1, 2]", "[[1], [2]]", "[[1, 2, 3]]", "[[]]", "[\"G\", \"R\"]",
            "[0]", "[1.5]", "{ epoch = 1, when = \"after-send\" }", "{ epoch = -1 }", "{}",
            "1979-05-27T07:32:00Z", "[[1], 2]",
        ];
        for _ in 0..r.range(1, 4) {
            let header = if r.chance(50) { "[[adversary]]" } else { "[[fault]]" };
            text.push_str(&format!("\n{header}\n"));
            if r.chance(90) {
                text.push_str(&format!("kind = \"{}\"\n", r.pick(&kinds)));
            }
            let mut used = Vec::new();
            for _ in 0..r.range(0, 5) {
                let name = *r.pick(&names);
                if name != "kind" && !used.contains(&name) {
                    used.push(name);
                    text.push_str(&format!("{name} = {}\n", r.pick(&values)));
                }
            }
        }
        match parse(&text).map_err(TestCaseError::fail)? {
            Ok(sc) => {
                let again = parse(&text).map_err(TestCaseError::fail)?;
                prop_assert!(again.is_ok_and(|a| format!("{a:?}") == format!("{sc:?}")), "{text}");
            }
            Err(e) => {
                check_error(&e, "test.toml", lines(&text)).map_err(|m| TestCaseError::fail(format!("{m}\n{text}")))?;
            }
        }
    }

}

proptest! {
    #![proptest_config(fuzz_config(600))]

    /// Byte-level damage to the bundled scenarios: flipped, inserted and
    /// deleted bytes, duplicated lines, swapped values. Never a panic; every
    /// error is located, non-UTF-8 ones too.
    #[test]
    fn damaged_bundled_scenarios_never_panic(seed in any::<u64>()) {
        let r = &mut Rng(seed);
        let files = bundled();
        let (name, original) = r.pick(&files);
        let mut bytes = original.clone().into_bytes();
        for _ in 0..r.range(1, 4) {
            damage(&mut bytes, r);
        }
        let tmp = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = tmp.path().join("test.toml");
        fs::write(&path, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let file = path.display().to_string();
        let shown = String::from_utf8_lossy(&bytes).into_owned();
        let loaded = catch_unwind(AssertUnwindSafe(|| scenario::load(&path)))
            .map_err(|_| TestCaseError::fail(format!("the loader panicked on damaged {name}:\n{shown}")))?;
        if let Err(e) = loaded {
            check_error(&e, &file, lines(&shown)).map_err(|m| TestCaseError::fail(format!("{m}\n{shown}")))?;
        }
        if let Ok(text) = std::str::from_utf8(&bytes) {
            parse(text).map_err(TestCaseError::fail)?.ok();
        }
    }
}

proptest! {
    #![proptest_config(fuzz_config(12))]

    /// Through the binary: a broken scenario exits 2, says where, and
    /// writes nothing, not even the --out folder.
    #[test]
    fn the_cli_exits_2_and_writes_nothing(seed in any::<u64>()) {
        let (text, ex) = broken(&mut Rng(seed));
        let tmp = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        fs::write(tmp.path().join("bad.toml"), &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let o = fraclab(&["run", "bad.toml", "--out", "out", "--quiet"], tmp.path());
        let err = stderr(&o);
        prop_assert_eq!(o.status.code(), Some(2), "{}\n{}", err, text);
        prop_assert!(!tmp.path().join("out").exists(), "--out was created for:\n{}", text);
        prop_assert!(!tmp.path().join("results").exists());
        let located = format!("error: bad.toml:{}:", ex.line);
        prop_assert!(err.starts_with(&located), "{}\nexpected {:?}:\n{}", err, ex, text);
        prop_assert_eq!(err.lines().count(), 1, "{}", err);
    }
}

/// The bundled scenarios, by file name.
fn bundled() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = fs::read_dir(repo_root().join("scenarios"))
        .expect("scenarios/")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out
}

/// One random edit of `bytes`.
fn damage(bytes: &mut Vec<u8>, r: &mut Rng) {
    let len = bytes.len() as i64;
    let at = if len == 0 { 0 } else { r.range(0, len - 1) as usize };
    let interesting = b"[]{}=\"'#\n.,-_0123456789\\\xff\xc3\xa9 ";
    match r.range(0, 5) {
        0 if len > 0 => bytes[at] ^= 1 << r.range(0, 7),
        1 => bytes.insert(at, *r.pick(interesting)),
        2 if len > 0 => {
            bytes.remove(at);
        }
        3 => {
            // duplicate the line holding `at`
            let start = bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let end = bytes[at..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| at + i + 1);
            let line = bytes[start..end].to_vec();
            bytes.splice(end..end, line);
        }
        _ => {
            // swap the values of two `key = value` lines
            let text = String::from_utf8_lossy(bytes).into_owned();
            let mut ls: Vec<String> = text.split('\n').map(str::to_string).collect();
            let with_value: Vec<usize> = (0..ls.len()).filter(|&i| ls[i].contains(" = ")).collect();
            if with_value.len() >= 2 {
                let (a, b) = (*r.pick(&with_value), *r.pick(&with_value));
                let (ka, va) = ls[a].split_once(" = ").map(|(k, v)| (k.to_string(), v.to_string())).unwrap();
                let (kb, vb) = ls[b].split_once(" = ").map(|(k, v)| (k.to_string(), v.to_string())).unwrap();
                ls[a] = format!("{ka} = {vb}");
                ls[b] = format!("{kb} = {va}");
                *bytes = ls.join("\n").into_bytes();
            }
        }
    }
}

/// Inputs the properties found, kept as named tests (each failed on the
/// loader before issue 12).
mod regressions {
    use super::*;

    fn error(text: &str) -> String {
        match parse(text).expect("no panic") {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => {
                check_error(&e, "test.toml", lines(text)).unwrap_or_else(|m| panic!("{m}"));
                e.to_string()
            }
        }
    }

    const BASE: &str = "name = \"t\"\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = 3\ninit = \"ring\"\nkeygen = \"additive\"\nepochs = 2\n";

    /// one_mistake_is_named_where_it_is: `at = 0` named `RawCrashPoint`.
    #[test]
    fn crash_at_of_the_wrong_type() {
        let e = error(&format!("{BASE}[[fault]]\nkind = \"crash\"\nmember = 1\nat = 0\n"));
        assert!(
            e.starts_with("test.toml:12:6: fault[0].at: invalid type: integer `0`, expected a table like"),
            "{e}"
        );
    }

    /// one_mistake_is_named_where_it_is: a missing field of the second
    /// [[fault]] was located at the first table's header.
    #[test]
    fn missing_field_of_a_later_table() {
        let text = format!(
            "{BASE}[[fault]]\nkind = \"crash\"\nmember = 1\nat_ms = 5\n[[fault]]\nkind = \"crash\"\nat_ms = 9\n"
        );
        let e = error(&text);
        assert!(e.starts_with("test.toml:13:1: fault[1]: missing field `member`"), "{e}");
    }

    /// damaged_bundled_scenarios_never_panic: a byte 0xff in a bundled
    /// scenario was "cannot read the scenario", with no line:column.
    #[test]
    fn a_bad_byte_in_a_bundled_scenario() {
        let (_, text) =
            bundled().into_iter().find(|(n, _)| n == "plain-tamper.toml").expect("plain-tamper.toml");
        let mut bytes = text.into_bytes();
        let at = bytes.iter().position(|&b| b == b'\n').unwrap() + 5;
        bytes.insert(at, 0xff);
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("test.toml");
        fs::write(&path, &bytes).unwrap();
        let e = scenario::load(&path).unwrap_err().to_string();
        assert!(
            e.ends_with(":2:5: (file): the file is not valid UTF-8 (byte 0xff); allowed: UTF-8 text"),
            "{e}"
        );
    }

    /// random_tables_never_panic: a date-time where a table belongs showed
    /// toml's private key, `at.$__toml_private_datetime`, and offered `kind`
    /// inside `at`.
    #[test]
    fn a_date_time_where_a_table_belongs() {
        let e = error(&format!("{BASE}[[fault]]\nkind = \"crash\"\nmember = 1\nat = 1979-05-27T07:32:00Z\n"));
        assert!(
            e.starts_with(
                "test.toml:12:6: fault[0].at: invalid type: date-time, expected a table with `epoch`, `when`"
            ),
            "{e}"
        );
        let e =
            error(&format!("{BASE}[[fault]]\nkind = \"crash\"\nmember = 1\nat = {{ epoch = 1, wen = 2 }}\n"));
        assert!(
            e.contains("fault[0].at.wen: unknown field `wen`; did you mean `when`? allowed: `epoch`, `when`"),
            "{e}"
        );
        assert!(!e.contains("`kind`"), "{e}");
    }

    /// No abort: nesting deeper than the TOML reader recurses is a located
    /// error (exit 2), not a stack overflow.
    #[test]
    fn deep_nesting_is_an_error_not_an_abort() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = [
            format!("v = {}{}", "[".repeat(100_000), "]".repeat(100_000)),
            format!("v = {}1{}", "{ a = ".repeat(100_000), " }".repeat(100_000)),
            format!("{}b = 1", "a.".repeat(50_000)),
        ];
        for body in deep {
            fs::write(tmp.path().join("bad.toml"), format!("name = \"x\"\n{body}\n")).unwrap();
            let o = fraclab(&["run", "bad.toml", "--out", "out"], tmp.path());
            assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
            assert!(stderr(&o).starts_with("error: bad.toml:"), "{}", stderr(&o));
            assert!(!tmp.path().join("out").exists());
        }
    }
}
