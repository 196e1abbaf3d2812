//! Durable Raft state: the interface the node loop persists through
//! ([`Storage`]), the log that implements it over any [`disk::Disk`]
//! ([`Log`]), and the disks: real files ([`disk::FileDisk`], optionally
//! lazy) and a seeded simulated disk ([`simulated::SimDisk`]).
//!
//! [`format`](mod@format) has the bytes. In short: records go to `raft.log`; term, vote
//! and how much of the log is synced go to `raft.state` in two checksummed
//! copies. A batch is acknowledged only after the log *and then* the state
//! are fsynced, so recovery can tell the two kinds of damage apart:
//!
//! - after the synced length: an unsynced tail a crash left — cut, logged;
//! - before it, or both state copies: acknowledged data is damaged — the
//!   node refuses to start ([`StorageError::Damaged`]).
//!
//! This format replaces the single-file log of earlier versions, which had
//! no header; those files are not read (no migration: refuse and say so).

pub mod disk;
pub mod format;
pub mod simulated;

use std::io;
use std::path::PathBuf;

use crate::core::raft::{DurableState, HardState, Persist};
use disk::Disk;
use format::{FormatError, Identity, Place, StateCopy, LOG_HEADER_LEN};

/// The log's records.
pub const LOG_FILE: &str = "raft.log";
/// Term, vote and synced length, two copies.
pub const STATE_FILE: &str = "raft.state";
/// `raft.state` while it is first written, renamed once it is synced.
const NEW_STATE_FILE: &str = "raft.state.new";

/// What to do about damaged acknowledged data (repair from peers is not
/// implemented yet).
const DAMAGE_ADVICE: &str = "this node must not start on it (it could forget a vote or an acknowledged entry): restore the data directory from a copy, or replace the node with a new member; do not just empty the directory, a fresh node may vote twice in a term";

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{path}: {operation} failed: {source}")]
    Io {
        path: PathBuf,
        operation: &'static str,
        source: io::Error,
    },
    /// An fsync failed: what is durable is now unknown (a retry may
    /// "succeed" without writing anything), so the node must stop.
    #[error("{path}: fsync failed, so what is on disk is unknown; stopping instead of acknowledging anything more: {source}")]
    SyncFailed { path: PathBuf, source: io::Error },
    #[error("{path}: disk full: {source}; nothing acknowledged is lost, free space and restart the node")]
    DiskFull { path: PathBuf, source: io::Error },
    /// Acknowledged data fails its checks: refuse to start.
    #[error("{path}: {place} at byte {offset} is damaged ({problem}); {DAMAGE_ADVICE}")]
    Damaged {
        path: PathBuf,
        offset: u64,
        place: Place,
        problem: String,
    },
    #[error("{path}: written by {found}, but this is {expected}: wrong data directory?")]
    WrongOwner {
        path: PathBuf,
        found: Identity,
        expected: Identity,
    },
    #[error("{path}: format version {found}; this build reads version {} only (files of older builds are not migrated)", format::VERSION)]
    UnknownVersion { path: PathBuf, found: u32 },
    /// An earlier write or fsync failed; nothing more is written.
    #[error("storage stopped after an earlier failure: {reason}")]
    Stopped { reason: String },
    /// The core asked to make a snapshot durable: snapshot files are not
    /// written yet, so the node stops rather than acknowledge what it
    /// could not keep (run the cluster without snapshots).
    #[error("a snapshot through index {index} cannot be made durable: this build does not store snapshots on disk")]
    SnapshotsUnsupported { index: u64 },
}

impl StorageError {
    fn from_format(path: PathBuf, error: FormatError) -> StorageError {
        match error {
            FormatError::Damaged {
                offset,
                place,
                problem,
            } => StorageError::Damaged {
                path,
                offset,
                place,
                problem,
            },
            FormatError::WrongOwner { found, expected } => StorageError::WrongOwner {
                path,
                found,
                expected,
            },
            FormatError::UnknownVersion { found } => StorageError::UnknownVersion { path, found },
        }
    }
}

/// How the node loop makes its records durable. `append` may buffer or
/// write; nothing is durable until `sync` returns Ok, and only then may
/// the messages and replies that depend on the records go out. After any
/// error the storage refuses every later call: the node must stop.
pub trait Storage {
    fn append(&mut self, records: &[Persist]) -> Result<(), StorageError>;
    fn sync(&mut self) -> Result<(), StorageError>;

    /// How long one `sync` takes on a simulated disk, whose time is not
    /// the wall clock's; `None` for a real disk, whose fsyncs are timed.
    fn modelled_sync_latency(&self) -> Option<std::time::Duration> {
        None
    }

    /// Bytes of the log on disk, synced or not (for the operator's gauge).
    fn log_bytes(&self) -> u64 {
        0
    }
}

/// What opening found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    pub state: DurableState,
    /// Whether the directory was empty (or its creation never finished):
    /// a brand-new node.
    pub fresh: bool,
    /// Records replayed from the log.
    pub records: usize,
    /// Unsynced bytes after the synced length, cut from the log.
    pub cut_tail_bytes: u64,
    /// One state copy was damaged (and rewritten from the other).
    pub damaged_state_copy: Option<String>,
}

