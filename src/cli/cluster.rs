//! `electorate cluster`: start a local cluster of node processes, run a
//! recorded client workload, kill leaders and restart them, and report
//! wall-clock failover, the KPIs scraped from the nodes' metrics (the
//! split-brain alert among them) and the linearizability of what the
//! clients saw.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use electorate::check::read::write_json_lines;
use electorate::driver::client::recorder::Recorder;
use electorate::driver::cluster::disruptions::DisruptionKind;
use electorate::driver::cluster::kpis::{Kpis, HEARTBEAT_SUCCESS_MIN, WRITE_LATENCY_P99_MAX_MS};
use electorate::driver::cluster::{run_cluster, ClusterOptions, ClusterReport};
use electorate::driver::tuning::Tuning;
use electorate::sim::units::{format_duration, parse_duration};
use indicatif::{ProgressBar, ProgressStyle};

use super::logging;

#[derive(clap::Args)]
pub struct Args {
    /// Cluster size.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=9))]
    nodes: u64,
    /// How long the workload runs (`30s`, `500ms`).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Kill the leader (SIGKILL) this often; a fault that would outlast
    /// `--duration` is not started.
    #[arg(long, value_parser = parse_duration)]
    kill_leader_every: Option<Duration>,
    /// How long a killed node stays down before it restarts from its disk.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    restart_after: Duration,
    /// Cut the leader off from every peer (both ways) this often; clients
    /// can still reach it.
    #[arg(long, value_parser = parse_duration)]
    partition_leader_every: Option<Duration>,
    /// How long a partition of the leader lasts.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    partition_for: Duration,
    /// Concurrent clients, each one operation at a time.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Keys the workload spreads over.
    #[arg(long, default_value_t = 8)]
    keys: usize,
    /// Seeds the workload and the nodes' jitter (drawn and printed if not
    /// given).
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long, default_value_t = 1)]
    cluster_id: u64,
    /// Where the nodes keep data and logs (default: a fresh directory
    /// under the system's temporary directory, removed after a passing run).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Keep the data directory even when the run passes.
    #[arg(long)]
    keep_data: bool,
    /// The clients' deadline per operation.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    client_timeout: Duration,
    /// The most the linearizability check may take.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    check_timeout: Duration,
    /// Write the recorded history here, as JSON lines (`electorate lincheck`
    /// reads it back).
    #[arg(long)]
    history: Option<PathBuf>,
    /// Log filter for the nodes (their logs go to `<data-dir>/node-<id>.log`);
    /// otherwise `ELECTORATE_LOG` decides.
    #[arg(long, num_args = 0..=1, default_missing_value = "info")]
    log: Option<String>,
    /// Disk faults: nodes run on lazy disks (a SIGKILL loses every write
    /// not yet fsynced), and while a killed node is down its data is
    /// damaged — an unsynced tail on any node (it must start and cut it),
    /// or synced data (a flipped bit, a zeroed sector, a cut, both copies of
    /// term and vote) on at most a minority of the nodes over the run
    /// (those must refuse to start, and stay down).
    #[arg(long)]
    disk_faults: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Scrape every node's metrics this often for the KPIs.
    #[arg(long, default_value = "100ms", value_parser = parse_duration)]
    scrape_every: Duration,
    /// A TOML file of the nodes' timings and limits; flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    tuning: Tuning,
}

