//! The sans-IO protocol core: members and the security manager as state
//! machines. They take the local time `now`, an incoming [`Envelope`] and an
//! injected RNG, and return the envelopes to send plus [`Note`]s (the ground
//! truth of what they drew and derived). They never read a clock, touch a
//! socket or import the simulator; `sim` drives them.
//!
//! Implemented processes: 300 (SM initialisation, [`sm`]); in [`member`],
//! 400 (ring initialisation) and fraclab's hardened ring, 500 and 600
//! (additive and ElGamal key generation), 700 (recovery of a failed
//! member) and the checks of 800, 900 and verified key generation, with key
//! confirmation after every epoch. Reliability (acks, retransmission,
//! duplicate suppression) is the [`link`] layer underneath; [`sealed`] is
//! the signed and encrypted channel, [`message`] the payloads and their
//! wire encoding, [`round`] the epoch and iteration counters, and
//! [`conduct`] the hook through which an adversary makes a party deviate.

pub mod conduct;
pub mod link;
pub mod member;
pub mod message;
pub mod round;
pub mod sealed;
pub mod sm;

use std::fmt;

use rand_core::Rng;

use crate::group::{Scalar, SharedKey};
pub use message::{Body, Commitment, Envelope, Mode};
pub use round::{Epoch, Incarnation, Iteration};

/// A member index, 1..=n as in the patent.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct MemberId(pub u32);

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The ring neighbours (t−1, t+1) of `target` in a group of n (process 400's
/// order, wrapping round).
pub fn ring_neighbours(target: MemberId, members: u32) -> (MemberId, MemberId) {
    let t = target.0;
    let before = if t == 1 { members } else { t - 1 };
    let after = if t == members { 1 } else { t + 1 };
    (MemberId(before), MemberId(after))
}

/// A protocol party: the security manager (numbered 0 in traces) or a member.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Party {
    /// The security manager of process 300 (trace id 0). It is not a
    /// member, and takes part only when `init = "sm"`.
    Sm,
    /// Member i, 1..=n.
    Member(MemberId),
}

impl Party {
    /// The number a trace uses for this party: 0 for the SM, i for member i.
    pub fn trace_id(self) -> u32 {
        match self {
            Party::Sm => 0,
            Party::Member(m) => m.0,
        }
    }
}

/// A party's local clock reading in µs. It differs from the simulator's
/// virtual time by the party's clock skew, so it may be negative.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct LocalTime(pub i64);

impl LocalTime {
    /// The reading `us` µs later (earlier for a negative `us`), saturating
    /// at the ends of the i64 range.
    pub fn plus_us(self, us: i64) -> LocalTime {
        LocalTime(self.0.saturating_add(us))
    }
}

/// How the initial θ_1 and pads α_{i,1} are produced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InitKind {
    /// Process 300: a security manager draws and distributes them.
    Sm,
    /// Process 400: the δ ring started by the group initiator, member 1.
    Ring,
    /// fraclab's hardened ring: every v_i is first split into n additive
    /// shares, one kept and one sent to each other member; the ring then
    /// carries sums of shares, so no ring message depends on one member's
    /// secret alone.
    RingHardened,
}

impl InitKind {
    /// The scenario spelling (`protocol.init`), also the trace header's
    /// `init`: `sm`, `ring` or `ring-hardened`.
    pub fn as_str(self) -> &'static str {
        match self {
            InitKind::Sm => "sm",
            InitKind::Ring => "ring",
            InitKind::RingHardened => "ring-hardened",
        }
    }
}

/// Whether members commit to their shares and check each other's
/// (`verify` in a scenario).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verify {
    /// No commitments: the patent's processes as written.
    None,
    /// Commitments: processes 800, 900 and verified key generation.
    Commitments,
}

