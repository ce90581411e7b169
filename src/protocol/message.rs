//! Protocol messages. An [`Envelope`] carries the patent's message header —
//! mode M (I, G, R) and iteration j — plus what the link layer needs: the
//! sender's sequence number, the attempt and both parties' incarnations;
//! timestamps and signatures belong to the sealed channel (`sealed`), which
//! encrypts the payload encoded by [`wire`].

use std::sync::Arc;

use crate::group::{Element, KeyTag, Scalar, SharedKey};

use super::{MemberId, Party};

/// The patent's mode field M.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Mode {
    /// Initialisation.
    Init,
    /// Key generation.
    Generation,
    /// Recovery.
    Recovery,
}

impl Mode {
    /// The mode's letter, `I`, `G` or `R`, as traces, a scenario's `modes`
    /// lists and the sealed header write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Init => "I",
            Mode::Generation => "G",
            Mode::Recovery => "R",
        }
    }
}

/// Commitments g^value that let members verify initialisation (reference §1,
/// processes 800 and 900). They are public and non-linear: the knowledge
/// engine does not invert them.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Commitment {
    /// Process 800, SM → every member: C_i = g^{α_{i,1}} for i = 1..n and
    /// C_θ = g^{θ_1}.
    Pads {
        /// C_i = g^{α_{i,1}} for i = 1..n, in member order: one per member
        /// (see [`Envelope::fits`]).
        alphas: Vec<Element>,
        /// C_θ = g^{θ_1}.
        theta: Element,
    },
    /// Process 900, member i → every member: V_i = g^{v_i}, D_i = g^{δ_i}
    /// and, from the GI, Γ = g^γ.
    Ring {
        /// V_i = g^{v_i}.
        v: Element,
        /// D_i = g^{δ_i}, of the δ the member sent on the ring.
        delta: Element,
        /// Γ = g^γ, from the GI (member 1) only; `None` from every other
        /// member.
        gamma: Option<Element>,
    },
}

/// Process 700, RI → replacement: HFK_{ī,r} (none when r = 0), θ_{r+1}
/// and SK_{r+1}.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Recover {
    /// HFK_{ī,r} of the failed member; `None` exactly when r (the
    /// envelope's iteration) is 0.
    pub hfk: Option<Scalar>,
    /// θ_{r+1}, as the RI holds it.
    pub theta: Scalar,
    /// SK_{r+1}, which the replacement checks its own KDF(θ_{r+1})
    /// against.
    pub sk: SharedKey,
}

/// Process 700, RI → survivor: HFK_{owner,r} of the failed member (and its
/// public FK, when those are published), for a survivor that lost its copy
/// and is a round behind.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HfkRelay {
    /// ī, the failed member whose HFK this is: neither the sender nor the
    /// recipient.
    pub owner: MemberId,
    /// The incarnation of `owner` that sent the HFK.
    pub inc: u32,
    /// HFK_{owner,r}, with r the envelope's iteration.
    pub hfk: Scalar,
    /// The public FK_{owner,r} that came with it, when public FKs are
    /// published (ElGamal, or commitments).
    pub fk_pub: Option<Element>,
}

