//! A raft-rs `RawNode` as an electorate [`Node`]: ticks from local time,
//! each `Ready` handled in raft-rs's documented order with its durable
//! parts handed to the persist path, client operations answered from the
//! replicated key-value store, and the views the monitors read.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use raft::eraftpb::{Entry as RaftRsEntry, EntryType, Message};
use raft::{RawNode, ReadOnlyOption, StateRole};
use rand::{Rng, RngCore};

use super::clients::Pending;
use super::command::{self, command_of, decode_proposal, decode_request_id, encode_proposal};
use super::message::RaftRsMessage;
use super::storage::{NodeStorage, RaftRsLog, Record};
use super::timeout::ResetWatch;
use crate::core::client::{ClientError, ClientRequest, Operation};
use crate::core::kv::KvStore;
use crate::core::node::{Actions, DropReason, Event, Input, Node, NodeId, Role};
use crate::core::raft::{Entry, LogIndex, Term};
use crate::core::time::Time;

/// How raft-rs is configured and clocked. The defaults give electorate's
/// Raft timings: a 50 ms heartbeat and election timeouts drawn from
/// [150, 300) ms (raft-rs's own range, [election_tick, 2 * election_tick)
/// ticks, at 10 ms a tick), with PreVote and CheckQuorum on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Local time per raft-rs tick.
    pub tick: Duration,
    pub election_tick: usize,
    pub heartbeat_tick: usize,
    /// raft-rs's lease-based reads (`ReadOnlyOption::LeaseBased`) instead of
    /// ReadIndex. They do not account for clock drift: a finding about
    /// raft-rs, not a property electorate promises for it.
    pub lease_reads: bool,
    /// Whether a node's first tick comes a seeded random fraction of a tick
    /// interval after it starts, as on hosts whose tick timers start when
    /// their processes do, rather than one whole interval after (every node
    /// started at one instant then ticks at the same instants, and two
    /// followers that draw the same whole-tick timeout time out together).
    pub random_tick_phase: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            tick: Duration::from_millis(10),
            election_tick: 15,
            heartbeat_tick: 5,
            lease_reads: false,
            random_tick_phase: true,
        }
    }
}

impl Settings {
    /// The raft-rs configuration of node `id`, resuming after `applied`.
    pub fn raft_config(&self, id: NodeId, applied: u64) -> raft::Config {
        raft::Config {
            id,
            election_tick: self.election_tick,
            heartbeat_tick: self.heartbeat_tick,
            applied,
            pre_vote: true,
            check_quorum: true,
            read_only_option: if self.lease_reads {
                ReadOnlyOption::LeaseBased
            } else {
                ReadOnlyOption::Safe
            },
            // electorate's flow control: 256 appends in flight; a lagging
            // follower catches up in messages of at most 1 MiB of entries.
            max_inflight_msgs: 256,
            max_size_per_msg: 1 << 20,
            ..raft::Config::default()
        }
    }
}

/// One raft-rs node.
///
/// `Clone` rebuilds the copy from the node's durable state (its
/// [`RaftRsLog`]) and its applied state machine, because raft-rs's
/// `RawNode` cannot be cloned: the copy is the node as it would restart
/// (a follower of the same term and vote, with the same log, election
/// timeout and tick phase), sharing nothing with the original. Volatile
/// state — role, leader, votes, replication progress, pending client
/// operations — is not carried over.
pub struct RaftRsNode {
    id: NodeId,
    members: Vec<NodeId>,
    settings: Settings,
    raw: RawNode<NodeStorage>,
    watch: ResetWatch,
    /// Local time of the next raft-rs tick.
    next_tick: Time,
    kv: KvStore,
    applied: u64,
    /// The log as electorate's monitors read it, kept equal to the
    /// storage's after every step.
    log_view: Vec<Entry>,
    pending: Pending,
    /// What the last step ended with, for role and leader events.
    last_role: Role,
    last_leader: Option<NodeId>,
}

impl RaftRsNode {
    /// A node started on `log` (empty for a new one): restarted, if the log
    /// holds anything, with nothing applied, so it replays its committed
    /// entries into a fresh state machine.
    pub fn new(
        id: NodeId,
        members: &[NodeId],
        settings: Settings,
        log: RaftRsLog,
        now: Time,
        rng: &mut dyn RngCore,
    ) -> Result<RaftRsNode, raft::Error> {
        let tick = settings.tick;
        let phase = if settings.random_tick_phase {
            let micros = tick.as_micros() as u64;
            Duration::from_micros(rng.random_range(1..=micros))
        } else {
            tick
        };
        let next_tick = now.saturating_add(phase);
        let mut node =
            RaftRsNode::build(id, members, settings, log, KvStore::default(), 0, next_tick)?;
        node.watch.draw(&mut node.raw.raft, rng);
        Ok(node)
    }

