//! Log replication (paper §5.3): appends with the consistency check, conflict
//! truncation, fast back-off, the commit rule of §5.4.2 (Figure 8), and
//! applying committed entries to the key-value store.

use crate::core::client::{ClientReply, ClientRequest, Operation};
use crate::core::node::{DropReason, NodeId};
use crate::core::raft::log::{Command, Entry, Log, LogIndex, Term};
use crate::core::raft::message::{AppendResult, Body, Message};
use crate::core::raft::progress::Mode;
use crate::core::raft::state::{Ctx, RaftNode, RoleState};
use crate::core::raft::storage::Persist;

impl RaftNode {
    /// A client write or compare-and-set on the leader: append, replicate,
    /// answer once committed and applied.
    pub(super) fn propose(&mut self, ctx: &mut Ctx, request: ClientRequest) {
        let command = match request.operation {
            Operation::Write { key, value } => Command::Write { key, value },
            Operation::CompareAndSet { key, expected, new } => {
                Command::CompareAndSet { key, expected, new }
            }
            Operation::Read { .. } => unreachable!("reads are not logged"),
        };
        let index = self.append_to_own_log(ctx, command);
        if let Some(leader) = self.leader_state_mut() {
            leader.pending_writes.insert(index, request.id);
        }
        self.broadcast_append(ctx);
        self.maybe_commit(ctx);
    }

    pub(super) fn broadcast_append(&mut self, ctx: &mut Ctx) {
        for position in 0..self.peers.len() {
            let peer = self.peers[position];
            self.send_append(ctx, peer);
        }
    }

    /// Sends `peer` the entries it lacks, as flow control allows. A probe is
    /// sent even when there is nothing new, to learn where the logs match.
    pub(super) fn send_append(&mut self, ctx: &mut Ctx, peer: NodeId) {
        let max_inflight = self.config.max_inflight_appends;
        let max_entries = self.config.max_entries_per_append as LogIndex;
        let last_index = self.log.last_index();
        let RoleState::Leader(leader) = &mut self.role else {
            return;
        };
        let round = leader.round;
        let Some(progress) = leader.progress.get_mut(&peer) else {
            return;
        };
        if !progress.can_send(max_inflight) {
            return;
        }
        let probing = matches!(progress.mode, Mode::Probe { .. });
        if progress.next > last_index && !probing {
            return;
        }
        let prev_log_index = progress.next - 1;
        let last_sent = last_index.min(progress.next + max_entries - 1);
        let entries = self.log.slice(progress.next, last_sent).to_vec();
        progress.sent(last_sent.max(prev_log_index));
        let message = append_message(
            &self.log,
            self.hard_state.term,
            self.commit_index,
            prev_log_index,
            entries,
            round,
        );
        ctx.out.send(peer, message);
    }

