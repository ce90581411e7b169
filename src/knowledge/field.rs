//! GF(q) for the elimination: a u64 fast path when q < 2^63 (the toy groups
//! up to toy-64) and `BigUint` otherwise. Both are exact; the choice only
//! changes speed.
//!
//! Under XOR (`xor-L` sets) the field is GF(2) and a value is an L-bit
//! string, a vector over it: [`Gf2U64`] (L ≤ 64) and [`Gf2Big`] hold both
//! coefficients (0 or 1) and values in one type, because the elimination
//! only ever multiplies a value by a coefficient. [`with_field!`] picks the
//! right one of the four for a parameter set.

use std::fmt::Debug;

use num_bigint::BigUint;
use num_traits::{One, ToPrimitive, Zero};

use crate::group::{GroupParams, Scalar};

/// GF(q) of one parameter set, as the elimination uses it. Field elements
/// are plain values; the field carries the modulus q. [`U64Field`] and
/// [`BigField`] implement it with the same results.
pub trait Field {
    /// An element of GF(q), always reduced to `0..q`.
    type E: Clone + PartialEq + Debug;
    /// The parameter set whose q this field is.
    fn group(&self) -> &'static GroupParams;
    /// The element 0.
    fn zero(&self) -> Self::E;
    /// Whether `a` is 0.
    fn is_zero(&self, a: &Self::E) -> bool;
    /// `v mod q`, negative `v` included (a [`Form`](super::form::Form)
    /// coefficient such as −1 becomes q − 1).
    fn elem_i64(&self, v: i64) -> Self::E;
    /// The element with the value of a protocol scalar (already below q).
    fn elem_of(&self, s: &Scalar) -> Self::E;
    /// The element as a protocol scalar, to compare with the ground truth or
    /// write out.
    fn to_scalar(&self, a: &Self::E) -> Scalar;
    /// `a + b mod q`.
    fn add(&self, a: &Self::E, b: &Self::E) -> Self::E;
    /// `a − b mod q`.
    fn sub(&self, a: &Self::E, b: &Self::E) -> Self::E;
    /// `a · b mod q`.
    fn mul(&self, a: &Self::E, b: &Self::E) -> Self::E;
    /// `a⁻¹ mod q`; `a` must not be 0 (the elimination inverts only pivots).
    fn inv(&self, a: &Self::E) -> Self::E;
    /// `a` as a small signed integer (|a| < 2^20 once centred), if it is one.
    fn small(&self, a: &Self::E) -> Option<i64>;
}

const SMALL: u64 = 1 << 20;

/// GF(q) in a `u64`, for q < 2^63 (the toy groups up to toy-64): the fast
/// path.
pub struct U64Field {
    group: &'static GroupParams,
    q: u64,
}

impl U64Field {
    /// The field of `group`'s q, if q < 2^63; `None` for larger groups (use
    /// [`BigField`]) and for XOR sets (use [`Gf2U64`]).
    pub fn new(group: &'static GroupParams) -> Option<U64Field> {
        if group.is_xor() {
            return None;
        }
        let q = group.q.to_u64()?;
        (q < 1 << 63).then_some(U64Field { group, q })
    }
}

impl Field for U64Field {
    type E = u64;
    fn group(&self) -> &'static GroupParams {
        self.group
    }
    fn zero(&self) -> u64 {
        0
    }
    fn is_zero(&self, a: &u64) -> bool {
        *a == 0
    }
    fn elem_i64(&self, v: i64) -> u64 {
        let m = v.unsigned_abs() % self.q;
        if v < 0 && m != 0 { self.q - m } else { m }
    }
    fn elem_of(&self, s: &Scalar) -> u64 {
        s.as_biguint().to_u64().expect("a scalar of a q < 2^63 group fits u64")
    }
    fn to_scalar(&self, a: &u64) -> Scalar {
        self.group.scalar_from_u64(*a)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        let s = a + b;
        if s >= self.q { s - self.q } else { s }
    }
    fn sub(&self, a: &u64, b: &u64) -> u64 {
        if a >= b { a - b } else { self.q - (b - a) }
    }
    fn mul(&self, a: &u64, b: &u64) -> u64 {
        // The protocol's coefficients are mostly ±1: skip the 128-bit
        // division for those.
        let minus_one = self.q - 1;
        match (*a, *b) {
            (1, x) | (x, 1) => x,
            (m, x) if m == minus_one => self.sub(&0, &x),
            (x, m) if m == minus_one => self.sub(&0, &x),
            (a, b) => ((u128::from(a) * u128::from(b)) % u128::from(self.q)) as u64,
        }
    }
    fn inv(&self, a: &u64) -> u64 {
        // The extended Euclidean algorithm on (q, a); q is prime and a ≠ 0.
        let (mut r0, mut r1) = (i128::from(self.q), i128::from(*a));
        let (mut t0, mut t1) = (0i128, 1i128);
        while r1 != 0 {
            let k = r0 / r1;
            (r0, r1) = (r1, r0 - k * r1);
            (t0, t1) = (t1, t0 - k * t1);
        }
        t0.rem_euclid(i128::from(self.q)) as u64
    }
    fn small(&self, a: &u64) -> Option<i64> {
        if *a < SMALL {
            Some(*a as i64)
        } else if self.q - a < SMALL {
            Some(-((self.q - a) as i64))
        } else {
            None
        }
    }
}

