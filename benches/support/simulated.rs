//! One seeded simulated run as a criterion benchmark, for the benches that
//! time the simulator (`election`, `sim`), each written once over the
//! algorithm and run on every one. A seed makes a run deliver the
//! same messages every time, so one run beforehand gives the throughput:
//! the count the bench reports per run, over the measured time.

use std::fmt::Display;
use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use electorate::harness::algorithm::{Algorithm, Bully, Raft, Ring};
use electorate::harness::lock_service::{LeaseLock, ZkSequential};
use electorate::sim::metrics::Metrics;
use electorate::sim::simulation::{Simulation, SimulationOptions};

/// Benchmarks runs of `algorithm` in `group`, one benchmark per
/// (parameter, options) of `runs`, with `counted` (messages sent,
/// delivered, ...) of a run as the throughput; then closes the group.
pub fn bench_runs<A: Algorithm + Clone, P: Display>(
    mut group: BenchmarkGroup<'_, WallTime>,
    algorithm: &A,
    runs: impl IntoIterator<Item = (P, SimulationOptions)>,
    counted: fn(&Metrics) -> u64,
) {
    for (parameter, options) in runs {
        let metrics = Simulation::new(algorithm.clone(), options.clone())
            .run()
            .metrics;
        group.throughput(Throughput::Elements(counted(&metrics)));
        group.bench_with_input(
            BenchmarkId::from_parameter(parameter),
            &options,
            |b, options| {
                b.iter(|| {
                    let outcome = Simulation::new(algorithm.clone(), options.clone()).run();
                    black_box(outcome.trace_hash)
                })
            },
        );
    }
    group.finish();
}

/// A bench written once over the algorithm.
pub trait PerAlgorithm {
    fn bench<A: Algorithm + Clone>(&self, c: &mut Criterion, algorithm: A);
}

/// Runs `bench` on Raft, Bully and Ring, with their default settings.
pub fn on_every_algorithm(c: &mut Criterion, bench: &impl PerAlgorithm) {
    bench.bench(c, Raft::default());
    bench.bench(c, Bully::default());
    bench.bench(c, Ring::default());
}

/// Runs `bench` on every election of the suite: Raft, Bully, Ring and the
/// two lock-service patterns, with their default settings (fencing on).
// `sim` includes this file too, but times client workloads, which the
// lock-service candidates do not serve.
#[allow(dead_code)]
pub fn on_every_election(c: &mut Criterion, bench: &impl PerAlgorithm) {
    on_every_algorithm(c, bench);
    bench.bench(c, LeaseLock::default());
    bench.bench(c, ZkSequential::default());
}
