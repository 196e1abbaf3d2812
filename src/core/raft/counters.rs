//! The numbers Raft counts in, each its own type so that one cannot be
//! passed for another: the [`Term`], the [`LogIndex`] and the heartbeat
//! [`Round`]. Arithmetic on them is the few named steps the protocol takes
//! (the next term, the entry after, the entry before), each asserting what
//! its caller relies on.

use crate::core::counter::counter;

counter! {
    /// A Raft term: the logical clock of elections (paper §5.1). 0 is the
    /// term before any election.
    Term
}

/// The highest term a node adopts or reaches. A message with a later term is
/// dropped ([`DropReason::TermOutOfRange`]) and a node at this term does not
/// campaign, so [`Term::next`] never overflows: one forged message must not
/// wrap a node's term to 0. Honest clusters never get near it (2^63
/// elections).
///
/// [`DropReason::TermOutOfRange`]: crate::core::node::DropReason::TermOutOfRange
pub const MAX_TERM: Term = Term(u64::MAX / 2);

impl Term {
    /// The term a campaign moves to. Precondition: `self < MAX_TERM` (a
    /// node at `MAX_TERM` does not campaign).
    pub fn next(self) -> Term {
        assert!(self < MAX_TERM, "no term after MAX_TERM ({self})");
        Term(self.0 + 1)
    }

    /// Whether `self` is the term right after `earlier` (a pre-vote asks
    /// about the term its sender would campaign in). Total: never overflows.
    pub fn follows(self, earlier: Term) -> bool {
        earlier.0.checked_add(1) == Some(self.0)
    }
}

counter! {
    /// A log position. Entries start at 1; index 0 is the empty prefix,
    /// whose term is 0.
    LogIndex
}

impl LogIndex {
    /// The index of the last of `count` entries (a log of `count` entries
    /// ends there).
    pub fn from_count(count: usize) -> LogIndex {
        LogIndex(count as u64)
    }

    /// How many entries a log ending at `self` holds, for slicing and
    /// truncating the entry vector.
    pub fn count(self) -> usize {
        self.0 as usize
    }

    /// Where the entry at this index sits in a vector of a log's entries
    /// (index 1 at position 0). Precondition: `self > 0`.
    pub fn position(self) -> usize {
        self.prev().count()
    }

    /// The indexes `self..=last`, in order (none if `last < self`).
    pub fn through(self, last: LogIndex) -> impl Iterator<Item = LogIndex> {
        (self.0..=last.0).map(LogIndex)
    }

    /// The entry after this one.
    pub fn next(self) -> LogIndex {
        LogIndex(self.0 + 1)
    }

    /// The entry `count` positions after this one.
    pub fn plus(self, count: usize) -> LogIndex {
        LogIndex(self.0 + count as u64)
    }

    /// The entry before this one. Precondition: `self > 0` (the empty
    /// prefix has nothing before it); callers hold indexes that are at
    /// least 1 by an invariant (a follower's `next`, a log position).
    pub fn prev(self) -> LogIndex {
        assert!(self.0 > 0, "index 0 has no predecessor");
        LogIndex(self.0 - 1)
    }

    /// The entry before this one, or 0 for 0: for inputs that may name the
    /// empty prefix (a range's start from the wire).
    pub fn saturating_prev(self) -> LogIndex {
        LogIndex(self.0.saturating_sub(1))
    }

    /// The entry before this one, `None` for 0.
    pub fn checked_prev(self) -> Option<LogIndex> {
        self.0.checked_sub(1).map(LogIndex)
    }
}

counter! {
    /// A heartbeat round: the leader numbers the rounds it starts, followers
    /// echo the number, and a majority's echo confirms leadership as of the
    /// round's send time (the lease, ReadIndex).
    Round
}

impl Round {
    /// The round after this one. Rounds grow by one per heartbeat interval,
    /// so they never near `u64::MAX`.
    pub fn next(self) -> Round {
        Round(self.0 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printing_is_the_bare_number() {
        assert_eq!(format!("{:?} {}", Term::new(3), LogIndex::new(7)), "3 7");
        assert_eq!(format!("{:?}", Some(Round::new(2))), "Some(2)");
    }

    #[test]
    fn hashing_is_the_bare_number() {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let hasher = BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
        assert_eq!(hasher.hash_one(Term::new(9)), hasher.hash_one(9u64));
    }

    #[test]
    fn a_pre_vote_term_follows_without_overflow() {
        assert!(Term::new(4).follows(Term::new(3)));
        assert!(!Term::new(3).follows(Term::new(3)));
        assert!(!Term::ZERO.follows(Term::new(u64::MAX)));
    }

    #[test]
    #[should_panic(expected = "no term after MAX_TERM")]
    fn max_term_has_no_next() {
        MAX_TERM.next();
    }

    #[test]
    #[should_panic(expected = "no predecessor")]
    fn index_zero_has_no_prev() {
        LogIndex::ZERO.prev();
    }
}
