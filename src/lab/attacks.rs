//! Attack synthesis (`fraclab attacks`, reference §6): for a group and a
//! goal, every inclusion-minimal set of corruptions that reaches the goal,
//! cheapest first, each proved by replaying it through the full simulator.
//!
//! **The model.** What each member and the outsider hold in an honest run is
//! written down from the protocol's linear structure ([`Model`]): no
//! network is simulated to decide a candidate. A candidate is a set of
//! [`Action`]s; its views are the honest ones plus what the actions add, and
//! the knowledge engine ([`knowledge::analyse`]) decides them exactly as it
//! decides a run, with the same verdicts (`compromised`,
//! `outsider_learns_key`).
//!
//! **Cost** is the number of distinct corrupted members: those that leak,
//! pool their views or forward. Tapping the wire costs nothing. Every member
//! stays curious: its own view is analysed for free.
//!
//! **Search.** Actions of one member whose forms differ by something every
//! recipient already holds are equivalent (α_{m,1}, α_{m,2} and FK_{m,1}
//! tell every member the same thing, since every member holds θ and the
//! HFKs); one stands for its class and the others are listed as
//! alternatives. Leaks every recipient can already derive (θ to the group)
//! are dropped. Then, by cost c = 0, 1, …, for every set S of c members:
//! if S with every action open to it (and every tap) misses the goal, no
//! attack uses exactly S (knowledge only grows with actions); otherwise a
//! depth-first walk chooses each member's actions (at most `per_member`
//! each), cutting a branch as soon as it contains a known attack or can no
//! longer reach the goal, and keeps a set only if dropping any one action
//! loses the goal. The lower bound "no attack of cost < c" is exact whatever
//! `per_member` is.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand_core::SeedableRng;

use super::LabError;
use crate::adversary::LeakSecret;
use crate::group::{GroupParams, Scalar};
use crate::knowledge::basis::Basis;
use crate::knowledge::field::Field;
use crate::knowledge::form::{Form, Layout, Var};
use crate::knowledge::{self, Collector, Obs};
use crate::protocol::{Channel, InitKind, MemberId, Mode};

/// The largest group `attacks` searches (the search is exponential in the
/// cost, not in n, but every candidate is a full analysis).
pub const MAX_MEMBERS: u32 = 12;
/// The most key-generation iterations a search models.
pub const MAX_EPOCHS: u64 = 4;

/// What an attack must achieve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// Member K is compromised (some view not including K derives an FK or
    /// α of K); K itself is never corrupted.
    Compromise(MemberId),
    /// Some member that is not corrupted is compromised.
    CompromiseAny,
    /// The outsider derives some θ_e.
    Key,
    /// Every member is compromised (the analysis's `compromised` is 1..=n).
    All,
}

impl Goal {
    /// Parses `compromise:K`, `compromise-any`, `key` or `all` for a group of
    /// `members`.
    pub fn parse(s: &str, members: u32) -> Result<Goal, String> {
        let allowed = "allowed: compromise:K (K in 1..=n), compromise-any, key, all";
        match s {
            "compromise-any" => Ok(Goal::CompromiseAny),
            "key" => Ok(Goal::Key),
            "all" => Ok(Goal::All),
            _ => {
                let k = s
                    .strip_prefix("compromise:")
                    .ok_or_else(|| format!("--goal {s}: unknown goal; {allowed}"))?;
                match k.parse::<u32>() {
                    Ok(k) if (1..=members).contains(&k) => Ok(Goal::Compromise(MemberId(k))),
                    _ => Err(format!("--goal {s}: {k} is not a member of a group of {members}; {allowed}")),
                }
            }
        }
    }

    /// As the command line spells it.
    pub fn as_string(self) -> String {
        match self {
            Goal::Compromise(k) => format!("compromise:{k}"),
            Goal::CompromiseAny => "compromise-any".into(),
            Goal::Key => "key".into(),
            Goal::All => "all".into(),
        }
    }
}

/// A kind of corruption `--allow` may open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Capability {
    /// A member leaks α, FK or θ of an epoch.
    Leak,
    /// Members pool their views (one coalition of every pooling member).
    Coalition,
    /// A ring member forwards its δ to every member but its successor.
    Forward,
    /// The outsider taps a mode of the wire (it reads payloads on `plain`).
    Eavesdrop,
}

impl Capability {
    /// Every capability, in `--allow`'s order.
    pub const ALL: [Capability; 4] =
        [Capability::Leak, Capability::Coalition, Capability::Forward, Capability::Eavesdrop];

    /// As `--allow` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Leak => "leak",
            Capability::Coalition => "coalition",
            Capability::Forward => "forward",
            Capability::Eavesdrop => "eavesdrop",
        }
    }

    /// Parses a comma-separated `--allow` list.
    pub fn parse_list(s: &str) -> Result<BTreeSet<Capability>, String> {
        let mut out = BTreeSet::new();
        for part in s.split(',').map(str::trim) {
            let c = Capability::ALL.into_iter().find(|c| c.as_str() == part).ok_or_else(|| {
                format!(
                    "--allow {s}: unknown capability \"{part}\"; allowed: leak, coalition, forward, eavesdrop"
                )
            })?;
            out.insert(c);
        }
        Ok(out)
    }
}

