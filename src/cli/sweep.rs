//! `electorate sweep`: many seeds across all cores, with a progress bar;
//! violations listed with the commands that reproduce them, and the
//! distributions of the metrics.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use electorate::check::properties::Property;
use electorate::core::panic_message::panic_message;
use electorate::core::raft::deliberate_bugs::DeliberateBugs;
use electorate::driver::cluster::simulated_kpis::SimulatedKpis;
use electorate::harness::algorithm::Algorithm;
use electorate::sim::metrics::{Distribution, Metrics};
use electorate::sim::simulation::{RecordedViolation, Simulation};
use electorate::sim::units::format_duration;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::cli::output::{print_json, verdict_status};
use crate::cli::run_args::{dispatch_with, RunArgs, WithAlgorithm};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    run: RunArgs,
    /// How many seeds to run.
    #[arg(long, default_value_t = 1_000)]
    seeds: u64,
    /// The first seed; the sweep runs `first-seed .. first-seed + seeds`.
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Worker threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Print a JSON report instead of text.
    #[arg(long)]
    json: bool,
    /// Raft with a deliberate bug on, to measure how often a sweep finds
    /// it: `install-older-snapshot`, or a coalescing bug (`commit-ahead`,
    /// `loses-entry`, `across-terms`, `anywhere`). Only a test-profile
    /// build has them.
    #[arg(long, hide = true)]
    deliberate_bug: Option<String>,
}

pub fn run(args: Args) -> ExitCode {
    let mut config = args.run.raft_config();
    if let Some(name) = &args.deliberate_bug {
        match DeliberateBugs::named(name) {
            Some(bugs) if DeliberateBugs::AVAILABLE => config.bugs = bugs,
            Some(_) => {
                eprintln!("error: this build has no deliberate bugs (a test-profile build has)");
                return ExitCode::from(2);
            }
            None => {
                eprintln!("error: no deliberate bug is named {name:?}");
                return ExitCode::from(2);
            }
        }
    }
    match args.run.expiry() {
        Ok(expiry) => dispatch_with(args.run.algo, config, expiry, args),
        Err(error) => {
            eprintln!("electorate sweep: {error}");
            ExitCode::from(2)
        }
    }
}

/// What one seed contributes to the sweep.
#[derive(Clone, Debug)]
struct SeedResult {
    seed: u64,
    violations: Vec<RecordedViolation>,
    metrics: Metrics,
    /// How many faults of each shape the seed's schedule holds.
    shapes: BTreeMap<String, u64>,
}

#[derive(Serialize)]
struct Report {
    algorithm: &'static str,
    nodes: u64,
    seeds: u64,
    first_seed: u64,
    duration: String,
    elapsed_seconds: f64,
    delivered_messages_per_second: f64,
    failures: Vec<Failure>,
    excused_lease_violations: usize,
    failover_ms: Option<Distribution>,
    failover_with_quorum_ms: Option<Distribution>,
    first_leader_ms: Option<Distribution>,
    availability_mean: f64,
    availability_min: f64,
    messages_per_election_mean: Option<f64>,
    bytes_per_election_mean: Option<f64>,
    /// `electorate cluster`'s KPIs, by its names, over every seed.
    kpis: SimulatedKpis,
    /// Snapshots taken and installed over every seed (`--snapshot-every`).
    snapshots_taken: u64,
    snapshots_installed: u64,
    /// How many faults of each shape (SWARM.md) the seeds' schedules held.
    shapes: BTreeMap<String, u64>,
}

#[derive(Serialize)]
struct Failure {
    seed: u64,
    property: String,
    at_micros: u64,
    detail: String,
    reproduce: String,
}

impl WithAlgorithm for Args {
    type Output = ExitCode;