/// GF(q) over `BigUint`, for any parameter set (toy-128 and the published
/// 2048- and 3072-bit groups need it).
pub struct BigField {
    group: &'static GroupParams,
    /// q − 2^20: elements above it are small negative integers.
    small_negative_above: BigUint,
}

impl BigField {
    /// The field of `group`'s q.
    pub fn new(group: &'static GroupParams) -> BigField {
        BigField { group, small_negative_above: &group.q - SMALL }
    }

    /// k · x for a small signed k: one limb times x, then one reduction.
    fn scale(&self, x: &BigUint, k: i64) -> BigUint {
        let m = match k.unsigned_abs() {
            0 => return BigUint::zero(),
            1 => x.clone(),
            u => (x * u) % &self.group.q,
        };
        if k < 0 && !m.is_zero() { &self.group.q - m } else { m }
    }
}

impl Field for BigField {
    type E = BigUint;
    fn group(&self) -> &'static GroupParams {
        self.group
    }
    fn zero(&self) -> BigUint {
        BigUint::zero()
    }
    fn is_zero(&self, a: &BigUint) -> bool {
        a.is_zero()
    }
    fn elem_i64(&self, v: i64) -> BigUint {
        let m = BigUint::from(v.unsigned_abs()) % &self.group.q;
        if v < 0 && !m.is_zero() { &self.group.q - m } else { m }
    }
    fn elem_of(&self, s: &Scalar) -> BigUint {
        s.as_biguint().clone()
    }
    fn to_scalar(&self, a: &BigUint) -> Scalar {
        self.group.scalar(a.clone())
    }
    fn add(&self, a: &BigUint, b: &BigUint) -> BigUint {
        let s = a + b;
        if s >= self.group.q { s - &self.group.q } else { s }
    }
    fn sub(&self, a: &BigUint, b: &BigUint) -> BigUint {
        if a >= b { a - b } else { &self.group.q - (b - a) }
    }
    fn mul(&self, a: &BigUint, b: &BigUint) -> BigUint {
        // Elimination coefficients are nearly always small integers, and −1
        // is stored as q − 1: multiplying those at full width dominated the
        // engine's time on 2048-bit groups.
        match (self.small(a), self.small(b)) {
            (Some(k), _) => self.scale(b, k),
            (_, Some(k)) => self.scale(a, k),
            _ => (a * b) % &self.group.q,
        }
    }
    fn inv(&self, a: &BigUint) -> BigUint {
        // Leads are almost always ±1; otherwise extended Euclid, which is far
        // cheaper than a^(q−2) for a 2048-bit q.
        let q = &self.group.q;
        if a.is_one() || *a == q - 1u32 {
            return a.clone();
        }
        a.modinv(q).expect("a non-zero element of a prime field is invertible")
    }
    fn small(&self, a: &BigUint) -> Option<i64> {
        if a.bits() <= 20 {
            a.to_i64()
        } else if *a > self.small_negative_above {
            (&self.group.q - a).to_i64().map(|v| -v)
        } else {
            None
        }
    }
}

/// GF(2) with values as L-bit strings in a `u64`, for `xor-L` with L ≤ 64.
/// Addition is XOR; a coefficient is 0 or 1, and multiplying a value by one
/// keeps or clears it.
pub struct Gf2U64 {
    group: &'static GroupParams,
}

