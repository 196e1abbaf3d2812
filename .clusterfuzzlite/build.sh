#!/bin/bash -eu
# Builds every cargo-fuzz target with the sanitizer ClusterFuzzLite asks for
# (cargo fuzz build reads it from the environment set by the base image),
# and ships each with its committed seed corpus.
cd "$SRC/electorate"
cargo fuzz build -O --debug-assertions
out_dir=fuzz/target/x86_64-unknown-linux-gnu/release
for target in $(cargo fuzz list); do
    cp "$out_dir/$target" "$OUT/"
    if [ -d "fuzz/corpus/$target" ]; then
        (cd "fuzz/corpus/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
    fi
done
