//! The configuration's quorums against their definitions, for every
//! configuration of up to four ids (each a voter of C_new, of C_old, of
//! both, a learner, or absent) and every assignment of answers or values.

use super::Configuration;
use crate::core::chassis::quorum::{quorum, VoteResult};
use crate::core::chassis::{MembershipError, MAX_MEMBERS};
use crate::core::node::NodeId;

const IDS: [NodeId; 4] = [1, 2, 3, 4];

/// Every valid configuration over [`IDS`].
fn every_configuration() -> Vec<Configuration> {
    let mut all = Vec::new();
    // Each id: 0 absent, 1 C_new only, 2 C_old only, 3 both, 4 learner.
    for code in 0..5u32.pow(IDS.len() as u32) {
        let (mut voters, mut outgoing, mut learners) = (vec![], vec![], vec![]);
        let mut rest = code;
        for id in IDS {
            match rest % 5 {
                1 => voters.push(id),
                2 => outgoing.push(id),
                3 => {
                    voters.push(id);
                    outgoing.push(id);
                }
                4 => learners.push(id),
                _ => {}
            }
            rest /= 5;
        }
        if let Ok(configuration) = Configuration::joint(&voters, &outgoing, &learners) {
            all.push(configuration);
        }
    }
    all
}

/// Every assignment of one of `choices` to each of [`IDS`].
fn every_assignment<T: Copy>(choices: &[T]) -> Vec<[T; 4]> {
    let n = choices.len() as u32;
    (0..n.pow(IDS.len() as u32))
        .map(|code| std::array::from_fn(|i| choices[(code / n.pow(i as u32) % n) as usize]))
        .collect()
}

/// The majorities a decision needs: C_new, and C_old when joint.
fn majorities(configuration: &Configuration) -> Vec<&[NodeId]> {
    let mut majorities = vec![configuration.voters.as_slice()];
    if configuration.is_joint() {
        majorities.push(&configuration.outgoing);
    }
    majorities
}

#[test]
fn a_round_is_won_when_every_majority_granted_and_lost_when_any_cannot() {
    let configurations = every_configuration();
    assert!(configurations.len() > 300, "{}", configurations.len());
    for configuration in &configurations {
        for answers in every_assignment(&[None, Some(true), Some(false)]) {
            let vote = |id: NodeId| answers[(id - 1) as usize];
            let count =
                |voters: &[NodeId], answer| voters.iter().filter(|&&id| vote(id) == answer).count();
            let won = majorities(configuration)
                .iter()
                .all(|voters| count(voters, Some(true)) >= quorum(voters.len()));
            let lost = majorities(configuration).iter().any(|voters| {
                count(voters, Some(true)) + count(voters, None) < quorum(voters.len())
            });
            let expected = if won {
                VoteResult::Won
            } else if lost {
                VoteResult::Lost
            } else {
                VoteResult::Pending
            };
            assert_eq!(
                configuration.vote_result(vote),
                expected,
                "{configuration:?} with answers {answers:?}"
            );
            let active = |id: NodeId| vote(id) == Some(true);
            assert_eq!(configuration.has_quorum(active), won, "{configuration:?}");
        }
    }
}

#[test]
fn the_majority_value_is_the_largest_every_majority_reaches() {
    for configuration in &every_configuration() {
        for values in every_assignment(&[0u64, 1, 2, 3]) {
            let value = |id: NodeId| values[(id - 1) as usize];
            let reached_by_every_majority = |v: u64| {
                majorities(configuration).iter().all(|voters| {
                    voters.iter().filter(|&&id| value(id) >= v).count() >= quorum(voters.len())
                })
            };
            let expected = (0..=3).rev().find(|&v| reached_by_every_majority(v));
            assert_eq!(
                Some(configuration.majority_value(value)),
                expected,
                "{configuration:?} with values {values:?}"
            );
        }
    }
}

