//! The roles a Raft node plays, the state only a leader has, and the only
//! ways to move between roles: the `become_*` functions. Each asserts that
//! the transition is one Raft allows (etcd's `becomeCandidate` and
//! `becomeLeader` panic the same way), so an illegal move is a bug caught at
//! the step that makes it, not a wrong state found later.
//!
//! Legal transitions (paper Figure 4, with PreVote from thesis §9.6):
//! - any role → follower (a newer term, a lost election, a leader of our term);
//! - follower, pre-candidate or candidate → pre-candidate or candidate (an
//!   election timeout, `Campaign`, TimeoutNow, or a won pre-vote round);
//! - candidate → leader (a won vote round), and nothing else → leader.

use std::collections::{BTreeMap, VecDeque};

use crate::core::client::{ClientError, ClientReply, RequestId};
use crate::core::node::{Event, NodeId};
use crate::core::raft::configuration::Configuration;
use crate::core::raft::counters::Round;
use crate::core::raft::log::{Command, LogIndex, Term};
use crate::core::raft::progress::Progress;
use crate::core::raft::state::{Ctx, RaftNode};
use crate::core::raft::storage::HardState;
use crate::core::time::Time;

/// Votes received in a pre-vote or vote round, keyed by voter.
pub(super) type Votes = BTreeMap<NodeId, bool>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum RoleState {
    Follower,
    PreCandidate { votes: Votes },
    Candidate { votes: Votes },
    Leader(Box<LeaderState>),
}

/// A read waiting for leadership to be confirmed by a heartbeat round sent
/// after it arrived (ReadIndex).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct PendingRead {
    pub id: RequestId,
    pub key: String,
    /// The first round whose majority acknowledgement confirms this read.
    pub round: Round,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Transfer {
    pub to: NodeId,
    pub deadline: Time,
    pub timeout_now_sent: bool,
}

/// Volatile state only a leader has.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct LeaderState {
    pub progress: BTreeMap<NodeId, Progress>,
    pub heartbeat_deadline: Time,
    pub check_quorum_deadline: Time,
    /// The latest heartbeat round started; every message to a follower
    /// carries it.
    pub round: Round,
    /// Send times of rounds not yet confirmed by a majority, oldest first.
    /// Invariant: at most `MAX_TRACKED_ROUNDS` entries, rounds increasing.
    pub rounds_sent_at: VecDeque<(Round, Time)>,
    /// The latest round a majority acknowledged.
    pub confirmed_round: Round,
    /// The send time of `confirmed_round`: the lease runs from here.
    pub lease_start: Option<Time>,
    pub pending_writes: BTreeMap<LogIndex, RequestId>,
    pub pending_reads: VecDeque<PendingRead>,
    pub transfer: Option<Transfer>,
    /// Set once TimeoutNow was sent in this term: the transferee may be
    /// elected by voters who ignore our lease, so the lease is gone for good.
    pub lease_revoked: bool,
}

impl LeaderState {
    /// The largest value of `of` that a majority of `configuration`'s
    /// voters reaches (of each majority, when joint), counting the leader
    /// `own_id`'s own `own` (its match index, or the round it just started).
    pub fn majority<T: Copy + Ord>(
        &self,
        configuration: &Configuration,
        own_id: NodeId,
        of: impl Fn(&Progress) -> T,
        own: T,
    ) -> T {
        configuration.majority_value(|id| {
            if id == own_id {
                own
            } else {
                of(self.progress.get(&id).expect("a leader tracks every voter"))
            }
        })
    }
}

/// Rounds older than this many unconfirmed ones are forgotten; a round
/// confirmed after being forgotten simply does not extend the lease, which is
/// the safe direction.
pub(super) const MAX_TRACKED_ROUNDS: usize = 64;

impl RaftNode {
    /// Moves to `term` (if newer, forgetting the vote) as a follower of
    /// `leader`. Legal from every role.
    pub(super) fn become_follower(&mut self, ctx: &mut Ctx, term: Term, leader: Option<NodeId>) {
        assert!(
            term >= self.replica.hard_state.term,
            "a node never moves back to an older term"
        );
        if term > self.replica.hard_state.term {
            self.replica.hard_state = HardState {
                term,
                voted_for: None,
            };
            self.replica.persist_hard_state(ctx);
            // Nor one from the leader of an earlier term.
            self.replica.incoming = None;
        }
        self.set_role(ctx, RoleState::Follower);
        self.replica.set_leader(ctx, leader);
        self.replica.reset_election_timer(ctx);
    }

    /// Asks for pre-votes for the next term without moving to it, so a node
    /// that cannot win (partitioned, or with a stale log) never bumps terms
    /// and never disrupts a working leader.
    pub(super) fn become_pre_candidate(&mut self, ctx: &mut Ctx) {
        assert!(
            !self.is_leader(),
            "invalid transition: leader -> pre-candidate"
        );
        let votes = own_vote(self.replica.id());
        self.set_role(ctx, RoleState::PreCandidate { votes });
        self.replica.set_leader(ctx, None);
        self.replica.reset_election_timer(ctx);
        self.replica.request_votes(ctx, true, false);
        self.count_votes(ctx);
    }

