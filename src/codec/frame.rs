//! Frames: the fixed header, the checksum, and the [`Codec`] that turns a
//! [`Frame`] into bytes and back. The bodies themselves are written by one
//! module per protocol family (`raft`, `client`, `bully`, `ring`); a
//! foreign implementation's bodies are carried as they are, behind their
//! length.

use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::primitives::{put_varint, Reader};
use crate::codec::{bully as codec_bully, client, lock, raft, ring as codec_ring};
use crate::core::client::{ClientReply, ClientRequest};
use crate::core::lock_service::LockMessage;
use crate::core::node::NodeId;
use crate::core::raft::Message;
use crate::core::{bully, ring};

pub const MAGIC: [u8; 4] = *b"ELEC";
pub const VERSION: u8 = 1;
/// magic 4, version 1, family 1, cluster 8, sender 8, body length 4,
/// checksum 4.
pub const HEADER_LEN: usize = 30;
/// The header bytes the checksum covers (all but the checksum itself).
const CHECKSUMMED_HEADER_LEN: usize = HEADER_LEN - 4;
/// The largest frame a default codec sends or accepts. An append carries at
/// most `max_entries_per_append` (64 by default) entries, so this leaves
/// each entry's key about 64 KiB.
pub const DEFAULT_MAX_FRAME_LEN: u32 = 4 << 20;

/// Which protocol's messages a frame carries: the first thing a receiver
/// dispatches on, so each family's tags are its own to allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Family {
    /// Raft peer messages ([`Message`]).
    Raft,
    /// Client requests and the replies to them.
    Client,
    /// Bully peer messages ([`bully::Message`]).
    Bully,
    /// Ring peer messages ([`ring::Message`]).
    Ring,
    /// Peer messages of a foreign Raft implementation run under the
    /// simulator (raft-rs), in that implementation's own encoding: the
    /// codec carries the body as opaque bytes and the adapter decodes it.
    Foreign,
    /// Messages between lock-service candidates and the service
    /// ([`LockMessage`]).
    Lock,
}

impl Family {
    pub fn tag(self) -> u8 {
        match self {
            Family::Raft => 1,
            Family::Client => 2,
            Family::Bully => 3,
            Family::Ring => 4,
            Family::Foreign => 5,
            Family::Lock => 6,
        }
    }

    pub fn from_tag(tag: u8) -> Result<Family, DecodeError> {
        match tag {
            1 => Ok(Family::Raft),
            2 => Ok(Family::Client),
            3 => Ok(Family::Bully),
            4 => Ok(Family::Ring),
            5 => Ok(Family::Foreign),
            6 => Ok(Family::Lock),
            found => Err(DecodeError::UnknownFamily { found }),
        }
    }
}

/// What one frame carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Payload {
    Raft(Message),
    ClientRequest(ClientRequest),
    ClientReply(ClientReply),
    /// Many client requests in one frame (a client's batch of writes),
    /// handed to the node as one input and answered one reply each.
    ClientBatch(Vec<ClientRequest>),
    Bully(bully::Message),
    Ring(ring::Message),
    /// A foreign implementation's message body ([`Family::Foreign`]).
    Foreign(Vec<u8>),
    Lock(LockMessage),
}

impl Payload {
    pub fn family(&self) -> Family {
        match self {
            Payload::Raft(_) => Family::Raft,
            Payload::ClientRequest(_) | Payload::ClientReply(_) | Payload::ClientBatch(_) => {
                Family::Client
            }
            Payload::Bully(_) => Family::Bully,
            Payload::Ring(_) => Family::Ring,
            Payload::Foreign(_) => Family::Foreign,
            Payload::Lock(_) => Family::Lock,
        }
    }
}

/// One decoded frame: who sent it and what it carries. The cluster id is
/// the codec's, checked on decode.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Frame {
    /// The sending node, or 0 (never a member id) for a client.
    pub sender: NodeId,
    pub payload: Payload,
}

/// A frame's header, validated: right magic, version and cluster, a known
/// family, and a body no larger than the codec allows. The checksum is
/// checked with the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub family: Family,
    pub cluster: u64,
    pub sender: NodeId,
    pub body_len: u32,
    pub checksum: u32,
}

