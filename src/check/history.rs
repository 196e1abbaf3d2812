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

pub use crate::check::value::Value;

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

/// What an operation does: Jepsen's `:f`. Which functions a history may use
/// depends on the model it is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    Read,
    Write,
    /// `:cas`, compare-and-set, with `[expected new]`.
    CompareAndSet,
    Acquire,
    Release,
    Add,
    Enqueue,
    Dequeue,
    Get,
    Put,
    Append,
}

impl Function {
    pub const ALL: [Function; 11] = [
        Function::Read,
        Function::Write,
        Function::CompareAndSet,
        Function::Acquire,
        Function::Release,
        Function::Add,
        Function::Enqueue,
        Function::Dequeue,
        Function::Get,
        Function::Put,
        Function::Append,
    ];

    /// Jepsen's name for it: `read`, `write`, `cas`, ...
    pub fn name(self) -> &'static str {
        match self {
            Function::Read => "read",
            Function::Write => "write",
            Function::CompareAndSet => "cas",
            Function::Acquire => "acquire",
            Function::Release => "release",
            Function::Add => "add",
            Function::Enqueue => "enqueue",
            Function::Dequeue => "dequeue",
            Function::Get => "get",
            Function::Put => "put",
            Function::Append => "append",
        }
    }

    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL
            .into_iter()
            .find(|function| function.name() == name)
    }

    /// Whether an `ok` completion's value is what the operation returned
    /// (a read's value) rather than what it was given.
    pub fn returns_value(self) -> bool {
        matches!(self, Function::Read | Function::Get | Function::Dequeue)
    }
}

/// What an operation asks for (and, once it completed `ok`, what it saw):
/// Jepsen's `:f` and `:value`, and an optional `:key`. The value's shape is
/// the model's business (a write's value, a cas's `[expected new]`, a
/// `jepsen.independent` tuple `[key value]`); the history only pairs
/// events.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Command {
    pub function: Function,
    pub key: Option<Value>,
    /// Jepsen's `:value`; nil when absent.
    pub value: Value,
}

impl Command {
    pub fn new(function: Function, value: Value) -> Command {
        Command {
            function,
            key: None,
            value,
        }
    }

    /// A read of the single register, as invoked (no value yet).
    pub fn read() -> Command {
        Command::new(Function::Read, Value::Nil)
    }

    /// A read of the single register that returned `value`.
    pub fn read_returning(value: impl Into<Value>) -> Command {
        Command::new(Function::Read, value.into())
    }

    pub fn write(value: impl Into<Value>) -> Command {
        Command::new(Function::Write, value.into())
    }

    /// A compare-and-set from `expected` (nil: never written) to `new`.
    pub fn compare_and_set(expected: impl Into<Value>, new: impl Into<Value>) -> Command {
        Command::new(
            Function::CompareAndSet,
            Value::vector(vec![expected.into(), new.into()]),
        )
    }

    /// This command addressed to `key` of a key-value store.
    pub fn with_key(mut self, key: impl Into<Value>) -> Command {
        self.key = Some(key.into());
        self
    }

    /// This command with `value` as its `:value` (an `ok` read's result).
    pub fn returning(mut self, value: impl Into<Value>) -> Command {
        self.value = value.into();
        self
    }

    pub fn key(&self) -> Option<&Value> {
        self.key.as_ref()
    }

    /// Jepsen's `:f` for this command: `read`, `write`, `cas`, ...
    pub fn function_name(&self) -> &'static str {
        self.function.name()
    }

    /// Whether this command only observes (a read or get).
    pub fn is_read(&self) -> bool {
        matches!(self.function, Function::Read | Function::Get)
    }
}

