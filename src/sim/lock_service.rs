//! Simulating the lock-service variants: swarm settings that keep every
//! clock, the service's included, within the variant's drift bound, and the
//! tests that state Fenced Writes and Exclusive Holding against the
//! simulator's pauses, drift and partitions, for `lease-lock` and
//! `zk-sequential` alike, and zk-sequential's absence of a herd effect
//! (each deletion notifies at most one watcher).

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::harness::lock_service::LockAlgorithm;
use crate::sim::faults::FaultKind;
use crate::sim::simulation::SimulationOptions;
use crate::sim::swarm::{self, SwarmSettings};

/// Swarm settings for `nodes` candidates of a lock-service variant: clocks
/// drift at most the configured rate (the swarm draws rates whose
/// disagreement over `drift_interval` stays within `drift_bound`: twice
/// the rate over one TTL or session timeout), a healed core has the
/// variant's election bound plus a second to elect, and no clients (the
/// candidates serve no operations).
pub fn lock_settings<A: LockAlgorithm>(
    algorithm: &A,
    nodes: u64,
    duration: Duration,
    kinds: Vec<FaultKind>,
) -> SwarmSettings {
    let config = algorithm.config();
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
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use rand::RngCore;

    use super::*;
    use crate::core::lease_lock::{Config, Expiry};
    use crate::core::lock_service::{LockMember, LockMessage};
    use crate::core::node::{Actions, Input, Node, NodeId};
    use crate::core::store::Revision;
    use crate::core::time::Time;
    use crate::core::zk_sequential::ZkSequentialNode;
    use crate::harness::algorithm::{Algorithm, AlgorithmWrapper};
    use crate::harness::lock_service::{LeaseLock, ZkSequential};
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

    fn run<A: Algorithm>(
        algorithm: A,
        faults: Vec<ScheduledFault>,
        clock_rates_ppm: Vec<i64>,
    ) -> Outcome {
        run_among(CANDIDATES, algorithm, faults, clock_rates_ppm)
    }

    fn run_among<A: Algorithm>(
        nodes: u64,
        algorithm: A,
        faults: Vec<ScheduledFault>,
        clock_rates_ppm: Vec<i64>,
    ) -> Outcome {
        let options = SimulationOptions {
            nodes,
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
    fn busy_config() -> Config {
        Config {
            work_pause: Duration::ZERO,
            ..Config::default()
        }
    }

    fn busy(fencing: bool) -> LeaseLock {
        let config = busy_config();
        LeaseLock { config, fencing }
    }

    fn busy_zk(fencing: bool) -> ZkSequential {
        let config = busy_config();
        ZkSequential { config, fencing }
    }

    /// Each candidate in turn is paused for three seconds, three times the
    /// TTL: whichever leads then loses its lease to the other and wakes to
    /// finish its job's write under the old token.
    fn pauses() -> Vec<ScheduledFault> {
        vec![pause(1, 2_000), pause(2, 6_000), pause(1, 9_000)]
    }

    /// Without fencing, the paused holder's write under its old token is
    /// accepted after its successor's, and Fenced Writes catches it.
    fn assert_the_stale_write_is_found<A: Algorithm>(algorithm: A) {
        let outcome = run(algorithm, pauses(), Vec::new());
        assert_eq!(
            broken(&outcome),
            ["Fenced Writes"],
            "{:#?}",
            outcome.timeline
        );
        assert!(outcome.metrics.leaders_elected >= 2);
    }

    #[test]
    fn without_fencing_a_paused_holder_writes_after_its_successor() {
        assert_the_stale_write_is_found(busy(false));
    }

    #[test]
    fn with_fencing_the_paused_holder_is_refused_and_fenced_writes_holds() {
        assert_nothing_broken_across_holders(&run(busy(true), pauses(), Vec::new()));
    }

    /// zk-sequential's paused leader loses its session, its successor is
    /// woken by the watch, and the old leader's pending write lands late.
    #[test]
    fn zk_without_fencing_a_paused_leader_writes_after_its_successor() {
        assert_the_stale_write_is_found(busy_zk(false));
    }

    #[test]
    fn zk_with_fencing_the_paused_leader_is_refused_and_fenced_writes_holds() {
        assert_nothing_broken_across_holders(&run(busy_zk(true), pauses(), Vec::new()));
    }

    /// Both candidates' clocks run 5% slow and the store's 5% fast; the
    /// holder is cut off at 2 s, so its lease (or session) runs out by the
    /// store's clock while its own still counts. Lease-lock candidates
    /// retry every 10-20 ms, so the successor is granted the key within
    /// the gap; a zk-sequential successor is woken by its watch.
    fn drift_against_margin(safety_margin: Duration, zk: bool) -> Outcome {
        let config = Config {
            safety_margin,
            retry_min: Duration::from_millis(10),
            retry_max: Duration::from_millis(20),
            ..Config::default()
        };
        let isolate = at(2_000, Fault::Partition(Partition::IsolateLeader));
        let faults = vec![isolate, at(5_000, Fault::Heal)];
        let rates = vec![-50_000, -50_000, 50_000];
        if zk {
            let fencing = true;
            run(ZkSequential { config, fencing }, faults, rates)
        } else {
            let fencing = true;
            run(LeaseLock { config, fencing }, faults, rates)
        }
    }

    #[test]
    fn a_margin_below_the_drift_allowance_breaks_exclusive_holding() {
        let margin = Duration::from_millis(20);
        let config = Config {
            safety_margin: margin,
            ..Config::default()
        };
        assert!(config.validate().is_err(), "start-up refuses this margin");
        for zk in [false, true] {
            let outcome = drift_against_margin(margin, zk);
            // Lease Safety judges the same overlap through `holds_lease`.
            let expected = ["Exclusive Holding", "Lease Safety"];
            assert_eq!(broken(&outcome), expected, "zk-sequential: {zk}");
        }
    }

    #[test]
    fn a_margin_that_covers_the_drift_keeps_exclusive_holding() {
        let config = Config::default();
        assert_eq!(config.validate(), Ok(()));
        for zk in [false, true] {
            let outcome = drift_against_margin(config.safety_margin, zk);
            assert_nothing_broken_across_holders(&outcome);
        }
    }

    fn busy_challenged(fencing: bool) -> LeaseLock {
        let config = Config {
            expiry: Expiry::Challenger,
            ..busy_config()
        };
        LeaseLock { config, fencing }
    }

    /// Challenger expiry: the paused holder's record is left alone, the
    /// other candidate sees it unchanged for the TTL by its own clock and
    /// takes it over, and the holder wakes to write under its old token.
    #[test]
    fn challenger_expiry_without_fencing_a_paused_holder_writes_after_its_successor() {
        assert_the_stale_write_is_found(busy_challenged(false));
    }

    #[test]
    fn challenger_expiry_with_fencing_the_paused_holder_is_refused() {
        assert_nothing_broken_across_holders(&run(busy_challenged(true), pauses(), Vec::new()));
    }

    /// Node 1 holds (node 2 is cut off for the first second) and is cut
    /// off from 2 s to 5 s; retries every 10-20 ms, so node 2 succeeds it
    /// as soon as it may.
    fn isolated_holder(expiry: Expiry, safety_margin: Duration, rates: Vec<i64>) -> Outcome {
        let config = Config {
            safety_margin,
            retry_min: Duration::from_millis(10),
            retry_max: Duration::from_millis(20),
            expiry,
            ..Config::default()
        };
        let alone = |node| Fault::Partition(Partition::Split { side: vec![node] });
        let faults = vec![
            at(0, alone(2)),
            at(1_000, Fault::Heal),
            at(2_000, alone(1)),
            at(5_000, Fault::Heal),
        ];
        let fencing = true;
        run(LeaseLock { config, fencing }, faults, rates)
    }

    /// Who decides expiry decides whose clock can break Exclusive Holding.
    /// With the store's clock 5% fast and both candidates' 5% slow, the
    /// store frees the key while the holder's clock still counts, but a
    /// challenger, as slow as the holder, waits longer than it leads. With
    /// the store's clock slow, the holder's slow and the challenger's fast,
    /// the store keeps the lease past the holder's lead, but the fast
    /// challenger's wait ends first. (The margin is 20 ms, below the 95 ms
    /// drift allowance the core requires.)
    #[test]
    fn store_and_challenger_expiry_break_under_different_clocks() {
        let margin = Duration::from_millis(20);
        let fast_store = vec![-50_000, -50_000, 50_000];
        let fast_challenger = vec![-50_000, 50_000, -50_000];
        let overlap = ["Exclusive Holding", "Lease Safety"];
        let none: [&str; 0] = [];
        for (expiry, rates, expected) in [
            (Expiry::Store, &fast_store, &overlap[..]),
            (Expiry::Challenger, &fast_store, &none[..]),
            (Expiry::Store, &fast_challenger, &none[..]),
            (Expiry::Challenger, &fast_challenger, &overlap[..]),
        ] {
            let outcome = isolated_holder(expiry, margin, rates.clone());
            assert_eq!(
                broken(&outcome),
                expected,
                "{expiry:?} with rates {rates:?}"
            );
            assert!(outcome.metrics.leaders_elected >= 2, "{expiry:?} {rates:?}");
        }
        // The margin the core requires covers the fast challenger too.
        let config = Config::default();
        let outcome = isolated_holder(Expiry::Challenger, config.safety_margin, fast_challenger);
        assert_nothing_broken_across_holders(&outcome);
    }

    /// The notices a run's store sent, by deleted entry: the watchers told.
    type Notices = Arc<Mutex<BTreeMap<Revision, Vec<NodeId>>>>;

    /// zk-sequential with every notice the service sends recorded.
    #[derive(Clone, Debug, Default)]
    struct NoticeProbe {
        inner: ZkSequential,
        notices: Notices,
    }

    #[derive(Clone, Debug)]
    struct Probed {
        member: LockMember<ZkSequentialNode>,
        notices: Notices,
    }

    impl Node for Probed {
        type Message = LockMessage;
        type Persist = ();

        fn step(
            &mut self,
            now: Time,
            rng: &mut dyn RngCore,
            input: Input<LockMessage>,
            actions: &mut Actions<LockMessage, ()>,
        ) {
            let before = actions.messages.len();
            self.member.step(now, rng, input, actions);
            let mut notices = self.notices.lock().expect("no step panicked");
            for out in &actions.messages[before..] {
                if let LockMessage::Notify { deleted } = out.message {
                    notices.entry(deleted).or_default().push(out.to);
                }
            }
        }

        crate::delegate_node_queries!(member);
    }

    impl AlgorithmWrapper for NoticeProbe {
        type Inner = ZkSequential;
        type Node = Probed;

        fn inner(&self) -> &ZkSequential {
            &self.inner
        }

        fn wrap(&self, member: LockMember<ZkSequentialNode>) -> Probed {
            let notices = Arc::clone(&self.notices);
            Probed { member, notices }
        }

        fn unwrap(node: &Probed) -> &LockMember<ZkSequentialNode> {
            &node.member
        }
    }

    /// No herd effect: four candidates, each paused in turn for three
    /// session timeouts, so every one's entry goes once; each deletion
    /// notifies at most one watcher (its successor), and the notices did
    /// wake the successors.
    #[test]
    fn zk_each_deletion_wakes_at_most_one_watcher() {
        let probe = NoticeProbe::default();
        let faults = vec![
            pause(1, 2_000),
            pause(2, 5_500),
            pause(3, 9_000),
            pause(4, 1_000),
        ];
        let outcome = run_among(4, probe.clone(), faults, Vec::new());
        assert_nothing_broken_across_holders(&outcome);
        let notices = probe.notices.lock().unwrap();
        assert!(notices.len() >= 2, "deletions with a watcher: {notices:?}");
        for (deleted, watchers) in notices.iter() {
            assert_eq!(watchers.len(), 1, "entry {deleted} woke {watchers:?}");
        }
    }
}
