//! One step of a Raft node, role first (etcd's `Step` and its `stepLeader`,
//! `stepCandidate` and `stepFollower`): a message's term is settled once
//! (paper §5.1: a newer term makes us a follower, an older one is answered
//! with ours), vote requests are answered alike in every role, and then the
//! role decides. Reading one of `step_follower`, `step_candidate` or
//! [`Replica::step_leader`] says everything that role does on a message.

use crate::core::client::{ClientError, ClientReply, ClientRequest};
use crate::core::node::{DropReason, Node, NodeId, Role};
use crate::core::raft::counters::{Round, Term, MAX_TERM};
use crate::core::raft::message::{Body, HeartbeatResponse, Message, VoteResponse};
use crate::core::raft::role::{LeaderState, RoleState};
use crate::core::raft::state::{Ctx, RaftNode, Replica};

impl RaftNode {
    pub(super) fn step_message(&mut self, ctx: &mut Ctx, from: NodeId, message: Message) {
        if message.term > MAX_TERM {
            ctx.out.drop_input(
                Some(from),
                DropReason::TermOutOfRange {
                    term: message.term.get(),
                },
            );
            return;
        }
        if !self.settle_term(ctx, from, &message) {
            return;
        }
        let Message { term, body } = message;
        if let Body::VoteRequest(request) = body {
            // Paper §5.2, §5.4.1: every role answers a vote request the same
            // way (a leader or candidate of this term has voted for itself).
            self.replica.handle_vote_request(ctx, from, term, request);
            return;
        }
        match &mut self.role {
            RoleState::Follower => self.step_follower(ctx, from, body),
            RoleState::PreCandidate { .. } | RoleState::Candidate { .. } => {
                self.step_candidate(ctx, from, term, body)
            }
            RoleState::Leader(leader) => self.replica.step_leader(leader, ctx, from, body),
        }
    }

    /// Brings us to the message's term, or answers a message from an older
    /// one. Returns whether to go on handling the message.
    fn settle_term(&mut self, ctx: &mut Ctx, from: NodeId, message: &Message) -> bool {
        let current = self.replica.hard_state.term;
        if message.term > current {
            return self.step_higher_term(ctx, from, message);
        }
        if message.term < current {
            self.reject_stale_term(ctx, from, message);
            return false;
        }
        true
    }

    /// A message from a later term. Returns whether to go on handling it.
    fn step_higher_term(&mut self, ctx: &mut Ctx, from: NodeId, message: &Message) -> bool {
        match &message.body {
            Body::VoteRequest(request) => {
                // Leader stickiness (CheckQuorum) and the PreVote liveness
                // check: while a leader is alive, do not help unseat it. An
                // election started by TimeoutNow is the leader's own wish.
                let check_liveness = request.pre_vote || self.replica.config.leader_stickiness();
                if check_liveness && !request.transfer && self.leader_is_alive(ctx.now) {
                    // Name the leader only if we still know it: a node that
                    // started campaigning has forgotten it.
                    let reason = match self.replica.leader {
                        Some(leader) => DropReason::LeaderStillAlive { leader },
                        None => DropReason::LeaderRecentlyHeard,
                    };
                    ctx.out.drop_input(Some(from), reason);
                    return false;
                }
                if !request.pre_vote {
                    self.become_follower(ctx, message.term, None);
                }
                true
            }
            // A pre-vote granted for the term we would campaign in: not a
            // reason to move to it yet.
            Body::VoteResponse(VoteResponse {
                pre_vote: true,
                granted: true,
            }) if message.term.follows(self.replica.hard_state.term) => true,
            Body::Append(_) | Body::Heartbeat(_) | Body::InstallSnapshot(_) | Body::TimeoutNow => {
                self.become_follower(ctx, message.term, Some(from));
                true
            }
            _ => {
                self.become_follower(ctx, message.term, None);
                true
            }
        }
    }

