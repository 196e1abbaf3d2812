//! Fuzz target `decode_then_step`: the body is `electorate::codec::fuzzing::decode_then_step`, which
//! `tests/fuzz_corpus.rs` also replays over the committed corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| electorate::codec::fuzzing::decode_then_step(data));
