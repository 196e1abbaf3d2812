//! The bytes the adapter puts in raft-rs entries and ReadIndex contexts,
//! and the state machine they drive: the same key-value commands, in the
//! same encoding, as electorate's own log.
//!
//! An entry's data is the proposing request's id followed by its command,
//! so the leader that applies it knows whom to answer; raft-rs's own empty
//! entry (a new leader's) is electorate's no-op. A ReadIndex context is the
//! read's request id.

use crate::codec::primitives::{put_varint, Reader};
use crate::codec::raft::{decode_command, encode_command};
use crate::codec::DecodeError;
use crate::core::client::{Operation, Outcome, RequestId};
use crate::core::kv::KvStore;
use crate::core::raft::Command;

/// The command a write or compare-and-set appends (`None` for a read).
pub fn command_of(operation: &Operation) -> Option<Command> {
    match operation {
        Operation::Read { .. } => None,
        Operation::Write { key, value } => Some(Command::Write {
            key: key.clone(),
            value: *value,
        }),
        Operation::CompareAndSet { key, expected, new } => Some(Command::CompareAndSet {
            key: key.clone(),
            expected: *expected,
            new: *new,
        }),
    }
}

pub fn encode_proposal(id: RequestId, command: &Command) -> Vec<u8> {
    let mut data = encode_request_id(id);
    encode_command(command, &mut data);
    data
}

/// The request and command of an entry's data; empty data is raft-rs's
/// leader no-op, which no request proposed.
pub fn decode_proposal(data: &[u8]) -> Result<(Option<RequestId>, Command), DecodeError> {
    if data.is_empty() {
        return Ok((None, Command::Noop));
    }
    let mut reader = Reader::new(data);
    let id = read_request_id(&mut reader)?;
    let command = decode_command(&mut reader)?;
    reader.finish()?;
    Ok((Some(id), command))
}

pub fn encode_request_id(id: RequestId) -> Vec<u8> {
    let mut out = Vec::with_capacity(4);
    put_varint(&mut out, id.client);
    put_varint(&mut out, id.sequence);
    out
}

pub fn decode_request_id(bytes: &[u8]) -> Result<RequestId, DecodeError> {
    let mut reader = Reader::new(bytes);
    let id = read_request_id(&mut reader)?;
    reader.finish()?;
    Ok(id)
}

fn read_request_id(reader: &mut Reader) -> Result<RequestId, DecodeError> {
    Ok(RequestId {
        client: reader.varint("client")?,
        sequence: reader.varint("sequence")?,
    })
}

/// Applies one committed command; `None` for a no-op.
pub fn apply(kv: &mut KvStore, command: &Command) -> Option<Outcome> {
    match command {
        Command::Noop => None,
        Command::Write { key, value } => Some(kv.write(key, *value)),
        Command::CompareAndSet { key, expected, new } => {
            Some(kv.compare_and_set(key, *expected, *new))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposals_and_read_contexts_round_trip() {
        let id = RequestId {
            client: 3,
            sequence: 300,
        };
        let command = Command::CompareAndSet {
            key: "k".to_owned(),
            expected: None,
            new: 7,
        };
        let data = encode_proposal(id, &command);
        assert_eq!(decode_proposal(&data).unwrap(), (Some(id), command));
        assert_eq!(decode_proposal(&[]).unwrap(), (None, Command::Noop));
        assert_eq!(decode_request_id(&encode_request_id(id)).unwrap(), id);
        assert!(decode_request_id(&data).is_err(), "trailing bytes refused");
    }
}
