//! The patent's own operator ⊕ (`[group] operator = "xor"`, reference §3):
//! L-bit pad values, λ = (1 − n) mod 2, the knowledge engine over GF(2).

use std::fmt::Write as _;
use std::fs;

use fraclab::group::{self, GroupParams};
use fraclab::lab::{analyse, execute};
use fraclab::scenario::{self, Scenario, TraceLevel, group_keys};
use sha2::{Digest, Sha256};

use crate::harness::repo_root;

/// A small deterministic generator, so the random cases are the same on
/// every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next(100) < percent
    }
}

fn xor(bits: u32) -> &'static GroupParams {
    group::xor(bits).unwrap()
}

fn toy64() -> &'static GroupParams {
    group::by_name("toy-64").unwrap()
}

fn header(g: &GroupParams, name: &str, seed: u64, n: u32, init: &str, epochs: u64) -> String {
    format!(
        "name = \"{name}\"\nseed = {seed}\n[group]\n{}[protocol]\nmembers = {n}\ninit = \"{init}\"\nkeygen = \"additive\"\nepochs = {epochs}\n",
        group_keys(g)
    )
}

fn leak(member: u32, secret: &str, epoch: u64, to: &str) -> String {
    format!(
        "[[adversary]]\nkind = \"leak\"\nmember = {member}\nsecret = \"{secret}\"\nepoch = {epoch}\nto = {to}\n"
    )
}

