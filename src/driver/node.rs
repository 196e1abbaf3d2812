//! The node loop: one thread that owns a [`RaftNode`] and its storage,
//! takes inputs from its [`Mailbox`], steps the core with the real
//! monotonic time, makes the persist records durable, and only then sends
//! the messages and replies.
//!
//! The loop is a wait (for inputs or the next deadline, on a [`Clock`])
//! around [`NodeLoop::turn`], which does everything else. Threads wait on
//! the mailbox and the monotonic clock; [`crate::driver::crash_sim`] calls
//! `turn` itself with simulated time and a simulated disk, so the very
//! same code runs under seeded crashes.
//!
//! Inputs that queued while the loop was busy (an fsync takes a while) are
//! stepped together and their records written with one fsync: group commit,
//! as etcd's `Ready` batches them. The loop waits on the mailbox until the
//! node's next timer deadline, so a timer is a wait that ran out.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::core::client::{ClientReply, ClientRequest, RequestId};
use crate::core::node::{Event, Input, Node, NodeId, Role};
use crate::core::raft::{Body, Config, ConfigError, Message, Persist, RaftNode};
use crate::core::time::Time;
use crate::driver::health::decision::Unhealthy;
use crate::driver::health::{HealthPolicy, HealthSettings};
use crate::driver::mailbox::{Mailbox, Received};
use crate::driver::metrics::clock::{monotonic_seconds_now, MonotonicOffset};
use crate::driver::metrics::lease_claim::LeaseClaims;
use crate::driver::metrics::registry::PeerLabel;
use crate::driver::metrics::NodeMetrics;
use crate::driver::storage::format::Identity;
use crate::driver::storage::{open_slowed_directory, Recovered, Storage, StorageError};
use crate::driver::sync::{lock, Arc, Mutex};
use crate::harness::apply::{Durability, Outputs, Stepper};

/// The most inputs stepped before their records are made durable together.
const MAX_BATCH: usize = 256;
/// Inputs a node queues before it drops more (a lossy network, to Raft).
pub const INBOX_CAPACITY: usize = 4096;
/// Replies a client connection queues before further ones are dropped.
pub const REPLY_CAPACITY: usize = 1024;

/// Where a client's replies go: its connection's writer, or an in-memory
/// client waiting on it.
pub type ReplyTo = Arc<Mailbox<ClientReply>>;

/// One input to a running node.
pub enum NodeInput {
    Peer {
        from: NodeId,
        message: Message,
    },
    Client {
        request: ClientRequest,
        reply_to: ReplyTo,
    },
    /// A client's batch frame: its requests go to the core as one
    /// `Input::ClientBatch`, and each is answered on its own.
    ClientBatch {
        requests: Vec<ClientRequest>,
        reply_to: ReplyTo,
    },
    /// An operator asks for a snapshot now (`POST /snapshot` on the
    /// metrics address): the core's `Input::Snapshot`, made durable and
    /// compacted like any step's records.
    Snapshot,
}

/// How a node's messages reach its peers. `send` never blocks: a transport
/// that cannot deliver now drops the message, as a network would.
pub trait Transport: Send + 'static {
    fn send(&mut self, to: NodeId, message: Message);
}

/// What a node needs to start.
#[derive(Clone, Debug)]
pub struct NodeSettings {
    pub id: NodeId,
    /// Every member, this node included.
    pub members: Vec<NodeId>,
    pub config: Config,
    pub data_dir: PathBuf,
    /// Seeds the election jitter; print it so a run can be repeated.
    pub seed: u64,
    /// The cluster the data directory belongs to (checked on open).
    pub cluster_id: u64,
    /// Keep unsynced writes in memory until their fsync, so a `SIGKILL`
    /// loses them (see [`crate::driver::storage::disk::FileDisk`]).
    pub lazy_disk: bool,
    /// When a leader hands over for its disk's sake.
    pub health: HealthSettings,
    /// Fault injection (testing only): each fsync of the node's data files
    /// waits this long first, so abdication can be shown on a real process.
    pub slow_fsync: Duration,
}

