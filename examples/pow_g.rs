//! Benchmark: g^e by the fixed-base table against plain `modpow`, per
//! parameter set. `cargo run --release --example pow_g`.

use std::time::Instant;

use fraclab::group::{PARAMS_NAMES, by_name};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn main() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    println!("{:<18} {:>12} {:>12} {:>8}", "params", "modpow µs", "fixed µs", "speedup");
    for name in PARAMS_NAMES {
        let g = by_name(name).expect("a named set");
        let exps: Vec<_> = (0..200).map(|_| g.random_scalar(&mut rng)).collect();
        g.pow_g(&exps[0]); // build the table outside the timing
        let t = Instant::now();
        let plain: Vec<_> = exps.iter().map(|e| g.g.modpow(e.as_biguint(), &g.p)).collect();
        let modpow_us = t.elapsed().as_secs_f64() * 1e6 / exps.len() as f64;
        let t = Instant::now();
        let fixed: Vec<_> = exps.iter().map(|e| g.pow_g(e)).collect();
        let fixed_us = t.elapsed().as_secs_f64() * 1e6 / exps.len() as f64;
        assert!(plain.iter().zip(&fixed).all(|(a, b)| a == b.as_biguint()));
        println!("{name:<18} {modpow_us:>12.1} {fixed_us:>12.1} {:>7.1}×", modpow_us / fixed_us);
    }
}
