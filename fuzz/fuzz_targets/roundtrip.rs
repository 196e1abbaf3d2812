//! Fuzz target `roundtrip`: the body is `electorate::codec::fuzzing::roundtrip`, which
//! `tests/fuzz_corpus.rs` also replays over the committed corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| electorate::codec::fuzzing::roundtrip(data));
