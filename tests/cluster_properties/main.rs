//! Property tests over whole clusters: proptest draws a cluster size, a
//! seed, a fault schedule (crashes, restarts, pauses, partitions of every
//! shape, bursts of message loss, at chosen times), clock drift within the
//! configured bound, the network and a client workload; the simulator runs
//! it; the monitors (Election Safety, Lease Safety, Log Matching, Leader
//! Completeness, State Machine Safety, liveness) must stay silent and the
//! client history must be linearizable. A failure shrinks to a minimal
//! schedule, printed with its seed and a command that replays it.
//!
//! `cargo test` runs [`DEFAULT_CASES`] cases; `PROPTEST_CASES=5000 cargo
//! test --release --test cluster_properties` runs more.

mod follower_reads;
mod strategies;

use std::path::{Path, PathBuf};

use electorate::harness::algorithm::{Algorithm, Raft};
use electorate::sim::simulation::{Simulation, SimulationOptions};
use follower_reads::FollowerReads;
use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use strategies::Disks;

/// Cases per property in an ordinary `cargo test`.
const DEFAULT_CASES: u32 = 24;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// Where a failing case's options are written, for `simulate --options`.
fn failure_file(name: &str) -> PathBuf {
    let directory = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cluster_properties");
    std::fs::create_dir_all(&directory).expect("the target directory is writable");
    directory.join(format!("{name}.json"))
}

/// Runs one case: Ok if every property held, otherwise a report of the
/// violations, the schedule and how to replay it. The options are written
/// to `failure_file(name)` on every failure; proptest's last failing case
/// is its smallest, so the file ends up holding the shrunk schedule.
fn check_run<A: Algorithm + Clone>(
    algorithm: &A,
    name: &str,
    options: &SimulationOptions,
) -> Result<(), TestCaseError> {
    let outcome = Simulation::new(algorithm.clone(), options.clone()).run();
    let failures: Vec<String> = outcome
        .failures()
        .map(|violation| {
            format!(
                "{} at {:.3}s: {}",
                violation.property,
                violation.at_micros as f64 / 1e6,
                violation.detail
            )
        })
        .collect();
    if failures.is_empty() {
        return Ok(());
    }
    let path = failure_file(name);
    let json = serde_json::to_string_pretty(options).expect("options serialize");
    std::fs::write(&path, json).expect("the failure file is writable");
    Err(TestCaseError::fail(format!(
        "{}\n{}",
        failures.join("\n"),
        describe(algorithm, options, &path)
    )))
}

/// The run in words: size, seed, clocks, the schedule one fault per line,
/// and the replay command.
fn describe<A: Algorithm>(algorithm: &A, options: &SimulationOptions, file: &Path) -> String {
    let mut text = format!(
        "{} nodes, seed {}, clock rates {:?} ppm, loss {:.3}, duplicate {:.3}, reorder {}, {} clients on {} keys\nschedule ({} faults):\n",
        options.nodes,
        options.seed,
        options.clock_rates_ppm,
        options.network.loss,
        options.network.duplicate,
        options.network.reorder,
        options.workload.clients,
        options.workload.keys,
        options.faults.len()
    );
    for scheduled in &options.faults {
        text += &format!(
            "  {:>7.3}s  {}\n",
            scheduled.at.as_micros() as f64 / 1e6,
            scheduled.fault
        );
    }
    let name = algorithm.name();
    text += &if ["raft", "bully", "ring"].contains(&name) {
        format!(
            "reproduce: cargo run --release -- simulate --algo {name} --options {}",
            file.display()
        )
    } else {
        format!(
            "reproduce: {name} exists only in this test; its options are in {}",
            file.display()
        )
    };
    text
}

fn runner() -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases: cases(),
        // Shrinking replays whole runs; this bounds how long it may take.
        max_shrink_iters: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })
}

#[test]
fn raft_keeps_every_property_under_any_fault_schedule() {
    let raft = Raft::default();
    let result = runner().run(&strategies::run_options(Disks::Failing), |options| {
        check_run(&raft, "raft", &options)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// The property test earns its place: with followers that serve reads
/// from their own state, it finds a history that is not linearizable and
/// shrinks the run to a short schedule (a stale read needs no fault at all,
/// only a follower that has not yet heard of a commit).
#[test]
fn follower_reads_are_found_and_shrunk() {
    let broken = FollowerReads::default();
    // A fixed proptest seed, so the test is deterministic and the shrunk
    // schedule it prints is the same on every machine.
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig {
            cases: 200,
            max_shrink_iters: 2_000,
            failure_persistence: None,
            ..ProptestConfig::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let result = runner.run(&strategies::run_options(Disks::Reliable), |options| {
        check_run(&broken, "follower-reads", &options)
    });
    let Err(TestError::Fail(reason, minimal)) = result else {
        panic!("200 cases never exposed follower reads: {result:?}");
    };
    println!("shrunk to:\n{reason}");
    assert!(
        reason.message().contains("Linearizability"),
        "found something other than a stale read: {reason}"
    );
    assert!(
        minimal.faults.len() <= 2,
        "shrinking left {} faults",
        minimal.faults.len()
    );
}
