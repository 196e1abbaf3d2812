//! Pure protocol state machines: no I/O, no clock reads, no global RNG, no
//! threads.
//!
//! Every algorithm implements [`Node`]: one [`Input`] per step (a tick of the
//! node's local clock, a message from a peer, a client request) and the
//! resulting [`Actions`] out (state to persist, messages to send, client
//! replies, events). The caller makes `actions.persist` durable before it
//! sends `actions.messages` (persist-before-send).

pub mod bully;
pub mod chassis;
pub mod client;
mod counter;
pub mod fencing;
pub mod kv;
pub mod lease_lock;
pub mod lock_service;
pub mod node;
pub mod panic_message;
pub mod raft;
pub mod ring;
pub mod store;
pub mod time;
pub mod zk_sequential;

pub use client::{ClientError, ClientReply, ClientRequest, Operation, Outcome, RequestId};
pub use node::{Actions, DropReason, Event, Input, Node, NodeId, Outgoing, Role};
pub use time::Time;