impl NodeSettings {
    /// Whose data the node's storage must hold.
    pub fn identity(&self) -> Identity {
        Identity {
            cluster_id: self.cluster_id,
            node_id: self.id,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("node {id}: invalid configuration: {source}")]
    Config { id: NodeId, source: ConfigError },
    #[error("node {id}: storage: {source}")]
    Storage { id: NodeId, source: StorageError },
    #[error("node {id}: cannot start its thread: {source}")]
    Thread { id: NodeId, source: std::io::Error },
}

/// What the outside may observe of a running node, updated after every
/// batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeStatus {
    pub role: Option<Role>,
    pub term: u64,
    pub leader: Option<NodeId>,
    pub commit_index: u64,
    pub last_index: u64,
}

/// Counters a running node keeps, for tests and summaries.
#[derive(Debug, Default)]
pub struct NodeCounters {
    pub steps: AtomicU64,
    pub fsyncs: AtomicU64,
    pub dropped_inputs: AtomicU64,
}

/// A node running on its own thread.
pub struct NodeHandle {
    pub id: NodeId,
    pub inbox: Arc<Mailbox<NodeInput>>,
    pub status: Arc<Mutex<NodeStatus>>,
    pub counters: Arc<NodeCounters>,
    /// What `--metrics-listen` serves.
    pub metrics: std::sync::Arc<NodeMetrics>,
    thread: Option<JoinHandle<Result<(), DriverError>>>,
}

impl NodeHandle {
    pub fn status(&self) -> NodeStatus {
        *lock(&self.status)
    }

    /// Whether the loop has ended (it only ends by itself when it cannot
    /// persist).
    pub fn has_stopped(&self) -> bool {
        self.thread
            .as_ref()
            .is_none_or(|thread| thread.is_finished())
    }

    /// Stops the loop (inputs already queued are stepped first) and waits
    /// for it. Everything it acknowledged is on disk: it fsyncs before it
    /// replies.
    pub fn stop(mut self) -> Result<(), DriverError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), DriverError> {
        self.inbox.close();
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => Ok(()),
        }
    }
}

impl Drop for NodeHandle {
    fn drop(&mut self) {
        if self.thread.is_some() && !std::thread::panicking() {
            let _ = self.stop_and_join();
        }
    }
}

/// Opens the node's storage, recovers its durable state and starts its loop
/// on a new thread. The inbox is created here so the transport can be wired
/// to it before the first message arrives; pass it in with `inbox`.
pub fn spawn_node(
    settings: NodeSettings,
    inbox: Arc<Mailbox<NodeInput>>,
    transport: impl Transport,
) -> Result<NodeHandle, DriverError> {
    let id = settings.id;
    let opening = std::time::Instant::now();
    let (storage, recovered) = open_slowed_directory(
        &settings.data_dir,
        settings.identity(),
        settings.lazy_disk,
        settings.slow_fsync,
    )
    .map_err(|source| {
        tracing::error!(node = id, "refusing to start: {source}");
        DriverError::Storage { id, source }
    })?;
    spawn_node_on(settings, storage, recovered, opening, inbox, transport)
}

