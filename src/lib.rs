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
//! use fraclab::{Options, Scenario};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The n = 3 attack: one leaked pad exposes everyone.
//! let mut scenario = fraclab::scenario::load("scenarios/fractional-attack-n3.toml".as_ref())?;
//! let outcome = fraclab::run(&scenario, &Options::default())?;
//! assert_eq!(outcome.summary.compromised, Some(vec![1, 2, 3]));
//!
//! // The same leak in a group of four exposes only the leaker.
//! scenario.set("protocol.members", 4)?; // validated exactly like the file
//! let outcome = fraclab::run(&scenario, &Options::default())?;
//! assert_eq!(outcome.summary.compromised, Some(vec![1]));
//!
//! // Out of range: the loader's own error.
//! let refused = scenario.set("protocol.members", 1).unwrap_err();
//! assert!(refused.to_string().ends_with("protocol.members: 1 is out of range; allowed: 2..=4096"));
//!
//! // A scenario from the reference's defaults.
//! let five = Scenario::builder().members(5).epochs(3).build()?;
//! assert!(fraclab::run(&five, &Options::default())?.summary.passed());
//! # Ok(())
//! # }
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

#![warn(missing_docs)]

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
