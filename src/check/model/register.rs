//! Single registers, as in Knossos: `register` (read, write) and
//! `cas-register` (read, write, compare-and-set), each key on its own.
//!
//! As in Knossos, a read that returned nil matches any state: Jepsen
//! histories write nil for a read whose value is not known. (The key-value
//! model differs: there nil means the key is absent.)

use crate::check::history::{Function, Operation};
use crate::check::model::{
    key_and_value, unsupported_function, wrong_value, Prepared, ValueId, Values,
};
use crate::check::value::Value;

/// The value a register holds, interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegisterState(pub ValueId);

/// A register operation, its values interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterOp {
    /// An `ok` read of this value; `None`: a value that matches any state.
    Read(Option<ValueId>),
    Write(ValueId),
    CompareAndSet {
        expected: ValueId,
        new: ValueId,
    },
}

/// What a nil read means to a register model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NilRead {
    /// The read's value is unknown: it matches any state (Knossos).
    MatchesAnything,
    /// The register holds nil: the read matches only that state.
    MeansNil,
}

/// Whether `value` is a compare-and-set's `[expected new]`.
fn is_cas_pair(value: &Value) -> bool {
    matches!(value, Value::Vector(pair) if pair.len() == 2 && pair.iter().all(Value::is_scalar))
}

/// Prepares a register operation: shared by every register-like model.
pub(crate) fn prepare_register(
    model: &str,
    operation: &Operation,
    values: &mut Values,
    nil_read: NilRead,
    has_compare_and_set: bool,
) -> Result<Option<Prepared<RegisterOp>>, String> {
    let command = &operation.command;
    let scalar = |what: &str, value: &Value| {
        if value.is_scalar() {
            Ok(())
        } else {
            Err(wrong_value(
                what,
                "a scalar (nil, an integer, a string, a keyword or a boolean)",
                value,
            ))
        }
    };
    let (key, op) = match command.function {
        Function::Read => {
            if operation.outcome.is_indefinite() {
                // Returned nothing, changed nothing: no constraint.
                return Ok(None);
            }
            let (key, value) = key_and_value(command, Value::is_scalar);
            scalar("a read", value)?;
            let read = match (value, nil_read) {
                (Value::Nil, NilRead::MatchesAnything) => None,
                _ => Some(values.intern(value)),
            };
            (key, RegisterOp::Read(read))
        }
        Function::Write => {
            let (key, value) = key_and_value(command, Value::is_scalar);
            scalar("a write", value)?;
            (key, RegisterOp::Write(values.intern(value)))
        }
        Function::CompareAndSet if has_compare_and_set => {
            let (key, value) = key_and_value(command, is_cas_pair);
            let Some([expected, new]) = value.items().filter(|_| is_cas_pair(value)) else {
                return Err(wrong_value(
                    "a cas",
                    "a pair [expected new] of scalars",
                    value,
                ));
            };
            let op = RegisterOp::CompareAndSet {
                expected: values.intern(expected),
                new: values.intern(new),
            };
            (key, op)
        }
        Function::CompareAndSet => {
            return Err(format!(
                "the {model} model has no `cas`: use the cas-register model"
            ))
        }
        other => {
            let supported = if has_compare_and_set {
                "read, write and cas"
            } else {
                "read and write"
            };
            return Err(unsupported_function(model, other, supported));
        }
    };
    Ok(Some(Prepared { key, op }))
}

/// One step of a register: shared by every register-like model.
pub(crate) fn step_register(state: RegisterState, op: &RegisterOp) -> Option<RegisterState> {
    match *op {
        RegisterOp::Read(None) => Some(state),
        RegisterOp::Read(Some(value)) => (state.0 == value).then_some(state),
        RegisterOp::Write(value) => Some(RegisterState(value)),
        RegisterOp::CompareAndSet { expected, new } => {
            (state.0 == expected).then_some(RegisterState(new))
        }
    }
}

