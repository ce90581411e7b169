//! reference §4: bad input names the file, line:column and key, exits 2 and
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
    rejected_bytes(toml.as_bytes())
}

/// [`rejected`] for a file of any bytes.
fn rejected_bytes(toml: &[u8]) -> String {
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

/// The reference names modes a later version implements; asking for them is a clear
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
    assert!(e.contains("bad.toml:21:15: adversary[0].probability: probability = 1 is out of range; allowed: a probability in [0, 1)"), "{e}");
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
            "bad.toml:24:6: adversary[0].to: invalid type: integer `5`, expected \"group\", \"outsider\" or a list of member ids",
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
        (
            "kind = \"nonsense\"",
            "bad.toml:20:8: adversary[0].kind: unknown kind \"nonsense\"; allowed: \"leak\"",
        ),
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
            "bad.toml:21:20: fault[0].groups: member 2 is in two groups (1 and 2); allowed: disjoint groups",
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

/// Issue 12: a partition must separate someone. An empty group, a member
/// named twice, and one group holding every member are refused at the
/// offending value.
#[test]
fn partitions_that_separate_nobody_are_refused() {
    let fault = |groups: &str| {
        rejected(&format!("{GOOD}\n[[fault]]\nkind = \"partition\"\ngroups = {groups}\nfrom_ms = 10\n"))
    };
    let e = fault("[[1, 2], []]");
    assert!(
        e.contains("bad.toml:21:19: fault[0].groups: group 2 is empty; allowed: groups of member ids"),
        "{e}"
    );
    let e = fault("[[1, 2, 3, 4]]");
    assert!(
        e.contains("bad.toml:21:10: fault[0].groups: a single group holding all 4 members separates nobody; allowed: two groups or more"),
        "{e}"
    );
    let e = fault("[[4, 2, 3, 1]]");
    assert!(e.contains("separates nobody"), "{e}");
    let e = fault("[[1, 1], [2]]");
    assert!(
        e.contains(
            "bad.toml:21:15: fault[0].groups: member 1 is twice in group 1; allowed: each member once"
        ),
        "{e}"
    );
    let e = fault("[[1], [2, 3, 9]]");
    assert!(e.contains("bad.toml:21:23: fault[0].groups: groups = 9 is not a member; allowed: 1..=4"), "{e}");
    // One group that leaves members out separates it from them: accepted.
    let ok = format!("{GOOD}\n[[fault]]\nkind = \"partition\"\ngroups = [[1, 2, 3]]\nfrom_ms = 10\n");
    fraclab::scenario::parse(&ok, "ok.toml").expect("one group and the rest is a partition");
}

/// Issue 12: a type error inside a tagged table names the field and points
/// at its value, not at the table header.
#[test]
fn type_errors_in_tagged_tables_point_at_the_field() {
    let crash = |body: &str| rejected(&format!("{GOOD}\n[[fault]]\nkind = \"crash\"\n{body}\n"));
    let e = crash("member = 4294967296\nat_ms = 5");
    assert!(
        e.contains("bad.toml:21:10: fault[0].member: member = 4294967296 is not a member; allowed: 1..=4"),
        "{e}"
    );
    let e = crash("member = \"two\"\nat_ms = 5");
    assert!(
        e.contains("bad.toml:21:10: fault[0].member: invalid type: string \"two\", expected an integer"),
        "{e}"
    );
    let e = crash("member = 2\nat = { epoch = \"one\", when = \"before-send\" }");
    assert!(
        e.contains("bad.toml:22:16: fault[0].at.epoch: invalid type: string \"one\", expected an integer"),
        "{e}"
    );
    let e = crash("member = 2\nat_ms = -5");
    assert!(e.contains("bad.toml:22:9: fault[0].at_ms: at_ms = -5 is out of range"), "{e}");
    let adv = |body: &str| rejected(&format!("{GOOD}\n[[adversary]]\n{body}\n"));
    let e = adv("kind = \"tamper\"\nprobability = \"high\"");
    assert!(
        e.contains(
            "bad.toml:21:15: adversary[0].probability: invalid type: string \"high\", expected a number"
        ),
        "{e}"
    );
    let e = adv("kind = \"coalition\"\nmembers = [1, 2, 7]");
    assert!(e.contains("bad.toml:21:18: adversary[0].members: members = 7 is not a member"), "{e}");
    let e = adv("kind = \"replay\"\nprobability = 0.5\nsenders = [1, \"x\"]");
    assert!(e.contains("bad.toml:22:15: adversary[0].senders[1]: invalid type: string \"x\""), "{e}");
    let e = adv("kind = 7");
    assert!(e.contains("bad.toml:20:8: adversary[0].kind: expected a string; allowed: \"leak\""), "{e}");
    let e = adv("member = 2");
    assert!(e.contains("bad.toml:19:1: adversary[0]: missing field `kind`; allowed: \"leak\""), "{e}");
    let e = adv("kind = \"eavesdroper\"");
    assert!(
        e.contains("adversary[0].kind: unknown kind \"eavesdroper\"; did you mean \"eavesdropper\"?"),
        "{e}"
    );
}

/// Issue 12: messages describe shapes in the user's terms, never by this
/// crate's type names.
#[test]
fn no_internal_type_names_reach_a_message() {
    let e = rejected(&format!("{GOOD}\n[[fault]]\nkind = \"crash\"\nmember = 2\nat = 5\n"));
    assert!(
        e.contains("bad.toml:22:6: fault[0].at: invalid type: integer `5`, expected a table like { epoch = 3, when = \"before-send\" }"),
        "{e}"
    );
    let e = rejected("name = \"x\"\nprotocol = 5\n[group]\nparams = \"toy-64\"\n");
    assert!(
        e.contains("bad.toml:2:12: protocol: invalid type: integer `5`, expected a [protocol] table"),
        "{e}"
    );
    let e = rejected(&with("loss = 0.1", "latency_ms = 5"));
    assert!(
        e.contains("network.latency_ms: invalid type: integer `5`, expected a table like { dist ="),
        "{e}"
    );
    let e = rejected(&format!("{GOOD}\n[[adversary]]\nkind = \"dlog\"\nview = 1.5\n"));
    assert!(e.contains("bad.toml:21:8: adversary[0].view: invalid type: floating point `1.5`, expected \"outsider\" or a member id"), "{e}");
    let e = rejected(&with("[group]", "fault = 3\n[group]"));
    assert!(e.contains("bad.toml:4:9: fault: expected [[fault]] tables"), "{e}");
    for e in [e, rejected(&with("keys_agreed = true", "keys_agreed = 1"))] {
        assert!(!e.contains("Raw") && !e.contains("serde") && !e.contains("untagged"), "{e}");
    }
}

/// Issue 12: `duplicate key` names the key, at the second one.
#[test]
fn duplicate_keys_are_named() {
    let e = rejected(&with("members = 4", "members = 4\nmembers = 5"));
    assert!(
        e.contains(
            "bad.toml:9:1: protocol.members: duplicate key `members`: it is already set in this table"
        ),
        "{e}"
    );
    let e = rejected(&format!("{GOOD}\n[[fault]]\nkind = \"crash\"\nmember = 2\nmember = 3\n"));
    assert!(e.contains("bad.toml:22:1: fault[0].member: duplicate key `member`"), "{e}");
    let e = rejected(&format!("{GOOD}\n[network]\nloss = 0.2\n"));
    assert!(e.contains("bad.toml:19:2: network: duplicate key `network`"), "{e}");
}

/// Issue 12: a file that is not UTF-8 gets the line:column of its first
/// bad byte.
#[test]
fn non_utf8_is_located() {
    let bytes = GOOD.replace("toy-64", "toy\u{1}64").into_bytes();
    let bytes: Vec<u8> = bytes.into_iter().map(|b| if b == 1 { 0xff } else { b }).collect();
    let e = rejected_bytes(&bytes);
    assert!(
        e.contains("bad.toml:5:14: (file): the file is not valid UTF-8 (byte 0xff); allowed: UTF-8 text"),
        "{e}"
    );
    let mut bytes = GOOD.as_bytes().to_vec();
    bytes.extend_from_slice("# δ\n# \u{e9}".as_bytes());
    bytes.pop();
    let e = rejected_bytes(&bytes);
    assert!(e.contains("bad.toml:19:3: (file): the file is not valid UTF-8 (byte 0xc3)"), "{e}");
}

/// Issue 12: a 10,000-character value is not echoed in full.
#[test]
fn long_values_are_clipped() {
    let long = "x".repeat(10_000);
    let cases = [
        with("\"ok\"", &format!("\"{long}\"")),
        with("\"sm\"", &format!("\"{long}\"")),
        with("members = 4", &format!("members = \"{long}\"")),
        with("epochs = 2", &format!("epochs = 2\n{long} = 1")),
        with("loss = 0.1", "loss = 1e300"),
        format!("{GOOD}\n[[adversary]]\nkind = \"{long}\"\n"),
        format!("{GOOD}\n[[adversary]]\nkind = \"leak\"\nmember = 1\nepoch = 1\nsecret = \"{long}\"\n"),
    ];
    for toml in cases {
        let e = rejected(&toml);
        assert!(e.chars().count() < 400, "{} chars: {}", e.len(), &e[..400.min(e.len())]);
        assert!(e.contains("…") || e.contains("1e300"), "{e}");
    }
}

/// Issue 12: an unknown key gets the closest allowed one as a suggestion.
#[test]
fn unknown_keys_suggest_the_closest() {
    let e = rejected(&with("epochs = 2", "epoch = 2"));
    assert!(
        e.contains(
            "bad.toml:11:1: protocol.epoch: unknown field `epoch`; did you mean `epochs`? allowed: `members`"
        ),
        "{e}"
    );
    let e = rejected(&format!("{GOOD}\n[[fault]]\nkind = \"crash\"\nmembr = 2\n"));
    assert!(
        e.contains("bad.toml:21:1: fault[0].membr: unknown field `membr`; did you mean `member`?"),
        "{e}"
    );
    assert!(e.contains("`at_ms`") && e.contains("`kind`"), "{e}");
    let e = rejected(&with("[expect]", "[[faults]]\nkind = \"crash\"\n[expect]"));
    assert!(e.contains("faults: unknown field `faults`; did you mean `fault`?"), "{e}");
    let e = rejected(&with("epochs = 2", "epochs = 2\ncolour = 1"));
    assert!(e.contains("unknown field `colour`; allowed:"), "{e}");
    let e = rejected(&with("\"sm\"", "\"rign\""));
    assert!(e.contains("unknown value \"rign\"; did you mean \"ring\"?"), "{e}");
}

/// XOR values are not exponents: ElGamal, commitments and the dlog
/// adversary are refused at the key that asks for them, and so are a
/// `params` beside `operator = "xor"` and `bits` without it.
#[test]
fn xor_refuses_what_needs_exponents_at_the_key() {
    let xor = with("params = \"toy-64\"", "operator = \"xor\"\nbits = 128");
    let e = rejected(&xor.replacen("keygen = \"additive\"", "keygen = \"elgamal\"", 1));
    assert!(e.contains("bad.toml:11:10: protocol.keygen:"), "{e}");
    assert!(e.contains("XOR values are not exponents") && e.contains("\"additive\""), "{e}");
    let e = rejected(&xor.replacen("epochs = 2", "epochs = 2\nverify = \"commitments\"", 1));
    assert!(e.contains("protocol.verify:") && e.contains("not exponents"), "{e}");
    let e = rejected(&format!("{xor}\n[[adversary]]\nkind = \"dlog\"\n"));
    assert!(e.contains("adversary[0].kind:") && e.contains("dlog"), "{e}");
    let e = rejected(&with("params = \"toy-64\"", "params = \"toy-64\"\noperator = \"xor\""));
    assert!(e.contains("bad.toml:5:10: group.params:") && e.contains("remove params"), "{e}");
    let e = rejected(&with("params = \"toy-64\"", "params = \"toy-64\"\nbits = 64"));
    assert!(e.contains("group.bits:") && e.contains("bits beside params"), "{e}");
    let e = rejected(&with("params = \"toy-64\"", "operator = \"xor\"\nbits = 4097"));
    assert!(e.contains("group.bits:") && e.contains("allowed: 8..=4096"), "{e}");
    let e = rejected(&with("params = \"toy-64\"", "operator = \"nand\""));
    assert!(e.contains("group.operator:") && e.contains("\"add\", \"xor\""), "{e}");
    let e = rejected(&with("params = \"toy-64\"", ""));
    assert!(e.contains("group.params: missing field `params`") && e.contains("operator = \"xor\""), "{e}");
}
