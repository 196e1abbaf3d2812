//! A ring election in the style of Chang & Roberts (1979) for a fixed
//! membership of 1–9 nodes, on the logical ring of the sorted member ids.
//!
//! A node that suspects the coordinator sends ELECTION with its own id to
//! its successor. Each node passes a higher id on and replaces a lower one
//! by its own (once); the node whose own id comes back has outranked every
//! live node and wins, then sends COORDINATOR round the ring. Every hop is
//! acknowledged (ACK); a successor that does not acknowledge within the ack
//! timeout is skipped. The coordinator sends HEARTBEAT to everyone; a
//! follower that misses them for a (randomized) leader timeout starts an
//! election.
//!
//! Faithful, weaknesses included: no quorum anywhere, so under a partition
//! each side's lap crowns its own coordinator (split brain). An election
//! costs O(n) messages per lap: at most 2n − 1 ELECTION and n COORDINATOR
//! from a single starter, each acknowledged.
//!
//! - `config`: timings, validated at construction;
//! - `message`: ELECTION, COORDINATOR, ACK, HEARTBEAT;
//! - `topology`: the ring order;
//! - `hops`: acknowledged hops and skipping dead successors;
//! - `election`: Chang–Roberts;
//! - `leadership`: COORDINATOR's lap, heartbeats, believing a coordinator;
//! - `state`: the node, the step dispatch, validation, invariants.

mod config;
mod election;
mod hops;
mod leadership;
pub mod message;
mod state;
pub mod topology;

pub use crate::core::chassis::{
    ConfigError, DurableState, Epoch, MembershipError, Persist, MAX_MEMBERS,
};
pub use config::Config;
pub use message::{Body, Hop, Message};
pub use state::RingNode;
pub use topology::successor_of;

/// The actions of one Ring step.
pub type RingActions = crate::core::node::Actions<Message, Persist>;
