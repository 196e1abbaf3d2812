//! Durable Raft state: what a node must find again after a crash, the records
//! that change it, and an in-memory store that applies them (used by the
//! simulator, the model checker and the tests; the threaded driver writes the
//! same records to disk).

use std::sync::Arc;

use crate::core::node::NodeId;
use crate::core::raft::log::{Entry, LogIndex, Term};
use crate::core::raft::snapshot::Snapshot;

/// Term and vote: a node must never forget a vote it cast (one vote per term).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HardState {
    pub term: Term,
    pub voted_for: Option<NodeId>,
}

/// One change to durable state. Applied in order, all before any message of
/// the same step is sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Persist {
    HardState(HardState),
    /// Remove every log entry at `from` and after (conflict repair).
    TruncateLog {
        from: LogIndex,
    },
    AppendEntry(Entry),
    /// A snapshot taken or installed: it replaces the log through its
    /// index. The entries after that index are kept if the entry at the
    /// index has the snapshot's term (a snapshot the node took itself
    /// always has), and all go otherwise (paper §7).
    Snapshot(Arc<Snapshot>),
}

/// Everything durable about a node: what a restart starts from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DurableState {
    pub hard_state: HardState,
    /// The latest snapshot, standing for the log through its index.
    pub snapshot: Option<Arc<Snapshot>>,
    /// The entries after the snapshot's index (from 1 without one).
    pub log: Vec<Entry>,
}

impl DurableState {
    pub fn apply(&mut self, record: &Persist) {
        self.apply_owned(record.clone());
    }

    /// Applies a record the caller no longer needs, without copying it.
    pub fn apply_owned(&mut self, record: Persist) {
        match record {
            Persist::HardState(hard_state) => self.hard_state = hard_state,
            Persist::TruncateLog { from } => {
                assert!(
                    from > self.base_index(),
                    "truncating the durable log inside its snapshot"
                );
                let kept = from
                    .get()
                    .saturating_sub(self.base_index().get().saturating_add(1));
                self.log
                    .truncate(usize::try_from(kept).unwrap_or(usize::MAX));
            }
            Persist::AppendEntry(entry) => {
                assert_eq!(
                    entry.index,
                    self.base_index().plus(self.log.len() + 1),
                    "durable log append out of order"
                );
                self.log.push(entry);
            }
            Persist::Snapshot(snapshot) => {
                // Applied whatever its index: the durable state mirrors the
                // records. The core never makes a snapshot older than its
                // commit index durable (it asserts so before installing
                // one); only the planted `install_older_snapshot` bug does,
                // and its node must restart as it runs.
                let same_base = self.base_index() == snapshot.index
                    && self.snapshot.as_ref().map(|base| base.term) == Some(snapshot.term);
                if !same_base {
                    self.log = entries_after(&snapshot, std::mem::take(&mut self.log));
                }
                self.snapshot = Some(snapshot);
            }
        }
    }

    /// What a restart finds when a snapshot and a log were written
    /// separately and a crash may have come between the two: `log` is
    /// whatever log is on disk, compacted through `snapshot` or not yet
    /// (still starting after an older snapshot). The result is the state
    /// the snapshot's record would have left ([`entries_after`]), so a
    /// crash between writing the snapshot and rewriting the log recovers
    /// to the same state as one after both.
    pub fn recovered(
        hard_state: HardState,
        snapshot: Option<Arc<Snapshot>>,
        log: Vec<Entry>,
    ) -> DurableState {
        let compacted_before = |snapshot: &Snapshot| {
            log.first()
                .is_some_and(|first| first.index == snapshot.index.plus(1))
        };
        let log = match &snapshot {
            // Rewritten after this snapshot already: nothing to cut.
            Some(snapshot) if compacted_before(snapshot) => log,
            Some(snapshot) => entries_after(snapshot, log),
            None => log,
        };
        DurableState {
            hard_state,
            snapshot,
            log,
        }
    }

    /// The index the durable snapshot covers (0 without one).
    pub fn base_index(&self) -> LogIndex {
        self.snapshot
            .as_ref()
            .map_or(LogIndex::ZERO, |snapshot| snapshot.index)
    }

    pub fn apply_all<'a>(&mut self, records: impl IntoIterator<Item = &'a Persist>) {
        for record in records {
            self.apply(record);
        }
    }
}

/// The entries of `log` a snapshot leaves (paper §7): those after its
/// index if the log holds the snapshot's last entry (same index and term),
/// none otherwise.
pub fn entries_after(snapshot: &Snapshot, mut log: Vec<Entry>) -> Vec<Entry> {
    match log
        .iter()
        .position(|entry| entry.index == snapshot.index && entry.term == snapshot.term)
    {
        Some(last_covered) => {
            log.drain(..=last_covered);
            log
        }
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::kv::KvStore;
    use crate::core::raft::log::Command;

    fn entry(index: u64, term: u64) -> Entry {
        Entry {
            term: Term::new(term),
            index: LogIndex::new(index),
            command: Arc::new(Command::Noop),
        }
    }

    fn snapshot(index: u64, term: u64) -> Arc<Snapshot> {
        Arc::new(Snapshot {
            index: LogIndex::new(index),
            term: Term::new(term),
            members: vec![1, 2, 3],
            kv: KvStore::default(),
        })
    }

    /// A crash after the snapshot is durable but before the log is
    /// compacted recovers to what applying the snapshot's record gives.
    #[test]
    fn a_crash_between_snapshot_and_compaction_recovers_the_compacted_state() {
        let log: Vec<Entry> = (1..=5).map(|index| entry(index, 1 + index / 3)).collect();
        for (index, term) in [(3, 2), (3, 1), (5, 2), (7, 3), (2, 1)] {
            let taken = snapshot(index, term);
            let mut applied = DurableState {
                log: log.clone(),
                ..DurableState::default()
            };
            applied.apply(&Persist::Snapshot(Arc::clone(&taken)));
            let crashed = DurableState::recovered(
                HardState::default(),
                Some(Arc::clone(&taken)),
                log.clone(),
            );
            assert_eq!(crashed, applied, "snapshot at {index} term {term}");
            // Recovering again from the compacted log changes nothing.
            let again =
                DurableState::recovered(HardState::default(), Some(taken), applied.log.clone());
            assert_eq!(again, applied);
        }
    }

    #[test]
    fn entries_after_keeps_the_suffix_only_when_the_last_covered_entry_matches() {
        let log: Vec<Entry> = vec![entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)];
        assert_eq!(
            entries_after(&snapshot(2, 1), log.clone()),
            log[2..].to_vec()
        );
        assert_eq!(entries_after(&snapshot(2, 2), log.clone()), Vec::new());
        assert_eq!(entries_after(&snapshot(4, 2), log.clone()), Vec::new());
        assert_eq!(entries_after(&snapshot(9, 3), log.clone()), Vec::new());
        // A log compacted through the snapshot before is kept whole.
        let compacted = DurableState::recovered(
            HardState::default(),
            Some(snapshot(2, 1)),
            log[2..].to_vec(),
        );
        assert_eq!(compacted.log, log[2..].to_vec());
    }
}
