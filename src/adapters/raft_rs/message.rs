//! raft-rs's peer message as an electorate peer message: framed in the
//! foreign family with raft-rs's own protobuf encoding as the body, so the
//! simulator's byte counts measure what raft-rs would put on the wire.

use std::fmt;

use protobuf::Message as _;
use raft::eraftpb::{Message, MessageType};

use super::node::entry_view;

use crate::codec::primitives::put_varint;
use crate::codec::{Family, Payload, PeerMessage};

/// One raft-rs message between two nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct RaftRsMessage(pub Message);

impl RaftRsMessage {
    /// raft-rs's own encoding of the message.
    fn protobuf(&self) -> Vec<u8> {
        // Encoding fails only on a message over 2 GiB or with a missing
        // required field; eraftpb is proto3 and the log is bounded per
        // message by `max_size_per_msg`.
        self.0
            .write_to_bytes()
            .expect("a raft-rs message always encodes")
    }
}

/// What a scenario transcript prints of a message: raft-rs's own message
/// type and the fields that type uses (its entries as electorate prints
/// its own), so a transcript reads like one of electorate's Raft.
impl fmt::Display for RaftRsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = &self.0;
        let kind = message.get_msg_type();
        write!(f, "{kind:?} term={}", message.term)?;
        let verdict = if message.reject {
            "rejected"
        } else {
            "granted"
        };
        match kind {
            MessageType::MsgRequestVote | MessageType::MsgRequestPreVote => {
                write!(f, " last={}/{}", message.log_term, message.index)
            }
            MessageType::MsgRequestVoteResponse | MessageType::MsgRequestPreVoteResponse => {
                write!(f, " {verdict}")
            }
            MessageType::MsgAppend => {
                let entries: Vec<String> = message
                    .entries
                    .iter()
                    .map(|entry| entry_view(entry).to_string())
                    .collect();
                write!(
                    f,
                    " prev={}/{} entries=[{}] commit={}",
                    message.log_term,
                    message.index,
                    entries.join(", "),
                    message.commit
                )
            }
            MessageType::MsgAppendResponse if message.reject => write!(
                f,
                " rejected index={} hint={}",
                message.index, message.reject_hint
            ),
            MessageType::MsgAppendResponse => write!(f, " accepted match={}", message.index),
            MessageType::MsgHeartbeat => {
                write!(f, " commit={}", message.commit)?;
                read_context(f, message)
            }
            MessageType::MsgHeartbeatResponse => read_context(f, message),
            MessageType::MsgTimeoutNow => Ok(()),
            _ => write!(
                f,
                " index={} log_term={} commit={}",
                message.index, message.log_term, message.commit
            ),
        }
    }
}

/// A heartbeat that carries a ReadIndex round's context says so.
fn read_context(f: &mut fmt::Formatter<'_>, message: &Message) -> fmt::Result {
    if message.context.is_empty() {
        Ok(())
    } else {
        write!(f, " read-index")
    }
}

impl PeerMessage for RaftRsMessage {
    const FAMILY: Family = Family::Foreign;

    /// The protobuf bytes behind their length, as the codec frames a
    /// foreign body.
    fn encode_body(&self, out: &mut Vec<u8>) {
        let body = self.protobuf();
        put_varint(out, body.len() as u64);
        out.extend_from_slice(&body);
    }

    fn into_payload(self) -> Payload {
        Payload::Foreign(self.protobuf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Codec, Frame};
    use raft::eraftpb::MessageType;

    #[test]
    fn a_framed_message_decodes_back_to_itself() {
        let mut message = Message::default();
        message.set_msg_type(MessageType::MsgRequestPreVote);
        message.term = 4;
        message.from = 2;
        message.to = 3;
        let wrapped = RaftRsMessage(message.clone());
        let codec = Codec::new(1);
        let mut scratch = Vec::new();
        let frame_len = wrapped.frame_len(&mut scratch);
        let bytes = codec
            .encode_to_vec(&Frame {
                sender: 2,
                payload: wrapped.into_payload(),
            })
            .unwrap();
        assert_eq!(bytes.len(), frame_len);
        let Payload::Foreign(body) = codec.decode(&bytes).unwrap().payload else {
            panic!("a foreign frame decodes as one");
        };
        assert_eq!(Message::parse_from_bytes(&body).unwrap(), message);
    }
}
