//! electorate: leader election, leader leases and log replication written as
//! pure state machines, and the verification suite that checks them.
//!
//! `DESIGN.md`, at the top of the repository, gives the architecture, the
//! core contract and the safety properties, named the same everywhere.
//!
//! - [`core`] holds the protocols: Raft (PreVote, CheckQuorum, leases,
//!   ReadIndex, leadership transfer), Bully and Ring, on one chassis
//!   ([`core::chassis`]) behind one contract ([`core::node::Node`]). A node
//!   never does I/O, never reads a clock and never draws from a global RNG:
//!   time and randomness are inputs to every step.
//! - [`codec`] is the wire format of every message: checksummed frames
//!   whose decoder never panics on untrusted bytes.
//! - [`sim`] runs whole clusters of core nodes in process,
//!   deterministically: simulated time and faults, swarm testing, metrics,
//!   and the scenario language, whose files are one folder an algorithm:
//!   `tests/testdata/raft`, `tests/testdata/bully`, `tests/testdata/ring`
//!   and `tests/testdata/raft-rs`.
//! - [`model`] model-checks the same nodes exhaustively with stateright,
//!   from the specs in `models/*.toml`.
//! - [`check`] judges runs from outside: the safety property monitors,
//!   client histories and their linearizability, reports.
//! - [`driver`] runs the core for real: threads, the monotonic clock, TCP,
//!   storage on disk, the client library and the multi-process cluster.
//! - [`harness`] is what the simulator, the model checker, the driver and
//!   the tests share above the core: the description of each algorithm
//!   variant.
//! - `adapters` (feature `raft-rs`, on by default) puts foreign Raft
//!   implementations behind the same node interface: raft-rs, so every
//!   checker above judges it too.
//! - [`alloc_count`] is a counting allocator for the benches and tests that
//!   bound allocations.
//!
//! The `electorate` command line (`src/main.rs`, `src/cli`) is built on
//! these.

#[cfg(feature = "raft-rs")]
pub mod adapters;
pub mod alloc_count;
pub mod check;
pub mod codec;
pub mod core;
pub mod driver;
pub mod harness;
pub mod model;
pub mod sim;
