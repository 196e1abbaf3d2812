//! The seeds' trade-off "lease duration vs failover time", for
//! `electorate compare`: the two lock-service patterns (lease-lock with its
//! expiry decided by the store, then by the challengers, and zk-sequential)
//! with TTLs (for zk-sequential, session timeouts) of (by default) 1, 2, 5
//! and 12 s, each measured in the simulator for the time a crashed
//! holder's successor takes to hold the lock and for what keeping the
//! lease costs in messages, beside Raft's failover and heartbeat traffic.
//!
//! Failover is timed from the holder's crash to the first holder of a later
//! revision, over the seeds. The message rates come from quiet runs without
//! clients or protected writes (a holder's job comes once an hour): alone,
//! one candidate sends only its renewals (keep-alives) and the store only
//! its answers; with every candidate, lease-lock's challengers poll the
//! held key, while zk-sequential's candidates keep their own sessions
//! alive and watch their predecessors. Raft's rate is its leader's
//! heartbeats and their responses.

use std::time::Duration;

use electorate::core::lease_lock::{Config, Expiry};
use electorate::core::time::Time;
use electorate::harness::algorithm::{Algorithm, Raft};
use electorate::harness::lock_service::{LeaseLock, ZkSequential};
use electorate::sim::experiments::{leader_crash, quiet};
use electorate::sim::faults::{Fault, ScheduledFault};
use electorate::sim::metrics::Distribution;
use electorate::sim::simulation::{Simulation, SimulationOptions};
use serde::Serialize;

/// One point of the trade-off: a lock-service pattern at one TTL, or Raft.
#[derive(Clone, Debug, Serialize)]
pub struct TradeoffRow {
    /// `lease-lock` (its expiry decided by the store),
    /// `lease-lock-challenger` (by the challengers), `zk-sequential` or
    /// `raft`.
    pub algorithm: &'static str,
    /// The lease's TTL (zk-sequential: the session timeout) in seconds;
    /// `None` for Raft.
    pub ttl_seconds: Option<f64>,
    pub nodes: u64,
    /// From the holder's (leader's) crash to a successor holding (leading).
    pub failover_ms: Option<Distribution>,
    /// The holder's renewals (keep-alives) and the store's answers per
    /// second, measured with one candidate. Raft: heartbeats and their
    /// responses.
    pub renewal_messages_per_second: f64,
    /// Every message per second in a quiet run of all the candidates
    /// (lease-lock: renewals and the challengers' polls; zk-sequential:
    /// every session's keep-alives and the watches; Raft: the same as the
    /// renewal column, measured on the same run).
    pub messages_per_second: f64,
}

/// The candidates' configuration at `ttl`: the default timings with the
/// margin and the renewal kept in proportion to the TTL (150 ms of 1 s, a
/// third), and no protected writes to speak of.
fn scaled(ttl: Duration) -> Config {
    let config = Config {
        ttl,
        safety_margin: ttl * 150 / 1_000,
        work_pause: Duration::from_secs(3_600),
        ..Config::default()
    };
    assert_eq!(config.validate(), Ok(()), "the scaled timings are valid");
    config
}

/// A quiet run of `nodes` candidates without clients, long enough for the
/// steady state to dominate.
fn quiet_without_clients(nodes: u64, seed: u64, duration: Duration) -> SimulationOptions {
    let mut options = quiet(nodes, seed, duration);
    options.workload.clients = 0;
    options.linearizability_steps = None;
    options
}

/// The holder crashes once the first holder is settled and stays down for
/// three TTLs, so only a successor can end the failover.
fn holder_crash(nodes: u64, seed: u64, ttl: Duration) -> SimulationOptions {
    let crash_at = Duration::from_secs(2);
    let downtime = ttl * 3;
    let mut options = quiet_without_clients(nodes, seed, crash_at + downtime + ttl);
    options.faults.push(ScheduledFault {
        at: Time::from_micros(crash_at.as_micros() as u64),
        fault: Fault::CrashLeader { downtime },
    });
    options
}

/// Messages per second of a run, over its whole length.
fn rate<A: Algorithm>(algorithm: A, options: SimulationOptions) -> f64 {
    let seconds = options.duration.as_secs_f64();
    let outcome = Simulation::new(algorithm, options).run();
    outcome.metrics.messages_sent as f64 / seconds
}

