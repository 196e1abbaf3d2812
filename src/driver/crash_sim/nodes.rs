//! The cluster's members: a node loop on its simulated disk while it runs,
//! started from what the disk recovers, crashed by power loss, stopped for
//! good when its data is damaged or its fsync fails.

use std::time::Duration;

use rand::Rng;

use crate::core::node::NodeId;
use crate::core::raft::Config;
use crate::core::time::Time;
use crate::driver::node::{DriverError, NodeLoop, NodeSettings};
use crate::driver::storage::disk::Disk;
use crate::driver::storage::format::Identity;
use crate::driver::storage::simulated::{PowerLoss, SimDisk, SimFaults};
use crate::driver::storage::{Log, StorageError, NEW_LOG_FILE, NEW_SNAPSHOT_FILE};

use super::network::SimTransport;
use super::Sim;

pub(super) type SimLoop = NodeLoop<Log<SimDisk>, SimTransport>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Down {
    /// Crashed; restarts at the given time.
    Until(Time),
    /// Refused to start, or stopped on a failed fsync: down for good.
    Failed,
}

pub(super) struct Slot {
    pub(super) disk: SimDisk,
    pub(super) running: Option<SimLoop>,
    pub(super) down: Option<Down>,
    pub(super) incarnation: u64,
    /// Synced data was damaged while down: a refusal is due.
    pub(super) damaged: bool,
    /// Its disk was left nearly full: space is freed before it restarts.
    pub(super) filling: bool,
    /// Busy with a slow fsync until then: what arrives meanwhile waits.
    pub(super) busy_until: Time,
}

impl Sim {
    pub(super) fn settings(&self, id: NodeId, incarnation: u64) -> NodeSettings {
        NodeSettings {
            id,
            members: self.members.clone(),
            config: Config {
                snapshot_every: self.options.snapshot_every,
                ..Config::default()
            },
            data_dir: format!("simulated/node-{id}").into(),
            seed: self.options.seed ^ (id << 32) ^ incarnation,
            cluster_id: 1,
            lazy_disk: false,
            slow_fsync: Duration::ZERO,
            health: self.options.health,
        }
    }

    pub(super) fn minority(&self) -> usize {
        (self.members.len() - 1) / 2
    }

    pub(super) fn failed(&self) -> usize {
        self.slots
            .values()
            .filter(|slot| slot.down == Some(Down::Failed) || slot.damaged)
            .count()
    }

    pub(super) fn restarts(&mut self) {
        let due: Vec<NodeId> = self
            .slots
            .iter()
            .filter(|(_, slot)| matches!(slot.down, Some(Down::Until(time)) if time <= self.now))
            .map(|(&id, _)| id)
            .collect();
        for id in due {
            self.start(id);
        }
    }

    pub(super) fn start(&mut self, id: NodeId) {
        let slot = self.slots.get_mut(&id).expect("member");
        slot.incarnation += 1;
        let settings = self.settings(id, self.slots[&id].incarnation);
        let slot = self.slots.get_mut(&id).expect("member");
        let identity = Identity {
            cluster_id: 1,
            node_id: id,
        };
        let after_disk_full = std::mem::take(&mut slot.filling);
        if after_disk_full {
            // The operator frees space while the node is down.
            slot.disk.set_faults(SimFaults {
                capacity: None,
                ..slot.disk.faults()
            });
        }
        let opened = Log::open(slot.disk.clone(), identity);
        match (opened, slot.damaged) {
            (Err(error @ StorageError::Damaged { .. }), true) => {
                slot.down = Some(Down::Failed);
                self.report.refused.push((id, error.to_string()));
            }
            (Err(error @ StorageError::SyncFailed { .. }), _) => {
                slot.down = Some(Down::Failed);
                self.first_fsync_failure.get_or_insert(self.now);
                self.report.fsync_failures.push((id, error.to_string()));
            }
            (Err(error), _) => {
                slot.down = Some(Down::Failed);
                self.report
                    .violations
                    .push(format!("node {id} cannot start: {error}"));
            }
            (Ok((_, recovered)), true) => {
                slot.down = Some(Down::Failed);
                self.report.violations.push(format!(
                    "node {id} started on damaged synced data: {} records, {:?}",
                    recovered.records, recovered.state.hard_state
                ));
            }
            (Ok((storage, recovered)), false) => {
                // Recovery drops what was never acknowledged: a leftover
                // that outlives it would be taken for data by a later open.
                let mut files = slot.disk.clone();
                for leftover in [NEW_SNAPSHOT_FILE, NEW_LOG_FILE] {
                    if !matches!(files.read(leftover), Ok(None)) {
                        self.report.violations.push(format!(
                            "node {id} started with {leftover} still on its disk"
                        ));
                    }
                }
                self.report.restarts_from_snapshot += usize::from(recovered.snapshot_bytes > 0);
                self.report.finished_compactions += usize::from(recovered.finished_compaction);
                if after_disk_full {
                    let (records, cut) = (recovered.records, recovered.cut_tail_bytes);
                    self.report
                        .restarts_after_disk_full
                        .push((id, records, cut));
                }
                let transport = SimTransport {
                    from: id,
                    outbox: self.outbox.clone(),
                };
                match NodeLoop::start(&settings, storage, recovered, self.now, transport) {
                    Ok(node) => {
                        slot.running = Some(node);
                        slot.down = None;
                    }
                    Err(error) => {
                        slot.down = Some(Down::Failed);
                        self.report
                            .violations
                            .push(format!("node {id} cannot start: {error}"));
                    }
                }
            }
        }
    }

