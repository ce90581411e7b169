//! Members and the SM driven by hand, message by message, without the
//! simulator: every party runs on one clock (no skew), and the test
//! delivers what they send in the order they sent it, dropping what it
//! chooses.

use std::collections::VecDeque;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::{Member, MemberConfig};
use crate::group::{GroupParams, Scalar, by_name};
use crate::protocol::Verify;
use crate::protocol::conduct::{Conduct, Context, Honest, Outgoing};
use crate::protocol::link::Backoff;
use crate::protocol::sm::SecurityManager;
use crate::protocol::{
    Body, Envelope, InitKind, KeygenKind, LocalTime, MemberId, Mode, Node, Note, Output, Party, SecretName,
    Timer,
};

const REKEY_US: i64 = 1_000_000;
const RTO_US: i64 = 10_000;
const ROUND_TIMEOUT_US: i64 = 300_000;

fn group() -> &'static GroupParams {
    by_name("toy-64").expect("a bundled parameter set")
}

fn config(id: u32, members: u32, init: InitKind) -> MemberConfig {
    MemberConfig {
        id: MemberId(id),
        members,
        group: group(),
        init,
        keygen: KeygenKind::Additive,
        verify: Verify::None,
        epochs: 2,
        rekey_interval_us: REKEY_US,
        backoff: Backoff::fixed(RTO_US),
        round_timeout_us: ROUND_TIMEOUT_US,
        clock_spread_us: 0,
        loss_allowance_us: 0,
        incarnation: 0,
    }
}

/// The earliest of a member's timers, the first of those tied: what
/// `poll_timeout` must return, computed the plain way.
fn earliest(timers: [(Timer, Option<LocalTime>); 4]) -> Option<(Timer, LocalTime)> {
    timers.into_iter().filter_map(|(t, at)| Some((t, at?))).min_by_key(|&(_, at)| at)
}

/// A group of parties, the envelopes in flight and everything noted.
struct Bench {
    sm: Option<SecurityManager>,
    members: Vec<Member>,
    /// One RNG per party: 0 the SM, i member i.
    rngs: Vec<ChaCha20Rng>,
    in_flight: VecDeque<Envelope>,
    notes: Vec<Note>,
    /// Members whose traffic (in and out) is lost.
    cut_off: Vec<MemberId>,
}

impl Bench {
    /// n honest members (member 1 with `conduct_1`) and, for process 300,
    /// the SM; every party started at time 0.
    fn new(n: u32, init: InitKind, conduct_1: Box<dyn Conduct>) -> Bench {
        let sm = (init == InitKind::Sm).then(|| {
            SecurityManager::new(group(), n, Backoff::fixed(RTO_US), Verify::None, Box::new(Honest))
        });
        let mut conduct_1 = Some(conduct_1);
        let members = (1..=n)
            .map(|i| {
                let conduct = if i == 1 { conduct_1.take() } else { None };
                Member::new(config(i, n, init), conduct.unwrap_or_else(|| Box::new(Honest)))
            })
            .collect();
        let rngs = (0..=u64::from(n)).map(ChaCha20Rng::seed_from_u64).collect();
        let mut bench =
            Bench { sm, members, rngs, in_flight: VecDeque::new(), notes: Vec::new(), cut_off: Vec::new() };
        let now = LocalTime(0);
        if let Some(sm) = &mut bench.sm {
            let out = sm.start(now, &mut bench.rngs[0]);
            bench.take(out);
        }
        for i in 0..n as usize {
            let out = bench.members[i].start(now, &mut bench.rngs[i + 1]);
            bench.take(out);
        }
        bench
    }

    fn take(&mut self, out: Output) {
        self.in_flight.extend(out.sends);
        self.notes.extend(out.notes);
    }

    fn lost(&self, p: Party) -> bool {
        matches!(p, Party::Member(m) if self.cut_off.contains(&m))
    }

    /// Hands `env` to its recipient at `now`.
    fn deliver(&mut self, now: LocalTime, env: Envelope) -> Output {
        match env.to {
            Party::Sm => {
                self.sm.as_mut().expect("process 300 has an SM").handle_message(now, env, &mut self.rngs[0])
            }
            Party::Member(m) => {
                let i = m.0 as usize;
                self.members[i - 1].handle_message(now, env, &mut self.rngs[i])
            }
        }
    }

