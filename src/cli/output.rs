//! How the run commands (`simulate`, `sweep`, `check`) end: a `--json`
//! report printed the one way, and the exit status that says whether every
//! property held. Bad input (status 2) is each command's own business.

use std::process::ExitCode;

use serde::Serialize;

/// Prints `report` on stdout as indented JSON, the `--json` output of a
/// command that prints one report.
pub fn print_json(report: &impl Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(report).expect("reports serialize")
    );
}

/// 0 when every property held (or every model came out as expected), 1
/// when one did not.
pub fn verdict_status(held: bool) -> ExitCode {
    if held {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
