//! Fuzzing the readers of fraclab's own files (issue 12): real
//! `summary.json`, `trace.jsonl`, `sweep.json` and `sweep.csv` files,
//! written once by small runs, are mutated (values and types changed, huge
//! numbers, keys dropped, truncation, garbage bytes and rows) and fed to
//! the readers, to `fraclab::report::plot::any` (what `fraclab plot` does)
//! and to `fraclab::lab::sweep::merge`, and a few times to the binary.
//!
//! Properties: nothing panics or aborts; a refused file is an error that
//! names it, and then nothing was written (exit 2 writes nothing); a file
//! that is accepted is drawn or merged (exit 0). Cases are bounded for CI
//! (`fuzz_config`); `FRACLAB_FUZZ_CASES=N` runs a longer campaign. Each
//! reproducer found is a named regression test at the end of this file.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::Value;

use crate::harness::{fraclab, fuzz_config, repo_root, stderr};
use fraclab::lab::sweep::{self, Manifest, SweepError};
use fraclab::report::plot::{self, PlotError};

/// The pristine files, written once per test binary.
struct Seeds {
    _tmp: tempfile::TempDir,
    /// A run with a full trace and learn findings.
    run: PathBuf,
    /// Shards 1/2 and 2/2 of a tiny sweep, and the same sweep unsharded.
    shards: [PathBuf; 2],
    whole: PathBuf,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let scenario = repo_root().join("scenarios/fractional-attack-n3.toml");
        let o = fraclab(&["run", scenario.to_str().unwrap(), "--out", "run", "--quiet"], &root);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let base = repo_root().join("scenarios/baseline-sm.toml");
        let sweep = |out: &str, extra: &[&str]| {
            let mut args =
                vec!["sweep", base.to_str().unwrap(), "--vary", "protocol.members=3..4", "--seeds", "2"];
            args.extend_from_slice(&["--out", out, "--quiet", "--jobs", "1"]);
            args.extend_from_slice(extra);
            let o = fraclab(&args, &root);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        };
        sweep("s1", &["--shard", "1/2"]);
        sweep("s2", &["--shard", "2/2"]);
        sweep("whole", &[]);
        Seeds {
            run: root.join("run"),
            shards: [root.join("s1"), root.join("s2")],
            whole: root.join("whole"),
            _tmp: tmp,
        }
    })
}

/// Every file of a folder and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            out.insert(e.path(), fs::read(e.path()).unwrap_or_default());
        }
    }
    out
}

