//! Bodies of the lock-service family (issue 16): the messages between
//! lock-service candidates and the service ([`LockMessage`]). One tag byte
//! for the message kind, then its fields; store requests and replies carry
//! an inner tag.
//!
//! ```text
//! 1 Request   number, then 1 Acquire expected ttl | 2 Renew revision
//! 2 Reply     number, then 1 Granted revision | 2 Renewed revision
//!                        | 3 Refused revision holder(option)
//! 3 Write     token value
//! 4 WriteAck  token accepted(bool)
//! ```
//!
//! A duration is its whole seconds then its nanoseconds (below 10^9), both
//! varints, so every `Duration` has exactly one encoding. Tag 0 is unused
//! so that a zeroed body is rejected rather than read as a message.

use std::time::Duration;

use crate::codec::error::DecodeError;
use crate::codec::primitives::{put_bool, put_option, put_varint, Reader};
use crate::core::lock_service::LockMessage;
use crate::core::store::{KeyState, Revision, StoreReply, StoreRequest};

const REQUEST: u8 = 1;
const REPLY: u8 = 2;
const WRITE: u8 = 3;
const WRITE_ACK: u8 = 4;

const ACQUIRE: u8 = 1;
const RENEW: u8 = 2;

const GRANTED: u8 = 1;
const RENEWED: u8 = 2;
const REFUSED: u8 = 3;

const NANOS_PER_SECOND: u64 = 1_000_000_000;

pub fn encode(message: &LockMessage, out: &mut Vec<u8>) {
    match message {
        LockMessage::Request { number, request } => {
            out.push(REQUEST);
            put_varint(out, *number);
            encode_request(request, out);
        }
        LockMessage::Reply { number, reply } => {
            out.push(REPLY);
            put_varint(out, *number);
            encode_reply(reply, out);
        }
        LockMessage::Write { token, value } => {
            out.push(WRITE);
            put_varint(out, token.get());
            put_varint(out, *value);
        }
        LockMessage::WriteAck { token, accepted } => {
            out.push(WRITE_ACK);
            put_varint(out, token.get());
            put_bool(out, *accepted);
        }
    }
}

fn encode_request(request: &StoreRequest, out: &mut Vec<u8>) {
    match request {
        StoreRequest::Acquire { expected, ttl } => {
            out.push(ACQUIRE);
            put_varint(out, expected.get());
            put_varint(out, ttl.as_secs());
            put_varint(out, u64::from(ttl.subsec_nanos()));
        }
        StoreRequest::Renew { revision } => {
            out.push(RENEW);
            put_varint(out, revision.get());
        }
    }
}

fn encode_reply(reply: &StoreReply, out: &mut Vec<u8>) {
    match reply {
        StoreReply::Granted { revision } => {
            out.push(GRANTED);
            put_varint(out, revision.get());
        }
        StoreReply::Renewed { revision } => {
            out.push(RENEWED);
            put_varint(out, revision.get());
        }
        StoreReply::Refused { key } => {
            out.push(REFUSED);
            put_varint(out, key.revision.get());
            put_option(out, key.holder);
        }
    }
}

/// Reads one lock-service message; the caller checks that nothing follows.
pub fn decode(reader: &mut Reader) -> Result<LockMessage, DecodeError> {
    let tag = reader.tag("lock message tag")?;
    match tag.value {
        REQUEST => Ok(LockMessage::Request {
            number: reader.varint("request number")?,
            request: decode_request(reader)?,
        }),
        REPLY => Ok(LockMessage::Reply {
            number: reader.varint("request number")?,
            reply: decode_reply(reader)?,
        }),
        WRITE => Ok(LockMessage::Write {
            token: revision(reader, "token")?,
            value: reader.varint("value")?,
        }),
        WRITE_ACK => Ok(LockMessage::WriteAck {
            token: revision(reader, "token")?,
            accepted: reader.bool("accepted")?,
        }),
        _ => tag.unknown_in("lock"),
    }
}

fn revision(reader: &mut Reader, field: &'static str) -> Result<Revision, DecodeError> {
    reader.varint(field).map(Revision::new)
}

