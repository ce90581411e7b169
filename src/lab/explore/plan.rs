//! One drawn scenario of an explore, as typed values: what the space drew,
//! how it is written as a scenario file, and the single steps that shrink
//! it. A plan becomes a [`Scenario`] only through the scenario loader, so
//! every run explore makes is one that `fraclab run` accepts from the file
//! explore writes.

use std::fmt::Write as _;

use crate::scenario::{LoadError, Scenario};

/// How a crash is timed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CrashAt {
    /// `at = { epoch, when }`: before drawing FK (`before = true`) or once
    /// every member acknowledged its HFK of that iteration.
    Point {
        /// The iteration.
        epoch: u64,
        /// `before-send` rather than `after-send`.
        before: bool,
    },
    /// `at_ms`: at that virtual time.
    Ms(u64),
}

/// A `[[fault]]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// `kind = "crash"`.
    Crash {
        /// The member.
        member: u32,
        /// When.
        at: CrashAt,
        /// `replace = true`.
        replace: bool,
    },
    /// `kind = "partition"`.
    Partition {
        /// The groups, each sorted.
        groups: Vec<Vec<u32>>,
        /// From this virtual time, ms.
        from_ms: u64,
        /// Until this time; `None` never heals.
        until_ms: Option<u64>,
    },
}

/// Where a leak goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeakTo {
    /// Every other member.
    Group,
    /// The outsider.
    Outsider,
    /// These members.
    Members(Vec<u32>),
}

/// The network adversaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WireKind {
    /// Flips a bit of a message.
    Tamper,
    /// Sends a message again later.
    Replay,
    /// Sends a message under another sender's name.
    Forge,
}

impl WireKind {
    /// The scenario file's `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            WireKind::Tamper => "tamper",
            WireKind::Replay => "replay",
            WireKind::Forge => "forge",
        }
    }
}

/// An `[[adversary]]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Adversary {
    /// `kind = "leak"`.
    Leak {
        /// Who leaks.
        member: u32,
        /// `alpha`, `fk`, `theta` or `sk`.
        secret: &'static str,
        /// Its epoch (iteration for `fk`).
        epoch: u64,
        /// To whom.
        to: LeakTo,
    },
    /// `kind = "coalition"`, members sorted.
    Coalition(Vec<u32>),
    /// `kind = "ring-collusion"`.
    RingCollusion {
        /// The target t; t−1 and t+1 collude.
        target: u32,
    },
    /// `kind = "eavesdropper"` with these modes (a non-empty subset of I, G, R).
    Eavesdropper(Vec<&'static str>),
    /// `kind = "withhold"`, `phase = "recovery"`.
    Withhold {
        /// The survivor that withholds its ĤFK.
        member: u32,
    },
    /// `kind = "cheat"`: in initialisation (`epoch = None`) or in
    /// key-generation iteration `epoch`.
    Cheat {
        /// The cheater.
        member: u32,
        /// `None`: phase init; else the keygen iteration.
        epoch: Option<u64>,
    },
    /// `kind = "sm-cheat"`.
    SmCheat {
        /// The member whose pad is inconsistent.
        member: u32,
    },
    /// `tamper`, `replay` or `forge`.
    Wire {
        /// Which.
        kind: WireKind,
        /// Per message.
        probability: f64,
    },
}

impl Adversary {
    /// The scenario file's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Adversary::Leak { .. } => "leak",
            Adversary::Coalition(_) => "coalition",
            Adversary::RingCollusion { .. } => "ring-collusion",
            Adversary::Eavesdropper(_) => "eavesdropper",
            Adversary::Withhold { .. } => "withhold",
            Adversary::Cheat { .. } => "cheat",
            Adversary::SmCheat { .. } => "sm-cheat",
            Adversary::Wire { kind, .. } => kind.as_str(),
        }
    }

    /// The members this adversary acts through (its roles, not its victims):
    /// the leaker, the coalition, the colluding pair, the withholder, the
    /// cheater. The SM of `sm-cheat` is not a member.
    pub fn actors(&self, n: u32) -> Vec<u32> {
        match self {
            Adversary::Leak { member, .. }
            | Adversary::Withhold { member }
            | Adversary::Cheat { member, .. } => vec![*member],
            Adversary::Coalition(ms) => ms.clone(),
            Adversary::RingCollusion { target } => {
                let before = if *target == 1 { n } else { target - 1 };
                let after = if *target == n { 1 } else { target + 1 };
                vec![before, after]
            }
            Adversary::Eavesdropper(_) | Adversary::SmCheat { .. } | Adversary::Wire { .. } => vec![],
        }
    }
}

