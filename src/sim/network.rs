//! The network model: per-message latency (fixed, uniform or shifted
//! exponential), loss and duplication, all drawn from the "network" stream
//! (for a message a network adversary injects, from that adversary's own).
//! Every transmission takes exactly four draws, whatever its fate, so a
//! change of loss rate does not re-shuffle the latencies of other messages.

use rand_core::Rng;

use super::rng::{uniform_i64, unit_f64};

/// Latency distribution, in µs: how long after it is sent a message (or
/// each copy of a duplicated one) arrives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    /// Every message takes exactly `value_us`.
    Fixed {
        /// The latency, in µs.
        value_us: u64,
    },
    /// Uniform over `min_us..=max_us`.
    Uniform {
        /// The least latency, in µs.
        min_us: u64,
        /// The greatest latency, in µs (inclusive; at least `min_us`).
        max_us: u64,
    },
    /// `min_us` plus an exponential draw with mean `mean_us`, rounded to
    /// the nearest µs.
    Exponential {
        /// The least latency, in µs.
        min_us: u64,
        /// The mean of the exponential part, in µs.
        mean_us: u64,
    },
}

impl Latency {
    /// The latency for one 64-bit draw `u`.
    fn sample(&self, u: u64) -> u64 {
        match *self {
            Latency::Fixed { value_us } => value_us,
            Latency::Uniform { min_us, max_us } => {
                let span = u128::from(max_us - min_us) + 1;
                min_us + ((u128::from(u) * span) >> 64) as u64
            }
            Latency::Exponential { min_us, mean_us } => {
                // libm, not f64::ln: the platform's libm may differ in the last bit.
                let unit = (u >> 11) as f64 / (1u64 << 53) as f64;
                let x = -(mean_us as f64) * libm::log(1.0 - unit);
                min_us + libm::round(x) as u64
            }
        }
    }

    /// A latency no message exceeds, or (exponential) one exceeded with
    /// probability e^−20 ≈ 2·10⁻⁹: the sealed channel's timestamp window.
    pub fn bound_us(&self) -> u64 {
        match *self {
            Latency::Exponential { min_us, mean_us } => min_us + 20 * mean_us,
            other => other.typical_max_us(),
        }
    }

    /// A latency that almost every message stays under; sets the link's
    /// retransmission timeout.
    pub fn typical_max_us(&self) -> u64 {
        match *self {
            Latency::Fixed { value_us } => value_us,
            Latency::Uniform { max_us, .. } => max_us,
            Latency::Exponential { min_us, mean_us } => min_us + 4 * mean_us,
        }
    }
}

/// How the network treats every transmission: each is lost, delivered or
/// duplicated independently of the others.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetworkModel {
    /// Each delivered copy's latency.
    pub latency: Latency,
    /// Per-message drop probability in [0, 1).
    pub loss: f64,
    /// Per-message duplication probability in [0, 1).
    pub duplicate: f64,
}

/// What the network does with one transmission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// It never arrives.
    Lost,
    /// It arrives once.
    Delivered {
        /// µs from sending to arrival.
        latency_us: u64,
    },
    /// It arrives twice, each copy with its own latency.
    Duplicated {
        /// µs from sending to the original's arrival.
        latency_us: u64,
        /// µs from sending to the extra copy's arrival (it may come first).
        copy_latency_us: u64,
    },
}

impl NetworkModel {
    /// Draws one transmission's fate from `rng`: always four draws (loss,
    /// duplication, two latencies), whatever the fate. A lost message is
    /// never also duplicated.
    pub fn transmit(&self, rng: &mut dyn Rng) -> Fate {
        let lost = unit_f64(rng) < self.loss;
        let dup = unit_f64(rng) < self.duplicate;
        let (a, b) = (rng.next_u64(), rng.next_u64());
        let latency_us = self.latency.sample(a);
        match (lost, dup) {
            (true, _) => Fate::Lost,
            (false, false) => Fate::Delivered { latency_us },
            (false, true) => Fate::Duplicated { latency_us, copy_latency_us: self.latency.sample(b) },
        }
    }

    /// The fate of every transmission, when the model leaves nothing to
    /// chance (no loss, no duplication, a fixed latency): what
    /// [`transmit`](Self::transmit) returns whatever it draws.
    pub fn certain(&self) -> Option<Fate> {
        match self.latency {
            Latency::Fixed { value_us } if self.loss <= 0.0 && self.duplicate <= 0.0 => {
                Some(Fate::Delivered { latency_us: value_us })
            }
            _ => None,
        }
    }

    /// Link retransmission timeout: two typical one-way latencies plus 1 ms.
    pub fn retransmit_timeout_us(&self) -> i64 {
        2 * self.latency.typical_max_us() as i64 + 1_000
    }
}

/// A member's clock offset, uniform in ±`skew_us`.
pub fn draw_skew(rng: &mut dyn Rng, skew_us: i64) -> i64 {
    uniform_i64(rng, -skew_us, skew_us)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::stream;

    #[test]
    fn loss_rate_is_respected_statistically() {
        let net = NetworkModel { latency: Latency::Fixed { value_us: 10 }, loss: 0.3, duplicate: 0.0 };
        let mut rng = stream(3, "network");
        assert_eq!(net.certain(), None);
        let lost = (0..20_000).filter(|_| net.transmit(&mut rng) == Fate::Lost).count();
        assert!((5_600..6_400).contains(&lost), "lost {lost} of 20000 at p = 0.3");
    }

    /// A certain model's `transmit` is its `certain()` fate whatever it
    /// draws; any chance at all (loss, duplication, a latency range) makes
    /// it uncertain.
    #[test]
    fn a_certain_network_is_the_same_fate_every_draw() {
        let fixed = NetworkModel { latency: Latency::Fixed { value_us: 10_000 }, loss: 0.0, duplicate: 0.0 };
        let fate = fixed.certain().expect("no loss, no duplication, fixed latency");
        let mut rng = stream(9, "network");
        assert!((0..10_000).all(|_| fixed.transmit(&mut rng) == fate));
        assert_eq!(NetworkModel { duplicate: 0.01, ..fixed }.certain(), None);
        assert_eq!(NetworkModel { loss: 1e-9, ..fixed }.certain(), None);
        let uni = NetworkModel { latency: Latency::Uniform { min_us: 5, max_us: 6 }, ..fixed };
        assert_eq!(uni.certain(), None);
    }

    #[test]
    fn latencies_stay_in_their_support() {
        let mut rng = stream(4, "network");
        let uni = NetworkModel {
            latency: Latency::Uniform { min_us: 5_000, max_us: 40_000 },
            loss: 0.0,
            duplicate: 0.0,
        };
        let exp = NetworkModel { latency: Latency::Exponential { min_us: 2_000, mean_us: 20_000 }, ..uni };
        let mut exp_sum = 0u64;
        for _ in 0..10_000 {
            match uni.transmit(&mut rng) {
                Fate::Delivered { latency_us } => assert!((5_000..=40_000).contains(&latency_us)),
                f => panic!("unexpected {f:?}"),
            }
            match exp.transmit(&mut rng) {
                Fate::Delivered { latency_us } => {
                    assert!(latency_us >= 2_000);
                    exp_sum += latency_us - 2_000;
                }
                f => panic!("unexpected {f:?}"),
            }
        }
        let mean = exp_sum / 10_000;
        assert!((18_000..22_000).contains(&mean), "exponential mean {mean}");
    }
}