    fn build(
        id: NodeId,
        members: &[NodeId],
        settings: Settings,
        log: RaftRsLog,
        kv: KvStore,
        applied: u64,
        next_tick: Time,
    ) -> Result<RaftRsNode, raft::Error> {
        let config = settings.raft_config(id, applied);
        let log_view = log.entries().iter().map(entry_view).collect();
        let storage = NodeStorage::new(log, members);
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let raw = RawNode::new(&config, storage, &logger)?;
        let watch = ResetWatch::observe(&config, &raw.raft);
        Ok(RaftRsNode {
            id,
            members: members.to_vec(),
            settings,
            watch,
            next_tick,
            kv,
            applied,
            log_view,
            pending: Pending::default(),
            last_role: Role::Follower,
            last_leader: None,
            raw,
        })
    }

    /// The durable state this node has handed to the persist path.
    pub fn durable(&self) -> &RaftRsLog {
        &self.raw.store().log
    }

    /// The state machine, applied up to [`RaftRsNode::applied`].
    pub fn kv(&self) -> &KvStore {
        &self.kv
    }

    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// The log as electorate's monitors read it.
    pub fn log_view(&self) -> &[Entry] {
        &self.log_view
    }

    /// Whether the node has committed an entry of its current term (a
    /// leader then serves: raft-rs takes ReadIndex requests only so).
    pub fn commits_in_own_term(&self) -> bool {
        self.raw.raft.commit_to_current_term()
    }

    /// raft-rs's election timeout in force, in ticks.
    pub fn randomized_election_timeout(&self) -> usize {
        self.raw.raft.randomized_election_timeout()
    }
}

type RaftRsActions = Actions<RaftRsMessage, Record>;

impl RaftRsNode {
    fn is_leader(&self) -> bool {
        self.raw.raft.state == StateRole::Leader
    }

    /// After any call into raft-rs: a reset election timer gets its seeded
    /// timeout before raft-rs can act on the one it drew itself.
    fn after_call(&mut self, rng: &mut dyn RngCore) {
        self.watch.after_call(&mut self.raw.raft, rng);
    }

    /// One raft-rs tick per tick interval of local time since the last, each
    /// followed by its `Ready`, as a host's event loop would run them.
    fn tick(&mut self, now: Time, rng: &mut dyn RngCore, actions: &mut RaftRsActions) {
        while self.next_tick <= now {
            self.next_tick = self.next_tick.saturating_add(self.settings.tick);
            self.raw.tick();
            self.after_call(rng);
            self.handle_ready(actions);
        }
    }

    fn receive(&mut self, from: NodeId, message: Message, actions: &mut RaftRsActions) {
        let forged = message.from != from || message.to != self.id;
        if from == self.id || !self.members.contains(&from) || forged {
            actions.drop_input(Some(from), DropReason::UnknownSender);
            return;
        }
        match self.raw.step(message) {
            Ok(()) => {}
            Err(raft::Error::StepPeerNotFound) => {
                actions.drop_input(Some(from), DropReason::UnknownSender)
            }
            Err(raft::Error::StepLocalMsg) => {
                let role = self.role();
                actions.drop_input(Some(from), DropReason::UnexpectedForRole { role })
            }
            Err(_) => actions.drop_input(Some(from), DropReason::Stale),
        }
    }

    fn client(&mut self, request: ClientRequest, actions: &mut RaftRsActions) {
        if !self.is_leader() {
            actions.refuse_not_leader(request.id, self.leader());
            return;
        }
        if self.raw.raft.lead_transferee.is_some() {
            actions.reply(request.id, Err(ClientError::TransferInProgress));
            return;
        }
        let Some(command) = command_of(&request.operation) else {
            let Operation::Read { key } = request.operation else {
                unreachable!("only reads log no command")
            };
            self.read(request.id, key);
            return;
        };
        match self
            .raw
            .propose(Vec::new(), encode_proposal(request.id, &command))
        {
            Ok(()) => {
                let index = self.raw.raft.raft_log.last_index();
                self.pending.write_proposed(index, request.id);
            }
            // raft-rs drops proposals during a leadership transfer (checked
            // above) and beyond its uncommitted-size limit (off here).
            Err(_) => actions.reply(request.id, Err(ClientError::TransferInProgress)),
        }
    }

