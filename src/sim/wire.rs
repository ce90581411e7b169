//! What travels on the wire, and the simulator's side of the channel modes
//! and of the network adversary (reference §1 row 8, §4).
//!
//! - `ideal` and `plain`: the envelope itself travels. Nothing is
//!   authenticated: a tampered payload is whatever the flipped bits decode
//!   to (or garbage the receiver cannot parse), a forgery is taken for the
//!   sender's.
//! - `sealed`: every transmission (a retransmission too) is sealed by the
//!   sender's [`Endpoint`] to the recipient's current incarnation, and opened
//!   by the recipient's, which refuses with a reason what fails a check.
//!
//! Each party's long-term keys come from the stream `keys/<slot>/<inc>`,
//! its ephemeral keys from `seal/<slot>/<inc>`; the network adversary's
//! signing key from `keys/adversary` and its choices from `wire/<k>` (k
//! its position among the network adversaries). The protocol's own streams
//! are untouched, so a run draws the same secrets on every channel.

use std::collections::{BTreeMap, VecDeque};

use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

use super::network::{Fate, NetworkModel};
use super::rng::{stream, unit_f64};
use crate::adversary::{Wire as WireAdversary, WireAttack};
use crate::group::GroupParams;
use crate::protocol::message::wire;
use crate::protocol::sealed::{self, Admit, Endpoint, Keys, PublicKeys, Reject, Sealed, party};
use crate::protocol::{Envelope, LocalTime, Party};

/// One message on the wire.
#[derive(Clone, Debug)]
pub enum Wire {
    /// `ideal` or `plain`: the envelope as sent (or as tampered).
    Clear(Envelope),
    /// `ideal` or `plain`: a tampered payload that no longer decodes; the
    /// envelope is the one sent, kept for its addresses.
    Garbled(Envelope),
    /// `sealed`: the signed and encrypted message, as tampered if it was
    /// (boxed: it is larger than a clear envelope, and the sealed channel's
    /// cryptography costs far more than the allocation).
    Sealed(Box<Sealed>),
}

impl Wire {
    /// The claimed sender.
    pub fn from(&self) -> Party {
        match self {
            Wire::Clear(e) | Wire::Garbled(e) => e.from,
            Wire::Sealed(s) => party(s.header.from),
        }
    }

    /// The recipient, and on the sealed channel the incarnation whose key
    /// it is sealed to (the network delivers it to that node only).
    pub fn to(&self) -> (Party, Option<u32>) {
        match self {
            Wire::Clear(e) | Wire::Garbled(e) => (e.to, None),
            Wire::Sealed(s) => (party(s.header.to), Some(s.header.to_inc)),
        }
    }
}

/// A message a replaying adversary can send again: one delivered and
/// accepted earlier, with its envelope (for the trace and the filters).
struct Recorded {
    msg: u64,
    wire: Wire,
    env: Envelope,
}

/// How many delivered messages a replaying adversary keeps to choose from.
const REPLAY_POOL: usize = 512;

/// One network adversary and its own stream of choices.
struct Attacker {
    adversary: WireAdversary,
    rng: ChaCha20Rng,
}

/// The sealed channel's keys and endpoints.
struct SealedState {
    /// The current incarnation's endpoint in each slot (0 = the SM).
    endpoints: Vec<Option<Endpoint>>,
    seal_rngs: Vec<ChaCha20Rng>,
    /// Every incarnation's public keys: the PKI everyone trusts.
    directory: BTreeMap<(u32, u32), PublicKeys>,
    /// The current incarnation of each slot, as the directory knows it.
    current: Vec<u32>,
    adversary: Keys,
}

/// The channel mode's and the network adversary's state in a run.
pub struct Channel {
    seed: u64,
    group: &'static GroupParams,
    /// n: the payloads a receiver takes must fit a group of this size.
    members: u32,
    sealed: Option<SealedState>,
    window_us: i64,
    attackers: Vec<Attacker>,
    pool: VecDeque<Recorded>,
}

/// An attacker's move on one transmission.
pub enum Move {
    /// The message in flight is now this.
    Tampered(Wire),
    /// An extra message: a replay (of message `of`) or a forgery.
    /// It crosses the same network, its fate drawn from the attacker's
    /// stream.
    Inject {
        /// [`WireAttack::Replay`] or [`WireAttack::Forge`].
        attack: WireAttack,
        /// For a replay, the message replayed.
        of: Option<u64>,
        /// What goes on the wire.
        wire: Wire,
        /// The envelope it claims to carry.
        env: Envelope,
        /// What the network does with it.
        fate: Fate,
    },
}

fn keys(seed: u64, label: &str) -> Keys {
    let mut bytes = [0u8; 64];
    stream(seed, label).fill_bytes(&mut bytes);
    Keys::from_seed(bytes)
}