/// Where leaks go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeakDest {
    /// To every other member.
    Group,
    /// To the outsider only.
    Outsider,
}

impl LeakDest {
    /// The scenario's spelling of `to`.
    pub fn as_str(self) -> &'static str {
        match self {
            LeakDest::Group => "group",
            LeakDest::Outsider => "outsider",
        }
    }
}

/// One corruption.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// The outsider taps this mode (cost 0).
    Tap(Mode),
    /// `member` leaks `secret` of `epoch` (the iteration for FK) to the
    /// query's [`LeakDest`].
    Leak {
        /// The leaker.
        member: MemberId,
        /// What it leaks.
        secret: LeakSecret,
        /// The epoch e of α or θ, the iteration j of FK.
        epoch: u64,
    },
    /// `member` pools its view with every other pooling member.
    Pool(MemberId),
    /// `member` forwards its δ to every member but its ring successor.
    Forward(MemberId),
}

impl Action {
    /// The corrupted member, if the action has one.
    pub fn member(&self) -> Option<MemberId> {
        match self {
            Action::Tap(_) => None,
            Action::Leak { member, .. } | Action::Pool(member) | Action::Forward(member) => Some(*member),
        }
    }

    /// Short prose, e.g. `1 leaks α[1,1]`, `2 pools`, `4 forwards δ[4]`,
    /// `tap G`.
    pub fn describe(&self, elgamal: bool) -> String {
        match self {
            Action::Tap(m) => format!("tap {}", m.as_str()),
            Action::Leak { member, secret, epoch } => {
                format!("{member} leaks {}", leak_var(*member, *secret, *epoch).label_as(elgamal))
            }
            Action::Pool(m) => format!("{m} pools"),
            Action::Forward(m) => format!("{m} forwards δ[{m}]"),
        }
    }
}

fn leak_var(member: MemberId, secret: LeakSecret, epoch: u64) -> Var {
    match secret {
        LeakSecret::Alpha => Var::Alpha(member.0, epoch),
        LeakSecret::Fk => Var::Fk(member.0, epoch),
        // SK is never offered: it is not linear.
        LeakSecret::Theta | LeakSecret::Sk => Var::Theta(epoch),
    }
}

/// What to search.
#[derive(Clone, Debug)]
pub struct Query {
    /// n, 3..=[`MAX_MEMBERS`].
    pub members: u32,
    /// The initialisation.
    pub init: InitKind,
    /// ElGamal key generation (the same linear structure; x for FK).
    pub elgamal: bool,
    /// Key-generation iterations, 0..=[`MAX_EPOCHS`].
    pub epochs: u64,
    /// The channel: the outsider reads tapped payloads only on `plain`.
    pub channel: Channel,
    /// The goal.
    pub goal: Goal,
    /// The most corrupted members an attack may have.
    pub max_cost: u32,
    /// The capabilities open to the attacker.
    pub allow: BTreeSet<Capability>,
    /// Where leaks go.
    pub leak_to: LeakDest,
    /// What a leak may reveal: α, FK, θ (never SK, which is not linear).
    pub leak_secrets: BTreeSet<LeakSecret>,
    /// The most actions one corrupted member takes in an attack (1..=3).
    pub per_member: u32,
    /// The parameter set the replays run in (and the engine's field).
    pub group: &'static GroupParams,
}

impl Query {
    /// Checks the ranges and combinations, as a usage error.
    pub fn check(&self) -> Result<(), String> {
        if !(3..=MAX_MEMBERS).contains(&self.members) {
            return Err(format!("--members {}: allowed: 3..={MAX_MEMBERS}", self.members));
        }
        if self.epochs > MAX_EPOCHS {
            return Err(format!("--epochs {}: allowed: 0..={MAX_EPOCHS}", self.epochs));
        }
        if self.max_cost >= self.members {
            return Err(format!(
                "--max-cost {}: at most n − 1 = {} members can be corrupted; allowed: 0..={}",
                self.max_cost,
                self.members - 1,
                self.members - 1
            ));
        }
        if !(1..=3).contains(&self.per_member) {
            return Err(format!("--per-member {}: allowed: 1..=3", self.per_member));
        }
        if self.leak_secrets.contains(&LeakSecret::Sk) {
            return Err("--leak-secrets sk: SK is not a linear value; allowed: alpha, fk, theta".into());
        }
        if self.goal == Goal::All && self.allow.contains(&Capability::Coalition) {
            // A pooling member is no longer compromised by its own coalition:
            // the goal would not grow with actions, and the search's cuts
            // rely on that.
            return Err("--goal all with --allow coalition: pooling can hide a member from its own coalition, so the search cannot prune soundly; allowed: --goal all with leak, forward, eavesdrop".into());
        }
        if self.allow.is_empty() {
            return Err("--allow: no capability; allowed: leak, coalition, forward, eavesdrop".into());
        }
        Ok(())
    }

