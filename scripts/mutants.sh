#!/usr/bin/env bash
# Mutation testing of the scope MUTANTS.md scores: the core, the driver's
# storage and node loop, and the codec. The test command, the exclusions
# and the timeouts are in .cargo/mutants.toml.
#
#   scripts/mutants.sh                         every mutant of the scope
#   scripts/mutants.sh --shard 3/16            one sixteenth of them
#   scripts/mutants.sh -f src/core/chassis/quorum.rs   one file only
#
# Other arguments go to cargo-mutants as they are (for example `--in-place`
# in a checkout kept for it, which reuses its target directory, or `-o DIR`).
# The outcome is in mutants.out/ (missed.txt lists the survivors);
# scripts/mutants_table.py turns it into MUTANTS.md's table.
set -euo pipefail
cd "$(dirname "$0")/.."

version=27.1.0
if ! cargo mutants --version 2>/dev/null | grep -q "$version"; then
    cargo install cargo-mutants --locked --version "$version"
fi
# The tests run under nextest (.cargo/mutants.toml says why).
if ! cargo nextest --version >/dev/null 2>&1; then
    cargo install cargo-nextest --locked
fi

scope=(
    -f 'src/core/**/*.rs'
    -f 'src/driver/storage/**/*.rs'
    -f 'src/driver/node.rs'
    -f 'src/codec/**/*.rs'
)
# A file named on the command line replaces the scope: cargo-mutants adds
# `-f` globs together, so the scope and the file would run both.
for argument in "$@"; do
    case "$argument" in
    -f | --file | -f* | --file=*) scope=() ;;
    esac
done

exec cargo mutants --no-shuffle "${scope[@]}" "$@"