    /// Delivers everything in flight, and what that makes the parties
    /// send, until nothing is left (or `limit` deliveries).
    fn settle(&mut self, now: LocalTime) {
        let mut limit = 10_000;
        while let Some(env) = self.in_flight.pop_front() {
            limit -= 1;
            assert!(limit > 0, "the parties never fell quiet");
            if self.lost(env.from) || self.lost(env.to) {
                continue;
            }
            let to = env.to;
            let out = self.deliver(now, env);
            self.take(out);
            if let Party::Member(m) = to {
                let member = &self.members[m.0 as usize - 1];
                assert_eq!(member.poll_timeout(), earliest(member.timers()), "member {m}'s next timer");
            }
        }
    }

    /// Fires the timers of the SM and of every member not cut off, at `now`.
    fn tick(&mut self, now: LocalTime) {
        if let Some(sm) = &mut self.sm {
            let out = sm.handle_timeout(now, &mut self.rngs[0]);
            self.take(out);
        }
        for i in 0..self.members.len() {
            if self.cut_off.contains(&self.members[i].id()) {
                continue;
            }
            let out = self.members[i].handle_timeout(now, &mut self.rngs[i + 1]);
            self.take(out);
        }
    }

    /// The θ_epoch each member noted, in member order.
    fn thetas(&self, epoch: u64) -> Vec<(MemberId, Scalar)> {
        let mut thetas: Vec<(MemberId, Scalar)> = self
            .notes
            .iter()
            .filter_map(|n| match n {
                Note::Theta { member, epoch: e, value } if *e == epoch => Some((*member, value.clone())),
                _ => None,
            })
            .collect();
        thetas.sort_by_key(|(m, _)| *m);
        thetas
    }

    /// The values of every `name` secret with `index`, in the order noted.
    fn secrets(&self, name: SecretName, index: u64) -> Vec<Scalar> {
        self.notes
            .iter()
            .filter_map(|n| match n {
                Note::Secret { name: s, index: i, value, .. } if *s == name && *i == index => {
                    Some(value.clone())
                }
                _ => None,
            })
            .collect()
    }
}

/// The single value every member holds, asserting they agree.
fn agreed(thetas: &[(MemberId, Scalar)], members: u32) -> Scalar {
    let ids: Vec<MemberId> = thetas.iter().map(|(m, _)| *m).collect();
    assert_eq!(ids, (1..=members).map(MemberId).collect::<Vec<_>>(), "every member once, in order");
    let first = thetas[0].1.clone();
    assert!(thetas.iter().all(|(_, t)| *t == first), "the members' θ differ");
    first
}

/// Process 300 with n = 3: once the SM's pads are delivered every member
/// holds θ_1, the three agree, θ_1 = Σ v_i and Σ α_{i,1} = (n − 1)·θ_1 (I1).
#[test]
fn sm_init_gives_every_member_the_same_theta1() {
    let mut bench = Bench::new(3, InitKind::Sm, Box::new(Honest));
    assert_eq!(bench.in_flight.len(), 3, "one pad per member");
    bench.settle(LocalTime(0));
    let g = group();
    let theta = agreed(&bench.thetas(1), 3);
    assert_eq!(theta, g.sum(&bench.secrets(SecretName::V, 1)));
    let alphas = bench.secrets(SecretName::Alpha, 1);
    assert_eq!(alphas.len(), 3);
    assert_eq!(g.sum(&alphas), g.mul_i64(&theta, 2));
    let confirmed = bench.notes.iter().filter(|n| matches!(n, Note::Confirmed { epoch: 1, .. })).count();
    assert_eq!(confirmed, 3, "every member saw the others confirm SK_1");
}

/// Process 400 with n = 3: the δ ring started by the GI ends with every
/// member holding the same θ_1 = Σ v_i.
#[test]
fn ring_init_gives_every_member_the_same_theta1() {
    let mut bench = Bench::new(3, InitKind::Ring, Box::new(Honest));
    bench.settle(LocalTime(0));
    let theta = agreed(&bench.thetas(1), 3);
    assert_eq!(theta, group().sum(&bench.secrets(SecretName::V, 1)));
}

