//! Fixed-base exponentiation by the generator g. Commitments g^v, g^δ,
//! g^FK and ElGamal's g^x dominate the cost of a verified run, and they all
//! raise the same base: a table of g^(d·2^(w·i)) for every w-bit window i
//! and digit d turns g^e into one multiplication per window, with no
//! squarings. The table is built once per parameter set, on first use.

use num_bigint::BigUint;
use num_traits::One;

/// Window width in bits: 16 entries per window.
const W: usize = 4;

pub struct FixedBase {
    /// windows[i][d] = g^(d · 2^(W·i)) mod P; d = 0 is 1.
    windows: Vec<Vec<BigUint>>,
    p: BigUint,
}

impl FixedBase {
    /// The table for exponents below 2^bits (bits of q).
    pub fn new(g: &BigUint, p: &BigUint, bits: u64) -> FixedBase {
        let count = (bits as usize).div_ceil(W);
        let mut windows = Vec::with_capacity(count);
        let mut base = g % p; // g^(2^(W·i))
        for _ in 0..count {
            let mut row = Vec::with_capacity(1 << W);
            row.push(BigUint::one());
            for d in 1..(1usize << W) {
                let next = (&row[d - 1] * &base) % p;
                row.push(next);
            }
            // g^(2^(W·(i+1))) = (g^(2^(W·i)))^(2^W) = row[15] · base.
            base = (&row[(1 << W) - 1] * &base) % p;
            windows.push(row);
        }
        FixedBase { windows, p: p.clone() }
    }

    /// g^e mod P, for 0 ≤ e < 2^bits.
    pub fn pow(&self, e: &BigUint) -> BigUint {
        let mut acc = BigUint::one();
        for (i, digit) in e
            .to_u64_digits()
            .iter()
            .flat_map(|limb| (0..64 / W).map(move |k| (limb >> (W * k)) & 0xf))
            .enumerate()
        {
            if digit != 0 {
                let entry = self.windows.get(i).expect("the exponent fits the table (it is reduced mod q)");
                acc = (acc * &entry[digit as usize]) % &self.p;
            }
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use crate::group::{PARAMS_NAMES, by_name};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    /// Fixed-base g^e equals plain modpow for random exponents (and the
    /// edges 0, 1, q − 1) in every parameter set.
    #[test]
    fn fixed_base_equals_modpow_for_every_set() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for name in PARAMS_NAMES {
            let g = by_name(name).unwrap();
            let mut exps = vec![g.zero(), g.scalar_from_u64(1), g.scalar(&g.q - 1u32)];
            exps.extend((0..20).map(|_| g.random_scalar(&mut rng)));
            for e in exps {
                let plain = g.g.modpow(e.as_biguint(), &g.p);
                assert_eq!(g.pow_g(&e).as_biguint(), &plain, "{name}: g^{e:?}");
            }
        }
    }
}
