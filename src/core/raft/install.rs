//! Snapshots in the protocol (paper §7): taking one (every
//! `Config::snapshot_every` applied entries, or when an operator asks) and
//! compacting the log through it; sending it, chunk by chunk, to a follower
//! whose next entry was compacted away; and installing it on the follower.
//!
//! What this leaves unchanged: a snapshot holds only applied (so
//! committed) entries, so compaction never touches what the commit rule,
//! the lease or ReadIndex look at (the commit index and the entries after
//! it), and a follower that installs one holds exactly the leader's
//! committed prefix through the snapshot's index. Persist-before-send is
//! kept as everywhere: the snapshot's record goes in `ctx.out.persist`,
//! made durable before the acceptance that reports it leaves.

use std::sync::Arc;

use crate::core::node::{DropReason, Event, NodeId};
use crate::core::raft::counters::Round;
use crate::core::raft::log::Log;
use crate::core::raft::message::{Body, InstallSnapshot, InstallSnapshotResponse, Message};
use crate::core::raft::progress::{Mode, Progress, Transfer};
use crate::core::raft::role::LeaderState;
use crate::core::raft::snapshot::{Incoming, Snapshot};
use crate::core::raft::state::{Ctx, RaftNode, Replica};
use crate::core::raft::storage::Persist;
use crate::core::raft::{LogIndex, RaftActions};

impl RaftNode {
    /// An operator asks for a snapshot now: of the state machine at the
    /// applied index, compacting the log through it. The snapshot's record
    /// goes in `out.persist` (make it durable as any step's); returns the
    /// snapshot's index, or `None` when nothing was applied since the last
    /// one.
    pub fn take_snapshot(&mut self, out: &mut RaftActions) -> Option<LogIndex> {
        let taken = self.replica.take_snapshot(out);
        self.invariants();
        taken
    }
}

impl Replica {
    /// Takes a snapshot at the applied index if the policy says one is
    /// due: `snapshot_every` entries or `snapshot_bytes` payload bytes
    /// applied since the last one, whichever comes first.
    pub(super) fn maybe_take_snapshot(&mut self, out: &mut RaftActions) {
        let (every, bytes) = (self.config.snapshot_every, self.config.snapshot_bytes);
        let since = self.applied_index.get() - self.log.base_index().get();
        let entries_due = every > 0 && since >= every;
        // Only asked for when the byte limit is set: the sum is two lookups.
        let bytes_due =
            bytes > 0 && self.log.payload_bytes_through(self.applied_index) as u64 >= bytes;
        if entries_due || bytes_due {
            self.take_snapshot(out);
        }
    }

    /// A snapshot of the state machine at the applied index, and the log
    /// compacted through it.
    pub(super) fn take_snapshot(&mut self, out: &mut RaftActions) -> Option<LogIndex> {
        let index = self.applied_index;
        if index <= self.log.base_index() {
            return None;
        }
        let term = self
            .log
            .term_at(index)
            .expect("applied entries are in the log");
        let snapshot = Arc::new(Snapshot {
            index,
            term,
            members: self.membership.members().to_vec(),
            kv: self.kv.clone(),
        });
        out.persist.push(Persist::Snapshot(Arc::clone(&snapshot)));
        self.log.compact_through(index);
        self.snapshot = Some(snapshot);
        out.events.push(Event::Snapshot {
            index: index.get(),
            from: None,
        });
        Some(index)
    }

    /// Sends `peer`, whose next entry is compacted away, the next chunk of
    /// the snapshot on its way to it (pinned when the transfer began, so a
    /// newer snapshot taken meanwhile does not start it over), or the first
    /// chunk of our snapshot.
    pub(super) fn send_snapshot_chunk(
        &self,
        progress: &mut Progress,
        ctx: &mut Ctx,
        peer: NodeId,
        round: Round,
    ) {
        let current = self
            .snapshot
            .as_ref()
            .expect("a compacted log has its snapshot");
        assert_eq!(
            current.index,
            self.log.base_index(),
            "the latest snapshot is the log's base"
        );
        let mut transfer = match &progress.mode {
            Mode::Snapshot { transfer, .. } => transfer.clone(),
            _ => Transfer::new(Arc::clone(current)),
        };
        assert!(
            transfer.snapshot.index <= current.index,
            "a transfer of a snapshot newer than our own"
        );
        let pairs = transfer.snapshot.chunk(
            transfer.acked,
            transfer.acked_key.as_deref(),
            self.config.max_entries_per_append,
            self.config.max_bytes_per_append,
        );
        let end = transfer.acked + pairs.len() as u64;
        let done = end >= transfer.snapshot.pair_count();
        transfer.sent = pairs.last().map(|(key, _)| (end, key.clone()));
        let install = InstallSnapshot {
            index: transfer.snapshot.index,
            snapshot_term: transfer.snapshot.term,
            members: transfer.snapshot.members.clone(),
            offset: transfer.acked,
            pairs,
            done,
            round,
        };
        progress.sent_snapshot(transfer);
        let message = Message {
            term: self.hard_state.term,
            body: Body::InstallSnapshot(install),
        };
        ctx.out.send(peer, message);
    }

