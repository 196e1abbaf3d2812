//! Elections in the simulator, for Bully, Ring and Raft at 3, 5, 7 and 9
//! nodes: a cold start (every node boots at once; 500 ms of simulated
//! time, enough for the first leader and its first heartbeats) and a
//! failover (the leader crashes at 2 s; 1 s more for a successor). No
//! clients and no linearizability check, so the figure is the election
//! machinery and the simulator: criterion reports time per run and, as
//! throughput, the messages the run sends (fixed per seed).
//!
//! Exact message and byte counts per election are printed by
//! `electorate compare`, not measured here.
//!
//! `cargo bench --bench election`; `-- --test` runs each benchmark once.

#[path = "support/simulated.rs"]
mod simulated;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use electorate::harness::algorithm::Algorithm;
use electorate::sim::experiments::{leader_crash, quiet};
use electorate::sim::simulation::SimulationOptions;
use simulated::{bench_runs, on_every_algorithm, PerAlgorithm};

const SIZES: [u64; 4] = [3, 5, 7, 9];
const SEED: u64 = 3;

/// `options` without clients or the history check.
fn elections_only(mut options: SimulationOptions) -> SimulationOptions {
    options.workload.clients = 0;
    options.linearizability_steps = None;
    options
}

fn cold_start(nodes: u64) -> SimulationOptions {
    elections_only(quiet(nodes, SEED, Duration::from_millis(500)))
}

fn failover(nodes: u64) -> SimulationOptions {
    let mut options = elections_only(leader_crash(nodes, SEED));
    options.duration = Duration::from_secs(3);
    options
}

/// A scenario's name and the options it runs at a cluster size.
type Scenario = (&'static str, fn(u64) -> SimulationOptions);

/// Each scenario at each cluster size, counting the messages sent.
struct Elections;

impl PerAlgorithm for Elections {
    fn bench<A: Algorithm + Clone>(&self, c: &mut Criterion, algorithm: A) {
        let scenarios: [Scenario; 2] = [("cold-start", cold_start), ("failover", failover)];
        for (scenario, options_for) in scenarios {
            let name = format!("election/{}/{scenario}", algorithm.name());
            let mut group = c.benchmark_group(name);
            group.sample_size(10);
            group.measurement_time(Duration::from_secs(2));
            let runs = SIZES.map(|nodes| (nodes, options_for(nodes)));
            bench_runs(group, &algorithm, runs, |metrics| metrics.messages_sent);
        }
    }
}

fn elections(c: &mut Criterion) {
    on_every_algorithm(c, Elections);
}

criterion_group!(benches, elections);
criterion_main!(benches);
