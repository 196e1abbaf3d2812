//! Interning: each distinct [`Value`] of a history gets a small integer id
//! once, before the search, so the models compare, hash and copy `u32`s
//! however large the values are (a string, a keyword, a whole set).

use foldhash::fast::FixedState;
use hashbrown::HashMap;

use crate::check::value::Value;

/// The id of an interned value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(u32);

/// The id of nil, in every [`Values`].
pub const NIL: ValueId = ValueId(0);

/// The values of one check and their ids.
#[derive(Debug)]
pub struct Values {
    /// Invariant: `ids[values[i]] == ValueId(i)` for every `i`, and
    /// `values[0]` is nil.
    ids: HashMap<Value, ValueId, FixedState>,
    values: Vec<Value>,
}

impl Default for Values {
    fn default() -> Values {
        Values::new()
    }
}

impl Values {
    pub fn new() -> Values {
        let mut values = Values {
            ids: HashMap::with_hasher(FixedState::with_seed(0)),
            values: Vec::new(),
        };
        let nil = values.intern(&Value::Nil);
        assert_eq!(nil, NIL, "nil is interned first");
        values
    }

    /// The id of `value`, interning it if it is new.
    pub fn intern(&mut self, value: &Value) -> ValueId {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id =
            ValueId(u32::try_from(self.values.len()).expect("fewer than 2^32 distinct values"));
        self.values.push(value.clone());
        self.ids.insert(value.clone(), id);
        id
    }

    /// The value of `id`.
    pub fn get(&self, id: ValueId) -> &Value {
        &self.values[id.0 as usize]
    }

    /// The values of `ids`, in their order: a state of several values,
    /// read back for people.
    pub fn get_all<'a>(&self, ids: impl IntoIterator<Item = &'a ValueId>) -> Vec<Value> {
        ids.into_iter().map(|&id| self.get(id).clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_get_one_id() {
        let mut values = Values::new();
        let a = values.intern(&Value::string("a"));
        let keyword = values.intern(&Value::keyword("a"));
        let negative = values.intern(&Value::from(-1i64));
        assert_ne!(a, keyword);
        assert_eq!(values.intern(&Value::string("a")), a);
        assert_eq!(values.intern(&Value::Nil), NIL);
        assert_eq!(values.get(negative), &Value::from(-1i64));
        assert_eq!(values.len(), 4);
    }
}
