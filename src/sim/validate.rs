//! Checks a [`SimulationOptions`] read from a file before it is run: every
//! node id in range, probabilities within [0, 1], clocks that move forward.
//! Options built in code are valid by construction; options from a user's
//! file get a [`InvalidOptions`] naming what is wrong, never a panic deep
//! inside the simulator.

use thiserror::Error;

use crate::core::node::NodeId;
use crate::sim::faults::{Fault, Partition, PartitionKind};
use crate::sim::simulation::SimulationOptions;

/// The most clients a run may have.
pub const MAX_CLIENTS: usize = 64;
/// The most keys a workload may touch.
pub const MAX_KEYS: usize = 1_024;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum InvalidOptions {
    #[error("nodes must be 1 to 9, not {0}")]
    Nodes(u64),
    #[error("{field} names node {node}, but the nodes are 1 to {nodes}")]
    UnknownNode {
        field: &'static str,
        node: NodeId,
        nodes: u64,
    },
    #[error("network.{field} is a probability, so 0 to 1, not {value}")]
    Probability { field: &'static str, value: String },
    #[error("network.latency_min exceeds network.latency_max")]
    LatencyRange,
    #[error("clock_rates_ppm has {rates} rates for {nodes} nodes")]
    ClockRateCount { rates: usize, nodes: u64 },
    #[error("clock rate {0} ppm stops or reverses the clock (it must exceed -1000000)")]
    ClockRate(i64),
    #[error("a majorities-ring partition orders every node exactly once")]
    RingOrder,
    #[error(
        "a majorities-ring partition does not exist on {0} nodes (it does on {sizes})",
        sizes = ring_sizes()
    )]
    RingSize(u64),
    #[error("a split partition's side holds some nodes, not none or all")]
    SplitSide,
    #[error("a bridge partition's half holds some nodes but not the bridge, nor all the others")]
    BridgeHalf,
    #[error("a lossy fault loses at most 100% of messages, not {0}%")]
    LossPercent(u8),
    #[error("workload.clients must be 0 to {MAX_CLIENTS}, not {0}")]
    Clients(usize),
    #[error("workload.keys must be 1 to {MAX_KEYS}, not {0}")]
    Keys(usize),
    #[error("workload.batch_window must be above zero and shorter than workload.request_timeout ({timeout}), not {window}: a request waiting that long would time out before it is handed over")]
    BatchWindow { window: String, timeout: String },
    #[error("liveness.core must be a non-empty set of nodes")]
    EmptyCore,
    #[error("faults take node {0} out for good, but it is in liveness.core, which must come back")]
    LostNodeInCore(NodeId),
    #[error(
        "faults take {lost} of {nodes} nodes out for good; at most a minority ({minority}) may be"
    )]
    TooManyLost {
        lost: usize,
        nodes: u64,
        minority: u64,
    },
}

