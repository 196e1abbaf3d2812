//! The Raft node: its state, the step dispatch, term handling and role
//! changes, and the invariants checked after every step.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use arrayvec::ArrayVec;
use rand::{Rng, RngCore};

use crate::core::client::{ClientError, ClientReply, ClientRequest, RequestId};
use crate::core::kv::KvStore;
use crate::core::node::{DropReason, Event, Input, Node, NodeId, Role};
use crate::core::raft::config::{Config, ConfigError, MAX_MEMBERS};
use crate::core::raft::log::{Log, LogIndex, Term, MAX_TERM};
use crate::core::raft::message::{Body, Message};
use crate::core::raft::progress::Progress;
use crate::core::raft::storage::{DurableState, HardState, Persist};
use crate::core::raft::RaftActions;
use crate::core::time::Time;

/// The inputs every handler needs: the step's local time, the caller's RNG
/// and the actions being collected.
pub(super) struct Ctx<'a> {
    pub now: Time,
    pub rng: &'a mut dyn RngCore,
    pub out: &'a mut RaftActions,
}

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
    pub round: u64,
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
    pub round: u64,
    /// Send times of rounds not yet confirmed by a majority, oldest first.
    /// Invariant: at most `MAX_TRACKED_ROUNDS` entries, rounds increasing.
    pub rounds_sent_at: VecDeque<(u64, Time)>,
    /// The latest round a majority acknowledged.
    pub confirmed_round: u64,
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
    /// The largest value of `of` that a majority reaches, counting the
    /// leader's own `own` (its match index, or the round it just started).
    pub fn majority(&self, of: impl Fn(&Progress) -> u64, own: u64) -> u64 {
        let mut values: ArrayVec<u64, MAX_MEMBERS> = self.progress.values().map(of).collect();
        values.push(own);
        super::quorum::majority_value(&mut values)
    }
}

/// Rounds older than this many unconfirmed ones are forgotten; a round
/// confirmed after being forgotten simply does not extend the lease, which is
/// the safe direction.
pub(super) const MAX_TRACKED_ROUNDS: usize = 64;

/// A Raft node. Build it with [`RaftNode::new`] or [`RaftNode::restart`] and
/// drive it through [`Node::step`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RaftNode {
    pub(super) id: NodeId,
    /// Sorted, includes `id`.
    pub(super) members: Vec<NodeId>,
    /// `members` without `id`.
    pub(super) peers: Vec<NodeId>,
    pub(super) config: Config,
    pub(super) hard_state: HardState,
    pub(super) log: Log,
    /// Invariant: `applied_index == commit_index <= log.last_index()` between
    /// steps (entries are applied as soon as they are known committed).
    pub(super) commit_index: LogIndex,
    pub(super) applied_index: LogIndex,
    pub(super) kv: KvStore,
    pub(super) leader: Option<NodeId>,
    pub(super) role: RoleState,
    /// When the election timer was last reset, and its randomized length.
    pub(super) election_timer_start: Time,
    pub(super) election_timeout: Duration,
    /// When we last heard from a leader of our term (or restarted: see
    /// `restart`). Drives leader stickiness and the PreVote liveness check.
    pub(super) last_leader_contact: Option<Time>,
    /// The latest `now` seen; time never runs backwards inside the node.
    pub(super) now: Time,
}

impl RaftNode {
    /// A fresh node with an empty log.
    pub fn new(
        id: NodeId,
        members: &[NodeId],
        config: Config,
        now: Time,
        rng: &mut dyn RngCore,
    ) -> Result<RaftNode, ConfigError> {
        Self::build(id, members, config, DurableState::default(), now, rng, None)
    }

    /// A node restarting from what it had made durable. It behaves as if it
    /// had just heard from a leader: before the crash it may have acknowledged
    /// a round that some leader's lease counts on, and its promise not to vote
    /// for `election_timeout_min` after that must survive the crash.
    pub fn restart(
        id: NodeId,
        members: &[NodeId],
        config: Config,
        durable: DurableState,
        now: Time,
        rng: &mut dyn RngCore,
    ) -> Result<RaftNode, ConfigError> {
        Self::build(id, members, config, durable, now, rng, Some(now))
    }

