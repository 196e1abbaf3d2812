//! The set of operations linearized so far, kept so that remembering it is
//! cheap however long the history.
//!
//! A plain bitset would make every remembered configuration as large as the
//! history (Porcupine's and Knossos's cost: quadratic memory on long
//! histories). But the set has a shape: every `ok` operation must be
//! linearized before its completion, so below the earliest unlinearized one
//! all are in, and above the latest linearized one none are; only the window
//! between them, about as wide as the history's concurrency, needs storing.
//! Operations of unknown outcome may stay out forever and would keep that
//! window open, so they get a window of their own. [`LinearizedSet::encode`]
//! writes the canonical compact form that the memo stores and compares.
//!
//! The set's hash is kept incrementally (Zobrist hashing: the XOR of a fixed
//! random word per member), so hashing costs nothing per step.

use crate::check::linearizability::bitset::Bitset;

/// The Zobrist word of member `member`: SplitMix64 of its index, fixed so
/// runs are reproducible.
fn zobrist_word(member: usize) -> u64 {
    let mut word = (member as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    word = (word ^ (word >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    word = (word ^ (word >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    word ^ (word >> 31)
}

/// A set of `0..capacity` that tracks the window outside which it is known.
struct Window {
    bits: Bitset,
    /// Invariant: the smallest member not in the set (all below are in).
    low: usize,
    /// Invariant: one more than the largest member in the set, or 0 (none
    /// at or above are in).
    high: usize,
}

impl Window {
    fn new(capacity: usize) -> Window {
        Window {
            bits: Bitset::new(capacity),
            low: 0,
            high: 0,
        }
    }

    fn insert(&mut self, member: usize) {
        self.bits.insert(member);
        self.high = self.high.max(member + 1);
        while self.low < self.high && self.bits.contains(self.low) {
            self.low += 1;
        }
    }

    fn remove(&mut self, member: usize) {
        self.bits.remove(member);
        self.low = self.low.min(member);
        while self.high > 0 && !self.bits.contains(self.high - 1) {
            self.high -= 1;
        }
    }

    /// Appends the canonical form: the index of the word holding `low`, the
    /// number of words up to `high`, and those words. Equal sets give equal
    /// forms: `low` and `high` are functions of the set.
    fn encode(&self, key: &mut Vec<u64>) {
        let first_word = self.low / 64;
        let end_word = self.high.div_ceil(64).max(first_word);
        key.push(first_word as u64);
        key.push((end_word - first_word) as u64);
        key.extend_from_slice(&self.bits.words()[first_word..end_word]);
    }
}

/// Members `0..required_count` are the operations that must be linearized,
/// the rest those that may be.
pub(crate) struct LinearizedSet {
    required_count: usize,
    required: Window,
    optional: Window,
    /// Invariant: the XOR of `zobrist_word` over the members.
    hash: u64,
}

impl LinearizedSet {
    pub(crate) fn new(required_count: usize, optional_count: usize) -> LinearizedSet {
        LinearizedSet {
            required_count,
            required: Window::new(required_count),
            optional: Window::new(optional_count),
            hash: 0,
        }
    }

    fn window(&mut self, member: usize) -> (&mut Window, usize) {
        match member.checked_sub(self.required_count) {
            None => (&mut self.required, member),
            Some(optional) => (&mut self.optional, optional),
        }
    }

    pub(crate) fn insert(&mut self, member: usize) {
        debug_assert!(!self.contains(member), "members are inserted once");
        self.hash ^= zobrist_word(member);
        let (window, index) = self.window(member);
        window.insert(index);
    }

    pub(crate) fn remove(&mut self, member: usize) {
        debug_assert!(self.contains(member), "only members are removed");
        self.hash ^= zobrist_word(member);
        let (window, index) = self.window(member);
        window.remove(index);
    }

    pub(crate) fn contains(&self, member: usize) -> bool {
        match member.checked_sub(self.required_count) {
            None => self.required.bits.contains(member),
            Some(optional) => self.optional.bits.contains(optional),
        }
    }

    /// The hash of the set: equal sets hash alike, whatever the order in
    /// which members came and went.
    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }

    /// Replaces `key` with the set's canonical compact form.
    pub(crate) fn encode(&self, key: &mut Vec<u64>) {
        key.clear();
        self.required.encode(key);
        self.optional.encode(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(set: &LinearizedSet) -> Vec<u64> {
        let mut key = Vec::new();
        set.encode(&mut key);
        key
    }

    #[test]
    fn equal_sets_encode_and_hash_alike_whatever_their_history() {
        let mut first = LinearizedSet::new(200, 10);
        let mut second = LinearizedSet::new(200, 10);
        for member in [0, 1, 2, 130, 3, 205] {
            first.insert(member);
        }
        for member in [205, 3, 150, 2, 1, 0, 130, 64] {
            second.insert(member);
        }
        second.remove(150);
        second.remove(64);
        assert_eq!(encoded(&first), encoded(&second));
        assert_eq!(first.hash(), second.hash());
        second.remove(205);
        assert_ne!(encoded(&first), encoded(&second));
        assert_ne!(first.hash(), second.hash());
    }

    #[test]
    fn the_encoding_stays_small_as_the_prefix_grows() {
        let mut set = LinearizedSet::new(100_000, 0);
        for member in 0..99_990 {
            set.insert(member);
        }
        set.insert(99_995);
        // Two words of header and the one word holding 99_990..99_995.
        assert_eq!(encoded(&set).len(), 2 + 1 + 2);
    }

    #[test]
    fn sets_that_differ_only_below_a_word_boundary_encode_differently() {
        let mut smaller = LinearizedSet::new(128, 0);
        let mut larger = LinearizedSet::new(128, 0);
        for member in 0..64 {
            smaller.insert(member);
            larger.insert(member);
        }
        larger.insert(64);
        assert_ne!(encoded(&smaller), encoded(&larger));
        let empty = LinearizedSet::new(128, 0);
        assert_ne!(encoded(&empty), encoded(&smaller));
    }

    #[test]
    fn zobrist_words_differ() {
        let words: std::collections::BTreeSet<u64> = (0..10_000).map(zobrist_word).collect();
        assert_eq!(words.len(), 10_000);
    }
}
