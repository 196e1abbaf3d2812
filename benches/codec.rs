//! Wire codec throughput in bytes per second (criterion reports MB/s): a
//! heartbeat, the most frequent frame, and an append of 64 write entries,
//! the largest a default-configured leader sends. Encoding reuses one
//! buffer, as `write_frame` does; decoding includes the checksum.
//!
//! `cargo bench --bench codec` measures; `-- --test` runs each once.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use electorate::codec::{Codec, Frame, Payload};
use electorate::core::raft::{
    Append, Body, Command, Entry, Heartbeat, LogIndex, Message, Round, Term,
};

fn heartbeat() -> Frame {
    Frame {
        sender: 1,
        payload: Payload::Raft(Message {
            term: Term::new(42),
            body: Body::Heartbeat(Heartbeat {
                leader_commit: LogIndex::new(1_000_000),
                round: Round::new(123_456),
            }),
        }),
    }
}

/// An append of `count` contiguous writes in one term, with short keys and
/// values spread over the varint sizes.
fn append(count: u64) -> Frame {
    let first = 1_000_000;
    let entries = (0..count)
        .map(|position| Entry {
            term: Term::new(42),
            index: LogIndex::new(first + position),
            command: Command::Write {
                key: format!("key-{}", position % 16),
                value: position * 7_919,
            }
            .into(),
        })
        .collect();
    Frame {
        sender: 1,
        payload: Payload::Raft(Message {
            term: Term::new(42),
            body: Body::Append(Append {
                prev_log_index: LogIndex::new(first - 1),
                prev_log_term: Term::new(41),
                entries,
                leader_commit: LogIndex::new(first - 1),
                round: Round::new(123_456),
            }),
        }),
    }
}

fn throughput(c: &mut Criterion) {
    let codec = Codec::new(7);
    for (name, frame) in [("heartbeat", heartbeat()), ("append_64", append(64))] {
        let bytes = codec.encode_to_vec(&frame).expect("fits");
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut out = Vec::with_capacity(bytes.len());
        group.bench_function("encode", |b| {
            b.iter(|| {
                out.clear();
                codec.encode(black_box(&frame), &mut out).expect("fits");
            })
        });
        group.bench_function("decode", |b| {
            b.iter(|| codec.decode(black_box(&bytes)).expect("valid"))
        });
        group.finish();
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