impl Channel {
    /// `sealed`: whether messages are sealed; `window_us`: the timestamp
    /// window. `slots` = members + 1 (slot 0 is the SM, keyed whether or not
    /// the run has one).
    pub fn new(
        seed: u64,
        group: &'static GroupParams,
        sealed: bool,
        slots: usize,
        window_us: i64,
        adversaries: impl Iterator<Item = WireAdversary>,
    ) -> Channel {
        let sealed = sealed.then(|| {
            let mut s = SealedState {
                endpoints: Vec::with_capacity(slots),
                seal_rngs: Vec::with_capacity(slots),
                directory: BTreeMap::new(),
                current: vec![0; slots],
                adversary: keys(seed, "keys/adversary"),
            };
            for slot in 0..slots {
                s.endpoints.push(None);
                s.seal_rngs.push(stream(seed, &format!("seal/{slot}/0")));
                Channel::key_slot(seed, &mut s, slot, 0, window_us);
            }
            s
        });
        let attackers = adversaries
            .enumerate()
            .map(|(k, adversary)| Attacker { adversary, rng: stream(seed, &format!("wire/{k}")) })
            .collect();
        let members = slots.saturating_sub(1) as u32;
        Channel { seed, group, members, sealed, window_us, attackers, pool: VecDeque::new() }
    }

    fn key_slot(seed: u64, s: &mut SealedState, slot: usize, inc: u32, window_us: i64) {
        let k = keys(seed, &format!("keys/{slot}/{inc}"));
        s.directory.insert((slot as u32, inc), k.public());
        s.endpoints[slot] = Some(Endpoint::new(k, party(slot as u32), inc, window_us));
        s.current[slot] = inc;
        s.seal_rngs[slot] = stream(seed, &format!("seal/{slot}/{inc}"));
    }

    /// A replacement took `slot`: its keys join the directory.
    pub fn replaced(&mut self, slot: usize, inc: u32) {
        let (seed, window) = (self.seed, self.window_us);
        if let Some(s) = &mut self.sealed {
            Channel::key_slot(seed, s, slot, inc, window);
        }
    }

    /// What the sender in `slot` puts on the wire for `env` at its clock
    /// `now`.
    pub fn send(&mut self, slot: usize, now: LocalTime, env: Envelope) -> Wire {
        let Some(s) = &mut self.sealed else { return Wire::Clear(env) };
        let to = env.to.trace_id() as usize;
        let to_inc = s.current[to];
        let to_keys = s.directory[&(to as u32, to_inc)];
        let endpoint = s.endpoints[slot].as_mut().expect("every slot has keys");
        Wire::Sealed(Box::new(endpoint.seal(self.group, now, &env, to_inc, &to_keys, &mut s.seal_rngs[slot])))
    }

    /// What the recipient in `slot` makes of `wire` at its clock `now`,
    /// given what its protocol state admits. A payload that names a party
    /// outside the group (a tampered id, say) is refused as malformed on
    /// every channel: it is data, never an address or an index.
    pub fn receive(
        &mut self,
        slot: usize,
        now: LocalTime,
        wire: &Wire,
        admit: &Admit,
    ) -> Result<Envelope, Reject> {
        let env = self.open(slot, now, wire, admit)?;
        if env.fits(self.members) { Ok(env) } else { Err(Reject::Malformed) }
    }

    /// [`Channel::receive`] of a wire the caller has no further use for:
    /// a clear envelope is taken, not copied.
    pub fn receive_owned(
        &mut self,
        slot: usize,
        now: LocalTime,
        wire: Wire,
        admit: &Admit,
    ) -> Result<Envelope, Reject> {
        let env = match wire {
            Wire::Clear(env) => env,
            other => self.open(slot, now, &other, admit)?,
        };
        if env.fits(self.members) { Ok(env) } else { Err(Reject::Malformed) }
    }

    /// Whether messages are sealed (and so whether a receiver's
    /// [`Admit`] matters).
    pub fn is_sealed(&self) -> bool {
        self.sealed.is_some()
    }

    fn open(&mut self, slot: usize, now: LocalTime, wire: &Wire, admit: &Admit) -> Result<Envelope, Reject> {
        match (wire, &mut self.sealed) {
            (Wire::Clear(env), _) => Ok(env.clone()),
            (Wire::Garbled(_), _) => Err(Reject::Malformed),
            (Wire::Sealed(sealed), Some(s)) => {
                let sender = s.directory.get(&(sealed.header.from, sealed.header.from_inc));
                let endpoint = s.endpoints[slot].as_mut().expect("every slot has keys");
                endpoint.open(self.group, now, sealed, sender, admit)
            }
            (Wire::Sealed(_), None) => unreachable!("sealed wires exist only on the sealed channel"),
        }
    }

