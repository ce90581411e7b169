//! `fraclab atlas --members A..B [--params NAME] [--out DIR]`.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::EXIT_BAD_INPUT;
use crate::group::{PARAMS_NAMES, by_name};
use crate::lab::atlas;

fn parse_range(s: &str) -> Result<std::ops::RangeInclusive<u32>, String> {
    let err = || format!("--members {s}: expected A..B with 2 ≤ A ≤ B ≤ 64");
    let (a, b) = s.split_once("..").ok_or_else(err)?;
    let (a, b): (u32, u32) =
        (a.parse().map_err(|_| err())?, b.trim_start_matches('=').parse().map_err(|_| err())?);
    if 2 <= a && a <= b && b <= 64 { Ok(a..=b) } else { Err(err()) }
}

/// `fraclab atlas --members A..B`: runs the derivability atlas, returns the exit status.
pub(super) fn atlas(members: &str, params: &str, out: Option<PathBuf>) -> u8 {
    let range = match parse_range(members) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let Some(group) = by_name(params) else {
        eprintln!("error: unknown parameter set \"{params}\"; allowed: {}", PARAMS_NAMES.join(", "));
        return EXIT_BAD_INPUT;
    };
    let out = out.unwrap_or_else(|| PathBuf::from("results/atlas"));
    if let Err(e) = crate::lab::out::prepare(&out) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let total = atlas::runs(&range);
    let mut done = 0;
    let tty = std::io::stderr().is_terminal();
    let mut tick = || {
        done += 1;
        if tty {
            eprint!("\ratlas: {done}/{total} runs");
        }
    };
    let result = atlas::write(group, range.clone(), &out, &mut tick);
    if tty {
        eprintln!();
    }
    let atlas::Written { leaks, ring, plots } = match result {
        Ok(w) => w,
        Err(e) => return super::say_lab_error(e),
    };
    println!("leaked pads (members 1..r reveal α at epoch 2; every member curious), {}:", group.name);
    let start = *range.start();
    for (r, safe) in atlas::smallest_safe(&leaks) {
        match safe {
            // Safe already at the range's start: a smaller n may be too.
            Some(n) if n == start && start > (r + 1).max(2) => {
                println!("leaked pads {r}: smallest safe n ≤ {n} (the range starts at {start})")
            }
            Some(n) => println!("leaked pads {r}: smallest safe n = {n}"),
            None => println!("leaked pads {r}: smallest safe n = none up to {}", range.end()),
        }
    }
    println!("ring collusion (t−1 and t+1 against t):");
    for init in ["ring", "ring-hardened"] {
        let rows: Vec<_> = ring.iter().filter(|r| r.init == init).collect();
        let hits: Vec<String> = rows
            .iter()
            .filter(|r| r.compromised > 0)
            .map(|r| format!("n={} t={}", r.members, r.target))
            .collect();
        println!(
            "  {init:<14} someone compromised in {}/{} runs{}",
            hits.len(),
            rows.len(),
            if init == "ring-hardened" && !hits.is_empty() {
                format!(" ({})", hits.join(", "))
            } else {
                String::new()
            }
        );
    }
    println!("wrote atlas-leaks.csv, atlas-ring.csv, {} to {}", super::file_names(&plots), out.display());
    0
}
