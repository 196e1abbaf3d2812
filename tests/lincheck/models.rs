//! The hand-made histories of `tests/data/lincheck/MODEL/` through
//! `electorate lincheck --model MODEL DIRECTORY`: one command per model,
//! and every history gets the verdict its directory (`good/`, `bad/`)
//! names.

use std::process::Command;

use crate::cli::{assert_verdicts_follow_directories, hand_made};

/// Checks the model's directory in one run and compares each verdict with
/// the directory the file is in.
fn decides_its_hand_made_histories(model: &str) {
    let directory = hand_made(model);
    let output = Command::new(env!("CARGO_BIN_EXE_electorate"))
        .args(["lincheck", "--model", model, "--json"])
        .arg(&directory)
        .output()
        .expect("the binary runs");
    let (good, bad) =
        assert_verdicts_follow_directories(&String::from_utf8(output.stdout).unwrap());
    assert!(
        good >= 1 && bad >= 1,
        "{model}: {good} good and {bad} bad histories"
    );
    assert_eq!(output.status.code(), Some(1), "a bad history is in the set");
}

#[test]
fn cas_register_with_values_of_every_type_tuples_and_info_writes() {
    decides_its_hand_made_histories("cas-register");
}

#[test]
fn mutex() {
    decides_its_hand_made_histories("mutex");
}

#[test]
fn set() {
    decides_its_hand_made_histories("set");
}

#[test]
fn fifo_queue() {
    decides_its_hand_made_histories("fifo-queue");
}

#[test]
fn kv_append() {
    decides_its_hand_made_histories("kv-append");
}
