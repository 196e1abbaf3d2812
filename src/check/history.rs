//! Histories of client operations, in Jepsen's model.
//!
//! A history is a sequence of [`Event`]s in real-time order. A process (a
//! client) *invokes* an operation and later sees it *complete* as `ok` (it
//! took effect), `fail` (it certainly did not) or `info` (unknown: it may take
//! effect at any time after its invocation, or never). A process has at most
//! one operation outstanding. [`History::from_events`] checks that and pairs
//! each invocation with its completion into an [`Operation`], which is what
//! the checker works on.
//!
//! The simulator records events directly with [`Event::invoke`],
//! [`Event::ok`], ... or from the core's own request and reply types with
//! [`Event::from_request`] and [`Event::from_reply`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::check::position::Position;
use crate::core::client::{ClientReply, ClientRequest, Outcome as ReplyOutcome};

pub use crate::core::client::Value;

/// A client of the system under test: Jepsen's integer `:process`.
pub type ProcessId = u64;

/// Index of an operation in [`History::operations`].
pub type OperationId = usize;

/// What an event says about its operation: Jepsen's `:type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    Invoke,
    /// The operation took effect.
    Ok,
    /// The operation certainly did not take effect.
    Fail,
    /// The outcome is unknown: the operation may take effect at any time after
    /// its invocation, or never.
    Info,
}

impl EventKind {
    /// The name Jepsen gives this kind (`invoke`, `ok`, `fail`, `info`).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Invoke => "invoke",
            EventKind::Ok => "ok",
            EventKind::Fail => "fail",
            EventKind::Info => "info",
        }
    }
}

/// What an operation asks for (and, for a completed read, what it saw):
/// Jepsen's `:f` and `:value`, with an optional key for key-value histories.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// Read the register (or `key`). `value` is what an `ok` read returned;
    /// `None` on an invocation, and for a read of nil.
    Read {
        key: Option<String>,
        value: Option<Value>,
    },
    /// Set the register (or `key`) to `value`.
    Write { key: Option<String>, value: Value },
    /// Set the register (or `key`) to `new` if it holds `expected` (`None`:
    /// nil, never written).
    CompareAndSet {
        key: Option<String>,
        expected: Option<Value>,
        new: Value,
    },
}

impl Command {
    /// A read of the single register, as invoked (no value yet).
    pub fn read() -> Command {
        Command::Read {
            key: None,
            value: None,
        }
    }

    /// A read of the single register that returned `value`.
    pub fn read_returning(value: Option<Value>) -> Command {
        Command::Read { key: None, value }
    }

    pub fn write(value: Value) -> Command {
        Command::Write { key: None, value }
    }

    pub fn compare_and_set(expected: Option<Value>, new: Value) -> Command {
        Command::CompareAndSet {
            key: None,
            expected,
            new,
        }
    }

    /// This command addressed to `key` of a key-value store.
    pub fn with_key(mut self, key: impl Into<String>) -> Command {
        let key = Some(key.into());
        match &mut self {
            Command::Read { key: slot, .. }
            | Command::Write { key: slot, .. }
            | Command::CompareAndSet { key: slot, .. } => *slot = key,
        }
        self
    }

    pub fn key(&self) -> Option<&str> {
        match self {
            Command::Read { key, .. }
            | Command::Write { key, .. }
            | Command::CompareAndSet { key, .. } => key.as_deref(),
        }
    }

    /// Jepsen's `:f` for this command: `read`, `write` or `cas`.
    pub fn function_name(&self) -> &'static str {
        match self {
            Command::Read { .. } => "read",
            Command::Write { .. } => "write",
            Command::CompareAndSet { .. } => "cas",
        }
    }

    pub fn is_read(&self) -> bool {
        matches!(self, Command::Read { .. })
    }
}

impl From<&crate::core::client::Operation> for Command {
    fn from(operation: &crate::core::client::Operation) -> Command {
        use crate::core::client::Operation as Core;
        match operation {
            Core::Read { key } => Command::read().with_key(key.clone()),
            Core::Write { key, value } => Command::write(*value).with_key(key.clone()),
            Core::CompareAndSet { key, expected, new } => {
                Command::compare_and_set(*expected, *new).with_key(key.clone())
            }
        }
    }
}

/// Writes `nil` for `None`, as EDN and Jepsen's reports do.
pub(crate) struct OptionalValue(pub Option<Value>);

impl fmt::Display for OptionalValue {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(value) => write!(formatter, "{value}"),
            None => formatter.write_str("nil"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.function_name())?;
        if let Some(key) = self.key() {
            write!(formatter, " {key}")?;
        }
        match self {
            Command::Read { value, .. } => write!(formatter, " → {}", OptionalValue(*value)),
            Command::Write { value, .. } => write!(formatter, " {value}"),
            Command::CompareAndSet { expected, new, .. } => {
                write!(formatter, " {}→{new}", OptionalValue(*expected))
            }
        }
    }
}

