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

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::core::node::NodeId;
use crate::model::spec::Jitter;

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

/// The RNG for one step of a node.
#[derive(Clone, Debug)]
pub enum StepRng {
    Minimum(MinimumJitter),
    // Boxed: the generator is 300 bytes, the minimum none.
    Seeded(Box<ChaCha8Rng>),
}

impl StepRng {
    /// The RNG for one step of node `id` in `term` at local time
    /// `local_micros`.
    pub fn new(jitter: Jitter, id: NodeId, term: u64, local_micros: u64) -> StepRng {
        match jitter {
            Jitter::Minimum => StepRng::Minimum(MinimumJitter),
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

    fn inner(&mut self) -> &mut dyn RngCore {
        match self {
            StepRng::Minimum(rng) => rng,
            StepRng::Seeded(rng) => rng.as_mut(),
        }
    }
}

impl RngCore for StepRng {
    fn next_u32(&mut self) -> u32 {
        self.inner().next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.inner().next_u64()
    }

    fn fill_bytes(&mut self, destination: &mut [u8]) {
        self.inner().fill_bytes(destination)
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
    fn seeded_jitter_is_deterministic() {
        let mut first = StepRng::new(Jitter::Seeded, 2, 3, 4);
        let mut second = StepRng::new(Jitter::Seeded, 2, 3, 4);
        let mut other = StepRng::new(Jitter::Seeded, 2, 3, 5);
        let drawn = first.next_u64();
        assert_eq!(drawn, second.next_u64());
        assert_ne!(drawn, other.next_u64());
    }
}
