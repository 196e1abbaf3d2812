//! proptest strategies for whole simulated runs: a cluster size, a seed, a
//! fault schedule, clock drift within the bound, a lossy or duplicating
//! network and a client workload. Everything shrinks towards a quiet run:
//! fewer faults, earlier and shorter ones, exact clocks, a clean network,
//! one client.

use std::time::Duration;

use electorate::core::node::NodeId;
use electorate::core::time::Time;
use electorate::sim::faults::{DiskFault, Fault, Partition, PartitionKind, ScheduledFault};
use electorate::sim::network::NetworkOptions;
use electorate::sim::simulation::{LivenessOptions, SimulationOptions, LINEARIZABILITY_STEPS};
use electorate::sim::workload::WorkloadOptions;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

/// Length of the safety phase: long enough for several elections.
pub const SAFETY_PHASE: Duration = Duration::from_secs(6);
/// The most faults one schedule holds.
pub const MAX_FAULTS: usize = 12;
/// Clock rates stay within what the default Raft configuration assumes:
/// two clocks disagree by less than its 50 ms drift bound over its 150 ms
/// minimum election timeout (the swarm draws them the same way).
pub const MAX_RATE_PPM: i64 = 158_000;

fn node(nodes: u64) -> impl Strategy<Value = NodeId> {
    1..=nodes
}

fn millis(range: std::ops::Range<u64>) -> impl Strategy<Value = Duration> {
    range.prop_map(Duration::from_millis)
}

/// A partition of a kind that exists on `nodes` nodes, built by the same
/// code as the swarm's draws; shrinks towards a split of one node.
/// Precondition: `nodes >= 2` (one node has no link to cut).
fn partition(nodes: u64) -> impl Strategy<Value = Partition> {
    let members: Vec<NodeId> = (1..=nodes).collect();
    (
        select(PartitionKind::existing_at(nodes)),
        Just(members).prop_shuffle(),
        any::<usize>(),
    )
        .prop_map(|(kind, order, cut)| kind.build(order, cut))
}

/// A disk fault on `nodes` nodes: a power loss during any node's next
/// write, or (an fsync error, damaged synced data) the loss for good of a
/// node outside the liveness core `1..=nodes / 2 + 1`, so at most a
/// minority is lost and the core must still come back.
fn disk_fault(nodes: u64) -> impl Strategy<Value = Fault> {
    let outside_core = nodes / 2 + 2..=nodes;
    prop_oneof![
        (node(nodes), any::<bool>()).prop_map(|(node, batch_survives)| Fault::Disk {
            node,
            fault: DiskFault::PowerLoss { batch_survives },
        }),
        (
            outside_core,
            prop_oneof![Just(DiskFault::FsyncError), Just(DiskFault::Corruption)]
        )
            .prop_map(|(node, fault)| Fault::Disk { node, fault }),
    ]
}

/// One fault. Crashes come with a restart later in the schedule only if
/// the strategy draws one: a node may stay down for good.
fn fault(nodes: u64) -> impl Strategy<Value = Fault> {
    prop_oneof![
        node(nodes).prop_map(|node| Fault::Crash { node }),
        node(nodes).prop_map(|node| Fault::Restart { node }),
        millis(0..3_000).prop_map(|downtime| Fault::CrashLeader { downtime }),
        (node(nodes), millis(0..2_000))
            .prop_map(|(node, duration)| Fault::Pause { node, duration }),
        partition(nodes).prop_map(Fault::Partition),
        Just(Fault::Heal),
        (0u8..=100, millis(0..2_000))
            .prop_map(|(percent, duration)| Fault::Lossy { percent, duration }),
    ]
}

/// Whether a schedule may also hold disk faults.
#[derive(Clone, Copy, Debug)]
pub enum Disks {
    Reliable,
    Failing,
}

fn any_fault(nodes: u64, disks: Disks) -> BoxedStrategy<Fault> {
    match disks {
        Disks::Reliable => fault(nodes).boxed(),
        Disks::Failing => prop_oneof![7 => fault(nodes), 1 => disk_fault(nodes)].boxed(),
    }
}

pub fn schedule(nodes: u64, disks: Disks) -> impl Strategy<Value = Vec<ScheduledFault>> {
    let until = SAFETY_PHASE.as_millis() as u64;
    vec((0..until, any_fault(nodes, disks)), 0..=MAX_FAULTS).prop_map(|faults| {
        let mut faults: Vec<ScheduledFault> = faults
            .into_iter()
            .map(|(at, fault)| ScheduledFault {
                at: Time::from_millis(at),
                fault,
            })
            .collect();
        // The simulator takes faults in time order; ties keep draw order.
        faults.sort_by_key(|scheduled| scheduled.at);
        faults
    })
}

fn network() -> impl Strategy<Value = NetworkOptions> {
    (
        millis(1..3),
        millis(0..20),
        prop_oneof![Just(0.0), 0.0..0.2],
        prop_oneof![Just(0.0), 0.0..0.1],
        any::<bool>(),
    )
        .prop_map(
            |(latency_min, spread, loss, duplicate, reorder)| NetworkOptions {
                latency_min,
                latency_max: latency_min + spread,
                loss,
                duplicate,
                reorder,
            },
        )
}

fn clock_rates(nodes: u64) -> impl Strategy<Value = Vec<i64>> {
    vec(
        prop_oneof![Just(0), -MAX_RATE_PPM..=MAX_RATE_PPM],
        nodes as usize,
    )
}

fn workload() -> impl Strategy<Value = WorkloadOptions> {
    (1usize..=4, 1usize..=3, millis(1..50)).prop_map(|(clients, keys, mean_think_time)| {
        WorkloadOptions {
            clients,
            keys,
            mean_think_time,
            ..WorkloadOptions::default()
        }
    })
}

/// A whole run (with disk faults if `disks` is `Failing`): 3 or 5 nodes, then a liveness phase in which a majority
/// core (nodes 1..=majority) is healed and must elect a leader that commits
/// within the bound.
pub fn run_options(disks: Disks) -> impl Strategy<Value = SimulationOptions> {
    prop_oneof![Just(3u64), Just(5u64)].prop_flat_map(move |nodes| {
        (
            any::<u64>(),
            schedule(nodes, disks),
            network(),
            clock_rates(nodes),
            workload(),
        )
            .prop_map(move |(seed, faults, network, clock_rates_ppm, workload)| {
                SimulationOptions {
                    nodes,
                    seed,
                    duration: SAFETY_PHASE,
                    network,
                    faults,
                    clock_rates_ppm,
                    workload,
                    liveness: Some(LivenessOptions {
                        core: (1..=nodes / 2 + 1).collect(),
                        bound: Duration::from_secs(2),
                        stable_for: Duration::from_secs(1),
                    }),
                    linearizability_steps: Some(LINEARIZABILITY_STEPS),
                }
            })
    })
}
