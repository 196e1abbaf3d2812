//! A key-value map of independent compare-and-set registers, checked one
//! key at a time.
//!
//! Unlike the Knossos registers, a read of nil here means "the key is
//! absent": that is what the store's reads return (`Outcome::Read(None)` in
//! the core), and treating it as "unknown" would hide a store that loses a
//! written key.

use crate::check::model::register::{register_model, NilRead};

register_model!(
    /// Every key starts at `initial` (nil: absent).
    KeyValue,
    "kv",
    NilRead::MeansNil,
    true,
    |initial| format!("kv (each key initially {initial})")
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::history::{Command, Outcome};
    use crate::check::model::register::tests::operation;
    use crate::check::model::{Model, RegisterState, Values};
    use crate::check::value::Value;

    #[test]
    fn a_nil_read_means_absent() {
        let model = KeyValue::default();
        let mut values = Values::new();
        let absent = model.initial_state(&mut values);
        let ok = |command| operation(command, Outcome::Ok);
        let nil_read = model
            .prepare(&ok(Command::read().with_key("x")), &mut values)
            .unwrap()
            .unwrap();
        assert_eq!(nil_read.key, Some(Value::string("x")));
        assert_eq!(model.step(&absent, &nil_read.op), Some(absent));
        let written = RegisterState(values.intern(&4u64.into()));
        assert_eq!(model.step(&written, &nil_read.op), None);
    }
}
