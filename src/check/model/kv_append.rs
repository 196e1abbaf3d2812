//! A key-value store of strings (Porcupine's `kv` model): `get` returns a
//! key's string, `put` replaces it, `append` adds to its end (to the empty
//! string when the key is absent). `read` and `write` are accepted for
//! `get` and `put`. A get of nil means the key is absent.
//!
//! The state is the string itself, not an interned id: appends make new
//! strings the history never wrote down. Strings are shared (`Arc`), so a
//! step copies a pointer, and hashing one costs its length.

use std::sync::Arc;

use crate::check::history::{Function, Operation};
use crate::check::model::{
    key_and_value, unsupported_function, wrong_value, Model, Prepared, Values,
};
use crate::check::value::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppendOp {
    /// An `ok` get of this string; `None`: the key was absent.
    Get(Option<Arc<str>>),
    Put(Arc<str>),
    Append(Arc<str>),
}

/// Every key starts at `initial` (`None`: absent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvAppend {
    pub initial: Option<Arc<str>>,
}

fn string(what: &str, value: &Value) -> Result<Arc<str>, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        other => Err(wrong_value(what, "a string", other)),
    }
}

impl Model for KvAppend {
    type State = Option<Arc<str>>;
    type Op = AppendOp;

    fn description(&self) -> String {
        let initial = self.initial.as_deref().map_or(Value::Nil, Value::string);
        format!("kv-append (each key initially {initial})")
    }

    fn initial_state(&self, _values: &mut Values) -> Option<Arc<str>> {
        self.initial.clone()
    }

    fn prepare(
        &self,
        operation: &Operation,
        _values: &mut Values,
    ) -> Result<Option<Prepared<AppendOp>>, String> {
        let command = &operation.command;
        let (key, value) = key_and_value(command, Value::is_scalar);
        let op = match command.function {
            Function::Get | Function::Read if operation.outcome.is_indefinite() => return Ok(None),
            Function::Get | Function::Read if value.is_nil() => AppendOp::Get(None),
            Function::Get | Function::Read => AppendOp::Get(Some(string("a get", value)?)),
            Function::Put | Function::Write => AppendOp::Put(string("a put", value)?),
            Function::Append => AppendOp::Append(string("an append", value)?),
            other => {
                return Err(unsupported_function(
                    "kv-append",
                    other,
                    "get, put and append",
                ))
            }
        };
        Ok(Some(Prepared { key, op }))
    }

    fn step(&self, state: &Option<Arc<str>>, op: &AppendOp) -> Option<Option<Arc<str>>> {
        match op {
            AppendOp::Get(seen) => (state == seen).then(|| state.clone()),
            AppendOp::Put(text) => Some(Some(text.clone())),
            AppendOp::Append(text) => {
                let mut grown = state.as_deref().unwrap_or("").to_string();
                grown.push_str(text);
                Some(Some(grown.into()))
            }
        }
    }

    fn describe_state(&self, state: &Option<Arc<str>>, _values: &Values) -> String {
        state
            .as_deref()
            .map_or(Value::Nil, Value::string)
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_grow_the_string() {
        let model = KvAppend::default();
        let absent = model.initial_state(&mut Values::new());
        assert!(model.step(&absent, &AppendOp::Get(None)).is_some());
        let a = model.step(&absent, &AppendOp::Append("a".into())).unwrap();
        let ab = model.step(&a, &AppendOp::Append("b".into())).unwrap();
        assert!(model.step(&ab, &AppendOp::Get(Some("ab".into()))).is_some());
        assert_eq!(model.step(&ab, &AppendOp::Get(Some("ba".into()))), None);
        assert_eq!(model.step(&ab, &AppendOp::Get(None)), None);
        let put = model.step(&ab, &AppendOp::Put("x".into())).unwrap();
        assert_eq!(model.describe_state(&put, &Values::new()), "\"x\"");
    }
}