impl Gf2U64 {
    /// The field of an XOR set with L ≤ 64; `None` otherwise.
    pub fn new(group: &'static GroupParams) -> Option<Gf2U64> {
        (group.is_xor() && group.scalar_bits() <= 64).then_some(Gf2U64 { group })
    }
}

impl Field for Gf2U64 {
    type E = u64;
    fn group(&self) -> &'static GroupParams {
        self.group
    }
    fn zero(&self) -> u64 {
        0
    }
    fn is_zero(&self, a: &u64) -> bool {
        *a == 0
    }
    fn elem_i64(&self, v: i64) -> u64 {
        v.rem_euclid(2) as u64
    }
    fn elem_of(&self, s: &Scalar) -> u64 {
        s.as_biguint().to_u64().expect("a scalar of an xor-L set with L ≤ 64 fits u64")
    }
    fn to_scalar(&self, a: &u64) -> Scalar {
        self.group.scalar_from_u64(*a)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a ^ b
    }
    fn sub(&self, a: &u64, b: &u64) -> u64 {
        a ^ b
    }
    fn mul(&self, a: &u64, b: &u64) -> u64 {
        debug_assert!(*a <= 1 || *b <= 1, "GF(2) multiplies a value by a coefficient only");
        match (*a, *b) {
            (0, _) | (_, 0) => 0,
            (1, x) | (x, _) => x,
        }
    }
    fn inv(&self, a: &u64) -> u64 {
        debug_assert_eq!(*a, 1, "the only non-zero coefficient of GF(2) is 1");
        1
    }
    fn small(&self, a: &u64) -> Option<i64> {
        (*a <= 1).then_some(*a as i64)
    }
}

/// GF(2) with values as L-bit strings of any length: [`Gf2Val`] keeps a
/// value below 2^64 (every coefficient among them) inline, so the
/// elimination's 0/1 entries never allocate.
pub struct Gf2Big {
    group: &'static GroupParams,
}

/// An element of [`Gf2Big`]: a string of at most L bits, inline when it is
/// below 2^64 and shared otherwise. The form is canonical (a value below
/// 2^64 is always `Small`), so equality is value equality.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gf2Val {
    /// A value below 2^64.
    Small(u64),
    /// A value of 2^64 or more.
    Big(std::sync::Arc<BigUint>),
}

impl Gf2Val {
    fn of(v: BigUint) -> Gf2Val {
        match v.to_u64() {
            Some(x) => Gf2Val::Small(x),
            None => Gf2Val::Big(std::sync::Arc::new(v)),
        }
    }

    fn to_biguint(&self) -> BigUint {
        match self {
            Gf2Val::Small(x) => BigUint::from(*x),
            Gf2Val::Big(b) => (**b).clone(),
        }
    }
}

impl Gf2Big {
    /// The field of an XOR set; `None` for a prime group.
    pub fn new(group: &'static GroupParams) -> Option<Gf2Big> {
        group.is_xor().then_some(Gf2Big { group })
    }
}

impl Field for Gf2Big {
    type E = Gf2Val;
    fn group(&self) -> &'static GroupParams {
        self.group
    }
    fn zero(&self) -> Gf2Val {
        Gf2Val::Small(0)
    }
    fn is_zero(&self, a: &Gf2Val) -> bool {
        *a == Gf2Val::Small(0)
    }
    fn elem_i64(&self, v: i64) -> Gf2Val {
        Gf2Val::Small(v.rem_euclid(2) as u64)
    }
    fn elem_of(&self, s: &Scalar) -> Gf2Val {
        Gf2Val::of(s.as_biguint().clone())
    }
    fn to_scalar(&self, a: &Gf2Val) -> Scalar {
        self.group.scalar(a.to_biguint())
    }
    fn add(&self, a: &Gf2Val, b: &Gf2Val) -> Gf2Val {
        match (a, b) {
            (Gf2Val::Small(x), Gf2Val::Small(y)) => Gf2Val::Small(x ^ y),
            (Gf2Val::Big(x), Gf2Val::Big(y)) => Gf2Val::of(&**x ^ &**y),
            (Gf2Val::Big(x), Gf2Val::Small(y)) | (Gf2Val::Small(y), Gf2Val::Big(x)) => {
                Gf2Val::of(&**x ^ BigUint::from(*y))
            }
        }
    }
    fn sub(&self, a: &Gf2Val, b: &Gf2Val) -> Gf2Val {
        self.add(a, b)
    }
    fn mul(&self, a: &Gf2Val, b: &Gf2Val) -> Gf2Val {
        match (a, b) {
            (Gf2Val::Small(0), _) | (_, Gf2Val::Small(0)) => Gf2Val::Small(0),
            (Gf2Val::Small(1), x) | (x, Gf2Val::Small(1)) => x.clone(),
            _ => {
                debug_assert!(false, "GF(2) multiplies a value by a coefficient only");
                Gf2Val::Small(0)
            }
        }
    }
    fn inv(&self, a: &Gf2Val) -> Gf2Val {
        debug_assert_eq!(*a, Gf2Val::Small(1), "the only non-zero coefficient of GF(2) is 1");
        Gf2Val::Small(1)
    }
    fn small(&self, a: &Gf2Val) -> Option<i64> {
        match a {
            Gf2Val::Small(x) if *x <= 1 => Some(*x as i64),
            _ => None,
        }
    }
}

