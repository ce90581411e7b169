//! The `fraclab` command line (reference §6). Exit status: 0 success and every
//! expectation held; 1 an expectation or protocol invariant failed; 2 bad
//! input or usage.

mod atlas;
mod attacks;
mod check;
mod explore;

mod params;
mod plot;
mod run;
mod sweep;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::scenario::{Scenario, TraceLevel};

#[derive(Parser, Debug)]
#[command(
    name = "fraclab",
    version,
    about = "Deterministic simulator and attack lab for the WO 00/19652 fractional-key scheme",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one scenario; write trace.jsonl, summary.json and its plots.
    #[command(after_help = RUN_HELP)]
    Run {
        /// The scenario file (TOML, reference §4).
        scenario: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default results/<name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override the scenario's [output] trace level.
        #[arg(long, value_enum)]
        trace: Option<TraceArg>,
        /// Print nothing but errors.
        #[arg(long)]
        quiet: bool,
        /// Explain whether a view can derive a secret, e.g. `2:fk[3,1]`,
        /// `1,3:alpha[2,2]`, `outsider:theta[2]`; prints a derivation or two
        /// assignments that agree on the view and differ on the secret.
        #[arg(long, value_name = "VIEW:SECRET")]
        explain: Option<String>,
    },
    /// Run scenarios (folders or files, default scenarios/) and report every expectation.
    #[command(after_help = CHECK_HELP)]
    Check {
        /// Scenario files, or folders whose *.toml are run in name order (default scenarios/).
        paths: Vec<PathBuf>,
    },
    /// List the group parameter sets, or print one.
    #[command(after_help = PARAMS_HELP)]
    Params {
        /// A parameter set, e.g. toy-64 or modp-2048 (default: list them all).
        name: Option<String>,
        /// Print {"name","p","q","g","p_bits","q_bits"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Re-check a trace's invariants independently of the run that wrote it.
    #[command(after_help = VERIFY_HELP)]
    VerifyTrace {
        /// A trace.jsonl written by `fraclab run` (format fraclab-trace/1).
        trace: PathBuf,
    },
    /// Derivability atlas: compromised members vs n for leaked pads and ring collusion, and the smallest safe n by leaked pads × pooling members for both operators.
    #[command(after_help = ATLAS_HELP)]
    Atlas {
        /// Group sizes, e.g. 3..8 (2 ≤ A ≤ B ≤ 64).
        #[arg(long)]
        members: String,
        /// The prime parameter set (default toy-64): the leak and ring tables, and the add half of atlas-safe.csv.
        #[arg(long)]
        params: Option<String>,
        /// Which operator the leak and ring tables use: add (--params) or xor (--bits).
        #[arg(long, default_value = "add")]
        operator: String,
        /// L of the XOR set (8..=4096; default 256): the xor half of atlas-safe.csv.
        #[arg(long)]
        bits: Option<u32>,
        /// Output folder (default results/atlas/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Attack synthesis: every minimal set of corruptions that reaches a goal, each replayed.
    #[command(after_help = ATTACKS_HELP)]
    Attacks(attacks::AttacksArgs),
    /// Run one scenario over a grid of varied keys × seeds, in parallel; write sweep.csv and plots.
    Sweep(SweepArgs),
    /// Draw scenarios from a space, check every property, shrink what fails (or meets --goal) to a minimal scenario.
    #[command(after_help = EXPLORE_HELP)]
    Explore {
        /// A space file (TOML) that narrows the default space (default: everything fraclab supports, n 3..=8).
        space: Option<PathBuf>,
        /// Runs to draw, 1..=10000000.
        #[arg(long, default_value_t = 200)]
        runs: u64,
        /// The explore's seed: the same seed gives the same runs and report, whatever --jobs.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Parallel runs, 1..=256 (default: all cores, at most 256).
        #[arg(long)]
        jobs: Option<usize>,
        /// Output folder (default out/explore/, which git ignores).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Look for runs whose summary satisfies this, e.g. 'compromised contains 3'
        /// (default: property violations).
        #[arg(long, value_name = "EXPR")]
        goal: Option<String>,
        /// Stop cleanly after this many seconds of wall time; --resume continues.
        #[arg(long, value_name = "SECS")]
        time_limit: Option<u64>,
        /// Continue the explore in --out from where it stopped.
        #[arg(long)]
        resume: bool,
        /// Print nothing but errors.
        #[arg(long)]
        quiet: bool,
    },
    /// Redraw the plots of a run, sweep or atlas folder from its files alone.
    #[command(after_help = PLOT_HELP)]
    Plot {
        /// A folder written by `fraclab run`, `sweep`, `sweep merge` or `atlas`.
        dir: PathBuf,
    },
    /// Write a run folder's report.html (the walkthrough) again from its trace.jsonl and summary.json.
    #[command(after_help = REPORT_HELP)]
    Report {
        /// A folder written by `fraclab run`.
        dir: PathBuf,
    },
    /// Regenerate the gallery: every scenario in a folder, the atlas and two sweeps, into results/.
    #[command(after_help = GALLERY_HELP)]
    Gallery {
        /// Scenario folder (it must hold baseline-ring.toml and dlog-toy-commitments.toml for the sweeps).
        #[arg(default_value = "scenarios")]
        scenarios: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "results")]
        out: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = SWEEP_HELP
)]
struct SweepArgs {
    #[command(subcommand)]
    merge: Option<SweepCommand>,
    /// The scenario file (TOML) every run starts from.
    #[arg(required = true)]
    scenario: Option<PathBuf>,
    /// A scenario key and its values: protocol.members=3..10, protocol.init=sm,ring,
    /// adversary.0.member=1,2 (ranges are inclusive; repeat --vary for a grid).
    #[arg(long, value_name = "KEY=VALUES")]
    vary: Vec<String>,
    /// Seeds per grid point: the scenario's seed and the N−1 after it.
    #[arg(long, value_name = "N", required = true)]
    seeds: Option<u64>,
    /// Parallel runs, 1..=256 (default: all cores, at most 256).
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only the K-th of N deterministic slices (combine with `sweep merge`).
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Output folder (default results/<name>-sweep/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue an interrupted sweep in --out, skipping the runs it finished.
    #[arg(long)]
    resume: bool,
    /// Print nothing but errors.
    #[arg(long)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum SweepCommand {
    /// Combine shard outputs into the sweep.csv an unsharded run writes.
    #[command(after_help = MERGE_HELP)]
    Merge {
        /// Output folder; not one of the shard folders nor inside one.
        #[arg(long)]
        out: PathBuf,
        /// The folders written by `sweep --shard 1/N` … `--shard N/N`, in any order.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Print nothing but errors.
        #[arg(long)]
        quiet: bool,
    },
}

const EXIT_CODES: &str = "Exit status: 0 success and every expectation held; 1 an expectation or invariant failed; 2 bad input or usage (nothing is written).";

const RUN_HELP: &str = concat!(
    "Exit status: 0 every expectation and invariant held and the keys agreed; 1 otherwise (with a reproduce: line); ",
    "2 bad input or usage, e.g. a scenario that does not load or an --out that is a file or inside one (nothing is written).\n",
    "Limits (reference §9): members ≤ 4096, epochs ≤ 100000, events ≤ 10^9 per run; full traces for n ≤ 64 unless asked for."
);

const CHECK_HELP: &str = "Exit status: 0 every scenario passed; 1 a scenario failed (each failure prints reproduce: fraclab run … --seed N); 2 a scenario could not be loaded or none was found. Writes nothing.";

const EXPLORE_HELP: &str = concat!(
    "Exit status: 0 no property was violated; 1 a property was violated (each finding is shrunk and written to ",
    "findings/, with the command that replays it) or an output could not be written; 2 bad input or usage ",
    "(a space file that does not load, a goal that does not parse, an --out that is a file; nothing is written).\n",
    "Goal fields: members, epochs, epochs_completed, adversaries, crashes, partitions, accepted_forgeries (numbers); ",
    "keys_agreed, invariants_held, outsider_learns_key, stalled, violation (true/false); init, keygen, verify, channel, excused (text; excused names the known limitation a failure fell under, or is \"\"); ",
    "compromised, victims, actors, recovered, detected (member lists: `contains`, `len(…)`, == [..]).\n",
    "Limits: --runs 1..=10000000; --jobs 1..=256; at most 20 findings are shrunk per explore."
);

const PARAMS_HELP: &str = "Exit status: 0; 2 an unknown parameter set.";

const VERIFY_HELP: &str = "Exit status: 0 every invariant held; 1 an invariant is violated (the line and check are named); 2 the file cannot be read or is not a fraclab-trace/1 trace.";

const ATLAS_HELP: &str = concat!(
    "Writes atlas-leaks.csv and atlas-ring.csv (over --params, or the --bits XOR set with --operator xor) and atlas-safe.csv (both operators: r ≤ 8 leaked pads × c ≤ 8 curious members pooling), each with its plots.\n",
    "Exit status: 0; 1 a run failed; 2 bad input or usage (a bad range or parameter set, an --out that is a file or inside one).\n",
    "Limits: 2 ≤ A ≤ B ≤ 64."
);

const ATTACKS_HELP: &str = concat!(
    "Exit status: 0; 1 a replay disagreed with the model (every file is still written); 2 bad input or usage.\n",
    "Cost: distinct corrupted members (leak, pool, forward); tapping the wire costs 0. Limits: 3 ≤ n ≤ 12, epochs ≤ 4, ",
    "max-cost ≤ n − 1, per-member 1..=3."
);

const REPORT_HELP: &str = "Writes DIR/report.html, a self-contained page (no network) that steps through the run message by message for n ≤ 16 at trace level full, and shows per-epoch aggregates otherwise; the same bytes as `fraclab run` wrote. Open it from file://; #seq=N opens step N.\n\nExit status: 0 written; 1 it could not be written; 2 DIR has no summary.json, or a file in it is not what fraclab writes (nothing is written then).";

const PLOT_HELP: &str = concat!(
    "Exit status: 0 drawn (or nothing to draw); 1 drawing failed; 2 the folder holds nothing to plot, or a file in it is not ",
    "what fraclab writes (wrong format string, a value out of range, a garbage row): the error names the file, line and key, ",
    "and no plot is written.\n",
    "Limits: summary.json and sweep.json must have format fraclab-summary/1 and fraclab-sweep/1; members ≤ 4096, epochs ≤ 100000; ",
    "the knowledge timeline draws at most 100 columns (longer runs get several epochs per column); the lifeline chart draws at most ",
    "4000 messages (longer runs get the per-epoch chart)."
);

const GALLERY_HELP: &str = "Exit status: 0; 1 a step failed; 2 bad input or usage: every scenario and every output folder is checked before anything runs.";

const SWEEP_HELP: &str = concat!(
    "Exit status: 0 every run completed; 1 a run could not be made (column error) or an output could not be written; ",
    "2 bad input or usage (nothing is written).\n",
    "Limits: --jobs 1..=256; --seeds 1..=1000000; at most 100000 values per --vary and 10^8 runs in all.\n",
    "An interrupted sweep keeps every finished row in sweep.csv; --resume continues it (a last line cut off mid-write is ",
    "recomputed, any other malformed row is an error naming its line and column)."
);

const MERGE_HELP: &str = "Exit status: 0; 1 a merged run has an error; 2 bad input or usage: a folder that is not a shard of the same sweep, a missing or incomplete shard, a malformed sweep.json or sweep.csv (the error names file, line and column), or an --out that is one of the shards or inside one.";

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TraceArg {
    Full,
    Protocol,
    None,
}

impl From<TraceArg> for TraceLevel {
    fn from(t: TraceArg) -> TraceLevel {
        match t {
            TraceArg::Full => TraceLevel::Full,
            TraceArg::Protocol => TraceLevel::Protocol,
            TraceArg::None => TraceLevel::None,
        }
    }
}

/// Exit status 1: an expectation, invariant or run failed.
const EXIT_FAILED: u8 = 1;
/// Exit status 2: bad input or usage (nothing is written).
const EXIT_BAD_INPUT: u8 = 2;

/// The `fraclab` binary: parses the arguments, runs the command and returns
/// its exit status (0 success, 1 failed, 2 bad input or usage).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run { scenario, seed, out, trace, quiet, explain } => {
            run::run(&scenario, seed, out, trace.map(Into::into), quiet, explain.as_deref())
        }
        Command::Check { paths } => check::check(&paths),
        Command::Params { name, json } => params::params(name.as_deref(), json),
        Command::VerifyTrace { trace } => verify_trace(&trace),
        Command::Atlas { members, params, operator, bits, out } => {
            atlas::atlas(&members, params.as_deref(), &operator, bits, out)
        }
        Command::Attacks(a) => attacks::attacks(a),
        Command::Sweep(a) => match a.merge {
            Some(SweepCommand::Merge { out, shards, quiet }) => sweep::merge(&out, &shards, quiet),
            None => sweep::sweep(
                &a.scenario.expect("clap requires the scenario"),
                &a.vary,
                a.seeds.expect("clap requires --seeds"),
                a.jobs,
                a.shard.as_deref(),
                a.out,
                a.resume,
                a.quiet,
            ),
        },
        Command::Explore { space, runs, seed, jobs, out, goal, time_limit, resume, quiet } => {
            explore::explore(explore::Args { space, runs, seed, jobs, out, goal, time_limit, resume, quiet })
        }
        Command::Plot { dir } => plot::plot(&dir),
        Command::Report { dir } => plot::report(&dir),
        Command::Gallery { scenarios, out } => plot::gallery(&scenarios, &out),
    };
    ExitCode::from(code)
}

