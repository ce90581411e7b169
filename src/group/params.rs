//! The nine named parameter sets of reference §3.
//!
//! The toy sets are safe primes just below a power of two (q = (P−1)/2) for
//! teaching and brute-force demonstrations; the others are published groups
//! (RFC 3526, RFC 7919, RFC 5114). Every set is checked by a test: P and q
//! probable primes, q | P−1, g ≠ 1, g^q = 1 (mod P).

use std::sync::OnceLock;

use num_bigint::BigUint;
use num_traits::One;

/// One named group: P prime, q prime with q | P−1, g of order q mod P.
#[derive(Debug)]
pub struct GroupParams {
    /// The set's name as `[group] params` spells it, e.g. `"toy-64"` (one of
    /// [`PARAMS_NAMES`]); it also enters the KDF's info string.
    pub name: &'static str,
    /// The prime modulus P of the element group Z_P*.
    pub p: BigUint,
    /// The prime order q of g, with q | P − 1: every [`Scalar`](super::Scalar)
    /// (pad, θ, FK, HFK) lives in Z_q.
    pub q: BigUint,
    /// The generator g of the order-q subgroup mod P, the base of every
    /// commitment and ElGamal public key.
    pub g: BigUint,
    /// Where the set comes from, shown by `fraclab params`.
    pub source: &'static str,
    /// Fixed-base table for g, built on first use.
    pub(crate) fixed: OnceLock<super::fixed::FixedBase>,
}

impl std::fmt::Debug for super::fixed::FixedBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixedBase")
    }
}

impl GroupParams {
    /// Toy groups can be brute-forced; runs on them say so.
    pub fn is_toy(&self) -> bool {
        self.name.starts_with("toy-")
    }
}

/// The names accepted by `[group] params`, in listing order.
pub const PARAMS_NAMES: [&str; 9] = [
    "toy-16",
    "toy-32",
    "toy-64",
    "toy-128",
    "modp-2048",
    "modp-3072",
    "ffdhe2048",
    "ffdhe3072",
    "rfc5114-2048-256",
];

/// All parameter sets, in the order of [`PARAMS_NAMES`].
pub fn all() -> &'static [GroupParams] {
    static ALL: OnceLock<Vec<GroupParams>> = OnceLock::new();
    ALL.get_or_init(build)
}

/// The parameter set called `name` (one of [`PARAMS_NAMES`]), if there is one.
///
/// ```
/// let g = fraclab::group::by_name("toy-16").unwrap();
/// assert!(g.is_toy());
/// assert_eq!(g.q_bytes(), 2);
/// assert!(fraclab::group::by_name("toy-8").is_none());
/// ```
pub fn by_name(name: &str) -> Option<&'static GroupParams> {
    all().iter().find(|p| p.name == name)
}

fn hex(s: &str) -> BigUint {
    let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    BigUint::parse_bytes(digits.as_bytes(), 16).expect("parameter constants are hex")
}

/// A safe-prime group: q = (P−1)/2.
fn safe(name: &'static str, p: BigUint, g: u32, source: &'static str) -> GroupParams {
    let q = (&p - BigUint::one()) >> 1;
    GroupParams { name, p, q, g: BigUint::from(g), source, fixed: OnceLock::new() }
}

/// 2^bits − offset.
fn below_pow2(bits: u32, offset: u32) -> BigUint {
    (BigUint::one() << bits) - BigUint::from(offset)
}

fn build() -> Vec<GroupParams> {
    vec![
        safe("toy-16", below_pow2(16, 269), 4, "2^16 − 269 (toy, safe prime)"),
        safe("toy-32", below_pow2(32, 209), 2, "2^32 − 209 (toy, safe prime)"),
        safe("toy-64", below_pow2(64, 1469), 4, "2^64 − 1469 (toy, safe prime)"),
        safe("toy-128", below_pow2(128, 15449), 2, "2^128 − 15449 (toy, safe prime)"),
        safe("modp-2048", hex(MODP_2048), 2, "RFC 3526 group 14"),
        safe("modp-3072", hex(MODP_3072), 2, "RFC 3526 group 15"),
        safe("ffdhe2048", hex(FFDHE_2048), 2, "RFC 7919 ffdhe2048"),
        safe("ffdhe3072", hex(FFDHE_3072), 2, "RFC 7919 ffdhe3072"),
        GroupParams {
            name: "rfc5114-2048-256",
            p: hex(RFC5114_2048_256_P),
            q: hex(RFC5114_2048_256_Q),
            g: hex(RFC5114_2048_256_G),
            source: "RFC 5114 §2.3 (256-bit prime-order subgroup)",
            fixed: OnceLock::new(),
        },
    ]
}

include!("constants.rs");
