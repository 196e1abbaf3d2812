//! The Raft node: what every role holds (the [`Replica`]), the role it plays,
//! construction and restart, and the invariants checked after every step.
//!
//! The node is split in two, as raft-rs splits `RaftCore` from `Raft`: the
//! replica (durable state, log, state machine, timers) and the role
//! ([`RoleState`]). A leader's handlers borrow both apart, so they take the
//! leader's state as an argument instead of looking it up again.

use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, RngCore};

use crate::core::chassis::report::Observed;
use crate::core::chassis::{self, Context, ContextOf, Membership, Protocol};
use crate::core::client::ClientRequest;
use crate::core::kv::KvStore;
use crate::core::node::{DropReason, Event, Input, Node, NodeId, Role};
use crate::core::raft::config::{Config, ConfigError};
use crate::core::raft::configuration::Configuration;
use crate::core::raft::log::{Log, LogIndex, Term, MAX_TERM};
use crate::core::raft::message::Message;
use crate::core::raft::role::{LeaderState, RoleState, MAX_TRACKED_ROUNDS};
use crate::core::raft::snapshot::{Incoming, Snapshot};
use crate::core::raft::storage::{DurableState, HardState, Persist};
use crate::core::raft::RaftActions;
use crate::core::time::Time;

/// The step context of a Raft handler.
pub(super) type Ctx<'a> = Context<'a, Message, Persist>;

/// What a Raft node holds whatever its role.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Replica {
    pub membership: Membership,
    /// Who votes and who only learns: every quorum is counted over it.
    /// Today the simple configuration of the members.
    pub configuration: Configuration,
    pub config: Config,
    pub hard_state: HardState,
    pub log: Log,
    /// Invariant: `applied_index == commit_index <= log.last_index()` between
    /// steps (entries are applied as soon as they are known committed).
    pub commit_index: LogIndex,
    pub applied_index: LogIndex,
    pub kv: KvStore,
    /// The latest snapshot, which the log's base stands for. Invariant:
    /// its index and term are the log's base (none: nothing compacted).
    pub snapshot: Option<Arc<Snapshot>>,
    /// A snapshot arriving from the leader, chunk by chunk.
    pub incoming: Option<Incoming>,
    pub leader: Option<NodeId>,
    /// When the election timer was last reset, and its randomized length.
    pub election_timer_start: Time,
    pub election_timeout: Duration,
    /// When we last heard from a leader of our term (or restarted: see
    /// `restart`). Drives leader stickiness and the PreVote liveness check.
    pub last_leader_contact: Option<Time>,
    /// The latest `now` seen; time never runs backwards inside the node.
    pub now: Time,
}