    /// The command line that reruns this search.
    pub fn command(&self) -> String {
        let allow: Vec<&str> = self.allow.iter().map(|c| c.as_str()).collect();
        let secrets: Vec<&str> = self.leak_secrets.iter().map(|c| c.as_str()).collect();
        format!(
            "fraclab attacks --members {} --init {} --keygen {} --epochs {} --channel {} --goal {} --max-cost {} --allow {} --leak-to {} --leak-secrets {} --per-member {} {}",
            self.members,
            self.init.as_str(),
            if self.elgamal { "elgamal" } else { "additive" },
            self.epochs,
            self.channel.as_str(),
            self.goal.as_string(),
            self.max_cost,
            allow.join(","),
            self.leak_to.as_str(),
            secrets.join(","),
            self.per_member,
            if self.group.is_xor() {
                format!("--operator xor --bits {}", self.group.scalar_bits())
            } else {
                format!("--params {}", self.group.name)
            }
        )
    }
}

/// What a set of actions gives, as the analysis states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Members some view not including them derives an FK or α of.
    pub compromised: Vec<MemberId>,
    /// The outsider derives some θ.
    pub outsider_learns_key: bool,
}

/// One minimal attack.
#[derive(Clone, Debug)]
pub struct Attack {
    /// The actions, sorted; each stands for its class.
    pub actions: Vec<Action>,
    /// Per action, the other members of its class: any one of them in its
    /// place is also a minimal attack.
    pub alternatives: Vec<Vec<Action>>,
    /// Distinct corrupted members.
    pub cost: u32,
    /// What the analysis concludes with these actions.
    pub verdict: Verdict,
}

impl Attack {
    /// The corrupted members, sorted.
    pub fn members(&self) -> Vec<MemberId> {
        let set: BTreeSet<MemberId> = self.actions.iter().filter_map(Action::member).collect();
        set.into_iter().collect()
    }
}

/// The search's result.
#[derive(Clone, Debug)]
pub struct Search {
    /// Every minimal attack up to the cost bound, cheapest first.
    pub attacks: Vec<Attack>,
    /// The cheapest cost any attack has, if one was found.
    pub cheapest: Option<u32>,
    /// Candidates the engine decided (an instrumented count).
    pub decided: u64,
}

/// One thing a view holds in the model: its form and label.
type Held = (Arc<Form>, Arc<str>);

fn held(form: Form, label: String) -> Held {
    (Arc::new(form), Arc::from(label))
}

/// The honest run's views, from the protocol's linear structure.
pub struct Model {
    q: Query,
    layout: Layout,
    /// Per column, the value of the (random) ground truth.
    values: Vec<Scalar>,
    truth: BTreeMap<Var, Scalar>,
    /// Member m's honest view at m − 1.
    base: Vec<Vec<Held>>,
    /// What the outsider reads in each mode (on `plain`).
    taps: BTreeMap<Mode, Vec<Held>>,
}

/// The secrets a leak may reveal, parsed from `--leak-secrets`.
pub fn parse_secrets(s: &str) -> Result<BTreeSet<LeakSecret>, String> {
    s.split(',')
        .map(str::trim)
        .map(|x| match x {
            "alpha" => Ok(LeakSecret::Alpha),
            "fk" => Ok(LeakSecret::Fk),
            "theta" => Ok(LeakSecret::Theta),
            _ => Err(format!("--leak-secrets {s}: unknown secret \"{x}\"; allowed: alpha, fk, theta")),
        })
        .collect()
}