    /// Whether there is any network adversary.
    pub fn attacks(&self) -> bool {
        !self.attackers.is_empty()
    }

    /// Whether any network adversary replays (and so wants delivered
    /// messages recorded).
    pub fn replays(&self) -> bool {
        self.attackers.iter().any(|a| a.adversary.attack == WireAttack::Replay)
    }

    /// Records a message delivered and accepted, for replays.
    pub fn delivered(&mut self, msg: u64, wire: Wire, env: Envelope) {
        if self.pool.len() == REPLAY_POOL {
            self.pool.pop_front();
        }
        self.pool.push_back(Recorded { msg, wire, env });
    }

    /// Every network adversary's move on the transmission of `env` (sent as
    /// `wire`), in declaration order. Each draws from its own stream, one
    /// draw to decide and more to act, whatever the others do.
    pub fn attack(&mut self, net: &NetworkModel, env: &Envelope, wire: &Wire) -> Vec<Move> {
        let mut moves = Vec::new();
        let mut current = wire.clone();
        for a in &mut self.attackers {
            let fires = unit_f64(&mut a.rng) < a.adversary.probability;
            let rng = &mut a.rng;
            match a.adversary.attack {
                WireAttack::Tamper if fires && a.adversary.targets(env.from, env.mode) => {
                    current = tamper(self.group, &current, rng);
                    moves.push(Move::Tampered(current.clone()));
                }
                WireAttack::Replay if fires => {
                    let candidates: Vec<&Recorded> =
                        self.pool.iter().filter(|r| a.adversary.targets(r.env.from, r.env.mode)).collect();
                    if !candidates.is_empty() {
                        let pick = (rng.next_u64() % candidates.len() as u64) as usize;
                        let r = candidates[pick];
                        moves.push(Move::Inject {
                            attack: WireAttack::Replay,
                            of: Some(r.msg),
                            wire: r.wire.clone(),
                            env: r.env.clone(),
                            fate: net.transmit(rng),
                        });
                    }
                }
                WireAttack::Forge if fires && a.adversary.targets(env.from, env.mode) => {
                    let forged = Envelope { body: wire::forge(self.group, &env.body, rng), ..env.clone() };
                    let wire = match (wire, &self.sealed) {
                        (Wire::Sealed(real), Some(s)) => {
                            // The real header (the adversary sees it), the
                            // adversary's signature.
                            let to_keys = s.directory[&(real.header.to, real.header.to_inc)];
                            let mut eph = [0u8; 32];
                            rng.fill_bytes(&mut eph);
                            let payload = wire::encode(self.group, &forged);
                            Wire::Sealed(Box::new(sealed::seal(
                                &s.adversary,
                                real.header.clone(),
                                &to_keys.dh,
                                &payload,
                                eph,
                            )))
                        }
                        _ => Wire::Clear(forged.clone()),
                    };
                    let fate = net.transmit(rng);
                    moves.push(Move::Inject { attack: WireAttack::Forge, of: None, wire, env: forged, fate });
                }
                _ => {}
            }
        }
        moves
    }
}

/// Flips one bit: of the ciphertext when sealed; of the payload's value
/// otherwise (of its kind tag when the payload has no value), re-decoded.
fn tamper(group: &GroupParams, wire: &Wire, rng: &mut dyn Rng) -> Wire {
    match wire {
        Wire::Sealed(s) => {
            let mut s = s.clone();
            let bit = rng.next_u64() % (8 * s.ciphertext.len() as u64);
            s.ciphertext[(bit / 8) as usize] ^= 1 << (bit % 8);
            Wire::Sealed(s)
        }
        Wire::Clear(env) | Wire::Garbled(env) => {
            let mut bytes = wire::encode(group, env);
            let first = if bytes.len() > wire::TAG_AT + 1 { wire::TAG_AT + 1 } else { wire::TAG_AT };
            let bits = 8 * (bytes.len() - first) as u64;
            let bit = rng.next_u64() % bits;
            bytes[first + (bit / 8) as usize] ^= 1 << (bit % 8);
            match wire::decode(group, &bytes) {
                Some((seq, to_inc, body)) => Wire::Clear(Envelope { seq, to_inc, body, ..env.clone() }),
                None => Wire::Garbled(env.clone()),
            }
        }
    }
}

/// The sealed channel's timestamp window: twice the clock skew (two clocks
/// each off by up to it) plus the latency bound plus 1 ms.
pub fn window_us(clock_skew_us: i64, latency_bound_us: u64) -> i64 {
    2 * clock_skew_us + latency_bound_us as i64 + 1_000
}