fn decode_request(reader: &mut Reader) -> Result<StoreRequest, DecodeError> {
    let tag = reader.tag("store request tag")?;
    match tag.value {
        ACQUIRE => Ok(StoreRequest::Acquire {
            expected: revision(reader, "expected revision")?,
            ttl: duration(reader, "ttl")?,
        }),
        RENEW => Ok(StoreRequest::Renew {
            revision: revision(reader, "revision")?,
        }),
        _ => tag.invalid(),
    }
}

fn decode_reply(reader: &mut Reader) -> Result<StoreReply, DecodeError> {
    let tag = reader.tag("store reply tag")?;
    match tag.value {
        GRANTED => Ok(StoreReply::Granted {
            revision: revision(reader, "revision")?,
        }),
        RENEWED => Ok(StoreReply::Renewed {
            revision: revision(reader, "revision")?,
        }),
        REFUSED => Ok(StoreReply::Refused {
            key: KeyState {
                revision: revision(reader, "revision")?,
                holder: reader.option("holder")?,
            },
        }),
        _ => tag.invalid(),
    }
}

fn duration(reader: &mut Reader, field: &'static str) -> Result<Duration, DecodeError> {
    let seconds = reader.varint(field)?;
    let nanos = reader.varint(field)?;
    if nanos >= NANOS_PER_SECOND {
        return Err(DecodeError::OutOfRange {
            field,
            found: nanos,
        });
    }
    // Below 10^9 nanoseconds never carry into the seconds, so this cannot
    // overflow.
    Ok(Duration::new(seconds, nanos as u32))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::codec::{Codec, Frame, Payload};

    fn revision() -> impl Strategy<Value = Revision> {
        any::<u64>().prop_map(Revision::new)
    }

    fn request() -> impl Strategy<Value = StoreRequest> {
        let ttl = (any::<u64>(), 0..NANOS_PER_SECOND as u32)
            .prop_map(|(seconds, nanos)| Duration::new(seconds, nanos));
        prop_oneof![
            (revision(), ttl).prop_map(|(expected, ttl)| StoreRequest::Acquire { expected, ttl }),
            revision().prop_map(|revision| StoreRequest::Renew { revision }),
        ]
    }

    fn reply() -> impl Strategy<Value = StoreReply> {
        let key = (revision(), any::<Option<u64>>())
            .prop_map(|(revision, holder)| KeyState { revision, holder });
        prop_oneof![
            revision().prop_map(|revision| StoreReply::Granted { revision }),
            revision().prop_map(|revision| StoreReply::Renewed { revision }),
            key.prop_map(|key| StoreReply::Refused { key }),
        ]
    }

    fn message() -> impl Strategy<Value = LockMessage> {
        prop_oneof![
            (any::<u64>(), request())
                .prop_map(|(number, request)| LockMessage::Request { number, request }),
            (any::<u64>(), reply())
                .prop_map(|(number, reply)| LockMessage::Reply { number, reply }),
            (revision(), any::<u64>())
                .prop_map(|(token, value)| LockMessage::Write { token, value }),
            (revision(), any::<bool>())
                .prop_map(|(token, accepted)| LockMessage::WriteAck { token, accepted }),
        ]
    }

    proptest! {
        /// Every lock-service message survives a frame round trip, and its
        /// body cut short anywhere is refused, never misread.
        #[test]
        fn every_lock_message_round_trips_and_a_cut_body_is_refused(
            message in message(),
            sender in 1..u64::MAX,
            cut in any::<prop::sample::Index>(),
        ) {
            let codec = Codec::new(3);
            let frame = Frame { sender, payload: Payload::Lock(message.clone()) };
            let bytes = codec.encode_to_vec(&frame).unwrap();
            prop_assert_eq!(codec.decode(&bytes), Ok(frame));
            let mut body = Vec::new();
            encode(&message, &mut body);
            let short = &body[..cut.index(body.len())];
            let mut reader = Reader::new(short);
            prop_assert!(decode(&mut reader).is_err());
        }
    }

    #[test]
    fn nanoseconds_of_a_second_or_more_are_refused() {
        let mut body = vec![REQUEST, 1, ACQUIRE, 0, 1];
        put_varint(&mut body, NANOS_PER_SECOND);
        assert_eq!(
            decode(&mut Reader::new(&body)),
            Err(DecodeError::OutOfRange {
                field: "ttl",
                found: NANOS_PER_SECOND
            })
        );
    }
}
