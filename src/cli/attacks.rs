//! `fraclab attacks --members N --init … --goal …`: attack synthesis.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::EXIT_BAD_INPUT;
use crate::lab::attacks::{self, Capability, Goal, LeakDest, Query};
use crate::protocol::{Channel, InitKind};

/// The arguments of `fraclab attacks`, as clap parsed them.
#[derive(Debug, clap::Args)]
pub struct AttacksArgs {
    /// The group size n, 3..=12.
    #[arg(long)]
    members: u32,
    /// The initialisation: sm, ring or ring-hardened.
    #[arg(long)]
    init: String,
    /// Key generation: additive or elgamal (the same linear structure).
    #[arg(long, default_value = "additive")]
    keygen: String,
    /// The pad operator: add (mod q of --params) or xor (of --bits-bit strings).
    #[arg(long, default_value = "add")]
    operator: String,
    /// L, the bits of an XOR value (8..=4096; default 256), with --operator xor.
    #[arg(long)]
    bits: Option<u32>,
    /// What the attack must reach: compromise:K, compromise-any, key or all.
    #[arg(long)]
    goal: String,
    /// Key-generation iterations modelled, 0..=4.
    #[arg(long, default_value_t = 1)]
    epochs: u64,
    /// The most corrupted members an attack may have (0..=n−1; default 3, at most n − 1).
    #[arg(long)]
    max_cost: Option<u32>,
    /// Capabilities open to the attacker, comma-separated.
    #[arg(long, default_value = "leak,coalition,forward,eavesdrop")]
    allow: String,
    /// The channel: plain (the outsider reads what it taps), ideal or sealed.
    #[arg(long, default_value = "ideal")]
    channel: String,
    /// Where leaks go: group or outsider (default: outsider for --goal key, else group).
    #[arg(long)]
    leak_to: Option<String>,
    /// What a leak may reveal, comma-separated: alpha, fk, theta.
    #[arg(long, default_value = "alpha,fk,theta")]
    leak_secrets: String,
    /// The most actions one corrupted member takes in an attack, 1..=3.
    #[arg(long, default_value_t = 2)]
    per_member: u32,
    /// The parameter set the replays run in, with --operator add (default toy-64).
    #[arg(long)]
    params: Option<String>,
    /// Output folder (default out/attacks/, which git ignores).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print nothing but errors and the table.
    #[arg(long)]
    quiet: bool,
}

fn query(a: &AttacksArgs) -> Result<Query, String> {
    let init = match a.init.as_str() {
        "sm" => InitKind::Sm,
        "ring" => InitKind::Ring,
        "ring-hardened" => InitKind::RingHardened,
        s => return Err(format!("--init {s}: unknown initialisation; allowed: sm, ring, ring-hardened")),
    };
    let elgamal = match a.keygen.as_str() {
        "additive" => false,
        "elgamal" => true,
        s => return Err(format!("--keygen {s}: unknown key generation; allowed: additive, elgamal")),
    };
    let channel = Channel::from_name(&a.channel)
        .ok_or_else(|| format!("--channel {}: unknown channel; allowed: plain, ideal, sealed", a.channel))?;
    if !(3..=attacks::MAX_MEMBERS).contains(&a.members) {
        return Err(format!("--members {}: allowed: 3..={}", a.members, attacks::MAX_MEMBERS));
    }
    let goal = Goal::parse(&a.goal, a.members)?;
    let leak_to = match a.leak_to.as_deref() {
        None if goal == Goal::Key => LeakDest::Outsider,
        None | Some("group") => LeakDest::Group,
        Some("outsider") => LeakDest::Outsider,
        Some(s) => return Err(format!("--leak-to {s}: allowed: group, outsider")),
    };
    let group = super::operator_group(&a.operator, a.params.as_deref(), a.bits)?;
    if elgamal && group.is_xor() {
        return Err("--keygen elgamal uses the pads as exponents, and XOR values are not; allowed with --operator xor: --keygen additive".into());
    }
    let q = Query {
        members: a.members,
        init,
        elgamal,
        epochs: a.epochs,
        channel,
        goal,
        max_cost: a.max_cost.unwrap_or(3.min(a.members - 1)),
        allow: Capability::parse_list(&a.allow)?,
        leak_to,
        leak_secrets: attacks::parse_secrets(&a.leak_secrets)?,
        per_member: a.per_member,
        group,
    };
    q.check()?;
    Ok(q)
}

/// `fraclab attacks`: searches, writes and replays; returns the exit status.
pub(super) fn attacks(a: AttacksArgs) -> u8 {
    let q = match query(&a) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("out/attacks"));
    if let Err(e) = crate::lab::out::prepare(&out) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let tty = std::io::stderr().is_terminal() && !a.quiet;
    let mut progress = |c: u32, done: u64, total: u64| {
        if tty {
            eprint!("\rattacks: cost {c}: {done}/{total} member sets   ");
        }
    };
    let mut replayed = |k: usize, total: usize| {
        if tty {
            eprint!("\rattacks: replayed {k}/{total} through the simulator   ");
        }
    };
    let result = attacks::write(&q, &out, &mut progress, &mut replayed);
    if tty {
        eprintln!();
    }
    let w = match result {
        Ok(w) => w,
        Err(e) => return super::say_lab_error(e),
    };
    print!("{}", table(&q, &w));
    if !a.quiet {
        println!("wrote attacks.csv and {} files under attacks/ to {}", w.files.len() - 1, out.display());
    }
    if !w.disagreements.is_empty() {
        for d in &w.disagreements {
            eprintln!("error: the replay disagrees with the model: {d}");
        }
        return super::EXIT_FAILED;
    }
    0
}

/// The printed table.
fn table(q: &Query, w: &attacks::Written) -> String {
    let mut s = format!(
        "goal {} · n = {} · init {} · {} epoch(s) · channel {} · allow {} · leaks to {} · cost ≤ {}{}\n",
        q.goal.as_string(),
        q.members,
        q.init.as_str(),
        q.epochs,
        q.channel.as_str(),
        q.allow.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(","),
        q.leak_to.as_str(),
        q.max_cost,
        if q.group.is_xor() { format!(" · operator xor ({})", q.group.name) } else { String::new() }
    );
    match w.search.cheapest {
        None => s.push_str(&format!(
            "no attack of cost ≤ {} ({} candidates decided)\n",
            q.max_cost, w.search.decided
        )),
        Some(c) => s.push_str(&format!(
            "{} minimal attack(s); the cheapest costs {c} ({} candidates decided)\n",
            w.rows.len(),
            w.search.decided
        )),
    }
    if w.rows.is_empty() {
        return s;
    }
    let width = w.rows.iter().map(|r| r.actions.chars().count()).max().unwrap_or(0).max(7);
    let pad = |t: &str| format!("{t}{}", " ".repeat(width - t.chars().count()));
    s.push_str(&format!(
        "{:>4}  {:>4}  {}  {:<14}  {}\n",
        "#",
        "cost",
        pad("actions"),
        "compromised",
        "replay"
    ));
    for r in &w.rows {
        let compromised = if r.compromised.is_empty() { "-".to_string() } else { r.compromised.clone() };
        let replay = if r.replayed { "ok" } else { "DISAGREES" };
        s.push_str(&format!(
            "{:>4}  {:>4}  {}  {:<14}  {replay}\n",
            r.attack,
            r.cost,
            pad(&r.actions),
            compromised
        ));
        if !r.alternatives.is_empty() {
            s.push_str(&format!("{:>12}(equivalent: {})\n", "", r.alternatives));
        }
    }
    s
}
