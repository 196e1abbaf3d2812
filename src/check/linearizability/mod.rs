//! The linearizability checker.
//!
//! [`check`] splits the history by the model's partition key (each key of a
//! key-value store is checked on its own), then searches each partition for
//! a linearization (Wing and Gong with Lowe's memoisation, in `search.rs`).
//! Failed operations are left out (they had no effect), and so are reads of
//! unknown outcome (they cannot change the state and returned nothing to
//! check).
//!
//! ```
//! use electorate::check::{check, Budget, CasRegister, Command, Event, History};
//!
//! let history = History::from_events(vec![
//!     Event::invoke(1, Command::write(1)),
//!     Event::invoke(2, Command::read()),
//!     Event::ok(2, Command::read_returning(Some(1))),
//!     Event::ok(1, Command::write(1)),
//! ])
//! .unwrap();
//! let outcome = check(&history, &CasRegister { initial: Some(0) }, Budget::unlimited()).unwrap();
//! assert!(outcome.verdict.is_linearizable());
//! ```

mod bitset;
mod entry_list;
mod linearized_set;
mod memo;
mod search;
mod verdict;

use std::collections::BTreeMap;

use crate::check::history::{History, Operation, OperationId, Outcome};
use crate::check::model::Model;

use search::{search_partition, PartitionVerdict};

pub use verdict::{
    Budget, CheckError, CheckOutcome, Statistics, UnknownReason, Verdict, Violation,
};

/// Checks whether `history` is linearizable with respect to `model`.
pub fn check<M: Model>(
    history: &History,
    model: &M,
    budget: Budget,
) -> Result<CheckOutcome, CheckError> {
    let partitions = partition(history, model)?;
    let mut meter = verdict::Meter::new(budget);
    let mut statistics = Statistics {
        operation_count: partitions.values().map(Vec::len).sum(),
        partition_count: partitions.len(),
        ..Statistics::default()
    };
    let mut verdict = Verdict::Linearizable;
    for (key, operations) in &partitions {
        match search_partition(
            model,
            history,
            operations,
            &mut meter,
            &mut statistics.memo_entry_count,
        ) {
            PartitionVerdict::Linearizable => continue,
            PartitionVerdict::NotLinearizable(dead_end) => {
                let command = &history.operations()[dead_end.operation].command;
                verdict = Verdict::NotLinearizable(Box::new(Violation {
                    partition_key: key.map(str::to_string),
                    operation: dead_end.operation,
                    impossible_in_state: model.step(&dead_end.state, command).is_none(),
                    linearized_prefix: dead_end.prefix,
                    state: dead_end.state.to_string(),
                }));
            }
            PartitionVerdict::Unknown(reason) => {
                // The budget is spent: later partitions cannot be searched.
                verdict = Verdict::Unknown {
                    reason,
                    partition_key: key.map(str::to_string),
                };
            }
        }
        break;
    }
    statistics.steps = meter.steps;
    Ok(CheckOutcome {
        verdict,
        statistics,
    })
}

/// Whether the search places `operation`: failed operations had no effect,
/// and reads of unknown outcome returned nothing and change nothing, so
/// neither constrains a linearization.
pub fn is_searched(operation: &Operation) -> bool {
    let unknown_read = operation.outcome.is_indefinite() && operation.command.is_read();
    operation.outcome != Outcome::Fail && !unknown_read
}

/// The operations to search, grouped by partition key in key order (so
/// runs are reproducible).
fn partition<'h, M: Model>(
    history: &'h History,
    model: &M,
) -> Result<BTreeMap<Option<&'h str>, Vec<OperationId>>, CheckError> {
    let mut partitions: BTreeMap<Option<&str>, Vec<OperationId>> = BTreeMap::new();
    for (id, operation) in history.operations().iter().enumerate() {
        if !is_searched(operation) {
            continue;
        }
        if let Some(reason) = model.unsupported(&operation.command) {
            return Err(CheckError::Unsupported {
                operation: id,
                reason,
            });
        }
        partitions
            .entry(model.partition_key(&operation.command))
            .or_default()
            .push(id);
    }
    Ok(partitions)
}