/// The progress bar of `sweep` and `explore` (runs done of all, elapsed,
/// eta), hidden when `quiet` or when stderr is not a terminal; its length
/// is set by the progress callback.
fn runs_bar(quiet: bool) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} runs · {elapsed_precise} · eta {eta}")
        .expect("a valid progress template");
    ProgressBar::new(0).with_style(style)
}

/// Loads the scenario, printing why not.
fn load_or_say(path: &Path, seed: Option<u64>) -> Result<Scenario, u8> {
    crate::lab::load(path, seed).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })
}

/// Prints a lab error and returns its exit status: 2 for bad input, 1 for
/// a failure (with the reproducing command, when there is one).
fn say_lab_error(e: crate::lab::LabError) -> u8 {
    eprintln!("error: {e}");
    match e {
        crate::lab::LabError::BadInput(_) => EXIT_BAD_INPUT,
        crate::lab::LabError::Failed { reproduce, .. } => {
            if let Some(r) = reproduce {
                eprintln!("reproduce: {r}");
            }
            EXIT_FAILED
        }
    }
}

/// The file names of `files`, comma-separated.
fn file_names(files: &[std::path::PathBuf]) -> String {
    let names: Vec<String> =
        files.iter().filter_map(|f| f.file_name()).map(|f| f.to_string_lossy().into_owned()).collect();
    names.join(", ")
}

