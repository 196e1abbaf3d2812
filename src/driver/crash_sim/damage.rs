//! Damage to a crashed node's synced data (a flipped bit, a zeroed or
//! misdirected sector) in its first, middle or last log record, in both
//! copies of its term and vote, or in its snapshot (those, or the file cut
//! short): the node must then refuse to start.
//!
//! And what a crash leaves that is no damage: a `raft.snapshot.new` or
//! `raft.log.new` whose rename never happened, so it was never
//! acknowledged. The node must start on that.

use rand::Rng;

use crate::core::node::NodeId;
use crate::driver::storage::disk::Disk;
use crate::driver::storage::format::{self, Identity};
use crate::driver::storage::simulated::{SimDisk, SimFaults};
use crate::driver::storage::{
    LOG_FILE, NEW_LOG_FILE, NEW_SNAPSHOT_FILE, SNAPSHOT_FILE, STATE_FILE,
};

use super::report::{DamageKind, DamagePlace};
use super::Sim;

impl Sim {
    /// Damages one synced place of a node that voted and logged entries.
    pub(super) fn damage(&mut self, id: NodeId) {
        let disk = self.slots[&id].disk.clone();
        let (Some(state), Some(log)) = (disk.synced_bytes(STATE_FILE), disk.synced_bytes(LOG_FILE))
        else {
            return;
        };
        let identity = Identity {
            cluster_id: 1,
            node_id: id,
        };
        let Ok(state) = format::read_state(&state, identity) else {
            return;
        };
        let Ok(replay) = format::replay_log(&log, state.state.synced_len, identity) else {
            return;
        };
        if state.state.hard_state.voted_for.is_none() {
            return;
        }
        // The snapshot only when there is one (renamed in and synced); a
        // compacted log may hold too few records to pick three from.
        let snapshot_len = disk
            .synced_bytes(SNAPSHOT_FILE)
            .map(|bytes| bytes.len() as u64);
        let mut places = Vec::new();
        if replay.spans.len() >= 3 {
            places.extend([
                DamagePlace::FirstRecord,
                DamagePlace::MiddleRecord,
                DamagePlace::LastRecord,
            ]);
        }
        if replay.spans.len() >= 3 || snapshot_len.is_some() {
            places.push(DamagePlace::TermAndVote);
        }
        if snapshot_len.is_some_and(|len| len > 0) {
            places.push(DamagePlace::Snapshot);
        }
        if places.is_empty() {
            return;
        }
        let mut kinds = vec![
            DamageKind::BitFlip,
            DamageKind::ZeroedSector,
            DamageKind::MisdirectedSector,
        ];
        let place = places[self.rng.random_range(0..places.len())];
        if place == DamagePlace::Snapshot {
            kinds.push(DamageKind::Cut);
        }
        let kind = kinds[self.rng.random_range(0..kinds.len())];
        let spans = &replay.spans;
        let targets: Vec<(&str, u64)> = match place {
            DamagePlace::TermAndVote => vec![
                (STATE_FILE, 20),
                (STATE_FILE, format::STATE_COPY_STRIDE as u64 + 20),
            ],
            DamagePlace::Snapshot => {
                let len = snapshot_len.unwrap_or(0);
                vec![(SNAPSHOT_FILE, self.rng.random_range(0..len))]
            }
            _ => {
                let span = match place {
                    DamagePlace::FirstRecord => spans[0],
                    DamagePlace::MiddleRecord => spans[spans.len() / 2],
                    _ => spans[spans.len() - 1],
                };
                vec![(LOG_FILE, span.offset + self.rng.random_range(0..span.len))]
            }
        };
        let file_len = |name: &str| {
            disk.synced_bytes(name)
                .map_or(0, |bytes| bytes.len() as u64)
        };
        let mut changed = true;
        for (name, offset) in targets {
            changed &= match kind {
                DamageKind::BitFlip => disk.flip_bit(name, offset, self.rng.random_range(0..8)),
                DamageKind::ZeroedSector => disk.zero_sector(name, offset),
                DamageKind::MisdirectedSector => {
                    let len = file_len(name);
                    let from = (offset + self.rng.random_range(1..len.max(2))) % len.max(1);
                    disk.misdirect(name, offset, from) || disk.misdirect(name, offset, len + 4096)
                }
                // Cut at `offset` (short of the whole file): what a lost
                // extent or a filesystem bug leaves.
                DamageKind::Cut => at_rest(&disk, |disk| {
                    disk.truncate(name, offset)?;
                    disk.sync(name)
                }),
            };
        }
        if changed {
            self.slots.get_mut(&id).expect("member").damaged = true;
            self.report.damaged.push((id, place, kind));
        }
    }
}

impl Sim {
    /// Leaves what a crash in the middle of a compaction leaves: a synced
    /// `raft.snapshot.new` or `raft.log.new` (garbage: a torn write) whose
    /// rename never happened, so nothing in it was acknowledged. The node
    /// is not marked damaged: it must start (and drop the file).
    pub(super) fn leave_leftover(&mut self, id: NodeId) {
        let disk = self.slots[&id].disk.clone();
        if disk.synced_bytes(STATE_FILE).is_none() {
            return;
        }
        let name = [NEW_SNAPSHOT_FILE, NEW_LOG_FILE][self.rng.random_range(0..2)];
        let len = self.rng.random_range(1..700);
        let bytes: Vec<u8> = (0..len).map(|_| self.rng.random::<u8>()).collect();
        let left = at_rest(&disk, |disk| {
            disk.write(name, 0, &bytes)?;
            disk.sync(name)?;
            disk.sync_dir()
        });
        if left {
            self.report.leftovers.push((id, name));
        }
    }
}

/// Runs `edit` on a crashed node's disk with its armed faults set aside
/// (damage at rest is not a disk operation that may fail, fill the disk or
/// lose power), then arms them again; whether `edit` succeeded.
fn at_rest(disk: &SimDisk, edit: impl FnOnce(&mut SimDisk) -> std::io::Result<()>) -> bool {
    let armed = disk.faults();
    disk.set_faults(SimFaults::default());
    let done = edit(&mut disk.clone()).is_ok();
    disk.set_faults(armed);
    done
}
