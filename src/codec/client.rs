//! Bodies of the client family: requests to a node and its replies.
//!
//! ```text
//! 1 Request  client sequence operation
//!              operation: 1 Read key:string
//!                         2 Write key:string value
//!                         3 CompareAndSet key:string expected:option new
//! 3 Batch    count (client sequence operation)*   many requests in one frame
//! 2 Reply    client sequence result
//!              result: 1 Ok outcome | 2 Err error
//!              outcome: 1 Read value:option | 2 Written | 3 CompareAndSet swapped:bool
//!              error:   1 NotLeader leader_hint:option | 2 TransferInProgress
//!                       3 LeadershipLost
//! ```

use crate::codec::error::DecodeError;
use crate::codec::frame::Payload;
use crate::codec::primitives::{put_bool, put_option, put_str, put_varint, Reader};
use crate::core::client::{ClientError, ClientReply, ClientRequest, Operation, Outcome, RequestId};

const REQUEST: u8 = 1;
const REPLY: u8 = 2;
const BATCH: u8 = 3;

/// The fewest bytes a request of a batch takes (client, sequence, a read
/// tag and an empty key, one byte each): what bounds a batch's count.
const MIN_REQUEST_LEN: usize = 4;

const READ: u8 = 1;
const WRITE: u8 = 2;
const COMPARE_AND_SET: u8 = 3;

const OK: u8 = 1;
const ERR: u8 = 2;

const OUTCOME_READ: u8 = 1;
const OUTCOME_WRITTEN: u8 = 2;
const OUTCOME_COMPARE_AND_SET: u8 = 3;

const NOT_LEADER: u8 = 1;
const TRANSFER_IN_PROGRESS: u8 = 2;
const LEADERSHIP_LOST: u8 = 3;

pub fn encode_request(request: &ClientRequest, out: &mut Vec<u8>) {
    out.push(REQUEST);
    encode_request_fields(request, out);
}

/// Many requests in one frame, each answered by its own reply.
pub fn encode_batch(requests: &[ClientRequest], out: &mut Vec<u8>) {
    out.push(BATCH);
    put_varint(out, requests.len() as u64);
    for request in requests {
        encode_request_fields(request, out);
    }
}

fn encode_request_fields(request: &ClientRequest, out: &mut Vec<u8>) {
    encode_id(request.id, out);
    match &request.operation {
        Operation::Read { key } => {
            out.push(READ);
            put_str(out, key);
        }
        Operation::Write { key, value } => {
            out.push(WRITE);
            put_str(out, key);
            put_varint(out, *value);
        }
        Operation::CompareAndSet { key, expected, new } => {
            out.push(COMPARE_AND_SET);
            put_str(out, key);
            put_option(out, *expected);
            put_varint(out, *new);
        }
    }
}

pub fn encode_reply(reply: &ClientReply, out: &mut Vec<u8>) {
    out.push(REPLY);
    encode_id(reply.id, out);
    match &reply.result {
        Ok(outcome) => {
            out.push(OK);
            encode_outcome(outcome, out);
        }
        Err(error) => {
            out.push(ERR);
            encode_error(error, out);
        }
    }
}

fn encode_id(id: RequestId, out: &mut Vec<u8>) {
    put_varint(out, id.client);
    put_varint(out, id.sequence);
}

fn encode_outcome(outcome: &Outcome, out: &mut Vec<u8>) {
    match outcome {
        Outcome::Read(value) => {
            out.push(OUTCOME_READ);
            put_option(out, *value);
        }
        Outcome::Written => out.push(OUTCOME_WRITTEN),
        Outcome::CompareAndSet { swapped } => {
            out.push(OUTCOME_COMPARE_AND_SET);
            put_bool(out, *swapped);
        }
    }
}

fn encode_error(error: &ClientError, out: &mut Vec<u8>) {
    match error {
        ClientError::NotLeader { leader_hint } => {
            out.push(NOT_LEADER);
            put_option(out, *leader_hint);
        }
        ClientError::TransferInProgress => out.push(TRANSFER_IN_PROGRESS),
        ClientError::LeadershipLost => out.push(LEADERSHIP_LOST),
    }
}

