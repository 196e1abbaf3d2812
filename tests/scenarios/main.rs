//! Scenario tests in the style of etcd's datadriven tests: each file in
//! `tests/testdata/<algorithm>/` is a script of commands (see
//! `electorate::sim::scenario` for the language) with the expected output
//! after each one; one runner replays every algorithm's folder. When behaviour
//! changes on purpose, `REWRITE=1 cargo test --test scenarios` rewrites the
//! expectations; review the diff like code.
//!
//! Beside the files: `refused` pins the error of each kind of bad line, and
//! `drop_messages` what a node says when it ignores an input.

mod drop_messages;
mod refused;

use std::path::{Path, PathBuf};
use std::process::Command;

use electorate::sim::scenario::replay::{scenario_files, Replay};
use electorate::sim::scenario::script::Script;

const TESTDATA: &str = "tests/testdata";

/// Every algorithm's folder, with the fewest files it must hold.
const FOLDERS: &[(&str, usize)] = &[
    ("raft", 10),
    ("bully", 5),
    ("ring", 5),
    ("lease-lock", 3),
    ("zk-sequential", 3),
    #[cfg(feature = "raft-rs")]
    ("raft-rs", 9),
];

/// Every scenario file of every algorithm.
fn all_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for &(folder, at_least) in FOLDERS {
        let path = Path::new(TESTDATA).join(folder);
        let found = scenario_files(&path).expect("the scenario directory");
        assert!(found.len() >= at_least, "found only {found:?}");
        files.extend(found);
    }
    files
}

fn replay(path: &Path) -> Replay {
    Replay::file(path).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn every_algorithms_scenarios() {
    let rewrite = std::env::var_os("REWRITE").is_some();
    let mut failures = Vec::new();
    for path in all_files() {
        let replay = replay(&path);
        if let Some(error) = &replay.error {
            failures.push(error.to_string());
        } else if rewrite {
            let text = replay.rewritten().expect("a whole run");
            std::fs::write(&path, text).expect("rewrite the scenario file");
        } else if let Some(mismatch) = replay.mismatches().first() {
            failures.push(mismatch.to_string());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A file whose outputs are what it expects renders back to itself, byte
/// for byte: rewriting changes only outputs that changed.
#[test]
fn a_file_renders_back_to_its_own_text() {
    for path in all_files() {
        let text = std::fs::read_to_string(&path).expect("read");
        let script = Script::parse(&path.display().to_string(), &text).expect("parse");
        let expected: Vec<String> = script.cases().map(|case| case.expected.clone()).collect();
        assert_eq!(script.render(&expected), text, "{}", path.display());
    }
}

/// The same file replayed twice prints the same bytes (no hash-map order,
/// no clock, no unseeded randomness), in the library and from the command
/// line.
#[test]
fn the_same_scenario_file_prints_the_same_bytes_every_time() {
    for path in all_files() {
        let (first, second) = (replay(&path), replay(&path));
        assert_eq!(
            first.transcript(),
            second.transcript(),
            "{}",
            path.display()
        );
        assert_eq!(first.rewritten(), second.rewritten(), "{}", path.display());
    }
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_electorate"))
            .args(["scenario", TESTDATA])
            .output()
            .expect("run electorate scenario")
    };
    let (first, second) = (run(), run());
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
    assert!(first.stdout.len() > 10_000, "a transcript of every file");
    assert_eq!(first.stdout, second.stdout);
}
