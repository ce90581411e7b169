//! Adversaries (reference §4): who misbehaves, and how.
//!
//! - a **leak**: a member reveals one of its secrets (α, FK, θ or SK of an
//!   epoch) to the group, the outsider or chosen members — the trigger of the
//!   patent's fractional attack (section V);
//! - a **coalition**: members pool their views;
//! - a **ring collusion** (section II.B): member t−1 also sends its δ_{t−1} to
//!   member t+1, who then holds δ_{t−1} and δ_t; the two form a coalition;
//! - a **forward**: a ring member also sends its δ to other members, who
//!   are then curious about what it tells them (the move `fraclab attacks`
//!   synthesises; a ring collusion is a forward to t+1 plus a coalition);
//! - an **eavesdropper**: the outsider taps the wire, reading payloads only
//!   where the channel is `plain`;
//! - a **withholding survivor**: it refuses to send its ĤFK in a recovery
//!   (process 700);
//! - a **cheater** (`cheat`, `sm-cheat`): a member or the SM sends a value
//!   one more than what it commits to;
//! - a **dlog** attacker ([`dlog`]): after the run, it takes discrete logs
//!   of the commitments its view sees;
//! - a **network adversary** ([`WireAttack`]): on a share of the messages it
//!   flips a bit in flight (`tamper`), re-injects an old message (`replay`)
//!   or injects one of its own under a member's name (`forge`).
//!
//! The simulator carries leaks out (they are events at a moment of the run)
//! and the network adversaries, and hands every party its conduct
//! ([`conduct`]: cheats, withholding and forwarding act on a party's
//! outgoing payloads); coalitions and the eavesdropper only decide which
//! views the knowledge engine analyses, and the dlog attack runs on what
//! the run recorded.

pub mod conduct;
pub mod dlog;

use std::fmt;

use crate::protocol::{MemberId, Mode, Party};

/// Which secret a leak reveals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LeakSecret {
    /// α_{i,e}, the member's pad of epoch e.
    Alpha,
    /// FK_{i,j}, the member's fractional key of iteration j (the private
    /// exponent x under ElGamal).
    Fk,
    /// θ_e, the group's binding value of epoch e.
    Theta,
    /// SK_e. Not a linear value: it reveals no θ, but handed to the
    /// outsider it makes `outsider_learns_key` true.
    Sk,
}

impl LeakSecret {
    /// The last epoch (the last iteration, for FK) a run of `epochs`
    /// key-generation iterations has this secret of.
    pub fn last_epoch(self, epochs: u64) -> u64 {
        match self {
            LeakSecret::Fk => epochs,
            LeakSecret::Alpha | LeakSecret::Theta | LeakSecret::Sk => epochs + 1,
        }
    }

    /// The scenario's spelling (`secret`), also the trace's: `alpha`, `fk`,
    /// `theta` or `sk`.
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
    /// The outsider, and no member.
    Outsider,
    /// These members only.
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
    /// The leaker.
    pub member: MemberId,
    /// What it reveals.
    pub secret: LeakSecret,
    /// The epoch e of α, θ or SK; for FK, the iteration j.
    pub epoch: u64,
    /// Whose views hold it from then on.
    pub to: LeakTo,
}

/// One `[[adversary]]` of a scenario, as loaded and validated.
#[derive(Clone, Debug, PartialEq)]
pub enum Adversary {
    /// `leak`: a member reveals one of its secrets.
    Leak(Leak),
    /// `coalition`: the members pool their views, analysed as one more
    /// view.
    Coalition {
        /// At least two distinct members, and fewer than n.
        members: Vec<MemberId>,
    },
    /// `ring-collusion` (section II.B; ring or hardened-ring
    /// initialisation, n ≥ 3): member t−1 also sends its δ_{t−1} to member
    /// t+1, and the pair is analysed as a coalition.
    RingCollusion {
        /// t, the member whose v_t = δ_t − δ_{t−1} the pair is after.
        target: MemberId,
    },
    /// `forward` (ring or hardened-ring initialisation): member `member`
    /// also sends its δ to each member of `to`, as real `delta` messages;
    /// their protocols ignore it (it is not from their ring predecessor)
    /// but their views keep it. Its ring successor, who gets δ anyway, is
    /// never among them.
    Forward {
        /// The forwarding member.
        member: MemberId,
        /// The recipients, sorted, without the member and its successor.
        to: Vec<MemberId>,
    },
    /// `eavesdropper`: the outsider taps the wire, reading payloads only on
    /// the plain channel and only metadata on the ideal one.
    Eavesdropper {
        /// The modes it taps (all three unless the scenario names fewer).
        modes: Vec<Mode>,
    },
    /// A survivor that refuses to send its ĤFK in a recovery (process 700).
    Withhold {
        /// The withholding survivor.
        member: MemberId,
    },
    /// A member sends a value inconsistent with what it commits to.
    Cheat {
        /// The cheater; its replacements, if any, are honest.
        member: MemberId,
        /// Which value it lies about.
        phase: CheatPhase,
    },
    /// The SM hands `member` a pad inconsistent with its commitments.
    SmCheat {
        /// The member whose pad is α + 1.
        member: MemberId,
    },
    /// Discrete logs of the commitments `view` sees, within `budget` group
    /// operations (see [`dlog`]).
    Dlog {
        /// Whose view attacks.
        view: DlogView,
        /// The most group operations (multiplications mod P) the whole
        /// attack may spend: 1..=10^12, 10^9 by default.
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
    /// The adversary's `kind`, as scenarios, traces and summaries spell it.
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
    /// What it does to a message it picks.
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
    /// The outsider: every commitment on the wire, whatever the channel.
    Outsider,
    /// A member: the commitments sent to it or by it, except those of its
    /// own secrets and of θ_1, which it holds.
    Member(MemberId),
}

impl DlogView {
    /// The scenario's spelling of the view: `"outsider"` or the member id.
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
    /// Every adversary, in declaration order.
    pub list: Vec<Adversary>,
    /// A defect planted on purpose by a test of `fraclab explore`; never
    /// set by a scenario file (see [`PlantedBug`]).
    #[doc(hidden)]
    pub planted: Option<PlantedBug>,
}

/// A defect planted on purpose, for the tests that check `fraclab explore`
/// finds and shrinks bugs: member `member`'s original node flips the lowest
/// bit of its HFK of iteration `iter` and, unlike a declared `cheat`,
/// notes nothing, as a real bug would. No scenario file can ask for it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlantedBug {
    /// The member whose node misbehaves.
    pub member: MemberId,
    /// The key-generation iteration whose HFK it flips.
    pub iter: u64,
}

impl Adversaries {
    /// The leaks, in declaration order.
    pub fn leaks(&self) -> impl Iterator<Item = &Leak> {
        self.list.iter().filter_map(|a| match a {
            Adversary::Leak(l) => Some(l),
            _ => None,
        })
    }

    /// Who forwards δ to whom: (t−1, t+1) for every ring collusion and
    /// (member, recipient) for every recipient of a `forward`, in
    /// declaration order.
    pub fn delta_forwards(&self, members: u32) -> Vec<(MemberId, MemberId)> {
        self.list
            .iter()
            .flat_map(|a| match a {
                Adversary::RingCollusion { target } => vec![ring_neighbours(*target, members)],
                Adversary::Forward { member, to } => to.iter().map(|&r| (*member, r)).collect(),
                _ => Vec::new(),
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

    /// Whether member `m` withholds its ĤFK in a recovery.
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
