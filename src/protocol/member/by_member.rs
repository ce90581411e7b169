//! [`ByMember`]: a map from member ids to values, stored as one slot per
//! member of the group.

use crate::protocol::MemberId;

/// A map keyed by [`MemberId`] in 1..=n, with one slot per member: what a
/// member keeps of every other member's parts of a round. It iterates in
/// member order, as a `BTreeMap<MemberId, T>` does, at a fraction of the
/// memory (a round at n = 1024 keeps n² of these entries across the
/// group) and with an index instead of a tree search.
///
/// The slots are allocated on the first insert, all n at once, so that a
/// map that stays empty (the public FKs of a run that publishes none)
/// costs nothing and a full one has no growth slack. An id beyond n still
/// gets a slot.
pub(super) struct ByMember<T> {
    members: u32,
    /// Slot i holds member i + 1's value.
    slots: Vec<Option<T>>,
    len: usize,
}

impl<T> ByMember<T> {
    /// An empty map for a group of `members`.
    pub(super) fn new(members: u32) -> Self {
        ByMember { members, slots: Vec::new(), len: 0 }
    }

    fn slot(m: &MemberId) -> Option<usize> {
        (m.0 as usize).checked_sub(1)
    }

    pub(super) fn get(&self, m: &MemberId) -> Option<&T> {
        self.slots.get(Self::slot(m)?)?.as_ref()
    }

    pub(super) fn contains_key(&self, m: &MemberId) -> bool {
        self.get(m).is_some()
    }

    /// Sets `m`'s value; returns the one it replaces. Member id 0, which
    /// no member has, is not stored. Ids come from senders and from
    /// payloads that [`Envelope::fits`](crate::protocol::Envelope::fits)
    /// has checked against 1..=n, so an id beyond n does not reach here.
    pub(super) fn insert(&mut self, m: MemberId, value: T) -> Option<T> {
        let Some(i) = Self::slot(&m) else {
            debug_assert!(false, "member ids count from 1");
            return None;
        };
        if i >= self.slots.len() {
            let want = (i + 1).max(self.members as usize).max(self.slots.len().saturating_mul(2));
            self.slots.reserve_exact(want - self.slots.len());
            self.slots.resize_with(want, || None);
        }
        let old = self.slots[i].replace(value);
        self.len += usize::from(old.is_none());
        old
    }

    pub(super) fn remove(&mut self, m: &MemberId) -> Option<T> {
        let old = self.slots.get_mut(Self::slot(m)?)?.take();
        self.len -= usize::from(old.is_some());
        old
    }

    /// How many members have a value.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entries in member order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (MemberId, &T)> {
        (1..).zip(&self.slots).filter_map(|(m, v)| Some((MemberId(m), v.as_ref()?)))
    }

    /// The values in member order.
    pub(super) fn values(&self) -> impl Iterator<Item = &T> {
        self.iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Every operation answers as a `BTreeMap` does, and both iterate
        /// alike.
        #[test]
        fn agrees_with_a_btree_map(members in 1u32..12, ops in prop::collection::vec((0u8..3, 1u32..16, 0u32..100), 0..120)) {
            let (mut dense, mut tree) = (ByMember::new(members), BTreeMap::new());
            for (op, m, v) in ops {
                let m = MemberId(m);
                match op {
                    0 => prop_assert_eq!(dense.insert(m, v), tree.insert(m, v)),
                    1 => prop_assert_eq!(dense.remove(&m), tree.remove(&m)),
                    _ => prop_assert_eq!(dense.get(&m), tree.get(&m)),
                }
                prop_assert_eq!(dense.len(), tree.len());
                prop_assert_eq!(dense.is_empty(), tree.is_empty());
                prop_assert_eq!(dense.contains_key(&m), tree.contains_key(&m));
                let (a, b): (Vec<_>, Vec<_>) = (dense.iter().collect(), tree.iter().map(|(m, v)| (*m, v)).collect());
                prop_assert_eq!(a, b);
            }
            prop_assert_eq!(dense.remove(&MemberId(0)), None);
            if !cfg!(debug_assertions) {
                prop_assert_eq!(dense.insert(MemberId(0), 1), None);
            }
            prop_assert_eq!(dense.get(&MemberId(0)), None);
        }
    }
}
