//! Bodies of the Raft family: one tag byte for the message kind, the term,
//! then the kind's fields in declaration order.
//!
//! ```text
//! 1 VoteRequest       term pre_vote:bool last_log_index last_log_term transfer:bool
//! 2 VoteResponse      term pre_vote:bool granted:bool
//! 3 Append            term prev_log_index prev_log_term leader_commit round count entry*
//! 4 AppendResponse    term round result
//!                       result: 1 Accepted match_index
//!                               2 Rejected rejected_index conflict_term:option conflict_index
//! 5 Heartbeat         term leader_commit round
//! 6 HeartbeatResponse term round
//! 7 TimeoutNow        term
//! 8 InstallSnapshot   term index snapshot_term offset done:bool round
//!                       member_count member* pair_count (key:string value)*
//! 9 InstallSnapshotResponse term index received round
//! entry:   index:delta term:delta command
//!            index against prev_log_index + 1 + position, term against the
//!            previous entry's term (prev_log_term for the first), so a run
//!            of contiguous same-term entries spends one byte on each
//! command: 1 Noop | 2 Write key:string value | 3 CompareAndSet key:string expected:option new
//! ```
//!
//! Tag 0 is unused so that a zeroed body is rejected rather than read as a
//! message. The codec carries any `Message` value faithfully, including ones
//! the protocol would refuse (entries out of order, say): judging them is
//! the node's job, and it drops them with a reason.

use crate::codec::error::DecodeError;
use crate::codec::primitives::{put_bool, put_delta, put_option, put_str, put_varint, Reader};
use crate::core::raft::{
    Append, AppendResponse, AppendResult, Body, Command, Entry, Heartbeat, HeartbeatResponse,
    InstallSnapshot, InstallSnapshotResponse, LogIndex, Message, Round, Term, VoteRequest,
    VoteResponse,
};

const VOTE_REQUEST: u8 = 1;
const VOTE_RESPONSE: u8 = 2;
const APPEND: u8 = 3;
const APPEND_RESPONSE: u8 = 4;
const HEARTBEAT: u8 = 5;
const HEARTBEAT_RESPONSE: u8 = 6;
const TIMEOUT_NOW: u8 = 7;
const INSTALL_SNAPSHOT: u8 = 8;
const INSTALL_SNAPSHOT_RESPONSE: u8 = 9;

const ACCEPTED: u8 = 1;
const REJECTED: u8 = 2;

const NOOP: u8 = 1;
const WRITE: u8 = 2;
const COMPARE_AND_SET: u8 = 3;

/// The smallest entry: a one-byte index delta, term delta and command tag.
const MIN_ENTRY_LEN: usize = 3;
/// The smallest snapshot pair: an empty key's length byte and a one-byte
/// value.
const MIN_PAIR_LEN: usize = 2;

pub fn encode(message: &Message, out: &mut Vec<u8>) {
    out.push(tag(&message.body));
    put_varint(out, message.term.get());
    match &message.body {
        Body::VoteRequest(VoteRequest {
            pre_vote,
            last_log_index,
            last_log_term,
            transfer,
        }) => {
            put_bool(out, *pre_vote);
            put_varint(out, last_log_index.get());
            put_varint(out, last_log_term.get());
            put_bool(out, *transfer);
        }
        Body::VoteResponse(VoteResponse { pre_vote, granted }) => {
            put_bool(out, *pre_vote);
            put_bool(out, *granted);
        }
        Body::Append(Append {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
            round,
        }) => {
            put_varint(out, prev_log_index.get());
            put_varint(out, prev_log_term.get());
            put_varint(out, leader_commit.get());
            put_varint(out, round.get());
            encode_entries(*prev_log_index, *prev_log_term, entries, out);
        }
        Body::AppendResponse(AppendResponse { result, round }) => {
            put_varint(out, round.get());
            encode_append_result(result, out);
        }
        Body::Heartbeat(Heartbeat {
            leader_commit,
            round,
        }) => {
            put_varint(out, leader_commit.get());
            put_varint(out, round.get());
        }
        Body::HeartbeatResponse(HeartbeatResponse { round }) => put_varint(out, round.get()),
        Body::TimeoutNow => {}
        Body::InstallSnapshot(install) => encode_install_snapshot(install, out),
        Body::InstallSnapshotResponse(InstallSnapshotResponse {
            index,
            received,
            round,
        }) => {
            put_varint(out, index.get());
            put_varint(out, *received);
            put_varint(out, round.get());
        }
    }
}

