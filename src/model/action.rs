//! The model's actions: everything that can happen next in a state. Each
//! action is one step of the environment (time, clocks, network, faults,
//! clients) and at most one `Node::step`. The same actions serve every
//! variant; those a variant lacks the capability for are never offered.

use std::fmt;

use crate::core::node::NodeId;
use crate::model::network::Envelope;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action<M> {
    /// Real time advances one quantum; every clock with it.
    AdvanceTime,
    /// Node `n`'s clock gains one quantum on real time (drift).
    ClockJump(NodeId),
    /// Node `n` is ticked: its local clock has reached its deadline.
    Tick(NodeId),
    Deliver(Envelope<M>),
    /// The network loses one copy of the envelope.
    Drop(Envelope<M>),
    /// The network delivers the envelope twice: one more copy in flight.
    Duplicate(Envelope<M>),
    Crash(NodeId),
    /// A crashed node restarts from its durable state.
    Restart(NodeId),
    /// Power is lost while a node writes the records of `step` (a step of
    /// one node: [`Action::stepped_node`]): the batch reaches the disk whole
    /// (`batch_survives`) or not at all, nothing of the step is sent, and
    /// the node is down (`disk.max_power_losses`).
    PowerLoss {
        step: Box<Action<M>>,
        batch_survives: bool,
    },
    /// A crash during `0` (a step of one node), after the snapshot record
    /// of its batch is durable and before the log is compacted through it
    /// (`cluster.crash_before_compaction`): nothing of the step is sent,
    /// the records after the snapshot's are lost, and the node is down.
    CrashBeforeCompaction(Box<Action<M>>),
    /// A crashed node restarts and finds its synced data damaged: it
    /// refuses to start and stays down for good (`disk.max_damaged_nodes`).
    RestartOnDamagedStorage(NodeId),
    /// Client `client` sends its operation to node `node`.
    Client {
        client: usize,
        node: NodeId,
    },
    /// Clients `clients` send their operations to node `node` together, as
    /// one batch (`[clients] batches`), in this order.
    ClientBatch {
        clients: [usize; 2],
        node: NodeId,
    },
    /// An operator asks leader `from` to hand leadership to `to`.
    Transfer {
        from: NodeId,
        to: NodeId,
    },
    /// An operator asks node `n`, which does not lead, to campaign now
    /// (`cluster.max_campaigns`).
    Campaign(NodeId),
    /// An operator asks node `n` to snapshot its state machine and compact
    /// its log now (`cluster.max_snapshots`); offered to every node that is
    /// up, and no step if the node had nothing new to snapshot.
    Snapshot(NodeId),
    /// `0` (a step of one node, or a restart) with every election timeout
    /// the node draws in it the longest of the range rather than the
    /// shortest (`time.jitter = "extremes"`, see `crate::model::rng`). No
    /// step if `0` draws nothing: then it is the plain action.
    LongTimeout(Box<Action<M>>),
}

impl<M> Action<M> {
    /// The node this action steps, if it is one step of one node (and so
    /// one write of the node's batch, if the step persists anything).
    pub fn stepped_node(&self) -> Option<NodeId> {
        match self {
            Action::Tick(id) => Some(*id),
            Action::Deliver(envelope) => Some(envelope.to),
            Action::Client { node, .. } | Action::ClientBatch { node, .. } => Some(*node),
            Action::Transfer { from, .. } => Some(*from),
            Action::Campaign(id) | Action::Snapshot(id) => Some(*id),
            Action::LongTimeout(step) => step.stepped_node(),
            _ => None,
        }
    }
}

impl<M: fmt::Display> fmt::Display for Action<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::AdvanceTime => write!(f, "time advances one quantum"),
            Action::ClockJump(id) => write!(f, "clock of {id} gains one quantum"),
            Action::Tick(id) => write!(f, "tick {id}"),
            Action::Deliver(envelope) => write!(f, "deliver {envelope}"),
            Action::Drop(envelope) => write!(f, "lose {envelope}"),
            Action::Duplicate(envelope) => write!(f, "duplicate {envelope}"),
            Action::Crash(id) => write!(f, "crash {id}"),
            Action::Restart(id) => write!(f, "restart {id}"),
            Action::PowerLoss {
                step,
                batch_survives,
            } => write!(
                f,
                "power lost during the write of `{step}` ({})",
                if *batch_survives {
                    "the batch survives whole"
                } else {
                    "the batch is lost"
                }
            ),
            Action::RestartOnDamagedStorage(id) => {
                write!(f, "restart {id} on damaged storage")
            }
            Action::CrashBeforeCompaction(step) => write!(
                f,
                "crash during `{step}`, after its snapshot is durable and before the log is \
                 compacted"
            ),
            Action::Client { client, node } => write!(f, "client c{client} sends to {node}"),
            Action::ClientBatch {
                clients: [first, second],
                node,
            } => write!(
                f,
                "clients c{first} and c{second} send to {node} as one batch"
            ),
            Action::Transfer { from, to } => write!(f, "transfer leadership {from} -> {to}"),
            Action::Campaign(id) => write!(f, "an operator asks {id} to campaign"),
            Action::Snapshot(id) => write!(f, "an operator asks {id} to snapshot"),
            Action::LongTimeout(step) => {
                write!(f, "{step}, drawing the longest election timeout")
            }
        }
    }
}
