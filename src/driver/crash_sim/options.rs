//! What a crash-simulation run does: its size, seed, length and faults.

use std::time::Duration;

use crate::driver::health::HealthSettings;

/// Whose fsyncs turn slow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlowDisks {
    /// The node leading when the slowness starts (or the first to lead
    /// after it).
    Leader,
    /// Every node's.
    All,
}

/// A slow-disk fault: from `from` (simulated time) on, each fsync of the
/// chosen nodes takes `latency`; the node is busy meanwhile and what it
/// sends after the fsync leaves that much later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlowFsync {
    pub disks: SlowDisks,
    pub latency: Duration,
    pub from: Duration,
}

/// What a run does.
#[derive(Clone, Debug)]
pub struct CrashSimOptions {
    pub nodes: usize,
    pub seed: u64,
    /// Simulated time of the workload (an end phase follows).
    pub duration: Duration,
    /// Mean simulated time between power failures.
    pub crash_every: Duration,
    /// The longest a crashed node stays down.
    pub max_downtime: Duration,
    /// Damage synced data of crashed nodes (at most a minority of nodes).
    pub damage: bool,
    /// Fail one fsync of one node during the run.
    pub fsync_error: bool,
    /// Fill one node's disk during the run (ENOSPC at a seeded write):
    /// the node stops, space is freed, and it restarts on what it synced.
    pub disk_full: bool,
    /// Clients, each with one write at a time.
    pub clients: usize,
    /// Make some disks' fsyncs slow during the run.
    pub slow_fsync: Option<SlowFsync>,
    /// The nodes' abdication thresholds.
    pub health: HealthSettings,
    /// Each node snapshots its state machine every this many applied
    /// entries and compacts its log after the snapshot
    /// ([`crate::core::raft::Config::snapshot_every`]); 0 never does, so
    /// the faults also strike between and inside snapshot writes and log
    /// rewrites when it is set.
    pub snapshot_every: u64,
}

impl CrashSimOptions {
    pub fn new(nodes: usize, seed: u64) -> CrashSimOptions {
        CrashSimOptions {
            nodes,
            seed,
            duration: Duration::from_secs(8),
            crash_every: Duration::from_millis(400),
            max_downtime: Duration::from_millis(1200),
            damage: false,
            fsync_error: false,
            disk_full: false,
            clients: 2,
            slow_fsync: None,
            health: HealthSettings::default(),
            snapshot_every: 0,
        }
    }
}
