//! Group parameters (P, q, g), the `Scalar` (mod q) and `Element` (mod P)
//! newtypes and the key derivation SK_e = KDF(θ_e) of reference §3.
//!
//! The patent's pad arithmetic (⊙ and ⋄) is addition in Z_q by default, or
//! XOR of L-bit strings ([`Operator::Xor`], the patent's ⊕); either way every
//! protocol secret — v, γ, δ, α, θ, FK, HFK — is a [`Scalar`] and the
//! [`GroupParams`] it came from does the arithmetic. Exponentiations
//! (commitments, ElGamal key pairs) are mod P and yield [`Element`]s; XOR
//! sets have none.

mod fixed;
mod kdf;
mod params;
mod scalar;

pub use kdf::{KeyTag, SharedKey, confirm_tag, derive_sk};
pub use params::{
    GroupParams, Operator, PARAMS_NAMES, XOR_BITS, XOR_BITS_DEFAULT, all, by_name, lookup, xor,
};
pub use scalar::{DecodeError, Element, Scalar};