#[test]
fn a_joint_commit_needs_both_majorities() {
    // C_old = {1, 2, 3}, C_new = {1, 4, 5}: an index on 1, 2 and 3 is on a
    // majority of C_old only, and does not commit until 4 or 5 has it.
    let joint = Configuration::joint(&[1, 4, 5], &[1, 2, 3], &[]).unwrap();
    let matched = |id: NodeId| [9, 9, 9, 0, 0][(id - 1) as usize];
    assert_eq!(joint.majority_value(matched), 0);
    let matched = |id: NodeId| [9, 9, 9, 7, 0][(id - 1) as usize];
    assert_eq!(joint.majority_value(matched), 7);
    // A learner's match index counts for nothing.
    let with_learner = Configuration::joint(&[1, 2, 3], &[], &[4]).unwrap();
    let matched = |id: NodeId| [5, 0, 0, 9][(id - 1) as usize];
    assert_eq!(with_learner.majority_value(matched), 0);
}

#[test]
fn members_are_every_voter_and_learner_once() {
    let joint = Configuration::joint(&[4, 1, 5], &[3, 2, 1], &[6]).unwrap();
    assert_eq!(joint.members(), vec![1, 2, 3, 4, 5, 6]);
    assert!(joint.is_joint() && joint.is_voter(2) && joint.is_voter(5));
    assert!(joint.is_learner(6) && !joint.is_voter(6) && !joint.is_learner(1));
    let simple = Configuration::simple(&[3, 1, 2]).unwrap();
    assert!(!simple.is_joint());
    assert_eq!(simple.members(), vec![1, 2, 3]);
}

#[test]
fn a_bad_configuration_is_refused_with_its_reason() {
    let refused = |voters: &[NodeId], outgoing: &[NodeId], learners: &[NodeId]| {
        Configuration::joint(voters, outgoing, learners).unwrap_err()
    };
    assert_eq!(
        refused(&[], &[1], &[]),
        MembershipError::MemberCount { count: 0 }
    );
    assert_eq!(
        refused(&[1, 2, 2], &[], &[]),
        MembershipError::DuplicateMember { id: 2 }
    );
    assert_eq!(refused(&[0, 1], &[], &[]), MembershipError::ZeroMemberId);
    assert_eq!(refused(&[1], &[0], &[]), MembershipError::ZeroMemberId);
    assert_eq!(
        refused(&[1, 2], &[], &[2]),
        MembershipError::DuplicateMember { id: 2 }
    );
    assert_eq!(
        refused(&[1], &[3], &[3]),
        MembershipError::DuplicateMember { id: 3 },
        "a learner votes in no majority, old or new"
    );
    let many: Vec<NodeId> = (1..=MAX_MEMBERS as NodeId).collect();
    assert_eq!(
        refused(&many, &[], &[10]),
        MembershipError::MemberCount {
            count: MAX_MEMBERS + 1
        }
    );
}

#[test]
fn a_relabeled_configuration_holds_the_renamed_ids() {
    let joint = Configuration::joint(&[1, 2], &[2, 3], &[4]).unwrap();
    let renamed = joint.relabeled(&|id| [4, 3, 2, 1][(id - 1) as usize]);
    assert_eq!(
        renamed,
        Configuration::joint(&[4, 3], &[3, 2], &[1]).unwrap()
    );
}

/// The configuration's invariant check, run after every step, notices each
/// broken shape (no correct path builds one: each is built by hand here).
#[test]
fn the_configuration_check_notices_each_broken_shape() {
    let shape = |voters: Vec<NodeId>, outgoing: Vec<NodeId>, learners: Vec<NodeId>| Configuration {
        voters,
        outgoing,
        learners,
    };
    for (broken, says) in [
        (shape(vec![], vec![], vec![]), "voters"),
        (shape(vec![2, 1], vec![], vec![]), "sorted and distinct"),
        (shape(vec![1], vec![3, 3], vec![]), "sorted and distinct"),
        (shape(vec![0, 1], vec![], vec![]), "reserved"),
        (shape(vec![1, 2], vec![], vec![2]), "learner"),
        (shape((1..=9).collect(), vec![], vec![10]), "size"),
    ] {
        let panic = std::panic::catch_unwind(|| broken.check()).expect_err(says);
        let message = crate::core::panic_message::panic_message(&*panic);
        assert!(message.contains(says), "{message:?} for {says:?}");
    }
}
