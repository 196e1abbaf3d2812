//! The bytes of `raft.snapshot`: one [`Snapshot`] of this node's state
//! machine, whole, with its owner. Pure functions (no I/O), so the fuzz
//! target and the tests can feed them anything.
//!
//! ```text
//! magic "ELECTSNP" | version u32 | cluster u64 | node u64    (little endian)
//! body (varints): index | term | member count | members... |
//!                 pair count | (key length | key bytes | value)...
//! crc32c(everything before) u32
//! ```
//!
//! The encoding is canonical (minimal varints, keys strictly increasing, as
//! the key-value map iterates them), so a file that decodes encodes back to
//! the same bytes. The file is written aside, fsynced and only then renamed
//! in ([`super::Log`]), so a `raft.snapshot` that fails its checks is
//! damaged acknowledged data, never a torn write.

use crate::codec::primitives::{put_str, put_varint, Reader};
use crate::codec::DecodeError;
use crate::core::kv::KvStore;
use crate::core::raft::snapshot::Snapshot;
use crate::core::raft::{LogIndex, Term};

use super::format::{crc, u32_at, u64_at, FormatError, Identity, Place, MAX_BASE_INDEX, VERSION};

pub const SNAPSHOT_MAGIC: [u8; 8] = *b"ELECTSNP";
/// Magic, version and identity.
pub const SNAPSHOT_HEADER_LEN: usize = 28;
const CRC_LEN: usize = 4;