/// The latency distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    /// `{ dist = "fixed", value }`.
    Fixed(f64),
    /// `{ dist = "uniform", min, max }`.
    Uniform(f64, f64),
    /// `{ dist = "exponential", min, mean }`.
    Exponential(f64, f64),
}

/// The reference's default latency, what shrinking simplifies to.
pub const DEFAULT_LATENCY: Latency = Latency::Fixed(10.0);

/// One drawn scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The run's seed.
    pub seed: u64,
    /// `[group] params`.
    pub params: String,
    /// n.
    pub members: u32,
    /// `sm`, `ring` or `ring-hardened`.
    pub init: &'static str,
    /// `additive` or `elgamal`.
    pub keygen: &'static str,
    /// `none` or `commitments`.
    pub verify: &'static str,
    /// `ideal`, `plain` or `sealed`.
    pub channel: &'static str,
    /// Key-generation iterations.
    pub epochs: u64,
    /// `[network] latency_ms`.
    pub latency: Latency,
    /// `[network] loss`.
    pub loss: f64,
    /// `[network] duplicate`.
    pub duplicate: f64,
    /// `[network] clock_skew_ms`.
    pub clock_skew_ms: f64,
    /// The faults, in order.
    pub faults: Vec<Fault>,
    /// The adversaries, in order.
    pub adversaries: Vec<Adversary>,
}

/// The rekey interval every plan runs with (the reference's default), ms.
pub const REKEY_INTERVAL_MS: u64 = 1000;
/// The round timeout every plan runs with (the reference's default), ms.
pub const ROUND_TIMEOUT_MS: u64 = 500;

/// A float as TOML writes it: always with a decimal point.
fn float(x: f64) -> String {
    let s = format!("{x}");
    if s.contains(['.', 'e', 'E']) { s } else { format!("{s}.0") }
}

fn ids(ms: &[u32]) -> String {
    let v: Vec<String> = ms.iter().map(u32::to_string).collect();
    format!("[{}]", v.join(", "))
}

fn strs(xs: &[&str]) -> String {
    let v: Vec<String> = xs.iter().map(|x| format!("\"{x}\"")).collect();
    format!("[{}]", v.join(", "))
}

