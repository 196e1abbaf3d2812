//! What a search handed the core: which kinds of input (`Input`'s
//! variants), which kinds of client operation and which kinds of message
//! its steps delivered to a node. Each step records the input it passes to
//! `Node::step` ([`of_input`]; [`Delivered`] is shared by every thread of
//! the checker), outside the states, so recording changes no state count; the report lists them
//! (`SpecReport::delivered`), and `tests/models.rs` requires every input
//! and every Raft message kind to be delivered by some default spec: a
//! path of the core no spec feeds is a path no property judges.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::core::client::{ClientRequest, Operation};
use crate::core::node::Input;

/// Every kind of input the core accepts, by the name of `Input`'s variant.
pub const INPUT_KINDS: [&str; 7] = [
    "Tick",
    "Message",
    "Client",
    "ClientBatch",
    "TransferLeadership",
    "Campaign",
    "Snapshot",
];

/// Every kind of client operation (`clients.operations`).
pub const OPERATION_KINDS: [&str; 3] = ["write", "cas", "read"];

/// The position of `input`'s kind in [`INPUT_KINDS`]. (A new kind of
/// input fails to compile here until it is named.)
pub fn input_kind<M>(input: &Input<M>) -> usize {
    match input {
        Input::Tick => 0,
        Input::Message { .. } => 1,
        Input::Client(_) => 2,
        Input::ClientBatch(_) => 3,
        Input::TransferLeadership { .. } => 4,
        Input::Campaign => 5,
        Input::Snapshot => 6,
    }
}

/// The bits of every kind `input` delivers: its own, its requests'
/// operations, its message's (as `message_kind` places it).
pub fn of_input<M>(input: &Input<M>, message_kind: impl Fn(&M) -> Option<usize>) -> u64 {
    let operation = |request: &ClientRequest| Kind::Operation(operation_kind(&request.operation));
    let own = Kind::Input(input_kind(input)).bit();
    own | match input {
        Input::Message { message, .. } => Delivered::bits(message_kind(message).map(Kind::Message)),
        Input::Client(request) => operation(request).bit(),
        Input::ClientBatch(requests) => Delivered::bits(requests.iter().map(operation)),
        _ => 0,
    }
}

/// The position of `operation`'s kind in [`OPERATION_KINDS`].
pub fn operation_kind(operation: &Operation) -> usize {
    match operation {
        Operation::Write { .. } => 0,
        Operation::CompareAndSet { .. } => 1,
        Operation::Read { .. } => 2,
    }
}

/// One kind a step delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Input(usize),
    Operation(usize),
    /// A position in the variant's `ModelVariant::MESSAGE_KINDS`.
    Message(usize),
}

impl Kind {
    fn bit(self) -> u64 {
        let position = match self {
            Kind::Input(position) => position,
            Kind::Operation(position) => INPUT_KINDS.len() + position,
            Kind::Message(position) => INPUT_KINDS.len() + OPERATION_KINDS.len() + position,
        };
        assert!(position < 64, "at most 64 kinds are recorded");
        1 << position
    }
}

/// The kinds delivered so far in a search, one bit each; clones share it.
#[derive(Clone, Debug, Default)]
pub struct Delivered(Arc<AtomicU64>);

impl Delivered {
    pub fn record(&self, kinds: u64) {
        // Every step records, from every thread: a read of a line that is
        // almost never written is cheap, a write to it from two cores is
        // not, so write only what is new.
        if self.0.load(Ordering::Relaxed) & kinds != kinds {
            self.0.fetch_or(kinds, Ordering::Relaxed);
        }
    }

    /// The bits of `kinds`, to [`Delivered::record`] once the step proves
    /// to be one.
    pub fn bits(kinds: impl IntoIterator<Item = Kind>) -> u64 {
        kinds.into_iter().fold(0, |bits, kind| bits | kind.bit())
    }

    /// The kinds delivered, named `input Tick`, `operation cas`, `message
    /// Append` (the message kinds named by `message_kinds`).
    pub fn names(&self, message_kinds: &[&str]) -> Vec<String> {
        let bits = self.0.load(Ordering::Relaxed);
        let inputs = INPUT_KINDS
            .iter()
            .enumerate()
            .map(|(position, name)| (Kind::Input(position), format!("input {name}")));
        let operations = OPERATION_KINDS
            .iter()
            .enumerate()
            .map(|(position, name)| (Kind::Operation(position), format!("operation {name}")));
        let messages = message_kinds
            .iter()
            .enumerate()
            .map(|(position, name)| (Kind::Message(position), format!("message {name}")));
        inputs
            .chain(operations)
            .chain(messages)
            .filter(|(kind, _)| bits & kind.bit() != 0)
            .map(|(_, name)| name)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_recorded_once_and_named() {
        let delivered = Delivered::default();
        let shared = delivered.clone();
        shared.record(Delivered::bits([Kind::Input(5), Kind::Message(1)]));
        delivered.record(Delivered::bits([Kind::Operation(1), Kind::Input(5)]));
        assert_eq!(
            delivered.names(&["A", "B"]),
            ["input Campaign", "operation cas", "message B"]
        );
        assert_eq!(input_kind::<()>(&Input::Snapshot), 6);
        let message = Input::Message {
            from: 2,
            message: 7u8,
        };
        let of_message = of_input(&message, |&kind| Some(usize::from(kind)));
        assert_eq!(
            of_message,
            Delivered::bits([Kind::Input(1), Kind::Message(7)])
        );
    }
}
