//! Running one scenario with its passes: the knowledge analysis, the dlog
//! adversaries and the traced run, with outputs written to temporary names
//! and renamed into place only when the run has finished, so a failed run
//! never leaves half a trace behind.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::dlog;
use crate::knowledge::form::Layout;
use crate::knowledge::{self, Analysis, Collector, Learn};
use crate::report::Summary;
use crate::report::trace::{LineTap, TraceWriter};
use crate::scenario::{Channel, Scenario, TraceLevel};
use crate::sim::{self, NullRecorder, Record, Recorder, SimError, SimTime};

/// Why a run produced no [`Outcome`].
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Writing an output failed (the trace or `summary.json`, or creating
    /// the folder).
    #[error("{path}: {error}")]
    Io {
        /// The file or folder, or `trace` for the trace stream.
        path: PathBuf,
        /// The I/O error.
        error: io::Error,
    },
    /// The simulator stopped the run: the event limit (reference §9), a
    /// recorder's write error, or a misaddressed message (a fraclab bug).
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The analysis pass and the tracing pass of one scenario and seed
    /// disagreed: a fraclab bug.
    #[error("the run is not deterministic: the tracing pass differs from the analysis pass (a fraclab bug)")]
    Nondeterministic,
}

/// What running one scenario produced.
#[derive(Debug)]
pub struct Outcome {
    /// The typed account of the run: what `summary.json` holds.
    pub summary: Summary,
    /// The simulator's own outcome: counters, the verdict, the final keys.
    pub sim: sim::Outcome,
    /// The knowledge analysis (reference §2), when the scenario has it on
    /// (`[output] analysis`).
    pub analysis: Option<Analysis>,
    /// Where the trace and summary were written, if anywhere.
    pub out_dir: Option<PathBuf>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RunError + '_ {
    move |error| RunError::Io { path: path.to_path_buf(), error }
}

/// The collector and knowledge analysis of a scenario: the simulator's first
/// pass, with every record going to the views.
pub fn analyse(sc: &Scenario) -> Result<(sim::Outcome, Collector, Analysis), RunError> {
    analyse_beside(sc, None)
}

/// [`analyse`], with `beside` recording the same run (the dlog pass).
fn analyse_beside(
    sc: &Scenario,
    beside: Option<&mut dyn Recorder>,
) -> Result<(sim::Outcome, Collector, Analysis), RunError> {
    let (outcome, collector) = collect_beside(sc, beside)?;
    let analysis = knowledge::analyse(&collector, sc.group(), &sc.adversaries().coalitions(sc.members()));
    Ok((outcome, collector, analysis))
}

/// The simulator's run with every record going to the views, unanalysed
/// (what `--explain` needs for one question).
pub fn collect(sc: &Scenario) -> Result<(sim::Outcome, Collector), RunError> {
    collect_beside(sc, None)
}

/// [`collect`], with `beside` recording the same run (the dlog pass).
fn collect_beside(
    sc: &Scenario,
    beside: Option<&mut dyn Recorder>,
) -> Result<(sim::Outcome, Collector), RunError> {
    let cfg = sc.sim_config();
    // Each replacement may restart its ring once (a survivor further on).
    let recoveries = 2 * sc.faults().crashes.iter().filter(|c| c.replace).count() as u32;
    let elgamal = sc.keygen() == crate::scenario::Keygen::Elgamal;
    let layout = Layout { members: sc.members(), epochs: sc.epochs(), init: sc.init(), recoveries, elgamal };
    let tapped = match (sc.channel(), sc.adversaries().tapped_modes()) {
        (Channel::Plain, Some(modes)) => modes,
        _ => Vec::new(),
    };
    let mut collector = Collector::new(layout, tapped);
    let outcome = sim::run(&cfg, &mut Tee::new(&mut collector, beside))?;
    Ok((outcome, collector))
}

/// Runs the simulator writing a trace at `level` into `sink`; returns the
/// outcome and the trace's SHA-256.
fn traced<'l, W: Write + Send + 'static>(
    sc: &Scenario,
    level: TraceLevel,
    learns: &'l [Learn],
    sink: W,
    beside: Option<&mut dyn Recorder>,
    tap: Option<LineTap<'l>>,
) -> Result<(sim::Outcome, W, String), RunError> {
    let stage = Path::new("trace");
    let mut w = TraceWriter::tapped(sink, sc, level, learns, tap).map_err(io_err(stage))?;
    let outcome = sim::run(&sc.sim_config(), &mut Tee::new(&mut w, beside))?;
    let (sink, sha) = w.finish().map_err(io_err(stage))?;
    Ok((outcome, sink, sha))
}