/// [`spawn_node`] on storage already opened (at `opening`, from which the
/// recovery's cost is counted): a simulated disk, for example, whose faults
/// a test arms to watch the loop stop.
pub fn spawn_node_on<S: Storage + Send + 'static>(
    settings: NodeSettings,
    storage: S,
    recovered: Recovered,
    opening: Instant,
    inbox: Arc<Mailbox<NodeInput>>,
    transport: impl Transport,
) -> Result<NodeHandle, DriverError> {
    let id = settings.id;
    let clock = MonotonicClock::start();
    let records = recovered.records;
    let mut node_loop = NodeLoop::start(&settings, storage, recovered, clock.now(), transport)?;
    // The restart's cost: reading the snapshot and replaying the log after
    // it, so bounded by the snapshot interval rather than the node's age.
    let recovery = opening.elapsed();
    node_loop
        .metrics
        .recovery_seconds
        .set(recovery.as_secs_f64());
    node_loop
        .metrics
        .recovered_records
        .set(i64::try_from(records).unwrap_or(i64::MAX));
    tracing::info!(
        node = id,
        recovery_ms = recovery.as_secs_f64() * 1e3,
        records,
        "recovered"
    );
    node_loop.set_monotonic_offset(clock.offset);
    let (status, counters) = (node_loop.status.clone(), node_loop.counters.clone());
    let metrics = node_loop.metrics.clone();
    let thread = std::thread::Builder::new()
        .name(format!("node-{id}"))
        .spawn({
            let inbox = inbox.clone();
            move || node_loop.run(&clock, &inbox)
        })
        .map_err(|source| DriverError::Thread { id, source })?;
    Ok(NodeHandle {
        id,
        inbox,
        status,
        counters,
        metrics,
        thread: Some(thread),
    })
}

/// Where the loop's time comes from: the monotonic clock on threads, the
/// simulated one under [`crate::driver::crash_sim`].
pub trait Clock {
    fn now(&self) -> Time;
}

/// The node's local monotonic clock, as the core's [`Time`].
struct MonotonicClock {
    origin: Instant,
    /// The origin on CLOCK_MONOTONIC, read together with `origin`.
    offset: MonotonicOffset,
}

impl MonotonicClock {
    fn start() -> MonotonicClock {
        MonotonicClock {
            origin: Instant::now(),
            offset: MonotonicOffset {
                origin_seconds: monotonic_seconds_now(),
            },
        }
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Time {
        let micros = u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX);
        Time::from_micros(micros)
    }
}

/// A node's loop: the core, its storage and where its output goes.
pub struct NodeLoop<S, T> {
    node: RaftNode,
    storage: S,
    rng: ChaCha8Rng,
    transport: T,
    status: Arc<Mutex<NodeStatus>>,
    counters: Arc<NodeCounters>,
    metrics: std::sync::Arc<NodeMetrics>,
    /// Where to send the reply of each client request still in the core.
    pending: BTreeMap<RequestId, Pending>,
    stepper: Stepper<RaftNode>,
    /// The lease this node claims, for the lease gauges.
    lease_claims: LeaseClaims,
    /// Maps the loop's time onto CLOCK_MONOTONIC for the gauges.
    monotonic: MonotonicOffset,
    /// Abdication: the node's disk health and hand-overs.
    health: HealthPolicy,
}

/// A client request still in the core: where its reply goes, and, for a
/// write, when it arrived (its latency is measured to the reply).
struct Pending {
    reply_to: ReplyTo,
    write_arrived: Option<Time>,
}

/// The loop's storage as the harness's persist target: one append and one
/// fsync for all the records of a turn (group commit).
struct Synced<'a, S> {
    storage: &'a mut S,
    counters: &'a NodeCounters,
    metrics: &'a NodeMetrics,
    health: &'a mut HealthPolicy,
    now: Time,
}

impl<S: Storage> Durability<Persist> for Synced<'_, S> {
    type Error = StorageError;

    fn persist(&mut self, records: &mut Vec<Persist>) -> Result<(), StorageError> {
        self.storage.append(records)?;
        // Wall time, not the loop's clock, on a real disk (the turn's
        // `now` was read before the fsync); a simulated disk says how long
        // it took in simulated time, so a seeded run stays deterministic.
        let started = Instant::now();
        self.storage.sync()?;
        let took = self
            .storage
            .modelled_sync_latency()
            .unwrap_or_else(|| started.elapsed());
        self.metrics.observe_fsync(took);
        self.health.observe_fsync(self.now, took);
        self.counters.fsyncs.fetch_add(1, Ordering::Relaxed);
        records.clear();
        Ok(())
    }
}

/// Where a turn's output goes once it is on disk: messages to the
/// transport, replies to the clients that wait for them, events to the log.
struct Deliver<'a, T> {
    id: NodeId,
    now: Time,
    transport: &'a mut T,
    pending: &'a mut BTreeMap<RequestId, Pending>,
    metrics: &'a NodeMetrics,
}