/// One line of a history.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    pub process: ProcessId,
    pub kind: EventKind,
    pub command: Command,
    /// Where a reader found this event, so errors can point into the file;
    /// `None` for events built in memory.
    pub position: Option<Position>,
}

impl Event {
    pub fn new(process: ProcessId, kind: EventKind, command: Command) -> Event {
        Event {
            process,
            kind,
            command,
            position: None,
        }
    }

    pub fn invoke(process: ProcessId, command: Command) -> Event {
        Event::new(process, EventKind::Invoke, command)
    }

    pub fn ok(process: ProcessId, command: Command) -> Event {
        Event::new(process, EventKind::Ok, command)
    }

    pub fn fail(process: ProcessId, command: Command) -> Event {
        Event::new(process, EventKind::Fail, command)
    }

    pub fn info(process: ProcessId, command: Command) -> Event {
        Event::new(process, EventKind::Info, command)
    }

    /// The invocation of a request sent to the cluster; the process is the
    /// request's client.
    pub fn from_request(request: &ClientRequest) -> Event {
        Event::invoke(request.id.client, Command::from(&request.operation))
    }

    /// The completion of `request` by `reply`: a successful reply is `ok`
    /// (an unswapped compare-and-set is `fail`, it had no effect), an error
    /// is `info` when the operation may still take effect and `fail` when it
    /// certainly did not.
    pub fn from_reply(request: &ClientRequest, reply: &ClientReply) -> Result<Event, HistoryError> {
        Event::completion(request.id.client, &request.operation, &reply.result)
    }

    /// The completion of `process`'s `operation` with `result`, mapped to
    /// `ok`, `fail` or `info` as [`Event::from_reply`] describes.
    pub fn completion(
        process: ProcessId,
        operation: &crate::core::client::Operation,
        result: &Result<ReplyOutcome, crate::core::client::ClientError>,
    ) -> Result<Event, HistoryError> {
        let mut command = Command::from(operation);
        let kind = match (result, &mut command) {
            (Err(error), _) if error.is_indefinite() => EventKind::Info,
            (Err(_), _) => EventKind::Fail,
            (Ok(ReplyOutcome::Read(read)), Command::Read { value, .. }) => {
                *value = *read;
                EventKind::Ok
            }
            (Ok(ReplyOutcome::Written), Command::Write { .. }) => EventKind::Ok,
            (Ok(ReplyOutcome::CompareAndSet { swapped }), Command::CompareAndSet { .. }) => {
                if *swapped {
                    EventKind::Ok
                } else {
                    EventKind::Fail
                }
            }
            (Ok(outcome), _) => {
                return Err(HistoryError::ReplyDoesNotMatchRequest {
                    request: operation.to_string(),
                    reply: format!("{outcome:?}"),
                })
            }
        };
        Ok(Event::new(process, kind, command))
    }

    /// This event with the position a reader found it at.
    pub fn at(mut self, position: Position) -> Event {
        self.position = Some(position);
        self
    }
}

/// How an operation ended, as far as the history tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Ok,
    Fail,
    Info,
    /// Invoked but never completed before the history ended; the checker
    /// treats it like `info`.
    Pending,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Info => "info",
            Outcome::Pending => "pending",
        }
    }

    /// Whether the operation may have taken effect without the history
    /// saying so: it may be linearized anywhere after its invocation, or not
    /// at all.
    pub fn is_indefinite(self) -> bool {
        matches!(self, Outcome::Info | Outcome::Pending)
    }
}

/// An invocation paired with its completion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    pub process: ProcessId,
    /// The invoked command; for an `ok` read, with the value it returned.
    pub command: Command,
    pub outcome: Outcome,
    /// Index of the invocation in [`History::events`].
    pub invoke_index: usize,
    /// Index of the completion in [`History::events`]; `None` when pending.
    pub complete_index: Option<usize>,
}

impl fmt::Display for Operation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "process {} ", self.process)?;
        match &self.command {
            // Only an `ok` read returned a value; "read → nil" would mislead.
            Command::Read { key, .. } if self.outcome != Outcome::Ok => {
                formatter.write_str("read")?;
                if let Some(key) = key {
                    write!(formatter, " {key}")?;
                }
            }
            command => write!(formatter, "{command}")?,
        }
        write!(formatter, " ({}", self.outcome.name())?;
        match self.complete_index {
            Some(complete) => write!(formatter, ", events {}–{})", self.invoke_index, complete),
            None => write!(formatter, ", invoked at event {})", self.invoke_index),
        }
    }
}

/// Where an event sits: its index, and its place in a file when known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventLocation {
    pub index: usize,
    pub position: Option<Position>,
}

