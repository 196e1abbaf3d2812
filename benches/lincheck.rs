//! Linearizability checking throughput: on the Knossos cas-register
//! histories (tests/data/knossos), histories per second, reading and
//! checking measured apart; on longer generated histories of a real
//! register (seeded, so every run checks the same ones), operations per
//! second.
//!
//! `cargo bench --bench lincheck`; `-- --test` runs each benchmark once.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use electorate::check::{
    check, read_history, read_history_file, Budget, CasRegister, Command, Event, EventKind,
    History, HistoryFormat,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn knossos_paths(verdict_directory: &str) -> Vec<PathBuf> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/knossos/cas-register")
        .join(verdict_directory);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(directory)
        .expect("the Knossos test data is in the repository")
        .map(|entry| entry.expect("a readable directory entry").path())
        .collect();
    paths.sort();
    paths
}

fn check_all(histories: &[History]) -> usize {
    let model = CasRegister { initial: 0.into() };
    histories
        .iter()
        .filter(|history| {
            let outcome = check(history, &model, Budget::unlimited())
                .expect("cas-register supports every operation");
            outcome.verdict.is_linearizable()
        })
        .count()
}

fn knossos(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("knossos");
    for verdict_directory in ["good", "bad"] {
        let paths = knossos_paths(verdict_directory);
        let texts: Vec<String> = paths
            .iter()
            .map(|path| std::fs::read_to_string(path).expect("readable"))
            .collect();
        let histories: Vec<History> = paths
            .iter()
            .map(|path| read_history_file(path).expect("a valid history").history)
            .collect();
        group.throughput(Throughput::Elements(histories.len() as u64));
        group.bench_function(format!("check/{verdict_directory}"), |bencher| {
            bencher.iter(|| black_box(check_all(black_box(&histories))))
        });
        group.bench_function(format!("read/{verdict_directory}"), |bencher| {
            bencher.iter(|| {
                for text in &texts {
                    black_box(
                        read_history(black_box(text), HistoryFormat::Edn).expect("a valid history"),
                    );
                }
            })
        });
    }
    group.finish();
}

/// A history of `operation_count` operations on a real compare-and-set
/// register: operation `i` takes effect at time `4 i + 1` inside a window of
/// up to `window` operations either side, on whichever process is free;
/// `info_percent` of them crash and complete as `info` right away, taking
/// effect or not.
fn generated_history(seed: u64, operation_count: u64, window: u64, info_percent: u32) -> History {
    let mut random = ChaCha8Rng::seed_from_u64(seed);
    let mut register = 0;
    let mut windows = Vec::new();
    for index in 0..operation_count {
        let effect_at = 4 * (index + window) + 1;
        let invoke_at = effect_at - 1 - 4 * random.random_range(0..=window);
        let crashes = random.random_ratio(info_percent, 100);
        let takes_effect = !crashes || random.random_bool(0.5);
        let (command, succeeded) = match random.random_range(0..3) {
            0 => (Command::read_returning(register), true),
            1 => {
                let value = random.random_range(0..5);
                if takes_effect {
                    register = value;
                }
                (Command::write(value), true)
            }
            _ => {
                let (expected, new) = (random.random_range(0..5), random.random_range(0..5));
                let swaps = register == expected;
                if swaps && takes_effect {
                    register = new;
                }
                (Command::compare_and_set(expected, new), swaps)
            }
        };
        let completion = if crashes {
            (invoke_at + 2, EventKind::Info)
        } else {
            let kind = if succeeded {
                EventKind::Ok
            } else {
                EventKind::Fail
            };
            (effect_at + 1 + 4 * random.random_range(0..=window), kind)
        };
        windows.push((invoke_at, command, completion));
    }
    windows.sort_by_key(|(invoke_at, _, _)| *invoke_at);
    let mut busy_until: Vec<u64> = Vec::new();
    let mut timed = Vec::new();
    for (invoke_at, command, (complete_at, kind)) in windows {
        let process = busy_until
            .iter()
            .position(|&until| until < invoke_at)
            .unwrap_or_else(|| {
                busy_until.push(0);
                busy_until.len() - 1
            });
        busy_until[process] = complete_at;
        let invoked = if command.is_read() {
            Command::read()
        } else {
            command.clone()
        };
        let completed = if command.is_read() && kind == EventKind::Info {
            Command::read()
        } else {
            command
        };
        timed.push((invoke_at, Event::invoke(process as u64, invoked)));
        timed.push((complete_at, Event::new(process as u64, kind, completed)));
    }
    timed.sort_by_key(|(at, _)| *at);
    History::from_events(timed.into_iter().map(|(_, event)| event).collect())
        .expect("a well-formed history")
}

fn generated(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("generated");
    group.sample_size(10);
    let model = CasRegister { initial: 0.into() };
    for (operation_count, window, info_percent) in [(10_000, 5, 0), (10_000, 5, 1), (100_000, 5, 0)]
    {
        let history = generated_history(1, operation_count, window, info_percent);
        let outcome = check(&history, &model, Budget::unlimited()).expect("supported");
        assert!(
            outcome.verdict.is_linearizable(),
            "a real register's history"
        );
        group.throughput(Throughput::Elements(operation_count));
        let name = format!("{operation_count}ops-window{window}-info{info_percent}%");
        group.bench_function(BenchmarkId::new("check", name), |bencher| {
            bencher.iter(|| black_box(check(black_box(&history), &model, Budget::unlimited())))
        });
    }
    group.finish();
}

criterion_group!(benches, knossos, generated);
criterion_main!(benches);
