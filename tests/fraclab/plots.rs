//! Plots and the Mermaid export: every file is produced, parses, carries
//! the marks it promises, and `fraclab plot DIR` redraws it byte for byte.

use std::fs;
use std::path::Path;

use crate::harness::{fraclab, repo_root, stderr, stdout};

/// (text, x, y) of every `<text>` element of an SVG, which must parse.
pub fn svg_texts(path: &Path) -> Vec<(String, f64, f64)> {
    let src = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc =
        roxmltree::Document::parse(&src).unwrap_or_else(|e| panic!("{} is not XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg", "{}", path.display());
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let num = |a: &str| n.attribute(a).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
            (n.text().unwrap_or("").trim().to_string(), num("x"), num("y"))
        })
        .collect()
}

fn find<'a>(texts: &'a [(String, f64, f64)], what: &str) -> &'a (String, f64, f64) {
    texts.iter().find(|(t, _, _)| t == what).unwrap_or_else(|| {
        panic!("no text \"{what}\" in {:?}", texts.iter().map(|t| &t.0).collect::<Vec<_>>())
    })
}

/// A PNG that decodes, with its size.
pub fn png_size(path: &Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(path).unwrap()));
    let reader = decoder.read_info().unwrap_or_else(|e| panic!("{} is not a PNG: {e}", path.display()));
    let info = reader.info();
    (info.width, info.height)
}

/// Checks a Mermaid sequence diagram against the grammar it uses: declared
/// participants, messages `A->>B`, `A-->>B`, `A-xB`, notes over one or two
/// participants, and no `;` or `#` (statement end, entity) in any text.
pub fn assert_mermaid(mmd: &str) {
    let mut lines = mmd.lines();
    assert!(lines.next().is_some_and(|l| l.starts_with("%% ")), "a comment first");
    assert_eq!(lines.next(), Some("sequenceDiagram"));
    let mut parties = std::collections::BTreeSet::new();
    for line in lines {
        let body = line.strip_prefix("    ").unwrap_or_else(|| panic!("not indented: {line}"));
        if let Some(p) = body.strip_prefix("participant ") {
            let (id, _) = p.split_once(" as ").unwrap_or_else(|| panic!("{line}"));
            parties.insert(id.to_string());
            continue;
        }
        let (head, text) = body.split_once(": ").unwrap_or_else(|| panic!("no text: {line}"));
        assert!(!text.contains(';') && !text.contains('#'), "Mermaid would cut this text: {line}");
        let names: Vec<&str> = if let Some(over) = head.strip_prefix("Note over ") {
            over.split(',').collect()
        } else {
            let arrow = ["-->>", "->>", "-x"]
                .into_iter()
                .find(|a| head.contains(a))
                .unwrap_or_else(|| panic!("{line}"));
            head.splitn(2, arrow).collect()
        };
        assert!((1..=2).contains(&names.len()), "{line}");
        for n in names {
            assert!(parties.contains(n), "undeclared participant {n}: {line}");
        }
    }
}

fn run_into(scenario: &str, dir: &Path) {
    let o = fraclab(&["run", scenario, "--out", dir.to_str().unwrap(), "--quiet"], repo_root());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// The knowledge timeline of fractional-attack-n3 has, in the row "member 2
/// → member 3" and the column of the leak epoch (2), a cell naming FK[3,1]:
/// the moment the fractional attack lands. Epoch 1 of that row is empty.
#[test]
fn knowledge_timeline_marks_the_fractional_attack_at_the_leak_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    run_into("scenarios/fractional-attack-n3.toml", tmp.path());
    let texts = svg_texts(&tmp.path().join("knowledge.svg"));
    let row = find(&texts, "member 2 → member 3");
    let epoch2 = find(&texts, "epoch 2");
    let epoch1 = find(&texts, "epoch 1 · init");
    let in_row: Vec<_> = texts.iter().filter(|(_, _, y)| (*y - row.2).abs() < 0.5).collect();
    let fk = in_row
        .iter()
        .find(|(t, _, _)| t.starts_with("FK[3,1]"))
        .unwrap_or_else(|| panic!("no FK[3,1] mark in the row: {in_row:?}"));
    assert!((fk.1 - epoch2.1).abs() < 0.5, "FK[3,1] at x {} but epoch 2 is at x {}", fk.1, epoch2.1);
    assert!(!in_row.iter().any(|(_, x, _)| (*x - epoch1.1).abs() < 0.5), "nothing is derived at init");
    assert!(texts.iter().any(|(t, _, _)| t == "1 leaks α[1,2]"), "the leak is marked over its epoch");
    assert!(texts.iter().any(|(t, _, _)| t == "compromised: members 1, 2, 3"));
    let (w, h) = png_size(&tmp.path().join("knowledge.png"));
    assert!(w >= 640 && h >= 200, "{w}×{h}");
}