/// The log over a disk.
pub struct Log<D: Disk> {
    disk: D,
    identity: Identity,
    /// Bytes of `raft.log` written, synced or not.
    written_len: u64,
    /// Bytes of `raft.log` the state file says are synced.
    synced_len: u64,
    hard_state: HardState,
    synced_hard_state: HardState,
    sequence: u64,
    buffer: Vec<u8>,
    failure: Option<String>,
}

impl<D: Disk> Log<D> {
    /// Opens the node's data on `disk`, creating it if there is none, and
    /// recovers: an unsynced tail is cut, damaged acknowledged data is an
    /// error.
    pub fn open(mut disk: D, identity: Identity) -> Result<(Log<D>, Recovered), StorageError> {
        let state = read(&mut disk, STATE_FILE)?;
        let log = read(&mut disk, LOG_FILE)?;
        let Some(state) = state else {
            if log.is_some() {
                return Err(StorageError::Damaged {
                    path: disk.path(STATE_FILE),
                    offset: 0,
                    place: Place::TermAndVote,
                    problem: format!("the file is missing but {LOG_FILE} exists"),
                });
            }
            return Log::create(disk, identity);
        };
        let read = format::read_state(&state, identity)
            .map_err(|error| StorageError::from_format(disk.path(STATE_FILE), error))?;
        let synced_len = read.state.synced_len;
        let nothing_logged = synced_len == LOG_HEADER_LEN as u64;
        let replay = match log {
            Some(log) => match format::replay_log(&log, synced_len, identity) {
                // The header is written after the state file, so a crash
                // during creation can leave it torn: with no record synced
                // it guards nothing, and it is written again.
                Err(FormatError::Damaged {
                    place: Place::LogHeader,
                    ..
                }) if nothing_logged && log.len() <= LOG_HEADER_LEN => None,
                replayed => Some(
                    replayed
                        .map_err(|error| StorageError::from_format(disk.path(LOG_FILE), error))?,
                ),
            },
            None if nothing_logged => None,
            None => {
                return Err(StorageError::Damaged {
                    path: disk.path(LOG_FILE),
                    offset: 0,
                    place: Place::LogHeader,
                    problem: format!("the file is missing but {synced_len} bytes were synced"),
                })
            }
        };
        let mut storage = Log {
            disk,
            identity,
            written_len: synced_len,
            synced_len,
            hard_state: read.state.hard_state,
            synced_hard_state: read.state.hard_state,
            sequence: read.state.sequence,
            buffer: Vec::new(),
            failure: None,
        };
        let replay = match replay {
            Some(replay) => {
                if replay.tail_bytes > 0 {
                    storage.io(LOG_FILE, "truncate", |disk| {
                        disk.truncate(LOG_FILE, synced_len)
                    })?;
                    storage.sync_file(LOG_FILE)?;
                }
                replay
            }
            None => {
                storage.write_log_header()?;
                format::LogReplay::default()
            }
        };
        // Both copies again: heals a damaged copy, and makes a copy that a
        // crash left half-written whole.
        storage.write_state()?;
        let recovered = Recovered {
            state: DurableState {
                hard_state: read.state.hard_state,
                snapshot: None,
                log: replay.log,
            },
            fresh: false,
            records: replay.spans.len(),
            cut_tail_bytes: replay.tail_bytes,
            damaged_state_copy: read.damaged_copy,
        };
        Ok((storage, recovered))
    }

    /// A new node: the state file first (written aside, synced, renamed,
    /// directory synced), then the log header.
    fn create(disk: D, identity: Identity) -> Result<(Log<D>, Recovered), StorageError> {
        let mut storage = Log {
            disk,
            identity,
            written_len: LOG_HEADER_LEN as u64,
            synced_len: LOG_HEADER_LEN as u64,
            hard_state: HardState::default(),
            synced_hard_state: HardState::default(),
            sequence: 1,
            buffer: Vec::new(),
            failure: None,
        };
        let bytes = format::encode_state(&storage.state_copy());
        storage.io(NEW_STATE_FILE, "write", |disk| {
            disk.write(NEW_STATE_FILE, 0, &bytes)
        })?;
        storage.sync_file(NEW_STATE_FILE)?;
        storage.io(NEW_STATE_FILE, "rename", |disk| {
            disk.rename(NEW_STATE_FILE, STATE_FILE)
        })?;
        storage.io(STATE_FILE, "directory fsync", |disk| disk.sync_dir())?;
        storage.write_log_header()?;
        let recovered = Recovered {
            state: DurableState::default(),
            fresh: true,
            records: 0,
            cut_tail_bytes: 0,
            damaged_state_copy: None,
        };
        Ok((storage, recovered))
    }

