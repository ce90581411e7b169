//! fraclab: a deterministic discrete-event simulator and attack lab for the
//! fractional-key distributed shared key generation scheme of WO 00/19652.
//!
//! It simulates n group members, their network, crashes, rogue and
//! colluding members; runs the whole protocol (initialisation by a security
//! manager or a ring, additive and ElGamal key generation, recovery of a
//! failed member, verification); and decides by linear algebra which
//! secrets each member, coalition or outsider can derive. One seed gives
//! byte-identical traces and summaries.
//!
//! # Use it from Rust
//!
//! ```
//! let text = std::fs::read_to_string("scenarios/fractional-attack-n3.toml").unwrap();
//! let scenario = fraclab::scenario::parse(&text, "fractional-attack-n3.toml").unwrap();
//! let outcome = fraclab::run(&scenario, &fraclab::Options::default()).unwrap();
//! assert_eq!(outcome.summary.compromised, Some(vec![1, 2, 3]));
//! ```
//!
//! # Layers
//!
//! Every module imports only the layers below it (a test checks the
//! `use crate::` lines):
//!
//! | layer | module | what it holds |
//! |---|---|---|
//! | 8 | [`cli`] | the `fraclab` command line (feature `cli`) |
//! | 7 | [`lab`] | orchestration: one run with its passes, atlas, sweeps, gallery |
//! | 6 | [`report`] | pure writers and readers: trace, summary, `verify-trace`, plots |
//! | 5 | [`schema`] | the typed formats: trace lines, summary and findings, sweep manifest and rows |
//! | 4 | [`knowledge`], [`scenario`] | the derivability engine; TOML → validated [`Scenario`] |
//! | 3 | [`sim`] | virtual time, seeded streams, network, faults, the run loop |
//! | 2 | [`adversary`] | declarative adversaries and their conduct |
//! | 1 | [`protocol`] | the sans-IO members and security manager |
//! | 0 | [`group`] | parameter sets, `Scalar`/`Element` arithmetic, the KDF |

pub mod adversary;
#[cfg(feature = "cli")]
pub mod cli;
pub mod group;
pub mod knowledge;
pub mod lab;
pub mod protocol;
pub mod report;
pub mod scenario;
pub mod schema;
pub mod sim;

pub use lab::{Options, Outcome, RunError, run};
pub use scenario::Scenario;
pub use schema::Summary;