impl<T: Transport> Outputs<Message> for Deliver<'_, T> {
    fn send(&mut self, to: NodeId, message: Message) {
        self.metrics.observe_sent(to, &message);
        self.transport.send(to, message);
    }

    fn reply(&mut self, reply: ClientReply) {
        if let Some(pending) = self.pending.remove(&reply.id) {
            if let (Some(arrived), Ok(_)) = (pending.write_arrived, &reply.result) {
                self.metrics
                    .observe_write(self.now.saturating_since(arrived));
            }
            // A client that went away or stopped reading loses its reply;
            // the operation's outcome is then unknown to it, which its
            // history records.
            let _ = pending.reply_to.push(reply);
        }
    }

    fn event(&mut self, event: Event) {
        self.metrics.observe_event(&event);
        let node = self.id;
        match event {
            Event::RoleChanged { role, term } => {
                tracing::info!(node, term, %role, "role changed");
            }
            Event::LeaderChanged { leader, term } => {
                tracing::info!(node, term, leader = ?leader, "leader changed");
            }
            Event::Dropped { from, reason } => {
                tracing::debug!(node, from = ?from, %reason, "input dropped");
            }
            Event::Snapshot { index, from } => {
                tracing::info!(node, index, from = ?from, "snapshot");
            }
        }
    }
}

impl<S: Storage, T: Transport> NodeLoop<S, T> {
    /// Builds the node from what its storage recovered, at time `now`.
    pub fn start(
        settings: &NodeSettings,
        storage: S,
        recovered: Recovered,
        now: Time,
        transport: T,
    ) -> Result<NodeLoop<S, T>, DriverError> {
        let id = settings.id;
        if recovered.cut_tail_bytes > 0 {
            tracing::warn!(
                node = id,
                cut_bytes = recovered.cut_tail_bytes,
                "cut an unsynced log tail on recovery ({} bytes after the synced length, never acknowledged)",
                recovered.cut_tail_bytes
            );
        }
        if let Some(problem) = &recovered.damaged_state_copy {
            tracing::warn!(
                node = id,
                "one copy of term and vote was damaged and is rewritten from the other: {problem}"
            );
        }
        if recovered.finished_compaction {
            tracing::warn!(
                node = id,
                "a crash had interrupted a log compaction after a snapshot; recovery finished it"
            );
        }
        let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
        let node = if recovered.fresh {
            RaftNode::new(
                id,
                &settings.members,
                settings.config.clone(),
                now,
                &mut rng,
            )
        } else {
            RaftNode::restart(
                id,
                &settings.members,
                settings.config.clone(),
                recovered.state,
                now,
                &mut rng,
            )
        }
        .map_err(|source| DriverError::Config { id, source })?;
        tracing::info!(
            node = id,
            term = node.term(),
            last_index = node.log().last_index().get(),
            records = recovered.records,
            snapshot_pairs = recovered.snapshot_pairs,
            snapshot_bytes = recovered.snapshot_bytes,
            log_bytes = recovered.log_bytes,
            finished_compaction = recovered.finished_compaction,
            fresh = recovered.fresh,
            seed = settings.seed,
            "node started"
        );
        let node_loop = NodeLoop {
            node,
            storage,
            rng,
            transport,
            status: Arc::new(Mutex::new(NodeStatus::default())),
            counters: Arc::new(NodeCounters::default()),
            metrics: std::sync::Arc::new(NodeMetrics::new()),
            pending: BTreeMap::new(),
            stepper: Stepper::default(),
            lease_claims: LeaseClaims::default(),
            monotonic: MonotonicOffset::default(),
            health: HealthPolicy::new(settings.health),
        };
        node_loop.publish_status();
        // A restart from a snapshot shows it before the next one is taken.
        let base = node_loop.node.log().base_index().get();
        node_loop
            .metrics
            .snapshot_index
            .set(i64::try_from(base).unwrap_or(i64::MAX));
        Ok(node_loop)
    }

