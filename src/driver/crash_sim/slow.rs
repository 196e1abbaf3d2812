//! Slow disks and the leadership timeline: arms the slow-fsync fault on
//! the chosen nodes, notes each term's leader as it takes office, and sums
//! the nodes' hand-overs, so a test can judge abdication by its property
//! (leadership leaves a slow node and never lands on one; it stays put on
//! a healthy or a uniformly slow cluster).

use crate::core::node::{Node, NodeId, Role};
use crate::driver::storage::simulated::SimFaults;

use super::options::SlowDisks;
use super::{at, Sim};

impl Sim {
    /// Makes the chosen disks slow once the fault's time has come (for
    /// [`SlowDisks::Leader`], once some node leads).
    pub(super) fn slow_disks(&mut self) {
        let Some(slow) = self.slow_fsync else {
            return;
        };
        if self.now < at(slow.from) {
            return;
        }
        let chosen: Vec<NodeId> = match slow.disks {
            SlowDisks::All => self.members.clone(),
            SlowDisks::Leader => match self.leading() {
                Some(leader) => vec![leader],
                None => return,
            },
        };
        self.slow_fsync = None;
        for &id in &chosen {
            let disk = &self.slots[&id].disk;
            disk.set_faults(SimFaults {
                sync_latency: slow.latency,
                ..disk.faults()
            });
        }
        self.report.slow_nodes = chosen;
        self.report.slow_since = Some(self.now);
    }

    /// The running node that leads in the highest term, if any.
    pub(super) fn leading(&self) -> Option<NodeId> {
        self.slots
            .iter()
            .filter_map(|(&id, slot)| Some((id, slot.running.as_ref()?.node())))
            .filter(|(_, node)| node.role() == Role::Leader)
            .max_by_key(|(_, node)| node.term())
            .map(|(id, _)| id)
    }

    /// Notes `id`'s term if it has just begun to lead in it.
    pub(super) fn note_leader(&mut self, id: NodeId) {
        let Some(node) = self.slots[&id].running.as_ref().map(|node| node.node()) else {
            return;
        };
        let term = node.term();
        let known = self
            .report
            .leaders
            .iter()
            .any(|&(_, leader, led)| leader == id && led == term);
        if node.role() == Role::Leader && !known {
            self.report.leaders.push((self.now, id, term));
        }
    }

    /// Sums the hand-overs the running nodes started and declined.
    pub(super) fn count_hand_overs(&mut self) {
        for slot in self.slots.values() {
            if let Some(node) = &slot.running {
                self.report.abdications += node.metrics().abdications.get();
                self.report.leadership_declined += node.metrics().leadership_declined.get();
            }
        }
    }
}