fn encode_install_snapshot(install: &InstallSnapshot, out: &mut Vec<u8>) {
    put_varint(out, install.index.get());
    put_varint(out, install.snapshot_term.get());
    put_varint(out, install.offset);
    put_bool(out, install.done);
    put_varint(out, install.round.get());
    put_varint(out, install.members.len() as u64);
    for &member in &install.members {
        put_varint(out, member);
    }
    put_varint(out, install.pairs.len() as u64);
    for (key, value) in &install.pairs {
        put_str(out, key);
        put_varint(out, *value);
    }
}

fn tag(body: &Body) -> u8 {
    match body {
        Body::VoteRequest(_) => VOTE_REQUEST,
        Body::VoteResponse(_) => VOTE_RESPONSE,
        Body::Append(_) => APPEND,
        Body::AppendResponse(_) => APPEND_RESPONSE,
        Body::Heartbeat(_) => HEARTBEAT,
        Body::HeartbeatResponse(_) => HEARTBEAT_RESPONSE,
        Body::TimeoutNow => TIMEOUT_NOW,
        Body::InstallSnapshot(_) => INSTALL_SNAPSHOT,
        Body::InstallSnapshotResponse(_) => INSTALL_SNAPSHOT_RESPONSE,
    }
}

/// The deltas wrap: the codec carries any entry faithfully, even one whose
/// index or term no honest node would send, so they are plain `u64`s here.
fn encode_entries(
    prev_log_index: LogIndex,
    prev_log_term: Term,
    entries: &[Entry],
    out: &mut Vec<u8>,
) {
    put_varint(out, entries.len() as u64);
    let mut expected_index = prev_log_index.get().wrapping_add(1);
    let mut previous_term = prev_log_term.get();
    for entry in entries {
        put_delta(out, entry.index.get(), expected_index);
        put_delta(out, entry.term.get(), previous_term);
        encode_command(&entry.command, out);
        expected_index = expected_index.wrapping_add(1);
        previous_term = entry.term.get();
    }
}

pub(crate) fn encode_command(command: &Command, out: &mut Vec<u8>) {
    match command {
        Command::Noop => out.push(NOOP),
        Command::Write { key, value } => {
            out.push(WRITE);
            put_str(out, key);
            put_varint(out, *value);
        }
        Command::CompareAndSet { key, expected, new } => {
            out.push(COMPARE_AND_SET);
            put_str(out, key);
            put_option(out, *expected);
            put_varint(out, *new);
        }
    }
}

fn encode_append_result(result: &AppendResult, out: &mut Vec<u8>) {
    match result {
        AppendResult::Accepted { match_index } => {
            out.push(ACCEPTED);
            put_varint(out, match_index.get());
        }
        AppendResult::Rejected {
            rejected_index,
            conflict_term,
            conflict_index,
        } => {
            out.push(REJECTED);
            put_varint(out, rejected_index.get());
            put_option(out, conflict_term.map(Term::get));
            put_varint(out, conflict_index.get());
        }
    }
}

