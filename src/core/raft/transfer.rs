//! Leadership transfer (thesis §3.10): the leader stops taking operations,
//! brings the target's log up to date, and sends it TimeoutNow; the target
//! campaigns at once. The leader gives up its lease as soon as a transfer
//! starts: voters honour the target's election even while they still hear
//! from us, so a lease read could be contradicted by the new leader.

use crate::core::node::{DropReason, NodeId};
use crate::core::raft::message::{Body, Message};
use crate::core::raft::state::{Ctx, RaftNode, Transfer};

impl RaftNode {
    pub(super) fn start_transfer(&mut self, ctx: &mut Ctx, to: NodeId) {
        if !self.peers.contains(&to) {
            ctx.out
                .drop_input(None, DropReason::InvalidTarget { target: to });
            return;
        }
        let deadline = ctx.now.saturating_add(self.config.election_timeout_min);
        let Some(leader) = self.leader_state_mut() else {
            self.drop_unexpected(ctx, to);
            return;
        };
        if leader
            .transfer
            .as_ref()
            .is_some_and(|transfer| transfer.to == to)
        {
            return;
        }
        leader.transfer = Some(Transfer {
            to,
            deadline,
            timeout_now_sent: false,
        });
        self.maybe_send_timeout_now(ctx, to);
        self.send_append(ctx, to);
    }

    /// Sends TimeoutNow once the transfer target's log matches ours.
    pub(super) fn maybe_send_timeout_now(&mut self, ctx: &mut Ctx, peer: NodeId) {
        let last_index = self.log.last_index();
        let term = self.hard_state.term;
        let Some(leader) = self.leader_state_mut() else {
            return;
        };
        let Some(transfer) = leader.transfer.as_mut() else {
            return;
        };
        let caught_up = leader.progress[&peer].matched == last_index;
        if transfer.to != peer || transfer.timeout_now_sent || !caught_up {
            return;
        }
        transfer.timeout_now_sent = true;
        leader.lease_revoked = true;
        ctx.out.send(
            peer,
            Message {
                term,
                body: Body::TimeoutNow,
            },
        );
    }

    /// Abandons a transfer that did not finish within an election timeout;
    /// the leader takes operations again (its lease stays revoked if
    /// TimeoutNow went out).
    pub(super) fn tick_transfer(&mut self, ctx: &mut Ctx) {
        let Some(leader) = self.leader_state_mut() else {
            return;
        };
        if leader
            .transfer
            .as_ref()
            .is_some_and(|transfer| ctx.now >= transfer.deadline)
        {
            leader.transfer = None;
        }
    }
}
