//! electorate: leader election, leader leases and log replication written as
//! pure state machines, and the verification suite that checks them.
//!
//! - [`core`] holds the protocols (Raft with PreVote, CheckQuorum, leases and
//!   leadership transfer). A node never does I/O, never reads a clock and never
//!   draws from a global RNG: time and randomness are inputs to every step.
//! - [`codec`] is the wire format of every message: checksummed frames
//!   whose decoder never panics on untrusted bytes.
//! - [`sim`] runs whole clusters of core nodes in process, deterministically.
//!
//! See `DESIGN.md` in the steering repository for the architecture and the
//! safety properties, named the same everywhere.

pub mod alloc_count;
pub mod check;
pub mod codec;
pub mod core;
pub mod driver;
pub mod model;
pub mod sim;