/// Copies `from`'s files (not sub-folders) into a new folder `to`.
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        if e.path().is_file() {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// One step into a JSON value.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn paths(v: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                here.push(Step::Key(k.clone()));
                paths(x, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(Step::Index(i));
                paths(x, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(v, |v, s| match s {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Index(i) => &mut v[*i],
    })
}

/// The values a mutation puts somewhere: limits and beyond, other types.
fn replacement(op: u8, k: u32) -> Option<Value> {
    Some(match op % 16 {
        0 => Value::from(u64::MAX),
        1 => Value::from(1_000_000u64),
        2 => Value::from(-1),
        3 => serde_json::json!(1e300),
        4 => Value::from("fraclab-summary/9"),
        5 => Value::Null,
        6 => Value::from(true),
        7 => serde_json::json!([]),
        8 => Value::from(vec![Value::from(k); (k % 9) as usize]),
        9 => return None, // delete the key
        10 => Value::from(k),
        11 => Value::from(0),
        12 => Value::from("x".repeat((k % 50) as usize)),
        13 => {
            serde_json::json!({"kind": "learn", "epoch": k, "view": k % 7, "target": k % 5, "secret": "FK[1,1]"})
        }
        14 => Value::from(4097),
        _ => Value::from(100_001),
    })
}

/// Applies one mutation to a JSON file's text.
fn mutate_json(text: &str, (op, pick, k): (u8, u32, u32)) -> String {
    if op >= 16 {
        return mutate_text(text, op, k);
    }
    let mut v: Value = serde_json::from_str(text).expect("a pristine file parses");
    let mut all = Vec::new();
    paths(&v, &mut Vec::new(), &mut all);
    let path = &all[pick as usize % all.len()];
    match replacement(op, k) {
        Some(x) => *at(&mut v, path) = x,
        None => {
            if let Some((Step::Key(last), parent)) = path.split_last()
                && let Value::Object(m) = at(&mut v, parent)
            {
                m.remove(last);
            }
        }
    }
    serde_json::to_string_pretty(&v).unwrap()
}

/// Byte-level damage: truncation, a garbage byte, a duplicated or dropped line.
fn mutate_text(text: &str, op: u8, k: u32) -> String {
    let mut b = text.as_bytes().to_vec();
    let at = k as usize % b.len().max(1);
    match op % 5 {
        0 => b.truncate(at),
        1 => b.insert(at, [b'{', b'"', b',', 0xff, b'\n', b'9'][k as usize % 6]),
        2 => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let i = k as usize % lines.len().max(1);
            let mut out: Vec<&str> = lines.clone();
            out.insert(i, lines.get(i).copied().unwrap_or(""));
            b = out.concat().into_bytes();
        }
        3 => {
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                lines.remove(k as usize % lines.len());
            }
            b = lines.concat().into_bytes();
        }
        _ => {
            // A digit made huge.
            if let Some(p) = b.iter().skip(at).position(u8::is_ascii_digit) {
                let p = p + at;
                b.splice(p..p + 1, b"99999999999999999999".iter().copied());
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// The cells a CSV mutation writes: wrong types, limits, quoting, nothing.
const CELLS: [&str; 14] = [
    "",
    "x",
    "-1",
    "1e309",
    "18446744073709551616",
    "true",
    "maybe",
    "NaN",
    "\"a,b\"",
    "3.5",
    "4097",
    "100001",
    "9",
    "a\nb",
];

/// Applies one mutation to a `sweep.csv`.
fn mutate_csv(text: &str, (op, pick, k): (u8, u32, u32)) -> String {
    let mut rows: Vec<Vec<String>> =
        text.lines().map(|l| l.split(',').map(str::to_string).collect()).collect();
    let r = pick as usize % rows.len();
    let c = k as usize % rows[r].len().max(1);
    match op % 8 {
        0 | 1 => rows[r][c] = CELLS[(pick as usize / 7 + k as usize) % CELLS.len()].to_string(),
        2 => {
            rows[r].remove(c);
        }
        3 => rows[r].push("extra".into()),
        4 => rows.insert(r, vec!["garbage".into(), "row".into()]),
        5 => {
            let dup = rows[r].clone();
            rows.insert(r, dup);
        }
        6 => return mutate_text(text, (k % 5) as u8, pick),
        _ => {
            let moved = rows.remove(r);
            rows.push(moved);
        }
    }
    let mut out: String = rows.iter().map(|r| r.join(",")).collect::<Vec<_>>().join("\n");
    out.push('\n');
    out
}

fn mutation() -> impl Strategy<Value = (u8, u32, u32)> {
    (0u8..21, any::<u32>(), any::<u32>())
}

/// What `fraclab plot` does, at library level: refused files leave the
/// folder as it was; the error names the file.
fn plot_property(dir: &Path) -> Result<(), TestCaseError> {
    let before = snapshot(dir);
    match plot::any(dir) {
        Ok(_) => {}
        Err(e @ (PlotError::Data { .. } | PlotError::Read(_))) => {
            let shown = e.to_string();
            prop_assert!(
                ["summary.json", "trace.jsonl", "sweep.json", "sweep.csv"].iter().any(|f| shown.contains(f)),
                "the error names the file: {shown}"
            );
            prop_assert_eq!(snapshot(dir), before, "a refused file writes nothing: {}", shown);
        }
        Err(PlotError::Nothing(_)) => prop_assert_eq!(snapshot(dir), before),
        Err(e) => prop_assert!(false, "not an input error: {e}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(fuzz_config(40))]

    /// Mutated summary.json: no panic; refused, or drawn within bounds.
    #[test]
    fn fuzz_summary_json(m in mutation()) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        copy_dir(&seeds().run, &dir);
        fs::remove_file(dir.join("trace.jsonl")).unwrap();
        let text = fs::read_to_string(dir.join("summary.json")).unwrap();
        fs::write(dir.join("summary.json"), mutate_json(&text, m)).unwrap();
        plot_property(&dir)?;
    }

    /// Mutated trace.jsonl (one line changed as JSON, or the bytes damaged).
    #[test]
    fn fuzz_trace_jsonl(m in mutation(), line in any::<u32>()) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        copy_dir(&seeds().run, &dir);
        let text = fs::read_to_string(dir.join("trace.jsonl")).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mutated = if m.0 >= 16 {
            mutate_text(&text, m.0, m.2)
        } else {
            let i = line as usize % lines.len();
            lines[i] = mutate_json(&lines[i], m).replace('\n', "");
            lines.join("\n") + "\n"
        };
        fs::write(dir.join("trace.jsonl"), mutated).unwrap();
        plot_property(&dir)?;
    }

    /// Mutated sweep.json and sweep.csv of a finished sweep: `plot` and the
    /// reader `--resume` uses. A row the reader accepts has every column.
    #[test]
    fn fuzz_sweep_files(m in mutation(), csv in any::<bool>()) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("whole");
        copy_dir(&seeds().whole, &dir);
        let file = if csv { "sweep.csv" } else { "sweep.json" };
        let text = fs::read_to_string(dir.join(file)).unwrap();
        let mutated = if csv { mutate_csv(&text, m) } else { mutate_json(&text, m) };
        fs::write(dir.join(file), mutated).unwrap();
        if let Ok(manifest) = Manifest::read(&dir)
            && let Ok((rows, dropped)) = sweep::read_rows(&dir, &manifest)
        {
            prop_assert!(dropped <= 1, "only a cut-off last line is dropped");
            prop_assert!(rows.values().all(|r| r.len() == manifest.columns.len()));
            prop_assert!(rows.len() as u64 <= manifest.runs);
        }
        plot_property(&dir)?;
    }

    /// `sweep merge` of a mutated shard: refused (nothing written, not even
    /// the --out folder) or merged.
    #[test]
    fn fuzz_merge(m in mutation(), csv in any::<bool>(), second in any::<bool>()) {
        let tmp = tempfile::tempdir().unwrap();
        let shards: Vec<PathBuf> = (0..2).map(|k| tmp.path().join(format!("s{k}"))).collect();
        for (from, to) in seeds().shards.iter().zip(&shards) {
            copy_dir(from, to);
        }
        let target = &shards[usize::from(second)];
        let file = if csv { "sweep.csv" } else { "sweep.json" };
        let text = fs::read_to_string(target.join(file)).unwrap();
        let mutated = if csv { mutate_csv(&text, m) } else { mutate_json(&text, m) };
        fs::write(target.join(file), mutated).unwrap();
        let out = tmp.path().join("merged");
        match sweep::merge(&out, &shards) {
            Ok(_) => prop_assert!(out.join("sweep.csv").exists()),
            Err(SweepError::BadInput(e)) => prop_assert!(!out.exists(), "refused, yet wrote {}: {e}", out.display()),
            Err(e) => prop_assert!(false, "not an input error: {e}"),
        }
    }
}

proptest! {
    #![proptest_config(fuzz_config(6))]

    /// The binary: `fraclab plot` and `fraclab sweep merge` on mutated files
    /// exit 0 or 2 (never a panic's 101 or a signal), and exit 2 writes nothing.
    #[test]
    fn fuzz_binary(m in mutation(), which in 0u8..3) {
        let tmp = tempfile::tempdir().unwrap();
        match which {
            0 => {
                let dir = tmp.path().join("run");
                copy_dir(&seeds().run, &dir);
                let text = fs::read_to_string(dir.join("summary.json")).unwrap();
                fs::write(dir.join("summary.json"), mutate_json(&text, m)).unwrap();
                let before = snapshot(&dir);
                let o = fraclab(&["plot", "run"], tmp.path());
                prop_assert!(matches!(o.status.code(), Some(0 | 2)), "{:?}: {}", o.status, stderr(&o));
                if o.status.code() == Some(2) {
                    prop_assert_eq!(snapshot(&dir), before);
                    prop_assert!(stderr(&o).contains("summary.json"), "{}", stderr(&o));
                }
            }
            _ => {
                for (k, from) in seeds().shards.iter().enumerate() {
                    copy_dir(from, &tmp.path().join(format!("s{k}")));
                }
                let file = if which == 1 { "s0/sweep.csv" } else { "s1/sweep.json" };
                let text = fs::read_to_string(tmp.path().join(file)).unwrap();
                let mutated = if which == 1 { mutate_csv(&text, m) } else { mutate_json(&text, m) };
                fs::write(tmp.path().join(file), mutated).unwrap();
                let o = fraclab(&["sweep", "merge", "--out", "m", "s0", "s1", "--quiet"], tmp.path());
                prop_assert!(matches!(o.status.code(), Some(0 | 2)), "{:?}: {}", o.status, stderr(&o));
                if o.status.code() == Some(2) {
                    prop_assert!(!tmp.path().join("m").exists());
                }
            }
        }
    }
}