/// Reads one Raft message; the caller checks that nothing follows it.
pub fn decode(reader: &mut Reader) -> Result<Message, DecodeError> {
    let tag = reader.tag("raft message tag")?;
    // Judge the tag before reading on, so an unknown message is reported as
    // such rather than as whatever its bytes fail to be.
    if !(VOTE_REQUEST..=INSTALL_SNAPSHOT_RESPONSE).contains(&tag.value) {
        return tag.unknown_in("raft");
    }
    let term = Term::new(reader.varint("term")?);
    let body = match tag.value {
        VOTE_REQUEST => Body::VoteRequest(VoteRequest {
            pre_vote: reader.bool("pre_vote")?,
            last_log_index: LogIndex::new(reader.varint("last_log_index")?),
            last_log_term: Term::new(reader.varint("last_log_term")?),
            transfer: reader.bool("transfer")?,
        }),
        VOTE_RESPONSE => Body::VoteResponse(VoteResponse {
            pre_vote: reader.bool("pre_vote")?,
            granted: reader.bool("granted")?,
        }),
        APPEND => decode_append(reader)?,
        APPEND_RESPONSE => {
            let round = Round::new(reader.varint("round")?);
            let result = decode_append_result(reader)?;
            Body::AppendResponse(AppendResponse { result, round })
        }
        HEARTBEAT => Body::Heartbeat(Heartbeat {
            leader_commit: LogIndex::new(reader.varint("leader_commit")?),
            round: Round::new(reader.varint("round")?),
        }),
        HEARTBEAT_RESPONSE => Body::HeartbeatResponse(HeartbeatResponse {
            round: Round::new(reader.varint("round")?),
        }),
        TIMEOUT_NOW => Body::TimeoutNow,
        INSTALL_SNAPSHOT => decode_install_snapshot(reader)?,
        INSTALL_SNAPSHOT_RESPONSE => Body::InstallSnapshotResponse(InstallSnapshotResponse {
            index: LogIndex::new(reader.varint("snapshot index")?),
            received: reader.varint("received")?,
            round: Round::new(reader.varint("round")?),
        }),
        _ => return tag.unknown_in("raft"),
    };
    Ok(Message { term, body })
}

fn decode_append(reader: &mut Reader) -> Result<Body, DecodeError> {
    let prev_log_index = LogIndex::new(reader.varint("prev_log_index")?);
    let prev_log_term = Term::new(reader.varint("prev_log_term")?);
    let leader_commit = LogIndex::new(reader.varint("leader_commit")?);
    let round = Round::new(reader.varint("round")?);
    let count = reader.length("entry count", MIN_ENTRY_LEN)?;
    // `length` checked that the rest of the body could hold `count`
    // entries, so this allocation is bounded by the frame size.
    let mut entries = Vec::with_capacity(count);
    let mut expected_index = prev_log_index.get().wrapping_add(1);
    let mut previous_term = prev_log_term.get();
    for _ in 0..count {
        let index = reader.delta("entry index", expected_index)?;
        let term = reader.delta("entry term", previous_term)?;
        let command = decode_command(reader)?;
        entries.push(Entry {
            term: Term::new(term),
            index: LogIndex::new(index),
            command: command.into(),
        });
        expected_index = expected_index.wrapping_add(1);
        previous_term = term;
    }
    Ok(Body::Append(Append {
        prev_log_index,
        prev_log_term,
        entries,
        leader_commit,
        round,
    }))
}

fn decode_install_snapshot(reader: &mut Reader) -> Result<Body, DecodeError> {
    let index = LogIndex::new(reader.varint("snapshot index")?);
    let snapshot_term = Term::new(reader.varint("snapshot term")?);
    let offset = reader.varint("offset")?;
    let done = reader.bool("done")?;
    let round = Round::new(reader.varint("round")?);
    // `length` bounds each count by the bytes left, so the allocations
    // are bounded by the frame size.
    let member_count = reader.length("member count", 1)?;
    let mut members = Vec::with_capacity(member_count);
    for _ in 0..member_count {
        members.push(reader.varint("member")?);
    }
    let pair_count = reader.length("pair count", MIN_PAIR_LEN)?;
    let mut pairs = Vec::with_capacity(pair_count);
    for _ in 0..pair_count {
        pairs.push((reader.string("key")?, reader.varint("value")?));
    }
    Ok(Body::InstallSnapshot(InstallSnapshot {
        index,
        snapshot_term,
        members,
        offset,
        pairs,
        done,
        round,
    }))
}

