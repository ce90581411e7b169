//! `report.html` in a real browser: headless Chromium (the Debian package,
//! which `.ci/run` installs) opens the page from `file://`, runs its script
//! and dumps the DOM it built (`--dump-dom`). The page records any script
//! error or `console.error` in `<body data-errors>`.
//!
//! Without Chromium on the PATH these tests say so and pass, except under
//! CI (`CI` set), where they fail.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use fraclab::scenario::{self, TraceLevel};

use crate::harness::{fraclab, repo_root, stderr};

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(o) = Command::new("which").arg(name).output()
            && o.status.success()
        {
            return Some(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI needs Chromium for the browser tests: apt-get install chromium"
    );
    eprintln!("skipped: no chromium on the PATH (apt-get install chromium)");
    None
}

/// The DOM of `page` (a file) opened at `fragment`, after its script ran,
/// and Chromium's own log.
fn dump(browser: &Path, page: &Path, fragment: &str) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}{fragment}", page.display());
    let o = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--virtual-time-budget=5000", "--dump-dom", &url])
        .output()
        .expect("chromium runs");
    assert!(o.status.success(), "chromium failed on {url}: {}", String::from_utf8_lossy(&o.stderr));
    (String::from_utf8(o.stdout).unwrap(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// No script error in the page, and no console error or uncaught exception
/// in Chromium's log.
fn clean(dom: &str, log: &str) {
    assert!(
        dom.contains("data-errors=\"0\""),
        "the page recorded errors: {}",
        between(dom, "<div id=\"errors\"", "</div>")
    );
    for line in log.lines() {
        let console = line.contains("CONSOLE") && (line.contains("rror") || line.contains("Uncaught"));
        assert!(!console && !line.contains("Uncaught"), "console: {line}");
    }
}

/// The text from `start` up to the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let Some(i) = text.find(start) else { return "" };
    let j = text[i..].find(end).map_or(text.len(), |j| i + j);
    &text[i..j]
}

/// The section of the knowledge panel for `view`.
fn card<'a>(dom: &'a str, view: &str) -> &'a str {
    between(dom, &format!("data-view=\"{view}\""), "</section>")
}

