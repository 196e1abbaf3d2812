//! A key-value map of independent compare-and-set registers, checked one
//! key at a time.
//!
//! Unlike the Knossos registers, a read of nil here means "the key is
//! absent": that is what the store's reads return (`Outcome::Read(None)` in
//! the core), and treating it as "unknown" would hide a store that loses a
//! written key.

use crate::check::history::{Command, OptionalValue, Value};
use crate::check::model::register::{step_register, NilRead, RegisterState};
use crate::check::model::Model;

/// Every key starts at `initial` (`None`: absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub initial: Option<Value>,
}

impl Model for KeyValue {
    /// The value of the one key being checked.
    type State = RegisterState;

    fn description(&self) -> String {
        format!("kv (each key initially {})", OptionalValue(self.initial))
    }

    fn initial_state(&self) -> RegisterState {
        RegisterState(self.initial)
    }

    fn step(&self, state: &RegisterState, command: &Command) -> Option<RegisterState> {
        step_register(*state, command, NilRead::MeansNil)
    }

    fn partition_key<'c>(&self, command: &'c Command) -> Option<&'c str> {
        command.key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_by_key() {
        let model = KeyValue { initial: None };
        assert_eq!(
            model.partition_key(&Command::write(1).with_key("x")),
            Some("x")
        );
        assert_eq!(model.partition_key(&Command::write(1)), None);
    }

    #[test]
    fn a_nil_read_means_absent() {
        let model = KeyValue { initial: None };
        let absent = model.initial_state();
        assert_eq!(
            model.step(&absent, &Command::read().with_key("x")),
            Some(absent)
        );
        let written = RegisterState(Some(4));
        assert_eq!(model.step(&written, &Command::read().with_key("x")), None);
        assert_eq!(
            model.step(&written, &Command::read_returning(Some(4)).with_key("x")),
            Some(written)
        );
        assert_eq!(
            model.step(&absent, &Command::compare_and_set(None, 2).with_key("x")),
            Some(RegisterState(Some(2)))
        );
    }
}
