//! `[[adversary]]` tables: each kind's fields, and their checks against the
//! protocol. Every error names the table and field (`adversary[0].member`)
//! at the value's own line:column.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use super::error::{FieldError, Problem, num, quoted};
use super::tagged::{Tagged, tables};
use crate::adversary::{Adversary, CheatPhase, DlogView, Leak, LeakSecret, LeakTo, Wire, WireAttack};
use crate::protocol::{InitKind, MemberId, Mode, Party};

/// The dlog adversary's default and largest work budget, in group operations.
const DLOG_BUDGET_DEFAULT: u64 = 1_000_000_000;
const DLOG_BUDGET_MAX: u64 = 1_000_000_000_000;

/// The `kind`s an `[[adversary]]` table may have.
pub const KINDS: &[&str] = &[
    "leak",
    "coalition",
    "ring-collusion",
    "forward",
    "eavesdropper",
    "cheat",
    "sm-cheat",
    "tamper",
    "replay",
    "forge",
    "withhold",
    "dlog",
];

/// One `[[adversary]]` table, its fields read but not yet checked.
#[derive(Debug)]
pub struct AdversaryTable {
    /// `adversary[i]`.
    pub key: String,
    /// The `kind` value's bytes in the text.
    pub kind_span: Range<usize>,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Leak(LeakFields),
    Coalition(CoalitionFields),
    RingCollusion(RingCollusionFields),
    Forward(ForwardFields),
    Eavesdropper(EavesdropperFields),
    Cheat(CheatFields),
    SmCheat(MemberFields),
    Wire(WireAttack, WireFields),
    Withhold(WithholdFields),
    Dlog(DlogFields),
}

type Id = Spanned<i64>;
type Ids = Spanned<Vec<Id>>;
type Modes = Spanned<Vec<Spanned<String>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeakFields {
    member: Id,
    secret: Spanned<String>,
    epoch: Spanned<i64>,
    to: Option<Spanned<To>>,
}

/// `to = "group" | "outsider" | [2, 3]`.
#[derive(Debug)]
enum To {
    Name(String),
    Members(Vec<Id>),
}

