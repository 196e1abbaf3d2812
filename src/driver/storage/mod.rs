//! Durable Raft state: the interface the node loop persists through
//! ([`Storage`]), the log that implements it over any [`disk::Disk`]
//! ([`Log`]), and the disks: real files ([`disk::FileDisk`], optionally
//! lazy) and a seeded simulated disk ([`simulated::SimDisk`]).
//!
//! [`format`](mod@format) has the bytes of the log and the state file,
//! [`snapshot_file`] those of the snapshot. In short: records go to
//! `raft.log`; term, vote and how much of the log is synced go to
//! `raft.state` in two checksummed copies. A batch is acknowledged only
//! after the log *and then* the state are fsynced, so recovery can tell the
//! two kinds of damage apart:
//!
//! - after the synced length: an unsynced tail a crash left — cut, logged;
//! - before it, or both state copies: acknowledged data is damaged — the
//!   node refuses to start ([`StorageError::Damaged`]).
//!
//! A snapshot goes to `raft.snapshot` (written aside, fsynced, renamed in,
//! directory fsynced); only then is the log replaced by a compacted copy
//! that starts after it, the same way, and then the state file names the
//! new log. [`Log::open`] recovers from a crash at any step of that.
//!
//! This format replaces the earlier versions (a single-file log without a
//! header; a log without snapshots), which are not read (no migration:
//! refuse and say so).

pub mod disk;
pub mod format;
pub mod simulated;
pub mod snapshot_file;

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use crate::core::raft::snapshot::Snapshot;
use crate::core::raft::{DurableState, HardState, Persist};
use disk::Disk;
use format::{FormatError, Identity, LogBase, Place, StateCopy, LOG_HEADER_LEN};

/// The log's records.
pub const LOG_FILE: &str = "raft.log";
/// Term, vote, synced length and the log's base, two copies.
pub const STATE_FILE: &str = "raft.state";
/// The latest snapshot, once there is one.
pub const SNAPSHOT_FILE: &str = "raft.snapshot";
/// `raft.state` while it is first written, renamed once it is synced.
const NEW_STATE_FILE: &str = "raft.state.new";
/// `raft.snapshot` while it is written, renamed once it is synced.
pub const NEW_SNAPSHOT_FILE: &str = "raft.snapshot.new";
/// `raft.log`'s compacted copy while it is written, renamed once synced.
pub const NEW_LOG_FILE: &str = "raft.log.new";

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
    /// The core asked to persist a record that does not follow from the
    /// durable state (an entry out of order, a truncation inside the
    /// snapshot): writing it would leave a log that cannot be replayed, so
    /// the node stops instead.
    #[error("refusing to persist {problem}: the log could not be replayed after it")]
    InvalidRecord { problem: String },
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

/// What opening found, and what it cost (for the operator: a restart reads
/// the snapshot and the log since it, nothing older).
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
    /// Key-value pairs in the snapshot loaded (0 without one).
    pub snapshot_pairs: u64,
    /// Bytes of `raft.snapshot` read (0 without one).
    pub snapshot_bytes: u64,
    /// Bytes of `raft.log` read.
    pub log_bytes: u64,
    /// A crash had come between a snapshot and the log's compaction (or
    /// between the compacted log and the state file naming it): opening
    /// finished the job.
    pub finished_compaction: bool,
}

impl Recovered {
    fn fresh() -> Recovered {
        Recovered {
            state: DurableState::default(),
            fresh: true,
            records: 0,
            cut_tail_bytes: 0,
            damaged_state_copy: None,
            snapshot_pairs: 0,
            snapshot_bytes: 0,
            log_bytes: 0,
            finished_compaction: false,
        }
    }
}

/// Which log the synced length of `raft.state` counts in, and so how much
/// of `raft.log` was acknowledged.
enum LogState {
    /// The log follows the snapshot on disk and the state names it.
    Current,
    /// The compacted log was renamed in, but the state still names the log
    /// it replaced: the new log was fsynced whole before its rename, so all
    /// of it counts.
    RenamedIn,
    /// The snapshot was renamed in but the log is still the one before it:
    /// the state's synced length counts in it, and the snapshot's record
    /// is applied to it again ([`DurableState::recovered`]).
    BeforeSnapshot,
}

