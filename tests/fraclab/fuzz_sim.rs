//! Fuzzing the simulator (issue 12): random valid scenarios with every fault
//! and adversary kind, run end to end (simulation, knowledge analysis,
//! dlog, trace and summary). The properties:
//! - a run never panics, and ends with a result or a named error;
//! - a run with no adversary that changes messages keeps its invariants
//!   (I1, θ = ΣFK, recovered values) and every derived value equals the
//!   ground truth;
//! - the same scenario gives the same summary twice.
//!
//! CI runs a bounded number of cases; `FRACLAB_FUZZ_CASES=5000 cargo test
//! --release fuzz_sim` runs a campaign. A failing case prints the scenario
//! TOML, which `fraclab run` replays.

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use fraclab::lab::{self, RunError};
use fraclab::scenario::{self, TraceLevel};
use fraclab::sim::SimError;
use proptest::prelude::*;

use crate::harness::fuzz_config;

#[derive(Clone, Debug)]
enum Fault {
    Crash { member: u32, at: CrashAt, replace: bool },
    Partition { cut: u32, from_ms: u64, until_ms: Option<u64> },
}

#[derive(Clone, Debug)]
enum CrashAt {
    Point { epoch: u64, after_send: bool },
    Ms(u64),
}

#[derive(Clone, Debug)]
enum Adversary {
    Leak { member: u32, secret: &'static str, epoch: u64, to: &'static str },
    Coalition { a: u32, b: u32 },
    RingCollusion { target: u32 },
    Eavesdropper { modes: &'static str },
    Withhold { member: u32 },
    Cheat { member: u32, keygen: Option<u64> },
    SmCheat { member: u32 },
    Dlog { view: Option<u32> },
    Wire { kind: &'static str, probability: f64, modes: &'static str },
}

impl Adversary {
    /// Whether it changes what honest members receive or send, so that the
    /// protocol's own invariants may break.
    fn corrupts(&self) -> bool {
        matches!(self, Adversary::Cheat { .. } | Adversary::SmCheat { .. } | Adversary::Wire { .. })
    }
}

#[derive(Clone, Debug)]
struct Draw {
    seed: u64,
    params: &'static str,
    members: u32,
    init: &'static str,
    keygen: &'static str,
    epochs: u64,
    verify: bool,
    channel: &'static str,
    round_timeout_ms: u64,
    latency: &'static str,
    loss: f64,
    duplicate: f64,
    skew_ms: u64,
    faults: Vec<Fault>,
    adversaries: Vec<Adversary>,
}

fn modes() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["[\"I\"]", "[\"G\"]", "[\"R\"]", "[\"G\", \"R\"]", "[\"I\", \"G\", \"R\"]"])
}

fn adversary(n: u32, epochs: u64) -> impl Strategy<Value = Adversary> {
    let m = 1..=n;
    prop_oneof![
        (
            m.clone(),
            prop::sample::select(vec!["alpha", "fk", "theta", "sk"]),
            1..=epochs,
            prop::sample::select(vec!["group", "outsider"])
        )
            .prop_map(|(member, secret, epoch, to)| Adversary::Leak { member, secret, epoch, to }),
        (m.clone(), m.clone()).prop_map(|(a, b)| Adversary::Coalition { a, b }),
        m.clone().prop_map(|target| Adversary::RingCollusion { target }),
        modes().prop_map(|modes| Adversary::Eavesdropper { modes }),
        m.clone().prop_map(|member| Adversary::Withhold { member }),
        (m.clone(), prop::option::of(1..=epochs))
            .prop_map(|(member, keygen)| Adversary::Cheat { member, keygen }),
        m.clone().prop_map(|member| Adversary::SmCheat { member }),
        prop::option::of(m).prop_map(|view| Adversary::Dlog { view }),
        (prop::sample::select(vec!["tamper", "replay", "forge"]), 0.0..0.6f64, modes())
            .prop_map(|(kind, probability, modes)| Adversary::Wire { kind, probability, modes }),
    ]
}

fn fault(n: u32, epochs: u64) -> impl Strategy<Value = Fault> {
    let at = prop_oneof![
        (1..=epochs, any::<bool>()).prop_map(|(epoch, after_send)| CrashAt::Point { epoch, after_send }),
        (0..6_000u64).prop_map(CrashAt::Ms),
    ];
    prop_oneof![
        3 => (1..=n, at, any::<bool>()).prop_map(|(member, at, replace)| Fault::Crash { member, at, replace }),
        1 => (1..n, 0..4_000u64, prop::option::of(1..3_000u64))
            .prop_map(|(cut, from_ms, len)| Fault::Partition { cut, from_ms, until_ms: len.map(|l| from_ms + l) }),
    ]
}

