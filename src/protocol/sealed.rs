//! The sealed envelope (reference §1, ambiguity 8): the patent's
//! {{T_i, M, j, Msg}_{K_i⁻¹}}_{K_R}, done so that a signed message cannot be
//! re-encrypted to someone else (Davis, "Defective Sign & Encrypt", 2001).
//!
//! - The sender signs (Ed25519) a domain tag, the whole header (sender and
//!   its incarnation, recipient and its incarnation, mode, iteration,
//!   sequence number, attempt, timestamp T, the ephemeral key) and the
//!   payload.
//! - It encrypts signature ‖ payload to the recipient: ephemeral-static
//!   X25519, HKDF-SHA256, ChaCha20-Poly1305, with the header as associated
//!   data. A key is used for one message, so the nonce is zero.
//! - The receiver rejects, each with its own reason: a header addressed to
//!   someone else, a ciphertext it cannot open (or a non-contributory key
//!   exchange), and a bad signature. Then, from its protocol state (see
//!   [`Admit`], checked by [`Endpoint::open`]): a mode not allowed now, an iteration outside its window,
//!   a replayed sequence number and a timestamp outside the window.
//!
//! Keys are derived from bytes the simulator draws from seeded streams, so
//! runs stay reproducible. No primitive is written here: ed25519-dalek
//! (`verify_strict`), x25519-dalek and chacha20poly1305 do the work.

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use rand_core::Rng;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

use super::message::wire;
use super::{Body, Envelope, LocalTime, MemberId, Mode, Party};
use crate::group::GroupParams;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

const SIGN_TAG: &[u8] = b"fraclab/sealed/v1/sign";
const KDF_SALT: &[u8] = b"fraclab/sealed/v1/kdf";

/// A party's long-term keys: Ed25519 to sign, X25519 to be encrypted to.
pub struct Keys {
    sign: SigningKey,
    dh: StaticSecret,
}

/// What everyone knows of a party: its two public keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKeys {
    /// The Ed25519 key the party's signatures verify under.
    pub verify: VerifyingKey,
    /// The X25519 key messages to the party are encrypted to.
    pub dh: PublicKey,
}

impl Keys {
    /// Keys from 64 seeded bytes (32 for each key).
    pub fn from_seed(seed: [u8; 64]) -> Keys {
        let (a, b) = seed.split_at(32);
        let sign = SigningKey::from_bytes(&a.try_into().expect("32 bytes"));
        let dh = StaticSecret::from(<[u8; 32]>::try_from(b).expect("32 bytes"));
        Keys { sign, dh }
    }

    /// The public halves, as the directory (the simulation's PKI) lists
    /// them.
    pub fn public(&self) -> PublicKeys {
        PublicKeys { verify: self.sign.verifying_key(), dh: PublicKey::from(&self.dh) }
    }
}

/// The cleartext header, authenticated twice: signed, and the AEAD's
/// associated data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The sender's trace id (0 = the SM).
    pub from: u32,
    /// The sender's incarnation.
    pub from_inc: u32,
    /// The recipient's trace id (0 = the SM).
    pub to: u32,
    /// The recipient's incarnation the message is sealed to; any other
    /// incarnation refuses it as [`Reject::WrongRecipient`].
    pub to_inc: u32,
    /// The patent's mode M: b'I', b'G' or b'R'.
    pub mode: u8,
    /// The envelope's iteration j.
    pub iter: u64,
    /// The channel's own sequence number: it counts the sender's
    /// transmissions to this recipient incarnation from 1, so every
    /// retransmission gets a new one, and the replay cache keys on it. (The
    /// link's sequence number travels inside the payload.)
    pub seq: u64,
    /// The envelope's attempt: 0 for the first transmission, k for the
    /// k-th retransmission.
    pub attempt: u32,
    /// The sender's clock when it sealed, µs.
    pub t_us: i64,
    /// The ephemeral X25519 public key of this message.
    pub eph: [u8; 32],
}

impl Header {
    fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(4 * 4 + 1 + 8 * 3 + 4 + 32);
        b.extend(self.from.to_be_bytes());
        b.extend(self.from_inc.to_be_bytes());
        b.extend(self.to.to_be_bytes());
        b.extend(self.to_inc.to_be_bytes());
        b.push(self.mode);
        b.extend(self.iter.to_be_bytes());
        b.extend(self.seq.to_be_bytes());
        b.extend(self.attempt.to_be_bytes());
        b.extend(self.t_us.to_be_bytes());
        b.extend(self.eph);
        b
    }
}

