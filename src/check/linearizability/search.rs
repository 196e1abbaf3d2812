//! The search for a linearization of one partition: Wing and Gong's
//! algorithm with Lowe's memoisation, as in Knossos's `linear` checker and
//! Porcupine.
//!
//! The search walks the entry list from its head. At a call it tries to
//! linearize that operation next: if the model accepts it and the resulting
//! configuration (linearized set, state) is new, the operation is lifted out
//! of the list, pushed on a stack, and the walk restarts from the head. At a
//! return it has hit an operation that must already be linearized but is
//! not: it backtracks, undoing the last choice and trying the call after it.
//! It succeeds once every operation that took effect (`ok`) is linearized;
//! operations of unknown outcome may be linearized on the way (anywhere
//! after their call) or left out, which is what "may or may not have taken
//! effect" means. It fails when it must backtrack with an empty stack.

use std::mem;

use crate::check::history::{History, OperationId, Outcome};
use crate::check::linearizability::bitset::Bitset;
use crate::check::linearizability::entry_list::{EntryList, Node};
use crate::check::linearizability::memo::{zobrist_word, Memo};
use crate::check::linearizability::verdict::{Meter, UnknownReason};
use crate::check::model::Model;

/// The verdict for one partition.
pub(crate) enum PartitionVerdict<S> {
    Linearizable,
    NotLinearizable(DeadEnd<S>),
    Unknown(UnknownReason),
}

/// Where the search got stuck: `operation` had to be linearized before its
/// return, after `prefix` (in that order) had led to `state`.
pub(crate) struct DeadEnd<S> {
    /// Event index of `operation`'s return: how far the history was explained.
    time: u64,
    pub(crate) operation: OperationId,
    pub(crate) prefix: Vec<OperationId>,
    pub(crate) state: S,
}

/// Searches for a linearization of `operations` (ids into `history`), all
/// of which are `ok` or of unknown outcome. Adds the memo's size to
/// `memo_entry_count`.
pub(crate) fn search_partition<M: Model>(
    model: &M,
    history: &History,
    operations: &[OperationId],
    meter: &mut Meter,
    memo_entry_count: &mut usize,
) -> PartitionVerdict<M::State> {
    let mut search = Search::new(model, history, operations);
    let verdict = search.run(meter);
    *memo_entry_count += search.memo.len();
    match verdict {
        PartitionVerdict::NotLinearizable(dead_end) => PartitionVerdict::NotLinearizable(DeadEnd {
            operation: operations[dead_end.operation],
            prefix: dead_end
                .prefix
                .iter()
                .map(|&local| operations[local])
                .collect(),
            ..dead_end
        }),
        other => other,
    }
}

/// The search's state. Operations are numbered locally, `0..operations.len()`.
struct Search<'a, M: Model> {
    model: &'a M,
    commands: Vec<&'a crate::check::history::Command>,
    /// Whether each operation took effect (`ok`) and so must be linearized.
    required: Vec<bool>,
    /// Invariant: the number of required operations not in `linearized`.
    remaining_required: usize,
    list: EntryList,
    memo: Memo<M::State>,
    /// Invariant: exactly the operations whose calls are on `stack`.
    linearized: Bitset,
    /// Invariant: the XOR of `zobrist_word` over `linearized`.
    linearized_hash: u64,
    state: M::State,
    /// The calls linearized so far, in order, each with the state before it.
    stack: Vec<(Node, M::State)>,
    /// The dead end that explains the most of the history so far.
    best_dead_end: Option<DeadEnd<M::State>>,
}

