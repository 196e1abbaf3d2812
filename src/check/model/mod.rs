//! Sequential specifications that histories are checked against.
//!
//! A [`Model`] says what a single, atomic copy of the object would do: from a
//! state, an operation either has the result the history observed (and leads
//! to a next state) or is impossible. Before the search, the model
//! [prepares](Model::prepare) each operation: it reads the function, the key
//! and the values into its own compact form, with every value interned
//! ([`Values`]), so the search compares integers whatever the values are.
//! The checker then searches for an order of the operations that the model
//! accepts. Users add their own model by implementing the trait.
//!
//! Every model checks each key on its own (P-compositionality): the key is
//! the event's `:key`, or else the key of a `jepsen.independent` tuple
//! `[key value]` (see [`key_and_value`]).
//!
//! | model | functions | a read (or dequeue) of nil |
//! |---|---|---|
//! | [`Register`] | read, write | matches any state (Knossos: "not read") |
//! | [`CasRegister`] | read, write, cas | matches any state (Knossos) |
//! | [`KeyValue`] | read, write, cas | the key is absent (holds nil) |
//! | [`Mutex`] | acquire, release | values are ignored |
//! | [`Set`] | add, read | matches any state (nothing was read) |
//! | [`FifoQueue`] | enqueue, dequeue | the queue was empty |
//! | [`KvAppend`] | get, put, append (read, write) | the key is absent |

mod fifo_queue;
mod key_value;
mod kv_append;
mod mutex;
mod register;
mod set;
mod values;

use std::hash::Hash;

use crate::check::history::{Command, Function, Operation};
use crate::check::value::Value;

pub use fifo_queue::FifoQueue;
pub use key_value::KeyValue;
pub use kv_append::KvAppend;
pub use mutex::Mutex;
pub use register::{CasRegister, Register, RegisterOp, RegisterState};
pub use set::Set;
pub use values::{ValueId, Values, NIL};

/// An operation in a model's own terms, and the key (partition) it acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared<Op> {
    pub key: Option<Value>,
    pub op: Op,
}

/// A sequential specification.
pub trait Model {
    /// The object's state (of one key). The checker remembers (set of
    /// linearized operations, state) pairs it has explored, so states must
    /// hash; keep them small and cheap to clone.
    type State: Clone + Eq + Hash;
    /// One operation, prepared: values interned, the outcome's meaning
    /// decided (for an `ok` read, the value it returned).
    type Op;

    /// A name for reports, e.g. `cas-register (initial 0)`.
    fn description(&self) -> String;

    /// The state every key starts in.
    fn initial_state(&self, values: &mut Values) -> Self::State;

    /// `operation` (which took effect, `ok`, or may have: `info` or
    /// pending; failed operations are never prepared) in this model's
    /// terms. `Ok(None)`: it cannot constrain any order and is left out (a
    /// read of unknown outcome). `Err`: this model cannot judge it, and why.
    fn prepare(
        &self,
        operation: &Operation,
        values: &mut Values,
    ) -> Result<Option<Prepared<Self::Op>>, String>;

    /// The state after `op` took effect in `state`, if the result the
    /// history observed is possible there; `None` if it is not.
    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State>;

    /// `state` for people, in EDN (`3`, `#{1 2}`, `"ab"`, `locked`).
    fn describe_state(&self, state: &Self::State, values: &Values) -> String;
}

/// The key and the value of `command`: its `:key`, or else, when the value
/// is a pair `[key value]` that does not have the shape the function takes
/// (`plain`) but whose second element does, a `jepsen.independent` tuple.
/// Models hold scalars, so the two readings never collide: a write's value
/// is a scalar, never a pair; a cas's is `[expected new]` of scalars,
/// never `[key [expected new]]`.
pub fn key_and_value(command: &Command, plain: impl Fn(&Value) -> bool) -> (Option<Value>, &Value) {
    if command.key.is_some() {
        return (command.key.clone(), &command.value);
    }
    if let Value::Vector(pair) = &command.value {
        if let [key, value] = &pair[..] {
            if key.is_scalar() && !plain(&command.value) && plain(value) {
                return (Some(key.clone()), value);
            }
        }
    }
    (None, &command.value)
}

/// Why `model` cannot judge `function`.
pub(crate) fn unsupported_function(model: &str, function: Function, supported: &str) -> String {
    format!(
        "the {model} model has no `{}`: it takes {supported}",
        function.name()
    )
}

/// Why `value` is not what `what` takes.
pub(crate) fn wrong_value(what: &str, expected: &str, value: &Value) -> String {
    format!(
        "{what} takes {expected}, found {} `{value}`",
        value.kind_name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_key_field_or_an_independent_tuple() {
        let scalar = |value: &Value| value.is_scalar();
        let keyed = Command::write(3).with_key("x");
        assert_eq!(
            key_and_value(&keyed, scalar),
            (Some(Value::string("x")), &Value::from(3u64))
        );
        let tuple = Command::new(
            Function::Write,
            Value::vector(vec![Value::keyword("k"), (-1i64).into()]),
        );
        assert_eq!(
            key_and_value(&tuple, scalar),
            (Some(Value::keyword("k")), &Value::from(-1i64))
        );
        let plain = Command::write(3);
        assert_eq!(key_and_value(&plain, scalar), (None, &Value::from(3u64)));
    }
}
