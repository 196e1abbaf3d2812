//! Every Knossos cas-register history gets the verdict Knossos gives it:
//! those under `good/` are linearizable, those under `bad/` are not (see
//! `tests/data/knossos/README.md`).

use std::path::{Path, PathBuf};

use electorate::check::{check, read_history_file, Budget, CasRegister, Verdict};

/// Enough for every file in a debug build, yet a bound: a regression that
/// makes the search blow up fails here instead of hanging the test run.
const MAX_STEPS: u64 = 20_000_000;

fn histories(verdict_directory: &str) -> Vec<PathBuf> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/knossos/cas-register")
        .join(verdict_directory);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", directory.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "edn"))
        .collect();
    paths.sort();
    paths
}

fn verdict_of(path: &Path) -> Verdict {
    let read =
        read_history_file(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let model = CasRegister { initial: 0.into() };
    check(&read.history, &model, Budget::steps(MAX_STEPS))
        .unwrap()
        .verdict
}

#[test]
fn every_good_history_is_linearizable() {
    let paths = histories("good");
    assert_eq!(paths.len(), 113);
    let wrong: Vec<String> = paths
        .iter()
        .filter_map(|path| {
            let verdict = verdict_of(path);
            (!verdict.is_linearizable()).then(|| format!("{}: {verdict:?}", path.display()))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn every_bad_history_is_not_linearizable() {
    let paths = histories("bad");
    assert_eq!(paths.len(), 7);
    let wrong: Vec<String> = paths
        .iter()
        .filter_map(|path| {
            let verdict = verdict_of(path);
            (!matches!(verdict, Verdict::NotLinearizable(_)))
                .then(|| format!("{}: {verdict:?}", path.display()))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
