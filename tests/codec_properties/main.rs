//! Properties of the wire codec (`electorate::codec`), checked with
//! quickcheck over every message type: round trips, canonical re-encoding,
//! and that no damaged or arbitrary input panics the decoder.
//!
//! `errors.rs` pins one input per kind of rejection, `stream.rs` the stream
//! reader, `golden.rs` the exact bytes of a few frames.

mod errors;
mod generators;
mod golden;
mod stream;

use electorate::codec::fuzzing::{check_decode, decode_frame};
use electorate::codec::{Codec, Frame, Payload, HEADER_LEN};
use electorate::core::node::NodeId;
use electorate::core::raft::{Body, Heartbeat, LogIndex, Message, Round, Term};
use electorate::core::{bully, ring, ClientReply, ClientRequest};
use generators::{Any, Mutation};
use quickcheck::{QuickCheck, TestResult};

const CLUSTER: u64 = 0xe1ec;

fn codec() -> Codec {
    Codec::new(CLUSTER)
}

/// A Raft frame: `body`, in `term`, from `sender`.
fn raft_frame(sender: NodeId, term: Term, body: Body) -> Frame {
    Frame {
        sender,
        payload: Payload::Raft(Message { term, body }),
    }
}

/// The heartbeat whose bytes `golden` pins; to the other tests, a valid
/// frame like any other.
fn heartbeat() -> Frame {
    let heartbeat = Heartbeat {
        leader_commit: LogIndex::new(7),
        round: Round::new(128),
    };
    raft_frame(1, Term::new(300), Body::Heartbeat(heartbeat))
}

fn quickcheck<A: quickcheck::Testable>(property: A) {
    QuickCheck::new().tests(2_000).quickcheck(property);
}

fn round_trips(frame: Frame) -> bool {
    let bytes = codec()
        .encode_to_vec(&frame)
        .expect("fits the default limit");
    codec().decode(&bytes) == Ok(frame)
}

/// `$test`: every drawn `$kind`, framed by `$variant` from `$sender`,
/// decodes to itself.
macro_rules! round_trip {
    ($test:ident, $kind:ty, $variant:path, $sender:expr) => {
        #[test]
        fn $test() {
            fn property(drawn: Any<$kind>) -> bool {
                round_trips(Frame {
                    sender: $sender,
                    payload: $variant(drawn.0),
                })
            }
            quickcheck(property as fn(Any<$kind>) -> bool);
        }
    };
}

round_trip!(raft_messages_round_trip, Message, Payload::Raft, 2);
round_trip!(
    client_requests_round_trip,
    ClientRequest,
    Payload::ClientRequest,
    0
);
round_trip!(
    client_replies_round_trip,
    ClientReply,
    Payload::ClientReply,
    3
);
round_trip!(bully_messages_round_trip, bully::Message, Payload::Bully, 4);
round_trip!(ring_messages_round_trip, ring::Message, Payload::Ring, 5);

#[test]
fn frames_round_trip_and_encode_deterministically() {
    fn property(frame: Any<Frame>) -> bool {
        let first = codec().encode_to_vec(&frame.0).unwrap();
        let second = codec().encode_to_vec(&frame.0).unwrap();
        first == second && round_trips(frame.0)
    }
    quickcheck(property as fn(Any<Frame>) -> bool);
}

/// Damage anywhere in a frame is rejected or, if it still decodes (it never
/// should past the checksum), re-encodes canonically. Never a panic.
#[test]
fn mutated_frames_never_panic() {
    fn property(frame: Any<Frame>, mutations: Vec<Mutation>) -> bool {
        let mut bytes = codec().encode_to_vec(&frame.0).unwrap();
        let original = bytes.clone();
        for mutation in &mutations {
            mutation.apply(&mut bytes);
        }
        let decoded = check_decode(&codec(), &bytes);
        bytes == original || decoded.is_none()
    }
    quickcheck(property as fn(Any<Frame>, Vec<Mutation>) -> bool);
}

/// The same damage applied to the body only, behind a freshly computed
/// checksum, so it reaches the body decoders: whatever decodes must
/// re-encode to exactly the damaged bytes.
#[test]
fn mutated_bodies_decode_canonically_or_not_at_all() {
    fn property(frame: Any<Frame>, mutations: Vec<Mutation>) -> TestResult {
        let bytes = codec().encode_to_vec(&frame.0).unwrap();
        let mut body = bytes[HEADER_LEN..].to_vec();
        for mutation in &mutations {
            mutation.apply(&mut body);
        }
        let sealed = codec().seal_raw_body(frame.0.payload.family(), frame.0.sender, &body);
        check_decode(&codec(), &sealed);
        TestResult::passed()
    }
    quickcheck(property as fn(Any<Frame>, Vec<Mutation>) -> TestResult);
}

/// Arbitrary bytes through the `decode_frame` fuzz target's body: as a
/// frame, as a sealed body, as a stream.
#[test]
fn arbitrary_bytes_never_panic() {
    fn property(bytes: Vec<u8>) -> bool {
        decode_frame(&bytes);
        true
    }
    quickcheck(property as fn(Vec<u8>) -> bool);
}

#[test]
fn every_single_bit_flip_is_detected() {
    fn property(frame: Any<Frame>, bit: usize) -> bool {
        let mut bytes = codec().encode_to_vec(&frame.0).unwrap();
        let bit = bit % (bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        codec().decode(&bytes).is_err()
    }
    quickcheck(property as fn(Any<Frame>, usize) -> bool);
}