pub fn run(args: Args) -> ExitCode {
    let seed = args.seed.unwrap_or_else(logging::fresh_seed);
    let options = match options(&args, seed) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    announce(&options);
    let (report, recorder) = match run_with_progress(&options, args.duration) {
        Ok(done) => done,
        Err(error) => {
            eprintln!(
                "error: {error} (seed {seed}, data in {})",
                options.data_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.history {
        let written = std::fs::File::create(path)
            .and_then(|file| write_json_lines(&recorder.events(), std::io::BufWriter::new(file)));
        if let Err(error) = written {
            eprintln!("error: cannot write {}: {error}", path.display());
        }
    }
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(error) => eprintln!("error: {error}"),
        }
    } else {
        print_report(&report, &args);
    }
    // A temporary directory of a passing run holds nothing worth keeping.
    if report.passed() && args.data_dir.is_none() && !args.keep_data {
        let _ = std::fs::remove_dir_all(&options.data_dir);
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The runner's options from the command line, with the seed drawn.
fn options(args: &Args, seed: u64) -> Result<ClusterOptions, String> {
    let executable = std::env::current_exe()
        .map_err(|error| format!("cannot find the electorate binary to run nodes: {error}"))?;
    let data_dir = args.data_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("electorate-cluster-{}-{seed}", std::process::id()))
    });
    let log = args
        .log
        .clone()
        .or_else(|| std::env::var(logging::LOG_VARIABLE).ok());
    let tuning = match &args.config {
        Some(path) => args
            .tuning
            .over(&Tuning::from_file(path).map_err(|error| error.to_string())?),
        None => args.tuning.clone(),
    };
    Ok(ClusterOptions {
        nodes: args.nodes as usize,
        duration: args.duration,
        kill_leader_every: args.kill_leader_every,
        restart_after: args.restart_after,
        partition_leader_every: args.partition_leader_every,
        partition_for: args.partition_for,
        clients: args.clients,
        keys: args.keys,
        seed,
        cluster_id: args.cluster_id,
        data_dir,
        executable,
        log,
        client_timeout: args.client_timeout,
        check_timeout: args.check_timeout,
        disk_faults: args.disk_faults,
        tuning,
        scrape_every: args.scrape_every,
    })
}

