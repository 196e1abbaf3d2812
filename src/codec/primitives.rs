//! The primitives every body is built from. Each value has exactly one
//! encoding, and the reader rejects every other byte string, so that
//! re-encoding a decoded body gives back the same bytes:
//!
//! - unsigned integers: LEB128 varints, shortest form only, at most 10 bytes;
//! - deltas: a value relative to a base the reader already knows, as the
//!   zigzag varint of their wrapping difference (a bijection on `u64`, so it
//!   can carry any value, and small when the value is near its base);
//! - bools: one byte, 0 or 1;
//! - options: one byte, 0 (none) or 1 (some) followed by the value;
//! - strings: a varint byte length, then UTF-8;
//! - sequences: a varint count, then the items. The reader checks the count
//!   against the bytes left before it allocates anything.
//!
//! The reader never panics and never reads past its slice: every loop in it
//! consumes at least one byte per iteration.

use crate::codec::error::DecodeError;

/// The longest varint: 64 bits in groups of 7.
pub const MAX_VARINT_LEN: usize = 10;

pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// `value` relative to `base`: see the module docs.
pub fn put_delta(out: &mut Vec<u8>, value: u64, base: u64) {
    let difference = value.wrapping_sub(base) as i64;
    put_varint(out, ((difference << 1) ^ (difference >> 63)) as u64);
}

pub fn put_bool(out: &mut Vec<u8>, value: bool) {
    out.push(u8::from(value));
}

pub fn put_option(out: &mut Vec<u8>, value: Option<u64>) {
    match value {
        None => out.push(0),
        Some(value) => {
            out.push(1);
            put_varint(out, value);
        }
    }
}

pub fn put_str(out: &mut Vec<u8>, value: &str) {
    put_varint(out, value.len() as u64);
    out.extend_from_slice(value.as_bytes());
}

/// A tag read by [`Reader::tag`]: the caller matches on `value` and refuses
/// any value it has no shape for with [`Tag::invalid`] or
/// [`Tag::unknown_in`], so the error names what was read.
#[derive(Clone, Copy, Debug)]
pub struct Tag {
    field: &'static str,
    pub value: u8,
}

impl Tag {
    /// A value no shape of this field has.
    pub fn invalid<T>(self) -> Result<T, DecodeError> {
        Err(DecodeError::InvalidValue {
            field: self.field,
            found: self.value,
        })
    }

    /// A message kind that message family `family` does not have.
    pub fn unknown_in<T>(self, family: &'static str) -> Result<T, DecodeError> {
        Err(DecodeError::UnknownTag {
            family,
            found: self.value,
        })
    }
}