fn draw() -> impl Strategy<Value = Draw> {
    (2..=6u32, 1..=3u64).prop_flat_map(|(members, epochs)| {
        // (the draw is bent by `fit` below)
        let protocol = (
            any::<u64>(),
            prop::sample::select(vec!["toy-16", "toy-64"]),
            prop::sample::select(vec!["sm", "ring", "ring-hardened"]),
            prop::sample::select(vec!["additive", "elgamal"]),
            any::<bool>(),
            prop::sample::select(vec!["plain", "ideal", "sealed"]),
            prop::sample::select(vec![50u64, 200, 500, 2_000]),
        );
        let network = (
            prop::sample::select(vec![
                "{ dist = \"fixed\", value = 10 }",
                "{ dist = \"uniform\", min = 5, max = 40 }",
                "{ dist = \"exponential\", min = 2, mean = 10 }",
            ]),
            prop::sample::select(vec![0.0, 0.0, 0.1, 0.4]),
            prop::sample::select(vec![0.0, 0.0, 0.2]),
            prop::sample::select(vec![0u64, 0, 30, 3_000]),
        );
        let faults = prop::collection::vec(fault(members, epochs), 0..=2);
        let adversaries = prop::collection::vec(adversary(members, epochs), 0..=3);
        (protocol, network, faults, adversaries).prop_map(
            move |(
                (seed, params, init, keygen, verify, channel, round_timeout_ms),
                (latency, loss, duplicate, skew_ms),
                faults,
                adversaries,
            )| Draw {
                seed,
                params,
                members,
                init,
                keygen,
                epochs,
                verify,
                channel,
                round_timeout_ms,
                latency,
                loss,
                duplicate,
                skew_ms,
                faults,
                adversaries,
            },
        )
    })
}

/// Bends a draw towards scenarios the loader takes (most combinations it
/// refuses are refused by design; a few stay, and must be refused with a
/// located error).
fn fit(mut d: Draw) -> Draw {
    let n = d.members;
    d.verify &= d.init != "ring-hardened";
    let mut sm_cheats = 0;
    for a in &mut d.adversaries {
        let fallback = Adversary::Leak { member: 1, secret: "alpha", epoch: 1, to: "group" };
        match a {
            Adversary::SmCheat { .. } if d.init != "sm" || sm_cheats > 0 => *a = fallback,
            Adversary::SmCheat { .. } => sm_cheats += 1,
            Adversary::RingCollusion { .. } if d.init == "sm" || n < 3 => *a = fallback,
            Adversary::Coalition { .. } if n < 3 => *a = fallback,
            Adversary::Coalition { a, b } if a == b => *b = *a % n + 1,
            Adversary::Cheat { keygen, .. } if keygen.is_none() && d.init != "ring" => *keygen = Some(1),
            _ => {}
        }
    }
    d
}

