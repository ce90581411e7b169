//! The values of the keys a scenario may leave out (README "Scenario
//! format", reference §4). The loader applies them, and a [`Builder`]
//! goes through the loader, so a file, inline TOML and code share them.
//! The `BUILDER_` values are where [`Scenario::builder`] starts for the keys
//! a file must set.
//!
//! [`Scenario::builder`]: super::Scenario::builder
//!
//! [`Builder`]: super::Builder

use super::{Channel, Keygen, Verify};
use crate::protocol::InitKind;
use crate::sim::network::Latency;

/// `seed`.
pub const SEED: u64 = 1;
/// `[protocol] rekey_interval_ms`.
pub const REKEY_INTERVAL_MS: u64 = 1_000;
/// `[protocol] round_timeout_ms`.
pub const ROUND_TIMEOUT_MS: u64 = 500;
/// `[protocol] verify`.
pub const VERIFY: Verify = Verify::None;
/// `[protocol] channel`.
pub const CHANNEL: Channel = Channel::Ideal;
/// `[network] latency_ms`: `{ dist = "fixed", value = 10 }`.
pub const LATENCY: Latency = Latency::Fixed { value_us: 10_000 };
/// `[network] loss`.
pub const LOSS: f64 = 0.0;
/// `[network] duplicate`.
pub const DUPLICATE: f64 = 0.0;
/// `[network] clock_skew_ms`, in µs.
pub const CLOCK_SKEW_US: i64 = 0;

/// The builder's `name`.
pub const BUILDER_NAME: &str = "scenario";
/// The builder's `[group] params`.
pub const BUILDER_PARAMS: &str = "toy-64";
/// The builder's `[protocol] members`.
pub const BUILDER_MEMBERS: u32 = 3;
/// The builder's `[protocol] init`.
pub const BUILDER_INIT: InitKind = InitKind::Ring;
/// The builder's `[protocol] keygen`.
pub const BUILDER_KEYGEN: Keygen = Keygen::Additive;
/// The builder's `[protocol] epochs`.
pub const BUILDER_EPOCHS: u64 = 1;
