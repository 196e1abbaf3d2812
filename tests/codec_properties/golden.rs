//! The exact bytes of a few frames. A change here is a change of the wire
//! format: it needs a new format version, not an updated constant.

use electorate::codec::{Frame, Payload};
use electorate::core::chassis::Epoch;
use electorate::core::raft::{Append, Body, Command, Entry, LogIndex, Round, Term};
use electorate::core::{bully, ring};
use electorate::core::{ClientRequest, Operation, RequestId};

use super::{codec, heartbeat, raft_frame};

fn header(family: u8, sender: u8, body_len: u8, checksum: [u8; 4]) -> Vec<u8> {
    let mut bytes = b"ELEC".to_vec();
    bytes.extend_from_slice(&[1, family]);
    bytes.extend_from_slice(&super::CLUSTER.to_le_bytes());
    bytes.extend_from_slice(&[sender, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend_from_slice(&[body_len, 0, 0, 0]);
    bytes.extend_from_slice(&checksum);
    bytes
}

fn assert_bytes(frame: Frame, body: &[u8], family: u8) {
    let bytes = codec().encode_to_vec(&frame).unwrap();
    let checksum: [u8; 4] = bytes[26..30].try_into().unwrap();
    let mut expected = header(family, frame.sender as u8, body.len() as u8, checksum);
    expected.extend_from_slice(body);
    assert_eq!(bytes, expected);
    let mut checksummed = expected[..26].to_vec();
    checksummed.extend_from_slice(body);
    assert_eq!(u32::from_le_bytes(checksum), crc32c::crc32c(&checksummed));
}

#[test]
fn heartbeat_bytes() {
    assert_bytes(heartbeat(), &[5, 0xac, 0x02, 7, 0x80, 0x01], 1);
}

#[test]
fn append_bytes_use_deltas_for_contiguous_entries() {
    let entry = |index, term, command: Command| Entry {
        term: Term::new(term),
        index: LogIndex::new(index),
        command: command.into(),
    };
    let append = Append {
        prev_log_index: LogIndex::new(10),
        prev_log_term: Term::new(3),
        entries: vec![
            entry(11, 3, Command::Noop),
            entry(
                12,
                4,
                Command::Write {
                    key: "x".into(),
                    value: 1,
                },
            ),
            entry(
                13,
                4,
                Command::CompareAndSet {
                    key: "x".into(),
                    expected: None,
                    new: 2,
                },
            ),
        ],
        leader_commit: LogIndex::new(9),
        round: Round::new(1),
    };
    let frame = raft_frame(2, Term::new(4), Body::Append(append));
    #[rustfmt::skip]
    let body = [
        3, 4, 10, 3, 9, 1, 3,     // tag, term, prev index/term, commit, round, count
        0, 0, 1,                  // index 11 (+0), term 3 (+0), noop
        0, 2, 2, 1, b'x', 1,      // index 12, term 4 (+1 zigzag 2), write x=1
        0, 0, 3, 1, b'x', 0, 2,   // index 13, term 4, cas x nil->2
    ];
    assert_bytes(frame, &body, 1);
}

#[test]
fn client_request_bytes() {
    let frame = Frame {
        sender: 0,
        payload: Payload::ClientRequest(ClientRequest {
            id: RequestId {
                client: 3,
                sequence: 1,
            },
            operation: Operation::Write {
                key: "k".into(),
                value: 5,
            },
        }),
    };
    assert_bytes(frame, &[1, 3, 1, 2, 1, b'k', 5], 2);
}

#[test]
fn bully_and_ring_bytes() {
    let bully = Frame {
        sender: 3,
        payload: Payload::Bully(bully::Message {
            epoch: Epoch::new(300),
            body: bully::Body::Coordinator,
        }),
    };
    assert_bytes(bully, &[3, 0xac, 0x02], 3);
    let ring = Frame {
        sender: 2,
        payload: Payload::Ring(ring::Message {
            epoch: Epoch::new(4),
            body: ring::Body::Election {
                candidate: 5,
                hop: 128,
            },
        }),
    };
    assert_bytes(ring, &[1, 4, 5, 0x80, 0x01], 4);
}
