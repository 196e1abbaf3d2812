//! Client operations on the replicated key-value store, and their replies.
//!
//! The operations are the ones Jepsen histories speak of: read, write and
//! compare-and-set of a key. A reply either says what happened (`Outcome`) or
//! why the node could not do it (`ClientError`); `ClientError::is_indefinite`
//! tells the client whether the operation may still take effect (Jepsen's
//! `info`) or certainly did not (Jepsen's `fail`).

use std::fmt;

use crate::core::node::NodeId;

/// Stored values are integers, as in Jepsen's register histories.
pub type Value = u64;

/// Identifies one client operation: the client (Jepsen's process) and its
/// sequence number. Replies carry it back so the caller can match them.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId {
    pub client: u64,
    pub sequence: u64,
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}#{}", self.client, self.sequence)
    }
}

#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Read the value of `key` (`None` when it was never written).
    Read { key: String },
    /// Set `key` to `value`.
    Write { key: String, value: Value },
    /// Set `key` to `new` if its current value is `expected` (`None`: absent).
    CompareAndSet {
        key: String,
        expected: Option<Value>,
        new: Value,
    },
}

impl Operation {
    pub fn key(&self) -> &str {
        match self {
            Operation::Read { key }
            | Operation::Write { key, .. }
            | Operation::CompareAndSet { key, .. } => key,
        }
    }

    pub fn is_read(&self) -> bool {
        matches!(self, Operation::Read { .. })
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::Read { key } => write!(f, "read {key}"),
            Operation::Write { key, value } => write!(f, "write {key}={value}"),
            Operation::CompareAndSet { key, expected, new } => match expected {
                Some(expected) => write!(f, "cas {key} {expected}->{new}"),
                None => write!(f, "cas {key} nil->{new}"),
            },
        }
    }
}

#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientRequest {
    pub id: RequestId,
    pub operation: Operation,
}

/// What a completed operation did.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The value read (`None`: the key was never written).
    Read(Option<Value>),
    /// The write is committed and applied.
    Written,
    /// The compare-and-set is committed; `swapped` says whether the value
    /// matched and was replaced. A committed but unswapped CAS is Jepsen's
    /// `fail`: it had no effect on the register.
    CompareAndSet { swapped: bool },
}

/// Why a node did not complete an operation.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ClientError {
    /// This node is not the leader; try `leader_hint` if it knows one. The
    /// operation certainly did not take effect.
    #[error("not the leader (leader hint: {leader_hint:?})")]
    NotLeader { leader_hint: Option<NodeId> },
    /// The leader is handing leadership over and takes no new operations
    /// until that ends. The operation certainly did not take effect.
    #[error("leadership transfer in progress")]
    TransferInProgress,
    /// The node lost leadership before the operation completed. A write may
    /// still be committed by a later leader: the outcome is unknown.
    #[error("leadership lost before the operation completed; outcome unknown")]
    LeadershipLost,
}

impl ClientError {
    /// Whether the operation may still take effect (Jepsen's `info`) rather
    /// than certainly not (Jepsen's `fail`).
    pub fn is_indefinite(&self) -> bool {
        matches!(self, ClientError::LeadershipLost)
    }
}

#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientReply {
    pub id: RequestId,
    pub result: Result<Outcome, ClientError>,
}
