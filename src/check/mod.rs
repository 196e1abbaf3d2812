//! Checkers that judge runs from the outside, shared by the scenario
//! harness, the simulator, the model checker and the tests: property
//! monitors over node states, and linearizability checking of client
//! histories as Jepsen does it.
//!
//! - [`properties`]: the safety monitors (Election Safety, Lease Safety, Log
//!   Matching, Leader Completeness, State Machine Safety).
//! - [`history`]: the history model (Jepsen's invoke/ok/fail/info events,
//!   paired into operations) and its in-memory types, which the simulator
//!   records into; [`value`]: the values they carry (nil, integers,
//!   strings, keywords, booleans, and vectors and sets of them).
//! - [`read`]: readers for Jepsen EDN and JSON lines files, and a JSON lines
//!   writer.
//! - [`model`]: sequential specifications (register, compare-and-set
//!   register, key-value map, mutex, set, FIFO queue, key-value store of
//!   appended strings) behind the [`Model`] trait.
//! - [`linearizability`]: the checker (Wing and Gong's search with Lowe's
//!   memoisation, partitioned per key).
//! - [`report`]: the verdict for people (text, a self-contained HTML
//!   timeline) and for programs (JSON).
//! - [`lock_service`]: the monitors of the lock-service properties (Fenced
//!   Writes, Exclusive Holding).
//!
//! Recording and checking a history:
//!
//! ```
//! use electorate::check::{check, Budget, CasRegister, Command, Event, History, Verdict};
//!
//! let mut events = Vec::new();
//! events.push(Event::invoke(1, Command::write(1)));
//! events.push(Event::invoke(2, Command::read()));
//! events.push(Event::ok(1, Command::write(1)));
//! // Read after the write completed, so 0 is stale: not linearizable.
//! events.push(Event::ok(2, Command::read_returning(0)));
//! events.push(Event::invoke(3, Command::read()));
//! events.push(Event::ok(3, Command::read_returning(0)));
//! let history = History::from_events(events).unwrap();
//! let outcome = check(&history, &CasRegister { initial: 0.into() }, Budget::steps(1_000_000)).unwrap();
//! let Verdict::NotLinearizable(violation) = &outcome.verdict else { panic!() };
//! assert_eq!(history.operations()[violation.operation].process, 3);
//! ```

pub mod history;
pub mod linearizability;
pub mod lock_service;
pub mod model;
pub mod position;
pub mod properties;
pub mod read;
pub mod report;
pub mod value;

pub use history::{
    Command, Event, EventKind, Function, History, HistoryError, Operation, OperationId, Outcome,
    ProcessId,
};
pub use linearizability::{
    check, Attempt, Budget, CheckError, CheckOutcome, Statistics, UnknownReason, Verdict, Violation,
};
pub use model::{
    CasRegister, FifoQueue, KeyValue, KvAppend, Model, Mutex, Register, RegisterState, Set, Values,
};
pub use position::Position;
pub use read::{
    read_history, read_history_file, FileError, HistoryFormat, HistoryRead, NemesisEvent, ReadError,
};
pub use value::Value;
