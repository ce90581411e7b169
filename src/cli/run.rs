//! `fraclab run SCENARIO.toml [--seed N] [--out DIR] [--trace LEVEL] [--quiet]`.

use std::path::{Path, PathBuf};

use super::{EXIT_BAD_INPUT, EXIT_FAILED};
use crate::knowledge::{self, Analysis, Explanation, Target};
use crate::report::Summary;
use crate::scenario::{Scenario, TraceLevel};
use crate::schema::Finding;

/// `fraclab run SCENARIO`: runs one scenario, writes its outputs and returns the exit status.
pub(super) fn run(
    path: &Path,
    seed: Option<u64>,
    out: Option<PathBuf>,
    trace: Option<TraceLevel>,
    quiet: bool,
    explain: Option<&str>,
) -> u8 {
    let sc = match super::load_or_say(path, seed) {
        Ok(sc) => sc,
        Err(code) => return code,
    };
    let out = out.unwrap_or_else(|| Path::new("results").join(sc.name()));
    if let Err(e) = crate::lab::out::check(&out) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let level = trace.unwrap_or(sc.trace());
    if !quiet {
        for w in sc.warnings() {
            eprintln!("warning: {w}");
        }
    }
    if let Some(spec) = explain {
        return explain_one(&sc, spec);
    }
    let (report, plots) = match crate::lab::run_into(&sc, path, level, &out) {
        Ok(r) => r,
        Err(e) => return super::say_lab_error(e),
    };
    let s = &report.summary;
    let plots = super::file_names(&plots);
    if !quiet {
        print_account(s, &out, level, &plots);
        if let Some(a) = &report.analysis {
            narrate(a, sc.keygen() == crate::scenario::Keygen::Elgamal);
        }
    }
    if s.passed() {
        0
    } else {
        for problem in s.problems() {
            eprintln!("problem: {problem}");
        }
        eprintln!("FAILED; reproduce: {}", crate::lab::reproduce_command(path, sc.seed()));
        EXIT_FAILED
    }
}

fn print_account(s: &Summary, out: &Path, level: TraceLevel, plots: &str) {
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
    if s.channel == "sealed" || !s.attacks.is_empty() {
        let list = |m: &std::collections::BTreeMap<String, u64>| {
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{v} {k}")).collect();
            if parts.is_empty() { "none".to_string() } else { parts.join(", ") }
        };
        println!(
            "channel {}: attacks {} · refused {} · adversary's messages accepted: {}",
            s.channel,
            list(&s.attacks),
            list(&s.rejected),
            s.accepted_forgeries
        );
    }
    for f in s.findings.iter().filter(|f| !matches!(f, Finding::Learn(_) | Finding::Dlog { .. })) {
        println!("finding: {f}");
    }
    for e in &s.expectations {
        let verdict = if e.held { "ok" } else { "FAIL" };
        println!("expect {} = {} (observed {}): {verdict}", e.key, e.expected, e.observed);
    }
    let trace = if level == TraceLevel::None { String::new() } else { "trace.jsonl, ".to_string() };
    let plots = if plots.is_empty() { String::new() } else { format!(", {plots}") };
    println!("wrote {trace}summary.json{plots} to {}", out.display());
}

/// How many derivations `run` narrates before summarising the rest.
const NARRATED_MAX: usize = 12;

/// The knowledge account: who learned what, when and how; the first
/// derivation of each (view, owner) pair, the rest counted.
fn narrate(a: &Analysis, elgamal: bool) {
    let views = a.views.len();
    if a.learns.is_empty() {
        println!("knowledge: {views} views analysed; no view derives a secret of a party outside it");
    } else {
        println!("knowledge: {views} views analysed; {} derivations", a.learns.len());
    }
    let firsts = knowledge::first_per_pair(&a.learns);
    for l in firsts.iter().take(NARRATED_MAX) {
        let sources: Vec<&str> = l
            .witness
            .iter()
            .flatten()
            .filter(|(label, _)| !label.ends_with("(own)"))
            .map(|(label, _)| label.as_str())
            .collect();
        let expression = l.expression.clone().unwrap_or_else(|| l.target.label_as(elgamal));
        let sentence = crate::report::learn_sentence(&l.view.describe(), &expression, &sources);
        println!("  epoch {}: {sentence}", l.epoch);
    }
    if firsts.len() > NARRATED_MAX {
        println!("  … {} more first derivations", firsts.len() - NARRATED_MAX);
    }
    let more = a.learns.len() - firsts.len().min(a.learns.len());
    if more > 0 {
        println!("  … and {more} later derivations of the same parties' secrets (summary.json, findings)");
    }
    let ids =
        |ms: &[crate::protocol::MemberId]| ms.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", ");
    println!("compromised: [{}] · secure: [{}]", ids(&a.compromised), ids(&a.secure));
    if a.outsider_learns_key {
        println!("the outsider learns a shared key");
    }
}

/// `--explain VIEW:SECRET`: why a view can or cannot derive a secret.
fn explain_one(sc: &Scenario, spec: &str) -> u8 {
    let parsed = spec
        .split_once(':')
        .ok_or_else(|| format!("\"{spec}\" is not VIEW:SECRET, e.g. 2:fk[3,1] or outsider:theta[2]"))
        .and_then(|(v, t)| Ok((knowledge::parse_view(v, sc.members())?, Target::parse(t)?)));
    let (view, target) = match parsed {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: --explain: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let explained = crate::lab::collect(sc)
        .map_err(|e| e.to_string())
        .and_then(|(_, collector)| knowledge::explain(&collector, sc.group(), &view, target));
    let g = sc.group();
    match explained {
        Err(e) => {
            eprintln!("error: --explain: {e}");
            EXIT_BAD_INPUT
        }
        Ok(Explanation::Derivable(l)) => {
            println!(
                "{} derives {} (first at t = {:.3} s, epoch {}):",
                view.describe(),
                target.label_as(sc.keygen() == crate::scenario::Keygen::Elgamal),
                l.t_us as f64 / 1e6,
                l.epoch
            );
            println!("  {}", l.expression.as_deref().unwrap_or(""));
            for (label, coeff) in l.witness.iter().flatten() {
                println!("    {coeff:>6} × {label}");
            }
            println!("  value {} (checked: equal to the ground truth)", g.scalar_hex(&l.value));
            0
        }
        Ok(Explanation::Hidden { differing, target_a, target_b, checked }) => {
            println!(
                "{} cannot derive {}.",
                view.describe(),
                target.label_as(sc.keygen() == crate::scenario::Keygen::Elgamal)
            );
            println!(
                "Two assignments of the hidden values agree on all {checked} values and relations the view holds,"
            );
            println!(
                "and differ on {}. A is this run; B = A + z for a vector z the view cannot see:",
                target.label_as(sc.keygen() == crate::scenario::Keygen::Elgamal)
            );
            let w = g.q_bytes() * 2;
            println!("  {:<14} {:<w$}  {:<w$}", "value", "A", "B");
            for (name, a, b) in &differing {
                println!("  {:<14} {:<w$}  {:<w$}", name, g.scalar_hex(a), g.scalar_hex(b));
            }
            println!(
                "  {:<14} {:<w$}  {:<w$}",
                target.label_as(sc.keygen() == crate::scenario::Keygen::Elgamal),
                g.scalar_hex(&target_a),
                g.scalar_hex(&target_b)
            );
            println!("checked by recomputation: every form the view holds has the same value under A and B.");
            0
        }
    }
}
