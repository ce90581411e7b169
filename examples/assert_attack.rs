//! A downstream-style regression test: the n = 3 fractional attack (two
//! members pool their fractional keys) compromises every member's secret.
//! Run it with `cargo run --example assert_attack`; it exits non-zero if the
//! attack stops working.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/fractional-attack-n3.toml");
    let scenario = fraclab::scenario::load(&path)?;
    let outcome = fraclab::run(&scenario, &fraclab::Options::default())?;
    assert_eq!(
        outcome.summary.compromised,
        Some(vec![1, 2, 3]),
        "the n = 3 attack no longer compromises 1, 2, 3"
    );
    assert!(outcome.summary.keys_agreed, "the honest protocol still agrees on the keys");
    println!("the n = 3 fractional attack compromises members 1, 2 and 3");
    Ok(())
}
