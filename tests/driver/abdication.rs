//! Health-based abdication on the real node loops (the crash simulator's
//! simulated disks and time), judged by the property of each case: a slow
//! leader loses leadership within the bound and it never lands on a slow
//! node; a healthy cluster keeps its leader and starts no hand-over; a
//! uniformly slow cluster keeps its leader, backs off its declined
//! hand-overs and keeps its write rate; a leader whose fsync fails
//! wakes a follower before it stops, faster than any election timeout.

use std::time::Duration;

use electorate::core::raft::Config;
use electorate::driver::crash_sim::abdication::{run_scenario, Scenario};
use electorate::driver::crash_sim::{run, CrashSimOptions};

fn holds(scenario: Scenario, seeds: std::ops::Range<u64>) {
    for seed in seeds {
        let judgement = run_scenario(scenario, 5, seed);
        assert!(
            judgement.failures.is_empty(),
            "{scenario:?} seed {seed}: {:?}\n{judgement:?}",
            judgement.failures
        );
    }
}

#[test]
fn leadership_leaves_a_slow_leader_within_the_bound_and_never_lands_on_a_slow_node() {
    holds(Scenario::SlowLeader, 0..4);
}

#[test]
fn a_healthy_leader_is_not_replaced() {
    holds(Scenario::Healthy, 0..2);
}

/// And it backs off: the hand-overs it starts stay within the back-off's
/// bound, and it commits nearly as many writes as when left alone.
#[test]
fn a_uniformly_slow_cluster_keeps_its_leader_and_its_write_rate() {
    holds(Scenario::AllSlow, 0..3);
}

#[test]
fn a_leader_whose_fsync_fails_is_replaced_sooner_than_an_election_timeout_allows() {
    // Followers heard from the leader at most a heartbeat before it
    // stopped, so no timeout fires before `election_timeout_min` minus a
    // heartbeat after the failure; a new leader sooner was woken by it.
    let config = Config::default();
    let quickest_timeout = config.election_timeout_min - config.heartbeat_interval;
    for seed in 0..4 {
        let report = run(&CrashSimOptions {
            fsync_error: true,
            crash_every: Duration::from_secs(3_600),
            ..CrashSimOptions::new(5, seed)
        });
        assert!(
            report.violations.is_empty(),
            "seed {seed}: {:?}",
            report.violations
        );
        let failed = report.fsync_failure_at.expect("the fsync fault struck");
        let (stopped, _) = &report.fsync_failures[0];
        let next = report
            .leaders
            .iter()
            .find(|&&(at, leader, _)| at >= failed && leader != *stopped)
            .unwrap_or_else(|| panic!("seed {seed}: no leader after the failure: {report:?}"));
        assert!(
            next.0.saturating_since(failed) < quickest_timeout,
            "seed {seed}: the next leader took office {:?} after the failure",
            next.0.saturating_since(failed)
        );
    }
}

