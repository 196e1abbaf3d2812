//! A first-in first-out queue (Knossos's `fifo-queue`): `enqueue` appends a
//! value, `dequeue` removes the oldest and returns it. An `ok` dequeue of
//! nil found the queue empty. A dequeue of unknown outcome may have removed
//! the head, whatever it was, or nothing.

use std::collections::VecDeque;

use crate::check::history::{Function, Operation};
use crate::check::model::{
    key_and_value, unsupported_function, wrong_value, Model, Prepared, ValueId, Values, NIL,
};
use crate::check::value::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueOp {
    Enqueue(ValueId),
    /// An `ok` dequeue that returned this value (nil: the queue was empty).
    Dequeue(ValueId),
    /// A dequeue of unknown outcome: whatever was at the head, if anything.
    DequeueAny,
}

/// A queue that starts empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FifoQueue;

impl Model for FifoQueue {
    /// Oldest first.
    type State = VecDeque<ValueId>;
    type Op = QueueOp;

    fn description(&self) -> String {
        "fifo-queue (initially empty)".to_string()
    }

    fn initial_state(&self, _values: &mut Values) -> VecDeque<ValueId> {
        VecDeque::new()
    }

    fn prepare(
        &self,
        operation: &Operation,
        values: &mut Values,
    ) -> Result<Option<Prepared<QueueOp>>, String> {
        let command = &operation.command;
        let (key, value) = key_and_value(command, Value::is_scalar);
        let op = match command.function {
            Function::Enqueue if value.is_nil() => {
                return Err(
                    "an enqueue takes a value; nil is what an empty dequeue returns".to_string(),
                )
            }
            Function::Enqueue | Function::Dequeue if !value.is_scalar() => {
                return Err(wrong_value(
                    &format!("an {}", command.function.name()),
                    "a scalar",
                    value,
                ))
            }
            Function::Enqueue => QueueOp::Enqueue(values.intern(value)),
            Function::Dequeue if operation.outcome.is_indefinite() => QueueOp::DequeueAny,
            Function::Dequeue => QueueOp::Dequeue(values.intern(value)),
            other => {
                return Err(unsupported_function(
                    "fifo-queue",
                    other,
                    "enqueue and dequeue",
                ))
            }
        };
        Ok(Some(Prepared { key, op }))
    }

    fn step(&self, state: &VecDeque<ValueId>, op: &QueueOp) -> Option<VecDeque<ValueId>> {
        match *op {
            QueueOp::Enqueue(value) => {
                let mut next = state.clone();
                next.push_back(value);
                Some(next)
            }
            QueueOp::Dequeue(NIL) => state.is_empty().then(VecDeque::new),
            QueueOp::Dequeue(value) => (state.front() == Some(&value)).then(|| {
                let mut next = state.clone();
                next.pop_front();
                next
            }),
            QueueOp::DequeueAny => {
                let mut next = state.clone();
                next.pop_front();
                Some(next)
            }
        }
    }

    fn describe_state(&self, state: &VecDeque<ValueId>, values: &Values) -> String {
        Value::vector(values.get_all(state)).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dequeues_return_the_oldest_value() {
        let model = FifoQueue;
        let mut values = Values::new();
        let one = values.intern(&1u64.into());
        let two = values.intern(&Value::keyword("two"));
        let mut state = model.initial_state(&mut values);
        assert!(
            model.step(&state, &QueueOp::Dequeue(NIL)).is_some(),
            "empty"
        );
        for value in [one, two] {
            state = model.step(&state, &QueueOp::Enqueue(value)).unwrap();
        }
        assert_eq!(model.step(&state, &QueueOp::Dequeue(two)), None);
        assert_eq!(model.step(&state, &QueueOp::Dequeue(NIL)), None);
        let rest = model.step(&state, &QueueOp::Dequeue(one)).unwrap();
        assert_eq!(model.describe_state(&rest, &values), "[:two]");
        assert_eq!(model.step(&state, &QueueOp::DequeueAny), Some(rest));
    }
}