    fn build(
        id: NodeId,
        members: &[NodeId],
        config: Config,
        durable: DurableState,
        now: Time,
        rng: &mut dyn RngCore,
        last_leader_contact: Option<Time>,
    ) -> Result<RaftNode, ConfigError> {
        config.validate(id, members)?;
        validate_durable(&durable, members)?;
        let mut members = members.to_vec();
        members.sort_unstable();
        let peers = members.iter().copied().filter(|&peer| peer != id).collect();
        let mut node = RaftNode {
            id,
            members,
            peers,
            config,
            hard_state: durable.hard_state,
            log: Log::from_entries(durable.log),
            commit_index: 0,
            applied_index: 0,
            kv: KvStore::default(),
            leader: None,
            role: RoleState::Follower,
            election_timer_start: now,
            election_timeout: Duration::ZERO,
            last_leader_contact,
            now,
        };
        node.randomize_election_timeout(rng);
        node.invariants();
        Ok(node)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    pub fn hard_state(&self) -> HardState {
        self.hard_state
    }

    pub fn log(&self) -> &Log {
        &self.log
    }

    pub fn kv(&self) -> &KvStore {
        &self.kv
    }

    /// What a crash would leave behind if every persist record so far was
    /// made durable.
    pub fn durable_state(&self) -> DurableState {
        DurableState {
            hard_state: self.hard_state,
            log: self.log.entries().to_vec(),
        }
    }

    /// A leader's view of a follower's log: (match, next).
    pub fn progress_of(&self, peer: NodeId) -> Option<(LogIndex, LogIndex)> {
        match &self.role {
            RoleState::Leader(leader) => leader
                .progress
                .get(&peer)
                .map(|progress| (progress.matched, progress.next)),
            _ => None,
        }
    }

    pub(super) fn leader_state_mut(&mut self) -> Option<&mut LeaderState> {
        match &mut self.role {
            RoleState::Leader(leader) => Some(leader),
            _ => None,
        }
    }

    pub(super) fn leader_state(&self) -> Option<&LeaderState> {
        match &self.role {
            RoleState::Leader(leader) => Some(leader),
            _ => None,
        }
    }

    pub(super) fn quorum(&self) -> usize {
        super::quorum::quorum(self.members.len())
    }

    pub(super) fn election_deadline(&self) -> Time {
        self.election_timer_start
            .saturating_add(self.election_timeout)
    }

    pub(super) fn randomize_election_timeout(&mut self, rng: &mut dyn RngCore) {
        let min = self.config.election_timeout_min.as_micros() as u64;
        let max = self.config.election_timeout_max.as_micros() as u64;
        self.election_timeout = Duration::from_micros(rng.random_range(min..max));
    }

    /// Restarts the election timer with a fresh random length.
    pub(super) fn reset_election_timer(&mut self, ctx: &mut Ctx) {
        self.election_timer_start = ctx.now;
        self.randomize_election_timeout(ctx.rng);
    }

    /// Whether a leader is live as far as this node knows: it leads, or it
    /// heard from a leader within the minimum election timeout.
    pub(super) fn leader_is_alive(&self, now: Time) -> bool {
        if matches!(self.role, RoleState::Leader(_)) {
            return true;
        }
        self.last_leader_contact
            .is_some_and(|contact| now < contact.saturating_add(self.config.election_timeout_min))
    }

    pub(super) fn set_leader(&mut self, ctx: &mut Ctx, leader: Option<NodeId>) {
        if self.leader != leader {
            self.leader = leader;
            ctx.out.events.push(Event::LeaderChanged {
                leader,
                term: self.hard_state.term,
            });
        }
    }

    pub(super) fn set_role(&mut self, ctx: &mut Ctx, role: RoleState) {
        let before = self.role();
        let leader_state = std::mem::replace(&mut self.role, role);
        if let RoleState::Leader(leader) = leader_state {
            self.fail_pending_operations(ctx, *leader);
        }
        if self.role() != before {
            ctx.out.events.push(Event::RoleChanged {
                role: self.role(),
                term: self.hard_state.term,
            });
        }
    }

    /// A leader that steps down answers everything it still owed: writes may
    /// yet be committed by a successor (outcome unknown); reads never happened.
    fn fail_pending_operations(&self, ctx: &mut Ctx, leader: LeaderState) {
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

    pub(super) fn persist_hard_state(&mut self, ctx: &mut Ctx) {
        ctx.out.persist.push(Persist::HardState(self.hard_state));
    }

    /// Moves to `term` (if newer, forgetting the vote) as a follower of
    /// `leader`.
    pub(super) fn become_follower(&mut self, ctx: &mut Ctx, term: Term, leader: Option<NodeId>) {
        if term > self.hard_state.term {
            self.hard_state = HardState {
                term,
                voted_for: None,
            };
            self.persist_hard_state(ctx);
        }
        self.set_role(ctx, RoleState::Follower);
        self.set_leader(ctx, leader);
        self.reset_election_timer(ctx);
    }

    fn step_message(&mut self, ctx: &mut Ctx, from: NodeId, message: Message) {
        if !self.peers.contains(&from) {
            ctx.out.drop_input(Some(from), DropReason::UnknownSender);
            return;
        }
        if message.term > MAX_TERM {
            ctx.out.drop_input(
                Some(from),
                DropReason::TermOutOfRange { term: message.term },
            );
            return;
        }
        let current = self.hard_state.term;
        if message.term > current && !self.step_higher_term(ctx, from, &message) {
            return;
        }
        if message.term < current {
            self.reject_stale_term(ctx, from, &message);
            return;
        }
        self.dispatch(ctx, from, message);
    }

    /// A message from a later term. Returns whether to go on handling it.
    fn step_higher_term(&mut self, ctx: &mut Ctx, from: NodeId, message: &Message) -> bool {
        match &message.body {
            Body::VoteRequest {
                pre_vote, transfer, ..
            } => {
                // Leader stickiness (CheckQuorum) and the PreVote liveness
                // check: while a leader is alive, do not help unseat it. An
                // election started by TimeoutNow is the leader's own wish.
                let check_liveness = *pre_vote || self.config.leader_stickiness();
                if check_liveness && !transfer && self.leader_is_alive(ctx.now) {
                    let leader = self.leader.unwrap_or(self.id);
                    ctx.out
                        .drop_input(Some(from), DropReason::LeaderStillAlive { leader });
                    return false;
                }
                if !pre_vote {
                    self.become_follower(ctx, message.term, None);
                }
                true
            }
            // A pre-vote granted for the term we would campaign in: not a
            // reason to move to it yet.
            Body::VoteResponse {
                pre_vote: true,
                granted: true,
            } if message.term == self.hard_state.term + 1 => true,
            Body::Append { .. } | Body::Heartbeat { .. } | Body::TimeoutNow => {
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
        let term = self.hard_state.term;
        let reply = match &message.body {
            Body::Append { .. } | Body::Heartbeat { .. } => {
                Some(Body::HeartbeatResponse { round: 0 })
            }
            Body::VoteRequest { pre_vote, .. } => Some(Body::VoteResponse {
                pre_vote: *pre_vote,
                granted: false,
            }),
            _ => None,
        };
        if let Some(body) = reply {
            ctx.out.send(from, Message { term, body });
        }
        ctx.out.drop_input(
            Some(from),
            DropReason::StaleTerm {
                message_term: message.term,
                current_term: term,
            },
        );
    }

    fn dispatch(&mut self, ctx: &mut Ctx, from: NodeId, message: Message) {
        let term = message.term;
        match message.body {
            Body::VoteRequest {
                pre_vote,
                last_log_index,
                last_log_term,
                transfer: _,
            } => self.handle_vote_request(ctx, from, term, pre_vote, last_log_term, last_log_index),
            Body::VoteResponse { pre_vote, granted } => {
                self.handle_vote_response(ctx, from, term, pre_vote, granted)
            }
            Body::Append {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                round,
            } => self.handle_append(
                ctx,
                from,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                round,
            ),
            Body::AppendResponse { result, round } => {
                self.handle_append_response(ctx, from, result, round)
            }
            Body::Heartbeat {
                leader_commit,
                round,
            } => self.handle_heartbeat(ctx, from, leader_commit, round),
            Body::HeartbeatResponse { round } => self.handle_heartbeat_response(ctx, from, round),
            Body::TimeoutNow => self.handle_timeout_now(ctx, from),
        }
    }

    fn step_client(&mut self, ctx: &mut Ctx, request: ClientRequest) {
        let Some(leader) = self.leader_state() else {
            ctx.out.replies.push(ClientReply {
                id: request.id,
                result: Err(ClientError::NotLeader {
                    leader_hint: self.leader,
                }),
            });
            return;
        };
        if leader.transfer.is_some() {
            ctx.out.replies.push(ClientReply {
                id: request.id,
                result: Err(ClientError::TransferInProgress),
            });
            return;
        }
        if request.operation.is_read() {
            self.handle_read(ctx, request);
        } else {
            self.propose(ctx, request);
        }
    }

    fn tick(&mut self, ctx: &mut Ctx) {
        if matches!(self.role, RoleState::Leader(_)) {
            self.tick_leader(ctx);
        } else if ctx.now >= self.election_deadline() {
            self.campaign(ctx, false);
        }
    }

    fn tick_leader(&mut self, ctx: &mut Ctx) {
        let Some(leader) = self.leader_state() else {
            return;
        };
        let (heartbeat_due, check_quorum_due) = (
            ctx.now >= leader.heartbeat_deadline,
            ctx.now >= leader.check_quorum_deadline,
        );
        if check_quorum_due && !self.check_quorum(ctx) {
            return;
        }
        if heartbeat_due {
            self.broadcast_heartbeat(ctx);
        }
        self.tick_transfer(ctx);
    }

    /// CheckQuorum: step down unless a majority (counting ourselves) was
    /// heard from since the last check. Returns whether we still lead.
    fn check_quorum(&mut self, ctx: &mut Ctx) -> bool {
        let quorum = self.quorum();
        let check_quorum = self.config.check_quorum;
        let next_check = ctx.now.saturating_add(self.config.election_timeout_min);
        let Some(leader) = self.leader_state_mut() else {
            return false;
        };
        let active = 1 + leader
            .progress
            .values()
            .filter(|progress| progress.recently_active)
            .count();
        for progress in leader.progress.values_mut() {
            progress.recently_active = false;
        }
        leader.check_quorum_deadline = next_check;
        if check_quorum && active < quorum {
            let term = self.hard_state.term;
            self.become_follower(ctx, term, None);
            return false;
        }
        true
    }

    /// Checks the node's own invariants; panics (a bug) if one is broken.
    pub fn invariants(&self) {
        self.log.check();
        assert!(
            self.commit_index <= self.log.last_index(),
            "commit index {} beyond last index {}",
            self.commit_index,
            self.log.last_index()
        );
        assert_eq!(self.applied_index, self.commit_index, "unapplied commits");
        assert!(
            self.log.last_term() <= self.hard_state.term,
            "log has entries from a future term"
        );
        assert!(self.hard_state.term <= MAX_TERM, "term beyond MAX_TERM");
        assert!(self.members.binary_search(&self.id).is_ok(), "not a member");
        match &self.role {
            RoleState::Follower => {}
            RoleState::PreCandidate { votes } => {
                assert!(
                    votes.get(&self.id) == Some(&true),
                    "pre-candidate without own vote"
                )
            }
            RoleState::Candidate { votes } => {
                assert_eq!(
                    self.hard_state.voted_for,
                    Some(self.id),
                    "candidate voted for another"
                );
                assert!(
                    votes.get(&self.id) == Some(&true),
                    "candidate without own vote"
                );
            }
            RoleState::Leader(leader) => self.leader_invariants(leader),
        }
    }

    fn leader_invariants(&self, leader: &LeaderState) {
        assert_eq!(
            self.hard_state.voted_for,
            Some(self.id),
            "leader did not vote for itself"
        );
        assert_eq!(self.leader, Some(self.id), "leader does not know it leads");
        assert_eq!(
            leader.progress.keys().copied().collect::<Vec<_>>(),
            self.peers,
            "progress does not cover the peers"
        );
        for progress in leader.progress.values() {
            progress.check(self.log.last_index(), self.config.max_inflight_appends);
        }
        assert!(leader.rounds_sent_at.len() <= MAX_TRACKED_ROUNDS);
        assert!(leader.confirmed_round <= leader.round);
        assert!(
            leader
                .pending_writes
                .keys()
                .all(|&index| index > self.commit_index && index <= self.log.last_index()),
            "a pending write is committed but unanswered, or beyond the log"
        );
        if let Some(transfer) = &leader.transfer {
            assert!(self.peers.contains(&transfer.to), "transfer to a non-peer");
        }
    }
}

fn validate_durable(durable: &DurableState, members: &[NodeId]) -> Result<(), ConfigError> {
    let inconsistent = |reason: &'static str| Err(ConfigError::InconsistentDurableState { reason });
    let mut previous_term = 0;
    for (position, entry) in durable.log.iter().enumerate() {
        if entry.index != position as LogIndex + 1 {
            return inconsistent("log indexes are not contiguous from 1");
        }
        if entry.term < previous_term {
            return inconsistent("log terms decrease");
        }
        previous_term = entry.term;
    }
    if durable.hard_state.term > MAX_TERM {
        return inconsistent("persisted term is beyond the highest term a node accepts");
    }
    if previous_term > durable.hard_state.term {
        return inconsistent("log has entries from a term later than the persisted term");
    }
    if let Some(vote) = durable.hard_state.voted_for {
        if !members.contains(&vote) {
            return inconsistent("persisted vote for a non-member");
        }
    }
    Ok(())
}

impl Node for RaftNode {
    type Message = Message;
    type Persist = Persist;

    fn id(&self) -> NodeId {
        self.id
    }

    fn step(
        &mut self,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<Message>,
        actions: &mut RaftActions,
    ) {
        self.now = self.now.max(now);
        let mut ctx = Ctx {
            now: self.now,
            rng,
            out: actions,
        };
        match input {
            Input::Tick => self.tick(&mut ctx),
            Input::Message { from, message } => self.step_message(&mut ctx, from, message),
            Input::Client(request) => self.step_client(&mut ctx, request),
            Input::TransferLeadership { to } => self.start_transfer(&mut ctx, to),
            Input::Campaign => {
                if !matches!(self.role, RoleState::Leader(_)) {
                    self.campaign(&mut ctx, false);
                }
            }
        }
        if cfg!(any(test, debug_assertions)) {
            self.invariants();
        }
    }

    fn next_deadline(&self) -> Time {
        match &self.role {
            RoleState::Leader(leader) => {
                let mut deadline = leader.heartbeat_deadline.min(leader.check_quorum_deadline);
                if let Some(transfer) = &leader.transfer {
                    deadline = deadline.min(transfer.deadline);
                }
                deadline
            }
            _ => self.election_deadline(),
        }
    }

    fn role(&self) -> Role {
        match self.role {
            RoleState::Follower => Role::Follower,
            RoleState::PreCandidate { .. } => Role::PreCandidate,
            RoleState::Candidate { .. } => Role::Candidate,
            RoleState::Leader(_) => Role::Leader,
        }
    }

    fn term(&self) -> u64 {
        self.hard_state.term
    }

    fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    fn commit_index(&self) -> u64 {
        self.commit_index
    }

    fn holds_lease(&self, now: Time) -> bool {
        self.lease_is_valid(now)
    }

    fn invariants(&self) {
        RaftNode::invariants(self)
    }
}