impl fmt::Display for EventLocation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(position) => write!(formatter, "{position} (event {})", self.index),
            None => write!(formatter, "event {}", self.index),
        }
    }
}

/// Why a sequence of events is not a well-formed history.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    #[error("{at}: process {process} completes an operation it never invoked")]
    CompletionWithoutInvocation {
        at: EventLocation,
        process: ProcessId,
    },
    #[error("{at}: process {process} invokes an operation while its operation invoked at {outstanding} is still outstanding")]
    AlreadyOutstanding {
        at: EventLocation,
        process: ProcessId,
        outstanding: EventLocation,
    },
    #[error(
        "{at}: process {process} completes `{completed}` but invoked `{invoked}` at {invocation}"
    )]
    CompletionDoesNotMatch {
        at: EventLocation,
        process: ProcessId,
        invoked: String,
        completed: String,
        invocation: EventLocation,
    },
    #[error("the reply {reply} does not answer the request `{request}`")]
    ReplyDoesNotMatchRequest { request: String, reply: String },
}

/// A well-formed history: its events, and the operations they make up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    events: Vec<Event>,
    operations: Vec<Operation>,
}

impl History {
    /// Pairs invocations with completions. Fails on a completion without an
    /// invocation, a second invocation while one is outstanding, or a
    /// completion whose function or arguments differ from its invocation.
    pub fn from_events(events: Vec<Event>) -> Result<History, HistoryError> {
        let mut operations: Vec<Operation> = Vec::new();
        // Invariant: maps a process to its operation whose outcome is still
        // `Pending`, and each such operation appears here exactly once.
        let mut outstanding: BTreeMap<ProcessId, OperationId> = BTreeMap::new();
        for (index, event) in events.iter().enumerate() {
            let at = EventLocation {
                index,
                position: event.position,
            };
            if event.kind == EventKind::Invoke {
                if let Some(&previous) = outstanding.get(&event.process) {
                    return Err(HistoryError::AlreadyOutstanding {
                        at,
                        process: event.process,
                        outstanding: location(&events, operations[previous].invoke_index),
                    });
                }
                outstanding.insert(event.process, operations.len());
                operations.push(Operation {
                    process: event.process,
                    command: event.command.clone(),
                    outcome: Outcome::Pending,
                    invoke_index: index,
                    complete_index: None,
                });
                continue;
            }
            let Some(id) = outstanding.remove(&event.process) else {
                return Err(HistoryError::CompletionWithoutInvocation {
                    at,
                    process: event.process,
                });
            };
            complete(&mut operations[id], index, event, &events)?;
        }
        Ok(History { events, operations })
    }

    /// The events, in real-time order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The operations, in order of invocation.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The processes that appear in the history, in ascending order.
    pub fn processes(&self) -> Vec<ProcessId> {
        let processes: BTreeSet<ProcessId> =
            self.events.iter().map(|event| event.process).collect();
        processes.into_iter().collect()
    }