/// The payload of a message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Body {
    /// Process 300: SM → i: (α_{i,1}, θ_1).
    Pad {
        /// α_{i,1}, the recipient's pad of epoch 1.
        alpha: Scalar,
        /// θ_1.
        theta: Scalar,
    },
    /// Process 400: i → i+1: δ_i.
    Delta(Scalar),
    /// Hardened ring: i → k: the share s_{i,k} of v_i.
    Share(Scalar),
    /// Process 400: GI → i: θ_1.
    Theta(Scalar),
    /// Process 500: i → m: HFK_{i,j}.
    Hfk(Scalar),
    /// Process 600: i → m: the public FK_{i,j} = g^{x_{i,j}}. With
    /// commitments it is also E_{i,j} = g^{FK_{i,j}} (additive key generation).
    FkPub(Element),
    /// Initialisation commitments (processes 800 and 900), shared by the
    /// envelopes of a broadcast.
    Commit(Arc<Commitment>),
    /// Key confirmation: H("fraclab/confirm/v1" ‖ SK_e), shared by the
    /// envelopes of a broadcast.
    Confirm(Arc<KeyTag>),
    /// Process 700, RI → replacement: the handover (boxed, as is
    /// [`Body::HfkRelay`]'s: a rare message should not widen every other
    /// one in flight).
    Recover(Box<Recover>),
    /// Process 700, RI → survivor: a failed member's HFK relayed.
    HfkRelay(Box<HfkRelay>),
    /// Process 700, the recovery ring: δ' for recovering member `failed`.
    RecoveryDelta {
        /// The index being recovered: its replacement starts the ring and
        /// closes it.
        failed: MemberId,
        /// The replacement's incarnation, so that a ring run for an earlier
        /// replacement of the same index is told apart.
        inc: u32,
        /// δ' so far: γ' plus the w_l of every survivor it has passed.
        delta: Scalar,
    },
    /// Process 700, replacement → survivor: ξ = Σ w_l.
    Xi(Scalar),
    /// Process 700, survivor → replacement: ĤFK_l = β_l + FK_{l,r}.
    HfkHat(Scalar),
    /// Process 700: a replacement announces itself to every member, so each
    /// learns the new incarnation (and the RI hands over again if needed).
    Joined,
    /// Link acknowledgement of message `seq`, which addressed this node's
    /// incarnation `inc`.
    Ack {
        /// The acknowledged payload's link sequence number
        /// ([`Envelope::seq`]).
        seq: u64,
        /// The acknowledged payload's `to_inc`: which incarnation of the
        /// acknowledging party it addressed.
        inc: u32,
    },
}

impl Body {
    /// The `kind` a trace records for this payload.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Pad { .. } => "pad",
            Body::Delta(_) => "delta",
            Body::Theta(_) => "theta",
            Body::Share(_) => "share",
            Body::Hfk(_) => "hfk",
            Body::FkPub(_) => "fk_pub",
            Body::Commit(_) => "commit",
            Body::Confirm(_) => "confirm",
            Body::Recover(_) => "recover",
            Body::RecoveryDelta { .. } => "delta",
            Body::Xi(_) => "xi",
            Body::HfkRelay(_) => "hfk_relay",
            Body::HfkHat(_) => "hfk_hat",
            Body::Joined => "joined",
            Body::Ack { .. } => "ack",
        }
    }
}

/// One message on the wire.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Envelope {
    /// The sending party.
    pub from: Party,
    /// The party it is addressed to.
    pub to: Party,
    /// The phase the payload belongs to. An ack echoes the mode of what it
    /// acknowledges; an honest sender never sends a body in another mode
    /// than its own ([`wire::mode_allows`]).
    pub mode: Mode,
    /// The patent's iteration number j (1 for initialisation messages; r,
    /// the iteration being recovered, for recovery messages, 0 for
    /// [`Body::Joined`]).
    pub iter: u64,
    /// The sender's link sequence number, counted from 1 per recipient; a
    /// retransmission keeps it. Acks carry 0.
    pub seq: u64,
    /// 0 for the first transmission, k for the k-th retransmission.
    pub attempt: u32,
    /// The sender's incarnation: 0 for an original member, k for its k-th
    /// replacement (process 700).
    pub from_inc: u32,
    /// The incarnation of the recipient the sender addresses.
    pub to_inc: u32,
    /// The payload.
    pub body: Body,
}

impl Envelope {
    /// Whether the message makes sense in a group of `members`: every
    /// member id its payload names is in 1..=n, a relayed HFK is about a
    /// third party (neither the sender nor the recipient), a handover
    /// carries HFK_{ī,r} exactly when r ≥ 1, and the SM's pad commitments
    /// list one element per member. A message that does not is malformed
    /// data (a tampered or forged message), refused before any party acts
    /// on it. Members rely on it: they keep parts in one slot per member id.
    pub fn fits(&self, members: u32) -> bool {
        let member = |m: &MemberId| (1..=members).contains(&m.0);
        match &self.body {
            Body::HfkRelay(m) => {
                let owner = &m.owner;
                member(owner) && Party::Member(*owner) != self.from && Party::Member(*owner) != self.to
            }
            Body::RecoveryDelta { failed, .. } => member(failed),
            Body::Recover(m) => m.hfk.is_some() == (self.iter >= 1),
            Body::Commit(c) => match &**c {
                Commitment::Pads { alphas, .. } => alphas.len() == members as usize,
                Commitment::Ring { .. } => true,
            },
            _ => true,
        }
    }
}

