//! The bytes on disk, and reading them back. Pure functions: no I/O, so
//! the fuzz target and the tests can feed them anything.
//!
//! A node's data directory holds two files, and a third once a snapshot is
//! taken or installed:
//!
//! ```text
//! raft.state  term, vote, the synced length of the log and the base of the
//!             log it counts in, in two copies STATE_COPY_STRIDE bytes apart
//!             (one bad sector cannot hit both):
//!   magic "ELECTSTA" | version u32 | copy u32 | cluster u64 | node u64 |
//!   sequence u64 | term u64 | has_vote u64 | vote u64 | synced_len u64 |
//!   base_index u64 | base_term u64 | crc32c(everything before) u32
//!                                                           (little endian)
//! raft.log    a header, then records:
//!   header: magic "ELECTLOG" | version u32 | cluster u64 | node u64 |
//!           base_index u64 | base_term u64 | crc32c u32
//!   record: length u32 | crc32c(length ++ payload) u32 | payload
//!   payload: 2 TruncateLog from | 3 AppendEntry term index command   (varints)
//! raft.snapshot  see [`super::snapshot_file`]
//! ```
//!
//! The log's base is the (index, term) of the snapshot it follows ((0, 0)
//! without one): its first entry is `base_index + 1`. The state copies
//! name the base too, so that recovery can tell which log a synced length
//! counts in when a crash came while the log was being replaced by its
//! compacted copy (see [`super::Log::open`]).
//!
//! The log is written first and fsynced, then both state copies with the
//! new synced length, then fsynced: only then is the batch acknowledged.
//! So everything before `synced_len` was acknowledged and damage there is
//! corruption, while everything after it was never acknowledged (an
//! unsynced tail a power loss may have left in any shape).
//!
//! Version 2 added the bases (and the snapshot file); version 1 files are
//! refused, not migrated.

use crate::codec::primitives::{put_varint, Reader};
use crate::codec::raft::{decode_command, encode_command};
use crate::codec::DecodeError;
use crate::core::raft::snapshot::Snapshot;
use crate::core::raft::{Entry, HardState, LogIndex, Persist, Term};

/// The format this code writes and the only one it reads.
pub const VERSION: u32 = 2;
pub const LOG_MAGIC: [u8; 8] = *b"ELECTLOG";
pub const STATE_MAGIC: [u8; 8] = *b"ELECTSTA";
pub const LOG_HEADER_LEN: usize = 48;
pub const RECORD_HEADER_LEN: usize = 8;
pub const STATE_COPY_LEN: usize = 92;
/// The second copy starts a page after the first.
pub const STATE_COPY_STRIDE: usize = 4096;
/// Larger records are refused as corrupt: no honest entry comes close.
pub const MAX_RECORD_LEN: u32 = 16 << 20;
/// A log base or snapshot index beyond this is refused as corrupt (no log
/// gets near 2^62 entries), so counting entries on from it cannot overflow.
pub const MAX_BASE_INDEX: u64 = 1 << 62;

const TRUNCATE_LOG: u8 = 2;
const APPEND_ENTRY: u8 = 3;

/// Whose files these are: a node never reads another node's or another
/// cluster's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub cluster_id: u64,
    pub node_id: u64,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cluster {} node {}", self.cluster_id, self.node_id)
    }
}

/// The snapshot a log follows: its first entry is `index + 1`, and the
/// entry at `index` had `term`. (0, 0) for a log with no snapshot before it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogBase {
    pub index: LogIndex,
    pub term: Term,
}

impl LogBase {
    /// The base a log has after `snapshot` (none: the start).
    pub fn of(snapshot: Option<&Snapshot>) -> LogBase {
        snapshot.map_or(LogBase::default(), |snapshot| LogBase {
            index: snapshot.index,
            term: snapshot.term,
        })
    }
}

impl std::fmt::Display for LogBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "index {} term {}", self.index, self.term)
    }
}

