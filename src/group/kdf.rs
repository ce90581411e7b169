//! SK_e = HKDF-SHA256(θ_e) exactly as reference §3 fixes it, and the key
//! confirmation tag H("fraclab/confirm/v1" ‖ SK_e) every member broadcasts.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};

use super::{GroupParams, Scalar};

/// A derived 32-byte shared key SK_e (the output of [`derive_sk`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct SharedKey(pub [u8; 32]);

/// A key-confirmation tag: SHA-256 over the domain label and the key (the
/// output of [`confirm_tag`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct KeyTag(pub [u8; 32]);

impl SharedKey {
    /// The key as 64 lowercase hex digits, as the trace and summary write it.
    pub fn to_hex(&self) -> String {
        hex32(&self.0)
    }
}

impl KeyTag {
    /// The tag as 64 lowercase hex digits, as the trace writes it.
    pub fn to_hex(&self) -> String {
        hex32(&self.0)
    }
}

/// SK_e = HKDF-SHA256(salt = "fraclab/sk/v1", IKM = θ_e padded to |q| bytes,
/// info = params name ‖ 0x00 ‖ u32be n ‖ u64be e), 32 bytes.
pub fn derive_sk(group: &GroupParams, members: u32, epoch: u64, theta: &Scalar) -> SharedKey {
    let ikm = group.scalar_bytes(theta);
    let mut info = Vec::with_capacity(group.name.len() + 13);
    info.extend_from_slice(group.name.as_bytes());
    info.push(0);
    info.extend_from_slice(&members.to_be_bytes());
    info.extend_from_slice(&epoch.to_be_bytes());
    let hk = Hkdf::<Sha256>::new(Some(b"fraclab/sk/v1"), &ikm);
    let mut out = [0u8; 32];
    hk.expand(&info, &mut out).expect("32 bytes is a valid HKDF-SHA256 output length");
    SharedKey(out)
}

/// H("fraclab/confirm/v1" ‖ SK_e).
pub fn confirm_tag(sk: &SharedKey) -> KeyTag {
    let mut h = Sha256::new();
    h.update(b"fraclab/confirm/v1");
    h.update(sk.0);
    KeyTag(h.finalize().into())
}

/// Lowercase hex of 32 bytes, through a slice rather than `hex::encode`'s
/// char iterator (a full trace writes one per confirmation message).
fn hex32(b: &[u8; 32]) -> String {
    let mut out = [0u8; 64];
    hex::encode_to_slice(b, &mut out).expect("64 digits for 32 bytes");
    String::from_utf8(out.to_vec()).expect("hex digits are ASCII")
}
