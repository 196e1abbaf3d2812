//! Living with a coordinator: COORDINATOR's lap, heartbeats, and which of
//! two claims to leadership a node believes.
//!
//! A claim is believed if its epoch is newer than ours, or equal with a
//! leader at least as high as the one we follow: after a partition heals,
//! the newer epoch wins and equal epochs resolve to the higher id, without a
//! new election. Nothing here counts a quorum, on purpose: under a
//! partition each side's lap crowns its own coordinator (split brain), which
//! the suite must be able to show.

use crate::core::chassis::Epoch;
use crate::core::node::{DropReason, Node, NodeId};
use crate::core::ring::hops::Circulating;
use crate::core::ring::message::{Body, Hop, Message};
use crate::core::ring::state::{Ctx, RingNode, RoleState};

impl RingNode {
    fn believes(&self, leader: NodeId, epoch: Epoch) -> bool {
        epoch > self.coordination.epoch
            || (epoch == self.coordination.epoch && Some(leader) >= self.coordination.leader)
    }

    /// Drops a claim we do not believe: from an older epoch, or from a lower
    /// leader in our epoch (the one we follow, or we ourselves, outranks it).
    fn refuse(&self, ctx: &mut Ctx, from: NodeId, epoch: Epoch) {
        let reason = if epoch < self.coordination.epoch {
            DropReason::StaleTerm {
                message_term: epoch.get(),
                current_term: self.coordination.epoch.get(),
            }
        } else {
            let leader = self
                .coordination
                .leader
                .expect("a same-epoch claim is refused only for a known leader");
            DropReason::LeaderStillAlive { leader }
        };
        ctx.out.drop_input(Some(from), reason);
    }

    /// COORDINATOR for `leader`, crowned in `epoch` (already adopted if newer
    /// than ours).
    pub(super) fn handle_coordinator(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        leader: NodeId,
        epoch: Epoch,
        hop: Hop,
    ) {
        self.acknowledge(ctx, from, hop);
        if leader == self.coordination.id() {
            // Our own announcement, home from its lap: everyone on the way
            // has it. Any other is from an earlier reign of ours.
            if !(self.leads() && epoch == self.coordination.epoch) {
                ctx.out.drop_input(Some(from), DropReason::Stale);
            }
            return;
        }
        if self.forwarded_coordinator == Some((epoch, leader)) {
            // A second copy (duplicated, or resent past a slow successor).
            ctx.out.drop_input(Some(from), DropReason::Stale);
            return;
        }
        if !self.believes(leader, epoch) {
            self.refuse(ctx, from, epoch);
            return;
        }
        self.follow(ctx, leader);
        assert_eq!(self.coordination.epoch, epoch, "adopted before we got here");
        self.forwarded_coordinator = Some((epoch, leader));
        self.send_around(ctx, Circulating::Coordinator { leader });
    }

    /// HEARTBEAT from `from`, a coordinator in `epoch`. A node taking part
    /// in an election waits for its COORDINATOR, as Chang–Roberts has it:
    /// letting a heartbeat end the election would abandon the hops it still
    /// owes its successor and strand the lap for everyone after it.
    pub(super) fn handle_heartbeat(&mut self, ctx: &mut Ctx, from: NodeId, epoch: Epoch) {
        if self.participation.is_some() && !self.leads() {
            let role = self.role();
            ctx.out
                .drop_input(Some(from), DropReason::UnexpectedForRole { role });
        } else if self.believes(from, epoch) {
            self.follow(ctx, from);
        } else {
            self.refuse(ctx, from, epoch);
        }
    }

    /// Follows `leader`, or keeps following it, restarting failure
    /// detection. Any election we took part in is over.
    fn follow(&mut self, ctx: &mut Ctx, leader: NodeId) {
        assert_ne!(
            leader,
            self.coordination.id(),
            "a node never follows itself"
        );
        self.participation = None;
        self.role = RoleState::Follower {
            leader_deadline: self.new_leader_deadline(ctx),
        };
        self.coordination.leader = Some(leader);
    }

    pub(super) fn broadcast_heartbeat(&mut self, ctx: &mut Ctx) {
        assert!(self.leads());
        for &peer in self.coordination.membership.peers() {
            ctx.out.send(
                peer,
                Message {
                    epoch: self.coordination.epoch,
                    body: Body::Heartbeat,
                },
            );
        }
        self.role = RoleState::Leader {
            heartbeat_deadline: ctx.now.saturating_add(self.config.heartbeat_interval),
        };
    }
}