    fn call<A: Algorithm + Clone + Send + Sync + 'static>(self, algorithm: A) -> ExitCode
    where
        A::Node: Send,
    {
        let started = Instant::now();
        let results = run_seeds(&algorithm, &self);
        let report = summarize(&self, &results, started.elapsed().as_secs_f64());
        if self.json {
            print_json(&report);
        } else {
            print_text(&report);
        }
        verdict_status(report.failures.is_empty())
    }
}

/// Runs every seed on a pool of threads that take the next seed from a
/// shared counter; results come back sorted by seed.
fn run_seeds<A: Algorithm + Clone + Send + Sync>(algorithm: &A, args: &Args) -> Vec<SeedResult>
where
    A::Node: Send,
{
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |count| count.get()))
        .max(1);
    let progress = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.seeds)
    };
    progress.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} seeds ({per_sec}, eta {eta}) {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let next = AtomicU64::new(0);
    let failures = AtomicU64::new(0);
    let results = Mutex::new(Vec::with_capacity(args.seeds as usize));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let offset = next.fetch_add(1, Ordering::Relaxed);
                if offset >= args.seeds {
                    break;
                }
                let seed = args.first_seed + offset;
                let result = run_seed(algorithm, args, seed);
                if result.violations.iter().any(|v| !v.excused_by_clock_jump) {
                    let count = failures.fetch_add(1, Ordering::Relaxed) + 1;
                    progress.set_message(format!("{count} failing seeds"));
                }
                results.lock().expect("no worker panicked").push(result);
                progress.inc(1);
            });
        }
    });
    progress.finish_and_clear();
    let mut results = results.into_inner().expect("no worker panicked");
    results.sort_by_key(|result| result.seed);
    results
}

/// One seed's run. A node that panics (an invariant or an assertion of the
/// core broke: with a deliberate bug on, say) fails the seed as Node
/// Invariants instead of ending the sweep.
fn run_seed<A: Algorithm + Clone>(algorithm: &A, args: &Args, seed: u64) -> SeedResult {
    let options = args.run.options(seed);
    let mut shapes = BTreeMap::new();
    for shape in options.faults.iter().filter_map(|f| f.fault.shape()) {
        *shapes.entry(shape).or_default() += 1;
    }
    let algorithm = algorithm.clone();
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        Simulation::new(algorithm, options).run()
    }));
    match run {
        Ok(outcome) => SeedResult {
            seed,
            violations: outcome.violations,
            metrics: outcome.metrics,
            shapes,
        },
        Err(panic) => {
            let detail = panic_message(&*panic);
            SeedResult {
                seed,
                violations: vec![RecordedViolation {
                    at_micros: 0,
                    property: Property::NodeInvariants.name().to_owned(),
                    detail: format!("panicked: {detail}"),
                    excused_by_clock_jump: false,
                }],
                metrics: Metrics::default(),
                shapes,
            }
        }
    }
}