impl SimulationOptions {
    pub fn validate(&self) -> Result<(), InvalidOptions> {
        let nodes = self.nodes;
        if !(1..=9).contains(&nodes) {
            return Err(InvalidOptions::Nodes(nodes));
        }
        let node = |field, node: NodeId| {
            if (1..=nodes).contains(&node) {
                Ok(())
            } else {
                Err(InvalidOptions::UnknownNode { field, node, nodes })
            }
        };
        let network = &self.network;
        for (field, value) in [("loss", network.loss), ("duplicate", network.duplicate)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(InvalidOptions::Probability {
                    field,
                    value: value.to_string(),
                });
            }
        }
        if network.latency_min > network.latency_max {
            return Err(InvalidOptions::LatencyRange);
        }
        if self.clock_rates_ppm.len() > nodes as usize {
            return Err(InvalidOptions::ClockRateCount {
                rates: self.clock_rates_ppm.len(),
                nodes,
            });
        }
        if let Some(&rate) = self
            .clock_rates_ppm
            .iter()
            .find(|&&rate| rate <= -1_000_000)
        {
            return Err(InvalidOptions::ClockRate(rate));
        }
        for scheduled in &self.faults {
            // A flapping partition is judged as the partition it strikes.
            let flapped;
            let fault = match &scheduled.fault {
                Fault::Flap { partition, .. } => {
                    flapped = Fault::Partition(partition.clone());
                    &flapped
                }
                fault => fault,
            };
            match fault {
                Fault::Crash { node: id } | Fault::Restart { node: id } => node("faults", *id)?,
                Fault::Pause { node: id, .. }
                | Fault::ClockJump { node: id, .. }
                | Fault::Disk { node: id, .. } => node("faults", *id)?,
                Fault::Partition(Partition::Split { side }) => {
                    side.iter().try_for_each(|&id| node("faults", id))?;
                    if !(1..nodes as usize).contains(&distinct(side)) {
                        return Err(InvalidOptions::SplitSide);
                    }
                }
                Fault::Partition(Partition::OneWay { node: id })
                | Fault::Campaign { node: id }
                | Fault::Snapshot { node: id } => node("faults", *id)?,
                Fault::PowerOutage { nodes: ids, .. } => {
                    ids.iter().try_for_each(|&id| node("faults", id))?
                }
                Fault::Partition(Partition::Bridge { bridge, half }) => {
                    node("faults", *bridge)?;
                    half.iter().try_for_each(|&id| node("faults", id))?;
                    let others = nodes as usize - 1;
                    if half.contains(bridge) || !(1..others).contains(&distinct(half)) {
                        return Err(InvalidOptions::BridgeHalf);
                    }
                }
                Fault::Partition(Partition::MajoritiesRing { order }) => {
                    let mut sorted = order.clone();
                    sorted.sort_unstable();
                    if !sorted.iter().copied().eq(1..=nodes) {
                        return Err(InvalidOptions::RingOrder);
                    }
                    if !PartitionKind::MajoritiesRing.exists_at(nodes) {
                        return Err(InvalidOptions::RingSize(nodes));
                    }
                }
                Fault::Lossy { percent, .. } if *percent > 100 => {
                    return Err(InvalidOptions::LossPercent(*percent))
                }
                Fault::CrashLeader { .. }
                | Fault::Partition(
                    Partition::IsolateLeader
                    | Partition::LeaderOneWay { .. }
                    | Partition::LeaderLink { .. },
                )
                | Fault::Flap { .. }
                | Fault::Transfer { .. }
                | Fault::SnapshotLeader
                | Fault::Heal
                | Fault::Lossy { .. } => {}
            }
        }
        self.validate_lost_nodes()?;
        let workload = &self.workload;
        if workload.clients > MAX_CLIENTS {
            return Err(InvalidOptions::Clients(workload.clients));
        }
        if !(1..=MAX_KEYS).contains(&workload.keys) {
            return Err(InvalidOptions::Keys(workload.keys));
        }
        if let Some(window) = workload.batch_window {
            workload.check_batch_window(window)?;
        }
        if let Some(liveness) = &self.liveness {
            if liveness.core.is_empty() {
                return Err(InvalidOptions::EmptyCore);
            }
            liveness
                .core
                .iter()
                .try_for_each(|&id| node("liveness.core", id))?;
        }
        Ok(())
    }
}

impl SimulationOptions {
    /// The fault budget of permanent failures: at most a minority of the
    /// nodes, none of them in the liveness core, so that liveness is still
    /// required of a majority.
    fn validate_lost_nodes(&self) -> Result<(), InvalidOptions> {
        let lost: std::collections::BTreeSet<NodeId> = self
            .faults
            .iter()
            .filter_map(|scheduled| scheduled.fault.permanently_fails())
            .collect();
        let minority = (self.nodes - 1) / 2;
        if lost.len() as u64 > minority {
            return Err(InvalidOptions::TooManyLost {
                lost: lost.len(),
                nodes: self.nodes,
                minority,
            });
        }
        let core = self.liveness.iter().flat_map(|liveness| &liveness.core);
        match core.into_iter().find(|id| lost.contains(id)) {
            Some(&id) => Err(InvalidOptions::LostNodeInCore(id)),
            None => Ok(()),
        }
    }
}

/// The cluster sizes a simulation takes that have a majorities ring.
fn ring_sizes() -> String {
    let sizes: Vec<String> = (1..=9)
        .filter(|&size| PartitionKind::MajoritiesRing.exists_at(size))
        .map(|size| size.to_string())
        .collect();
    sizes.join(", ")
}

