//! A set (Knossos's `set`): `add` puts a value in, `read` returns the whole
//! set, which must equal the state exactly. A read written as a vector
//! (`[1 2]`, as some Jepsen clients sort their results) is read as a set. A
//! read of nil returned nothing to compare, so it matches any state.

use crate::check::history::{Function, Operation};
use crate::check::model::{
    key_and_value, unsupported_function, wrong_value, Model, Prepared, ValueId, Values,
};
use crate::check::value::Value;

/// The members, interned. Invariant: sorted, without duplicates.
pub type Members = Vec<ValueId>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetOp {
    Add(ValueId),
    /// An `ok` read of exactly these members; `None`: nil, matches any set.
    Read(Option<Members>),
}

/// A set that starts empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Set;

/// Whether `value` is what a read of the whole set returns.
fn is_members(value: &Value) -> bool {
    value.is_nil()
        || value
            .items()
            .is_some_and(|items| items.iter().all(Value::is_scalar))
}

impl Model for Set {
    type State = Members;
    type Op = SetOp;

    fn description(&self) -> String {
        "set (initially empty)".to_string()
    }

    fn initial_state(&self, _values: &mut Values) -> Members {
        Vec::new()
    }

    fn prepare(
        &self,
        operation: &Operation,
        values: &mut Values,
    ) -> Result<Option<Prepared<SetOp>>, String> {
        let command = &operation.command;
        let (key, op) = match command.function {
            Function::Add => {
                let (key, value) = key_and_value(command, Value::is_scalar);
                if !value.is_scalar() {
                    return Err(wrong_value("an add", "a scalar", value));
                }
                (key, SetOp::Add(values.intern(value)))
            }
            Function::Read if operation.outcome.is_indefinite() => return Ok(None),
            Function::Read => {
                let (key, value) = key_and_value(command, is_members);
                let Some(items) = value.items().filter(|_| is_members(value)) else {
                    if value.is_nil() {
                        return Ok(Some(Prepared {
                            key,
                            op: SetOp::Read(None),
                        }));
                    }
                    return Err(wrong_value(
                        "a set read",
                        "a set or vector of scalars",
                        value,
                    ));
                };
                let mut members: Members = items.iter().map(|item| values.intern(item)).collect();
                members.sort_unstable();
                members.dedup();
                (key, SetOp::Read(Some(members)))
            }
            other => return Err(unsupported_function("set", other, "add and read")),
        };
        Ok(Some(Prepared { key, op }))
    }

    fn step(&self, state: &Members, op: &SetOp) -> Option<Members> {
        match op {
            SetOp::Add(member) => match state.binary_search(member) {
                Ok(_) => Some(state.clone()),
                Err(at) => {
                    let mut next = state.clone();
                    next.insert(at, *member);
                    Some(next)
                }
            },
            SetOp::Read(None) => Some(state.clone()),
            SetOp::Read(Some(members)) => (state == members).then(|| state.clone()),
        }
    }

    fn describe_state(&self, state: &Members, values: &Values) -> String {
        Value::set(values.get_all(state)).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::history::{Command, Outcome};
    use crate::check::model::register::tests::operation;

    #[test]
    fn a_read_must_see_exactly_what_was_added() {
        let model = Set;
        let mut values = Values::new();
        let mut prepare = |command| {
            model
                .prepare(&operation(command, Outcome::Ok), &mut values)
                .unwrap()
                .unwrap()
                .op
        };
        let add_a = prepare(Command::new(Function::Add, Value::string("a")));
        let add_one = prepare(Command::new(Function::Add, 1u64.into()));
        let read_both = prepare(Command::read_returning(Value::set(vec![
            1u64.into(),
            "a".into(),
        ])));
        let read_vector = prepare(Command::read_returning(Value::vector(vec![
            "a".into(),
            1u64.into(),
        ])));
        let read_a = prepare(Command::read_returning(Value::vector(vec!["a".into()])));
        let empty = model.initial_state(&mut Values::new());
        let both = model
            .step(&model.step(&empty, &add_a).unwrap(), &add_one)
            .unwrap();
        assert!(model.step(&both, &read_both).is_some());
        assert!(model.step(&both, &read_vector).is_some());
        assert_eq!(model.step(&both, &read_a), None);
        assert_eq!(
            model.step(&both, &add_a),
            Some(both.clone()),
            "adding twice"
        );
    }
}