/// The wire encoding of a payload: what the sealed channel encrypts, and
/// what a tampering adversary flips bits of on an unprotected channel.
///
/// Layout: the link's seq (u64), the recipient incarnation the sender
/// addressed (u32), a tag byte for the body's kind, then its fields:
/// scalars as `q_bytes`, elements as `p_bytes` big-endian, counts and ids
/// as big-endian u32, options as a 0/1 byte. The header (sender, recipient,
/// mode, iteration, attempt) travels outside the payload.
pub mod wire {
    use rand_core::Rng;

    use std::sync::Arc;

    use super::{Body, Commitment, Envelope, Mode};
    use crate::group::{Element, GroupParams, KeyTag, Scalar, SharedKey};
    use crate::protocol::MemberId;

    /// Where the body's tag byte sits.
    pub const TAG_AT: usize = 12;

    fn tag(b: &Body) -> u8 {
        match b {
            Body::Pad { .. } => 1,
            Body::Delta(_) => 2,
            Body::Share(_) => 3,
            Body::Theta(_) => 4,
            Body::Hfk(_) => 5,
            Body::FkPub(_) => 6,
            Body::Commit(_) => 7,
            Body::Confirm(_) => 8,
            Body::Recover(_) => 9,
            Body::HfkRelay(_) => 10,
            Body::RecoveryDelta { .. } => 11,
            Body::Xi(_) => 12,
            Body::HfkHat(_) => 13,
            Body::Joined => 14,
            Body::Ack { .. } => 15,
        }
    }

