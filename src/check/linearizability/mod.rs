//! The linearizability checker.
//!
//! [`check`] splits the history by the model's partition key (each key of a
//! key-value store is checked on its own), then searches each partition for
//! a linearization (Wing and Gong with Lowe's memoisation, in `search.rs`).
//! Before the search, the model prepares every operation (values interned,
//! key found); failed operations are left out (they had no effect), and so
//! are those the model finds cannot constrain an order (reads of unknown
//! outcome: they change nothing and returned nothing to check).
//!
//! ```
//! use electorate::check::{check, Budget, CasRegister, Command, Event, History};
//!
//! let history = History::from_events(vec![
//!     Event::invoke(1, Command::write("a")),
//!     Event::invoke(2, Command::read()),
//!     Event::ok(2, Command::read_returning("a")),
//!     Event::ok(1, Command::write("a")),
//! ])
//! .unwrap();
//! let outcome = check(&history, &CasRegister { initial: 0.into() }, Budget::unlimited()).unwrap();
//! assert!(outcome.verdict.is_linearizable());
//! ```

mod bitset;
mod entry_list;
mod linearized_set;
mod memo;
mod search;
mod verdict;

use std::collections::BTreeMap;

use crate::check::history::{History, OperationId, Outcome};
use crate::check::model::{Model, Values};
use crate::check::value::Value;

use search::{search_partition, DeadEnd, PartitionVerdict};

pub use verdict::{
    Attempt, Budget, CheckError, CheckOutcome, Partition, Statistics, UnknownReason, Verdict,
    Violation,
};

/// The operations to search, prepared by the model.
struct Prepared<Op> {
    /// For each operation of the history, its prepared form; `None` if it
    /// is not searched.
    ops: Vec<Option<Op>>,
    /// The searched operations by key, in key order (so runs are
    /// reproducible), each list in invocation order.
    partitions: BTreeMap<Option<Value>, Vec<OperationId>>,
}

/// Checks whether `history` is linearizable with respect to `model`.
pub fn check<M: Model>(
    history: &History,
    model: &M,
    budget: Budget,
) -> Result<CheckOutcome, CheckError> {
    let mut values = Values::new();
    let Prepared { ops, partitions } = prepare(history, model, &mut values)?;
    let initial = model.initial_state(&mut values);
    let mut meter = verdict::Meter::new(budget);
    let mut statistics = Statistics {
        operation_count: partitions.values().map(Vec::len).sum(),
        partition_count: partitions.len(),
        ..Statistics::default()
    };
    let mut verdict = Verdict::Linearizable;
    for (key, operations) in &partitions {
        let searched = search_partition(
            model,
            &initial,
            history,
            &ops,
            operations,
            &mut meter,
            &mut statistics.memo_entry_count,
        );
        match searched {
            PartitionVerdict::Linearizable => continue,
            PartitionVerdict::NotLinearizable(dead_end) => {
                let concurrent = concurrent(history, operations, &dead_end);
                let tried: Vec<Attempt> = std::iter::once(dead_end.operation)
                    .chain(concurrent.iter().copied())
                    .map(|id| Attempt {
                        operation: id,
                        state_after: ops[id]
                            .as_ref()
                            .and_then(|op| model.step(&dead_end.state, op))
                            .map(|state| model.describe_state(&state, &values)),
                    })
                    .collect();
                verdict = Verdict::NotLinearizable(Box::new(Violation {
                    partition_key: key.clone(),
                    operation: dead_end.operation,
                    impossible_in_state: tried[0].state_after.is_none(),
                    concurrent,
                    tried,
                    state: model.describe_state(&dead_end.state, &values),
                    linearized_prefix: dead_end.prefix,
                }));
            }
            PartitionVerdict::Unknown(reason) => {
                // The budget is spent: later partitions cannot be searched.
                verdict = Verdict::Unknown {
                    reason,
                    partition_key: key.clone(),
                };
            }
        }
        break;
    }
    statistics.steps = meter.steps;
    Ok(CheckOutcome {
        verdict,
        statistics,
        partitions: partitions
            .into_iter()
            .map(|(key, operations)| Partition { key, operations })
            .collect(),
    })
}

/// The operations of the dead end's partition that overlap its operation
/// in real time and are not in its prefix: the ones the search tried in
/// its place, which a reader should look at first.
fn concurrent<S>(
    history: &History,
    partition: &[OperationId],
    dead_end: &DeadEnd<S>,
) -> Vec<OperationId> {
    let all = history.operations();
    let end = |id: OperationId| all[id].complete_index.unwrap_or(usize::MAX);
    let offending = &all[dead_end.operation];
    partition
        .iter()
        .copied()
        .filter(|&id| {
            id != dead_end.operation
                && !dead_end.prefix.contains(&id)
                && all[id].invoke_index < end(dead_end.operation)
                && offending.invoke_index < end(id)
        })
        .collect()
}

/// Prepares every operation that took effect or may have.
fn prepare<M: Model>(
    history: &History,
    model: &M,
    values: &mut Values,
) -> Result<Prepared<M::Op>, CheckError> {
    let mut ops = Vec::with_capacity(history.operations().len());
    let mut partitions: BTreeMap<Option<Value>, Vec<OperationId>> = BTreeMap::new();
    for (id, operation) in history.operations().iter().enumerate() {
        if operation.outcome == Outcome::Fail {
            ops.push(None);
            continue;
        }
        let prepared = model.prepare(operation, values).map_err(|reason| {
            // An `ok` operation's value came from its completion.
            let event = match operation.outcome {
                Outcome::Ok => operation.complete_index.unwrap_or(operation.invoke_index),
                _ => operation.invoke_index,
            };
            CheckError::Unsupported {
                operation: id,
                position: history.events()[event].position,
                reason,
            }
        })?;
        match prepared {
            None => ops.push(None),
            Some(prepared) => {
                partitions.entry(prepared.key).or_default().push(id);
                ops.push(Some(prepared.op));
            }
        }
    }
    Ok(Prepared { ops, partitions })
}