/// Which part of the data a problem is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    LogHeader,
    /// The n-th record of the log, from 1.
    Record(usize),
    /// Both copies of term, vote and synced length.
    TermAndVote,
    /// The snapshot file (`raft.snapshot`).
    Snapshot,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::LogHeader => write!(f, "the log header"),
            Place::Record(n) => write!(f, "record {n}"),
            Place::TermAndVote => write!(f, "term and vote (both copies)"),
            Place::Snapshot => write!(f, "the snapshot"),
        }
    }
}

/// Why bytes cannot be read back as this node's durable state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Acknowledged data fails its checks.
    #[error("{place} at byte {offset} is damaged: {problem}")]
    Damaged {
        offset: u64,
        place: Place,
        problem: String,
    },
    #[error("written by {found}, but this is {expected}")]
    WrongOwner { found: Identity, expected: Identity },
    #[error("format version {found}; this build reads version {VERSION} only")]
    UnknownVersion { found: u32 },
}

/// One decoded copy of `raft.state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateCopy {
    pub identity: Identity,
    /// Grows by one with every write: the newer of two valid copies wins.
    pub sequence: u64,
    pub hard_state: HardState,
    /// How much of `raft.log` is fsynced and may have been acknowledged.
    pub synced_len: u64,
    /// The base of the log `synced_len` counts in.
    pub log_base: LogBase,
}

pub(super) fn crc(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
}

/// Precondition (all callers check the length first): `at + 4 <= len`.
pub(super) fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// Precondition (all callers check the length first): `at + 8 <= len`.
pub(super) fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// The bytes of copy `copy` (0 or 1) of `state`.
pub fn encode_state_copy(state: &StateCopy, copy: u32) -> [u8; STATE_COPY_LEN] {
    let mut out = [0; STATE_COPY_LEN];
    out[..8].copy_from_slice(&STATE_MAGIC);
    out[8..12].copy_from_slice(&VERSION.to_le_bytes());
    out[12..16].copy_from_slice(&copy.to_le_bytes());
    let vote = state.hard_state.voted_for;
    let fields = [
        state.identity.cluster_id,
        state.identity.node_id,
        state.sequence,
        state.hard_state.term.get(),
        u64::from(vote.is_some()),
        vote.unwrap_or(0),
        state.synced_len,
        state.log_base.index.get(),
        state.log_base.term.get(),
    ];
    for (i, field) in fields.iter().enumerate() {
        out[16 + 8 * i..24 + 8 * i].copy_from_slice(&field.to_le_bytes());
    }
    let checksum = crc(&out[..STATE_COPY_LEN - 4]);
    out[STATE_COPY_LEN - 4..].copy_from_slice(&checksum.to_le_bytes());
    out
}

/// The whole `raft.state` file for `state`: both copies.
pub fn encode_state(state: &StateCopy) -> Vec<u8> {
    let mut out = vec![0; STATE_COPY_STRIDE + STATE_COPY_LEN];
    out[..STATE_COPY_LEN].copy_from_slice(&encode_state_copy(state, 0));
    out[STATE_COPY_STRIDE..].copy_from_slice(&encode_state_copy(state, 1));
    out
}

/// Why one copy is unusable (the other may still be good).
#[derive(Debug)]
enum CopyProblem {
    Damaged(String),
    Version(u32),
}

