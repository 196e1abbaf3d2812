//! One state of the model: real time, every node (up, crashed or down for
//! good, with what it made durable and how far its clock has run ahead), the network, the
//! clients and their history, and the record the property monitors keep.
//!
//! The state is generic over the node, durable and message types of the
//! variant (`super::variant::StateOf` names it for a variant), so that its
//! equality and hash need nothing of the variant's configuration.
//!
//! Nodes are held behind `Arc`s so that a transition, which steps one node,
//! copies only that node; the others are shared with the previous state.

use std::sync::Arc;

use stateright::semantics::LinearizabilityTester;

use crate::check::lock_service::LockMonitor;
use crate::check::properties::SafetyMonitor;
use crate::core::node::NodeId;
use crate::core::time::Time;
use crate::model::network::Network;
use crate::model::properties::Violations;
use crate::model::register::{CasRegisters, RegisterRet};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeSlot<N, D> {
    /// `None` while crashed.
    pub node: Option<Arc<N>>,
    /// Every persist record the node emitted, applied in order: what a
    /// restart starts from. Kept apart from the node so a missing persist
    /// record shows up as a forgotten vote or entry after a crash.
    pub durable: Arc<D>,
    /// How many quanta this node's clock has gained on real time. Never
    /// decreases (clocks are monotonic) and never exceeds the spec's
    /// `time.clock_drift`.
    pub clock_gain: u64,
    /// Down for the rest of the run: it found its synced data damaged on a
    /// restart and refused to start (`disk.max_damaged_nodes`).
    pub lost_for_good: bool,
    /// Down after a crash between a snapshot's record and the log's
    /// compaction (`cluster.crash_before_compaction`), not yet restarted.
    pub torn: bool,
}

/// Where a client's one operation is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClientStatus {
    /// Not sent yet.
    Idle,
    /// Sent to `node`, no definite answer yet (perhaps never: the node may
    /// crash or lose leadership, leaving the outcome unknown).
    Pending { node: NodeId },
    /// Answered. `lease_read` marks a read served from the leader's lease.
    Done {
        result: RegisterRet,
        lease_read: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClusterState<N, D, M> {
    /// Real time, in quanta.
    pub real_time: u64,
    /// Node `id` is at index `id - 1`.
    pub nodes: Vec<NodeSlot<N, D>>,
    pub network: Network<M>,
    pub crashes: u32,
    /// Crashes during a write (`disk.max_power_losses`), counted apart from
    /// `crashes`.
    pub power_losses: u32,
    pub transfers: u32,
    /// Operator campaigns so far (`cluster.max_campaigns`).
    pub campaigns: u32,
    /// Operator snapshots so far (`cluster.max_snapshots`).
    pub snapshots: u32,
    /// One client per operation of the spec, in the same order (none for a
    /// variant without clients).
    pub clients: Vec<ClientStatus>,
    /// Thread ids are client indexes.
    pub history: LinearizabilityTester<usize, CasRegisters>,
    /// What the safety monitors remember of the run (leaders by term,
    /// committed entries).
    pub monitor: SafetyMonitor,
    /// What the lock-service monitor remembers (the resource's accepted
    /// writes); stays empty for variants without a lock service.
    pub lock_monitor: LockMonitor,
    /// The `always` properties violated so far.
    pub violations: Violations,
    /// The highest term (or epoch) in which a leader crashed, for "a leader
    /// is replaced after a crash".
    pub crashed_leader_term: Option<u64>,
    /// The panic that stopped this run, if a step panicked.
    pub panic: Option<Panic>,
    /// The snapshot milestones this run reached, for the `sometimes`
    /// goals (all false in a run without snapshots).
    pub goals: SnapshotGoals,
}

/// What a run did with snapshots: the `sometimes` goals that show a spec
/// with snapshots takes the paths it is about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SnapshotGoals {
    /// A node took a snapshot and compacted its log.
    pub snapshot_taken: bool,
    /// A follower installed its leader's snapshot.
    pub snapshot_installed: bool,
    /// A node crashed between a snapshot's record and the compaction, and
    /// restarted.
    pub restarted_before_compaction: bool,
}

/// A step that panicked: a broken invariant, a bug.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Panic {
    /// The node whose step it was.
    pub node: NodeId,
    pub message: String,
}

impl std::fmt::Display for Panic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "node {} panicked: {}", self.node, self.message)
    }
}

impl<N, D, M> ClusterState<N, D, M> {
    pub fn slot(&self, id: NodeId) -> &NodeSlot<N, D> {
        &self.nodes[index(id)]
    }

    pub fn slot_mut(&mut self, id: NodeId) -> &mut NodeSlot<N, D> {
        &mut self.nodes[index(id)]
    }

    /// The node, if it is up.
    pub fn node(&self, id: NodeId) -> Option<&N> {
        self.slot(id).node.as_deref()
    }

    /// How many nodes are down for good.
    pub fn lost_for_good(&self) -> u32 {
        self.nodes.iter().filter(|slot| slot.lost_for_good).count() as u32
    }

    pub fn up_nodes(&self) -> impl Iterator<Item = &N> {
        self.nodes.iter().filter_map(|slot| slot.node.as_deref())
    }

    /// Node `id`'s clock reading, in quanta.
    pub fn local_quanta(&self, id: NodeId) -> u64 {
        self.real_time + self.slot(id).clock_gain
    }

    /// Node `id`'s clock reading, as the core sees it.
    pub fn local_time(&self, id: NodeId, quantum_micros: u64) -> Time {
        Time::from_micros(self.local_quanta(id) * quantum_micros)
    }
}

/// The position of node `id` in [`ClusterState::nodes`].
pub fn index(id: NodeId) -> usize {
    usize::try_from(id - 1).expect("ids are small")
}
