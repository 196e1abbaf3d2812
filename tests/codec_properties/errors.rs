//! One input per kind of rejection: each `DecodeError` variant is reachable
//! and reported with the field at fault.

use electorate::codec::{Codec, DecodeError, EncodeError, Family, Frame, HEADER_LEN};
use electorate::core::raft::{Append, Body, Command, Entry, LogIndex, Round, Term};

use super::{codec, heartbeat, raft_frame, CLUSTER};

fn heartbeat_frame() -> Vec<u8> {
    codec().encode_to_vec(&heartbeat()).unwrap()
}

fn raft_body(body: &[u8]) -> Result<Frame, DecodeError> {
    codec().decode(&codec().seal_raw_body(Family::Raft, 1, body))
}

fn client_body(body: &[u8]) -> Result<Frame, DecodeError> {
    codec().decode(&codec().seal_raw_body(Family::Client, 0, body))
}

#[test]
fn truncated_header_and_body() {
    let bytes = heartbeat_frame();
    assert_eq!(
        codec().decode(&bytes[..10]),
        Err(DecodeError::Truncated {
            what: "frame header",
            needed: HEADER_LEN,
            available: 10
        })
    );
    let body_len = bytes.len() - HEADER_LEN;
    assert_eq!(
        codec().decode(&bytes[..bytes.len() - 1]),
        Err(DecodeError::Truncated {
            what: "frame body",
            needed: body_len,
            available: body_len - 1
        })
    );
    // Heartbeat tag and term, then nothing: the body itself is cut short.
    assert_eq!(
        raft_body(&[5, 1]),
        Err(DecodeError::Truncated {
            what: "leader_commit",
            needed: 1,
            available: 0
        })
    );
}

#[test]
fn oversize_is_refused_from_the_header_alone() {
    let small = codec().with_max_frame_len(64);
    let mut header = [0u8; HEADER_LEN];
    header.copy_from_slice(&heartbeat_frame()[..HEADER_LEN]);
    header[22..26].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        small.decode_header(&header),
        Err(DecodeError::Oversize {
            frame_len: HEADER_LEN as u64 + u64::from(u32::MAX),
            max_frame_len: 64
        })
    );
    let key = "k".repeat(100);
    let append = Append {
        prev_log_index: LogIndex::new(0),
        prev_log_term: Term::new(0),
        entries: vec![Entry {
            term: Term::new(1),
            index: LogIndex::new(1),
            command: Command::Write { key, value: 1 }.into(),
        }],
        leader_commit: LogIndex::new(0),
        round: Round::new(0),
    };
    let frame = raft_frame(1, Term::new(1), Body::Append(append));
    let mut out = vec![9];
    assert!(matches!(
        small.encode(&frame, &mut out),
        Err(EncodeError::Oversize {
            max_frame_len: 64,
            ..
        })
    ));
    assert_eq!(out, [9], "a failed encode leaves the buffer as it was");
}

#[test]
fn bad_magic_version_family_and_cluster() {
    let bytes = heartbeat_frame();
    let patched = |at: usize, value: u8| {
        let mut bytes = bytes.clone();
        bytes[at] = value;
        codec().decode(&bytes)
    };
    assert_eq!(
        patched(0, b'X'),
        Err(DecodeError::BadMagic { found: *b"XLEC" })
    );
    assert_eq!(
        patched(4, 2),
        Err(DecodeError::UnsupportedVersion { found: 2 })
    );
    assert_eq!(patched(5, 9), Err(DecodeError::UnknownFamily { found: 9 }));
    assert_eq!(
        Codec::new(CLUSTER + 1).decode(&bytes),
        Err(DecodeError::WrongCluster {
            expected: CLUSTER + 1,
            found: CLUSTER
        })
    );
}

#[test]
fn checksum_mismatch() {
    let mut bytes = heartbeat_frame();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    assert!(matches!(
        codec().decode(&bytes),
        Err(DecodeError::ChecksumMismatch { .. })
    ));
    let mut bytes = heartbeat_frame();
    bytes[14] ^= 1; // the sender id is covered too
    assert!(matches!(
        codec().decode(&bytes),
        Err(DecodeError::ChecksumMismatch { .. })
    ));
}

