//! Faults (reference §4): crashes and partitions. The simulator carries them
//! out; the members only notice silence.

use crate::protocol::MemberId;

/// Where a member crashes: when iteration `iteration` is due, before it
/// sends HFK, or once every member has acknowledged its HFK. The simulator
/// carries it out; the member knows nothing of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Halt {
    pub iteration: u64,
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crash {
    pub member: MemberId,
    pub at: CrashAt,
    /// Whether a replacement takes the index and runs process 700.
    pub replace: bool,
}

/// Members in different groups cannot reach each other from `from_us` until
/// `until_us` (for ever without it). Members named in no group form one more
/// group together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    pub groups: Vec<Vec<MemberId>>,
    pub from_us: u64,
    pub until_us: Option<u64>,
}

impl Partition {
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

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Faults {
    pub crashes: Vec<Crash>,
    pub partitions: Vec<Partition>,
}

impl Faults {
    /// The crash points of `member`'s incarnations, in scenario order: the
    /// k-th applies to its (k−1)-th replacement.
    pub fn crash(&self, member: MemberId, incarnation: u32) -> Option<&Crash> {
        self.crashes.iter().filter(|c| c.member == member).nth(incarnation as usize)
    }

    pub fn separated(&self, a: MemberId, b: MemberId, t_us: u64) -> bool {
        self.partitions.iter().any(|p| p.separates(a, b, t_us))
    }
}
