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
use crate::core::raft::counters::{LogIndex, Round};
use crate::core::raft::message::{Body, Heartbeat, HeartbeatResponse, Message};
use crate::core::raft::role::{LeaderState, PendingRead, MAX_TRACKED_ROUNDS};
use crate::core::raft::state::{Ctx, Replica};
use crate::core::time::Time;

impl Replica {
    /// Starts a new heartbeat round.
    pub(super) fn broadcast_heartbeat(&mut self, leader: &mut LeaderState, ctx: &mut Ctx) {
        let term = self.hard_state.term;
        self.start_round(leader, ctx);
        leader.heartbeat_deadline = ctx.now.saturating_add(self.config.heartbeat_interval);
        for (&peer, progress) in &leader.progress {
            // Only a commit index the follower is known to hold: its log may
            // still have a conflicting suffix past `matched`.
            let leader_commit: LogIndex = progress.matched.min(self.commit_index);
            let heartbeat = Heartbeat {
                leader_commit,
                round: leader.round,
            };
            ctx.out.send(
                peer,
                Message {
                    term,
                    body: Body::Heartbeat(heartbeat),
                },
            );
        }
    }

    /// Starts a new round at `now`: every message to a follower from here on
    /// carries its number.
    pub(super) fn start_round(&mut self, leader: &mut LeaderState, ctx: &mut Ctx) {
        leader.round = leader.round.next();
        if leader.rounds_sent_at.len() == MAX_TRACKED_ROUNDS {
            leader.rounds_sent_at.pop_front();
        }
        leader.rounds_sent_at.push_back((leader.round, ctx.now));
        // A one-node cluster is its own majority.
        self.update_confirmed_round(leader, ctx);
    }

    /// Whether an acknowledgement names a round we never started: a forged
    /// or corrupt message, dropped before it moves the lease.
    fn ignore_round(leader: &LeaderState, round: Round) -> bool {
        round > leader.round
    }

    /// `from` acknowledged `round` (and everything before it).
    pub(super) fn acknowledge_round(
        &mut self,
        leader: &mut LeaderState,
        ctx: &mut Ctx,
        from: NodeId,
        round: Round,
    ) {
        if Self::ignore_round(leader, round) {
            ctx.out.drop_input(
                Some(from),
                DropReason::IndexOutOfRange { index: round.get() },
            );
            return;
        }
        if let Some(progress) = leader.progress.get_mut(&from) {
            progress.acked_round = progress.acked_round.max(round);
        }
        self.update_confirmed_round(leader, ctx);
    }

    /// Moves the lease forward to the latest round a majority acknowledged.
    /// Lease Safety rests here: the lease runs from the round's send time,
    /// which every acknowledging follower heard after, never from the time
    /// the acknowledgements arrived.
    fn update_confirmed_round(&mut self, leader: &mut LeaderState, ctx: &mut Ctx) {
        let from_ack = self.config.bugs.lease_from_ack();
        let confirmed = leader.majority(
            &self.configuration,
            self.id(),
            |progress| progress.acked_round,
            leader.round,
        );
        if confirmed <= leader.confirmed_round {
            return;
        }
        let lease_before = leader.lease_start;

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

        assert!(
            leader.confirmed_round <= leader.round,
            "confirmed an unsent round"
        );
        assert!(
            leader.lease_start >= lease_before,
            "the lease start never moves back"
        );
        assert!(
            leader.lease_start.is_none_or(|start| start <= ctx.now),
            "a lease never starts in the future"
        );
        self.serve_pending_reads(leader, ctx);
    }