/// How [`run`] runs a scenario. The default writes nothing and formats no
/// trace: the summary and analysis come back in memory.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The trace level; `None` means the scenario's own (`[output] trace`)
    /// when `out` is set, and no trace when it is not.
    pub trace: Option<TraceLevel>,
    /// A folder to write `trace.jsonl` and `summary.json` into (created if
    /// missing); none by default.
    pub out: Option<PathBuf>,
}

/// Runs one scenario with all its passes (the knowledge analysis when the
/// scenario has it on, the dlog adversaries, the trace) and returns its
/// typed outcome.
///
/// ```
/// let text = std::fs::read_to_string("scenarios/baseline-sm.toml").unwrap();
/// let scenario = fraclab::scenario::parse(&text, "baseline-sm.toml").unwrap();
/// let outcome = fraclab::run(&scenario, &fraclab::Options::default()).unwrap();
/// assert!(outcome.summary.keys_agreed);
/// assert!(outcome.summary.passed());
/// ```
pub fn run(sc: &Scenario, options: &Options) -> Result<Outcome, RunError> {
    let level = match (options.trace, &options.out) {
        (Some(level), _) => level,
        (None, Some(_)) => sc.trace(),
        (None, None) => TraceLevel::None,
    };
    execute(sc, level, options.out.as_deref())
}

/// Runs `sc` and, when `out_dir` is given, writes its trace (at `level`) and
/// summary there. Without `out_dir` the trace is still formatted and hashed
/// (so `trace_sha256` is the same) but goes nowhere.
///
/// With the knowledge analysis on, the simulator runs twice: once to collect
/// every view and analyse it, once to write the trace with each `learn`
/// event at its place. Both runs must agree, and are checked to. The dlog
/// adversaries record beside the first pass (the analysis when it is on,
/// else the trace); they never cost a run of their own.
pub fn execute(sc: &Scenario, level: TraceLevel, out_dir: Option<&Path>) -> Result<Outcome, RunError> {
    execute_tapped(sc, level, out_dir, None)
}

/// [`execute`], with `tap` seeing every trace line as it is written.
fn execute_tapped(
    sc: &Scenario,
    level: TraceLevel,
    out_dir: Option<&Path>,
    mut tap: Option<LineTap<'_>>,
) -> Result<Outcome, RunError> {
    let mut dlog = dlog::Pass::of(sc);
    let (first, analysis) = if sc.analysis() {
        let (outcome, _, analysis) = analyse_beside(sc, dlog.as_mut().map(|d| d as &mut dyn Recorder))?;
        (Some(outcome), Some(analysis))
    } else {
        (None, None)
    };
    // Without the analysis, the dlog adversaries ride on the pass below.
    let mut later = if first.is_none() { dlog.as_mut() } else { None };
    let mut beside = || later.take().map(|d| d as &mut dyn Recorder);
    let learns: &[Learn] = analysis.as_ref().map_or(&[], |a| &a.learns);
    let trace_tmp = out_dir.map(|d| d.join(".trace.jsonl.partial"));
    let created = out_dir.filter(|d| !d.exists());
    if let Some(dir) = out_dir {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let result = (|| {
        let (outcome, sha) = match (level, &trace_tmp) {
            (TraceLevel::None, _) => match &first {
                Some(o) => (o.clone(), None),
                None => (sim::run(&sc.sim_config(), &mut Tee::new(&mut NullRecorder, beside()))?, None),
            },
            (_, None) => {
                let (o, _, sha) = traced(sc, level, learns, io::sink(), beside(), tap.take())?;
                (o, Some(sha))
            }
            (_, Some(tmp)) => {
                let file = File::create(tmp).map_err(io_err(tmp))?;
                let (o, file, sha) = traced(sc, level, learns, file, beside(), tap.take())?;
                file.sync_all().map_err(io_err(tmp))?;
                (o, Some(sha))
            }
        };
        if first.as_ref().is_some_and(|f| *f != outcome) {
            return Err(RunError::Nondeterministic);
        }
        Ok((outcome, sha))
    })();
    let (outcome, sha) = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(tmp) = &trace_tmp {
                let _ = fs::remove_file(tmp);
            }
            if let Some(dir) = created {
                // Only removes the folder if this run made it and left it empty.
                let _ = fs::remove_dir(dir);
            }
            return Err(e);
        }
    };
    let mut summary = crate::report::summary::build(sc, level.as_str(), &outcome, analysis.as_ref(), sha);
    if let Some(pass) = dlog {
        summary.findings.extend(dlog::findings(sc, pass));
    }
    if let Some(dir) = out_dir {
        commit_outputs(dir, level, &summary)?;
    }
    Ok(Outcome { summary, sim: outcome, analysis, out_dir: out_dir.map(Path::to_path_buf) })
}

