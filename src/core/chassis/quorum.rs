//! Majority arithmetic, kept apart so the rule every safety argument rests on
//! is in one place.

/// The smallest majority of `members`: floor(n/2) + 1.
pub fn quorum(members: usize) -> usize {
    members / 2 + 1
}

/// The largest value that at least a majority of `values` reach: sort
/// descending, take the quorum-th. Used for the commit index (over match
/// indexes) and for the lease (over acknowledged heartbeat rounds).
pub fn majority_value<T: Copy + Ord>(values: &mut [T]) -> T {
    assert!(!values.is_empty(), "a quorum of nobody");
    values.sort_unstable_by(|a, b| b.cmp(a));
    values[quorum(values.len()) - 1]
}

/// Whether `granted` votes out of `members` win, and whether `rejected`
/// votes make winning impossible.
pub fn tally(members: usize, granted: usize, rejected: usize) -> VoteResult {
    if granted >= quorum(members) {
        VoteResult::Won
    } else if rejected > members - quorum(members) {
        VoteResult::Lost
    } else {
        VoteResult::Pending
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteResult {
    Won,
    Lost,
    Pending,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_is_a_strict_majority() {
        let expected = [
            (1, 1),
            (2, 2),
            (3, 2),
            (4, 3),
            (5, 3),
            (6, 4),
            (7, 4),
            (9, 5),
        ];
        for (members, quorum_size) in expected {
            assert_eq!(quorum(members), quorum_size, "members = {members}");
            // Two quorums always intersect.
            assert!(2 * quorum(members) > members);
        }
    }

    #[test]
    fn majority_value_is_reached_by_a_majority() {
        assert_eq!(majority_value(&mut [5, 1, 3]), 3);
        assert_eq!(majority_value(&mut [5, 1, 3, 4]), 3);
        assert_eq!(majority_value(&mut [7]), 7);
        assert_eq!(majority_value(&mut [2, 2, 9, 9, 1]), 2);
    }

    #[test]
    fn tally_decides_only_when_forced() {
        assert_eq!(tally(3, 2, 0), VoteResult::Won);
        assert_eq!(tally(3, 1, 1), VoteResult::Pending);
        assert_eq!(tally(3, 1, 2), VoteResult::Lost);
        assert_eq!(tally(4, 2, 2), VoteResult::Lost);
        assert_eq!(tally(1, 1, 0), VoteResult::Won);
    }

    /// The tally's definition, for every election of up to nine members:
    /// won once a quorum granted; lost once, even if every member yet to
    /// answer granted, no quorum could be reached; pending otherwise. A
    /// tally that gives up early leaves a winnable election (for five
    /// members, two refusals are not yet a defeat).
    #[test]
    fn tally_is_lost_exactly_when_a_quorum_is_out_of_reach() {
        for members in 1..=9 {
            for granted in 0..=members {
                for rejected in 0..=members - granted {
                    let unanswered = members - granted - rejected;
                    let expected = if granted >= quorum(members) {
                        VoteResult::Won
                    } else if granted + unanswered < quorum(members) {
                        VoteResult::Lost
                    } else {
                        VoteResult::Pending
                    };
                    assert_eq!(
                        tally(members, granted, rejected),
                        expected,
                        "{granted} granted and {rejected} rejected of {members}"
                    );
                }
            }
        }
    }
}