impl Model {
    /// The honest views of `q`'s group.
    pub fn new(q: &Query) -> Model {
        let layout =
            Layout { members: q.members, epochs: q.epochs, init: q.init, recoveries: 0, elgamal: q.elgamal };
        let g = q.group;
        // The values only feed the engine's check that every derived value
        // equals the ground truth; a fixed seed keeps outputs reproducible.
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0x6174_7461_636b);
        let mut values = vec![g.zero(); layout.len()];
        let mut truth = BTreeMap::new();
        for col in 0..layout.len() as u32 {
            let v = layout.var(col);
            if v.is_draw() && layout.has(v) {
                let x = g.random_scalar(&mut rng);
                values[col as usize] = x.clone();
                truth.insert(v, x);
            }
        }
        let n = q.members;
        let at = |values: &Vec<Scalar>, v: Var| values[layout.index(v) as usize].clone();
        for e in 1..=q.epochs + 1 {
            let prev = |k: u32| if e == 1 { Var::V(k) } else { Var::Fk(k, e - 1) };
            let theta = g.sum((1..=n).map(|k| at(&values, prev(k))).collect::<Vec<_>>().iter());
            values[layout.index(Var::Theta(e)) as usize] = theta.clone();
            truth.insert(Var::Theta(e), theta.clone());
            for k in 1..=n {
                let alpha = g.sub(&theta, &at(&values, prev(k)));
                values[layout.index(Var::Alpha(k, e)) as usize] = alpha.clone();
                truth.insert(Var::Alpha(k, e), alpha);
            }
        }
        let mut m = Model {
            q: q.clone(),
            layout,
            values,
            truth,
            base: vec![Vec::new(); n as usize],
            taps: BTreeMap::new(),
        };
        m.build();
        m
    }

    fn give(&mut self, m: u32, form: Form, label: String) {
        let h = held(form, label);
        self.base[m as usize - 1].push(h);
    }

    fn tap(&mut self, mode: Mode, form: Form, label: String) {
        let h = held(form, format!("{label}, tapped"));
        let list = self.taps.entry(mode).or_default();
        if !list.iter().any(|(f, _)| *f == h.0) {
            list.push(h);
        }
    }

    /// Who holds what in an honest run, as the collector of a simulated run
    /// records it (a test holds the two to each other).
    fn build(&mut self) {
        let (l, n, el) = (self.layout, self.q.members, self.q.elgamal);
        match self.q.init {
            InitKind::Sm => {
                for m in 1..=n {
                    let (a, t) = (l.unit(Var::Alpha(m, 1)), l.unit(Var::Theta(1)));
                    self.give(m, a.clone(), format!("α[{m},1] from the SM"));
                    self.give(m, t.clone(), "θ_1 from the SM".into());
                    self.tap(Mode::Init, a, format!("α[{m},1] from the SM"));
                    self.tap(Mode::Init, t, "θ_1 from the SM".into());
                }
            }
            InitKind::Ring | InitKind::RingHardened => {
                let hardened = self.q.init == InitKind::RingHardened;
                for m in 1..=n {
                    self.give(m, l.unit(Var::V(m)), format!("v[{m}] (own)"));
                    if m == 1 {
                        self.give(m, l.unit(Var::Gamma), "γ (own)".into());
                    }
                    if hardened {
                        for k in (1..=n).filter(|&k| k != m) {
                            self.give(m, l.unit(Var::Share(m, k)), format!("share[{m}→{k}] (own)"));
                        }
                    }
                }
                if hardened {
                    for from in 1..=n {
                        for to in (1..=n).filter(|&k| k != from) {
                            let label = format!("share[{from}→{to}] from member {from}");
                            self.give(to, l.unit(Var::Share(from, to)), label.clone());
                            self.tap(Mode::Init, l.unit(Var::Share(from, to)), label);
                        }
                    }
                }
                for from in 1..=n {
                    let to = if from == n { 1 } else { from + 1 };
                    let label = format!("δ[{from}] from member {from}");
                    self.give(to, l.delta(MemberId(from)), label.clone());
                    self.tap(Mode::Init, l.delta(MemberId(from)), label);
                }
                for m in 2..=n {
                    self.give(m, l.unit(Var::Theta(1)), "θ_1 from member 1".into());
                }
                self.tap(Mode::Init, l.unit(Var::Theta(1)), "θ_1 from member 1".into());
            }
        }
        for j in 1..=self.q.epochs {
            for m in 1..=n {
                self.give(m, l.unit(Var::Fk(m, j)), format!("{} (own)", Var::Fk(m, j).label_as(el)));
            }
            for from in 1..=n {
                let label = format!("HFK[{from},{j}] from member {from}");
                for to in (1..=n).filter(|&k| k != from) {
                    self.give(to, l.hfk(MemberId(from), j), label.clone());
                }
                self.tap(Mode::Generation, l.hfk(MemberId(from), j), label);
            }
        }
    }

    /// The forms each member holds in the honest run (member m at m − 1),
    /// and what the outsider reads tapping every mode: what a test holds
    /// to a simulated run's collector.
    pub fn honest_views(&self) -> (Vec<BTreeSet<Form>>, BTreeSet<Form>) {
        let members = self.base.iter().map(|v| v.iter().map(|(f, _)| (**f).clone()).collect()).collect();
        let outsider = self.taps.values().flatten().map(|(f, _)| (**f).clone()).collect();
        (members, outsider)
    }

    /// The value of `form` on the ground truth.
    fn value(&self, form: &Form) -> Scalar {
        let g = self.q.group;
        let terms: Vec<Scalar> =
            form.iter().map(|&(col, c)| g.mul_i64(&self.values[col as usize], c)).collect();
        g.sum(terms.iter())
    }

    /// The taps the query can use: every mode with payloads, on `plain`.
    fn tap_modes(&self) -> Vec<Mode> {
        if self.q.channel == Channel::Plain && self.q.allow.contains(&Capability::Eavesdrop) {
            self.taps.keys().copied().collect()
        } else {
            Vec::new()
        }
    }

    /// The collector the actions make, and the coalition they declare.
    pub fn collector(&self, actions: &[Action]) -> (Collector, Vec<Vec<MemberId>>) {
        let n = self.q.members;
        let mut views: Vec<Vec<Held>> = self.base.clone();
        let mut outsider: Vec<Held> = Vec::new();
        let mut poolers = Vec::new();
        for a in actions {
            match a {
                Action::Tap(mode) => outsider.extend(self.taps.get(mode).into_iter().flatten().cloned()),
                Action::Leak { member, secret, epoch } => {
                    let var = leak_var(*member, *secret, *epoch);
                    let label = format!("{} leaked by member {member}", var.label_as(self.q.elgamal));
                    let h = held(self.layout.unit(var), label);
                    match self.q.leak_to {
                        LeakDest::Outsider => outsider.push(h),
                        LeakDest::Group => {
                            for m in (1..=n).filter(|&m| m != member.0) {
                                views[m as usize - 1].push(h.clone());
                            }
                        }
                    }
                }
                Action::Pool(m) => poolers.push(*m),
                Action::Forward(m) => {
                    let h = held(self.layout.delta(*m), format!("δ[{m}] from member {m}"));
                    let succ = crate::protocol::ring_neighbours(*m, n).1;
                    for r in (1..=n).map(MemberId).filter(|&r| r != *m && r != succ) {
                        views[r.0 as usize - 1].push(h.clone());
                    }
                }
            }
        }
        let mut c = Collector::new(self.layout, Vec::new());
        c.truth = self.truth.clone();
        let mut rec = 0u64;
        let mut obs = |list: Vec<Held>| -> Vec<Obs> {
            let mut seen: BTreeSet<Arc<Form>> = BTreeSet::new();
            list.into_iter()
                .filter(|(f, _)| seen.insert(Arc::clone(f)))
                .map(|(form, label)| {
                    rec += 1;
                    let value = self.value(&form);
                    Obs { rec, t_us: 0, epoch: 1, form, value, label }
                })
                .collect()
        };
        c.members = views.into_iter().map(&mut obs).collect();
        c.outsider = obs(outsider);
        poolers.sort();
        poolers.dedup();
        let coalitions =
            if poolers.len() >= 2 && poolers.len() < n as usize { vec![poolers] } else { vec![] };
        (c, coalitions)
    }

    /// The analysis's verdict on `actions`. An analysis error (a derived
    /// value off the ground truth) is a fraclab bug.
    pub fn verdict(&self, actions: &[Action]) -> Result<Verdict, LabError> {
        let (c, coalitions) = self.collector(actions);
        let a = knowledge::analyse(&c, self.q.group, &coalitions);
        if let Some(e) = a.errors.first() {
            return Err(LabError::failed(format!("internal error in the attack model: {e}")));
        }
        Ok(Verdict { compromised: a.compromised, outsider_learns_key: a.outsider_learns_key })
    }

    fn reached(&self, v: &Verdict, actions: &[Action]) -> bool {
        match self.q.goal {
            Goal::Compromise(k) => v.compromised.contains(&k),
            Goal::CompromiseAny => {
                let corrupted: BTreeSet<MemberId> = actions.iter().filter_map(Action::member).collect();
                v.compromised.iter().any(|m| !corrupted.contains(m))
            }
            Goal::Key => v.outsider_learns_key,
            Goal::All => v.compromised.len() == self.q.members as usize,
        }
    }

    /// Whether `form` is in the span of the constraints, `rows` and `extra`.
    fn in_span(&self, rows: &[&Held], extra: Option<&Form>, form: &Form) -> bool {
        fn go<F: Field>(f: &F, l: &Layout, rows: &[&Form], form: &Form) -> bool {
            let mut b = Basis::new(f, l.len());
            for (i, r) in l.constraints().iter().chain(rows.iter().copied()).enumerate() {
                b.insert(r, f.zero(), i);
            }
            b.reduce(form).residual.is_empty()
        }
        let rows: Vec<&Form> = rows.iter().map(|(f, _)| &**f).chain(extra).collect();
        crate::knowledge::field::with_field!(self.q.group, |f| go(f, &self.layout, &rows, form))
    }

    /// The honest views a leak of `member`'s reaches.
    fn recipients(&self, member: MemberId) -> Vec<Vec<&Held>> {
        match self.q.leak_to {
            LeakDest::Outsider => vec![Vec::new()],
            LeakDest::Group => (1..=self.q.members)
                .filter(|&m| m != member.0)
                .map(|m| self.base[m as usize - 1].iter().collect())
                .collect(),
        }
    }

    /// Member `m`'s actions, in classes of equivalent ones (representative
    /// first); leaks every recipient already derives are left out.
    pub fn menu(&self, m: MemberId) -> Vec<Vec<Action>> {
        let (l, e) = (&self.layout, self.q.epochs);
        let mut classes: Vec<Vec<Action>> = Vec::new();
        if self.q.allow.contains(&Capability::Leak) {
            let mut leaks: Vec<Action> = Vec::new();
            for secret in [LeakSecret::Alpha, LeakSecret::Fk, LeakSecret::Theta] {
                if self.q.leak_secrets.contains(&secret) {
                    let last = secret.last_epoch(e);
                    leaks.extend((1..=last).map(|epoch| Action::Leak { member: m, secret, epoch }));
                }
            }
            let views = self.recipients(m);
            let form = |a: &Action| match a {
                Action::Leak { member, secret, epoch } => l.unit(leak_var(*member, *secret, *epoch)),
                _ => Vec::new(),
            };
            // Two leaks are equivalent when each lies in the span of every
            // recipient's view plus the other (α[m,1] and α[m,2] differ by
            // what the HFKs and θ tell; FK[m,j] is θ_{j+1} − α[m,j+1]).
            for a in leaks {
                let fa = form(&a);
                if views.iter().all(|v| self.in_span(v, None, &fa)) {
                    continue;
                }
                let class = classes.iter_mut().find(|c| {
                    let fb = form(&c[0]);
                    views.iter().all(|v| self.in_span(v, Some(&fa), &fb) && self.in_span(v, Some(&fb), &fa))
                });
                match class {
                    Some(c) => c.push(a),
                    None => classes.push(vec![a]),
                }
            }
        }
        if self.q.allow.contains(&Capability::Coalition) {
            classes.push(vec![Action::Pool(m)]);
        }
        if self.q.allow.contains(&Capability::Forward) && self.q.init != InitKind::Sm {
            classes.push(vec![Action::Forward(m)]);
        }
        classes
    }

    /// The search: every minimal attack up to `max_cost`, cheapest first.
    /// `progress(c, done, total)` is called after each member set.
    pub fn search(&self, progress: &mut dyn FnMut(u32, u64, u64)) -> Result<Search, LabError> {
        let n = self.q.members;
        let candidates: Vec<MemberId> = (1..=n)
            .map(MemberId)
            .filter(|m| !matches!(self.q.goal, Goal::Compromise(k) if k == *m))
            .collect();
        let menus: BTreeMap<MemberId, Vec<Vec<Action>>> =
            candidates.iter().map(|&m| (m, self.menu(m))).collect();
        let taps: Vec<Action> = self.tap_modes().into_iter().map(Action::Tap).collect();
        let mut s = Searcher { model: self, menus: &menus, taps: &taps, found: Vec::new(), decided: 0 };
        for c in 0..=self.q.max_cost.min(candidates.len() as u32) {
            let sets = combinations(&candidates, c as usize);
            let total = sets.len() as u64;
            for (i, set) in sets.iter().enumerate() {
                s.member_set(set)?;
                progress(c, i as u64 + 1, total);
            }
        }
        let mut attacks: Vec<Attack> = s
            .found
            .iter()
            .map(|(actions, verdict)| {
                let alternatives = actions
                    .iter()
                    .map(|a| match a.member() {
                        Some(m) => {
                            menus[&m].iter().find(|c| c[0] == *a).map(|c| c[1..].to_vec()).unwrap_or_default()
                        }
                        None => Vec::new(),
                    })
                    .collect();
                let members: BTreeSet<MemberId> = actions.iter().filter_map(Action::member).collect();
                Attack {
                    actions: actions.clone(),
                    alternatives,
                    cost: members.len() as u32,
                    verdict: verdict.clone(),
                }
            })
            .collect();
        attacks.sort_by(|a, b| {
            (a.cost, a.actions.len(), &a.actions).cmp(&(b.cost, b.actions.len(), &b.actions))
        });
        let cheapest = attacks.first().map(|a| a.cost);
        Ok(Search { attacks, cheapest, decided: s.decided })
    }
}