impl Verify {
    /// The spellings a scenario may use, in declaration order.
    pub const ALLOWED: &'static [&'static str] = &["none", "commitments"];

    /// The scenario spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verify::None => "none",
            Verify::Commitments => "commitments",
        }
    }

    /// The value a scenario spelling names, if any.
    pub fn from_name(name: &str) -> Option<Verify> {
        match name {
            "none" => Some(Verify::None),
            "commitments" => Some(Verify::Commitments),
            _ => None,
        }
    }

    /// Whether commitments are on.
    pub fn commits(self) -> bool {
        self == Verify::Commitments
    }
}

/// What carries messages between parties (`channel` in a scenario).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Channel {
    /// In the clear, and an eavesdropper may read it.
    Plain,
    /// In the clear, and nobody else reads it.
    Ideal,
    /// Every message signed and encrypted ([`sealed`]).
    Sealed,
}

impl Channel {
    /// The spellings a scenario may use, in declaration order.
    pub const ALLOWED: &'static [&'static str] = &["plain", "ideal", "sealed"];

    /// The scenario spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Plain => "plain",
            Channel::Ideal => "ideal",
            Channel::Sealed => "sealed",
        }
    }

    /// The value a scenario spelling names, if any.
    pub fn from_name(name: &str) -> Option<Channel> {
        match name {
            "plain" => Some(Channel::Plain),
            "ideal" => Some(Channel::Ideal),
            "sealed" => Some(Channel::Sealed),
            _ => None,
        }
    }

    /// Whether messages are signed and encrypted.
    pub fn is_sealed(self) -> bool {
        self == Channel::Sealed
    }
}

/// How key generation draws each member's key part (reference §1).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KeygenKind {
    /// Process 500: FK_{i,j} is a scalar, HFK = α + FK.
    Additive,
    /// Process 600: a private exponent x_{i,j}, the public FK_{i,j} = g^x
    /// broadcast, HFK = α + x, and g^{θ_{j+1}} = Π FK checked.
    Elgamal,
}

impl KeygenKind {
    /// The secret each iteration draws: FK (additive) or x (ElGamal).
    pub fn key_part(self) -> SecretName {
        match self {
            KeygenKind::Additive => SecretName::Fk,
            KeygenKind::Elgamal => SecretName::X,
        }
    }
}

/// The secrets a `secret` trace event can name (reference §5).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum SecretName {
    /// v_i, member i's initialisation draw (drawn by the SM under process
    /// 300; on the hardened ring, the value it splits into shares); index 1.
    V,
    /// γ, the GI's blinding of the δ ring (index 1), or a replacement's γ'
    /// for the recovery ring of process 700 (index r).
    Gamma,
    /// δ_i, what member i sent on the ring; index 1.
    Delta,
    /// α_{i,e}, member i's pad of epoch e; index e.
    Alpha,
    /// Process 500: FK_{i,j}, member i's fractional key of iteration j;
    /// index j.
    Fk,
    /// Process 600: the private exponent x_{i,j} (the patent's FK⁻¹).
    X,
    /// A share s_{i,k} of v_i (hardened ring); its index is the recipient k.
    Share,
    /// Process 700: a survivor's recovery draw w_l, index r.
    W,
    /// Process 700: ξ = Σ w_l, recorded by the replacement, index r.
    Xi,
    /// Process 700: a survivor's recovery pad β_l = ξ − w_l, index r.
    Beta,
}

impl SecretName {
    /// The name `secret` and `learn` trace events give it.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretName::V => "v",
            SecretName::Gamma => "gamma",
            SecretName::Delta => "delta",
            SecretName::Alpha => "alpha",
            SecretName::Fk => "fk",
            SecretName::X => "x",
            SecretName::Share => "share",
            SecretName::W => "w",
            SecretName::Xi => "xi",
            SecretName::Beta => "beta",
        }
    }
}