#[test]
fn unknown_tags_and_invalid_enum_values() {
    assert_eq!(
        raft_body(&[0]),
        Err(DecodeError::UnknownTag {
            family: "raft",
            found: 0
        })
    );
    // Tags 8 and 9 are the snapshot transfer; 10 is the first free one.
    assert_eq!(
        raft_body(&[10, 1]),
        Err(DecodeError::UnknownTag {
            family: "raft",
            found: 10
        })
    );
    assert_eq!(
        client_body(&[4]),
        Err(DecodeError::UnknownTag {
            family: "client",
            found: 4
        })
    );
    for (family, name) in [(Family::Bully, "bully"), (Family::Ring, "ring")] {
        for found in [0, 5, 255] {
            assert_eq!(
                codec().decode(&codec().seal_raw_body(family, 2, &[found, 1])),
                Err(DecodeError::UnknownTag {
                    family: name,
                    found
                })
            );
        }
    }
    // Ring Election missing its hop.
    assert_eq!(
        codec().decode(&codec().seal_raw_body(Family::Ring, 2, &[1, 7, 3])),
        Err(DecodeError::Truncated {
            what: "hop",
            needed: 1,
            available: 0
        })
    );
    // VoteResponse with pre_vote = 2.
    assert_eq!(
        raft_body(&[2, 1, 2, 0]),
        Err(DecodeError::InvalidValue {
            field: "pre_vote",
            found: 2
        })
    );
    // AppendResponse, round 0, result tag 3.
    assert_eq!(
        raft_body(&[4, 1, 0, 3]),
        Err(DecodeError::InvalidValue {
            field: "append result tag",
            found: 3
        })
    );
    // Rejected with conflict_term marker 7.
    assert_eq!(
        raft_body(&[4, 1, 0, 2, 0, 7]),
        Err(DecodeError::InvalidValue {
            field: "conflict_term",
            found: 7
        })
    );
    // Append of one entry whose command tag is 0.
    assert_eq!(
        raft_body(&[3, 1, 0, 0, 0, 0, 1, 0, 0, 0]),
        Err(DecodeError::InvalidValue {
            field: "command tag",
            found: 0
        })
    );
    // Client request with operation tag 4.
    assert_eq!(
        client_body(&[1, 0, 0, 4]),
        Err(DecodeError::InvalidValue {
            field: "operation tag",
            found: 4
        })
    );
}

#[test]
fn trailing_bytes_after_body_and_frame() {
    assert_eq!(
        raft_body(&[7, 1, 0]),
        Err(DecodeError::TrailingBytes {
            what: "body",
            count: 1
        })
    );
    let mut bytes = heartbeat_frame();
    bytes.push(0);
    assert_eq!(
        codec().decode(&bytes),
        Err(DecodeError::TrailingBytes {
            what: "frame",
            count: 1
        })
    );
}

#[test]
fn lengths_beyond_the_body_are_refused_before_allocating() {
    // Append claiming u64::MAX entries: refused without reserving memory.
    let mut body = vec![3, 1, 0, 0, 0, 0];
    body.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert_eq!(
        raft_body(&body),
        Err(DecodeError::LengthExceedsRemaining {
            field: "entry count",
            claimed: u64::MAX,
            remaining: 0
        })
    );
    // Two entries need at least six bytes; five remain.
    assert_eq!(
        raft_body(&[3, 1, 0, 0, 0, 0, 2, 0, 0, 1, 0, 0]),
        Err(DecodeError::LengthExceedsRemaining {
            field: "entry count",
            claimed: 2,
            remaining: 5
        })
    );
    // A read of a key said to be 200 bytes long, with 3 present.
    assert_eq!(
        client_body(&[1, 0, 0, 1, 0xc8, 0x01, b'a', b'b', b'c']),
        Err(DecodeError::LengthExceedsRemaining {
            field: "key",
            claimed: 200,
            remaining: 3
        })
    );
}

#[test]
fn overlong_and_non_canonical_varints() {
    let mut body = vec![6];
    body.extend_from_slice(&[0xff; 11]);
    assert_eq!(
        raft_body(&body),
        Err(DecodeError::OverlongVarint { field: "term" })
    );
    // Term 1 written in two bytes.
    assert_eq!(
        raft_body(&[7, 0x81, 0x00]),
        Err(DecodeError::NonCanonicalVarint { field: "term" })
    );
}

#[test]
fn invalid_utf8_key() {
    assert_eq!(
        client_body(&[1, 0, 0, 1, 2, 0xc3, 0x28]),
        Err(DecodeError::InvalidUtf8 { field: "key" })
    );
}

#[test]
fn errors_explain_themselves() {
    let error = raft_body(&[7, 0x81, 0x00]).unwrap_err();
    assert_eq!(error.to_string(), "non-canonical varint in term");
}
