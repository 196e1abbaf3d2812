//! Elections: the election timeout, the pre-vote round (thesis §9.6), the
//! vote round (paper §5.2) with the up-to-date check (§5.4.1), and becoming
//! leader.

use crate::core::node::{DropReason, NodeId};
use crate::core::raft::log::{Command, Entry, LogIndex, Term, MAX_TERM};
use crate::core::raft::message::{Body, Message};
use crate::core::raft::progress::Progress;
use crate::core::raft::quorum::{tally, VoteResult};
use crate::core::raft::state::{Ctx, LeaderState, RaftNode, RoleState, Votes};
use crate::core::raft::storage::{HardState, Persist};

impl RaftNode {
    /// The election timeout fired (or TimeoutNow asked us to run).
    pub(super) fn campaign(&mut self, ctx: &mut Ctx, transfer: bool) {
        if self.hard_state.term >= MAX_TERM {
            // No next term to move to; stay put rather than wrap to 0.
            self.reset_election_timer(ctx);
            return;
        }
        if self.config.pre_vote && !transfer {
            self.become_pre_candidate(ctx);
        } else {
            self.become_candidate(ctx, transfer);
        }
    }

    /// Asks for pre-votes for the next term without moving to it, so a node
    /// that cannot win (partitioned, or with a stale log) never bumps terms
    /// and never disrupts a working leader.
    fn become_pre_candidate(&mut self, ctx: &mut Ctx) {
        self.set_role(
            ctx,
            RoleState::PreCandidate {
                votes: own_vote(self.id),
            },
        );
        self.set_leader(ctx, None);
        self.reset_election_timer(ctx);
        self.request_votes(ctx, true, false);
        self.count_votes(ctx);
    }

    fn become_candidate(&mut self, ctx: &mut Ctx, transfer: bool) {
        self.hard_state = HardState {
            term: self.hard_state.term + 1,
            voted_for: Some(self.id),
        };
        self.persist_hard_state(ctx);
        self.set_role(
            ctx,
            RoleState::Candidate {
                votes: own_vote(self.id),
            },
        );
        self.set_leader(ctx, None);
        self.reset_election_timer(ctx);
        self.request_votes(ctx, false, transfer);
        self.count_votes(ctx);
    }

    fn request_votes(&mut self, ctx: &mut Ctx, pre_vote: bool, transfer: bool) {
        let term = if pre_vote {
            self.hard_state.term + 1
        } else {
            self.hard_state.term
        };
        let body = Body::VoteRequest {
            pre_vote,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
            transfer,
        };
        for &peer in &self.peers {
            ctx.out.send(
                peer,
                Message {
                    term,
                    body: body.clone(),
                },
            );
        }
    }

    /// Decides a pre-vote or vote round once its outcome is certain.
    fn count_votes(&mut self, ctx: &mut Ctx) {
        let (votes, pre_vote) = match &self.role {
            RoleState::PreCandidate { votes } => (votes, true),
            RoleState::Candidate { votes } => (votes, false),
            _ => return,
        };
        let granted = votes.values().filter(|&&granted| granted).count();
        let rejected = votes.len() - granted;
        match tally(self.members.len(), granted, rejected) {
            VoteResult::Pending => {}
            VoteResult::Won if pre_vote => self.become_candidate(ctx, false),
            VoteResult::Won => self.become_leader(ctx),
            VoteResult::Lost => {
                let term = self.hard_state.term;
                self.become_follower(ctx, term, None);
            }
        }
    }

