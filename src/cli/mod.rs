//! Command-line interface: one module per subcommand, each with its clap
//! arguments and a `run` that returns the process exit status.

mod abdication;
mod charts;
mod check;
mod cluster;
mod compare;
mod decode_frame;
mod explore;
mod lease_tradeoff;
mod lincheck;
mod logging;
mod node;
mod output;
mod pool;
mod run_args;
mod scenario;
mod simulate;
mod sweep;
mod write_cost;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "electorate",
    version,
    about = "Leader election, leases and log replication: simulate, check, compare"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay scenario files and print what the cluster did, step by step.
    Scenario(scenario::Args),
    /// Simulate one seeded run under faults: timeline, metrics, verdict.
    Simulate(simulate::Args),
    /// Run many seeds across all cores; list violations with their seeds.
    Sweep(sweep::Args),
    /// Compare the algorithm variants on the same experiments (3-9 nodes).
    Compare(compare::Args),
    /// Model-check specs (`models/*.toml`) exhaustively with stateright.
    Check(check::Args),
    /// Serve stateright's web explorer for one model spec.
    Explore(explore::Args),
    /// Check recorded histories (Jepsen EDN or JSON lines) for linearizability.
    Lincheck(lincheck::Args),
    /// Run one Raft node as its own process, on TCP, with data on disk.
    Node(node::Args),
    /// Start a local cluster of node processes, kill leaders, measure
    /// failover and check the clients' history.
    Cluster(cluster::Args),
    /// Decode one wire frame from a file and print it, or why it is rejected.
    DecodeFrame(decode_frame::DecodeFrame),
    /// Show health-based abdication on simulated disks: a slow leader hands
    /// over, a healthy or uniformly slow cluster keeps its leader.
    Abdication(abdication::Args),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Scenario(args) => scenario::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Lincheck(args) => lincheck::run(args),
        Command::Check(args) => check::run(args),
        Command::Explore(args) => explore::run(args),
        Command::Node(args) => node::run(args),
        Command::Cluster(args) => cluster::run(args),
        Command::DecodeFrame(command) => command.run(),
        Command::Abdication(args) => abdication::run(args),
    }
}
