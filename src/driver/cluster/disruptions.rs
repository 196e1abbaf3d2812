//! The faults `electorate cluster` inflicts on the leader, one at a time:
//! a `SIGKILL` (the node restarts from its disk after a while) or a network
//! partition that cuts it off from every peer (healed after a while).
//! The leader is whoever acknowledged the latest write.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::core::node::NodeId;
use crate::driver::cluster::processes::Processes;
use crate::driver::cluster::workload::Shared;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DisruptionKind {
    Kill,
    Partition,
}

/// One fault inflicted on a leader.
#[derive(Clone, Copy, Debug)]
pub struct Disruption {
    pub kind: DisruptionKind,
    pub node: NodeId,
    pub at: Instant,
}

pub struct Schedule {
    pub kill_every: Option<Duration>,
    pub restart_after: Duration,
    pub partition_every: Option<Duration>,
    pub partition_for: Duration,
    next_kill: Option<Instant>,
    next_partition: Option<Instant>,
    /// No disruption starts unless it also ends by then: one that outlasts
    /// the workload could never be followed by a failover, so the report
    /// would show an unrecovered fault the cluster was given no time for.
    ends_by: Instant,
    /// The disruption in force and when it ends.
    active: Option<(Disruption, Instant)>,
    pub done: Vec<Disruption>,
}

impl Schedule {
    pub fn new(
        started: Instant,
        kill_every: Option<Duration>,
        restart_after: Duration,
        partition_every: Option<Duration>,
        partition_for: Duration,
        ends_by: Instant,
    ) -> Schedule {
        Schedule {
            ends_by,
            kill_every,
            restart_after,
            partition_every,
            partition_for,
            next_kill: kill_every.map(|every| started + every),
            // Offset by half a period, so kills and partitions alternate.
            next_partition: partition_every.map(|every| started + every + every / 2),
            active: None,
            done: Vec::new(),
        }
    }

    /// Ends the disruption in force if its time is up, and starts the next
    /// one if it is due; returns the one it started.
    pub fn tick(
        &mut self,
        processes: &mut Processes,
        shared: &Shared,
    ) -> Result<Option<Disruption>, String> {
        let now = Instant::now();
        if let Some((disruption, ends)) = self.active {
            if now < ends {
                return Ok(None);
            }
            self.end(disruption, processes)?;
        }
        let kill_due = self.next_kill.is_some_and(|at| now >= at);
        let partition_due = self.next_partition.is_some_and(|at| now >= at);
        let kind = match (kill_due, partition_due) {
            (true, _) => DisruptionKind::Kill,
            (false, true) => DisruptionKind::Partition,
            (false, false) => return Ok(None),
        };
        let length = match kind {
            DisruptionKind::Kill => self.restart_after,
            DisruptionKind::Partition => self.partition_for,
        };
        if now + length > self.ends_by {
            return Ok(None);
        }
        let Some(leader) = shared.latest_acker().map(|ack| ack.by) else {
            return Ok(None);
        };
        if !processes.is_running(leader) {
            return Ok(None);
        }
        let next = match kind {
            DisruptionKind::Kill => {
                processes.kill(leader);
                &mut self.next_kill
            }
            DisruptionKind::Partition => {
                isolate(processes, leader).map_err(|error| format!("cannot partition: {error}"))?;
                &mut self.next_partition
            }
        };
        let ends = now + length;
        let every = match kind {
            DisruptionKind::Kill => self.kill_every,
            DisruptionKind::Partition => self.partition_every,
        };
        *next = every.map(|every| now + every);
        let disruption = Disruption {
            kind,
            node: leader,
            at: Instant::now(),
        };
        self.active = Some((disruption, ends));
        self.done.push(disruption);
        Ok(Some(disruption))
    }

    /// Ends whatever is in force: the cluster is whole again.
    pub fn finish(&mut self, processes: &mut Processes) -> Result<(), String> {
        match self.active {
            Some((disruption, _)) => self.end(disruption, processes),
            None => Ok(()),
        }
    }

    fn end(&mut self, disruption: Disruption, processes: &mut Processes) -> Result<(), String> {
        self.active = None;
        match disruption.kind {
            DisruptionKind::Kill => processes
                .start(disruption.node)
                .map_err(|error| format!("cannot restart node {}: {error}", disruption.node)),
            DisruptionKind::Partition => {
                for node in processes.running() {
                    processes
                        .control(node, "heal")
                        .map_err(|error| format!("cannot heal node {node}: {error}"))?;
                }
                Ok(())
            }
        }
    }
}

/// Cuts `node` off from every peer, both ways.
fn isolate(processes: &mut Processes, node: NodeId) -> std::io::Result<()> {
    let others: Vec<NodeId> = processes
        .all_ids()
        .into_iter()
        .filter(|&other| other != node)
        .collect();
    let line = others.iter().fold(String::from("block"), |line, other| {
        format!("{line} {other}")
    });
    processes.control(node, &line)?;
    for other in others {
        processes.control(other, &format!("block {node}"))?;
    }
    Ok(())
}
