//! Who holds what, and when: a [`Recorder`] that turns the simulator's
//! records into each view's observations (linear form, concrete value, the
//! record after which it was held) and collects the ground truth.
//!
//! - A member holds its own draws, every payload delivered to it and every
//!   leak that reaches it. Its computed values (α, θ) follow from those and
//!   add nothing to its span.
//! - The outsider holds the payloads it taps (only on a `plain` channel, only
//!   in the eavesdropper's modes, at the moment they are sent) and the leaks
//!   sent to it.
//! - A coalition pools its members' observations.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::sync::Arc;

use crate::adversary::{LeakSecret, LeakTo, WireAttack};
use crate::group::Scalar;
use crate::protocol::{Body, Envelope, MemberId, Mode, Party, SecretName};
use crate::sim::{Record, Recorder, SimTime};

use super::form::{Form, Layout, Var};

/// One thing a view holds.
#[derive(Clone, Debug)]
pub struct Obs {
    /// The simulator record after which the view holds it.
    pub rec: u64,
    /// The virtual time of that record, in microseconds.
    pub t_us: u64,
    /// The latest epoch any member held at that moment.
    pub epoch: u64,
    /// What it is, as a linear form over the run's [`Layout`] (shared by
    /// every view that holds the same payload, e.g. a broadcast HFK).
    pub form: Arc<Form>,
    /// The concrete value the view holds.
    pub value: Scalar,
    /// How the view got it, e.g. `HFK[2,1] from member 2` or `v[1] (own)`
    /// (shared like the form).
    pub label: Arc<str>,
}

/// A view to analyse.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ViewId {
    /// One member, honest but curious: its draws, what was delivered to it,
    /// what was leaked to it.
    Member(MemberId),
    /// A declared coalition: its members' observations pooled (ids sorted).
    Coalition(Vec<MemberId>),
    /// The outsider: the traffic its channel exposes and the leaks to it.
    Outsider,
    /// The `nth` replacement of `member` (process 700); `k` numbers the
    /// run's recoveries.
    Replacement {
        /// The failed member index it took over.
        member: MemberId,
        /// 1 for the first replacement of that index, 2 for the next, …
        nth: u32,
        /// Its position among all the run's replacements, from 1.
        k: u32,
    },
}

/// What a replacement holds, and the iteration r it recovered.
#[derive(Clone, Debug)]
pub struct Replacement {
    /// The failed member index it took over.
    pub member: MemberId,
    /// 1 for the first replacement of that index, 2 for the next, …
    pub nth: u32,
    /// The iteration r it recovered (the latest the RI sent it), once sent.
    pub r: Option<u64>,
    /// What it holds, in the order it got it.
    pub obs: Vec<Obs>,
}

impl ViewId {
    /// Whether member `m` is (part of) this view: its own secrets are no
    /// compromise.
    pub fn includes(&self, m: MemberId) -> bool {
        match self {
            ViewId::Member(x) | ViewId::Replacement { member: x, .. } => *x == m,
            ViewId::Coalition(ms) => ms.contains(&m),
            ViewId::Outsider => false,
        }
    }

    /// As reference §5 writes it: a member id, a sorted list, or "outsider".
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ViewId::Member(m) => m.0.into(),
            ViewId::Coalition(ms) => ms.iter().map(|m| m.0).collect::<Vec<_>>().into(),
            ViewId::Outsider => "outsider".into(),
            ViewId::Replacement { member, nth, .. } => format!("replacement:{member}#{nth}").into(),
        }
    }

    /// Prose for messages, e.g. `member 2`, `coalition {1, 3}`, `the outsider`.
    pub fn describe(&self) -> String {
        match self {
            ViewId::Member(m) => format!("member {m}"),
            ViewId::Coalition(ms) => {
                let ids: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
                format!("coalition {{{}}}", ids.join(", "))
            }
            ViewId::Outsider => "the outsider".to_string(),
            ViewId::Replacement { member, nth: 1, .. } => format!("the replacement of member {member}"),
            ViewId::Replacement { member, nth, .. } => format!("replacement #{nth} of member {member}"),
        }
    }
}

/// One linear payload of a message: its form, value and label, shared by
/// every recipient of a broadcast.
type Item = (Arc<Form>, Scalar, Arc<str>);

