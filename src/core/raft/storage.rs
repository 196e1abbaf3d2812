//! Durable Raft state: what a node must find again after a crash, the records
//! that change it, and an in-memory store that applies them (used by the
//! simulator, the model checker and the tests; the threaded driver writes the
//! same records to disk).

use crate::core::node::NodeId;
use crate::core::raft::log::{Entry, LogIndex, Term};

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
}

/// Everything durable about a node: what a restart starts from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DurableState {
    pub hard_state: HardState,
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
            Persist::TruncateLog { from } => self.log.truncate(from.saturating_prev().count()),
            Persist::AppendEntry(entry) => {
                assert_eq!(
                    entry.index,
                    LogIndex::from_count(self.log.len() + 1),
                    "durable log append out of order"
                );
                self.log.push(entry);
            }
        }
    }

    pub fn apply_all<'a>(&mut self, records: impl IntoIterator<Item = &'a Persist>) {
        for record in records {
            self.apply(record);
        }
    }
}