impl Plan {
    /// The plan as a scenario file: `name`, an optional comment block
    /// (`#`-prefixed lines) and `[expect]` body (`key = value` lines) go in
    /// as given.
    pub fn to_toml(&self, name: &str, description: &str, comment: &str, expect: &str) -> String {
        let mut t = String::new();
        for line in comment.lines() {
            // TOML comments may not hold control characters.
            let line: String = line.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect();
            let _ = writeln!(t, "# {line}");
        }
        let _ = writeln!(t, "name = \"{name}\"");
        if !description.is_empty() {
            // toml writes the string with every escape it needs.
            let _ = writeln!(t, "description = {}", toml::Value::String(description.to_string()));
        }
        let group = crate::group::lookup(&self.params)
            .map_or_else(|| format!("params = \"{}\"\n", self.params), crate::scenario::group_keys);
        let _ = writeln!(t, "seed = {}\n\n[group]\n{group}", self.seed);
        let _ = writeln!(
            t,
            "[protocol]\nmembers = {}\ninit = \"{}\"\nkeygen = \"{}\"\nepochs = {}\nverify = \"{}\"\nchannel = \"{}\"\n",
            self.members, self.init, self.keygen, self.epochs, self.verify, self.channel
        );
        let latency = match self.latency {
            Latency::Fixed(v) => format!("{{ dist = \"fixed\", value = {} }}", float(v)),
            Latency::Uniform(a, b) => {
                format!("{{ dist = \"uniform\", min = {}, max = {} }}", float(a), float(b))
            }
            Latency::Exponential(a, m) => {
                format!("{{ dist = \"exponential\", min = {}, mean = {} }}", float(a), float(m))
            }
        };
        let _ = writeln!(
            t,
            "[network]\nlatency_ms = {latency}\nloss = {}\nduplicate = {}\nclock_skew_ms = {}\n",
            float(self.loss),
            float(self.duplicate),
            float(self.clock_skew_ms)
        );
        for a in &self.adversaries {
            let _ = writeln!(t, "[[adversary]]\nkind = \"{}\"", a.kind());
            match a {
                Adversary::Leak { member, secret, epoch, to } => {
                    let to = match to {
                        LeakTo::Group => "\"group\"".to_string(),
                        LeakTo::Outsider => "\"outsider\"".to_string(),
                        LeakTo::Members(ms) => ids(ms),
                    };
                    let _ =
                        writeln!(t, "member = {member}\nsecret = \"{secret}\"\nepoch = {epoch}\nto = {to}");
                }
                Adversary::Coalition(ms) => {
                    let _ = writeln!(t, "members = {}", ids(ms));
                }
                Adversary::RingCollusion { target } => {
                    let _ = writeln!(t, "target = {target}");
                }
                Adversary::Eavesdropper(modes) => {
                    let _ = writeln!(t, "modes = {}", strs(modes));
                }
                Adversary::Withhold { member } => {
                    let _ = writeln!(t, "member = {member}\nphase = \"recovery\"");
                }
                Adversary::Cheat { member, epoch: None } => {
                    let _ = writeln!(t, "member = {member}\nphase = \"init\"");
                }
                Adversary::Cheat { member, epoch: Some(j) } => {
                    let _ = writeln!(t, "member = {member}\nphase = \"keygen\"\nepoch = {j}");
                }
                Adversary::SmCheat { member } => {
                    let _ = writeln!(t, "member = {member}");
                }
                Adversary::Wire { probability, .. } => {
                    let _ = writeln!(t, "probability = {}", float(*probability));
                }
            }
            t.push('\n');
        }
        for f in &self.faults {
            match f {
                Fault::Crash { member, at, replace } => {
                    let at = match at {
                        CrashAt::Point { epoch, before } => format!(
                            "at = {{ epoch = {epoch}, when = \"{}\" }}",
                            if *before { "before-send" } else { "after-send" }
                        ),
                        CrashAt::Ms(ms) => format!("at_ms = {ms}"),
                    };
                    let _ = writeln!(
                        t,
                        "[[fault]]\nkind = \"crash\"\nmember = {member}\n{at}\nreplace = {replace}\n"
                    );
                }
                Fault::Partition { groups, from_ms, until_ms } => {
                    let gs: Vec<String> = groups.iter().map(|g| ids(g)).collect();
                    let _ = writeln!(
                        t,
                        "[[fault]]\nkind = \"partition\"\ngroups = [{}]\nfrom_ms = {from_ms}",
                        gs.join(", ")
                    );
                    if let Some(u) = until_ms {
                        let _ = writeln!(t, "until_ms = {u}");
                    }
                    t.push('\n');
                }
            }
        }
        t.push_str("[output]\ntrace = \"none\"\n");
        if !expect.is_empty() {
            let _ = write!(t, "\n[expect]\n{expect}");
        }
        t
    }

    /// The plan through the scenario loader, as explore runs it: named
    /// `name`, without expectations.
    pub fn scenario(&self, name: &str) -> Result<Scenario, LoadError> {
        crate::scenario::parse(&self.to_toml(name, "", "", ""), "<explore>")
    }

    /// Whether an adversary alters or injects messages: a cheater, a
    /// cheating SM, or a network adversary.
    pub fn active(&self) -> bool {
        self.adversaries.iter().any(|a| matches!(a, Adversary::Cheat { .. } | Adversary::SmCheat { .. }))
            || self.wire_attacks()
    }

    /// Whether a network adversary is present.
    pub fn wire_attacks(&self) -> bool {
        self.adversaries.iter().any(|a| matches!(a, Adversary::Wire { .. }))
    }

    /// Whether an adversary cheats inside the protocol (member or SM).
    pub fn cheats(&self) -> bool {
        self.adversaries.iter().any(|a| matches!(a, Adversary::Cheat { .. } | Adversary::SmCheat { .. }))
    }