/// Defines a register-like model: a struct with an initial value (of
/// every key) and its [`Model`] implementation, which differ only in name,
/// description, what a nil read means and whether cas is allowed.
macro_rules! register_model {
    (
        $(#[$attribute:meta])*
        $model:ident, $name:literal, $nil_read:expr, $has_compare_and_set:literal,
        $describe:expr
    ) => {
        $(#[$attribute])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct $model {
            pub initial: $crate::check::value::Value,
        }

        impl $crate::check::model::Model for $model {
            type State = $crate::check::model::RegisterState;
            type Op = $crate::check::model::RegisterOp;

            fn description(&self) -> String {
                let describe: fn(&$crate::check::value::Value) -> String = $describe;
                describe(&self.initial)
            }

            fn initial_state(
                &self,
                values: &mut $crate::check::model::Values,
            ) -> $crate::check::model::RegisterState {
                $crate::check::model::RegisterState(values.intern(&self.initial))
            }

            fn prepare(
                &self,
                operation: &$crate::check::history::Operation,
                values: &mut $crate::check::model::Values,
            ) -> Result<
                Option<$crate::check::model::Prepared<$crate::check::model::RegisterOp>>,
                String,
            > {
                $crate::check::model::register::prepare_register(
                    $name,
                    operation,
                    values,
                    $nil_read,
                    $has_compare_and_set,
                )
            }

            fn step(
                &self,
                state: &$crate::check::model::RegisterState,
                op: &$crate::check::model::RegisterOp,
            ) -> Option<$crate::check::model::RegisterState> {
                $crate::check::model::register::step_register(*state, op)
            }

            fn describe_state(
                &self,
                state: &$crate::check::model::RegisterState,
                values: &$crate::check::model::Values,
            ) -> String {
                values.get(state.0).to_string()
            }
        }
    };
}

pub(crate) use register_model;

register_model!(
    /// A read/write register (Knossos's `register`).
    Register,
    "register",
    NilRead::MatchesAnything,
    false,
    |initial| format!("register (initial {initial})")
);

register_model!(
    /// A register with compare-and-set (Knossos's `cas-register`). A cas
    /// that took effect (`ok`) must have found its expected value.
    CasRegister,
    "cas-register",
    NilRead::MatchesAnything,
    true,
    |initial| format!("cas-register (initial {initial})")
);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::check::history::{Command, Outcome};
    use crate::check::model::Model;

    pub(crate) fn operation(command: Command, outcome: Outcome) -> Operation {
        Operation {
            process: 0,
            command,
            outcome,
            invoke_index: 0,
            complete_index: None,
        }
    }

    fn prepared(
        model: &impl Model<Op = RegisterOp>,
        command: Command,
        values: &mut Values,
    ) -> RegisterOp {
        model
            .prepare(&operation(command, Outcome::Ok), values)
            .unwrap()
            .unwrap()
            .op
    }

    #[test]
    fn a_cas_register_reads_writes_and_swaps_values_of_any_scalar_type() {
        let model = CasRegister {
            initial: 0u64.into(),
        };
        let mut values = Values::new();
        let state = model.initial_state(&mut values);
        let write = prepared(&model, Command::write(Value::keyword("x")), &mut values);
        let after = model.step(&state, &write).unwrap();
        assert_eq!(model.describe_state(&after, &values), ":x");
        let read_x = prepared(
            &model,
            Command::read_returning(Value::keyword("x")),
            &mut values,
        );
        let read_string = prepared(
            &model,
            Command::read_returning(Value::string("x")),
            &mut values,
        );
        assert_eq!(model.step(&after, &read_x), Some(after));
        assert_eq!(model.step(&after, &read_string), None, "\"x\" is not :x");
        let swap = prepared(
            &model,
            Command::compare_and_set(Value::keyword("x"), -5i64),
            &mut values,
        );
        let swapped = model.step(&after, &swap).unwrap();
        assert_eq!(model.describe_state(&swapped, &values), "-5");
        assert_eq!(model.step(&swapped, &swap), None);
        assert_eq!(model.description(), "cas-register (initial 0)");
    }

    #[test]
    fn a_nil_read_matches_anything_as_in_knossos() {
        let model = CasRegister {
            initial: Value::Nil,
        };
        let mut values = Values::new();
        let nil_read = prepared(&model, Command::read(), &mut values);
        let seven = RegisterState(values.intern(&7u64.into()));
        assert_eq!(model.step(&seven, &nil_read), Some(seven));
    }

    #[test]
    fn reads_of_unknown_outcome_are_left_out() {
        let model = CasRegister::default();
        let mut values = Values::new();
        let info_read = operation(Command::read(), Outcome::Info);
        assert_eq!(model.prepare(&info_read, &mut values), Ok(None));
    }

    #[test]
    fn a_register_rejects_compare_and_set_and_other_functions() {
        let model = Register::default();
        let mut values = Values::new();
        let cas = operation(Command::compare_and_set(1u64, 2u64), Outcome::Ok);
        assert!(model
            .prepare(&cas, &mut values)
            .unwrap_err()
            .contains("cas-register"));
        let add = operation(Command::new(Function::Add, 1u64.into()), Outcome::Ok);
        assert!(model
            .prepare(&add, &mut values)
            .unwrap_err()
            .contains("no `add`"));
        let bad_cas = operation(
            Command::new(Function::CompareAndSet, 1u64.into()),
            Outcome::Ok,
        );
        let error = CasRegister::default()
            .prepare(&bad_cas, &mut values)
            .unwrap_err();
        assert!(error.contains("pair [expected new]"), "{error}");
    }
}
