#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, one at a
# time, on nightly with AddressSanitizer, starting from the committed seed
# corpus. The nightly CI workflow runs exactly this.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default: 600 s, all targets)
#
# New corpus entries go to fuzz/work/<target>/ (not committed); crashing
# inputs to fuzz/artifacts/<target>/; full logs to fuzz/logs/<target>.log.
# Exits non-zero if any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${1:-600}
shift || true
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=(decode_frame roundtrip decode_then_step decode_then_step_lock replay_log snapshot_file)
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

mkdir -p fuzz/logs
# Build every target first, so a compile error shows before any run.
cargo +nightly fuzz build --sanitizer address

failed=()
for target in "${targets[@]}"; do
    mkdir -p "fuzz/work/$target" "fuzz/artifacts/$target"
    log="fuzz/logs/$target.log"
    echo "== $target: ${seconds}s (log: $log)"
    # -timeout: one input running over 10 s counts as a hang.
    # -rss_limit_mb: libFuzzer's default 2 GiB, stated so it is visible.
    if cargo +nightly fuzz run --sanitizer address "$target" \
        "$root/fuzz/work/$target" "$root/fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1; then
        status=ok
    else
        status=FINDING
        failed+=("$target")
    fi
    summary=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
    echo "$target: $status; runs ${runs:-?}; last: $summary"
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "findings in: ${failed[*]} (inputs under fuzz/artifacts/)"
    exit 1
fi
echo "fuzz: no findings"
