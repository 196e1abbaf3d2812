#!/usr/bin/env bash
# Line and branch coverage of the core (and the driver's storage and node
# loop) per checker, and COVERAGE.md from it.
#
#   scripts/coverage.sh [--explicit] [--seeds N] [CHECKER...]
#
# With checkers named, only those are measured again; the others keep their
# last reports (target/coverage/<checker>.lcov), and the table is rebuilt
# from all of them.
#
# Each checker runs alone on one instrumented build, and its own profile is
# reported on its own:
#   model       the default model specs and the known-bug specs (tests/models.rs),
#               judged by their verdicts only (`--skip change_detector`: the
#               pinned state counts are change detectors); --explicit adds the
#               explicit specs (long: tens of minutes)
#   swarm       a fixed `electorate sweep` (N seeds each, default 200) of Raft
#               with every fault kind (disk faults and clock jumps too), on 3
#               and 5 nodes, with snapshots, and with batched clients
#   proptest    the proptest cluster properties (tests/cluster_properties)
#   paper-unit  the paper-claim tests (tests/raft), the election tests
#               (tests/elections) and the crate's unit tests
#   durability  the storage's power-loss, torn-write and corruption tests
#               (tests/durability.rs, tests/crash_safety.rs)
#   fuzz        the committed fuzz corpus replayed (tests/fuzz_corpus.rs): every
#               input the fuzzers kept, with the targets' invariant checks
# The scenario transcripts (tests/scenarios) are left out: they fail on any
# change and state no property by themselves.
#
# Branch coverage needs nightly (`-Z coverage-options=branch`, which
# cargo-llvm-cov's --branch passes) and LLVM's llvm-cov and llvm-profdata:
# rustup's llvm-tools component where it can be installed, else Debian's
# llvm-19 (it reads the profiles of rustc's LLVM).
set -euo pipefail
cd "$(dirname "$0")/.."

explicit=0
seeds=200
checkers=()
while [ $# -gt 0 ]; do
    case "$1" in
        --explicit) explicit=1 ;;
        --seeds) seeds=$2; shift ;;
        model | swarm | proptest | paper-unit | durability | fuzz) checkers+=("$1") ;;
        *)
            echo "usage: scripts/coverage.sh [--explicit] [--seeds N] [model|swarm|proptest|paper-unit|durability|fuzz ...]" >&2
            exit 2
            ;;
    esac
    shift
done
full=0
if [ ${#checkers[@]} -eq 0 ]; then
    checkers=(model swarm proptest paper-unit durability fuzz)
    full=1
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo llvm-cov --version >/dev/null 2>&1; then
    cargo install cargo-llvm-cov --locked --version 0.9.1
fi
if [ -z "${LLVM_COV:-}" ]; then
    if ! rustup +nightly component add llvm-tools-preview >/dev/null 2>&1; then
        if [ ! -x /usr/lib/llvm-19/bin/llvm-cov ]; then
            apt-get install -y llvm-19 >/dev/null
        fi
        export LLVM_COV=/usr/lib/llvm-19/bin/llvm-cov
        export LLVM_PROFDATA=/usr/lib/llvm-19/bin/llvm-profdata
    fi
fi

cov=(cargo +nightly llvm-cov --locked --branch --no-report)
out=target/coverage
if [ "$full" = 1 ]; then
    # Every checker from one build of today's sources: a binary left from an
    # older build would add its own (stale) lines to the report.
    rm -rf "$out"
    cargo +nightly llvm-cov clean --workspace
fi
mkdir -p "$out"

# Runs one checker's commands on a clean profile, then writes its report.
measure() {
    local group=$1
    shift
    echo "== $group"
    cargo +nightly llvm-cov clean --profraw-only
    rm -f "$out/$group.lcov"
    if [ -f "$out/seconds" ]; then sed -i "/^$group /d" "$out/seconds"; fi
    local started=$SECONDS
    "$@"
    cargo +nightly llvm-cov report --branch --lcov --output-path "$out/$group.lcov"
    echo "$group $((SECONDS - started))" >>"$out/seconds"
}

model() {
    local ignored=()
    if [ "$explicit" = 1 ]; then ignored=(--include-ignored); fi
    "${cov[@]}" test --test models -- --skip change_detector "${ignored[@]}"
}

swarm() {
    # The test profile (optimised) builds the binary on the tests' build.
    # One thread: the coverage counters are shared by every thread, and the
    # sweep's threads slow each other down fighting over them.
    local sweep=("${cov[@]}" run --profile test --bin electorate -- sweep --seeds "$seeds" --threads 1)
    "${sweep[@]}" --nodes 3 --faults all,disk,clock-jump
    "${sweep[@]}" --nodes 5 --faults all
    "${sweep[@]}" --nodes 3 --faults all,disk --snapshot-every 20
    "${sweep[@]}" --nodes 3 --faults all --batch-window 2ms
}

proptest() {
    "${cov[@]}" test --test cluster_properties
}

paper_unit() {
    "${cov[@]}" test --lib --test raft --test elections
}

durability() {
    "${cov[@]}" test --test durability --test crash_safety
}

fuzz() {
    "${cov[@]}" test --test fuzz_corpus
}

for checker in "${checkers[@]}"; do
    measure "$checker" "${checker//-/_}"
done

# Every checker together is the sum of their reports (coverage_table.py).
python3 scripts/coverage_table.py "$out" scripts/coverage_reasons.toml >COVERAGE.md
echo "wrote COVERAGE.md"