fn failovers<A: Algorithm + Clone>(
    algorithm: &A,
    seeds: u64,
    options: impl Fn(u64) -> SimulationOptions,
) -> Option<Distribution> {
    let mut samples = Vec::new();
    for seed in 0..seeds {
        let outcome = Simulation::new(algorithm.clone(), options(seed)).run();
        samples.extend(outcome.metrics.failover_micros);
    }
    Distribution::of(&samples)
}

/// The trade-off over `ttls` for `nodes` candidates, `seeds` crashes each:
/// lease-lock's rows with the store deciding expiry, then with the
/// challengers deciding it, then zk-sequential's, then Raft's.
pub fn measure(ttls: &[Duration], nodes: u64, seeds: u64) -> Vec<TradeoffRow> {
    let mut rows = Vec::new();
    for (label, expiry) in [
        ("lease-lock", Expiry::Store),
        ("lease-lock-challenger", Expiry::Challenger),
    ] {
        rows.extend(ttls.iter().map(|&ttl| {
            let config = Config {
                expiry,
                ..scaled(ttl)
            };
            let algorithm = LeaseLock {
                config,
                fencing: true,
            };
            lock_row(label, algorithm, ttl, nodes, seeds)
        }));
    }
    rows.extend(ttls.iter().map(|&ttl| {
        let algorithm = ZkSequential {
            config: scaled(ttl),
            fencing: true,
        };
        lock_row("zk-sequential", algorithm, ttl, nodes, seeds)
    }));
    let raft = Raft::default();
    let heartbeats = rate(
        raft.clone(),
        quiet_without_clients(nodes, 0, Duration::from_secs(10)),
    );
    rows.push(TradeoffRow {
        algorithm: "raft",
        ttl_seconds: None,
        nodes,
        failover_ms: failovers(&raft, seeds, |seed| leader_crash(nodes, seed)),
        renewal_messages_per_second: heartbeats,
        messages_per_second: heartbeats,
    });
    rows
}

/// One lock-service pattern at `ttl`, labelled `label`: its failovers over
/// the seeds, the holder's renewal traffic alone and every candidate's
/// traffic.
fn lock_row<A: Algorithm + Clone>(
    label: &'static str,
    algorithm: A,
    ttl: Duration,
    nodes: u64,
    seeds: u64,
) -> TradeoffRow {
    // Long enough for several renewals at the longest TTL.
    let steady = Duration::from_secs(10).max(ttl * 5);
    TradeoffRow {
        algorithm: label,
        ttl_seconds: Some(ttl.as_secs_f64()),
        nodes,
        failover_ms: failovers(&algorithm, seeds, |seed| holder_crash(nodes, seed, ttl)),
        renewal_messages_per_second: rate(algorithm.clone(), quiet_without_clients(1, 0, steady)),
        messages_per_second: rate(algorithm, quiet_without_clients(nodes, 0, steady)),
    }
}

pub fn print(rows: &[TradeoffRow]) {
    let Some(nodes) = rows.first().map(|row| row.nodes) else {
        return;
    };
    println!();
    println!("lease duration vs failover time ({nodes} candidates; raft: {nodes} nodes)");
    println!(
        "{:<21} {:>6} {:>20} {:>16} {:>14}",
        "algo", "ttl", "failover p50/p99", "renewal msgs/s", "all msgs/s"
    );
    for row in rows {
        let ttl = row
            .ttl_seconds
            .map_or("-".to_owned(), |seconds| format!("{seconds} s"));
        let failover = row
            .failover_ms
            .as_ref()
            .map_or("-".to_owned(), |d| format!("{:.0}/{:.0} ms", d.p50, d.p99));
        println!(
            "{:<21} {:>6} {:>20} {:>16.1} {:>14.1}",
            row.algorithm, ttl, failover, row.renewal_messages_per_second, row.messages_per_second
        );
    }
    println!(
        "ttl: zk-sequential's is its session timeout. renewal msgs/s: the holder alone \
         (renewals or keep-alives, and the store's answers); raft's heartbeats and responses. \
         all msgs/s adds lease-lock's challengers' polls (lease-lock-challenger: the challengers \
         decide expiry by their own clocks), zk-sequential's other sessions and watches."
    );
}

/// The failover samples' median in milliseconds, for the charts.
pub fn failover_p50_ms(row: &TradeoffRow) -> Option<f64> {
    row.failover_ms.as_ref().map(|d| d.p50)
}
