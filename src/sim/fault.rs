//! Faults (reference §4): crashes and partitions. The simulator carries them
//! out; the members only notice silence. All times here are virtual time in
//! µs since the start of the run.

use crate::protocol::MemberId;

/// Where a member crashes: when iteration `iteration` is due, before it
/// sends HFK, or once every member has acknowledged its HFK. The simulator
/// carries it out; the member knows nothing of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Halt {
    /// The key-generation iteration, 1..=epochs (a scenario's `at.epoch`).
    pub iteration: u64,
    /// `false` (`before-send`): the node crashes the moment the iteration
    /// falls due, before its draw and HFK go out. `true` (`after-send`): it
    /// crashes once every HFK (and public FK) it sent for the iteration has
    /// been acknowledged.
    pub after_send: bool,
}

/// When a member crashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashAt {
    /// At a virtual time, in µs.
    Time(u64),
    /// At a protocol point of an iteration.
    Point(Halt),
}

/// One scheduled crash of a member's node. A member's crashes apply to its
/// incarnations in order: the first to the original node, the second to
/// its first replacement, and so on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crash {
    /// The member whose node crashes.
    pub member: MemberId,
    /// When it crashes.
    pub at: CrashAt,
    /// Whether a replacement takes the index and runs process 700.
    pub replace: bool,
}

/// Members in different groups cannot reach each other from `from_us` until
/// `until_us` (for ever without it). Members named in no group form one more
/// group together. It cuts member-to-member messages only: the SM reaches,
/// and is reached by, everyone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// The groups of members that can still reach each other.
    pub groups: Vec<Vec<MemberId>>,
    /// Virtual time, in µs, from which it holds (inclusive).
    pub from_us: u64,
    /// Virtual time, in µs, at which it heals (exclusive); `None` for a
    /// partition that never heals.
    pub until_us: Option<u64>,
}

impl Partition {
    /// Whether the partition holds at virtual time `t_us`.
    pub fn active(&self, t_us: u64) -> bool {
        t_us >= self.from_us && self.until_us.is_none_or(|u| t_us < u)
    }

    fn group_of(&self, m: MemberId) -> usize {
        self.groups.iter().position(|g| g.contains(&m)).unwrap_or(self.groups.len())
    }

    /// Whether the partition separates `a` from `b` at `t_us`.
    pub fn separates(&self, a: MemberId, b: MemberId, t_us: u64) -> bool {
        self.active(t_us) && self.group_of(a) != self.group_of(b)
    }
}

/// Every fault of a run.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Faults {
    /// The crashes, in scenario order.
    pub crashes: Vec<Crash>,
    /// The partitions; a message is cut off when any of them separates
    /// its sender from its recipient.
    pub partitions: Vec<Partition>,
}

impl Faults {
    /// The crash points of `member`'s incarnations, in scenario order: the
    /// k-th applies to its (k−1)-th replacement.
    pub fn crash(&self, member: MemberId, incarnation: u32) -> Option<&Crash> {
        self.crashes.iter().filter(|c| c.member == member).nth(incarnation as usize)
    }

    /// Whether any partition separates `a` from `b` at virtual time `t_us`.
    pub fn separated(&self, a: MemberId, b: MemberId, t_us: u64) -> bool {
        self.partitions.iter().any(|p| p.separates(a, b, t_us))
    }
}