fn run_bundled(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join(name);
    let o = fraclab(
        &["run", sc_path(name).to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    (tmp, out.join("report.html"))
}

fn sc_path(name: &str) -> PathBuf {
    repo_root().join("scenarios").join(format!("{name}.toml"))
}

/// The fractional attack at its first derivation: pressing "next learn"
/// from the start lands where member 2 learns FK[3,1], and member 2's
/// panel shows the derivation with its witness, marked new.
#[test]
fn the_first_learn_shows_member_2_deriving_fk_3_1() {
    let Some(browser) = chromium() else { return };
    let (_tmp, page) = run_bundled("fractional-attack-n3");
    let (dom, log) = dump(&browser, &page, "#seq=0&press=next-learn");
    clean(&dom, &log);
    let narration = between(&dom, "<div id=\"narration\"", "</div>");
    assert!(
        narration.contains("member 2 learns FK[3,1] = −FK[2,1] + α[1,2] (α[1,2] leaked by member 1)"),
        "{narration}"
    );
    let member2 = card(&dom, "member 2");
    assert!(
        member2.contains("class=\"new\"><span class=\"expr\">FK[3,1] = −FK[2,1] + α[1,2]</span>"),
        "{member2}"
    );
    assert!(member2.contains("from: −1 × FK[2,1] (own) · α[1,2] leaked by member 1"), "{member2}");
    // Member 3 has derived nothing of another party's yet. Members 1 (its
    // leaked pad) and 3 (the FK just derived) have fallen, member 2 not yet.
    assert!(card(&dom, "member 3").contains("nothing of another party's yet"));
    assert!(card(&dom, "member 1").contains("✖ compromised"));
    assert!(card(&dom, "member 3").contains("✖ compromised"));
    assert!(card(&dom, "member 2").contains("✓ safe so far"));
}

/// Stepping forward from seq N with the UI's "next" button lands on the
/// very state that opening #seq=N+1 shows, and "back" undoes it.
#[test]
fn stepping_forward_equals_opening_the_next_seq() {
    let Some(browser) = chromium() else { return };
    let (_tmp, page) = run_bundled("fractional-attack-n3");
    let app = |dom: &str| between(dom, "<div id=\"app\"", "<div id=\"errors\"").to_string();
    // Steps are the trace's events but acks: take the seq of a few.
    let trace = fs::read_to_string(page.with_file_name("trace.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = trace.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let acks: std::collections::BTreeSet<u64> = lines
        .iter()
        .filter(|v| v["type"] == "send" && v["kind"] == "ack")
        .map(|v| v["msg"].as_u64().unwrap())
        .collect();
    let steps: Vec<u64> = lines
        .iter()
        .filter(|v| v["seq"].is_u64() && !v["msg"].as_u64().is_some_and(|m| acks.contains(&m)))
        .map(|v| v["seq"].as_u64().unwrap())
        .collect();
    for n in [steps[3], steps[60], steps[61], steps[120]] {
        let (pressed, log) = dump(&browser, &page, &format!("#seq={n}&press=next"));
        clean(&pressed, &log);
        let (opened, _) = dump(&browser, &page, &format!("#seq={}", n + 1));
        assert_eq!(app(&pressed), app(&opened), "#seq={n} + next ≠ #seq={}", n + 1);
        let (back, _) = dump(&browser, &page, &format!("#seq={}&press=prev", n + 1));
        let (here, _) = dump(&browser, &page, &format!("#seq={n}"));
        assert_eq!(app(&back), app(&here), "#seq={} + back ≠ #seq={n}", n + 1);
    }
}

/// A protocol-level run of n = 256 gets the summary view: per-epoch
/// aggregates and the compromised-members heatmap, no playback.
#[test]
fn a_large_protocol_level_run_renders_its_summary_view() {
    let Some(browser) = chromium() else { return };
    let toml = "name = \"big\"\nseed = 2\n[group]\nparams = \"toy-64\"\n[protocol]\nmembers = 256\ninit = \"sm\"\nkeygen = \"additive\"\nepochs = 1\n[output]\ntrace = \"protocol\"\n";
    let sc = scenario::parse(toml, "big.toml").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("big");
    fraclab::lab::run_into(&sc, Path::new("big.toml"), TraceLevel::Protocol, &out).unwrap();
    let page = out.join("report.html");
    assert!(fs::metadata(&page).unwrap().len() < 200_000);
    let (dom, log) = dump(&browser, &page, "");
    clean(&dom, &log);
    assert!(
        dom.contains("id=\"summary\"") && dom.contains("id=\"heatmap\"") && dom.contains("id=\"epochs\"")
    );
    assert!(dom.contains("members 193–256"), "the heatmap covers all 256 members");
    assert!(!dom.contains("id=\"controls\""), "no playback for a large run");
    assert!(dom.contains("messages sent"), "{}", between(&dom, "<p id=\"totals\"", "</p>"));
}

/// `fraclab report DIR` writes report.html again, byte for byte, from the
/// trace and summary alone; without a summary it is bad input.
#[test]
fn fraclab_report_regenerates_report_html_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["fractional-attack-n3", "crash-recover", "ring-collusion"] {
        let out = tmp.path().join(name);
        let o = fraclab(
            &["run", sc_path(name).to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"],
            tmp.path(),
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let first = fs::read(out.join("report.html")).unwrap();
        fs::remove_file(out.join("report.html")).unwrap();
        let r = fraclab(&["report", out.to_str().unwrap()], tmp.path());
        assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
        assert!(fs::read(out.join("report.html")).unwrap() == first, "{name}: report.html differs");
        // Self-contained: nothing is fetched from anywhere.
        let text = String::from_utf8(first).unwrap();
        for remote in ["http://", "https://", "src=\"", "<link"] {
            let hits: Vec<&str> =
                text.lines().filter(|l| l.contains(remote) && !l.contains("www.w3.org/2000/svg")).collect();
            assert!(hits.is_empty(), "{name}: {remote} in {hits:?}");
        }
    }
    let e = fraclab(&["report", "nowhere"], tmp.path());
    assert_eq!(e.status.code(), Some(2));
    assert!(stderr(&e).contains("no summary.json"), "{}", stderr(&e));
}

/// The committed walkthroughs stay within 2 MB for the bundled scenarios
/// with n ≤ 8, and no text in the page is smaller than 12 px.
#[test]
fn reports_are_small_and_legible() {
    for entry in fs::read_dir(repo_root().join("results")).unwrap() {
        let dir = entry.unwrap().path();
        let (summary, page) = (dir.join("summary.json"), dir.join("report.html"));
        if !summary.exists() {
            continue;
        }
        let s: serde_json::Value = serde_json::from_str(&fs::read_to_string(&summary).unwrap()).unwrap();
        assert!(page.exists(), "{} has no report.html", dir.display());
        if s["members"].as_u64().unwrap() <= 8 {
            let len = fs::metadata(&page).unwrap().len();
            assert!(len <= 2 << 20, "{}: {len} bytes", page.display());
        }
    }
    let template = fs::read_to_string(repo_root().join("src/report/plot/walkthrough.html")).unwrap();
    let sizes = regex_sizes(&template);
    assert!(!sizes.is_empty());
    assert!(sizes.iter().all(|&px| px >= 12), "font sizes {sizes:?}");
}

/// Every `font-size: Npx` and SVG `"font-size": N` in the template.
fn regex_sizes(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for (pat, tail) in [("font-size: ", "px"), ("\"font-size\": ", "")] {
        let mut rest = text;
        while let Some(i) = rest.find(pat) {
            rest = &rest[i + pat.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() && rest[digits.len()..].starts_with(tail) {
                out.push(digits.parse().unwrap());
            }
        }
    }
    out
}

/// The page's data, as the script reads it.
fn page_data(page: &Path) -> serde_json::Value {
    let html = fs::read_to_string(page).unwrap();
    let start = "<script type=\"application/json\" id=\"fraclab-data\">";
    let json = between(&html, start, "</script>")[start.len()..].replace("<\\/", "</");
    serde_json::from_str(&json).unwrap()
}

/// Holdings follow what views really hold: a message the channel refused
/// is held only until the refusal, a resend adds nothing twice, a value a
/// leak handed over is "handed" (not a derivation), and with the analysis
/// off no member is called safe.
#[test]
fn holdings_follow_refusals_resends_and_leaks() {
    let (_a, tamper) = run_bundled("sealed-tamper");
    let d = page_data(&tamper);
    let steps = d["steps"].as_array().unwrap();
    let refused: Vec<&serde_json::Value> =
        d["holds"].as_array().unwrap().iter().filter(|h| h[3] != -1).collect();
    assert!(!refused.is_empty(), "sealed-tamper refuses tampered messages");
    for h in &refused {
        assert_eq!(steps[h[3].as_u64().unwrap() as usize][2], "reject", "{h}");
    }
    let mut seen = std::collections::BTreeSet::new();
    for h in d["holds"].as_array().unwrap().iter().filter(|h| h[3] == -1) {
        assert!(seen.insert((h[1].as_u64(), h[2].as_str().unwrap().to_string())), "held twice: {h}");
    }
    let (_b, fa) = run_bundled("fractional-attack-n3");
    let d = page_data(&fa);
    let at = |seq: u64| d["steps"].as_array().unwrap().iter().find(|s| s[0] == seq).unwrap().clone();
    assert_eq!(at(85)[2], "handed");
    assert_eq!(at(88)[2], "handed", "member 3 was handed α[1,2] too: {}", at(88));
    assert_eq!(at(86)[2], "learn");
    if let Some(browser) = chromium() {
        let (_c, off) = run_bundled("vss-ring-cheater");
        let (dom, log) = dump(&browser, &off, "#seq=100000");
        clean(&dom, &log);
        let panel = between(&dom, "<div id=\"knowledge\"", "<div class=\"legend\"");
        assert!(panel.contains("the knowledge analysis was off"), "analysis off is said");
        assert!(!panel.contains("safe so far"), "no member is called safe without the analysis");
    }
}
