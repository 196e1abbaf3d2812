//! Durable Raft state on disk: every persist record appended to one file,
//! each framed with its length and a CRC32C, and `fsync`ed before the
//! messages that depend on it may leave.
//!
//! ```text
//! record:  length u32 LE | crc32c(payload) u32 LE | payload
//! payload: 1 HardState   term voted_for:option
//!          2 TruncateLog from
//!          3 AppendEntry term index command      (varints; the codec's command)
//! ```
//!
//! A crash can leave a torn or garbled tail: the last write only partly on
//! disk. Opening the file replays records up to the first one that is
//! incomplete, fails its checksum or does not apply, truncates the file
//! there and says how many bytes it dropped. Everything before it was
//! `fsync`ed, so every acknowledged record survives.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::codec::primitives::{put_option, put_varint, Reader};
use crate::codec::raft::{decode_command, encode_command};
use crate::codec::DecodeError;
use crate::core::raft::{DurableState, Entry, HardState, LogIndex, Persist};

/// The file a node's records live in, inside its data directory.
pub const LOG_FILE: &str = "raft.log";
/// Larger records are refused as corrupt: no honest entry comes close.
pub const MAX_RECORD_LEN: u32 = 16 << 20;
const HEADER_LEN: usize = 8;

const HARD_STATE: u8 = 1;
const TRUNCATE_LOG: u8 = 2;
const APPEND_ENTRY: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// What opening found: the durable state and the damaged tail it dropped.
#[derive(Debug)]
pub struct Recovered {
    pub state: DurableState,
    pub records: usize,
    /// Bytes after the last good record, removed from the file.
    pub dropped_bytes: u64,
    /// Why the tail was dropped, if it was.
    pub tail_problem: Option<String>,
}

/// An open log file, positioned at its end.
pub struct FileStorage {
    path: PathBuf,
    file: File,
    buffer: Vec<u8>,
}

impl FileStorage {
    /// Opens (or creates) `directory/raft.log`, replays it and cuts off a
    /// damaged tail.
    pub fn open(directory: &Path) -> Result<(FileStorage, Recovered), StorageError> {
        let path = directory.join(LOG_FILE);
        let io_error = |source| StorageError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(directory).map_err(io_error)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_error)?;
        let recovered = replay(&bytes);
        let good = bytes.len() as u64 - recovered.dropped_bytes;
        if recovered.dropped_bytes > 0 {
            file.set_len(good).map_err(io_error)?;
            file.sync_all().map_err(io_error)?;
        }
        file.seek(SeekFrom::Start(good)).map_err(io_error)?;
        let storage = FileStorage {
            path,
            file,
            buffer: Vec::new(),
        };
        Ok((storage, recovered))
    }

    /// Appends `records` and makes them durable (`fsync`) before returning:
    /// only then may the step's messages and replies be sent.
    pub fn append(&mut self, records: &[Persist]) -> Result<(), StorageError> {
        if records.is_empty() {
            return Ok(());
        }
        self.buffer.clear();
        for record in records {
            let start = self.buffer.len();
            self.buffer.extend_from_slice(&[0; HEADER_LEN]);
            encode(record, &mut self.buffer);
            let payload = &self.buffer[start + HEADER_LEN..];
            let length = payload.len() as u32;
            let checksum = crc32c::crc32c(payload);
            self.buffer[start..start + 4].copy_from_slice(&length.to_le_bytes());
            self.buffer[start + 4..start + 8].copy_from_slice(&checksum.to_le_bytes());
        }
        let io_error = |source| StorageError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(&self.buffer).map_err(io_error)?;
        self.file.sync_data().map_err(io_error)
    }
}

fn encode(record: &Persist, out: &mut Vec<u8>) {
    match record {
        Persist::HardState(hard_state) => {
            out.push(HARD_STATE);
            put_varint(out, hard_state.term);
            put_option(out, hard_state.voted_for);
        }
        Persist::TruncateLog { from } => {
            out.push(TRUNCATE_LOG);
            put_varint(out, *from);
        }
        Persist::AppendEntry(entry) => {
            out.push(APPEND_ENTRY);
            put_varint(out, entry.term);
            put_varint(out, entry.index);
            encode_command(&entry.command, out);
        }
    }
}

fn decode(payload: &[u8]) -> Result<Persist, DecodeError> {
    let mut reader = Reader::new(payload);
    let record = match reader.byte("record tag")? {
        HARD_STATE => Persist::HardState(HardState {
            term: reader.varint("term")?,
            voted_for: reader.option("voted_for")?,
        }),
        TRUNCATE_LOG => Persist::TruncateLog {
            from: reader.varint("from")?,
        },
        APPEND_ENTRY => Persist::AppendEntry(Entry {
            term: reader.varint("term")?,
            index: reader.varint("index")?,
            command: decode_command(&mut reader)?.into(),
        }),
        found => {
            return Err(DecodeError::InvalidValue {
                field: "record tag",
                found,
            })
        }
    };
    reader.finish()?;
    Ok(record)
}

