//! TOML scenarios (reference §4): the file types, validated into a [`Scenario`].
//!
//! Validation happens while deserialising (newtypes with `try_from`), so
//! every error carries the span toml attaches to the offending value and the
//! dotted key `serde_path_to_error` tracked: a user sees
//! `scenarios/x.toml:7:11: protocol.members: 5000 is out of range; allowed: 2..=4096`
//! and nothing is written.

mod adversaries;
mod error;
mod faults;
mod raw;
mod tagged;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use error::LoadError;
pub use raw::{Channel, Keygen, TraceLevel, Verify};

use crate::adversary::Adversaries;
use crate::group::GroupParams;
use crate::protocol::{InitKind, MemberId};
use crate::sim::fault::Faults;
use crate::sim::network::NetworkModel;
use raw::Channel as ChannelName;

/// reference §9: events per run.
pub const MAX_EVENTS: u64 = 1_000_000_000;

/// Above this many members a scenario that does not choose a trace level
/// gets `protocol`, not `full`: a full trace grows as n² per epoch, and a
/// 1024-member run must not write gigabytes unless asked to.
pub const FULL_TRACE_MEMBERS_MAX: u32 = 64;

/// Above this many members the knowledge analysis is off unless a scenario
/// asks for it (`[output] analysis = true`): it analyses every member's view.
pub const ANALYSIS_MEMBERS_MAX: u32 = 64;

/// Expectations a scenario can assert (reference §4, `[expect]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    pub keys_agreed: Option<bool>,
    pub epochs_completed: Option<u64>,
    /// The exact set of compromised members.
    pub compromised: Option<Vec<MemberId>>,
    pub outsider_learns_key: Option<bool>,
    /// The exact set of indices recovered by process 700.
    pub recovered: Option<Vec<MemberId>>,
    /// The exact set of culprits verification names (0 is the SM).
    pub detected: Option<Vec<u32>>,
    /// How many adversaries' messages reached protocol state.
    pub accepted_forgeries: Option<u64>,
    /// The exact set of reasons the channel refused messages for, sorted.
    pub rejected: Option<Vec<String>>,
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub seed: u64,
    pub group: &'static GroupParams,
    pub members: u32,
    pub init: InitKind,
    pub keygen: Keygen,
    pub epochs: u64,
    pub rekey_interval_ms: u64,
    pub round_timeout_ms: u64,
    pub verify: Verify,
    pub channel: Channel,
    pub network: NetworkModel,
    pub clock_skew_us: i64,
    pub trace: TraceLevel,
    pub expect: Expect,
    pub adversaries: Adversaries,
    pub faults: Faults,
    /// Whether the knowledge engine analyses the run.
    pub analysis: bool,
    /// SHA-256 of the scenario file's bytes, for the trace header.
    pub source_sha256: String,
    /// Things the user should know that do not stop the run.
    pub warnings: Vec<String>,
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let file = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| LoadError::Io { file: file.clone(), error: e.to_string() })?;
    let src = std::str::from_utf8(&bytes).map_err(|e| error::not_utf8(&bytes, e, &file))?;
    parse(src, &file)
}

/// Validates scenario text; `file` names it in errors.
pub fn parse(src: &str, file: &str) -> Result<Scenario, LoadError> {
    let raw = raw::deserialize(src).map_err(|e| e.located(src, file))?;
    let source_sha256 = hex::encode(Sha256::digest(src.as_bytes()));
    raw.validate(source_sha256).map_err(|e| e.located(src, file))
}

impl Scenario {
    /// The simulator configuration this scenario describes.
    pub fn sim_config(&self) -> crate::sim::Config {
        crate::sim::Config {
            seed: self.seed,
            group: self.group,
            members: self.members,
            init: self.init,
            keygen: match self.keygen {
                Keygen::Additive => crate::protocol::KeygenKind::Additive,
                Keygen::Elgamal => crate::protocol::KeygenKind::Elgamal,
            },
            verify: self.verify == Verify::Commitments,
            epochs: self.epochs,
            rekey_interval_us: self.rekey_interval_ms as i64 * 1_000,
            network: self.network,
            clock_skew_us: self.clock_skew_us,
            max_events: MAX_EVENTS,
            adversaries: self.adversaries.clone(),
            round_timeout_us: self.round_timeout_ms as i64 * 1_000,
            faults: self.faults.clone(),
            sealed: self.channel == ChannelName::Sealed,
        }
    }
}