/// Reads primitives off the front of a body.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    pub fn byte(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let (&first, rest) = self.rest.split_first().ok_or(DecodeError::Truncated {
            what: field,
            needed: 1,
            available: 0,
        })?;
        self.rest = rest;
        Ok(first)
    }

    /// A one-byte tag saying which of several shapes the bytes after it
    /// take (a message kind, an enum variant, a bool, an option).
    pub fn tag(&mut self, field: &'static str) -> Result<Tag, DecodeError> {
        let value = self.byte(field)?;
        Ok(Tag { field, value })
    }

    pub fn varint(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for position in 0..MAX_VARINT_LEN {
            let byte = self.byte(field)?;
            // The tenth byte holds bit 63 alone and must end the varint.
            if position == MAX_VARINT_LEN - 1 && byte > 1 {
                return Err(DecodeError::OverlongVarint { field });
            }
            value |= u64::from(byte & 0x7f) << (7 * position);
            if byte & 0x80 == 0 {
                // A final zero group adds nothing: the shorter form exists.
                if byte == 0 && position > 0 {
                    return Err(DecodeError::NonCanonicalVarint { field });
                }
                return Ok(value);
            }
        }
        // Unreachable in practice (the tenth byte either ends the varint or
        // is rejected above), but a typed error costs nothing.
        Err(DecodeError::OverlongVarint { field })
    }

    /// A value written with [`put_delta`] against the same `base`.
    pub fn delta(&mut self, field: &'static str, base: u64) -> Result<u64, DecodeError> {
        let zigzag = self.varint(field)?;
        let difference = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
        Ok(base.wrapping_add(difference as u64))
    }

    pub fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        let tag = self.tag(field)?;
        match tag.value {
            0 => Ok(false),
            1 => Ok(true),
            _ => tag.invalid(),
        }
    }

    pub fn option(&mut self, field: &'static str) -> Result<Option<u64>, DecodeError> {
        let tag = self.tag(field)?;
        match tag.value {
            0 => Ok(None),
            1 => self.varint(field).map(Some),
            _ => tag.invalid(),
        }
    }

    pub fn string(&mut self, field: &'static str) -> Result<String, DecodeError> {
        let len = self.length(field, 1)?;
        let (bytes, rest) = self.rest.split_at(len);
        self.rest = rest;
        let text = std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { field })?;
        Ok(text.to_owned())
    }

    /// A count of items that each take at least `min_item_len` bytes (or a
    /// byte length, with `min_item_len` 1): rejected unless the rest of the
    /// body could hold that many, so a caller may allocate for it.
    pub fn length(
        &mut self,
        field: &'static str,
        min_item_len: usize,
    ) -> Result<usize, DecodeError> {
        assert!(
            min_item_len > 0,
            "a zero-length item makes any count plausible"
        );
        let claimed = self.varint(field)?;
        let fits = self.rest.len() / min_item_len;
        match usize::try_from(claimed) {
            Ok(count) if count <= fits => Ok(count),
            _ => Err(DecodeError::LengthExceedsRemaining {
                field,
                claimed,
                remaining: self.rest.len(),
            }),
        }
    }

    /// Everything left of the body, for a family whose body is opaque to
    /// the codec.
    pub fn take_rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    /// Ends the body: anything left over is an error, because a canonical
    /// encoding has nothing after its last field.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                what: "body",
                count: self.rest.len(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint_bytes(value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint(&mut out, value);
        out
    }

    #[test]
    fn varints_round_trip_at_group_boundaries() {
        for shift in 0..64 {
            for value in [(1u64 << shift) - 1, 1u64 << shift, (1u64 << shift) + 1] {
                let bytes = varint_bytes(value);
                let mut reader = Reader::new(&bytes);
                assert_eq!(reader.varint("v"), Ok(value));
                reader.finish().unwrap();
            }
        }
        assert_eq!(varint_bytes(u64::MAX).len(), MAX_VARINT_LEN);
        assert_eq!(varint_bytes(127), [0x7f]);
        assert_eq!(varint_bytes(128), [0x80, 0x01]);
    }

    #[test]
    fn non_canonical_and_overlong_varints_are_rejected() {
        let cases: [(&[u8], DecodeError); 5] = [
            (
                &[0x80, 0x00],
                DecodeError::NonCanonicalVarint { field: "v" },
            ),
            (
                &[0xff, 0x80, 0x00],
                DecodeError::NonCanonicalVarint { field: "v" },
            ),
            (
                &[0xff; 9],
                DecodeError::Truncated {
                    what: "v",
                    needed: 1,
                    available: 0,
                },
            ),
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
                DecodeError::OverlongVarint { field: "v" },
            ),
            (&[0xff; 11], DecodeError::OverlongVarint { field: "v" }),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                Reader::new(bytes).varint("v"),
                Err(expected),
                "{bytes:02x?}"
            );
        }
    }

    #[test]
    fn deltas_carry_any_value_against_any_base() {
        for (value, base) in [
            (0, u64::MAX),
            (u64::MAX, 0),
            (5, 5),
            (4, 5),
            (6, 5),
            (1 << 63, 0),
        ] {
            let mut out = Vec::new();
            put_delta(&mut out, value, base);
            assert_eq!(Reader::new(&out).delta("d", base), Ok(value));
        }
        let mut near = Vec::new();
        put_delta(&mut near, 4, 5);
        assert_eq!(near, [1], "a small difference is one byte");
    }

    #[test]
    fn lengths_are_bounded_by_the_bytes_left() {
        let mut bytes = varint_bytes(3);
        bytes.extend_from_slice(&[0; 5]);
        assert_eq!(
            Reader::new(&bytes).length("n", 2),
            Err(DecodeError::LengthExceedsRemaining {
                field: "n",
                claimed: 3,
                remaining: 5
            })
        );
        assert_eq!(Reader::new(&bytes).length("n", 1), Ok(3));
        let huge = varint_bytes(u64::MAX);
        assert!(matches!(
            Reader::new(&huge).length("n", 1),
            Err(DecodeError::LengthExceedsRemaining { .. })
        ));
    }

    #[test]
    fn bools_options_and_strings_reject_other_bytes() {
        assert_eq!(
            Reader::new(&[2]).bool("b"),
            Err(DecodeError::InvalidValue {
                field: "b",
                found: 2
            })
        );
        assert_eq!(
            Reader::new(&[2]).option("o"),
            Err(DecodeError::InvalidValue {
                field: "o",
                found: 2
            })
        );
        assert_eq!(
            Reader::new(&[1, 0xff]).string("s"),
            Err(DecodeError::InvalidUtf8 { field: "s" })
        );
        assert_eq!(
            Reader::new(&[2, b'h', b'i']).string("s"),
            Ok("hi".to_owned())
        );
    }
}
