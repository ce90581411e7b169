//! TOML scenarios (reference §4): the file types, validated into a [`Scenario`].
//!
//! Validation comes in small pieces. Each leaf with a range or a set of
//! allowed values is a newtype checked while deserialising (`try_from`),
//! `[[adversary]]` and `[[fault]]` tables are checked kind by kind, and the
//! rules between values (limits, one cheat per party, the analysis) are one
//! function per section. Every check returns a field error carrying the
//! dotted key and the TOML span of the offending value; the span alone
//! gives the line:column, so a user sees
//! `scenarios/x.toml:7:11: protocol.members: 5000 is out of range; allowed: 2..=4096`
//! and nothing is written.
//!
//! In code, a [`Builder`] and [`Scenario::set`] go through the same loader,
//! so they share its defaults ([`defaults`]), checks and messages; `--vary`
//! overrides through them too.

mod adversaries;
mod builder;
pub mod defaults;
mod dotted;
mod error;
mod faults;
mod raw;
mod tagged;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use builder::Builder;
pub use dotted::{DottedKey, value_from_str};
pub use error::{LoadError, did_you_mean, listed, quoted};
pub use raw::{Channel, Keygen, TraceLevel, Verify};

use crate::adversary::Adversaries;
use crate::group::GroupParams;
use crate::protocol::{InitKind, MemberId};
use crate::sim::fault::Faults;
use crate::sim::network::NetworkModel;

/// reference §9: events per run.
pub const MAX_EVENTS: u64 = 1_000_000_000;

/// Above this many members a scenario that does not choose a trace level
/// gets `protocol`, not `full`: a full trace grows as n² per epoch, and a
/// 1024-member run must not write gigabytes unless asked to.
pub const FULL_TRACE_MEMBERS_MAX: u32 = 64;

/// Above this many members the knowledge analysis is off unless a scenario
/// asks for it (`[output] analysis = true`): it analyses every member's view.
pub const ANALYSIS_MEMBERS_MAX: u32 = 64;

/// Expectations a scenario can assert (reference §4, `[expect]`); a `None`
/// is not asserted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    /// `summary.keys_agreed`: every epoch up to the last completed one
    /// produced one confirmed key.
    pub keys_agreed: Option<bool>,
    /// `summary.epochs_completed`: the iterations every member completed.
    pub epochs_completed: Option<u64>,
    /// The exact set of compromised members (needs the analysis).
    pub compromised: Option<Vec<MemberId>>,
    /// Whether the outsider learns a key: derives some θ_e, or is leaked an
    /// SK_e (needs the analysis).
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

/// A validated scenario. Its settings are read through getters named as
/// the fields of the file (`members()`, `epochs()`); they change only
/// through [`Scenario::set`] or a [`Builder`], which run the loader's checks
/// again, so a scenario in hand is always one the loader would accept.
///
/// ```
/// use fraclab::scenario::Scenario;
/// let mut sc = Scenario::builder().members(5).build()?;
/// assert_eq!(sc.members(), 5);
/// assert!(sc.set("protocol.members", 1).is_err(), "n = 1 is refused");
/// assert_eq!(sc.members(), 5, "and the scenario is unchanged");
/// # Ok::<(), fraclab::scenario::LoadError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Scenario {
    name: String,
    description: Option<String>,
    seed: u64,
    group: &'static GroupParams,
    members: u32,
    init: InitKind,
    keygen: Keygen,
    epochs: u64,
    rekey_interval_ms: u64,
    round_timeout_ms: u64,
    verify: Verify,
    channel: Channel,
    network: NetworkModel,
    clock_skew_us: i64,
    trace: TraceLevel,
    expect: Expect,
    adversaries: Adversaries,
    faults: Faults,
    analysis: bool,
    source_sha256: String,
    warnings: Vec<String>,
    /// The TOML the scenario was validated from: overrides edit a copy.
    doc: toml::Table,
    /// What errors name: the file, `<inline>` or `<builder>`.
    origin: String,
}

/// Two scenarios are equal when every setting, expectation and warning is:
/// where they came from (the origin, the source bytes' hash, how the TOML
/// was spelled) is not compared.
impl PartialEq for Scenario {
    fn eq(&self, o: &Scenario) -> bool {
        self.name == o.name
            && self.description == o.description
            && self.seed == o.seed
            && self.group.name == o.group.name
            && (self.members, self.init, self.keygen, self.epochs) == (o.members, o.init, o.keygen, o.epochs)
            && (self.rekey_interval_ms, self.round_timeout_ms) == (o.rekey_interval_ms, o.round_timeout_ms)
            && (self.verify, self.channel, self.network, self.clock_skew_us)
                == (o.verify, o.channel, o.network, o.clock_skew_us)
            && (self.trace, &self.expect, &self.adversaries, &self.faults)
                == (o.trace, &o.expect, &o.adversaries, &o.faults)
            && (self.analysis, &self.warnings) == (o.analysis, &o.warnings)
    }
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let (file, src) = read_text(path)?;
    parse(&src, &file)
}

/// Reads `src` as any `T` (serde, with `deny_unknown_fields`), with the
/// scenario loader's located errors (file, line:column, dotted key, what is
/// allowed): for TOML files beside scenarios, such as an explore space.
pub fn read_toml<T: serde::de::DeserializeOwned>(src: &str, file: &str) -> Result<T, LoadError> {
    let root = toml::de::DeTable::parse(src).map_err(|e| tagged::parse_error(src, e).located(src, file))?;
    let span = root.span();
    serde_path_to_error::deserialize(toml::Deserializer::from(root))
        .map_err(|e| tagged::serde_error(e, "", &[], span).located(src, file))
}