    /// A message from an earlier term: requests get a reply carrying our
    /// term, so a stale leader or candidate learns it is behind and steps
    /// down; responses are dropped.
    fn reject_stale_term(&mut self, ctx: &mut Ctx, from: NodeId, message: &Message) {
        let term = self.replica.hard_state.term;
        let reply = match &message.body {
            Body::Append(_) | Body::Heartbeat(_) | Body::InstallSnapshot(_) => {
                Some(Body::HeartbeatResponse(HeartbeatResponse {
                    round: Round::ZERO,
                }))
            }
            Body::VoteRequest(request) => Some(Body::VoteResponse(VoteResponse {
                pre_vote: request.pre_vote,
                granted: false,
            })),
            _ => None,
        };
        if let Some(body) = reply {
            ctx.out.send(from, Message { term, body });
        }
        ctx.out.drop_input(
            Some(from),
            DropReason::StaleTerm {
                message_term: message.term.get(),
                current_term: term.get(),
            },
        );
    }

    /// A follower takes appends and heartbeats from its leader, and
    /// TimeoutNow from the leader it follows; it waits for nothing else.
    fn step_follower(&mut self, ctx: &mut Ctx, from: NodeId, body: Body) {
        match body {
            Body::Append(append) => {
                self.follow(ctx, from);
                self.replica.handle_append(ctx, from, append);
            }
            Body::Heartbeat(heartbeat) => {
                self.follow(ctx, from);
                self.replica.handle_heartbeat(ctx, from, heartbeat);
            }
            Body::InstallSnapshot(install) => {
                self.follow(ctx, from);
                self.replica.handle_install_snapshot(ctx, from, install);
            }
            Body::TimeoutNow if self.replica.leader == Some(from) => self.campaign(ctx, true),
            Body::VoteRequest(_) => unreachable!("answered before the role decides"),
            Body::VoteResponse(_)
            | Body::AppendResponse(_)
            | Body::HeartbeatResponse(_)
            | Body::InstallSnapshotResponse(_)
            | Body::TimeoutNow => self.drop_unexpected(ctx, from),
        }
    }

    /// A pre-candidate or candidate counts the votes of its round, and gives
    /// up the election for a leader of its term.
    fn step_candidate(&mut self, ctx: &mut Ctx, from: NodeId, term: Term, body: Body) {
        match body {
            Body::VoteResponse(response) => self.handle_vote_response(ctx, from, term, response),
            Body::Append(_) | Body::Heartbeat(_) | Body::InstallSnapshot(_) => {
                // A leader of our term won: follow it, and take its message
                // as its follower.
                self.become_follower(ctx, term, Some(from));
                self.step_follower(ctx, from, body);
            }
            Body::VoteRequest(_) => unreachable!("answered before the role decides"),
            Body::AppendResponse(_)
            | Body::HeartbeatResponse(_)
            | Body::InstallSnapshotResponse(_)
            | Body::TimeoutNow => self.drop_unexpected(ctx, from),
        }
    }

    /// An append or heartbeat from the leader of our term: follow it.
    fn follow(&mut self, ctx: &mut Ctx, from: NodeId) {
        debug_assert!(!self.is_leader(), "a leader never follows in its own term");
        if !matches!(self.role, RoleState::Follower) || self.replica.leader != Some(from) {
            let term = self.replica.hard_state.term;
            self.become_follower(ctx, term, Some(from));
        }
        self.replica.last_leader_contact = Some(ctx.now);
        self.replica.election_timer_start = ctx.now;
    }

    pub(super) fn tick(&mut self, ctx: &mut Ctx) {
        let RoleState::Leader(leader) = &mut self.role else {
            if ctx.now >= self.replica.election_deadline() {
                self.campaign(ctx, false);
            }
            return;
        };
        if !self.replica.tick_leader(leader, ctx) {
            let term = self.replica.hard_state.term;
            self.become_follower(ctx, term, None);
        }
    }

