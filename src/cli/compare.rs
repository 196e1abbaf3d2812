//! `electorate compare`: the same experiments for every algorithm variant
//! and cluster sizes 3, 5, 7 and 9 — messages per election beside the
//! theory, failover, availability, and the safety violations each variant
//! suffers — as a table, JSON, and SVG charts. A broken property is
//! named by the property vocabulary ([`Property`]), with what it means
//! (two leaders of one term is a split brain; two valid leases at one
//! instant is a lease overlap) and the command that replays its first seed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use electorate::check::properties::Property;
use electorate::driver::cluster::simulated_kpis::SimulatedKpis;
use electorate::harness::algorithm::Algorithm;
use electorate::sim::experiments::{cold_start, leader_crash};
use electorate::sim::faults::FaultKind;
use electorate::sim::metrics::{millis, Distribution};
use electorate::sim::simulation::{Simulation, SimulationOptions};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::cli::charts;
use crate::cli::lease_tradeoff::{self, TradeoffRow};
use crate::cli::run_args::{dispatch, Algo, Experiment, FaultSet, RunArgs, WithAlgorithm};
use crate::cli::write_cost;

#[derive(clap::Args)]
pub struct Args {
    /// Seeds per experiment, algorithm and size.
    #[arg(long, default_value_t = 200)]
    seeds: u64,
    /// Seeds of the faulty swarm (availability, violations) per algorithm
    /// and size.
    #[arg(long, default_value_t = 20)]
    swarm_seeds: u64,
    /// Cluster sizes.
    #[arg(long, value_delimiter = ',', default_value = "3,5,7,9")]
    sizes: Vec<u64>,
    /// Write SVG charts into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Print a JSON report instead of a table.
    #[arg(long)]
    json: bool,
    /// Lease TTLs (zk-sequential: session timeouts), in seconds, for the
    /// trade-off of lease duration against failover time (measured at the
    /// first of `--sizes`).
    #[arg(long, value_delimiter = ',', default_value = "1,2,5,12")]
    lease_ttls: Vec<u64>,
}

/// One (algorithm, size) cell of the comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub algorithm: &'static str,
    pub nodes: u64,
    /// Messages sent from the cold start until a leader could serve.
    pub messages_per_election: f64,
    /// Wire bytes (codec frames, headers included) over the same window.
    pub bytes_per_election: f64,
    pub messages_theory: u64,
    pub theory: &'static str,
    pub first_leader_ms: Option<Distribution>,
    pub failover_ms: Option<Distribution>,
    /// Every failover sample, in milliseconds, for the charts.
    #[serde(skip)]
    pub failover_samples_ms: Vec<f64>,
    pub availability: f64,
    /// Seeds (of the leader-partition experiment and the swarm) in which a
    /// safety property broke, by property.
    pub violations: Vec<(String, u64)>,
    /// The first seed each safety property broke in, in the order found.
    pub first_breaks: Vec<FirstBreak>,
    /// `electorate cluster`'s KPIs, by its names, over the swarm's seeds.
    pub kpis: SimulatedKpis,
}

/// The first seed in which a property broke, and what that means.
#[derive(Clone, Debug, Serialize)]
pub struct FirstBreak {
    /// As [`Property::name`] spells it.
    pub property: String,
    /// The property and what its break is: [`break_label`].
    pub label: String,
    pub seed: u64,
    /// The command that replays the seed.
    pub reproduce: String,
}

/// What a broken property is called in the report: its name in the
/// property vocabulary and, for the two that bound leadership, what the
/// break looks like. Only Election Safety broken is a split brain; Lease
/// Safety broken is an overlap of leases, which raft-rs's lease reads show
/// while Election Safety holds.
pub fn break_label(property: &str) -> String {
    match Property::from_name(property) {
        Some(Property::ElectionSafety) => format!(
            "{}: split brain (two leaders of one term)",
            Property::ElectionSafety.name()
        ),
        Some(Property::LeaseSafety) => format!(
            "{}: lease overlap (two nodes hold a valid lease at one instant)",
            Property::LeaseSafety.name()
        ),
        _ => property.to_owned(),
    }
}

/// What `--json` prints.
#[derive(Serialize)]
struct Report<'a> {
    comparison: &'a [Row],
    write_costs: &'a [write_cost::WriteCost],
    lease_tradeoff: &'a [TradeoffRow],
}

