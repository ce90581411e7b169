//! The reduced-span engine against the echelon engine it replaced
//! ([`knowledge::analyse_reference`]), on runs the golden record does not
//! reach: n past the span's dense-row threshold, BigUint (toy-128), leaks,
//! coalitions, eavesdroppers, ElGamal and replacements; and the collector's
//! shared HFK payloads against the messages they came with.

use std::fmt::Write as _;

use fraclab::knowledge::form::Var;
use fraclab::knowledge::{self, Analysis, Obs};
use fraclab::lab;
use fraclab::protocol::MemberId;
use fraclab::scenario::Scenario;

use crate::harness::Rng;

/// One line per fact of an analysis: every learn with its record,
/// time, epoch, value, witness and expression, then the verdicts.
fn render(a: &Analysis) -> Vec<String> {
    let mut out: Vec<String> = a
        .learns
        .iter()
        .map(|l| {
            format!(
                "{:?} {} rec={} t={} epoch={} value={:?} witness={:?} expression={:?}",
                l.view,
                l.target.label(),
                l.rec,
                l.t_us,
                l.epoch,
                l.value,
                l.witness,
                l.expression
            )
        })
        .collect();
    out.push(format!("compromised {:?} secure {:?}", a.compromised, a.secure));
    out.push(format!("outsider {} {:?} views {:?}", a.outsider_learns_key, a.outsider_sks, a.views));
    out
}

/// Scenario `i`: n past the span's dense threshold (rows of θ, δ and
/// the θ-eliminated HFKs hold more than 48 entries) or small, any
/// initialisation, leaks to the group, to some members and to the
/// outsider, coalitions, an eavesdropper on a plain channel, ElGamal,
/// a crash with a replacement.
fn scenario(i: u64, attempt: u64) -> String {
    let mut r = Rng(0x5eed_0000 ^ (i << 8) ^ attempt);
    let n = if i % 3 == 2 { r.range_u64(4, 12) } else { r.range_u64(50, 60) };
    let init = ["sm", "ring", "ring-hardened"][r.range_u64(0, 2) as usize];
    let init = if init == "ring-hardened" && n > 12 && r.range_u64(0, 1) == 0 { "ring" } else { init };
    let epochs = r.range_u64(1, 3);
    let plain = r.range_u64(0, 1) == 0;
    let keygen = if r.range_u64(0, 5) == 0 { "elgamal" } else { "additive" };
    let mut t = format!(
        "name = \"ref-{i}\"\nseed = {}\n[group]\nparams = \"{}\"\n[protocol]\nmembers = {n}\ninit = \"{init}\"\n\
         keygen = \"{keygen}\"\nepochs = {epochs}\nchannel = \"{}\"\n",
        r.range_u64(1, 1 << 20),
        if r.range_u64(0, 4) == 0 { "toy-128" } else { "toy-64" },
        if plain { "plain" } else { "ideal" }
    );
    for _ in 0..r.range_u64(0, 3) {
        let member = r.range_u64(1, n);
        let (secret, last) =
            [("alpha", epochs + 1), ("fk", epochs), ("theta", epochs + 1)][r.range_u64(0, 2) as usize];
        let to = match r.range_u64(0, 2) {
            0 => "\"group\"".to_string(),
            1 => "\"outsider\"".to_string(),
            _ => format!("[{}]", (member % n) + 1),
        };
        let _ = write!(
            t,
            "[[adversary]]\nkind = \"leak\"\nmember = {member}\nsecret = \"{secret}\"\nepoch = {}\nto = {to}\n",
            r.range_u64(1, last)
        );
    }
    if r.range_u64(0, 1) == 0 {
        let a = r.range_u64(1, n);
        let b = (a + r.range_u64(1, n - 1) - 1) % n + 1;
        let _ = write!(t, "[[adversary]]\nkind = \"coalition\"\nmembers = [{}, {}]\n", a.min(b), a.max(b));
    }
    if plain && r.range_u64(0, 3) != 0 {
        t.push_str("[[adversary]]\nkind = \"eavesdropper\"\nmodes = [\"I\", \"G\", \"R\"]\n");
    }
    if r.range_u64(0, 3) == 0 {
        let when = ["before-send", "after-send"][r.range_u64(0, 1) as usize];
        let _ = write!(
            t,
            "[[fault]]\nkind = \"crash\"\nmember = {}\nat = {{ epoch = {}, when = \"{when}\" }}\nreplace = true\n",
            r.range_u64(1, n),
            r.range_u64(1, epochs)
        );
    }
    t.push_str("[output]\ntrace = \"none\"\nanalysis = true\n");
    t
}

