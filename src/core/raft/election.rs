//! Elections: the election timeout, the pre-vote round (thesis §9.6), the
//! vote round (paper §5.2) with the up-to-date check (§5.4.1). The role
//! changes themselves are in `role`.

use crate::core::chassis::quorum::VoteResult;
use crate::core::node::NodeId;
use crate::core::raft::log::{Command, Entry, LogIndex, Term, MAX_TERM};
use crate::core::raft::message::{Body, Message, VoteRequest, VoteResponse};
use crate::core::raft::role::RoleState;
use crate::core::raft::state::{Ctx, RaftNode, Replica};
use crate::core::raft::storage::Persist;

impl RaftNode {
    /// The election timeout fired (or TimeoutNow asked us to run).
    pub(super) fn campaign(&mut self, ctx: &mut Ctx, transfer: bool) {
        if self.replica.hard_state.term >= MAX_TERM {
            // No next term to move to; stay put rather than wrap to 0.
            self.replica.reset_election_timer(ctx);
            return;
        }
        if self.replica.config.pre_vote && !transfer {
            self.become_pre_candidate(ctx);
        } else {
            self.become_candidate(ctx, transfer);
        }
    }

    /// Decides a pre-vote or vote round once its outcome is certain.
    pub(super) fn count_votes(&mut self, ctx: &mut Ctx) {
        let (votes, pre_vote) = match &self.role {
            RoleState::PreCandidate { votes } => (votes, true),
            RoleState::Candidate { votes } => (votes, false),
            _ => return,
        };
        let vote = |id| votes.get(&id).copied();
        match self.replica.configuration.vote_result(vote) {
            VoteResult::Pending => {}
            VoteResult::Won if pre_vote => self.become_candidate(ctx, false),
            VoteResult::Won => self.become_leader(ctx),
            VoteResult::Lost => {
                let term = self.replica.hard_state.term;
                self.become_follower(ctx, term, None);
            }
        }
    }

    /// Whether a vote response does not belong to the round we run: a grant
    /// counts only for the term the round asks about (an old round's grant
    /// arrives with an older term), and only in a round of its kind.
    fn ignore_vote_response(&self, term: Term, response: VoteResponse) -> bool {
        let current = self.replica.hard_state.term;
        match self.role {
            RoleState::PreCandidate { .. } if response.pre_vote => {
                response.granted && !term.follows(current)
            }
            RoleState::Candidate { .. } if !response.pre_vote => term != current,
            _ => true,
        }
    }

    pub(super) fn handle_vote_response(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        term: Term,
        response: VoteResponse,
    ) {
        if self.ignore_vote_response(term, response) {
            self.drop_unexpected(ctx, from);
            return;
        }
        let (members, id) = (self.replica.membership.len(), self.replica.id());
        let (RoleState::PreCandidate { votes } | RoleState::Candidate { votes }) = &mut self.role
        else {
            unreachable!("ignore_vote_response admits candidates only");
        };
        // A voter counts once: a duplicated or replayed response never
        // changes the vote it first gave.
        votes.entry(from).or_insert(response.granted);
        assert!(votes.len() <= members, "more votes than members");
        assert_eq!(votes.get(&id), Some(&true), "our own vote stays granted");
        self.count_votes(ctx);
    }
}

impl Replica {
    pub(super) fn request_votes(&mut self, ctx: &mut Ctx, pre_vote: bool, transfer: bool) {
        let term = if pre_vote {
            self.hard_state.term.next()
        } else {
            self.hard_state.term
        };
        let request = VoteRequest {
            pre_vote,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
            transfer,
        };
        for &peer in self.membership.peers() {
            ctx.out.send(
                peer,
                Message {
                    term,
                    body: Body::VoteRequest(request.clone()),
                },
            );
        }
    }

    /// Paper §5.2, §5.4.1; thesis §9.6. `term` is the request's term, already
    /// ours for a vote; for a pre-vote it may be ours + 1. Election Safety
    /// rests here: at most one vote per term, made durable before the reply
    /// that carries it is sent.
    pub(super) fn handle_vote_request(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        term: Term,
        request: VoteRequest,
    ) {
        let pre_vote = request.pre_vote;
        assert!(
            term == self.hard_state.term || (pre_vote && term > self.hard_state.term),
            "the term is settled before a vote request is answered"
        );
        let vote_before = self.hard_state.voted_for;

        let granted = self.grants_vote(from, term, &request);
        if granted && !pre_vote {
            self.hard_state.voted_for = Some(from);
            if !self.config.bugs.unpersisted_vote() {
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
                body: Body::VoteResponse(VoteResponse { pre_vote, granted }),
            },
        );

        if granted && !pre_vote {
            assert!(
                vote_before.is_none() || vote_before == Some(from),
                "a second vote in term {term}"
            );
            assert_eq!(self.hard_state.voted_for, Some(from));
        } else {
            assert_eq!(
                self.hard_state.voted_for, vote_before,
                "a refused vote or a pre-vote changes no vote"
            );
        }
    }

    /// Whether we are free to vote for `from` (we have not voted for another
    /// in this term, nor do we follow a leader of it; a pre-vote for a later
    /// term binds nothing) and its log is at least as up to date as ours.
    fn grants_vote(&self, from: NodeId, term: Term, request: &VoteRequest) -> bool {
        let free_to_vote = self.hard_state.voted_for == Some(from)
            || (self.hard_state.voted_for.is_none() && self.leader.is_none())
            || (request.pre_vote && term > self.hard_state.term);
        let up_to_date = self
            .log
            .is_up_to_date(request.last_log_term, request.last_log_index);
        free_to_vote && (up_to_date || self.config.bugs.vote_without_log_check())
    }

    /// Appends a new entry of the current term to the leader's log.
    pub(super) fn append_to_own_log(&mut self, ctx: &mut Ctx, command: Command) -> LogIndex {
        let entry = Entry {
            term: self.hard_state.term,
            index: self.log.last_index().next(),
            command: command.into(),
        };
        let index = entry.index;
        ctx.out.persist.push(Persist::AppendEntry(entry.clone()));
        self.log.append(entry);
        index
    }
}
