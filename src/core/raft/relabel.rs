//! Renaming nodes: the same node with every node id it holds passed through
//! a permutation of the members. Nothing in Raft depends on which number a
//! node has, only on which node is which, so a renamed node behaves exactly
//! like the original under the renaming. The model checker uses this for
//! symmetry reduction (`src/model/symmetry.rs`): states that differ only in
//! the names of the nodes are explored once.
//!
//! [`RaftNode::hash_anonymous`] is the other half: a hash of everything a
//! node holds that no renaming can change, so that nodes can be put in an
//! order that does not depend on their names.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use std::hash::BuildHasher;

use foldhash::fast::FixedState;

use crate::core::node::NodeId;
use crate::core::raft::role::{LeaderState, RoleState, Transfer, Votes};
use crate::core::raft::state::{RaftNode, Replica};

impl RaftNode {
    /// This node with every node id `id` it holds replaced by `rename(id)`.
    /// `rename` must be a permutation of the members: a node renamed into a
    /// cluster of other ids would break its own invariants.
    pub fn relabeled(&self, rename: &dyn Fn(NodeId) -> NodeId) -> RaftNode {
        let replica = &self.replica;
        let mut hard_state = replica.hard_state;
        hard_state.voted_for = hard_state.voted_for.map(rename);
        let role = match &self.role {
            RoleState::Follower => RoleState::Follower,
            RoleState::PreCandidate { votes } => RoleState::PreCandidate {
                votes: rename_votes(votes, rename),
            },
            RoleState::Candidate { votes } => RoleState::Candidate {
                votes: rename_votes(votes, rename),
            },
            RoleState::Leader(leader) => RoleState::Leader(Box::new(LeaderState {
                progress: leader
                    .progress
                    .iter()
                    .map(|(&peer, progress)| (rename(peer), progress.clone()))
                    .collect(),
                transfer: leader.transfer.as_ref().map(|transfer| Transfer {
                    to: rename(transfer.to),
                    ..transfer.clone()
                }),
                ..LeaderState::clone(leader)
            })),
        };
        RaftNode {
            replica: Replica {
                membership: replica.membership.relabeled(rename),
                configuration: replica.configuration.relabeled(rename),
                hard_state,
                leader: replica.leader.map(rename),
                ..replica.clone()
            },
            role,
        }
    }

    /// Feeds `state` everything this node holds except node ids, which
    /// appear only as "is this node itself" and as multisets (how many
    /// votes were granted, the set of followers' progress): the same for a
    /// node and every renaming of it.
    pub fn hash_anonymous<H: Hasher>(&self, state: &mut H) {
        let replica = &self.replica;
        let is_self = |id: Option<NodeId>| id.map(|id| id == replica.id());
        replica.membership.len().hash(state);
        replica.configuration.hash_anonymous(replica.id(), state);
        replica.config.hash(state);
        replica.hard_state.term.hash(state);
        is_self(replica.hard_state.voted_for).hash(state);
        replica.log.hash(state);
        replica.commit_index.hash(state);
        replica.applied_index.hash(state);
        replica.kv.hash(state);
        // A snapshot's members are every member: no renaming changes them.
        replica.snapshot.hash(state);
        replica.incoming.hash(state);
        is_self(replica.leader).hash(state);
        replica.election_timer_start.hash(state);
        replica.election_timeout.hash(state);
        replica.last_leader_contact.hash(state);
        replica.now.hash(state);
        match &self.role {
            RoleState::Follower => 0u8.hash(state),
            RoleState::PreCandidate { votes } => {
                1u8.hash(state);
                anonymous_votes(votes, replica.id()).hash(state);
            }
            RoleState::Candidate { votes } => {
                2u8.hash(state);
                anonymous_votes(votes, replica.id()).hash(state);
            }
            RoleState::Leader(leader) => {
                3u8.hash(state);
                let hasher = FixedState::with_seed(0);
                let mut progress: Vec<(u64, bool)> = leader
                    .progress
                    .iter()
                    .map(|(&peer, progress)| {
                        let target = leader.transfer.as_ref().is_some_and(|t| t.to == peer);
                        (hasher.hash_one(progress), target)
                    })
                    .collect();
                progress.sort_unstable();
                progress.hash(state);
                leader.heartbeat_deadline.hash(state);
                leader.check_quorum_deadline.hash(state);
                leader.round.hash(state);
                leader.rounds_sent_at.hash(state);
                leader.confirmed_round.hash(state);
                leader.lease_start.hash(state);
                leader.pending_writes.hash(state);
                leader.pending_reads.hash(state);
                leader
                    .transfer
                    .as_ref()
                    .map(|transfer| (transfer.deadline, transfer.timeout_now_sent))
                    .hash(state);
                leader.lease_revoked.hash(state);
            }
        }
    }
}

fn rename_votes(votes: &Votes, rename: &dyn Fn(NodeId) -> NodeId) -> Votes {
    votes
        .iter()
        .map(|(&voter, &granted)| (rename(voter), granted))
        .collect::<BTreeMap<_, _>>()
}

/// Votes as (own vote, granted by others, rejected by others).
fn anonymous_votes(votes: &Votes, id: NodeId) -> (Option<bool>, usize, usize) {
    let others = votes.iter().filter(|(&voter, _)| voter != id);
    let granted = others.clone().filter(|(_, &granted)| granted).count();
    let rejected = others.filter(|(_, &granted)| !granted).count();
    (votes.get(&id).copied(), granted, rejected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::node::Node;
    use crate::core::raft::testing::elected_leader;
    use crate::core::time::Time;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn hash_anonymous(node: &RaftNode) -> u64 {
        let mut hasher = FixedState::with_seed(0).build_hasher();
        node.hash_anonymous(&mut hasher);
        hasher.finish()
    }

    fn leader() -> RaftNode {
        elected_leader().0
    }

    #[test]
    fn a_renamed_node_holds_the_renamed_ids_and_keeps_its_invariants() {
        let node = leader();
        // 1 -> 3, 2 -> 1, 3 -> 2.
        let rename = |id: NodeId| [3, 1, 2][(id - 1) as usize];
        let renamed = node.relabeled(&rename);
        renamed.invariants();
        assert_eq!(renamed.id(), 3);
        assert_eq!(renamed.leader(), Some(3));
        assert_eq!(renamed.hard_state().voted_for, Some(3));
        assert_eq!(renamed.members(), &[1, 2, 3]);
        assert_eq!(renamed.progress_of(1), node.progress_of(2));
        assert_eq!(renamed.progress_of(2), node.progress_of(3));
        assert_eq!(hash_anonymous(&renamed), hash_anonymous(&node));
        let back = |id: NodeId| [2, 3, 1][(id - 1) as usize];
        assert_eq!(renamed.relabeled(&back), node);
    }

    #[test]
    fn the_anonymous_hash_tells_roles_apart() {
        let leader = leader();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let follower =
            RaftNode::new(1, &[1, 2, 3], leader.config().clone(), Time::ZERO, &mut rng).unwrap();
        assert_ne!(hash_anonymous(&leader), hash_anonymous(&follower));
    }
}