struct Pending {
    to: MemberId,
    items: Arc<[Item]>,
    /// For a recovery δ': the failed member it is for.
    ring_failed: Option<(MemberId, u32)>,
}

/// The [`Recorder`] of the analysis pass: every view's observations and
/// the ground truth of one run, for [`analyse`](super::analyse) and
/// [`explain`](super::explain).
pub struct Collector {
    /// The numbering of the run's variables.
    pub layout: Layout,
    /// The outsider reads payloads of these modes (eavesdropper on `plain`).
    tapped: Vec<Mode>,
    /// Each member's observations, member m at index m − 1. Once a
    /// replacement takes an index over, what it gets goes to its entry in
    /// `replacements` instead.
    pub members: Vec<Vec<Obs>>,
    /// The outsider's observations.
    pub outsider: Vec<Obs>,
    /// Every replacement, in the order they appeared (recovery k = index + 1).
    pub replacements: Vec<Replacement>,
    /// The replacement now at each index, by position in `replacements`.
    active: BTreeMap<MemberId, usize>,
    /// Per survivor: the failed member of the last recovery δ' it received.
    ring_of: BTreeMap<MemberId, (MemberId, u32)>,
    /// Recovery rings by (failed member, r), numbered k = 1, 2, … in order.
    rings: BTreeMap<(MemberId, u32, u64), u32>,
    /// Per view slot (members, outsider, then replacements): forms held
    /// (looked up only, never iterated).
    seen: Vec<HashSet<Arc<Form>>>,
    /// The payload of the last HFK sent, by (sender, iteration): the n − 1
    /// sends of a broadcast share it.
    last_hfk: Option<(MemberId, u64, Scalar, Arc<[Item]>)>,
    /// Ground truth of every draw and every recorded α and θ.
    pub truth: BTreeMap<Var, Scalar>,
    /// Epochs whose SK the outsider was handed (a leak of `sk`).
    pub outsider_sks: Vec<(u64, u64)>,
    in_flight: BTreeMap<u64, Pending>,
    epoch_now: u64,
    now: SimTime,
}

impl Collector {
    /// An empty collector for a run numbered by `layout`, whose outsider taps
    /// the payloads of the `tapped` modes (empty unless an eavesdropper
    /// listens on a `plain` channel).
    pub fn new(layout: Layout, tapped: Vec<Mode>) -> Collector {
        let n = layout.members as usize;
        Collector {
            layout,
            tapped,
            members: vec![Vec::new(); n],
            outsider: Vec::new(),
            replacements: Vec::new(),
            active: BTreeMap::new(),
            ring_of: BTreeMap::new(),
            rings: BTreeMap::new(),
            seen: vec![HashSet::new(); n + 1],
            last_hfk: None,
            truth: BTreeMap::new(),
            outsider_sks: Vec::new(),
            in_flight: BTreeMap::new(),
            epoch_now: 0,
            now: SimTime(0),
        }
    }

    /// View slot: member m at m − 1, the outsider at n, replacement i at n + 1 + i.
    fn hold(&mut self, slot: usize, rec: u64, form: Arc<Form>, value: Scalar, label: Arc<str>) {
        if form.is_empty() || !self.seen[slot].insert(Arc::clone(&form)) {
            return;
        }
        // Before any θ is held the run is in epoch 1's initialisation.
        let obs = Obs { rec, t_us: self.now.0, epoch: self.epoch_now.max(1), form, value, label };
        let n = self.members.len();
        match slot.cmp(&n) {
            std::cmp::Ordering::Less => self.members[slot].push(obs),
            std::cmp::Ordering::Equal => self.outsider.push(obs),
            std::cmp::Ordering::Greater => self.replacements[slot - n - 1].obs.push(obs),
        }
    }

    /// The view slot of whoever is member `m` now.
    fn slot_of(&self, m: MemberId) -> usize {
        match self.active.get(&m) {
            Some(&i) => self.members.len() + 1 + i,
            None => m.0 as usize - 1,
        }
    }

    /// The number k of the recovery ring run for `failed` at iteration `r`
    /// (a replacement restarts its ring when a survivor is further on).
    fn recovery_of(&self, failed: MemberId, inc: u32, r: u64) -> Option<u32> {
        self.rings.get(&(failed, inc, r)).copied()
    }

