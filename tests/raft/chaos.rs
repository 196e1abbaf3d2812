//! Randomized fault runs over the scenario harness: partitions, one-way
//! cuts, crashes and restarts, clock drift within the bound, client writes
//! and reads — then a healing phase in which a leader must emerge and every
//! node must catch up. The safety monitors judge every step. Each failure
//! names the seed that reproduces it (`CHAOS_SEED=<seed> cargo test --test
//! raft chaos`); `CHAOS_RUNS` raises the number of seeds.

use std::time::Duration;

use electorate::core::node::Node;
use electorate::core::raft::Config;
use electorate::sim::cluster::Cluster;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn runs() -> u64 {
    std::env::var("CHAOS_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(40)
}

fn seeds() -> Vec<u64> {
    match std::env::var("CHAOS_SEED") {
        Ok(seed) => vec![seed.parse().expect("CHAOS_SEED is a number")],
        Err(_) => (0..runs()).collect(),
    }
}

/// One run: `size` nodes, faults for `fault_steps` steps, then heal.
fn chaos_run(seed: u64, size: u64, config: Config, fault_steps: usize) -> Result<(), String> {
    let mut faults = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut cluster =
        Cluster::new(size, config.clone(), seed).map_err(|error| error.to_string())?;
    // Clocks drift within the configured bound: over an election timeout,
    // two clocks at ±rate disagree by at most 2 * rate * timeout.
    let bound = config.clock_drift_bound.as_micros() as f64;
    let max_rate = bound / (2.0 * config.election_timeout_min.as_micros() as f64) * 0.95;
    for id in 1..=size {
        let rate = faults.random_range(-max_rate..max_rate);
        cluster.set_clock_rate(id, (rate * 1_000_000.0) as i64);
    }
    let mut next_value = 0;
    for _ in 0..fault_steps {
        match faults.random_range(0..100) {
            0..10 => {
                let cut: Vec<u64> = (1..=size).filter(|_| faults.random_bool(0.4)).collect();
                let rest: Vec<u64> = (1..=size).filter(|id| !cut.contains(id)).collect();
                cluster.partition(&[cut, rest]);
            }
            10..15 => {
                let from = faults.random_range(1..=size);
                let to = faults.random_range(1..=size);
                cluster.cut(from, to);
            }
            15..25 => cluster.heal(),
            25..30 => cluster.crash(faults.random_range(1..=size)),
            30..40 => cluster.restart(faults.random_range(1..=size)),
            40..70 => {
                next_value += 1;
                let node = cluster.leader().unwrap_or(faults.random_range(1..=size));
                cluster.write(node, "x", next_value);
            }
            70..85 => {
                let node = cluster.leader().unwrap_or(faults.random_range(1..=size));
                cluster.read(node, "x");
            }
            85..88 => {
                if let Some(leader) = cluster.leader() {
                    cluster.transfer(leader, faults.random_range(1..=size));
                }
            }
            _ => {}
        }
        let pause = Duration::from_millis(faults.random_range(1..200));
        cluster.run_for(pause);
        if let Some(violation) = cluster.violations().first() {
            return Err(format!("{violation} at {}", cluster.now()));
        }
    }
    // Liveness: with every node up and every link healed, a leader must be
    // elected and commit within a few election timeouts.
    cluster.heal();
    for id in 1..=size {
        cluster.restart(id);
    }
    cluster.run_for(Duration::from_secs(3));
    let leader = cluster.leader().ok_or("no leader after healing")?;
    next_value += 1;
    let request = cluster.write(leader, "x", next_value);
    cluster.run_for(Duration::from_secs(1));
    if cluster
        .reply_to(request)
        .is_none_or(|reply| reply.result.is_err())
    {
        return Err(format!("healed leader {leader} did not commit a write"));
    }
    let commit = cluster.node(leader).expect("up").commit_index();
    for id in 1..=size {
        let node = cluster.node(id).expect("restarted");
        if node.commit_index() != commit {
            return Err(format!(
                "node {id} committed {} but the leader {commit}",
                node.commit_index()
            ));
        }
    }
    if let Some(violation) = cluster.violations().first() {
        return Err(format!("{violation}"));
    }
    if std::env::var("CHAOS_VERBOSE").is_ok() {
        let monitor = cluster.monitor();
        eprintln!(
            "seed {seed}: {} terms with a leader, {} entries committed, {} replies",
            monitor.leaders().len(),
            monitor.committed_len(),
            cluster.replies().len()
        );
    }
    Ok(())
}

fn check_all(size: u64, config: Config) {
    let mut failures = Vec::new();
    for seed in seeds() {
        if let Err(failure) = chaos_run(seed, size, config.clone(), 60) {
            failures.push(format!(
                "seed {seed}: {failure}\n  reproduce: CHAOS_SEED={seed} cargo test --test raft chaos"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn three_nodes_keep_safety_and_recover() {
    check_all(3, Config::default());
}

#[test]
fn five_nodes_keep_safety_and_recover() {
    check_all(5, Config::default());
}

#[test]
fn five_nodes_without_prevote_keep_safety_and_recover() {
    let config = Config {
        pre_vote: false,
        ..Config::default()
    };
    check_all(5, config);
}

#[test]
fn seven_nodes_without_leases_keep_safety_and_recover() {
    let config = Config {
        lease_reads: false,
        check_quorum: false,
        ..Config::default()
    };
    check_all(7, config);
}
