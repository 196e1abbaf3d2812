//! Fuzz target `snapshot_file`: the body is `electorate::driver::storage::snapshot_file::fuzz_snapshot`
//! (the `raft.snapshot` reader on arbitrary bytes, as they are and behind a valid checksum),
//! which `tests/fuzz_corpus.rs` also replays over the committed corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    electorate::driver::storage::snapshot_file::fuzz_snapshot(data)
});