fn summarize(args: &Args, results: &[SeedResult], elapsed_seconds: f64) -> Report {
    let mut failures = Vec::new();
    let mut excused = 0;
    let mut failovers = Vec::new();
    let mut failovers_with_quorum = Vec::new();
    let mut first_leaders = Vec::new();
    let mut availability = Vec::new();
    let mut per_election = Vec::new();
    let mut bytes_per_election = Vec::new();
    let mut delivered = 0;
    for result in results {
        for violation in &result.violations {
            if violation.excused_by_clock_jump {
                excused += 1;
                continue;
            }
            failures.push(Failure {
                seed: result.seed,
                property: violation.property.clone(),
                at_micros: violation.at_micros,
                detail: violation.detail.clone(),
                reproduce: args.run.reproduce(result.seed),
            });
        }
        let metrics = &result.metrics;
        failovers.extend_from_slice(&metrics.failover_micros);
        failovers_with_quorum.extend_from_slice(&metrics.failover_with_quorum_micros);
        first_leaders.extend(metrics.first_leader_micros);
        availability.push(metrics.availability());
        per_election.extend(metrics.messages_per_election());
        bytes_per_election.extend(metrics.bytes_per_election());
        delivered += metrics.messages_delivered;
    }
    Report {
        algorithm: args.run.algo.name(),
        nodes: args.run.nodes,
        seeds: args.seeds,
        first_seed: args.first_seed,
        duration: format_duration(args.run.duration),
        elapsed_seconds,
        delivered_messages_per_second: delivered as f64 / elapsed_seconds.max(1e-9),
        failures,
        excused_lease_violations: excused,
        failover_ms: Distribution::of(&failovers),
        failover_with_quorum_ms: Distribution::of(&failovers_with_quorum),
        first_leader_ms: Distribution::of(&first_leaders),
        availability_mean: mean(&availability).unwrap_or(0.0),
        availability_min: availability
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .min(1.0),
        messages_per_election_mean: mean(&per_election),
        bytes_per_election_mean: mean(&bytes_per_election),
        kpis: SimulatedKpis::of(
            results
                .iter()
                .map(|result| (&result.metrics, &result.violations[..])),
        ),
        snapshots_taken: results.iter().map(|r| r.metrics.snapshots_taken).sum(),
        snapshots_installed: results.iter().map(|r| r.metrics.snapshots_installed).sum(),
        shapes: results.iter().fold(BTreeMap::new(), |mut shapes, result| {
            for (shape, count) in &result.shapes {
                *shapes.entry(shape.clone()).or_default() += count;
            }
            shapes
        }),
    }
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn print_text(report: &Report) {
    println!(
        "{}: {} nodes, seeds {}..{}, {} of faults each then a liveness phase",
        report.algorithm,
        report.nodes,
        report.first_seed,
        report.first_seed + report.seeds,
        report.duration
    );
    println!(
        "ran in {:.1} s ({:.0} seeds/s, {:.2} M delivered messages/s)",
        report.elapsed_seconds,
        report.seeds as f64 / report.elapsed_seconds.max(1e-9),
        report.delivered_messages_per_second / 1e6
    );
    let show = |name: &str, distribution: &Option<Distribution>| match distribution {
        Some(d) => println!(
            "{name}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n={})",
            d.p50, d.p99, d.max, d.count
        ),
        None => println!("{name}: none"),
    };
    show("failover after a leader crash", &report.failover_ms);
    show(
        "  of which a majority stayed up and connected",
        &report.failover_with_quorum_ms,
    );
    show("first leader serving", &report.first_leader_ms);
    println!(
        "leader availability: mean {:.1}%, worst seed {:.1}%",
        report.availability_mean * 100.0,
        report.availability_min * 100.0
    );
    if let (Some(messages), Some(bytes)) = (
        report.messages_per_election_mean,
        report.bytes_per_election_mean,
    ) {
        println!("per leaderless window: mean {messages:.1} messages, {bytes:.0} bytes");
    }
    println!("{}", report.kpis.line());
    if report.snapshots_taken > 0 || report.snapshots_installed > 0 {
        println!(
            "snapshots: {} taken, {} installed from a leader",
            report.snapshots_taken, report.snapshots_installed
        );
    }
    if !report.shapes.is_empty() {
        let shapes: Vec<String> = report
            .shapes
            .iter()
            .map(|(shape, count)| format!("{shape} {count}"))
            .collect();
        println!("fault shapes drawn: {}", shapes.join(", "));
    }
    if report.excused_lease_violations > 0 {
        println!(
            "lease violations after clock jumps beyond the drift bound (expected): {}",
            report.excused_lease_violations
        );
    }
    if report.failures.is_empty() {
        println!("violations: none");
        return;
    }
    println!("violations: {}", report.failures.len());
    for failure in &report.failures {
        println!(
            "  seed {}: {} at {:.3}s: {}\n    reproduce: {}",
            failure.seed,
            failure.property,
            failure.at_micros as f64 / 1e6,
            failure.detail,
            failure.reproduce
        );
    }
}
