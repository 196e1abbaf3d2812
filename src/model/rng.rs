//! The randomness the model passes to `Node::step`. A model checker needs a
//! deterministic transition relation (it replays paths by action index), so
//! the RNG is made afresh for each step from the state, never carried along.
//!
//! Raft draws only its election timeout from the RNG. Two choices:
//!
//! - [`MinimumJitter`] (the default, `jitter = "minimum"`): every draw is the
//!   range's lower bound, so every election timeout is the minimum. This
//!   loses nothing: ticks in the model are lazy (a node may be ticked at any
//!   instant after its deadline, like a paused process), and a node whose
//!   timeout is the minimum but fires late behaves exactly like one that drew
//!   a longer timeout and fires on time. The timeout's length is read only to
//!   compute that deadline. The search also stays small: no node state
//!   records a particular draw.
//! - `jitter = "seeded"`: a ChaCha8 generator (portable and version-stable)
//!   seeded from the node id, its term and its local clock, as in the
//!   simulator; for checking the core with realistic, differing timeouts.
//! - `jitter = "extremes"`: every draw is either the range's lower bound
//!   or its upper one, and the checker explores both. A step of a node is
//!   taken with [`Draw::Shortest`] (the plain action) or, as the separate
//!   action `Action::LongTimeout`, with [`Draw::Longest`]; the initial
//!   state and every restart offer both too. A step that draws nothing
//!   has no long variant (its `next_state` is `None`, like a power loss
//!   during a step that writes nothing), so the search grows only where a
//!   timeout is drawn.
//!
//! Why the extremes are the set to explore, and what they add to the
//! minimum. The core reads a drawn timeout only to compute the election
//! deadline (`next_deadline`, and the tick that campaigns once it has
//! passed); everything else that speaks of "a timeout" (CheckQuorum, the
//! lease, the pre-vote and vote refusal of a node that heard from a leader
//! recently, a transfer's deadline) reads `election_timeout_min` from the
//! configuration. Under lazy ticks a longer timeout only removes ticks
//! (those between the minimum and the longer deadline), so every run with
//! the maximum is, node state for node state apart from the drawn length,
//! a run with the minimum: the minimum alone remains complete for every
//! property that does not read the drawn length. `"extremes"` checks that
//! claim instead of trusting it: a spec under it must give every verdict
//! the minimum gives (`tests/models.rs`), and it reaches states the
//! minimum cannot, where a node drew the maximum while a peer drew the
//! minimum (the goal "a node follows a leader with an election timeout
//! above the minimum"). Should the core ever read the drawn length
//! elsewhere (a comparison against the node's own timeout), the extremes
//! are where such a comparison turns: a test `now < start + timeout` is
//! decided for every draw once it is decided for the least and the
//! greatest. The upper bound of the core's range is exclusive, so the
//! longest draw is one microsecond short of it; model time moves in
//! quanta, so that deadline is first reached at the same quantum as the
//! bound itself.
//!
//! Symmetry reduction stays sound under `"extremes"`: both draws are
//! offered to every node alike, whatever its id, and the drawn length is
//! part of the node's anonymous hash. It is refused under `"seeded"`,
//! whose draws depend on the id.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::core::node::NodeId;
use crate::model::spec::Jitter;

/// Which extreme of the election-timeout range a step's draws give
/// (`time.jitter = "extremes"`; always [`Draw::Shortest`] otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Draw {
    /// The lower bound: the plain action.
    Shortest,
    /// The upper bound (less one microsecond: the range is half open).
    Longest,
}

/// An RNG whose every bit is zero. `rand`'s uniform integer sampling maps
/// zero to the lower bound of the range (a unit test pins this, since the
/// model's soundness argument depends on it).
#[derive(Clone, Copy, Debug, Default)]
pub struct MinimumJitter;

impl RngCore for MinimumJitter {
    fn next_u32(&mut self) -> u32 {
        0
    }

    fn next_u64(&mut self) -> u64 {
        0
    }

    fn fill_bytes(&mut self, destination: &mut [u8]) {
        destination.fill(0);
    }
}

/// An RNG whose every bit is one. `rand`'s uniform integer sampling maps
/// it to the greatest value of the range (a unit test pins this too).
#[derive(Clone, Copy, Debug, Default)]
pub struct MaximumJitter;

impl RngCore for MaximumJitter {
    fn next_u32(&mut self) -> u32 {
        u32::MAX
    }

    fn next_u64(&mut self) -> u64 {
        u64::MAX
    }

    fn fill_bytes(&mut self, destination: &mut [u8]) {
        destination.fill(u8::MAX);
    }
}

/// The RNG for one step of a node.
#[derive(Clone, Debug)]
pub enum StepRng {
    /// An extreme of every range; `drew` records whether the step drew at
    /// all, so that a long variant of a step that drew nothing is refused.
    Extreme {
        draw: Draw,
        drew: bool,
    },
    // Boxed: the generator is 300 bytes, the extremes none.
    Seeded(Box<ChaCha8Rng>),
}