/// How many different nodes `nodes` names.
fn distinct(nodes: &[NodeId]) -> usize {
    nodes
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::core::time::Time;
    use crate::sim::experiments::leader_crash;
    use crate::sim::faults::{FaultKind, ScheduledFault};
    use crate::sim::swarm::{draw, SwarmSettings};

    #[test]
    fn drawn_and_experiment_options_are_valid() {
        for nodes in 1..=9 {
            let settings =
                SwarmSettings::new(nodes, Duration::from_secs(10), FaultKind::ALL.to_vec());
            for seed in 0..50 {
                let options = draw(seed, &settings);
                assert_eq!(options.validate(), Ok(()), "{nodes} nodes, seed {seed}");
            }
        }
        assert_eq!(leader_crash(3, 1).validate(), Ok(()));
    }

    #[test]
    fn each_kind_of_bad_option_is_named() {
        let base = leader_crash(3, 1);
        let with_fault = |fault| {
            let mut options = base.clone();
            options.faults.push(ScheduledFault {
                at: Time::ZERO,
                fault,
            });
            options.validate()
        };
        assert_eq!(
            with_fault(Fault::Crash { node: 4 }),
            Err(InvalidOptions::UnknownNode {
                field: "faults",
                node: 4,
                nodes: 3
            })
        );
        assert_eq!(
            with_fault(Fault::Partition(Partition::MajoritiesRing {
                order: vec![1, 2, 2]
            })),
            Err(InvalidOptions::RingOrder)
        );
        assert_eq!(
            with_fault(Fault::Partition(Partition::MajoritiesRing {
                order: vec![3, 1, 2]
            })),
            Err(InvalidOptions::RingSize(3))
        );
        for side in [vec![], vec![1, 2, 3], vec![1, 1, 2, 3]] {
            assert_eq!(
                with_fault(Fault::Partition(Partition::Split { side })),
                Err(InvalidOptions::SplitSide)
            );
        }
        for half in [vec![], vec![1, 3], vec![1, 2]] {
            assert_eq!(
                with_fault(Fault::Partition(Partition::Bridge { bridge: 2, half })),
                Err(InvalidOptions::BridgeHalf)
            );
        }
        assert_eq!(
            with_fault(Fault::Partition(Partition::Bridge {
                bridge: 2,
                half: vec![3]
            })),
            Ok(())
        );
        assert_eq!(
            with_fault(Fault::Lossy {
                percent: 101,
                duration: Duration::ZERO
            }),
            Err(InvalidOptions::LossPercent(101))
        );
        let mut options = base.clone();
        options.network.loss = 1.5;
        assert!(matches!(
            options.validate(),
            Err(InvalidOptions::Probability { field: "loss", .. })
        ));
        let mut options = base.clone();
        options.clock_rates_ppm = vec![0, -1_000_000];
        assert_eq!(
            options.validate(),
            Err(InvalidOptions::ClockRate(-1_000_000))
        );
        let mut options = base.clone();
        options.nodes = 10;
        assert_eq!(options.validate(), Err(InvalidOptions::Nodes(10)));
        let batched = |window| {
            let mut options = base.clone();
            options.workload.batch_window = Some(window);
            options.validate()
        };
        let timeout = base.workload.request_timeout;
        for window in [Duration::ZERO, timeout, timeout * 2] {
            assert!(
                matches!(batched(window), Err(InvalidOptions::BatchWindow { .. })),
                "{window:?}"
            );
        }
        assert_eq!(batched(Duration::from_millis(2)), Ok(()));
    }

    #[test]
    fn disk_faults_may_take_out_a_minority_outside_the_liveness_core() {
        use crate::sim::faults::DiskFault;
        use crate::sim::simulation::LivenessOptions;
        let mut base = leader_crash(5, 1);
        base.liveness = Some(LivenessOptions {
            core: vec![1, 2, 3],
            bound: Duration::from_secs(2),
            stable_for: Duration::from_secs(1),
        });
        let with_faults = |base: &SimulationOptions, faults: &[(NodeId, DiskFault)]| {
            let mut options = base.clone();
            options
                .faults
                .extend(faults.iter().map(|&(node, fault)| ScheduledFault {
                    at: Time::ZERO,
                    fault: Fault::Disk { node, fault },
                }));
            options.validate()
        };
        let power_loss = DiskFault::PowerLoss {
            batch_survives: false,
        };
        assert_eq!(
            with_faults(
                &base,
                &[(4, DiskFault::Corruption), (5, DiskFault::FsyncError)]
            ),
            Ok(())
        );
        assert_eq!(
            with_faults(&base, &[(1, power_loss), (2, power_loss)]),
            Ok(())
        );
        assert_eq!(
            with_faults(&base, &[(2, DiskFault::Corruption)]),
            Err(InvalidOptions::LostNodeInCore(2))
        );
        base.liveness = None;
        let three = [
            (1, DiskFault::Corruption),
            (2, DiskFault::FsyncError),
            (3, DiskFault::Corruption),
        ];
        assert_eq!(
            with_faults(&base, &three),
            Err(InvalidOptions::TooManyLost {
                lost: 3,
                nodes: 5,
                minority: 2
            })
        );
        assert_eq!(with_faults(&base, &three[..2]), Ok(()));
    }
}