    /// Whether any operation names a key.
    pub fn has_keys(&self) -> bool {
        self.operations
            .iter()
            .any(|operation| operation.command.key().is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

impl TryFrom<Vec<Event>> for History {
    type Error = HistoryError;

    fn try_from(events: Vec<Event>) -> Result<History, HistoryError> {
        History::from_events(events)
    }
}

fn location(events: &[Event], index: usize) -> EventLocation {
    EventLocation {
        index,
        position: events[index].position,
    }
}

/// Records how `operation` ended. A completion must name the same function
/// and, for writes and compare-and-sets, the same arguments as its
/// invocation; an `ok` read contributes the value it returned.
fn complete(
    operation: &mut Operation,
    index: usize,
    event: &Event,
    events: &[Event],
) -> Result<(), HistoryError> {
    let matches = match (&mut operation.command, &event.command) {
        (
            Command::Read { key, value },
            Command::Read {
                key: completed_key,
                value: read,
            },
        ) => {
            if event.kind == EventKind::Ok {
                *value = *read;
            }
            key == completed_key
        }
        (invoked @ Command::Write { .. }, completed @ Command::Write { .. })
        | (invoked @ Command::CompareAndSet { .. }, completed @ Command::CompareAndSet { .. }) => {
            invoked == completed
        }
        _ => false,
    };
    if !matches {
        return Err(HistoryError::CompletionDoesNotMatch {
            at: location(events, index),
            process: event.process,
            invoked: events[operation.invoke_index].command.to_string(),
            completed: event.command.to_string(),
            invocation: location(events, operation.invoke_index),
        });
    }
    operation.outcome = match event.kind {
        EventKind::Ok => Outcome::Ok,
        EventKind::Fail => Outcome::Fail,
        EventKind::Info => Outcome::Info,
        EventKind::Invoke => unreachable!("invocations are handled by the caller"),
    };
    operation.complete_index = Some(index);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::client::{ClientError, Operation as CoreOperation, RequestId};

    #[test]
    fn pairs_invocations_with_completions() {
        let history = History::from_events(vec![
            Event::invoke(1, Command::write(3)),
            Event::invoke(2, Command::read()),
            Event::ok(1, Command::write(3)),
            Event::ok(2, Command::read_returning(Some(3))),
            Event::invoke(1, Command::compare_and_set(Some(3), 4)),
            Event::info(1, Command::compare_and_set(Some(3), 4)),
            Event::invoke(3, Command::read()),
        ])
        .unwrap();
        let operations = history.operations();
        assert_eq!(operations.len(), 4);
        assert_eq!(operations[0].outcome, Outcome::Ok);
        assert_eq!(operations[0].complete_index, Some(2));
        assert_eq!(operations[1].command, Command::read_returning(Some(3)));
        assert_eq!(operations[2].outcome, Outcome::Info);
        assert_eq!(operations[3].outcome, Outcome::Pending);
        assert_eq!(operations[3].complete_index, None);
        assert_eq!(history.processes(), vec![1, 2, 3]);
    }

    #[test]
    fn a_completion_without_invocation_is_an_error() {
        let error = History::from_events(vec![Event::ok(1, Command::write(3))]).unwrap_err();
        assert!(matches!(
            error,
            HistoryError::CompletionWithoutInvocation { process: 1, .. }
        ));
        assert_eq!(
            error.to_string(),
            "event 0: process 1 completes an operation it never invoked"
        );
    }

    #[test]
    fn two_outstanding_operations_of_one_process_are_an_error() {
        let position = Position { line: 2, column: 1 };
        let error = History::from_events(vec![
            Event::invoke(1, Command::write(3)),
            Event::invoke(1, Command::read()).at(position),
        ])
        .unwrap_err();
        assert!(matches!(
            error,
            HistoryError::AlreadyOutstanding { process: 1, .. }
        ));
        assert!(
            error.to_string().starts_with("line 2, column 1 (event 1)"),
            "{error}"
        );
    }

    #[test]
    fn a_completion_must_match_its_invocation() {
        let error = History::from_events(vec![
            Event::invoke(1, Command::write(3)),
            Event::ok(1, Command::write(4)),
        ])
        .unwrap_err();
        assert!(matches!(error, HistoryError::CompletionDoesNotMatch { .. }));
        let error = History::from_events(vec![
            Event::invoke(1, Command::write(3)),
            Event::ok(1, Command::read()),
        ])
        .unwrap_err();
        assert!(matches!(error, HistoryError::CompletionDoesNotMatch { .. }));
    }

    #[test]
    fn events_follow_the_cores_requests_and_replies() {
        let request = ClientRequest {
            id: RequestId {
                client: 7,
                sequence: 1,
            },
            operation: CoreOperation::CompareAndSet {
                key: "x".to_string(),
                expected: Some(1),
                new: 2,
            },
        };
        let invoke = Event::from_request(&request);
        assert_eq!(
            invoke,
            Event::invoke(7, Command::compare_and_set(Some(1), 2).with_key("x"))
        );
        let reply = |result| ClientReply {
            id: request.id,
            result,
        };
        let swapped = Event::from_reply(
            &request,
            &reply(Ok(ReplyOutcome::CompareAndSet { swapped: true })),
        )
        .unwrap();
        assert_eq!(swapped.kind, EventKind::Ok);
        let unswapped = Event::from_reply(
            &request,
            &reply(Ok(ReplyOutcome::CompareAndSet { swapped: false })),
        )
        .unwrap();
        assert_eq!(unswapped.kind, EventKind::Fail);
        let lost = Event::from_reply(&request, &reply(Err(ClientError::LeadershipLost))).unwrap();
        assert_eq!(lost.kind, EventKind::Info);
        let refused =
            Event::from_reply(&request, &reply(Err(ClientError::TransferInProgress))).unwrap();
        assert_eq!(refused.kind, EventKind::Fail);
        let mismatched = Event::from_reply(&request, &reply(Ok(ReplyOutcome::Written)));
        assert!(matches!(
            mismatched,
            Err(HistoryError::ReplyDoesNotMatchRequest { .. })
        ));
    }

    #[test]
    fn a_read_reply_carries_the_value_read() {
        let request = ClientRequest {
            id: RequestId {
                client: 2,
                sequence: 9,
            },
            operation: CoreOperation::Read {
                key: "k".to_string(),
            },
        };
        let reply = ClientReply {
            id: request.id,
            result: Ok(ReplyOutcome::Read(Some(5))),
        };
        let event = Event::from_reply(&request, &reply).unwrap();
        assert_eq!(
            event,
            Event::ok(2, Command::read_returning(Some(5)).with_key("k"))
        );
    }
}
