//! Coalescing appends (raft-rs's `batch_append`): entries appended while an
//! append to a follower still waits in the step's actions join that append
//! instead of following it in one of their own, up to
//! `max_entries_per_append` entries and `max_bytes_per_append` bytes. The append may wait from earlier in the same
//! step (the writes of one [`Input::ClientBatch`]) or from an earlier step
//! the caller staged without sending yet (a driver's batch of inputs), so a
//! batch of writes costs one append per follower, one response from each,
//! and one commit.
//!
//! Why this keeps persist-before-send: a message in `ctx.out.messages` has
//! not left the node (the contract of [`Node::step`]), and the caller makes
//! every record in `ctx.out.persist` durable before it sends any message,
//! so the added entries are durable before the append carrying them
//! leaves, exactly as they would be in an append of their own. The append
//! keeps the round it was created in (an older round can only confirm a
//! shorter lease: the safe direction) and takes the current commit index,
//! as a new append would.
//!
//! [`Input::ClientBatch`]: crate::core::node::Input::ClientBatch
//! [`Node::step`]: crate::core::node::Node::step

use crate::core::node::{NodeId, Outgoing};
use crate::core::raft::counters::Round;
use crate::core::raft::log::{Entry, LogIndex};
use crate::core::raft::message::{AppendResponse, AppendResult, Body, Message};
use crate::core::raft::progress::{Mode, Progress};
use crate::core::raft::state::{Ctx, Replica};

impl Replica {
    /// Adds the entries `peer` lacks to the append to `peer` still waiting
    /// in `ctx.out`, if that append is the last message to `peer` there and
    /// ends at the last index sent to it. Returns whether it added any.
    pub(super) fn extend_waiting_append(
        &self,
        progress: &mut Progress,
        ctx: &mut Ctx,
        peer: NodeId,
    ) -> bool {
        let last_index = self.log.last_index();
        if !matches!(progress.mode, Mode::Replicate)
            || progress.next > last_index
            || progress.next <= self.log.base_index()
        {
            return false;
        }
        let Some(&tail) = progress.inflight.back() else {
            return false;
        };
        let term = self.hard_state.term;
        let bugs = self.config.bugs;
        // Deliberate bugs break the checks below, to show the checkers
        // catch what they guard (`DeliberateBugs`); off in every real build.
        let anywhere = bugs.coalesce_anywhere();
        let unchecked = anywhere;
        let waiting = if anywhere {
            ctx.out
                .messages
                .iter_mut()
                .find(|out| out.to == peer && matches!(out.message.body, Body::Append(_)))
        } else {
            ctx.out.messages.iter_mut().rev().find(|out| out.to == peer)
        };
        let Some(waiting) = waiting else {
            return false;
        };
        if waiting.message.term != term && !bugs.coalesce_across_terms() {
            return false;
        }
        let Body::Append(append) = &mut waiting.message.body else {
            return false;
        };
        // Entries the waiting append carries were compacted since it was
        // made: the log no longer knows their bytes. Start a new append.
        if append.prev_log_index < self.log.base_index() && !anywhere {
            return false;
        }
        let ends_at_tail = append.entries.last().is_some_and(|last| last.index == tail);
        if (!ends_at_tail || tail.next() != progress.next) && !anywhere {
            return false;
        }
        let room_entries = self
            .config
            .max_entries_per_append
            .saturating_sub(append.entries.len());
        // The waiting append carries the log's entries after its
        // `prev_log_index` up to `tail` (no gap, checked when it was last
        // extended), so the log's running byte counts give its size
        // without summing it again at every proposal.
        let used_bytes = if unchecked || bugs.coalesce_loses_entry() {
            append.entries.iter().map(Entry::payload_len).sum()
        } else {
            self.log.payload_bytes(append.prev_log_index.next(), tail)
        };
        debug_assert_eq!(
            used_bytes,
            append.entries.iter().map(Entry::payload_len).sum::<usize>(),
            "the running byte count disagrees with the waiting append"
        );
        let room_bytes = self.config.max_bytes_per_append.saturating_sub(used_bytes);
        let last_added = self.fitting_end(progress.next, room_entries, room_bytes);
        if last_added < progress.next {
            return false;
        }
        let first_added = if bugs.coalesce_loses_entry() {
            progress.next.next()
        } else {
            progress.next
        };
        append
            .entries
            .extend_from_slice(self.log.slice(first_added, last_added));
        append.leader_commit = if bugs.coalesced_commit_ahead() {
            last_added
        } else {
            self.commit_index
        };
        *progress.inflight.back_mut().expect("checked above") = last_added;
        progress.next = last_added.next();
        if unchecked {
            return true;
        }
        assert!(
            append.entries.len() <= self.config.max_entries_per_append,
            "a coalesced append beyond the entries-per-append limit"
        );
        assert!(
            self.log
                .payload_bytes(append.prev_log_index.next(), last_added)
                <= self.config.max_bytes_per_append,
            "a coalesced append beyond the bytes-per-append limit"
        );
        assert_eq!(
            append.prev_log_index.plus(append.entries.len()),
            last_added,
            "a coalesced append with a gap"
        );
        true
    }

