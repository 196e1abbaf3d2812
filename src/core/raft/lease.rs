//! Heartbeat rounds, the leader lease, and reads.
//!
//! Every heartbeat round has a number and a send time; every message to a
//! follower carries the latest round number, and responses echo it. When a
//! majority (counting the leader) has acknowledged round `r`, each of them
//! heard from us after `r` was sent and will refuse to vote for anyone else
//! for `election_timeout_min` (leader stickiness). So no other leader can be
//! elected before `sent_at(r) + election_timeout_min` by any of their clocks,
//! and our lease, `sent_at(r) + lease_duration` on our clock, ends before it
//! as long as `lease_duration + clock_drift_bound <= election_timeout_min`
//! (checked by `Config::validate`).
//!
//! Reads: with a valid lease, from local state at once. Without one, by
//! ReadIndex: the read waits for a round sent after it arrived to be
//! confirmed by a majority. Either way a new leader first commits an entry of
//! its own term, so that its state includes every earlier committed write.

use crate::core::client::{ClientReply, ClientRequest, Outcome};
use crate::core::node::{DropReason, NodeId};
use crate::core::raft::log::LogIndex;
use crate::core::raft::message::{Body, Message};
use crate::core::raft::state::{Ctx, PendingRead, RaftNode, RoleState, MAX_TRACKED_ROUNDS};
use crate::core::time::Time;

impl RaftNode {
    /// Starts a new heartbeat round.
    pub(super) fn broadcast_heartbeat(&mut self, ctx: &mut Ctx) {
        let term = self.hard_state.term;
        let commit_index = self.commit_index;
        let next_heartbeat = ctx.now.saturating_add(self.config.heartbeat_interval);
        self.start_round(ctx);
        let RoleState::Leader(leader) = &mut self.role else {
            return;
        };
        leader.heartbeat_deadline = next_heartbeat;
        for (&peer, progress) in &leader.progress {
            // Only a commit index the follower is known to hold: its log may
            // still have a conflicting suffix past `matched`.
            let leader_commit: LogIndex = progress.matched.min(commit_index);
            ctx.out.send(
                peer,
                Message {
                    term,
                    body: Body::Heartbeat {
                        leader_commit,
                        round: leader.round,
                    },
                },
            );
        }
    }

    /// Starts a new round at `now`: every message to a follower from here on
    /// carries its number.
    pub(super) fn start_round(&mut self, ctx: &mut Ctx) {
        let Some(leader) = self.leader_state_mut() else {
            return;
        };
        leader.round += 1;
        if leader.rounds_sent_at.len() == MAX_TRACKED_ROUNDS {
            leader.rounds_sent_at.pop_front();
        }
        leader.rounds_sent_at.push_back((leader.round, ctx.now));
        // A one-node cluster is its own majority.
        self.update_confirmed_round(ctx);
    }

    /// `from` acknowledged `round` (and everything before it).
    pub(super) fn acknowledge_round(&mut self, ctx: &mut Ctx, from: NodeId, round: u64) {
        let Some(leader) = self.leader_state_mut() else {
            return;
        };
        if round > leader.round {
            ctx.out
                .drop_input(Some(from), DropReason::IndexOutOfRange { index: round });
            return;
        }
        if let Some(progress) = leader.progress.get_mut(&from) {
            progress.acked_round = progress.acked_round.max(round);
        }
        self.update_confirmed_round(ctx);
    }

    /// Moves the lease forward to the latest round a majority acknowledged.
    fn update_confirmed_round(&mut self, ctx: &mut Ctx) {
        #[cfg(feature = "deliberate-bugs")]
        let from_ack = self.config.bugs.lease_from_ack;
        #[cfg(not(feature = "deliberate-bugs"))]
        let from_ack = false;
        let Some(leader) = self.leader_state_mut() else {
            return;
        };
        let confirmed = leader.majority(|progress| progress.acked_round, leader.round);
        if confirmed <= leader.confirmed_round {
            return;
        }
        leader.confirmed_round = confirmed;
        while let Some(&(round, sent_at)) = leader.rounds_sent_at.front() {
            if round > confirmed {
                break;
            }
            leader.rounds_sent_at.pop_front();
            if round == confirmed {
                leader.lease_start = Some(if from_ack { ctx.now } else { sent_at });
            }
        }
        self.serve_pending_reads(ctx);
    }

    /// Whether this node may serve a read from local state at `now`.
    pub(super) fn lease_is_valid(&self, now: Time) -> bool {
        let Some(leader) = self.leader_state() else {
            return false;
        };
        self.config.lease_reads
            && !leader.lease_revoked
            && leader.transfer.is_none()
            && self.has_committed_in_current_term()
            && leader
                .lease_start
                .is_some_and(|start| now < start.saturating_add(self.config.lease_duration))
    }

    /// A new leader knows its state holds every committed write only once an
    /// entry of its own term is committed (paper §8).
    pub(super) fn has_committed_in_current_term(&self) -> bool {
        self.log.term_at(self.commit_index) == Some(self.hard_state.term)
    }

    pub(super) fn handle_read(&mut self, ctx: &mut Ctx, request: ClientRequest) {
        let key = request.operation.key().to_owned();
        if self.lease_is_valid(ctx.now) {
            let value = self.kv.read(&key);
            ctx.out.replies.push(ClientReply {
                id: request.id,
                result: Ok(Outcome::Read(value)),
            });
            return;
        }
        let Some(leader) = self.leader_state_mut() else {
            return;
        };
        leader.pending_reads.push_back(PendingRead {
            id: request.id,
            key,
            round: leader.round + 1,
        });
        self.broadcast_heartbeat(ctx);
    }

    /// Answers the ReadIndex reads whose confirming round a majority
    /// acknowledged, once this leader has committed in its term.
    pub(super) fn serve_pending_reads(&mut self, ctx: &mut Ctx) {
        if !self.has_committed_in_current_term() {
            return;
        }
        let RoleState::Leader(leader) = &mut self.role else {
            return;
        };
        while leader
            .pending_reads
            .front()
            .is_some_and(|read| read.round <= leader.confirmed_round)
        {
            let read = leader.pending_reads.pop_front().expect("checked non-empty");
            ctx.out.replies.push(ClientReply {
                id: read.id,
                result: Ok(Outcome::Read(self.kv.read(&read.key))),
            });
        }
    }

    pub(super) fn handle_heartbeat(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        leader_commit: LogIndex,
        round: u64,
    ) {
        if !self.accept_leader_message(ctx, from) {
            return;
        }
        // The leader sends only a commit index we hold; clamp anyway, so a
        // malformed heartbeat cannot push us past our log.
        let commit = leader_commit.min(self.log.last_index());
        if commit > self.commit_index {
            self.commit_index = commit;
            self.apply_committed(ctx);
        }
        let term = self.hard_state.term;
        ctx.out.send(
            from,
            Message {
                term,
                body: Body::HeartbeatResponse { round },
            },
        );
    }

    pub(super) fn handle_heartbeat_response(&mut self, ctx: &mut Ctx, from: NodeId, round: u64) {
        let last_index = self.log.last_index();
        let Some(leader) = self.leader_state_mut() else {
            self.drop_unexpected(ctx, from);
            return;
        };
        let progress = leader.progress.get_mut(&from).expect("peers are checked");
        progress.recently_active = true;
        progress.heard_heartbeat_response();
        let lagging = progress.matched < last_index;
        self.acknowledge_round(ctx, from, round);
        if lagging {
            self.catch_up(ctx, from);
        }
    }
}