/// The variants compared: every algorithm of the simulator's default set,
/// and the lock-service variants beside them (fencing on).
fn compared_algorithms() -> Vec<Algo> {
    let mut algorithms = Algo::ALL.to_vec();
    for lock_service in [Algo::LeaseLock, Algo::ZkSequential] {
        if !algorithms.contains(&lock_service) {
            algorithms.push(lock_service);
        }
    }
    algorithms
}

/// The lock-service patterns' trade-off of lease duration against failover
/// time, with `args.seeds` holder crashes per TTL, at the first cluster
/// size asked.
fn lease_tradeoff_rows(args: &Args) -> Vec<TradeoffRow> {
    let Some(&nodes) = args.sizes.first() else {
        return Vec::new();
    };
    let ttls: Vec<Duration> = args
        .lease_ttls
        .iter()
        .map(|&seconds| Duration::from_secs(seconds))
        .collect();
    lease_tradeoff::measure(&ttls, nodes, args.seeds)
}

pub fn run(args: Args) -> ExitCode {
    if let Some(zero) = args.lease_ttls.iter().find(|&&seconds| seconds == 0) {
        eprintln!("electorate compare: --lease-ttls: a TTL of {zero} s is no lease");
        return ExitCode::from(2);
    }
    let algorithms = compared_algorithms();
    let cells: Vec<(Algo, u64)> = algorithms
        .iter()
        .flat_map(|&algo| args.sizes.iter().map(move |&nodes| (algo, nodes)))
        .collect();
    let runs_per_cell = 3 * args.seeds + args.swarm_seeds;
    let progress = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(cells.len() as u64 * runs_per_cell)
    };
    progress.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} runs {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let rows = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |count| count.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(algo, nodes)) = cells.get(index) else {
                    break;
                };
                progress.set_message(format!("{} with {nodes} nodes", algo.name()));
                let row = dispatch(
                    algo,
                    Cell {
                        args: &args,
                        algo,
                        nodes,
                        progress: &progress,
                    },
                );
                rows.lock().expect("no worker panicked").push(row);
            });
        }
    });
    progress.finish_and_clear();
    let mut rows = rows.into_inner().expect("no worker panicked");
    rows.sort_by_key(|row| (row.algorithm, row.nodes));
    let write_costs = write_cost::write_costs(&args.sizes);
    let tradeoff = lease_tradeoff_rows(&args);
    if args.json {
        let report = Report {
            comparison: &rows,
            write_costs: &write_costs,
            lease_tradeoff: &tradeoff,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serializable")
        );
    } else {
        print_table(&rows, started.elapsed());
        write_cost::print(&write_costs);
        lease_tradeoff::print(&tradeoff);
    }
    if let Some(directory) = &args.plot {
        let written = charts::write_all(directory, &rows).and_then(|mut files| {
            files.extend(charts::write_lease_tradeoff(directory, &tradeoff)?);
            Ok(files)
        });
        match written {
            Ok(files) => files
                .iter()
                .for_each(|file| eprintln!("wrote {}", file.display())),
            Err(error) => {
                eprintln!("could not write charts to {}: {error}", directory.display());
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}

struct Cell<'a> {
    args: &'a Args,
    algo: Algo,
    nodes: u64,
    progress: &'a ProgressBar,
}

impl WithAlgorithm for Cell<'_> {
    type Output = Row;

    fn call<A: Algorithm + Clone + Send + Sync + 'static>(self, algorithm: A) -> Row
    where
        A::Node: Send,
    {
        let Cell {
            args,
            algo,
            nodes,
            progress,
        } = self;
        let run = |options: SimulationOptions| {
            progress.inc(1);
            Simulation::new(algorithm.clone(), options).run()
        };
        let mut election_messages = Vec::new();
        let mut election_bytes = Vec::new();
        let mut first_leaders = Vec::new();
        for seed in 0..args.seeds {
            let metrics = run(cold_start(nodes, seed)).metrics;
            first_leaders.extend(metrics.first_leader_micros);
            election_messages.push(metrics.cold_start_messages as f64);
            election_bytes.push(metrics.cold_start_bytes as f64);
        }
        let mut failovers = Vec::new();
        for seed in 0..args.seeds {
            failovers.extend(run(leader_crash(nodes, seed)).metrics.failover_micros);
        }
        let mut violations: Vec<(String, u64)> = Vec::new();
        let mut first_breaks: Vec<FirstBreak> = Vec::new();
        // A property counts once per seed, however often it broke in it.
        let mut count =
            |outcome: &electorate::sim::simulation::Outcome, experiment: &RunArgs, seed: u64| {
                let mut broken: Vec<&str> = outcome
                    .failures()
                    .map(|violation| violation.property.as_str())
                    .collect();
                broken.sort_unstable();
                broken.dedup();
                for property in broken {
                    match violations.iter_mut().find(|(name, _)| name == property) {
                        Some((_, seeds)) => *seeds += 1,
                        None => violations.push((property.to_owned(), 1)),
                    }
                    if !first_breaks.iter().any(|found| found.property == property) {
                        first_breaks.push(FirstBreak {
                            property: property.to_owned(),
                            label: break_label(property),
                            seed,
                            reproduce: experiment.reproduce(seed),
                        });
                    }
                }
            };
        let experiment = |experiment: Experiment| RunArgs {
            algo,
            nodes,
            duration: Duration::from_secs(10),
            faults: FaultSet(FaultKind::default_set()),
            experiment,
            batch_window: None,
            expiry: None,
            snapshot_every: None,
            snapshot_bytes: None,
        };
        let partition = experiment(Experiment::LeaderPartition);
        for seed in 0..args.seeds {
            count(&run(partition.options(seed)), &partition, seed);
        }
        let swarm = experiment(Experiment::Swarm);
        let mut availability = Vec::new();
        let mut swarm_runs = Vec::new();
        for seed in 0..args.swarm_seeds {
            let outcome = run(swarm.options(seed));
            availability.push(outcome.metrics.availability());
            count(&outcome, &swarm, seed);
            swarm_runs.push((outcome.metrics, outcome.violations));
        }
        let kpis = SimulatedKpis::of(
            swarm_runs
                .iter()
                .map(|(metrics, violations)| (metrics, &violations[..])),
        );
        let (messages_theory, theory) = theory(algo, nodes);
        Row {
            algorithm: algo.name(),
            nodes,
            messages_per_election: mean(&election_messages),
            bytes_per_election: mean(&election_bytes),
            messages_theory,
            theory,
            first_leader_ms: Distribution::of(&first_leaders),
            failover_ms: Distribution::of(&failovers),
            failover_samples_ms: failovers.iter().map(|&micros| millis(micros)).collect(),
            availability: mean(&availability),
            violations,
            first_breaks,
            kpis,
        }
    }
}