    /// The core, for observers.
    pub fn node(&self) -> &RaftNode {
        &self.node
    }

    /// The node's metrics, for observers.
    pub fn metrics(&self) -> &std::sync::Arc<NodeMetrics> {
        &self.metrics
    }

    /// Where the loop's time sits on CLOCK_MONOTONIC (the lease gauges are
    /// reported there); the default, 0, suits simulated time.
    pub fn set_monotonic_offset(&mut self, offset: MonotonicOffset) {
        self.monotonic = offset;
        self.metrics.start_time_seconds.set(offset.origin_seconds);
    }

    /// When the loop must take a turn even if no input arrives.
    pub fn next_deadline(&self) -> Time {
        self.node.next_deadline()
    }

    /// Waits on `inbox` until an input or the next deadline, takes a turn,
    /// and again, until the inbox closes or storage fails.
    fn run(mut self, clock: &impl Clock, inbox: &Mailbox<NodeInput>) -> Result<(), DriverError> {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        loop {
            let wait = self.node.next_deadline().saturating_since(clock.now());
            match inbox.recv_timeout(wait.max(Duration::from_micros(100))) {
                Received::Closed => return Ok(()),
                Received::TimedOut => {}
                Received::Item(input) => {
                    batch.push(input);
                    inbox.drain_into(&mut batch, MAX_BATCH - 1);
                }
            }
            self.turn(clock.now(), batch.drain(..))?;
        }
    }

    /// Steps `inputs` (and the timer, if due) at `now`, then persists,
    /// sends and replies. An error means storage failed: the loop must
    /// stop, nothing of this turn has left.
    pub fn turn(
        &mut self,
        now: Time,
        inputs: impl IntoIterator<Item = NodeInput>,
    ) -> Result<(), DriverError> {
        for input in inputs {
            let input = match input {
                NodeInput::Peer { from, message } => {
                    if message.body == Body::TimeoutNow && self.declines_leadership(now, from) {
                        continue;
                    }
                    if self.node.role() == Role::Leader {
                        self.metrics.observe_received_as_leader(
                            from,
                            &message,
                            self.node.hard_state().term,
                        );
                    }
                    Input::Message { from, message }
                }
                NodeInput::Client { request, reply_to } => {
                    self.await_reply(now, &request, reply_to);
                    Input::Client(request)
                }
                NodeInput::ClientBatch { requests, reply_to } => {
                    for request in &requests {
                        self.await_reply(now, request, reply_to.clone());
                    }
                    Input::ClientBatch(requests)
                }
                NodeInput::Snapshot => Input::Snapshot,
            };
            self.stepper
                .stage(&mut self.node, now, &mut self.rng, input);
            self.counters.steps.fetch_add(1, Ordering::Relaxed);
        }
        if now >= self.node.next_deadline() {
            self.stepper
                .stage(&mut self.node, now, &mut self.rng, Input::Tick);
            self.counters.steps.fetch_add(1, Ordering::Relaxed);
        }
        if let Some((to, unhealthy)) = self.health.after_turn(now, &self.node) {
            self.note_hand_over(to, &unhealthy, "");
            let input = Input::TransferLeadership { to };
            self.stepper
                .stage(&mut self.node, now, &mut self.rng, input);
        }
        self.complete(now)
    }

    /// Notes where the reply to `request` goes, and when a write arrived.
    fn await_reply(&mut self, now: Time, request: &ClientRequest, reply_to: ReplyTo) {
        let write_arrived = (!request.operation.is_read()).then_some(now);
        self.pending.insert(
            request.id,
            Pending {
                reply_to,
                write_arrived,
            },
        );
    }

    /// Logs why this leader hands over to `to`, and counts it.
    fn note_hand_over(&self, to: NodeId, unhealthy: &Unhealthy, when: &str) {
        tracing::warn!(
            node = self.node.id(),
            term = self.node.term(),
            to,
            "leader hands over leadership{when}: {unhealthy}"
        );
        self.metrics.abdications.inc();
    }

