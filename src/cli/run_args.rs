//! Arguments shared by `simulate` and `sweep`, and the dispatch from the
//! `--algo` name to a concrete algorithm.

use std::time::Duration;

use electorate::core::lease_lock::Expiry;
use electorate::core::raft::Config;
use electorate::harness::algorithm::{Algorithm, Bully, Raft, Ring};
use electorate::harness::lock_service::{LeaseLock, ZkSequential};
use electorate::sim::experiments::{cold_start, leader_crash, leader_partition};
use electorate::sim::faults::{parse_fault_kinds, FaultKind};
use electorate::sim::lock_service;
use electorate::sim::simulation::SimulationOptions;
use electorate::sim::swarm::{draw, SwarmSettings};
use electorate::sim::units::{format_duration, parse_duration};
use electorate::sim::workload::WorkloadOptions;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Algo {
    Raft,
    Bully,
    Ring,
    /// raft-rs (TiKV's `raft` crate) with ReadIndex reads.
    #[cfg(feature = "raft-rs")]
    RaftRs,
    /// raft-rs with its lease-based reads.
    #[cfg(feature = "raft-rs")]
    RaftRsLease,
    /// Lease-based election on a linearizable store, with fencing tokens.
    LeaseLock,
    /// lease-lock whose protected resource accepts every token: shows the
    /// stale holder's write that fencing refuses.
    LeaseLockUnfenced,
    /// ZooKeeper's recipe: ephemeral sequential entries, the lowest leads,
    /// each candidate watches its predecessor; fencing by sequence number.
    ZkSequential,
    /// zk-sequential whose protected resource accepts every token.
    ZkSequentialUnfenced,
}

impl Algo {
    #[cfg(not(feature = "raft-rs"))]
    pub const ALL: &[Algo] = &[Algo::Raft, Algo::Bully, Algo::Ring];
    #[cfg(feature = "raft-rs")]
    pub const ALL: &[Algo] = &[
        Algo::Raft,
        Algo::Bully,
        Algo::Ring,
        Algo::RaftRs,
        Algo::RaftRsLease,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Algo::Raft => "raft",
            Algo::Bully => "bully",
            Algo::Ring => "ring",
            #[cfg(feature = "raft-rs")]
            Algo::RaftRs => "raft-rs",
            #[cfg(feature = "raft-rs")]
            Algo::RaftRsLease => "raft-rs-lease",
            Algo::LeaseLock => "lease-lock",
            Algo::LeaseLockUnfenced => "lease-lock-unfenced",
            Algo::ZkSequential => "zk-sequential",
            Algo::ZkSequentialUnfenced => "zk-sequential-unfenced",
        }
    }
}

/// What a run does: a swarm run draws faults from the seed; the others are
/// the fixed experiments of `electorate compare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Experiment {
    Swarm,
    ColdStart,
    LeaderCrash,
    LeaderPartition,
}

impl Experiment {
    pub fn name(self) -> &'static str {
        match self {
            Experiment::Swarm => "swarm",
            Experiment::ColdStart => "cold-start",
            Experiment::LeaderCrash => "leader-crash",
            Experiment::LeaderPartition => "leader-partition",
        }
    }
}

