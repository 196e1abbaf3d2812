//! What Bully and Ring share. Both elect a coordinator and replicate
//! nothing, so they need far less than Raft, and the same few things:
//!
//! - `epoch`: the leadership epoch (their [`Node::term`]) and its one durable
//!   record, so that a restarted node never reuses an epoch it has seen;
//! - `config`: membership and timing checks, and the typed [`ConfigError`];
//! - `local_store`: serving clients from the leader's own [`KvStore`], with
//!   no replication: what these algorithms honestly give;
//! - `report`: role and leader events, once per step.
//!
//! [`Node::term`]: crate::core::node::Node::term
//! [`KvStore`]: crate::core::kv::KvStore

pub mod config;
pub mod epoch;
pub mod local_store;
pub mod report;

pub use config::{ConfigError, MAX_MEMBERS};
pub use epoch::{DurableState, Epoch, Persist};
