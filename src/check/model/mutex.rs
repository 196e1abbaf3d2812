//! A lock (Knossos's `mutex`): `acquire` takes it, `release` gives it back.
//! Acquiring a held lock, or releasing a free one, is impossible. As in
//! Knossos the holder is not tracked: Jepsen gives a process a new id after
//! an indefinite operation, so a holder's id says little. Values are
//! ignored (apart from a `jepsen.independent` key).

use std::fmt;

use crate::check::history::{Function, Operation};
use crate::check::model::{key_and_value, unsupported_function, Model, Prepared, Values};
use crate::check::value::Value;

/// Whether the lock is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockState {
    Free,
    Held,
}

impl fmt::Display for LockState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            LockState::Free => "free",
            LockState::Held => "held",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MutexOp {
    Acquire,
    Release,
}

/// A mutex that starts free.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mutex;

impl Model for Mutex {
    type State = LockState;
    type Op = MutexOp;

    fn description(&self) -> String {
        "mutex (initially free)".to_string()
    }

    fn initial_state(&self, _values: &mut Values) -> LockState {
        LockState::Free
    }

    fn prepare(
        &self,
        operation: &Operation,
        _values: &mut Values,
    ) -> Result<Option<Prepared<MutexOp>>, String> {
        let op = match operation.command.function {
            Function::Acquire => MutexOp::Acquire,
            Function::Release => MutexOp::Release,
            other => return Err(unsupported_function("mutex", other, "acquire and release")),
        };
        let (key, _) = key_and_value(&operation.command, Value::is_scalar);
        Ok(Some(Prepared { key, op }))
    }

    fn step(&self, state: &LockState, op: &MutexOp) -> Option<LockState> {
        match (state, op) {
            (LockState::Free, MutexOp::Acquire) => Some(LockState::Held),
            (LockState::Held, MutexOp::Release) => Some(LockState::Free),
            _ => None,
        }
    }

    fn describe_state(&self, state: &LockState, _values: &Values) -> String {
        state.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_alternates_between_acquire_and_release() {
        let model = Mutex;
        let free = model.initial_state(&mut Values::new());
        let held = model.step(&free, &MutexOp::Acquire).unwrap();
        assert_eq!(model.step(&held, &MutexOp::Acquire), None);
        assert_eq!(model.step(&held, &MutexOp::Release), Some(free));
        assert_eq!(model.step(&free, &MutexOp::Release), None);
    }
}
