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
use crate::core::raft::{Config, ConfigError, Message, Persist, RaftNode};
use crate::core::time::Time;
use crate::driver::mailbox::{Mailbox, Received};
use crate::driver::storage::format::Identity;
use crate::driver::storage::{open_directory, Recovered, Storage, StorageError};
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
    let (storage, recovered) =
        open_directory(&settings.data_dir, settings.identity(), settings.lazy_disk).map_err(
            |source| {
                tracing::error!(node = id, "refusing to start: {source}");
                DriverError::Storage { id, source }
            },
        )?;
    let clock = MonotonicClock::start();
    let node_loop = NodeLoop::start(&settings, storage, recovered, clock.now(), transport)?;
    let (status, counters) = (node_loop.status.clone(), node_loop.counters.clone());
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
}

impl MonotonicClock {
    fn start() -> MonotonicClock {
        MonotonicClock {
            origin: Instant::now(),
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
    /// Where to send the reply of each client request still in the core.
    pending: BTreeMap<RequestId, ReplyTo>,
    stepper: Stepper<RaftNode>,
}

/// The loop's storage as the harness's persist target: one append and one
/// fsync for all the records of a turn (group commit).
struct Synced<'a, S> {
    storage: &'a mut S,
    counters: &'a NodeCounters,
}

impl<S: Storage> Durability<Persist> for Synced<'_, S> {
    type Error = StorageError;

    fn persist(&mut self, records: &mut Vec<Persist>) -> Result<(), StorageError> {
        self.storage.append(records)?;
        self.storage.sync()?;
        self.counters.fsyncs.fetch_add(1, Ordering::Relaxed);
        records.clear();
        Ok(())
    }
}

/// Where a turn's output goes once it is on disk: messages to the
/// transport, replies to the clients that wait for them, events to the log.
struct Deliver<'a, T> {
    id: NodeId,
    transport: &'a mut T,
    pending: &'a mut BTreeMap<RequestId, ReplyTo>,
}

impl<T: Transport> Outputs<Message> for Deliver<'_, T> {
    fn send(&mut self, to: NodeId, message: Message) {
        self.transport.send(to, message);
    }

    fn reply(&mut self, reply: ClientReply) {
        if let Some(reply_to) = self.pending.remove(&reply.id) {
            // A client that went away or stopped reading loses its reply;
            // the operation's outcome is then unknown to it, which its
            // history records.
            let _ = reply_to.push(reply);
        }
    }

    fn event(&mut self, event: Event) {
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
            pending: BTreeMap::new(),
            stepper: Stepper::default(),
        };
        node_loop.publish_status();
        Ok(node_loop)
    }

    /// The core, for observers.
    pub fn node(&self) -> &RaftNode {
        &self.node
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
                NodeInput::Peer { from, message } => Input::Message { from, message },
                NodeInput::Client { request, reply_to } => {
                    self.pending.insert(request.id, reply_to);
                    Input::Client(request)
                }
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
        self.complete()
    }

    /// Persist (one fsync), then send, then reply: the harness applies the
    /// turn's actions in the order the core's contract asks.
    fn complete(&mut self) -> Result<(), DriverError> {
        let id = self.node.id();
        let mut synced = Synced {
            storage: &mut self.storage,
            counters: &self.counters,
        };
        let mut deliver = Deliver {
            id,
            transport: &mut self.transport,
            pending: &mut self.pending,
        };
        self.stepper
            .apply(&mut synced, &mut deliver)
            .map_err(|source| {
                tracing::error!(node = id, "cannot persist, stopping: {source}");
                DriverError::Storage { id, source }
            })?;
        self.publish_status();
        Ok(())
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
