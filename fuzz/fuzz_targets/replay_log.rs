//! Fuzz target `replay_log`: the body is `electorate::driver::storage::format::fuzz_replay`
//! (the log and state-file readers on arbitrary bytes), which `tests/fuzz_corpus.rs` also
//! replays over the committed corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| electorate::driver::storage::format::fuzz_replay(data));
