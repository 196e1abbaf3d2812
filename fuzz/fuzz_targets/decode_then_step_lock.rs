//! Fuzz target `decode_then_step_lock`: the body is `electorate::codec::fuzzing::decode_then_step_lock`,
//! which `tests/fuzz_corpus.rs` also replays over the committed corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| electorate::codec::fuzzing::decode_then_step_lock(data));