/// A sealed message on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// The header, in the clear.
    pub header: Header,
    /// ChaCha20-Poly1305 over the 64-byte Ed25519 signature ‖ the payload
    /// ([`wire`] encoding), with the header as associated data; the 16-byte
    /// tag at the end.
    pub ciphertext: Vec<u8>,
}

/// Why a receiver refused a sealed message. Nothing refused reaches
/// protocol state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reject {
    /// The header names another party or incarnation (Davis's
    /// re-encrypted message that kept its header).
    WrongRecipient,
    /// The AEAD does not open (a flipped bit in the header, the ephemeral
    /// key or the ciphertext), or the key agreement is not contributory.
    Undecryptable,
    /// The signature does not verify (`verify_strict`) under the claimed
    /// sender's key, or the claimed sender has no key: a rewritten header,
    /// a forgery.
    BadSignature,
    /// The header's mode does not fit the payload's kind
    /// ([`wire::mode_allows`]), or the receiver does not take that mode in
    /// its phase ([`Admit::modes`]).
    WrongMode,
    /// The iteration is outside what the receiver admits in that mode
    /// ([`Admit::iters`]), or a key confirmation is from a future iteration.
    StaleIteration,
    /// A (sender, incarnation, sequence number) accepted before and still
    /// in the replay cache; a network duplicate is refused so too.
    Replayed,
    /// The header's T is further from the receiver's clock than the
    /// window ([`Endpoint::new`]).
    Timestamp,
    /// Authentic bytes that do not decode to a payload; outside the sealed
    /// channel, a tampered payload that no longer parses. On every channel,
    /// also a payload that does not fit the group ([`Envelope::fits`]: a
    /// member id outside 1..=n, say).
    Malformed,
}

/// Every rejection reason's name, in the order of the checks.
pub const REASONS: [&str; 8] = [
    "wrong-recipient",
    "undecryptable",
    "bad-signature",
    "malformed",
    "wrong-mode",
    "stale-iteration",
    "replayed",
    "timestamp",
];

impl Reject {
    /// The reason's name in traces and summaries, one of [`REASONS`].
    pub fn as_str(self) -> &'static str {
        match self {
            Reject::WrongRecipient => "wrong-recipient",
            Reject::Undecryptable => "undecryptable",
            Reject::BadSignature => "bad-signature",
            Reject::WrongMode => "wrong-mode",
            Reject::StaleIteration => "stale-iteration",
            Reject::Replayed => "replayed",
            Reject::Timestamp => "timestamp",
            Reject::Malformed => "malformed",
        }
    }
}

fn aead_key(shared: &[u8; 32], eph: &[u8; 32], recipient: &[u8; 32]) -> ChaCha20Poly1305 {
    let hk = Hkdf::<Sha256>::new(Some(KDF_SALT), shared);
    let mut info = Vec::with_capacity(64);
    info.extend(eph);
    info.extend(recipient);
    let mut key = [0u8; 32];
    hk.expand(&info, &mut key).expect("32 bytes is a valid HKDF length");
    ChaCha20Poly1305::new_from_slice(&key).expect("a 32-byte key")
}

const NONCE: [u8; 12] = [0; 12];

/// Signs and encrypts `payload` for the recipient whose X25519 key is
/// `to_dh`. `eph_seed` (seeded bytes) makes the message's ephemeral key.
/// `header.eph` is filled in here.
pub fn seal(
    keys: &Keys,
    mut header: Header,
    to_dh: &PublicKey,
    payload: &[u8],
    eph_seed: [u8; 32],
) -> Sealed {
    let eph = StaticSecret::from(eph_seed);
    header.eph = PublicKey::from(&eph).to_bytes();
    let hb = header.to_bytes();
    let mut signed = Vec::with_capacity(SIGN_TAG.len() + hb.len() + payload.len());
    signed.extend(SIGN_TAG);
    signed.extend(&hb);
    signed.extend(payload);
    let sig = keys.sign.sign(&signed);
    let mut plain = sig.to_bytes().to_vec();
    plain.extend(payload);
    let shared = eph.diffie_hellman(to_dh);
    let cipher = aead_key(shared.as_bytes(), &header.eph, to_dh.as_bytes());
    let ciphertext = cipher
        .encrypt((&NONCE).into(), Payload { msg: &plain, aad: &hb })
        .expect("ChaCha20-Poly1305 encrypts any length a simulation sends");
    Sealed { header, ciphertext }
}

