//! Writes `trace.jsonl`, format `fraclab-trace/1` (reference §5): a header
//! line, one line per record, a footer, each a [`TraceLine`] of the schema
//! serialised into a buffered writer whose bytes are hashed on their way to
//! the file, so the summary's `trace_sha256` costs no second pass.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::thread::{self, JoinHandle};

use sha2::{Digest, Sha256};

use crate::group::GroupParams;
use crate::knowledge::Learn;
use crate::protocol::{Body, Commitment, Envelope};
use crate::scenario::{Scenario, TraceLevel};
use crate::schema::View;
pub use crate::schema::trace::TRACE_FORMAT;
use crate::schema::trace::{self as line, LeakAudience, LeakTo, Payload, TraceLine};
use crate::sim::{Record, Recorder, SimTime};

/// Bytes gathered before they go to the writer thread: large enough that
/// waking it costs nothing that shows (at 64 KiB the wake-ups were 4 % of a
/// full-trace run).
const CHUNK: usize = 1 << 20;

/// Hashes and writes the trace's bytes on a thread of its own, a chunk at a
/// time, so that SHA-256 and the kernel's copies run beside the simulation
/// rather than in it. The bytes and their order are those written; only
/// where the work happens changes.
struct Pipe<W> {
    /// Full chunks to the worker; `None` once closed.
    full: Option<SyncSender<Vec<u8>>>,
    /// Emptied chunks back from the worker, for reuse.
    empty: Receiver<Vec<u8>>,
    worker: Option<JoinHandle<io::Result<(W, Sha256)>>>,
    /// The chunk being filled.
    chunk: Vec<u8>,
}

impl<W: Write + Send + 'static> Pipe<W> {
    fn new(mut inner: W) -> io::Result<Self> {
        let (full, todo) = sync_channel::<Vec<u8>>(2);
        let (done, empty) = channel::<Vec<u8>>();
        let worker = thread::Builder::new().name("trace-writer".into()).spawn(move || {
            let mut hasher = Sha256::new();
            for mut chunk in todo {
                hasher.update(&chunk);
                inner.write_all(&chunk)?;
                chunk.clear();
                let _ = done.send(chunk);
            }
            inner.flush()?;
            Ok((inner, hasher))
        })?;
        Ok(Pipe { full: Some(full), empty, worker: Some(worker), chunk: Vec::with_capacity(CHUNK) })
    }

    /// Appends to the current chunk through `f`, and hands the chunk over
    /// once it is full.
    fn append(&mut self, f: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        f(&mut self.chunk);
        if self.chunk.len() >= CHUNK { self.hand_over() } else { Ok(()) }
    }

    fn hand_over(&mut self) -> io::Result<()> {
        let next = self.empty.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        let chunk = std::mem::replace(&mut self.chunk, next);
        let sent = self.full.as_ref().map(|f| f.send(chunk).is_ok()).unwrap_or(false);
        if sent { Ok(()) } else { self.join().map(|_| ()) }
    }

    /// Closes the pipe and returns the writer and the hasher, or the
    /// worker's error. A worker that stopped early stopped on an error.
    fn join(&mut self) -> io::Result<(W, Sha256)> {
        self.full = None;
        match self.worker.take().map(|w| w.join()) {
            Some(Ok(Ok(done))) if self.chunk.is_empty() => Ok(done),
            Some(Ok(Ok(_))) => Err(io::Error::other("the trace writer stopped before the trace was written")),
            Some(Ok(Err(e))) => Err(e),
            Some(Err(_)) => Err(io::Error::other("the trace writer thread panicked")),
            None => Err(io::Error::other("the trace writer has already stopped")),
        }
    }

    /// Writes what is left and returns the writer and the hasher.
    fn finish(mut self) -> io::Result<(W, Sha256)> {
        if !self.chunk.is_empty() {
            self.hand_over()?;
            self.chunk.clear();
        }
        self.join()
    }
}

