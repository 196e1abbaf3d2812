//! Bodies of the lock-service family (issue 16): the messages between
//! lock-service candidates and the service ([`LockMessage`]). One tag byte
//! for the message kind, then its fields; store requests and replies carry
//! an inner tag.
//!
//! ```text
//! 1 Request   number, then 1 Acquire expected ttl | 2 Renew revision
//!                        | 3 OpenSession timeout | 4 KeepAlive session
//!                        | 5 Create session | 6 WatchBelow session entry
//!                        | 7 TakeOver revision renewals | 8 Read
//! 2 Reply     number, then 1 Granted revision | 2 Renewed revision
//!                        | 3 Refused key
//!                        | 4 SessionOpened session
//!                        | 5 KeptAlive session watching(option)
//!                        | 6 Created entry
//!                        | 7 Watching entry predecessor(option)
//!                        | 8 SessionExpired session | 9 Record key
//!             where key is revision renewals holder(option)
//! 3 Write     token value
//! 4 WriteAck  token accepted(bool)
//! 5 Notify    deleted
//! ```
//!
//! A duration is its whole seconds then its nanoseconds (below 10^9), both
//! varints, so every `Duration` has exactly one encoding. Tag 0 is unused
//! so that a zeroed body is rejected rather than read as a message.

use std::time::Duration;

use crate::codec::error::DecodeError;
use crate::codec::primitives::{put_bool, put_option, put_varint, Reader};
use crate::core::lock_service::LockMessage;
use crate::core::store::{KeyState, Revision, SessionId, StoreReply, StoreRequest};

const REQUEST: u8 = 1;
const REPLY: u8 = 2;
const WRITE: u8 = 3;
const WRITE_ACK: u8 = 4;
const NOTIFY: u8 = 5;

const ACQUIRE: u8 = 1;
const RENEW: u8 = 2;
const OPEN_SESSION: u8 = 3;
const KEEP_ALIVE: u8 = 4;
const CREATE: u8 = 5;
const WATCH_BELOW: u8 = 6;
const TAKE_OVER: u8 = 7;
const READ: u8 = 8;

const GRANTED: u8 = 1;
const RENEWED: u8 = 2;
const REFUSED: u8 = 3;
const SESSION_OPENED: u8 = 4;
const KEPT_ALIVE: u8 = 5;
const CREATED: u8 = 6;
const WATCHING: u8 = 7;
const SESSION_EXPIRED: u8 = 8;
const RECORD: u8 = 9;

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
        LockMessage::Notify { deleted } => {
            out.push(NOTIFY);
            put_varint(out, deleted.get());
        }
    }
}

fn encode_request(request: &StoreRequest, out: &mut Vec<u8>) {
    match request {
        StoreRequest::Acquire { expected, ttl } => {
            out.push(ACQUIRE);
            put_varint(out, expected.get());
            put_duration(out, *ttl);
        }
        StoreRequest::Renew { revision } => {
            out.push(RENEW);
            put_varint(out, revision.get());
        }
        StoreRequest::OpenSession { timeout } => {
            out.push(OPEN_SESSION);
            put_duration(out, *timeout);
        }
        StoreRequest::KeepAlive { session } => {
            out.push(KEEP_ALIVE);
            put_varint(out, session.get());
        }
        StoreRequest::Create { session } => {
            out.push(CREATE);
            put_varint(out, session.get());
        }
        StoreRequest::WatchBelow { session, entry } => {
            out.push(WATCH_BELOW);
            put_varint(out, session.get());
            put_varint(out, entry.get());
        }
        StoreRequest::TakeOver { revision, renewals } => {
            out.push(TAKE_OVER);
            put_varint(out, revision.get());
            put_varint(out, *renewals);
        }
        StoreRequest::Read => out.push(READ),
    }
}

fn put_key(out: &mut Vec<u8>, key: &KeyState) {
    put_varint(out, key.revision.get());
    put_varint(out, key.renewals);
    put_option(out, key.holder);
}

fn put_duration(out: &mut Vec<u8>, duration: Duration) {
    put_varint(out, duration.as_secs());
    put_varint(out, u64::from(duration.subsec_nanos()));
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
            put_key(out, key);
        }
        StoreReply::Record { key } => {
            out.push(RECORD);
            put_key(out, key);
        }
        StoreReply::SessionOpened { session } => {
            out.push(SESSION_OPENED);
            put_varint(out, session.get());
        }
        StoreReply::KeptAlive { session, watching } => {
            out.push(KEPT_ALIVE);
            put_varint(out, session.get());
            put_option(out, watching.map(Revision::get));
        }
        StoreReply::Created { entry } => {
            out.push(CREATED);
            put_varint(out, entry.get());
        }
        StoreReply::Watching { entry, predecessor } => {
            out.push(WATCHING);
            put_varint(out, entry.get());
            put_option(out, predecessor.map(Revision::get));
        }
        StoreReply::SessionExpired { session } => {
            out.push(SESSION_EXPIRED);
            put_varint(out, session.get());
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
        NOTIFY => Ok(LockMessage::Notify {
            deleted: revision(reader, "deleted entry")?,
        }),
        _ => tag.unknown_in("lock"),
    }
}

fn revision(reader: &mut Reader, field: &'static str) -> Result<Revision, DecodeError> {
    reader.varint(field).map(Revision::new)
}

