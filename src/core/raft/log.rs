//! The replicated log: entries, the commands they carry, and the in-memory
//! log a node keeps (its durable copy lives with the caller, fed by
//! `Persist` records).

use std::fmt;
use std::sync::Arc;

use crate::core::client::Value;

pub use crate::core::raft::counters::{LogIndex, Term, MAX_TERM};

#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    /// Appended by every new leader so that it can commit an entry of its own
    /// term (Raft paper §5.4.2, §8).
    Noop,
    Write {
        key: String,
        value: Value,
    },
    CompareAndSet {
        key: String,
        expected: Option<Value>,
        new: Value,
    },
}

#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    pub term: Term,
    pub index: LogIndex,
    /// Shared, not copied: an entry lives in the log, in the persist record
    /// that makes it durable and in the append to every follower, and all of
    /// them point at one command (entries are never changed once created).
    pub command: Arc<Command>,
}

impl Entry {
    /// The bytes of what the entry carries: a write's key and value, a
    /// compare-and-set's key and both values (8 bytes a value), nothing for
    /// a no-op. What the bytes-per-append limit counts; the wire adds a few
    /// bytes of framing to each.
    pub fn payload_len(&self) -> usize {
        match &*self.command {
            Command::Noop => 0,
            Command::Write { key, .. } => key.len() + 8,
            Command::CompareAndSet { key, .. } => key.len() + 16,
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} ", self.term, self.index)?;
        match &*self.command {
            Command::Noop => write!(f, "noop"),
            Command::Write { key, value } => write!(f, "write {key}={value}"),
            Command::CompareAndSet { key, expected, new } => match expected {
                Some(expected) => write!(f, "cas {key} {expected}->{new}"),
                None => write!(f, "cas {key} nil->{new}"),
            },
        }
    }
}

/// An in-memory log. Invariant: `entries[i].index == i + 1` and terms never
/// decrease along the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Log {
    entries: Vec<Entry>,
    /// `bytes_through[i]`: the payload bytes ([`Entry::payload_len`]) of
    /// `entries[..=i]`, kept as entries come and go, so the bytes of any
    /// run of entries cost two lookups rather than a sum over the run (the
    /// bytes-per-append limit asks for them at every proposal, per
    /// follower). Derived from `entries` alone, so equality and hashing
    /// are unchanged by it.
    bytes_through: Vec<usize>,
}

impl Log {
    /// Rebuilds a log from durable entries, which must be contiguous from 1
    /// with non-decreasing terms (the caller's storage guarantees it).
    pub fn from_entries(entries: Vec<Entry>) -> Log {
        let mut log = Log::default();
        for entry in entries {
            log.append(entry);
        }
        log.check();
        log
    }

    pub fn last_index(&self) -> LogIndex {
        LogIndex::from_count(self.entries.len())
    }

    pub fn last_term(&self) -> Term {
        self.entries.last().map_or(Term::ZERO, |entry| entry.term)
    }

    /// The term of the entry at `index`, 0 for index 0, `None` past the end.
    pub fn term_at(&self, index: LogIndex) -> Option<Term> {
        if index == LogIndex::ZERO {
            return Some(Term::ZERO);
        }
        self.get(index).map(|entry| entry.term)
    }

    pub fn get(&self, index: LogIndex) -> Option<&Entry> {
        let position = usize::try_from(index.checked_prev()?.get()).ok()?;
        self.entries.get(position)
    }

    /// Entries `from..=to`, clipped to the log.
    pub fn slice(&self, from: LogIndex, to: LogIndex) -> &[Entry] {
        let start = from.saturating_prev().min(self.last_index()).count();
        let end = to.min(self.last_index()).count();
        &self.entries[start..end.max(start)]
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Whether a log ending at (`last_term`, `last_index`) is at least as up to
    /// date as this one (Raft paper §5.4.1).
    pub fn is_up_to_date(&self, last_term: Term, last_index: LogIndex) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }

    /// The first index of the run of entries with the same term as `index`.
    pub fn first_index_of_term_at(&self, index: LogIndex) -> LogIndex {
        let Some(term) = self.term_at(index) else {
            return index;
        };
        let mut first = index;
        while first > LogIndex::new(1) && self.term_at(first.prev()) == Some(term) {
            first = first.prev();
        }
        first
    }

