//! `Scalar` and `Element`: values of Z_q and of the order-q subgroup of Z_P*.
//!
//! Both are plain newtypes over `BigUint`; the modulus lives in the
//! [`GroupParams`] that performs the arithmetic, so protocol code writes
//! `group.add(&alpha, &fk)` and never touches a `BigUint` directly.

use std::fmt;
use std::sync::Arc;

use num_bigint::BigUint;
use num_traits::Zero;
use rand_core::Rng;

use super::{GroupParams, Operator};

/// An element of Z_q, always reduced (`0 <= value < q`): every protocol
/// secret and pad value (v_i, γ, δ_i, α_{i,j}, θ_e, FK_{i,j}, HFK_{i,j}) is
/// one. The value is shared, so the copies a broadcast makes (one per
/// recipient, one per retransmission buffer) cost a reference count, not 256
/// bytes each.
///
/// A `Scalar` carries no modulus: the [`GroupParams`] it came from does the
/// arithmetic. The pad operators ⊙ and ⋄ are addition mod q (or, for an
/// `xor-L` set, XOR of L-bit strings), so masking and unmasking round-trip
/// (HFK_{i,j} = α_{i,j} + FK_{i,j}):
///
/// ```
/// let g = fraclab::group::by_name("toy-16").unwrap();
/// // toy-16: P = 2^16 − 269 = 65267, q = (P − 1)/2 = 32633.
/// assert_eq!(g.scalar_from_u64(32_633), g.zero());
/// let alpha = g.scalar_from_u64(20_000);
/// let fk = g.scalar_from_u64(15_000);
/// let hfk = g.add(&alpha, &fk); // 35000 wraps to 35000 − q = 2367
/// assert_eq!(g.scalar_hex(&hfk), "093f"); // zero-padded to the 2 bytes of q
/// assert_eq!(g.sub(&hfk, &alpha), fk); // whoever holds α unmasks FK
/// assert_eq!(g.add(&g.sub(&alpha, &fk), &fk), alpha);
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scalar(Arc<BigUint>);

/// An element of Z_P*, always reduced (`0 < value < P`): a commitment such as
/// g^{α_{i,1}}, or an ElGamal public key FK_{i,j} = g^{x_{i,j}}.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Element(Arc<BigUint>);

impl fmt::Debug for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scalar({:x})", *self.0)
    }
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Element({:x})", *self.0)
    }
}

impl Scalar {
    /// The raw value, for code that needs the integer itself (tests, encoders).
    pub fn as_biguint(&self) -> &BigUint {
        &self.0
    }
}

impl Element {
    /// The raw value, for code that needs the integer itself (tests, the
    /// dlog adversary).
    pub fn as_biguint(&self) -> &BigUint {
        &self.0
    }
}

/// Big-endian bytes of `v`, left-padded with zeros to `len` bytes.
fn padded_bytes(v: &BigUint, len: usize) -> Vec<u8> {
    let raw = v.to_bytes_be();
    let raw = if v.is_zero() { Vec::new() } else { raw };
    debug_assert!(raw.len() <= len, "value wider than its field");
    let mut out = vec![0u8; len - raw.len()];
    out.extend_from_slice(&raw);
    out
}

/// Lowercase hex of `v`, left-padded with zeros to `len` bytes: what
/// `hex::encode(padded_bytes(v, len))` gives, in one allocation (traces
/// write millions of these).
fn padded_hex(v: &BigUint, len: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    debug_assert!(v.bits() <= 8 * len as u64, "value wider than its field");
    let width = 2 * len;
    if width == 0 {
        return String::new();
    }
    let mut out = vec![b'0'; width];
    'digits: for (k, d) in v.iter_u64_digits().enumerate() {
        for nibble in 0..16 {
            let Some(pos) = (width - 1).checked_sub(k * 16 + nibble) else {
                debug_assert!(d >> (4 * nibble) == 0, "value wider than its field");
                break 'digits;
            };
            out[pos] = HEX[((d >> (4 * nibble)) & 15) as usize];
        }
    }
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// Error decoding a hex scalar or element.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The wrong width: a scalar has 2·[`q_bytes`](GroupParams::q_bytes) hex
    /// digits, an element 2·[`p_bytes`](GroupParams::p_bytes) (a byte input
    /// is counted as 2 digits a byte).
    #[error("expected {expected} hex digits, found {found}")]
    Length {
        /// The hex digits the value must have.
        expected: usize,
        /// The hex digits it had.
        found: usize,
    },
    /// A character other than `0-9a-f` (upper case included).
    #[error("not lowercase hex")]
    NotHex,
    /// A scalar ≥ q, or an element that is 0 or ≥ P.
    #[error("value is not below the modulus")]
    OutOfRange,
}

