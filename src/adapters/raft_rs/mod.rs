//! raft-rs (TiKV's `raft` crate, 0.7) under electorate's simulator, safety
//! monitors and linearizability check (issue 19; DIFFERENTIAL.md gives the
//! results beside electorate's Raft).
//!
//! The adapter puts raft-rs's `RawNode` behind [`crate::core::node::Node`]:
//!
//! - time becomes raft-rs ticks ([`Settings::tick`] of local time each),
//!   and raft-rs's randomized election timeout is redrawn from the
//!   simulator's seeded RNG at every reset, from raft-rs's own range
//!   (`timeout`), so every run reproduces from its seed;
//! - each `Ready` is handled in raft-rs's documented order and every
//!   durable write (entries, hard state, commit index) goes through the
//!   persist path as a [`Record`] that the caller makes durable before the
//!   step's messages leave, so a crash keeps exactly what was persisted and
//!   a restart rebuilds the node from it ([`RaftRsLog`]);
//! - client writes and compare-and-sets are proposed as entries carrying
//!   the request (`command`), reads go through ReadIndex (or, in
//!   [`RaftRs::with_lease_reads`], raft-rs's lease-based reads), and the
//!   leader answers as electorate's Raft does (`clients`); PreVote and
//!   CheckQuorum are on;
//! - the monitors read raft-rs's role, term, leader, commit index and log.
//!
//! What the checks claim for raft-rs: Election Safety, Log Matching,
//! Leader Completeness and State Machine Safety (the monitors), the
//! liveness phase, and linearizability of the client history with
//! ReadIndex reads. raft-rs has no lease bounded in time — its lease reads
//! trust CheckQuorum and ignore clock drift — so Lease Safety is not a
//! property of `raft-rs`; under `raft-rs-lease` its verdicts and any stale
//! reads are findings about raft-rs, not electorate failures.

mod algorithm;
mod clients;
mod command;
mod message;
mod node;
mod storage;
mod timeout;

#[cfg(test)]
mod lease_tests;
#[cfg(test)]
mod tests;

pub use algorithm::RaftRs;
pub use message::RaftRsMessage;
pub use node::{RaftRsNode, Settings};
pub use storage::{NodeStorage, RaftRsLog, Record};
