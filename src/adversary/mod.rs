//! Adversaries (reference §4): who misbehaves, and how.
//!
//! - a **leak**: a member reveals one of its secrets (α, FK, θ or SK of an
//!   epoch) to the group, the outsider or chosen members — the trigger of the
//!   patent's fractional attack (section V);
//! - a **coalition**: members pool their views;
//! - a **ring collusion** (section II.B): member t−1 also sends its δ_{t−1} to
//!   member t+1, who then holds δ_{t−1} and δ_t; the two form a coalition;
//! - an **eavesdropper**: the outsider taps the wire, reading payloads only
//!   where the channel is `plain`;
//! - a **network adversary** ([`WireAttack`]): on a share of the messages it
//!   flips a bit in flight (`tamper`), re-injects an old message (`replay`)
//!   or injects one of its own under a member's name (`forge`).
//!
//! The simulator carries leaks out (they are events at a moment of the run)
//! and hands every party its conduct ([`conduct`]: cheats, withholding and
//! forwarding act on a party's outgoing payloads); coalitions and the
//! eavesdropper only decide which views the knowledge engine analyses.

pub mod conduct;
pub mod dlog;

use std::fmt;

use crate::protocol::{MemberId, Mode, Party};

/// Which secret a leak reveals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LeakSecret {
    Alpha,
    Fk,
    Theta,
    Sk,
}

impl LeakSecret {
    pub fn as_str(self) -> &'static str {
        match self {
            LeakSecret::Alpha => "alpha",
            LeakSecret::Fk => "fk",
            LeakSecret::Theta => "theta",
            LeakSecret::Sk => "sk",
        }
    }
}

/// Who receives a leak.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeakTo {
    /// Every other member.
    Group,
    Outsider,
    Members(Vec<MemberId>),
}

impl LeakTo {
    /// Whether member `m` (not the leaker) receives the leak.
    pub fn reaches(&self, m: MemberId) -> bool {
        match self {
            LeakTo::Group => true,
            LeakTo::Outsider => false,
            LeakTo::Members(ms) => ms.contains(&m),
        }
    }
}

impl fmt::Display for LeakTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeakTo::Group => write!(f, "\"group\""),
            LeakTo::Outsider => write!(f, "\"outsider\""),
            LeakTo::Members(ms) => {
                let ids: Vec<String> = ms.iter().map(|m| m.0.to_string()).collect();
                write!(f, "[{}]", ids.join(","))
            }
        }
    }
}

/// Member `member` reveals `secret` of epoch `epoch` (the iteration j for FK)
/// the moment it holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leak {
    pub member: MemberId,
    pub secret: LeakSecret,
    pub epoch: u64,
    pub to: LeakTo,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Adversary {
    Leak(Leak),
    Coalition {
        members: Vec<MemberId>,
    },
    RingCollusion {
        target: MemberId,
    },
    Eavesdropper {
        modes: Vec<Mode>,
    },
    /// A survivor that refuses to send its ĤFK in a recovery (process 700).
    Withhold {
        member: MemberId,
    },
    /// A member sends a value inconsistent with what it commits to.
    Cheat {
        member: MemberId,
        phase: CheatPhase,
    },
    /// The SM hands `member` a pad inconsistent with its commitments.
    SmCheat {
        member: MemberId,
    },
    /// Discrete logs of the commitments `view` sees, within `budget` group
    /// operations (see [`dlog`]).
    Dlog {
        view: DlogView,
        budget: u64,
    },
    /// A network adversary: `attack` on each message that passes the
    /// filters, with `probability`.
    Wire(Wire),
}

/// What a network adversary does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WireAttack {
    /// Flips one bit of the message in flight: of the ciphertext on the
    /// sealed channel, of the payload's value on the others.
    Tamper,
    /// Sends again a message delivered earlier (this or another iteration),
    /// to the same recipient.
    Replay,
    /// Sends, beside the real message, one under the same header with a
    /// payload of the same kind and random values; on the sealed channel it
    /// is signed with the adversary's own key.
    Forge,
}

impl WireAttack {
    pub fn as_str(self) -> &'static str {
        match self {
            WireAttack::Tamper => "tamper",
            WireAttack::Replay => "replay",
            WireAttack::Forge => "forge",
        }
    }
}

