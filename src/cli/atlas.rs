//! `fraclab atlas --members A..B [--params NAME] [--operator add|xor] [--bits L] [--out DIR]`.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::EXIT_BAD_INPUT;
use crate::lab::atlas;

fn parse_range(s: &str) -> Result<std::ops::RangeInclusive<u32>, String> {
    let err = || format!("--members {s}: expected A..B with 2 ≤ A ≤ B ≤ 64");
    let (a, b) = s.split_once("..").ok_or_else(err)?;
    let (a, b): (u32, u32) =
        (a.parse().map_err(|_| err())?, b.trim_start_matches('=').parse().map_err(|_| err())?);
    if 2 <= a && a <= b && b <= 64 { Ok(a..=b) } else { Err(err()) }
}

/// `fraclab atlas --members A..B`: runs the derivability atlas, returns the exit status.
pub(super) fn atlas(
    members: &str,
    params: Option<&str>,
    operator: &str,
    bits: Option<u32>,
    out: Option<PathBuf>,
) -> u8 {
    let range = match parse_range(members) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    // Both halves of atlas-safe.csv need a set, whichever operator the
    // tables use: --params and --bits each name one.
    let sets = super::operator_group("add", params, None).and_then(|add| {
        let xor = super::operator_group("xor", None, bits)?;
        match operator {
            "add" => Ok(atlas::Sets { tables: add, add, xor }),
            "xor" => Ok(atlas::Sets { tables: xor, add, xor }),
            s => Err(format!("--operator {s}: unknown operator; allowed: add, xor")),
        }
    });
    let sets = match sets {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let group = sets.tables;
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
    let result = atlas::write(sets, range.clone(), &out, &mut tick);
    if tty {
        eprintln!();
    }
    let atlas::Written { leaks, ring, safe, plots } = match result {
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
    print!("{}", safe_table(&safe));
    println!(
        "wrote atlas-leaks.csv, atlas-ring.csv, atlas-safe.csv, {} to {}",
        super::file_names(&plots),
        out.display()
    );
    0
}

/// The two-dimensional atlas as text: one grid per operator, rows r,
/// columns c, each cell the smallest safe n ("-" when none in range).
fn safe_table(rows: &[atlas::SafeRow]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut sets: Vec<(&str, &str)> = rows.iter().map(|r| (r.operator, r.params)).collect();
    sets.dedup();
    for (operator, params) in sets {
        let mine: Vec<&atlas::SafeRow> = rows.iter().filter(|r| r.params == params).collect();
        let c_max = mine.iter().map(|r| r.curious).max().unwrap_or(1);
        let _ = writeln!(
            out,
            "smallest safe n, operator {operator} ({params}): rows r leaked pads, columns c curious members pooling",
        );
        let _ = write!(out, "  r\\c");
        for c in 1..=c_max {
            let _ = write!(out, "{c:>4}");
        }
        out.push('\n');
        let r_max = mine.iter().map(|r| r.leaked_pads).max().unwrap_or(0);
        for r in 0..=r_max {
            let _ = write!(out, "  {r:>3}");
            for c in 1..=c_max {
                let cell = mine.iter().find(|x| x.leaked_pads == r && x.curious == c);
                let text = cell.map_or(String::new(), |x| x.cell());
                let _ = write!(out, "{text:>4}");
            }
            out.truncate(out.trim_end().len());
            out.push('\n');
        }
    }
    out
}
