//! Log replication (paper §5.3): appends with the consistency check, conflict
//! truncation, fast back-off, the commit rule of §5.4.2 (Figure 8), and
//! applying committed entries to the key-value store.

use std::collections::BTreeMap;

use crate::core::client::{ClientReply, ClientRequest, Operation, RequestId};
use crate::core::node::{DropReason, NodeId};
use crate::core::raft::counters::Round;
use crate::core::raft::log::{Command, Entry, LogIndex, Term};
use crate::core::raft::message::{Append, AppendResponse, AppendResult, Body, Message};
use crate::core::raft::progress::Mode;
use crate::core::raft::role::LeaderState;
use crate::core::raft::state::{Ctx, Replica};
use crate::core::raft::storage::Persist;

impl Replica {
    /// A client write or compare-and-set on the leader: append, replicate,
    /// answer once committed and applied.
    pub(super) fn propose(
        &mut self,
        leader: &mut LeaderState,
        ctx: &mut Ctx,
        request: ClientRequest,
    ) {
        let command = match request.operation {
            Operation::Write { key, value } => Command::Write { key, value },
            Operation::CompareAndSet { key, expected, new } => {
                Command::CompareAndSet { key, expected, new }
            }
            Operation::Read { .. } => unreachable!("reads are not logged"),
        };
        let index = self.append_to_own_log(ctx, command);
        leader.pending_writes.insert(index, request.id);
        self.broadcast_append(leader, ctx);
        self.maybe_commit(leader, ctx);
    }

    pub(super) fn broadcast_append(&mut self, leader: &mut LeaderState, ctx: &mut Ctx) {
        for &peer in self.membership.peers() {
            self.send_append(leader, ctx, peer);
        }
    }

    /// Sends `peer` the entries it lacks, as flow control allows. A probe is
    /// sent even when there is nothing new, to learn where the logs match.
    pub(super) fn send_append(&self, leader: &mut LeaderState, ctx: &mut Ctx, peer: NodeId) {
        let max_inflight = self.config.max_inflight_appends;
        let max_entries = self.config.max_entries_per_append;
        let max_bytes = self.config.max_bytes_per_append;
        let last_index = self.log.last_index();
        let round = leader.round;
        let Some(progress) = leader.progress.get_mut(&peer) else {
            return;
        };
        // Entries join an append to `peer` still waiting to be sent; only
        // what does not fit goes in a new one.
        self.extend_waiting_append(progress, ctx, peer);
        if progress.next <= self.log.base_index() {
            // What `peer` needs next is compacted away: the snapshot goes
            // instead, one chunk at a time, whatever appends are in flight.
            let chunk_in_flight = matches!(progress.mode, Mode::Snapshot { waiting: true, .. });
            if !chunk_in_flight {
                self.send_snapshot_chunk(progress, ctx, peer, round);
            }
            return;
        }
        if !progress.can_send(max_inflight) {
            return;
        }
        let probing = matches!(progress.mode, Mode::Probe { .. });
        if progress.next > last_index && !probing {
            return;
        }
        let prev_log_index = progress.next.prev();
        // At least one entry, when there is one, however large.
        let fitted = self.fitting_end(progress.next, max_entries, max_bytes);
        let last_sent = if fitted < progress.next {
            progress.next.min(last_index)
        } else {
            fitted
        };
        let entries = self.log.slice(progress.next, last_sent).to_vec();
        progress.sent(last_sent.max(prev_log_index));
        let message = self.append_message(prev_log_index, entries, round);
        ctx.out.send(peer, message);
    }

    /// A follower still lags at a heartbeat response. Send what it lacks;
    /// if everything is already in flight (or flow control is full), send
    /// an empty append at its `next` instead. The follower accepts it when
    /// the appends in flight reached it, and otherwise rejects it, which
    /// starts the usual repair. Without this an append that was lost, or
    /// rejected behind a reordering and then taken for stale, is never
    /// resent while no new entry follows it (etcd probes the same way).
    pub(super) fn catch_up(&self, leader: &mut LeaderState, ctx: &mut Ctx, peer: NodeId) {
        let max_inflight = self.config.max_inflight_appends;
        let last_index = self.log.last_index();
        let Some(progress) = leader.progress.get(&peer) else {
            return;
        };
        let all_in_flight = matches!(progress.mode, Mode::Replicate)
            && progress.next > self.log.base_index()
            && (progress.next > last_index || !progress.can_send(max_inflight));
        if !all_in_flight {
            self.send_append(leader, ctx, peer);
            return;
        }
        let message = self.append_message(progress.next.prev(), Vec::new(), leader.round);
        ctx.out.send(peer, message);
    }