/// A check by which a member finds another party at fault: the
/// verification checks (processes 600, 800, 900 and verified key
/// generation, see `member`'s verify module) and silence (process 700's
/// detection). [`Check::as_str`] is the name traces and summaries use.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Check {
    /// Process 800: g^{α_{i,1}} differs from the SM's C_i.
    Pad,
    /// g^{θ_1} differs from C_θ (800) or from Π V_i (900).
    Theta,
    /// Process 800: Π C_i differs from C_θ^{n−1}.
    PadSum,
    /// Process 900: the δ received differs from its sender's D.
    Delta,
    /// Process 900: a link of the chain D_k = D_{k−1}·V_k is broken.
    RingLink,
    /// Verified key generation: g^{HFK} differs from g^α·E.
    Hfk,
    /// The same, across a recovery, where it names no one.
    HfkAfterRecovery,
    /// Process 600: g^{θ_{j+1}} differs from Π FK_{i,j}.
    GroupKey,
    /// Process 700: a member silent for the silence timeout.
    Silence,
}

impl Check {
    /// The check's name in traces and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Pad => "pad",
            Check::Theta => "theta",
            Check::PadSum => "pad-sum",
            Check::Delta => "delta",
            Check::RingLink => "ring-link",
            Check::Hfk => "hfk",
            Check::HfkAfterRecovery => "hfk-after-recovery",
            Check::GroupKey => "group-key",
            Check::Silence => "silence",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What a party reports besides its messages: the ground truth the
/// simulator records, checks and traces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// A secret was drawn or derived. `owner` is whose secret it is (the SM's
    /// draw v_i is member i's); `index` is the epoch for α, the iteration for
    /// FK and 1 for initialisation secrets.
    Secret {
        /// Whose secret it is.
        owner: MemberId,
        /// Which secret.
        name: SecretName,
        /// Its epoch, iteration or recipient, as [`SecretName`] says.
        index: u64,
        /// Its value in Z_q.
        value: Scalar,
    },
    /// The member now holds θ_epoch.
    Theta {
        /// The member holding it.
        member: MemberId,
        /// e, from 1.
        epoch: u64,
        /// θ_e.
        value: Scalar,
    },
    /// The member derived SK_epoch.
    Key {
        /// The member holding it.
        member: MemberId,
        /// e, from 1.
        epoch: u64,
        /// SK_e = KDF(θ_e) (reference §3).
        sk: SharedKey,
    },
    /// Every other member's confirmation of SK_epoch matched this member's.
    Confirmed {
        /// The member whose key all n − 1 others confirmed.
        member: MemberId,
        /// e, from 1.
        epoch: u64,
    },
    /// Another member's confirmation of SK_epoch did not match.
    Divergence {
        /// The member that compared.
        member: MemberId,
        /// e, from 1.
        epoch: u64,
        /// The member whose confirmation differed.
        with: MemberId,
    },
    /// Iteration `iter` fell due and the member starts it: what follows in
    /// the same output is its draw of FK_{i,iter} and its HFK. (A driver
    /// crashing the member "before it sends" cuts its output here.)
    RoundStart {
        /// The member starting the round.
        member: MemberId,
        /// j, from 1.
        iter: u64,
    },
    /// `member` heard nothing from `failed` for the silence timeout in
    /// iteration `iter` and declares it failed.
    Declared {
        /// The member that declares.
        member: MemberId,
        /// The member declared failed.
        failed: MemberId,
        /// The iteration j whose HFKs the member was waiting for (the epoch
        /// it holds, when it was waiting for confirmations); a recovery
        /// then restores r = j − 1.
        iter: u64,
    },
    /// A replacement finished process 700 for iteration `iter`; `key_ok`
    /// says whether KDF(θ_{iter+1}) matched the SK the RI sent.
    Recovered {
        /// The replacement.
        member: MemberId,
        /// r, the iteration whose FK (v when r = 0) and pad it recovered;
        /// it now holds epoch r + 1.
        iter: u64,
        /// Whether KDF(θ_{r+1}) equals the RI's SK_{r+1}. This proves only
        /// that the handover is self-consistent; key confirmation is the
        /// real check.
        key_ok: bool,
    },
    /// A verification check failed: `check` names it ([`Check::GroupKey`]:
    /// g^θ differs from Π FK in iteration `iter`); `culprit` is the party
    /// the check blames, if it can name one.
    Verification {
        /// The member that checked.
        member: MemberId,
        /// The check that failed.
        check: Check,
        /// The party blamed; `None` when the check cannot tell who lied.
        culprit: Option<Party>,
        /// The iteration j of the values checked; 1 for initialisation.
        iter: u64,
    },
    /// A cheater (the SM or a member) sent a value inconsistent with its
    /// commitments: the ground truth of a `cheat` adversary acting.
    Cheated {
        /// The cheater.
        by: Party,
    },
    /// A replacement gave up: the survivors in `missing` never sent ĤFK.
    RecoveryFailed {
        /// The replacement.
        member: MemberId,
        /// r, the iteration it was recovering.
        iter: u64,
        /// The survivors it has no ĤFK from, in id order.
        missing: Vec<MemberId>,
    },
}