/// The whole file for `snapshot`, owned by `identity`.
pub fn encode_snapshot(identity: Identity, snapshot: &Snapshot) -> Vec<u8> {
    let mut out = Vec::with_capacity(SNAPSHOT_HEADER_LEN + 64 + snapshot.kv.len() * 16);
    out.extend_from_slice(&SNAPSHOT_MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&identity.cluster_id.to_le_bytes());
    out.extend_from_slice(&identity.node_id.to_le_bytes());
    put_varint(&mut out, snapshot.index.get());
    put_varint(&mut out, snapshot.term.get());
    put_varint(&mut out, snapshot.members.len() as u64);
    for &member in &snapshot.members {
        put_varint(&mut out, member);
    }
    put_varint(&mut out, snapshot.pair_count());
    for (key, value) in snapshot.kv.iter() {
        put_str(&mut out, key);
        put_varint(&mut out, value);
    }
    let checksum = crc(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

/// Reads `raft.snapshot`. Every length is checked against the bytes left
/// before anything is allocated for it; any failed check is
/// [`FormatError::Damaged`] at [`Place::Snapshot`].
pub fn decode_snapshot(bytes: &[u8], expected: Identity) -> Result<Snapshot, FormatError> {
    let damaged = |offset: usize, problem: String| FormatError::Damaged {
        offset: offset as u64,
        place: Place::Snapshot,
        problem,
    };
    if bytes.len() < SNAPSHOT_HEADER_LEN + CRC_LEN {
        return Err(damaged(
            0,
            format!("the file has {} bytes, fewer than a header", bytes.len()),
        ));
    }
    if bytes[..8] != SNAPSHOT_MAGIC {
        return Err(damaged(0, "no magic".to_owned()));
    }
    let crc_at = bytes.len() - CRC_LEN;
    if crc(&bytes[..crc_at]) != u32_at(bytes, crc_at) {
        return Err(damaged(crc_at, "checksum mismatch".to_owned()));
    }
    let version = u32_at(bytes, 8);
    if version != VERSION {
        return Err(FormatError::UnknownVersion { found: version });
    }
    let found = Identity {
        cluster_id: u64_at(bytes, 12),
        node_id: u64_at(bytes, 20),
    };
    if found != expected {
        return Err(FormatError::WrongOwner { found, expected });
    }
    // The checksum matched, so what follows is what was written, barring a
    // collision or a forged file: the body is still read with every bound
    // checked, and a problem names the body's start.
    decode_body(&bytes[SNAPSHOT_HEADER_LEN..crc_at])
        .map_err(|problem| damaged(SNAPSHOT_HEADER_LEN, problem))
}

fn decode_body(body: &[u8]) -> Result<Snapshot, String> {
    let text = |error: DecodeError| error.to_string();
    let mut reader = Reader::new(body);
    let index = reader.varint("index").map_err(text)?;
    if index == 0 || index > MAX_BASE_INDEX {
        return Err(format!("index {index}: no snapshot covers it"));
    }
    let term = reader.varint("term").map_err(text)?;
    // Each member and each pair takes at least one byte (a pair two), so
    // `length` bounds the counts by what is left: the vectors below never
    // grow past the input.
    let member_count = reader.length("member count", 1).map_err(text)?;
    if member_count == 0 {
        return Err("no members: a snapshot holds the membership in force".to_owned());
    }
    let mut members: Vec<u64> = Vec::with_capacity(member_count);
    for _ in 0..member_count {
        let member = reader.varint("member").map_err(text)?;
        // Sorted and distinct, as the core writes them: anything else is
        // not a file this code wrote.
        if members.last().is_some_and(|&last| last >= member) {
            return Err(format!("member {member} out of order"));
        }
        members.push(member);
    }
    let pair_count = reader.length("pair count", 2).map_err(text)?;
    let mut kv = KvStore::default();
    let mut last: Option<String> = None;
    for _ in 0..pair_count {
        let key = reader.string("key").map_err(text)?;
        let value = reader.varint("value").map_err(text)?;
        if last.as_ref().is_some_and(|last| *last >= key) {
            return Err(format!("key {key:?} out of order"));
        }
        kv.write(&key, value);
        last = Some(key);
    }
    reader.finish().map_err(text)?;
    Ok(Snapshot {
        index: LogIndex::new(index),
        term: Term::new(term),
        members,
        kv,
    })
}

/// The fuzz target's body: the reader on arbitrary bytes never panics, and
/// what it accepts encodes back to the same bytes. The input is tried as
/// it is and with a valid checksum put on it (so the body's checks are
/// reached, not only the checksum's).
pub fn fuzz_snapshot(data: &[u8]) {
    let identity = Identity {
        cluster_id: 1,
        node_id: 1,
    };
    let mut sealed = data.to_vec();
    sealed.extend_from_slice(&crc(data).to_le_bytes());
    for bytes in [data, &sealed[..]] {
        if let Ok(snapshot) = decode_snapshot(bytes, identity) {
            assert_eq!(
                encode_snapshot(identity, &snapshot),
                bytes,
                "an accepted snapshot file is the canonical encoding of what it holds"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Identity = Identity {
        cluster_id: 7,
        node_id: 2,
    };

    fn snapshot(pairs: u64) -> Snapshot {
        let mut kv = KvStore::default();
        for i in 0..pairs {
            kv.write(&format!("key-{i:04}"), i * 1000);
        }
        Snapshot {
            index: LogIndex::new(300),
            term: Term::new(4),
            members: vec![1, 2, 3],
            kv,
        }
    }

    /// What is written reads back the same, for an empty map and a large one.
    #[test]
    fn a_snapshot_file_round_trips() {
        for pairs in [0, 1, 500] {
            let taken = snapshot(pairs);
            let bytes = encode_snapshot(ME, &taken);
            assert_eq!(decode_snapshot(&bytes, ME), Ok(taken));
        }
    }

    /// Any one flipped bit, and any cut, is refused as damage (or, in the
    /// version or identity behind a recomputed checksum, as what it is).
    #[test]
    fn every_flipped_bit_and_every_cut_is_refused() {
        let bytes = encode_snapshot(ME, &snapshot(20));
        for at in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[at] ^= 1 << bit;
                assert!(
                    matches!(
                        decode_snapshot(&flipped, ME),
                        Err(FormatError::Damaged {
                            place: Place::Snapshot,
                            ..
                        })
                    ),
                    "bit {bit} of byte {at}"
                );
            }
        }
        for len in 0..bytes.len() {
            assert!(
                matches!(
                    decode_snapshot(&bytes[..len], ME),
                    Err(FormatError::Damaged { .. })
                ),
                "cut at {len}"
            );
        }
    }

    fn resealed(mut bytes: Vec<u8>, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        bytes.truncate(bytes.len() - CRC_LEN);
        edit(&mut bytes);
        let checksum = crc(&bytes);
        bytes.extend_from_slice(&checksum.to_le_bytes());
        bytes
    }

    /// Behind a valid checksum: another node's file, another version, a
    /// body that claims more than it holds, keys out of order and bytes
    /// after the last pair are each refused with their own error.
    #[test]
    fn a_well_sealed_but_wrong_file_is_refused_for_what_is_wrong() {
        let bytes = encode_snapshot(ME, &snapshot(3));
        let other = resealed(bytes.clone(), |b| b[20] ^= 1);
        assert!(matches!(
            decode_snapshot(&other, ME),
            Err(FormatError::WrongOwner { .. })
        ));
        let version = resealed(bytes.clone(), |b| b[8] = 1);
        assert_eq!(
            decode_snapshot(&version, ME),
            Err(FormatError::UnknownVersion { found: 1 })
        );
        let trailing = resealed(bytes.clone(), |b| b.push(0));
        assert!(matches!(
            decode_snapshot(&trailing, ME),
            Err(FormatError::Damaged { .. })
        ));
        // A pair count of 2^40 over a few bytes: refused before allocating.
        let mut claims = encode_snapshot(ME, &snapshot(0));
        claims.truncate(claims.len() - CRC_LEN - 1);
        put_varint(&mut claims, 1 << 40);
        let claims = resealed([claims, vec![0; 4]].concat(), |_| {});
        let error = decode_snapshot(&claims, ME).unwrap_err();
        assert!(error.to_string().contains("pair count"), "{error}");
        // No members, or members not sorted and distinct: not what the
        // core writes (the membership in force, sorted).
        for (fields, problem) in [
            (&[5, 1, 0, 0][..], "no members"),
            (&[5, 1, 2, 3, 3, 0][..], "member 3 out of order"),
            (&[5, 1, 2, 3, 2, 0][..], "member 2 out of order"),
        ] {
            let mut body = bytes[..SNAPSHOT_HEADER_LEN].to_vec();
            for &field in fields {
                put_varint(&mut body, field);
            }
            let refused = resealed([body, vec![0; 4]].concat(), |_| {});
            let error = decode_snapshot(&refused, ME).unwrap_err();
            assert!(error.to_string().contains(problem), "{error}");
        }
        // Keys "b" then "a".
        let mut body = bytes[..SNAPSHOT_HEADER_LEN].to_vec();
        for field in [5, 1, 1, 2, 2] {
            put_varint(&mut body, field);
        }
        for key in ["b", "a"] {
            put_str(&mut body, key);
            put_varint(&mut body, 1);
        }
        let unordered = resealed([body, vec![0; 4]].concat(), |_| {});
        let error = decode_snapshot(&unordered, ME).unwrap_err();
        assert!(error.to_string().contains("out of order"), "{error}");
    }

    #[test]
    fn the_fuzz_body_accepts_real_files_and_garbage() {
        let bytes = encode_snapshot(ME, &snapshot(5));
        let mut as_fuzz_input = encode_snapshot(
            Identity {
                cluster_id: 1,
                node_id: 1,
            },
            &snapshot(5),
        );
        fuzz_snapshot(&bytes);
        fuzz_snapshot(&as_fuzz_input);
        as_fuzz_input.truncate(as_fuzz_input.len() - CRC_LEN);
        fuzz_snapshot(&as_fuzz_input);
        fuzz_snapshot(&[]);
        fuzz_snapshot(&[0xff; 64]);
    }
}