    /// An append from the leader of our term, which we already follow.
    /// Log Matching rests here: entries are kept only after the consistency
    /// check at `prev_log_index`, and nothing committed is ever truncated.
    pub(super) fn handle_append(&mut self, ctx: &mut Ctx, from: NodeId, append: Append) {
        assert_eq!(
            self.leader,
            Some(from),
            "an append from the leader we follow"
        );
        let term = self.hard_state.term;
        let round = append.round;
        let reply = |result| Message {
            term,
            body: Body::AppendResponse(AppendResponse { result, round }),
        };
        if let Some(result) = self.consistency_check(&append) {
            ctx.out.send(from, reply(result));
            return;
        }
        if let Err(reason) = self.validate_entries(&append) {
            ctx.out.drop_input(Some(from), reason);
            return;
        }
        let commit_before = self.commit_index;

        let match_index = append
            .prev_log_index
            .plus(append.entries.len())
            .max(self.commit_index);
        self.merge_entries(ctx, append.entries);
        let commit = append.leader_commit.min(match_index);
        if commit > self.commit_index {
            self.commit_index = commit;
            self.apply_committed(ctx, None);
        }

        assert!(
            self.commit_index >= commit_before,
            "the commit index went back"
        );
        assert!(
            match_index <= self.log.last_index(),
            "accepted beyond our own log"
        );
        self.send_acceptance(ctx, from, match_index, round);
    }

    /// Paper §5.3: the rejection to send if our log does not hold the entry
    /// before the append's. Our committed prefix matches any leader of our
    /// term (Leader Completeness), so the check is needed only past the
    /// commit index.
    fn consistency_check(&self, append: &Append) -> Option<AppendResult> {
        if append.prev_log_index < self.commit_index {
            return None;
        }
        match self.log.term_at(append.prev_log_index) {
            Some(found) if found == append.prev_log_term => None,
            found => Some(self.rejection(append.prev_log_index, found)),
        }
    }

    /// The consistency check failed at `index`, where we have `found`.
    fn rejection(&self, index: LogIndex, found: Option<Term>) -> AppendResult {
        match found {
            None => AppendResult::Rejected {
                rejected_index: index,
                conflict_term: None,
                conflict_index: self.log.last_index().next(),
            },
            Some(term) => AppendResult::Rejected {
                rejected_index: index,
                conflict_term: Some(term),
                conflict_index: self
                    .log
                    .first_index_of_term_at(index)
                    .max(self.commit_index.next()),
            },
        }
    }

