//! A node's local time as a function of real time: exact in the lockstep
//! cluster and the fuzz target, drifting and jumping in the simulator
//! (`crate::sim::clock::DriftingClock`).

use crate::core::time::Time;

/// Reads a node's local clock at an instant of real (simulated) time.
pub trait LocalClock {
    fn local(&self, real: Time) -> Time;
}

/// A clock that reads real time exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ExactClock;

impl LocalClock for ExactClock {
    fn local(&self, real: Time) -> Time {
        real
    }
}
