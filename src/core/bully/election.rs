//! The election proper (Garcia-Molina, 1982, "Elections in a Distributed
//! Computing System", §4): ELECTION to every higher id, ANSWER from those
//! alive, and the two timeouts that keep it live when nodes die midway.

use crate::core::bully::message::Body;
use crate::core::bully::state::{BullyNode, Ctx, RoleState};
use crate::core::node::{DropReason, NodeId};

impl BullyNode {
    /// Asks every higher id whether it is alive. With none above us there is
    /// nobody to ask: we are the highest, and crown ourselves at once.
    pub(super) fn start_election(&mut self, ctx: &mut Ctx) {
        self.coordination.leader = None;
        if self.coordination.membership.higher().is_empty() {
            self.become_leader(ctx);
            return;
        }
        for &peer in self.coordination.membership.higher() {
            self.send(ctx, peer, Body::Election);
        }
        self.role = RoleState::Electing {
            answer_deadline: ctx.now.saturating_add(self.config.answer_timeout),
        };
    }

    /// ELECTION from a lower id (checked by `validate`): answer it, and take
    /// the election over unless we already run one.
    pub(super) fn handle_election(&mut self, ctx: &mut Ctx, from: NodeId) {
        assert!(
            from < self.coordination.id(),
            "validated: ELECTION only comes from below"
        );
        self.send(ctx, from, Body::Answer);
        match self.role {
            // We are the highest live node and already crowned: our own
            // election would be won at once, by the same coordinator, so
            // re-announcing to the asker is its whole outcome. Crowning again
            // would bump the epoch once per asker for no new coordinator.
            RoleState::Leader { .. } => self.send(ctx, from, Body::Coordinator),
            RoleState::Electing { .. } | RoleState::AwaitingCoordinator { .. } => {}
            RoleState::Follower { .. } => self.start_election(ctx),
        }
    }

    /// ANSWER from a higher id (checked by `validate`): a higher node is
    /// alive and runs the election on; wait for its COORDINATOR.
    pub(super) fn handle_answer(&mut self, ctx: &mut Ctx, from: NodeId) {
        assert!(
            from > self.coordination.id(),
            "validated: ANSWER only comes from above"
        );
        match self.role {
            RoleState::Electing { .. } => {
                self.role = RoleState::AwaitingCoordinator {
                    coordinator_deadline: ctx.now.saturating_add(self.config.coordinator_timeout),
                };
            }
            // Another higher node is alive too; the first answer already
            // started the wait.
            RoleState::AwaitingCoordinator { .. } => {}
            // An answer to an election that has already ended.
            RoleState::Follower { .. } | RoleState::Leader { .. } => {
                ctx.out.drop_input(Some(from), DropReason::Stale)
            }
        }
    }

    /// No higher id answered: we are the highest live node. Crown ourselves
    /// one epoch above anything we have seen and tell everyone.
    pub(super) fn become_leader(&mut self, ctx: &mut Ctx) {
        let epoch = self.coordination.epoch.next();
        self.coordination.raise_epoch(ctx, epoch);
        self.role = RoleState::Leader {
            heartbeat_deadline: ctx.now.saturating_add(self.config.heartbeat_interval),
        };
        self.coordination.leader = Some(self.coordination.id());
        for &peer in self.coordination.membership.peers() {
            self.send(ctx, peer, Body::Coordinator);
        }
    }
}