/// A Raft node. Build it with [`RaftNode::new`] or [`RaftNode::restart`] and
/// drive it through [`Node::step`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RaftNode {
    pub(super) replica: Replica,
    pub(super) role: RoleState,
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
        // A snapshot is committed and applied: the node starts from it.
        let (log, kv, applied) = match &durable.snapshot {
            Some(snapshot) => (
                Log::after_base(snapshot.index, snapshot.term, durable.log),
                snapshot.kv.clone(),
                snapshot.index,
            ),
            None => (
                Log::from_entries(durable.log),
                KvStore::default(),
                LogIndex::ZERO,
            ),
        };
        let mut replica = Replica {
            membership: Membership::new(id, members)?,
            configuration: Configuration::simple(members)?,
            config,
            hard_state: durable.hard_state,
            log,
            commit_index: applied,
            applied_index: applied,
            kv,
            snapshot: durable.snapshot,
            incoming: None,
            leader: None,
            election_timer_start: now,
            election_timeout: Duration::ZERO,
            last_leader_contact,
            now,
        };
        replica.randomize_election_timeout(rng);
        let node = RaftNode {
            replica,
            role: RoleState::Follower,
        };
        node.invariants();
        Ok(node)
    }

    pub fn config(&self) -> &Config {
        &self.replica.config
    }

    /// The election timeout this node drew last (from its configuration's
    /// range): how long it waits without hearing a leader before it
    /// campaigns.
    pub fn election_timeout(&self) -> Duration {
        self.replica.election_timeout
    }

    pub fn members(&self) -> &[NodeId] {
        self.replica.membership.members()
    }

    pub fn hard_state(&self) -> HardState {
        self.replica.hard_state
    }

    /// The current term, typed (the [`Node::term`] every algorithm answers
    /// is a bare number).
    pub fn current_term(&self) -> Term {
        self.replica.hard_state.term
    }

    /// The highest index known committed, typed (see [`Node::commit_index`]).
    pub fn committed(&self) -> LogIndex {
        self.replica.commit_index
    }

    /// The highest index applied to the state machine, as the core itself
    /// counts it (operators export it beside [`RaftNode::committed`], so a
    /// gap between the two would show).
    pub fn applied(&self) -> LogIndex {
        self.replica.applied_index
    }

    pub fn log(&self) -> &Log {
        &self.replica.log
    }

    pub fn kv(&self) -> &KvStore {
        &self.replica.kv
    }

    /// The latest snapshot, which the log's compacted prefix stands for.
    pub fn snapshot(&self) -> Option<&Arc<Snapshot>> {
        self.replica.snapshot.as_ref()
    }

    /// What a crash would leave behind if every persist record so far was
    /// made durable.
    pub fn durable_state(&self) -> DurableState {
        DurableState {
            hard_state: self.replica.hard_state,
            snapshot: self.replica.snapshot.clone(),
            log: self.replica.log.entries().to_vec(),
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

    /// When the lease this node holds at `now` ends, on its own clock; `None`
    /// when it holds none. Operators export it so that leases of different
    /// nodes can be compared on a shared clock.
    pub fn lease_expiry(&self, now: Time) -> Option<Time> {
        match &self.role {
            RoleState::Leader(leader) if self.replica.lease_is_valid(leader, now) => leader
                .lease_start
                .map(|start| start.saturating_add(self.replica.config.lease_duration)),
            _ => None,
        }
    }

    /// Whether a leader is live as far as this node knows: it leads, or it
    /// heard from a leader within the minimum election timeout.
    pub(super) fn leader_is_alive(&self, now: Time) -> bool {
        self.is_leader() || self.replica.heard_from_leader_recently(now)
    }

    pub(super) fn drop_unexpected(&self, ctx: &mut Ctx, from: NodeId) {
        let role = self.role();
        ctx.out
            .drop_input(Some(from), DropReason::UnexpectedForRole { role });
    }
}

impl Replica {
    pub fn id(&self) -> NodeId {
        self.membership.id()
    }

    pub fn election_deadline(&self) -> Time {
        self.election_timer_start
            .saturating_add(self.election_timeout)
    }

    fn randomize_election_timeout(&mut self, rng: &mut dyn RngCore) {
        let min = self.config.election_timeout_min.as_micros() as u64;
        let max = self.config.election_timeout_max.as_micros() as u64;
        self.election_timeout = Duration::from_micros(rng.random_range(min..max));
    }

    /// Restarts the election timer with a fresh random length.
    pub fn reset_election_timer(&mut self, ctx: &mut Ctx) {
        self.election_timer_start = ctx.now;
        self.randomize_election_timeout(ctx.rng);
    }

    /// Whether we heard from a leader within the minimum election timeout.
    pub fn heard_from_leader_recently(&self, now: Time) -> bool {
        self.last_leader_contact
            .is_some_and(|contact| now < contact.saturating_add(self.config.election_timeout_min))
    }

    pub fn set_leader(&mut self, ctx: &mut Ctx, leader: Option<NodeId>) {
        if self.leader != leader {
            // A snapshot arriving from another leader is not continued.
            self.incoming = None;
            self.leader = leader;
            ctx.out.events.push(Event::LeaderChanged {
                leader,
                term: self.hard_state.term.get(),
            });
        }
    }

    pub fn persist_hard_state(&mut self, ctx: &mut Ctx) {
        ctx.out.persist.push(Persist::HardState(self.hard_state));
    }
}

impl RaftNode {
    /// Checks the node's own invariants; panics (a bug) if one is broken.
    pub fn invariants(&self) {
        let replica = &self.replica;
        replica.log.check();
        let base = replica
            .snapshot
            .as_ref()
            .map_or((LogIndex::ZERO, Term::ZERO), |snapshot| {
                (snapshot.index, snapshot.term)
            });
        assert_eq!(
            (replica.log.base_index(), replica.log.base_term()),
            base,
            "the log's base is not the snapshot's"
        );
        assert!(
            replica.log.base_index() <= replica.commit_index,
            "compacted beyond the commit index"
        );
        assert!(
            replica.commit_index <= replica.log.last_index(),
            "commit index {} beyond last index {}",
            replica.commit_index,
            replica.log.last_index()
        );
        assert_eq!(
            replica.applied_index, replica.commit_index,
            "unapplied commits"
        );
        assert!(
            replica.log.last_term() <= replica.hard_state.term,
            "log has entries from a future term"
        );
        assert!(replica.hard_state.term <= MAX_TERM, "term beyond MAX_TERM");
        replica.membership.check();
        replica.configuration.check();
        assert!(
            replica
                .configuration
                .ids()
                .all(|id| replica.membership.contains(id)),
            "the configuration names a node that is not a member"
        );
        match &self.role {
            RoleState::Follower => {}
            RoleState::PreCandidate { votes } => {
                assert!(
                    votes.get(&replica.id()) == Some(&true),
                    "pre-candidate without own vote"
                )
            }
            RoleState::Candidate { votes } => {
                assert_eq!(
                    replica.hard_state.voted_for,
                    Some(replica.id()),
                    "candidate voted for another"
                );
                assert!(
                    votes.get(&replica.id()) == Some(&true),
                    "candidate without own vote"
                );
            }
            RoleState::Leader(leader) => replica.leader_invariants(leader),
        }
    }
}

impl Replica {
    fn leader_invariants(&self, leader: &LeaderState) {
        assert_eq!(
            self.hard_state.voted_for,
            Some(self.id()),
            "leader did not vote for itself"
        );
        assert_eq!(
            self.leader,
            Some(self.id()),
            "leader does not know it leads"
        );
        assert_eq!(
            leader.progress.keys().copied().collect::<Vec<_>>(),
            self.membership.peers(),
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
            assert!(
                self.membership.is_peer(transfer.to),
                "transfer to a non-peer"
            );
        }
    }
}

fn validate_durable(durable: &DurableState, members: &[NodeId]) -> Result<(), ConfigError> {
    let inconsistent = |reason: &'static str| Err(ConfigError::InconsistentDurableState { reason });
    let (base_index, mut previous_term) = match &durable.snapshot {
        Some(snapshot) => {
            let mut sorted = members.to_vec();
            sorted.sort_unstable();
            if snapshot.members != sorted {
                return inconsistent("the snapshot's members are not the cluster's");
            }
            if snapshot.index == LogIndex::ZERO {
                return inconsistent("a snapshot at index 0");
            }
            (snapshot.index, snapshot.term)
        }
        None => (LogIndex::ZERO, Term::ZERO),
    };
    for (position, entry) in durable.log.iter().enumerate() {
        if entry.index != base_index.plus(position + 1) {
            return inconsistent("log indexes are not contiguous from the snapshot's");
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

impl Protocol for RaftNode {
    fn membership(&self) -> &Membership {
        &self.replica.membership
    }

    fn clock_mut(&mut self) -> &mut Time {
        &mut self.replica.now
    }

    fn on_tick(&mut self, ctx: &mut Ctx) {
        self.tick(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, message: Message) {
        self.step_message(ctx, from, message);
    }

    fn on_client(&mut self, ctx: &mut Ctx, request: ClientRequest) {
        self.step_client(ctx, request);
    }

    fn on_campaign(&mut self, ctx: &mut ContextOf<Self>) {
        self.campaign(ctx, false);
    }

    fn on_transfer(&mut self, ctx: &mut Ctx, to: NodeId) {
        self.step_transfer(ctx, to);
    }

    fn on_snapshot(&mut self, ctx: &mut Ctx) {
        self.replica.take_snapshot(ctx.out);
    }

    /// Raft reports role and leader changes as they happen instead: a
    /// single-node cluster passes through three roles in one step, and
    /// each is reported.
    fn after_step(&self, _before: Observed, _ctx: &mut Ctx) {}
}

impl Node for RaftNode {
    type Message = Message;
    type Persist = Persist;

    fn id(&self) -> NodeId {
        self.replica.id()
    }

    fn step(
        &mut self,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<Self::Message>,
        actions: &mut RaftActions,
    ) {
        chassis::step(self, now, rng, input, actions);
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
            _ => self.replica.election_deadline(),
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
        self.replica.hard_state.term.get()
    }

    fn leader(&self) -> Option<NodeId> {
        self.replica.leader
    }

    fn commit_index(&self) -> u64 {
        self.replica.commit_index.get()
    }

    fn holds_lease(&self, now: Time) -> bool {
        match &self.role {
            RoleState::Leader(leader) => self.replica.lease_is_valid(leader, now),
            _ => false,
        }
    }

    fn invariants(&self) {
        RaftNode::invariants(self)
    }
}
