//! A fixed-size set of small integers, one bit each: the set of operations
//! linearized so far, which the search updates and hashes on every step.

/// A set of integers in `0..capacity`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Bitset {
    words: Box<[u64]>,
}

impl Bitset {
    pub(crate) fn new(capacity: usize) -> Bitset {
        Bitset {
            words: vec![0; capacity.div_ceil(64)].into_boxed_slice(),
        }
    }

    pub(crate) fn insert(&mut self, member: usize) {
        self.words[member / 64] |= 1 << (member % 64);
    }

    pub(crate) fn remove(&mut self, member: usize) {
        self.words[member / 64] &= !(1 << (member % 64));
    }

    pub(crate) fn contains(&self, member: usize) -> bool {
        self.words[member / 64] & (1 << (member % 64)) != 0
    }

    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_and_removes_across_words() {
        let mut set = Bitset::new(130);
        assert_eq!(set.words().len(), 3);
        for member in [0, 63, 64, 129] {
            assert!(!set.contains(member));
            set.insert(member);
            assert!(set.contains(member));
        }
        set.remove(64);
        assert!(!set.contains(64));
        assert!(set.contains(63) && set.contains(129));
        assert_eq!(set.words(), &[1 | 1 << 63, 0, 1 << 1]);
    }
}