/// Runs `$body` with `$f` bound to `&` the field of `$group` (a
/// `&'static GroupParams`): [`U64Field`] or [`BigField`] for a prime group,
/// [`Gf2U64`] or [`Gf2Big`] for an XOR set. The body is generic code over
/// [`Field`], instantiated four times.
#[macro_export]
macro_rules! with_field {
    ($group:expr, |$f:ident| $body:expr) => {{
        use $crate::knowledge::field as __field;
        let group: &'static $crate::group::GroupParams = $group;
        if let Some(field) = __field::U64Field::new(group) {
            let $f = &field;
            $body
        } else if let Some(field) = __field::Gf2U64::new(group) {
            let $f = &field;
            $body
        } else if let Some(field) = __field::Gf2Big::new(group) {
            let $f = &field;
            $body
        } else {
            let field = __field::BigField::new(group);
            let $f = &field;
            $body
        }
    }};
}
pub use with_field;

/// A one-line rendering of a coefficient: a small signed integer when it is
/// one, else its hex value.
pub fn coeff_text<F: Field>(f: &F, a: &F::E) -> String {
    match small_ratio(f, a) {
        Some((num, 1)) => num.to_string(),
        Some((num, den)) => format!("{num}/{den}"),
        None => format!("0x{}", f.group().scalar_hex(&f.to_scalar(a))),
    }
}

