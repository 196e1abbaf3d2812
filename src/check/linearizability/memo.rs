//! Lowe's memoisation: the (linearized set, model state) configurations the
//! search has already explored. Reaching one again by another order of the
//! same operations cannot lead anywhere new, so the search skips it. This is
//! what turns Wing and Gong's exponential search into one that finishes on
//! real histories.
//!
//! A lookup hashes only the model state (the set's hash is kept by
//! [`LinearizedSet`](super::linearized_set::LinearizedSet)) and allocates
//! nothing; an entry is allocated only when it is new.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;
use hashbrown::hash_table::{Entry, HashTable};

struct Configuration<S> {
    hash: u64,
    /// The linearized set's canonical compact form.
    linearized: Box<[u64]>,
    state: S,
}

/// The set of explored configurations.
pub(crate) struct Memo<S> {
    table: HashTable<Configuration<S>>,
    state_hasher: FixedState,
}

impl<S: Clone + Eq + Hash> Memo<S> {
    pub(crate) fn new() -> Memo<S> {
        Memo {
            table: HashTable::new(),
            state_hasher: FixedState::with_seed(0),
        }
    }

    /// Records the configuration (`linearized`, `state`), where
    /// `linearized` is a set's canonical form and `linearized_hash` its
    /// hash; returns whether it is new.
    pub(crate) fn insert(&mut self, linearized_hash: u64, linearized: &[u64], state: &S) -> bool {
        let hash = linearized_hash ^ self.state_hasher.hash_one(state);
        let same = |seen: &Configuration<S>| {
            seen.hash == hash && *seen.linearized == *linearized && seen.state == *state
        };
        match self.table.entry(hash, same, |seen| seen.hash) {
            Entry::Occupied(_) => false,
            Entry::Vacant(vacant) => {
                vacant.insert(Configuration {
                    hash,
                    linearized: linearized.into(),
                    state: state.clone(),
                });
                true
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_configurations_by_set_and_state() {
        let mut memo = Memo::new();
        assert!(memo.insert(11, &[1, 2], &7u64));
        assert!(!memo.insert(11, &[1, 2], &7u64));
        assert!(memo.insert(11, &[1, 2], &8u64));
        // Same hash, different set: a collision must not merge them.
        assert!(memo.insert(11, &[1, 3], &7u64));
        assert_eq!(memo.len(), 3);
    }
}
