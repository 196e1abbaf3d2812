//! Damage to a crashed node's synced data (a flipped bit, a zeroed or
//! misdirected sector) in its first, middle or last log record, or in both
//! copies of its term and vote: the node must then refuse to start.

use rand::Rng;

use crate::core::node::NodeId;
use crate::driver::storage::format::{self, Identity};
use crate::driver::storage::{LOG_FILE, STATE_FILE};

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
        if state.state.hard_state.voted_for.is_none() || replay.spans.len() < 3 {
            return;
        }
        let places = [
            DamagePlace::FirstRecord,
            DamagePlace::MiddleRecord,
            DamagePlace::LastRecord,
            DamagePlace::TermAndVote,
        ];
        let kinds = [
            DamageKind::BitFlip,
            DamageKind::ZeroedSector,
            DamageKind::MisdirectedSector,
        ];
        let place = places[self.rng.random_range(0..places.len())];
        let kind = kinds[self.rng.random_range(0..kinds.len())];
        let spans = &replay.spans;
        let span = match place {
            DamagePlace::FirstRecord => spans[0],
            DamagePlace::MiddleRecord => spans[spans.len() / 2],
            _ => spans[spans.len() - 1],
        };
        let targets: Vec<(&str, u64)> = match place {
            DamagePlace::TermAndVote => vec![
                (STATE_FILE, 20),
                (STATE_FILE, format::STATE_COPY_STRIDE as u64 + 20),
            ],
            _ => vec![(LOG_FILE, span.offset + self.rng.random_range(0..span.len))],
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
            };
        }
        if changed {
            self.slots.get_mut(&id).expect("member").damaged = true;
            self.report.damaged.push((id, place, kind));
        }
    }
}
