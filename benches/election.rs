//! Elections in the simulator, for Raft, Bully, Ring and the two
//! lock-service patterns (lease-lock, zk-sequential) at 3, 5, 7 and 9
//! candidates: a cold start (every node boots at once; 500 ms of simulated
//! time, enough for the first leader and its first heartbeats) and a
//! failover (the leader crashes at 2 s; the run goes on for the
//! algorithm's election bound, the time it promises a successor in). No
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
use simulated::{bench_runs, on_every_election, PerAlgorithm};

const SIZES: [u64; 4] = [3, 5, 7, 9];
const SEED: u64 = 3;

/// `options` without clients or the history check.
fn elections_only(mut options: SimulationOptions) -> SimulationOptions {
    options.workload.clients = 0;
    options.linearizability_steps = None;
    options
}

fn cold_start(nodes: u64, _election_bound: Duration) -> SimulationOptions {
    elections_only(quiet(nodes, SEED, Duration::from_millis(500)))
}

/// The leader crashes at 2 s (`leader_crash`); a lease-lock successor
/// waits out the lease, so one fixed duration would cut its failover short.
fn failover(nodes: u64, election_bound: Duration) -> SimulationOptions {
    let mut options = elections_only(leader_crash(nodes, SEED));
    options.duration = Duration::from_secs(2) + election_bound;
    options
}

/// A scenario's name and the options it runs at a cluster size, given the
/// algorithm's election bound.
type Scenario = (&'static str, fn(u64, Duration) -> SimulationOptions);

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
            let bound = algorithm.election_bound();
            let runs = SIZES.map(|nodes| (nodes, options_for(nodes, bound)));
            bench_runs(group, &algorithm, runs, |metrics| metrics.messages_sent);
        }
    }
}

fn elections(c: &mut Criterion) {
    on_every_election(c, &Elections);
}

criterion_group!(benches, elections);
criterion_main!(benches);