/// The log over a disk.
pub struct Log<D: Disk> {
    disk: D,
    identity: Identity,
    /// Bytes of `raft.log` written, synced or not.
    written_len: u64,
    /// Bytes of `raft.log` the state file says are synced.
    synced_len: u64,
    /// The snapshot `raft.log` follows.
    log_base: LogBase,
    hard_state: HardState,
    synced_hard_state: HardState,
    sequence: u64,
    buffer: Vec<u8>,
    failure: Option<String>,
    /// The snapshot and the entries after it, as written: a snapshot
    /// rewrites the log from these. Kept in memory rather than read back
    /// from `raft.log` at snapshot time because it costs little (the
    /// entries share their commands with the node's own log, and are as
    /// many as the node holds anyway: those since the last snapshot), and
    /// because a read back would put a second replay, with its own damage
    /// cases, in the middle of a running node.
    written: DurableState,
}

impl<D: Disk> Log<D> {
    /// Opens the node's data on `disk`, creating it if there is none, and
    /// recovers: an unsynced tail is cut, damaged acknowledged data is an
    /// error, and a compaction a crash interrupted is finished.
    ///
    /// Restart cost: this reads the snapshot and the log since it, so it is
    /// bounded by the snapshot interval (how many entries a node applies
    /// between snapshots, and the size of its state machine), not by the
    /// node's age.
    pub fn open(mut disk: D, identity: Identity) -> Result<(Log<D>, Recovered), StorageError> {
        let state = read(&mut disk, STATE_FILE)?;
        let log = read(&mut disk, LOG_FILE)?;
        let snapshot_bytes = read(&mut disk, SNAPSHOT_FILE)?;
        let Some(state) = state else {
            for (name, place, present) in [
                (LOG_FILE, Place::LogHeader, log.is_some()),
                (SNAPSHOT_FILE, Place::Snapshot, snapshot_bytes.is_some()),
            ] {
                if present {
                    return Err(StorageError::Damaged {
                        path: disk.path(STATE_FILE),
                        offset: 0,
                        place: Place::TermAndVote,
                        problem: format!("the file is missing but {name} exists ({place})"),
                    });
                }
            }
            return Log::create(disk, identity);
        };
        let read = format::read_state(&state, identity)
            .map_err(|error| StorageError::from_format(disk.path(STATE_FILE), error))?;
        let snapshot = match &snapshot_bytes {
            Some(bytes) => Some(Arc::new(
                snapshot_file::decode_snapshot(bytes, identity)
                    .map_err(|error| StorageError::from_format(disk.path(SNAPSHOT_FILE), error))?,
            )),
            None => None,
        };
        let snapshot_base = LogBase::of(snapshot.as_deref());
        let state_base = read.state.log_base;
        if state_base != snapshot_base && state_base.index >= snapshot_base.index {
            return Err(missing_snapshot(
                &disk,
                snapshot.as_deref(),
                state_base,
                STATE_FILE,
            ));
        }
        let synced_len = read.state.synced_len;
        let nothing_logged = synced_len == LOG_HEADER_LEN as u64;
        let (log_state, replay, acknowledged_len) = match &log {
            Some(bytes) => {
                let header_base = format::read_log_header(bytes, identity)
                    .map_err(|error| StorageError::from_format(disk.path(LOG_FILE), error))?;
                let log_state = if header_base == snapshot_base {
                    if state_base == header_base {
                        LogState::Current
                    } else {
                        LogState::RenamedIn
                    }
                } else if header_base.index < snapshot_base.index {
                    if state_base != header_base {
                        return Err(StorageError::Damaged {
                            path: disk.path(LOG_FILE),
                            offset: 0,
                            place: Place::LogHeader,
                            problem: format!(
                                "the log follows {header_base}, but {STATE_FILE} counts in a log that follows {state_base}"
                            ),
                        });
                    }
                    LogState::BeforeSnapshot
                } else {
                    return Err(missing_snapshot(
                        &disk,
                        snapshot.as_deref(),
                        header_base,
                        LOG_FILE,
                    ));
                };
                let synced_len = match log_state {
                    LogState::RenamedIn => bytes.len() as u64,
                    LogState::Current | LogState::BeforeSnapshot => synced_len,
                };
                let replay = format::replay_log(bytes, synced_len, identity)
                    .map_err(|error| StorageError::from_format(disk.path(LOG_FILE), error))?;
                (log_state, Some(replay), synced_len)
            }
            // A crash after the state file was created and before the log
            // was renamed in: nothing was logged, so nothing is lost (and
            // the log is written again, after the snapshot if there is one).
            None if nothing_logged => (LogState::BeforeSnapshot, None, synced_len),
            None => {
                return Err(StorageError::Damaged {
                    path: disk.path(LOG_FILE),
                    offset: 0,
                    place: Place::LogHeader,
                    problem: format!("the file is missing but {synced_len} bytes were synced"),
                })
            }
        };
        let replay = replay.unwrap_or_default();
        let hard_state = read.state.hard_state;
        let written = match log_state {
            LogState::Current | LogState::RenamedIn => DurableState {
                hard_state,
                snapshot: snapshot.clone(),
                log: replay.log,
            },
            LogState::BeforeSnapshot => {
                DurableState::recovered(hard_state, snapshot.clone(), replay.log)
            }
        };
        let mut storage = Log {
            disk,
            identity,
            written_len: acknowledged_len,
            synced_len: acknowledged_len,
            log_base: replay.base,
            hard_state,
            synced_hard_state: hard_state,
            sequence: read.state.sequence,
            buffer: Vec::new(),
            failure: None,
            written,
        };
        // Never acknowledged: a snapshot or a compacted log whose rename
        // did not happen (or was undone by the power loss).
        for leftover in [NEW_SNAPSHOT_FILE, NEW_LOG_FILE] {
            storage.io(leftover, "remove", |disk| disk.remove(leftover))?;
        }
        match log_state {
            LogState::Current => {
                if replay.tail_bytes > 0 {
                    storage.io(LOG_FILE, "truncate", |disk| {
                        disk.truncate(LOG_FILE, acknowledged_len)
                    })?;
                    storage.sync_file(LOG_FILE)?;
                }
            }
            // The rename was found on disk, but it may not be durable yet
            // if the crash came before the directory fsync: make it so
            // before the state names the new log.
            LogState::RenamedIn => {
                storage.sync_directory(LOG_FILE)?;
            }
            LogState::BeforeSnapshot => storage.rewrite_log()?,
        }
        // Both copies again: heals a damaged copy, makes a copy that a
        // crash left half-written whole, and names the log as it is now.
        storage.write_state()?;
        let recovered = Recovered {
            state: storage.written.clone(),
            fresh: false,
            records: replay.spans.len(),
            cut_tail_bytes: replay.tail_bytes,
            damaged_state_copy: read.damaged_copy,
            snapshot_pairs: snapshot.as_ref().map_or(0, |s| s.pair_count()),
            snapshot_bytes: snapshot_bytes.as_ref().map_or(0, |b| b.len() as u64),
            log_bytes: log.as_ref().map_or(0, |b| b.len() as u64),
            finished_compaction: !matches!(log_state, LogState::Current) && log.is_some(),
        };
        Ok((storage, recovered))
    }