    pub(super) fn running(&self) -> Vec<NodeId> {
        self.slots
            .iter()
            .filter(|(_, slot)| slot.running.is_some())
            .map(|(&id, _)| id)
            .collect()
    }

    pub(super) fn crash(&mut self, id: NodeId) {
        let downtime = self.rng.random_range(
            Duration::from_millis(20).as_micros() as u64
                ..=self.options.max_downtime.as_micros() as u64,
        );
        let mode = [PowerLoss::LoseAll, PowerLoss::KeepAll, PowerLoss::Random]
            [self.rng.random_range(0..3)];
        self.retire(id);
        let slot = self.slots.get_mut(&id).expect("member");
        let lost = slot.disk.power_loss(&mut self.rng, mode);
        self.report.crashes += 1;
        self.report.lost_unsynced_sectors += lost;
        self.slots.get_mut(&id).expect("member").down = Some(Down::Until(
            self.now.saturating_add(Duration::from_micros(downtime)),
        ));
        if self.options.damage && self.failed() < self.minority() && self.rng.random_bool(0.3) {
            self.damage(id);
        } else if self.options.damage
            && self.options.snapshot_every > 0
            && self.rng.random_bool(0.2)
        {
            // Only with snapshots on (what leaves such files), so the seeds
            // of runs without them still reproduce as they did.
            self.leave_leftover(id);
        }
    }

    /// Drops node `id`'s loop (crashed or stopped), first adding the
    /// snapshots it took and installed to the report: its metrics go with it.
    pub(super) fn retire(&mut self, id: NodeId) {
        let slot = self.slots.get_mut(&id).expect("member");
        if let Some(node) = slot.running.take() {
            self.report.snapshots_taken += node.metrics().snapshots_taken.get();
            self.report.snapshots_installed += node.metrics().snapshots_installed.get();
        }
    }

    /// Adds the snapshots the nodes still running took and installed (the
    /// end of the run; crashed loops were counted by [`Sim::retire`]).
    pub(super) fn count_snapshots(&mut self) {
        for slot in self.slots.values() {
            if let Some(node) = &slot.running {
                self.report.snapshots_taken += node.metrics().snapshots_taken.get();
                self.report.snapshots_installed += node.metrics().snapshots_installed.get();
            }
        }
    }

    pub(super) fn stopped(&mut self, id: NodeId, error: DriverError) {
        let disk = self.slots[&id].disk.clone();
        if disk.is_dead() {
            self.report.crashes_mid_operation += 1;
            self.crash(id);
            return;
        }
        self.retire(id);
        let slot = self.slots.get_mut(&id).expect("member");
        slot.down = Some(Down::Failed);
        match error {
            DriverError::Storage {
                source: StorageError::SyncFailed { .. },
                ..
            } => {
                self.first_fsync_failure.get_or_insert(self.now);
                self.report.fsync_failures.push((id, error.to_string()));
            }
            DriverError::Storage {
                source: StorageError::DiskFull { .. },
                ..
            } => {
                self.report.disk_full_stops.push((id, error.to_string()));
                let restart = self.now.saturating_add(Duration::from_millis(200));
                self.slots.get_mut(&id).expect("member").down = Some(Down::Until(restart));
            }
            other => self
                .report
                .violations
                .push(format!("node {id} stopped: {other}")),
        }
    }
}