fn decode_state_copy(file: &[u8], copy: u32) -> Result<StateCopy, CopyProblem> {
    let start = copy as usize * STATE_COPY_STRIDE;
    let Some(bytes) = file.get(start..start + STATE_COPY_LEN) else {
        return Err(CopyProblem::Damaged(format!(
            "copy {copy} is cut off (the file has {} bytes)",
            file.len()
        )));
    };
    if bytes[..8] != STATE_MAGIC {
        return Err(CopyProblem::Damaged(format!("copy {copy} has no magic")));
    }
    if crc(&bytes[..STATE_COPY_LEN - 4]) != u32_at(bytes, STATE_COPY_LEN - 4) {
        return Err(CopyProblem::Damaged(format!(
            "copy {copy} fails its checksum"
        )));
    }
    let version = u32_at(bytes, 8);
    if version != VERSION {
        return Err(CopyProblem::Version(version));
    }
    // A sector read back from the wrong place checks out by itself: the
    // copy number says where it belongs.
    if u32_at(bytes, 12) != copy {
        return Err(CopyProblem::Damaged(format!(
            "copy {copy} holds copy {} (a misdirected sector)",
            u32_at(bytes, 12)
        )));
    }
    let field = |i: usize| u64_at(bytes, 16 + 8 * i);
    let voted_for = match field(4) {
        0 => None,
        1 => Some(field(5)),
        other => {
            return Err(CopyProblem::Damaged(format!(
                "copy {copy} has vote flag {other}"
            )))
        }
    };
    Ok(StateCopy {
        identity: Identity {
            cluster_id: field(0),
            node_id: field(1),
        },
        sequence: field(2),
        hard_state: HardState {
            term: Term::new(field(3)),
            voted_for,
        },
        synced_len: field(6),
        log_base: LogBase {
            index: LogIndex::new(field(7)),
            term: Term::new(field(8)),
        },
    })
}

/// What reading `raft.state` found: the newest valid copy, and what was
/// wrong with the other one if anything was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateRead {
    pub state: StateCopy,
    pub damaged_copy: Option<String>,
}

/// Reads `raft.state`: the valid copy with the highest sequence. Both
/// copies are written before every acknowledgement, so one damaged copy
/// loses nothing; two are corruption.
pub fn read_state(file: &[u8], expected: Identity) -> Result<StateRead, FormatError> {
    let copies = [decode_state_copy(file, 0), decode_state_copy(file, 1)];
    let mut best: Option<StateCopy> = None;
    let mut problems = Vec::new();
    for copy in &copies {
        match copy {
            Ok(state) => {
                if state.identity != expected {
                    return Err(FormatError::WrongOwner {
                        found: state.identity,
                        expected,
                    });
                }
                if best.is_none_or(|best| state.sequence > best.sequence) {
                    best = Some(*state);
                }
            }
            Err(CopyProblem::Version(found)) => {
                return Err(FormatError::UnknownVersion { found: *found })
            }
            Err(CopyProblem::Damaged(problem)) => problems.push(problem.clone()),
        }
    }
    match best {
        Some(state) => Ok(StateRead {
            state,
            damaged_copy: problems.pop(),
        }),
        None => Err(FormatError::Damaged {
            offset: 0,
            place: Place::TermAndVote,
            problem: problems.join("; "),
        }),
    }
}

/// The header of a log that follows the snapshot at `base`.
pub fn encode_log_header(identity: Identity, base: LogBase) -> [u8; LOG_HEADER_LEN] {
    let mut out = [0; LOG_HEADER_LEN];
    out[..8].copy_from_slice(&LOG_MAGIC);
    out[8..12].copy_from_slice(&VERSION.to_le_bytes());
    out[12..20].copy_from_slice(&identity.cluster_id.to_le_bytes());
    out[20..28].copy_from_slice(&identity.node_id.to_le_bytes());
    out[28..36].copy_from_slice(&base.index.get().to_le_bytes());
    out[36..44].copy_from_slice(&base.term.get().to_le_bytes());
    let checksum = crc(&out[..44]);
    out[44..].copy_from_slice(&checksum.to_le_bytes());
    out
}

/// Checks the log header of `bytes` and returns the base it records.
pub fn read_log_header(bytes: &[u8], expected: Identity) -> Result<LogBase, FormatError> {
    let damaged = |problem: &str| FormatError::Damaged {
        offset: 0,
        place: Place::LogHeader,
        problem: problem.to_owned(),
    };
    let Some(header) = bytes.get(..LOG_HEADER_LEN) else {
        return Err(damaged("the file is shorter than its header"));
    };
    if header[..8] != LOG_MAGIC {
        return Err(damaged("no magic"));
    }
    if crc(&header[..44]) != u32_at(header, 44) {
        return Err(damaged("checksum mismatch"));
    }
    let version = u32_at(header, 8);
    if version != VERSION {
        return Err(FormatError::UnknownVersion { found: version });
    }
    let found = Identity {
        cluster_id: u64_at(header, 12),
        node_id: u64_at(header, 20),
    };
    if found != expected {
        return Err(FormatError::WrongOwner { found, expected });
    }
    let base = LogBase {
        index: LogIndex::new(u64_at(header, 28)),
        term: Term::new(u64_at(header, 36)),
    };
    if base.index.get() > MAX_BASE_INDEX {
        return Err(damaged("a base index beyond any real log"));
    }
    Ok(base)
}