/// The scenario file for a draw. Combinations the loader refuses (a
/// ring collusion on SM initialisation, say) are kept: they must be refused
/// with a located error, which is a property too.
fn toml(d: &Draw) -> String {
    let mut s = format!(
        "name = \"fuzz\"\nseed = {}\n[group]\nparams = \"{}\"\n[protocol]\nmembers = {}\ninit = \"{}\"\n\
         keygen = \"{}\"\nepochs = {}\nverify = \"{}\"\nchannel = \"{}\"\nround_timeout_ms = {}\n\
         [network]\nlatency_ms = {}\nloss = {}\nduplicate = {}\nclock_skew_ms = {}\n",
        d.seed,
        d.params,
        d.members,
        d.init,
        d.keygen,
        d.epochs,
        if d.verify { "commitments" } else { "none" },
        d.channel,
        d.round_timeout_ms,
        d.latency,
        d.loss,
        d.duplicate,
        d.skew_ms,
    );
    for f in &d.faults {
        match f {
            Fault::Crash { member, at, replace } => {
                let at = match at {
                    CrashAt::Point { epoch, after_send } => format!(
                        "at = {{ epoch = {epoch}, when = \"{}\" }}",
                        if *after_send { "after-send" } else { "before-send" }
                    ),
                    CrashAt::Ms(ms) => format!("at_ms = {ms}"),
                };
                let _ =
                    writeln!(s, "[[fault]]\nkind = \"crash\"\nmember = {member}\n{at}\nreplace = {replace}");
            }
            Fault::Partition { cut, from_ms, until_ms } => {
                let left: Vec<String> = (1..=*cut).map(|i| i.to_string()).collect();
                let right: Vec<String> = (cut + 1..=d.members).map(|i| i.to_string()).collect();
                let until = until_ms.map(|u| format!("until_ms = {u}\n")).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "[[fault]]\nkind = \"partition\"\ngroups = [[{}], [{}]]\nfrom_ms = {from_ms}\n{until}",
                    left.join(", "),
                    right.join(", ")
                );
            }
        }
    }
    for a in &d.adversaries {
        let body = match a {
            Adversary::Leak { member, secret, epoch, to } => {
                format!(
                    "kind = \"leak\"\nmember = {member}\nsecret = \"{secret}\"\nepoch = {epoch}\nto = \"{to}\""
                )
            }
            Adversary::Coalition { a, b } => format!("kind = \"coalition\"\nmembers = [{a}, {b}]"),
            Adversary::RingCollusion { target } => format!("kind = \"ring-collusion\"\ntarget = {target}"),
            Adversary::Eavesdropper { modes } => format!("kind = \"eavesdropper\"\nmodes = {modes}"),
            Adversary::Withhold { member } => {
                format!("kind = \"withhold\"\nmember = {member}\nphase = \"recovery\"")
            }
            Adversary::Cheat { member, keygen: Some(j) } => {
                format!("kind = \"cheat\"\nmember = {member}\nphase = \"keygen\"\nepoch = {j}")
            }
            Adversary::Cheat { member, keygen: None } => {
                format!("kind = \"cheat\"\nmember = {member}\nphase = \"init\"")
            }
            Adversary::SmCheat { member } => format!("kind = \"sm-cheat\"\nmember = {member}"),
            Adversary::Dlog { view } => format!(
                "kind = \"dlog\"\nview = {}\nbudget = 20000",
                view.map_or("\"outsider\"".to_string(), |v| v.to_string())
            ),
            Adversary::Wire { kind, probability, modes } => {
                format!("kind = \"{kind}\"\nprobability = {probability}\nmodes = {modes}")
            }
        };
        let _ = writeln!(s, "[[adversary]]\n{body}");
    }
    s
}

/// Runs one drawn scenario through the whole pipeline, in memory.
fn check(d: &Draw) -> Result<(), TestCaseError> {
    let text = toml(d);
    let sc = match scenario::parse(&text, "fuzz.toml") {
        Ok(sc) => sc,
        Err(e) => {
            let msg = e.to_string();
            if std::env::var_os("FRACLAB_FUZZ_VERBOSE").is_some() {
                eprintln!("refused: {msg}");
            }
            prop_assert!(msg.starts_with("fuzz.toml:"), "an unlocated load error: {msg}\n{text}");
            return Ok(());
        }
    };
    let run = || lab::execute(&sc, TraceLevel::Full, None);
    let first = catch_unwind(AssertUnwindSafe(run));
    let first = match first {
        Ok(r) => r,
        Err(_) => return Err(TestCaseError::fail(format!("the run panicked:\n{text}"))),
    };
    let report = match first {
        Ok(report) => report,
        Err(RunError::Sim(SimError::EventLimit { .. })) => return Ok(()),
        Err(e) => return Err(TestCaseError::fail(format!("the run failed: {e}\n{text}"))),
    };
    if let Some(analysis) = &report.analysis {
        prop_assert!(
            analysis.errors.is_empty(),
            "derived values differ from the truth: {:?}\n{text}",
            analysis.errors
        );
    }
    if !d.adversaries.iter().any(Adversary::corrupts) {
        let broken: Vec<_> = report
            .sim
            .verdict
            .findings
            .iter()
            .filter(|f| matches!(f, fraclab::sim::Finding::Invariant { .. }))
            .collect();
        prop_assert!(broken.is_empty(), "an honest run broke an invariant: {broken:?}\n{text}");
        prop_assert_eq!(report.sim.accepted_forgeries, 0);
    }
    let again = lab::execute(&sc, TraceLevel::Full, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(
        serde_json::to_string(&report.summary).unwrap(),
        serde_json::to_string(&again.summary).unwrap(),
        "the same scenario gave two summaries:\n{}",
        text
    );
    Ok(())
}

proptest! {
    #![proptest_config(fuzz_config(48))]

    #[test]
    fn random_scenarios_never_panic_and_honest_ones_keep_their_invariants(d in draw()) {
        check(&fit(d))?;
    }
}
