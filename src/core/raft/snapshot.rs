//! Snapshots of the state machine (paper §7): the key-value state at an
//! applied index, with that index's term and the membership in force, which
//! replaces the log up to that index. A node takes one every
//! `Config::snapshot_every` applied entries (or when an operator asks,
//! [`RaftNode::take_snapshot`]), and a leader sends one, in chunks, to a
//! follower that needs entries it has compacted away.
//!
//! [`RaftNode::take_snapshot`]: crate::core::raft::RaftNode::take_snapshot

use std::sync::Arc;

use crate::core::client::Value;
use crate::core::kv::KvStore;
use crate::core::node::NodeId;
use crate::core::raft::counters::{LogIndex, Term};

/// The state machine after applying every entry up to `index`. Shared (an
/// `Arc`) between the node, the persist record that makes it durable and a
/// transfer in progress: a snapshot never changes once taken.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Snapshot {
    /// The last index it covers (committed and applied when it was taken).
    pub index: LogIndex,
    /// The term of the entry at `index`.
    pub term: Term,
    /// The members in force at `index`, sorted.
    pub members: Vec<NodeId>,
    pub kv: KvStore,
}

impl Snapshot {
    /// The pairs of the chunk starting `offset` pairs in (in key order): at
    /// most `max_pairs` pairs carrying at most `max_bytes` bytes (a key's
    /// bytes and 8 for its value, as [`Entry::payload_len`] counts a write),
    /// but at least one pair when any is left, however large. `after` is
    /// the key of the pair before `offset`, when the caller knows it: the
    /// chunk then starts there in the map (a transfer costs its pairs, not
    /// the square of them); without it the pairs before are counted off.
    ///
    /// [`Entry::payload_len`]: crate::core::raft::Entry::payload_len
    pub fn chunk(
        &self,
        offset: u64,
        after: Option<&str>,
        max_pairs: usize,
        max_bytes: usize,
    ) -> Vec<(String, Value)> {
        let rest: Box<dyn Iterator<Item = (&str, Value)>> = match after {
            _ if offset == 0 => Box::new(self.kv.iter()),
            Some(key) => Box::new(self.kv.iter_after(Some(key))),
            None => Box::new(
                self.kv
                    .iter()
                    .skip(usize::try_from(offset).unwrap_or(usize::MAX)),
            ),
        };
        let mut pairs = Vec::new();
        let mut bytes = 0usize;
        for (key, value) in rest {
            let size = pair_len(key);
            if !pairs.is_empty() && (pairs.len() == max_pairs || bytes + size > max_bytes) {
                break;
            }
            bytes += size;
            pairs.push((key.to_owned(), value));
        }
        pairs
    }

    /// How many pairs the snapshot holds: a transfer is done when the
    /// follower received this many.
    pub fn pair_count(&self) -> u64 {
        self.kv.len() as u64
    }
}

/// The bytes a pair counts against the bytes-per-append limit.
pub fn pair_len(key: &str) -> usize {
    key.len() + 8
}

/// A snapshot a follower is receiving, chunk by chunk, from its leader.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Incoming {
    pub index: LogIndex,
    pub term: Term,
    pub members: Vec<NodeId>,
    /// The pairs received so far, in key order.
    pub kv: KvStore,
}

impl Incoming {
    /// How many pairs arrived so far: the offset the next chunk must start at.
    pub fn received(&self) -> u64 {
        self.kv.len() as u64
    }

    /// Adds a chunk's pairs. Precondition: [`Incoming::accepts_pairs`].
    pub fn add(&mut self, pairs: Vec<(String, Value)>) {
        for (key, value) in pairs {
            self.kv.write(&key, value);
        }
    }

    /// Whether `pairs` may follow what arrived: keys strictly increasing and
    /// after every key received (so the pairs are a snapshot's, in order,
    /// and the count of pairs is the offset of the next chunk).
    pub fn accepts_pairs(&self, pairs: &[(String, Value)]) -> bool {
        let mut last = self.kv.last_key();
        for (key, _) in pairs {
            if last.is_some_and(|last| last >= key.as_str()) {
                return false;
            }
            last = Some(key);
        }
        true
    }

    /// The finished snapshot.
    pub fn finish(self) -> Arc<Snapshot> {
        Arc::new(Snapshot {
            index: self.index,
            term: self.term,
            members: self.members,
            kv: self.kv,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(keys: &[&str]) -> Snapshot {
        let mut kv = KvStore::default();
        for (value, key) in keys.iter().enumerate() {
            kv.write(key, value as Value);
        }
        Snapshot {
            index: LogIndex::new(9),
            term: Term::new(2),
            members: vec![1, 2, 3],
            kv,
        }
    }

    /// Chunks cover the pairs in order, each within both limits (but never
    /// empty), and put back together give the snapshot.
    #[test]
    fn chunks_cover_the_snapshot_within_the_limits() {
        let taken = snapshot(&["a", "bbbbbbbbbbbbbbbbbbbb", "c", "d", "e"]);
        for (max_pairs, max_bytes) in [(1, 100), (2, 100), (64, 18), (64, 1), (64, 1000)] {
            let mut incoming = Incoming {
                index: taken.index,
                term: taken.term,
                members: taken.members.clone(),
                kv: KvStore::default(),
            };
            let mut last_key: Option<String> = None;
            while incoming.received() < taken.pair_count() {
                let offset = incoming.received();
                let pairs = taken.chunk(offset, last_key.as_deref(), max_pairs, max_bytes);
                // Counting the pairs off gives the same chunk.
                assert_eq!(pairs, taken.chunk(offset, None, max_pairs, max_bytes));
                assert!(!pairs.is_empty(), "an empty chunk before the end");
                let bytes: usize = pairs.iter().map(|(key, _)| pair_len(key)).sum();
                assert!(pairs.len() <= max_pairs);
                assert!(pairs.len() == 1 || bytes <= max_bytes, "{pairs:?}");
                assert!(incoming.accepts_pairs(&pairs));
                last_key = pairs.last().map(|(key, _)| key.clone());
                incoming.add(pairs);
            }
            assert!(taken
                .chunk(
                    incoming.received(),
                    last_key.as_deref(),
                    max_pairs,
                    max_bytes
                )
                .is_empty());
            assert_eq!(*incoming.finish(), taken);
        }
    }

    #[test]
    fn pairs_out_of_order_are_refused() {
        let mut incoming = Incoming {
            index: LogIndex::new(1),
            term: Term::new(1),
            members: vec![1],
            kv: KvStore::default(),
        };
        incoming.add(vec![("b".into(), 1)]);
        assert!(!incoming.accepts_pairs(&[("a".into(), 1)]));
        assert!(!incoming.accepts_pairs(&[("b".into(), 1)]));
        assert!(!incoming.accepts_pairs(&[("c".into(), 1), ("c".into(), 2)]));
        assert!(incoming.accepts_pairs(&[("c".into(), 1), ("d".into(), 2)]));
    }
}
