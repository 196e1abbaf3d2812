//! What every lock-service election (issue 16: `lease-lock` and
//! `zk-sequential`) shares: the one message type that travels between the
//! candidates and the service ([`LockMessage`]), the service participant
//! that hosts the store and the protected resource ([`ServiceNode`]), the
//! member type that lets a runner treat candidates and the service alike
//! ([`LockMember`]), and a holder's work loop of checked-then-written jobs
//! ([`Worker`]).
//!
//! Candidates are clients of the service, never peers of each other: every
//! message a candidate sends goes to the service, and every message it
//! receives is the service's answer. The service is a [`Node`](crate::core::node::Node) like the
//! candidates, so each runner built for nodes (the simulator, later the
//! model checker) runs it beside them without knowing what it is: its
//! messages cross the same network (delayed, lost, duplicated, cut), and it
//! reads its own drifting clock, on which the store expires leases.

mod candidate;
mod member;
mod service;
mod work;

pub use candidate::{announce, refuse_clients};
pub use member::LockMember;
pub use service::ServiceNode;
pub use work::{retry_at, Worker};

use crate::core::store::{KeyState, Revision, StoreReply, StoreRequest};

/// A message between a candidate and the lock service. Ordered so that
/// the model checker's network can hold it in a canonical set.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum LockMessage {
    /// Candidate to store. `number` is the candidate's request counter,
    /// echoed in the reply, so a late or duplicated reply to an older
    /// request is told apart from the answer it waits for (a lease is
    /// timed from the send time of the request it answers).
    Request { number: u64, request: StoreRequest },
    /// Store to candidate: the answer to request `number`.
    Reply { number: u64, reply: StoreReply },
    /// Holder to resource: a write under fencing token `token`.
    Write { token: Revision, value: u64 },
    /// Resource to writer: whether its write under `token` was accepted.
    WriteAck { token: Revision, accepted: bool },
    /// Store to watcher, unasked: the entry `deleted` it watched is gone.
    Notify { deleted: Revision },
}

/// One line per message, for the model checker's traces.
impl std::fmt::Display for LockMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockMessage::Request { number, request } => match request {
                StoreRequest::Acquire { expected, ttl } => {
                    write!(f, "#{number} Acquire(expected {expected}, ttl {ttl:?})")
                }
                StoreRequest::Renew { revision } => write!(f, "#{number} Renew({revision})"),
                StoreRequest::OpenSession { timeout } => {
                    write!(f, "#{number} OpenSession(timeout {timeout:?})")
                }
                StoreRequest::KeepAlive { session } => {
                    write!(f, "#{number} KeepAlive(session {session})")
                }
                StoreRequest::Create { session } => {
                    write!(f, "#{number} Create(session {session})")
                }
                StoreRequest::WatchBelow { session, entry } => {
                    write!(f, "#{number} WatchBelow(session {session}, entry {entry})")
                }
                StoreRequest::TakeOver { revision, renewals } => write!(
                    f,
                    "#{number} TakeOver(revision {revision}, renewals {renewals})"
                ),
                StoreRequest::Read => write!(f, "#{number} Read"),
            },
            LockMessage::Reply { number, reply } => match reply {
                StoreReply::Granted { revision } => write!(f, "#{number} Granted({revision})"),
                StoreReply::Renewed { revision } => write!(f, "#{number} Renewed({revision})"),
                StoreReply::Refused { key } => write!(f, "#{number} Refused({})", KeyText(key)),
                StoreReply::Record { key } => write!(f, "#{number} Record({})", KeyText(key)),
                StoreReply::SessionOpened { session } => {
                    write!(f, "#{number} SessionOpened({session})")
                }
                StoreReply::KeptAlive { session, watching } => match watching {
                    Some(entry) => write!(f, "#{number} KeptAlive({session}, watching {entry})"),
                    None => write!(f, "#{number} KeptAlive({session}, no watch)"),
                },
                StoreReply::Created { entry } => write!(f, "#{number} Created(entry {entry})"),
                StoreReply::Watching { entry, predecessor } => match predecessor {
                    Some(below) => write!(f, "#{number} Watching(entry {entry}, below {below})"),
                    None => write!(f, "#{number} Watching(entry {entry}, lowest)"),
                },
                StoreReply::SessionExpired { session } => {
                    write!(f, "#{number} SessionExpired({session})")
                }
            },
            LockMessage::Write { token, value } => write!(f, "Write({value} under token {token})"),
            LockMessage::WriteAck { token, accepted } => {
                let verdict = if *accepted { "accepted" } else { "refused" };
                write!(f, "WriteAck(token {token} {verdict})")
            }
            LockMessage::Notify { deleted } => write!(f, "Notify(entry {deleted} deleted)"),
        }
    }
}

/// A key as the traces show it: revision, renewals if any (only records
/// without TTL count them), holder.
struct KeyText<'a>(&'a KeyState);

impl std::fmt::Display for KeyText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = self.0;
        write!(f, "revision {}", key.revision)?;
        if key.renewals > 0 {
            write!(f, ", renewals {}", key.renewals)?;
        }
        match key.holder {
            Some(holder) => write!(f, ", held by {holder}"),
            None => write!(f, ", free"),
        }
    }
}
