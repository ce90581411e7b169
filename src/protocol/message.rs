//! Protocol messages. An [`Envelope`] carries the patent's message header —
//! mode M (I, G, R) and iteration j — plus the sender's link sequence number;
//! timestamps and signatures belong to the sealed channel (a later issue).

use crate::group::{KeyTag, Scalar};

use super::Party;

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
    /// Key confirmation: H("fraclab/confirm/v1" ‖ SK_e).
    Confirm(KeyTag),
    /// Link acknowledgement of the sender's message number `seq`.
    Ack { seq: u64 },
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
            Body::Confirm(_) => "confirm",
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
    pub body: Body,
}
