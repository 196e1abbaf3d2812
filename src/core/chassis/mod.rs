//! The protocol chassis: what Raft, Bully and Ring share, written once, so
//! each protocol writes only what it does on a tick, a message and a client
//! request. (The name is the car's: the frame every body is bolted to.)
//!
//! For every protocol:
//! - [`context`]: the step context every handler receives;
//! - [`membership`]: the validated member list, peers, higher ids, quorum,
//!   the one [`MAX_MEMBERS`] and the one [`MembershipError`];
//! - [`quorum`]: majority arithmetic;
//! - [`protocol`]: the [`Node::step`] skeleton and the [`Protocol`] hooks
//!   it calls.
//!
//! For Bully and Ring, which elect a coordinator and replicate nothing:
//! - [`coordination`]: the state both keep alike (members, epoch, the
//!   coordinator believed in, the local store, the clock) and the epoch
//!   rule, the shared invariants and the client path over it;
//! - [`epoch`]: the leadership epoch (their [`Node::term`]) that stamps
//!   every message, and its one durable record, so that a restarted node
//!   never reuses an epoch it has seen;
//! - [`config`]: leader-timing checks, and their typed [`ConfigError`];
//! - [`local_store`]: serving clients from the leader's own [`KvStore`],
//!   with no replication: what these algorithms honestly give;
//! - [`report`]: role and leader events, once per step.
//!
//! [`Node::step`]: crate::core::node::Node::step
//! [`Node::term`]: crate::core::node::Node::term
//! [`KvStore`]: crate::core::kv::KvStore

pub mod config;
pub mod context;
pub mod coordination;
pub mod epoch;
pub mod local_store;
pub mod membership;
pub mod protocol;
pub mod quorum;
pub mod report;

pub use config::ConfigError;
pub use context::Context;
pub use coordination::Coordination;
pub use epoch::{DurableState, Epoch, Persist, Stamped};
pub use membership::{Membership, MembershipError, MAX_MEMBERS};
pub use protocol::{step, ContextOf, Protocol};