    /// A new node: the state file first (written aside, synced, renamed,
    /// directory synced), then the empty log the same way.
    fn create(disk: D, identity: Identity) -> Result<(Log<D>, Recovered), StorageError> {
        let mut storage = Log {
            disk,
            identity,
            written_len: LOG_HEADER_LEN as u64,
            synced_len: LOG_HEADER_LEN as u64,
            log_base: LogBase::default(),
            hard_state: HardState::default(),
            synced_hard_state: HardState::default(),
            sequence: 1,
            buffer: Vec::new(),
            failure: None,
            written: DurableState::default(),
        };
        let bytes = format::encode_state(&storage.state_copy());
        storage.replace_file(NEW_STATE_FILE, STATE_FILE, &bytes)?;
        storage.rewrite_log()?;
        Ok((storage, Recovered::fresh()))
    }

    /// Writes `bytes` as `target` so that a crash leaves either the old
    /// file or the whole new one: aside as `aside`, fsynced, renamed, and
    /// the directory fsynced so the rename itself is durable.
    fn replace_file(
        &mut self,
        aside: &str,
        target: &str,
        bytes: &[u8],
    ) -> Result<(), StorageError> {
        self.io(aside, "truncate", |disk| disk.truncate(aside, 0))?;
        self.io(aside, "write", |disk| disk.write(aside, 0, bytes))?;
        self.sync_file(aside)?;
        self.io(aside, "rename", |disk| disk.rename(aside, target))?;
        self.sync_directory(target)
    }

    /// Replaces `raft.log` with one that follows the written snapshot and
    /// holds the entries written after it. The state file is not updated:
    /// the caller writes it next (until then it names the old log, which
    /// [`Log::open`] recognises).
    fn rewrite_log(&mut self) -> Result<(), StorageError> {
        let base = LogBase::of(self.written.snapshot.as_deref());
        let mut bytes = format::encode_log_header(self.identity, base).to_vec();
        for entry in &self.written.log {
            format::encode_record(&Persist::AppendEntry(entry.clone()), &mut bytes);
        }
        self.replace_file(NEW_LOG_FILE, LOG_FILE, &bytes)?;
        self.log_base = base;
        self.written_len = bytes.len() as u64;
        Ok(())
    }

