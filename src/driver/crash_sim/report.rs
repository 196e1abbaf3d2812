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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DamageKind {
    BitFlip,
    ZeroedSector,
    MisdirectedSector,
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
    pub violations: Vec<String>,
}