/// Reads one client request or reply; the caller checks that nothing
/// follows it.
pub fn decode(reader: &mut Reader) -> Result<Payload, DecodeError> {
    let tag = reader.tag("client message tag")?;
    match tag.value {
        REQUEST => {
            let id = decode_id(reader)?;
            let operation = decode_operation(reader)?;
            Ok(Payload::ClientRequest(ClientRequest { id, operation }))
        }
        BATCH => {
            let count = reader.length("request count", MIN_REQUEST_LEN)?;
            let mut requests = Vec::with_capacity(count);
            for _ in 0..count {
                let id = decode_id(reader)?;
                let operation = decode_operation(reader)?;
                requests.push(ClientRequest { id, operation });
            }
            Ok(Payload::ClientBatch(requests))
        }
        REPLY => {
            let id = decode_id(reader)?;
            let result_tag = reader.tag("result tag")?;
            let result = match result_tag.value {
                OK => Ok(decode_outcome(reader)?),
                ERR => Err(decode_error(reader)?),
                _ => return result_tag.invalid(),
            };
            Ok(Payload::ClientReply(ClientReply { id, result }))
        }
        _ => tag.unknown_in("client"),
    }
}

fn decode_id(reader: &mut Reader) -> Result<RequestId, DecodeError> {
    Ok(RequestId {
        client: reader.varint("client")?,
        sequence: reader.varint("sequence")?,
    })
}

fn decode_operation(reader: &mut Reader) -> Result<Operation, DecodeError> {
    let tag = reader.tag("operation tag")?;
    match tag.value {
        READ => Ok(Operation::Read {
            key: reader.string("key")?,
        }),
        WRITE => Ok(Operation::Write {
            key: reader.string("key")?,
            value: reader.varint("value")?,
        }),
        COMPARE_AND_SET => Ok(Operation::CompareAndSet {
            key: reader.string("key")?,
            expected: reader.option("expected")?,
            new: reader.varint("new")?,
        }),
        _ => tag.invalid(),
    }
}

fn decode_outcome(reader: &mut Reader) -> Result<Outcome, DecodeError> {
    let tag = reader.tag("outcome tag")?;
    match tag.value {
        OUTCOME_READ => Ok(Outcome::Read(reader.option("read value")?)),
        OUTCOME_WRITTEN => Ok(Outcome::Written),
        OUTCOME_COMPARE_AND_SET => Ok(Outcome::CompareAndSet {
            swapped: reader.bool("swapped")?,
        }),
        _ => tag.invalid(),
    }
}

fn decode_error(reader: &mut Reader) -> Result<ClientError, DecodeError> {
    let tag = reader.tag("error tag")?;
    match tag.value {
        NOT_LEADER => Ok(ClientError::NotLeader {
            leader_hint: reader.option("leader_hint")?,
        }),
        TRANSFER_IN_PROGRESS => Ok(ClientError::TransferInProgress),
        LEADERSHIP_LOST => Ok(ClientError::LeadershipLost),
        _ => tag.invalid(),
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::error::DecodeError;
    use crate::codec::frame::{Codec, Frame, Payload};
    use crate::core::client::{ClientRequest, Operation, RequestId};

    fn request(sequence: u64, operation: Operation) -> ClientRequest {
        ClientRequest {
            id: RequestId {
                client: 7,
                sequence,
            },
            operation,
        }
    }

    #[test]
    fn a_batch_of_requests_round_trips_in_one_frame() {
        let codec = Codec::new(1);
        let batch = vec![
            request(
                1,
                Operation::Write {
                    key: "a".to_owned(),
                    value: 1,
                },
            ),
            request(2, Operation::Read { key: String::new() }),
            request(
                3,
                Operation::CompareAndSet {
                    key: "a".to_owned(),
                    expected: Some(1),
                    new: 2,
                },
            ),
        ];
        let frame = Frame {
            sender: 0,
            payload: Payload::ClientBatch(batch),
        };
        let bytes = codec.encode_to_vec(&frame).unwrap();
        assert_eq!(codec.decode(&bytes).unwrap(), frame);
    }

    #[test]
    fn a_batch_claiming_more_requests_than_its_bytes_hold_is_refused() {
        let codec = Codec::new(1);
        // The batch tag, a count of 1000, and one read request.
        let body = [super::BATCH, 0xe8, 0x07, 7, 1, super::READ, 0];
        let sealed = codec.seal_raw_body(crate::codec::frame::Family::Client, 0, &body);
        assert!(matches!(
            codec.decode(&sealed),
            Err(DecodeError::LengthExceedsRemaining {
                field: "request count",
                ..
            })
        ));
    }
}
