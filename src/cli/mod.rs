//! Command-line interface: one module per subcommand, each with its clap
//! arguments and a `run` that returns the process exit status.

mod decode_frame;

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
    /// Decode one wire frame from a file and print it, or why it is rejected.
    DecodeFrame(decode_frame::DecodeFrame),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::DecodeFrame(command) => command.run(),
    }
}
