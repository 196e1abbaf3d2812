//! Target `roundtrip`: structure-aware frames built with `arbitrary` must
//! survive encode then decode unchanged, and every way of damaging their
//! bytes that a receiver could see must be rejected.

use arbitrary::{Arbitrary, Unstructured};

use crate::codec::fuzzing::{check_stream, FUZZ_CLUSTER};
use crate::codec::{Codec, EncodeError, Frame, DEFAULT_MAX_FRAME_LEN, HEADER_LEN};

pub fn roundtrip(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let Ok(frame) = Frame::arbitrary(&mut input) else {
        return;
    };
    let codec = Codec::new(FUZZ_CLUSTER);
    let bytes = match codec.encode_to_vec(&frame) {
        Ok(bytes) => bytes,
        Err(EncodeError::Oversize { frame_len, .. }) => {
            assert!(frame_len > u64::from(DEFAULT_MAX_FRAME_LEN));
            return;
        }
    };
    assert_eq!(
        codec.decode(&bytes).as_ref(),
        Ok(&frame),
        "round trip changed the frame"
    );

    // A frame split over a stream, twice, reads back as two frames.
    let mut twice = bytes.clone();
    twice.extend_from_slice(&bytes);
    assert_eq!(check_stream(&codec, &twice), [frame.clone(), frame.clone()]);

    // The fuzzer picks where to damage the frame.
    let cut = input.choose_index(bytes.len()).unwrap_or(0);
    let bit = input.choose_index(bytes.len() * 8).unwrap_or(0);
    assert!(
        codec.decode(&bytes[..cut]).is_err(),
        "a truncated frame decoded"
    );
    let mut flipped = bytes.clone();
    flipped[bit / 8] ^= 1 << (bit % 8);
    // CRC32C catches every single-bit error in what it covers; the header
    // checks catch the rest.
    assert!(codec.decode(&flipped).is_err(), "a bit flip went unnoticed");
    check_body_is_self_delimiting(&codec, &frame, &bytes[HEADER_LEN..], cut);
}

/// A body cut short, or followed by one more byte, must not decode even
/// behind a valid checksum: each body says where it ends.
fn check_body_is_self_delimiting(codec: &Codec, frame: &Frame, body: &[u8], cut: usize) {
    let family = frame.payload.family();
    let short = &body[..cut.min(body.len().saturating_sub(1))];
    let sealed = codec.seal_raw_body(family, frame.sender, short);
    assert!(codec.decode(&sealed).is_err(), "a truncated body decoded");
    let mut long = body.to_vec();
    long.push(0);
    let sealed = codec.seal_raw_body(family, frame.sender, &long);
    assert!(
        codec.decode(&sealed).is_err(),
        "a body with a trailing byte decoded"
    );
}
