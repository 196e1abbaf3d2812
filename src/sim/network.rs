//! The simulated network: which links are up, and the latency, loss,
//! duplication and reordering of messages on them.

use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::core::node::NodeId;
use crate::core::time::Time;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkOptions {
    /// One-way latency is drawn uniformly from `[latency_min, latency_max]`.
    pub latency_min: Duration,
    pub latency_max: Duration,
    /// Probability that a message is lost.
    pub loss: f64,
    /// Probability that a message is delivered twice.
    pub duplicate: f64,
    /// Whether messages on one link may overtake each other; without it each
    /// link delivers in send order.
    pub reorder: bool,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            latency_min: Duration::from_micros(500),
            latency_max: Duration::from_millis(5),
            loss: 0.0,
            duplicate: 0.0,
            reorder: false,
        }
    }
}

/// What the network does with one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Delivered at each of these times (twice when duplicated).
    Deliver {
        at: Time,
        duplicate_at: Option<Time>,
    },
    Lost,
    /// The link is cut.
    Cut,
}

/// Link state and per-link ordering for `size` nodes with ids `1..=size`.
#[derive(Clone, Debug)]
pub struct Network {
    pub options: NetworkOptions,
    size: usize,
    /// `up[from][to]`, indexed by id - 1.
    up: Vec<Vec<bool>>,
    /// The latest delivery time scheduled on each link: FIFO links never
    /// deliver earlier than it; reordering links count when they do.
    last_delivery: Vec<Vec<Time>>,
    /// Messages scheduled to arrive before one sent earlier on their link.
    pub reordered: u64,
    /// A burst of extra loss (a `lossy` fault): its probability, and when
    /// it ends.
    loss_burst: Option<(f64, Time)>,
}

impl Network {
    pub fn new(size: usize, options: NetworkOptions) -> Network {
        Network {
            options,
            size,
            up: vec![vec![true; size]; size],
            last_delivery: vec![vec![Time::ZERO; size]; size],
            reordered: 0,
            loss_burst: None,
        }
    }

    pub fn is_up(&self, from: NodeId, to: NodeId) -> bool {
        self.up[index(from)][index(to)]
    }

    pub fn set(&mut self, from: NodeId, to: NodeId, up: bool) {
        self.up[index(from)][index(to)] = up;
    }

    /// Leaves up exactly the links for which `is_up(from, to)` holds.
    pub fn set_all(&mut self, is_up: impl Fn(NodeId, NodeId) -> bool) {
        for from in 1..=self.size as NodeId {
            for to in 1..=self.size as NodeId {
                self.up[index(from)][index(to)] = from == to || is_up(from, to);
            }
        }
    }

    pub fn heal(&mut self) {
        self.set_all(|_, _| true);
    }

    /// Whether any link is down.
    pub fn is_partitioned(&self) -> bool {
        self.up.iter().flatten().any(|&up| !up)
    }

    /// Until `until`, every link loses a message with probability `loss`
    /// (or the configured loss, if higher). Overlapping bursts combine to
    /// the higher loss and the later end.
    pub fn lose_until(&mut self, loss: f64, until: Time) {
        let loss = loss.clamp(0.0, 1.0);
        self.loss_burst = Some(match self.loss_burst {
            Some((other, end)) => (loss.max(other), until.max(end)),
            None => (loss, until),
        });
    }

    /// From now on no message is lost: the configured loss and any burst
    /// end (the liveness phase's clean network).
    pub fn stop_losing(&mut self) {
        self.options.loss = 0.0;
        self.loss_burst = None;
    }

    fn loss_at(&self, now: Time) -> f64 {
        match self.loss_burst {
            Some((burst, until)) if now < until => burst.max(self.options.loss),
            _ => self.options.loss,
        }
    }

    /// Decides when (and whether) a message sent now arrives.
    pub fn route(&mut self, from: NodeId, to: NodeId, now: Time, rng: &mut ChaCha8Rng) -> Fate {
        if !self.is_up(from, to) {
            return Fate::Cut;
        }
        let loss = self.loss_at(now);
        if loss > 0.0 && rng.random_bool(loss) {
            return Fate::Lost;
        }
        let at = self.arrival(from, to, now, rng);
        let duplicate_at = (self.options.duplicate > 0.0
            && rng.random_bool(self.options.duplicate))
        .then(|| self.arrival(from, to, now, rng));
        Fate::Deliver { at, duplicate_at }
    }

    /// A latency for a message between a client and a node: clients sit
    /// beside the cluster, so only latency applies.
    pub fn client_latency(&self, rng: &mut ChaCha8Rng) -> Duration {
        self.latency(rng)
    }

    fn latency(&self, rng: &mut ChaCha8Rng) -> Duration {
        let min = self.options.latency_min.as_micros() as u64;
        let max = self.options.latency_max.as_micros() as u64;
        Duration::from_micros(if max > min {
            rng.random_range(min..=max)
        } else {
            min
        })
    }

    fn arrival(&mut self, from: NodeId, to: NodeId, now: Time, rng: &mut ChaCha8Rng) -> Time {
        let mut at = now.saturating_add(self.latency(rng));
        let last = &mut self.last_delivery[index(from)][index(to)];
        if !self.options.reorder {
            at = at.max(*last);
        } else if at < *last {
            self.reordered += 1;
        }
        *last = (*last).max(at);
        at
    }
}

fn index(id: NodeId) -> usize {
    (id - 1) as usize
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn a_loss_burst_loses_messages_until_it_ends() {
        let mut network = Network::new(2, NetworkOptions::default());
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let end = Time::from_millis(100);
        network.lose_until(1.0, end);
        // A shorter, milder burst does not cut the first one short.
        network.lose_until(0.5, Time::from_millis(10));
        for millis in [0, 50, 99] {
            let fate = network.route(1, 2, Time::from_millis(millis), &mut rng);
            assert_eq!(fate, Fate::Lost, "at {millis} ms");
        }
        let fate = network.route(1, 2, end, &mut rng);
        assert!(
            matches!(fate, Fate::Deliver { .. }),
            "after the burst: {fate:?}"
        );
    }
}
