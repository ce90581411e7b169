//! `fraclab sweep`: rows, columns and order; sharding and merge; resume;
//! independence from --jobs; bad input.

use std::fs;
use std::path::Path;

use crate::harness::{fraclab, repo_root, stderr, stdout};
use crate::plots::svg_texts;

const METRICS: [&str; 23] = [
    "passed",
    "keys_agreed",
    "epochs_completed",
    "compromised_count",
    "secure_count",
    "outsider_learns_key",
    "recovered_count",
    "stalled",
    "invariants_held",
    "events",
    "messages_sent",
    "messages_delivered",
    "messages_dropped",
    "retransmissions",
    "sim_time_us",
    "messages_per_epoch",
    "sim_time_us_per_epoch",
    "detected_count",
    "dlog_recovered",
    "dlog_work",
    "rejected_count",
    "accepted_forgeries",
    "error",
];

fn sweep(dir: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let scenario = repo_root().join("scenarios/baseline-ring.toml");
    let mut args = vec![
        "sweep",
        scenario.to_str().unwrap(),
        "--vary",
        "protocol.members=3..6",
        "--seeds",
        "4",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    fraclab(&args, dir)
}

fn rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
    r.records().map(|x| x.unwrap().iter().map(str::to_string).collect()).collect()
}

/// members 3..6 × 4 seeds: 16 rows ordered by n then seed, the columns of
/// reference §6, every run completes with agreeing keys, and messages grow with n.
#[test]
fn a_sweep_writes_one_row_per_run() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sweep(tmp.path(), "s", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all = rows(&tmp.path().join("s/sweep.csv"));
    let mut header = vec!["protocol.members".to_string(), "seed".to_string()];
    header.extend(METRICS.iter().map(|m| m.to_string()));
    assert_eq!(all[0], header);
    let body = &all[1..];
    assert_eq!(body.len(), 16);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (k, row) in body.iter().enumerate() {
        assert_eq!(row[0], (3 + k / 4).to_string(), "ordered by n");
        assert_eq!(row[1], (11 + k % 4).to_string(), "then by seed (the scenario's seed 11 and after)");
        assert_eq!(row[col("keys_agreed")], "true");
        assert_eq!(row[col("epochs_completed")], "5");
        assert_eq!(row[col("compromised_count")], "0");
        assert_eq!(row[col("error")], "");
    }
    let mean = |n: usize| -> f64 {
        body[(n - 3) * 4..(n - 2) * 4]
            .iter()
            .map(|r| r[col("messages_sent")].parse::<f64>().unwrap())
            .sum::<f64>()
    };
    assert!(mean(3) < mean(4) && mean(4) < mean(5) && mean(5) < mean(6));
    for (file, title) in [
        ("compromised_count", "compromised members vs protocol.members"),
        ("messages_per_epoch", "messages sent per epoch vs protocol.members"),
        ("sim_time_us_per_epoch", "virtual time per epoch (ms) vs protocol.members"),
        ("keys_agreed", "share of runs whose keys agreed vs protocol.members"),
        ("retransmissions", "retransmissions per run vs protocol.members"),
    ] {
        let plot = svg_texts(&tmp.path().join(format!("s/sweep-{file}.svg")));
        assert!(plot.iter().any(|(t, _, _)| t.starts_with(title)), "{file}: {plot:?}");
        for n in ["3", "4", "5", "6"] {
            assert!(plot.iter().any(|(t, _, _)| t == n), "{file}: tick {n}");
        }
    }
}

