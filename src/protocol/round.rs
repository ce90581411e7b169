//! The protocol's counters as types: an [`Epoch`] numbers the group secret
//! θ_e and its key SK_e, an [`Iteration`] numbers the fractional keys
//! FK_{i,j} a generation round produces, and an [`Incarnation`] numbers the
//! lives of one member index (0 for the original, k for its k-th
//! replacement).
//!
//! Epoch 1 is initialisation (process 300 or 400, sent as iteration 1 of
//! [`Mode::Init`]); generation iteration j produces θ_{j+1} = Σ_i FK_{i,j}, so
//! epoch e ≥ 2 is iteration e − 1 of [`Mode::Generation`]. That off-by-one
//! lives here and nowhere else: [`Epoch::round`] and [`Epoch::after`].

use std::fmt;

use serde::{Deserialize, Serialize};

use super::message::Mode;

/// The index e of θ_e and SK_e, from 1.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Epoch(pub u64);

/// The index j, from 1, of a generation round and its fractional keys
/// FK_{i,j}. Initialisation and recovery messages carry one too (see the
/// module docs).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Iteration(pub u64);

/// Which life of a member index: 0 for the original member, k for its k-th
/// replacement.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Incarnation(pub u32);

impl Epoch {
    /// The initial epoch, θ_1.
    pub const FIRST: Epoch = Epoch(1);

    /// The epoch whose θ the fractional keys of `iteration` sum to.
    pub fn after(iteration: Iteration) -> Epoch {
        Epoch(iteration.0.saturating_add(1))
    }

    /// The round that produces this epoch's θ: (Init, 1) for epoch 1,
    /// (Generation, e − 1) after.
    pub fn round(self) -> (Mode, Iteration) {
        if self.0 <= 1 { (Mode::Init, Iteration(1)) } else { (Mode::Generation, Iteration(self.0 - 1)) }
    }

    /// The epoch a round's messages serve: the inverse of [`Epoch::round`].
    /// Recovery at iteration j serves epoch j + 1, like generation.
    pub fn of_round(mode: Mode, iteration: Iteration) -> Epoch {
        match mode {
            Mode::Init => Epoch::FIRST,
            Mode::Generation | Mode::Recovery => Epoch::after(iteration),
        }
    }

    /// The next epoch.
    pub fn next(self) -> Epoch {
        Epoch(self.0.saturating_add(1))
    }
}

impl Iteration {
    /// The iteration whose fractional keys sum to `epoch`'s θ, if `epoch` is
    /// a generation epoch (e ≥ 2).
    pub fn producing(epoch: Epoch) -> Option<Iteration> {
        (epoch.0 >= 2).then(|| Iteration(epoch.0 - 1))
    }
}

impl Incarnation {
    /// The original member.
    pub const ORIGINAL: Incarnation = Incarnation(0);

    /// The next replacement.
    pub fn next(self) -> Incarnation {
        Incarnation(self.0.saturating_add(1))
    }
}

macro_rules! display_inner {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}
display_inner!(Epoch, Iteration, Incarnation);

#[cfg(test)]
mod tests {
    use super::*;

    /// The epoch ↔ round conversion round-trips for init and generation.
    #[test]
    fn epoch_round_round_trips() {
        for e in 1..50 {
            let (mode, j) = Epoch(e).round();
            assert_eq!(Epoch::of_round(mode, j), Epoch(e));
        }
        assert_eq!(Epoch(1).round(), (Mode::Init, Iteration(1)));
        assert_eq!(Epoch(4).round(), (Mode::Generation, Iteration(3)));
        assert_eq!(Iteration::producing(Epoch(1)), None);
        assert_eq!(Iteration::producing(Epoch(3)), Some(Iteration(2)));
    }
}
