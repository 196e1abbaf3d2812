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

/// The histories under `verdict_directory`, which must hold `count`, whose
/// verdict is not the one `expected` accepts, each named with the verdict
/// it got.
fn misjudged(verdict_directory: &str, count: usize, expected: fn(&Verdict) -> bool) -> Vec<String> {
    let paths = histories(verdict_directory);
    assert_eq!(paths.len(), count, "{verdict_directory}/");
    paths
        .iter()
        .filter_map(|path| {
            let verdict = verdict_of(path);
            (!expected(&verdict)).then(|| format!("{}: {verdict:?}", path.display()))
        })
        .collect()
}

#[test]
fn every_good_history_is_linearizable() {
    let wrong = misjudged("good", 113, Verdict::is_linearizable);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn every_bad_history_is_not_linearizable() {
    let wrong = misjudged("bad", 7, |verdict| {
        matches!(verdict, Verdict::NotLinearizable(_))
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}
