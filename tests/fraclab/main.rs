//! fraclab's integration tests, one binary with a module per topic (as
//! ripgrep keeps them). Each test states the claim it checks.

mod analysis_golden;
mod attacks;
mod browser;
mod cli;
mod derivations;
mod determinism;
mod elgamal;
mod engine_oracle;
mod explore;
mod fuzz_readers;
mod fuzz_scenario;
mod fuzz_sim;
mod fuzz_trace;
mod group;
mod harness;
mod layering;
mod network;
mod plots;
mod protocol;
mod recovery;
mod reliability;
mod scale;
mod scenario_api;
mod scenario_errors;
mod schema;
mod sealed;
mod stepping;
mod sweep;
mod synthesis;
mod verification;
mod verify_trace;
mod xor;
