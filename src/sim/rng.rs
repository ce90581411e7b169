//! Seeded randomness: one scenario seed split into named ChaCha20 streams,
//! one per purpose ("sm", "member/3", "network", "clock"), so that adding a
//! consumer of randomness never shifts another's draws (reference §8).

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

/// The stream for `label`: ChaCha20 keyed by
/// SHA-256("fraclab/rng/v1" ‖ u64be seed ‖ 0x00 ‖ label).
pub fn stream(seed: u64, label: &str) -> ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(b"fraclab/rng/v1");
    h.update(seed.to_be_bytes());
    h.update([0u8]);
    h.update(label.as_bytes());
    ChaCha20Rng::from_seed(h.finalize().into())
}

/// A uniform float in [0, 1) from the top 53 bits of one draw.
pub fn unit_f64(rng: &mut dyn Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform integer in [lo, hi] (inclusive) from one draw, by the
/// multiply-shift reduction (bias below 2^-64 · span, irrelevant here).
pub fn uniform_i64(rng: &mut dyn Rng, lo: i64, hi: i64) -> i64 {
    debug_assert!(lo <= hi);
    let span = (hi - lo) as u128 + 1;
    lo + ((u128::from(rng.next_u64()) * span) >> 64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let a1 = stream(7, "network").next_u64();
        let a2 = stream(7, "network").next_u64();
        let b = stream(7, "member/1").next_u64();
        let c = stream(8, "network").next_u64();
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_ne!(a1, c);
    }

    #[test]
    fn uniform_stays_in_range() {
        let mut r = stream(1, "t");
        for _ in 0..1000 {
            let x = uniform_i64(&mut r, -3, 3);
            assert!((-3..=3).contains(&x));
        }
        let u = unit_f64(&mut r);
        assert!((0.0..1.0).contains(&u));
    }
}
