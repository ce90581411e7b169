//! fraclab: a deterministic discrete-event simulator and attack lab for the
//! fractional-key distributed shared key generation scheme of WO 00/19652.
//!
//! The crate is layered so the architecture shows in the folders:
//! - [`adversary`]: leaks, coalitions, ring collusion, eavesdropping;
//! - [`group`]: parameter sets, `Scalar`/`Element` arithmetic, the KDF;
//! - [`protocol`]: the sans-IO members and security manager (processes
//!   300, 400, 500, key confirmation) over a reliable link;
//! - [`sim`]: virtual time, seeded streams, network, the run loop and the
//!   invariants checked after every epoch;
//! - [`scenario`]: TOML scenarios, validated with file:line:column errors;
//! - [`schema`]: the typed formats: trace lines, summary and findings, sweep
//!   manifest and rows;
//! - [`report`]: trace (JSONL), summary, `verify-trace`;
//! - [`lab`]: orchestration: one scenario with its passes, dlog, atlas,
//!   gallery and sweeps;
//! - [`cli`]: the `fraclab` command line.

pub mod adversary;
pub mod cli;
pub mod group;
pub mod knowledge;
pub mod lab;
pub mod protocol;
pub mod report;
pub mod scenario;
pub mod schema;
pub mod sim;
