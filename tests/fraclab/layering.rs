//! The architecture is enforced, not only drawn: every `crate::` path in
//! `src/` points to its own layer or one below (README "Architecture"), and
//! no command of the command line calls another.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, bottom up. Modules on one rank are siblings that must not
/// import each other.
const LAYERS: [(&str, u32); 10] = [
    ("group", 0),
    ("protocol", 1),
    ("adversary", 2),
    ("sim", 3),
    ("knowledge", 4),
    ("scenario", 4),
    ("schema", 5),
    ("report", 6),
    ("lab", 7),
    ("cli", 8),
];

fn rank(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|&(_, r)| r)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a source text names through `crate::`: plain
/// paths (`crate::sim::run`) and groups (`use crate::{group::Scalar, sim}`).
fn crate_references(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    for (at, _) in text.match_indices("crate::") {
        // `fraclab::crate::` cannot occur; skip `$crate::` in macros.
        if text[..at].ends_with('$') {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Items up to the group's closing brace; for nested groups,
            // only the first segment of each top-level item counts.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(ident(item.trim()));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            found.insert(ident(item.trim()));
        } else {
            found.insert(ident(rest));
        }
    }
    found.remove("");
    found
}

fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::` path in `src/` points down or sideways within its own
/// module; `protocol` imports only `group`.
#[test]
fn imports_only_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut upward = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let Some(own) = rank(&module) else {
            assert!(
                ["lib", "main"].contains(&module.as_str()),
                "{}: module {module} has no layer in this test",
                file.display()
            );
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for target in crate_references(&text) {
            if target == module {
                continue;
            }
            let Some(theirs) = rank(&target) else {
                upward.push(format!("{}: crate::{target} is not a layer", file.display()));
                continue;
            };
            if theirs >= own {
                upward.push(format!(
                    "{}: {module} (layer {own}) uses crate::{target} (layer {theirs})",
                    file.display()
                ));
            }
        }
    }
    assert!(upward.is_empty(), "imports that do not point down:\n{}", upward.join("\n"));
}

/// A command of the command line never calls another command's module: the
/// commands share only what `cli/mod.rs` holds and the layers below.
#[test]
fn no_command_calls_another() {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut files = Vec::new();
    rust_files(&cli, &mut files);
    files.sort();
    let commands: Vec<String> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n != "mod.rs"))
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut calls = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for other in &commands {
            for pattern in [format!("super::{other}::"), format!("crate::cli::{other}::")] {
                let own = file.file_stem().is_some_and(|s| s.to_string_lossy() == *other);
                if !own && file.file_name().is_some_and(|n| n != "mod.rs") && text.contains(&pattern) {
                    calls.push(format!("{}: {pattern}", file.display()));
                }
            }
        }
    }
    assert!(calls.is_empty(), "commands calling commands:\n{}", calls.join("\n"));
}

/// The reference scanner sees plain paths and groups, and nothing else.
#[test]
fn crate_references_reads_paths_and_groups() {
    let text = "use crate::sim::{self, Config};\nuse crate::{group::Scalar, protocol::{Body, Mode}};\nlet x = crate::report::write();\n$crate::ignored";
    let found: Vec<String> = crate_references(text).into_iter().collect();
    assert_eq!(found, ["group", "protocol", "report", "sim"]);
}
