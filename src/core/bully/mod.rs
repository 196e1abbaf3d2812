//! The Bully algorithm (Garcia-Molina, 1982) for a fixed membership of 1–9
//! nodes: the highest live id coordinates.
//!
//! A node that suspects the coordinator sends ELECTION to every higher id.
//! Any higher node alive answers (ANSWER, the paper's OK) and takes the
//! election over; a node that no higher id answers within the answer timeout
//! crowns itself and broadcasts COORDINATOR. A node that was answered but
//! hears no COORDINATOR within the coordinator timeout starts over. The
//! coordinator sends HEARTBEAT to everyone; a follower that misses them for
//! a (randomized) leader timeout starts an election, and a node that hears a
//! lower id coordinate starts one too (it "bullies" its way back).
//!
//! Faithful, weaknesses included: no quorum anywhere, so under a partition
//! each side crowns its own coordinator (split brain), and an election
//! started by the lowest id costs O(n²) messages.
//!
//! - `config`: timings, validated at construction;
//! - `message`: ELECTION, ANSWER, COORDINATOR, HEARTBEAT;
//! - `election`: the election and its two timeouts;
//! - `leadership`: accepting or bullying a coordinator, heartbeats;
//! - `state`: the node, the step dispatch, validation, invariants.

mod config;
mod election;
mod leadership;
pub mod message;
mod state;

pub use crate::core::chassis::{
    ConfigError, DurableState, Epoch, MembershipError, Persist, MAX_MEMBERS,
};
pub use config::Config;
pub use message::{Body, Message};
pub use state::BullyNode;

/// The actions of one Bully step.
pub type BullyActions = crate::core::node::Actions<Message, Persist>;