/// Appends the framed record of `record` to `out`. Hard state does not go
/// in the log (it lives in `raft.state`), nor does a snapshot (it goes to
/// `raft.snapshot`, and the log is rewritten after it): returns whether it
/// wrote one.
pub fn encode_record(record: &Persist, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    out.extend_from_slice(&[0; RECORD_HEADER_LEN]);
    match record {
        Persist::HardState(_) | Persist::Snapshot(_) => {
            out.truncate(start);
            return false;
        }
        Persist::TruncateLog { from } => {
            out.push(TRUNCATE_LOG);
            put_varint(out, from.get());
        }
        Persist::AppendEntry(entry) => {
            out.push(APPEND_ENTRY);
            put_varint(out, entry.term.get());
            put_varint(out, entry.index.get());
            encode_command(&entry.command, out);
        }
    }
    let length = (out.len() - start - RECORD_HEADER_LEN) as u32;
    out[start..start + 4].copy_from_slice(&length.to_le_bytes());
    let mut hasher = crc32c::crc32c(&length.to_le_bytes());
    hasher = crc32c::crc32c_append(hasher, &out[start + RECORD_HEADER_LEN..]);
    out[start + 4..start + 8].copy_from_slice(&hasher.to_le_bytes());
    true
}

fn decode_payload(payload: &[u8]) -> Result<Persist, DecodeError> {
    let mut reader = Reader::new(payload);
    let record = match reader.byte("record tag")? {
        TRUNCATE_LOG => Persist::TruncateLog {
            from: LogIndex::new(reader.varint("from")?),
        },
        APPEND_ENTRY => Persist::AppendEntry(Entry {
            term: Term::new(reader.varint("term")?),
            index: LogIndex::new(reader.varint("index")?),
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

/// Where one record lies in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub offset: u64,
    pub len: u64,
}

/// What replaying `raft.log` against its synced length found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogReplay {
    /// The snapshot the log follows, from its header.
    pub base: LogBase,
    /// The entries after the base.
    pub log: Vec<Entry>,
    /// Every synced record, in order.
    pub spans: Vec<Span>,
    /// Bytes after the synced length: never acknowledged, to be cut.
    pub tail_bytes: u64,
}

/// Replays the synced part of `bytes` (the first `synced_len` bytes):
/// every record there must be whole, intact and in order, or the log is
/// damaged. Whatever follows is an unsynced tail and is not looked at.
pub fn replay_log(
    bytes: &[u8],
    synced_len: u64,
    expected: Identity,
) -> Result<LogReplay, FormatError> {
    let base = read_log_header(bytes, expected)?;
    let file_len = bytes.len() as u64;
    let mut state = Replayed {
        base: base.index,
        log: Vec::new(),
    };
    let mut spans = Vec::new();
    let mut offset = LOG_HEADER_LEN as u64;
    let synced_end = synced_len.min(file_len);
    while offset < synced_end {
        let place = Place::Record(spans.len() + 1);
        let damaged = |problem: String| FormatError::Damaged {
            offset,
            place,
            problem,
        };
        let synced = &bytes[offset as usize..synced_end as usize];
        let record_len = next_record(synced, &state).map_err(damaged)?;
        let payload = &synced[RECORD_HEADER_LEN..record_len];
        state.apply(decode_payload(payload).expect("checked by next_record"));
        spans.push(Span {
            offset,
            len: record_len as u64,
        });
        offset += record_len as u64;
    }
    if synced_len < LOG_HEADER_LEN as u64 || offset != synced_len {
        return Err(FormatError::Damaged {
            offset,
            place: Place::Record(spans.len() + 1),
            problem: format!(
                "{synced_len} bytes were synced but the file has {file_len} and its records end at {offset}"
            ),
        });
    }
    Ok(LogReplay {
        base,
        log: state.log,
        spans,
        tail_bytes: file_len - synced_len,
    })
}

/// The entries replayed so far, after the log's base.
struct Replayed {
    base: LogIndex,
    log: Vec<Entry>,
}

impl Replayed {
    /// The index the next appended entry must have. No overflow: bases
    /// are at most [`MAX_BASE_INDEX`] and a log holds fewer entries than
    /// bytes.
    fn next_index(&self) -> LogIndex {
        self.base.plus(self.log.len() + 1)
    }

    /// Precondition ([`next_record`] checked it): a truncation is after
    /// the base, an entry is the next one.
    fn apply(&mut self, record: Persist) {
        match record {
            Persist::TruncateLog { from } => {
                let kept = from.get() - self.base.get() - 1;
                self.log
                    .truncate(usize::try_from(kept).unwrap_or(usize::MAX));
            }
            Persist::AppendEntry(entry) => self.log.push(entry),
            Persist::HardState(_) | Persist::Snapshot(_) => {}
        }
    }
}

/// The length of the record at the start of `bytes` if it is whole,
/// intact and applies to `state` (an appended entry must be the next one).
fn next_record(bytes: &[u8], state: &Replayed) -> Result<usize, String> {
    if bytes.len() < RECORD_HEADER_LEN {
        return Err("torn record header before the synced length".to_owned());
    }
    let length = u32_at(bytes, 0);
    if length > MAX_RECORD_LEN {
        return Err(format!("record length {length} is beyond any real record"));
    }
    let end = RECORD_HEADER_LEN + length as usize;
    let Some(payload) = bytes.get(RECORD_HEADER_LEN..end) else {
        return Err(format!(
            "record of {length} bytes runs past the synced length"
        ));
    };
    let checksum = crc32c::crc32c_append(crc32c::crc32c(&length.to_le_bytes()), payload);
    if checksum != u32_at(bytes, 4) {
        return Err("checksum mismatch".to_owned());
    }
    let record = decode_payload(payload).map_err(|error| error.to_string())?;
    if let Persist::TruncateLog { from } = &record {
        if *from <= state.base {
            return Err(format!("a truncation from {from}, before the first entry"));
        }
    }
    if let Persist::AppendEntry(entry) = &record {
        let expected = state.next_index();
        if entry.index != expected {
            return Err(format!("entry {} where {expected} was due", entry.index));
        }
    }
    Ok(end)
}

/// The fuzz target's body: the readers on arbitrary bytes never panic, and
/// what they accept writes back to the same thing.
pub fn fuzz_replay(data: &[u8]) {
    let identity = Identity {
        cluster_id: 1,
        node_id: 1,
    };
    let _ = read_state(data, identity);
    // The first 4 bytes say how much of the rest counts as synced; the log
    // header is added when missing so the records are reached.
    let (synced, rest) = data.split_at(data.len().min(4));
    let mut synced_len = synced.iter().fold(0u64, |n, &b| n << 8 | u64::from(b));
    let mut bytes = rest.to_vec();
    if !bytes.starts_with(&LOG_MAGIC) {
        let mut with_header = encode_log_header(identity, LogBase::default()).to_vec();
        with_header.extend_from_slice(&bytes);
        bytes = with_header;
        synced_len += LOG_HEADER_LEN as u64;
    }
    synced_len = synced_len.min(bytes.len() as u64 + 1);
    if let Ok(replay) = replay_log(&bytes, synced_len, identity) {
        assert_eq!(replay.tail_bytes, bytes.len() as u64 - synced_len);
        let mut again = encode_log_header(identity, replay.base).to_vec();
        for entry in &replay.log {
            encode_record(&Persist::AppendEntry(entry.clone()), &mut again);
        }
        let reread = replay_log(&again, again.len() as u64, identity)
            .expect("a log written from a replay replays");
        assert_eq!((reread.base, reread.log), (replay.base, replay.log));
    }
}
