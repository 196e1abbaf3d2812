//! `electorate cluster`: a local cluster of `electorate node` processes on
//! loopback, a recorded client workload, leaders killed with `SIGKILL` and
//! restarted, wall-clock failover measured, and the history checked.
//!
//! Failover of one kill is the time from the kill to the first write a
//! client saw acknowledged by another node — by a new leader, since the
//! old one is dead and only leaders acknowledge writes. It is what a user
//! waits, detection, election and client retry included. A partition of
//! the leader is measured the same way: the isolated leader can no longer
//! commit, so the next acknowledged write comes from its successor.
//!
//! At the end the whole cluster is killed at once and restarted from disk,
//! and every key is read back into the history: an acknowledged write that
//! a crash lost would make the history non-linearizable.
//!
//! With `disk_faults` the nodes run on lazy disks (a kill loses what was
//! not fsynced) and a killed node's data is damaged while it is down
//! ([`damage`]); nodes that refuse damaged data stay down.
//!
//! Throughout the workload every node's `/metrics` is scraped
//! ([`scraper`]) and the seed material's KPIs are computed from the
//! scrapes ([`kpis`]), the split-brain alert among them.

pub mod damage;
pub mod disruptions;
pub mod kpis;
pub mod processes;
pub mod scraper;
pub mod simulated_kpis;
pub mod workload;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::check::{Budget, Verdict};
use crate::core::client::Value;
use crate::core::node::NodeId;
use crate::driver::client::recorder::Recorder;
use crate::driver::tuning::Tuning;
use crate::harness::stats::Distribution;
use damage::{Damager, DiskFaultReport};
use disruptions::{Disruption, DisruptionKind, Schedule};
use kpis::Kpis;
use processes::{Launch, NodeExtras, Processes};
use scraper::Scraper;
use workload::{Ack, Shared, WorkloadSettings};

#[derive(Clone, Debug)]
pub struct ClusterOptions {
    pub nodes: usize,
    pub duration: Duration,
    /// Kill the leader this often (`None`: never).
    pub kill_leader_every: Option<Duration>,
    /// How long a killed node stays down.
    pub restart_after: Duration,
    /// Cut the leader off from every peer this often (`None`: never).
    pub partition_leader_every: Option<Duration>,
    /// How long a partition lasts.
    pub partition_for: Duration,
    pub clients: usize,
    pub keys: usize,
    pub seed: u64,
    pub cluster_id: u64,
    /// Where the nodes keep their data and logs.
    pub data_dir: PathBuf,
    /// The `electorate` binary to run nodes with.
    pub executable: PathBuf,
    /// A `tracing` filter for the nodes' logs.
    pub log: Option<String>,
    /// The clients' deadline per operation.
    pub client_timeout: Duration,
    /// The most the linearizability check may take.
    pub check_timeout: Duration,
    /// Lazy disks, and damage to the logs of killed nodes while they are
    /// down (see [`damage`]).
    pub disk_faults: bool,
    /// The nodes' timings and limits (handed to them as a config file).
    pub tuning: Tuning,
    /// How often every node's metrics are scraped for the KPIs.
    pub scrape_every: Duration,
}

/// One leader kill or partition and what followed.
#[derive(Clone, Debug, Serialize)]
pub struct DisruptionReport {
    pub kind: DisruptionKind,
    pub node: NodeId,
    /// Seconds since the workload started.
    pub at_seconds: f64,
    /// Milliseconds until a write was acknowledged by another node; `None`
    /// if none was before the next disruption or the end of the run.
    pub failover_ms: Option<f64>,
}

