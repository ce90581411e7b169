//! The scenario library: a builder with the reference's defaults, inline
//! TOML, and overrides by dotted key that run the file loader's checks and
//! give its error text.
//!
//! An override's error is compared with the file's without the
//! `file:line:col:` prefix: the loader checks TOML generated from the
//! settings, whose lines the user never wrote, so an override's error
//! names the scenario's origin and the key but no line:column
//! ([`LoadError::Setting`]).

use std::panic::{AssertUnwindSafe, catch_unwind};

use fraclab::lab::sweep::Plan;
use fraclab::scenario::{self, Channel, Keygen, LoadError, Scenario};
use proptest::prelude::*;

/// A scenario with every section the overrides below touch.
const BASE: &str = r#"name = "api"
seed = 7

[group]
params = "toy-64"

[protocol]
members = 4
init = "ring"
keygen = "additive"
epochs = 2

[network]
loss = 0.1

[[adversary]]
kind = "coalition"
members = [1, 3]

[[fault]]
kind = "crash"
member = 4
at_ms = 100
"#;

/// `key: message` of a file error, which must be located (line:col ≥ 1).
fn file_error(text: &str) -> String {
    match scenario::parse(text, "f.toml").expect_err("the edited file is invalid") {
        e @ LoadError::Invalid { line, col, .. } if line >= 1 && col >= 1 => e.without_location(),
        e => panic!("not a located file error: {e}"),
    }
}

/// `key: message` of an override error, which must be a `Setting` error
/// naming the scenario's file.
fn override_error(key: &str, value: toml::Value) -> String {
    let mut sc = scenario::parse(BASE, "f.toml").unwrap();
    let before = sc.clone();
    let e = sc.set(key, value).expect_err("the override is invalid");
    assert_eq!(sc, before, "a refused override leaves the scenario as it was");
    assert!(matches!(&e, LoadError::Setting { file, .. } if file == "f.toml"), "{e:?}");
    assert_eq!(e.to_string(), format!("f.toml: {}", e.without_location()));
    e.without_location()
}

/// An out-of-range or unknown value set by dotted key gives the error the
/// file gives for the same value written in it.
#[test]
fn an_override_out_of_range_errs_as_the_file_does() {
    let cases: [(&str, toml::Value, &str, &str); 6] = [
        ("protocol.members", 5000.into(), "members = 4", "members = 5000"),
        ("protocol.epochs", 100_001.into(), "epochs = 2", "epochs = 100001"),
        ("protocol.init", "rign".into(), "init = \"ring\"", "init = \"rign\""),
        ("network.loss", 1.5.into(), "loss = 0.1", "loss = 1.5"),
        ("fault.0.member", 9.into(), "member = 4", "member = 9"),
        ("adversary.0.members", vec![1, 1].into(), "members = [1, 3]", "members = [1, 1]"),
    ];
    for (key, value, from, to) in cases {
        let file = file_error(&BASE.replacen(from, to, 1));
        assert_eq!(override_error(key, value), file, "{key}");
    }
    assert_eq!(
        override_error("protocol.members", 5000.into()),
        "protocol.members: 5000 is out of range; allowed: 2..=4096"
    );
}

/// Setting a key that does not exist is refused with the file's "unknown
/// field" error, suggestion included.
#[test]
fn an_unknown_key_errs_as_the_file_does() {
    let file = file_error(&BASE.replacen("epochs = 2", "epochs = 2\nmember = 3", 1));
    assert_eq!(override_error("protocol.member", 3.into()), file);
    assert!(file.contains("did you mean `members`?"), "{file}");
}

/// Lowering n below a coalition member's id makes the scenario
/// inconsistent: the override is refused with the file's error for n = 2.
#[test]
fn an_override_that_makes_the_scenario_inconsistent_is_refused() {
    let file = file_error(&BASE.replacen("members = 4", "members = 2", 1));
    assert_eq!(override_error("protocol.members", 2.into()), file);
    assert_eq!(file, "adversary[0].members: members = 3 is not a member; allowed: 1..=2");
}

/// `--vary` refuses a value with the same key and message as the override
/// API and the file.
#[test]
fn vary_errs_as_the_override_does() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("api.toml");
    std::fs::write(&path, BASE).unwrap();
    let e = Plan::new(&path, &["protocol.members=5000".to_string()], 1).unwrap_err().to_string();
    let expected =
        format!("--vary protocol.members=5000: {}", override_error("protocol.members", 5000.into()));
    assert!(e.ends_with(&expected), "{e}");
}