impl Header {
    /// The checksummed part of the header, as it was (or will be) sent:
    /// decoding accepted only these exact bytes, so rebuilding them is safe.
    fn checksummed_bytes(&self) -> [u8; CHECKSUMMED_HEADER_LEN] {
        let mut bytes = [0; CHECKSUMMED_HEADER_LEN];
        bytes[0..4].copy_from_slice(&MAGIC);
        bytes[4] = VERSION;
        bytes[5] = self.family.tag();
        bytes[6..14].copy_from_slice(&self.cluster.to_le_bytes());
        bytes[14..22].copy_from_slice(&self.sender.to_le_bytes());
        bytes[22..26].copy_from_slice(&self.body_len.to_le_bytes());
        bytes
    }

    fn checksum_of(&self, body: &[u8]) -> u32 {
        let header = crc32c::crc32c(&self.checksummed_bytes());
        crc32c::crc32c_append(header, body)
    }
}

/// Encodes and decodes the frames of one cluster. Cheap to copy; holds only
/// configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Codec {
    cluster: u64,
    max_frame_len: u32,
}

impl Codec {
    /// A codec for cluster `cluster` with the default frame size limit.
    pub fn new(cluster: u64) -> Codec {
        Codec {
            cluster,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
        }
    }

    /// The same codec with another frame size limit (header included).
    /// Every member of a cluster should use the same limit, or one may send
    /// what another rejects. Panics if the limit cannot hold a header: that
    /// is a configuration bug, not input.
    pub fn with_max_frame_len(self, max_frame_len: u32) -> Codec {
        assert!(
            max_frame_len as usize >= HEADER_LEN,
            "a frame limit of {max_frame_len} bytes cannot hold the {HEADER_LEN}-byte header"
        );
        Codec {
            max_frame_len,
            ..self
        }
    }

    pub fn cluster(&self) -> u64 {
        self.cluster
    }

    pub fn max_frame_len(&self) -> u32 {
        self.max_frame_len
    }

    /// Appends the frame for `frame` to `out`. On error `out` is left as it
    /// was.
    pub fn encode(&self, frame: &Frame, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.resize(start + HEADER_LEN, 0);
        match &frame.payload {
            Payload::Raft(message) => raft::encode(message, out),
            Payload::ClientRequest(request) => client::encode_request(request, out),
            Payload::ClientReply(reply) => client::encode_reply(reply, out),
            Payload::ClientBatch(requests) => client::encode_batch(requests, out),
            Payload::Bully(message) => codec_bully::encode(message, out),
            Payload::Ring(message) => codec_ring::encode(message, out),
            Payload::Lock(message) => lock::encode(message, out),
            // Length-prefixed, so the body says where it ends, as every
            // family's does.
            Payload::Foreign(body) => {
                put_varint(out, body.len() as u64);
                out.extend_from_slice(body);
            }
        }
        let frame_len = out.len() - start;
        if frame_len > self.max_frame_len as usize {
            out.truncate(start);
            return Err(EncodeError::Oversize {
                frame_len: frame_len as u64,
                max_frame_len: self.max_frame_len,
            });
        }
        let mut header = Header {
            family: frame.payload.family(),
            cluster: self.cluster,
            sender: frame.sender,
            body_len: (frame_len - HEADER_LEN) as u32,
            checksum: 0,
        };
        header.checksum = header.checksum_of(&out[start + HEADER_LEN..]);
        out[start..start + CHECKSUMMED_HEADER_LEN].copy_from_slice(&header.checksummed_bytes());
        out[start + CHECKSUMMED_HEADER_LEN..start + HEADER_LEN]
            .copy_from_slice(&header.checksum.to_le_bytes());
        Ok(())
    }