impl<'de> Deserialize<'de> for To {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<To, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = To;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"group\", \"outsider\" or a list of member ids, e.g. [2, 3]")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<To, E> {
                Ok(To::Name(s.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<To, A::Error> {
                let mut ids = Vec::new();
                while let Some(id) = seq.next_element()? {
                    ids.push(id);
                }
                Ok(To::Members(ids))
            }
        }
        d.deserialize_any(Visit)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoalitionFields {
    members: Ids,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RingCollusionFields {
    target: Id,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForwardFields {
    member: Id,
    to: Option<Spanned<To>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EavesdropperFields {
    modes: Option<Modes>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheatFields {
    member: Id,
    phase: Spanned<String>,
    epoch: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberFields {
    member: Id,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireFields {
    probability: Spanned<f64>,
    modes: Option<Modes>,
    senders: Option<Ids>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WithholdFields {
    member: Id,
    phase: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DlogFields {
    view: Option<Spanned<View>>,
    budget: Option<Spanned<i64>>,
}

/// `view = "outsider" | 2`.
#[derive(Debug)]
enum View {
    Name(String),
    Member(i64),
}

impl<'de> Deserialize<'de> for View {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<View, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = View;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"outsider\" or a member id")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<View, E> {
                Ok(View::Name(s.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<View, E> {
                Ok(View::Member(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<View, E> {
                Ok(View::Member(i64::try_from(v).unwrap_or(i64::MAX)))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// The file's `[[adversary]]` tables, each read as its kind's fields.
pub fn read(value: Option<Spanned<DeValue<'_>>>) -> Result<Vec<AdversaryTable>, FieldError> {
    tables(value, "adversary", KINDS)?.into_iter().map(table).collect()
}

fn table(t: Tagged<'_>) -> Result<AdversaryTable, FieldError> {
    let (key, kind_span) = (t.key.clone(), t.kind_span.clone());
    let body = match t.kind.as_str() {
        "leak" => Body::Leak(t.fields()?),
        "coalition" => Body::Coalition(t.fields()?),
        "ring-collusion" => Body::RingCollusion(t.fields()?),
        "forward" => Body::Forward(t.fields()?),
        "eavesdropper" => Body::Eavesdropper(t.fields()?),
        "cheat" => Body::Cheat(t.fields()?),
        "sm-cheat" => Body::SmCheat(t.fields()?),
        "tamper" => Body::Wire(WireAttack::Tamper, t.fields()?),
        "replay" => Body::Wire(WireAttack::Replay, t.fields()?),
        "forge" => Body::Wire(WireAttack::Forge, t.fields()?),
        "withhold" => Body::Withhold(t.fields()?),
        _ => Body::Dlog(t.fields()?),
    };
    Ok(AdversaryTable { key, kind_span, body })
}

/// What the checks know of the scenario, and where the table is.
pub struct Ctx<'a> {
    /// The table's key, `adversary[i]` or `fault[i]`.
    pub key: &'a str,
    /// n, the number of members.
    pub n: u32,
    /// The key-generation iterations the run makes.
    pub epochs: u64,
    /// The initialisation (some adversaries need a ring).
    pub init: InitKind,
}

impl Ctx<'_> {
    /// `problem` at this table's `field`.
    pub fn at(&self, field: &str, span: Range<usize>, problem: Problem) -> FieldError {
        FieldError::new(format!("{}.{field}", self.key), span, problem)
    }

    /// A rule broken at this table's `field` ([`Problem::Refused`]).
    pub fn err(&self, field: &str, span: Range<usize>, message: impl Into<String>) -> FieldError {
        self.at(field, span, Problem::Refused(message.into()))
    }

    /// `{field} = {given} is unknown; allowed: {allowed}` at `field`.
    pub fn unknown(&self, field: &str, span: Range<usize>, given: &str, allowed: &str) -> FieldError {
        let named = format!("{field} = {}", quoted(given));
        self.at(field, span, Problem::Unknown { named, allowed: allowed.into() })
    }

    /// A member id in 1..=n; `field` names the field in the message.
    pub fn member(&self, field: &'static str, id: &Id) -> Result<MemberId, FieldError> {
        match u32::try_from(*id.get_ref()) {
            Ok(m) if (1..=self.n).contains(&m) => Ok(MemberId(m)),
            _ => Err(self.at(
                field,
                id.span(),
                Problem::NotAMember { field: Some(field), value: *id.get_ref(), n: self.n },
            )),
        }
    }

    /// Distinct member ids, sorted.
    fn members(&self, field: &'static str, ids: &[Id]) -> Result<Vec<MemberId>, FieldError> {
        let mut ms = ids.iter().map(|id| self.member(field, id)).collect::<Result<Vec<_>, _>>()?;
        ms.sort();
        ms.dedup();
        Ok(ms)
    }
}

/// `v` as a u64 in `range`, if it is.
pub fn within(v: i64, range: std::ops::RangeInclusive<u64>) -> Option<u64> {
    u64::try_from(v).ok().filter(|x| range.contains(x))
}

impl AdversaryTable {
    /// The table checked against the protocol: n members, `epochs`, `init`.
    pub fn check(self, n: u32, epochs: u64, init: InitKind) -> Result<Adversary, FieldError> {
        let cx = Ctx { key: &self.key, n, epochs, init };
        let kind = self.kind_span.clone();
        match self.body {
            Body::Leak(f) => leak(&cx, f),
            Body::Coalition(f) => coalition(&cx, f),
            Body::RingCollusion(f) => ring_collusion(&cx, f, kind),
            Body::Forward(f) => forward(&cx, f, kind),
            Body::Eavesdropper(f) => Ok(Adversary::Eavesdropper {
                modes: modes(&cx, f.modes, "an eavesdropper tapping no mode sees nothing")?,
            }),
            Body::Cheat(f) => cheat(&cx, f),
            Body::SmCheat(f) => sm_cheat(&cx, f, kind),
            Body::Wire(attack, f) => wire(&cx, attack, f),
            Body::Withhold(f) => withhold(&cx, f),
            Body::Dlog(f) => dlog(&cx, f),
        }
    }
}

/// At least two distinct members, and someone outside.
fn coalition(cx: &Ctx<'_>, f: CoalitionFields) -> Result<Adversary, FieldError> {
    let n = cx.n;
    let ms = cx.members("members", f.members.get_ref())?;
    if ms.len() < 2 {
        return Err(cx.err("members", f.members.span(), "a coalition needs at least two distinct members"));
    }
    if ms.len() == n as usize {
        return Err(cx.err(
            "members",
            f.members.span(),
            format!(
                "a coalition of all {n} members has no one outside it to learn about; allowed: at most {} members",
                n - 1
            ),
        ));
    }
    Ok(Adversary::Coalition { members: ms })
}

/// A ring initialisation, and a target with two others.
fn ring_collusion(cx: &Ctx<'_>, f: RingCollusionFields, kind: Range<usize>) -> Result<Adversary, FieldError> {
    ring_only(cx, &kind, "ring-collusion attacks the ring initialisation")?;
    if cx.n < 3 {
        return Err(cx.err(
            "kind",
            kind,
            format!(
                "ring-collusion needs a target and two other members; allowed: members ≥ 3 (here {})",
                cx.n
            ),
        ));
    }
    Ok(Adversary::RingCollusion { target: cx.member("target", &f.target)? })
}

/// The error for a ring-only adversary under SM initialisation: `why`
/// it needs a ring.
fn ring_only(cx: &Ctx<'_>, kind: &Range<usize>, why: &str) -> Result<(), FieldError> {
    if cx.init == InitKind::Sm {
        return Err(cx.err(
            "kind",
            kind.clone(),
            format!("{why}; allowed with init = \"ring\" or \"ring-hardened\""),
        ));
    }
    Ok(())
}

/// A ring initialisation, and recipients other than the member and its
/// ring successor (who gets δ anyway).
fn forward(cx: &Ctx<'_>, f: ForwardFields, kind: Range<usize>) -> Result<Adversary, FieldError> {
    ring_only(cx, &kind, "forward sends a ring δ")?;
    let member = cx.member("member", &f.member)?;
    let successor = crate::protocol::ring_neighbours(member, cx.n).1;
    let group = || (1..=cx.n).map(MemberId).filter(|&m| m != member && m != successor).collect::<Vec<_>>();
    let to = match f.to.map(|to| (to.span(), to.into_inner())) {
        None => group(),
        Some((_, To::Name(s))) if s == "group" => group(),
        Some((span, To::Name(s))) => {
            return Err(cx.unknown("to", span, &s, "\"group\" or a list of member ids"));
        }
        Some((span, To::Members(ids))) => {
            let ms = cx.members("to", &ids)?;
            if ms.is_empty() {
                return Err(cx.err(
                    "to",
                    span,
                    "the list names no member; allowed: ids of other members, or \"group\"",
                ));
            }
            if let Some(&m) = ms.iter().find(|&&m| m == member || m == successor) {
                let why = if m == member {
                    "the forwarding member itself"
                } else {
                    "its ring successor, who gets δ anyway"
                };
                return Err(cx.err(
                    "to",
                    span,
                    format!("member {m} is {why}; allowed: ids of other members, or \"group\""),
                ));
            }
            ms
        }
    };
    if to.is_empty() {
        return Err(cx.err(
            "member",
            f.member.span(),
            format!(
                "with {} members the forward reaches nobody but the ring successor; allowed: members ≥ 3",
                cx.n
            ),
        ));
    }
    Ok(Adversary::Forward { member, to })
}

/// A security manager to cheat.
fn sm_cheat(cx: &Ctx<'_>, f: MemberFields, kind: Range<usize>) -> Result<Adversary, FieldError> {
    if cx.init != InitKind::Sm {
        return Err(cx.err("kind", kind, "sm-cheat needs a security manager; allowed with init = \"sm\""));
    }
    Ok(Adversary::SmCheat { member: cx.member("member", &f.member)? })
}

/// Withholding happens in recovery only.
fn withhold(cx: &Ctx<'_>, f: WithholdFields) -> Result<Adversary, FieldError> {
    if let Some(phase) = f.phase.filter(|p| p.get_ref() != "recovery") {
        return Err(cx.err(
            "phase",
            phase.span(),
            "a member can withhold only in recovery; allowed: \"recovery\"",
        ));
    }
    Ok(Adversary::Withhold { member: cx.member("member", &f.member)? })
}

/// The view (the outsider's by default) and a work budget.
fn dlog(cx: &Ctx<'_>, f: DlogFields) -> Result<Adversary, FieldError> {
    let view = match f.view {
        None => DlogView::Outsider,
        Some(v) => match v.get_ref() {
            View::Name(s) if s == "outsider" => DlogView::Outsider,
            View::Member(m) => DlogView::Member(cx.member("view", &Spanned::new(v.span(), *m))?),
            View::Name(s) => return Err(cx.unknown("view", v.span(), s, "\"outsider\" or a member id")),
        },
    };
    let budget = match f.budget {
        None => DLOG_BUDGET_DEFAULT,
        Some(b) => within(*b.get_ref(), 1..=DLOG_BUDGET_MAX).ok_or_else(|| {
            cx.err(
                "budget",
                b.span(),
                format!("budget = {}: allowed: 1..={DLOG_BUDGET_MAX} group operations", b.get_ref()),
            )
        })?,
    };
    Ok(Adversary::Dlog { view, budget })
}

fn leak(cx: &Ctx<'_>, f: LeakFields) -> Result<Adversary, FieldError> {
    let member = cx.member("member", &f.member)?;
    let epochs = cx.epochs;
    let secret = match f.secret.get_ref().as_str() {
        "alpha" => LeakSecret::Alpha,
        "fk" => LeakSecret::Fk,
        "theta" => LeakSecret::Theta,
        "sk" => LeakSecret::Sk,
        other => {
            let allowed = "\"alpha\", \"fk\", \"theta\", \"sk\"";
            return Err(cx.unknown("secret", f.secret.span(), other, allowed));
        }
    };
    let last = secret.last_epoch(epochs);
    let epoch = within(*f.epoch.get_ref(), 1..=last).ok_or_else(|| {
        cx.err(
            "epoch",
            f.epoch.span(),
            format!(
                "epoch = {}: this run has no {} of that epoch; allowed: 1..={last}",
                f.epoch.get_ref(),
                secret.as_str()
            ),
        )
    })?;
    let to = match f.to {
        None => LeakTo::Group,
        Some(to) => {
            let span = to.span();
            match to.into_inner() {
                To::Name(s) if s == "group" => LeakTo::Group,
                To::Name(s) if s == "outsider" => LeakTo::Outsider,
                To::Name(s) => {
                    let allowed = "\"group\", \"outsider\" or a list of member ids";
                    return Err(cx.unknown("to", span, &s, allowed));
                }
                To::Members(ids) => {
                    let mut ms = cx.members("to", &ids)?;
                    ms.retain(|&m| m != member);
                    if ms.is_empty() {
                        return Err(cx.err(
                            "to",
                            span,
                            "the leak reaches nobody; allowed: \"group\", \"outsider\" or ids of other members",
                        ));
                    }
                    LeakTo::Members(ms)
                }
            }
        }
    };
    Ok(Adversary::Leak(Leak { member, secret, epoch, to }))
}

fn cheat(cx: &Ctx<'_>, f: CheatFields) -> Result<Adversary, FieldError> {
    let member = cx.member("member", &f.member)?;
    let (init, epochs) = (cx.init, cx.epochs);
    let epoch = f.epoch.as_ref().map(|e| (*e.get_ref(), e.span()));
    let phase_span = f.phase.span();
    let phase = match (f.phase.get_ref().as_str(), epoch) {
        ("init", _) if init != InitKind::Ring => {
            return Err(cx.err(
                "phase",
                phase_span,
                "a member cheats in initialisation by its ring δ; allowed with init = \"ring\" (use sm-cheat for the SM, or phase = \"keygen\")",
            ));
        }
        ("init", None | Some((1, _))) => CheatPhase::Init,
        ("init", Some((e, span))) => {
            return Err(cx.err(
                "epoch",
                span,
                format!("epoch = {e}: initialisation is epoch 1; allowed: 1 or leave it out"),
            ));
        }
        ("keygen", Some((j, span))) => match within(j, 1..=epochs) {
            Some(j) => CheatPhase::Keygen(j),
            None => {
                return Err(cx.err(
                    "epoch",
                    span,
                    format!("epoch = {j}: the HFK of key-generation iteration j; allowed: 1..={epochs}"),
                ));
            }
        },
        ("keygen", None) => {
            return Err(cx.err(
                "epoch",
                phase_span,
                format!("missing: which iteration's HFK is forged; allowed: 1..={epochs}"),
            ));
        }
        (other, _) => {
            return Err(cx.unknown("phase", phase_span, other, "\"init\", \"keygen\""));
        }
    };
    Ok(Adversary::Cheat { member, phase })
}

fn wire(cx: &Ctx<'_>, attack: WireAttack, f: WireFields) -> Result<Adversary, FieldError> {
    let probability = *f.probability.get_ref();
    if !(0.0..1.0).contains(&probability) {
        let value = format!("probability = {}", num(probability));
        let allowed = "a probability in [0, 1) (0 ≤ p < 1)".into();
        return Err(cx.at("probability", f.probability.span(), Problem::OutOfRange { value, allowed }));
    }
    let modes = modes(cx, f.modes, "a network adversary filtering out every mode attacks nothing")?;
    let senders = match f.senders {
        None => None,
        Some(ids) => {
            let (n, sm) = (cx.n, cx.init == InitKind::Sm);
            let least = if sm { 0 } else { 1 };
            let mut parties = Vec::new();
            for id in ids.get_ref() {
                let party = match u32::try_from(*id.get_ref()) {
                    Ok(0) if sm => Party::Sm,
                    Ok(m) if (1..=n).contains(&m) => Party::Member(MemberId(m)),
                    _ => {
                        let problem = Problem::NotAParty { value: *id.get_ref(), least, n };
                        return Err(cx.at("senders", id.span(), problem));
                    }
                };
                parties.push(party);
            }
            parties.sort();
            parties.dedup();
            if parties.is_empty() {
                return Err(cx.err(
                    "senders",
                    ids.span(),
                    "an empty list attacks nothing; allowed: party ids (or leave senders out for all)",
                ));
            }
            Some(parties)
        }
    };
    Ok(Adversary::Wire(Wire { attack, probability, modes, senders }))
}

/// `modes = ["I", "G", "R"]`: all three if left out; `empty` says why an
/// empty list is refused.
fn modes(cx: &Ctx<'_>, modes: Option<Modes>, empty: &str) -> Result<Vec<Mode>, FieldError> {
    let Some(list) = modes else { return Ok(vec![Mode::Init, Mode::Generation, Mode::Recovery]) };
    let mut out = Vec::new();
    for m in list.get_ref() {
        out.push(match m.get_ref().as_str() {
            "I" => Mode::Init,
            "G" => Mode::Generation,
            "R" => Mode::Recovery,
            other => {
                let (named, allowed) = (format!("mode {}", quoted(other)), "\"I\", \"G\", \"R\"".into());
                return Err(cx.at("modes", m.span(), Problem::Unknown { named, allowed }));
            }
        });
    }
    if out.is_empty() {
        return Err(cx.err(
            "modes",
            list.span(),
            format!("{empty}; allowed: some of \"I\", \"G\", \"R\" (or leave modes out for all)"),
        ));
    }
    Ok(out)
}