/// The reduced-span analysis equals the echelon engine's, fact for
/// fact, on runs large enough for the span's dense rows (the golden
/// record's random cases have n ≤ 9 and it skips the bundled n = 256
/// one, so no row there reaches 48 entries) and on BigUint (toy-128).
#[test]
fn the_span_analysis_equals_the_echelon_analysis_on_large_groups() {
    // A third of the runs without optimisation.
    let runs = if cfg!(debug_assertions) { 6 } else { 18 };
    let mut dense_cases = 0u64;
    for i in 0..runs {
        let sc = (0..32)
            .find_map(|attempt| Scenario::from_toml(&scenario(i, attempt)).ok())
            .unwrap_or_else(|| panic!("case {i}: no valid drawing"));
        let (_, c, fast) = lab::analyse(&sc).expect("the run completes");
        let coalitions = sc.adversaries().coalitions(sc.members());
        let reference = knowledge::analyse_reference(&c, sc.group(), &coalitions);
        assert!(fast.errors.is_empty() && reference.errors.is_empty(), "case {i}: {:?}", fast.errors);
        let (a, b) = (render(&fast), render(&reference));
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "case {i}:\n{}", scenario(i, 0));
        }
        assert_eq!(a.len(), b.len(), "case {i}: learn counts differ");
        dense_cases += u64::from(sc.members() > 48);
    }
    assert!(dense_cases >= runs * 2 / 3 - 2, "{dense_cases} runs past n = 48");
}
/// The collector's shared HFK payloads go with the right message: in
/// every view, an observation labelled HFK[i,j] (sent, relayed or
/// tapped) has the form α_{i,j} + FK_{i,j} and its value is the
/// truth's; and no view holds a form twice.
#[test]
fn shared_hfk_payloads_match_their_messages() {
    for i in [1, 3, 5, 9, 13, 16] {
        let sc = (0..32)
            .find_map(|attempt| Scenario::from_toml(&scenario(i, attempt)).ok())
            .expect("a valid drawing");
        let (_, c, a) = lab::analyse(&sc).expect("the run completes");
        assert!(a.errors.is_empty(), "{:?}", a.errors);
        let mut all: Vec<&[Obs]> = c.members.iter().map(Vec::as_slice).collect();
        all.push(&c.outsider);
        all.extend(c.replacements.iter().map(|r| r.obs.as_slice()));
        let mut hfks = 0;
        let mut valued = 0;
        for obs in all {
            let mut seen = std::collections::HashSet::new();
            for o in obs {
                assert!(seen.insert(&*o.form), "case {i}: {} held twice", o.label);
                let Some(rest) = o.label.strip_prefix("HFK[") else { continue };
                let (ij, _) = rest.split_once(']').expect("HFK[i,j]");
                let (a, b) = ij.split_once(',').expect("i,j");
                let (a, b): (u32, u64) = (a.parse().unwrap(), b.parse().unwrap());
                assert_eq!(*o.form, c.layout.hfk(MemberId(a), b), "case {i}: {}", o.label);
                let truth = |v: Var| c.truth.get(&v).map(|s| s.as_biguint().clone());
                if let (Some(x), Some(y)) = (truth(Var::Alpha(a, b)), truth(Var::Fk(a, b))) {
                    let q = &sc.group().q;
                    assert_eq!((x + y) % q, *o.value.as_biguint(), "case {i}: {}", o.label);
                    valued += 1;
                }
                hfks += 1;
            }
        }
        assert!(hfks > 0, "case {i}: no HFK observed");
        assert!(valued * 2 > hfks, "case {i}: {valued} of {hfks} HFKs checked against the truth");
    }
}
