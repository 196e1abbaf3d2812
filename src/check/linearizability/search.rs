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
use crate::check::linearizability::entry_list::{EntryList, Node};
use crate::check::linearizability::linearized_set::LinearizedSet;
use crate::check::linearizability::memo::Memo;
use crate::check::linearizability::verdict::{Budget, Meter, UnknownReason};
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
    pub(crate) operation: OperationId,
    pub(crate) prefix: Vec<OperationId>,
    pub(crate) state: S,
}

/// How far a dead end explains the history: the event index of the return
/// the search could not pass, then the length of the prefix linearized
/// before it. The best dead end has the greatest reach.
type Reach = (u64, usize);

/// How a run of the search ended.
enum RunEnd<S> {
    Linearizable,
    Unknown(UnknownReason),
    /// Every order failed; the best dead end had this reach.
    Exhausted(Reach),
    /// The replay reached the dead end it was looking for (local numbering).
    Captured(DeadEnd<S>),
}

/// Searches for a linearization of `operations` (ids into `history`), all
/// of which are `ok` or of unknown outcome. Adds the memo's size to
/// `memo_entry_count`.
///
/// Copying the linearized prefix at every new best dead end would cost
/// quadratic time on long histories, so a failed search only notes how far
/// its best dead end reached, and a replay (the search is deterministic)
/// stops there to copy the prefix once. Only failures pay for the replay,
/// and it is never longer than the search.
pub(crate) fn search_partition<M: Model>(
    model: &M,
    initial: &M::State,
    history: &History,
    ops: &[Option<M::Op>],
    operations: &[OperationId],
    meter: &mut Meter,
    memo_entry_count: &mut usize,
) -> PartitionVerdict<M::State> {
    // Number the operations that must be linearized first, as
    // `LinearizedSet` wants; each group stays in invocation order.
    let (required, optional): (Vec<OperationId>, Vec<OperationId>) = operations
        .iter()
        .partition(|&&id| history.operations()[id].outcome == Outcome::Ok);
    let operations: Vec<OperationId> = required.iter().chain(&optional).copied().collect();
    let mut search = Search::new(
        model,
        (initial, history, ops),
        &operations,
        required.len(),
        None,
    );
    let end = search.run(meter);
    *memo_entry_count += search.memo.len();
    let reach = match end {
        RunEnd::Linearizable => return PartitionVerdict::Linearizable,
        RunEnd::Unknown(reason) => return PartitionVerdict::Unknown(reason),
        RunEnd::Exhausted(reach) => reach,
        RunEnd::Captured(_) => unreachable!("only a replay captures"),
    };
    drop(search);
    let mut replay = Search::new(
        model,
        (initial, history, ops),
        &operations,
        required.len(),
        Some(reach),
    );
    let RunEnd::Captured(dead_end) = replay.run(&mut Meter::new(Budget::unlimited())) else {
        unreachable!("a replay retraces the search, so it reaches the same dead end");
    };
    PartitionVerdict::NotLinearizable(DeadEnd {
        operation: operations[dead_end.operation],
        prefix: dead_end
            .prefix
            .iter()
            .map(|&local| operations[local])
            .collect(),
        state: dead_end.state,
    })
}

/// The search's state. Operations are numbered locally, `0..operations.len()`,
/// those that must be linearized (`ok`) first.
struct Search<'a, M: Model> {
    model: &'a M,
    /// The prepared operations, in local numbering.
    ops: Vec<&'a M::Op>,
    /// Operations `0..required_count` took effect (`ok`) and so must be
    /// linearized; the others are of unknown outcome and may be.
    required_count: usize,
    /// Invariant: the number of required operations not in `linearized`.
    remaining_required: usize,
    list: EntryList,
    memo: Memo<M::State>,
    /// Invariant: exactly the operations whose calls are on `stack`.
    linearized: LinearizedSet,
    /// Scratch space for the linearized set's compact form, reused so a
    /// memo lookup allocates nothing.
    key: Vec<u64>,
    state: M::State,
    /// The calls linearized so far, in order, each with the state before it.
    stack: Vec<(Node, M::State)>,
    /// The reach of the best dead end so far.
    best_reach: Option<Reach>,
    /// In a replay, the reach of the dead end to capture.
    capture: Option<Reach>,
}