impl From<&crate::core::client::Operation> for Command {
    fn from(operation: &crate::core::client::Operation) -> Command {
        use crate::core::client::Operation as Core;
        match operation {
            Core::Read { key } => Command::read().with_key(key.as_str()),
            Core::Write { key, value } => Command::write(*value).with_key(key.as_str()),
            Core::CompareAndSet { key, expected, new } => {
                Command::compare_and_set(*expected, *new).with_key(key.as_str())
            }
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.function_name())?;
        if let Some(key) = &self.key {
            write!(formatter, " {key}")?;
        }
        match (&self.value, self.function) {
            (value, function) if function.returns_value() => write!(formatter, " → {value}"),
            (Value::Vector(pair), Function::CompareAndSet)
                if pair.len() == 2 && pair.iter().all(Value::is_scalar) =>
            {
                write!(formatter, " {}→{}", pair[0], pair[1])
            }
            (Value::Nil, _) => Ok(()),
            (value, _) => write!(formatter, " {value}"),
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
            (
                Ok(ReplyOutcome::Read(read)),
                Command {
                    function: Function::Read,
                    value,
                    ..
                },
            ) => {
                *value = Value::from(*read);
                EventKind::Ok
            }
            (
                Ok(ReplyOutcome::Written),
                Command {
                    function: Function::Write,
                    ..
                },
            ) => EventKind::Ok,
            (
                Ok(ReplyOutcome::CompareAndSet { swapped }),
                Command {
                    function: Function::CompareAndSet,
                    ..
                },
            ) => {
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
        if self.command.function.returns_value() && self.outcome != Outcome::Ok {
            // Only an `ok` read returned a value; "read → nil" would mislead.
            formatter.write_str(self.command.function_name())?;
            if let Some(key) = &self.command.key {
                write!(formatter, " {key}")?;
            }
        } else {
            write!(formatter, "{}", self.command)?;
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

/// Records how `operation` ended, as Knossos reads a completion: an `ok`
/// took effect with the completion's value (for a read, what it returned);
/// a `fail` did not happen; an `info` may have happened, with the
/// invocation's arguments, so its own value (nil, `:timed-out`, ...) is
/// ignored. A completion must name the same function and key as its
/// invocation.
fn complete(
    operation: &mut Operation,
    index: usize,
    event: &Event,
    events: &[Event],
) -> Result<(), HistoryError> {
    let invoked = &operation.command;
    if invoked.function != event.command.function || invoked.key != event.command.key {
        return Err(HistoryError::CompletionDoesNotMatch {
            at: location(events, index),
            process: event.process,
            invoked: invoked.to_string(),
            completed: event.command.to_string(),
            invocation: location(events, operation.invoke_index),
        });
    }
    operation.outcome = match event.kind {
        EventKind::Ok => {
            operation.command.value = event.command.value.clone();
            Outcome::Ok
        }
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
            Event::ok(2, Command::read_returning(3u64)),
            Event::invoke(1, Command::compare_and_set(3u64, 4u64)),
            Event::info(1, Command::compare_and_set(3u64, 4u64)),
            Event::invoke(3, Command::read()),
        ])
        .unwrap();
        let operations = history.operations();
        assert_eq!(operations.len(), 4);
        assert_eq!(operations[0].outcome, Outcome::Ok);
        assert_eq!(operations[0].complete_index, Some(2));
        assert_eq!(operations[1].command, Command::read_returning(3u64));
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
    fn a_completion_must_match_its_invocations_function_and_key() {
        let error = History::from_events(vec![
            Event::invoke(1, Command::write(3)),
            Event::ok(1, Command::read()),
        ])
        .unwrap_err();
        assert!(matches!(error, HistoryError::CompletionDoesNotMatch { .. }));
        let error = History::from_events(vec![
            Event::invoke(1, Command::write(3).with_key("x")),
            Event::ok(1, Command::write(3).with_key("y")),
        ])
        .unwrap_err();
        assert!(matches!(error, HistoryError::CompletionDoesNotMatch { .. }));
    }

    #[test]
    fn an_ok_takes_the_completions_value_and_an_info_the_invocations() {
        let history = History::from_events(vec![
            Event::invoke(1, Command::write(3)),
            Event::ok(1, Command::write(4)),
            Event::invoke(2, Command::write(5)),
            Event::info(2, Command::write(Value::keyword("timed-out"))),
            Event::invoke(3, Command::write(6)),
            Event::info(3, Command::write(Value::Nil)),
        ])
        .unwrap();
        let values: Vec<&Value> = history
            .operations()
            .iter()
            .map(|operation| &operation.command.value)
            .collect();
        assert_eq!(values, [&Value::from(4u64), &5u64.into(), &6u64.into()]);
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
            Event::invoke(7, Command::compare_and_set(1u64, 2u64).with_key("x"))
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
            Event::ok(2, Command::read_returning(5u64).with_key("k"))
        );
    }
}