/// An error in `file` (whose text is `src`) at the byte span `span`, under
/// the dotted `key`, located as a scenario's own errors are:
/// `file:line:col: key: message`. `message` should end with what is allowed.
pub fn error_at(src: &str, file: &str, key: &str, span: std::ops::Range<usize>, message: &str) -> LoadError {
    error::FieldError::refused(key, span, message).located(src, file)
}

/// A file's text, with the loader's errors: unreadable, or not UTF-8
/// (located at the first bad byte). Returns (the file as errors name it,
/// its text).
pub fn read_text(path: &Path) -> Result<(String, String), LoadError> {
    let file = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| LoadError::Io { file: file.clone(), error: e.to_string() })?;
    let src = std::str::from_utf8(&bytes).map_err(|e| error::not_utf8(&bytes, e, &file))?.to_string();
    Ok((file, src))
}

/// Validates scenario text; `file` names it in errors. Keys left out get
/// the reference's defaults ([`defaults`]).
pub fn parse(src: &str, file: &str) -> Result<Scenario, LoadError> {
    let raw = raw::deserialize(src).map_err(|e| e.located(src, file))?;
    let source_sha256 = hex::encode(Sha256::digest(src.as_bytes()));
    let doc: toml::Table = toml::from_str(src).map_err(|e| tagged::parse_error(src, e).located(src, file))?;
    let mut sc = raw.validate(source_sha256).map_err(|e| e.located(src, file))?;
    sc.doc = doc;
    sc.origin = file.to_string();
    Ok(sc)
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
            verify: self.verify,
            epochs: self.epochs,
            rekey_interval_us: self.rekey_interval_ms as i64 * 1_000,
            network: self.network,
            clock_skew_us: self.clock_skew_us,
            max_events: MAX_EVENTS,
            adversaries: self.adversaries.clone(),
            round_timeout_us: self.round_timeout_ms as i64 * 1_000,
            faults: self.faults.clone(),
            channel: self.channel,
        }
    }
}

/// Getters, one per setting, named as the file's keys.
impl Scenario {
    /// `name`: it names the output folder.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// `description`, if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// `seed` (or `--seed`, through [`Scenario::set_seed`]).
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The parameter set `[group]` selects: `params`, or `xor-L` under
    /// `operator = "xor"`.
    pub fn group(&self) -> &'static GroupParams {
        self.group
    }
    /// `[protocol] members`: n.
    pub fn members(&self) -> u32 {
        self.members
    }
    /// `[protocol] init`.
    pub fn init(&self) -> InitKind {
        self.init
    }
    /// `[protocol] keygen`.
    pub fn keygen(&self) -> Keygen {
        self.keygen
    }
    /// `[protocol] epochs`: key-generation iterations after init.
    pub fn epochs(&self) -> u64 {
        self.epochs
    }
    /// `[protocol] rekey_interval_ms`.
    pub fn rekey_interval_ms(&self) -> u64 {
        self.rekey_interval_ms
    }
    /// `[protocol] round_timeout_ms`.
    pub fn round_timeout_ms(&self) -> u64 {
        self.round_timeout_ms
    }
    /// `[protocol] verify`.
    pub fn verify(&self) -> Verify {
        self.verify
    }
    /// `[protocol] channel`.
    pub fn channel(&self) -> Channel {
        self.channel
    }
    /// `[network]`: latency, loss and duplication.
    pub fn network(&self) -> &NetworkModel {
        &self.network
    }
    /// `[network] clock_skew_ms`, in µs.
    pub fn clock_skew_us(&self) -> i64 {
        self.clock_skew_us
    }
    /// `[output] trace`, or the default for the scenario's size.
    pub fn trace(&self) -> TraceLevel {
        self.trace
    }
    /// `[expect]`.
    pub fn expect(&self) -> &Expect {
        &self.expect
    }
    /// Plants a defect in the run ([`crate::adversary::PlantedBug`]), for
    /// the tests that check `fraclab explore` finds bugs. Nothing in a
    /// scenario file can do this.
    #[doc(hidden)]
    pub fn plant(&mut self, bug: Option<crate::adversary::PlantedBug>) {
        self.adversaries.planted = bug;
    }

    /// The `[[adversary]]` tables, checked.
    pub fn adversaries(&self) -> &Adversaries {
        &self.adversaries
    }
    /// The `[[fault]]` tables, checked.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }
    /// Whether the knowledge engine analyses the run.
    pub fn analysis(&self) -> bool {
        self.analysis
    }
    /// SHA-256 of the scenario's source bytes, for the trace header (for a
    /// built or overridden scenario, of the TOML it was validated from).
    pub fn source_sha256(&self) -> &str {
        &self.source_sha256
    }
    /// Things the user should know that do not stop the run.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// What errors name: the file, `<inline>` or `<builder>`.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// The body of a `[group]` table that selects `group`: `params = "…"`, or
/// `operator = "xor"` and `bits = L` for an `xor-L` set. Code that writes
/// scenarios uses it, so that both operators round-trip.
///
/// ```
/// use fraclab::scenario::group_keys;
/// assert_eq!(group_keys(fraclab::group::by_name("toy-64").unwrap()), "params = \"toy-64\"\n");
/// assert_eq!(group_keys(fraclab::group::xor(16).unwrap()), "operator = \"xor\"\nbits = 16\n");
/// ```
pub fn group_keys(group: &GroupParams) -> String {
    if group.is_xor() {
        format!("operator = \"xor\"\nbits = {}\n", group.scalar_bits())
    } else {
        format!("params = \"{}\"\n", group.name)
    }
}
