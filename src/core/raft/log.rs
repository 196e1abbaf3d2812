//! The replicated log: entries, the commands they carry, and the in-memory
//! log a node keeps (its durable copy lives with the caller, fed by
//! `Persist` records).

use std::fmt;
use std::sync::Arc;

use crate::core::client::{Outcome, Value};
use crate::core::kv::KvStore;

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

impl Command {
    /// Applies the command to the state machine: what a node does with each
    /// committed entry, in log order. `None` for a no-op (nothing to answer).
    pub fn apply_to(&self, kv: &mut KvStore) -> Option<Outcome> {
        match self {
            Command::Noop => None,
            Command::Write { key, value } => Some(kv.write(key, *value)),
            Command::CompareAndSet { key, expected, new } => {
                Some(kv.compare_and_set(key, *expected, *new))
            }
        }
    }
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

/// An in-memory log whose prefix up to `base_index` may have been compacted
/// into a snapshot. Invariant: `entries[i].index == base_index + i + 1` and
/// terms never decrease along the log, starting from `base_term`. Every
/// accessor answers for the compacted prefix: [`Log::term_at`] knows the
/// base's term and nothing before it, [`Log::get`] and [`Log::slice`] hold
/// only what was kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Log {
    /// The last compacted index (0: nothing compacted) and its term.
    base_index: LogIndex,
    base_term: Term,
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
        Log::after_base(LogIndex::ZERO, Term::ZERO, entries)
    }

    /// Rebuilds a log compacted through `base_index` (whose entry had
    /// `base_term`) from the durable entries kept after it, which must be
    /// contiguous from `base_index + 1` with terms from `base_term` on.
    pub fn after_base(base_index: LogIndex, base_term: Term, entries: Vec<Entry>) -> Log {
        let mut log = Log {
            base_index,
            base_term,
            ..Log::default()
        };
        for entry in entries {
            log.append(entry);
        }
        log.check();
        log
    }

    /// The last index compacted into a snapshot (0 when none is).
    pub fn base_index(&self) -> LogIndex {
        self.base_index
    }

    /// The term of the entry at [`Log::base_index`].
    pub fn base_term(&self) -> Term {
        self.base_term
    }

    pub fn last_index(&self) -> LogIndex {
        self.base_index.plus(self.entries.len())
    }

    pub fn last_term(&self) -> Term {
        self.entries
            .last()
            .map_or(self.base_term, |entry| entry.term)
    }

    /// The term of the entry at `index`: the base's term at the base (0 for
    /// index 0), `None` before it (compacted) and past the end.
    pub fn term_at(&self, index: LogIndex) -> Option<Term> {
        if index == self.base_index {
            return Some(self.base_term);
        }
        self.get(index).map(|entry| entry.term)
    }

    /// The entry at `index`, `None` if compacted or past the end.
    pub fn get(&self, index: LogIndex) -> Option<&Entry> {
        let offset = index.get().checked_sub(self.base_index.get())?;
        let position = usize::try_from(offset.checked_sub(1)?).ok()?;
        self.entries.get(position)
    }

    /// How many kept entries are at or before `index`.
    fn kept_through(&self, index: LogIndex) -> usize {
        let through = index.min(self.last_index());
        through.get().saturating_sub(self.base_index.get()) as usize
    }

    /// Entries `from..=to`, clipped at the end of the log. Precondition:
    /// `from` is after the base (or the range is empty): a caller asking
    /// for compacted entries would silently get fewer than it asked for.
    pub fn slice(&self, from: LogIndex, to: LogIndex) -> &[Entry] {
        assert!(
            from > self.base_index || from > to,
            "slicing compacted entries from {from}"
        );
        let start = self.kept_through(from.saturating_prev());
        let end = self.kept_through(to);
        &self.entries[start..end.max(start)]
    }

    /// The entries kept (after the base).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Whether a log ending at (`last_term`, `last_index`) is at least as up to
    /// date as this one (Raft paper §5.4.1).
    pub fn is_up_to_date(&self, last_term: Term, last_index: LogIndex) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }

    /// The first index of the run of entries with the same term as `index`
    /// (stopping at the base: what came before it is compacted).
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

    /// The last index whose entry has term `term`, if any (the base counts).
    pub fn last_index_of_term(&self, term: Term) -> Option<LogIndex> {
        self.entries
            .iter()
            .rev()
            .find(|entry| entry.term == term)
            .map(|entry| entry.index)
            .or_else(|| {
                (self.base_index > LogIndex::ZERO && self.base_term == term)
                    .then_some(self.base_index)
            })
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

    /// Removes every entry at `from` and after. Precondition: `from` is
    /// after the base (a compacted entry is committed, never truncated).
    pub fn truncate_from(&mut self, from: LogIndex) {
        assert!(
            from > self.base_index,
            "truncating compacted entries at {from}"
        );
        let kept = self.kept_through(from.prev());
        self.entries.truncate(kept);
        self.bytes_through.truncate(kept);
    }

    /// Compacts every entry up to `index`, which must be in the log (kept,
    /// or the base itself): a snapshot now stands for them.
    pub fn compact_through(&mut self, index: LogIndex) {
        let term = self.term_at(index).expect("compacting within the log");
        let dropped = self.kept_through(index);
        let dropped_bytes = self.payload_bytes_through(index);
        self.entries.drain(..dropped);
        self.bytes_through.drain(..dropped);
        for through in &mut self.bytes_through {
            *through -= dropped_bytes;
        }
        self.base_index = index;
        self.base_term = term;
    }

    /// Installs a snapshot ending at (`index`, `term`) received from a
    /// leader (paper §7): if the log holds that entry, the entries after it
    /// are kept; otherwise the whole log goes. Precondition: `index` is
    /// after the base.
    pub fn install(&mut self, index: LogIndex, term: Term) {
        assert!(index > self.base_index, "installing an older snapshot");
        if self.term_at(index) == Some(term) {
            self.compact_through(index);
        } else {
            *self = Log {
                base_index: index,
                base_term: term,
                ..Log::default()
            };
        }
    }

    /// The payload bytes of the kept entries up to `index`.
    pub fn payload_bytes_through(&self, index: LogIndex) -> usize {
        match self.kept_through(index) {
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
    /// byte counts, which never decrease along the log. Precondition:
    /// `from` is after the base.
    pub fn last_fitting(&self, from: LogIndex, to: LogIndex, bytes: usize) -> LogIndex {
        let start = self.kept_through(from.saturating_prev());
        let end = self.kept_through(to).max(start);
        let budget = self
            .payload_bytes_through(from.saturating_prev())
            .saturating_add(bytes);
        let fitting = self.bytes_through[start..end].partition_point(|&through| through <= budget);
        self.base_index.plus(start + fitting).max(from.prev())
    }

    pub(crate) fn check(&self) {
        let mut previous_term = self.base_term;
        for (position, entry) in self.entries.iter().enumerate() {
            assert_eq!(
                entry.index,
                self.base_index.plus(position + 1),
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

    /// `check`, which the node's invariants run after every step, panics
    /// on each way a log can lose its shape: a gap in the indexes, terms
    /// that decrease, running byte counts out of step with the entries.
    #[test]
    fn the_log_check_notices_each_broken_shape() {
        let sound = Log::from_entries((1..=3).map(|index| write(index, 2)).collect());
        sound.check();
        let mut gap = sound.clone();
        gap.entries[1].index = LogIndex::new(5);
        let mut decreasing = sound.clone();
        decreasing.entries[0].term = Term::new(2);
        let mut below_base = sound.clone();
        below_base.base_term = Term::new(2);
        let mut counts = sound.clone();
        counts.bytes_through.pop();
        for (broken, says) in [
            (gap, "log index gap"),
            (decreasing, "log terms decrease"),
            (below_base, "log terms decrease"),
            (counts, "log byte counts out of step"),
        ] {
            let panic = std::panic::catch_unwind(|| broken.check()).expect_err(says);
            let message = crate::core::panic_message::panic_message(&*panic);
            assert!(message.contains(says), "{message:?} for {says:?}");
        }
    }

    /// What the bytes-per-append limit counts of an entry: its key, and 8
    /// bytes for each value it carries (a compare-and-set carries two, its
    /// expected one counted even when absent), for every key length; a
    /// no-op carries nothing. A count that grew slower than the key would
    /// let an append of long keys past the limit; one that grew faster
    /// would cut appends short of it.
    #[test]
    fn an_entry_counts_its_key_and_eight_bytes_a_value() {
        let entry = |command| Entry {
            term: Term::new(1),
            index: LogIndex::new(1),
            command: Arc::new(command),
        };
        assert_eq!(entry(Command::Noop).payload_len(), 0);
        for key_len in 0..=40 {
            let key = "k".repeat(key_len);
            let write = Command::Write {
                key: key.clone(),
                value: 7,
            };
            assert_eq!(entry(write).payload_len(), key_len + 8, "write");
            for expected in [None, Some(3)] {
                let cas = Command::CompareAndSet {
                    key: key.clone(),
                    expected,
                    new: 9,
                };
                assert_eq!(entry(cas).payload_len(), key_len + 16, "cas");
            }
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
        // Truncated, then compacted twice: the counts hold on either side
        // of the base.
        for (truncate_at, compact_through) in [
            (None, None),
            (Some(6), None),
            (Some(1), None),
            (None, Some(3)),
            (Some(5), Some(4)),
        ] {
            if let Some(from) = truncate_at {
                log.truncate_from(LogIndex::new(from));
                while log.last_index() < LogIndex::new(8) {
                    let next = log.last_index().next().get();
                    log.append(write(next, next as usize % 4));
                }
            }
            if let Some(through) = compact_through {
                log.compact_through(LogIndex::new(through));
                assert_eq!(log.base_index(), LogIndex::new(through));
                assert_eq!(log.term_at(LogIndex::new(through)), Some(Term::new(1)));
                assert_eq!(log.term_at(LogIndex::new(through - 1)), None);
                assert!(log.get(LogIndex::new(through)).is_none());
            }
            log.check();
            let last = log.last_index().get();
            let first = log.base_index().get() + 1;
            for from in first..=last + 1 {
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

    /// The fast back-off's lookup (`last_index_of_term`) answers the last
    /// index holding `term`, counting the snapshot's base, and nothing for
    /// a term the log holds no entry of: then the leader falls back to the
    /// follower's hint (paper Figure 7, follower (f), whose term the leader
    /// never saw). Checked against a scan of every index, for logs with and
    /// without a snapshot, for every term including 0 (which no entry has).
    #[test]
    fn the_last_index_of_a_term_is_the_last_index_that_holds_it() {
        let terms = [1, 1, 3, 3, 3, 4];
        let entries = terms
            .iter()
            .zip(1..)
            .map(|(&term, index)| Entry {
                term: Term::new(term),
                index: LogIndex::new(index),
                command: Arc::new(Command::Noop),
            })
            .collect();
        let mut log = Log::from_entries(entries);
        for compact_through in [None, Some(2), Some(4), Some(6)] {
            if let Some(through) = compact_through {
                log.compact_through(LogIndex::new(through));
            }
            let first = log.base_index().get().max(1);
            for term in 0..=5 {
                let scanned = (first..=log.last_index().get())
                    .rev()
                    .map(LogIndex::new)
                    .find(|&index| log.term_at(index) == Some(Term::new(term)));
                assert_eq!(
                    log.last_index_of_term(Term::new(term)),
                    scanned,
                    "term {term}, compacted through {compact_through:?}"
                );
            }
        }
    }
}