impl GroupParams {
    /// Wraps an integer already known to lie in `[0, q)`; reduces otherwise.
    pub fn scalar(&self, v: BigUint) -> Scalar {
        Scalar(Arc::new(if v < self.q { v } else { v % &self.q }))
    }

    /// `v mod q` as a scalar.
    pub fn scalar_from_u64(&self, v: u64) -> Scalar {
        self.scalar(BigUint::from(v))
    }

    /// The scalar 0.
    pub fn zero(&self) -> Scalar {
        Scalar(Arc::new(BigUint::zero()))
    }

    /// `a + b mod q`: the patent's ⊙ and ⋄ (e.g. HFK_{i,j} = α_{i,j} + FK_{i,j});
    /// `a ⊕ b` under XOR.
    ///
    /// ```
    /// let x = fraclab::group::xor(8).unwrap();
    /// let (a, b) = (x.scalar_from_u64(0b1100_1010), x.scalar_from_u64(0b0110_0110));
    /// assert_eq!(x.add(&a, &b), x.scalar_from_u64(0b1010_1100));
    /// assert_eq!(x.sub(&a, &b), x.add(&a, &b)); // ⊕ is its own inverse
    /// assert_eq!(x.mul_i64(&a, 1 - 3), x.zero()); // λ = (1 − n) mod 2 = 0 for n = 3
    /// ```
    pub fn add(&self, a: &Scalar, b: &Scalar) -> Scalar {
        if self.operator == Operator::Xor {
            return Scalar(Arc::new(&*a.0 ^ &*b.0));
        }
        let s = &*a.0 + &*b.0;
        Scalar(Arc::new(if s >= self.q { s - &self.q } else { s }))
    }

    /// `a − b mod q` (e.g. α_{i,j+1} = θ_{j+1} − FK_{i,j}); `a ⊕ b` under XOR.
    pub fn sub(&self, a: &Scalar, b: &Scalar) -> Scalar {
        if self.operator == Operator::Xor {
            return self.add(a, b);
        }
        let d = if a.0 >= b.0 { &*a.0 - &*b.0 } else { &self.q - (&*b.0 - &*a.0) };
        Scalar(Arc::new(d))
    }

    /// `−a mod q`; `a` itself under XOR.
    pub fn neg(&self, a: &Scalar) -> Scalar {
        self.sub(&self.zero(), a)
    }

    /// `k · a` for a small signed integer `k` (the patent's λ = 1 − n, n − 1):
    /// under XOR, `a` for odd k and 0 for even k.
    pub fn mul_i64(&self, a: &Scalar, k: i64) -> Scalar {
        if self.operator == Operator::Xor {
            return if k % 2 == 0 { self.zero() } else { a.clone() };
        }
        let m = Scalar(Arc::new((&*a.0 * BigUint::from(k.unsigned_abs())) % &self.q));
        if k < 0 { self.neg(&m) } else { m }
    }

