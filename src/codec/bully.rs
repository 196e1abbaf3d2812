//! Bodies of the Bully family: one tag byte for the message kind, then the
//! sender's epoch. No Bully message names a node (the frame's sender is the
//! candidate, the answerer or the coordinator), so that is all there is.
//!
//! ```text
//! 1 Election     epoch
//! 2 Answer       epoch
//! 3 Coordinator  epoch
//! 4 Heartbeat    epoch
//! ```
//!
//! Tag 0 is unused so that a zeroed body is rejected rather than read as a
//! message.

use crate::codec::error::DecodeError;
use crate::codec::primitives::{put_varint, Reader};
use crate::core::bully::{Body, Message};
use crate::core::chassis::Epoch;

const ELECTION: u8 = 1;
const ANSWER: u8 = 2;
const COORDINATOR: u8 = 3;
const HEARTBEAT: u8 = 4;

pub fn encode(message: &Message, out: &mut Vec<u8>) {
    out.push(match message.body {
        Body::Election => ELECTION,
        Body::Answer => ANSWER,
        Body::Coordinator => COORDINATOR,
        Body::Heartbeat => HEARTBEAT,
    });
    put_varint(out, message.epoch.get());
}

/// Reads one Bully message; the caller checks that nothing follows it.
pub fn decode(reader: &mut Reader) -> Result<Message, DecodeError> {
    let tag = reader.tag("bully message tag")?;
    let body = match tag.value {
        ELECTION => Body::Election,
        ANSWER => Body::Answer,
        COORDINATOR => Body::Coordinator,
        HEARTBEAT => Body::Heartbeat,
        _ => return tag.unknown_in("bully"),
    };
    let epoch = Epoch::new(reader.varint("epoch")?);
    Ok(Message { epoch, body })
}