#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    /// The algorithm variant.
    #[arg(long, value_enum, default_value = "raft")]
    pub algo: Algo,
    /// Cluster size (1 to 9).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=9))]
    pub nodes: u64,
    /// Length of the safety phase (faults strike), e.g. 30s; a liveness
    /// phase follows.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Fault kinds: a comma-separated list of crash, pause, partition, loss,
    /// duplicate, reorder, drift, clock-jump, disk, in which `all` stands
    /// for every kind but clock-jump and disk (so `all,disk` adds disk
    /// faults); or `none`. A disk fault is a power loss during a node's next
    /// write (the batch reaches the disk whole or not at all, and nothing of
    /// that step is sent), an fsync error (the node stops for good) or
    /// synced data found damaged (the node crashes and refuses to start);
    /// nodes lost for good are at most a minority, outside the liveness
    /// core. A partition is a split, a one-way link, an
    /// isolated leader, a bridge (3 nodes or more) or a majorities ring (on
    /// 4, 5, 6, 8 or 9 nodes: on 2, 3 and 7 no ring gives every node exactly
    /// a majority), drawn among the shapes that exist at `--nodes`; one node
    /// has no link to cut, so it draws no partition.
    #[arg(long, default_value = "all", value_parser = parse_fault_set)]
    pub faults: FaultSet,
    /// A swarm run (faults drawn from the seed) or one of the fixed
    /// experiments (`--duration` and `--faults` then do not apply).
    #[arg(long, value_enum, default_value = "swarm")]
    pub experiment: Experiment,
    /// Batched clients: the requests reaching a node within this window
    /// (e.g. `2ms`) are handed to it as one client batch, as a driver that
    /// batches its clients' frames would; off by default. Shorter than the
    /// clients' 1 s request timeout.
    #[arg(long, value_parser = parse_batch_window)]
    pub batch_window: Option<Duration>,
    /// lease-lock only: who decides that a lease expired: `store` (the
    /// store's clock, etcd's leases; the default) or `challenger` (the
    /// store never expires the record; a challenger that saw it unchanged
    /// for the TTL by its own clock takes it over, Kubernetes' client-go).
    #[arg(long, value_enum)]
    pub expiry: Option<ExpiryChoice>,
    /// Raft only: every node takes a snapshot of its state machine (and
    /// compacts its log) each time this many entries were applied since its
    /// last one, and leaders send snapshots to followers that lag behind
    /// them; off by default.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub snapshot_every: Option<u64>,
    /// Raft only: also take one once the entries applied since the last
    /// snapshot carry this many payload bytes (whichever limit comes
    /// first); off by default.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub snapshot_bytes: Option<u64>,
}

/// `--expiry`: who decides that a lease-lock lease expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExpiryChoice {
    Store,
    Challenger,
}

impl ExpiryChoice {
    fn expiry(self) -> Expiry {
        match self {
            ExpiryChoice::Store => Expiry::Store,
            ExpiryChoice::Challenger => Expiry::Challenger,
        }
    }
}

/// The keys a swarm's clients touch when nodes take snapshots: more than
/// two chunks hold at the default 64 pairs a chunk, so a snapshot travels
/// in three (with one key, every snapshot was one pair in one chunk).
pub const SNAPSHOT_KEYS: usize = 160;

fn parse_batch_window(text: &str) -> Result<Duration, String> {
    let window = parse_duration(text)?;
    WorkloadOptions::default()
        .check_batch_window(window)
        .map_err(|error| error.to_string())?;
    Ok(window)
}

/// The `--faults` list as one clap value.
#[derive(Clone, Debug)]
pub struct FaultSet(pub Vec<FaultKind>);

fn parse_fault_set(text: &str) -> Result<FaultSet, String> {
    parse_fault_kinds(text).map(FaultSet)
}

impl RunArgs {
    /// The options of the run for `seed`.
    pub fn options(&self, seed: u64) -> SimulationOptions {
        let mut options = self.unbatched_options(seed);
        options.workload.batch_window = self.batch_window;
        options
    }

    fn unbatched_options(&self, seed: u64) -> SimulationOptions {
        match self.experiment {
            Experiment::Swarm if self.is_lock_service() => {
                lock_service::draw(seed, &self.swarm_settings())
            }
            Experiment::Swarm => draw(seed, &self.swarm_settings()),
            Experiment::ColdStart => cold_start(self.nodes, seed),
            Experiment::LeaderCrash => leader_crash(self.nodes, seed),
            Experiment::LeaderPartition => leader_partition(self.nodes, seed),
        }
    }

    fn is_lock_service(&self) -> bool {
        matches!(
            self.algo,
            Algo::LeaseLock
                | Algo::LeaseLockUnfenced
                | Algo::ZkSequential
                | Algo::ZkSequentialUnfenced
        )
    }

    /// Who decides that a lease expired, if `--algo` is lease-lock; any
    /// `--expiry` given with another algorithm is refused, not ignored.
    pub fn expiry(&self) -> Result<Expiry, String> {
        match (self.algo, self.expiry) {
            (_, None) => Ok(Expiry::Store),
            (Algo::LeaseLock | Algo::LeaseLockUnfenced, Some(choice)) => Ok(choice.expiry()),
            (algo, Some(_)) => Err(format!(
                "--expiry applies to lease-lock only, not {}",
                algo.name()
            )),
        }
    }

