//! Command-line interface: one module per subcommand, each with its clap
//! arguments and a `run` that returns the process exit status.

mod lincheck;

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
    /// Check a recorded history (Jepsen EDN or JSON lines) for linearizability.
    Lincheck(lincheck::Args),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Lincheck(args) => lincheck::run(args),
    }
}
