//! The wire format of every message electorate sends: Raft, Bully and Ring
//! peer messages, and client requests and replies, each in one checksummed
//! frame.
//!
//! # Use
//!
//! ```
//! use electorate::codec::{Codec, Frame, Payload};
//! use electorate::core::raft::{Body, HeartbeatResponse, Message, Round, Term};
//!
//! let codec = Codec::new(7); // the cluster id
//! let body = Body::HeartbeatResponse(HeartbeatResponse {
//!     round: Round::new(9),
//! });
//! let frame = Frame {
//!     sender: 1,
//!     payload: Payload::Raft(Message {
//!         term: Term::new(3),
//!         body,
//!     }),
//! };
//! let bytes = codec.encode_to_vec(&frame).unwrap();
//! assert_eq!(codec.decode(&bytes), Ok(frame));
//! ```
//!
//! On a stream, [`FrameReader`] reads one frame at a time (header first,
//! then the body it announces) and [`write_frame`] writes one.
//!
//! # Frames
//!
//! ```text
//! offset size
//!      0    4  magic "ELEC"
//!      4    1  format version (1)
//!      5    1  protocol family: 1 Raft, 2 client, 3 Bully, 4 Ring, 5 foreign, 6 lock
//!      6    8  cluster id, u64 little-endian
//!     14    8  sender id, u64 little-endian (0 for a client)
//!     22    4  body length, u32 little-endian
//!     26    4  CRC32C (Castagnoli) of bytes 0..26 then of the body, little-endian
//!     30    n  body: a message tag of the family, then its fields
//! ```
//!
//! The header has a fixed size so a stream reader can read it first, check
//! that the body length is within the codec's maximum frame size, and only
//! then read (and allocate for) the body. The checksum covers the header too,
//! so a flipped bit in the sender or family is caught. Body layouts are
//! documented in `raft.rs`, `client.rs`, `bully.rs` and `ring.rs`; their primitives (varints, bools,
//! options, strings) in `primitives.rs`.
//!
//! # Guarantees
//!
//! - Decoding never panics, loops at most once per input byte, and allocates
//!   at most the frame's size: every count or length is checked against the
//!   bytes left before anything is allocated for it.
//! - Every malformed input is a [`DecodeError`] naming what was wrong.
//! - The encoding is canonical: `decode(encode(f)) == f` for every frame, and
//!   `encode(decode(b)) == b` for every `b` that decodes (non-shortest
//!   varints, bools other than 0 and 1, trailing bytes and so on are
//!   rejected). The fuzz targets in `fuzz/` and the properties in
//!   `tests/codec_properties.rs` check both.
//!
//! # Adding a protocol family
//!
//! A family owns its message tags, so adding one touches nothing of the
//! others: add a variant to [`Family`] with the next unused family byte in
//! `Family::tag` and `Family::from_tag`, a variant to [`Payload`] carrying
//! the family's message type, and a module with `encode(&Message, &mut
//! Vec<u8>)` and `decode(&mut Reader) -> Result<Message, DecodeError>` built
//! from the primitives (`bully.rs` is the smallest example), then one arm in
//! `Codec::encode` and one in `Codec::decode_body`. Older builds reject the
//! new family byte with [`DecodeError::UnknownFamily`] instead of misreading
//! it. A change to an existing family's layout bumps the format version
//! instead.

mod bully;
mod client;
mod error;
mod frame;
mod lock;
mod peer;
pub(crate) mod primitives;
pub(crate) mod raft;
mod ring;
mod stream;

pub mod fuzzing;

pub use error::{DecodeError, EncodeError};
pub use frame::{
    Codec, Family, Frame, Header, Payload, DEFAULT_MAX_FRAME_LEN, HEADER_LEN, MAGIC, VERSION,
};
pub use peer::PeerMessage;
pub use stream::{write_frame, FrameReader, ReadError, WriteError};
