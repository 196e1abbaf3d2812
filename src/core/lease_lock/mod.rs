//! `lease-lock`: leader election through a lease on one key of a
//! linearizable store (Chubby's lock, an etcd lease, a Kubernetes Lease),
//! with the grant's revision as fencing token (issue 16).
//!
//! The candidate ([`LeaseLockNode`]) is a pure state machine like every
//! other variant: time, randomness and the store's replies are its inputs.
//! It talks only to the lock service (`crate::core::lock_service`), never
//! to another candidate.

mod config;
mod state;

pub use config::{Config, ConfigError, Expiry};
pub use state::LeaseLockNode;
