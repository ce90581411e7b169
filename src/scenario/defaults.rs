//! The values of the keys a scenario may leave out (README "Scenario
//! format", reference §4). The loader applies them, and a [`Builder`]
//! goes through the loader, so a file, inline TOML and code share them.
//!
//! [`Builder`]: super::Builder

use super::{Channel, Verify};
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