/// The sequence chart has a lifeline per member, the leak and the
/// derivation it causes; the Mermaid export says the same in order.
#[test]
fn sequence_chart_and_mermaid_show_where_the_secret_falls() {
    let tmp = tempfile::tempdir().unwrap();
    run_into("scenarios/fractional-attack-n3.toml", tmp.path());
    let texts = svg_texts(&tmp.path().join("sequence.svg"));
    for m in 1..=3 {
        find(&texts, &format!("member {m}"));
    }
    find(&texts, "leaks α[1,2] to group");
    assert!(texts.iter().any(|(t, _, _)| t.starts_with("learns FK[3,1]")), "member 2's derivation is marked");
    find(&texts, "epoch 1 · init");
    find(&texts, "epoch 5");
    let mmd = fs::read_to_string(tmp.path().join("sequence.mmd")).unwrap();
    assert!(mmd.lines().nth(1) == Some("sequenceDiagram"), "{mmd}");
    assert!(mmd.contains("    M1->>M2: δ\n"), "{mmd}");
    assert!(mmd.contains("    M1->>M2: HFK\n"), "{mmd}");
    let leak = mmd.find("Note over M1: member 1 leaks α[1,2] to group").expect("the leak note");
    let learn = mmd.find("Note over M2: member 2 learns FK[3,1]").expect("the derivation note");
    let epoch3 = mmd.find("epoch 3 · key generation j = 2").expect("epoch 3 starts");
    assert_mermaid(&mmd);
    assert!(leak < learn && learn < epoch3, "leak, then derivation, both in epoch 2:\n{mmd}");
}

/// `fraclab plot DIR` redraws a run's plots from its trace and summary
/// alone, byte for byte; a crash and replacement are marked.
/// `fraclab run` draws its plots from the trace's lines as it writes them;
/// `fraclab plot` reads them back from the file. Both draw the same bytes,
/// for runs with every kind of line (drops, attacks, leaks, learns,
/// detections, crashes and replacements).
#[test]
fn plots_drawn_while_running_equal_plots_drawn_from_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    for sc in [
        "fractional-attack-n3",
        "lossy-network",
        "sealed-forge",
        "partition-heal",
        "vss-keygen-cheater",
        "churn",
        "recovery-withheld",
    ] {
        let dir = tmp.path().join(sc);
        run_into(&format!("scenarios/{sc}.toml"), &dir);
        let drawn: Vec<(String, Vec<u8>)> =
            ["knowledge.svg", "knowledge.png", "sequence.svg", "sequence.mmd"]
                .iter()
                .filter(|n| dir.join(n).exists())
                .map(|n| (n.to_string(), fs::read(dir.join(n)).unwrap()))
                .collect();
        assert!(!drawn.is_empty(), "{sc}: no plot");
        let o = fraclab(&["plot", dir.to_str().unwrap()], repo_root());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        for (n, b) in &drawn {
            assert_eq!(&fs::read(dir.join(n)).unwrap(), b, "{sc}: {n} differs when drawn from the files");
        }
    }
}

#[test]
fn plot_redraws_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    run_into("scenarios/crash-recover.toml", &dir);
    let names = ["knowledge.svg", "knowledge.png", "sequence.svg", "sequence.mmd"];
    let before: Vec<Vec<u8>> = names.iter().map(|n| fs::read(dir.join(n)).unwrap()).collect();
    for n in names {
        fs::remove_file(dir.join(n)).unwrap();
    }
    let o = fraclab(&["plot", dir.to_str().unwrap()], repo_root());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for (n, b) in names.iter().zip(&before) {
        assert_eq!(&fs::read(dir.join(n)).unwrap(), b, "{n} differs when redrawn");
    }
    let texts = svg_texts(&dir.join("sequence.svg"));
    find(&texts, "crash");
    find(&texts, "replacement joins");
    find(&texts, "recovered FK, α");
    let mmd = fs::read_to_string(dir.join("sequence.mmd")).unwrap();
    assert!(mmd.contains("Note over M3: member 3 crashes ("), "{mmd}");
    assert_mermaid(&mmd);
    assert!(mmd.contains("-->>"), "recovery messages (mode R) are dotted: {mmd}");
}

