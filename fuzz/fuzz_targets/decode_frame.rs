//! Fuzz target `decode_frame`: the body is `electorate::codec::fuzzing::decode_frame`, which
//! `tests/fuzz_corpus.rs` also replays over the committed corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| electorate::codec::fuzzing::decode_frame(data));