/// Operation counts of the workload.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Operations {
    pub ok: u64,
    /// Certainly had no effect (including compare-and-sets that did not
    /// match).
    pub failed: u64,
    /// Outcome unknown (in flight at a kill, or timed out).
    pub indefinite: u64,
    pub acknowledged_writes: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClusterReport {
    pub nodes: usize,
    pub seed: u64,
    pub duration_seconds: f64,
    pub operations: Operations,
    pub writes_per_second: f64,
    pub disruptions: Vec<DisruptionReport>,
    /// Failover percentiles over the kills that recovered.
    pub failover_ms: Option<Distribution>,
    /// The same over the partitions of the leader.
    pub partition_failover_ms: Option<Distribution>,
    /// Disruptions after which no new leader acknowledged a write in time.
    pub unrecovered: usize,
    /// Values read back after the whole cluster was killed and restarted.
    pub read_back: BTreeMap<String, Option<Value>>,
    /// `linearizable`, `not linearizable: ...` or `unknown: ...`.
    pub linearizability: String,
    pub history_events: usize,
    pub data_dir: PathBuf,
    /// Node processes that exited without being killed, with their status.
    pub unexpected_exits: Vec<String>,
    /// With `--disk-faults`: the damage done and what came of it.
    pub disk_faults: Option<DiskFaultReport>,
    /// The seed material's KPIs over the workload, from the scrapes.
    pub kpis: Kpis,
}

impl ClusterReport {
    /// Whether the run met its guarantees: a linearizable history that
    /// includes the reads after the full restart, no node that died by
    /// itself, and no two nodes that claimed a lease at the same time.
    pub fn passed(&self) -> bool {
        self.linearizability == "linearizable"
            && self.kpis.split_brain_alerts == 0
            && self.unexpected_exits.is_empty()
            && self
                .disk_faults
                .as_ref()
                .is_none_or(|faults| faults.wrong.is_empty())
    }
}

/// What the runner reports while it runs.
#[derive(Clone, Debug)]
pub struct Progress {
    pub elapsed: Duration,
    pub acknowledged_writes: usize,
    pub disruptions: usize,
    pub last_failover_ms: Option<f64>,
    pub phase: &'static str,
}

/// Runs the cluster of `options` through its phases: launch, the workload
/// under disruptions, a whole-cluster crash and read-back, the
/// linearizability check, and the report.
pub fn run_cluster(
    options: &ClusterOptions,
    mut progress: impl FnMut(&Progress),
) -> Result<(ClusterReport, Arc<Recorder>), String> {
    let mut run = Run::launch(options)?;
    run.workload(options, &mut progress)?;
    let workload_time = run.started.elapsed();
    let kpis = run.scraper.finish().kpis(workload_time.as_secs_f64());
    let acks = run.shared.acks();
    run.report("full-cluster crash and restart", &mut progress);
    let read_back = run.crash_and_read_back()?;
    run.report("checking linearizability", &mut progress);
    let linearizability = check_linearizability(&run.recorder, options.check_timeout);
    let disruptions = run.disruption_reports(&acks);
    let samples = |kind| -> Vec<u64> {
        disruptions
            .iter()
            .filter(|disruption| disruption.kind == kind)
            .filter_map(|disruption| disruption.failover_ms.map(|ms| (ms * 1_000.0) as u64))
            .collect()
    };
    let shared = &run.shared;
    let report = ClusterReport {
        nodes: options.nodes,
        seed: options.seed,
        duration_seconds: workload_time.as_secs_f64(),
        operations: Operations {
            ok: shared.completed.load(Ordering::Relaxed),
            failed: shared.failed.load(Ordering::Relaxed),
            indefinite: shared.indefinite.load(Ordering::Relaxed),
            acknowledged_writes: acks.len(),
        },
        writes_per_second: acks.len() as f64 / workload_time.as_secs_f64().max(1e-9),
        failover_ms: Distribution::of(&samples(DisruptionKind::Kill)),
        partition_failover_ms: Distribution::of(&samples(DisruptionKind::Partition)),
        unrecovered: disruptions
            .iter()
            .filter(|disruption| disruption.failover_ms.is_none())
            .count(),
        disruptions,
        read_back,
        linearizability,
        history_events: run.recorder.events().len(),
        data_dir: options.data_dir.clone(),
        unexpected_exits: run.unexpected_exits,
        disk_faults: run.damager.map(|damager| damager.report),
        kpis,
    };
    Ok((report, run.recorder))
}