    /// Accepts the leader's appends up to `match_index` in `round`. An
    /// acceptance to the leader still waiting in `ctx.out` (from an earlier
    /// append of a batch of inputs) is raised instead, when it says less:
    /// the leader learns from one response what two would tell it, since
    /// an acceptance up to an index accepts everything before it, and a
    /// round acknowledges every earlier one.
    pub(super) fn send_acceptance(
        &self,
        ctx: &mut Ctx,
        leader: NodeId,
        match_index: LogIndex,
        round: Round,
    ) {
        let term = self.hard_state.term;
        let waiting = ctx
            .out
            .messages
            .iter_mut()
            .rev()
            .find(|out| out.to == leader);
        if let Some(Outgoing {
            message:
                Message {
                    term: waiting_term,
                    body: Body::AppendResponse(response),
                },
            ..
        }) = waiting
        {
            if let AppendResult::Accepted {
                match_index: waiting_match,
            } = &mut response.result
            {
                if *waiting_term == term && *waiting_match <= match_index && response.round <= round
                {
                    *waiting_match = match_index;
                    response.round = round;
                    return;
                }
            }
        }
        let result = AppendResult::Accepted { match_index };
        let body = Body::AppendResponse(AppendResponse { result, round });
        ctx.out.send(leader, Message { term, body });
    }