    pub fn swarm_settings(&self) -> SwarmSettings {
        let (nodes, duration, kinds) = (self.nodes, self.duration, self.faults.0.clone());
        match self.algo {
            Algo::LeaseLock | Algo::LeaseLockUnfenced => {
                let algorithm = lease_lock(self.algo, self.expiry().unwrap_or_default());
                lock_service::lock_settings(&algorithm, nodes, duration, kinds)
            }
            Algo::ZkSequential | Algo::ZkSequentialUnfenced => {
                lock_service::lock_settings(&zk_sequential(self.algo), nodes, duration, kinds)
            }
            _ => {
                let config = Config::default();
                let mut settings = SwarmSettings::new(nodes, duration, kinds);
                settings.drift_bound = config.clock_drift_bound;
                settings.drift_interval = config.election_timeout_min;
                if self.snapshot_every.is_some() || self.snapshot_bytes.is_some() {
                    // Snapshots of many pairs, so they travel in chunks.
                    settings.workload.keys = SNAPSHOT_KEYS;
                }
                settings
            }
        }
    }

    /// The Raft configuration of the run: the defaults, with
    /// `--snapshot-every` and `--snapshot-bytes`.
    pub fn raft_config(&self) -> Config {
        Config {
            snapshot_every: self.snapshot_every.unwrap_or(0),
            snapshot_bytes: self.snapshot_bytes.unwrap_or(0),
            ..Config::default()
        }
    }

    /// The command that reproduces a run of `seed` exactly.
    pub fn reproduce(&self, seed: u64) -> String {
        let mut batched = match self.batch_window {
            Some(window) => format!(" --batch-window {}", format_duration(window)),
            None => String::new(),
        };
        if let Some(choice) = self.expiry {
            batched.push_str(&format!(" --expiry {}", choice.expiry().name()));
        }
        if let Some(every) = self.snapshot_every {
            batched.push_str(&format!(" --snapshot-every {every}"));
        }
        if let Some(bytes) = self.snapshot_bytes {
            batched.push_str(&format!(" --snapshot-bytes {bytes}"));
        }
        if self.experiment != Experiment::Swarm {
            return format!(
                "electorate simulate --algo {} --nodes {} --seed {seed} --experiment {}{batched}",
                self.algo.name(),
                self.nodes,
                self.experiment.name()
            );
        }
        let faults = if self.faults.0.is_empty() {
            "none".to_owned()
        } else {
            let names: Vec<&str> = self.faults.0.iter().map(|kind| kind.name()).collect();
            names.join(",")
        };
        format!(
            "electorate simulate --algo {} --nodes {} --seed {seed} --duration {} --faults {faults}{batched}",
            self.algo.name(),
            self.nodes,
            format_duration(self.duration)
        )
    }
}

/// Calls `body` with the algorithm that `algo` names.
pub trait WithAlgorithm {
    type Output;
    fn call<A: Algorithm + Clone + Send + Sync + 'static>(self, algorithm: A) -> Self::Output
    where
        A::Node: Send;
}

pub fn dispatch<W: WithAlgorithm>(algo: Algo, body: W) -> W::Output {
    dispatch_with(algo, Config::default(), Expiry::Store, body)
}

/// [`dispatch`], with Raft configured by `raft` and lease-lock's leases
/// expired as `expiry` says (see [`RunArgs::expiry`]); the other
/// algorithms take their defaults.
pub fn dispatch_with<W: WithAlgorithm>(
    algo: Algo,
    raft: Config,
    expiry: Expiry,
    body: W,
) -> W::Output {
    match algo {
        Algo::Raft => body.call(Raft { config: raft }),
        Algo::Bully => body.call(Bully::default()),
        Algo::Ring => body.call(Ring::default()),
        #[cfg(feature = "raft-rs")]
        Algo::RaftRs => body.call(electorate::adapters::raft_rs::RaftRs::default()),
        #[cfg(feature = "raft-rs")]
        Algo::RaftRsLease => body.call(electorate::adapters::raft_rs::RaftRs::with_lease_reads()),
        Algo::LeaseLock | Algo::LeaseLockUnfenced => body.call(lease_lock(algo, expiry)),
        Algo::ZkSequential | Algo::ZkSequentialUnfenced => body.call(zk_sequential(algo)),
    }
}

/// The zk-sequential variant `algo` names, with the default timings.
fn zk_sequential(algo: Algo) -> ZkSequential {
    ZkSequential {
        fencing: algo == Algo::ZkSequential,
        ..ZkSequential::default()
    }
}

