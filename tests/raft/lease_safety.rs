//! Lease Safety against the configuration check: every configuration that
//! `Config::validate` accepts must keep at most one valid lease at any
//! instant, even when clocks drift as far as the configured bound allows in
//! the worst direction (the leader's clock slow, everyone else's fast) and
//! the leader is cut off right after a round. Reference: thesis §6.4.1.

use std::time::Duration;

use electorate::check::properties::Property;
use electorate::core::raft::Config;
use electorate::sim::cluster::Cluster;

use crate::support::lease_without_drift_margin;

/// Clock rates (parts per million) at which two clocks, one slow and one
/// fast, disagree by `drift` over `interval`.
fn worst_case_rate_ppm(drift: Duration, interval: Duration) -> i64 {
    (drift.as_micros() as f64 / (2.0 * interval.as_micros() as f64) * 1_000_000.0) as i64
}

/// Elects node 1 with its clock running `rate` ppm slow and the others'
/// `rate` fast, cuts it off after a few rounds, and lets the others elect a
/// new leader.
fn isolate_leader_under_drift(config: &Config, rate_ppm: i64, seed: u64) -> Cluster {
    let mut cluster = Cluster::new(3, config.clone(), seed).expect("accepted configuration");
    cluster.set_clock_rate(1, -rate_ppm);
    cluster.set_clock_rate(2, rate_ppm);
    cluster.set_clock_rate(3, rate_ppm);
    cluster.campaign(1);
    cluster.stabilize(100);
    cluster.run_for(Duration::from_millis(120));
    cluster.isolate(1);
    cluster.run_for(Duration::from_millis(800));
    cluster
}

fn lease_safety_broke(cluster: &Cluster) -> bool {
    cluster
        .violations()
        .iter()
        .any(|violation| violation.property == Property::LeaseSafety)
}

/// Lease Safety under the worst drift the configuration allows.
fn lease_safety_holds(config: &Config, seed: u64) -> bool {
    let rate = worst_case_rate_ppm(config.clock_drift_bound, config.election_timeout_min);
    let cluster = isolate_leader_under_drift(config, rate, seed);
    assert!(
        cluster.leader().is_some_and(|leader| leader != 1),
        "seed {seed}: the majority elects a new leader"
    );
    !lease_safety_broke(&cluster)
}

#[test]
fn every_accepted_configuration_keeps_lease_safety_under_worst_case_drift() {
    let mut checked = 0;
    for lease_ms in (50..=200).step_by(25) {
        for drift_ms in [0, 25, 50, 75] {
            let config = Config {
                lease_duration: Duration::from_millis(lease_ms),
                clock_drift_bound: Duration::from_millis(drift_ms),
                ..Config::default()
            };
            if config.validate(1, &[1, 2, 3]).is_err() {
                continue;
            }
            checked += 1;
            for seed in 0..12 {
                assert!(
                    lease_safety_holds(&config, seed),
                    "lease {lease_ms} ms, drift bound {drift_ms} ms, seed {seed}: two leases at once"
                );
            }
        }
    }
    assert!(checked >= 6, "only {checked} configurations accepted");
}

#[test]
fn a_lease_that_ignores_real_drift_is_caught_by_the_monitor() {
    // The configuration claims clocks never drift, so it passes validation
    // with a lease as long as the election timeout; the clocks then drift
    // by 16% each way. Some seeds elect a new leader while node 1 still
    // trusts its lease: the monitor must report it.
    let config = lease_without_drift_margin();
    let drifting = Config {
        clock_drift_bound: Duration::from_millis(96),
        ..config.clone()
    };
    let rate = worst_case_rate_ppm(drifting.clock_drift_bound, config.election_timeout_min);
    let caught = (0..12)
        .filter(|&seed| lease_safety_broke(&isolate_leader_under_drift(&config, rate, seed)))
        .count();
    assert!(caught > 0, "no seed exposed the unsafe lease");
}
