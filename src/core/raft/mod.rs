//! Raft (Ongaro & Ousterhout, 2014; Ongaro's thesis, 2014) for a fixed
//! membership of 1–9 nodes, with PreVote, CheckQuorum, leader leases,
//! ReadIndex reads and leadership transfer.
//!
//! The node is split by concern, each file an `impl RaftNode` (role-level)
//! or `impl Replica` (role-independent, or a leader's state passed in) block:
//! - `election`: campaigning, pre-vote and vote rounds, counting votes;
//! - `replication`: appends, the consistency check, commit and apply;
//! - `batching`: entries joining an append still waiting to be sent;
//! - `lease`: heartbeat rounds, the lease, lease and ReadIndex reads;
//! - `transfer`: leadership transfer (TimeoutNow);
//! - `snapshot`, `install`: snapshots of the state machine, log compaction
//!   and InstallSnapshot (paper §7);
//! - `relabel`: the same node under other node ids (symmetry reduction);
//! - `role`: the roles, the leader's state, the asserted role transitions;
//! - `step`: settling the term, then one dispatch per role;
//! - `state`: the replica every role holds, construction, invariants.

mod batching;
mod config;
pub mod configuration;
pub mod counters;
pub mod deliberate_bugs;
mod election;
mod install;
#[cfg(test)]
mod invariant_checks;
mod lease;
pub mod log;
pub mod message;
mod progress;
#[cfg(test)]
mod refusals;
mod relabel;
mod replication;
mod role;
pub mod snapshot;
mod state;
mod step;
pub mod storage;
#[cfg(test)]
mod testing;
mod transfer;

pub use crate::core::chassis::{quorum, MembershipError, MAX_MEMBERS};
pub use config::{Config, ConfigError};
pub use configuration::Configuration;
pub use counters::{LogIndex, Round, Term, MAX_TERM};
pub use log::{Command, Entry, Log};
pub use message::{
    Append, AppendResponse, AppendResult, Body, Heartbeat, HeartbeatResponse, InstallSnapshot,
    InstallSnapshotResponse, Message, VoteRequest, VoteResponse,
};
pub use snapshot::Snapshot;
pub use state::RaftNode;
pub use storage::{DurableState, HardState, Persist};

/// The actions of one Raft step.
pub type RaftActions = crate::core::node::Actions<Message, Persist>;