    /// The last index whose entry has term `term`, if any.
    pub fn last_index_of_term(&self, term: Term) -> Option<LogIndex> {
        self.entries
            .iter()
            .rev()
            .find(|entry| entry.term == term)
            .map(|entry| entry.index)
    }

    pub fn append(&mut self, entry: Entry) {
        assert_eq!(
            entry.index,
            self.last_index().next(),
            "log append out of order"
        );
        assert!(entry.term >= self.last_term(), "log term went backwards");
        let through = self.bytes_through.last().copied().unwrap_or(0);
        self.bytes_through
            .push(through.saturating_add(entry.payload_len()));
        self.entries.push(entry);
    }

    /// Removes every entry at `from` and after.
    pub fn truncate_from(&mut self, from: LogIndex) {
        let kept = from.saturating_prev().count();
        self.entries.truncate(kept);
        self.bytes_through.truncate(kept);
    }

    /// The payload bytes of the entries up to `index` (clipped to the log).
    pub fn payload_bytes_through(&self, index: LogIndex) -> usize {
        match index.min(self.last_index()).count() {
            0 => 0,
            count => self.bytes_through[count - 1],
        }
    }

    /// The payload bytes of entries `from..=to`, clipped to the log: what
    /// summing [`Entry::payload_len`] over [`Log::slice`] gives.
    pub fn payload_bytes(&self, from: LogIndex, to: LogIndex) -> usize {
        self.payload_bytes_through(to)
            .saturating_sub(self.payload_bytes_through(from.saturating_prev()))
    }

    /// The last index from `from` on whose entries, together, carry at most
    /// `bytes` payload bytes, within entries `from..=to`; `from.prev()` when
    /// not even the entry at `from` fits. A binary search over the running
    /// byte counts, which never decrease along the log.
    pub fn last_fitting(&self, from: LogIndex, to: LogIndex, bytes: usize) -> LogIndex {
        let start = from.saturating_prev().min(self.last_index()).count();
        let end = to.min(self.last_index()).count().max(start);
        let budget = self
            .payload_bytes_through(from.saturating_prev())
            .saturating_add(bytes);
        let fitting = self.bytes_through[start..end].partition_point(|&through| through <= budget);
        LogIndex::from_count(start + fitting).max(from.prev())
    }

    pub(crate) fn check(&self) {
        let mut previous_term = Term::ZERO;
        for (position, entry) in self.entries.iter().enumerate() {
            assert_eq!(
                entry.index,
                LogIndex::from_count(position + 1),
                "log index gap"
            );
            assert!(entry.term >= previous_term, "log terms decrease");
            previous_term = entry.term;
        }
        assert_eq!(
            self.bytes_through.len(),
            self.entries.len(),
            "log byte counts out of step"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(index: u64, key_len: usize) -> Entry {
        let command = if key_len == 0 {
            Command::Noop
        } else {
            Command::Write {
                key: "k".repeat(key_len),
                value: index,
            }
        };
        Entry {
            term: Term::new(1),
            index: LogIndex::new(index),
            command: Arc::new(command),
        }
    }

    /// The running byte counts give what summing over the entries gives,
    /// for every range and budget, before and after a truncation.
    #[test]
    fn running_byte_counts_agree_with_summing_the_entries() {
        let key_lens = [0, 3, 1, 7, 2, 0, 5, 4];
        let mut log = Log::from_entries(
            (1..=key_lens.len() as u64)
                .map(|index| write(index, key_lens[index as usize - 1]))
                .collect(),
        );
        for truncate_at in [None, Some(6), Some(1)] {
            if let Some(from) = truncate_at {
                log.truncate_from(LogIndex::new(from));
                log.append(write(from, 2));
            }
            log.check();
            let last = log.last_index().get();
            for from in 1..=last + 1 {
                for to in 0..=last + 1 {
                    let (from, to) = (LogIndex::new(from), LogIndex::new(to));
                    let summed: usize = log.slice(from, to).iter().map(Entry::payload_len).sum();
                    assert_eq!(log.payload_bytes(from, to), summed, "{from}..={to}");
                    for budget in 0..40 {
                        let mut fitting = from.prev();
                        let mut used = 0;
                        for entry in log.slice(from, to) {
                            used += entry.payload_len();
                            if used > budget {
                                break;
                            }
                            fitting = entry.index;
                        }
                        assert_eq!(
                            log.last_fitting(from, to, budget),
                            fitting,
                            "{from}..={to} in {budget} bytes"
                        );
                    }
                }
            }
        }
    }
}
