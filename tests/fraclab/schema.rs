//! The typed schema (`fraclab::schema`) states every format once: each line
//! of every bundled scenario's trace, every committed summary and every
//! committed sweep manifest and row parses into it and serialises back to
//! the same bytes.

use std::fs;
use std::path::PathBuf;

use fraclab::lab::execute;
use fraclab::scenario::{self, TraceLevel};
use fraclab::schema::{Manifest, Summary, TraceLine};

use crate::harness::repo_root;

fn bundled() -> Vec<PathBuf> {
    let mut v: Vec<_> = fs::read_dir(repo_root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

/// Every line of every bundled scenario's trace (at its own level, or
/// `full` for those that write none) reads into a [`TraceLine`], by the
/// located reader and by plain serde, and writes back byte for byte.
#[test]
fn every_trace_line_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    for path in bundled() {
        let sc = scenario::load(&path).unwrap();
        let level = if sc.trace() == TraceLevel::None { TraceLevel::Full } else { sc.trace() };
        let dir = tmp.path().join(sc.name());
        execute(&sc, level, Some(&dir)).unwrap();
        let text = fs::read_to_string(dir.join("trace.jsonl")).unwrap();
        for (k, line) in text.lines().enumerate() {
            let typed =
                TraceLine::from_json(line).unwrap_or_else(|e| panic!("{} line {}: {e}", sc.name(), k + 1));
            assert_eq!(typed.to_json(), line, "{} line {}", sc.name(), k + 1);
            // The hand-written writer the trace uses writes serde's bytes.
            let mut fast = Vec::new();
            typed.write_json(&mut fast);
            assert_eq!(fast, line.as_bytes(), "{} line {} (write_json)", sc.name(), k + 1);
            let plain: TraceLine = serde_json::from_str(line).unwrap();
            assert_eq!(plain, typed, "{} line {}", sc.name(), k + 1);
            // The reader's fast path (straight into the type) and its slow,
            // located path (through a JSON tree) read the same line.
            let tree: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(TraceLine::from_value(&tree).unwrap(), typed, "{} line {}", sc.name(), k + 1);
            kinds.insert(typed.type_name());
        }
    }
    // The bundled scenarios exercise every line type.
    assert_eq!(kinds.len(), 17, "{kinds:?}");
}

/// Every committed `summary.json` and `sweep.json` reads into the schema and
/// writes back byte for byte; every committed sweep row reads as a typed row
/// whose cells are the line's.
#[test]
fn every_committed_summary_and_sweep_round_trips() {
    let mut summaries = 0;
    for entry in fs::read_dir(repo_root().join("results")).unwrap() {
        let dir = entry.unwrap().path();
        let summary = dir.join("summary.json");
        if summary.exists() {
            let text = fs::read_to_string(&summary).unwrap();
            let s = Summary::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", summary.display()));
            assert_eq!(s.to_json(), text, "{}", summary.display());
            summaries += 1;
        }
        let sweep = dir.join("sweep.json");
        if sweep.exists() {
            let text = fs::read_to_string(&sweep).unwrap();
            let m = Manifest::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", sweep.display()));
            assert_eq!(m.to_json(), text, "{}", sweep.display());
            let csv = fs::read(dir.join("sweep.csv")).unwrap();
            let (rows, dropped) = m.parse_rows(&csv).unwrap();
            assert_eq!((rows.len() as u64, dropped), (m.runs, 0), "{}", sweep.display());
            let lines: Vec<&str> = std::str::from_utf8(&csv).unwrap().lines().skip(1).collect();
            for (row, line) in rows.values().zip(lines) {
                assert_eq!(row.cells().join(","), line, "{}", sweep.display());
            }
        }
    }
    assert!(summaries >= 20, "{summaries} committed summaries");
}

/// Lines the fast path refuses take the located path, with its answer: a
/// key given twice is read as its last value (as a JSON tree reads it), and
/// a bad value is an error naming the key.
#[test]
fn lines_off_the_fast_path_read_as_the_located_reader_reads_them() {
    let twice = r#"{"type":"crash","seq":5,"t_us":10,"member":2,"member":3}"#;
    let tree: serde_json::Value = serde_json::from_str(twice).unwrap();
    let line = TraceLine::from_json(twice).unwrap();
    assert_eq!(line, TraceLine::from_value(&tree).unwrap());
    assert!(line.to_json().contains("\"member\":3"), "{}", line.to_json());
    let bad = r#"{"type":"crash","seq":5,"t_us":"soon","member":2}"#;
    let e = TraceLine::from_json(bad).unwrap_err();
    assert_eq!((e.seq, e.key.as_deref()), (Some(5), Some("t_us")), "{e:?}");
}