/// A pipe dropped without [`Pipe::finish`] (a run that failed half-way)
/// still hands over what it holds and waits for the worker, as a
/// `BufWriter` flushes on drop: no bytes are lost silently and no thread
/// outlives its writer. Errors have nowhere to go here and are dropped.
impl<W> Drop for Pipe<W> {
    fn drop(&mut self) {
        let Some(worker) = self.worker.take() else { return };
        if let Some(full) = self.full.take()
            && !self.chunk.is_empty()
        {
            let _ = full.send(std::mem::take(&mut self.chunk));
        }
        let _ = worker.join();
    }
}

/// The `trace.jsonl` writer: a simulator [`Recorder`] that writes each
/// record as a fraclab-trace/1 line, with the knowledge analysis's learn
/// events interleaved after the records they follow. [`TraceWriter::finish`]
/// returns the SHA-256 the summary records as `trace_sha256`.
pub struct TraceWriter<'l, W: Write> {
    out: Pipe<W>,
    group: &'static GroupParams,
    /// ElGamal key generation: learn events name x, not fk.
    elgamal: bool,
    level: TraceLevel,
    lines: u64,
    /// Learn events to interleave, sorted by the record they follow.
    learns: &'l [Learn],
    next_learn: usize,
    /// Sees every line as it is written (the plots of `fraclab run`).
    tap: Option<LineTap<'l>>,
}

/// A callback that is handed every trace line once it is written.
pub type LineTap<'a> = Box<dyn FnMut(TraceLine) + 'a>;

/// The trace `seq` of the i-th learn event (learns sorted by record): it
/// follows its record, and every record after it moves up by one.
pub(crate) fn learn_seq(learns: &[Learn], i: usize) -> u64 {
    learns[i].rec + i as u64 + 1
}