    /// A ReadIndex read, or one held until raft-rs will take it.
    fn read(&mut self, id: crate::core::client::RequestId, key: String) {
        if self.commits_in_own_term() {
            self.raw.read_index(command::encode_request_id(id));
            self.pending.read_submitted(id, key);
        } else {
            self.pending.defer_read(id, key);
        }
    }

    /// Handles every `Ready` in raft-rs's documented order: send the
    /// messages that need no persistence, apply committed entries, append
    /// the new entries, save the hard state, send the messages that needed
    /// them, advance, then the light ready's commit index, messages and
    /// committed entries. Every durable write goes to the persist path as a
    /// [`Record`]; the caller makes those durable before any message of the
    /// step leaves, which is stricter than raft-rs asks (its first message
    /// batch may leave before the write).
    fn handle_ready(&mut self, actions: &mut RaftRsActions) {
        while self.raw.has_ready() {
            let mut ready = self.raw.ready();
            send(ready.take_messages(), actions);
            assert!(
                ready.snapshot().is_empty(),
                "no snapshots: the log is never compacted"
            );
            self.apply_committed(ready.take_committed_entries(), actions);
            if !ready.entries().is_empty() {
                self.persist(Record::Entries(ready.take_entries()), actions);
            }
            if let Some(hard_state) = ready.hs() {
                self.persist(Record::HardState(hard_state.clone()), actions);
            }
            for state in ready.take_read_states() {
                if let Ok(id) = decode_request_id(&state.request_ctx) {
                    self.pending.read_confirmed(id, state.index);
                }
            }
            send(ready.take_persisted_messages(), actions);
            let mut light = self.raw.advance(ready);
            if let Some(commit) = light.commit_index() {
                self.persist(Record::Commit(commit), actions);
            }
            send(light.take_messages(), actions);
            self.apply_committed(light.take_committed_entries(), actions);
            self.raw.advance_apply();
            self.pending
                .serve_reads(self.applied, &self.kv, &mut actions.replies);
        }
    }

    /// Writes `record` to the node's own storage (raft-rs reads the log back
    /// from it) and hands it to the persist path.
    fn persist(&mut self, record: Record, actions: &mut RaftRsActions) {
        if let Record::Entries(entries) = &record {
            let first = entries.first().expect("only non-empty appends").index;
            self.log_view.truncate((first - 1) as usize);
            self.log_view.extend(entries.iter().map(entry_view));
        }
        self.raw.mut_store().log.apply(record.clone());
        actions.persist.push(record);
    }

    fn apply_committed(&mut self, entries: Vec<RaftRsEntry>, actions: &mut RaftRsActions) {
        for entry in entries {
            assert_eq!(entry.index, self.applied + 1, "entries apply in order");
            assert_eq!(
                entry.get_entry_type(),
                EntryType::EntryNormal,
                "membership never changes"
            );
            self.applied = entry.index;
            let (proposer, command) =
                decode_proposal(&entry.data).expect("every entry was proposed by this adapter");
            let outcome = command::apply(&mut self.kv, &command);
            self.pending
                .applied(entry.index, proposer, outcome, &mut actions.replies);
        }
    }

    /// Reads that waited for the leader's first commit of its term.
    fn submit_deferred_reads(&mut self, rng: &mut dyn RngCore, actions: &mut RaftRsActions) {
        if !self.pending.has_deferred_reads() || !self.commits_in_own_term() {
            return;
        }
        for (id, key) in self.pending.take_deferred_reads() {
            self.read(id, key);
        }
        self.after_call(rng);
        self.handle_ready(actions);
    }

    /// Role and leader events, and the answers a former leader owes.
    fn note_changes(&mut self, actions: &mut RaftRsActions) {
        if !self.is_leader() && !self.pending.is_empty() {
            self.pending.step_down(&mut actions.replies);
        }
        let (role, leader, term) = (self.role(), self.leader(), self.term());
        if role != self.last_role {
            actions.events.push(Event::RoleChanged { role, term });
            self.last_role = role;
        }
        if leader != self.last_leader {
            actions.events.push(Event::LeaderChanged { leader, term });
            self.last_leader = leader;
        }
    }
}

fn send(messages: Vec<Message>, actions: &mut RaftRsActions) {
    for message in messages {
        actions.send(message.to, RaftRsMessage(message));
    }
}

