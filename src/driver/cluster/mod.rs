//! `electorate cluster`: a local cluster of `electorate node` processes on
//! loopback, a recorded client workload, leaders killed with `SIGKILL` and
//! restarted, wall-clock failover measured, and the history checked.
//!
//! Failover of one kill is the time from the kill to the first write a
//! client saw acknowledged by another node — by a new leader, since the
//! old one is dead and only leaders acknowledge writes. It is what a user
//! waits, detection, election and client retry included.
//!
//! At the end the whole cluster is killed at once and restarted from disk,
//! and every key is read back into the history: an acknowledged write that
//! a crash lost would make the history non-linearizable.

pub mod processes;
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
use crate::sim::metrics::Distribution;
use processes::{Launch, Processes};
use workload::{Ack, Shared, WorkloadSettings};

#[derive(Clone, Debug)]
pub struct ClusterOptions {
    pub nodes: usize,
    pub duration: Duration,
    /// Kill the leader this often (`None`: never).
    pub kill_leader_every: Option<Duration>,
    /// How long a killed node stays down.
    pub restart_after: Duration,
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
}

/// One leader kill and what followed.
#[derive(Clone, Debug, Serialize)]
pub struct Kill {
    pub node: NodeId,
    /// Seconds since the workload started.
    pub at_seconds: f64,
    /// Milliseconds until a write was acknowledged by another node; `None`
    /// if none was before the next kill or the end of the run.
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
    pub kills: Vec<Kill>,
    /// Failover percentiles over the kills that recovered.
    pub failover_ms: Option<Distribution>,
    /// Kills after which no new leader acknowledged a write in time.
    pub unrecovered_kills: usize,
    /// Values read back after the whole cluster was killed and restarted.
    pub read_back: BTreeMap<String, Option<Value>>,
    /// `linearizable`, `not linearizable: ...` or `unknown: ...`.
    pub linearizability: String,
    pub history_events: usize,
    pub data_dir: PathBuf,
    /// Node processes that exited without being killed, with their status.
    pub unexpected_exits: Vec<String>,
}

impl ClusterReport {
    /// Whether the run met its guarantees: a linearizable history that
    /// includes the reads after the full restart, and no node that died by
    /// itself.
    pub fn passed(&self) -> bool {
        self.linearizability == "linearizable" && self.unexpected_exits.is_empty()
    }
}

/// What the runner reports while it runs.
#[derive(Clone, Debug)]
pub struct Progress {
    pub elapsed: Duration,
    pub acknowledged_writes: usize,
    pub kills: usize,
    pub last_failover_ms: Option<f64>,
    pub phase: &'static str,
}