/// Every `k`-subset of `items`, in lexicographic order.
fn combinations<T: Clone>(items: &[T], k: usize) -> Vec<Vec<T>> {
    fn go<T: Clone>(items: &[T], k: usize, start: usize, cur: &mut Vec<T>, out: &mut Vec<Vec<T>>) {
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in start..items.len() {
            if items.len() - i < k - cur.len() {
                break;
            }
            cur.push(items[i].clone());
            go(items, k, i + 1, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    go(items, k, 0, &mut Vec::new(), &mut out);
    out
}

/// The nonempty subsets of `items` with at most `max` elements, smallest
/// first.
fn subsets<T: Clone>(items: &[T], max: usize) -> Vec<Vec<T>> {
    (1..=max.min(items.len())).flat_map(|k| combinations(items, k)).collect()
}

struct Searcher<'a> {
    model: &'a Model,
    menus: &'a BTreeMap<MemberId, Vec<Vec<Action>>>,
    taps: &'a [Action],
    /// Minimal attacks found so far, with their verdicts.
    found: Vec<(Vec<Action>, Verdict)>,
    decided: u64,
}

impl Searcher<'_> {
    fn decide(&mut self, actions: &[Action]) -> Result<(bool, Verdict), LabError> {
        self.decided += 1;
        let v = self.model.verdict(actions)?;
        Ok((self.model.reached(&v, actions), v))
    }

    fn contains_known(&self, actions: &BTreeSet<Action>) -> bool {
        self.found.iter().any(|(a, _)| a.iter().all(|x| actions.contains(x)))
    }

    fn reps(&self, m: MemberId) -> Vec<Action> {
        self.menus[&m].iter().map(|c| c[0].clone()).collect()
    }

    fn member_set(&mut self, set: &[MemberId]) -> Result<(), LabError> {
        if set.iter().any(|m| self.menus[m].is_empty()) {
            return Ok(());
        }
        let mut full: Vec<Action> = self.taps.to_vec();
        for &m in set {
            full.extend(self.reps(m));
        }
        if !self.decide(&full)?.0 {
            return Ok(());
        }
        self.walk(set, 0, &mut BTreeSet::new())
    }

    /// Chooses the actions of `set[i..]`, given `chosen` for `set[..i]`.
    fn walk(&mut self, set: &[MemberId], i: usize, chosen: &mut BTreeSet<Action>) -> Result<(), LabError> {
        if i == set.len() {
            let taps = self.taps.to_vec();
            for t in std::iter::once(Vec::new()).chain(subsets(&taps, taps.len())) {
                let x: BTreeSet<Action> = chosen.iter().cloned().chain(t).collect();
                if self.contains_known(&x) {
                    continue;
                }
                let list: Vec<Action> = x.iter().cloned().collect();
                let (ok, verdict) = self.decide(&list)?;
                if ok && self.minimal(&list)? {
                    self.found.push((list, verdict));
                }
            }
            return Ok(());
        }
        let reps = self.reps(set[i]);
        for pick in subsets(&reps, self.model.q.per_member as usize) {
            let mut next = chosen.clone();
            next.extend(pick);
            if self.contains_known(&next) {
                continue;
            }
            // Can it still succeed, with everything open to the rest?
            let mut bound: Vec<Action> = next.iter().cloned().chain(self.taps.iter().cloned()).collect();
            for &m in &set[i + 1..] {
                bound.extend(self.reps(m));
            }
            if !self.decide(&bound)?.0 {
                continue;
            }
            self.walk(set, i + 1, &mut next)?;
        }
        Ok(())
    }

    /// Whether dropping any one action loses the goal.
    fn minimal(&mut self, actions: &[Action]) -> Result<bool, LabError> {
        for i in 0..actions.len() {
            let mut less = actions.to_vec();
            less.remove(i);
            if self.decide(&less)?.0 {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The replayable scenario of attack number `k`.
pub fn scenario_toml(q: &Query, k: usize, attack: &Attack) -> String {
    let mut s = String::new();
    let acts: Vec<String> = attack.actions.iter().map(|a| a.describe(q.elgamal)).collect();
    let _ = writeln!(s, "name = \"attack-{k}\"");
    let _ = writeln!(
        s,
        "description = \"{}: minimal attack {k}, cost {}: {}\"",
        q.command(),
        attack.cost,
        acts.join(", ")
    );
    let _ = writeln!(s, "seed = 1\n\n[group]\n{}", crate::scenario::group_keys(q.group));
    let _ = writeln!(
        s,
        "[protocol]\nmembers = {}\ninit = \"{}\"\nkeygen = \"{}\"\nepochs = {}\nchannel = \"{}\"",
        q.members,
        q.init.as_str(),
        if q.elgamal { "elgamal" } else { "additive" },
        q.epochs,
        q.channel.as_str()
    );
    let taps: Vec<String> = attack
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Tap(m) => Some(format!("\"{}\"", m.as_str())),
            _ => None,
        })
        .collect();
    if !taps.is_empty() {
        let _ = writeln!(s, "\n[[adversary]]\nkind = \"eavesdropper\"\nmodes = [{}]", taps.join(", "));
    }
    for a in &attack.actions {
        match a {
            Action::Leak { member, secret, epoch } => {
                let _ = writeln!(
                    s,
                    "\n[[adversary]]\nkind = \"leak\"\nmember = {member}\nsecret = \"{}\"\nepoch = {epoch}\nto = \"{}\"",
                    secret.as_str(),
                    q.leak_to.as_str()
                );
            }
            Action::Forward(m) => {
                let _ = writeln!(s, "\n[[adversary]]\nkind = \"forward\"\nmember = {m}\nto = \"group\"");
            }
            Action::Tap(_) | Action::Pool(_) => {}
        }
    }
    let poolers: Vec<String> = attack
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Pool(m) => Some(m.to_string()),
            _ => None,
        })
        .collect();
    if poolers.len() >= 2 {
        let _ = writeln!(s, "\n[[adversary]]\nkind = \"coalition\"\nmembers = [{}]", poolers.join(", "));
    }
    let ids: Vec<String> = attack.verdict.compromised.iter().map(|m| m.to_string()).collect();
    let _ = writeln!(s, "\n[output]\ntrace = \"none\"\nanalysis = true\n");
    let _ = writeln!(
        s,
        "[expect]\nkeys_agreed = true\nepochs_completed = {}\ncompromised = [{}]\noutsider_learns_key = {}",
        q.epochs,
        ids.join(", "),
        attack.verdict.outsider_learns_key
    );
    s
}

/// One row of `attacks.csv`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    /// The attack's number, from 1, cheapest first.
    pub attack: usize,
    /// Distinct corrupted members.
    pub cost: u32,
    /// The corrupted members, space-separated.
    pub members: String,
    /// The actions, `; `-separated.
    pub actions: String,
    /// Equivalent substitutes, `action = alt | alt` per action that has any.
    pub alternatives: String,
    /// The members the analysis finds compromised, space-separated.
    pub compromised: String,
    /// Whether the outsider derives a key.
    pub outsider_learns_key: bool,
    /// The replayable scenario, relative to the output folder.
    pub scenario: String,
    /// Whether the replay through the full simulator held every expectation.
    pub replayed: bool,
}

