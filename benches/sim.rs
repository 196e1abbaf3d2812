//! Simulator throughput: delivered messages per second of simulated runs,
//! for each algorithm, on a quiet 5-node cluster (steady heartbeats and
//! client writes) and on one swarm seed (faults of every default kind, then
//! the liveness phase). Each run includes everything `electorate sweep`
//! does per seed: the monitors after every step and the linearizability
//! check of the client history at the end.
//!
//! The runs are seeded, so each delivers the same messages every time;
//! criterion's throughput is that count over the measured time.
//!
//! `cargo bench --bench sim`; `-- --test` runs each benchmark once.

#[path = "support/simulated.rs"]
mod simulated;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use electorate::harness::algorithm::Algorithm;
use electorate::sim::experiments::quiet;
use electorate::sim::faults::FaultKind;
use electorate::sim::simulation::SimulationOptions;
use electorate::sim::swarm::{draw, SwarmSettings};
use simulated::{bench_runs, on_every_algorithm, PerAlgorithm};

const NODES: u64 = 5;
const SEED: u64 = 7;

fn workloads() -> Vec<(&'static str, SimulationOptions)> {
    let swarm = SwarmSettings::new(NODES, Duration::from_secs(10), FaultKind::default_set());
    vec![
        ("quiet-10s", quiet(NODES, SEED, Duration::from_secs(10))),
        ("swarm-10s", draw(SEED, &swarm)),
    ]
}

/// Each workload, counting the messages delivered.
struct Workloads;

impl PerAlgorithm for Workloads {
    fn bench<A: Algorithm + Clone>(&self, c: &mut Criterion, algorithm: A) {
        let mut group = c.benchmark_group(format!("sim/{}", algorithm.name()));
        group.sample_size(10);
        bench_runs(group, &algorithm, workloads(), |metrics| {
            metrics.messages_delivered
        });
    }
}

fn simulator(c: &mut Criterion) {
    on_every_algorithm(c, &Workloads);
}

criterion_group!(benches, simulator);
criterion_main!(benches);