/// The builder's defaults are the loader's: `builder().members(5)` is the
/// scenario of a file with only the required keys (set to the builder's
/// values), and of the same text given inline.
#[test]
fn builder_defaults_equal_a_minimal_files() {
    let minimal = "name = \"scenario\"\n[group]\nparams = \"toy-64\"\n[protocol]\n\
                   members = 5\ninit = \"ring\"\nkeygen = \"additive\"\nepochs = 1\n";
    let built = Scenario::builder().members(5).build().unwrap();
    let file = scenario::parse(minimal, "minimal.toml").unwrap();
    assert_eq!(built, file);
    assert_eq!(Scenario::from_toml(minimal).unwrap(), file);
    assert_eq!(format!("{:?}", built.sim_config()), format!("{:?}", file.sim_config()));
    assert_eq!(built.seed(), scenario::defaults::SEED);
    assert_eq!(built.channel(), scenario::defaults::CHANNEL);
    assert_eq!(built.rekey_interval_ms(), scenario::defaults::REKEY_INTERVAL_MS);
    assert_eq!(built.network().latency, scenario::defaults::LATENCY);
    assert_eq!((built.origin(), file.origin()), ("<builder>", "minimal.toml"));
    let other =
        Scenario::builder().members(5).keygen(Keygen::Elgamal).channel(Channel::Sealed).build().unwrap();
    assert_ne!(other, file, "equality compares the settings");
}

/// A builder's typed setter gives the file's error too, naming `<builder>`.
#[test]
fn builder_errors_are_the_files() {
    let minimal = "name = \"scenario\"\n[group]\nparams = \"toy-64\"\n[protocol]\n\
                   members = 1\ninit = \"ring\"\nkeygen = \"additive\"\nepochs = 1\n";
    let e = Scenario::builder().members(1).build().unwrap_err();
    assert_eq!(e.to_string(), format!("<builder>: {}", file_error(minimal)));
    let e = Scenario::builder().set("adversary.0.kind", "leak").unwrap_err();
    assert_eq!(
        e.to_string(),
        "<builder>: adversary.0.kind: the scenario has no [[adversary]] entries to index"
    );
}

/// Inline TOML errors are located in the text and name `<inline>`.
#[test]
fn inline_errors_name_inline() {
    let e = Scenario::from_toml(&BASE.replacen("loss = 0.1", "loss = 2", 1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "<inline>:14:8: network.loss: 2 is out of range; allowed: a probability in [0, 1) (0 ≤ p < 1)"
    );
}

/// An override that is valid changes that setting alone; the seed set in
/// code survives later overrides.
#[test]
fn valid_overrides_apply() {
    let mut sc = scenario::parse(BASE, "f.toml").unwrap();
    let hash = sc.source_sha256().to_string();
    sc.set_seed(u64::MAX);
    assert_eq!(sc.source_sha256(), hash, "a seed does not change the source");
    sc.set("protocol.members", 6).unwrap();
    sc.set("adversary.0.members", vec![2, 5]).unwrap();
    assert_eq!((sc.members(), sc.seed(), sc.network().loss), (6, u64::MAX, 0.1));
    sc.set("seed", 3).unwrap();
    assert_eq!(sc.seed(), 3, "setting the key replaces the seed set in code");
}

/// Keys and values for the proptest: real keys, near misses and nonsense.
fn key() -> impl Strategy<Value = String> {
    let step = prop_oneof![
        Just("protocol".to_string()),
        Just("members".to_string()),
        Just("epochs".to_string()),
        Just("init".to_string()),
        Just("network".to_string()),
        Just("loss".to_string()),
        Just("latency_ms".to_string()),
        Just("dist".to_string()),
        Just("adversary".to_string()),
        Just("fault".to_string()),
        Just("member".to_string()),
        Just("at_ms".to_string()),
        Just("expect".to_string()),
        Just("output".to_string()),
        Just("seed".to_string()),
        Just("name".to_string()),
        (0usize..3).prop_map(|i| i.to_string()),
        "[a-z_]{0,6}",
        ".{0,4}",
    ];
    prop::collection::vec(step, 0..5).prop_map(|s| s.join("."))
}

fn value() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        any::<i64>().prop_map(toml::Value::Integer),
        (-3i64..10).prop_map(toml::Value::Integer),
        any::<f64>().prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
        ".{0,8}".prop_map(toml::Value::String),
        prop::collection::vec(-1i64..6, 0..4).prop_map(|v| v.into()),
        Just(toml::Value::Table(toml::Table::new())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random dotted keys and values never panic: an override is applied
    /// and the result re-validates to the same scenario, or it is refused
    /// with a one-line error and the scenario is unchanged.
    #[test]
    fn random_overrides_never_panic(sets in prop::collection::vec((key(), value()), 1..4)) {
        let mut sc = scenario::parse(BASE, "f.toml").unwrap();
        for (k, v) in sets {
            let before = sc.clone();
            let result = catch_unwind(AssertUnwindSafe(|| sc.set(&k, v.clone())));
            let result = result.map_err(|_| TestCaseError::fail(format!("panic on {k} = {v}")))?;
            match result {
                Ok(()) => prop_assert_eq!(sc.to_builder().build().unwrap(), sc.clone()),
                Err(e) => {
                    prop_assert_eq!(&sc, &before);
                    let text = e.to_string();
                    prop_assert!(text.starts_with("f.toml: ") && !text.contains('\n'), "{}", text);
                }
            }
        }
    }
}
