//! quickcheck generators for every message type, as newtypes (the orphan
//! rule forbids implementing `Arbitrary` for the crate's types here).
//! Numbers lean towards the values a varint codec gets wrong: group
//! boundaries, zero and `u64::MAX`; strings are arbitrary Unicode.

use electorate::codec::{Frame, Payload};
use electorate::core::chassis::Epoch;
use electorate::core::raft::{
    Append, AppendResponse, AppendResult, Body, Command, Entry, Heartbeat, HeartbeatResponse,
    InstallSnapshot, InstallSnapshotResponse, LogIndex, Message, Round, Term, VoteRequest,
    VoteResponse,
};
use electorate::core::{bully, ring};
use electorate::core::{ClientError, ClientReply, ClientRequest, Operation, Outcome, RequestId};
use quickcheck::{Arbitrary, Gen};

const EDGES: [u64; 12] = [
    0,
    1,
    127,
    128,
    16_383,
    16_384,
    u32::MAX as u64,
    1 << 56,
    (1 << 63) - 1,
    1 << 63,
    u64::MAX - 1,
    u64::MAX,
];

pub fn number(g: &mut Gen) -> u64 {
    match u8::arbitrary(g) % 4 {
        0 => u64::arbitrary(g) % 8,
        1 => *g.choose(&EDGES).expect("non-empty"),
        2 => u64::arbitrary(g),
        _ => u64::arbitrary(g) % 100_000,
    }
}

fn option(g: &mut Gen) -> Option<u64> {
    bool::arbitrary(g).then(|| number(g))
}

fn key(g: &mut Gen) -> String {
    String::arbitrary(g)
}

fn command(g: &mut Gen) -> Command {
    match u8::arbitrary(g) % 3 {
        0 => Command::Noop,
        1 => Command::Write {
            key: key(g),
            value: number(g),
        },
        _ => Command::CompareAndSet {
            key: key(g),
            expected: option(g),
            new: number(g),
        },
    }
}

/// Entries that are mostly what a leader sends (contiguous, terms rising
/// slowly), sometimes anything: the codec must carry both.
fn entries(g: &mut Gen, prev_log_index: u64, prev_log_term: u64) -> Vec<Entry> {
    let count = usize::arbitrary(g) % (g.size() + 1);
    let well_formed = bool::arbitrary(g);
    let mut term = prev_log_term;
    (0..count)
        .map(|position| {
            let (index, entry_term) = if well_formed {
                term = term.saturating_add(u64::from(u8::arbitrary(g) % 4 == 0));
                (prev_log_index.wrapping_add(1 + position as u64), term)
            } else {
                (number(g), number(g))
            };
            Entry {
                term: Term::new(entry_term),
                index: LogIndex::new(index),
                command: command(g).into(),
            }
        })
        .collect()
}

fn body(g: &mut Gen) -> Body {
    match u8::arbitrary(g) % 9 {
        0 => Body::VoteRequest(VoteRequest {
            pre_vote: bool::arbitrary(g),
            last_log_index: LogIndex::new(number(g)),
            last_log_term: Term::new(number(g)),
            transfer: bool::arbitrary(g),
        }),
        1 => Body::VoteResponse(VoteResponse {
            pre_vote: bool::arbitrary(g),
            granted: bool::arbitrary(g),
        }),
        2 => {
            let prev_log_index = number(g);
            let prev_log_term = number(g);
            Body::Append(Append {
                prev_log_index: LogIndex::new(prev_log_index),
                prev_log_term: Term::new(prev_log_term),
                entries: entries(g, prev_log_index, prev_log_term),
                leader_commit: LogIndex::new(number(g)),
                round: Round::new(number(g)),
            })
        }
        3 => Body::AppendResponse(AppendResponse {
            result: if bool::arbitrary(g) {
                AppendResult::Accepted {
                    match_index: LogIndex::new(number(g)),
                }
            } else {
                AppendResult::Rejected {
                    rejected_index: LogIndex::new(number(g)),
                    conflict_term: option(g).map(Term::new),
                    conflict_index: LogIndex::new(number(g)),
                }
            },
            round: Round::new(number(g)),
        }),
        4 => Body::Heartbeat(Heartbeat {
            leader_commit: LogIndex::new(number(g)),
            round: Round::new(number(g)),
        }),
        5 => Body::HeartbeatResponse(HeartbeatResponse {
            round: Round::new(number(g)),
        }),
        6 => Body::InstallSnapshot(InstallSnapshot {
            index: LogIndex::new(number(g)),
            snapshot_term: Term::new(number(g)),
            members: Vec::<u64>::arbitrary(g),
            offset: number(g),
            pairs: Vec::<(String, u64)>::arbitrary(g),
            done: bool::arbitrary(g),
            round: Round::new(number(g)),
        }),
        7 => Body::InstallSnapshotResponse(InstallSnapshotResponse {
            index: LogIndex::new(number(g)),
            received: number(g),
            round: Round::new(number(g)),
        }),
        _ => Body::TimeoutNow,
    }
}

fn request_id(g: &mut Gen) -> RequestId {
    RequestId {
        client: number(g),
        sequence: number(g),
    }
}

/// One of the crate's types, drawn by quickcheck through [`Any`].
pub trait Draw: Clone + std::fmt::Debug + 'static {
    fn draw(g: &mut Gen) -> Self;

    /// Smaller values to try when a property fails; by default, none.
    fn smaller(&self) -> Box<dyn Iterator<Item = Self>> {
        quickcheck::empty_shrinker()
    }
}

/// A drawn `T`: the one newtype the orphan rule asks for, for every type.
#[derive(Clone, Debug)]
pub struct Any<T>(pub T);