/// `a` as a small fraction num/den (den ≤ 64), if it is one: dividing by
/// n − 1, as running θ backwards does, gives field elements that read as
/// 1/3, not as 60-digit numbers.
pub fn small_ratio<F: Field>(f: &F, a: &F::E) -> Option<(i64, i64)> {
    (1..=64).find_map(|den| f.small(&f.mul(a, &f.elem_i64(den))).map(|num| (num, den)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::by_name;

    #[test]
    fn both_fields_agree_on_toy_64() {
        let g = by_name("toy-64").unwrap();
        let (a, b) = (U64Field::new(g).unwrap(), BigField::new(g));
        for (x, y) in
            [(3i64, -7i64), (123_456_789, 987_654_321), (-1, -1), (1, -1), (-1, 5), (7, 1), (0, -1), (2, 0)]
        {
            let (ax, ay) = (a.elem_i64(x), a.elem_i64(y));
            let (bx, by) = (b.elem_i64(x), b.elem_i64(y));
            assert_eq!(BigUint::from(a.mul(&ax, &ay)), b.mul(&bx, &by));
            assert_eq!(BigUint::from(a.sub(&ax, &ay)), b.sub(&bx, &by));
            if x != 0 {
                assert_eq!(BigUint::from(a.inv(&ax)), b.inv(&bx));
                assert_eq!(a.mul(&ax, &a.inv(&ax)), 1);
                assert!(b.mul(&bx, &b.inv(&bx)).is_one());
            }
        }
        assert_eq!(a.small(&a.elem_i64(-5)), Some(-5));
        assert_eq!(b.small(&b.elem_i64(-5)), Some(-5));
    }

    /// An element of GF(q) biased to the fast paths' edges: 0, ±1, small
    /// integers of either sign, q − 2^20 ± 1, and arbitrary values.
    fn elem(q: u64) -> impl proptest::strategy::Strategy<Value = u64> {
        use proptest::prelude::*;
        prop_oneof![
            Just(0u64),
            Just(1u64),
            Just(q - 1),
            Just(q - 2),
            Just(2u64),
            (0u64..(1 << 20)),
            (0u64..(1 << 20)).prop_map(move |k| q - 1 - k),
            Just(q - SMALL),
            Just(q - SMALL - 1),
            Just(q - SMALL + 1),
            (0u64..q),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 2000, failure_persistence: None, ..Default::default() })]

        /// The u64 field (±1 shortcuts, extended-Euclid inversion) equals
        /// the BigUint field and plain modular arithmetic, on toy-32 and
        /// toy-64.
        #[test]
        fn u64_field_fast_paths_agree_with_biguint(
            which in 0usize..2,
            ab in (elem(q_of("toy-32")), elem(q_of("toy-32")), elem(q_of("toy-64")), elem(q_of("toy-64"))),
            small in -(1i64 << 21)..(1i64 << 21),
        ) {
            use proptest::prelude::*;
            let name = ["toy-32", "toy-64"][which];
            let g = by_name(name).unwrap();
            let (u, b) = (U64Field::new(g).unwrap(), BigField::new(g));
            let (x, y) = if which == 0 { (ab.0, ab.1) } else { (ab.2, ab.3) };
            let q = u128::from(q_of(name));
            let (bx, by) = (BigUint::from(x), BigUint::from(y));
            let plain = ((u128::from(x) * u128::from(y)) % q) as u64;
            prop_assert_eq!(u.mul(&x, &y), plain);
            prop_assert_eq!(BigUint::from(u.mul(&x, &y)), b.mul(&bx, &by));
            prop_assert_eq!(u.add(&x, &y), ((u128::from(x) + u128::from(y)) % q) as u64);
            prop_assert_eq!(u.sub(&x, &y), ((u128::from(x) + q - u128::from(y)) % q) as u64);
            prop_assert_eq!(BigUint::from(u.sub(&x, &y)), b.sub(&bx, &by));
            prop_assert_eq!(BigUint::from(u.elem_i64(small)), b.elem_i64(small));
            prop_assert_eq!(u.small(&x), b.small(&bx));
            if x != 0 {
                let i = u.inv(&x);
                prop_assert!(i < q_of(name));
                prop_assert_eq!(u.mul(&x, &i), 1);
                prop_assert_eq!(BigUint::from(i), b.inv(&bx));
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 500, failure_persistence: None, ..Default::default() })]

        /// GF(2): the inline u64 field and the any-length field agree on
        /// xor-64; on xor-256 a value round-trips through a scalar, XOR is
        /// its own inverse, and a coefficient keeps or clears a value.
        #[test]
        fn gf2_fields_agree_and_round_trip(
            x in proptest::prelude::any::<u64>(),
            y in proptest::prelude::any::<u64>(),
            wide in proptest::collection::vec(proptest::prelude::any::<u8>(), 32),
            k in -5i64..5,
        ) {
            use proptest::prelude::*;
            let g64 = crate::group::xor(64).unwrap();
            let (u, b) = (Gf2U64::new(g64).unwrap(), Gf2Big::new(g64).unwrap());
            let (bx, by) = (b.elem_of(&g64.scalar_from_u64(x)), b.elem_of(&g64.scalar_from_u64(y)));
            prop_assert_eq!(b.add(&bx, &by), Gf2Val::Small(u.add(&x, &y)));
            prop_assert_eq!(b.mul(&b.elem_i64(k), &bx), Gf2Val::Small(u.mul(&u.elem_i64(k), &x)));
            prop_assert_eq!(u.to_scalar(&u.add(&x, &y)), g64.add(&g64.scalar_from_u64(x), &g64.scalar_from_u64(y)));
            let g256 = crate::group::xor(256).unwrap();
            let f = Gf2Big::new(g256).unwrap();
            let s = g256.scalar_from_bytes(&wide).unwrap();
            let v = f.elem_of(&s);
            prop_assert_eq!(f.to_scalar(&v), s.clone());
            prop_assert!(f.is_zero(&f.add(&v, &v)));
            let small = f.elem_of(&g256.scalar_from_u64(y));
            prop_assert_eq!(f.sub(&f.add(&v, &small), &small), v.clone());
            prop_assert_eq!(f.mul(&f.elem_i64(k), &v), if k % 2 == 0 { f.zero() } else { v.clone() });
            prop_assert_eq!(g256.mul_i64(&s, k), f.to_scalar(&f.mul(&f.elem_i64(k), &v)));
        }
    }

    fn q_of(name: &str) -> u64 {
        by_name(name).unwrap().q.to_u64().unwrap()
    }
}