fn parse(toml: &str) -> Scenario {
    scenario::parse(toml, "xor.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

/// (compromised members, outsider learns a key), after checking that the
/// run kept its invariants and the engine agreed with the ground truth.
fn verdict(toml: &str) -> (Vec<u32>, bool) {
    let sc = parse(toml);
    let (report, _, analysis) = analyse(&sc).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert!(report.verdict.findings.is_empty(), "{:?}\n{toml}", report.verdict.findings);
    assert!(report.verdict.keys_agreed, "keys disagree:\n{toml}");
    assert!(analysis.errors.is_empty(), "{:?}\n{toml}", analysis.errors);
    (analysis.compromised.iter().map(|m| m.0).collect(), analysis.outsider_learns_key)
}

/// The bundled lemma scenario: n = 3, member 1 releases α[1,2], everyone
/// falls; its [expect] holds; pads in the trace are L-bit hex.
#[test]
fn the_fractional_attack_at_n3_under_xor() {
    let sc = scenario::load(&repo_root().join("scenarios/fractional-attack-n3-xor.toml")).unwrap();
    assert_eq!(sc.group().name, "xor-256");
    let tmp = tempfile::tempdir().unwrap();
    let report = execute(&sc, TraceLevel::Full, Some(tmp.path())).unwrap();
    assert!(report.summary.passed(), "{:?}", report.summary.expectations);
    assert_eq!(report.summary.compromised, Some(vec![1, 2, 3]));
    let trace = fs::read_to_string(tmp.path().join("trace.jsonl")).unwrap();
    let pad = trace.lines().find(|l| l.contains("\"type\":\"secret\"")).unwrap();
    let value: serde_json::Value = serde_json::from_str(pad).unwrap();
    assert_eq!(value["value"].as_str().unwrap().len(), 64, "256 bits are 64 hex digits: {pad}");
    // The derivation is written with ⊕, as the patent writes it.
    let summary = fs::read_to_string(tmp.path().join("summary.json")).unwrap();
    assert!(summary.contains(" ⊕ "), "no ⊕ in the summary's expressions");
    assert!(!summary.contains("] + "), "a + in an XOR expression");
}

/// The corollary: n = 4 with one leaked pad exposes only the leaker, for
/// both small and large L and both inits.
#[test]
fn one_leak_at_n4_exposes_only_the_leaker() {
    for bits in [8, 64, 256] {
        for init in ["sm", "ring"] {
            let toml = header(xor(bits), "n4", 11, 4, init, 3) + &leak(2, "alpha", 2, "\"group\"");
            assert_eq!(verdict(&toml), (vec![2], false), "L = {bits}, {init}");
        }
    }
}

/// The n − 1 rule on random cases: with the members in L leaking a pad and
/// an optional coalition C, member t ∉ L falls exactly when some view that
/// leaves t out (a member m with L, or C with L) covers n − 1 parties;
/// every leaker falls.
#[test]
fn the_n_minus_1_rule_holds_on_random_cases() {
    let mut rng = Lcg(0x0f0f_1234);
    for case in 0..40 {
        let n = 4 + rng.next(5) as u32;
        let init = ["sm", "ring"][rng.next(2) as usize];
        let bits = [8, 16, 64, 100][rng.next(4) as usize];
        let epochs = 3;
        let mut toml = header(xor(bits), &format!("rule-{case}"), case, n, init, epochs);
        let leakers: Vec<u32> = (1..=n).filter(|_| rng.chance(35)).collect();
        for &m in &leakers {
            toml += &leak(m, "alpha", 2 + rng.next(epochs - 1), "\"group\"");
        }
        let coalition: Vec<u32> =
            if rng.chance(50) { (1..=n).filter(|_| rng.chance(40)).collect() } else { vec![] };
        // A ring coalition of t − 1 and t + 1 is the ring collusion, another rule.
        let is_ring_pair = |c: &[u32]| {
            c.len() == 2 && (1..=n).any(|t| c.contains(&(t % n + 1)) && c.contains(&((t + n - 2) % n + 1)))
        };
        let coalition = if coalition.len() >= 2 && !(init == "ring" && is_ring_pair(&coalition)) {
            let _ = writeln!(toml, "[[adversary]]\nkind = \"coalition\"\nmembers = {coalition:?}");
            coalition
        } else {
            vec![]
        };
        let mut views: Vec<Vec<u32>> = (1..=n).map(|m| vec![m]).collect();
        if !coalition.is_empty() {
            views.push(coalition.clone());
        }
        let mut expected: Vec<u32> = (1..=n)
            .filter(|t| {
                leakers.contains(t)
                    || views.iter().any(|v| {
                        let mut parties: Vec<u32> = v.iter().chain(&leakers).copied().collect();
                        parties.sort_unstable();
                        parties.dedup();
                        !parties.contains(t) && parties.len() as u32 >= n - 1
                    })
            })
            .collect();
        if init == "ring" && coalition.len() >= 2 {
            // Two ring neighbours of t inside one pooled view see v_t.
            for t in 1..=n {
                let (prev, next) = ((t + n - 2) % n + 1, t % n + 1);
                let pooled: Vec<u32> = coalition.iter().chain(&leakers).copied().collect();
                if !coalition.contains(&t)
                    && pooled.contains(&prev)
                    && pooled.contains(&next)
                    && !expected.contains(&t)
                {
                    expected.push(t);
                }
            }
            expected.sort_unstable();
        }
        assert_eq!(verdict(&toml).0, expected, "case {case}:\n{toml}");
    }
}

/// Process 700 under XOR: the replacement recovers exactly the failed
/// member's L-bit FK (the trace's two `fk` secrets of that iteration agree)
/// and the run completes with keys agreed.
#[test]
fn recovery_restores_the_l_bit_fk() {
    for (bits, n, member) in [(24u32, 5u32, 3u32), (256, 4, 1), (9, 6, 6)] {
        let toml = header(xor(bits), "recover", 3, n, "ring", 6)
            + &format!(
                "[[fault]]\nkind = \"crash\"\nmember = {member}\nat = {{ epoch = 3, when = \"after-send\" }}\nreplace = true\n[expect]\nkeys_agreed = true\nepochs_completed = 6\nrecovered = [{member}]\n"
            );
        let sc = parse(&toml);
        let tmp = tempfile::tempdir().unwrap();
        let report = execute(&sc, TraceLevel::Full, Some(tmp.path())).unwrap();
        assert!(report.summary.passed(), "L = {bits}: {:?}", report.summary.expectations);
        let trace = fs::read_to_string(tmp.path().join("trace.jsonl")).unwrap();
        let fk3: Vec<String> = trace
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| {
                v["type"] == "secret" && v["name"] == "fk" && v["member"] == member && v["index"] == 3
            })
            .map(|v| v["value"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(fk3.len(), 2, "L = {bits}: the draw and the recovery: {fk3:?}");
        assert_eq!(fk3[0], fk3[1], "L = {bits}: the recovered FK differs from the original");
        assert_eq!(fk3[0].len(), 2 * (bits as usize).div_ceil(8), "L = {bits}: {}", fk3[0]);
    }
}

/// Same seed, same bytes; and a golden hash pins the XOR trace format.
#[test]
fn xor_runs_are_deterministic_and_pinned() {
    let sc = scenario::load(&repo_root().join("scenarios/fractional-attack-n3-xor.toml")).unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    execute(&sc, sc.trace(), Some(a.path())).unwrap();
    execute(&sc, sc.trace(), Some(b.path())).unwrap();
    let read = |d: &tempfile::TempDir, f: &str| fs::read(d.path().join(f)).unwrap();
    assert!(read(&a, "trace.jsonl") == read(&b, "trace.jsonl"));
    assert!(read(&a, "summary.json") == read(&b, "summary.json"));
    assert_eq!(hex::encode(Sha256::digest(read(&a, "trace.jsonl"))), GOLDEN_XOR_N3);
}

const GOLDEN_XOR_N3: &str = "e3a0c73a88265c99ce96fd5658efe2adaff7aeaa2ea9f9da2e04962558a0932d";

/// `fraclab verify-trace` re-checks an XOR trace: I1, θ = ⊕FK, α = θ ⊕ FK,
/// every learn against the ground truth.
#[test]
fn verify_trace_accepts_xor_traces_and_refuses_a_flipped_bit() {
    let sc = scenario::load(&repo_root().join("scenarios/fractional-attack-n3-xor.toml")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    execute(&sc, TraceLevel::Full, Some(tmp.path())).unwrap();
    let text = fs::read_to_string(tmp.path().join("trace.jsonl")).unwrap();
    fraclab::report::verify::verify(text.as_bytes()).unwrap();
    // Flip one bit of the first θ: the verifier must notice.
    let at = text.find("\"type\":\"theta\"").unwrap();
    let v = at + text[at..].find("\"value\":\"").unwrap() + 9;
    let mut bad = text.into_bytes();
    bad[v] = if bad[v] == b'0' { b'1' } else { b'0' };
    assert!(fraclab::report::verify::verify(&bad[..]).is_err());
}

/// The two operators decide the same verdicts on 200 random cases: every
/// init, leaks of α, FK and θ to the group, the outsider or members,
/// coalitions, ring collusion, a plain-channel eavesdropper and crashes
/// with recovery. A difference is reported with its scenario.
#[test]
fn the_two_operators_agree_on_200_random_cases() {
    let mut rng = Lcg(0x5eed_0200);
    let mut differ = Vec::new();
    let (mut someone, mut nobody, mut outsider) = (0, 0, 0);
    for case in 0..200u64 {
        let n = 3 + rng.next(5) as u32;
        let init = ["sm", "ring", "ring-hardened"][rng.next(3) as usize];
        let epochs = 1 + rng.next(3);
        let plain = rng.chance(25);
        let mut body = String::new();
        if plain {
            body += "channel = \"plain\"\n";
        }
        for _ in 0..rng.next(3) {
            let secret = ["alpha", "fk", "theta"][rng.next(3) as usize];
            let last = if secret == "fk" { epochs } else { epochs + 1 };
            let to = match rng.next(3) {
                0 => "\"group\"".to_string(),
                1 => "\"outsider\"".to_string(),
                _ => format!("[{}]", 1 + rng.next(u64::from(n))),
            };
            let member = 1 + rng.next(u64::from(n)) as u32;
            if to == format!("[{member}]") {
                continue;
            }
            body += &leak(member, secret, 1 + rng.next(last), &to);
        }
        if rng.chance(30) {
            let c: Vec<u32> = (1..=n).filter(|_| rng.chance(45)).collect();
            if c.len() >= 2 && (c.len() as u32) < n {
                let _ = writeln!(body, "[[adversary]]\nkind = \"coalition\"\nmembers = {c:?}");
            }
        }
        if init != "sm" && rng.chance(30) {
            let _ = writeln!(
                body,
                "[[adversary]]\nkind = \"ring-collusion\"\ntarget = {}",
                1 + rng.next(u64::from(n))
            );
        }
        if plain && rng.chance(50) {
            body += "[[adversary]]\nkind = \"eavesdropper\"\n";
        }
        if epochs >= 2 && rng.chance(20) {
            let _ = writeln!(
                body,
                "[[fault]]\nkind = \"crash\"\nmember = {}\nat = {{ epoch = {}, when = \"after-send\" }}\nreplace = true",
                1 + rng.next(u64::from(n)),
                1 + rng.next(epochs - 1)
            );
        }
        let (protocol, adversaries) = match body.strip_prefix("channel = \"plain\"\n") {
            Some(rest) => ("channel = \"plain\"\n", rest.to_string()),
            None => ("", body.clone()),
        };
        let seed = 1000 + case;
        let add = header(toy64(), &format!("op-{case}"), seed, n, init, epochs) + protocol + &adversaries;
        let xor = header(xor(64), &format!("op-{case}"), seed, n, init, epochs) + protocol + &adversaries;
        let (a, x) = (verdict(&add), verdict(&xor));
        if a.0.is_empty() {
            nobody += 1;
        } else {
            someone += 1;
        }
        outsider += u32::from(a.1);
        if a != x {
            differ.push(format!("case {case}: add {a:?}, xor {x:?}\n{xor}"));
        }
    }
    assert!(differ.is_empty(), "{} of 200 cases differ:\n{}", differ.len(), differ.join("\n"));
    // The cases exercise both outcomes, so agreement says something.
    assert!(someone >= 50 && nobody >= 30 && outsider >= 10, "{someone} / {nobody} / {outsider}");
}

/// `fraclab explore` over XOR sets: every property holds, the `analysis`
/// property (the engine against the independent dense oracle, over GF(2)
/// here) included, and findings are written as XOR scenarios.
#[test]
fn explore_checks_xor_runs_against_the_oracle() {
    use fraclab::lab::explore::{self, Config, Space};
    let space = Space::parse(
        "[protocol]\nparams = [\"xor-16\", \"xor-64\", \"xor-256\"]\nmembers = [3, 6]\n",
        "x.toml",
    )
    .unwrap();
    let runs = if cfg!(debug_assertions) { 40 } else { 300 };
    let cfg = Config {
        space,
        space_file: None,
        runs,
        seed: 77,
        jobs: 2,
        goal: Some(explore::Goal::parse("victims != []", &explore::property::GOAL_FIELDS).unwrap()),
        time_limit: None,
        resume: false,
        planted: None,
    };
    let tmp = tempfile::tempdir().unwrap();
    let r = explore::run(&cfg, tmp.path(), &|_, _| {}).unwrap();
    assert_eq!(r.violations, 0, "{:?}", r.findings.iter().map(|f| &f.detail).collect::<Vec<_>>());
    assert!(r.properties["analysis"].pass > runs / 4, "{:?}", r.properties["analysis"]);
    let found = fs::read_dir(tmp.path().join("findings")).unwrap().count();
    assert!(found > 0, "no goal finding");
    for f in fs::read_dir(tmp.path().join("findings")).unwrap() {
        let text = fs::read_to_string(f.unwrap().path()).unwrap();
        assert!(text.contains("operator = \"xor\""), "{text}");
        assert!(parse(&text).group().is_xor());
    }
}

/// `fraclab atlas` in two dimensions, for both operators: with members
/// 1..r leaking and r+1..r+c pooling, the smallest safe n is r + c + 2 —
/// the n − 1 rule, found by computation for each operator — and
/// `--operator xor` runs the one-dimensional tables over XOR with the same
/// counts. The heatmap names both panels; `fraclab plot` refuses a bad row.
#[test]
fn the_two_dimensional_atlas_for_both_operators() {
    use crate::harness::{fraclab, stderr, stdout};
    let tmp = tempfile::tempdir().unwrap();
    let o = fraclab(&["atlas", "--members", "3..7", "--bits", "16", "--out", "o"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("operator add (toy-64)") && out.contains("operator xor (xor-16)"), "{out}");
    let csv = fs::read_to_string(tmp.path().join("o/atlas-safe.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("operator,params,leaked_pads,curious,smallest_safe_n,checked_from,checked_to")
    );
    let mut cells = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let (r, c): (u32, u32) = (f[2].parse().unwrap(), f[3].parse().unwrap());
        let want = if r + c + 2 <= 7 { (r + c + 2).to_string() } else { String::new() };
        assert_eq!(f[4], want, "{line}");
        assert_eq!(f[5], (r + c + 1).max(3).to_string(), "{line}");
        assert_eq!(f[6], "7");
        assert!(matches!((f[0], f[1]), ("add", "toy-64") | ("xor", "xor-16")), "{line}");
        cells += 1;
    }
    // r = 0..=5, c = 1..=6 − r: 21 cells, for each operator.
    assert_eq!(cells, 2 * 21);
    let svg = fs::read_to_string(tmp.path().join("o/atlas-safe.svg")).unwrap();
    assert!(svg.contains("operator = add (toy-64)") && svg.contains("operator = xor (xor-16)"));
    assert!(svg.contains("curious members c pooling their views"));
    assert!(tmp.path().join("o/atlas-safe.png").exists());
    // The one-dimensional tables over XOR count the same.
    let x = fraclab(
        &["atlas", "--members", "3..7", "--operator", "xor", "--bits", "16", "--out", "x"],
        tmp.path(),
    );
    assert_eq!(x.status.code(), Some(0), "{}", stderr(&x));
    for f in ["atlas-leaks.csv", "atlas-ring.csv", "atlas-safe.csv"] {
        let (a, b) = (tmp.path().join("o").join(f), tmp.path().join("x").join(f));
        assert_eq!(fs::read(a).unwrap(), fs::read(b).unwrap(), "{f}");
    }
    for (args, says) in [
        (&["atlas", "--members", "3..4", "--operator", "nand"][..], "--operator nand"),
        (&["atlas", "--members", "3..4", "--bits", "3"][..], "--bits 3: allowed: 8..=4096"),
        (&["atlas", "--members", "3..4", "--params", "toy-99"][..], "--params toy-99"),
    ] {
        let e = fraclab(args, tmp.path());
        assert_eq!(e.status.code(), Some(2), "{args:?}");
        assert!(stderr(&e).contains(says), "{args:?}: {}", stderr(&e));
    }
    // A second set of one operator, or a cell with no honest member, is refused.
    let extra = format!("{csv}xor,xor-8,0,1,3,3,7\n");
    fs::write(tmp.path().join("o/atlas-safe.csv"), extra).unwrap();
    let p = fraclab(&["plot", "o"], tmp.path());
    assert_eq!(p.status.code(), Some(2));
    assert!(stderr(&p).contains("a second xor set"), "{}", stderr(&p));
    fs::write(
        tmp.path().join("o/atlas-safe.csv"),
        csv.replacen("add,toy-64,0,1,3,3,7", "add,toy-64,0,7,3,3,7", 1),
    )
    .unwrap();
    let p = fraclab(&["plot", "o"], tmp.path());
    assert_eq!(p.status.code(), Some(2));
    assert!(stderr(&p).contains("no honest member"), "{}", stderr(&p));
    // A hand-edited row with an unknown set is refused, and nothing is redrawn.
    let bad = csv.replacen("add,toy-64,0,1", "sub,toy-64,0,1", 1);
    fs::write(tmp.path().join("o/atlas-safe.csv"), bad).unwrap();
    let before = fs::read(tmp.path().join("o/atlas-safe.svg")).unwrap();
    let p = fraclab(&["plot", "o"], tmp.path());
    assert_eq!(p.status.code(), Some(2), "{}", stderr(&p));
    assert!(stderr(&p).contains("atlas-safe.csv") && stderr(&p).contains("line 2"), "{}", stderr(&p));
    assert_eq!(fs::read(tmp.path().join("o/atlas-safe.svg")).unwrap(), before);
}

/// `fraclab attacks --operator xor`: the SM-init leak attacks against K
/// are the (n − 2)-subsets of the other members, as under addition, and
/// every written scenario is an XOR scenario that replays.
#[test]
fn attacks_under_xor_match_the_rule_and_replay() {
    use crate::harness::{fraclab, stderr, stdout};
    let tmp = tempfile::tempdir().unwrap();
    for n in [3u32, 5] {
        let dir = format!("a{n}");
        let args = [
            "attacks",
            "--members",
            &n.to_string(),
            "--init",
            "sm",
            "--goal",
            "compromise:1",
            "--allow",
            "leak",
            "--leak-secrets",
            "alpha",
            "--per-member",
            "1",
            "--operator",
            "xor",
            "--bits",
            "32",
            "--out",
            &dir,
            "--quiet",
        ];
        let o = fraclab(&args, tmp.path());
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        let csv = fs::read_to_string(tmp.path().join(&dir).join("attacks.csv")).unwrap();
        // C(n − 1, n − 2) = n − 1 attacks.
        assert_eq!(csv.lines().count() - 1, n as usize - 1, "{csv}");
        let toml = fs::read_dir(tmp.path().join(&dir).join("attacks"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect::<Vec<_>>();
        assert_eq!(toml.len(), n as usize - 1);
        for t in toml {
            let text = fs::read_to_string(&t).unwrap();
            assert!(text.contains("operator = \"xor\"\nbits = 32"), "{text}");
            // The rerun command in the description is one the CLI takes.
            assert!(text.contains("--operator xor --bits 32") && !text.contains("--params xor"), "{text}");
        }
    }
    for (extra, says) in
        [(["--keygen", "elgamal"], "XOR values are not"), (["--params", "toy-16"], "--params toy-16")]
    {
        let mut args =
            vec!["attacks", "--members", "4", "--init", "sm", "--goal", "key", "--operator", "xor"];
        args.extend(extra);
        let e = fraclab(&args, tmp.path());
        assert_eq!(e.status.code(), Some(2), "{args:?}");
        assert!(stderr(&e).contains(says), "{args:?}: {}", stderr(&e));
    }
}

/// What traces record, `params = "xor-L"`, loads as `operator = "xor"`,
/// `bits = L` does, and a sweep can vary the operator through it; a
/// conflicting `operator` or `bits` beside it is refused.
#[test]
fn params_xor_l_is_the_same_set() {
    let by_name = header(toy64(), "p", 5, 4, "ring", 2).replace("params = \"toy-64\"", "params = \"xor-32\"");
    let by_keys = header(xor(32), "p", 5, 4, "ring", 2);
    assert!(std::ptr::eq(parse(&by_name).group(), parse(&by_keys).group()));
    let with_leak = |t: &str| t.to_string() + &leak(1, "alpha", 2, "\"group\"");
    assert_eq!(verdict(&with_leak(&by_name)), verdict(&with_leak(&by_keys)));
    for (extra, key) in [("operator = \"add\"\n", "group.operator"), ("bits = 16\n", "group.bits")] {
        let text = by_name.replace("params = \"xor-32\"\n", &format!("params = \"xor-32\"\n{extra}"));
        let e = scenario::parse(&text, "p.toml").unwrap_err().to_string();
        assert!(e.contains(key), "{e}");
    }
    let e = scenario::parse(&by_name.replace("xor-32", "xor-7"), "p.toml").unwrap_err().to_string();
    assert!(e.contains("xor-L for L in 8..=4096"), "{e}");
}

/// An XOR trace that claims a commitment is refused: nothing is g^x there.
#[test]
fn verify_trace_refuses_commitments_in_an_xor_trace() {
    let sc = scenario::load(&repo_root().join("scenarios/fractional-attack-n3-xor.toml")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    execute(&sc, TraceLevel::Full, Some(tmp.path())).unwrap();
    let text = fs::read_to_string(tmp.path().join("trace.jsonl")).unwrap();
    let bad = text.replacen("\"kind\":\"confirm\"", "\"kind\":\"commit\"", 1);
    let e = fraclab::report::verify::verify(bad.as_bytes()).unwrap_err().to_string();
    assert!(e.contains("not exponents"), "{e}");
}

/// A space whose every draw pairs XOR with ElGamal draws nothing, and the
/// report counts those runs as undrawable instead of passing them.
#[test]
fn an_undrawable_xor_space_is_counted_so() {
    use crate::harness::{fraclab, stdout};
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("sp.toml"), "[protocol]\nparams = [\"xor-64\"]\nkeygen = [\"elgamal\"]\n")
        .unwrap();
    let o = fraclab(&["explore", "sp.toml", "--runs", "3", "--seed", "1", "--out", "e"], tmp.path());
    assert!(stdout(&o).contains("3 of 3 runs could not be drawn"), "{}", stdout(&o));
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.path().join("e/explore.json")).unwrap()).unwrap();
    assert_eq!(json["undrawable"], 3);
}