impl<'l, W: Write + Send + 'static> TraceWriter<'l, W> {
    /// Starts a trace at `level` (`Full` or `Protocol`) and writes its header.
    /// The bytes are hashed and written on a thread of the writer's own,
    /// so `inner` must be `Send + 'static` (a `File`, `io::sink()`, a
    /// `Vec<u8>`); [`finish`](Self::finish) gives it back.
    pub fn new(inner: W, scenario: &Scenario, level: TraceLevel, learns: &'l [Learn]) -> io::Result<Self> {
        Self::tapped(inner, scenario, level, learns, None)
    }

    /// [`new`](Self::new), with `tap` called on every line as it is written,
    /// header and footer included.
    pub fn tapped(
        inner: W,
        scenario: &Scenario,
        level: TraceLevel,
        learns: &'l [Learn],
        tap: Option<LineTap<'l>>,
    ) -> io::Result<Self> {
        assert!(level != TraceLevel::None, "a trace at level none is not written");
        let mut w = TraceWriter {
            out: Pipe::new(inner)?,
            group: scenario.group(),
            elgamal: scenario.keygen() == crate::scenario::Keygen::Elgamal,
            level,
            lines: 0,
            learns,
            next_learn: 0,
            tap,
        };
        let header = TraceLine::Header(line::Header {
            format: TRACE_FORMAT.into(),
            scenario: scenario.name().to_string(),
            scenario_sha256: scenario.source_sha256().to_string(),
            seed: scenario.seed(),
            params: scenario.group().name.into(),
            members: scenario.members(),
            fraclab: env!("CARGO_PKG_VERSION").into(),
            init: scenario.init().as_str().into(),
            keygen: scenario.keygen().as_str().into(),
            epochs: scenario.epochs(),
            channel: scenario.channel().as_str().into(),
            trace: level.as_str().into(),
        });
        w.write_line(header)?;
        Ok(w)
    }

    /// Serialises one line and its newline, then hands the line to the tap.
    fn write_line(&mut self, l: TraceLine) -> io::Result<()> {
        self.out.append(|out| {
            l.write_json(out);
            out.push(b'\n');
        })?;
        if let Some(tap) = self.tap.as_mut() {
            tap(l);
        }
        Ok(())
    }

    /// Writes the footer and returns the inner writer and the SHA-256 (hex)
    /// of every byte written.
    pub fn finish(mut self) -> io::Result<(W, String)> {
        self.learns_before(u64::MAX)?;
        self.write_line(TraceLine::Footer(line::Footer { events: self.lines }))?;
        let (inner, hasher) = self.out.finish()?;
        Ok((inner, hex::encode(hasher.finalize())))
    }

    fn payload(&self, body: &Body) -> Payload {
        let g = self.group;
        match body {
            Body::Pad { alpha, theta } => {
                Payload::Pad(line::PadValue { alpha: g.scalar_hex(alpha), theta: g.scalar_hex(theta) })
            }
            Body::Delta(s) | Body::Theta(s) | Body::Hfk(s) | Body::Share(s) => Payload::Hex(g.scalar_hex(s)),
            Body::Confirm(tag) => Payload::Hex(tag.to_hex()),
            Body::FkPub(e) => Payload::Hex(g.element_hex(e)),
            Body::Commit(c) => match &**c {
                Commitment::Pads { alphas, theta } => Payload::SmCommit(line::SmCommitValue {
                    alphas: alphas.iter().map(|a| g.element_hex(a)).collect(),
                    theta: g.element_hex(theta),
                }),
                Commitment::Ring { v, delta, gamma } => Payload::RingCommit(line::RingCommitValue {
                    v: g.element_hex(v),
                    delta: g.element_hex(delta),
                    gamma: gamma.as_ref().map(|x| g.element_hex(x)),
                }),
            },
            Body::Recover(m) => Payload::Recover(line::RecoverValue {
                hfk: m.hfk.as_ref().map(|h| g.scalar_hex(h)),
                theta: g.scalar_hex(&m.theta),
                sk: m.sk.to_hex(),
            }),
            Body::HfkRelay(m) => Payload::Relay(line::RelayValue {
                owner: m.owner.0,
                hfk: g.scalar_hex(&m.hfk),
                fk_pub: m.fk_pub.as_ref().map(|p| g.element_hex(p)),
            }),
            Body::RecoveryDelta { delta: s, .. } | Body::Xi(s) | Body::HfkHat(s) => {
                Payload::Hex(g.scalar_hex(s))
            }
            Body::Ack { seq, .. } => Payload::Seq(*seq),
            Body::Joined => Payload::Null,
        }
    }
}

impl<W: Write + Send + 'static> TraceWriter<'_, W> {
    /// Writes every pending learn event that follows a record before `rec`.
    fn learns_before(&mut self, rec: u64) -> io::Result<()> {
        while self.next_learn < self.learns.len() && self.learns[self.next_learn].rec < rec {
            let i = self.next_learn;
            let l = &self.learns[i];
            let (name, index) = l.target.name_index_as(self.elgamal);
            let learn = TraceLine::Learn(line::Learn {
                t_us: l.t_us,
                seq: learn_seq(self.learns, i),
                view: View::from(&l.view),
                target: l.target.owner().map(|m| m.0),
                name: name.into(),
                index,
                value: self.group.scalar_hex(&l.value),
            });
            self.write_line(learn)?;
            self.lines += 1;
            self.next_learn += 1;
        }
        Ok(())
    }
}

impl<W: Write + Send + 'static> Recorder for TraceWriter<'_, W> {
    fn wants_messages(&self) -> bool {
        self.level == TraceLevel::Full
    }

    fn record(&mut self, sim_seq: u64, at: SimTime, rec: &Record<'_>) -> io::Result<()> {
        self.learns_before(sim_seq)?;
        let seq = sim_seq + self.next_learn as u64;
        let line = self.line(at.0, seq, rec);
        self.lines += 1;
        self.write_line(line)?;
        self.learns_before(sim_seq + 1)
    }
}