    /// `Σ items mod q` (0 for none), e.g. θ_{j+1} = Σ_i FK_{i,j}.
    pub fn sum<'a>(&self, items: impl IntoIterator<Item = &'a Scalar>) -> Scalar {
        items.into_iter().fold(self.zero(), |acc, x| self.add(&acc, x))
    }

    /// A uniform draw from Z_q by rejection sampling: `q_bytes` bytes from the
    /// stream, the excess high bits masked off, redrawn while ≥ q. Pinned here
    /// (not delegated to a crate) because traces depend on the exact draws.
    /// Under XOR every masked draw is below q = 2^L, so none is redrawn.
    pub fn random_scalar(&self, rng: &mut dyn Rng) -> Scalar {
        let len = self.q_bytes();
        let excess_bits = len * 8 - self.scalar_bits() as usize;
        let mask = 0xffu8 >> excess_bits;
        let mut buf = vec![0u8; len];
        loop {
            rng.fill_bytes(&mut buf);
            buf[0] &= mask;
            let v = BigUint::from_bytes_be(&buf);
            if v < self.q {
                return Scalar(Arc::new(v));
            }
        }
    }

    /// Bits of a scalar: those of q, or L under XOR (q = 2^L has L + 1).
    pub fn scalar_bits(&self) -> u64 {
        match self.operator {
            Operator::Add => self.q.bits(),
            Operator::Xor => self.q.bits() - 1,
        }
    }

    /// Byte length of q (of L under XOR): the width of every encoded scalar.
    pub fn q_bytes(&self) -> usize {
        self.scalar_bits().div_ceil(8) as usize
    }

    /// Byte length of P: the width of every encoded element.
    pub fn p_bytes(&self) -> usize {
        self.p.bits().div_ceil(8) as usize
    }

    /// θ as the KDF's input keying material: big-endian, padded to `q_bytes`.
    pub fn scalar_bytes(&self, a: &Scalar) -> Vec<u8> {
        padded_bytes(&a.0, self.q_bytes())
    }

    /// Lowercase hex, zero-padded to the byte length of q, no `0x` (reference §3).
    pub fn scalar_hex(&self, a: &Scalar) -> String {
        padded_hex(&a.0, self.q_bytes())
    }

    /// Big-endian, padded to `p_bytes`: the wire form of an element.
    pub fn element_bytes(&self, e: &Element) -> Vec<u8> {
        padded_bytes(&e.0, self.p_bytes())
    }

    /// A scalar from exactly `q_bytes` big-endian bytes, if below q.
    pub fn scalar_from_bytes(&self, b: &[u8]) -> Result<Scalar, DecodeError> {
        if b.len() != self.q_bytes() {
            return Err(DecodeError::Length { expected: 2 * self.q_bytes(), found: 2 * b.len() });
        }
        let v = BigUint::from_bytes_be(b);
        if v < self.q { Ok(Scalar(Arc::new(v))) } else { Err(DecodeError::OutOfRange) }
    }

    /// An element from exactly `p_bytes` big-endian bytes, if in 1..P.
    pub fn element_from_bytes(&self, b: &[u8]) -> Result<Element, DecodeError> {
        if b.len() != self.p_bytes() {
            return Err(DecodeError::Length { expected: 2 * self.p_bytes(), found: 2 * b.len() });
        }
        let v = BigUint::from_bytes_be(b);
        if !v.is_zero() && v < self.p { Ok(Element(Arc::new(v))) } else { Err(DecodeError::OutOfRange) }
    }

    /// Lowercase hex, zero-padded to the byte length of P, no `0x` (reference §3).
    pub fn element_hex(&self, e: &Element) -> String {
        padded_hex(&e.0, self.p_bytes())
    }

    /// Reads [`scalar_hex`](Self::scalar_hex)'s form back: exactly
    /// 2·`q_bytes` lowercase hex digits of a value below q.
    pub fn scalar_from_hex(&self, s: &str) -> Result<Scalar, DecodeError> {
        let v = decode_fixed(s, self.q_bytes())?;
        if v < self.q { Ok(Scalar(Arc::new(v))) } else { Err(DecodeError::OutOfRange) }
    }

    /// Reads [`element_hex`](Self::element_hex)'s form back: exactly
    /// 2·`p_bytes` lowercase hex digits of a value in 1..P.
    pub fn element_from_hex(&self, s: &str) -> Result<Element, DecodeError> {
        let v = decode_fixed(s, self.p_bytes())?;
        if !v.is_zero() && v < self.p { Ok(Element(Arc::new(v))) } else { Err(DecodeError::OutOfRange) }
    }

    /// g^a mod P, by the fixed-base table (built on first use). An XOR set
    /// has no element group: the scenario loader and `verify-trace` refuse
    /// everything that exponentiates, and should a call slip through it gets
    /// the value 0, which no element decoder accepts, rather than a panic.
    pub fn pow_g(&self, a: &Scalar) -> Element {
        if self.operator == Operator::Xor {
            return Element(Arc::new(BigUint::zero()));
        }
        let table = self.fixed.get_or_init(|| super::fixed::FixedBase::new(&self.g, &self.p, self.q.bits()));
        Element(Arc::new(table.pow(&a.0)))
    }

    /// e^k mod P for any element e (not a fixed base); 0 for an XOR set, as
    /// [`pow_g`](Self::pow_g).
    pub fn pow_element(&self, e: &Element, k: &BigUint) -> Element {
        if self.operator == Operator::Xor {
            return Element(Arc::new(BigUint::zero()));
        }
        Element(Arc::new(e.0.modpow(k, &self.p)))
    }

    /// `a · b mod P`, e.g. the chain check D_i = D_{i−1} · V_i of process 900;
    /// 0 for an XOR set, as [`pow_g`](Self::pow_g).
    pub fn mul_elements(&self, a: &Element, b: &Element) -> Element {
        if self.operator == Operator::Xor {
            return Element(Arc::new(BigUint::zero()));
        }
        Element(Arc::new(&*a.0 * &*b.0 % &self.p))
    }

    /// Π items mod P (1 for none); 0 for an XOR set, as [`pow_g`](Self::pow_g).
    pub fn product<'a>(&self, items: impl IntoIterator<Item = &'a Element>) -> Element {
        if self.operator == Operator::Xor {
            return Element(Arc::new(BigUint::zero()));
        }
        Element(Arc::new(items.into_iter().fold(BigUint::from(1u32), |acc, e| (acc * &*e.0) % &self.p)))
    }

    /// g as an element.
    pub fn generator(&self) -> Element {
        Element(Arc::new(self.g.clone()))
    }
}