/// A raft-rs entry as electorate's monitors see one.
pub(super) fn entry_view(entry: &RaftRsEntry) -> Entry {
    let (_, command) =
        decode_proposal(&entry.data).expect("every entry was proposed by this adapter");
    Entry {
        term: Term::new(entry.term),
        index: LogIndex::new(entry.index),
        command: Arc::new(command),
    }
}

impl Node for RaftRsNode {
    type Message = RaftRsMessage;
    type Persist = Record;

    fn id(&self) -> NodeId {
        self.id
    }

    fn step(
        &mut self,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<RaftRsMessage>,
        actions: &mut RaftRsActions,
    ) {
        match input {
            Input::Tick => self.tick(now, rng, actions),
            Input::Message { from, message } => self.receive(from, message.0, actions),
            // Proposed one after another, then handled in one `Ready`, so
            // raft-rs sends a batch's entries in one append per follower.
            clients @ (Input::Client(_) | Input::ClientBatch(_)) => {
                for request in clients.into_client_requests() {
                    self.client(request, actions);
                }
            }
            Input::TransferLeadership { to } => {
                if to == self.id || !self.members.contains(&to) {
                    actions.drop_input(None, DropReason::InvalidTarget { target: to });
                } else if !self.is_leader() {
                    let role = self.role();
                    actions.drop_input(None, DropReason::UnexpectedForRole { role });
                } else {
                    self.raw.transfer_leader(to);
                }
            }
            Input::Campaign => {
                if !self.is_leader() {
                    // Refused only by a node that cannot be promoted, and
                    // every member here can.
                    let _ = self.raw.campaign();
                }
            }
            Input::Snapshot => actions.drop_input(None, DropReason::NoSnapshots),
        }
        self.after_call(rng);
        self.handle_ready(actions);
        self.submit_deferred_reads(rng, actions);
        self.note_changes(actions);
    }

    fn next_deadline(&self) -> Time {
        self.next_tick
    }

    fn role(&self) -> Role {
        match self.raw.raft.state {
            StateRole::Follower => Role::Follower,
            StateRole::PreCandidate => Role::PreCandidate,
            StateRole::Candidate => Role::Candidate,
            StateRole::Leader => Role::Leader,
        }
    }

    fn term(&self) -> u64 {
        self.raw.raft.term
    }

    fn leader(&self) -> Option<NodeId> {
        match self.raw.raft.leader_id {
            raft::INVALID_ID => None,
            leader => Some(leader),
        }
    }

    fn commit_index(&self) -> u64 {
        self.raw.raft.raft_log.committed
    }

    /// raft-rs keeps no lease of its own: in lease-read mode a leader under
    /// CheckQuorum serves reads locally whenever it believes it leads, with
    /// no bound in time, which is what the monitors are shown.
    fn holds_lease(&self, _now: Time) -> bool {
        self.settings.lease_reads && self.is_leader() && self.raw.raft.in_lease()
    }

    fn invariants(&self) {
        let log = self.durable();
        assert_eq!(
            log.last_index(),
            self.raw.raft.raft_log.last_index(),
            "after a step every entry raft-rs holds is persisted"
        );
        assert_eq!(self.log_view.len() as u64, log.last_index());
        assert!(self.applied <= self.commit_index());
        assert!(self.commit_index() <= log.last_index());
        assert_eq!(log.hard_state().term, self.term(), "the term is persisted");
    }
}

impl Clone for RaftRsNode {
    fn clone(&self) -> Self {
        let mut copy = RaftRsNode::build(
            self.id,
            &self.members,
            self.settings.clone(),
            self.durable().clone(),
            self.kv.clone(),
            self.applied,
            self.next_tick,
        )
        .expect("a node's own durable state restarts it");
        let timeout = self.randomized_election_timeout();
        copy.raw.raft.set_randomized_election_timeout(timeout);
        copy.watch = ResetWatch::observe(&self.settings.raft_config(self.id, 0), &copy.raw.raft);
        copy
    }
}

impl fmt::Debug for RaftRsNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaftRsNode")
            .field("id", &self.id)
            .field("role", &self.role())
            .field("term", &self.term())
            .field("leader", &self.leader())
            .field("commit", &self.commit_index())
            .field("applied", &self.applied)
            .field("last_index", &self.durable().last_index())
            .field("election_timeout", &self.randomized_election_timeout())
            .field("next_tick", &self.next_tick)
            .finish()
    }
}
