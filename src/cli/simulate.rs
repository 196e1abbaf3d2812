//! `electorate simulate`: one seeded run, a readable timeline and the
//! metrics; on a violation, the property, the time and the command that
//! reproduces it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use electorate::check::read::to_json_lines;
use electorate::harness::algorithm::Algorithm;
use electorate::sim::metrics::{millis, Distribution};
use electorate::sim::simulation::{Outcome, Simulation, SimulationOptions};
use electorate::sim::units::format_duration;
use electorate::sim::workload::jepsen_events;
use serde::Serialize;

use crate::cli::output::{print_json, verdict_status};
use crate::cli::run_args::{dispatch_with, RunArgs, WithAlgorithm};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    run: RunArgs,
    /// The seed: the same seed and flags give the same run, bit for bit.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print a JSON report instead of text.
    #[arg(long)]
    json: bool,
    /// Run exactly the options in this JSON file (the `options` of a
    /// `--json` report, or a file written by the cluster property tests)
    /// instead of those the flags and seed describe.
    #[arg(long, value_name = "FILE")]
    options: Option<PathBuf>,
    /// Write the client history as JSON lines (Jepsen's invoke / ok / fail
    /// / info), ready for `electorate lincheck --model kv`.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    match args.run.expiry() {
        Ok(expiry) => dispatch_with(args.run.algo, args.run.raft_config(), expiry, args),
        Err(error) => {
            eprintln!("electorate simulate: {error}");
            ExitCode::from(2)
        }
    }
}

impl WithAlgorithm for Args {
    type Output = ExitCode;

    fn call<A: Algorithm + Clone + Send + Sync + 'static>(self, algorithm: A) -> ExitCode
    where
        A::Node: Send,
    {
        let (options, reproduce) = match &self.options {
            Some(path) => match read_options(path) {
                Ok(options) => {
                    let reproduce = format!(
                        "electorate simulate --algo {} --options {}",
                        self.run.algo.name(),
                        path.display()
                    );
                    (options, reproduce)
                }
                Err(error) => {
                    eprintln!("electorate simulate: {error}");
                    return ExitCode::from(2);
                }
            },
            None => (self.run.options(self.seed), self.run.reproduce(self.seed)),
        };
        let outcome = Simulation::new(algorithm, options.clone()).run();
        if let Some(path) = &self.history {
            let lines = to_json_lines(&jepsen_events(&outcome.history));
            if let Err(error) = std::fs::write(path, lines) {
                eprintln!("electorate simulate: writing {}: {error}", path.display());
                return ExitCode::from(2);
            }
        }
        if self.json {
            print_json(&Report {
                algorithm: self.run.algo.name(),
                options: &options,
                violations: &outcome.violations,
                metrics: &outcome.metrics,
                summary: outcome.metrics.summary(),
                timeline: &outcome.timeline,
                trace_hash: format!("{:016x}", outcome.trace_hash),
                reproduce: &reproduce,
                client_batches: outcome.client_batches,
            });
        } else {
            print_text(&self, &options, &outcome, &reproduce);
        }
        let held = outcome.failures().next().is_none();
        verdict_status(held)
    }
}

/// Reads and validates a JSON options file: a clear error, never a panic.
fn read_options(path: &Path) -> Result<SimulationOptions, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("reading {}: {error}", path.display()))?;
    let options: SimulationOptions = serde_json::from_str(&text).map_err(|error| {
        format!(
            "{}:{}:{}: not simulation options: {error}",
            path.display(),
            error.line(),
            error.column()
        )
    })?;
    options
        .validate()
        .map_err(|error| format!("{}: {error}", path.display()))?;
    Ok(options)
}

#[derive(Serialize)]
struct Report<'a> {
    algorithm: &'a str,
    options: &'a SimulationOptions,
    violations: &'a [electorate::sim::simulation::RecordedViolation],
    metrics: &'a electorate::sim::metrics::Metrics,
    summary: electorate::sim::metrics::Summary,
    timeline: &'a [electorate::sim::simulation::TimelineEntry],
    trace_hash: String,
    reproduce: &'a str,
    /// Batches of two or more client requests handed to a node as one input
    /// (0 unless `--batch-window` is set).
    client_batches: u64,
}

