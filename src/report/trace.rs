//! Writes `trace.jsonl`, format `fraclab-trace/1` (reference §5): a header
//! line, one line per record, a footer, each a [`TraceLine`] of the schema
//! serialised into a buffered writer whose bytes are hashed on their way to
//! the file, so the summary's `trace_sha256` costs no second pass.

use std::io::{self, BufWriter, Write};

use sha2::{Digest, Sha256};

use crate::group::GroupParams;
use crate::knowledge::Learn;
use crate::protocol::{Body, Commitment, Envelope};
use crate::scenario::{Scenario, TraceLevel};
use crate::schema::View;
pub use crate::schema::trace::TRACE_FORMAT;
use crate::schema::trace::{self as line, LeakAudience, LeakTo, Payload, TraceLine};
use crate::sim::{Record, Recorder, SimTime};

/// A writer that hashes everything written through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The `trace.jsonl` writer: a simulator [`Recorder`] that writes each
/// record as a fraclab-trace/1 line, with the knowledge analysis's learn
/// events interleaved after the records they follow. [`TraceWriter::finish`]
/// returns the SHA-256 the summary records as `trace_sha256`.
pub struct TraceWriter<'l, W: Write> {
    out: BufWriter<HashingWriter<W>>,
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

/// A callback that sees every trace line as it is written.
pub type LineTap<'a> = Box<dyn FnMut(&TraceLine) + 'a>;

/// The trace `seq` of the i-th learn event (learns sorted by record): it
/// follows its record, and every record after it moves up by one.
pub(crate) fn learn_seq(learns: &[Learn], i: usize) -> u64 {
    learns[i].rec + i as u64 + 1
}

impl<'l, W: Write> TraceWriter<'l, W> {
    /// Starts a trace at `level` (`Full` or `Protocol`) and writes its header.
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
        let hashing = HashingWriter { inner, hasher: Sha256::new() };
        let mut w = TraceWriter {
            out: BufWriter::with_capacity(1 << 16, hashing),
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
        w.write_line(&header)?;
        Ok(w)
    }

    /// Serialises one line and its newline.
    fn write_line(&mut self, l: &TraceLine) -> io::Result<()> {
        if let Some(tap) = self.tap.as_mut() {
            tap(l);
        }
        serde_json::to_writer(&mut self.out, l)?;
        self.out.write_all(b"\n")
    }

    /// Writes the footer and returns the inner writer and the SHA-256 (hex)
    /// of every byte written.
    pub fn finish(mut self) -> io::Result<(W, String)> {
        self.learns_before(u64::MAX)?;
        self.write_line(&TraceLine::Footer(line::Footer { events: self.lines }))?;
        let hashing = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok((hashing.inner, hex::encode(hashing.hasher.finalize())))
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

impl<W: Write> TraceWriter<'_, W> {
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
            self.write_line(&learn)?;
            self.lines += 1;
            self.next_learn += 1;
        }
        Ok(())
    }
}

impl<W: Write> Recorder for TraceWriter<'_, W> {
    fn wants_messages(&self) -> bool {
        self.level == TraceLevel::Full
    }

    fn record(&mut self, sim_seq: u64, at: SimTime, rec: &Record<'_>) -> io::Result<()> {
        self.learns_before(sim_seq)?;
        let seq = sim_seq + self.next_learn as u64;
        let line = self.line(at.0, seq, rec);
        self.lines += 1;
        self.write_line(&line)?;
        self.learns_before(sim_seq + 1)
    }
}

impl<W: Write> TraceWriter<'_, W> {
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