/// The lease-lock variant `algo` names, with the default timings and
/// leases expired as `expiry` says.
fn lease_lock(algo: Algo, expiry: Expiry) -> LeaseLock {
    let mut algorithm = LeaseLock {
        fencing: algo == Algo::LeaseLock,
        ..LeaseLock::default()
    };
    algorithm.config.expiry = expiry;
    algorithm
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use electorate::sim::simulation::Simulation;

    use super::*;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        run: RunArgs,
    }

    fn parse(args: &[&str]) -> Result<RunArgs, clap::Error> {
        let line = ["simulate"].iter().chain(args);
        Command::try_parse_from(line).map(|command| command.run)
    }

    /// `--batch-window` reaches the run and its reproduce line, and the run
    /// really hands nodes batches.
    #[test]
    fn a_batch_window_batches_the_run_and_is_reproduced() {
        let args = parse(&["--nodes", "3", "--duration", "3s", "--batch-window", "20ms"]).unwrap();
        let options = args.options(7);
        assert_eq!(
            options.workload.batch_window,
            Some(Duration::from_millis(20))
        );
        let reproduce = args.reproduce(7);
        assert!(reproduce.ends_with(" --batch-window 20ms"), "{reproduce}");
        let outcome = Simulation::new(Raft::default(), options).run();
        assert!(outcome.client_batches > 0, "no batch in the run");
        assert!(parse(&["--nodes", "3"]).unwrap().batch_window.is_none());
    }

    /// `--snapshot-every` reaches Raft's configuration and the reproduce
    /// line, and the run takes snapshots.
    #[test]
    fn a_snapshot_interval_configures_raft_and_is_reproduced() {
        let args = parse(&["--nodes", "3", "--duration", "3s", "--snapshot-every", "5"]).unwrap();
        assert_eq!(args.raft_config().snapshot_every, 5);
        let reproduce = args.reproduce(7);
        assert!(reproduce.ends_with(" --snapshot-every 5"), "{reproduce}");
        let raft = Raft {
            config: args.raft_config(),
        };
        let outcome = Simulation::new(raft, args.options(7)).run();
        assert!(
            outcome.metrics.snapshots_taken > 0,
            "no snapshot in the run"
        );
        assert_eq!(outcome.failures().count(), 0);
        assert_eq!(
            parse(&["--nodes", "3"])
                .unwrap()
                .raft_config()
                .snapshot_every,
            0
        );
        assert!(parse(&["--snapshot-every", "0"]).is_err());
        // The byte limit alone takes snapshots too, and is reproduced.
        let args = parse(&[
            "--nodes",
            "3",
            "--duration",
            "3s",
            "--snapshot-bytes",
            "200",
        ])
        .unwrap();
        assert_eq!(args.raft_config().snapshot_bytes, 200);
        assert!(args.reproduce(7).ends_with(" --snapshot-bytes 200"));
        let raft = Raft {
            config: args.raft_config(),
        };
        let outcome = Simulation::new(raft, args.options(7)).run();
        assert!(outcome.metrics.snapshots_taken > 0, "no snapshot by size");
        assert_eq!(outcome.failures().count(), 0);
    }

    /// A window of zero, or as long as the clients wait, is refused with the
    /// reason, not run.
    #[test]
    fn a_batch_window_outside_the_request_timeout_is_refused() {
        for window in ["0ms", "1s", "5s"] {
            let error = parse(&["--batch-window", window]).expect_err(window);
            assert!(
                error
                    .to_string()
                    .contains("batch_window must be above zero"),
                "{window}: {error}"
            );
        }
    }

    /// `--expiry challenger` reaches lease-lock and its reproduce line; with
    /// another algorithm it is refused rather than ignored.
    #[test]
    fn challenger_expiry_reaches_lease_lock_and_is_refused_elsewhere() {
        let args = parse(&["--algo", "lease-lock", "--expiry", "challenger"]).unwrap();
        assert_eq!(args.expiry(), Ok(Expiry::Challenger));
        assert!(
            args.reproduce(3).ends_with(" --expiry challenger"),
            "{}",
            args.reproduce(3)
        );
        let plain = parse(&["--algo", "lease-lock"]).unwrap();
        assert_eq!(plain.expiry(), Ok(Expiry::Store));
        assert!(!plain.reproduce(3).contains("--expiry"));
        let raft = parse(&["--algo", "raft", "--expiry", "store"]).unwrap();
        let error = raft.expiry().expect_err("raft has no lease expiry");
        assert!(error.contains("lease-lock only"), "{error}");
    }
}