impl<W: Write + Send + 'static> TraceWriter<'_, W> {
    /// The trace line of one simulator record at time `t_us` and trace `seq`.
    fn line(&self, t_us: u64, seq: u64, rec: &Record<'_>) -> TraceLine {
        let g = self.group;
        match rec {
            Record::Secret { owner, name, index, value, .. } => TraceLine::Secret(line::Secret {
                t_us,
                seq,
                member: owner.0,
                name: name.as_str().into(),
                index: *index,
                value: g.scalar_hex(value),
            }),
            Record::Send { msg, env } => TraceLine::Send(line::Sent {
                t_us,
                seq,
                msg: *msg,
                from: env.from.trace_id(),
                to: env.to.trace_id(),
                mode: env.mode.as_str().into(),
                iter: env.iter,
                kind: env.body.kind().into(),
                value: self.payload(&env.body),
                sender_seq: env.seq,
                attempt: env.attempt,
            }),
            Record::Deliver { msg, to, duplicate } => TraceLine::Deliver(line::Deliver {
                t_us,
                seq,
                msg: *msg,
                to: to.trace_id(),
                duplicate: *duplicate,
            }),
            Record::Drop { msg, reason } => {
                TraceLine::Drop(line::Dropped { t_us, seq, msg: *msg, reason: reason.as_str().into() })
            }
            Record::Attack { msg, attack, of, env } => {
                attack_line(t_us, seq, *msg, attack.as_str(), *of, env)
            }
            Record::Reject { member, msg, reason } => TraceLine::Reject(line::Reject {
                t_us,
                seq,
                member: member.trace_id(),
                msg: *msg,
                reason: reason.as_str().into(),
            }),
            Record::Forgery { member, msg, attack } => TraceLine::Forgery(line::Forgery {
                t_us,
                seq,
                member: member.trace_id(),
                msg: *msg,
                attack: attack.as_str().into(),
            }),
            Record::Leak { leak, .. } => TraceLine::Leak(line::Leak {
                t_us,
                seq,
                member: leak.member.0,
                secret: leak.secret.as_str().into(),
                epoch: leak.epoch,
                to: match &leak.to {
                    crate::adversary::LeakTo::Group => LeakTo::Named(LeakAudience::Group),
                    crate::adversary::LeakTo::Outsider => LeakTo::Named(LeakAudience::Outsider),
                    crate::adversary::LeakTo::Members(ms) => {
                        LeakTo::Members(ms.iter().map(|m| m.0).collect())
                    }
                },
            }),
            Record::Crash { member } => TraceLine::Crash(line::Crash { t_us, seq, member: member.0 }),
            Record::Replace { member } => TraceLine::Replace(line::Replace { t_us, seq, member: member.0 }),
            Record::Detect { member, check, culprit, iter } => TraceLine::Detect(line::Detect {
                t_us,
                seq,
                member: member.0,
                check: check.as_str().into(),
                culprit: culprit.map(|c| c.trace_id()),
                iter: *iter,
            }),
            Record::Recovered { member, iter, ok } => {
                TraceLine::Recovered(line::Recovered { t_us, seq, member: member.0, iter: *iter, ok: *ok })
            }
            Record::Theta { member, epoch, value } => TraceLine::Theta(line::Theta {
                t_us,
                seq,
                member: member.0,
                epoch: *epoch,
                value: g.scalar_hex(value),
            }),
            Record::Key { member, epoch, sk } => {
                TraceLine::Key(line::Key { t_us, seq, member: member.0, epoch: *epoch, sk: sk.to_hex() })
            }
        }
    }
}

/// An `attack` line: what the message claims to be.
fn attack_line(
    t_us: u64,
    seq: u64,
    msg: u64,
    attack: &'static str,
    of: Option<u64>,
    env: &Envelope,
) -> TraceLine {
    TraceLine::Attack(line::Attack {
        t_us,
        seq,
        msg,
        attack: attack.into(),
        of,
        from: env.from.trace_id(),
        to: env.to.trace_id(),
        mode: env.mode.as_str().into(),
        iter: env.iter,
        kind: env.body.kind().into(),
    })
}

