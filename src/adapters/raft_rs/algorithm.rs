//! raft-rs as a simulator [`Algorithm`]: `--algo raft-rs` (ReadIndex reads)
//! and `--algo raft-rs-lease` (raft-rs's lease-based reads).

use super::node::{RaftRsNode, Settings};
use super::storage::{RaftRsLog, Record};
use crate::core::node::{Node, Role};
use crate::core::raft::Entry;
use crate::harness::algorithm::{Algorithm, Boot};

/// raft-rs with the given settings.
#[derive(Clone, Debug, Default)]
pub struct RaftRs {
    pub settings: Settings,
}

impl RaftRs {
    /// raft-rs serving reads from its lease (`ReadOnlyOption::LeaseBased`).
    pub fn with_lease_reads() -> RaftRs {
        RaftRs {
            settings: Settings {
                lease_reads: true,
                ..Settings::default()
            },
        }
    }
}

impl Algorithm for RaftRs {
    type Node = RaftRsNode;
    type Durable = RaftRsLog;

    fn name(&self) -> &'static str {
        if self.settings.lease_reads {
            "raft-rs-lease"
        } else {
            "raft-rs"
        }
    }

    /// electorate's Raft's bound in raft-rs's terms: a stale leader steps
    /// down within two CheckQuorum periods (one election tick each), then
    /// one maximal timeout (twice the election tick) plus the pre-vote,
    /// vote and append round trips.
    fn election_bound(&self) -> std::time::Duration {
        let ticks = 2 * self.settings.election_tick + 2 * self.settings.election_tick;
        self.settings.tick * ticks as u32
    }

    fn start(&self, boot: Boot<'_>) -> RaftRsNode {
        self.restart(boot, &RaftRsLog::default())
    }

    fn restart(&self, boot: Boot<'_>, durable: &RaftRsLog) -> RaftRsNode {
        let (settings, durable) = (self.settings.clone(), durable.clone());
        RaftRsNode::new(boot.id, boot.members, settings, durable, boot.now, boot.rng)
            .expect("a node's own durable state restarts it")
    }

    fn persist(durable: &mut RaftRsLog, record: Record) {
        durable.apply(record);
    }

    fn log(node: &RaftRsNode) -> Option<&[Entry]> {
        Some(node.log_view())
    }

    fn can_serve(node: &RaftRsNode) -> bool {
        node.role() == Role::Leader && node.commits_in_own_term()
    }
}
