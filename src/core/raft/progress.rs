//! What a leader knows of each follower's log, and the flow control of
//! appends to it (etcd's `tracker` and its three states: probe, replicate,
//! snapshot).

use std::collections::VecDeque;
use std::sync::Arc;

use crate::core::raft::counters::{LogIndex, Round};
use crate::core::raft::snapshot::Snapshot;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The follower's log position is unknown: send one append at a time and
    /// wait for its answer (or the next heartbeat response).
    Probe { waiting: bool },
    /// The follower accepted our last append: stream appends optimistically,
    /// at most `max_inflight_appends` unacknowledged.
    Replicate,
    /// The follower needs entries compacted into a snapshot: send it chunk
    /// by chunk, one at a time, from the pairs the follower said it holds.
    Snapshot { transfer: Transfer, waiting: bool },
}

/// A snapshot on its way to a follower. The snapshot is pinned: a leader
/// that compacts again meanwhile still finishes this one (the follower
/// then needs only the entries after it, or the newer snapshot), so a
/// transfer ends however often the leader snapshots.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Transfer {
    pub snapshot: Arc<Snapshot>,
    /// How many pairs (in key order) the follower said it holds.
    pub acked: u64,
    /// The key of the last of them, when known: the next chunk starts
    /// after it without walking the pairs before.
    pub acked_key: Option<String>,
    /// The chunk in flight: the count of pairs it ends at, and its last key.
    pub sent: Option<(u64, String)>,
}

impl Transfer {
    pub fn new(snapshot: Arc<Snapshot>) -> Transfer {
        Transfer {
            snapshot,
            acked: 0,
            acked_key: None,
            sent: None,
        }
    }

    /// The follower holds the first `received` pairs.
    pub fn acknowledge(&mut self, received: u64) {
        self.acked_key = match &self.sent {
            Some((end, key)) if *end == received => Some(key.clone()),
            _ if received == self.acked => self.acked_key.take(),
            // An offset we never sent through (the follower held more
            // than we knew): the next chunk counts its way there.
            _ => None,
        };
        self.acked = received;
    }
}

/// Invariant: `matched < next`; in `Replicate`, `inflight` holds the last
/// index of each unacknowledged append, increasing, all below `next`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Progress {
    pub matched: LogIndex,
    pub next: LogIndex,
    pub mode: Mode,
    pub inflight: VecDeque<LogIndex>,
    /// Heard from since the last CheckQuorum.
    pub recently_active: bool,
    /// The highest heartbeat round this follower acknowledged.
    pub acked_round: Round,
}

impl Progress {
    pub fn new(next: LogIndex) -> Progress {
        Progress {
            matched: LogIndex::ZERO,
            next,
            mode: Mode::Probe { waiting: false },
            inflight: VecDeque::new(),
            recently_active: false,
            acked_round: Round::ZERO,
        }
    }

    /// Whether another append may be sent now.
    pub fn can_send(&self, max_inflight: usize) -> bool {
        match self.mode {
            Mode::Probe { waiting } | Mode::Snapshot { waiting, .. } => !waiting,
            Mode::Replicate => self.inflight.len() < max_inflight,
        }
    }

    /// Records that an append ending at `last_index` was sent.
    pub fn sent(&mut self, last_index: LogIndex) {
        match &mut self.mode {
            Mode::Probe { waiting } | Mode::Snapshot { waiting, .. } => *waiting = true,
            Mode::Replicate => {
                self.next = last_index.next();
                self.inflight.push_back(last_index);
            }
        }
    }

    /// The follower holds our log up to `index`. Returns whether that is news.
    pub fn accepted(&mut self, index: LogIndex) -> bool {
        while self.inflight.front().is_some_and(|&sent| sent <= index) {
            self.inflight.pop_front();
        }
        let advanced = index > self.matched;
        if advanced {
            self.matched = index;
        }
        self.next = self.next.max(index.next());
        // A snapshot transfer ends only with an acceptance covering the
        // snapshot (a late answer to an older append does not end it).
        let ends_transfer = match &self.mode {
            Mode::Probe { .. } => true,
            Mode::Snapshot { transfer, .. } => index >= transfer.snapshot.index,
            Mode::Replicate => false,
        };
        if ends_transfer {
            self.mode = Mode::Replicate;
            self.inflight.clear();
        }
        advanced
    }

    /// The follower rejected; resume probing at `next` (clamped above the
    /// known match).
    pub fn rejected(&mut self, next: LogIndex) {
        self.next = next.max(self.matched.next());
        self.mode = Mode::Probe { waiting: false };
        self.inflight.clear();
    }

    /// A heartbeat response unblocks a probe or a snapshot chunk that lost
    /// its answer.
    pub fn heard_heartbeat_response(&mut self) {
        if let Mode::Probe { waiting } | Mode::Snapshot { waiting, .. } = &mut self.mode {
            *waiting = false;
        }
    }

    /// A chunk of `transfer` (recorded in its `sent`) goes to the follower.
    pub fn sent_snapshot(&mut self, transfer: Transfer) {
        self.mode = Mode::Snapshot {
            transfer,
            waiting: true,
        };
        self.inflight.clear();
    }

    pub fn check(&self, last_index: LogIndex, max_inflight: usize) {
        assert!(self.matched < self.next, "progress: match >= next");
        assert!(self.next <= last_index.next(), "progress: next beyond log");
        assert!(
            self.inflight.len() <= max_inflight,
            "progress: inflight overflow"
        );
        assert!(
            self.inflight.iter().all(|&index| index < self.next),
            "progress: inflight beyond next"
        );
        if let Mode::Snapshot { transfer, .. } = &self.mode {
            // The transfer ends with the acceptance covering the snapshot.
            assert!(
                self.matched < transfer.snapshot.index,
                "progress: a snapshot transfer to a follower that holds it"
            );
            assert!(
                transfer.acked <= transfer.snapshot.pair_count(),
                "progress: more pairs acknowledged than the snapshot holds"
            );
            assert!(
                self.inflight.is_empty(),
                "progress: appends during a transfer"
            );
        }
    }
}
