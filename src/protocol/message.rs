//! Protocol messages. An [`Envelope`] carries the patent's message header —
//! mode M (I, G, R) and iteration j — plus the sender's link sequence number;
//! timestamps and signatures belong to the sealed channel (a later issue).

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
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Init => "I",
            Mode::Generation => "G",
            Mode::Recovery => "R",
        }
    }
}

/// Commitments g^value that let members verify initialisation (SPEC §1,
/// processes 800 and 900). They are public and non-linear: the knowledge
/// engine does not invert them.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Commitment {
    /// Process 800, SM → every member: C_i = g^{α_{i,1}} for i = 1..n and
    /// C_θ = g^{θ_1}.
    Pads { alphas: Vec<Element>, theta: Element },
    /// Process 900, member i → every member: V_i = g^{v_i}, D_i = g^{δ_i}
    /// and, from the GI, Γ = g^γ.
    Ring { v: Element, delta: Element, gamma: Option<Element> },
}

/// The payload of a message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Body {
    /// Process 300: SM → i: (α_{i,1}, θ_1).
    Pad { alpha: Scalar, theta: Scalar },
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
    /// Initialisation commitments (processes 800 and 900).
    Commit(Commitment),
    /// Key confirmation: H("fraclab/confirm/v1" ‖ SK_e).
    Confirm(KeyTag),
    /// Process 700, RI → replacement: HFK_{ī,r} (none when r = 0), θ_{r+1}
    /// and SK_{r+1}.
    Recover { hfk: Option<Scalar>, theta: Scalar, sk: SharedKey },
    /// Process 700, RI → survivor: HFK_{owner,r} of the failed member (and
    /// its public FK, when those are published), for a survivor that lost
    /// its copy and is a round behind.
    HfkRelay { owner: MemberId, inc: u32, hfk: Scalar, fk_pub: Option<Element> },
    /// Process 700, the recovery ring: δ' for recovering member `failed`.
    RecoveryDelta { failed: MemberId, inc: u32, delta: Scalar },
    /// Process 700, replacement → survivor: ξ = Σ w_l.
    Xi(Scalar),
    /// Process 700, survivor → replacement: ĤFK_l = β_l + FK_{l,r}.
    HfkHat(Scalar),
    /// Process 700: a replacement announces itself to every member, so each
    /// learns the new incarnation (and the RI hands over again if needed).
    Joined,
    /// Link acknowledgement of message `seq`, which addressed this node's
    /// incarnation `inc`.
    Ack { seq: u64, inc: u32 },
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
            Body::Recover { .. } => "recover",
            Body::RecoveryDelta { .. } => "delta",
            Body::Xi(_) => "xi",
            Body::HfkRelay { .. } => "hfk_relay",
            Body::HfkHat(_) => "hfk_hat",
            Body::Joined => "joined",
            Body::Ack { .. } => "ack",
        }
    }
}

/// One message on the wire.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Envelope {
    pub from: Party,
    pub to: Party,
    pub mode: Mode,
    /// The patent's iteration number j (1 for initialisation messages).
    pub iter: u64,
    /// The sender's link sequence number; a retransmission keeps it.
    pub seq: u64,
    /// 0 for the first transmission, k for the k-th retransmission.
    pub attempt: u32,
    /// The sender's incarnation: 0 for an original member, k for its k-th
    /// replacement (process 700).
    pub from_inc: u32,
    /// The incarnation of the recipient the sender addresses.
    pub to_inc: u32,
    pub body: Body,
}