/// A generation round: when iteration 1 falls due every member broadcasts
/// its HFK, and once all are delivered the members agree on
/// θ_2 = Σ FK_{i,1}, and on SK_2.
#[test]
fn a_generation_round_ends_in_an_agreed_theta2() {
    let mut bench = Bench::new(3, InitKind::Sm, Box::new(Honest));
    bench.settle(LocalTime(0));
    let due = LocalTime(REKEY_US);
    for m in &bench.members {
        assert_eq!(
            m.poll_timeout(),
            Some((Timer::Rekey, due)),
            "acked and quiet, member {} waits to rekey",
            m.id()
        );
    }
    bench.tick(due);
    let hfks = bench.in_flight.iter().filter(|e| matches!(e.body, Body::Hfk(_))).count();
    assert_eq!(hfks, 6, "each of 3 members sends HFK to the 2 others");
    bench.settle(due);
    let theta2 = agreed(&bench.thetas(2), 3);
    assert_eq!(theta2, group().sum(&bench.secrets(SecretName::Fk, 1)));
    let sks: Vec<_> = bench
        .notes
        .iter()
        .filter_map(|n| match n {
            Note::Key { epoch: 2, sk, .. } => Some(*sk),
            _ => None,
        })
        .collect();
    assert_eq!(sks.len(), 3);
    assert!(sks.iter().all(|sk| *sk == sks[0]), "the members derived different SK_2");
}

/// A payload delivered twice reaches the member's protocol once: the copy
/// is acknowledged again and otherwise ignored.
#[test]
fn a_duplicate_is_acked_but_suppressed() {
    let mut bench = Bench::new(3, InitKind::Sm, Box::new(Honest));
    let pad = bench.in_flight.pop_front().expect("the SM sent pads");
    let first = bench.deliver(LocalTime(0), pad.clone());
    assert!(first.fresh);
    assert!(first.notes.iter().any(|n| matches!(n, Note::Theta { epoch: 1, .. })));
    let again = bench.deliver(LocalTime(5), pad);
    assert!(!again.fresh, "the copy went on to protocol state");
    assert!(again.notes.is_empty());
    assert_eq!(again.sends.len(), 1);
    assert!(matches!(again.sends[0].body, Body::Ack { .. }));
}

/// The retransmission timer: an unacknowledged pad falls due after the
/// RTO and goes out again as attempt 1, with the same seq.
#[test]
fn the_retransmission_timer_fires_at_its_deadline() {
    let mut bench = Bench::new(3, InitKind::Sm, Box::new(Honest));
    let sent: Vec<Envelope> = bench.in_flight.drain(..).collect();
    let sm = bench.sm.as_mut().expect("process 300");
    assert_eq!(sm.poll_timeout(), Some((Timer::Retransmit, LocalTime(RTO_US))));
    let early = sm.handle_timeout(LocalTime(RTO_US - 1), &mut bench.rngs[0]);
    assert!(early.sends.is_empty(), "nothing is due before the deadline");
    let out = sm.handle_timeout(LocalTime(RTO_US), &mut bench.rngs[0]);
    assert_eq!(out.sends.len(), 3);
    for (again, first) in out.sends.iter().zip(&sent) {
        assert_eq!((again.to, again.seq, again.attempt), (first.to, first.seq, 1));
        assert_eq!(again.body, first.body);
    }
}