/// The textbook message count of one election among `n` nodes.
fn theory(algo: Algo, n: u64) -> (u64, &'static str) {
    match algo {
        // The first candidate to open a session leads once it has its
        // session, its entry and the answer that nothing is below it: three
        // requests and their answers. The others, staggered by their first
        // delays, are still joining.
        Algo::ZkSequential | Algo::ZkSequentialUnfenced => (6, "6"),
        // Pre-vote, vote and the first append: a request and a response
        // to each of the n - 1 peers in each round.
        Algo::Raft => (6 * (n - 1), "6(n-1)"),
        // raft-rs runs the same three rounds (PreVote on).
        #[cfg(feature = "raft-rs")]
        Algo::RaftRs | Algo::RaftRsLease => (6 * (n - 1), "6(n-1)"),
        // The lowest id starts: every node challenges all higher ones and
        // is answered, then the winner announces itself: n(n-1)/2 ELECTION,
        // n(n-1)/2 ANSWER, n-1 COORDINATOR.
        Algo::Bully => (n * n - 1, "n^2-1"),
        // Chang-Roberts from the lowest id with an ack per hop: 2n-1
        // ELECTION hops, n COORDINATOR hops, 3n-1 acks.
        Algo::Ring => (2 * (3 * n - 1), "2(3n-1)"),
        // The first candidate to ask is granted the key: its request and
        // the grant. The others, staggered by their first retry delays,
        // ask only once the key is held, after the election.
        Algo::LeaseLock | Algo::LeaseLockUnfenced => (2, "2"),
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

fn print_table(rows: &[Row], elapsed: Duration) {
    println!(
        "{:<13} {:>5} {:>14} {:>14} {:>15} {:>12} {:>22} {:>8}  violations",
        "algo",
        "nodes",
        "msgs/election",
        "textbook",
        "bytes/election",
        "1st leader",
        "failover p50/p99",
        "avail"
    );
    for row in rows {
        let first = row
            .first_leader_ms
            .as_ref()
            .map_or("-".to_owned(), |d| format!("{:.0} ms", d.p50));
        let failover = row
            .failover_ms
            .as_ref()
            .map_or("-".to_owned(), |d| format!("{:.0}/{:.0} ms", d.p50, d.p99));
        let violations = if row.violations.is_empty() {
            "none".to_owned()
        } else {
            let parts: Vec<String> = row
                .violations
                .iter()
                .map(|(property, seeds)| format!("{property} in {seeds} seeds"))
                .collect();
            parts.join(", ")
        };
        println!(
            "{:<13} {:>5} {:>14.1} {:>14} {:>15.0} {:>12} {:>22} {:>7.1}%  {violations}",
            row.algorithm,
            row.nodes,
            row.messages_per_election,
            format!("{} = {}", row.theory, row.messages_theory),
            row.bytes_per_election,
            first,
            failover,
            row.availability * 100.0
        );
    }
    println!(
        "textbook: raft 6(n-1) = one pre-vote, vote and append round with no split vote; \
         bully n^2-1 and ring 2(3n-1) = the lowest id starting, their worst case; \
         lease-lock 2 = the first candidate's request and its grant"
    );
    for row in rows {
        println!(
            "{} with {} nodes, swarm {}",
            row.algorithm,
            row.nodes,
            row.kpis.line()
        );
    }
    for row in rows {
        for found in &row.first_breaks {
            println!(
                "{}: {} with {} nodes, first in seed {}; reproduce: {}",
                found.label, row.algorithm, row.nodes, found.seed, found.reproduce
            );
        }
    }
    println!("compared in {:.1} s", elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_election_safety_broken_is_called_a_split_brain() {
        let election = break_label(Property::ElectionSafety.name());
        assert!(election.starts_with("Election Safety"), "{election}");
        assert!(election.contains("split brain"), "{election}");
        let lease = break_label(Property::LeaseSafety.name());
        assert!(lease.starts_with("Lease Safety"), "{lease}");
        assert!(lease.contains("lease overlap"), "{lease}");
        for property in Property::ALL {
            if property != Property::ElectionSafety {
                let label = break_label(property.name());
                assert!(!label.contains("split brain"), "{property}: {label}");
                assert!(label.starts_with(property.name()), "{property}: {label}");
            }
        }
    }

    /// raft-rs's lease reads overlap a successor's term in the
    /// leader-partition experiment while Election Safety holds: the row
    /// names the overlap, not a split brain, and its command replays a
    /// seed that breaks Lease Safety.
    #[cfg(feature = "raft-rs")]
    #[test]
    fn a_raft_rs_lease_overlap_is_labelled_as_one() {
        let args = Args {
            seeds: 3,
            swarm_seeds: 0,
            sizes: vec![3],
            plot: None,
            json: true,
            lease_ttls: Vec::new(),
        };
        let row = dispatch(
            Algo::RaftRsLease,
            Cell {
                args: &args,
                algo: Algo::RaftRsLease,
                nodes: 3,
                progress: &ProgressBar::hidden(),
            },
        );
        assert_eq!(row.first_breaks.len(), 1, "{:?}", row.first_breaks);
        let found = &row.first_breaks[0];
        assert_eq!(found.property, Property::LeaseSafety.name());
        assert!(found.label.contains("lease overlap"), "{}", found.label);
        assert!(!found.label.contains("split brain"), "{}", found.label);
        let replayed = RunArgs {
            algo: Algo::RaftRsLease,
            nodes: 3,
            duration: Duration::from_secs(10),
            faults: FaultSet(FaultKind::default_set()),
            experiment: Experiment::LeaderPartition,
            batch_window: None,
            expiry: None,
            snapshot_every: None,
            snapshot_bytes: None,
        };
        assert_eq!(found.reproduce, replayed.reproduce(found.seed));
        let outcome = Simulation::new(
            electorate::adapters::raft_rs::RaftRs::with_lease_reads(),
            replayed.options(found.seed),
        )
        .run();
        assert!(outcome
            .failures()
            .any(|violation| violation.property == Property::LeaseSafety.name()));
    }
}