    /// Whether this leader may serve a read from local state at `now`.
    pub(super) fn lease_is_valid(&self, leader: &LeaderState, now: Time) -> bool {
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

    pub(super) fn handle_read(
        &mut self,
        leader: &mut LeaderState,
        ctx: &mut Ctx,
        request: ClientRequest,
    ) {
        let key = request.operation.key().to_owned();
        if self.lease_is_valid(leader, ctx.now) {
            let value = self.kv.read(&key);
            ctx.out.replies.push(ClientReply {
                id: request.id,
                result: Ok(Outcome::Read(value)),
            });
            return;
        }
        leader.pending_reads.push_back(PendingRead {
            id: request.id,
            key,
            round: leader.round.next(),
        });
        self.broadcast_heartbeat(leader, ctx);
    }

    /// Answers the ReadIndex reads whose confirming round a majority
    /// acknowledged, once this leader has committed in its term.
    pub(super) fn serve_pending_reads(&mut self, leader: &mut LeaderState, ctx: &mut Ctx) {
        if !self.has_committed_in_current_term() {
            return;
        }
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

    /// A heartbeat from the leader of our term, which we already follow.
    pub(super) fn handle_heartbeat(&mut self, ctx: &mut Ctx, from: NodeId, heartbeat: Heartbeat) {
        assert_eq!(
            self.leader,
            Some(from),
            "a heartbeat from the leader we follow"
        );
        // The leader sends only a commit index we hold; clamp anyway, so a
        // malformed heartbeat cannot push us past our log.
        let commit = heartbeat.leader_commit.min(self.log.last_index());
        if commit > self.commit_index {
            self.commit_index = commit;
            self.apply_committed(ctx, None);
        }
        let term = self.hard_state.term;
        let response = HeartbeatResponse {
            round: heartbeat.round,
        };
        ctx.out.send(
            from,
            Message {
                term,
                body: Body::HeartbeatResponse(response),
            },
        );
    }

    pub(super) fn handle_heartbeat_response(
        &mut self,
        leader: &mut LeaderState,
        ctx: &mut Ctx,
        from: NodeId,
        response: HeartbeatResponse,
    ) {
        let progress = leader.progress.get_mut(&from).expect("peers are checked");
        progress.recently_active = true;
        progress.heard_heartbeat_response();
        let lagging = progress.matched < self.log.last_index();
        self.acknowledge_round(leader, ctx, from, response.round);
        if lagging {
            self.catch_up(leader, ctx, from);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::core::node::{Input, Node, Role};
    use crate::core::raft::testing::replicating_leader;
    use rand_chacha::ChaCha8Rng;

    use crate::core::raft::{
        Body, Config, HeartbeatResponse, Message, RaftActions, RaftNode, Round,
    };
    use crate::core::time::Time;

    use super::MAX_TRACKED_ROUNDS;

    /// Node 2 acknowledges `round` to `leader` at `now`.
    fn acknowledge(leader: &mut RaftNode, rng: &mut ChaCha8Rng, round: Round, now: Time) {
        let message = Message {
            term: leader.current_term(),
            body: Body::HeartbeatResponse(HeartbeatResponse { round }),
        };
        let mut actions = RaftActions::default();
        leader.step(now, rng, Input::Message { from: 2, message }, &mut actions);
    }

    /// With heartbeats far more frequent than the election timeout (1 ms
    /// against 150 ms, legal and CheckQuorum-compatible), acknowledgements
    /// delayed by more than `MAX_TRACKED_ROUNDS` rounds name rounds whose
    /// send times the leader has forgotten. Lease Safety needs the lease to
    /// run from the send time of a round a majority acknowledged, never
    /// from anything later: a forgotten round starts no lease (the safe
    /// direction: shorter), a remembered one starts it at its send time,
    /// and the leader's memory of rounds stays bounded throughout (the
    /// invariant checked after every step).
    /// Ticks `leader` once a millisecond over `millis`; the heartbeat
    /// rounds it starts, each with its send time.
    fn heartbeat_rounds(
        leader: &mut RaftNode,
        rng: &mut ChaCha8Rng,
        millis: std::ops::Range<u64>,
    ) -> Vec<(Round, Time)> {
        let mut rounds: Vec<(Round, Time)> = Vec::new();
        for millis in millis {
            let mut actions = RaftActions::default();
            let now = Time::from_millis(millis);
            leader.step(now, rng, Input::Tick, &mut actions);
            for outgoing in &actions.messages {
                if let Body::Heartbeat(heartbeat) = &outgoing.message.body {
                    if rounds.last().map(|&(round, _)| round) != Some(heartbeat.round) {
                        rounds.push((heartbeat.round, now));
                    }
                }
            }
        }
        rounds
    }

    #[test]
    fn acknowledgements_later_than_the_tracked_rounds_never_lengthen_the_lease() {
        let config = Config {
            heartbeat_interval: Duration::from_millis(1),
            ..Config::default()
        };
        let lease = config.lease_duration;
        let (mut leader, mut rng) = replicating_leader(config);
        let rounds = MAX_TRACKED_ROUNDS as u64 + 16;
        let latest = heartbeat_rounds(&mut leader, &mut rng, 402..402 + rounds)
            .last()
            .copied();
        assert_eq!(
            leader.role(),
            Role::Leader,
            "CheckQuorum keeps it within 150 ms"
        );
        let (latest_round, latest_sent) = latest.expect("a heartbeat every millisecond");
        assert!(latest_round.get() > rounds, "one round per heartbeat");
        let now = latest_sent;
        // Both followers acknowledged round 1 with the no-op: the lease
        // runs from its send time. Round 2 went out at 402 ms, more than
        // the tracked rounds ago.
        let before = leader.lease_expiry(now);
        assert!(before.is_some(), "the lease from round 1 still runs");
        acknowledge(&mut leader, &mut rng, Round::new(2), now);
        assert_eq!(
            leader.lease_expiry(now),
            before,
            "a round whose send time is forgotten never moves the lease"
        );
        acknowledge(&mut leader, &mut rng, latest_round, now);
        assert_eq!(
            leader.lease_expiry(now),
            Some(latest_sent.saturating_add(lease)),
            "the lease runs from the acknowledged round's send time"
        );
    }

    /// Acknowledgements come back a round trip behind the heartbeats, so a
    /// majority usually confirms a round after later ones went out; the
    /// lease must still run from that round's send time, or it lapses
    /// while a majority keeps confirming the leader and every read falls
    /// back to a round of heartbeats.
    #[test]
    fn a_round_acknowledged_after_later_rounds_went_out_extends_the_lease() {
        let config = Config {
            heartbeat_interval: Duration::from_millis(1),
            ..Config::default()
        };
        let lease = config.lease_duration;
        let (mut leader, mut rng) = replicating_leader(config);
        let sent = heartbeat_rounds(&mut leader, &mut rng, 402..406);
        assert_eq!(sent.len(), 4, "a heartbeat round every millisecond");
        let (first_round, first_sent) = sent[0];
        let now = Time::from_millis(406);
        acknowledge(&mut leader, &mut rng, first_round, now);
        assert_eq!(
            leader.lease_expiry(now),
            Some(first_sent.saturating_add(lease)),
            "three later rounds are outstanding, fewer than the tracked rounds"
        );
    }

    /// The lease ends at its expiry, the instant excluded: a lease is safe
    /// because `lease_duration + clock_drift_bound <= election_timeout_min`,
    /// so from that instant on a voter may already have granted its vote
    /// to another leader, and a local read there could miss its writes.
    #[test]
    fn the_lease_ends_at_its_expiry() {
        let (leader, _) = replicating_leader(Config::default());
        let now = Time::from_millis(402);
        let expiry = leader.lease_expiry(now).expect("the lease from round 1");
        let just_before = Time::from_micros(expiry.as_micros() - 1);
        assert!(leader.holds_lease(just_before));
        assert!(!leader.holds_lease(expiry));
        assert_eq!(leader.lease_expiry(expiry), None);
    }
}