    fn outsider_slot(&self) -> usize {
        self.members.len()
    }

    /// The linear payloads of a message, with labels; an HFK broadcast's
    /// is computed once for all its recipients.
    fn shared_payload(&mut self, env: &Envelope) -> Arc<[Item]> {
        if let (Party::Member(from), Body::Hfk(h)) = (env.from, &env.body) {
            if let Some((f, j, v, items)) = &self.last_hfk
                && (*f, *j) == (from, env.iter)
                && v == h
            {
                return Arc::clone(items);
            }
            let items = Self::share(self.payload(env));
            self.last_hfk = Some((from, env.iter, h.clone(), Arc::clone(&items)));
            return items;
        }
        Self::share(self.payload(env))
    }

    fn share(items: Vec<(Form, Scalar, String)>) -> Arc<[Item]> {
        items.into_iter().map(|(f, v, l)| (Arc::new(f), v, Arc::from(l))).collect()
    }

    /// The linear payloads of a message, with labels.
    fn payload(&self, env: &Envelope) -> Vec<(Form, Scalar, String)> {
        let l = &self.layout;
        let Party::Member(from) = env.from else {
            if let (Body::Pad { alpha, theta }, Party::Member(to)) = (&env.body, env.to) {
                return vec![
                    (l.unit(Var::Alpha(to.0, 1)), alpha.clone(), format!("α[{to},1] from the SM")),
                    (l.unit(Var::Theta(1)), theta.clone(), "θ_1 from the SM".to_string()),
                ];
            }
            return Vec::new();
        };
        match &env.body {
            Body::Delta(d) => vec![(l.delta(from), d.clone(), format!("δ[{from}] from member {from}"))],
            Body::Theta(t) => vec![(l.unit(Var::Theta(1)), t.clone(), format!("θ_1 from member {from}"))],
            Body::Hfk(h) => {
                vec![(
                    l.hfk(from, env.iter),
                    h.clone(),
                    format!("HFK[{from},{}] from member {from}", env.iter),
                )]
            }
            Body::Share(s) => match env.to {
                Party::Member(to) => {
                    let label = format!("share[{from}→{to}] from member {from}");
                    vec![(l.unit(Var::Share(from.0, to.0)), s.clone(), label)]
                }
                Party::Sm => Vec::new(),
            },
            // g^x (ElGamal) and the commitments are public but not linear in the
            // draws: the engine does not invert them (the dlog adversary would).
            Body::Pad { .. }
            | Body::Confirm(_)
            | Body::Ack { .. }
            | Body::Joined
            | Body::FkPub(_)
            | Body::Commit(_) => Vec::new(),
            Body::Recover(m) => {
                let (hfk, theta) = (&m.hfk, &m.theta);
                let Party::Member(to) = env.to else { return Vec::new() };
                let r = env.iter;
                let mut out =
                    vec![(l.unit(Var::Theta(r + 1)), theta.clone(), format!("θ_{} from the RI", r + 1))];
                if let Some(h) = hfk {
                    out.push((l.hfk(to, r), h.clone(), format!("HFK[{to},{r}] from the RI")));
                }
                out
            }
            Body::RecoveryDelta { failed, inc, delta } => match self.recovery_of(*failed, *inc, env.iter) {
                Some(k) => vec![(
                    l.recovery_delta(k, *failed, from),
                    delta.clone(),
                    format!("δ'#{k}[{from}] from member {from}"),
                )],
                None => Vec::new(),
            },
            Body::HfkRelay(m) => {
                let (owner, hfk) = (&m.owner, &m.hfk);
                let label = format!("HFK[{owner},{}] relayed by member {from}", env.iter);
                vec![(l.hfk(*owner, env.iter), hfk.clone(), label)]
            }
            Body::Xi(x) => match self.recovery_of(from, env.from_inc, env.iter) {
                Some(k) => vec![(l.xi(k, from), x.clone(), format!("ξ#{k} from the replacement"))],
                None => Vec::new(),
            },
            Body::HfkHat(h) => match (
                env.to,
                self.recovery_of(
                    match env.to {
                        Party::Member(t) => t,
                        Party::Sm => from,
                    },
                    env.to_inc,
                    env.iter,
                ),
            ) {
                (Party::Member(to), Some(k)) => {
                    vec![(
                        l.hfk_hat(k, to, from, env.iter),
                        h.clone(),
                        format!("ĤFK#{k}[{from}] from member {from}"),
                    )]
                }
                _ => Vec::new(),
            },
        }
    }

