//! The bodies of the fuzz targets in `fuzz/fuzz_targets/`, kept here so that
//! each target is a one-line call and the same bodies replay the committed
//! corpus from an ordinary test (`tests/fuzz_corpus.rs`), on stable, as part
//! of `cargo test`.
//!
//! Each body takes the fuzzer's raw bytes and panics only on a real finding:
//! a decoder that panics, a frame that decodes but does not re-encode to the
//! same bytes, a message that does not survive a round trip, or a Raft node
//! or lock-service member whose invariants break on decoded input.
//!
//! - [`decode_frame`]: raw bytes, as a frame, as a body behind a valid header,
//!   and as a stream;
//! - `roundtrip` (feature `arbitrary`): structure-aware frames;
//! - `decode_then_step` (feature `arbitrary`): decoded messages, ticks and
//!   client requests driving a Raft node of a 3-node cluster;
//! - `decode_then_step_lock` (feature `arbitrary`): decoded lock-service
//!   messages and ticks driving a lease-lock or zk-sequential candidate or
//!   the service.

use crate::codec::{Codec, Family, Frame, FrameReader};

#[cfg(feature = "arbitrary")]
mod lock_step;
#[cfg(feature = "arbitrary")]
mod roundtrip;
#[cfg(feature = "arbitrary")]
mod step;

#[cfg(feature = "arbitrary")]
pub use lock_step::decode_then_step_lock;
#[cfg(feature = "arbitrary")]
pub use roundtrip::roundtrip;
#[cfg(feature = "arbitrary")]
pub use step::decode_then_step;

/// The cluster every fuzz frame belongs to.
pub const FUZZ_CLUSTER: u64 = 7;
/// Small, so that fuzz-sized inputs reach the oversize check.
pub const FUZZ_MAX_FRAME_LEN: u32 = 4096;

/// The codec the targets decode with.
pub fn fuzz_codec() -> Codec {
    Codec::new(FUZZ_CLUSTER).with_max_frame_len(FUZZ_MAX_FRAME_LEN)
}

/// The family `decode_frame` seals a body under, chosen by the low
/// [`SEALED_FAMILY_BITS`] bits of the input's first byte (modulo the
/// count; the rest of that byte is the sender): every family, so each body
/// decoder is reached without a forged CRC.
pub const SEALED_FAMILIES: [Family; 6] = [
    Family::Raft,
    Family::Client,
    Family::Bully,
    Family::Ring,
    Family::Lock,
    Family::Foreign,
];
/// How many low bits of `decode_frame`'s first byte choose the family.
pub const SEALED_FAMILY_BITS: u8 = 3;

/// Target `decode_frame`. A fuzzer rarely forges a CRC, so besides decoding
/// `data` as a frame it also seals `data[1..]` behind a valid header (the
/// family and sender chosen by `data[0]`, see [`SEALED_FAMILIES`]) to reach
/// the body decoders, and streams the result through [`FrameReader`].
pub fn decode_frame(data: &[u8]) {
    let codec = fuzz_codec();
    check_decode(&codec, data);
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let family_bits = selector & ((1 << SEALED_FAMILY_BITS) - 1);
    let family = SEALED_FAMILIES[usize::from(family_bits) % SEALED_FAMILIES.len()];
    let sender = u64::from(selector >> SEALED_FAMILY_BITS);
    let mut sealed = codec.seal_raw_body(family, sender, body);
    check_decode(&codec, &sealed);
    sealed.extend_from_slice(data);
    check_stream(&codec, &sealed);
}

/// Decodes `bytes` as one frame; if that succeeds, re-encoding must give
/// the same bytes back.
pub fn check_decode(codec: &Codec, bytes: &[u8]) -> Option<Frame> {
    match codec.decode(bytes) {
        Ok(frame) => {
            let again = codec
                .encode_to_vec(&frame)
                .expect("a frame that decoded fits the limit it was decoded under");
            assert_eq!(
                again, bytes,
                "decoding accepted a non-canonical frame: {frame:?}"
            );
            Some(frame)
        }
        Err(error) => {
            // Rendering the reason is part of handling it; it must not panic.
            let _ = error.to_string();
            None
        }
    }
}

/// Reads `bytes` as a stream of frames until it ends or fails; every frame
/// read must re-encode to exactly the bytes it was read from.
pub fn check_stream(codec: &Codec, bytes: &[u8]) -> Vec<Frame> {
    let mut reader = FrameReader::new(*codec, bytes);
    let mut frames = Vec::new();
    let mut start = 0;
    // Each frame consumes at least a header, so this ends.
    while let Ok(Some(frame)) = reader.read_frame() {
        let end = bytes.len() - reader.get_ref().len();
        let again = codec
            .encode_to_vec(&frame)
            .expect("a frame that decoded fits");
        assert_eq!(
            again,
            &bytes[start..end],
            "stream decoded a non-canonical frame"
        );
        start = end;
        frames.push(frame);
    }
    frames
}
