//! What a raft-rs node keeps on disk, and the `raft::Storage` its `RawNode`
//! reads it back through.
//!
//! [`RaftRsLog`] is at once the adapter's durable state (the simulator's
//! `Algorithm::Durable`, written only through [`Record`]s on the persist
//! path) and the node's own copy of what it has handed to that path. It is
//! a plain value: cloning it copies the log, unlike `MemStorage`, whose
//! clones share one store. The log is never compacted, so there are no
//! snapshots and entry `i` sits at position `i - 1`.

use raft::eraftpb::{ConfState, Entry, HardState, Snapshot};
use raft::{GetEntriesContext, RaftState, Storage, StorageError};

/// A raft-rs node's durable state: its hard state (term, vote, commit) and
/// its log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RaftRsLog {
    hard_state: HardState,
    entries: Vec<Entry>,
}

/// One write to a [`RaftRsLog`], in the order a `Ready` asks for them.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// Entries to append; any existing entry at or after the first one's
    /// index is replaced (a follower overwriting a conflicting suffix).
    Entries(Vec<Entry>),
    HardState(HardState),
    /// A commit index that advanced after the entries it covers were
    /// persisted (`LightReady::commit_index`).
    Commit(u64),
}

impl RaftRsLog {
    pub fn apply(&mut self, record: Record) {
        match record {
            Record::Entries(entries) => self.append(entries),
            Record::HardState(hard_state) => self.hard_state = hard_state,
            Record::Commit(commit) => {
                assert!(commit >= self.hard_state.commit, "commits never go back");
                self.hard_state.commit = commit;
            }
        }
    }

    fn append(&mut self, entries: Vec<Entry>) {
        let Some(first) = entries.first() else {
            return;
        };
        assert!(
            first.index >= 1 && first.index <= self.last_index() + 1,
            "an append at {} would leave a gap after {}",
            first.index,
            self.last_index()
        );
        debug_assert!(
            entries
                .windows(2)
                .all(|pair| pair[1].index == pair[0].index + 1),
            "appended entries are contiguous"
        );
        self.entries.truncate((first.index - 1) as usize);
        self.entries.extend(entries);
    }

    pub fn hard_state(&self) -> &HardState {
        &self.hard_state
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn last_index(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The log as electorate prints and checks one (a crashed node's, for
    /// the scenario language's `logs`).
    pub fn entry_views(&self) -> Vec<crate::core::raft::Entry> {
        self.entries.iter().map(super::node::entry_view).collect()
    }

    fn term_at(&self, index: u64) -> Option<u64> {
        match index {
            0 => Some(0),
            _ => self
                .entries
                .get((index - 1) as usize)
                .map(|entry| entry.term),
        }
    }
}

/// The storage a node's `RawNode` reads: its [`RaftRsLog`] and the fixed
/// voter set (membership never changes in these runs, so it is
/// configuration, not durable state).
#[derive(Clone, Debug)]
pub struct NodeStorage {
    pub log: RaftRsLog,
    conf_state: ConfState,
}

impl NodeStorage {
    pub fn new(log: RaftRsLog, voters: &[u64]) -> NodeStorage {
        NodeStorage {
            log,
            conf_state: ConfState::from((voters.to_vec(), Vec::new())),
        }
    }
}

impl Storage for NodeStorage {
    fn initial_state(&self) -> raft::Result<RaftState> {
        Ok(RaftState::new(
            self.log.hard_state.clone(),
            self.conf_state.clone(),
        ))
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        _context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        if low == 0 {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        // The trait's contract: raft-rs never asks beyond the last entry.
        assert!(
            low <= high && high <= self.log.last_index() + 1,
            "entries [{low}, {high}) asked of a log ending at {}",
            self.log.last_index()
        );
        let mut entries = self.log.entries[(low - 1) as usize..(high - 1) as usize].to_vec();
        raft::util::limit_size(&mut entries, max_size.into());
        Ok(entries)
    }

    fn term(&self, index: u64) -> raft::Result<u64> {
        self.log
            .term_at(index)
            .ok_or(raft::Error::Store(StorageError::Unavailable))
    }

    fn first_index(&self) -> raft::Result<u64> {
        Ok(1)
    }

    fn last_index(&self) -> raft::Result<u64> {
        Ok(self.log.last_index())
    }

    /// Never needed: the log is never compacted, so a leader always has the
    /// entries a follower lacks.
    fn snapshot(&self, _request_index: u64, _to: u64) -> raft::Result<Snapshot> {
        Err(raft::Error::Store(
            StorageError::SnapshotTemporarilyUnavailable,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, term: u64) -> Entry {
        Entry {
            index,
            term,
            ..Entry::default()
        }
    }

    #[test]
    fn an_append_replaces_the_conflicting_suffix() {
        let mut log = RaftRsLog::default();
        log.apply(Record::Entries(vec![entry(1, 1), entry(2, 1), entry(3, 1)]));
        log.apply(Record::Entries(vec![entry(2, 2)]));
        let terms: Vec<u64> = log.entries().iter().map(|entry| entry.term).collect();
        assert_eq!(terms, [1, 2]);
        let storage = NodeStorage::new(log, &[1, 2, 3]);
        assert_eq!(storage.term(2).unwrap(), 2);
        assert_eq!(storage.term(0).unwrap(), 0);
        assert!(storage.term(3).is_err());
    }

    #[test]
    fn hard_state_and_commit_records_land_in_order() {
        let mut log = RaftRsLog::default();
        log.apply(Record::HardState(HardState {
            term: 3,
            vote: 2,
            commit: 1,
            ..HardState::default()
        }));
        log.apply(Record::Commit(4));
        assert_eq!(
            (
                log.hard_state().term,
                log.hard_state().vote,
                log.hard_state().commit
            ),
            (3, 2, 4)
        );
    }
}