    struct Writer<'g> {
        g: &'g GroupParams,
        out: Vec<u8>,
    }

    impl Writer<'_> {
        fn scalar(&mut self, s: &Scalar) {
            self.out.extend(self.g.scalar_bytes(s));
        }
        fn element(&mut self, e: &Element) {
            self.out.extend(self.g.element_bytes(e));
        }
        fn u32(&mut self, v: u32) {
            self.out.extend(v.to_be_bytes());
        }
        fn flag(&mut self, on: bool) {
            self.out.push(u8::from(on));
        }
    }

    /// Encodes `env`'s seq, addressed incarnation and body.
    pub fn encode(g: &GroupParams, env: &Envelope) -> Vec<u8> {
        let mut w = Writer { g, out: Vec::with_capacity(16 + 2 * g.p_bytes()) };
        w.out.extend(env.seq.to_be_bytes());
        w.u32(env.to_inc);
        w.out.push(tag(&env.body));
        match &env.body {
            Body::Pad { alpha, theta } => {
                w.scalar(alpha);
                w.scalar(theta);
            }
            Body::Delta(s)
            | Body::Share(s)
            | Body::Theta(s)
            | Body::Hfk(s)
            | Body::Xi(s)
            | Body::HfkHat(s) => w.scalar(s),
            Body::FkPub(e) => w.element(e),
            Body::Commit(c) => match &**c {
                Commitment::Pads { alphas, theta } => {
                    w.flag(false);
                    w.u32(alphas.len() as u32);
                    alphas.iter().for_each(|a| w.element(a));
                    w.element(theta);
                }
                Commitment::Ring { v, delta, gamma } => {
                    w.flag(true);
                    w.element(v);
                    w.element(delta);
                    w.flag(gamma.is_some());
                    gamma.iter().for_each(|c| w.element(c));
                }
            },
            Body::Confirm(t) => w.out.extend(t.0),
            Body::Recover(m) => {
                let super::Recover { hfk, theta, sk } = &**m;
                w.flag(hfk.is_some());
                hfk.iter().for_each(|h| w.scalar(h));
                w.scalar(theta);
                w.out.extend(sk.0);
            }
            Body::HfkRelay(m) => {
                let super::HfkRelay { owner, inc, hfk, fk_pub } = &**m;
                w.u32(owner.0);
                w.u32(*inc);
                w.scalar(hfk);
                w.flag(fk_pub.is_some());
                fk_pub.iter().for_each(|p| w.element(p));
            }
            Body::RecoveryDelta { failed, inc, delta } => {
                w.u32(failed.0);
                w.u32(*inc);
                w.scalar(delta);
            }
            Body::Joined => {}
            Body::Ack { seq, inc } => {
                w.out.extend(seq.to_be_bytes());
                w.u32(*inc);
            }
        }
        w.out
    }

    struct Reader<'a, 'g> {
        g: &'g GroupParams,
        rest: &'a [u8],
    }

    impl<'a> Reader<'a, '_> {
        fn take(&mut self, n: usize) -> Option<&'a [u8]> {
            if self.rest.len() < n {
                return None;
            }
            let (a, b) = self.rest.split_at(n);
            self.rest = b;
            Some(a)
        }
        fn scalar(&mut self) -> Option<Scalar> {
            let g = self.g;
            self.take(g.q_bytes()).and_then(|b| g.scalar_from_bytes(b).ok())
        }
        fn element(&mut self) -> Option<Element> {
            let g = self.g;
            self.take(g.p_bytes()).and_then(|b| g.element_from_bytes(b).ok())
        }
        fn u32(&mut self) -> Option<u32> {
            self.take(4).map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
        }
        fn u64(&mut self) -> Option<u64> {
            self.take(8).map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
        }
        fn flag(&mut self) -> Option<bool> {
            match self.take(1)? {
                [0] => Some(false),
                [1] => Some(true),
                _ => None,
            }
        }
        fn bytes32(&mut self) -> Option<[u8; 32]> {
            self.take(32).map(|b| b.try_into().expect("32 bytes"))
        }
    }

    /// Decodes what [`encode`] wrote: (seq, addressed incarnation, body), or
    /// `None` for bytes that are not a well-formed payload (a wrong length,
    /// an unknown tag, a value out of its range).
    pub fn decode(g: &GroupParams, bytes: &[u8]) -> Option<(u64, u32, Body)> {
        let mut r = Reader { g, rest: bytes };
        let seq = r.u64()?;
        let to_inc = r.u32()?;
        let body = match r.take(1)?[0] {
            1 => Body::Pad { alpha: r.scalar()?, theta: r.scalar()? },
            2 => Body::Delta(r.scalar()?),
            3 => Body::Share(r.scalar()?),
            4 => Body::Theta(r.scalar()?),
            5 => Body::Hfk(r.scalar()?),
            6 => Body::FkPub(r.element()?),
            7 => Body::Commit(Arc::new(if r.flag()? {
                let (v, delta) = (r.element()?, r.element()?);
                let gamma = if r.flag()? { Some(r.element()?) } else { None };
                Commitment::Ring { v, delta, gamma }
            } else {
                let count = r.u32()? as usize;
                if count > r.rest.len() / g.p_bytes().max(1) {
                    return None;
                }
                let alphas = (0..count).map(|_| r.element()).collect::<Option<Vec<_>>>()?;
                Commitment::Pads { alphas, theta: r.element()? }
            })),
            8 => Body::Confirm(Arc::new(KeyTag(r.bytes32()?))),
            9 => {
                let hfk = if r.flag()? { Some(r.scalar()?) } else { None };
                Body::Recover(Box::new(super::Recover {
                    hfk,
                    theta: r.scalar()?,
                    sk: SharedKey(r.bytes32()?),
                }))
            }
            10 => {
                let (owner, inc, hfk) = (MemberId(r.u32()?), r.u32()?, r.scalar()?);
                let fk_pub = if r.flag()? { Some(r.element()?) } else { None };
                Body::HfkRelay(Box::new(super::HfkRelay { owner, inc, hfk, fk_pub }))
            }
            11 => Body::RecoveryDelta { failed: MemberId(r.u32()?), inc: r.u32()?, delta: r.scalar()? },
            12 => Body::Xi(r.scalar()?),
            13 => Body::HfkHat(r.scalar()?),
            14 => Body::Joined,
            15 => Body::Ack { seq: r.u64()?, inc: r.u32()? },
            _ => return None,
        };
        r.rest.is_empty().then_some((seq, to_inc, body))
    }

    /// Whether an honest sender ever sends `body` in `mode`. (Acks echo the
    /// mode of what they acknowledge; confirmations of epoch 1 go in mode I.)
    pub fn mode_allows(mode: Mode, body: &Body) -> bool {
        match body {
            Body::Ack { .. } => true,
            Body::Confirm(_) => mode != Mode::Recovery,
            Body::Pad { .. } | Body::Delta(_) | Body::Share(_) | Body::Theta(_) | Body::Commit(_) => {
                mode == Mode::Init
            }
            Body::Hfk(_) | Body::FkPub(_) => mode == Mode::Generation,
            Body::Recover(_)
            | Body::HfkRelay(_)
            | Body::RecoveryDelta { .. }
            | Body::Xi(_)
            | Body::HfkHat(_)
            | Body::Joined => mode == Mode::Recovery,
        }
    }

    /// A body of the same kind as `body` with fresh random values: what a
    /// forger who knows the protocol, but none of its secrets, sends.
    pub fn forge(g: &GroupParams, body: &Body, rng: &mut dyn Rng) -> Body {
        let mut s = || g.random_scalar(rng);
        match body {
            Body::Pad { .. } => Body::Pad { alpha: s(), theta: s() },
            Body::Delta(_) => Body::Delta(s()),
            Body::Share(_) => Body::Share(s()),
            Body::Theta(_) => Body::Theta(s()),
            Body::Hfk(_) => Body::Hfk(s()),
            Body::Xi(_) => Body::Xi(s()),
            Body::HfkHat(_) => Body::HfkHat(s()),
            Body::FkPub(_) => Body::FkPub(g.pow_g(&s())),
            Body::Commit(c) => Body::Commit(Arc::new(match &**c {
                Commitment::Pads { alphas, .. } => Commitment::Pads {
                    alphas: alphas.iter().map(|_| g.pow_g(&s())).collect(),
                    theta: g.pow_g(&s()),
                },
                Commitment::Ring { gamma, .. } => Commitment::Ring {
                    v: g.pow_g(&s()),
                    delta: g.pow_g(&s()),
                    gamma: gamma.as_ref().map(|_| g.pow_g(&s())),
                },
            })),
            Body::Confirm(_) => Body::Confirm(Arc::new(KeyTag(random32(rng)))),
            Body::Recover(m) => Body::Recover(Box::new(super::Recover {
                hfk: m.hfk.as_ref().map(|_| g.random_scalar(rng)),
                theta: g.random_scalar(rng),
                sk: SharedKey(random32(rng)),
            })),
            Body::HfkRelay(m) => Body::HfkRelay(Box::new(super::HfkRelay {
                owner: m.owner,
                inc: m.inc,
                hfk: g.random_scalar(rng),
                fk_pub: m.fk_pub.as_ref().map(|_| g.pow_g(&g.random_scalar(rng))),
            })),
            Body::RecoveryDelta { failed, inc, .. } => {
                Body::RecoveryDelta { failed: *failed, inc: *inc, delta: s() }
            }
            Body::Joined => Body::Joined,
            Body::Ack { seq, inc } => Body::Ack { seq: *seq, inc: *inc },
        }
    }

    fn random32(rng: &mut dyn Rng) -> [u8; 32] {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        b
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::group::by_name;
        use crate::protocol::Party;
        use crate::protocol::message::{HfkRelay, Recover};
        use rand_chacha::ChaCha20Rng;
        use rand_core::SeedableRng;

        /// A message naming a party outside the group, relaying a party's
        /// own HFK to it or from it, or a handover whose HFK does not match
        /// its iteration, does not fit; honest shapes do.
        #[test]
        fn fits_refuses_what_no_honest_party_sends() {
            let g = by_name("toy-16").unwrap();
            let env = |from: u32, to: u32, iter: u64, body: Body| Envelope {
                from: Party::Member(MemberId(from)),
                to: Party::Member(MemberId(to)),
                mode: Mode::Recovery,
                iter,
                seq: 1,
                attempt: 0,
                from_inc: 0,
                to_inc: 0,
                body,
            };
            let relay = |owner| {
                Body::HfkRelay(Box::new(HfkRelay {
                    owner: MemberId(owner),
                    inc: 1,
                    hfk: g.scalar_from_u64(1),
                    fk_pub: None,
                }))
            };
            let handover = |hfk| {
                Body::Recover(Box::new(Recover { hfk, theta: g.scalar_from_u64(2), sk: SharedKey([0; 32]) }))
            };
            assert!(env(1, 2, 3, relay(3)).fits(4));
            assert!(!env(1, 2, 3, relay(2)).fits(4), "the recipient's own HFK");
            assert!(!env(1, 2, 3, relay(1)).fits(4), "the sender's own HFK");
            assert!(!env(1, 2, 3, relay(5)).fits(4), "no member 5");
            assert!(!env(1, 2, 3, relay(0)).fits(4), "no member 0");
            assert!(env(1, 3, 2, handover(Some(g.scalar_from_u64(1)))).fits(4));
            assert!(env(1, 3, 0, handover(None)).fits(4));
            assert!(!env(1, 3, 2, handover(None)).fits(4), "r ≥ 1 carries HFK");
            assert!(!env(1, 3, 0, handover(Some(g.scalar_from_u64(1)))).fits(4));
            let delta = |failed| Body::RecoveryDelta {
                failed: MemberId(failed),
                inc: 1,
                delta: g.scalar_from_u64(3),
            };
            assert!(env(1, 2, 2, delta(3)).fits(4));
            assert!(!env(1, 2, 2, delta(786_435)).fits(4));
        }

        /// Every kind of body survives encode → decode, on a toy and a big group.
        #[test]
        fn every_body_round_trips() {
            for name in ["toy-64", "modp-2048"] {
                let g = by_name(name).unwrap();
                let mut rng = ChaCha20Rng::seed_from_u64(1);
                let mut s = || g.random_scalar(&mut rng);
                let e = g.pow_g(&s());
                let bodies = vec![
                    Body::Pad { alpha: s(), theta: s() },
                    Body::Delta(s()),
                    Body::Share(s()),
                    Body::Theta(s()),
                    Body::Hfk(s()),
                    Body::FkPub(e.clone()),
                    Body::Commit(Arc::new(Commitment::Pads {
                        alphas: vec![e.clone(), e.clone()],
                        theta: e.clone(),
                    })),
                    Body::Commit(Arc::new(Commitment::Ring {
                        v: e.clone(),
                        delta: e.clone(),
                        gamma: Some(e.clone()),
                    })),
                    Body::Commit(Arc::new(Commitment::Ring { v: e.clone(), delta: e.clone(), gamma: None })),
                    Body::Confirm(Arc::new(KeyTag([7; 32]))),
                    Body::Recover(Box::new(Recover { hfk: Some(s()), theta: s(), sk: SharedKey([3; 32]) })),
                    Body::Recover(Box::new(Recover { hfk: None, theta: s(), sk: SharedKey([3; 32]) })),
                    Body::HfkRelay(Box::new(HfkRelay {
                        owner: MemberId(2),
                        inc: 1,
                        hfk: s(),
                        fk_pub: Some(e.clone()),
                    })),
                    Body::RecoveryDelta { failed: MemberId(3), inc: 2, delta: s() },
                    Body::Xi(s()),
                    Body::HfkHat(s()),
                    Body::Joined,
                    Body::Ack { seq: 9, inc: 1 },
                ];
                for body in bodies {
                    let env = Envelope {
                        from: Party::Sm,
                        to: Party::Member(MemberId(1)),
                        mode: Mode::Init,
                        iter: 1,
                        seq: 42,
                        attempt: 0,
                        from_inc: 0,
                        to_inc: 3,
                        body: body.clone(),
                    };
                    let bytes = encode(g, &env);
                    assert_eq!(decode(g, &bytes), Some((42, 3, body.clone())), "{name} {}", body.kind());
                    // One byte short or one too many is malformed.
                    assert_eq!(decode(g, &bytes[..bytes.len() - 1]), None);
                    let mut long = bytes.clone();
                    long.push(0);
                    assert_eq!(decode(g, &long), None);
                }
            }
        }
    }
}