/// What [`write()`] wrote.
#[derive(Debug)]
pub struct Written {
    /// The search.
    pub search: Search,
    /// The CSV rows, in attack order.
    pub rows: Vec<Row>,
    /// Attacks whose replay disagreed with the model, with what differed.
    pub disagreements: Vec<String>,
    /// The files written, relative to the folder.
    pub files: Vec<PathBuf>,
}

fn ids(ms: &[MemberId]) -> String {
    ms.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(" ")
}

/// Searches, writes `attacks.csv` and `attacks/<k>.toml` (and, with plots,
/// `attacks/<k>.dot`) into `out`, and replays every written scenario
/// through the full simulator.
pub fn write(
    q: &Query,
    out: &Path,
    progress: &mut dyn FnMut(u32, u64, u64),
    replayed: &mut dyn FnMut(usize, usize),
) -> Result<Written, LabError> {
    let model = Model::new(q);
    let search = model.search(progress)?;
    let dir = out.join("attacks");
    let io = |p: &Path, e: std::io::Error| LabError::failed(format!("{}: {e}", p.display()));
    if dir.exists() {
        // A previous search's scenarios would be mistaken for this one's.
        for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let p = entry.map_err(|e| io(&dir, e))?.path();
            if p.extension().is_some_and(|x| x == "toml" || x == "dot") {
                std::fs::remove_file(&p).map_err(|e| io(&p, e))?;
            }
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let mut rows = Vec::new();
    let mut disagreements = Vec::new();
    let mut files = Vec::new();
    let total = search.attacks.len();
    for (i, a) in search.attacks.iter().enumerate() {
        let k = i + 1;
        let text = scenario_toml(q, k, a);
        let rel = PathBuf::from(format!("attacks/{k}.toml"));
        let path = out.join(&rel);
        std::fs::write(&path, &text).map_err(|e| io(&path, e))?;
        files.push(rel.clone());
        let ok = match replay(&text, &path) {
            Ok(outcome) => {
                let s = &outcome.summary;
                let failed: Vec<String> = s
                    .expectations
                    .iter()
                    .filter(|e| !e.held)
                    .map(|e| format!("{} expected {:?}, observed {:?}", e.key, e.expected, e.observed))
                    .chain(s.problems())
                    .collect();
                #[cfg(feature = "plots")]
                if let Some(dot) = crate::report::derivations::dot(s) {
                    let rel = PathBuf::from(format!("attacks/{k}.dot"));
                    let p = out.join(&rel);
                    std::fs::write(&p, dot).map_err(|e| io(&p, e))?;
                    files.push(rel);
                }
                if !failed.is_empty() {
                    disagreements.push(format!("{}: {}", path.display(), failed.join("; ")));
                }
                failed.is_empty()
            }
            Err(e) => {
                disagreements.push(format!("{}: {e}", path.display()));
                false
            }
        };
        replayed(k, total);
        let alternatives: Vec<String> = a
            .actions
            .iter()
            .zip(&a.alternatives)
            .filter(|(_, alt)| !alt.is_empty())
            .map(|(x, alt)| {
                let label = |a: &Action| match a {
                    Action::Leak { member, secret, epoch } => {
                        leak_var(*member, *secret, *epoch).label_as(q.elgamal)
                    }
                    other => other.describe(q.elgamal),
                };
                let alt: Vec<String> = alt.iter().map(label).collect();
                format!("{} ≡ {}", label(x), alt.join(" ≡ "))
            })
            .collect();
        rows.push(Row {
            attack: k,
            cost: a.cost,
            members: ids(&a.members()),
            actions: a.actions.iter().map(|x| x.describe(q.elgamal)).collect::<Vec<_>>().join("; "),
            alternatives: alternatives.join("; "),
            compromised: ids(&a.verdict.compromised),
            outsider_learns_key: a.verdict.outsider_learns_key,
            scenario: rel.display().to_string(),
            replayed: ok,
        });
    }
    let csv_path = out.join("attacks.csv");
    let mut w = csv::Writer::from_path(&csv_path)
        .map_err(|e| LabError::failed(format!("{}: {e}", csv_path.display())))?;
    for r in &rows {
        w.serialize(r).map_err(|e| LabError::failed(format!("{}: {e}", csv_path.display())))?;
    }
    if rows.is_empty() {
        // A header even when nothing was found, so the file always loads.
        drop(w);
        std::fs::write(
            &csv_path,
            "attack,cost,members,actions,alternatives,compromised,outsider_learns_key,scenario,replayed\n",
        )
        .map_err(|e| io(&csv_path, e))?;
    } else {
        w.flush().map_err(|e| io(&csv_path, e))?;
    }
    files.insert(0, PathBuf::from("attacks.csv"));
    Ok(Written { search, rows, disagreements, files })
}

fn replay(text: &str, path: &Path) -> Result<super::Outcome, String> {
    let sc = crate::scenario::parse(text, &path.display().to_string()).map_err(|e| e.to_string())?;
    super::run(&sc, &super::Options::default()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(n: u32, init: InitKind, epochs: u64, goal: Goal, allow: &[Capability]) -> Query {
        Query {
            members: n,
            init,
            elgamal: false,
            epochs,
            channel: Channel::Ideal,
            goal,
            max_cost: n - 1,
            allow: allow.iter().copied().collect(),
            leak_to: LeakDest::Group,
            leak_secrets: [LeakSecret::Alpha, LeakSecret::Fk, LeakSecret::Theta].into_iter().collect(),
            per_member: 2,
            group: crate::group::by_name("toy-64").expect("toy-64 exists"),
        }
    }

    #[test]
    fn subsets_and_combinations_count() {
        let items = [1, 2, 3, 4, 5];
        assert_eq!(combinations(&items, 2).len(), 10);
        assert_eq!(combinations(&items, 0), vec![Vec::<i32>::new()]);
        assert_eq!(subsets(&items, 2).len(), 15);
    }

    #[test]
    fn sm_leak_menu_is_one_class_per_member() {
        // Every member holds θ and the HFKs, so α[m,1], α[m,2] and FK[m,1]
        // tell every recipient the same; θ tells it nothing.
        let q = query(4, InitKind::Sm, 1, Goal::Compromise(MemberId(4)), &[Capability::Leak]);
        let model = Model::new(&q);
        let menu = model.menu(MemberId(1));
        assert_eq!(menu.len(), 1, "{menu:?}");
        assert_eq!(menu[0].len(), 3, "{menu:?}");
    }
}
