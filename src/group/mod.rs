//! Group parameters (P, q, g), the `Scalar` (mod q) and `Element` (mod P)
//! newtypes and the key derivation SK_e = KDF(θ_e) of reference §3.
//!
//! All of the patent's pad arithmetic (⊙ and ⋄) is addition in Z_q, so every
//! protocol secret — v, γ, δ, α, θ, FK, HFK — is a [`Scalar`]; exponentiations
//! (commitments, ElGamal key pairs) are mod P and yield [`Element`]s.

mod fixed;
mod kdf;
mod params;
mod scalar;

pub use kdf::{KeyTag, SharedKey, confirm_tag, derive_sk};
pub use params::{GroupParams, PARAMS_NAMES, all, by_name};
pub use scalar::{DecodeError, Element, Scalar};