    /// A follower still lags at a heartbeat response. Send what it lacks;
    /// if everything is already in flight (or flow control is full), send
    /// an empty append at its `next` instead. The follower accepts it when
    /// the appends in flight reached it, and otherwise rejects it, which
    /// starts the usual repair. Without this an append that was lost, or
    /// rejected behind a reordering and then taken for stale, is never
    /// resent while no new entry follows it (etcd probes the same way).
    pub(super) fn catch_up(&mut self, ctx: &mut Ctx, peer: NodeId) {
        let max_inflight = self.config.max_inflight_appends;
        let last_index = self.log.last_index();
        let Some(leader) = self.leader_state() else {
            return;
        };
        let round = leader.round;
        let Some(progress) = leader.progress.get(&peer) else {
            return;
        };
        let all_in_flight = matches!(progress.mode, Mode::Replicate)
            && (progress.next > last_index || !progress.can_send(max_inflight));
        if !all_in_flight {
            self.send_append(ctx, peer);
            return;
        }
        let message = append_message(
            &self.log,
            self.hard_state.term,
            self.commit_index,
            progress.next - 1,
            Vec::new(),
            round,
        );
        ctx.out.send(peer, message);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn handle_append(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        prev_log_index: LogIndex,
        prev_log_term: Term,
        entries: Vec<Entry>,
        leader_commit: LogIndex,
        round: u64,
    ) {
        if !self.accept_leader_message(ctx, from) {
            return;
        }
        let term = self.hard_state.term;
        let reply = |result| Message {
            term,
            body: Body::AppendResponse { result, round },
        };
        // Our committed prefix matches any leader of our term (Leader
        // Completeness), so the check is needed only past the commit index.
        if prev_log_index >= self.commit_index {
            match self.log.term_at(prev_log_index) {
                Some(found) if found == prev_log_term => {}
                found => {
                    let result = self.rejection(prev_log_index, found);
                    ctx.out.send(from, reply(result));
                    return;
                }
            }
        }
        if let Err(reason) = self.validate_entries(prev_log_index, prev_log_term, &entries) {
            ctx.out.drop_input(Some(from), reason);
            return;
        }
        let match_index = (prev_log_index + entries.len() as LogIndex).max(self.commit_index);
        self.merge_entries(ctx, entries);
        let commit = leader_commit.min(match_index);
        if commit > self.commit_index {
            self.commit_index = commit;
            self.apply_committed(ctx);
        }
        ctx.out
            .send(from, reply(AppendResult::Accepted { match_index }));
    }

    /// The consistency check failed at `index`, where we have `found`.
    fn rejection(&self, index: LogIndex, found: Option<Term>) -> AppendResult {
        match found {
            None => AppendResult::Rejected {
                rejected_index: index,
                conflict_term: None,
                conflict_index: self.log.last_index() + 1,
            },
            Some(term) => AppendResult::Rejected {
                rejected_index: index,
                conflict_term: Some(term),
                conflict_index: self
                    .log
                    .first_index_of_term_at(index)
                    .max(self.commit_index + 1),
            },
        }
    }

    /// Entries must follow `prev` contiguously with terms that never
    /// decrease, none later than the sender's term, and none may contradict
    /// a committed entry. Checked before anything changes, so a bad message
    /// leaves the node untouched.
    fn validate_entries(
        &self,
        prev_log_index: LogIndex,
        prev_log_term: Term,
        entries: &[Entry],
    ) -> Result<(), DropReason> {
        let mut previous_term = prev_log_term;
        for (offset, entry) in entries.iter().enumerate() {
            let expected_index = prev_log_index + 1 + offset as LogIndex;
            let bad = entry.index != expected_index
                || entry.term < previous_term
                || entry.term > self.hard_state.term;
            let contradicts_commit = entry.index <= self.commit_index
                && self.log.term_at(entry.index) != Some(entry.term);
            if bad || contradicts_commit {
                return Err(DropReason::IndexOutOfRange { index: entry.index });
            }
            previous_term = entry.term;
        }
        Ok(())
    }

    /// Appends what we lack, truncating our log at the first conflict (paper
    /// §5.3). Entries we already hold are left alone, so a delayed, shorter
    /// append never truncates what a later one added.
    fn merge_entries(&mut self, ctx: &mut Ctx, entries: Vec<Entry>) {
        let mut entries = entries.into_iter().peekable();
        while entries
            .next_if(|entry| self.log.term_at(entry.index) == Some(entry.term))
            .is_some()
        {}
        let Some(first_new) = entries.peek() else {
            return;
        };
        if first_new.index <= self.log.last_index() {
            assert!(
                first_new.index > self.commit_index,
                "truncating committed entries"
            );
            ctx.out.persist.push(Persist::TruncateLog {
                from: first_new.index,
            });
            self.log.truncate_from(first_new.index);
        }
        for entry in entries {
            ctx.out.persist.push(Persist::AppendEntry(entry.clone()));
            self.log.append(entry);
        }
    }

    pub(super) fn handle_append_response(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        result: AppendResult,
        round: u64,
    ) {
        let last_index = self.log.last_index();
        let Some(leader) = self.leader_state_mut() else {
            self.drop_unexpected(ctx, from);
            return;
        };
        let progress = leader.progress.get_mut(&from).expect("peers are checked");
        progress.recently_active = true;
        match result {
            AppendResult::Accepted { match_index } => {
                if match_index > last_index {
                    ctx.out.drop_input(
                        Some(from),
                        DropReason::IndexOutOfRange { index: match_index },
                    );
                    return;
                }
                if progress.accepted(match_index) {
                    self.maybe_commit(ctx);
                }
                self.maybe_send_timeout_now(ctx, from);
            }
            AppendResult::Rejected {
                rejected_index,
                conflict_term,
                conflict_index,
            } => {
                let probing = matches!(progress.mode, Mode::Probe { .. });
                let stale = rejected_index <= progress.matched
                    || rejected_index >= progress.next
                    || (probing && rejected_index != progress.next - 1);
                if stale {
                    ctx.out.drop_input(Some(from), DropReason::Stale);
                    return;
                }
                let next = self.next_after_rejection(rejected_index, conflict_term, conflict_index);
                if let Some(leader) = self.leader_state_mut() {
                    let progress = leader.progress.get_mut(&from).expect("peers are checked");
                    progress.rejected(next);
                }
            }
        }
        self.acknowledge_round(ctx, from, round);
        self.send_append(ctx, from);
    }

    /// Fast back-off: skip the follower's whole conflicting term at once.
    fn next_after_rejection(
        &self,
        rejected_index: LogIndex,
        conflict_term: Option<Term>,
        conflict_index: LogIndex,
    ) -> LogIndex {
        let hinted = match conflict_term {
            Some(term) => self
                .log
                .last_index_of_term(term)
                .map_or(conflict_index, |last| last + 1),
            None => conflict_index,
        };
        hinted.min(rejected_index).max(1)
    }

    /// Paper §5.3, §5.4.2: commit the highest index a majority holds, but
    /// only if it is from the current term; earlier-term entries are then
    /// committed indirectly (Figure 8).
    pub(super) fn maybe_commit(&mut self, ctx: &mut Ctx) {
        let last_index = self.log.last_index();
        let Some(leader) = self.leader_state() else {
            return;
        };
        let candidate = leader.majority(|progress| progress.matched, last_index);
        if candidate > self.commit_index
            && self.log.term_at(candidate) == Some(self.hard_state.term)
        {
            self.commit_index = candidate;
            self.apply_committed(ctx);
            self.serve_pending_reads(ctx);
        }
    }

    /// Applies entries up to the commit index, answering the clients whose
    /// writes this leader proposed.
    pub(super) fn apply_committed(&mut self, ctx: &mut Ctx) {
        while self.applied_index < self.commit_index {
            let index = self.applied_index + 1;
            let entry = self.log.get(index).expect("committed entries exist");
            let outcome = match &*entry.command {
                Command::Noop => None,
                Command::Write { key, value } => Some(self.kv.write(key, *value)),
                Command::CompareAndSet { key, expected, new } => {
                    Some(self.kv.compare_and_set(key, *expected, *new))
                }
            };
            self.applied_index = index;
            let waiting = match &mut self.role {
                RoleState::Leader(leader) => leader.pending_writes.remove(&index),
                _ => None,
            };
            if let (Some(id), Some(outcome)) = (waiting, outcome) {
                ctx.out.replies.push(ClientReply {
                    id,
                    result: Ok(outcome),
                });
            }
        }
    }

    /// An append or heartbeat from the leader of our term: follow it.
    /// Returns false (and drops the message) if we lead this term ourselves,
    /// which a correct peer never causes.
    pub(super) fn accept_leader_message(&mut self, ctx: &mut Ctx, from: NodeId) -> bool {
        if matches!(self.role, RoleState::Leader(_)) {
            self.drop_unexpected(ctx, from);
            return false;
        }
        if !matches!(self.role, RoleState::Follower) || self.leader != Some(from) {
            let term = self.hard_state.term;
            self.become_follower(ctx, term, Some(from));
        }
        self.last_leader_contact = Some(ctx.now);
        self.election_timer_start = ctx.now;
        true
    }

    pub(super) fn drop_unexpected(&self, ctx: &mut Ctx, from: NodeId) {
        let role = crate::core::node::Node::role(self);
        ctx.out
            .drop_input(Some(from), DropReason::UnexpectedForRole { role });
    }
}

/// An append to a follower whose log is to match ours up to
/// `prev_log_index` (the invariant `next <= last_index + 1` puts it in our
/// log), carrying `entries` after it.
fn append_message(
    log: &Log,
    term: Term,
    leader_commit: LogIndex,
    prev_log_index: LogIndex,
    entries: Vec<Entry>,
    round: u64,
) -> Message {
    let prev_log_term = log
        .term_at(prev_log_index)
        .expect("invariant: next <= last_index + 1");
    Message {
        term,
        body: Body::Append {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
            round,
        },
    }
}
