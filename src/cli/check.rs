//! `fraclab check [DIR|FILE…]`: runs scenarios and prints one line per
//! scenario and expectation; a failure also prints the command that
//! reproduces it. A scenario without an `[expect]` block fails: a bundled
//! scenario must say what it demonstrates.

use std::path::{Path, PathBuf};

use super::load_or_say;
use super::{EXIT_BAD_INPUT, EXIT_FAILED};
use crate::lab::{reproduce_command, scenario_files};
use crate::scenario::TraceLevel;

/// `fraclab check [PATHS]`: runs every scenario and reports its expectations;
/// returns the exit status.
pub(super) fn check(paths: &[PathBuf]) -> u8 {
    let files = match scenario_files(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if files.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let shown = if names.is_empty() { "scenarios".to_string() } else { names.join(", ") };
        eprintln!("error: no scenarios (*.toml) found in {shown}");
        return EXIT_BAD_INPUT;
    }
    let (mut failed, mut bad_input, mut passed) = (0, 0, 0);
    for file in &files {
        match check_one(file) {
            Ok(true) => passed += 1,
            Ok(false) => failed += 1,
            Err(code) => {
                if code == EXIT_BAD_INPUT {
                    bad_input += 1;
                } else {
                    failed += 1;
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if bad_input > 0 {
        println!("{bad_input} scenario(s) could not be loaded");
        EXIT_BAD_INPUT
    } else if failed > 0 {
        EXIT_FAILED
    } else {
        0
    }
}

fn check_one(file: &Path) -> Result<bool, u8> {
    let sc = load_or_say(file, None)?;
    let report = match crate::lab::execute(&sc, TraceLevel::None, None) {
        Ok(r) => r,
        Err(e) => {
            println!("FAIL  {:<28} {e}", sc.name());
            println!("      reproduce: {}", reproduce_command(file, sc.seed()));
            return Err(EXIT_FAILED);
        }
    };
    let s = &report.summary;
    let mut ok = true;
    if s.expectations.is_empty() {
        println!("FAIL  {:<28} no [expect] block", sc.name());
        ok = false;
    }
    for e in &s.expectations {
        let mark = if e.held { "ok  " } else { "FAIL" };
        println!("{mark}  {:<28} {} = {} (observed {})", sc.name(), e.key, e.expected, e.observed);
        ok &= e.held;
    }
    for problem in s.problems() {
        println!("FAIL  {:<28} {problem}", sc.name());
        ok = false;
    }
    if !ok {
        println!("      reproduce: {}", reproduce_command(file, sc.seed()));
    }
    Ok(ok)
}