    fn write_log_header(&mut self) -> Result<(), StorageError> {
        let header = format::encode_log_header(self.identity);
        self.io(LOG_FILE, "truncate", |disk| disk.truncate(LOG_FILE, 0))?;
        self.io(LOG_FILE, "write", |disk| disk.write(LOG_FILE, 0, &header))?;
        self.sync_file(LOG_FILE)?;
        self.io(LOG_FILE, "directory fsync", |disk| disk.sync_dir())
    }

    fn state_copy(&self) -> StateCopy {
        StateCopy {
            identity: self.identity,
            sequence: self.sequence,
            hard_state: self.hard_state,
            synced_len: self.written_len,
        }
    }

    /// Writes both state copies for what is written now and fsyncs them.
    fn write_state(&mut self) -> Result<(), StorageError> {
        self.sequence += 1;
        let state = self.state_copy();
        for copy in 0..2 {
            let bytes = format::encode_state_copy(&state, copy);
            let offset = u64::from(copy) * format::STATE_COPY_STRIDE as u64;
            self.io(STATE_FILE, "write", |disk| {
                disk.write(STATE_FILE, offset, &bytes)
            })?;
        }
        self.sync_file(STATE_FILE)?;
        self.synced_len = self.written_len;
        self.synced_hard_state = self.hard_state;
        Ok(())
    }

    fn sync_file(&mut self, name: &str) -> Result<(), StorageError> {
        self.check()?;
        let result = self.disk.sync(name);
        result.map_err(|source| {
            self.fail(StorageError::SyncFailed {
                path: self.disk.path(name),
                source,
            })
        })
    }

    /// Runs one disk operation; any failure stops the storage for good.
    fn io(
        &mut self,
        name: &str,
        operation: &'static str,
        run: impl FnOnce(&mut D) -> io::Result<()>,
    ) -> Result<(), StorageError> {
        self.check()?;
        let result = run(&mut self.disk);
        result.map_err(|source| {
            let path = self.disk.path(name);
            self.fail(if source.kind() == io::ErrorKind::StorageFull {
                StorageError::DiskFull { path, source }
            } else {
                StorageError::Io {
                    path,
                    operation,
                    source,
                }
            })
        })
    }

    fn check(&self) -> Result<(), StorageError> {
        match &self.failure {
            Some(reason) => Err(StorageError::Stopped {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    fn fail(&mut self, error: StorageError) -> StorageError {
        self.failure = Some(error.to_string());
        error
    }

    /// The disk underneath (tests reach the simulated disk through it).
    pub fn disk(&self) -> &D {
        &self.disk
    }
}

impl<D: Disk> Storage for Log<D> {
    fn append(&mut self, records: &[Persist]) -> Result<(), StorageError> {
        self.check()?;
        if let Some(Persist::Snapshot(snapshot)) = records
            .iter()
            .find(|record| matches!(record, Persist::Snapshot(_)))
        {
            let index = snapshot.index.get();
            return Err(self.fail(StorageError::SnapshotsUnsupported { index }));
        }
        self.buffer.clear();
        for record in records {
            if let Persist::HardState(hard_state) = record {
                self.hard_state = *hard_state;
            }
            format::encode_record(record, &mut self.buffer);
        }
        if self.buffer.is_empty() {
            return Ok(());
        }
        let (offset, bytes) = (self.written_len, std::mem::take(&mut self.buffer));
        let written = self.io(LOG_FILE, "write", |disk| {
            disk.write(LOG_FILE, offset, &bytes)
        });
        self.written_len += bytes.len() as u64;
        self.buffer = bytes;
        written
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        self.check()?;
        if self.written_len == self.synced_len && self.hard_state == self.synced_hard_state {
            return Ok(());
        }
        if self.written_len != self.synced_len {
            self.sync_file(LOG_FILE)?;
        }
        self.write_state()
    }

    fn modelled_sync_latency(&self) -> Option<std::time::Duration> {
        self.disk.modelled_sync_latency()
    }

    fn log_bytes(&self) -> u64 {
        self.written_len
    }
}

fn read<D: Disk>(disk: &mut D, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
    disk.read(name).map_err(|source| StorageError::Io {
        path: disk.path(name),
        operation: "read",
        source,
    })
}

/// Opens the log in a real directory (`lazy`: see [`disk::FileDisk`]).
pub fn open_directory(
    directory: &std::path::Path,
    identity: Identity,
    lazy: bool,
) -> Result<(Log<disk::FileDisk>, Recovered), StorageError> {
    open_slowed_directory(directory, identity, lazy, std::time::Duration::ZERO)
}

/// [`open_directory`], with each fsync delayed by `sync_delay` (fault
/// injection: see [`disk::FileDisk::with_sync_delay`]).
pub fn open_slowed_directory(
    directory: &std::path::Path,
    identity: Identity,
    lazy: bool,
    sync_delay: std::time::Duration,
) -> Result<(Log<disk::FileDisk>, Recovered), StorageError> {
    let disk = disk::FileDisk::new(directory, lazy).map_err(|source| StorageError::Io {
        path: directory.to_owned(),
        operation: "create directory",
        source,
    })?;
    Log::open(disk.with_sync_delay(sync_delay), identity)
}

#[cfg(test)]
mod tests;
