//! `derivations.dot`: the graph of how each view derived what it learned,
//! drawn from the summary's learn findings. Its nodes and edges are the
//! witnesses', leaked values are marked, `fraclab plot DIR` redraws it byte
//! for byte, and Graphviz renders every bundled one.

use std::fs;
use std::path::Path;
use std::process::Command;

use fraclab::report::derivations;
use fraclab::schema::Summary;
use fraclab::schema::summary::Finding;

use crate::harness::{fraclab, repo_root, stderr};

fn summary(dir: &Path) -> Summary {
    serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// The n = 3 attack: member 2 derives FK[3,1] = −FK[2,1] + α[1,2] from its
/// own FK and the leaked pad; member 3 derives α[1,1] from five values.
#[test]
fn the_fractional_attack_graph_is_its_witnesses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let sc = repo_root().join("scenarios/fractional-attack-n3.toml");
    let o = fraclab(&["run", sc.to_str().unwrap(), "--out", dir.to_str().unwrap(), "--quiet"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let dot = fs::read_to_string(dir.join("derivations.dot")).unwrap();
    assert_eq!(Some(dot.clone()), derivations::dot(&summary(&dir)));

    let cluster = |label: &str| {
        let start =
            dot.find(&format!("label=\"{label}")).unwrap_or_else(|| panic!("no cluster {label}:\n{dot}"));
        let end = start + dot[start..].find("\n  }\n").unwrap();
        dot[start..end].to_string()
    };
    let m2 = cluster("member 2");
    assert!(m2.contains("label=\"FK[3,1] = −FK[2,1] + α[1,2]\""), "{m2}");
    assert!(m2.contains("label=\"α[1,2]\\nleaked by member 1\", shape=box, style=\"filled,bold\""), "{m2}");
    assert!(m2.contains("label=\"FK[2,1]\\n(own)\", shape=box, style=rounded"), "{m2}");
    let m3 = cluster("member 3");
    assert!(m3.contains("α[1,1] = v[3] + θ_1 − FK[3,1] − HFK[2,1] + α[1,2]"), "{m3}");
    assert!(m3.contains("label=\"HFK[2,1]\\nfrom member 2\""), "{m3}");

    // One edge per witness term of every explained learn, and one node per
    // distinct value of a view.
    let s = summary(&dir);
    let terms: usize = s
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Learn(l) => l.witness.as_ref().map(Vec::len),
            _ => None,
        })
        .sum();
    assert!(terms >= 10, "{terms}");
    assert_eq!(dot.matches(" -> ").count(), terms);
    assert_eq!(m2.matches("leaked by member 1").count(), 1, "a value used twice is one node: {m2}");

    // `fraclab plot DIR` redraws it byte for byte.
    fs::remove_file(dir.join("derivations.dot")).unwrap();
    let o = fraclab(&["plot", dir.to_str().unwrap()], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(dir.join("derivations.dot")).unwrap(), dot);
}

/// A run that learns nothing writes no graph, and a rerun into a folder
/// that held one removes it.
#[test]
fn a_run_that_learns_nothing_has_no_graph() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let (attack, baseline) = (
        repo_root().join("scenarios/fractional-attack-n3.toml"),
        repo_root().join("scenarios/baseline-sm.toml"),
    );
    for (sc, graph) in [(&attack, true), (&baseline, false)] {
        let o =
            fraclab(&["run", sc.to_str().unwrap(), "--out", dir.to_str().unwrap(), "--quiet"], tmp.path());
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(dir.join("derivations.dot").exists(), graph, "{}", sc.display());
    }
}

/// Whether Graphviz is here. `.ci/run` installs it, so under CI it must be,
/// unless `.ci/run` reported that apt-get could not install it
/// (`FRACLAB_NO_GRAPHVIZ`).
fn graphviz() -> bool {
    let here = Command::new("dot").arg("-V").output().is_ok_and(|o| o.status.success());
    let excused = std::env::var_os("FRACLAB_NO_GRAPHVIZ").is_some();
    assert!(here || excused || std::env::var_os("CI").is_none(), "CI must install graphviz (`dot`)");
    here
}

/// Graphviz renders the graph of every bundled scenario that learns
/// something, and of a summary whose names hold quotes and backslashes,
/// without an error or a warning.
#[test]
fn graphviz_renders_every_bundled_graph() {
    if !graphviz() {
        eprintln!("skipped: no `dot` on this machine");
        return;
    }
    let mut graphs = Vec::new();
    for entry in fs::read_dir(repo_root().join("results")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("summary.json").exists() {
            let s = summary(&dir);
            let committed = dir.join("derivations.dot");
            match derivations::dot(&s) {
                Some(g) => {
                    let on_disk = fs::read_to_string(&committed).unwrap_or_default();
                    assert_eq!(on_disk, g, "{}: regenerate the gallery", committed.display());
                    graphs.push((dir.display().to_string(), g));
                }
                None => assert!(!committed.exists(), "{} learns nothing", dir.display()),
            }
        }
    }
    assert!(graphs.len() >= 5, "{} graphs", graphs.len());
    let mut hostile = summary(&repo_root().join("results/fractional-attack-n3"));
    for f in &mut hostile.findings {
        if let Finding::Learn(l) = f {
            l.secret = "a\"b\\c\nd".into();
            l.expression = Some("}\"; digraph x {".into());
            for w in l.witness.iter_mut().flatten() {
                w.value = format!("{} \"quoted\" \\", w.value);
            }
        }
    }
    graphs.push(("hostile".into(), derivations::dot(&hostile).unwrap()));
    for (name, g) in graphs {
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(g.as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success() && err.trim().is_empty(), "{name}: {err}");
        assert!(String::from_utf8_lossy(&o.stdout).contains("<svg"), "{name}");
    }
}