/// The cryptographic checks alone: recipient, decryption, signature.
/// Returns the payload.
fn unseal(
    keys: &Keys,
    me: (u32, u32),
    sealed: &Sealed,
    sender: Option<&PublicKeys>,
) -> Result<Vec<u8>, Reject> {
    let h = &sealed.header;
    if (h.to, h.to_inc) != me {
        return Err(Reject::WrongRecipient);
    }
    let eph = PublicKey::from(h.eph);
    let shared = keys.dh.diffie_hellman(&eph);
    if !shared.was_contributory() {
        return Err(Reject::Undecryptable);
    }
    let hb = h.to_bytes();
    let own = PublicKey::from(&keys.dh);
    let cipher = aead_key(shared.as_bytes(), &h.eph, own.as_bytes());
    let plain = cipher
        .decrypt((&NONCE).into(), Payload { msg: &sealed.ciphertext, aad: &hb })
        .map_err(|_| Reject::Undecryptable)?;
    if plain.len() < 64 {
        return Err(Reject::Undecryptable);
    }
    let (sig, payload) = plain.split_at(64);
    let sig = Signature::from_bytes(&sig.try_into().expect("64 bytes"));
    let mut signed = Vec::with_capacity(SIGN_TAG.len() + hb.len() + payload.len());
    signed.extend(SIGN_TAG);
    signed.extend(&hb);
    signed.extend(payload);
    let sender = sender.ok_or(Reject::BadSignature)?;
    sender.verify.verify_strict(&signed, &sig).map_err(|_| Reject::BadSignature)?;
    Ok(payload.to_vec())
}

/// The modes and iterations a receiver's protocol state admits now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admit {
    /// Mode bytes: some of b"IGR".
    pub modes: &'static [u8],
    /// The iterations admitted in modes I, G and R.
    pub iters: [RangeInclusive<u64>; 3],
}

impl Admit {
    /// Everything (a party whose state does not constrain what it takes).
    pub fn all() -> Admit {
        Admit { modes: b"IGR", iters: [0..=u64::MAX, 0..=u64::MAX, 0..=u64::MAX] }
    }
}

fn mode_byte(m: Mode) -> u8 {
    m.as_str().as_bytes()[0]
}

/// The party with trace id `id` (0 = the SM).
pub fn party(id: u32) -> Party {
    if id == 0 { Party::Sm } else { Party::Member(MemberId(id)) }
}

/// One party's end of the sealed channel (sans-IO: the caller passes the
/// time, the peers' public keys and the randomness): its keys, the
/// sequence numbers it stamps on what it sends, and the replay cache of
/// what it accepted. The cache forgets a message once its timestamp has
/// left the window, where the timestamp check takes over, so it stays as
/// small as the traffic of one window.
pub struct Endpoint {
    keys: Keys,
    /// (trace id, incarnation).
    me: (u32, u32),
    window_us: i64,
    /// The next sequence number towards each recipient (id, incarnation).
    next_seq: BTreeMap<(u32, u32), u64>,
    /// (sender, its incarnation, seq) accepted within the window…
    seen: BTreeSet<(u32, u32, u64)>,
    /// …and the same entries by timestamp.
    by_time: BTreeSet<(i64, u32, u32, u64)>,
}

impl Endpoint {
    /// The endpoint of `me`'s incarnation `incarnation`, holding `keys`.
    /// `window_us`: how far a timestamp may be from the receiver's clock, µs.
    pub fn new(keys: Keys, me: Party, incarnation: u32, window_us: i64) -> Endpoint {
        Endpoint {
            keys,
            me: (me.trace_id(), incarnation),
            window_us,
            next_seq: BTreeMap::new(),
            seen: BTreeSet::new(),
            by_time: BTreeSet::new(),
        }
    }

    /// This party's public keys, for the directory.
    pub fn public(&self) -> PublicKeys {
        self.keys.public()
    }

    /// Seals `env` for the recipient's incarnation `to_inc`, whose keys are
    /// `to_keys`, stamped with this party's clock `now`. Every call (a
    /// retransmission too) takes a fresh sequence number and ephemeral key.
    pub fn seal(
        &mut self,
        group: &GroupParams,
        now: LocalTime,
        env: &Envelope,
        to_inc: u32,
        to_keys: &PublicKeys,
        rng: &mut dyn Rng,
    ) -> Sealed {
        let to = (env.to.trace_id(), to_inc);
        let next = self.next_seq.entry(to).or_insert(1);
        let seq = *next;
        *next += 1;
        let header = Header {
            from: self.me.0,
            from_inc: self.me.1,
            to: to.0,
            to_inc: to.1,
            mode: mode_byte(env.mode),
            iter: env.iter,
            seq,
            attempt: env.attempt,
            t_us: now.0,
            eph: [0; 32],
        };
        let mut eph = [0u8; 32];
        rng.fill_bytes(&mut eph);
        seal(&self.keys, header, &to_keys.dh, &wire::encode(group, env), eph)
    }