/// `fraclab verify-trace TRACE`: re-checks a fraclab-trace/1 file.
fn verify_trace(path: &std::path::Path) -> u8 {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return EXIT_BAD_INPUT;
        }
    };
    match crate::report::verify::verify(std::io::BufReader::new(file)) {
        Ok(checked) => {
            println!("{checked}");
            0
        }
        Err(e @ crate::report::verify::VerifyError::Violation { .. }) => {
            eprintln!("{}: {e}", path.display());
            EXIT_FAILED
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            EXIT_BAD_INPUT
        }
    }
}

/// The parameter set of `--operator add|xor`, `--params NAME` and
/// `--bits L`: the named prime group (default toy-64) under add, `xor-L`
/// (default L = 256) under xor. A flag of the other operator is an error.
fn operator_group(
    operator: &str,
    params: Option<&str>,
    bits: Option<u32>,
) -> Result<&'static crate::group::GroupParams, String> {
    match operator {
        "add" => {
            if let Some(b) = bits {
                return Err(format!(
                    "--bits {b}: the length of an XOR value; allowed only with --operator xor"
                ));
            }
            let name = params.unwrap_or("toy-64");
            crate::group::by_name(name).ok_or_else(|| {
                format!(
                    "--params {name}: unknown parameter set; allowed: {}",
                    crate::group::PARAMS_NAMES.join(", ")
                )
            })
        }
        "xor" => {
            if let Some(p) = params {
                return Err(format!(
                    "--params {p}: names a prime-order group, and --operator xor uses L-bit strings; allowed: --bits L instead"
                ));
            }
            let b = bits.unwrap_or(crate::group::XOR_BITS_DEFAULT);
            crate::group::xor(b).ok_or_else(|| {
                let r = crate::group::XOR_BITS;
                format!("--bits {b}: allowed: {}..={}", r.start(), r.end())
            })
        }
        s => Err(format!("--operator {s}: unknown operator; allowed: add, xor")),
    }
}
