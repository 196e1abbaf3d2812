//! Frames over a byte stream (a TCP connection): [`FrameReader`] reads the
//! fixed header first, validates it, and only then reads the body it
//! announces; [`write_frame`] writes one frame.
//!
//! A stream has no resynchronisation point: after any error other than a
//! clean end of stream, the reader's position within the stream is unknown,
//! and the connection must be closed.

use std::io::{self, Read, Write};

use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::frame::{Codec, Frame, HEADER_LEN};

/// Why reading a frame from a stream failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading a frame: {0}")]
    Io(#[from] io::Error),
    /// The peer sent bytes that are not a frame of ours (or the stream
    /// ended inside a frame): close the connection.
    #[error("bad frame: {0}")]
    Decode(#[from] DecodeError),
}

/// Why writing a frame to a stream failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("writing a frame: {0}")]
    Io(#[from] io::Error),
    #[error("cannot encode: {0}")]
    Encode(#[from] EncodeError),
}

/// Reads frames one at a time from `reader`, reusing one body buffer.
///
/// Allocation is bounded twice over: the body length is checked against the
/// codec's maximum before any byte of the body is read, and the buffer grows
/// with the bytes that actually arrive, not with the length the header
/// claims.
#[derive(Debug)]
pub struct FrameReader<R> {
    codec: Codec,
    reader: R,
    body: Vec<u8>,
}

impl<R: Read> FrameReader<R> {
    pub fn new(codec: Codec, reader: R) -> FrameReader<R> {
        FrameReader {
            codec,
            reader,
            body: Vec::new(),
        }
    }

    /// The next frame, or `None` if the stream ended cleanly between frames.
    pub fn read_frame(&mut self) -> Result<Option<Frame>, ReadError> {
        let mut header = [0; HEADER_LEN];
        let got = read_until_full_or_end(&mut self.reader, &mut header)?;
        if got == 0 {
            return Ok(None);
        }
        if got < HEADER_LEN {
            return Err(DecodeError::Truncated {
                what: "frame header",
                needed: HEADER_LEN,
                available: got,
            }
            .into());
        }
        let header = self.codec.decode_header(&header)?;
        let body_len = header.body_len as usize;
        self.body.clear();
        (&mut self.reader)
            .take(u64::from(header.body_len))
            .read_to_end(&mut self.body)?;
        if self.body.len() < body_len {
            return Err(DecodeError::Truncated {
                what: "frame body",
                needed: body_len,
                available: self.body.len(),
            }
            .into());
        }
        Ok(Some(self.codec.decode_body(&header, &self.body)?))
    }

    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    pub fn into_inner(self) -> R {
        self.reader
    }
}

/// Encodes `frame` into `buffer` (cleared first, reused across calls to
/// spare allocations) and writes it to `writer` in one `write_all`.
pub fn write_frame<W: Write>(
    codec: &Codec,
    writer: &mut W,
    frame: &Frame,
    buffer: &mut Vec<u8>,
) -> Result<(), WriteError> {
    buffer.clear();
    codec.encode(frame, buffer)?;
    writer.write_all(buffer)?;
    Ok(())
}

/// Fills `buffer` unless the stream ends first; returns how many bytes it
/// got. `Read::read_exact` cannot tell a clean end (no byte) from a torn
/// header (some bytes), which the caller must.
fn read_until_full_or_end<R: Read>(reader: &mut R, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}
