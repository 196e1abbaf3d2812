//! The configuration in force: who votes, in one majority or, while a joint
//! change is under way, in two, and who only learns. Every quorum the node
//! asks about is asked of it — a vote or pre-vote round, the commit index,
//! the lease's confirmed round, CheckQuorum — so that a joint configuration
//! (C_old,new) needs a majority of C_old *and* a majority of C_new for each
//! (Raft paper §6, thesis §4.3; etcd's `JointConfig`). A learner receives
//! the log and counts toward no majority.
//!
//! Today every node runs the simple configuration of its fixed members; the
//! membership-change work appends configurations to the log and makes the
//! latest one appended the one in force (thesis §4.1).

use std::hash::{Hash, Hasher};

use crate::core::chassis::quorum::{majority_value, tally, VoteResult};
use crate::core::chassis::{MembershipError, MAX_MEMBERS};
use crate::core::node::NodeId;

/// Voters and learners. Invariant: `voters` is 1 to [`MAX_MEMBERS`] ids,
/// `outgoing` 0 to [`MAX_MEMBERS`] (empty unless joint), each list sorted,
/// distinct and nonzero; a learner is in neither voter list; no more than
/// [`MAX_MEMBERS`] distinct ids in all.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Configuration {
    /// C_new, or the only configuration when not joint.
    voters: Vec<NodeId>,
    /// C_old while a joint change is under way; empty otherwise.
    outgoing: Vec<NodeId>,
    /// Members that receive the log and vote in no majority.
    learners: Vec<NodeId>,
}

impl Configuration {
    /// Every one of `voters` votes; nobody only learns.
    pub fn simple(voters: &[NodeId]) -> Result<Configuration, MembershipError> {
        Self::joint(voters, &[], &[])
    }

    /// `voters` (C_new) and `outgoing` (C_old, empty when not joint), each
    /// deciding by its own majority, and `learners`. Any order.
    pub fn joint(
        voters: &[NodeId],
        outgoing: &[NodeId],
        learners: &[NodeId],
    ) -> Result<Configuration, MembershipError> {
        if voters.is_empty() {
            return Err(MembershipError::MemberCount { count: 0 });
        }
        let configuration = Configuration {
            voters: sorted_distinct(voters)?,
            outgoing: sorted_distinct(outgoing)?,
            learners: sorted_distinct(learners)?,
        };
        if let Some(&id) = configuration
            .learners
            .iter()
            .find(|&&id| configuration.is_voter(id))
        {
            return Err(MembershipError::DuplicateMember { id });
        }
        let count = configuration.member_count();
        if count > MAX_MEMBERS {
            return Err(MembershipError::MemberCount { count });
        }
        configuration.check();
        Ok(configuration)
    }

    pub fn is_joint(&self) -> bool {
        !self.outgoing.is_empty()
    }

    /// Whether `id` votes in either majority.
    pub fn is_voter(&self, id: NodeId) -> bool {
        self.voters.binary_search(&id).is_ok() || self.outgoing.binary_search(&id).is_ok()
    }

    pub fn is_learner(&self, id: NodeId) -> bool {
        self.learners.binary_search(&id).is_ok()
    }

    /// Every id the configuration names (voters of both majorities and
    /// learners), ascending: the nodes a leader replicates to, itself
    /// included.
    pub fn members(&self) -> Vec<NodeId> {
        let mut members: Vec<NodeId> = self.ids().collect();
        members.sort_unstable();
        members.dedup();
        members
    }

