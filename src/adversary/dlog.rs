//! The small-group attack on commitments (reference §4, `kind = "dlog"`): in a toy
//! group, anyone who can take discrete logs reads the secrets out of the
//! commitments g^v, g^δ, g^γ, g^α, g^θ, g^FK and ElGamal's public g^x. The attacker
//! runs Pollard's rho, bounded by a budget of group operations, on every
//! commitment its view sees. Commitments are public by design (they are
//! published so that everyone can check), so the outsider sees them on any
//! channel.
//!
//! Only groups with P < 2^64 are attacked (u64 arithmetic). Above that it
//! reports "not attempted: q has N bits" and does no work.

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use crate::group::{Element, GroupParams, Scalar};

/// What one attack on one commitment did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The exponent, and the group operations spent.
    Found {
        /// log_g(h), in Z_q.
        exponent: Scalar,
        /// Group operations spent on this logarithm.
        work: u64,
    },
    /// The budget ran out first.
    OutOfBudget {
        /// Group operations spent, never more than the budget.
        work: u64,
    },
}

fn mul(a: u64, b: u64, m: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(m)) as u64
}

fn pow(mut b: u64, mut e: u64, m: u64) -> u64 {
    let mut acc = 1u64 % m;
    b %= m;
    while e > 0 {
        if e & 1 == 1 {
            acc = mul(acc, b, m);
        }
        b = mul(b, b, m);
        e >>= 1;
    }
    acc
}

/// a⁻¹ mod the prime q.
fn inv(a: u64, q: u64) -> u64 {
    pow(a, q - 2, q)
}

/// Why a group is not attacked, if it is not.
pub fn refusal(g: &GroupParams) -> Option<String> {
    (g.p.bits() > 64).then(|| format!("not attempted: q has {} bits", g.q.bits()))
}

/// Pollard's rho for log_g(h) in the order-q subgroup of Z_P*, with at most
/// `budget` group operations (multiplications mod P; each walk step is
/// one, each random start about 3·bits(q)), never more. Deterministic: its random walk starts are
/// drawn from a ChaCha20 stream seeded by `seed`.
pub fn rho(g: &GroupParams, h: &Element, budget: u64, seed: u64) -> Outcome {
    assert!(refusal(g).is_none(), "rho runs on groups with P < 2^64");
    let to_u64 = |b: &num_bigint::BigUint| b.to_u64_digits().first().copied().unwrap_or(0);
    let (p, q, base, h) = (to_u64(&g.p), to_u64(&g.q), to_u64(&g.g), to_u64(h.as_biguint()));
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut work = 0u64;
    // One step: x·g, x², or x·h by x mod 3, tracking x = g^a·h^b.
    let step = |(x, a, b): (u64, u64, u64)| match x % 3 {
        0 => (mul(x, base, p), (a + 1) % q, b),
        1 => (mul(x, x, p), mul(a, 2, q), mul(b, 2, q)),
        _ => (mul(x, h, p), a, (b + 1) % q),
    };
    // A start costs two exponentiations, about 3·bits(q) multiplications.
    let start_cost = 3 * u64::from(64 - q.leading_zeros());
    while work + start_cost + 3 <= budget {
        let (a0, b0) = (rng.next_u64() % q, rng.next_u64() % q);
        let start = (mul(pow(base, a0, p), pow(h, b0, p), p), a0, b0);
        work += start_cost;
        let (mut tortoise, mut hare) = (start, start);
        loop {
            if work + 3 > budget {
                break;
            }
            tortoise = step(tortoise);
            hare = step(step(hare));
            work += 3;
            if tortoise.0 == hare.0 {
                break;
            }
        }
        if tortoise.0 != hare.0 {
            break;
        }
        // g^a1·h^b1 = g^a2·h^b2 ⇒ log = (a2 − a1) / (b1 − b2) mod q.
        let db = (tortoise.2 + q - hare.2) % q;
        if db == 0 {
            continue; // a useless collision: walk again from elsewhere
        }
        let da = (hare.1 + q - tortoise.1) % q;
        let log = mul(da, inv(db, q), q);
        if pow(base, log, p) == h {
            return Outcome::Found { exponent: g.scalar_from_u64(log), work };
        }
    }
    Outcome::OutOfBudget { work }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::by_name;

    #[test]
    fn rho_recovers_exponents_in_toy_groups() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        for name in ["toy-16", "toy-32"] {
            let g = by_name(name).unwrap();
            for k in 0..5 {
                let x = g.random_scalar(&mut rng);
                match rho(g, &g.pow_g(&x), 1 << 30, k) {
                    Outcome::Found { exponent, work } => {
                        assert_eq!(exponent, x, "{name}");
                        assert!(work > 0);
                    }
                    other => panic!("{name}: {other:?}"),
                }
            }
        }
        let g = by_name("toy-32").unwrap();
        let x = g.random_scalar(&mut rng);
        assert!(matches!(rho(g, &g.pow_g(&x), 300, 1), Outcome::OutOfBudget { work } if work <= 300));
        assert_eq!(refusal(by_name("toy-64").unwrap()), None);
        assert_eq!(refusal(by_name("toy-128").unwrap()).as_deref(), Some("not attempted: q has 127 bits"));
        assert_eq!(refusal(by_name("modp-2048").unwrap()).as_deref(), Some("not attempted: q has 2047 bits"));
    }
}