/// Moves a finished run's files into place.
fn commit_outputs(dir: &Path, level: TraceLevel, summary: &Summary) -> Result<(), RunError> {
    let trace_path = dir.join("trace.jsonl");
    let trace_tmp = dir.join(".trace.jsonl.partial");
    let summary_tmp = dir.join(".summary.json.partial");
    fs::write(&summary_tmp, summary.to_json()).map_err(io_err(&summary_tmp))?;
    if level == TraceLevel::None {
        // A trace from an earlier run would no longer match this summary.
        match fs::remove_file(&trace_path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(&trace_path)(e)),
            _ => {}
        }
    } else {
        fs::rename(&trace_tmp, &trace_path).map_err(io_err(&trace_path))?;
    }
    let summary_path = dir.join("summary.json");
    fs::rename(&summary_tmp, &summary_path).map_err(io_err(&summary_path))
}

/// Runs a loaded scenario into the folder `out` (created if missing): its
/// trace at `level`, `summary.json` and the plots, drawn from the trace's
/// lines as they were written and the written summary (the same bytes as
/// `fraclab plot` draws from the files; a test holds them equal). `path` is the scenario file, for the reproducing
/// command of a failure.
pub fn run_into(
    sc: &Scenario,
    path: &Path,
    level: TraceLevel,
    out: &Path,
) -> Result<(Outcome, Vec<PathBuf>), super::LabError> {
    super::out::prepare(out).map_err(super::LabError::BadInput)?;
    // The plots are drawn from the trace's lines as they are written, not
    // by reading the file back (at n = 256 that was half of a full-trace
    // run); `fraclab plot DIR` reads the same lines from the file.
    #[cfg(feature = "plots")]
    let mut lines = crate::report::plot::TraceBuilder::default();
    #[cfg(feature = "plots")]
    let mut line_error: Option<String> = None;
    #[cfg(feature = "plots")]
    let tap: Option<LineTap<'_>> = Some(Box::new(|l: crate::schema::TraceLine| {
        if line_error.is_none()
            && let Err(e) = lines.line(l)
        {
            line_error = Some(e);
        }
    }));
    #[cfg(not(feature = "plots"))]
    let tap = None;
    let report = match execute_tapped(sc, level, Some(out), tap) {
        Ok(r) => r,
        // Writing the outputs failed after the folder was made (a full
        // disk): not something a rerun with this seed explains.
        Err(e @ RunError::Io { .. }) => return Err(super::LabError::failed(e.to_string())),
        Err(e) => {
            return Err(super::LabError::Failed {
                message: e.to_string(),
                reproduce: Some(super::reproduce_command(path, sc.seed())),
            });
        }
    };
    #[cfg(feature = "plots")]
    let plots = {
        let trace = match (level, line_error) {
            (TraceLevel::None, _) => None,
            (_, Some(e)) => {
                return Err(super::LabError::failed(format!("{}: {e}", out.join("trace.jsonl").display())));
            }
            (_, None) => Some(lines.finish().map_err(super::LabError::failed)?),
        };
        crate::report::plot::redraw_run_with(out, trace)
            .map_err(|e| super::LabError::failed(e.to_string()))?
    };
    #[cfg(not(feature = "plots"))]
    let plots = Vec::new();
    Ok((report, plots))
}

/// Two recorders on one run. Message records (send, deliver, drop, attack)
/// reach only a recorder that wants messages, as the simulator itself would
/// arrange for one recorder alone.
struct Tee<'a, 'b, A> {
    first: &'a mut A,
    second: Option<&'b mut (dyn Recorder + 'b)>,
}

impl<'a, 'b, A: Recorder> Tee<'a, 'b, A> {
    fn new(first: &'a mut A, second: Option<&'b mut (dyn Recorder + 'b)>) -> Tee<'a, 'b, A> {
        Tee { first, second }
    }
}

impl<A: Recorder> Recorder for Tee<'_, '_, A> {
    fn wants_messages(&self) -> bool {
        self.first.wants_messages() || self.second.as_ref().is_some_and(|s| s.wants_messages())
    }

    fn record(&mut self, seq: u64, at: SimTime, rec: &Record<'_>) -> io::Result<()> {
        let message = rec.is_message();
        if !message || self.first.wants_messages() {
            self.first.record(seq, at, rec)?;
        }
        if let Some(second) = self.second.as_deref_mut()
            && (!message || second.wants_messages())
        {
            second.record(seq, at, rec)?;
        }
        Ok(())
    }
}