/// Says on stderr what is about to run: size, duration, faults, seed and
/// where the data goes.
fn announce(options: &ClusterOptions) {
    let faults = [
        options
            .kill_leader_every
            .map(|every| format!("leader killed every {}", format_duration(every))),
        options.partition_leader_every.map(|every| {
            format!(
                "leader partitioned every {} for {}",
                format_duration(every),
                format_duration(options.partition_for)
            )
        }),
        options
            .disk_faults
            .then(|| "lazy disks and damage to killed nodes' data".to_owned()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    eprintln!(
        "cluster: {} nodes on 127.0.0.1, {} of workload, {}, seed {}, data in {}",
        options.nodes,
        format_duration(options.duration),
        if faults.is_empty() {
            "no faults".to_owned()
        } else {
            faults.join(", ")
        },
        options.seed,
        options.data_dir.display()
    );
}

/// Runs the cluster with a progress bar over the workload's `duration`.
fn run_with_progress(
    options: &ClusterOptions,
    duration: Duration,
) -> Result<(ClusterReport, Arc<Recorder>), String> {
    let bar = ProgressBar::new(duration.as_millis() as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let result = run_cluster(options, |progress| {
        bar.set_position(progress.elapsed.as_millis() as u64);
        let last = progress
            .last_failover_ms
            .map(|ms| format!(", last failover {ms:.0} ms"))
            .unwrap_or_default();
        bar.set_message(format!(
            "{}: {} writes acknowledged, {} leader kills/partitions{last}",
            progress.phase, progress.acknowledged_writes, progress.disruptions
        ));
    });
    bar.finish_and_clear();
    result
}

fn print_report(report: &ClusterReport, args: &Args) {
    let operations = &report.operations;
    println!(
        "cluster: {} nodes, {:.1} s of workload, seed {}",
        report.nodes, report.duration_seconds, report.seed
    );
    println!(
        "workload: {} clients on {} keys: {} ok, {} failed, {} indefinite; {} writes acknowledged ({:.0}/s)",
        args.clients,
        args.keys,
        operations.ok,
        operations.failed,
        operations.indefinite,
        operations.acknowledged_writes,
        report.writes_per_second
    );
    if !report.disruptions.is_empty() {
        println!(
            "leader faults (kill: SIGKILL, restart after {}; partition: cut off from every peer for {}):",
            format_duration(args.restart_after),
            format_duration(args.partition_for)
        );
        for disruption in &report.disruptions {
            let failover = disruption
                .failover_ms
                .map(|ms| format!("new leader acknowledged a write after {ms:.0} ms"))
                .unwrap_or_else(|| {
                    "no write acknowledged by a new leader before the next fault".to_owned()
                });
            let kind = match disruption.kind {
                DisruptionKind::Kill => "kill",
                DisruptionKind::Partition => "partition",
            };
            println!(
                "  {:>6.1} s  {kind:<9} node {}: {failover}",
                disruption.at_seconds, disruption.node
            );
        }
    }
    for (name, distribution) in [
        ("kill", &report.failover_ms),
        ("partition", &report.partition_failover_ms),
    ] {
        if let Some(failover) = distribution {
            println!(
                "failover after a leader {name} (to the first write a new leader acknowledged): p50 {:.0} ms  p99 {:.0} ms  max {:.0} ms over {} faults",
                failover.p50, failover.p99, failover.max, failover.count
            );
        }
    }
    if !report.disruptions.is_empty() {
        println!("unrecovered faults: {}", report.unrecovered);
    }
    println!(
        "full-cluster crash: every node SIGKILLed and restarted from disk; {} keys read back",
        report.read_back.len()
    );
    println!(
        "history: {} events, {}",
        report.history_events, report.linearizability
    );
    if let Some(faults) = &report.disk_faults {
        let injected = faults
            .injected
            .iter()
            .map(|(kind, count)| {
                format!(
                    "{count} {}",
                    serde_json::to_string(kind)
                        .unwrap_or_default()
                        .trim_matches('"')
                )
            })
            .collect::<Vec<_>>();
        println!(
            "disk faults: {} injected ({}); {} restarts cut an unsynced tail, {} dropped a leftover compaction file, {} refused damaged synced data (nodes {:?} stay down)",
            faults.total_injected(),
            if injected.is_empty() { "none".to_owned() } else { injected.join(", ") },
            faults.tails_cut,
            faults.leftovers_accepted,
            faults.refused,
            faults.refused_nodes
        );
        for wrong in &faults.wrong {
            println!("WRONG: {wrong}");
        }
    }
    print_kpis(&report.kpis);
    for exit in &report.unexpected_exits {
        println!("UNEXPECTED: {exit}");
    }
    println!("verdict: {}", if report.passed() { "pass" } else { "FAIL" });
}

fn print_kpis(kpis: &Kpis) {
    println!(
        "kpis ({} scrapes, {} failed while nodes were down): {} elections ({:.1}/min), {} leader changes ({:.0}/h)",
        kpis.scrapes,
        kpis.failed_scrapes,
        kpis.elections,
        kpis.elections_per_minute,
        kpis.leader_changes,
        kpis.leader_changes_per_hour
    );
    let followers = kpis
        .heartbeat_success
        .iter()
        .map(|(node, success)| {
            let flag = if success.flagged { " (LOW)" } else { "" };
            format!("node {node} {:.2} %{flag}", success.rate * 100.0)
        })
        .collect::<Vec<_>>();
    println!(
        "  heartbeat success per follower (flagged under {:.0} %): {}",
        HEARTBEAT_SUCCESS_MIN * 100.0,
        followers.join(", ")
    );
    match &kpis.write_latency_ms {
        Some(latency) => println!(
            "  write latency at the leaders: p50 {:.1} ms  p99 {:.1} ms over {} writes{}",
            latency.p50,
            latency.p99,
            latency.count,
            if kpis.write_latency_p99_flagged {
                format!(" (p99 over {WRITE_LATENCY_P99_MAX_MS:.0} ms)")
            } else {
                String::new()
            }
        ),
        None => println!("  write latency: no write acknowledged"),
    }
    println!(
        "  split-brain alerts: {} (overlapping lease claims of different nodes, over {} claims)",
        kpis.split_brain_alerts, kpis.lease_claims
    );
    let storage = &kpis.storage;
    let restarts = match (storage.slowest_restart_ms, storage.most_records_replayed) {
        (Some(slowest), Some(records)) => format!(
            "{} restarts from disk, the slowest {slowest:.1} ms, at most {records} log records replayed",
            storage.restarts
        ),
        _ => "no restart from disk scraped".to_owned(),
    };
    println!(
        "  storage: largest log file {:.1} KiB; {} snapshots taken, {} installed; {restarts}",
        storage.largest_log_bytes as f64 / 1024.0,
        storage.snapshots_taken,
        storage.snapshots_installed
    );
}