impl<T: Draw> Arbitrary for Any<T> {
    fn arbitrary(g: &mut Gen) -> Self {
        Any(T::draw(g))
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(self.0.smaller().map(Any))
    }
}

impl Draw for ClientRequest {
    fn draw(g: &mut Gen) -> Self {
        let operation = match u8::arbitrary(g) % 3 {
            0 => Operation::Read { key: key(g) },
            1 => Operation::Write {
                key: key(g),
                value: number(g),
            },
            _ => Operation::CompareAndSet {
                key: key(g),
                expected: option(g),
                new: number(g),
            },
        };
        ClientRequest {
            id: request_id(g),
            operation,
        }
    }
}

impl Draw for ClientReply {
    fn draw(g: &mut Gen) -> Self {
        let result = match u8::arbitrary(g) % 6 {
            0 => Ok(Outcome::Read(option(g))),
            1 => Ok(Outcome::Written),
            2 => Ok(Outcome::CompareAndSet {
                swapped: bool::arbitrary(g),
            }),
            3 => Err(ClientError::NotLeader {
                leader_hint: option(g),
            }),
            4 => Err(ClientError::TransferInProgress),
            _ => Err(ClientError::LeadershipLost),
        };
        ClientReply {
            id: request_id(g),
            result,
        }
    }
}

impl Draw for Message {
    fn draw(g: &mut Gen) -> Self {
        Message {
            term: Term::new(number(g)),
            body: body(g),
        }
    }

    /// Shrinks an append's entries (the only part that grows), so a failure
    /// reports the fewest entries that still fail.
    fn smaller(&self) -> Box<dyn Iterator<Item = Self>> {
        let Body::Append(Append { entries, .. }) = &self.body else {
            return quickcheck::empty_shrinker();
        };
        let message = self.clone();
        let len = entries.len();
        let mut candidates: Vec<Vec<Entry>> = [0, len / 2, len.saturating_sub(1)]
            .into_iter()
            .filter(|&keep| keep < len)
            .map(|keep| entries[..keep].to_vec())
            .collect();
        candidates.extend((0..len).map(|skip| {
            let mut fewer = entries.clone();
            fewer.remove(skip);
            fewer
        }));
        let shorter = candidates.into_iter().map(move |entries| {
            let mut message = message.clone();
            if let Body::Append(Append { entries: slot, .. }) = &mut message.body {
                *slot = entries;
            }
            message
        });
        Box::new(shorter)
    }
}

impl Draw for bully::Message {
    fn draw(g: &mut Gen) -> Self {
        let body = *g
            .choose(&[
                bully::Body::Election,
                bully::Body::Answer,
                bully::Body::Coordinator,
                bully::Body::Heartbeat,
            ])
            .expect("non-empty");
        bully::Message {
            epoch: Epoch::new(number(g)),
            body,
        }
    }
}

impl Draw for ring::Message {
    fn draw(g: &mut Gen) -> Self {
        let body = match u8::arbitrary(g) % 4 {
            0 => ring::Body::Election {
                candidate: number(g),
                hop: number(g),
            },
            1 => ring::Body::Coordinator {
                leader: number(g),
                hop: number(g),
            },
            2 => ring::Body::Ack { hop: number(g) },
            _ => ring::Body::Heartbeat,
        };
        ring::Message {
            epoch: Epoch::new(number(g)),
            body,
        }
    }
}

impl Draw for Frame {
    fn draw(g: &mut Gen) -> Self {
        let payload = match u8::arbitrary(g) % 5 {
            0 => Payload::Raft(Message::draw(g)),
            1 => Payload::ClientRequest(ClientRequest::draw(g)),
            2 => Payload::ClientReply(ClientReply::draw(g)),
            3 => Payload::Bully(bully::Message::draw(g)),
            _ => Payload::Ring(ring::Message::draw(g)),
        };
        Frame {
            sender: number(g),
            payload,
        }
    }

    /// A Raft frame shrinks its message; the others do not shrink.
    fn smaller(&self) -> Box<dyn Iterator<Item = Self>> {
        let Payload::Raft(message) = &self.payload else {
            return quickcheck::empty_shrinker();
        };
        let sender = self.sender;
        Box::new(message.smaller().map(move |message| Frame {
            sender,
            payload: Payload::Raft(message),
        }))
    }
}

/// One way of damaging an encoded frame, as a receiver might see it.
#[derive(Clone, Debug)]
pub enum Mutation {
    FlipBit { bit: usize },
    SetByte { at: usize, value: u8 },
    Insert { at: usize, value: u8 },
    Remove { at: usize },
    Truncate { len: usize },
}

impl Arbitrary for Mutation {
    fn arbitrary(g: &mut Gen) -> Self {
        let at = usize::arbitrary(g);
        match u8::arbitrary(g) % 5 {
            0 => Mutation::FlipBit { bit: at },
            1 => Mutation::SetByte {
                at,
                value: u8::arbitrary(g),
            },
            2 => Mutation::Insert {
                at,
                value: u8::arbitrary(g),
            },
            3 => Mutation::Remove { at },
            _ => Mutation::Truncate { len: at },
        }
    }
}

impl Mutation {
    pub fn apply(&self, bytes: &mut Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let len = bytes.len();
        match *self {
            Mutation::FlipBit { bit } => bytes[(bit / 8) % len] ^= 1 << (bit % 8),
            Mutation::SetByte { at, value } => bytes[at % len] = value,
            Mutation::Insert { at, value } => bytes.insert(at % (len + 1), value),
            Mutation::Remove { at } => {
                bytes.remove(at % len);
            }
            Mutation::Truncate { len: keep } => bytes.truncate(keep % len),
        }
    }
}