impl<'a, M: Model> Search<'a, M> {
    fn new(model: &'a M, history: &'a History, operations: &[OperationId]) -> Search<'a, M> {
        let all = history.operations();
        let intervals: Vec<(u64, Option<u64>)> = operations
            .iter()
            .map(|&id| {
                let operation = &all[id];
                assert!(
                    operation.outcome != Outcome::Fail,
                    "failed operations are never searched"
                );
                let ret = match operation.outcome {
                    Outcome::Ok => operation.complete_index.map(|index| index as u64),
                    _ => None,
                };
                (operation.invoke_index as u64, ret)
            })
            .collect();
        let required: Vec<bool> = operations
            .iter()
            .map(|&id| all[id].outcome == Outcome::Ok)
            .collect();
        Search {
            model,
            commands: operations.iter().map(|&id| &all[id].command).collect(),
            remaining_required: required.iter().filter(|&&required| required).count(),
            required,
            list: EntryList::new(&intervals),
            memo: Memo::new(),
            linearized: Bitset::new(operations.len()),
            linearized_hash: 0,
            state: model.initial_state(),
            stack: Vec::with_capacity(operations.len()),
            best_dead_end: None,
        }
    }

    fn run(&mut self, meter: &mut Meter) -> PartitionVerdict<M::State> {
        if self.remaining_required == 0 {
            return PartitionVerdict::Linearizable;
        }
        let mut node = self.list.first();
        loop {
            if let Err(reason) = meter.step() {
                return PartitionVerdict::Unknown(reason);
            }
            // A required operation's return always comes before the tail,
            // and the walk stops at returns.
            assert!(!self.list.is_tail(node), "the walk ran past every return");
            let entry = self.list.entry(node);
            let operation = entry.operation as usize;
            if !entry.is_call {
                assert!(
                    self.required[operation],
                    "returns at infinity come after every required return"
                );
                self.note_dead_end(node, operation);
                let Some(call) = self.backtrack() else {
                    let dead_end = self
                        .best_dead_end
                        .take()
                        .expect("a dead end was just noted");
                    return PartitionVerdict::NotLinearizable(dead_end);
                };
                node = self.list.next(call);
            } else if self.try_linearize(node, operation) {
                if self.remaining_required == 0 {
                    return PartitionVerdict::Linearizable;
                }
                node = self.list.first();
            } else {
                node = self.list.next(node);
            }
        }
    }

    /// Linearizes the operation of call entry `call` next, if the model
    /// accepts it and that leads to an unexplored configuration.
    fn try_linearize(&mut self, call: Node, operation: usize) -> bool {
        let Some(next_state) = self.model.step(&self.state, self.commands[operation]) else {
            return false;
        };
        debug_assert!(
            !self.linearized.contains(operation),
            "a linearized call is lifted out of the list"
        );
        let next_hash = self.linearized_hash ^ zobrist_word(operation);
        self.linearized.insert(operation);
        if !self.memo.insert(next_hash, &self.linearized, &next_state) {
            self.linearized.remove(operation);
            return false;
        }
        self.linearized_hash = next_hash;
        self.stack
            .push((call, mem::replace(&mut self.state, next_state)));
        self.list.lift(call);
        if self.required[operation] {
            self.remaining_required -= 1;
        }
        true
    }

    /// Undoes the last linearization; returns its call entry, or `None` if
    /// nothing is left to undo.
    fn backtrack(&mut self) -> Option<Node> {
        let (call, previous_state) = self.stack.pop()?;
        let operation = self.list.entry(call).operation as usize;
        self.linearized.remove(operation);
        self.linearized_hash ^= zobrist_word(operation);
        if self.required[operation] {
            self.remaining_required += 1;
        }
        self.state = previous_state;
        self.list.unlift(call);
        Some(call)
    }

    /// Keeps the dead end at return entry `node` if it explains more of the
    /// history than the best so far: a later return, or a longer prefix.
    fn note_dead_end(&mut self, node: Node, operation: usize) {
        let time = self.list.time(node);
        let better = self
            .best_dead_end
            .as_ref()
            .is_none_or(|best| (time, self.stack.len()) > (best.time, best.prefix.len()));
        if better {
            self.best_dead_end = Some(DeadEnd {
                time,
                operation,
                prefix: self
                    .stack
                    .iter()
                    .map(|&(call, _)| self.list.entry(call).operation as usize)
                    .collect(),
                state: self.state.clone(),
            });
        }
    }
}
