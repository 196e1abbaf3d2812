//! `electorate scenario FILE...`: replays scenario files (the language of
//! `electorate::sim::scenario`) and prints what the cluster did, step by
//! step. Exits 1 when the behaviour differs from the expectations recorded
//! in a file, 2 when a file is broken (a refused command, with its file and
//! line); `--rewrite` records the new behaviour instead, and leaves a
//! broken file as it is, saying so.

use std::path::PathBuf;
use std::process::ExitCode;

use electorate::sim::scenario::replay::{scenario_files, Replay};

#[derive(clap::Args)]
pub struct Args {
    /// Scenario files (or directories of them, replayed in path order).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Rewrite each file's expectations with the observed behaviour.
    #[arg(long)]
    rewrite: bool,
    /// Print only the verdict, not the transcript.
    #[arg(long, short)]
    quiet: bool,
}

/// How one file came out, worst last.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Matches,
    Differs,
    Broken,
}

pub fn run(args: Args) -> ExitCode {
    let mut worst = Verdict::Matches;
    for argument in &args.files {
        if !argument.exists() {
            eprintln!("{}: no such file or directory", argument.display());
            return ExitCode::from(2);
        }
        let files = match scenario_files(argument) {
            Ok(files) => files,
            Err(error) => {
                eprintln!("{}: {error}", argument.display());
                return ExitCode::from(2);
            }
        };
        for file in files {
            worst = worst.max(replay(&file, &args));
        }
    }
    match worst {
        Verdict::Matches => ExitCode::SUCCESS,
        Verdict::Differs => ExitCode::from(1),
        Verdict::Broken => ExitCode::from(2),
    }
}

/// Replays one file, printing its transcript and verdict.
fn replay(file: &PathBuf, args: &Args) -> Verdict {
    let path = file.display();
    let replay = match Replay::file(file) {
        Ok(replay) => replay,
        Err(error) => {
            println!("{error}");
            return Verdict::Broken;
        }
    };
    if !args.quiet {
        print!("{}", replay.transcript());
    }
    if let Some(error) = &replay.error {
        println!("{error}");
        if args.rewrite {
            println!(
                "{path}: not rewritten: the run stopped at line {}",
                error.line
            );
        }
        return Verdict::Broken;
    }
    if args.rewrite {
        let text = replay.rewritten().expect("a run without error");
        if let Err(error) = std::fs::write(file, text) {
            println!("{path}: not rewritten: {error}");
            return Verdict::Broken;
        }
        println!("{path}: rewritten with the observed behaviour");
        return Verdict::Matches;
    }
    match replay.mismatches().first() {
        None => {
            println!("{path}: behaviour matches the expectations");
            Verdict::Matches
        }
        Some(mismatch) => {
            println!("{path}: behaviour differs from the expectations\n{mismatch}");
            Verdict::Differs
        }
    }
}