/// One `tamper`, `replay` or `forge` adversary.
#[derive(Clone, Debug, PartialEq)]
pub struct Wire {
    pub attack: WireAttack,
    /// Per message that passes the filters, in [0, 1).
    pub probability: f64,
    /// The modes it attacks (all three unless filtered).
    pub modes: Vec<Mode>,
    /// The senders whose messages it attacks (everyone's if `None`).
    pub senders: Option<Vec<Party>>,
}

impl Wire {
    /// Whether a message from `from` in `mode` is one this adversary targets.
    pub fn targets(&self, from: Party, mode: Mode) -> bool {
        self.modes.contains(&mode) && self.senders.as_ref().is_none_or(|s| s.contains(&from))
    }
}

/// Who runs the discrete-log attack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DlogView {
    Outsider,
    Member(MemberId),
}

impl DlogView {
    pub fn to_json(self) -> serde_json::Value {
        match self {
            DlogView::Outsider => "outsider".into(),
            DlogView::Member(m) => m.0.into(),
        }
    }
}

/// Where a cheating member lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheatPhase {
    /// Its ring δ (process 400): δ_i + 1 goes to the next member.
    Init,
    /// Its HFK of key-generation iteration j: α + FK + 1 goes to everyone
    /// (and into its own sum, so the keys still agree).
    Keygen(u64),
}

pub use crate::protocol::ring_neighbours;

/// Everything the adversaries of a scenario amount to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Adversaries {
    pub list: Vec<Adversary>,
}

impl Adversaries {
    pub fn leaks(&self) -> impl Iterator<Item = &Leak> {
        self.list.iter().filter_map(|a| match a {
            Adversary::Leak(l) => Some(l),
            _ => None,
        })
    }

    /// (t−1, t+1) for every ring collusion: who forwards δ to whom.
    pub fn delta_forwards(&self, members: u32) -> Vec<(MemberId, MemberId)> {
        self.list
            .iter()
            .filter_map(|a| match a {
                Adversary::RingCollusion { target } => Some(ring_neighbours(*target, members)),
                _ => None,
            })
            .collect()
    }

    /// Declared coalitions plus the pair of every ring collusion, sorted and
    /// without repeats.
    pub fn coalitions(&self, members: u32) -> Vec<Vec<MemberId>> {
        let mut out: Vec<Vec<MemberId>> = self
            .list
            .iter()
            .filter_map(|a| match a {
                Adversary::Coalition { members } => Some(members.clone()),
                Adversary::RingCollusion { target } => {
                    let (a, b) = ring_neighbours(*target, members);
                    Some(vec![a, b])
                }
                _ => None,
            })
            .map(|mut c| {
                c.sort();
                c.dedup();
                c
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// How member `m` cheats, if it does.
    pub fn cheat(&self, m: MemberId) -> Option<CheatPhase> {
        self.list.iter().find_map(|a| match a {
            Adversary::Cheat { member, phase } if *member == m => Some(*phase),
            _ => None,
        })
    }

    /// The member the SM hands an inconsistent pad, if any.
    pub fn sm_cheat(&self) -> Option<MemberId> {
        self.list.iter().find_map(|a| match a {
            Adversary::SmCheat { member } => Some(*member),
            _ => None,
        })
    }

    pub fn withholds(&self, m: MemberId) -> bool {
        self.list.iter().any(|a| matches!(a, Adversary::Withhold { member } if *member == m))
    }

    /// The network adversaries, in declaration order.
    pub fn wire(&self) -> impl Iterator<Item = &Wire> {
        self.list.iter().filter_map(|a| match a {
            Adversary::Wire(w) => Some(w),
            _ => None,
        })
    }

    /// The modes the outsider taps, if an eavesdropper is declared.
    pub fn tapped_modes(&self) -> Option<Vec<Mode>> {
        let mut modes: Vec<Mode> = Vec::new();
        let mut any = false;
        for a in &self.list {
            if let Adversary::Eavesdropper { modes: m } = a {
                any = true;
                modes.extend(m);
            }
        }
        modes.sort();
        modes.dedup();
        any.then_some(modes)
    }
}
