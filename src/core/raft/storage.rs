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
                let kept_from = self
                    .log
                    .iter()
                    .position(|entry| entry.index == snapshot.index && entry.term == snapshot.term)
                    .map(|position| position + 1);
                let same_base = self.base_index() == snapshot.index
                    && self.snapshot.as_ref().map(|base| base.term) == Some(snapshot.term);
                match kept_from {
                    Some(kept_from) => {
                        self.log.drain(..kept_from);
                    }
                    None if same_base => {}
                    None => self.log.clear(),
                }
                self.snapshot = Some(snapshot);
            }
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
