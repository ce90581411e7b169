//! Process 600, ElGamal key generation (reference §1): the group public key
//! holds every epoch, keys agree, and the attacks land exactly as with
//! additive key generation.

use std::collections::BTreeMap;
use std::fs;
use std::io;

use fraclab::group::{Element, Scalar};
use fraclab::lab::{analyse, execute};
use fraclab::protocol::{Body, Party};
use fraclab::scenario::{self, TraceLevel};
use fraclab::sim::{self, Record, Recorder, SimTime};

use crate::harness::repo_root;

/// The public FKs and θs a run sent and held.
#[derive(Default)]
struct Public {
    /// iteration → sender → FK_{i,j} (every copy must agree).
    fk_pubs: BTreeMap<u64, BTreeMap<u32, Element>>,
    /// epoch → θ (as member 1 holds it).
    thetas: BTreeMap<u64, Scalar>,
    /// (owner, iteration) → x.
    xs: BTreeMap<(u32, u64), Scalar>,
}

impl Recorder for Public {
    fn wants_messages(&self) -> bool {
        true
    }
    fn record(&mut self, _: u64, _: SimTime, rec: &Record<'_>) -> io::Result<()> {
        match rec {
            Record::Send { env, .. } => {
                if let (Body::FkPub(e), Party::Member(from)) = (&env.body, env.from) {
                    let old = self.fk_pubs.entry(env.iter).or_default().insert(from.0, e.clone());
                    assert!(
                        old.is_none_or(|o| &o == e),
                        "member {from} published two FKs in iteration {}",
                        env.iter
                    );
                }
            }
            Record::Theta { member, epoch, value } if member.0 == 1 => {
                self.thetas.insert(*epoch, (*value).clone());
            }
            Record::Secret { owner, name, index, value, .. } if name.as_str() == "x" => {
                self.xs.insert((owner.0, *index), (*value).clone());
            }
            _ => {}
        }
        Ok(())
    }
}

