//! Shared helpers: build scenarios from TOML text, run them while collecting
//! every record, and call the `fraclab` binary.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::process::{Command, Output};

use fraclab::group::{GroupParams, Scalar, SharedKey};
use fraclab::scenario::{self, Scenario};
use fraclab::sim::{self, Outcome, Record, Recorder, SimTime};

pub fn scenario(toml: &str) -> Scenario {
    scenario::parse(toml, "test.toml").unwrap_or_else(|e| panic!("test scenario does not load: {e}"))
}

/// A scenario with the given protocol and network lines.
pub fn make(params: &str, members: u32, init: &str, epochs: u64, network: &str, seed: u64) -> Scenario {
    scenario(&format!(
        "name = \"t\"\nseed = {seed}\n[group]\nparams = \"{params}\"\n[protocol]\nmembers = {members}\ninit = \"{init}\"\nkeygen = \"additive\"\nepochs = {epochs}\n[network]\n{network}\n"
    ))
}

/// Every secret, θ and key a run reported, keyed independently of the
/// simulator's own bookkeeping.
#[derive(Default)]
pub struct Collected {
    /// (name, owner, index) → value
    pub secrets: BTreeMap<(String, u32, u64), Scalar>,
    /// epoch → member → θ
    pub thetas: BTreeMap<u64, BTreeMap<u32, Scalar>>,
    /// epoch → member → SK
    pub keys: BTreeMap<u64, BTreeMap<u32, SharedKey>>,
    pub sends: u64,
    pub drops: u64,
    pub duplicates: u64,
    /// msg → the network attack that made or changed it.
    pub attacked: BTreeMap<u64, &'static str>,
    /// (receiver, msg, reason) of every message the channel refused.
    pub rejects: Vec<(u32, u64, &'static str)>,
    /// msgs of adversaries' messages that reached protocol state.
    pub forgeries: Vec<u64>,
    /// msgs delivered as network duplicates.
    pub duplicated: std::collections::BTreeSet<u64>,
}

impl Recorder for Collected {
    fn wants_messages(&self) -> bool {
        true
    }
    fn record(&mut self, _seq: u64, _at: SimTime, rec: &Record<'_>) -> io::Result<()> {
        match rec {
            Record::Secret { owner, name, index, value, .. } => {
                self.secrets.insert((name.as_str().to_string(), owner.0, *index), (*value).clone());
            }
            Record::Theta { member, epoch, value } => {
                self.thetas.entry(*epoch).or_default().insert(member.0, (*value).clone());
            }
            Record::Key { member, epoch, sk } => {
                self.keys.entry(*epoch).or_default().insert(member.0, **sk);
            }
            Record::Send { .. } => self.sends += 1,
            Record::Drop { .. } => self.drops += 1,
            Record::Deliver { msg, duplicate: true, .. } => {
                self.duplicates += 1;
                self.duplicated.insert(*msg);
            }
            Record::Attack { msg, attack, .. } => {
                self.attacked.insert(*msg, attack.as_str());
            }
            Record::Reject { member, msg, reason } => {
                self.rejects.push((member.trace_id(), *msg, reason.as_str()))
            }
            Record::Forgery { msg, .. } => self.forgeries.push(*msg),
            Record::Deliver { .. } | Record::Leak { .. } => {}
            Record::Crash { .. }
            | Record::Detect { .. }
            | Record::Replace { .. }
            | Record::Recovered { .. } => {}
        }
        Ok(())
    }
}

impl Collected {
    pub fn secret(&self, name: &str, owner: u32, index: u64) -> &Scalar {
        self.secrets
            .get(&(name.to_string(), owner, index))
            .unwrap_or_else(|| panic!("{name}[{owner},{index}] was never recorded"))
    }
}

pub fn run_collect(sc: &Scenario) -> (Outcome, Collected) {
    let mut c = Collected::default();
    let outcome = sim::run(&sc.sim_config(), &mut c).expect("the run completes");
    (outcome, c)
}

/// Checks, from the collected records alone, that every member holds the
/// same θ_e and SK_e, that I1 holds for every epoch and θ_{j+1} = Σ FK_{i,j}.
pub fn assert_protocol_invariants(g: &GroupParams, n: u32, epochs: u64, c: &Collected) {
    assert_eq!(c.thetas.len() as u64, epochs + 1, "epochs held");
    for (&e, row) in &c.thetas {
        assert_eq!(row.len(), n as usize, "every member holds θ_{e}");
        let theta = &row[&1];
        assert!(row.values().all(|t| t == theta), "members agree on θ_{e}");
        let keys = &c.keys[&e];
        assert_eq!(keys.len(), n as usize);
        assert!(keys.values().all(|k| k == &keys[&1]), "members agree on SK_{e}");
        let alphas: Vec<Scalar> = (1..=n).map(|i| c.secret("alpha", i, e).clone()).collect();
        assert_eq!(g.sum(&alphas), g.mul_i64(theta, i64::from(n) - 1), "I1 at epoch {e}");
        if e >= 2 {
            let fks: Vec<Scalar> = (1..=n).map(|i| c.secret("fk", i, e - 1).clone()).collect();
            assert_eq!(&g.sum(&fks), theta, "θ_{e} = Σ FK_(i,{})", e - 1);
        }
    }
}

pub fn fraclab(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fraclab"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the fraclab binary runs")
}

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The case count of a fuzz property: `ci` by default (CI's bounded
/// budget), or `FRACLAB_FUZZ_CASES` for a longer campaign.
pub fn fuzz_cases(ci: u32) -> u32 {
    match std::env::var("FRACLAB_FUZZ_CASES") {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("FRACLAB_FUZZ_CASES must be a number, not {v:?}")),
        Err(_) => ci,
    }
}

/// A proptest configuration with [`fuzz_cases`] cases and no failure
/// persistence files (a fresh clone stays clean); a failing case prints its
/// seed, and the regression becomes a named test.
pub fn fuzz_config(ci: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: fuzz_cases(ci),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

/// SplitMix64: a small, fixed, dependency-free generator for the tests that
/// draw scenarios from a seed, so that a case list never changes with a
/// crate's version.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in lo..=hi.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    /// Uniform in lo..=hi, unsigned.
    pub fn range_u64(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }

    /// A random subset of `xs` (each element with probability ½), in order.
    pub fn subset<T: Clone>(&mut self, xs: &[T]) -> Vec<T> {
        xs.iter().filter(|_| self.chance(50)).cloned().collect()
    }

    /// A random k-subset of 1..=n, sorted.
    pub fn sample(&mut self, n: u64, k: u64) -> Vec<u64> {
        let mut all: Vec<u64> = (1..=n).collect();
        for i in 0..all.len() {
            let j = i + self.next() as usize % (all.len() - i);
            all.swap(i, j);
        }
        let mut s: Vec<u64> = all.into_iter().take(k as usize).collect();
        s.sort();
        s
    }
}
