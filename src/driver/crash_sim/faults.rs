//! Power failures, now or armed to strike during a later disk operation,
//! the one failed fsync of a run, and the one full disk.

use std::time::Duration;

use rand::Rng;

use crate::core::node::{Node, Role};
use crate::driver::storage::simulated::SimFaults;

use super::Sim;

impl Sim {
    /// Power failures (now, or armed to strike during a later disk
    /// operation) and the fsync error.
    pub(super) fn faults(&mut self) {
        if self.fsync_error_at.is_some_and(|time| time <= self.now) {
            self.fsync_error_at = None;
            // The leader, if one runs: its failover is the interesting one.
            let leader = self.running().into_iter().find(|id| {
                self.slots[id]
                    .running
                    .as_ref()
                    .is_some_and(|node| node.node().role() == Role::Leader)
            });
            if let Some(id) = leader.or_else(|| self.running().first().copied()) {
                if self.failed() < self.minority() {
                    let disk = &self.slots[&id].disk;
                    disk.set_faults(SimFaults {
                        fail_next_sync: true,
                        ..disk.faults()
                    });
                }
            }
        }
        if self.disk_full_at.is_some_and(|time| time <= self.now) {
            self.disk_full_at = None;
            self.fill_disk();
        }
        if self.now < self.next_crash {
            return;
        }
        let mean = self.options.crash_every.as_micros() as u64;
        self.next_crash = self
            .now
            .saturating_add(Duration::from_micros(self.rng.random_range(1..=2 * mean)));
        let running = self.running();
        if running.is_empty() {
            return;
        }
        let id = running[self.rng.random_range(0..running.len())];
        if self.rng.random_bool(0.5) {
            self.crash(id);
        } else {
            let disk = &self.slots[&id].disk;
            let strike = disk.ops() + self.rng.random_range(1..=12);
            disk.set_faults(SimFaults {
                power_fails_at_op: Some(strike),
                ..disk.faults()
            });
        }
    }

    /// Leaves the leader's disk (or any running node's) room for a few
    /// hundred more bytes, so one of its next writes fails with ENOSPC.
    fn fill_disk(&mut self) {
        let leader = self.running().into_iter().find(|id| {
            self.slots[id]
                .running
                .as_ref()
                .is_some_and(|node| node.node().role() == Role::Leader)
        });
        let Some(id) = leader.or_else(|| self.running().first().copied()) else {
            return;
        };
        let room = self.rng.random_range(0..=600);
        let slot = self.slots.get_mut(&id).expect("member");
        slot.filling = true;
        slot.disk.set_faults(SimFaults {
            capacity: Some(slot.disk.used_bytes() + room),
            ..slot.disk.faults()
        });
    }
}