    fn on_secret(
        &mut self,
        rec: u64,
        owner: MemberId,
        name: SecretName,
        index: u64,
        value: &Scalar,
        by: Party,
    ) {
        let by_replacement = match by {
            Party::Member(m) => self.active.get(&m).map(|&i| (i, self.replacements[i].r)),
            Party::Sm => None,
        };
        // What a replacement re-derives in recovery (v, FK up to r, α) is
        // derived, not drawn: it adds to no view, and the truth keeps the
        // original (Truth in the simulator checks they are equal).
        if by_replacement.is_some() {
            let r = by_replacement.and_then(|(_, r)| r);
            let recovered = match name {
                SecretName::V | SecretName::Alpha => true,
                SecretName::Fk | SecretName::X => r.is_some_and(|r| index <= r),
                _ => false,
            };
            if recovered {
                return;
            }
        }
        let var = match name {
            SecretName::V => Some(Var::V(owner.0)),
            SecretName::Gamma => match by {
                // A replacement's γ' starts a recovery ring for iteration `index`.
                Party::Member(m) if by_replacement.is_some() => {
                    let k = self.rings.len() as u32 + 1;
                    let nth = by_replacement.map_or(0, |(i, _)| self.replacements[i].nth);
                    let k = *self.rings.entry((m, nth, index)).or_insert(k);
                    // More rings than the layout holds: beyond what is modelled.
                    (k <= self.layout.recoveries).then_some(Var::GammaR(k))
                }
                _ => Some(Var::Gamma),
            },
            // A survivor draws w on receiving δ' for some failed member: the
            // recovery is the one that member's replacement runs.
            SecretName::W => self
                .ring_of
                .get(&owner)
                .and_then(|&(f, inc)| self.recovery_of(f, inc, index))
                .map(|k| Var::W(k, owner.0)),
            // x (ElGamal) is linear exactly as FK is; its public g^x is not.
            SecretName::Fk | SecretName::X => Some(Var::Fk(owner.0, index)),
            SecretName::Share if index != u64::from(owner.0) => Some(Var::Share(owner.0, index as u32)),
            SecretName::Alpha => Some(Var::Alpha(owner.0, index)),
            SecretName::Delta | SecretName::Share | SecretName::Xi | SecretName::Beta => None,
        };
        let Some(var) = var else { return };
        if let (Some((_, _)), Party::Member(m)) = (by_replacement, by)
            && self.truth.get(&var).is_some_and(|old| old != value)
        {
            // A fresh draw replacing one the dead predecessor never got out:
            // that old draw leaves the dead node's (frozen) view.
            let form = self.layout.unit(var);
            self.members[m.0 as usize - 1].retain(|o| *o.form != form);
            // An HFK it got out to some members before dying (no round with
            // it completed, or the recovery would have restored it) masked
            // the pad with a draw used nowhere else: it carried no
            // information, and goes from every view.
            let col = self.layout.index(var);
            let uses = |o: &Obs| o.form.iter().any(|&(c, _)| c == col);
            for obs in self.members.iter_mut().chain(std::iter::once(&mut self.outsider)) {
                obs.retain(|o| !uses(o));
            }
            for r in &mut self.replacements {
                r.obs.retain(|o| !uses(o));
            }
            for seen in &mut self.seen {
                seen.retain(|f| !f.iter().any(|&(c, _)| c == col));
            }
        }
        self.truth.insert(var, value.clone());
        if let (true, Party::Member(m)) = (var.is_draw(), by) {
            let label = format!("{} (own)", var.label_as(self.layout.elgamal));
            self.hold(self.slot_of(m), rec, Arc::new(self.layout.unit(var)), value.clone(), Arc::from(label));
        }
    }

