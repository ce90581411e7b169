//! The `fraclab` command line (SPEC §6). Exit status: 0 success and every
//! expectation held; 1 an expectation or protocol invariant failed; 2 bad
//! input or usage.

mod atlas;
mod check;
mod params;
mod plot;
mod run;
mod sweep;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::scenario::TraceLevel;

#[derive(Parser, Debug)]
#[command(
    name = "fraclab",
    version,
    about = "Deterministic simulator and attack lab for the WO 00/19652 fractional-key scheme"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one scenario; write trace.jsonl, summary.json and its plots.
    Run {
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
    Check { paths: Vec<PathBuf> },
    /// List the group parameter sets, or print one.
    Params {
        name: Option<String>,
        /// Print {"name","p","q","g","p_bits","q_bits"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Re-check a trace's invariants independently of the run that wrote it.
    VerifyTrace { trace: PathBuf },
    /// Derivability atlas: compromised members vs n for leaked pads and ring collusion.
    Atlas {
        /// Group sizes, e.g. 3..8.
        #[arg(long)]
        members: String,
        #[arg(long, default_value = "toy-64")]
        params: String,
        /// Output folder (default results/atlas/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run one scenario over a grid of varied keys × seeds, in parallel; write sweep.csv and plots.
    Sweep(SweepArgs),
    /// Redraw the plots of a run, sweep or atlas folder from its files alone.
    Plot { dir: PathBuf },
    /// Regenerate the gallery: every scenario in a folder, the atlas and two sweeps, into results/.
    Gallery {
        /// Scenario folder.
        #[arg(default_value = "scenarios")]
        scenarios: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "results")]
        out: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct SweepArgs {
    #[command(subcommand)]
    merge: Option<SweepCommand>,
    #[arg(required = true)]
    scenario: Option<PathBuf>,
    /// A scenario key and its values: protocol.members=3..10, protocol.init=sm,ring,
    /// adversary.0.member=1,2 (ranges are inclusive; repeat --vary for a grid).
    #[arg(long, value_name = "KEY=VALUES")]
    vary: Vec<String>,
    /// Seeds per grid point: the scenario's seed and the N−1 after it.
    #[arg(long, value_name = "N", required = true)]
    seeds: Option<u64>,
    /// Parallel runs (default: all cores).
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
    Merge {
        #[arg(long)]
        out: PathBuf,
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        #[arg(long)]
        quiet: bool,
    },
}

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

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;

/// Parses the arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run { scenario, seed, out, trace, quiet, explain } => {
            run::run(&scenario, seed, out, trace.map(Into::into), quiet, explain.as_deref())
        }
        Command::Check { paths } => check::check(&paths),
        Command::Params { name, json } => params::params(name.as_deref(), json),
        Command::VerifyTrace { trace } => verify_trace(&trace),
        Command::Atlas { members, params, out } => atlas::atlas(&members, &params, out),
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
        Command::Plot { dir } => plot::plot(&dir),
        Command::Gallery { scenarios, out } => plot::gallery(&scenarios, &out),
    };
    ExitCode::from(code)
}

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
