//! `fraclab run SCENARIO.toml [--seed N] [--out DIR] [--trace LEVEL] [--quiet]`.

use std::path::{Path, PathBuf};

use super::{EXIT_BAD_INPUT, EXIT_FAILED};
use crate::report::{self, Summary};
use crate::scenario::{self, Scenario, TraceLevel};

/// The command that reruns exactly this scenario and seed.
pub fn reproduce_command(path: &Path, seed: u64) -> String {
    format!("fraclab run {} --seed {seed}", path.display())
}

pub fn load_with_seed(path: &Path, seed: Option<u64>) -> Result<Scenario, u8> {
    match scenario::load(path) {
        Ok(mut sc) => {
            if let Some(s) = seed {
                sc.seed = s;
            }
            Ok(sc)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(EXIT_BAD_INPUT)
        }
    }
}

pub fn run(
    path: &Path,
    seed: Option<u64>,
    out: Option<PathBuf>,
    trace: Option<TraceLevel>,
    quiet: bool,
) -> u8 {
    let sc = match load_with_seed(path, seed) {
        Ok(sc) => sc,
        Err(code) => return code,
    };
    let out = out.unwrap_or_else(|| Path::new("results").join(&sc.name));
    let level = trace.unwrap_or(sc.trace);
    if !quiet {
        for w in &sc.warnings {
            eprintln!("warning: {w}");
        }
    }
    let report = match report::execute(&sc, level, Some(&out)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("reproduce: {}", reproduce_command(path, sc.seed));
            return EXIT_FAILED;
        }
    };
    let s = &report.summary;
    if !quiet {
        print_account(s, &out, level);
    }
    if s.passed() {
        0
    } else {
        eprintln!("FAILED; reproduce: {}", reproduce_command(path, sc.seed));
        EXIT_FAILED
    }
}

fn print_account(s: &Summary, out: &Path, level: TraceLevel) {
    println!(
        "{} · seed {} · {} · n = {} · init {} · keygen {} · channel {}",
        s.scenario, s.seed, s.params, s.members, s.init, s.keygen, s.channel
    );
    println!(
        "epochs completed {}/{} · keys agreed: {} · invariants (I1, θ = ΣFK): {}",
        s.epochs_completed,
        s.epochs,
        if s.keys_agreed { "yes" } else { "NO" },
        if s.invariants_held { "held" } else { "BROKEN" }
    );
    if let Some(sk) = &s.final_sk {
        println!("final SK_{} = {sk}", s.epochs_completed + 1);
    }
    println!(
        "messages: {} sent ({} retransmissions), {} delivered, {} dropped · virtual time {:.3} s",
        s.messages_sent,
        s.retransmissions,
        s.messages_delivered,
        s.messages_dropped,
        s.sim_time_us as f64 / 1e6
    );
    for f in &s.findings {
        println!("finding: {f}");
    }
    for e in &s.expectations {
        let verdict = if e.held { "ok" } else { "FAIL" };
        println!("expect {} = {} (observed {}): {verdict}", e.key, e.expected, e.observed);
    }
    let trace = if level == TraceLevel::None { String::new() } else { "trace.jsonl, ".to_string() };
    println!("wrote {trace}summary.json to {}", out.display());
}
