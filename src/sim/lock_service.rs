//! Simulating the lock-service variants: swarm settings that keep every
//! clock, the service's included, within the variant's drift bound, and the
//! tests that state Fenced Writes and Exclusive Holding against the
//! simulator's pauses, drift and partitions.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::harness::algorithm::Algorithm;
use crate::harness::lock_service::LeaseLock;
use crate::sim::faults::FaultKind;
use crate::sim::simulation::SimulationOptions;
use crate::sim::swarm::{self, SwarmSettings};

/// Swarm settings for `nodes` lease-lock candidates: clocks drift at most
/// the configured rate (the swarm draws rates whose disagreement over
/// `drift_interval` stays within `drift_bound`: twice the rate over one
/// TTL), a healed core has the variant's election bound plus a second to
/// elect, and no clients (the candidates serve no operations).
pub fn lease_lock_settings(
    algorithm: &LeaseLock,
    nodes: u64,
    duration: Duration,
    kinds: Vec<FaultKind>,
) -> SwarmSettings {
    let config = &algorithm.config;
    let mut settings = SwarmSettings::new(nodes, duration, kinds);
    settings.drift_interval = config.ttl;
    settings.drift_bound = config.ttl * 2 * config.clock_drift_ppm / 1_000_000;
    settings.liveness_bound = algorithm.election_bound() + Duration::from_secs(1);
    settings.workload.clients = 0;
    settings
}

/// The swarm run of `seed`, with a drifting clock for the service member
/// too (the swarm draws one per candidate), inside the same bound.
pub fn draw(seed: u64, settings: &SwarmSettings) -> SimulationOptions {
    let mut options = swarm::draw(seed, settings);
    if let Some(&first) = options.clock_rates_ppm.first() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(5);
        let bound = options
            .clock_rates_ppm
            .iter()
            .map(|rate| rate.abs())
            .max()
            .unwrap_or(first.abs());
        options
            .clock_rates_ppm
            .push(rng.random_range(-bound..=bound));
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lease_lock::Config;
    use crate::core::node::NodeId;
    use crate::core::time::Time;
    use crate::sim::faults::{Fault, Partition, ScheduledFault};
    use crate::sim::network::NetworkOptions;
    use crate::sim::simulation::{Outcome, Simulation};
    use crate::sim::workload::WorkloadOptions;

    const CANDIDATES: u64 = 2;

    fn at(millis: u64, fault: Fault) -> ScheduledFault {
        ScheduledFault {
            at: Time::from_millis(millis),
            fault,
        }
    }

    fn pause(node: NodeId, at_millis: u64) -> ScheduledFault {
        let duration = Duration::from_secs(3);
        at(at_millis, Fault::Pause { node, duration })
    }

    fn run(
        algorithm: LeaseLock,
        faults: Vec<ScheduledFault>,
        clock_rates_ppm: Vec<i64>,
    ) -> Outcome {
        let options = SimulationOptions {
            nodes: CANDIDATES,
            seed: 7,
            duration: Duration::from_secs(12),
            network: NetworkOptions::default(),
            faults,
            clock_rates_ppm,
            workload: WorkloadOptions {
                clients: 0,
                ..WorkloadOptions::default()
            },
            liveness: None,
            linearizability_steps: None,
        };
        Simulation::new(algorithm, options).run()
    }

    /// The properties the run broke, by name, in name order.
    fn broken(outcome: &Outcome) -> Vec<&str> {
        let mut names: Vec<&str> = outcome.failures().map(|v| v.property.as_str()).collect();
        names.sort_unstable();
        names
    }

    /// No property broke, in a run whose faults did change holders (so the
    /// run tested a handover, not one holder throughout).
    fn assert_nothing_broken_across_holders(outcome: &Outcome) {
        assert_eq!(
            broken(outcome),
            Vec::<&str>::new(),
            "{:#?}",
            outcome.timeline
        );
        assert!(
            outcome.metrics.leaders_elected >= 2,
            "the faults changed holders"
        );
    }

    /// A holder always has a job in flight, so a pause always falls between
    /// a job's check and its write.
    fn busy(fencing: bool) -> LeaseLock {
        let config = Config {
            work_pause: Duration::ZERO,
            ..Config::default()
        };
        LeaseLock { config, fencing }
    }

    /// Each candidate in turn is paused for three seconds, three times the
    /// TTL: whichever leads then loses its lease to the other and wakes to
    /// finish its job's write under the old token.
    fn pauses() -> Vec<ScheduledFault> {
        vec![pause(1, 2_000), pause(2, 6_000), pause(1, 9_000)]
    }

    #[test]
    fn without_fencing_a_paused_holder_writes_after_its_successor() {
        let outcome = run(busy(false), pauses(), Vec::new());
        assert_eq!(
            broken(&outcome),
            ["Fenced Writes"],
            "{:#?}",
            outcome.timeline
        );
        assert!(outcome.metrics.leaders_elected >= 2);
    }

    #[test]
    fn with_fencing_the_paused_holder_is_refused_and_fenced_writes_holds() {
        assert_nothing_broken_across_holders(&run(busy(true), pauses(), Vec::new()));
    }

    /// Both candidates' clocks run 5% slow and the store's 5% fast; the
    /// holder is cut off at 2 s, so its lease runs out by the store's
    /// clock while its own still counts. Candidates retry every 10-20 ms,
    /// so the successor is granted the key within the gap.
    fn drift_against_margin(safety_margin: Duration) -> Outcome {
        let config = Config {
            safety_margin,
            retry_min: Duration::from_millis(10),
            retry_max: Duration::from_millis(20),
            ..Config::default()
        };
        let isolate = at(2_000, Fault::Partition(Partition::IsolateLeader));
        let faults = vec![isolate, at(5_000, Fault::Heal)];
        let algorithm = LeaseLock {
            config,
            fencing: true,
        };
        run(algorithm, faults, vec![-50_000, -50_000, 50_000])
    }

    #[test]
    fn a_margin_below_the_drift_allowance_breaks_exclusive_holding() {
        let margin = Duration::from_millis(20);
        let config = Config {
            safety_margin: margin,
            ..Config::default()
        };
        assert!(config.validate().is_err(), "start-up refuses this margin");
        let outcome = drift_against_margin(margin);
        // Lease Safety judges the same overlap through `holds_lease`.
        assert_eq!(broken(&outcome), ["Exclusive Holding", "Lease Safety"]);
    }

    #[test]
    fn a_margin_that_covers_the_drift_keeps_exclusive_holding() {
        let config = Config::default();
        assert_eq!(config.validate(), Ok(()));
        assert_nothing_broken_across_holders(&drift_against_margin(config.safety_margin));
    }
}
