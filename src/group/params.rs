//! The nine named parameter sets of reference §3, and the XOR sets
//! `xor-L` of the patent's own operator ⊕ (reference §3, "Operators").
//!
//! The toy sets are safe primes just below a power of two (q = (P−1)/2) for
//! teaching and brute-force demonstrations; the others are published groups
//! (RFC 3526, RFC 7919, RFC 5114). Every set is checked by a test: P and q
//! probable primes, q | P−1, g ≠ 1, g^q = 1 (mod P).

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::{Mutex, OnceLock};

use num_bigint::BigUint;
use num_traits::One;

/// The patent's pad operators ⊙ and ⋄: how pad values combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    /// Addition in Z_q for a prime q (fraclab's default; λ = 1 − n). Values
    /// are exponents too, so ElGamal and commitments work.
    Add,
    /// XOR of L-bit strings, the patent's ⊕ (λ = (1 − n) mod 2). Values are
    /// not exponents: ElGamal, commitments and the dlog adversary are
    /// refused.
    Xor,
}

impl Operator {
    /// The name `[group] operator` and `--operator` spell.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Add => "add",
            Operator::Xor => "xor",
        }
    }
}

/// The string lengths L an `xor-L` set accepts (`[group] bits`).
pub const XOR_BITS: RangeInclusive<u32> = 8..=4096;

/// L when `[group] bits` is absent.
pub const XOR_BITS_DEFAULT: u32 = 256;

/// One parameter set. Under [`Operator::Add`]: P prime, q prime with
/// q | P−1, g of order q mod P. Under [`Operator::Xor`]: values are L-bit
/// strings, q = 2^L is the number of them, and there is no element group
/// (P = g = 0).
#[derive(Debug)]
pub struct GroupParams {
    /// The set's name as `[group] params` spells it, e.g. `"toy-64"` (one of
    /// [`PARAMS_NAMES`]), or `"xor-256"` for an XOR set; it also enters the
    /// KDF's info string and the trace header.
    pub name: &'static str,
    /// How pad values combine.
    pub operator: Operator,
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

    /// Whether values are L-bit strings under XOR.
    pub fn is_xor(&self) -> bool {
        self.operator == Operator::Xor
    }

    /// The order of the field the knowledge engine eliminates over: q under
    /// addition, 2 under XOR (L-bit strings are vectors over GF(2)).
    pub fn field_order(&self) -> BigUint {
        match self.operator {
            Operator::Add => self.q.clone(),
            Operator::Xor => BigUint::from(2u32),
        }
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

/// The XOR set of L-bit strings, `xor-L`, for L in [`XOR_BITS`]; `None`
/// outside it. Each set is built once and lives for the process.
///
/// ```
/// let x = fraclab::group::xor(256).unwrap();
/// assert_eq!(x.name, "xor-256");
/// assert_eq!(x.q_bytes(), 32);
/// assert!(std::ptr::eq(x, fraclab::group::xor(256).unwrap()));
/// assert!(fraclab::group::xor(7).is_none());
/// ```
pub fn xor(bits: u32) -> Option<&'static GroupParams> {
    static SETS: OnceLock<Mutex<BTreeMap<u32, &'static GroupParams>>> = OnceLock::new();
    if !XOR_BITS.contains(&bits) {
        return None;
    }
    let mut sets = SETS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    Some(*sets.entry(bits).or_insert_with(|| {
        // At most |XOR_BITS| sets are ever built, so leaking them is bounded.
        Box::leak(Box::new(GroupParams {
            name: Box::leak(format!("xor-{bits}").into_boxed_str()),
            operator: Operator::Xor,
            p: BigUint::ZERO,
            q: BigUint::one() << bits,
            g: BigUint::ZERO,
            source: "L-bit strings under XOR, the patent's ⊕ (no element group)",
            fixed: OnceLock::new(),
        }))
    }))
}

/// A set by the name a trace header or summary records: one of
/// [`PARAMS_NAMES`] or `xor-L` (L in [`XOR_BITS`], no leading zero).
///
/// ```
/// assert_eq!(fraclab::group::lookup("xor-64").unwrap().q_bytes(), 8);
/// assert!(fraclab::group::lookup("toy-16").is_some());
/// assert!(fraclab::group::lookup("xor-064").is_none());
/// ```
pub fn lookup(name: &str) -> Option<&'static GroupParams> {
    if let Some(g) = by_name(name) {
        return Some(g);
    }
    let digits = name.strip_prefix("xor-")?;
    if digits.starts_with('0') || !digits.bytes().all(|c| c.is_ascii_digit()) || digits.len() > 4 {
        return None;
    }
    xor(digits.parse().ok()?)
}

/// A safe-prime group: q = (P−1)/2.
fn safe(name: &'static str, p: BigUint, g: u32, source: &'static str) -> GroupParams {
    let q = (&p - BigUint::one()) >> 1;
    GroupParams { name, operator: Operator::Add, p, q, g: BigUint::from(g), source, fixed: OnceLock::new() }
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
            operator: Operator::Add,
            p: hex(RFC5114_2048_256_P),
            q: hex(RFC5114_2048_256_Q),
            g: hex(RFC5114_2048_256_G),
            source: "RFC 5114 §2.3 (256-bit prime-order subgroup)",
            fixed: OnceLock::new(),
        },
    ]
}

include!("constants.rs");