impl StepRng {
    /// The RNG for one step of node `id` in `term` at local time
    /// `local_micros`, giving `draw` under `"extremes"` (and the minimum
    /// under `"minimum"`, whatever `draw` says: the caller offers
    /// [`Draw::Longest`] only under `"extremes"`).
    pub fn new(jitter: Jitter, draw: Draw, id: NodeId, term: u64, local_micros: u64) -> StepRng {
        match jitter {
            Jitter::Minimum => StepRng::Extreme {
                draw: Draw::Shortest,
                drew: false,
            },
            Jitter::Extremes => StepRng::Extreme { draw, drew: false },
            Jitter::Seeded => {
                // The seed is the three numbers side by side: no hashing, so
                // the same on every machine and every toolchain.
                let mut seed = [0u8; 32];
                seed[..8].copy_from_slice(&id.to_le_bytes());
                seed[8..16].copy_from_slice(&term.to_le_bytes());
                seed[16..24].copy_from_slice(&local_micros.to_le_bytes());
                StepRng::Seeded(Box::new(ChaCha8Rng::from_seed(seed)))
            }
        }
    }

    /// Whether anything was drawn from this RNG (always `false` for a
    /// seeded one, which is never asked).
    pub fn drew(&self) -> bool {
        matches!(self, StepRng::Extreme { drew: true, .. })
    }
}

impl RngCore for StepRng {
    fn next_u32(&mut self) -> u32 {
        match self {
            StepRng::Extreme { draw, drew } => {
                *drew = true;
                match draw {
                    Draw::Shortest => MinimumJitter.next_u32(),
                    Draw::Longest => MaximumJitter.next_u32(),
                }
            }
            StepRng::Seeded(rng) => rng.next_u32(),
        }
    }

    fn next_u64(&mut self) -> u64 {
        match self {
            StepRng::Extreme { draw, drew } => {
                *drew = true;
                match draw {
                    Draw::Shortest => MinimumJitter.next_u64(),
                    Draw::Longest => MaximumJitter.next_u64(),
                }
            }
            StepRng::Seeded(rng) => rng.next_u64(),
        }
    }

    fn fill_bytes(&mut self, destination: &mut [u8]) {
        match self {
            StepRng::Extreme { draw, drew } => {
                *drew = true;
                match draw {
                    Draw::Shortest => MinimumJitter.fill_bytes(destination),
                    Draw::Longest => MaximumJitter.fill_bytes(destination),
                }
            }
            StepRng::Seeded(rng) => rng.fill_bytes(destination),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::node::Node;
    use crate::core::raft::{Config, RaftNode};
    use crate::core::time::Time;
    use rand::Rng;

    #[test]
    fn minimum_jitter_draws_the_lower_bound() {
        let mut rng = MinimumJitter;
        assert_eq!(rng.random_range(150_000u64..300_000), 150_000);
        let config = Config::default();
        let start = Time::from_millis(7);
        let node = RaftNode::new(1, &[1, 2, 3], config.clone(), start, &mut rng).unwrap();
        assert_eq!(
            node.next_deadline(),
            start.saturating_add(config.election_timeout_min)
        );
    }

    #[test]
    fn maximum_jitter_draws_the_greatest_value() {
        let mut rng = MaximumJitter;
        assert_eq!(rng.random_range(150_000u64..300_000), 299_999);
        let config = Config::default();
        let start = Time::from_millis(7);
        let node = RaftNode::new(1, &[1, 2, 3], config.clone(), start, &mut rng).unwrap();
        let longest = config.election_timeout_max - std::time::Duration::from_micros(1);
        assert_eq!(node.election_timeout(), longest);
        assert_eq!(node.next_deadline(), start.saturating_add(longest));
    }

    #[test]
    fn an_extreme_rng_records_whether_it_was_drawn_from() {
        for draw in [Draw::Shortest, Draw::Longest] {
            let mut rng = StepRng::new(Jitter::Extremes, draw, 1, 0, 0);
            assert!(!rng.drew());
            let drawn = rng.random_range(3u64..6);
            assert!(rng.drew());
            assert_eq!(drawn, if draw == Draw::Longest { 5 } else { 3 });
        }
        let mut minimum = StepRng::new(Jitter::Minimum, Draw::Longest, 1, 0, 0);
        assert_eq!(
            minimum.random_range(3u64..6),
            3,
            "\"minimum\" never draws long"
        );
    }

    #[test]
    fn seeded_jitter_is_deterministic() {
        let mut first = StepRng::new(Jitter::Seeded, Draw::Shortest, 2, 3, 4);
        let mut second = StepRng::new(Jitter::Seeded, Draw::Shortest, 2, 3, 4);
        let mut other = StepRng::new(Jitter::Seeded, Draw::Shortest, 2, 3, 5);
        let drawn = first.next_u64();
        assert_eq!(drawn, second.next_u64());
        assert_ne!(drawn, other.next_u64());
    }
}