pub fn run_cluster(
    options: &ClusterOptions,
    mut progress: impl FnMut(&Progress),
) -> Result<(ClusterReport, Arc<Recorder>), String> {
    let addresses = Launch::free_addresses(options.nodes)
        .map_err(|error| format!("cannot reserve ports: {error}"))?;
    let launch = Launch {
        executable: options.executable.clone(),
        cluster_id: options.cluster_id,
        addresses: addresses.clone(),
        data_dir: options.data_dir.clone(),
        seed: options.seed,
        log: options.log.clone(),
    };
    let mut processes =
        Processes::start_all(launch).map_err(|error| format!("cannot start nodes: {error}"))?;
    let settings = WorkloadSettings {
        cluster_id: options.cluster_id,
        addresses,
        clients: options.clients.max(1),
        keys: options.keys.max(1),
        seed: options.seed,
        timeout: options.client_timeout,
    };
    let recorder = Recorder::new();
    let shared = Arc::new(Shared::default());
    let mut unexpected_exits = Vec::new();
    let started = Instant::now();
    let clients = workload::start(&settings, &recorder, &shared);

    let mut kills: Vec<(NodeId, Instant)> = Vec::new();
    let mut down: Option<(NodeId, Instant)> = None;
    let mut next_kill = options.kill_leader_every.map(|every| started + every);
    let report_progress = |kills: &[(NodeId, Instant)], progress: &mut dyn FnMut(&Progress)| {
        let acks = shared.acks();
        progress(&Progress {
            elapsed: started.elapsed(),
            acknowledged_writes: acks.len(),
            kills: kills.len(),
            last_failover_ms: kills
                .last()
                .and_then(|&(node, at)| failover_ms(&acks, node, at, None)),
            phase: "workload",
        });
    };
    while started.elapsed() < options.duration {
        std::thread::sleep(Duration::from_millis(20));
        let now = Instant::now();
        if let Some((node, since)) = down {
            if now >= since + options.restart_after {
                processes
                    .start(node)
                    .map_err(|error| format!("cannot restart node {node}: {error}"))?;
                down = None;
            }
        }
        if next_kill.is_some_and(|at| now >= at) && down.is_none() {
            // The leader is whoever acknowledged the latest write.
            if let Some(ack) = shared.latest_acker() {
                if processes.is_running(ack.by) {
                    processes.kill(ack.by);
                    let killed_at = Instant::now();
                    kills.push((ack.by, killed_at));
                    down = Some((ack.by, killed_at));
                }
            }
            next_kill = options.kill_leader_every.map(|every| now + every);
        }
        for (node, status) in processes.exited() {
            unexpected_exits.push(format!("node {node} exited by itself: {status}"));
        }
        report_progress(&kills, &mut progress);
    }
    shared.stop.store(true, Ordering::SeqCst);
    for client in clients {
        let _ = client.join();
    }
    let workload_time = started.elapsed();
    let acks = shared.acks();

    // Kill everything at once, restart from disk, read every key back.
    progress(&Progress {
        elapsed: started.elapsed(),
        acknowledged_writes: acks.len(),
        kills: kills.len(),
        last_failover_ms: None,
        phase: "full-cluster crash and restart",
    });
    processes.kill_all();
    for id in 1..=options.nodes as NodeId {
        processes
            .start(id)
            .map_err(|error| format!("cannot restart node {id}: {error}"))?;
    }
    let read_back = workload::read_back(&settings, &recorder, Duration::from_secs(30))?;
    processes.kill_all();

    progress(&Progress {
        elapsed: started.elapsed(),
        acknowledged_writes: acks.len(),
        kills: kills.len(),
        last_failover_ms: None,
        phase: "checking linearizability",
    });
    let linearizability = match recorder.check(Budget::timeout(options.check_timeout)) {
        Ok((_, outcome)) => match outcome.verdict {
            Verdict::Linearizable => "linearizable".to_owned(),
            Verdict::NotLinearizable(violation) => {
                format!("not linearizable (operation {})", violation.operation)
            }
            Verdict::Unknown { reason, .. } => format!("unknown: {reason:?}"),
        },
        Err(error) => format!("unknown: {error}"),
    };

    let mut kill_reports = Vec::new();
    for (index, &(node, at)) in kills.iter().enumerate() {
        let next = kills.get(index + 1).map(|&(_, next)| next);
        kill_reports.push(Kill {
            node,
            at_seconds: at.duration_since(started).as_secs_f64(),
            failover_ms: failover_ms(&acks, node, at, next),
        });
    }
    let samples: Vec<u64> = kill_reports
        .iter()
        .filter_map(|kill| kill.failover_ms.map(|ms| (ms * 1_000.0) as u64))
        .collect();
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
        unrecovered_kills: kill_reports
            .iter()
            .filter(|kill| kill.failover_ms.is_none())
            .count(),
        kills: kill_reports,
        failover_ms: Distribution::of(&samples),
        read_back,
        linearizability,
        history_events: recorder.events().len(),
        data_dir: options.data_dir.clone(),
        unexpected_exits,
    };
    Ok((report, recorder))
}

/// Milliseconds from the kill of `node` at `killed` to the first write
/// acknowledged by another node, if one came before `until`.
fn failover_ms(acks: &[Ack], node: NodeId, killed: Instant, until: Option<Instant>) -> Option<f64> {
    acks.iter()
        .filter(|ack| ack.at > killed && ack.by != node)
        .map(|ack| ack.at)
        .min()
        .filter(|&at| until.is_none_or(|until| at <= until))
        .map(|at| at.duration_since(killed).as_secs_f64() * 1_000.0)
}