fn decode_fixed(s: &str, len: usize) -> Result<BigUint, DecodeError> {
    if s.len() != 2 * len {
        return Err(DecodeError::Length { expected: 2 * len, found: s.len() });
    }
    if !s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
        return Err(DecodeError::NotHex);
    }
    let bytes = hex::decode(s).map_err(|_| DecodeError::NotHex)?;
    Ok(BigUint::from_bytes_be(&bytes))
}

#[cfg(test)]
mod tests {
    use crate::group::by_name;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn arithmetic_wraps_modulo_q() {
        let g = by_name("toy-16").unwrap();
        let q_minus_1 = g.scalar(&g.q - 1u32);
        let one = g.scalar_from_u64(1);
        assert_eq!(g.add(&q_minus_1, &one), g.zero());
        assert_eq!(g.sub(&g.zero(), &one), q_minus_1);
        assert_eq!(g.mul_i64(&one, -1), q_minus_1);
        assert_eq!(g.mul_i64(&g.scalar_from_u64(3), 4), g.scalar_from_u64(12));
    }

    proptest::proptest! {
        /// The one-allocation hex writer equals hex-of-padded-bytes, for
        /// every width a value fits in, zero and multi-digit values included.
        #[test]
        fn padded_hex_equals_hex_of_padded_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..70), extra in 0usize..10) {
            let v = num_bigint::BigUint::from_bytes_be(&bytes);
            let len = bytes.len() + extra;
            proptest::prop_assert_eq!(super::padded_hex(&v, len), hex::encode(super::padded_bytes(&v, len)));
        }
    }

    #[test]
    fn hex_is_fixed_width_and_round_trips() {
        for p in crate::group::all() {
            let mut rng = ChaCha20Rng::from_seed([1; 32]);
            let a = p.random_scalar(&mut rng);
            let h = p.scalar_hex(&a);
            assert_eq!(h.len(), 2 * p.q_bytes(), "{}", p.name);
            assert_eq!(p.scalar_from_hex(&h).unwrap(), a);
            let e = p.pow_g(&a);
            let eh = p.element_hex(&e);
            assert_eq!(eh.len(), 2 * p.p_bytes());
            assert_eq!(p.element_from_hex(&eh).unwrap(), e);
        }
        let toy = by_name("toy-16").unwrap();
        assert_eq!(toy.scalar_hex(&toy.scalar_from_u64(5)), "0005");
        assert!(toy.scalar_from_hex("00AB").is_err());
        assert!(toy.scalar_from_hex("005").is_err());
    }
}