/// A cluster run in progress: the node processes, the clients' shared
/// state and what has happened so far.
struct Run {
    launch: Launch,
    processes: Processes,
    settings: WorkloadSettings,
    damager: Option<Damager>,
    recorder: Arc<Recorder>,
    shared: Arc<Shared>,
    schedule: Schedule,
    started: Instant,
    unexpected_exits: Vec<String>,
    scraper: Scraper,
}

impl Run {
    /// Starts every node; the workload's clock starts here.
    fn launch(options: &ClusterOptions) -> Result<Run, String> {
        let addresses = Launch::free_addresses(options.nodes)
            .map_err(|error| format!("cannot reserve ports: {error}"))?;
        let launch = Launch {
            executable: options.executable.clone(),
            cluster_id: options.cluster_id,
            addresses: addresses.clone(),
            data_dir: options.data_dir.clone(),
            seed: options.seed,
            // The damage's outcomes are read from the nodes' logs.
            log: match (&options.log, options.disk_faults) {
                (None, true) => Some("info".to_owned()),
                (log, _) => log.clone(),
            },
            lazy_disk: options.disk_faults,
        };
        let damager = options
            .disk_faults
            .then(|| Damager::new(options.seed, options.cluster_id, options.nodes));
        let extras = node_extras(options, &addresses)?;
        let metrics = extras.metrics.clone();
        let processes = Processes::start_all_with(launch.clone(), extras)
            .map_err(|error| format!("cannot start nodes: {error}"))?;
        let scraper = Scraper::start(metrics, options.scrape_every)
            .map_err(|error| format!("cannot start the scraper: {error}"))?;
        let settings = WorkloadSettings {
            cluster_id: options.cluster_id,
            addresses,
            clients: options.clients.max(1),
            keys: options.keys.max(1),
            seed: options.seed,
            timeout: options.client_timeout,
        };
        let started = Instant::now();
        let schedule = Schedule::new(
            started,
            options.kill_leader_every,
            options.restart_after,
            options.partition_leader_every,
            options.partition_for,
            started + options.duration,
        );
        Ok(Run {
            launch,
            processes,
            settings,
            damager,
            recorder: Recorder::new(),
            shared: Arc::new(Shared::default()),
            schedule,
            started,
            unexpected_exits: Vec::new(),
            scraper,
        })
    }

    /// Runs the clients for the configured duration under the disruption
    /// schedule, then stops them and waits for the last restart.
    fn workload(
        &mut self,
        options: &ClusterOptions,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<(), String> {
        let clients = workload::start(&self.settings, &self.recorder, &self.shared);
        while self.started.elapsed() < options.duration {
            std::thread::sleep(Duration::from_millis(20));
            let started_now = self.schedule.tick(&mut self.processes, &self.shared)?;
            if let (Some(damager), Some(disruption)) = (&mut self.damager, started_now) {
                if disruption.kind == DisruptionKind::Kill {
                    let node = disruption.node;
                    let log_path = self.processes.log_path(node);
                    damager.damage(node, &self.launch.node_dir(node), &log_path)?;
                }
            }
            self.poll_exits();
            self.report("workload", progress);
        }
        self.shared.stop.store(true, Ordering::SeqCst);
        for client in clients {
            let _ = client.join();
        }
        self.schedule.finish(&mut self.processes)?;
        // The last damaged node's restart has an outcome too.
        let settle = Instant::now();
        while self.damager.as_ref().is_some_and(Damager::awaiting)
            && settle.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(20));
            self.poll_exits();
        }
        Ok(())
    }

    /// Kills everything at once, restarts from disk (except the nodes that
    /// refused damaged data: they would refuse again) and reads every key
    /// back into the history.
    fn crash_and_read_back(&mut self) -> Result<BTreeMap<String, Option<Value>>, String> {
        self.processes.kill_all();
        let refused = self
            .damager
            .as_ref()
            .map(|damager| damager.refused().clone())
            .unwrap_or_default();
        for id in self.processes.all_ids() {
            if refused.contains(&id) {
                continue;
            }
            self.processes
                .start(id)
                .map_err(|error| format!("cannot restart node {id}: {error}"))?;
        }
        let read_back =
            workload::read_back(&self.settings, &self.recorder, Duration::from_secs(30))?;
        self.processes.kill_all();
        Ok(read_back)
    }

    /// Notes the nodes that exited by themselves since the last call.
    fn poll_exits(&mut self) {
        for (node, status) in self.processes.exited() {
            // A node that refuses damaged data exits: that is its job.
            if self
                .damager
                .as_mut()
                .is_some_and(|damager| damager.exited(node))
            {
                continue;
            }
            self.unexpected_exits
                .push(format!("node {node} exited by itself: {status}"));
        }
        if let Some(damager) = &mut self.damager {
            damager.poll();
        }
    }

    fn report(&self, phase: &'static str, progress: &mut dyn FnMut(&Progress)) {
        // Every 20 ms: read the acknowledgements in place rather than copy
        // a list that grows by thousands a second.
        let (acknowledged_writes, last_failover_ms) = self.shared.with_acks(|acks| {
            let last = self.schedule.done.last();
            (
                acks.len(),
                last.and_then(|disruption| failover_ms(acks, disruption, None)),
            )
        });
        progress(&Progress {
            elapsed: self.started.elapsed(),
            acknowledged_writes,
            disruptions: self.schedule.done.len(),
            last_failover_ms,
            phase,
        });
    }

    /// Each disruption with its failover, measured up to the next one.
    fn disruption_reports(&self, acks: &[Ack]) -> Vec<DisruptionReport> {
        let done = &self.schedule.done;
        done.iter()
            .enumerate()
            .map(|(index, disruption)| {
                let next = done.get(index + 1).map(|next| next.at);
                DisruptionReport {
                    kind: disruption.kind,
                    node: disruption.node,
                    at_seconds: disruption.at.duration_since(self.started).as_secs_f64(),
                    failover_ms: failover_ms(acks, disruption, next),
                }
            })
            .collect()
    }
}