    /// Every id the configuration names, a voter of both majorities once
    /// in each: without allocating, for the checks that run every step.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.voters
            .iter()
            .chain(&self.outgoing)
            .chain(&self.learners)
            .copied()
    }

    /// How many distinct ids the configuration names (learners are in
    /// neither voter list, so only C_old's repeats of C_new are skipped).
    fn member_count(&self) -> usize {
        let outgoing_only = self
            .outgoing
            .iter()
            .filter(|id| self.voters.binary_search(id).is_err())
            .count();
        self.voters.len() + outgoing_only + self.learners.len()
    }

    /// The outcome of a vote round in which `vote(id)` is `Some(granted)`
    /// for each voter that answered: won once every majority has granted,
    /// lost once any majority can no longer grant. A learner's answer, or
    /// any non-voter's, counts for nothing.
    pub fn vote_result(&self, vote: impl Fn(NodeId) -> Option<bool>) -> VoteResult {
        let of = |voters: &[NodeId]| {
            let answers = voters.iter().filter_map(|&id| vote(id));
            let (granted, rejected) = answers.fold((0, 0), |(yes, no), granted| {
                if granted {
                    (yes + 1, no)
                } else {
                    (yes, no + 1)
                }
            });
            tally(voters.len(), granted, rejected)
        };
        let incoming = of(&self.voters);
        if !self.is_joint() {
            return incoming;
        }
        match (incoming, of(&self.outgoing)) {
            (VoteResult::Lost, _) | (_, VoteResult::Lost) => VoteResult::Lost,
            (VoteResult::Won, VoteResult::Won) => VoteResult::Won,
            _ => VoteResult::Pending,
        }
    }

    /// The largest `value(id)` that a majority of voters reach, in every
    /// majority: the commit index over match indexes, the lease's round
    /// over acknowledged rounds. Joint, the smaller of the two majorities'.
    pub fn majority_value<T: Copy + Ord>(&self, value: impl Fn(NodeId) -> T) -> T {
        let of = |voters: &[NodeId]| {
            let mut values: arrayvec::ArrayVec<T, MAX_MEMBERS> =
                voters.iter().map(|&id| value(id)).collect();
            majority_value(&mut values)
        };
        let incoming = of(&self.voters);
        if !self.is_joint() {
            return incoming;
        }
        incoming.min(of(&self.outgoing))
    }

    /// Whether the voters `active(id)` holds for form a majority of every
    /// majority (CheckQuorum).
    pub fn has_quorum(&self, active: impl Fn(NodeId) -> bool) -> bool {
        let heard = |id| active(id).then_some(true);
        self.vote_result(heard) == VoteResult::Won
    }

    /// The same configuration with every id passed through `rename`, a
    /// permutation (symmetry reduction).
    pub fn relabeled(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Configuration {
        let renamed = |ids: &[NodeId]| {
            let mut ids: Vec<NodeId> = ids.iter().map(|&id| rename(id)).collect();
            ids.sort_unstable();
            ids
        };
        let configuration = Configuration {
            voters: renamed(&self.voters),
            outgoing: renamed(&self.outgoing),
            learners: renamed(&self.learners),
        };
        configuration.check();
        configuration
    }

    /// Feeds `state` the configuration without its ids: how many vote in
    /// each majority and only learn, and what `own` is. The same for a
    /// configuration and every renaming of it.
    pub fn hash_anonymous<H: Hasher>(&self, own: NodeId, state: &mut H) {
        let lengths = (self.voters.len(), self.outgoing.len(), self.learners.len());
        lengths.hash(state);
        let in_voters = self.voters.binary_search(&own).is_ok();
        let in_outgoing = self.outgoing.binary_search(&own).is_ok();
        (in_voters, in_outgoing, self.is_learner(own)).hash(state);
    }

    /// Panics if the invariant is broken (a bug: input is validated when a
    /// configuration is built).
    pub fn check(&self) {
        assert!(
            !self.voters.is_empty() && self.voters.len() <= MAX_MEMBERS,
            "a configuration has 1 to {MAX_MEMBERS} voters"
        );
        for list in [&self.voters, &self.outgoing, &self.learners] {
            assert!(
                list.windows(2).all(|pair| pair[0] < pair[1]),
                "configuration lists sorted and distinct"
            );
            assert!(!list.contains(&0), "member id 0 is reserved");
        }
        assert!(
            self.learners.iter().all(|&id| !self.is_voter(id)),
            "a learner votes in no majority"
        );
        assert!(self.member_count() <= MAX_MEMBERS, "configuration size");
    }
}

/// `ids` sorted, refused if one is 0 or listed twice.
fn sorted_distinct(ids: &[NodeId]) -> Result<Vec<NodeId>, MembershipError> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(MembershipError::DuplicateMember { id: pair[0] });
    }
    if sorted.first() == Some(&0) {
        return Err(MembershipError::ZeroMemberId);
    }
    Ok(sorted)
}

#[cfg(test)]
mod tests;