    /// The last index of the entries from `from` on that fit in an append
    /// with room for `entries` more entries and `bytes` more payload bytes
    /// ([`Entry::payload_len`]); `from.prev()` when not even one fits.
    pub(super) fn fitting_end(&self, from: LogIndex, entries: usize, bytes: usize) -> LogIndex {
        self.log
            .last_fitting(from, from.plus(entries).prev(), bytes)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use crate::core::client::{ClientRequest, Operation, Outcome, RequestId};
    use crate::core::node::{Input, Node, NodeId};
    use crate::core::raft::testing::{elected_leader, replicating_leader};
    use crate::core::raft::{
        Append, AppendResponse, AppendResult, Body, Command, Config, Entry, LogIndex, Message,
        Persist, RaftActions, RaftNode, Round, Term,
    };
    use crate::core::time::Time;
    use crate::sim::lockstep::{write_request, Lockstep};

    fn writes(sequences: std::ops::Range<u64>) -> Vec<ClientRequest> {
        sequences
            .map(|sequence| ClientRequest {
                id: RequestId {
                    client: 1,
                    sequence,
                },
                operation: Operation::Write {
                    key: "k".to_owned(),
                    value: sequence,
                },
            })
            .collect()
    }

    fn step(
        node: &mut RaftNode,
        rng: &mut ChaCha8Rng,
        input: Input<Message>,
        actions: &mut RaftActions,
    ) {
        node.step(Time::from_millis(402), rng, input, actions);
    }

    /// A leader whose followers replicate (configured by `config`) after
    /// it stepped `requests` as one [`Input::ClientBatch`]: the leader and
    /// what the step asks of its caller.
    fn leader_after_batch(config: Config, requests: Vec<ClientRequest>) -> (RaftNode, RaftActions) {
        let (mut node, mut rng) = replicating_leader(config);
        let mut actions = RaftActions::default();
        step(
            &mut node,
            &mut rng,
            Input::ClientBatch(requests),
            &mut actions,
        );
        (node, actions)
    }

    /// The appends to `peer` in `actions`, as (prev_log_index, entries).
    fn appends_to(actions: &RaftActions, peer: NodeId) -> Vec<(u64, usize)> {
        actions
            .messages
            .iter()
            .filter(|out| out.to == peer)
            .filter_map(|out| match &out.message.body {
                Body::Append(Append {
                    prev_log_index,
                    entries,
                    ..
                }) => Some((prev_log_index.get(), entries.len())),
                _ => None,
            })
            .collect()
    }

    /// The indexes whose entries `actions` asks to make durable.
    fn persisted(actions: &RaftActions) -> Vec<u64> {
        actions
            .persist
            .iter()
            .filter_map(|record| match record {
                Persist::AppendEntry(entry) => Some(entry.index.get()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_batch_of_writes_reaches_each_follower_in_one_append() {
        let (node, actions) = leader_after_batch(Config::default(), writes(0..64));
        for peer in [2, 3] {
            assert_eq!(appends_to(&actions, peer), [(1, 64)], "to node {peer}");
        }
        assert_eq!(actions.messages.len(), 2, "nothing but the two appends");
        // Persist-before-send: every entry the appends carry is made
        // durable by the same actions, before they are sent.
        assert_eq!(persisted(&actions), (2..=65).collect::<Vec<_>>());
        assert_eq!(
            node.progress_of(2),
            Some((LogIndex::new(1), LogIndex::new(66)))
        );
    }

    #[test]
    fn a_batch_larger_than_an_append_is_split_at_the_entries_limit() {
        let config = Config {
            max_entries_per_append: 10,
            ..Config::default()
        };
        let (_, actions) = leader_after_batch(config, writes(0..25));
        for peer in [2, 3] {
            assert_eq!(
                appends_to(&actions, peer),
                [(1, 10), (11, 10), (21, 5)],
                "to node {peer}"
            );
        }
    }

    #[test]
    fn a_batch_is_split_at_the_bytes_limit() {
        // Each write of key `k` carries 9 bytes: three fit in 27.
        let config = Config {
            max_bytes_per_append: 27,
            ..Config::default()
        };
        let (_, actions) = leader_after_batch(config, writes(0..7));
        assert_eq!(appends_to(&actions, 2), [(1, 3), (4, 3), (7, 1)]);
    }

    #[test]
    fn an_entry_larger_than_the_bytes_limit_still_goes_alone() {
        let config = Config {
            max_bytes_per_append: 4,
            ..Config::default()
        };
        let (_, actions) = leader_after_batch(config, writes(0..3));
        assert_eq!(appends_to(&actions, 2), [(1, 1), (2, 1), (3, 1)]);
    }

    #[test]
    fn a_batch_beyond_the_appends_in_flight_waits_for_responses() {
        let config = Config {
            max_entries_per_append: 4,
            max_inflight_appends: 2,
            ..Config::default()
        };
        let (node, actions) = leader_after_batch(config, writes(0..20));
        assert_eq!(appends_to(&actions, 2), [(1, 4), (5, 4)]);
        assert_eq!(
            node.progress_of(2),
            Some((LogIndex::new(1), LogIndex::new(10)))
        );
    }

    #[test]
    fn writes_of_steps_staged_together_join_the_waiting_append() {
        let (mut node, mut rng) = replicating_leader(Config::default());
        let mut actions = RaftActions::default();
        for request in writes(0..3) {
            step(&mut node, &mut rng, Input::Client(request), &mut actions);
        }
        assert_eq!(appends_to(&actions, 2), [(1, 3)]);
        assert_eq!(appends_to(&actions, 3), [(1, 3)]);
        assert_eq!(persisted(&actions), [2, 3, 4]);
    }

    /// Steps staged together may compact the log under a waiting append:
    /// a write goes out to both followers, node 2's acceptance commits it
    /// and (a snapshot at every applied entry) compacts the log through
    /// it, and a second write follows, all before the caller sends
    /// anything. The append still waiting for node 3 starts before the new
    /// base, so the log no longer knows its bytes: the second write goes in
    /// an append of its own. Whatever the staging, the appends to a
    /// follower must carry the leader's entries in order, each starting
    /// where the one before it ended, every entry once (what persist-
    /// before-send and Log Matching rest on).
    #[test]
    fn a_waiting_append_the_log_compacted_past_is_not_extended() {
        let config = Config {
            snapshot_every: 1,
            ..Config::default()
        };
        let (mut node, mut rng) = replicating_leader(config);
        let mut actions = RaftActions::default();
        let mut requests = writes(0..2).into_iter();
        let mut write = |node: &mut RaftNode, rng: &mut ChaCha8Rng, actions: &mut _| {
            let request = requests.next().expect("two writes");
            step(node, rng, Input::Client(request), actions);
        };
        write(&mut node, &mut rng, &mut actions);
        let accepted = AppendResponse {
            result: AppendResult::Accepted {
                match_index: LogIndex::new(2),
            },
            round: Round::new(1),
        };
        let message = Message {
            term: node.current_term(),
            body: Body::AppendResponse(accepted),
        };
        step(
            &mut node,
            &mut rng,
            Input::Message { from: 2, message },
            &mut actions,
        );
        assert_eq!(
            node.commit_index(),
            2,
            "node 2's acceptance commits the write"
        );
        let base = node.durable_state().snapshot.map(|snapshot| snapshot.index);
        assert_eq!(base, Some(LogIndex::new(2)), "compacted through the write");
        write(&mut node, &mut rng, &mut actions);

        assert_eq!(appends_to(&actions, 3), [(1, 1), (2, 1)]);
        let mut expected_next = LogIndex::new(2);
        for out in actions.messages.iter().filter(|out| out.to == 3) {
            let Body::Append(append) = &out.message.body else {
                continue;
            };
            assert_eq!(
                append.prev_log_index.next(),
                expected_next,
                "a gap or an overlap"
            );
            for entry in &append.entries {
                assert_eq!(entry.index, expected_next, "entries out of order");
                expected_next = entry.index.next();
            }
        }
        assert_eq!(
            expected_next,
            LogIndex::new(4),
            "every write reaches node 3 once"
        );
        assert_eq!(persisted(&actions), [2, 3]);
    }

    #[test]
    fn an_append_already_handed_to_the_caller_is_never_extended() {
        let (mut node, mut rng) = replicating_leader(Config::default());
        let mut actions = RaftActions::default();
        let mut requests = writes(0..2).into_iter();
        step(
            &mut node,
            &mut rng,
            Input::Client(requests.next().unwrap()),
            &mut actions,
        );
        // The caller persisted and sent: the buffer is empty again.
        actions.clear();
        step(
            &mut node,
            &mut rng,
            Input::Client(requests.next().unwrap()),
            &mut actions,
        );
        assert_eq!(
            appends_to(&actions, 2),
            [(2, 1)],
            "a new append after the sent one"
        );
    }

    #[test]
    fn a_probe_is_never_extended() {
        // The no-op probes are still waiting (nothing answered them yet).
        let (mut node, mut rng) = elected_leader();
        let mut actions = RaftActions::default();
        step(
            &mut node,
            &mut rng,
            Input::ClientBatch(writes(0..5)),
            &mut actions,
        );
        assert_eq!(
            appends_to(&actions, 2),
            [],
            "a probing follower waits for its answer"
        );
    }

    #[test]
    fn a_follower_answers_appends_staged_together_with_one_acceptance() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut follower =
            RaftNode::new(2, &[1, 2, 3], Config::default(), Time::ZERO, &mut rng).unwrap();
        let mut actions = RaftActions::default();
        for index in 1..=3u64 {
            let append = Append {
                prev_log_index: LogIndex::new(index - 1),
                prev_log_term: Term::new(if index == 1 { 0 } else { 1 }),
                entries: vec![Entry {
                    term: Term::new(1),
                    index: LogIndex::new(index),
                    command: Command::Noop.into(),
                }],
                leader_commit: LogIndex::ZERO,
                round: Round::new(index),
            };
            let message = Message {
                term: Term::new(1),
                body: Body::Append(append),
            };
            step(
                &mut follower,
                &mut rng,
                Input::Message { from: 1, message },
                &mut actions,
            );
        }
        let responses: Vec<_> = actions
            .messages
            .iter()
            .filter_map(|out| match &out.message.body {
                Body::AppendResponse(response) => Some((out.to, response.clone())),
                _ => None,
            })
            .collect();
        let accepted_all = AppendResponse {
            result: AppendResult::Accepted {
                match_index: LogIndex::new(3),
            },
            round: Round::new(3),
        };
        assert_eq!(responses, [(1, accepted_all)]);
        assert_eq!(persisted(&actions), [1, 2, 3]);
    }

    /// Coalescing changes how many messages carry the writes, never what
    /// is written: batches leave every node with the log, and the leader
    /// with the state and the replies, that one write at a time does.
    #[test]
    fn batches_commit_what_single_writes_commit() {
        let run = |batch: u64| {
            let mut cluster = Lockstep::new(3, Config::default(), 1).unwrap();
            assert!(cluster.elect(1));
            for first in (0..200).step_by(batch as usize) {
                let last = (first + batch).min(200);
                cluster.submit_batch(1, (first..last).map(write_request).collect());
                cluster.run();
            }
            let replies: Vec<_> = cluster.take_replies().collect();
            assert_eq!(replies.len(), 200);
            assert!(replies
                .iter()
                .all(|reply| reply.result == Ok(Outcome::Written)));
            let logs: Vec<_> = (1..=3).map(|id| cluster.durable(id).log.clone()).collect();
            // Followers learn the last commit on the next append, so only
            // the leader's state machine has applied everything.
            let kv = cluster.node(1).kv().clone();
            (logs, kv, replies, cluster.delivered())
        };
        let (single_logs, single_kv, single_replies, single_messages) = run(1);
        for batch in [7, 64] {
            let (logs, kv, replies, messages) = run(batch);
            assert_eq!(logs, single_logs, "batches of {batch}: the logs");
            assert_eq!(kv, single_kv, "batches of {batch}: the state machines");
            assert_eq!(replies, single_replies, "batches of {batch}: the replies");
            assert!(
                messages * 4 < single_messages,
                "batches of {batch}: {messages} messages"
            );
        }
    }
}
