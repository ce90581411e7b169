//! reference §3: parameter sets and the key derivation.

use fraclab::group::{PARAMS_NAMES, all, by_name, confirm_tag, derive_sk};
use num_bigint::BigUint;
use num_traits::{One, Zero};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

/// Miller–Rabin with `rounds` bases drawn from a fixed stream.
fn probable_prime(n: &BigUint, rounds: usize) -> bool {
    let two = BigUint::from(2u32);
    if n < &two {
        return false;
    }
    for p in [2u32, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        let p = BigUint::from(p);
        if n == &p {
            return true;
        }
        if (n % &p).is_zero() {
            return false;
        }
    }
    let n1 = n - 1u32;
    let s = n1.trailing_zeros().expect("n − 1 > 0");
    let d = &n1 >> s;
    let mut rng = ChaCha20Rng::from_seed([42; 32]);
    let bytes = n.bits().div_ceil(8) as usize;
    'bases: for _ in 0..rounds {
        let mut buf = vec![0u8; bytes];
        rng.fill_bytes(&mut buf);
        let a = BigUint::from_bytes_be(&buf) % (n - 3u32) + 2u32;
        let mut x = a.modpow(&d, n);
        if x.is_one() || x == n1 {
            continue;
        }
        for _ in 1..s {
            x = x.modpow(&two, n);
            if x == n1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

#[test]
fn the_prime_test_itself_tells_primes_from_composites() {
    assert!(probable_prime(&BigUint::from(65267u32), 20));
    assert!(!probable_prime(&BigUint::from(65267u32 * 3), 20));
    // 561 = 3·11·17 is a Carmichael number; 2^61 − 1 is prime.
    assert!(!probable_prime(&BigUint::from(561u32), 20));
    assert!(probable_prime(&((BigUint::one() << 61u32) - 1u32), 20));
}

#[test]
fn every_parameter_set_is_a_valid_prime_order_group() {
    assert_eq!(all().len(), 9);
    for (p, name) in all().iter().zip(PARAMS_NAMES) {
        assert_eq!(p.name, name);
        assert!(probable_prime(&p.p, 16), "{name}: P is not prime");
        assert!(probable_prime(&p.q, 16), "{name}: q is not prime");
        assert!(((&p.p - 1u32) % &p.q).is_zero(), "{name}: q does not divide P − 1");
        assert!(!p.g.is_one(), "{name}: g = 1");
        assert!(p.g.modpow(&p.q, &p.p).is_one(), "{name}: g^q ≠ 1");
    }
}

#[test]
fn parameter_sizes_match_their_names() {
    let bits = |n: &str| {
        let p = by_name(n).unwrap();
        (p.p.bits(), p.q.bits())
    };
    assert_eq!(bits("toy-16"), (16, 15));
    assert_eq!(bits("toy-128"), (128, 127));
    assert_eq!(bits("modp-2048"), (2048, 2047));
    assert_eq!(bits("ffdhe3072"), (3072, 3071));
    assert_eq!(bits("rfc5114-2048-256"), (2048, 256));
}

/// The vector below was computed outside fraclab with Python's standard
/// library (hmac, hashlib), following reference §3 literally:
/// ```text
/// prk  = HMAC-SHA256(key = b"fraclab/sk/v1", msg = ikm)
/// okm  = HMAC-SHA256(prk, info ‖ 0x01)            # one block = 32 bytes
/// ikm  = (0x0123456789abcdef).to_bytes(8, "big")  # θ padded to |q| = 8 bytes (toy-64)
/// info = b"toy-64" ‖ 0x00 ‖ (3).to_bytes(4, "big") ‖ (2).to_bytes(8, "big")
/// tag  = SHA256(b"fraclab/confirm/v1" ‖ okm)
/// ```
#[test]
fn kdf_matches_an_independently_computed_vector() {
    let g = by_name("toy-64").unwrap();
    let theta = g.scalar(BigUint::from(0x0123_4567_89ab_cdefu64));
    let sk = derive_sk(g, 3, 2, &theta);
    assert_eq!(sk.to_hex(), "7ea9e98b5165d96a7ba9668a13566c1ca5953755ac410a5f492ebc6e74faa5fc");
    assert_eq!(confirm_tag(&sk).to_hex(), "9ca32968667f89f07f75632be6b90bc0241b10b82ae353924d525e722ac3dc06");
}

/// Same derivation on modp-2048 with θ = 5, n = 256, e = 1: the IKM is θ
/// left-padded to 256 bytes (the byte length of q), so padding is exercised.
#[test]
fn kdf_pads_theta_to_the_byte_length_of_q() {
    let g = by_name("modp-2048").unwrap();
    let sk = derive_sk(g, 256, 1, &g.scalar_from_u64(5));
    assert_eq!(sk.to_hex(), "17cf4c7cc72d2260ccf8b819d0cfaf150580d35baa3d22466d55b4ff0609ca2e");
    // Any change of n, e or params changes the key.
    assert_ne!(derive_sk(g, 255, 1, &g.scalar_from_u64(5)), sk);
    assert_ne!(derive_sk(g, 256, 2, &g.scalar_from_u64(5)), sk);
    let other = by_name("ffdhe2048").unwrap();
    assert_ne!(derive_sk(other, 256, 1, &other.scalar_from_u64(5)), sk);
}
