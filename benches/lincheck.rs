//! Linearizability checking throughput on the Knossos cas-register
//! histories (tests/data/knossos): histories per second, read-and-pair and
//! check measured apart.
//!
//! `cargo bench --bench lincheck`; `-- --test` runs each benchmark once.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use electorate::check::{
    check, read_history, read_history_file, Budget, CasRegister, History, HistoryFormat,
};

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
    let model = CasRegister { initial: Some(0) };
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

criterion_group!(benches, knossos);
criterion_main!(benches);