    /// Paper §5.2, §5.4.1; thesis §9.6. `term` is the request's term, already
    /// ours for a vote; for a pre-vote it may be ours + 1.
    pub(super) fn handle_vote_request(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        term: Term,
        pre_vote: bool,
        last_log_term: Term,
        last_log_index: LogIndex,
    ) {
        let free_to_vote = self.hard_state.voted_for == Some(from)
            || (self.hard_state.voted_for.is_none() && self.leader.is_none())
            || (pre_vote && term > self.hard_state.term);
        let up_to_date = self.log.is_up_to_date(last_log_term, last_log_index);
        #[cfg(feature = "deliberate-bugs")]
        let up_to_date = up_to_date || self.config.bugs.vote_without_log_check;
        let granted = free_to_vote && up_to_date;
        if granted && !pre_vote {
            self.hard_state.voted_for = Some(from);
            #[cfg(feature = "deliberate-bugs")]
            let persist = !self.config.bugs.unpersisted_vote;
            #[cfg(not(feature = "deliberate-bugs"))]
            let persist = true;
            if persist {
                self.persist_hard_state(ctx);
            }
            self.reset_election_timer(ctx);
        }
        // A granted pre-vote answers in the term asked about, so the
        // pre-candidate can tell it from a stale reply.
        let reply_term = if granted && pre_vote {
            term
        } else {
            self.hard_state.term
        };
        ctx.out.send(
            from,
            Message {
                term: reply_term,
                body: Body::VoteResponse { pre_vote, granted },
            },
        );
    }

    pub(super) fn handle_vote_response(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        term: Term,
        pre_vote: bool,
        granted: bool,
    ) {
        let current = self.hard_state.term;
        let votes = match &mut self.role {
            // A grant counts only for the term this round asks about; an old
            // round's grant arrives with an older term.
            RoleState::PreCandidate { votes } if pre_vote && (!granted || term == current + 1) => {
                votes
            }
            RoleState::Candidate { votes } if !pre_vote && term == current => votes,
            _ => {
                let role = crate::core::node::Node::role(self);
                ctx.out
                    .drop_input(Some(from), DropReason::UnexpectedForRole { role });
                return;
            }
        };
        votes.entry(from).or_insert(granted);
        self.count_votes(ctx);
    }

    /// Paper §5.2 and §8: a new leader appends a no-op so that it commits an
    /// entry of its own term, which is also what lets it serve reads.
    fn become_leader(&mut self, ctx: &mut Ctx) {
        let next = self.log.last_index() + 1;
        let progress = self
            .peers
            .iter()
            .map(|&peer| (peer, Progress::new(next)))
            .collect();
        let leader = LeaderState {
            progress,
            heartbeat_deadline: ctx.now.saturating_add(self.config.heartbeat_interval),
            check_quorum_deadline: ctx.now.saturating_add(self.config.election_timeout_min),
            round: 0,
            rounds_sent_at: Default::default(),
            confirmed_round: 0,
            lease_start: None,
            pending_writes: Default::default(),
            pending_reads: Default::default(),
            transfer: None,
            lease_revoked: false,
        };
        self.set_role(ctx, RoleState::Leader(Box::new(leader)));
        let id = self.id;
        self.set_leader(ctx, Some(id));
        self.append_to_own_log(ctx, Command::Noop);
        // The no-op appends open the first round, so the lease can start as
        // soon as a majority accepts them.
        self.start_round(ctx);
        self.broadcast_append(ctx);
        self.maybe_commit(ctx);
    }

    /// Appends a new entry of the current term to the leader's log.
    pub(super) fn append_to_own_log(&mut self, ctx: &mut Ctx, command: Command) -> LogIndex {
        let entry = Entry {
            term: self.hard_state.term,
            index: self.log.last_index() + 1,
            command: command.into(),
        };
        let index = entry.index;
        ctx.out.persist.push(Persist::AppendEntry(entry.clone()));
        self.log.append(entry);
        index
    }

    /// TimeoutNow from our leader: campaign at once, skipping the pre-vote.
    pub(super) fn handle_timeout_now(&mut self, ctx: &mut Ctx, from: NodeId) {
        if matches!(self.role, RoleState::Follower) && self.leader == Some(from) {
            self.campaign(ctx, true);
        } else {
            let role = crate::core::node::Node::role(self);
            ctx.out
                .drop_input(Some(from), DropReason::UnexpectedForRole { role });
        }
    }
}

fn own_vote(id: NodeId) -> Votes {
    Votes::from([(id, true)])
}