    /// The frame for `frame` as a new buffer.
    pub fn encode_to_vec(&self, frame: &Frame) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(frame, &mut out)?;
        Ok(out)
    }

    /// Decodes `bytes`, which must hold exactly one frame.
    pub fn decode(&self, bytes: &[u8]) -> Result<Frame, DecodeError> {
        let Some((header, body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(DecodeError::Truncated {
                what: "frame header",
                needed: HEADER_LEN,
                available: bytes.len(),
            });
        };
        let header = self.decode_header(header)?;
        let body_len = header.body_len as usize;
        if body.len() < body_len {
            return Err(DecodeError::Truncated {
                what: "frame body",
                needed: body_len,
                available: body.len(),
            });
        }
        if body.len() > body_len {
            return Err(DecodeError::TrailingBytes {
                what: "frame",
                count: body.len() - body_len,
            });
        }
        self.decode_body(&header, body)
    }

    /// Validates a frame header on its own, so that a stream reader knows
    /// how many body bytes to expect (and that it may accept that many)
    /// before it reads them.
    pub fn decode_header(&self, bytes: &[u8; HEADER_LEN]) -> Result<Header, DecodeError> {
        let field = |range: std::ops::Range<usize>| &bytes[range];
        let magic: [u8; 4] = field(0..4).try_into().expect("4-byte range");
        if magic != MAGIC {
            return Err(DecodeError::BadMagic { found: magic });
        }
        if bytes[4] != VERSION {
            return Err(DecodeError::UnsupportedVersion { found: bytes[4] });
        }
        let family = Family::from_tag(bytes[5])?;
        let cluster = u64::from_le_bytes(field(6..14).try_into().expect("8-byte range"));
        let sender = u64::from_le_bytes(field(14..22).try_into().expect("8-byte range"));
        let body_len = u32::from_le_bytes(field(22..26).try_into().expect("4-byte range"));
        let checksum = u32::from_le_bytes(field(26..30).try_into().expect("4-byte range"));
        let frame_len = HEADER_LEN as u64 + u64::from(body_len);
        if frame_len > u64::from(self.max_frame_len) {
            return Err(DecodeError::Oversize {
                frame_len,
                max_frame_len: self.max_frame_len,
            });
        }
        if cluster != self.cluster {
            return Err(DecodeError::WrongCluster {
                expected: self.cluster,
                found: cluster,
            });
        }
        Ok(Header {
            family,
            cluster,
            sender,
            body_len,
            checksum,
        })
    }

    /// Checks `body` against the checksum in `header` (which came from
    /// [`Codec::decode_header`]) and decodes the message it carries.
    pub fn decode_body(&self, header: &Header, body: &[u8]) -> Result<Frame, DecodeError> {
        if body.len() != header.body_len as usize {
            return Err(DecodeError::Truncated {
                what: "frame body",
                needed: header.body_len as usize,
                available: body.len(),
            });
        }
        let computed = header.checksum_of(body);
        if computed != header.checksum {
            return Err(DecodeError::ChecksumMismatch {
                in_frame: header.checksum,
                computed,
            });
        }
        let mut reader = Reader::new(body);
        let payload = match header.family {
            Family::Raft => Payload::Raft(raft::decode(&mut reader)?),
            Family::Client => client::decode(&mut reader)?,
            Family::Bully => Payload::Bully(codec_bully::decode(&mut reader)?),
            Family::Ring => Payload::Ring(codec_ring::decode(&mut reader)?),
            Family::Lock => Payload::Lock(lock::decode(&mut reader)?),
            Family::Foreign => {
                let len = reader.length("foreign body", 1)?;
                let rest = reader.take_rest();
                if rest.len() > len {
                    return Err(DecodeError::TrailingBytes {
                        what: "foreign body",
                        count: rest.len() - len,
                    });
                }
                Payload::Foreign(rest.to_vec())
            }
        };
        reader.finish()?;
        Ok(Frame {
            sender: header.sender,
            payload,
        })
    }

    /// Builds a frame around arbitrary body bytes with a correct checksum,
    /// so a fuzzer can reach the body decoders without having to forge
    /// CRCs. Not for production use: real frames come from [`Codec::encode`].
    #[doc(hidden)]
    pub fn seal_raw_body(&self, family: Family, sender: NodeId, body: &[u8]) -> Vec<u8> {
        let mut header = Header {
            family,
            cluster: self.cluster,
            sender,
            body_len: u32::try_from(body.len()).unwrap_or(u32::MAX),
            checksum: 0,
        };
        header.checksum = header.checksum_of(body);
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(&header.checksummed_bytes());
        out.extend_from_slice(&header.checksum.to_le_bytes());
        out.extend_from_slice(body);
        out
    }
}