pub(crate) fn decode_command(reader: &mut Reader) -> Result<Command, DecodeError> {
    let tag = reader.tag("command tag")?;
    match tag.value {
        NOOP => Ok(Command::Noop),
        WRITE => Ok(Command::Write {
            key: reader.string("key")?,
            value: reader.varint("value")?,
        }),
        COMPARE_AND_SET => Ok(Command::CompareAndSet {
            key: reader.string("key")?,
            expected: reader.option("expected")?,
            new: reader.varint("new")?,
        }),
        _ => tag.invalid(),
    }
}

fn decode_append_result(reader: &mut Reader) -> Result<AppendResult, DecodeError> {
    let tag = reader.tag("append result tag")?;
    match tag.value {
        ACCEPTED => Ok(AppendResult::Accepted {
            match_index: LogIndex::new(reader.varint("match_index")?),
        }),
        REJECTED => Ok(AppendResult::Rejected {
            rejected_index: LogIndex::new(reader.varint("rejected_index")?),
            conflict_term: reader.option("conflict_term")?.map(Term::new),
            conflict_index: LogIndex::new(reader.varint("conflict_index")?),
        }),
        _ => tag.invalid(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(message: &Message) -> Message {
        let mut bytes = Vec::new();
        encode(message, &mut bytes);
        let mut reader = Reader::new(&bytes);
        let decoded = decode(&mut reader).expect("decodes");
        reader.finish().expect("nothing follows the message");
        decoded
    }

    /// Both snapshot messages come back as they went, a chunk with many
    /// pairs, one with none and odd keys included.
    #[test]
    fn snapshot_messages_round_trip() {
        let chunks = [
            InstallSnapshot {
                index: LogIndex::new(40),
                snapshot_term: Term::new(3),
                members: vec![1, 2, 3, 4, 5],
                offset: 128,
                pairs: (0..64).map(|n| (format!("key-{n}"), n * 1000)).collect(),
                done: false,
                round: Round::new(17),
            },
            InstallSnapshot {
                index: LogIndex::new(u64::MAX),
                snapshot_term: Term::ZERO,
                members: Vec::new(),
                offset: 0,
                pairs: vec![(String::new(), 0), ("\u{e9}\n".into(), u64::MAX)],
                done: true,
                round: Round::ZERO,
            },
        ];
        for install in chunks {
            let message = Message {
                term: Term::new(4),
                body: Body::InstallSnapshot(install),
            };
            assert_eq!(round_trip(&message), message);
        }
        let response = Message {
            term: Term::new(4),
            body: Body::InstallSnapshotResponse(InstallSnapshotResponse {
                index: LogIndex::new(40),
                received: 192,
                round: Round::new(17),
            }),
        };
        assert_eq!(round_trip(&response), response);
    }

    /// A chunk claiming more pairs than its bytes could hold is refused
    /// before anything is allocated for them.
    #[test]
    fn an_impossible_pair_count_is_refused() {
        let message = Message {
            term: Term::new(1),
            body: Body::InstallSnapshot(InstallSnapshot {
                index: LogIndex::new(1),
                snapshot_term: Term::new(1),
                members: vec![1],
                offset: 0,
                pairs: vec![("k".into(), 1)],
                done: true,
                round: Round::ZERO,
            }),
        };
        let mut bytes = Vec::new();
        encode(&message, &mut bytes);
        // The pair count sits right before the one pair (3 bytes: length,
        // key, value).
        let count_at = bytes.len() - 4;
        assert_eq!(bytes[count_at], 1);
        bytes[count_at] = 100;
        let error = decode(&mut Reader::new(&bytes)).unwrap_err();
        assert!(
            matches!(
                error,
                DecodeError::LengthExceedsRemaining {
                    field: "pair count",
                    ..
                }
            ),
            "{error:?}"
        );
    }
}
