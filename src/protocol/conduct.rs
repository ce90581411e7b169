//! The conduct hook: how a party's outgoing payloads actually leave it.
//!
//! The parties in this module's siblings are honest: they follow processes
//! 300–900 and know nothing of cheating, withholding or forwarding. Every
//! payload a party sends passes, before its link frames it, through the
//! party's [`Conduct`], which may send it unchanged (what [`Honest`] does),
//! alter it, drop it or add more. The adversaries that misbehave inside a
//! party (a cheater, a withholding survivor, a ring colluder forwarding δ)
//! are conducts supplied from outside, by `adversary`.
//!
//! A member's own share of a round's sum counts as a message to itself: it
//! passes through the conduct like the copies it broadcasts (and is then
//! kept, not sent), so a member whose conduct announces another value uses
//! that value in its own sum too. Likewise the SM commits to the pads as
//! its conduct sent them.

use super::{Body, Mode, Note, Party};
use crate::group::GroupParams;

/// A payload on its way out of a party, before the link frames it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The recipient: the sending party itself for its own part of a
    /// round's sum (see the module docs).
    pub to: Party,
    /// The payload.
    pub body: Body,
}

/// What a conduct knows about a payload besides the payload itself.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    /// The sending party.
    pub party: Party,
    /// The sender's incarnation (0 for an original member).
    pub incarnation: u32,
    /// The mode of the header the payload goes out under.
    pub mode: Mode,
    /// The iteration j of that header
    /// ([`Envelope::iter`](super::Envelope::iter)).
    pub iter: u64,
    /// The group the payload's values live in.
    pub group: &'static GroupParams,
}

/// Decides what leaves a party for each payload it sends.
pub trait Conduct {
    /// Pushes onto `sends` what actually goes out for `msg`: `msg` itself
    /// for an honest party, or an altered payload, nothing, or more than
    /// one. A conduct that deviates from the protocol in a way the analysis
    /// must know of pushes a [`Note::Cheated`] onto `notes`.
    fn outgoing(&mut self, ctx: &Context, msg: Outgoing, sends: &mut Vec<Outgoing>, notes: &mut Vec<Note>);
}

/// The conduct of a party that follows the protocol: every payload leaves
/// as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct Honest;

impl Conduct for Honest {
    fn outgoing(&mut self, _: &Context, msg: Outgoing, sends: &mut Vec<Outgoing>, _: &mut Vec<Note>) {
        sends.push(msg);
    }
}

/// Runs `msg` through `conduct`: what leaves for it.
pub(super) fn conduct(
    conduct: &mut dyn Conduct,
    ctx: &Context,
    msg: Outgoing,
    notes: &mut Vec<Note>,
) -> Vec<Outgoing> {
    let mut sends = Vec::with_capacity(1);
    conduct.outgoing(ctx, msg, &mut sends, notes);
    sends
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::by_name;
    use crate::protocol::MemberId;

    /// The honest conduct sends every payload once, unchanged, and notes
    /// nothing.
    #[test]
    fn honest_sends_every_payload_unchanged() {
        let group = by_name("toy-64").expect("a bundled parameter set");
        let ctx = Context { party: Party::Sm, incarnation: 0, mode: Mode::Init, iter: 1, group };
        let msg = Outgoing { to: Party::Member(MemberId(2)), body: Body::Joined };
        let mut notes = Vec::new();
        let out = conduct(&mut Honest, &ctx, msg.clone(), &mut notes);
        assert_eq!(out, vec![msg]);
        assert!(notes.is_empty());
    }
}
