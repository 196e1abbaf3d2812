//! `electorate check [SPEC...] [--json]`: model-checks specs (files, or
//! directories of `*.toml` files; `models/` by default), prints each verdict,
//! its state counts and time, and the shortest counterexample of every
//! violated property. Exits 1 if any outcome differs from its spec's
//! expectation, 2 if a spec cannot be loaded.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use electorate::model::run::Expected;
use electorate::model::run::Progress;
use electorate::model::spec::Strategy;
use electorate::model::{check_spec, CheckOptions, ModelSpec, SpecError, SpecReport};

use crate::cli::output::verdict_status;

#[derive(clap::Args)]
#[command(
    after_help = "A spec's sections: [cluster] nodes, max_crashes, max_transfers, \
crash_before_compaction; [raft] options and timings, snapshot_every, deliberate_bugs \
(test builds); [time]; [network]; [bounds]; [clients] operations; \
[disk] max_power_losses (power lost during a write: the batch survives whole or \
not at all, nothing of the step is sent, the node is down) and max_damaged_nodes \
(crashed nodes that restart on damaged synced data, refuse to start and stay \
down for good; at most a minority); [check]; [expect]. See README.md, \"Model checking\"."
)]
pub struct Args {
    /// Spec files or directories of them (default: `models/`, unless
    /// `--algo` asks for a built-in spec).
    specs: Vec<PathBuf>,
    /// Check a built-in spec of this algorithm instead of spec files: the
    /// first Raft election, Bully's and Ring's split brain under loss, or
    /// lease-lock's or zk-sequential's candidates with fencing on, paused
    /// at any moment.
    #[arg(long, value_enum, conflicts_with = "specs")]
    algo: Option<AlgoArg>,
    /// Cluster size for `--algo`.
    #[arg(long, default_value_t = 3, requires = "algo")]
    nodes: u64,
    /// Search breadth-first (shortest counterexamples; the default).
    #[arg(long, conflicts_with = "dfs")]
    bfs: bool,
    /// Search depth-first (less memory).
    #[arg(long)]
    dfs: bool,
    /// Explore at most this many actions deep (overrides `bounds.max_depth`).
    #[arg(long)]
    max_depth: Option<usize>,
    /// Print one JSON report per spec, one per line, instead of text.
    #[arg(long)]
    json: bool,
    /// Checker threads. Overrides the spec's `check.threads`.
    #[arg(long)]
    threads: Option<usize>,
    /// Give up on a spec after this many seconds (the verdict is then
    /// incomplete and counts as unexpected).
    #[arg(long)]
    timeout_seconds: Option<u64>,
    /// Check only the specs marked `run = "default"` (what `cargo test`
    /// checks).
    #[arg(long)]
    default_only: bool,
    /// Do not search for shortest counterexamples.
    #[arg(long)]
    no_counterexamples: bool,
    /// Turn off the spec's symmetry reduction (`check.symmetry`): count
    /// every state, not one per class of renamed states.
    #[arg(long)]
    no_symmetry: bool,
    /// Judge the properties' verdicts only, not the pinned state counts
    /// (`expect.unique_states`), which fail on any change of behaviour.
    #[arg(long)]
    verdicts_only: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum AlgoArg {
    Raft,
    Bully,
    Ring,
    LeaseLock,
    ZkSequential,
}

/// The built-in spec `--algo A --nodes N` checks: for Raft the first
/// election, as `models/raft-election.toml` for up to 3 nodes (N messages
/// in flight, so a broadcast fits) and as `models/raft-election-5.toml`
/// beyond (no drift, one more message in flight than nodes, a log of one,
/// depth first with symmetry reduction: what lets 5 nodes finish); for
/// Bully and Ring the split brain of `models/*-split-brain.toml`; for
/// lease-lock the candidates of `models/lease-lock-fenced.toml` (fencing on,
/// late ticks as pauses, the default `[lease_lock]` timings), where every
/// property must hold; its clocks do not drift, which
/// `models/lease-lock-fenced-drift.toml` adds for two candidates (three
/// with drift are beyond a quick search); for zk-sequential the candidates
/// of `models/zk-sequential-fenced.toml` (fencing on, late ticks as
/// pauses, a job's write at the next tick, three quanta), where every
/// property must hold, without drift likewise. No state count is pinned.
fn builtin_spec(algo: AlgoArg, nodes: u64) -> Result<ModelSpec, String> {
    let text = match algo {
        AlgoArg::Raft => {
            let (drift, in_flight, max_log, check) = if nodes <= 3 {
                (1, nodes, 2, "")
            } else {
                (
                    0,
                    nodes + 1,
                    1,
                    "[check]\nstrategy = \"dfs\"\nsymmetry = true\n",
                )
            };
            format!(
                r#"
description = "First election of {nodes} Raft nodes (built in: --algo raft)"
algorithm = "raft"
run = "explicit"

[cluster]
nodes = {nodes}

[time]
max_time = 5
clock_drift = {drift}

[network]
ordered = true
max_in_flight = {in_flight}

[bounds]
max_term = 1
max_log = {max_log}

{check}
[expect]
reachable = ["a leader is elected"]
"#
            )
        }
        AlgoArg::Bully | AlgoArg::Ring => {
            let name = if matches!(algo, AlgoArg::Bully) {
                "bully"
            } else {
                "ring"
            };
            format!(
                r#"
description = "{name} with {nodes} nodes under message loss (built in: --algo {name})"
algorithm = "{name}"
run = "explicit"

[cluster]
nodes = {nodes}

[time]
max_time = 5

[network]
ordered = true
lossy = true
max_in_flight = 2

[bounds]
max_term = 1
max_log = 0

[expect]
violated = ["Election Safety", "Lease Safety"]
reachable = ["a leader is elected"]
"#
            )
        }
        AlgoArg::LeaseLock => format!(
            r#"
description = "{nodes} lease-lock candidates with fencing on, holders paused at any moment (built in: --algo lease-lock)"
algorithm = "lease-lock"
run = "explicit"

[cluster]
nodes = {nodes}

[lease_lock]
fencing = true

[time]
max_time = 4
clock_drift = 0

[network]
ordered = true
max_in_flight = 2

[bounds]
max_term = 2
max_log = 0

[expect]
reachable = ["a leader is elected"]
"#
        ),
        AlgoArg::ZkSequential => format!(
            r#"
description = "{nodes} zk-sequential candidates with fencing on, holders paused at any moment (built in: --algo zk-sequential)"
algorithm = "zk-sequential"
run = "explicit"

[cluster]
nodes = {nodes}

[zk_sequential]
fencing = true
work_duration = 0

[time]
max_time = 3
clock_drift = 0

[network]
ordered = true
max_in_flight = 2

[bounds]
max_term = {nodes}
max_log = 0

[expect]
reachable = ["a leader is elected"]
"#
        ),
    };
    ModelSpec::parse(Path::new("--algo"), &text).map_err(|error| error.to_string())
}

pub fn run(args: Args) -> ExitCode {
    let specs = match args.algo {
        Some(algo) => builtin_spec(algo, args.nodes).map(|spec| vec![spec]),
        None => load_all(&args.specs, args.default_only).map_err(|error| error.to_string()),
    };
    let specs = match specs {
        Ok(specs) => specs,
        Err(error) => {
            eprintln!("electorate check: {error}");
            return ExitCode::from(2);
        }
    };
    let strategy = match (args.bfs, args.dfs) {
        (_, true) => Some(Strategy::Dfs),
        (true, _) => Some(Strategy::Bfs),
        _ => None,
    };
    let options = CheckOptions {
        // Progress is one line on stderr, rewritten in place; JSON output
        // stays clean for machines.
        progress: (!args.json).then_some(show_progress as fn(&Progress)),
        strategy,
        max_depth: args.max_depth,
        threads: args.threads,
        timeout: args.timeout_seconds.map(Duration::from_secs),
        skip_counterexamples: args.no_counterexamples,
        no_symmetry: args.no_symmetry,
        verdicts_only: args.verdicts_only,
    };
    let mut all_as_expected = true;
    for spec in &specs {
        if !args.json {
            println!("== {} ({})", spec.path.display(), spec.description.trim());
        }
        let report = check_spec(spec, &options);
        if !args.json {
            // Erase the progress line before the report.
            eprint!("\r\x1b[2K");
        }
        all_as_expected &= report.as_expected();
        if args.json {
            println!(
                "{}",
                serde_json::to_string(&report).expect("reports serialize")
            );
        } else {
            print_report(&report);
        }
    }
    verdict_status(all_as_expected)
}

fn show_progress(progress: &Progress) {
    let seconds = progress.elapsed.as_secs_f64().max(1e-9);
    eprint!(
        "\r   {} states, {} unique, {:.0} states/s, depth {}   ",
        progress.states,
        progress.unique_states,
        progress.states as f64 / seconds,
        progress.max_depth
    );
}

/// Loads every spec named, expanding directories to their `*.toml` files in
/// name order.
pub fn load_all(paths: &[PathBuf], default_only: bool) -> Result<Vec<ModelSpec>, SpecError> {
    let default_directory = [PathBuf::from("models")];
    let paths = if paths.is_empty() {
        &default_directory[..]
    } else {
        paths
    };
    let mut specs = Vec::new();
    for path in paths {
        for file in spec_files(path)? {
            let spec = ModelSpec::load(&file)?;
            if !default_only || spec.run == electorate::model::spec::RunMode::Default {
                specs.push(spec);
            }
        }
    }
    Ok(specs)
}

fn spec_files(path: &Path) -> Result<Vec<PathBuf>, SpecError> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let read_error = |source| SpecError::Read {
        file: path.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(read_error)? {
        let file = entry.map_err(read_error)?.path();
        if file
            .extension()
            .is_some_and(|extension| extension == "toml")
        {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

fn print_report(report: &SpecReport) {
    let pinned = match report.expected_unique_states {
        Some(expected) if expected == report.unique_states => " (as pinned)".to_owned(),
        Some(expected) => format!(" (pinned: {expected})"),
        None => " (not pinned)".to_owned(),
    };
    println!(
        "   {} unique states{pinned}, {} generated, max depth {}, {:.1} s, {:?} with {} thread(s){}{}",
        report.unique_states,
        report.total_states,
        report.max_depth,
        report.seconds,
        report.strategy,
        report.threads,
        if report.symmetry {
            ", symmetry reduction"
        } else {
            ""
        },
        if report.complete { "" } else { ", INCOMPLETE" }
    );
    for property in &report.properties {
        if property.expected == Expected::Unchecked && !property.discovered {
            continue;
        }
        let expectation = if property.as_expected {
            ""
        } else {
            "   <-- unexpected"
        };
        println!(
            "   {:<36} {:<12}{expectation}",
            property.name,
            property.verdict()
        );
        let Some(steps) = &property.counterexample else {
            continue;
        };
        println!(
            "     shortest counterexample, {} steps (explorer: #/steps/{}):",
            steps.len(),
            property.explorer_path.as_deref().unwrap_or("")
        );
        for (number, step) in steps.iter().enumerate() {
            println!("     {:>3}. [t={}] {}", number + 1, step.time, step.action);
            println!("            {}", step.state);
            for violation in &step.violations {
                println!("            => {violation}");
            }
        }
    }
    if report.as_expected() {
        println!("   verdict: as expected");
    } else {
        println!("   verdict: UNEXPECTED");
        for mismatch in report.all_mismatches() {
            println!("     - {mismatch}");
        }
    }
}