    /// Whether this node ignores a TimeoutNow from `from` because its own
    /// disk is slow: it would be no better a leader. To Raft the message
    /// is lost; the leader sees its hand-over lapse and marks us slow.
    fn declines_leadership(&mut self, now: Time, from: NodeId) -> bool {
        let Some(unhealthy) = self.health.unfit_to_lead(now) else {
            return false;
        };
        tracing::warn!(
            node = self.node.id(),
            from,
            "declines the leadership it was offered: {unhealthy}"
        );
        self.metrics.leadership_declined.inc();
        true
    }

    /// A leader whose disk failed cannot go on; before it stops it wakes
    /// its best follower with TimeoutNow, so the cluster need not wait out
    /// an election timeout. Nothing of the failed turn is sent: TimeoutNow
    /// claims nothing durable, and a target whose log is behind simply
    /// loses the election it starts.
    fn hand_over_on_disk_error(&mut self, now: Time) {
        let Some((to, unhealthy)) = self.health.after_disk_error(now, &self.node) else {
            return;
        };
        self.note_hand_over(to, &unhealthy, " before it stops");
        let message = Message {
            term: self.node.current_term(),
            body: Body::TimeoutNow,
        };
        self.metrics.observe_sent(to, &message);
        self.transport.send(to, message);
    }

    /// Persist (one fsync), then send, then reply: the harness applies the
    /// turn's actions in the order the core's contract asks.
    fn complete(&mut self, now: Time) -> Result<(), DriverError> {
        let id = self.node.id();
        let mut synced = Synced {
            storage: &mut self.storage,
            counters: &self.counters,
            metrics: &self.metrics,
            health: &mut self.health,
            now,
        };
        let mut deliver = Deliver {
            id,
            now,
            transport: &mut self.transport,
            pending: &mut self.pending,
            metrics: &self.metrics,
        };
        if let Err(source) = self.stepper.apply(&mut synced, &mut deliver) {
            tracing::error!(node = id, "cannot persist, stopping: {source}");
            self.hand_over_on_disk_error(now);
            return Err(DriverError::Storage { id, source });
        }
        self.publish_status();
        self.publish_gauges(now);
        Ok(())
    }

    /// The gauges as of this turn. The lease claim is updated here, after
    /// the turn's steps, so a claim begins no earlier than the turn in
    /// which the node learned it holds the lease.
    fn publish_gauges(&mut self, now: Time) {
        let metrics = &self.metrics;
        let gauge = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        let is_leader = self.node.role() == Role::Leader;
        metrics.term.set(gauge(self.node.term()));
        metrics.is_leader.set(i64::from(is_leader));
        metrics.commit_index.set(gauge(self.node.commit_index()));
        metrics.applied_index.set(gauge(self.node.applied().get()));
        metrics.log_bytes.set(gauge(self.storage.log_bytes()));
        let p99 = self.health.last_fsync_p99().unwrap_or_default();
        metrics.health_fsync_p99_seconds.set(p99.as_secs_f64());
        for &peer in self.node.members() {
            let marked = self.health.marks_slow(peer);
            metrics
                .marked_slow
                .get_or_create(&PeerLabel { peer })
                .set(i64::from(marked));
        }
        let expiry = self.node.lease_expiry(now);
        metrics.lease_valid.set(i64::from(expiry.is_some()));
        if let Some(claim) = self.lease_claims.update(now, expiry) {
            metrics
                .lease_start_seconds
                .set(self.monotonic.seconds(claim.began));
            metrics
                .lease_expiry_seconds
                .set(self.monotonic.seconds(claim.ends));
        }
    }

    fn publish_status(&self) {
        let status = NodeStatus {
            role: Some(self.node.role()),
            term: self.node.term(),
            leader: self.node.leader(),
            commit_index: self.node.commit_index(),
            last_index: self.node.log().last_index().get(),
        };
        *lock(&self.status) = status;
    }
}