    /// Entries must follow `prev` contiguously with terms that never
    /// decrease, none later than the sender's term, and none may contradict
    /// a committed entry. Checked before anything changes, so a bad message
    /// leaves the node untouched.
    fn validate_entries(&self, append: &Append) -> Result<(), DropReason> {
        let mut previous_term = append.prev_log_term;
        for (offset, entry) in append.entries.iter().enumerate() {
            let expected_index = append.prev_log_index.next().plus(offset);
            let bad = entry.index != expected_index
                || entry.term < previous_term
                || entry.term > self.hard_state.term;
            // An entry compacted before the base is committed and matches
            // any leader's (Leader Completeness), with nothing left to
            // compare; at the base its term is still known.
            let contradicts_commit = entry.index <= self.commit_index
                && entry.index >= self.log.base_index()
                && self.log.term_at(entry.index) != Some(entry.term);
            if bad || contradicts_commit {
                return Err(DropReason::IndexOutOfRange {
                    index: entry.index.get(),
                });
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
            .next_if(|entry| {
                entry.index < self.log.base_index()
                    || self.log.term_at(entry.index) == Some(entry.term)
            })
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

    /// Why an append response must not move `from`'s progress: it claims a
    /// match beyond our log (forged), or it rejects an append we no longer
    /// wait for (behind what the follower matched, ahead of what we sent, or
    /// not the one probe in flight).
    fn ignore_append_response(
        &self,
        leader: &LeaderState,
        from: NodeId,
        result: &AppendResult,
    ) -> Option<DropReason> {
        let progress = &leader.progress[&from];
        match *result {
            AppendResult::Accepted { match_index } if match_index > self.log.last_index() => {
                Some(DropReason::IndexOutOfRange {
                    index: match_index.get(),
                })
            }
            AppendResult::Accepted { .. } => None,
            AppendResult::Rejected { rejected_index, .. } => {
                let probing = matches!(progress.mode, Mode::Probe { .. });
                // During a snapshot transfer no append is awaited.
                let transferring = matches!(progress.mode, Mode::Snapshot { .. });
                let stale = transferring
                    || rejected_index <= progress.matched
                    || rejected_index >= progress.next
                    || (probing && rejected_index != progress.next.prev());
                stale.then_some(DropReason::Stale)
            }
        }
    }

    pub(super) fn handle_append_response(
        &mut self,
        leader: &mut LeaderState,
        ctx: &mut Ctx,
        from: NodeId,
        response: AppendResponse,
    ) {
        let progress = leader.progress.get_mut(&from).expect("peers are checked");
        progress.recently_active = true;
        if let Some(reason) = self.ignore_append_response(leader, from, &response.result) {
            ctx.out.drop_input(Some(from), reason);
            return;
        }
        let matched_before = leader.progress[&from].matched;
        let commit_before = self.commit_index;

        match response.result {
            AppendResult::Accepted { match_index } => {
                let progress = leader.progress.get_mut(&from).expect("peers are checked");
                if progress.accepted(match_index) {
                    self.maybe_commit(leader, ctx);
                }
                self.maybe_send_timeout_now(leader, ctx, from);
            }
            AppendResult::Rejected {
                rejected_index,
                conflict_term,
                conflict_index,
            } => {
                let next = self.next_after_rejection(rejected_index, conflict_term, conflict_index);
                let progress = leader.progress.get_mut(&from).expect("peers are checked");
                progress.rejected(next);
            }
        }

        let progress = &leader.progress[&from];
        assert!(
            progress.matched >= matched_before,
            "a match index went back"
        );
        assert!(progress.matched < progress.next, "progress: match >= next");
        assert!(
            self.commit_index >= commit_before,
            "the commit index went back"
        );
        self.acknowledge_round(leader, ctx, from, response.round);
        self.send_append(leader, ctx, from);
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
                .map_or(conflict_index, LogIndex::next),
            None => conflict_index,
        };
        hinted.min(rejected_index).max(LogIndex::new(1))
    }

    /// Paper §5.3, §5.4.2: commit the highest index a majority holds, but
    /// only if it is from the current term; earlier-term entries are then
    /// committed indirectly (Figure 8). State Machine Safety rests here.
    pub(super) fn maybe_commit(&mut self, leader: &mut LeaderState, ctx: &mut Ctx) {
        let candidate = leader.majority(
            &self.configuration,
            self.id(),
            |progress| progress.matched,
            self.log.last_index(),
        );
        if candidate <= self.commit_index
            || self.log.term_at(candidate) != Some(self.hard_state.term)
        {
            return;
        }

        self.commit_index = candidate;
        self.apply_committed(ctx, Some(&mut leader.pending_writes));

        assert!(
            self.has_committed_in_current_term(),
            "a leader commits by an entry of its own term"
        );
        assert_eq!(self.applied_index, self.commit_index, "unapplied commits");
        assert!(
            leader
                .pending_writes
                .first_key_value()
                .is_none_or(|(&index, _)| index > self.commit_index),
            "a committed write is left unanswered"
        );
        self.serve_pending_reads(leader, ctx);
    }

    /// Applies entries up to the commit index, answering the clients whose
    /// writes this leader proposed (`pending_writes`, only on a leader).
    pub(super) fn apply_committed(
        &mut self,
        ctx: &mut Ctx,
        mut pending_writes: Option<&mut BTreeMap<LogIndex, RequestId>>,
    ) {
        while self.applied_index < self.commit_index {
            let index = self.applied_index.next();
            let entry = self.log.get(index).expect("committed entries exist");
            let outcome = entry.command.apply_to(&mut self.kv);
            self.applied_index = index;
            let waiting = pending_writes
                .as_deref_mut()
                .and_then(|pending| pending.remove(&index));
            if let (Some(id), Some(outcome)) = (waiting, outcome) {
                ctx.out.replies.push(ClientReply {
                    id,
                    result: Ok(outcome),
                });
            }
        }
        self.maybe_take_snapshot(ctx.out);
    }

    /// An append to a follower whose log is to match ours up to
    /// `prev_log_index` (the invariant `next <= last_index + 1` puts it in
    /// our log, and a snapshot goes instead when `next` is compacted
    /// away), carrying `entries` after it.
    fn append_message(
        &self,
        prev_log_index: LogIndex,
        entries: Vec<Entry>,
        round: Round,
    ) -> Message {
        let prev_log_term = self
            .log
            .term_at(prev_log_index)
            .expect("invariant: next <= last_index + 1");
        let append = Append {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit: self.commit_index,
            round,
        };
        Message {
            term: self.hard_state.term,
            body: Body::Append(append),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::core::node::Node;
    use crate::core::raft::testing::{deliver, elected_leader};
    use crate::core::raft::{AppendResponse, AppendResult, Body, LogIndex, Round};

    #[test]
    fn a_stale_acceptance_never_moves_a_match_index_back() {
        let (mut node, mut rng) = elected_leader();
        let accepted = |match_index| {
            Body::AppendResponse(AppendResponse {
                result: AppendResult::Accepted {
                    match_index: LogIndex::new(match_index),
                },
                round: Round::new(1),
            })
        };
        let matched_one = Some((LogIndex::new(1), LogIndex::new(2)));
        deliver(&mut node, &mut rng, 2, accepted(1));
        assert_eq!(node.progress_of(2), matched_one);
        // The probe's answer, duplicated and delivered late.
        deliver(&mut node, &mut rng, 2, accepted(0));
        assert_eq!(node.progress_of(2), matched_one, "match index went back");
        assert_eq!(node.commit_index(), 1, "the no-op stays committed");
    }
}