    pub(super) fn step_client(&mut self, ctx: &mut Ctx, request: ClientRequest) {
        match &mut self.role {
            RoleState::Leader(leader) => self.replica.step_client_leader(leader, ctx, request),
            _ => ctx.out.replies.push(ClientReply {
                id: request.id,
                result: Err(ClientError::NotLeader {
                    leader_hint: self.replica.leader,
                }),
            }),
        }
    }

    pub(super) fn step_transfer(&mut self, ctx: &mut Ctx, to: NodeId) {
        if !self.replica.membership.is_peer(to) {
            ctx.out
                .drop_input(None, DropReason::InvalidTarget { target: to });
            return;
        }
        match &mut self.role {
            RoleState::Leader(leader) => self.replica.start_transfer(leader, ctx, to),
            // The request is the caller's, not a message from `to`.
            _ => {
                let role = Node::role(&*self);
                ctx.out
                    .drop_input(None, DropReason::UnexpectedForRole { role });
            }
        }
    }
}

impl Replica {
    /// A leader counts acknowledgements of its appends and heartbeat
    /// rounds. It never takes an append, a heartbeat or a vote response of
    /// its own term (no other node leads it, and its election is over).
    pub(super) fn step_leader(
        &mut self,
        leader: &mut LeaderState,
        ctx: &mut Ctx,
        from: NodeId,
        body: Body,
    ) {
        match body {
            Body::AppendResponse(response) => {
                self.handle_append_response(leader, ctx, from, response)
            }
            Body::HeartbeatResponse(response) => {
                self.handle_heartbeat_response(leader, ctx, from, response)
            }
            Body::InstallSnapshotResponse(response) => {
                self.handle_install_snapshot_response(leader, ctx, from, response)
            }
            Body::VoteRequest(_) => unreachable!("answered before the role decides"),
            Body::VoteResponse(_)
            | Body::Append(_)
            | Body::Heartbeat(_)
            | Body::InstallSnapshot(_)
            | Body::TimeoutNow => ctx.out.drop_input(
                Some(from),
                DropReason::UnexpectedForRole { role: Role::Leader },
            ),
        }
    }

    /// A client operation on the leader: refused during a transfer, else a
    /// read (lease or ReadIndex) or a write (proposed to the log).
    fn step_client_leader(
        &mut self,
        leader: &mut LeaderState,
        ctx: &mut Ctx,
        request: ClientRequest,
    ) {
        if leader.transfer.is_some() {
            ctx.out.replies.push(ClientReply {
                id: request.id,
                result: Err(ClientError::TransferInProgress),
            });
            return;
        }
        if request.operation.is_read() {
            self.handle_read(leader, ctx, request);
        } else {
            self.propose(leader, ctx, request);
        }
    }

    /// Heartbeats, CheckQuorum and an expiring transfer. Returns whether we
    /// still lead: false when CheckQuorum found no majority.
    fn tick_leader(&mut self, leader: &mut LeaderState, ctx: &mut Ctx) -> bool {
        let heartbeat_due = ctx.now >= leader.heartbeat_deadline;
        let check_quorum_due = ctx.now >= leader.check_quorum_deadline;
        if check_quorum_due && !self.check_quorum(leader, ctx) {
            return false;
        }
        if heartbeat_due {
            self.broadcast_heartbeat(leader, ctx);
        }
        self.tick_transfer(leader, ctx);
        true
    }

    /// CheckQuorum: whether a majority (counting ourselves) was heard from
    /// since the last check; starts the next check period.
    fn check_quorum(&mut self, leader: &mut LeaderState, ctx: &mut Ctx) -> bool {
        let own = self.id();
        let heard = self.configuration.has_quorum(|id| {
            id == own
                || leader
                    .progress
                    .get(&id)
                    .is_some_and(|progress| progress.recently_active)
        });
        for progress in leader.progress.values_mut() {
            progress.recently_active = false;
        }
        leader.check_quorum_deadline = ctx.now.saturating_add(self.config.election_timeout_min);
        !self.config.check_quorum || heard
    }
}