    /// Makes `snapshot` durable and compacts the log after it. Everything
    /// before it is durable already ([`Storage::append`]). The order is
    /// what makes every crash recoverable: the snapshot is durable before
    /// the log loses the entries it covers, and the new log before the
    /// state file counts in it.
    fn write_snapshot(&mut self, snapshot: &Arc<Snapshot>) -> Result<(), StorageError> {
        if snapshot.index.get() == 0 {
            return Err(self.fail(StorageError::InvalidRecord {
                problem: "a snapshot at index 0 (it covers no entry)".to_owned(),
            }));
        }
        // The core only takes or installs snapshots past its base. One at
        // or below it would rewrite the log under a base the state file
        // already names, and a crash before the state is written again
        // would then read the new, shorter log against the old synced
        // length and refuse a consistent directory.
        let base = self.written.base_index();
        if snapshot.index <= base {
            return Err(self.fail(StorageError::InvalidRecord {
                problem: format!(
                    "a snapshot through {}, not after the durable one through {base}",
                    snapshot.index
                ),
            }));
        }
        let bytes = snapshot_file::encode_snapshot(self.identity, snapshot);
        self.replace_file(NEW_SNAPSHOT_FILE, SNAPSHOT_FILE, &bytes)?;
        self.written.apply(&Persist::Snapshot(Arc::clone(snapshot)));
        self.rewrite_log()?;
        self.write_state()
    }

    fn state_copy(&self) -> StateCopy {
        StateCopy {
            identity: self.identity,
            sequence: self.sequence,
            hard_state: self.hard_state,
            synced_len: self.written_len,
            log_base: self.log_base,
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

    /// Writes the log records of `records` (none is a snapshot) after
    /// checking that each follows from what is written.
    fn append_to_log(&mut self, records: &[Persist]) -> Result<(), StorageError> {
        self.buffer.clear();
        for record in records {
            let problem = match record {
                Persist::AppendEntry(entry) => {
                    let due = self.written.base_index().plus(self.written.log.len() + 1);
                    (entry.index != due)
                        .then(|| format!("entry {} where {due} was due", entry.index))
                }
                Persist::TruncateLog { from } => (*from <= self.written.base_index()).then(|| {
                    format!(
                        "a truncation from {from}, inside the snapshot through {}",
                        self.written.base_index()
                    )
                }),
                Persist::HardState(_) | Persist::Snapshot(_) => None,
            };
            if let Some(problem) = problem {
                return Err(self.fail(StorageError::InvalidRecord { problem }));
            }
            if let Persist::HardState(hard_state) = record {
                self.hard_state = *hard_state;
            }
            self.written.apply(record);
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

    /// Fsyncs the directory, so a rename into it (`name`) is durable. Its
    /// failure is a failed fsync like any other: what is durable is then
    /// unknown, so the storage stops.
    fn sync_directory(&mut self, name: &str) -> Result<(), StorageError> {
        self.check()?;
        let result = self.disk.sync_dir();
        result.map_err(|source| {
            self.fail(StorageError::SyncFailed {
                path: self.disk.path(name),
                source,
            })
        })
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

/// A log or state file that follows a snapshot newer than the one on disk
/// (or than none): the snapshot it follows was acknowledged and is lost.
fn missing_snapshot<D: Disk>(
    disk: &D,
    snapshot: Option<&Snapshot>,
    follows: LogBase,
    name: &str,
) -> StorageError {
    let found = match snapshot {
        Some(snapshot) => format!("it holds only {}", LogBase::of(Some(snapshot))),
        None => "it is missing".to_owned(),
    };
    StorageError::Damaged {
        path: disk.path(SNAPSHOT_FILE),
        offset: 0,
        place: Place::Snapshot,
        problem: format!("{name} follows a snapshot through {follows}, but {found}"),
    }
}

impl<D: Disk> Storage for Log<D> {
    /// A snapshot in `records` splits the batch: what comes before it is
    /// made durable first (so a crash in the snapshot's writes recovers
    /// the state just before it or just after it, never one with the
    /// snapshot but without the records before it), then the snapshot and
    /// the compacted log, then what follows is written as usual.
    fn append(&mut self, records: &[Persist]) -> Result<(), StorageError> {
        self.check()?;
        let mut start = 0;
        for (at, record) in records.iter().enumerate() {
            if let Persist::Snapshot(snapshot) = record {
                self.append_to_log(&records[start..at])?;
                self.sync()?;
                self.write_snapshot(snapshot)?;
                start = at + 1;
            }
        }
        self.append_to_log(&records[start..])
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