fn session(reader: &mut Reader) -> Result<SessionId, DecodeError> {
    reader.varint("session").map(SessionId::new)
}

fn key(reader: &mut Reader) -> Result<KeyState, DecodeError> {
    Ok(KeyState {
        revision: revision(reader, "revision")?,
        renewals: reader.varint("renewals")?,
        holder: reader.option("holder")?,
    })
}

fn optional_revision(
    reader: &mut Reader,
    field: &'static str,
) -> Result<Option<Revision>, DecodeError> {
    Ok(reader.option(field)?.map(Revision::new))
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
        OPEN_SESSION => Ok(StoreRequest::OpenSession {
            timeout: duration(reader, "session timeout")?,
        }),
        KEEP_ALIVE => Ok(StoreRequest::KeepAlive {
            session: session(reader)?,
        }),
        CREATE => Ok(StoreRequest::Create {
            session: session(reader)?,
        }),
        WATCH_BELOW => Ok(StoreRequest::WatchBelow {
            session: session(reader)?,
            entry: revision(reader, "entry")?,
        }),
        TAKE_OVER => Ok(StoreRequest::TakeOver {
            revision: revision(reader, "revision")?,
            renewals: reader.varint("renewals")?,
        }),
        READ => Ok(StoreRequest::Read),
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
        REFUSED => Ok(StoreReply::Refused { key: key(reader)? }),
        RECORD => Ok(StoreReply::Record { key: key(reader)? }),
        SESSION_OPENED => Ok(StoreReply::SessionOpened {
            session: session(reader)?,
        }),
        KEPT_ALIVE => Ok(StoreReply::KeptAlive {
            session: session(reader)?,
            watching: optional_revision(reader, "watched entry")?,
        }),
        CREATED => Ok(StoreReply::Created {
            entry: revision(reader, "entry")?,
        }),
        WATCHING => Ok(StoreReply::Watching {
            entry: revision(reader, "entry")?,
            predecessor: optional_revision(reader, "predecessor")?,
        }),
        SESSION_EXPIRED => Ok(StoreReply::SessionExpired {
            session: session(reader)?,
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

    fn session() -> impl Strategy<Value = SessionId> {
        any::<u64>().prop_map(SessionId::new)
    }

    fn duration() -> impl Strategy<Value = Duration> {
        (any::<u64>(), 0..NANOS_PER_SECOND as u32)
            .prop_map(|(seconds, nanos)| Duration::new(seconds, nanos))
    }

    fn request() -> impl Strategy<Value = StoreRequest> {
        prop_oneof![
            (revision(), duration())
                .prop_map(|(expected, ttl)| StoreRequest::Acquire { expected, ttl }),
            revision().prop_map(|revision| StoreRequest::Renew { revision }),
            duration().prop_map(|timeout| StoreRequest::OpenSession { timeout }),
            session().prop_map(|session| StoreRequest::KeepAlive { session }),
            session().prop_map(|session| StoreRequest::Create { session }),
            (session(), revision())
                .prop_map(|(session, entry)| StoreRequest::WatchBelow { session, entry }),
            (revision(), any::<u64>())
                .prop_map(|(revision, renewals)| StoreRequest::TakeOver { revision, renewals }),
            Just(StoreRequest::Read),
        ]
    }

    fn key() -> impl Strategy<Value = KeyState> {
        (revision(), any::<u64>(), any::<Option<u64>>()).prop_map(|(revision, renewals, holder)| {
            KeyState {
                revision,
                renewals,
                holder,
            }
        })
    }

    fn reply() -> impl Strategy<Value = StoreReply> {
        prop_oneof![
            revision().prop_map(|revision| StoreReply::Granted { revision }),
            revision().prop_map(|revision| StoreReply::Renewed { revision }),
            key().prop_map(|key| StoreReply::Refused { key }),
            key().prop_map(|key| StoreReply::Record { key }),
            session().prop_map(|session| StoreReply::SessionOpened { session }),
            (session(), proptest::option::of(revision()))
                .prop_map(|(session, watching)| StoreReply::KeptAlive { session, watching }),
            revision().prop_map(|entry| StoreReply::Created { entry }),
            (revision(), proptest::option::of(revision()))
                .prop_map(|(entry, predecessor)| StoreReply::Watching { entry, predecessor }),
            session().prop_map(|session| StoreReply::SessionExpired { session }),
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
            revision().prop_map(|deleted| LockMessage::Notify { deleted }),
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
        for (body, field) in [
            (vec![REQUEST, 1, ACQUIRE, 0, 1], "ttl"),
            (vec![REQUEST, 1, OPEN_SESSION, 1], "session timeout"),
        ] {
            let mut body = body;
            put_varint(&mut body, NANOS_PER_SECOND);
            assert_eq!(
                decode(&mut Reader::new(&body)),
                Err(DecodeError::OutOfRange {
                    field,
                    found: NANOS_PER_SECOND
                })
            );
        }
    }

    /// Tags past the last kind of each level are refused, not misread.
    #[test]
    fn unknown_store_tags_are_refused() {
        for body in [
            vec![REQUEST, 1, READ + 1],
            vec![REPLY, 1, RECORD + 1],
            vec![NOTIFY + 1],
        ] {
            assert!(decode(&mut Reader::new(&body)).is_err(), "{body:?}");
        }
    }
}