/// Above 8 members the sequence chart is a per-epoch summary and no
/// Mermaid file is written; with the trace off only the knowledge plot is
/// drawn; a folder with nothing to plot is an input error.
#[test]
fn large_runs_get_a_summary_chart() {
    let tmp = tempfile::tempdir().unwrap();
    let toml = "name = \"ten\"\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = 10\ninit = \"sm\"\nkeygen = \"additive\"\nepochs = 2\n[output]\ntrace = \"full\"\n[expect]\nkeys_agreed = true\n";
    fs::write(tmp.path().join("ten.toml"), toml).unwrap();
    let o = fraclab(&["run", "ten.toml", "--out", "ten", "--quiet"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let texts = svg_texts(&tmp.path().join("ten/sequence.svg"));
    assert!(texts.iter().any(|(t, _, _)| t.starts_with("Messages per epoch · ten · n = 10")), "{texts:?}");
    find(&texts, "mode G");
    find(&texts, "mode I");
    assert!(!tmp.path().join("ten/sequence.mmd").exists());
    let o = fraclab(&["run", "ten.toml", "--out", "none", "--trace", "none", "--quiet"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(tmp.path().join("none/knowledge.svg").exists());
    assert!(!tmp.path().join("none/sequence.svg").exists());
    fs::create_dir(tmp.path().join("empty")).unwrap();
    let o = fraclab(&["plot", "empty"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no summary.json, sweep.json or atlas-*.csv"), "{}", stderr(&o));
}

/// The atlas writes its heatmaps (SVG and PNG) and the leaked-pad curves,
/// labelled by r, by initialisation, and with the counts in the cells.
#[test]
fn atlas_heatmaps_and_curves() {
    let tmp = tempfile::tempdir().unwrap();
    let o = fraclab(&["atlas", "--members", "3..5", "--out", "a"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("atlas-leaks.svg"), "{}", stdout(&o));
    let a = tmp.path().join("a");
    let leaks = svg_texts(&a.join("atlas-leaks.svg"));
    for r in 0..=4 {
        find(&leaks, &format!("r = {r}"));
    }
    let ring = svg_texts(&a.join("atlas-ring.svg"));
    find(&ring, "init = ring");
    find(&ring, "init = ring-hardened");
    let lines = svg_texts(&a.join("atlas-leaks-lines.svg"));
    for label in ["0 leaked pads", "1 leaked pad", "2 leaked pads", "3 leaked pads", "members n"] {
        find(&lines, label);
    }
    png_size(&a.join("atlas-leaks.png"));
    png_size(&a.join("atlas-ring.png"));
}

/// The committed gallery (results/, which the README shows) is what
/// `fraclab gallery` writes now: every summary, CSV, plot and Mermaid file,
/// byte for byte, and every bundled scenario has its folder.
#[test]
fn the_committed_gallery_is_current() {
    let tmp = tempfile::tempdir().unwrap();
    let o = fraclab(&["gallery", "scenarios", "--out", tmp.path().to_str().unwrap()], repo_root());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let results = repo_root().join("results");
    let mut compared = 0;
    for entry in fs::read_dir(tmp.path()).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_owned();
        for file in fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            let fname = file.file_name().unwrap().to_owned();
            if fname == "trace.jsonl" {
                continue;
            }
            if fname == "sequence.mmd" {
                assert_mermaid(&fs::read_to_string(&file).unwrap());
            }
            let committed = results.join(&name).join(&fname);
            let fresh = fs::read(&file).unwrap();
            let old = fs::read(&committed).unwrap_or_else(|_| {
                panic!(
                    "{} is missing; regenerate the gallery (cargo run --release -- gallery)",
                    committed.display()
                )
            });
            assert!(
                old == fresh,
                "{} is stale; regenerate the gallery (cargo run --release -- gallery)",
                committed.display()
            );
            compared += 1;
        }
    }
    for s in fs::read_dir(repo_root().join("scenarios")).unwrap() {
        let s = s.unwrap().path();
        let text = fs::read_to_string(&s).unwrap();
        let name = text.lines().find_map(|l| l.strip_prefix("name = \"")).unwrap().split('"').next().unwrap();
        assert!(results.join(name).join("summary.json").exists(), "results/{name}/ is missing");
    }
    assert!(compared > 60, "{compared} files compared");
}

/// A coalition of three is one row of the timeline and one Mermaid note
/// over its first and last member; replacements of the same index get
/// distinct rows (churn replaces member 2 twice).
#[test]
fn coalitions_and_replacements_are_labelled_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let toml = "name = \"trio\"\nseed = 3\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = 5\ninit = \"ring\"\nkeygen = \"additive\"\nepochs = 3\n[[adversary]]\nkind = \"leak\"\nmember = 1\nsecret = \"alpha\"\nepoch = 2\nto = \"group\"\n[[adversary]]\nkind = \"coalition\"\nmembers = [2, 3, 4]\n[expect]\nkeys_agreed = true\n";
    fs::write(tmp.path().join("trio.toml"), toml).unwrap();
    let o = fraclab(&["run", "trio.toml", "--out", "trio", "--quiet"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mmd = fs::read_to_string(tmp.path().join("trio/sequence.mmd")).unwrap();
    assert_mermaid(&mmd);
    assert!(mmd.contains("Note over M2,M4: {2,3,4} learns"), "{mmd}");
    let texts = svg_texts(&tmp.path().join("trio/knowledge.svg"));
    assert!(texts.iter().any(|(t, _, _)| t == "coalition {2,3,4} → member 1"), "{texts:?}");
    run_into("scenarios/churn.toml", &tmp.path().join("churn"));
    let rows: Vec<String> = svg_texts(&tmp.path().join("churn/knowledge.svg"))
        .into_iter()
        .map(|t| t.0)
        .filter(|t| t.starts_with("replacement "))
        .collect();
    let distinct: std::collections::BTreeSet<&String> = rows.iter().collect();
    assert!(rows.len() >= 2 && distinct.len() == rows.len(), "{rows:?}");
    assert_mermaid(&fs::read_to_string(tmp.path().join("churn/sequence.mmd")).unwrap());
}

/// A fresh fractional-attack-n3 run in `tmp/run` (full trace, learn findings).
fn attack_run(tmp: &Path) -> std::path::PathBuf {
    let dir = tmp.join("run");
    run_into(repo_root().join("scenarios/fractional-attack-n3.toml").to_str().unwrap(), &dir);
    dir
}

fn edit_summary(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("summary.json");
    let mut v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    f(&mut v);
    fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// Every file of a folder and its bytes.
fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out: Vec<_> =
        fs::read_dir(dir).unwrap().flatten().map(|e| (e.path(), fs::read(e.path()).unwrap())).collect();
    out.sort();
    out
}

/// Issue 12: `"epochs": 1000000` made `fraclab plot` write a 537 MB SVG and
/// panic inside plotters; `fraclab-summary/9` was plotted. Both are now
/// refused before anything is written, with the file, line and key.
#[test]
fn plot_refuses_a_summary_beyond_the_limits_or_of_another_format() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = attack_run(tmp.path());
    let path = dir.join("summary.json");
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().nth(9), Some("  \"epochs\": 4,"));
    fs::write(&path, text.replacen("\"epochs\": 4,", "\"epochs\": 1000000,", 1)).unwrap();
    let before = files(&dir);
    let o = fraclab(&["plot", "run"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("summary.json: line 10: epochs: 1000000 is out of range; allowed: 0..=100000"), "{e}");
    assert_eq!(files(&dir), before, "nothing written");
    let dir = attack_run(&tmp.path().join("b"));
    let path = dir.join("summary.json");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replacen("fraclab-summary/1", "fraclab-summary/9", 1)).unwrap();
    let o = fraclab(&["plot", "b/run"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "summary.json: line 2: format: \"fraclab-summary/9\"; this fraclab reads \"fraclab-summary/1\""
        ),
        "{}",
        stderr(&o)
    );
    edit_summary(&dir, |v| {
        v["format"] = "fraclab-summary/1".into();
        v["compromised"] = serde_json::json!([9]);
    });
    let o = fraclab(&["plot", "b/run"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("compromised[0]: member 9 is not one of 1..=3"), "{}", stderr(&o));
}

/// A run may have 100 000 epochs: the knowledge timeline then draws at most
/// 100 columns, several epochs to a column, and says so; a learn finding
/// after the run's last epoch is refused.
#[test]
fn a_long_run_gets_a_bounded_knowledge_timeline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = attack_run(tmp.path());
    fs::remove_file(dir.join("trace.jsonl")).unwrap();
    edit_summary(&dir, |v| {
        v["epochs"] = 100_000.into();
        v["findings"][0]["epoch"] = 100_001.into();
    });
    let o = fraclab(&["plot", "run"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (w, h) = png_size(&dir.join("knowledge.png"));
    assert!(w <= 180 + 14 * 100 + 24 && h < 2000, "{w}×{h}");
    let texts = svg_texts(&dir.join("knowledge.svg"));
    assert!(texts.iter().any(|(t, _, _)| t.contains("each column is 1001 epochs")), "{texts:?}");
    edit_summary(&dir, |v| v["findings"][0]["epoch"] = 100_002.into());
    let o = fraclab(&["plot", "run"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("findings[0].epoch: 100002 is not an epoch of this run (1..=100001)"),
        "{}",
        stderr(&o)
    );
}

/// The plot's trace reader checks the format and that ids name parties of
/// the run; the error names the line.
#[test]
fn plot_refuses_a_trace_with_ids_out_of_range() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = attack_run(tmp.path());
    let path = dir.join("trace.jsonl");
    let text = fs::read_to_string(&path).unwrap();
    let (k, line) = text.lines().enumerate().find(|(_, l)| l.contains("\"type\":\"send\"")).unwrap();
    let forged = line.replacen("\"from\":", "\"from\":99,\"was\":", 1);
    fs::write(&path, text.replacen(line, &forged, 1)).unwrap();
    let before = files(&dir);
    let o = fraclab(&["plot", "run"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains(&format!("trace.jsonl: line {}: from: 99 is not a party of this run (0..=3)", k + 1)),
        "{}",
        stderr(&o)
    );
    assert_eq!(files(&dir), before);
    fs::write(&path, text.replacen("fraclab-trace/1", "fraclab-trace/2", 1)).unwrap();
    let o = fraclab(&["plot", "run"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 1: format: \"fraclab-trace/2\""), "{}", stderr(&o));
}

/// Every SVG of the committed gallery opens with a `<title>` and a
/// `<desc>` (what it is, how to read it), for screen readers and for
/// anyone reading the file; and the knowledge timeline's legend stays
/// inside its canvas.
#[test]
fn every_gallery_svg_has_a_title_and_a_desc() {
    let mut count = 0;
    let mut stack = vec![crate::harness::repo_root().join("results")];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "svg") {
                let text = fs::read_to_string(&p).unwrap();
                let root_end = text.find('>').unwrap() + 1;
                let rest = text[root_end..].trim_start();
                assert!(rest.starts_with("<title>"), "{}: no <title> first", p.display());
                let after = &rest[rest.find("</title>").unwrap() + 8..].trim_start();
                assert!(
                    after.starts_with("<desc>") && after.contains("</desc>"),
                    "{}: no <desc>",
                    p.display()
                );
                let title = &rest[7..rest.find("</title>").unwrap()];
                assert!(title.len() > 8, "{}: title {title:?}", p.display());
                count += 1;
            }
        }
    }
    assert!(count >= 70, "only {count} SVGs in the gallery");
}

/// Sweep lines with the same values stay visible: the gallery's
/// baseline-ring sweep has no one compromised under any of the three
/// inits, and the plot marks each with its own shape, shifts the twins and
/// says so in the legend.
#[test]
fn coinciding_sweep_lines_are_told_apart() {
    let svg = fs::read_to_string(repo_root().join("results/baseline-ring-sweep/sweep-compromised_count.svg"))
        .unwrap();
    assert!(
        svg.contains("protocol.init = ring (same values as protocol.init = sm, shifted right)"),
        "legend"
    );
    assert!(svg.contains("protocol.init = ring-hardened (same values as protocol.init = sm, shifted right)"));
    // Three marker shapes: circles, triangles (polygons) and crosses (paths).
    assert!(svg.contains("<circle") && svg.contains("<polygon"), "markers");
}