    /// The parties a verification may name: cheating members, and 0 for a
    /// cheating SM.
    pub fn culprits(&self) -> Vec<u32> {
        let mut out: Vec<u32> = self
            .adversaries
            .iter()
            .filter_map(|a| match a {
                Adversary::Cheat { member, .. } => Some(*member),
                Adversary::SmCheat { .. } => Some(0),
                _ => None,
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every member some adversary acts through, sorted.
    pub fn actors(&self) -> Vec<u32> {
        let mut out: Vec<u32> = self.adversaries.iter().flat_map(|a| a.actors(self.members)).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The number of crashes.
    pub fn crashes(&self) -> usize {
        self.faults.iter().filter(|f| matches!(f, Fault::Crash { .. })).count()
    }

    /// The number of partitions.
    pub fn partitions(&self) -> usize {
        self.faults.iter().filter(|f| matches!(f, Fault::Partition { .. })).count()
    }

    /// Approximately when a crash happens, in virtual ms: iteration j falls
    /// due at j × the rekey interval.
    pub fn crash_ms(at: CrashAt) -> u64 {
        match at {
            CrashAt::Point { epoch, before: true } => epoch * REKEY_INTERVAL_MS,
            CrashAt::Point { epoch, before: false } => epoch * REKEY_INTERVAL_MS + 100,
            CrashAt::Ms(ms) => ms,
        }
    }

    /// Every single step that makes the plan smaller or simpler, in the
    /// order shrinking tries them: drop an adversary, drop a fault, fewer
    /// epochs, fewer members, a simpler network, lower probabilities,
    /// earlier crashes, simpler protocol choices, smaller adversaries. Each
    /// differs from `self`; some may not load (the caller skips those).
    pub fn shrink_steps(&self, min_members: u32) -> Vec<Plan> {
        let mut out = Vec::new();
        let mut push = |p: Plan| {
            if p != *self && !out.contains(&p) {
                out.push(p);
            }
        };
        for i in 0..self.adversaries.len() {
            let mut p = self.clone();
            p.adversaries.remove(i);
            push(p);
        }
        for i in 0..self.faults.len() {
            let mut p = self.clone();
            p.faults.remove(i);
            push(p);
        }
        for e in [1, self.epochs / 2, self.epochs.saturating_sub(1)] {
            if (1..self.epochs).contains(&e) {
                push(self.with_epochs(e));
            }
        }
        let floor = min_members.max(2);
        for n in [floor, self.members / 2, self.members.saturating_sub(1)] {
            if n >= floor && n < self.members {
                push(self.with_members(n));
                push(self.with_members(n).clamped_from(self, n));
            }
        }
        if self.latency != DEFAULT_LATENCY {
            push(Plan { latency: DEFAULT_LATENCY, ..self.clone() });
        }
        for (get, set) in [
            (self.loss, (|p: &mut Plan, x| p.loss = x) as fn(&mut Plan, f64)),
            (self.duplicate, |p: &mut Plan, x| p.duplicate = x),
            (self.clock_skew_ms, |p: &mut Plan, x| p.clock_skew_ms = x),
        ] {
            if get > 0.0 {
                for x in [0.0, halve(get)] {
                    let mut p = self.clone();
                    set(&mut p, x);
                    push(p);
                }
            }
        }
        for (i, a) in self.adversaries.iter().enumerate() {
            if let Adversary::Wire { probability, .. } = a
                && *probability > 0.01
            {
                let mut p = self.clone();
                if let Adversary::Wire { probability, .. } = &mut p.adversaries[i] {
                    *probability = halve(*probability);
                }
                push(p);
            }
        }
        for (i, f) in self.faults.iter().enumerate() {
            let earlier: Vec<CrashAt> = match f {
                Fault::Crash { at: CrashAt::Point { epoch, before }, .. } => {
                    let mut v = Vec::new();
                    if !before {
                        v.push(CrashAt::Point { epoch: *epoch, before: true });
                    }
                    if *epoch > 1 {
                        v.push(CrashAt::Point { epoch: 1, before: *before });
                        v.push(CrashAt::Point { epoch: epoch - 1, before: *before });
                    }
                    v
                }
                Fault::Crash { at: CrashAt::Ms(ms), .. } if *ms > 0 => vec![CrashAt::Ms(ms / 2)],
                _ => vec![],
            };
            for at in earlier {
                let mut p = self.clone();
                if let Fault::Crash { at: a, .. } = &mut p.faults[i] {
                    *a = at;
                }
                push(p);
            }
            if let Fault::Partition { until_ms: Some(u), from_ms, .. } = f
                && u - from_ms > 100
            {
                let mut p = self.clone();
                if let Fault::Partition { until_ms, .. } = &mut p.faults[i] {
                    *until_ms = Some(from_ms + (u - from_ms) / 2);
                }
                push(p);
            }
        }
        for (field, simple) in
            [("channel", "ideal"), ("verify", "none"), ("keygen", "additive"), ("init", "sm")]
        {
            let mut p = self.clone();
            let slot = match field {
                "channel" => &mut p.channel,
                "verify" => &mut p.verify,
                "keygen" => &mut p.keygen,
                _ => &mut p.init,
            };
            *slot = simple;
            push(p);
        }
        if self.init == "ring-hardened" {
            push(Plan { init: "ring", ..self.clone() });
        }
        for (i, a) in self.adversaries.iter().enumerate() {
            match a {
                Adversary::Coalition(ms) if ms.len() > 2 => {
                    for smaller in without_each(ms) {
                        let mut p = self.clone();
                        p.adversaries[i] = Adversary::Coalition(smaller);
                        push(p);
                    }
                }
                Adversary::Eavesdropper(modes) if modes.len() > 1 => {
                    for fewer in without_each(modes) {
                        let mut p = self.clone();
                        p.adversaries[i] = Adversary::Eavesdropper(fewer);
                        push(p);
                    }
                }
                Adversary::Leak { epoch, .. } if *epoch > 1 => {
                    let mut p = self.clone();
                    if let Adversary::Leak { epoch, .. } = &mut p.adversaries[i] {
                        *epoch = 1;
                    }
                    push(p);
                }
                _ => {}
            }
        }
        out
    }

    /// The plan with `e` epochs: epochs named beyond the new range are
    /// clamped into it.
    pub fn with_epochs(&self, e: u64) -> Plan {
        let mut p = self.clone();
        p.epochs = e;
        for a in &mut p.adversaries {
            match a {
                Adversary::Leak { secret, epoch, .. } => {
                    *epoch = (*epoch).min(if *secret == "fk" { e } else { e + 1 })
                }
                Adversary::Cheat { epoch: Some(j), .. } => *j = (*j).min(e),
                _ => {}
            }
        }
        for f in &mut p.faults {
            if let Fault::Crash { at: CrashAt::Point { epoch, .. }, .. } = f {
                *epoch = (*epoch).min(e);
            }
        }
        p
    }

    /// `self` (the plan `with_members(n)` of `wider`) with the adversaries
    /// and faults of `wider` kept, every member beyond `n` renamed `n`
    /// (lists deduplicated): a smaller group in which the same roles act.
    fn clamped_from(mut self, wider: &Plan, n: u32) -> Plan {
        let c = |m: &mut u32| *m = (*m).min(n);
        let list = |ms: &mut Vec<u32>| {
            ms.iter_mut().for_each(|m| *m = (*m).min(n));
            ms.sort_unstable();
            ms.dedup();
        };
        self.adversaries = wider.adversaries.clone();
        self.faults = wider.faults.clone();
        for a in &mut self.adversaries {
            match a {
                Adversary::Leak { member, to, .. } => {
                    c(member);
                    if let LeakTo::Members(ms) = to {
                        list(ms);
                    }
                }
                Adversary::Coalition(ms) => list(ms),
                Adversary::RingCollusion { target: m }
                | Adversary::Withhold { member: m }
                | Adversary::Cheat { member: m, .. }
                | Adversary::SmCheat { member: m } => c(m),
                Adversary::Eavesdropper(_) | Adversary::Wire { .. } => {}
            }
        }
        for f in &mut self.faults {
            match f {
                Fault::Crash { member, .. } => c(member),
                Fault::Partition { groups, .. } => groups.iter_mut().for_each(list),
            }
        }
        self
    }

    /// The plan with `n` members: adversaries and faults naming a member
    /// beyond `n` lose that member, or go when nothing is left of them.
    pub fn with_members(&self, n: u32) -> Plan {
        let mut p = self.clone();
        p.members = n;
        let keep = |m: &u32| *m <= n;
        p.adversaries.retain_mut(|a| match a {
            Adversary::Leak { member, to, .. } => {
                if let LeakTo::Members(ms) = to {
                    ms.retain(keep);
                    if ms.is_empty() {
                        return false;
                    }
                }
                *member <= n
            }
            Adversary::Coalition(ms) => {
                ms.retain(keep);
                ms.len() >= 2 && (ms.len() as u32) < n
            }
            Adversary::RingCollusion { target } => *target <= n && n >= 3,
            Adversary::Withhold { member }
            | Adversary::Cheat { member, .. }
            | Adversary::SmCheat { member } => *member <= n,
            Adversary::Eavesdropper(_) | Adversary::Wire { .. } => true,
        });
        p.faults.retain_mut(|f| match f {
            Fault::Crash { member, .. } => *member <= n,
            Fault::Partition { groups, .. } => {
                for g in groups.iter_mut() {
                    g.retain(keep);
                }
                groups.retain(|g| !g.is_empty());
                let named: usize = groups.iter().map(Vec::len).sum();
                !groups.is_empty() && (groups.len() >= 2 || named < n as usize)
            }
        });
        p
    }
}

/// `xs` without its k-th element, for each k in order.
fn without_each<T: Clone>(xs: &[T]) -> impl Iterator<Item = Vec<T>> + '_ {
    (0..xs.len()).map(|k| {
        let mut v = xs.to_vec();
        v.remove(k);
        v
    })
}

/// Half of `x`, rounded to three decimals (a probability or ms value that
/// prints short).
fn halve(x: f64) -> f64 {
    ((x / 2.0) * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            seed: 5,
            params: "toy-64".into(),
            members: 5,
            init: "ring",
            keygen: "additive",
            verify: "none",
            channel: "ideal",
            epochs: 3,
            latency: Latency::Uniform(5.0, 30.0),
            loss: 0.1,
            duplicate: 0.0,
            clock_skew_ms: 20.0,
            faults: vec![
                Fault::Crash { member: 5, at: CrashAt::Point { epoch: 3, before: false }, replace: true },
                Fault::Partition {
                    groups: vec![vec![1, 2], vec![3, 4, 5]],
                    from_ms: 1500,
                    until_ms: Some(3200),
                },
            ],
            adversaries: vec![
                Adversary::Leak { member: 1, secret: "alpha", epoch: 4, to: LeakTo::Members(vec![5]) },
                Adversary::Coalition(vec![2, 4, 5]),
                Adversary::Wire { kind: WireKind::Replay, probability: 0.2 },
            ],
        }
    }

    #[test]
    fn a_plan_loads_as_the_scenario_it_writes() {
        let p = plan();
        let sc = p.scenario("x").expect("loads");
        assert_eq!((sc.members(), sc.epochs(), sc.seed()), (5, 3, 5));
        assert_eq!(sc.adversaries().list.len(), 3);
        assert_eq!((sc.faults().crashes.len(), sc.faults().partitions.len()), (1, 1));
    }

    #[test]
    fn every_shrink_step_is_smaller_and_most_load() {
        let p = plan();
        let steps = p.shrink_steps(3);
        assert!(steps.len() > 15, "{} steps", steps.len());
        assert!(steps.iter().all(|s| *s != p));
        let loaded = steps.iter().filter(|s| s.scenario("x").is_ok()).count();
        assert!(loaded * 10 >= steps.len() * 8, "{loaded} of {} load", steps.len());
    }

    #[test]
    fn any_description_and_comment_give_a_loadable_file() {
        let text =
            plan().to_toml("x", "a \"goal\" with \u{1} and \n a newline \\", "line \u{7} one\ntwo", "");
        let sc = crate::scenario::parse(&text, "x.toml").expect("loads");
        assert_eq!(sc.description(), Some("a \"goal\" with \u{1} and \n a newline \\"));
    }

    #[test]
    fn fewer_members_drops_what_names_them() {
        let p = plan().with_members(3);
        assert!(p.faults.iter().all(|f| !matches!(f, Fault::Crash { .. })), "member 5's crash goes");
        assert_eq!(
            p.faults,
            vec![Fault::Partition { groups: vec![vec![1, 2], vec![3]], from_ms: 1500, until_ms: Some(3200) }]
        );
        assert_eq!(
            p.adversaries.len(),
            1,
            "the leak to 5 and the coalition of 2 and 4 of 3 go: {:?}",
            p.adversaries
        );
        let e = plan().with_epochs(1);
        assert!(matches!(e.adversaries[0], Adversary::Leak { epoch: 2, .. }));
        assert!(matches!(e.faults[0], Fault::Crash { at: CrashAt::Point { epoch: 1, .. }, .. }));
    }
}
