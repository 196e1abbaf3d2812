//! A node's view of its cluster: who is a member, who its peers are, who is
//! above it, and how many make a majority. Validated once, at construction,
//! with the one limit and the one error every protocol shares.

use crate::core::chassis::quorum::quorum;
use crate::core::node::NodeId;

/// The largest cluster the core supports (a fixed membership of 1–9 nodes).
/// Bounded so that per-member arrays (votes, match indexes) fit on the
/// stack.
pub const MAX_MEMBERS: usize = 9;

/// Why a member list cannot be a cluster. Each protocol's `ConfigError`
/// wraps it, so all three reject a bad membership the same way.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    #[error("a cluster has 1 to {MAX_MEMBERS} members, not {count}")]
    MemberCount { count: usize },
    #[error("member id 0 is reserved")]
    ZeroMemberId,
    #[error("member {id} is listed twice")]
    DuplicateMember { id: NodeId },
    #[error("node {id} is not in the member list")]
    NotAMember { id: NodeId },
}

/// Node `id` and the members of its cluster. Invariant: `members` is sorted,
/// distinct, nonzero, 1 to [`MAX_MEMBERS`] long and contains `id`; `peers`
/// is `members` without `id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Membership {
    id: NodeId,
    members: Vec<NodeId>,
    peers: Vec<NodeId>,
}

impl Membership {
    /// Node `id` in a cluster of `members` (in any order).
    pub fn new(id: NodeId, members: &[NodeId]) -> Result<Membership, MembershipError> {
        Self::validate(id, members)?;
        let mut members = members.to_vec();
        members.sort_unstable();
        Ok(Self::from_sorted(id, members))
    }

    /// Checks that `members` is 1–9 distinct nonzero ids including `id`.
    pub fn validate(id: NodeId, members: &[NodeId]) -> Result<(), MembershipError> {
        if members.is_empty() || members.len() > MAX_MEMBERS {
            return Err(MembershipError::MemberCount {
                count: members.len(),
            });
        }
        let mut sorted = members.to_vec();
        sorted.sort_unstable();
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(MembershipError::DuplicateMember { id: pair[0] });
        }
        if sorted[0] == 0 {
            return Err(MembershipError::ZeroMemberId);
        }
        if !sorted.contains(&id) {
            return Err(MembershipError::NotAMember { id });
        }
        Ok(())
    }

    fn from_sorted(id: NodeId, members: Vec<NodeId>) -> Membership {
        let peers = members.iter().copied().filter(|&peer| peer != id).collect();
        let membership = Membership { id, members, peers };
        membership.check();
        membership
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Every member, this node included, in ascending order.
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// The other members, in ascending order.
    pub fn peers(&self) -> &[NodeId] {
        &self.peers
    }

    /// The members above this node, in ascending order (Bully's ELECTION
    /// goes only to them).
    pub fn higher(&self) -> &[NodeId] {
        let position = self.position_of_self();
        &self.members[position + 1..]
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Never true: a membership holds at least this node.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn contains(&self, id: NodeId) -> bool {
        self.members.binary_search(&id).is_ok()
    }

    /// Whether `id` is another member: the only nodes a message may come
    /// from or a request may name.
    pub fn is_peer(&self, id: NodeId) -> bool {
        id != self.id && self.contains(id)
    }

    /// The smallest majority of the members.
    pub fn quorum(&self) -> usize {
        quorum(self.members.len())
    }

    /// The same membership with every id passed through `rename`, a
    /// permutation of the members (symmetry reduction).
    pub fn relabeled(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Membership {
        let mut members: Vec<NodeId> = self.members.iter().map(|&id| rename(id)).collect();
        members.sort_unstable();
        Self::from_sorted(rename(self.id), members)
    }

    fn position_of_self(&self) -> usize {
        self.members
            .binary_search(&self.id)
            .expect("invariant: a node is a member of its own cluster")
    }

    /// Panics if the invariant is broken (a bug, never bad input: input is
    /// validated before a membership is built).
    pub fn check(&self) {
        assert!(
            !self.members.is_empty() && self.members.len() <= MAX_MEMBERS,
            "membership size"
        );
        assert!(
            self.members.windows(2).all(|pair| pair[0] < pair[1]),
            "members sorted and distinct"
        );
        assert!(self.contains(self.id), "not a member");
        assert_eq!(self.peers.len() + 1, self.members.len(), "peers");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_is_checked() {
        Membership::new(1, &[3, 1, 2]).unwrap();
        Membership::new(1, &[1]).unwrap();
        assert_eq!(
            Membership::new(4, &[1, 2, 3]),
            Err(MembershipError::NotAMember { id: 4 })
        );
        assert_eq!(
            Membership::new(1, &[1, 2, 2]),
            Err(MembershipError::DuplicateMember { id: 2 })
        );
        assert_eq!(
            Membership::new(1, &[0, 1]),
            Err(MembershipError::ZeroMemberId)
        );
        assert_eq!(
            Membership::new(1, &[]),
            Err(MembershipError::MemberCount { count: 0 })
        );
        assert_eq!(
            Membership::new(1, &(1..=10).collect::<Vec<_>>()),
            Err(MembershipError::MemberCount { count: 10 })
        );
    }

    #[test]
    fn peers_higher_and_quorum_follow_the_sorted_members() {
        let membership = Membership::new(3, &[5, 3, 1, 4, 2]).unwrap();
        assert_eq!(membership.members(), &[1, 2, 3, 4, 5]);
        assert_eq!(membership.peers(), &[1, 2, 4, 5]);
        assert_eq!(membership.higher(), &[4, 5]);
        assert_eq!(membership.quorum(), 3);
        assert!(membership.is_peer(5) && !membership.is_peer(3) && !membership.is_peer(6));
        let top = Membership::new(5, &[1, 5]).unwrap();
        assert!(top.higher().is_empty());
    }

    #[test]
    fn a_relabeled_membership_holds_the_renamed_ids() {
        let membership = Membership::new(1, &[1, 2, 3]).unwrap();
        let renamed = membership.relabeled(&|id| [3, 1, 2][(id - 1) as usize]);
        assert_eq!(renamed.id(), 3);
        assert_eq!(renamed.members(), &[1, 2, 3]);
        assert_eq!(renamed.peers(), &[1, 2]);
    }
}
