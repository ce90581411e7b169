//! The adversaries that misbehave inside a party, as implementations of
//! `protocol`'s [`Conduct`] hook: a cheating member (its ring δ, or its HFK
//! of one iteration, one more than it commits to), a cheating SM (one
//! member's pad α + 1, which the SM then commits to as sent), a ring
//! colluder (section II.B: its δ also to an accomplice) and a survivor that
//! withholds its ĤFK in a recovery (process 700). The parties themselves
//! stay honest; the simulator hands each node its conduct.

use super::{Adversaries, CheatPhase};
use crate::protocol::conduct::{Conduct, Context, Honest, Outgoing};
use crate::protocol::{Body, MemberId, Mode, Note, Party};

/// A party that deviates from the protocol on some of its payloads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rogue {
    /// A cheating member: δ_i + 1 (init) or HFK + 1 (keygen iteration j).
    cheat: Option<CheatPhase>,
    /// A cheating SM: the member whose pad is α + 1.
    pad_of: Option<MemberId>,
    /// A ring colluder or forwarder: the members that also get its δ,
    /// sorted, without repeats.
    forward_delta_to: Vec<MemberId>,
    /// A survivor that never sends its ĤFK.
    withhold: bool,
    /// A planted defect ([`super::PlantedBug`]): the iteration whose HFK
    /// leaves with its lowest bit flipped, unannounced.
    flip_hfk: Option<u64>,
}

impl Rogue {
    /// Adds one to the value of `body` where this rogue lies about it;
    /// whether it did.
    fn alter(&self, ctx: &Context, to: Party, body: &mut Body) -> bool {
        let g = ctx.group;
        let lie = match (body, ctx.mode, self.cheat) {
            (Body::Delta(d), Mode::Init, Some(CheatPhase::Init)) => d,
            (Body::Hfk(h), Mode::Generation, Some(CheatPhase::Keygen(j))) if ctx.iter == j => h,
            (Body::Pad { alpha, .. }, Mode::Init, _)
                if self.pad_of.is_some_and(|m| to == Party::Member(m)) =>
            {
                alpha
            }
            _ => return false,
        };
        *lie = g.add(lie, &g.scalar_from_u64(1));
        true
    }
}

impl Conduct for Rogue {
    fn outgoing(
        &mut self,
        ctx: &Context,
        mut msg: Outgoing,
        sends: &mut Vec<Outgoing>,
        notes: &mut Vec<Note>,
    ) {
        if self.withhold && ctx.mode == Mode::Recovery && matches!(msg.body, Body::HfkHat(_)) {
            return;
        }
        if self.alter(ctx, msg.to, &mut msg.body) {
            notes.push(Note::Cheated { by: ctx.party });
        }
        if let (Body::Hfk(h), Mode::Generation, Some(j)) = (&mut msg.body, ctx.mode, self.flip_hfk)
            && ctx.iter == j
        {
            *h = ctx.group.scalar(h.as_biguint() ^ num_bigint::BigUint::from(1u8));
        }
        let copies: Vec<Outgoing> = match (&msg.body, ctx.mode) {
            (Body::Delta(_), Mode::Init) => self
                .forward_delta_to
                .iter()
                .filter(|&&r| Party::Member(r) != msg.to)
                .map(|&r| Outgoing { to: Party::Member(r), body: msg.body.clone() })
                .collect(),
            _ => Vec::new(),
        };
        sends.push(msg);
        sends.extend(copies);
    }
}

impl Adversaries {
    /// The conduct of member `m`'s `incarnation`-th node in a group of
    /// `members`: a [`Rogue`] if an adversary acts through it, else
    /// [`Honest`]. A cheat is the original member's; a replacement does
    /// not inherit it.
    pub fn member_conduct(&self, m: MemberId, incarnation: u32, members: u32) -> Box<dyn Conduct> {
        let rogue = Rogue {
            cheat: self.cheat(m).filter(|_| incarnation == 0),
            pad_of: None,
            forward_delta_to: {
                let mut to: Vec<MemberId> = self
                    .delta_forwards(members)
                    .iter()
                    .filter(|(from, _)| *from == m)
                    .map(|&(_, to)| to)
                    .collect();
                to.sort();
                to.dedup();
                to
            },
            withhold: self.withholds(m),
            flip_hfk: self.planted.filter(|b| b.member == m && incarnation == 0).map(|b| b.iter),
        };
        Rogue::boxed(rogue)
    }

    /// The SM's conduct: a [`Rogue`] under an `sm-cheat` adversary, else
    /// [`Honest`].
    pub fn sm_conduct(&self) -> Box<dyn Conduct> {
        Rogue::boxed(Rogue { pad_of: self.sm_cheat(), ..Rogue::default() })
    }
}

impl Rogue {
    fn boxed(self) -> Box<dyn Conduct> {
        if self == Rogue::default() { Box::new(Honest) } else { Box::new(self) }
    }
}