    pub(super) fn become_candidate(&mut self, ctx: &mut Ctx, transfer: bool) {
        assert!(!self.is_leader(), "invalid transition: leader -> candidate");
        let id = self.replica.id();
        self.replica.hard_state = HardState {
            term: self.replica.hard_state.term.next(),
            voted_for: Some(id),
        };
        self.replica.persist_hard_state(ctx);
        self.set_role(
            ctx,
            RoleState::Candidate {
                votes: own_vote(id),
            },
        );
        self.replica.set_leader(ctx, None);
        self.replica.reset_election_timer(ctx);
        self.replica.request_votes(ctx, false, transfer);
        self.count_votes(ctx);
    }

    /// Paper §5.2 and §8: a new leader appends a no-op so that it commits an
    /// entry of its own term, which is also what lets it serve reads.
    pub(super) fn become_leader(&mut self, ctx: &mut Ctx) {
        assert!(
            matches!(self.role, RoleState::Candidate { .. }),
            "invalid transition: {} -> leader",
            crate::core::node::Node::role(self)
        );
        let replica = &self.replica;
        let next = replica.log.last_index().next();
        let progress = replica
            .membership
            .peers()
            .iter()
            .map(|&peer| (peer, Progress::new(next)))
            .collect();
        let leader = LeaderState {
            progress,
            heartbeat_deadline: ctx.now.saturating_add(replica.config.heartbeat_interval),
            check_quorum_deadline: ctx.now.saturating_add(replica.config.election_timeout_min),
            round: Round::ZERO,
            rounds_sent_at: Default::default(),
            confirmed_round: Round::ZERO,
            lease_start: None,
            pending_writes: Default::default(),
            pending_reads: Default::default(),
            transfer: None,
            lease_revoked: false,
        };
        self.set_role(ctx, RoleState::Leader(Box::new(leader)));
        let RoleState::Leader(leader) = &mut self.role else {
            unreachable!("just became leader");
        };
        let replica = &mut self.replica;
        let id = replica.id();
        replica.set_leader(ctx, Some(id));
        replica.append_to_own_log(ctx, Command::Noop);
        // The no-op appends open the first round, so the lease can start as
        // soon as a majority accepts them.
        replica.start_round(leader, ctx);
        replica.broadcast_append(leader, ctx);
        replica.maybe_commit(leader, ctx);
    }

    pub(super) fn is_leader(&self) -> bool {
        matches!(self.role, RoleState::Leader(_))
    }

    /// Replaces the role, answering what a leader that steps down still
    /// owed, and reports a change of role.
    fn set_role(&mut self, ctx: &mut Ctx, role: RoleState) {
        let before = crate::core::node::Node::role(self);
        let leader_state = std::mem::replace(&mut self.role, role);
        if let RoleState::Leader(leader) = leader_state {
            fail_pending_operations(ctx, *leader);
        }
        let after = crate::core::node::Node::role(self);
        if after != before {
            ctx.out.events.push(Event::RoleChanged {
                role: after,
                term: self.replica.hard_state.term.get(),
            });
        }
    }
}

/// A leader that steps down answers everything it still owed: writes may
/// yet be committed by a successor (outcome unknown); reads never happened.
fn fail_pending_operations(ctx: &mut Ctx, leader: LeaderState) {
    for (_, id) in leader.pending_writes {
        ctx.out.replies.push(ClientReply {
            id,
            result: Err(ClientError::LeadershipLost),
        });
    }
    for read in leader.pending_reads {
        ctx.out.replies.push(ClientReply {
            id: read.id,
            result: Err(ClientError::NotLeader { leader_hint: None }),
        });
    }
}

fn own_vote(id: NodeId) -> Votes {
    Votes::from([(id, true)])
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::core::node::{Input, Node, Role};
    use crate::core::raft::{Config, RaftActions};

    fn follower(rng: &mut ChaCha8Rng) -> RaftNode {
        RaftNode::new(1, &[1, 2, 3], Config::default(), Time::ZERO, rng).unwrap()
    }

    #[test]
    #[should_panic(expected = "invalid transition: follower -> leader")]
    fn a_follower_cannot_become_leader_without_an_election() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut node = follower(&mut rng);
        let mut out = RaftActions::default();
        let mut ctx = Ctx {
            now: Time::ZERO,
            rng: &mut rng,
            out: &mut out,
        };
        node.become_leader(&mut ctx);
    }

    #[test]
    #[should_panic(expected = "invalid transition: leader -> candidate")]
    fn a_leader_cannot_campaign() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut node = RaftNode::new(1, &[1], Config::default(), Time::ZERO, &mut rng).unwrap();
        let mut out = RaftActions::default();
        node.step(Time::from_millis(400), &mut rng, Input::Tick, &mut out);
        assert_eq!(node.role(), Role::Leader, "a cluster of one elects itself");
        let mut ctx = Ctx {
            now: Time::from_millis(400),
            rng: &mut rng,
            out: &mut out,
        };
        node.become_candidate(&mut ctx, false);
    }
}
