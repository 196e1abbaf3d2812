//! Why a frame was rejected, or could not be built.
//!
//! Every way untrusted bytes can be wrong has its own variant, naming the
//! field at fault where there is one, so a transport can log the reason and
//! count rejections by kind. None of them is a bug of this node: a bug
//! panics, bad input is one of these.

/// Why `decode` rejected some bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ends before `what` does.
    #[error("truncated {what}: needs {needed} bytes, {available} available")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// The header claims a frame larger than this codec accepts. Checked
    /// before anything is allocated for the body.
    #[error("frame of {frame_len} bytes exceeds the maximum of {max_frame_len}")]
    Oversize { frame_len: u64, max_frame_len: u32 },
    #[error("bad magic {found:02x?}")]
    BadMagic { found: [u8; 4] },
    #[error("unsupported format version {found}")]
    UnsupportedVersion { found: u8 },
    /// The frame belongs to another cluster: a misrouted connection or a
    /// misconfigured peer, never to be mixed into this cluster's state.
    #[error("frame for cluster {found}, this is cluster {expected}")]
    WrongCluster { expected: u64, found: u64 },
    /// The bytes changed between sender and receiver (or the sender is not
    /// speaking this format).
    #[error("checksum mismatch: frame says {in_frame:#010x}, bytes give {computed:#010x}")]
    ChecksumMismatch { in_frame: u32, computed: u32 },
    /// The header names a protocol family this build does not know.
    #[error("unknown protocol family {found}")]
    UnknownFamily { found: u8 },
    /// The body starts with a message tag its family does not define.
    #[error("unknown {family} message tag {found}")]
    UnknownTag { family: &'static str, found: u8 },
    /// A one-byte field (an inner enum's tag, a bool, an option marker)
    /// holds a value outside its range.
    #[error("invalid value {found} for {field}")]
    InvalidValue { field: &'static str, found: u8 },
    /// Bytes are left over after the body's message, or after the frame.
    #[error("{count} trailing bytes after the {what}")]
    TrailingBytes { what: &'static str, count: usize },
    /// A length or count claims more than the rest of the body could hold.
    #[error("{field} claims {claimed}, but only {remaining} bytes remain")]
    LengthExceedsRemaining {
        field: &'static str,
        claimed: u64,
        remaining: usize,
    },
    /// A varint longer than ten bytes, or whose value needs more than 64
    /// bits.
    #[error("over-long varint in {field}")]
    OverlongVarint { field: &'static str },
    /// A varint with redundant trailing zero groups: it would decode, but
    /// re-encode differently, so it is not the one encoding of its value.
    #[error("non-canonical varint in {field}")]
    NonCanonicalVarint { field: &'static str },
    #[error("{field} is not valid UTF-8")]
    InvalidUtf8 { field: &'static str },
    /// A varint field holds a number outside its range (the nanoseconds of
    /// a duration at or beyond one second).
    #[error("{field} out of range: {found}")]
    OutOfRange { field: &'static str, found: u64 },
}

/// Why `encode` could not build a frame.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The message would make a frame larger than the codec's maximum, so
    /// every receiver with the same limit would reject it.
    #[error("frame of {frame_len} bytes exceeds the maximum of {max_frame_len}")]
    Oversize { frame_len: u64, max_frame_len: u32 },
}