fn scenario(n: u32, init: &str, epochs: u64, extra: &str, seed: u64) -> scenario::Scenario {
    let toml = format!(
        "name = \"eg\"\nseed = {seed}\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = {n}\ninit = \"{init}\"\nkeygen = \"elgamal\"\nepochs = {epochs}\n[network]\nlatency_ms = {{ dist = \"uniform\", min = 2, max = 30 }}\n{extra}"
    );
    scenario::parse(&toml, "eg.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// For n = 3..=8 and every init: g^{θ_{j+1}} = Π_i FK_{i,j} in every
/// iteration, each published FK is g^x of the member's private exponent,
/// no member reports a mismatch, and the keys agree.
#[test]
fn group_public_key_holds_every_epoch() {
    for n in 3..=8 {
        for init in ["sm", "ring", "ring-hardened"] {
            let sc = scenario(n, init, 3, "", u64::from(n));
            let g = sc.group();
            let mut p = Public::default();
            let out = sim::run(&sc.sim_config(), &mut p).unwrap();
            assert!(out.verdict.keys_agreed && out.verdict.epochs_completed == 3, "n = {n}, {init}");
            assert!(out.verdict.detections.is_empty(), "n = {n}, {init}: {:?}", out.verdict.detections);
            for j in 1..=3u64 {
                let pubs = &p.fk_pubs[&j];
                assert_eq!(pubs.len(), n as usize, "every member publishes FK_(i,{j})");
                for (&i, e) in pubs {
                    assert_eq!(e, &g.pow_g(&p.xs[&(i, j)]), "FK_({i},{j}) = g^x");
                }
                assert_eq!(
                    g.pow_g(&p.thetas[&(j + 1)]),
                    g.product(pubs.values()),
                    "n = {n}, {init}, j = {j}"
                );
            }
        }
    }
}

/// The bundled attack scenarios give the same compromised set and outsider
/// verdict with keygen = "elgamal" as with "additive": x is as linear as FK,
/// and g^x adds nothing a linear view can use.
#[test]
fn attacks_land_as_with_additive_keygen() {
    for name in [
        "fractional-attack-n3",
        "fractional-attack-n4",
        "ring-collusion",
        "ring-collusion-initiator",
        "ring-hardened-collusion",
        "outsider-plain",
        "outsider-all-hfk",
    ] {
        let text = fs::read_to_string(repo_root().join(format!("scenarios/{name}.toml"))).unwrap();
        assert!(text.contains("keygen = \"additive\""), "{name}");
        let additive = scenario::parse(&text, name).unwrap();
        let elgamal =
            scenario::parse(&text.replace("keygen = \"additive\"", "keygen = \"elgamal\""), name).unwrap();
        let (_, _, a) = analyse(&additive).unwrap();
        let (_, _, e) = analyse(&elgamal).unwrap();
        assert!(e.errors.is_empty(), "{name}: {:?}", e.errors);
        assert_eq!(a.compromised, e.compromised, "{name}");
        assert_eq!(a.outsider_learns_key, e.outsider_learns_key, "{name}");
        assert!(!e.learns.is_empty() || a.learns.is_empty(), "{name}");
        let report = execute(&elgamal, TraceLevel::None, None).unwrap();
        assert!(report.summary.passed(), "{name}: {:?}", report.summary.problems());
    }
}

/// Under ElGamal the trace names the private exponent x (secret and learn
/// events), publishes `fk_pub` messages, and verify-trace checks each.
#[test]
fn the_trace_names_x_and_verify_trace_checks_fk_pub() {
    let tmp = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(repo_root().join("scenarios/fractional-attack-n3.toml")).unwrap();
    fs::write(tmp.path().join("s.toml"), text.replace("keygen = \"additive\"", "keygen = \"elgamal\""))
        .unwrap();
    let o = crate::harness::fraclab(&["run", "s.toml", "--out", "o", "--quiet"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", crate::harness::stderr(&o));
    let trace = fs::read_to_string(tmp.path().join("o/trace.jsonl")).unwrap();
    assert!(trace.contains("\"name\":\"x\",\"index\":1"));
    assert!(trace.contains("\"kind\":\"fk_pub\""));
    assert!(trace.contains("\"type\":\"learn\"") && trace.contains("\"target\":3,\"name\":\"x\""));
    assert!(!trace.contains("\"name\":\"fk\""));
    let o = crate::harness::fraclab(&["verify-trace", "o/trace.jsonl"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", crate::harness::stderr(&o));
    // A published FK that is not g^x is caught.
    let line = trace.lines().find(|l| l.contains("\"kind\":\"fk_pub\"")).unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let old = v["value"].as_str().unwrap();
    let bad = format!("{}{}", &old[..old.len() - 1], if old.ends_with('1') { '2' } else { '1' });
    fs::write(tmp.path().join("bad.jsonl"), trace.replacen(old, &bad, 1)).unwrap();
    let o = crate::harness::fraclab(&["verify-trace", "bad.jsonl"], tmp.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(crate::harness::stderr(&o).contains("≠ g^x"), "{}", crate::harness::stderr(&o));
}

/// Process 700 recovers x like FK: the crash scenarios pass unchanged under
/// ElGamal (recovered members, keys agreed, no verification failure).
#[test]
fn recovery_works_under_elgamal() {
    for name in ["crash-recover", "crash-before-send", "churn"] {
        let text = fs::read_to_string(repo_root().join(format!("scenarios/{name}.toml"))).unwrap();
        let sc =
            scenario::parse(&text.replace("keygen = \"additive\"", "keygen = \"elgamal\""), name).unwrap();
        let report = execute(&sc, TraceLevel::None, None).unwrap();
        assert!(report.summary.passed(), "{name}: {:?}", report.summary.problems());
        assert!(!report.summary.recovered.is_empty(), "{name}");
        assert!(report.summary.detected.is_empty(), "{name}");
    }
}
