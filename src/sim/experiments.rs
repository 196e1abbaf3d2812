//! Preset runs for comparing algorithms on the same work: a cold start, a
//! leader crash, and a partition that cuts off the leader. Each is a
//! [`SimulationOptions`] so it runs in the same simulator as everything else.

use std::time::Duration;

use crate::core::time::Time;
use crate::sim::faults::{Fault, Partition, ScheduledFault};
use crate::sim::network::NetworkOptions;
use crate::sim::simulation::{SimulationOptions, LINEARIZABILITY_STEPS};
use crate::sim::workload::WorkloadOptions;

/// A healthy network, no faults, clients running.
pub fn quiet(nodes: u64, seed: u64, duration: Duration) -> SimulationOptions {
    SimulationOptions {
        nodes,
        seed,
        duration,
        network: NetworkOptions::default(),
        faults: Vec::new(),
        clock_rates_ppm: Vec::new(),
        workload: WorkloadOptions::default(),
        liveness: None,
        linearizability_steps: Some(LINEARIZABILITY_STEPS),
    }
}

/// Every node starts at once; measures the first election.
pub fn cold_start(nodes: u64, seed: u64) -> SimulationOptions {
    quiet(nodes, seed, Duration::from_secs(3))
}

/// When the leader crashes at 2 s (and comes back 2 s later); measures
/// failover.
pub fn leader_crash(nodes: u64, seed: u64) -> SimulationOptions {
    let mut options = quiet(nodes, seed, Duration::from_secs(6));
    options.faults.push(ScheduledFault {
        at: Time::from_millis(2_000),
        fault: Fault::CrashLeader {
            downtime: Duration::from_secs(2),
        },
    });
    options
}

/// The leader is cut off at 2 s and the network heals at 5 s: algorithms
/// without quorums crown a second leader on the other side.
pub fn leader_partition(nodes: u64, seed: u64) -> SimulationOptions {
    let mut options = quiet(nodes, seed, Duration::from_secs(7));
    options.faults = vec![
        ScheduledFault {
            at: Time::from_millis(2_000),
            fault: Fault::Partition(Partition::IsolateLeader),
        },
        ScheduledFault {
            at: Time::from_millis(5_000),
            fault: Fault::Heal,
        },
    ];
    options
}
