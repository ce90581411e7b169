//! `trace.jsonl`, format `fraclab-trace/1` (SPEC §5): a header line, one
//! line per record, a footer. Lines are formatted by hand (fixed key order,
//! values that never need escaping) into a buffered writer whose bytes are
//! hashed on their way to the file, so the summary's `trace_sha256` costs no
//! second pass.

use std::io::{self, BufWriter, Write};

use sha2::{Digest, Sha256};

use crate::group::GroupParams;
use crate::protocol::Body;
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

pub struct TraceWriter<W: Write> {
    out: BufWriter<HashingWriter<W>>,
    group: &'static GroupParams,
    level: TraceLevel,
    lines: u64,
}

impl<W: Write> TraceWriter<W> {
    /// Starts a trace at `level` (`Full` or `Protocol`) and writes its header.
    pub fn new(inner: W, scenario: &Scenario, level: TraceLevel) -> io::Result<Self> {
        assert!(level != TraceLevel::None, "a trace at level none is not written");
        let hashing = HashingWriter { inner, hasher: Sha256::new() };
        let mut w = TraceWriter {
            out: BufWriter::with_capacity(1 << 16, hashing),
            group: scenario.group,
            level,
            lines: 0,
        };
        use serde_json::Value;
        let fields: [(&str, Value); 13] = [
            ("type", "header".into()),
            ("format", TRACE_FORMAT.into()),
            ("scenario", scenario.name.clone().into()),
            ("scenario_sha256", scenario.source_sha256.clone().into()),
            ("seed", scenario.seed.into()),
            ("params", scenario.group.name.into()),
            ("members", scenario.members.into()),
            ("fraclab", env!("CARGO_PKG_VERSION").into()),
            ("init", super::init_name(scenario.init).into()),
            ("keygen", scenario.keygen.as_str().into()),
            ("epochs", scenario.epochs.into()),
            ("channel", scenario.channel.as_str().into()),
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
            Body::Delta(s) | Body::Theta(s) | Body::Hfk(s) => format!("\"{}\"", g.scalar_hex(s)),
            Body::Confirm(tag) => format!("\"{}\"", tag.to_hex()),
            Body::Ack { seq } => seq.to_string(),
        }
    }
}

impl<W: Write> Recorder for TraceWriter<W> {
    fn wants_messages(&self) -> bool {
        self.level == TraceLevel::Full
    }

    fn record(&mut self, seq: u64, at: SimTime, rec: &Record<'_>) -> io::Result<()> {
        let g = self.group;
        let t = at.0;
        let head = |ty: &str| format!("{{\"type\":\"{ty}\",\"t_us\":{t},\"seq\":{seq}");
        let line = match rec {
            Record::Secret { owner, name, index, value } => format!(
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
        self.out.write_all(b"\n")
    }
}
