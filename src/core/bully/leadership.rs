//! Living with a coordinator: accepting (or bullying) one that announces
//! itself, the coordinator's heartbeats, and following.
//!
//! Nothing here counts a quorum, on purpose: under a partition each side
//! crowns its own coordinator and both serve clients (split brain). That is
//! Bully's known weakness, and the suite must be able to show it.

use crate::core::bully::message::Body;
use crate::core::bully::state::{BullyNode, Ctx, RoleState};
use crate::core::chassis::Epoch;
use crate::core::node::{DropReason, NodeId};

impl BullyNode {
    /// COORDINATOR or HEARTBEAT from `from` in `epoch` (already adopted if
    /// it was newer than ours).
    pub(super) fn handle_leader_claim(&mut self, ctx: &mut Ctx, from: NodeId, epoch: Epoch) {
        if epoch < self.coordination.epoch {
            ctx.out.drop_input(
                Some(from),
                DropReason::StaleTerm {
                    message_term: epoch.get(),
                    current_term: self.coordination.epoch.get(),
                },
            );
            return;
        }
        if from < self.coordination.id() {
            // A lower id coordinates while we are alive: it crowned itself
            // because we did not answer (we were down or cut off). Bully
            // says the highest live id leads, so we hold an election, which
            // is how a returning node bullies its way back.
            if !self.in_election() {
                self.start_election(ctx);
            }
            return;
        }
        self.follow(ctx, from);
    }

    /// Follows `leader`, or keeps following it, restarting failure detection.
    fn follow(&mut self, ctx: &mut Ctx, leader: NodeId) {
        assert_ne!(
            leader,
            self.coordination.id(),
            "a node never follows itself"
        );
        self.role = RoleState::Follower {
            leader_deadline: self.new_leader_deadline(ctx),
        };
        self.coordination.leader = Some(leader);
    }

    pub(super) fn broadcast_heartbeat(&mut self, ctx: &mut Ctx) {
        assert!(matches!(self.role, RoleState::Leader { .. }));
        for &peer in self.coordination.membership.peers() {
            self.send(ctx, peer, Body::Heartbeat);
        }
        self.role = RoleState::Leader {
            heartbeat_deadline: ctx.now.saturating_add(self.config.heartbeat_interval),
        };
    }
}