fn print_text(args: &Args, options: &SimulationOptions, outcome: &Outcome, reproduce: &str) {
    let network = &options.network;
    let phases = if options.liveness.is_some() {
        "then a liveness phase"
    } else {
        "no liveness phase"
    };
    println!(
        "{}, {} nodes, seed {}, experiment {}: {} {phases}",
        args.run.algo.name(),
        options.nodes,
        options.seed,
        args.run.experiment.name(),
        format_duration(options.duration)
    );
    println!(
        "network: latency {:.1}-{:.1} ms, loss {:.1}%, duplication {:.1}%, {}",
        network.latency_min.as_secs_f64() * 1e3,
        network.latency_max.as_secs_f64() * 1e3,
        network.loss * 100.0,
        network.duplicate * 100.0,
        if network.reorder {
            "reordering"
        } else {
            "FIFO links"
        }
    );
    if !options.clock_rates_ppm.is_empty() {
        println!("clock rates (ppm): {:?}", options.clock_rates_ppm);
    }
    println!("faults scheduled: {}\n", options.faults.len());
    println!("timeline:");
    for entry in &outcome.timeline {
        println!("  [{:>9.3}s] {}", entry.at_micros as f64 / 1e6, entry.text);
    }
    print_metrics(outcome);
    if let Some(window) = options.workload.batch_window {
        println!(
            "  client batches: {} of two or more requests (window {})",
            outcome.client_batches,
            format_duration(window)
        );
    }
    if args.run.snapshot_every.is_some() || args.run.snapshot_bytes.is_some() {
        println!(
            "  snapshots: {} taken ({}), {} installed from a leader",
            outcome.metrics.snapshots_taken,
            snapshot_policy(&args.run),
            outcome.metrics.snapshots_installed
        );
    }
    println!();
    let failures: Vec<_> = outcome.failures().collect();
    for violation in &outcome.violations {
        let note = if violation.excused_by_clock_jump {
            " (after a clock jump beyond the drift bound: not a protocol bug)"
        } else {
            ""
        };
        println!(
            "VIOLATION {} at {:.3}s: {}{note}",
            violation.property,
            violation.at_micros as f64 / 1e6,
            violation.detail
        );
    }
    if failures.is_empty() {
        println!("verdict: every property held");
    }
    println!("reproduce: {reproduce}");
    println!("trace hash: {:016x}", outcome.trace_hash);
}

fn print_metrics(outcome: &Outcome) {
    let metrics = &outcome.metrics;
    let summary = metrics.summary();
    println!("\nmetrics:");
    println!(
        "  messages: {} sent ({} bytes on the wire), {} delivered, {} lost, {} undeliverable, {} duplicated",
        metrics.messages_sent,
        metrics.bytes_sent,
        metrics.messages_delivered,
        metrics.messages_lost,
        metrics.messages_undeliverable,
        metrics.messages_duplicated
    );
    println!(
        "  elections: {} (pre-votes {}), leaders elected {}, final term {}",
        metrics.elections, metrics.pre_elections, metrics.leaders_elected, metrics.max_term
    );
    if let Some(first) = metrics.first_leader_micros {
        println!("  first leader serving after {:.1} ms", millis(first));
    }
    println!(
        "  failover after a leader crash: {}",
        distribution(&summary.failover_ms)
    );
    println!(
        "    of which a majority stayed up and connected: {}",
        distribution(&summary.failover_with_quorum_ms)
    );
    if let (Some(messages), Some(bytes)) =
        (summary.messages_per_election, summary.bytes_per_election)
    {
        println!("  per leaderless window: {messages:.1} messages, {bytes:.0} bytes");
    }
    println!(
        "  leader availability: {:.1}%",
        summary.availability * 100.0
    );
    println!(
        "  client operations: {} ok, {} failed, {} unknown",
        metrics.operations_ok, metrics.operations_failed, metrics.operations_unknown
    );
    println!(
        "  write latency: {}",
        distribution(&summary.write_latency_ms)
    );
    println!("  read latency: {}", distribution(&summary.read_latency_ms));
    print_kpis(outcome);
}

/// The KPI names `electorate cluster` reports, from the simulator's
/// figures. The simulator records a property's first violation only, so
/// its split-brain figure is 0 or 1.
fn print_kpis(outcome: &Outcome) {
    let metrics = &outcome.metrics;
    let minutes = (metrics.total_micros as f64 / 60e6).max(1e-9);
    let latency = metrics
        .summary()
        .write_latency_ms
        .map(|d| format!("write latency p50 {:.1} ms p99 {:.1} ms", d.p50, d.p99))
        .unwrap_or_else(|| "no writes".to_owned());
    let split_brain_alerts = outcome
        .violations
        .iter()
        .filter(|violation| violation.property == "Lease Safety")
        .count();
    println!(
        "  kpis: elections_per_minute {:.1}, leader_changes {}, {latency}, split_brain_alerts {split_brain_alerts}",
        metrics.elections as f64 / minutes,
        metrics.leaders_elected
    );
}

fn distribution(distribution: &Option<Distribution>) -> String {
    match distribution {
        Some(d) => format!(
            "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n={})",
            d.p50, d.p99, d.max, d.count
        ),
        None => "none".to_owned(),
    }
}

/// `every N entries`, `every M bytes` or both.
fn snapshot_policy(run: &RunArgs) -> String {
    let limits: Vec<String> = [
        run.snapshot_every
            .map(|every| format!("every {every} entries")),
        run.snapshot_bytes
            .map(|bytes| format!("every {bytes} bytes")),
    ]
    .into_iter()
    .flatten()
    .collect();
    limits.join(" or ")
}
