//! The replicated state machine: a key-value map of integers with read, write
//! and compare-and-set, to which every node applies committed entries in log
//! order.

use std::collections::BTreeMap;

use crate::core::client::{Outcome, Value};

/// A deterministic key-value map (`BTreeMap`, so iteration order and debug
/// output are the same on every run).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KvStore {
    values: BTreeMap<String, Value>,
}

impl KvStore {
    pub fn read(&self, key: &str) -> Option<Value> {
        self.values.get(key).copied()
    }

    pub fn write(&mut self, key: &str, value: Value) -> Outcome {
        self.set(key, value);
        Outcome::Written
    }

    pub fn compare_and_set(&mut self, key: &str, expected: Option<Value>, new: Value) -> Outcome {
        let swapped = self.read(key) == expected;
        if swapped {
            self.set(key, new);
        }
        Outcome::CompareAndSet { swapped }
    }

    /// Overwrites in place when the key exists: copying the key is only
    /// needed the first time (this runs for every applied write).
    fn set(&mut self, key: &str, value: Value) {
        match self.values.get_mut(key) {
            Some(slot) => *slot = value,
            None => {
                self.values.insert(key.to_owned(), value);
            }
        }
    }

    /// How many keys hold a value.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The greatest key holding a value (a snapshot arriving in chunks, in
    /// key order, goes on after it).
    pub fn last_key(&self) -> Option<&str> {
        self.values.last_key_value().map(|(key, _)| key.as_str())
    }

    /// The pairs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Value)> {
        self.values
            .iter()
            .map(|(key, value)| (key.as_str(), *value))
    }

    /// The pairs after `key` (all of them for `None`), in key order: a
    /// snapshot's next chunk starts there without walking what was sent.
    pub fn iter_after(&self, key: Option<&str>) -> impl Iterator<Item = (&str, Value)> {
        use std::ops::Bound;
        let start = key.map_or(Bound::Unbounded, Bound::Excluded);
        self.values
            .range::<str, _>((start, Bound::Unbounded))
            .map(|(key, value)| (key.as_str(), *value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_and_set_swaps_only_on_match() {
        let mut store = KvStore::default();
        assert_eq!(
            store.compare_and_set("x", Some(1), 2),
            Outcome::CompareAndSet { swapped: false }
        );
        assert_eq!(
            store.compare_and_set("x", None, 1),
            Outcome::CompareAndSet { swapped: true }
        );
        assert_eq!(store.read("x"), Some(1));
        store.write("x", 5);
        assert_eq!(
            store.compare_and_set("x", Some(5), 6),
            Outcome::CompareAndSet { swapped: true }
        );
        assert_eq!(store.read("x"), Some(6));
    }
}