    /// A follower acknowledged a chunk: go on from what it holds. A late
    /// answer to an earlier chunk (fewer pairs than it already said it
    /// holds) is dropped, so the transfer never moves back, except to the
    /// start: a follower that restarted lost what had arrived.
    pub(super) fn handle_install_snapshot_response(
        &mut self,
        leader: &mut LeaderState,
        ctx: &mut Ctx,
        from: NodeId,
        response: InstallSnapshotResponse,
    ) {
        let progress = leader.progress.get_mut(&from).expect("peers are checked");
        progress.recently_active = true;
        let Mode::Snapshot { transfer, waiting } = &mut progress.mode else {
            ctx.out.drop_input(Some(from), DropReason::Stale);
            return;
        };
        if transfer.snapshot.index != response.index {
            ctx.out.drop_input(Some(from), DropReason::Stale);
            return;
        }
        if response.received > transfer.snapshot.pair_count() {
            ctx.out.drop_input(
                Some(from),
                DropReason::IndexOutOfRange {
                    index: response.received,
                },
            );
            return;
        }
        if response.received < transfer.acked && response.received != 0 {
            ctx.out.drop_input(Some(from), DropReason::Stale);
            return;
        }
        transfer.acknowledge(response.received);
        *waiting = false;
        self.acknowledge_round(leader, ctx, from, response.round);
        self.send_append(leader, ctx, from);
    }

    /// A chunk from the leader of our term, which we already follow (paper
    /// §7). A snapshot our commit index already covers is ignored, and
    /// answered with what we hold; otherwise the chunk joins the snapshot
    /// arriving if it starts where that one stands (or starts a new one at
    /// offset 0), any other is answered with where to go on from, and the
    /// last chunk installs it.
    pub(super) fn handle_install_snapshot(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        install: InstallSnapshot,
    ) {
        assert_eq!(
            self.leader,
            Some(from),
            "a snapshot from the leader we follow"
        );
        let round = install.round;
        let covered = install.index <= self.commit_index;
        if covered && !self.config.bugs.install_older_snapshot() {
            // Our committed prefix matches the leader's (Leader
            // Completeness), so we hold everything the snapshot covers.
            if self
                .incoming
                .as_ref()
                .is_some_and(|incoming| incoming.index <= self.commit_index)
            {
                self.incoming = None;
            }
            self.send_acceptance(ctx, from, self.commit_index, round);
            return;
        }
        if let Err(reason) = self.validate_snapshot(&install) {
            ctx.out.drop_input(Some(from), reason);
            return;
        }
        let arriving = self.incoming.as_ref().filter(|incoming| {
            incoming.index == install.index && incoming.term == install.snapshot_term
        });
        let received = arriving.map_or(0, Incoming::received);
        if install.offset != received {
            // A chunk out of order (lost, duplicated or reordered before
            // it; a duplicate of the first chunk too, which must not start
            // the transfer over): say where to go on from.
            self.send_snapshot_progress(ctx, from, &install, received);
            return;
        }
        let fresh = Incoming {
            index: install.index,
            term: install.snapshot_term,
            members: install.members.clone(),
            kv: Default::default(),
        };
        let continues = arriving.is_some();
        let target = arriving.unwrap_or(&fresh);
        if !target.accepts_pairs(&install.pairs) {
            ctx.out.drop_input(
                Some(from),
                DropReason::IndexOutOfRange {
                    index: install.offset,
                },
            );
            return;
        }
        if !continues {
            self.incoming = Some(fresh);
        }
        let incoming = self.incoming.as_mut().expect("set above");
        incoming.add(install.pairs.clone());
        if !install.done {
            let received = incoming.received();
            self.send_snapshot_progress(ctx, from, &install, received);
            return;
        }
        let snapshot = self.incoming.take().expect("set above").finish();
        let index = snapshot.index;
        self.install_snapshot(ctx, from, snapshot);
        self.send_acceptance(ctx, from, index, round);
    }

    /// A snapshot must be of our membership, from a term no later than
    /// the sender's, and cover at least one entry. Checked before anything
    /// changes, so a bad message leaves the node untouched.
    fn validate_snapshot(&self, install: &InstallSnapshot) -> Result<(), DropReason> {
        let bad = install.index == LogIndex::ZERO
            || install.snapshot_term > self.hard_state.term
            || install.members != self.membership.members();
        if bad {
            return Err(DropReason::IndexOutOfRange {
                index: install.index.get(),
            });
        }
        Ok(())
    }

    fn send_snapshot_progress(
        &self,
        ctx: &mut Ctx,
        leader: NodeId,
        install: &InstallSnapshot,
        received: u64,
    ) {
        let response = InstallSnapshotResponse {
            index: install.index,
            received,
            round: install.round,
        };
        let message = Message {
            term: self.hard_state.term,
            body: Body::InstallSnapshotResponse(response),
        };
        ctx.out.send(leader, message);
    }

    /// Replaces the state machine with `snapshot` and the log through its
    /// index: the entries after it stay if our entry at its index has its
    /// term, and all go otherwise (paper §7). Precondition: the snapshot is
    /// newer than our commit index (an older one was ignored).
    fn install_snapshot(&mut self, ctx: &mut Ctx, from: NodeId, snapshot: Arc<Snapshot>) {
        let (index, term) = (snapshot.index, snapshot.term);
        let commit_before = self.commit_index;
        let base = self.log.base_index();
        if index <= commit_before && self.config.bugs.install_older_snapshot() {
            // The deliberate bug: a snapshot older than the commit index
            // is installed, and the whole log goes, also what is newer
            // than the snapshot.
            ctx.out
                .persist
                .push(Persist::TruncateLog { from: base.next() });
            ctx.out
                .persist
                .push(Persist::Snapshot(Arc::clone(&snapshot)));
            self.log = Log::after_base(index, term, Vec::new());
        } else {
            assert!(
                index > commit_before,
                "installing a snapshot the commit index covers"
            );
            self.log.install(index, term);
            ctx.out
                .persist
                .push(Persist::Snapshot(Arc::clone(&snapshot)));
        }
        self.kv = snapshot.kv.clone();
        self.commit_index = index;
        self.applied_index = index;
        self.snapshot = Some(snapshot);
        ctx.out.events.push(Event::Snapshot {
            index: index.get(),
            from: Some(from),
        });
    }
}