    /// Opens `sealed` at this party's clock `now`: the cryptographic checks,
    /// the payload's decoding, then `admit` (from the receiver's protocol
    /// state), the replay cache and the timestamp window. `sender`: the
    /// public keys of the claimed sender, if it exists. Only an envelope
    /// that passes everything is returned, and only then is it remembered.
    pub fn open(
        &mut self,
        group: &GroupParams,
        now: LocalTime,
        sealed: &Sealed,
        sender: Option<&PublicKeys>,
        admit: &Admit,
    ) -> Result<Envelope, Reject> {
        let horizon = now.0.saturating_sub(self.window_us);
        while let Some(&(t, from, inc, seq)) = self.by_time.first() {
            if t >= horizon {
                break;
            }
            self.by_time.pop_first();
            self.seen.remove(&(from, inc, seq));
        }
        // The state checks wait for the payload (an ack echoes the header
        // of what it acknowledges and carries no protocol state, so the mode
        // and iteration checks do not apply to it); they come in this order:
        // mode, iteration, replay, timestamp.
        let payload = unseal(&self.keys, self.me, sealed, sender)?;
        let h = &sealed.header;
        let (seq, to_inc, body) = wire::decode(group, &payload).ok_or(Reject::Malformed)?;
        let mode = match h.mode {
            b'I' => Mode::Init,
            b'G' => Mode::Generation,
            b'R' => Mode::Recovery,
            _ => return Err(Reject::WrongMode),
        };
        if !wire::mode_allows(mode, &body) {
            return Err(Reject::WrongMode);
        }
        let iters = match mode {
            Mode::Init => &admit.iters[0],
            Mode::Generation => &admit.iters[1],
            Mode::Recovery => &admit.iters[2],
        };
        match body {
            // An ack echoes the header of what it acknowledges and carries
            // no protocol state.
            Body::Ack { .. } => {}
            // Key confirmations of any past epoch still count (the verdict
            // wants every one): only a future one is refused.
            Body::Confirm(_) if h.iter > *iters.end() => return Err(Reject::StaleIteration),
            Body::Confirm(_) => {}
            _ if !admit.modes.contains(&h.mode) => return Err(Reject::WrongMode),
            _ if !iters.contains(&h.iter) => return Err(Reject::StaleIteration),
            _ => {}
        }
        if self.seen.contains(&(h.from, h.from_inc, h.seq)) {
            return Err(Reject::Replayed);
        }
        if (now.0 - h.t_us).abs() > self.window_us {
            return Err(Reject::Timestamp);
        }
        self.seen.insert((h.from, h.from_inc, h.seq));
        self.by_time.insert((h.t_us, h.from, h.from_inc, h.seq));
        Ok(Envelope {
            from: party(h.from),
            to: party(h.to),
            mode,
            iter: h.iter,
            seq,
            attempt: h.attempt,
            from_inc: h.from_inc,
            to_inc,
            body,
        })
    }

    /// How many accepted messages the replay cache holds.
    pub fn cache_len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;

    fn keys(k: u8) -> Keys {
        let mut seed = [0u8; 64];
        for (i, b) in seed.iter_mut().enumerate() {
            *b = k.wrapping_mul(31).wrapping_add(i as u8);
        }
        Keys::from_seed(seed)
    }

