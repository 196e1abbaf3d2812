//! `electorate scenario FILE...`: replays scenario files (the language of
//! `electorate::sim::scenario`) and prints what the cluster did, step by
//! step. Exits 1 when the behaviour differs from the expectations recorded
//! in the file; `--rewrite` records the new behaviour instead.

use std::panic;
use std::path::PathBuf;
use std::process::ExitCode;

use electorate::sim::scenario::Scenario;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario files (or directories of them).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Rewrite each file's expectations with the observed behaviour.
    #[arg(long)]
    rewrite: bool,
    /// Print only the verdict, not the transcript.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: Args) -> ExitCode {
    if args.rewrite {
        // The datadriven crate reads this switch from the environment; the
        // process is single-threaded here.
        std::env::set_var("REWRITE", "1");
    }
    let mut failed = false;
    for file in &args.files {
        let Some(path) = file.to_str() else {
            eprintln!("{}: path is not UTF-8", file.display());
            return ExitCode::from(2);
        };
        if !file.exists() {
            eprintln!("{path}: no such file or directory");
            return ExitCode::from(2);
        }
        match replay(path, args.quiet) {
            Ok(()) => println!("{path}: behaviour matches the expectations"),
            Err(difference) => {
                failed = true;
                println!("{path}: behaviour differs from the expectations\n{difference}");
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs one file, printing the transcript; returns the crate's description
/// of the first mismatch, if any.
fn replay(path: &str, quiet: bool) -> Result<(), String> {
    let default_hook = panic::take_hook();
    // A mismatch surfaces as a panic inside the datadriven crate; report it
    // as a verdict rather than a crash.
    panic::set_hook(Box::new(|_| {}));
    let outcome = panic::catch_unwind(|| {
        datadriven::walk(path, |file| {
            let mut scenario = Scenario::new();
            file.run(|case| {
                let mut arguments = case.args.clone();
                let output = scenario.execute(&case.directive, &mut arguments, &case.input);
                if !quiet {
                    print_step(case, &output);
                }
                output
            });
        });
    });
    panic::set_hook(default_hook);
    outcome.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
            .unwrap_or_else(|| "unknown failure".to_owned())
    })
}

fn print_step(case: &datadriven::TestCase, output: &str) {
    let mut arguments: Vec<String> = case
        .args
        .iter()
        .map(|(name, values)| match values.as_slice() {
            [] => name.clone(),
            [value] => format!("{name}={value}"),
            values => format!("{name}=({})", values.join(",")),
        })
        .collect();
    arguments.sort();
    println!("> {} {}", case.directive, arguments.join(" "));
    for line in case.input.lines() {
        println!("> {line}");
    }
    print!("{output}");
    println!();
}