#[cfg(test)]
mod tests {
    use std::io::{self, Write};

    use super::TraceWriter;
    use crate::scenario::{self, TraceLevel};
    use crate::sim;

    /// Takes `left` bytes, then fails every write.
    struct Failing {
        left: usize,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.left == 0 {
                return Err(io::Error::other("disk full"));
            }
            let n = buf.len().min(self.left);
            self.left -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A writer that fails part-way surfaces its error from the run or from
    /// `finish`, whichever comes first, and nothing panics or hangs.
    #[test]
    fn a_failing_sink_is_an_error_not_a_panic() {
        let text = "name = \"t\"\nseed = 1\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = 40\nepochs = 3\ninit = \"sm\"\nkeygen = \"additive\"\n[output]\ntrace = \"full\"\n";
        let sc = scenario::parse(text, "t.toml").unwrap();
        for left in [0, 10, 100_000, (1 << 20) + 5] {
            let mut w = TraceWriter::new(Failing { left }, &sc, TraceLevel::Full, &[]).unwrap();
            let ran = sim::run(&sc.sim_config(), &mut w);
            let finished = w.finish();
            let err = match (ran, finished) {
                (Err(e), _) => e.to_string(),
                (Ok(_), Err(e)) => e.to_string(),
                (Ok(_), Ok(_)) => panic!("a sink that took {left} bytes wrote a whole trace"),
            };
            assert!(err.contains("disk full"), "{left}: {err}");
        }
    }

    /// A writer into a buffer the test keeps.
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A writer dropped without `finish` (a run that failed half-way) still
    /// writes what it held, like the `BufWriter` it replaced, and its
    /// thread has ended when the drop returns.
    #[test]
    fn a_writer_dropped_unfinished_flushes_what_it_held() {
        let text = "name = \"t\"\nseed = 1\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = 3\nepochs = 1\ninit = \"sm\"\nkeygen = \"additive\"\n[output]\ntrace = \"full\"\n";
        let sc = scenario::parse(text, "t.toml").unwrap();
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut w = TraceWriter::new(Shared(buf.clone()), &sc, TraceLevel::Full, &[]).unwrap();
        sim::run(&sc.sim_config(), &mut w).unwrap();
        drop(w);
        let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
        assert!(text.starts_with("{\"type\":\"header\""), "{text}");
        assert!(text.lines().count() > 20 && text.ends_with("}\n"), "{text}");
        assert!(!text.contains("\"type\":\"footer\""), "no footer without finish");
        assert_eq!(std::sync::Arc::strong_count(&buf), 1, "the writer thread has let go of its sink");
    }

    /// Every byte goes through in order, and the hash is theirs.
    #[test]
    fn the_hash_is_of_the_bytes_written() {
        use sha2::{Digest, Sha256};
        let text = "name = \"t\"\nseed = 3\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = 40\nepochs = 3\ninit = \"sm\"\nkeygen = \"additive\"\n[output]\ntrace = \"full\"\n";
        let sc = scenario::parse(text, "t.toml").unwrap();
        let mut w = TraceWriter::new(Vec::new(), &sc, TraceLevel::Full, &[]).unwrap();
        sim::run(&sc.sim_config(), &mut w).unwrap();
        let (bytes, sha) = w.finish().unwrap();
        assert!(bytes.len() > 2 * super::CHUNK, "the trace spans several chunks: {}", bytes.len());
        assert_eq!(sha, hex::encode(Sha256::digest(&bytes)));
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("{\"type\":\"header\"") && text.ends_with("}\n"));
        assert!(text.lines().last().unwrap().starts_with("{\"type\":\"footer\""));
    }
}
