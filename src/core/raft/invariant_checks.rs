//! The node's invariant checks, judged themselves: each check panics on a
//! state that breaks it. `invariants()` runs after every step of every test
//! that steps a node, the model's and the simulator's included, so a check
//! that stopped checking would weaken all of them at once while every test
//! still passed. No correct run reaches these states; each case here builds
//! one by hand from an elected leader.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::core::client::RequestId;
use crate::core::node::Node;
use crate::core::panic_message::panic_message;
use crate::core::raft::counters::MAX_TERM;
use crate::core::raft::role::RoleState;
use crate::core::raft::testing::elected_leader;
use crate::core::raft::{LogIndex, RaftNode, Term};

/// The panic message of `node.invariants()`, or `None` if every check held.
/// Called through [`Node`], as every harness calls it after a step, so the
/// trait's entry point is judged with the checks behind it.
fn broken_invariant(node: &RaftNode) -> Option<String> {
    let panic = catch_unwind(AssertUnwindSafe(|| Node::invariants(node))).err()?;
    Some(panic_message(&*panic))
}

type Damage = fn(&mut RaftNode);

fn leader_state(node: &mut RaftNode) -> &mut crate::core::raft::role::LeaderState {
    match &mut node.role {
        RoleState::Leader(leader) => leader,
        _ => unreachable!("an elected leader"),
    }
}

#[test]
fn every_invariant_check_notices_the_state_that_breaks_it() {
    let (leader, _) = elected_leader();
    assert_eq!(
        broken_invariant(&leader),
        None,
        "the elected leader is sound"
    );
    let cases: [(&str, Damage); 13] = [
        ("the log's base is not the snapshot's", |node| {
            node.replica.log.compact_through(LogIndex::new(1))
        }),
        ("beyond last index", |node| {
            node.replica.commit_index = LogIndex::new(2);
            node.replica.applied_index = LogIndex::new(2);
        }),
        ("unapplied commits", |node| {
            node.replica.commit_index = node.replica.log.last_index();
            node.replica.applied_index = LogIndex::ZERO;
        }),
        ("log has entries from a future term", |node| {
            node.replica.hard_state.term = Term::ZERO
        }),
        ("term beyond MAX_TERM", |node| {
            node.replica.hard_state.term = Term::new(MAX_TERM.get() + 1)
        }),
        ("leader did not vote for itself", |node| {
            node.replica.hard_state.voted_for = Some(2)
        }),
        ("leader does not know it leads", |node| {
            node.replica.leader = Some(2)
        }),
        ("progress does not cover the peers", |node| {
            leader_state(node).progress.remove(&3);
        }),
        ("progress: match >= next", |node| {
            let progress = leader_state(node).progress.get_mut(&2).expect("a peer");
            progress.matched = progress.next;
        }),
        ("a pending write is committed but unanswered", |node| {
            let committed = node.replica.commit_index;
            let id = RequestId {
                client: 1,
                sequence: 1,
            };
            leader_state(node).pending_writes.insert(committed, id);
        }),
        ("pre-candidate without own vote", |node| {
            node.role = RoleState::PreCandidate {
                votes: Default::default(),
            }
        }),
        ("candidate voted for another", |node| {
            node.replica.hard_state.voted_for = Some(2);
            node.role = RoleState::Candidate {
                votes: Default::default(),
            }
        }),
        ("candidate without own vote", |node| {
            node.role = RoleState::Candidate {
                votes: Default::default(),
            }
        }),
    ];
    for (broken, damage) in cases {
        let mut node = leader.clone();
        damage(&mut node);
        let message = broken_invariant(&node);
        assert!(
            message.as_deref().is_some_and(|text| text.contains(broken)),
            "expected the check {broken:?} to fail, got {message:?}"
        );
    }
}