/// The silence timer: a member whose traffic is lost in iteration 1 is
/// declared failed by both others once the silence timeout has passed
/// since the round started, not before.
#[test]
fn a_silent_member_is_declared_failed_when_the_silence_timer_fires() {
    let mut bench = Bench::new(3, InitKind::Sm, Box::new(Honest));
    bench.settle(LocalTime(0));
    bench.cut_off.push(MemberId(3));
    let due = LocalTime(REKEY_US);
    bench.tick(due);
    bench.settle(due);
    let silence = due.plus_us(ROUND_TIMEOUT_US);
    let declared = |b: &Bench| {
        b.notes
            .iter()
            .filter_map(|n| match n {
                Note::Declared { member, failed, iter } => Some((*member, *failed, *iter)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    bench.tick(silence.plus_us(-1));
    assert!(declared(&bench).is_empty(), "declared before the silence timeout");
    assert!(bench.members[0].timers().contains(&(Timer::Silence, Some(silence))));
    bench.tick(silence);
    assert_eq!(declared(&bench), [(MemberId(1), MemberId(3), 1), (MemberId(2), MemberId(3), 1)]);
}

/// A conduct that announces HFK + 1 (a cheater's) in every copy, its own
/// included.
struct PlusOne;

impl Conduct for PlusOne {
    fn outgoing(&mut self, ctx: &Context, mut msg: Outgoing, sends: &mut Vec<Outgoing>, _: &mut Vec<Note>) {
        if let (Body::Hfk(h), Mode::Generation) = (&mut msg.body, ctx.mode) {
            *h = ctx.group.add(h, &ctx.group.scalar_from_u64(1));
        }
        sends.push(msg);
    }
}

/// A member's own HFK passes through its conduct like the copies it sends:
/// with a conduct that adds one, the members still agree on θ_2, which is
/// then Σ FK + 1.
#[test]
fn the_conduct_alters_the_own_part_like_the_copies() {
    let mut bench = Bench::new(3, InitKind::Sm, Box::new(PlusOne));
    bench.settle(LocalTime(0));
    let due = LocalTime(REKEY_US);
    bench.tick(due);
    bench.settle(due);
    let g = group();
    let theta2 = agreed(&bench.thetas(2), 3);
    let honest = g.sum(&bench.secrets(SecretName::Fk, 1));
    assert_eq!(theta2, g.add(&honest, &g.scalar_from_u64(1)));
}

/// Two timers due at the same moment. Member 1's retransmissions to a
/// member that never answers fall every RTO; the silence timeout is 30 RTOs,
/// so the 30th retransmission is due with the silence timer. `poll_timeout`
/// reports the first of the tied timers in `timers()` order (the
/// retransmission), and one `handle_timeout` at that moment serves both.
#[test]
fn timers_due_together_are_reported_first_of_ties_and_served_together() {
    assert_eq!(ROUND_TIMEOUT_US % RTO_US, 0, "the test needs the silence timeout on the RTO grid");
    let mut bench = Bench::new(3, InitKind::Sm, Box::new(Honest));
    bench.settle(LocalTime(0));
    bench.cut_off.push(MemberId(3));
    let due = LocalTime(REKEY_US);
    bench.tick(due);
    bench.settle(due);
    let silence = due.plus_us(ROUND_TIMEOUT_US);
    let mut fired = 0;
    loop {
        let (timer, at) = bench.members[0].poll_timeout().expect("member 1 waits on member 3");
        if at >= silence {
            break;
        }
        assert_eq!(timer, Timer::Retransmit, "only retransmissions come before the silence timeout");
        bench.tick(at);
        bench.settle(at);
        fired += 1;
    }
    assert_eq!(fired, ROUND_TIMEOUT_US / RTO_US - 1);
    let m = &bench.members[0];
    let timers = m.timers();
    assert!(timers.contains(&(Timer::Retransmit, Some(silence))), "{timers:?}");
    assert!(timers.contains(&(Timer::Silence, Some(silence))), "{timers:?}");
    assert_eq!(m.poll_timeout(), Some((Timer::Retransmit, silence)));
    assert_eq!(m.poll_timeout(), earliest(timers));
    let out = bench.members[0].handle_timeout(silence, &mut bench.rngs[1]);
    let declared = out.notes.iter().any(|n| matches!(n, Note::Declared { failed: MemberId(3), .. }));
    assert!(declared, "the silence timer fired: {:?}", out.notes);
    let resent = out.sends.iter().filter(|e| e.to == Party::Member(MemberId(3)) && e.attempt > 0).count();
    assert_eq!(resent, 1, "the retransmission fired too: {:?}", out.sends);
    let m = &bench.members[0];
    assert!(m.poll_timeout().is_none_or(|(_, at)| at > silence), "nothing is left due at {silence:?}");
}