    fn on_leak(
        &mut self,
        rec: u64,
        member: MemberId,
        secret: LeakSecret,
        epoch: u64,
        to: &LeakTo,
        value: Option<&Scalar>,
    ) {
        let var = match secret {
            LeakSecret::Alpha => Var::Alpha(member.0, epoch),
            LeakSecret::Fk => Var::Fk(member.0, epoch),
            LeakSecret::Theta => Var::Theta(epoch),
            LeakSecret::Sk => {
                if *to == LeakTo::Outsider {
                    self.outsider_sks.push((epoch, rec));
                }
                return;
            }
        };
        let value = value.expect("a leaked scalar has a value").clone();
        let label: Arc<str> =
            Arc::from(format!("{} leaked by member {member}", var.label_as(self.layout.elgamal)));
        let form = Arc::new(self.layout.unit(var));
        if *to == LeakTo::Outsider {
            self.hold(self.outsider_slot(), rec, form, value, label);
            return;
        }
        for m in (1..=self.layout.members).map(MemberId).filter(|&m| m != member && to.reaches(m)) {
            self.hold(self.slot_of(m), rec, form.clone(), value.clone(), label.clone());
        }
    }
}

impl Recorder for Collector {
    fn wants_messages(&self) -> bool {
        true
    }

    fn record(&mut self, rec: u64, at: SimTime, r: &Record<'_>) -> io::Result<()> {
        self.now = at;
        match r {
            Record::Secret { owner, name, index, value, by } => {
                self.on_secret(rec, *owner, *name, *index, value, *by)
            }
            Record::Theta { epoch, value, .. } => {
                self.epoch_now = self.epoch_now.max(*epoch);
                self.truth.insert(Var::Theta(*epoch), (*value).clone());
            }
            Record::Send { msg, env } => {
                if let (Body::Recover(_), Party::Member(to)) = (&env.body, env.to)
                    && let Some(&i) = self.active.get(&to)
                {
                    let r = &mut self.replacements[i].r;
                    *r = Some(r.map_or(env.iter, |x| x.max(env.iter)));
                }
                let items = self.shared_payload(env);
                if items.is_empty() {
                    return Ok(());
                }
                if self.tapped.contains(&env.mode) {
                    for (form, value, label) in items.iter() {
                        let label = Arc::from(format!("{label}, tapped"));
                        self.hold(self.outsider_slot(), rec, Arc::clone(form), value.clone(), label);
                    }
                }
                if let Party::Member(to) = env.to {
                    let ring_failed = match env.body {
                        Body::RecoveryDelta { failed, inc, .. } => Some((failed, inc)),
                        _ => None,
                    };
                    self.in_flight.insert(*msg, Pending { to, items, ring_failed });
                }
            }
            Record::Deliver { msg, .. } => {
                if let Some(p) = self.in_flight.remove(msg) {
                    if let Some(failed) = p.ring_failed {
                        self.ring_of.insert(p.to, failed);
                    }
                    let slot = self.slot_of(p.to);
                    for (form, value, label) in p.items.iter() {
                        self.hold(slot, rec, Arc::clone(form), value.clone(), Arc::clone(label));
                    }
                }
            }
            // A tampered message never reaches its recipient as sent: the
            // sealed channel refuses it (and on the others the analysis is
            // off: the recipient holds a value off the protocol's algebra).
            Record::Drop { msg, .. } | Record::Attack { msg, attack: WireAttack::Tamper, .. } => {
                self.in_flight.remove(msg);
            }
            // Injected messages carry nothing a view did not have: a replay
            // repeats a delivered message, a forgery holds random values.
            Record::Attack { .. } | Record::Reject { .. } | Record::Forgery { .. } => {}
            Record::Leak { leak, value } => {
                self.on_leak(rec, leak.member, leak.secret, leak.epoch, &leak.to, *value)
            }
            Record::Key { .. } => {}
            Record::Replace { member } => {
                let nth = self.replacements.iter().filter(|r| r.member == *member).count() as u32 + 1;
                self.replacements.push(Replacement { member: *member, nth, r: None, obs: Vec::new() });
                self.active.insert(*member, self.replacements.len() - 1);
                self.seen.push(HashSet::new());
            }
            Record::Crash { .. } | Record::Detect { .. } | Record::Recovered { .. } => {}
        }
        Ok(())
    }
}