    fn group() -> &'static GroupParams {
        crate::group::by_name("toy-64").expect("a bundled parameter set")
    }

    fn member(id: u32) -> Party {
        Party::Member(MemberId(id))
    }

    /// Member `from`'s HFK of iteration 3 to member `to`.
    fn hfk(from: u32, to: u32) -> Envelope {
        Envelope {
            from: member(from),
            to: member(to),
            mode: Mode::Generation,
            iter: 3,
            seq: 7,
            attempt: 0,
            from_inc: 0,
            to_inc: 0,
            body: Body::Hfk(group().scalar_from_u64(42)),
        }
    }

    /// Member `id`'s endpoint with keys `k` (a 1 000 µs window).
    fn endpoint(k: u8, id: u32) -> Endpoint {
        Endpoint::new(keys(k), member(id), 0, 1_000)
    }

    /// What member 2 admits: every mode, iterations 1..=5.
    fn admit() -> Admit {
        Admit { modes: b"IGR", iters: [1..=5, 1..=5, 1..=5] }
    }

    /// A sealed message opens to its envelope in every mode, and its
    /// payload is encrypted.
    #[test]
    fn round_trip_in_every_mode() {
        let (g, mut rng) = (group(), ChaCha20Rng::seed_from_u64(1));
        let (mut a, mut b) = (endpoint(1, 1), endpoint(2, 2));
        for (mode, body) in [
            (Mode::Init, Body::Theta(g.scalar_from_u64(5))),
            (Mode::Generation, Body::Hfk(g.scalar_from_u64(6))),
            (Mode::Recovery, Body::Xi(g.scalar_from_u64(7))),
        ] {
            let env = Envelope { mode, body, ..hfk(1, 2) };
            let s = a.seal(g, LocalTime(1_000), &env, 0, &b.public(), &mut rng);
            assert_eq!(b.open(g, LocalTime(1_500), &s, Some(&a.public()), &admit()), Ok(env.clone()));
            let plain = wire::encode(g, &env);
            assert!(!s.ciphertext.windows(plain.len()).any(|w| w == plain), "the payload is encrypted");
        }
    }

    /// Each rejection reason of the shipping receiver, `Endpoint::open`,
    /// comes from its own crafted message, and the honest message passes
    /// every check.
    #[test]
    fn each_rejection_reason_from_a_crafted_message() {
        let (g, mut rng) = (group(), ChaCha20Rng::seed_from_u64(1));
        let (mut a, mut c) = (endpoint(1, 1), endpoint(3, 1));
        let b_keys = endpoint(2, 2).public();
        let a_keys = a.public();
        let honest = a.seal(g, LocalTime(1_000), &hfk(1, 2), 0, &b_keys, &mut rng);
        // A fresh receiver for every attempt: a refusal is not remembered,
        // an acceptance would make the next attempt a replay.
        let open_at = |s: &Sealed, now: i64, admit: &Admit, sender: Option<&PublicKeys>| {
            endpoint(2, 2).open(g, LocalTime(now), s, sender, admit)
        };
        let open_b = |s: &Sealed| open_at(s, 1_500, &admit(), Some(&a_keys));
        assert!(open_b(&honest).is_ok());
        // Addressed to member 3.
        let other = a.seal(g, LocalTime(1_000), &hfk(1, 3), 0, &b_keys, &mut rng);
        assert_eq!(open_b(&other), Err(Reject::WrongRecipient));
        // A flipped ciphertext byte, and a flipped header byte (the AAD).
        let mut tampered = honest.clone();
        tampered.ciphertext[70] ^= 1;
        assert_eq!(open_b(&tampered), Err(Reject::Undecryptable));
        let mut tampered = honest.clone();
        tampered.header.iter = 4;
        assert_eq!(open_b(&tampered), Err(Reject::Undecryptable));
        // A low-order ephemeral key: the exchange is not contributory.
        let mut low = honest.clone();
        low.header.eph = [0; 32];
        assert_eq!(open_b(&low), Err(Reject::Undecryptable));
        // Signed by C, claiming to be A (a forgery); or from no known sender.
        let forged = c.seal(g, LocalTime(1_000), &hfk(1, 2), 0, &b_keys, &mut rng);
        assert_eq!(open_b(&forged), Err(Reject::BadSignature));
        assert_eq!(open_at(&honest, 1_500, &admit(), None), Err(Reject::BadSignature));
        // Signed by A, but no payload an honest party sends.
        let junk = seal(&keys(1), honest.header.clone(), &b_keys.dh, b"junk", [9; 32]);
        assert_eq!(open_b(&junk), Err(Reject::Malformed));
        // Protocol state: mode, iteration, replay, timestamp.
        let init_only = Admit { modes: b"I", ..admit() };
        assert_eq!(open_at(&honest, 1_500, &init_only, Some(&a_keys)), Err(Reject::WrongMode));
        let later = Admit { iters: [1..=5, 4..=9, 1..=5], ..admit() };
        assert_eq!(open_at(&honest, 1_500, &later, Some(&a_keys)), Err(Reject::StaleIteration));
        let mut b = endpoint(2, 2);
        assert!(b.open(g, LocalTime(1_500), &honest, Some(&a_keys), &admit()).is_ok());
        assert_eq!(b.open(g, LocalTime(1_600), &honest, Some(&a_keys), &admit()), Err(Reject::Replayed));
        assert_eq!(open_at(&honest, 5_000, &admit(), Some(&a_keys)), Err(Reject::Timestamp));
    }

    /// Endpoints: an envelope comes out as it went in; the same bytes again
    /// are a replay, a retransmission (sealed anew) is not; the cache
    /// forgets what left the window, where the timestamp check rejects it.
    #[test]
    fn endpoints_take_retransmissions_and_refuse_replays() {
        let g = group();
        let (sm, m1) = (Party::Sm, member(1));
        let mut a = Endpoint::new(keys(1), sm, 0, 1_000);
        let mut b = Endpoint::new(keys(2), m1, 0, 1_000);
        let env = Envelope {
            from: sm,
            to: m1,
            mode: Mode::Init,
            iter: 1,
            seq: 4,
            attempt: 0,
            from_inc: 0,
            to_inc: 0,
            body: Body::Theta(g.scalar_from_u64(99)),
        };
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let first = a.seal(g, LocalTime(100), &env, 0, &b.public(), &mut rng);
        let all = Admit::all();
        assert_eq!(b.open(g, LocalTime(150), &first, Some(&a.public()), &all), Ok(env.clone()));
        assert_eq!(b.open(g, LocalTime(160), &first, Some(&a.public()), &all), Err(Reject::Replayed));
        let again = Envelope { attempt: 1, ..env.clone() };
        let resent = a.seal(g, LocalTime(900), &again, 0, &b.public(), &mut rng);
        assert_eq!(b.open(g, LocalTime(950), &resent, Some(&a.public()), &all), Ok(again));
        assert_eq!(b.cache_len(), 2);
        assert_eq!(b.open(g, LocalTime(1_500), &first, Some(&a.public()), &all), Err(Reject::Timestamp));
        assert_eq!(b.cache_len(), 1, "the first message left the window");
        // A G-mode header over an I-mode payload: signed, but never honest.
        let odd = Envelope { mode: Mode::Generation, ..env };
        let odd = a.seal(g, LocalTime(1_500), &odd, 0, &b.public(), &mut rng);
        assert_eq!(b.open(g, LocalTime(1_500), &odd, Some(&a.public()), &all), Err(Reject::WrongMode));
    }

    /// Davis's surreptitious forwarding: B opens A's message and re-seals
    /// the same signed content to C. Keeping A's header (to = B), C sees
    /// the wrong recipient; rewriting it to C breaks A's signature.
    #[test]
    fn a_signed_message_re_encrypted_to_another_member_is_rejected() {
        let (g, mut rng) = (group(), ChaCha20Rng::seed_from_u64(1));
        let (mut a, b, c) = (endpoint(1, 1), keys(2), keys(3));
        let to_b = a.seal(g, LocalTime(1_000), &hfk(1, 2), 0, &b.public(), &mut rng);
        // B decrypts: recover A's signature and payload.
        let shared = b.dh.diffie_hellman(&PublicKey::from(to_b.header.eph));
        let cipher = aead_key(shared.as_bytes(), &to_b.header.eph, b.public().dh.as_bytes());
        let plain = cipher
            .decrypt((&NONCE).into(), Payload { msg: &to_b.ciphertext, aad: &to_b.header.to_bytes() })
            .unwrap();
        // Re-encrypt the same plaintext to C under a fresh ephemeral key.
        let reseal = |mut h: Header| {
            let eph = StaticSecret::from([5; 32]);
            h.eph = PublicKey::from(&eph).to_bytes();
            let shared = eph.diffie_hellman(&c.public().dh);
            let cipher = aead_key(shared.as_bytes(), &h.eph, c.public().dh.as_bytes());
            let ct = cipher.encrypt((&NONCE).into(), Payload { msg: &plain, aad: &h.to_bytes() }).unwrap();
            Sealed { header: h, ciphertext: ct }
        };
        let open_c = |s: &Sealed| endpoint(3, 3).open(g, LocalTime(1_500), s, Some(&a.public()), &admit());
        assert_eq!(open_c(&reseal(to_b.header.clone())), Err(Reject::WrongRecipient));
        assert_eq!(open_c(&reseal(Header { to: 3, ..to_b.header.clone() })), Err(Reject::BadSignature));
    }
}
