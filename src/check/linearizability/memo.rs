//! Lowe's memoisation: the (linearized set, model state) configurations the
//! search has already explored. Reaching one again by another order of the
//! same operations cannot lead anywhere new, so the search skips it. This is
//! what turns Wing and Gong's exponential search into one that finishes on
//! real histories.
//!
//! The linearized set's hash is kept incrementally (Zobrist hashing: the XOR
//! of a fixed random word per member), so a lookup hashes only the model
//! state and allocates nothing; an entry is allocated only when it is new.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;
use hashbrown::hash_table::{Entry, HashTable};

use crate::check::linearizability::bitset::Bitset;

/// The Zobrist word of set member `member`: SplitMix64 of its index, fixed
/// so runs are reproducible.
pub(crate) fn zobrist_word(member: usize) -> u64 {
    let mut word = (member as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    word = (word ^ (word >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    word = (word ^ (word >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    word ^ (word >> 31)
}

struct Configuration<S> {
    hash: u64,
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

    /// Records the configuration (`linearized`, `state`), whose linearized
    /// set hashes to `linearized_hash`; returns whether it is new.
    pub(crate) fn insert(&mut self, linearized_hash: u64, linearized: &Bitset, state: &S) -> bool {
        let hash = linearized_hash ^ self.state_hasher.hash_one(state);
        let same = |seen: &Configuration<S>| {
            seen.hash == hash && *seen.linearized == *linearized.words() && seen.state == *state
        };
        match self.table.entry(hash, same, |seen| seen.hash) {
            Entry::Occupied(_) => false,
            Entry::Vacant(vacant) => {
                vacant.insert(Configuration {
                    hash,
                    linearized: linearized.words().into(),
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
        let mut set = Bitset::new(10);
        set.insert(3);
        let hash = zobrist_word(3);
        assert!(memo.insert(hash, &set, &7u64));
        assert!(!memo.insert(hash, &set, &7u64));
        assert!(memo.insert(hash, &set, &8u64));
        set.insert(4);
        assert!(memo.insert(hash ^ zobrist_word(4), &set, &7u64));
        assert_eq!(memo.len(), 3);
    }

    #[test]
    fn zobrist_words_differ() {
        let words: std::collections::BTreeSet<u64> = (0..10_000).map(zobrist_word).collect();
        assert_eq!(words.len(), 10_000);
    }
}
