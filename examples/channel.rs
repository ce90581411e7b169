//! Benchmark: what the sealed channel costs. The same run (SM
//! initialisation, additive key generation, 20 % loss) on the ideal and on
//! the sealed channel, without a trace; messages simulated per second of
//! wall time. `cargo run --release --example channel`.

use std::time::Instant;

use fraclab::scenario;
use fraclab::sim::{self, NullRecorder};

fn main() {
    println!(
        "{:<10} {:>4} {:>8} {:>10} {:>10} {:>14}",
        "params", "n", "channel", "messages", "wall ms", "messages/s"
    );
    for (params, n, epochs) in [("toy-64", 16, 10), ("modp-2048", 16, 10), ("toy-64", 64, 3)] {
        let mut rates = Vec::new();
        for channel in ["ideal", "sealed"] {
            let sc = scenario::parse(
                &format!(
                    "name = \"bench\"\n[group]\nparams = \"{params}\"\n[protocol]\nmembers = {n}\ninit = \"sm\"\nkeygen = \"additive\"\nepochs = {epochs}\nchannel = \"{channel}\"\n[network]\nloss = 0.2\n"
                ),
                "bench.toml",
            )
            .expect("the benchmark scenario loads");
            let cfg = sc.sim_config();
            sim::run(&cfg, &mut NullRecorder).expect("warm-up run"); // tables, allocator
            let t = Instant::now();
            let mut messages = 0;
            let reps = 3;
            for _ in 0..reps {
                let out = sim::run(&cfg, &mut NullRecorder).expect("the run completes");
                assert!(out.verdict.keys_agreed);
                messages += out.messages_sent;
            }
            let secs = t.elapsed().as_secs_f64();
            let rate = messages as f64 / secs;
            rates.push(rate);
            println!(
                "{params:<10} {n:>4} {channel:>8} {:>10} {:>10.0} {rate:>14.0}",
                messages / reps,
                secs * 1e3 / reps as f64
            );
        }
        println!("{:<10} {n:>4} sealed costs {:.1}× the wall time of ideal", params, rates[0] / rates[1]);
    }
}
