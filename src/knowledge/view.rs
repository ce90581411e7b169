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

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use crate::adversary::{LeakSecret, LeakTo};
use crate::group::Scalar;
use crate::protocol::{Body, Envelope, MemberId, Mode, Party, SecretName};
use crate::sim::{Record, Recorder, SimTime};

use super::form::{Form, Layout, Var};

/// One thing a view holds.
#[derive(Clone, Debug)]
pub struct Obs {
    /// The simulator record after which the view holds it.
    pub rec: u64,
    pub t_us: u64,
    /// The latest epoch any member held at that moment.
    pub epoch: u64,
    pub form: Form,
    pub value: Scalar,
    pub label: String,
}

/// A view to analyse.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ViewId {
    Member(MemberId),
    Coalition(Vec<MemberId>),
    Outsider,
}

impl ViewId {
    pub fn includes(&self, m: MemberId) -> bool {
        match self {
            ViewId::Member(x) => *x == m,
            ViewId::Coalition(ms) => ms.contains(&m),
            ViewId::Outsider => false,
        }
    }

    /// As SPEC §5 writes it: a member id, a sorted list, or "outsider".
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ViewId::Member(m) => m.0.into(),
            ViewId::Coalition(ms) => ms.iter().map(|m| m.0).collect::<Vec<_>>().into(),
            ViewId::Outsider => "outsider".into(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ViewId::Member(m) => format!("member {m}"),
            ViewId::Coalition(ms) => {
                let ids: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
                format!("coalition {{{}}}", ids.join(", "))
            }
            ViewId::Outsider => "the outsider".to_string(),
        }
    }
}

struct Pending {
    to: MemberId,
    items: Vec<(Form, Scalar, String)>,
}

pub struct Collector {
    pub layout: Layout,
    /// The outsider reads payloads of these modes (eavesdropper on `plain`).
    tapped: Vec<Mode>,
    pub members: Vec<Vec<Obs>>,
    pub outsider: Vec<Obs>,
    seen: Vec<BTreeSet<Form>>,
    /// Ground truth of every draw and every recorded α and θ.
    pub truth: BTreeMap<Var, Scalar>,
    /// Epochs whose SK the outsider was handed (a leak of `sk`).
    pub outsider_sks: Vec<(u64, u64)>,
    in_flight: BTreeMap<u64, Pending>,
    epoch_now: u64,
    now: SimTime,
}

impl Collector {
    pub fn new(layout: Layout, tapped: Vec<Mode>) -> Collector {
        let n = layout.members as usize;
        Collector {
            layout,
            tapped,
            members: vec![Vec::new(); n],
            outsider: Vec::new(),
            seen: vec![BTreeSet::new(); n + 1],
            truth: BTreeMap::new(),
            outsider_sks: Vec::new(),
            in_flight: BTreeMap::new(),
            epoch_now: 0,
            now: SimTime(0),
        }
    }

    /// View slot: member m at m − 1, the outsider last.
    fn hold(&mut self, slot: usize, rec: u64, form: Form, value: Scalar, label: String) {
        if form.is_empty() || !self.seen[slot].insert(form.clone()) {
            return;
        }
        let obs = Obs { rec, t_us: self.now.0, epoch: self.epoch_now, form, value, label };
        if slot == self.members.len() {
            self.outsider.push(obs);
        } else {
            self.members[slot].push(obs);
        }
    }

    fn outsider_slot(&self) -> usize {
        self.members.len()
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
            Body::Pad { .. } | Body::Confirm(_) | Body::Ack { .. } => Vec::new(),
            Body::Recover { .. } | Body::RecoveryDelta { .. } | Body::Xi(_) | Body::HfkHat(_) => Vec::new(),
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
        let var = match name {
            SecretName::V => Some(Var::V(owner.0)),
            SecretName::Gamma => Some(Var::Gamma),
            SecretName::Fk => Some(Var::Fk(owner.0, index)),
            SecretName::Share if index != u64::from(owner.0) => Some(Var::Share(owner.0, index as u32)),
            SecretName::Alpha => Some(Var::Alpha(owner.0, index)),
            SecretName::Delta | SecretName::Share | SecretName::W | SecretName::Xi | SecretName::Beta => None,
        };
        let Some(var) = var else { return };
        self.truth.insert(var, value.clone());
        if let (true, Party::Member(m)) = (var.is_draw(), by) {
            let label = format!("{} (own)", var.label());
            self.hold(m.0 as usize - 1, rec, self.layout.unit(var), value.clone(), label);
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
        let label = format!("{} leaked by member {member}", var.label());
        let form = self.layout.unit(var);
        if *to == LeakTo::Outsider {
            self.hold(self.outsider_slot(), rec, form, value, label);
            return;
        }
        for m in (1..=self.layout.members).map(MemberId).filter(|&m| m != member && to.reaches(m)) {
            self.hold(m.0 as usize - 1, rec, form.clone(), value.clone(), label.clone());
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
                let items = self.payload(env);
                if items.is_empty() {
                    return Ok(());
                }
                if self.tapped.contains(&env.mode) {
                    for (form, value, label) in &items {
                        let label = format!("{label}, tapped");
                        self.hold(self.outsider_slot(), rec, form.clone(), value.clone(), label);
                    }
                }
                if let Party::Member(to) = env.to {
                    self.in_flight.insert(*msg, Pending { to, items });
                }
            }
            Record::Deliver { msg, .. } => {
                if let Some(p) = self.in_flight.remove(msg) {
                    for (form, value, label) in p.items {
                        self.hold(p.to.0 as usize - 1, rec, form, value, label);
                    }
                }
            }
            Record::Drop { msg, .. } => {
                self.in_flight.remove(msg);
            }
            Record::Leak { leak, value } => {
                self.on_leak(rec, leak.member, leak.secret, leak.epoch, &leak.to, *value)
            }
            Record::Key { .. } => {}
            Record::Crash { .. }
            | Record::Detect { .. }
            | Record::Replace { .. }
            | Record::Recovered { .. } => {}
        }
        Ok(())
    }
}
