//! The knowledge analysis, frozen: for every bundled scenario and for 200
//! random small cases, what users see of the analysis (the summary's
//! verdicts and learn findings, every learn with its witness and
//! expression, and `--explain` for a few views and secrets) is serialised
//! canonically and hashed. `tests/data/analysis-golden.txt` holds one
//! `case-id sha256` line per case, recorded with the engine before its
//! issue-14 redesign; a faster engine must reproduce every line.
//!
//! To re-record after an intended change of the analysis's output, run
//! `FRACLAB_BLESS=1 cargo test --release analysis_golden` and review the diff.

use std::fmt::Write as _;
use std::path::Path;

use fraclab::knowledge::{self, Analysis, Explanation, Target, ViewId};
use fraclab::lab;
use fraclab::protocol::MemberId;
use fraclab::report::summary;
use fraclab::scenario::{self, Channel, Scenario};
use sha2::{Digest, Sha256};

use crate::harness::Rng;

const GOLDEN: &str = "tests/data/analysis-golden.txt";
const RANDOM_CASES: u64 = 200;

fn list(xs: &[u64]) -> String {
    let items: Vec<String> = xs.iter().map(u64::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// The TOML of random case `i`: n in 3..=9, any initialisation, 1..=4
/// epochs, leaks of every kind to every kind of recipient, coalitions,
/// sometimes a plaintext channel with an eavesdropper, the ring collusion,
/// a lossy network, ElGamal key generation or a crash with a replacement.
/// `attempt` counts up from 0 past drawings the loader refuses.
fn random_case(i: u64, attempt: u64) -> String {
    let mut r = Rng(0x0f7a_c1ab_0000_0000 ^ i.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ (attempt << 56));
    let n = r.range_u64(3, 9);
    let init = *r.pick(&["sm", "ring", "ring-hardened"]);
    let epochs = r.range_u64(1, 4);
    let keygen = if r.chance(15) { "elgamal" } else { "additive" };
    let plain = r.chance(30);
    let mut t = format!(
        "name = \"golden-{i}\"\nseed = {}\n\n[group]\nparams = \"toy-64\"\n\n[protocol]\nmembers = {n}\n\
         init = \"{init}\"\nkeygen = \"{keygen}\"\nepochs = {epochs}\nchannel = \"{}\"\n",
        r.range_u64(1, 1_000_000),
        if plain { "plain" } else { "ideal" }
    );
    if r.chance(20) {
        t.push_str("\n[network]\nloss = 0.1\n");
    }
    for _ in 0..r.range_u64(0, 3) {
        let member = r.range_u64(1, n);
        let (secret, last) =
            *r.pick(&[("alpha", epochs + 1), ("fk", epochs), ("theta", epochs + 1), ("sk", epochs + 1)]);
        let epoch = r.range_u64(1, last);
        let to = match r.range_u64(0, 2) {
            0 => "\"group\"".to_string(),
            1 => "\"outsider\"".to_string(),
            _ => {
                let others: Vec<u64> = (1..=n).filter(|&m| m != member).collect();
                let k = r.range_u64(1, others.len() as u64);
                let picked = r.sample(others.len() as u64, k);
                list(&picked.iter().map(|&x| others[x as usize - 1]).collect::<Vec<_>>())
            }
        };
        let _ = write!(
            t,
            "\n[[adversary]]\nkind = \"leak\"\nmember = {member}\nsecret = \"{secret}\"\nepoch = {epoch}\nto = {to}\n"
        );
    }
    for _ in 0..r.range_u64(0, 2) {
        let k = r.range_u64(2, n - 1);
        let _ = write!(t, "\n[[adversary]]\nkind = \"coalition\"\nmembers = {}\n", list(&r.sample(n, k)));
    }
    if plain && r.chance(70) {
        let modes = *r.pick(&["[\"I\", \"G\", \"R\"]", "[\"G\"]", "[\"I\"]"]);
        let _ = write!(t, "\n[[adversary]]\nkind = \"eavesdropper\"\nmodes = {modes}\n");
    }
    if init != "sm" && r.chance(25) {
        let _ = write!(t, "\n[[adversary]]\nkind = \"ring-collusion\"\ntarget = {}\n", r.range_u64(1, n));
    }
    if r.chance(15) {
        let when = *r.pick(&["before-send", "after-send"]);
        let _ = write!(
            t,
            "\n[[fault]]\nkind = \"crash\"\nmember = {}\nat = {{ epoch = {}, when = \"{when}\" }}\nreplace = true\n",
            r.range_u64(1, n),
            r.range_u64(1, epochs)
        );
    }
    t.push_str("\n[output]\ntrace = \"none\"\nanalysis = true\n");
    t
}

fn view_text(v: &ViewId) -> String {
    v.to_json().to_string()
}

/// The analysis as users see it, one fact a line.
fn render_analysis(sc: &Scenario, a: &Analysis, out: &mut String) {
    let g = sc.group();
    let ids = |ms: &[MemberId]| ms.iter().map(|m| m.0.to_string()).collect::<Vec<_>>().join(",");
    let _ = writeln!(out, "compromised [{}]", ids(&a.compromised));
    let _ = writeln!(out, "secure [{}]", ids(&a.secure));
    let _ = writeln!(out, "outsider_learns_key {}", a.outsider_learns_key);
    let _ = writeln!(out, "outsider_sks {:?}", a.outsider_sks);
    let views: Vec<String> = a.views.iter().map(view_text).collect();
    let _ = writeln!(out, "views {}", views.join(" "));
    for e in &a.errors {
        let _ = writeln!(out, "error {e}");
    }
    for l in &a.learns {
        let _ = writeln!(
            out,
            "learn {} {} rec={} t={} epoch={} value={}",
            view_text(&l.view),
            l.target.label(),
            l.rec,
            l.t_us,
            l.epoch,
            g.scalar_hex(&l.value)
        );
        if let Some(e) = &l.expression {
            let _ = writeln!(out, "  expression {e}");
        }
        for (label, coeff) in l.witness.iter().flatten() {
            let _ = writeln!(out, "  witness {coeff} × {label}");
        }
    }
}

fn render_explanation(sc: &Scenario, e: &Result<Explanation, String>, out: &mut String) {
    let g = sc.group();
    match e {
        Err(e) => {
            let _ = writeln!(out, "  error {e}");
        }
        Ok(Explanation::Derivable(l)) => {
            let _ = writeln!(
                out,
                "  derivable rec={} t={} epoch={} value={} {}",
                l.rec,
                l.t_us,
                l.epoch,
                g.scalar_hex(&l.value),
                l.expression.as_deref().unwrap_or("")
            );
            for (label, coeff) in l.witness.iter().flatten() {
                let _ = writeln!(out, "    {coeff} × {label}");
            }
        }
        Ok(Explanation::Hidden { differing, target_a, target_b, checked }) => {
            let _ = writeln!(
                out,
                "  hidden checked={checked} a={} b={}",
                g.scalar_hex(target_a),
                g.scalar_hex(target_b)
            );
            for (name, a, b) in differing {
                let _ = writeln!(out, "    {name} {} {}", g.scalar_hex(a), g.scalar_hex(b));
            }
        }
    }
}

/// Everything the case's users see of the analysis, canonically.
fn canonical(sc: &Scenario) -> String {
    let mut out = String::new();
    if !sc.analysis() {
        return "analysis off\n".to_string();
    }
    // One simulator pass gives the views, the analysis and the summary.
    let (outcome, collector, analysis) = match lab::analyse(sc) {
        Ok(x) => x,
        Err(e) => return format!("run error {e}\n"),
    };
    let a = &analysis;
    let summary = summary::build(sc, "none", &outcome, Some(a), None);
    // The summary's own rendering of the verdicts and learn findings.
    let json = serde_json::to_value(&summary).expect("a summary serialises");
    for key in ["compromised", "secure", "outsider_learns_key", "invariants_held"] {
        let _ = writeln!(out, "summary {key} {}", json[key]);
    }
    for f in json["findings"].as_array().into_iter().flatten() {
        if matches!(f["kind"].as_str(), Some("learn" | "sk-leak" | "analysis-error")) {
            let _ = writeln!(out, "finding {f}");
        }
    }
    render_analysis(sc, a, &mut out);
    // --explain for a few views and secrets: derivable and hidden ones.
    let n = sc.members();
    let epochs = sc.epochs().max(1);
    let mut views = vec![ViewId::Member(MemberId(1)), ViewId::Outsider];
    views.extend(a.views.iter().filter(|v| matches!(v, ViewId::Coalition(_))).take(1).cloned());
    let mut targets =
        vec![format!("fk[{n},1]"), format!("alpha[2,{}]", epochs + 1), format!("theta[{}]", epochs + 1)];
    // And the secrets the first learns name (derivable by some view).
    for l in a.learns.iter().take(2) {
        let (name, index) = l.target.name_index();
        let owner = l.target.owner().map_or(0, |m| m.0);
        targets.push(match name {
            "v" => format!("v[{owner}]"),
            "theta" => format!("theta[{index}]"),
            _ => format!("{name}[{owner},{index}]"),
        });
    }
    for v in &views {
        for t in &targets {
            let target = Target::parse(t).expect("a well-formed secret");
            let _ = writeln!(out, "explain {}:{t}", view_text(v));
            let e = knowledge::explain(&collector, sc.group(), v, target);
            render_explanation(sc, &e, &mut out);
        }
    }
    out
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Every case: (id, scenario).
fn cases() -> Vec<(String, Scenario)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .expect("scenarios/ exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        let mut sc = scenario::load(&path).expect("a bundled scenario loads");
        // large-group (n = 256 on modp-2048) is far too slow for a test.
        if sc.members() > 16 {
            continue;
        }
        // Where the loader refuses the analysis (it is off by design), the
        // case records that.
        let _ = sc.set("output.analysis", true);
        let id = path.file_stem().and_then(|s| s.to_str()).expect("a file name").to_string();
        out.push((id, sc));
    }
    for i in 0..RANDOM_CASES {
        let sc = (0..64)
            .find_map(|attempt| Scenario::from_toml(&random_case(i, attempt)).ok())
            .unwrap_or_else(|| panic!("random case {i}: no valid drawing"));
        out.push((format!("random-{i:03}"), sc));
    }
    out
}

/// Each case's analysis hashes to its recorded line.
#[test]
fn the_analysis_matches_its_golden_record() {
    let cases = cases();
    let path = Path::new(GOLDEN);
    let bless = std::env::var_os("FRACLAB_BLESS").is_some();
    let want =
        if bless { String::new() } else { std::fs::read_to_string(path).expect("the golden file exists") };
    let want_lines: Vec<&str> = want.lines().collect();
    assert!(bless || want_lines.len() == cases.len(), "the number of golden cases changed");
    let mut lines = Vec::new();
    let mut differ = Vec::new();
    for (i, (id, sc)) in cases.iter().enumerate() {
        // The sealed channel's cryptography takes seconds per run without
        // optimisation: those cases are checked by `cargo test --release`.
        if cfg!(debug_assertions) && !bless && sc.channel() == Channel::Sealed {
            continue;
        }
        let line = format!("{id} {}", sha256_hex(&canonical(sc)));
        if !bless && want_lines[i] != line {
            differ.push(id.clone());
        }
        lines.push(line);
    }
    if bless {
        std::fs::create_dir_all(path.parent().expect("tests/data")).expect("tests/data is writable");
        std::fs::write(path, lines.join("\n") + "\n").expect("the golden file is writable");
        return;
    }
    assert!(differ.is_empty(), "the analysis changed for {} case(s): {}", differ.len(), differ.join(", "));
}

/// The canonical form of one case, for a failing case: `FRACLAB_GOLDEN_SHOW=random-017`.
#[test]
fn show_one_golden_case() {
    let Some(want) = std::env::var_os("FRACLAB_GOLDEN_SHOW") else { return };
    for (id, sc) in cases() {
        if id == want.to_string_lossy() {
            println!("{}", canonical(&sc));
        }
    }
}
