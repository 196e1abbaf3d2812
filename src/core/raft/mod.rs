//! Raft (Ongaro & Ousterhout, 2014; Ongaro's thesis, 2014) for a fixed
//! membership of 1–9 nodes, with PreVote, CheckQuorum, leader leases,
//! ReadIndex reads and leadership transfer.
//!
//! The node is split by concern, each file an `impl RaftNode` block:
//! - `election`: timeouts, pre-vote and vote rounds, becoming leader;
//! - `replication`: appends, the consistency check, commit and apply;
//! - `lease`: heartbeat rounds, the lease, lease and ReadIndex reads;
//! - `transfer`: leadership transfer (TimeoutNow);
//! - `relabel`: the same node under other node ids (symmetry reduction);
//! - this file: the state, the step dispatch, term handling, invariants.

mod config;
#[cfg(feature = "deliberate-bugs")]
pub mod deliberate_bugs;
mod election;
mod lease;
pub mod log;
pub mod message;
mod progress;
pub mod quorum;
mod relabel;
mod replication;
mod state;
pub mod storage;
mod transfer;

pub use config::{Config, ConfigError, MAX_MEMBERS};
pub use log::{Command, Entry, Log, LogIndex, Term, MAX_TERM};
pub use message::{AppendResult, Body, Message};
pub use state::RaftNode;
pub use storage::{DurableState, HardState, Persist};

/// The actions of one Raft step.
pub type RaftActions = crate::core::node::Actions<Message, Persist>;