/// Shards 1/2 and 2/2 merged equal the unsharded sweep byte for byte
/// (sweep.csv, sweep.json and the plots); a missing shard is refused.
#[test]
fn shards_merge_into_the_unsharded_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(sweep(tmp.path(), "whole", &[]).status.code(), Some(0));
    for k in ["1/2", "2/2"] {
        let o = sweep(tmp.path(), &format!("shard{}", &k[..1]), &["--shard", k]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    assert_eq!(rows(&tmp.path().join("shard1/sweep.csv")).len(), 1 + 8);
    let o = fraclab(&["sweep", "merge", "--out", "merged", "shard2", "shard1"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in ["sweep.csv", "sweep.json", "sweep-compromised_count.svg", "sweep-messages_per_epoch.svg"] {
        assert_eq!(
            fs::read(tmp.path().join("merged").join(f)).unwrap(),
            fs::read(tmp.path().join("whole").join(f)).unwrap(),
            "{f}"
        );
    }
    let o = fraclab(&["sweep", "merge", "--out", "half", "shard1"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing shard(s) 2/2"), "{}", stderr(&o));
}

/// `--resume` keeps the rows it finds and computes only the missing ones:
/// a kept row altered by hand stays altered, deleted rows come back equal,
/// and a last line cut off mid-write is recomputed.
#[test]
fn resume_recomputes_only_missing_runs() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(sweep(tmp.path(), "s", &[]).status.code(), Some(0));
    let csv = tmp.path().join("s/sweep.csv");
    let full = fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    // Keep the header and rows 1, 3, 5, …; alter the first kept row.
    let mut kept: Vec<String> = vec![lines[0].to_string()];
    kept.extend(lines[1..].iter().step_by(2).map(|l| l.to_string()));
    let altered = kept[1].replace(",142,", ",999999,");
    assert_ne!(altered, kept[1], "the first row has 142 messages: {}", kept[1]);
    kept[1] = altered.clone();
    let mut partial = kept.join("\n");
    partial.push('\n');
    partial.push_str(&lines[2][..10]); // a row cut off mid-write
    fs::write(&csv, partial).unwrap();
    let o = sweep(tmp.path(), "s", &["--resume"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("resumed: 8 runs were already done, 8 computed now"), "{}", stderr(&o));
    let after = fs::read_to_string(&csv).unwrap();
    let expected: Vec<String> =
        lines.iter().enumerate().map(|(k, l)| if k == 1 { altered.clone() } else { l.to_string() }).collect();
    assert_eq!(after.lines().collect::<Vec<_>>(), expected);
    let o = sweep(tmp.path(), "s", &[]);
    assert_eq!(o.status.code(), Some(2), "without --resume an existing sweep is not overwritten");
    let o = sweep(tmp.path(), "s", &["--resume", "--shard", "1/2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("differs in the shard"), "{}", stderr(&o));
}

/// The CSV and plots do not depend on --jobs.
#[test]
fn sweeps_are_deterministic_regardless_of_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(sweep(tmp.path(), "j1", &["--jobs", "1"]).status.code(), Some(0));
    assert_eq!(sweep(tmp.path(), "j3", &["--jobs", "3"]).status.code(), Some(0));
    for f in ["sweep.csv", "sweep.json", "sweep-sim_time_us_per_epoch.svg"] {
        assert_eq!(
            fs::read(tmp.path().join("j1").join(f)).unwrap(),
            fs::read(tmp.path().join("j3").join(f)).unwrap(),
            "{f}"
        );
    }
}

/// A grid over two keys: one line per value of the second key in the
/// plots; bad keys and values fail before anything is written.
#[test]
fn two_keys_and_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = repo_root().join("scenarios/baseline-sm.toml");
    let s = scenario.to_str().unwrap();
    let o = fraclab(
        &[
            "sweep",
            s,
            "--vary",
            "protocol.members=3,5",
            "--vary",
            "protocol.init=sm,ring",
            "--seeds",
            "2",
            "--out",
            "g",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("wrote sweep.json, sweep.csv"), "{}", stdout(&o));
    let all = rows(&tmp.path().join("g/sweep.csv"));
    assert_eq!(all.len(), 1 + 8);
    assert_eq!((all[1][0].as_str(), all[1][1].as_str()), ("3", "sm"));
    assert_eq!((all[3][0].as_str(), all[3][1].as_str()), ("3", "ring"));
    let texts = svg_texts(&tmp.path().join("g/sweep-messages_per_epoch.svg"));
    for legend in ["protocol.init = sm", "protocol.init = ring"] {
        assert!(texts.iter().any(|(t, _, _)| t == legend), "{legend} in {texts:?}");
    }
    for (vary, says) in [
        ("protocol.members=1", "protocol.members"),
        ("protocol.memberz=3", "memberz"),
        ("adversary.0.member=2", "no [[adversary]] entries"),
        ("protocol.init=sm,tree", "tree"),
        ("seed=1,2", "--seeds"),
    ] {
        let o = fraclab(&["sweep", s, "--vary", vary, "--seeds", "2", "--out", "bad"], tmp.path());
        assert_eq!(o.status.code(), Some(2), "{vary}");
        assert!(stderr(&o).contains(says), "{vary}: {}", stderr(&o));
        assert!(!tmp.path().join("bad").exists(), "nothing is written for {vary}");
    }
}

/// A value valid only together with another varied value is accepted; a
/// grid whose corners are invalid runs, with an `error` row for each
/// invalid pair, and exits 1.
#[test]
fn values_are_checked_together() {
    let tmp = tempfile::tempdir().unwrap();
    let s = repo_root().join("scenarios/fractional-attack-n3.toml");
    let s = s.to_str().unwrap();
    let o = fraclab(
        &[
            "sweep",
            s,
            "--vary",
            "adversary.0.member=1..5",
            "--vary",
            "protocol.members=5",
            "--seeds",
            "1",
            "--out",
            "a",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = fraclab(
        &[
            "sweep",
            s,
            "--vary",
            "protocol.members=3..5",
            "--vary",
            "adversary.0.member=1..5",
            "--seeds",
            "1",
            "--out",
            "t",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("3 runs did not complete"), "{}", stderr(&o));
    let all = rows(&tmp.path().join("t/sweep.csv"));
    let errors: Vec<(&str, &str)> = all[1..]
        .iter()
        .filter(|r| !r.last().unwrap().is_empty())
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(errors, [("3", "4"), ("3", "5"), ("4", "5")]);
    assert!(all[4].last().unwrap().contains("member = 4 is not a member; allowed: 1..=3"), "{:?}", all[4]);
}

/// Input errors exit 2 and say what is wrong: a missing scenario, an --out
/// that is a file, a merge of a folder that holds no sweep.
#[test]
fn sweep_input_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("afile"), "x").unwrap();
    let scenario = repo_root().join("scenarios/baseline-sm.toml");
    let cases: [(&[&str], &str); 4] = [
        (&["sweep", "nosuch.toml", "--seeds", "2"], "nosuch.toml: cannot read the scenario"),
        (
            &["sweep", scenario.to_str().unwrap(), "--seeds", "2", "--out", "afile"],
            "exists and is not a folder",
        ),
        (&["sweep", "merge", "--out", "m", "nosuch"], "nosuch: not a sweep folder (no sweep.json)"),
        (
            &["sweep", scenario.to_str().unwrap(), "--seeds", "2", "--shard", "3/2"],
            "expected K/N with 1 ≤ K ≤ N",
        ),
    ];
    for (args, says) in cases {
        let o = fraclab(args, tmp.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
}

/// A tiny sweep (members 3..4 × 2 seeds of baseline-sm) into `dir/out`.
fn tiny(dir: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let scenario = repo_root().join("scenarios/baseline-sm.toml");
    let mut args = vec![
        "sweep",
        scenario.to_str().unwrap(),
        "--vary",
        "protocol.members=3..4",
        "--seeds",
        "2",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    args.push("--quiet");
    fraclab(&args, dir)
}

/// Issue 12: `--jobs 10000` ran the grid setup, then failed with an OS
/// error after 24 s; it is now refused at once, writing nothing.
#[test]
fn jobs_is_capped_when_the_arguments_load() {
    let tmp = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let o = tiny(tmp.path(), "s", &["--jobs", "10000"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--jobs 10000: expected 1..=256"), "{}", stderr(&o));
    assert!(started.elapsed().as_secs() < 5);
    assert!(!tmp.path().join("s").exists());
    assert_eq!(tiny(tmp.path(), "s", &["--jobs", "0"]).status.code(), Some(2));
    assert_eq!(tiny(tmp.path(), "s", &["--jobs", "256"]).status.code(), Some(0));
}

/// Issue 12: `sweep merge --out` could overwrite one of its own shards. An
/// --out that is a shard folder (however spelt) or inside one is refused,
/// and the shard is left as it was.
#[test]
fn merge_refuses_an_out_that_is_or_is_inside_a_shard() {
    let tmp = tempfile::tempdir().unwrap();
    for k in ["1/2", "2/2"] {
        let o = tiny(tmp.path(), &format!("s{}", &k[..1]), &["--shard", k]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let before = fs::read(tmp.path().join("s1/sweep.csv")).unwrap();
    for (out, says) in [
        ("s1", "--out s1: is the shard folder s1"),
        ("./s2/../s1/.", "is the shard folder s1"),
        ("s2/inner/deeper", "is inside the shard folder s2"),
    ] {
        let o = fraclab(&["sweep", "merge", "--out", out, "s1", "s2"], tmp.path());
        assert_eq!(o.status.code(), Some(2), "{out}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{out}: {}", stderr(&o));
    }
    assert_eq!(fs::read(tmp.path().join("s1/sweep.csv")).unwrap(), before);
    assert!(!tmp.path().join("s2/inner").exists());
    let o = fraclab(&["sweep", "merge", "--out", "m", "s1", "s2", "--quiet"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Issue 12: garbage rows in a shard's sweep.csv were dropped silently by
/// `merge` and `--resume`. A row with the wrong field count, a bad type or
/// a value not of this sweep is refused with its line and column; only a
/// last line cut off mid-write is recomputed by --resume.
#[test]
fn garbage_rows_are_refused_with_their_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(tiny(tmp.path(), "s", &[]).status.code(), Some(0));
    let csv = tmp.path().join("s/sweep.csv");
    let good = fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let with_line = |k: usize, row: &str| {
        let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        l[k] = row.to_string();
        l.join("\n") + "\n"
    };
    let cells: Vec<&str> = lines[2].split(',').collect();
    let set = |col: usize, v: &str| {
        let mut c: Vec<&str> = cells.clone();
        c[col] = v;
        c.join(",")
    };
    let cases = [
        (with_line(2, "garbage,row"), "sweep.csv:3: 2 fields; the header has 25".to_string()),
        (
            with_line(2, &set(2, "maybe")),
            "sweep.csv:3: column passed: \"maybe\"; allowed: true or false".into(),
        ),
        (with_line(2, &set(12, "-5")), "sweep.csv:3: column messages_sent: \"-5\"".into()),
        (
            with_line(2, &set(0, "9")),
            "sweep.csv:3: column protocol.members: \"9\" is not one of this sweep's values".into(),
        ),
        (
            with_line(0, &lines[0].replace("passed", "verdict")),
            "sweep.csv:1: the header is not this sweep's: column 3".into(),
        ),
    ];
    for (text, says) in cases {
        fs::write(&csv, &text).unwrap();
        let o = tiny(tmp.path(), "s", &["--resume"]);
        assert_eq!(o.status.code(), Some(2), "{says}: {}", stderr(&o));
        assert!(stderr(&o).contains(&says), "{says}: {}", stderr(&o));
        assert_eq!(fs::read_to_string(&csv).unwrap(), text, "a refused resume leaves the file");
        let o = fraclab(&["plot", "s"], tmp.path());
        assert_eq!(o.status.code(), Some(2), "{says}: {}", stderr(&o));
    }
    // A cut-off last line is what an interrupted sweep leaves: recomputed.
    fs::write(&csv, format!("{}{}", lines[..4].join("\n") + "\n", &lines[4][..7])).unwrap();
    let o = tiny(tmp.path(), "s", &["--resume"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&csv).unwrap(), good);
}

/// Shards of merge: a shard's cut-off last line makes it incomplete.
#[test]
fn merge_refuses_a_shard_with_a_cut_off_row() {
    let tmp = tempfile::tempdir().unwrap();
    for k in ["1/2", "2/2"] {
        assert_eq!(tiny(tmp.path(), &format!("s{}", &k[..1]), &["--shard", k]).status.code(), Some(0));
    }
    let csv = tmp.path().join("s2/sweep.csv");
    let text = fs::read_to_string(&csv).unwrap();
    fs::write(&csv, &text[..text.len() - 5]).unwrap();
    let o = fraclab(&["sweep", "merge", "--out", "m", "s1", "s2"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is incomplete"), "{}", stderr(&o));
    assert!(!tmp.path().join("m").exists());
}
