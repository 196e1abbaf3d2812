//! Bodies of the Ring family: one tag byte for the message kind, the
//! sender's epoch, then the kind's fields.
//!
//! ```text
//! 1 Election     epoch candidate hop
//! 2 Coordinator  epoch leader hop
//! 3 Ack          epoch hop
//! 4 Heartbeat    epoch
//! ```
//!
//! Tag 0 is unused so that a zeroed body is rejected rather than read as a
//! message. Node ids are carried as they are (a candidate id that is not a
//! member is the node's to refuse, as with every other field).

use crate::codec::error::DecodeError;
use crate::codec::primitives::{put_varint, Reader};
use crate::core::chassis::Epoch;
use crate::core::ring::{Body, Message};

const ELECTION: u8 = 1;
const COORDINATOR: u8 = 2;
const ACK: u8 = 3;
const HEARTBEAT: u8 = 4;

pub fn encode(message: &Message, out: &mut Vec<u8>) {
    let tag = match message.body {
        Body::Election { .. } => ELECTION,
        Body::Coordinator { .. } => COORDINATOR,
        Body::Ack { .. } => ACK,
        Body::Heartbeat => HEARTBEAT,
    };
    out.push(tag);
    put_varint(out, message.epoch.get());
    match message.body {
        Body::Election { candidate, hop } => {
            put_varint(out, candidate);
            put_varint(out, hop);
        }
        Body::Coordinator { leader, hop } => {
            put_varint(out, leader);
            put_varint(out, hop);
        }
        Body::Ack { hop } => put_varint(out, hop),
        Body::Heartbeat => {}
    }
}

/// Reads one Ring message; the caller checks that nothing follows it.
pub fn decode(reader: &mut Reader) -> Result<Message, DecodeError> {
    let tag = reader.tag("ring message tag")?;
    // Judge the tag before reading on, so an unknown message is reported as
    // such rather than as whatever its bytes fail to be.
    if !(ELECTION..=HEARTBEAT).contains(&tag.value) {
        return tag.unknown_in("ring");
    }
    let epoch = Epoch::new(reader.varint("epoch")?);
    let body = match tag.value {
        ELECTION => Body::Election {
            candidate: reader.varint("candidate")?,
            hop: reader.varint("hop")?,
        },
        COORDINATOR => Body::Coordinator {
            leader: reader.varint("leader")?,
            hop: reader.varint("hop")?,
        },
        ACK => Body::Ack {
            hop: reader.varint("hop")?,
        },
        _ => Body::Heartbeat,
    };
    Ok(Message { epoch, body })
}
