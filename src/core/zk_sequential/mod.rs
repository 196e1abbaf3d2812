//! `zk-sequential`: leader election by ZooKeeper's recipe on the lock
//! service's store (issue 16). Each candidate opens a session, creates its
//! ephemeral sequential entry, and leads if its entry is the lowest;
//! otherwise it watches only its predecessor, so a leader's loss wakes one
//! candidate, not all (no herd effect). A session ends when its keep-alives
//! stop for the session timeout, and its entry goes with it.
//!
//! The leader's fencing token is its entry's sequence number (a revision of
//! the store). Its timings are lease-lock's [`Config`], read for a session:
//! `ttl` is the session timeout, `renew_permille` the keep-alive interval,
//! and the leader stops a safety margin before its session could have
//! ended by its own clock, the margin covering the drift allowance as
//! [`Config::validate`] checks.
//!
//! The candidate ([`ZkSequentialNode`]) is a pure state machine like every
//! other variant: time, randomness and the store's replies and
//! notifications are its inputs.

mod state;

pub use crate::core::lease_lock::{Config, ConfigError};
pub use state::ZkSequentialNode;
