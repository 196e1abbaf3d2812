//! Bodies of the client family: requests to a node and its replies.
//!
//! ```text
//! 1 Request  client sequence operation
//!              operation: 1 Read key:string
//!                         2 Write key:string value
//!                         3 CompareAndSet key:string expected:option new
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
    match reader.byte("client message tag")? {
        REQUEST => {
            let id = decode_id(reader)?;
            let operation = decode_operation(reader)?;
            Ok(Payload::ClientRequest(ClientRequest { id, operation }))
        }
        REPLY => {
            let id = decode_id(reader)?;
            let result = match reader.byte("result tag")? {
                OK => Ok(decode_outcome(reader)?),
                ERR => Err(decode_error(reader)?),
                found => {
                    return Err(DecodeError::InvalidValue {
                        field: "result tag",
                        found,
                    })
                }
            };
            Ok(Payload::ClientReply(ClientReply { id, result }))
        }
        found => Err(DecodeError::UnknownTag {
            family: "client",
            found,
        }),
    }
}

fn decode_id(reader: &mut Reader) -> Result<RequestId, DecodeError> {
    Ok(RequestId {
        client: reader.varint("client")?,
        sequence: reader.varint("sequence")?,
    })
}

fn decode_operation(reader: &mut Reader) -> Result<Operation, DecodeError> {
    match reader.byte("operation tag")? {
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
        found => Err(DecodeError::InvalidValue {
            field: "operation tag",
            found,
        }),
    }
}

fn decode_outcome(reader: &mut Reader) -> Result<Outcome, DecodeError> {
    match reader.byte("outcome tag")? {
        OUTCOME_READ => Ok(Outcome::Read(reader.option("read value")?)),
        OUTCOME_WRITTEN => Ok(Outcome::Written),
        OUTCOME_COMPARE_AND_SET => Ok(Outcome::CompareAndSet {
            swapped: reader.bool("swapped")?,
        }),
        found => Err(DecodeError::InvalidValue {
            field: "outcome tag",
            found,
        }),
    }
}

fn decode_error(reader: &mut Reader) -> Result<ClientError, DecodeError> {
    match reader.byte("error tag")? {
        NOT_LEADER => Ok(ClientError::NotLeader {
            leader_hint: reader.option("leader_hint")?,
        }),
        TRANSFER_IN_PROGRESS => Ok(ClientError::TransferInProgress),
        LEADERSHIP_LOST => Ok(ClientError::LeadershipLost),
        found => Err(DecodeError::InvalidValue {
            field: "error tag",
            found,
        }),
    }
}
