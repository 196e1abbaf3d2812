//! The stream reader: frames split across reads of any size, clean and torn
//! ends, interrupted reads, and bodies refused before they are read.

use std::io::{self, Read};

use electorate::codec::{write_frame, DecodeError, Frame, FrameReader, ReadError, HEADER_LEN};
use electorate::core::raft::{Body, Term};
use quickcheck::QuickCheck;

use super::generators::Any;
use super::{codec, raft_frame};

/// Hands out at most `chunk` bytes per read, with an `Interrupted` error
/// before every other read, as a slow socket might.
struct Trickle<'a> {
    bytes: &'a [u8],
    chunk: usize,
    interrupt: bool,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let len = self.chunk.min(buffer.len()).min(self.bytes.len());
        buffer[..len].copy_from_slice(&self.bytes[..len]);
        self.bytes = &self.bytes[len..];
        Ok(len)
    }
}

fn timeout_now(term: u64) -> Frame {
    raft_frame(3, Term::new(term), Body::TimeoutNow)
}

#[test]
fn frames_split_across_reads_come_back_in_order() {
    fn property(frames: Vec<Any<Frame>>, chunk: u8) -> bool {
        let mut stream = Vec::new();
        let mut buffer = Vec::new();
        for frame in &frames {
            write_frame(&codec(), &mut stream, &frame.0, &mut buffer).unwrap();
        }
        let trickle = Trickle {
            bytes: &stream,
            chunk: usize::from(chunk.max(1)),
            interrupt: false,
        };
        let mut reader = FrameReader::new(codec(), trickle);
        let mut read = Vec::new();
        while let Some(frame) = reader.read_frame().unwrap() {
            read.push(frame);
        }
        read == frames.into_iter().map(|frame| frame.0).collect::<Vec<_>>()
    }
    QuickCheck::new()
        .tests(300)
        .quickcheck(property as fn(Vec<Any<Frame>>, u8) -> bool);
}

#[test]
fn a_torn_header_or_body_is_truncation_not_a_clean_end() {
    let bytes = codec().encode_to_vec(&timeout_now(1)).unwrap();
    let mut reader = FrameReader::new(codec(), &bytes[..HEADER_LEN - 1]);
    assert!(matches!(
        reader.read_frame(),
        Err(ReadError::Decode(DecodeError::Truncated {
            what: "frame header",
            ..
        }))
    ));
    let mut reader = FrameReader::new(codec(), &bytes[..bytes.len() - 1]);
    assert!(matches!(
        reader.read_frame(),
        Err(ReadError::Decode(DecodeError::Truncated {
            what: "frame body",
            ..
        }))
    ));
    let mut reader = FrameReader::new(codec(), &[][..]);
    assert!(matches!(reader.read_frame(), Ok(None)));
}

/// A header announcing a body over the limit is refused without reading (or
/// allocating for) the body.
#[test]
fn an_oversize_body_is_not_read() {
    let mut bytes = codec().encode_to_vec(&timeout_now(1)).unwrap();
    bytes[22..26].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut reader = FrameReader::new(codec().with_max_frame_len(1024), &bytes[..]);
    assert!(matches!(
        reader.read_frame(),
        Err(ReadError::Decode(DecodeError::Oversize { .. }))
    ));
    assert_eq!(
        reader.get_ref().len(),
        bytes.len() - HEADER_LEN,
        "only the header was consumed"
    );
}
