//! `trace.jsonl`, format `fraclab-trace/1` (reference §5): a header line, one
//! line per record, a footer. Lines are formatted by hand (fixed key order,
//! values that never need escaping) into a buffered writer whose bytes are
//! hashed on their way to the file, so the summary's `trace_sha256` costs no
//! second pass.

use std::io::{self, BufWriter, Write};

use sha2::{Digest, Sha256};

use crate::group::GroupParams;
use crate::knowledge::Learn;
use crate::protocol::{Body, Commitment};
use crate::scenario::{Scenario, TraceLevel};
use crate::sim::{Record, Recorder, SimTime};

pub const TRACE_FORMAT: &str = "fraclab-trace/1";

/// A writer that hashes everything written through it.
pub struct HashingWriter<W> {
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
}

/// The trace `seq` of the i-th learn event (learns sorted by record): it
/// follows its record, and every record after it moves up by one.
pub fn learn_seq(learns: &[Learn], i: usize) -> u64 {
    learns[i].rec + i as u64 + 1
}

impl<'l, W: Write> TraceWriter<'l, W> {
    /// Starts a trace at `level` (`Full` or `Protocol`) and writes its header.
    pub fn new(inner: W, scenario: &Scenario, level: TraceLevel, learns: &'l [Learn]) -> io::Result<Self> {
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
        };
        use serde_json::Value;
        let fields: [(&str, Value); 13] = [
            ("type", "header".into()),
            ("format", TRACE_FORMAT.into()),
            ("scenario", scenario.name().to_string().into()),
            ("scenario_sha256", scenario.source_sha256().to_string().into()),
            ("seed", scenario.seed().into()),
            ("params", scenario.group().name.into()),
            ("members", scenario.members().into()),
            ("fraclab", env!("CARGO_PKG_VERSION").into()),
            ("init", scenario.init().as_str().into()),
            ("keygen", scenario.keygen().as_str().into()),
            ("epochs", scenario.epochs().into()),
            ("channel", scenario.channel().as_str().into()),
            ("trace", level.as_str().into()),
        ];
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        let line = format!("{{{}}}\n", body.join(","));
        w.out.write_all(line.as_bytes())?;
        Ok(w)
    }

    /// Writes the footer and returns the inner writer and the SHA-256 (hex)
    /// of every byte written.
    pub fn finish(mut self) -> io::Result<(W, String)> {
        self.learns_before(u64::MAX)?;
        writeln!(self.out, "{{\"type\":\"footer\",\"events\":{}}}", self.lines)?;
        let hashing = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok((hashing.inner, hex::encode(hashing.hasher.finalize())))
    }

    fn body_value(&self, body: &Body) -> String {
        let g = self.group;
        match body {
            Body::Pad { alpha, theta } => {
                format!("{{\"alpha\":\"{}\",\"theta\":\"{}\"}}", g.scalar_hex(alpha), g.scalar_hex(theta))
            }
            Body::Delta(s) | Body::Theta(s) | Body::Hfk(s) | Body::Share(s) => {
                format!("\"{}\"", g.scalar_hex(s))
            }
            Body::Confirm(tag) => format!("\"{}\"", tag.to_hex()),
            Body::FkPub(e) => format!("\"{}\"", g.element_hex(e)),
            Body::Commit(Commitment::Pads { alphas, theta }) => {
                let cs: Vec<String> = alphas.iter().map(|a| format!("\"{}\"", g.element_hex(a))).collect();
                format!("{{\"alphas\":[{}],\"theta\":\"{}\"}}", cs.join(","), g.element_hex(theta))
            }
            Body::Commit(Commitment::Ring { v, delta, gamma }) => format!(
                "{{\"v\":\"{}\",\"delta\":\"{}\",\"gamma\":{}}}",
                g.element_hex(v),
                g.element_hex(delta),
                gamma.as_ref().map_or("null".to_string(), |x| format!("\"{}\"", g.element_hex(x)))
            ),
            Body::Recover { hfk, theta, sk } => format!(
                "{{\"hfk\":{},\"theta\":\"{}\",\"sk\":\"{}\"}}",
                hfk.as_ref().map_or("null".to_string(), |h| format!("\"{}\"", g.scalar_hex(h))),
                g.scalar_hex(theta),
                sk.to_hex()
            ),
            Body::HfkRelay { owner, hfk, fk_pub, .. } => {
                let public = fk_pub
                    .as_ref()
                    .map_or(String::new(), |p| format!(",\"fk_pub\":\"{}\"", g.element_hex(p)));
                format!("{{\"owner\":{owner},\"hfk\":\"{}\"{public}}}", g.scalar_hex(hfk))
            }
            Body::RecoveryDelta { delta: s, .. } | Body::Xi(s) | Body::HfkHat(s) => {
                format!("\"{}\"", g.scalar_hex(s))
            }
            Body::Ack { seq, .. } => seq.to_string(),
            Body::Joined => "null".to_string(),
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
            let target = l.target.owner().map_or("null".to_string(), |m| m.0.to_string());
            let line = format!(
                "{{\"type\":\"learn\",\"t_us\":{},\"seq\":{},\"view\":{},\"target\":{target},\"name\":\"{name}\",\"index\":{index},\"value\":\"{}\"}}\n",
                l.t_us,
                learn_seq(self.learns, i),
                l.view.to_json(),
                self.group.scalar_hex(&l.value)
            );
            self.out.write_all(line.as_bytes())?;
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
        let g = self.group;
        let seq = sim_seq + self.next_learn as u64;
        let t = at.0;
        let head = |ty: &str| format!("{{\"type\":\"{ty}\",\"t_us\":{t},\"seq\":{seq}");
        let line = match rec {
            Record::Secret { owner, name, index, value, .. } => format!(
                "{},\"member\":{owner},\"name\":\"{}\",\"index\":{index},\"value\":\"{}\"}}",
                head("secret"),
                name.as_str(),
                g.scalar_hex(value)
            ),
            Record::Send { msg, env } => format!(
                "{},\"msg\":{msg},\"from\":{},\"to\":{},\"mode\":\"{}\",\"iter\":{},\"kind\":\"{}\",\"value\":{},\"sender_seq\":{},\"attempt\":{}}}",
                head("send"),
                env.from.trace_id(),
                env.to.trace_id(),
                env.mode.as_str(),
                env.iter,
                env.body.kind(),
                self.body_value(&env.body),
                env.seq,
                env.attempt
            ),
            Record::Deliver { msg, to, duplicate } => {
                let dup = if *duplicate { ",\"duplicate\":true" } else { "" };
                format!("{},\"msg\":{msg},\"to\":{}{dup}}}", head("deliver"), to.trace_id())
            }
            Record::Drop { msg, reason } => {
                format!("{},\"msg\":{msg},\"reason\":\"{reason}\"}}", head("drop"))
            }
            Record::Attack { msg, attack, of, env } => format!(
                "{},\"msg\":{msg},\"attack\":\"{}\",\"of\":{},\"from\":{},\"to\":{},\"mode\":\"{}\",\"iter\":{},\"kind\":\"{}\"}}",
                head("attack"),
                attack.as_str(),
                of.map_or("null".to_string(), |m| m.to_string()),
                env.from.trace_id(),
                env.to.trace_id(),
                env.mode.as_str(),
                env.iter,
                env.body.kind()
            ),
            Record::Reject { member, msg, reason } => format!(
                "{},\"member\":{},\"msg\":{msg},\"reason\":\"{reason}\"}}",
                head("reject"),
                member.trace_id()
            ),
            Record::Forgery { member, msg, attack } => format!(
                "{},\"member\":{},\"msg\":{msg},\"attack\":\"{}\"}}",
                head("forgery"),
                member.trace_id(),
                attack.as_str()
            ),
            Record::Leak { leak, .. } => format!(
                "{},\"member\":{},\"secret\":\"{}\",\"epoch\":{},\"to\":{}}}",
                head("leak"),
                leak.member,
                leak.secret.as_str(),
                leak.epoch,
                leak.to
            ),
            Record::Crash { member } => format!("{},\"member\":{member}}}", head("crash")),
            Record::Replace { member } => format!("{},\"member\":{member}}}", head("replace")),
            Record::Detect { member, check, culprit, iter } => format!(
                "{},\"member\":{member},\"check\":\"{check}\",\"culprit\":{},\"iter\":{iter}}}",
                head("detect"),
                culprit.map_or("null".to_string(), |c| c.trace_id().to_string())
            ),
            Record::Recovered { member, iter, ok } => {
                format!("{},\"member\":{member},\"iter\":{iter},\"ok\":{ok}}}", head("recovered"))
            }
            Record::Theta { member, epoch, value } => format!(
                "{},\"member\":{member},\"epoch\":{epoch},\"value\":\"{}\"}}",
                head("theta"),
                g.scalar_hex(value)
            ),
            Record::Key { member, epoch, sk } => {
                format!("{},\"member\":{member},\"epoch\":{epoch},\"sk\":\"{}\"}}", head("key"), sk.to_hex())
            }
        };
        self.lines += 1;
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.learns_before(sim_seq + 1)
    }
}
