//! SPEC §4: bad input names the file, line:column and key, exits 2 and
//! writes nothing.

use std::fs;

use crate::harness::{fraclab, stderr};

const GOOD: &str = r#"name = "ok"
seed = 4

[group]
params = "toy-64"

[protocol]
members = 4
init = "sm"
keygen = "additive"
epochs = 2

[network]
loss = 0.1

[expect]
keys_agreed = true
"#;

/// Runs `fraclab run` on `toml` and returns its stderr, after checking the
/// exit status is 2 and that nothing was written.
fn rejected(toml: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.toml");
    fs::write(&file, toml).unwrap();
    let out_dir = tmp.path().join("out");
    let o = fraclab(&["run", "bad.toml", "--out", "out"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(&o));
    assert!(!out_dir.exists(), "something was written for a bad scenario");
    assert!(!tmp.path().join("results").exists());
    stderr(&o)
}

fn with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from));
    GOOD.replacen(from, to, 1)
}

#[test]
fn the_reference_scenario_is_good() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("ok.toml"), GOOD).unwrap();
    let o = fraclab(&["run", "ok.toml", "--out", "out", "--quiet"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(tmp.path().join("out/summary.json").exists());
}

#[test]
fn malformed_toml_names_line_and_column() {
    let e = rejected(&with("[network]", "[network"));
    assert!(e.contains("bad.toml:13:"), "{e}");
    assert!(e.contains("malformed TOML"), "{e}");
}

#[test]
fn unknown_key_is_named_with_what_is_allowed() {
    let e = rejected(&with("epochs = 2", "epochs = 2\nepoch = 3"));
    assert!(e.contains("bad.toml:12:1: protocol.epoch: unknown field `epoch`"), "{e}");
    assert!(e.contains("`members`"), "lists the allowed keys: {e}");
}

#[test]
fn wrong_type_is_named() {
    let e = rejected(&with("members = 4", "members = \"four\""));
    assert!(e.contains("bad.toml:8:11: protocol.members: invalid type: string \"four\""), "{e}");
}

#[test]
fn members_over_the_limit_is_out_of_range() {
    let e = rejected(&with("members = 4", "members = 5000"));
    assert!(e.contains("bad.toml:8:11: protocol.members: 5000 is out of range; allowed: 2..=4096"), "{e}");
}

#[test]
fn loss_of_one_is_out_of_range() {
    let e = rejected(&with("loss = 0.1", "loss = 1.0"));
    assert!(
        e.contains("bad.toml:14:8: network.loss: 1 is out of range; allowed: a probability in [0, 1)"),
        "{e}"
    );
}

#[test]
fn unknown_params_lists_the_named_sets() {
    let e = rejected(&with("\"toy-64\"", "\"toy-99\""));
    assert!(e.contains("bad.toml:5:10: group.params: unknown parameter set \"toy-99\""), "{e}");
    assert!(e.contains("\"modp-2048\"") && e.contains("\"rfc5114-2048-256\""), "{e}");
}

#[test]
fn missing_file_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let o = fraclab(&["run", "nope.toml", "--out", "out"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.toml: cannot read the scenario"), "{}", stderr(&o));
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn missing_required_key_is_named() {
    let e = rejected(&with("keygen = \"additive\"\n", ""));
    assert!(e.contains("protocol: missing field `keygen`"), "{e}");
}

/// SPEC names modes a later version implements; asking for them is a clear
/// error, not a silent fallback.
#[test]
fn feature_combinations_are_refused_clearly() {
    let e = rejected(&with("epochs = 2", "epochs = 2\nchannel = \"secret\""));
    assert!(
        e.contains("protocol.channel: unknown value \"secret\"; allowed: \"plain\", \"ideal\", \"sealed\""),
        "{e}"
    );
    let wire = |lines: &str| rejected(&format!("{GOOD}\n[[adversary]]\n{lines}\n"));
    let e = wire("kind = \"tamper\"\nprobability = 1.0");
    assert!(e.contains("bad.toml:19:1: adversary[0].probability: probability = 1 is out of range; allowed: a probability in [0, 1)"), "{e}");
    let e = wire("kind = \"forge\"");
    assert!(e.contains("adversary[0]: missing field `probability`"), "{e}");
    let e = wire("kind = \"replay\"\nprobability = 0.1\nsenders = [5]");
    assert!(e.contains("adversary[0].senders: 5 is not a party; allowed: ids in 0..=4 (0 is the SM)"), "{e}");
    let e = wire("kind = \"replay\"\nprobability = 0.1\nmodes = [\"X\"]");
    assert!(e.contains("adversary[0].modes: mode \"X\" is unknown; allowed: \"I\", \"G\", \"R\""), "{e}");
    let e = wire("kind = \"tamper\"\nprobability = 0.1\n[output]\nanalysis = true");
    assert!(e.contains("output.analysis: the knowledge analysis models honest-but-curious members; tampered and forged payloads on an unsealed channel"), "{e}");
    let e = rejected(&with("keys_agreed = true", "rejected = [\"bogus\"]"));
    assert!(
        e.contains("expect.rejected: \"bogus\" is not a rejection reason; allowed: \"wrong-recipient\""),
        "{e}"
    );
    let e = rejected(&with("keys_agreed = true", "detected = [5]"));
    assert!(e.contains("expect.detected: 5 is not a party; allowed: ids in 0..=4 (0 is the SM)"), "{e}");
    let e =
        rejected(&with("init = \"sm\"", "init = \"ring\"").replace("keys_agreed = true", "detected = [0]"));
    assert!(e.contains("allowed: ids in 1..=4 (0, the SM, only with init = \"sm\")"), "{e}");
    let e = rejected(
        &with("init = \"sm\"", "init = \"ring-hardened\"")
            .replace("epochs = 2", "epochs = 2\nverify = \"commitments\""),
    );
    assert!(e.contains("protocol.verify: commitments verify the SM's pads"), "{e}");
    let cheat = "\n[[adversary]]\nkind = \"cheat\"\nmember = 1\nphase = \"init\"\n";
    let e = rejected(&format!("{GOOD}{cheat}"));
    assert!(e.contains("adversary[0].phase: a member cheats in initialisation by its ring δ"), "{e}");
    let cheat = "\n[[adversary]]\nkind = \"cheat\"\nmember = 1\nphase = \"keygen\"\nepoch = 3\n";
    let e = rejected(&format!("{GOOD}{cheat}"));
    assert!(e.contains("adversary[0].epoch: epoch = 3"), "{e}");
    let e = rejected(&format!(
        "{GOOD}\n[[adversary]]\nkind = \"sm-cheat\"\nmember = 2\n[output]\nanalysis = true\n"
    ));
    assert!(e.contains("bad.toml:23:12: output.analysis: the knowledge analysis models"), "{e}");
    let twice =
        "\n[[adversary]]\nkind = \"sm-cheat\"\nmember = 2\n[[adversary]]\nkind = \"sm-cheat\"\nmember = 4\n";
    let e = rejected(&format!("{GOOD}{twice}"));
    assert!(e.contains("adversary[1].kind: the SM already cheats in an earlier [[adversary]]; allowed: one cheat per party"), "{e}");
    let e = rejected(
        &with("init = \"sm\"", "init = \"ring-hardened\"")
            .replace("epochs = 2", "epochs = 2\nverify = \"commitments\""),
    );
    assert!(e.contains("bad.toml:12:10: protocol.verify:"), "{e}");
}

#[test]
fn other_range_checks() {
    let e =
        rejected(&with("loss = 0.1", "loss = 0.1\nlatency_ms = { dist = \"uniform\", min = 50, max = 5 }"));
    assert!(e.contains("network.latency_ms: min = 50 is above max = 5"), "{e}");
    let e = rejected(&with("loss = 0.1", "latency_ms = { dist = \"normal\", value = 5 }"));
    assert!(e.contains("unknown dist \"normal\""), "{e}");
    let e = rejected(&with("name = \"ok\"", "name = \"Has Spaces\""));
    assert!(e.contains("bad.toml:1:8: name:"), "{e}");
    let e = rejected(&with("seed = 4", "seed = -4"));
    assert!(e.contains("bad.toml:2:8: seed:"), "{e}");
    let e = rejected(&with("members = 4", "members = 4096").replace("epochs = 2", "epochs = 100"));
    assert!(e.contains("protocol.epochs:") && e.contains("over the limit of 1000000000"), "{e}");
}

/// Review findings: the key path never shows serde internals; latency
/// errors name the missing or extra field.
#[test]
fn keys_and_fields_are_named_as_the_user_wrote_them() {
    for bad in ["-1", "100001", "\"3\"", "2.5"] {
        let e = rejected(&with("epochs = 2", &format!("epochs = {bad}")));
        assert!(e.contains("bad.toml:11:10: protocol.epochs: "), "{e}");
        assert!(!e.contains("serde"), "{e}");
    }
    let e = rejected(&with("loss = 0.1", "latency_ms = { dist = \"uniform\", min = 5, value = 3 }"));
    assert!(e.contains("dist = \"uniform\": missing max; value not allowed with it"), "{e}");
}

/// `--out` naming a file, and `check` of a folder with no scenarios, are
/// usage errors (exit 2) with a message.
#[test]
fn out_on_a_file_and_an_empty_check_folder_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("ok.toml"), GOOD).unwrap();
    fs::write(tmp.path().join("afile"), "").unwrap();
    let o = fraclab(&["run", "ok.toml", "--out", "afile"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--out afile: exists and is not a folder"), "{}", stderr(&o));
    fs::create_dir(tmp.path().join("empty")).unwrap();
    let o = fraclab(&["check", "empty"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no scenarios (*.toml) found in empty"), "{}", stderr(&o));
}

/// Adversary tables: each error names the table and the field, and says
/// what is allowed; settings that cannot mean anything are refused.
#[test]
fn adversary_errors_name_the_field_and_refuse_empty_settings() {
    let adv = |body: &str| format!("{GOOD}\n[[adversary]]\n{body}\n");
    let cases = [
        (
            "kind = \"leak\"\nmember = 9\nsecret = \"alpha\"\nepoch = 2",
            "adversary[0].member: member = 9 is not a member; allowed: 1..=4",
        ),
        ("kind = \"leak\"\nmember = 1\nsecret = \"alpha\"\nepoch = 9", "adversary[0].epoch: epoch = 9"),
        (
            "kind = \"leak\"\nmember = 1\nsecret = \"pad\"\nepoch = 2",
            "adversary[0].secret: secret = \"pad\" is unknown",
        ),
        (
            "kind = \"leak\"\nmember = 1\nsecret = \"alpha\"\nepoch = 2\nto = 5",
            "to: allowed: \"group\", \"outsider\" or a list of member ids",
        ),
        (
            "kind = \"leak\"\nmember = 1\nsecret = \"alpha\"\nepoch = 2\nto = [1]",
            "adversary[0].to: the leak reaches nobody",
        ),
        (
            "kind = \"eavesdropper\"\nmodes = []",
            "adversary[0].modes: an eavesdropper tapping no mode sees nothing",
        ),
        (
            "kind = \"coalition\"\nmembers = [1, 2, 3, 4]",
            "adversary[0].members: a coalition of all 4 members",
        ),
        (
            "kind = \"coalition\"\nmembers = [2, 2]",
            "adversary[0].members: a coalition needs at least two distinct members",
        ),
        ("kind = \"ring-collusion\"\ntarget = 2", "ring-collusion attacks the ring initialisation"),
        ("kind = \"nonsense\"", "adversary[0].kind: unknown variant `nonsense`"),
    ];
    for (body, want) in cases {
        let e = rejected(&adv(body));
        assert!(e.contains(want), "{body}\n→ {e}");
    }
}

/// Fault tables: the same care.
#[test]
fn fault_errors_name_the_field() {
    let fault = |body: &str| format!("{GOOD}\n[[fault]]\n{body}\n");
    let cases = [
        (
            "kind = \"crash\"\nmember = 2",
            "fault[0]: a crash needs exactly one of at = { epoch, when } and at_ms",
        ),
        (
            "kind = \"crash\"\nmember = 2\nat = { epoch = 9, when = \"before-send\" }",
            "fault[0].at.epoch: at.epoch = 9",
        ),
        (
            "kind = \"crash\"\nmember = 2\nat = { epoch = 1, when = \"during\" }",
            "fault[0].at.when: at.when = \"during\" is unknown",
        ),
        (
            "kind = \"partition\"\ngroups = [[1, 2], [2, 3]]\nfrom_ms = 10",
            "fault[0]: member 2 is in two groups",
        ),
        (
            "kind = \"partition\"\ngroups = [[1, 2]]\nfrom_ms = 10\nuntil_ms = 5",
            "from_ms must be before until_ms",
        ),
    ];
    for (body, want) in cases {
        let e = rejected(&fault(body));
        assert!(e.contains(want), "{body}\n→ {e}");
    }
}
