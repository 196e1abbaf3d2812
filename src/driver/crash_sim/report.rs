//! What a crash-simulation run found: its counts, the damage it did, and
//! the violations.

use serde::Serialize;

use crate::core::node::NodeId;
use crate::core::time::Time;

/// Where synced data was damaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DamagePlace {
    FirstRecord,
    MiddleRecord,
    LastRecord,
    TermAndVote,
    /// `raft.snapshot`, once a snapshot was taken.
    Snapshot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DamageKind {
    BitFlip,
    ZeroedSector,
    MisdirectedSector,
    /// The file cut short (the snapshot only).
    Cut,
}

/// What happened in a run, and what was wrong.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CrashSimReport {
    pub seed: u64,
    pub acknowledged_writes: usize,
    /// Power failures, and how many struck in the middle of a disk operation.
    pub crashes: usize,
    pub crashes_mid_operation: usize,
    pub lost_unsynced_sectors: usize,
    /// Damage injected into synced data, and the refusal that followed.
    pub damaged: Vec<(NodeId, DamagePlace, DamageKind)>,
    pub refused: Vec<(NodeId, String)>,
    /// Never-acknowledged files left beside a crashed node's data (a
    /// `raft.snapshot.new` or `raft.log.new`): no damage, it must start.
    pub leftovers: Vec<(NodeId, &'static str)>,
    /// Nodes stopped by a failed fsync, with the reason they gave.
    pub fsync_failures: Vec<(NodeId, String)>,
    /// Nodes stopped by a full disk, with the reason they gave.
    pub disk_full_stops: Vec<(NodeId, String)>,
    /// Restarts once space was freed: the node, the records it replayed
    /// and the unsynced bytes (the partly written batch) it cut.
    pub restarts_after_disk_full: Vec<(NodeId, usize, u64)>,
    /// Writes acknowledged after the first fsync failure.
    pub acknowledged_after_fsync_failure: usize,
    pub final_leader: Option<NodeId>,
    /// Each term's leader as it took office: when, who, the term.
    pub leaders: Vec<(Time, NodeId, u64)>,
    /// The nodes whose fsyncs were made slow, and from when.
    pub slow_nodes: Vec<NodeId>,
    pub slow_since: Option<Time>,
    /// When the first node stopped on a failed fsync.
    pub fsync_failure_at: Option<Time>,
    /// Hand-overs leaders started for their disk's sake, and hand-overs
    /// slow nodes declined (summed over the nodes' metrics).
    pub abdications: u64,
    pub leadership_declined: u64,
    /// The run's snapshot interval (0: no snapshots), to reproduce it.
    pub snapshot_every: u64,
    /// Snapshots the nodes took of their own state machine, and snapshots
    /// they installed from a leader (summed over every incarnation).
    pub snapshots_taken: u64,
    pub snapshots_installed: u64,
    /// Restarts that loaded a snapshot from disk, and restarts that found a
    /// compaction a crash had interrupted and finished it.
    pub restarts_from_snapshot: usize,
    pub finished_compactions: usize,
    pub violations: Vec<String>,
}