/// Replays the records of `bytes` into a durable state, stopping at the
/// first record that is torn, corrupt or out of place.
fn replay(bytes: &[u8]) -> Recovered {
    let mut state = DurableState::default();
    let mut offset = 0;
    let mut records = 0;
    let mut tail_problem = None;
    while offset < bytes.len() {
        match next_record(&bytes[offset..], &state) {
            Ok((record, length)) => {
                state.apply_owned(record);
                offset += length;
                records += 1;
            }
            Err(problem) => {
                tail_problem = Some(format!("at byte {offset}: {problem}"));
                break;
            }
        }
    }
    Recovered {
        state,
        records,
        dropped_bytes: (bytes.len() - offset) as u64,
        tail_problem,
    }
}

/// The record at the start of `bytes` and its length on disk, if it is
/// whole, intact and applies to `state`.
fn next_record(bytes: &[u8], state: &DurableState) -> Result<(Persist, usize), String> {
    if bytes.len() < HEADER_LEN {
        return Err("torn record header".to_owned());
    }
    let length = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
    let checksum = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
    if length > MAX_RECORD_LEN {
        return Err(format!("record length {length} is beyond any real record"));
    }
    let end = HEADER_LEN + length as usize;
    let Some(payload) = bytes.get(HEADER_LEN..end) else {
        return Err("torn record".to_owned());
    };
    if crc32c::crc32c(payload) != checksum {
        return Err("checksum mismatch".to_owned());
    }
    let record = decode(payload).map_err(|error| error.to_string())?;
    if let Persist::AppendEntry(entry) = &record {
        let expected: LogIndex = state.log.len() as LogIndex + 1;
        if entry.index != expected {
            return Err(format!("entry {} where {expected} was due", entry.index));
        }
    }
    Ok((record, end))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::core::raft::Command;

    /// A fresh directory under the system's temporary directory.
    fn scratch() -> PathBuf {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let directory = std::env::temp_dir().join(format!(
            "electorate-storage-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&directory);
        directory
    }

    fn entry(index: LogIndex, value: u64) -> Persist {
        Persist::AppendEntry(Entry {
            term: 2,
            index,
            command: Command::Write {
                key: "k".into(),
                value,
            }
            .into(),
        })
    }

    fn records() -> Vec<Persist> {
        vec![
            Persist::HardState(HardState {
                term: 2,
                voted_for: Some(3),
            }),
            entry(1, 10),
            entry(2, 11),
            entry(3, 12),
            Persist::TruncateLog { from: 3 },
            entry(3, 13),
        ]
    }

    fn expected(records: &[Persist]) -> DurableState {
        let mut state = DurableState::default();
        state.apply_all(records);
        state
    }

    #[test]
    fn every_appended_record_is_found_again() {
        let directory = scratch();
        let (mut storage, recovered) = FileStorage::open(&directory).unwrap();
        assert_eq!(recovered.state, DurableState::default());
        storage.append(&records()[..3]).unwrap();
        storage.append(&records()[3..]).unwrap();
        drop(storage);
        let (_, recovered) = FileStorage::open(&directory).unwrap();
        assert_eq!(recovered.state, expected(&records()));
        assert_eq!(recovered.records, records().len());
        assert_eq!(recovered.dropped_bytes, 0);
    }

    /// Damages the file after its records and checks that opening keeps
    /// every whole record, drops the rest, and leaves a file that appends
    /// cleanly.
    fn survives(damage: impl Fn(&mut Vec<u8>), dropped_problem: &str) {
        let directory = scratch();
        let (mut storage, _) = FileStorage::open(&directory).unwrap();
        storage.append(&records()).unwrap();
        drop(storage);
        let path = directory.join(LOG_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        damage(&mut bytes);
        std::fs::write(&path, &bytes).unwrap();
        let (mut storage, recovered) = FileStorage::open(&directory).unwrap();
        let problem = recovered.tail_problem.clone().unwrap_or_default();
        assert!(problem.contains(dropped_problem), "{problem}");
        assert!(recovered.dropped_bytes > 0);
        let kept = &records()[..recovered.records];
        assert_eq!(recovered.state, expected(kept));
        // The damaged tail is gone: new records follow the good ones.
        storage
            .append(&[entry(recovered.state.log.len() as LogIndex + 1, 99)])
            .unwrap();
        drop(storage);
        let (_, again) = FileStorage::open(&directory).unwrap();
        assert_eq!(again.dropped_bytes, 0);
        assert_eq!(again.records, recovered.records + 1);
    }

    #[test]
    fn a_torn_last_record_is_dropped() {
        survives(|bytes| bytes.truncate(bytes.len() - 3), "torn record");
    }

    #[test]
    fn a_torn_header_is_dropped() {
        survives(
            |bytes| bytes.extend_from_slice(&[7, 0, 0]),
            "torn record header",
        );
    }

    #[test]
    fn a_flipped_bit_in_the_last_record_is_dropped() {
        survives(
            |bytes| {
                let last = bytes.len() - 1;
                bytes[last] ^= 0x10;
            },
            "checksum mismatch",
        );
    }

    #[test]
    fn garbage_after_the_records_is_dropped() {
        survives(
            |bytes| bytes.extend_from_slice(&[0xff; 40]),
            "beyond any real record",
        );
    }
}