/// Checks the tuning (every node refuses a bad one; better to say so once,
/// before any starts), writes it as the nodes' config file and picks the
/// ports they serve metrics on.
fn node_extras(
    options: &ClusterOptions,
    addresses: &BTreeMap<NodeId, std::net::SocketAddr>,
) -> Result<NodeExtras, String> {
    let members: Vec<NodeId> = addresses.keys().copied().collect();
    options
        .tuning
        .resolve(members[0], &members)
        .map_err(|error| error.to_string())?;
    std::fs::create_dir_all(&options.data_dir)
        .map_err(|error| format!("cannot create {}: {error}", options.data_dir.display()))?;
    let config_file = options.data_dir.join("node-config.toml");
    std::fs::write(&config_file, options.tuning.to_toml())
        .map_err(|error| format!("cannot write {}: {error}", config_file.display()))?;
    let metrics = Launch::free_addresses(options.nodes)
        .map_err(|error| format!("cannot reserve metrics ports: {error}"))?;
    Ok(NodeExtras {
        metrics,
        config_file: Some(config_file),
    })
}

/// The verdict on the recorded history, as the report prints it.
fn check_linearizability(recorder: &Recorder, timeout: Duration) -> String {
    match recorder.check(Budget::timeout(timeout)) {
        Ok((_, outcome)) => match outcome.verdict {
            Verdict::Linearizable => "linearizable".to_owned(),
            Verdict::NotLinearizable(violation) => {
                format!("not linearizable (operation {})", violation.operation)
            }
            Verdict::Unknown { reason, .. } => format!("unknown: {reason:?}"),
        },
        Err(error) => format!("unknown: {error}"),
    }
}

/// Milliseconds from `disruption` to the first write acknowledged by
/// another node than the one disrupted, if one came before `until`.
fn failover_ms(acks: &[Ack], disruption: &Disruption, until: Option<Instant>) -> Option<f64> {
    let (node, killed) = (disruption.node, disruption.at);
    acks.iter()
        .filter(|ack| ack.at > killed && ack.by != node)
        .map(|ack| ack.at)
        .min()
        .filter(|&at| until.is_none_or(|until| at <= until))
        .map(|at| at.duration_since(killed).as_secs_f64() * 1_000.0)
}