/// What one call into a party produced. The driver must act on it: send
/// `sends`, record `notes`, and then ask [`Node::poll_timeout`] again.
#[must_use = "a party's output carries the messages it sends and what it noted"]
#[derive(Default, Debug)]
pub struct Output {
    /// The envelopes to put on the network, in order: payloads, acks and
    /// retransmissions alike.
    pub sends: Vec<Envelope>,
    /// What the party drew, derived or found during the call, in order.
    pub notes: Vec<Note>,
    /// From `handle_message`: the envelope was new to the party's link and
    /// went on to its protocol state (not a duplicate, not for a dead
    /// incarnation, not an ack).
    pub fresh: bool,
}

impl Output {
    /// Appends `other`'s sends and notes to this output's.
    pub fn extend(&mut self, other: Output) {
        self.sends.extend(other.sends);
        self.notes.extend(other.notes);
        self.fresh |= other.fresh;
    }
}

/// A party's named timers: which deadline [`Node::poll_timeout`] reports.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Timer {
    /// The link's next retransmission of an unacknowledged payload.
    Retransmit,
    /// The next key-generation iteration falls due on the party's clock.
    Rekey,
    /// A peer silent for the silence timeout is to be declared failed
    /// (process 700, detection).
    Silence,
    /// A replacement stops waiting for the survivors' ĤFKs (process 700,
    /// failure).
    RecoveryPatience,
}

/// The interface the simulator drives. Every method is pure in the sense of
/// sans-IO: the answer depends only on the state, the arguments and the draws
/// taken from `rng`.
///
/// # Driving contract
///
/// 1. Call [`Node::start`] exactly once, before anything else.
/// 2. Then call [`Node::handle_message`] for each envelope delivered to the
///    party (after [`Node::admits`] has let it through, on a channel that
///    checks) and [`Node::handle_timeout`] when the deadline of
///    [`Node::poll_timeout`] has come, in any order, one call at a time.
/// 3. `now` is the party's own clock and never goes backwards from one call
///    to the next (equal readings are fine).
/// 4. After every call, act on its [`Output`]: send its envelopes, record
///    its notes, and re-read [`Node::poll_timeout`] (any call may move or
///    clear the deadline). Calling `handle_timeout` early is harmless: what
///    is not due is left alone.
/// 5. A party the driver has crashed is never called again; a replacement
///    is a new party with the next incarnation.
pub trait Node {
    /// Which party this is.
    fn party(&self) -> Party;
    /// Called once, first, at the party's start (virtual time 0).
    fn start(&mut self, now: LocalTime, rng: &mut dyn Rng) -> Output;
    /// An envelope delivered to the party.
    fn handle_message(&mut self, now: LocalTime, env: Envelope, rng: &mut dyn Rng) -> Output;
    /// Called when the deadline last returned by `poll_timeout` has passed.
    fn handle_timeout(&mut self, now: LocalTime, rng: &mut dyn Rng) -> Output;
    /// The next local time at which the party wants `handle_timeout`, and
    /// the timer that falls due then (the first named, if several do).
    fn poll_timeout(&self) -> Option<(Timer, LocalTime)>;
    /// The modes and iterations the party takes now: the sealed channel
    /// refuses the rest (wrong-mode, stale-iteration) before the party
    /// sees them.
    fn admits(&self) -> sealed::Admit {
        sealed::Admit::all()
    }
}