impl<'a, M: Model> Search<'a, M> {
    fn new(
        model: &'a M,
        (initial, history, ops): (&M::State, &'a History, &'a [Option<M::Op>]),
        operations: &[OperationId],
        required_count: usize,
        capture: Option<Reach>,
    ) -> Search<'a, M> {
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
        Search {
            model,
            ops: operations
                .iter()
                .map(|&id| ops[id].as_ref().expect("searched operations are prepared"))
                .collect(),
            remaining_required: required_count,
            required_count,
            list: EntryList::new(&intervals),
            memo: Memo::new(),
            linearized: LinearizedSet::new(required_count, operations.len() - required_count),
            key: Vec::new(),
            state: initial.clone(),
            stack: Vec::with_capacity(operations.len()),
            best_reach: None,
            capture,
        }
    }

    fn run(&mut self, meter: &mut Meter) -> RunEnd<M::State> {
        if self.remaining_required == 0 {
            return RunEnd::Linearizable;
        }
        let mut node = self.list.first();
        loop {
            if let Err(reason) = meter.step() {
                return RunEnd::Unknown(reason);
            }
            // A required operation's return always comes before the tail,
            // and the walk stops at returns.
            assert!(!self.list.is_tail(node), "the walk ran past every return");
            let entry = self.list.entry(node);
            let operation = entry.operation as usize;
            if !entry.is_call {
                assert!(
                    self.is_required(operation),
                    "returns at infinity come after every required return"
                );
                if let Some(dead_end) = self.note_dead_end(node, operation) {
                    return RunEnd::Captured(dead_end);
                }
                let Some(call) = self.backtrack() else {
                    return RunEnd::Exhausted(self.best_reach.expect("a dead end was just noted"));
                };
                node = self.list.next(call);
            } else if self.try_linearize(node, operation) {
                if self.remaining_required == 0 {
                    return RunEnd::Linearizable;
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
        let Some(next_state) = self.model.step(&self.state, self.ops[operation]) else {
            return false;
        };
        debug_assert!(
            !self.linearized.contains(operation),
            "a linearized call is lifted out of the list"
        );
        self.linearized.insert(operation);
        self.linearized.encode(&mut self.key);
        if !self
            .memo
            .insert(self.linearized.hash(), &self.key, &next_state)
        {
            self.linearized.remove(operation);
            return false;
        }
        self.stack
            .push((call, mem::replace(&mut self.state, next_state)));
        self.list.lift(call);
        if self.is_required(operation) {
            self.remaining_required -= 1;
        }
        true
    }

    fn is_required(&self, operation: usize) -> bool {
        operation < self.required_count
    }

    /// Undoes the last linearization; returns its call entry, or `None` if
    /// nothing is left to undo.
    fn backtrack(&mut self) -> Option<Node> {
        let (call, previous_state) = self.stack.pop()?;
        let operation = self.list.entry(call).operation as usize;
        self.linearized.remove(operation);
        if self.is_required(operation) {
            self.remaining_required += 1;
        }
        self.state = previous_state;
        self.list.unlift(call);
        Some(call)
    }

    /// Notes the dead end at return entry `node` if it reaches further
    /// than the best so far; in a replay, captures it if it is the one
    /// sought.
    fn note_dead_end(&mut self, node: Node, operation: usize) -> Option<DeadEnd<M::State>> {
        let reach = (self.list.time(node), self.stack.len());
        if self.best_reach.is_none_or(|best| reach > best) {
            self.best_reach = Some(reach);
        }
        (self.capture == Some(reach)).then(|| DeadEnd {
            operation,
            prefix: self
                .stack
                .iter()
                .map(|&(call, _)| self.list.entry(call).operation as usize)
                .collect(),
            state: self.state.clone(),
        })
    }
}
