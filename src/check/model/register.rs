//! Single registers, as in Knossos: `register` (read, write) and
//! `cas-register` (read, write, compare-and-set).
//!
//! As in Knossos, a read that returned nil matches any state: Jepsen
//! histories write nil for a read whose value is not known. (The key-value
//! model differs: there nil means the key is absent.)

use std::fmt;

use crate::check::history::{Command, OptionalValue, Value};
use crate::check::model::Model;

/// The value a register holds; `None` is nil (never written).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegisterState(pub Option<Value>);

impl fmt::Display for RegisterState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", OptionalValue(self.0))
    }
}

/// What a nil read means to a register model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NilRead {
    /// The read's value is unknown: it matches any state (Knossos).
    MatchesAnything,
    /// The register holds nil: the read matches only that state.
    MeansNil,
}

/// One step of a register: shared by every register-like model.
pub(crate) fn step_register(
    state: RegisterState,
    command: &Command,
    nil_read: NilRead,
) -> Option<RegisterState> {
    match command {
        Command::Read { value: None, .. } if nil_read == NilRead::MatchesAnything => Some(state),
        Command::Read { value, .. } => (state.0 == *value).then_some(state),
        Command::Write { value, .. } => Some(RegisterState(Some(*value))),
        Command::CompareAndSet { expected, new, .. } => {
            (state.0 == *expected).then_some(RegisterState(Some(*new)))
        }
    }
}

fn describe(name: &str, initial: Option<Value>) -> String {
    format!("{name} (initial {})", OptionalValue(initial))
}

/// A read/write register (Knossos's `register`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Register {
    pub initial: Option<Value>,
}

impl Model for Register {
    type State = RegisterState;

    fn description(&self) -> String {
        describe("register", self.initial)
    }

    fn initial_state(&self) -> RegisterState {
        RegisterState(self.initial)
    }

    fn step(&self, state: &RegisterState, command: &Command) -> Option<RegisterState> {
        step_register(*state, command, NilRead::MatchesAnything)
    }

    fn unsupported(&self, command: &Command) -> Option<String> {
        matches!(command, Command::CompareAndSet { .. })
            .then(|| "a register has no compare-and-set: use the cas-register model".to_string())
    }
}

/// A register with compare-and-set (Knossos's `cas-register`). A cas that
/// took effect (`ok`) must have found its expected value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CasRegister {
    pub initial: Option<Value>,
}

impl Model for CasRegister {
    type State = RegisterState;

    fn description(&self) -> String {
        describe("cas-register", self.initial)
    }

    fn initial_state(&self) -> RegisterState {
        RegisterState(self.initial)
    }

    fn step(&self, state: &RegisterState, command: &Command) -> Option<RegisterState> {
        step_register(*state, command, NilRead::MatchesAnything)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEVEN: RegisterState = RegisterState(Some(7));

    #[test]
    fn a_cas_register_reads_writes_and_swaps() {
        let model = CasRegister { initial: Some(0) };
        assert_eq!(model.initial_state(), RegisterState(Some(0)));
        assert_eq!(
            model.step(&SEVEN, &Command::write(3)),
            Some(RegisterState(Some(3)))
        );
        assert_eq!(
            model.step(&SEVEN, &Command::read_returning(Some(7))),
            Some(SEVEN)
        );
        assert_eq!(model.step(&SEVEN, &Command::read_returning(Some(6))), None);
        assert_eq!(
            model.step(&SEVEN, &Command::compare_and_set(Some(7), 8)),
            Some(RegisterState(Some(8)))
        );
        assert_eq!(
            model.step(&SEVEN, &Command::compare_and_set(Some(6), 8)),
            None
        );
        assert_eq!(
            model.step(&RegisterState(None), &Command::compare_and_set(None, 1)),
            Some(RegisterState(Some(1)))
        );
        assert_eq!(model.description(), "cas-register (initial 0)");
    }

    #[test]
    fn a_nil_read_matches_anything_as_in_knossos() {
        let model = CasRegister { initial: None };
        assert_eq!(model.step(&SEVEN, &Command::read()), Some(SEVEN));
        assert_eq!(
            model.step(&RegisterState(None), &Command::read()),
            Some(RegisterState(None))
        );
        assert_eq!(
            model.step(&RegisterState(None), &Command::read_returning(Some(1))),
            None
        );
    }

    #[test]
    fn a_register_rejects_compare_and_set() {
        let model = Register { initial: None };
        assert!(model
            .unsupported(&Command::compare_and_set(Some(1), 2))
            .is_some());
        assert!(model.unsupported(&Command::write(2)).is_none());
        assert_eq!(
            model.step(&SEVEN, &Command::write(1)),
            Some(RegisterState(Some(1)))
        );
        assert_eq!(model.description(), "register (initial nil)");
    }

    #[test]
    fn states_print_as_values_or_nil() {
        assert_eq!(SEVEN.to_string(), "7");
        assert_eq!(RegisterState(None).to_string(), "nil");
    }
}
