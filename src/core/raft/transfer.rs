//! Leadership transfer (thesis §3.10): the leader stops taking operations,
//! brings the target's log up to date, and sends it TimeoutNow; the target
//! campaigns at once. The leader gives up its lease as soon as a transfer
//! starts: voters honour the target's election even while they still hear
//! from us, so a lease read could be contradicted by the new leader.

use crate::core::node::NodeId;
use crate::core::raft::message::{Body, Message};
use crate::core::raft::role::{LeaderState, Transfer};
use crate::core::raft::state::{Ctx, Replica};

impl Replica {
    /// Starts handing leadership to `to`, a peer (checked by the caller).
    pub(super) fn start_transfer(&mut self, leader: &mut LeaderState, ctx: &mut Ctx, to: NodeId) {
        assert!(self.membership.is_peer(to), "a transfer goes to a peer");
        if leader
            .transfer
            .as_ref()
            .is_some_and(|transfer| transfer.to == to)
        {
            return;
        }
        leader.transfer = Some(Transfer {
            to,
            deadline: ctx.now.saturating_add(self.config.election_timeout_min),
            timeout_now_sent: false,
        });
        self.maybe_send_timeout_now(leader, ctx, to);
        self.send_append(leader, ctx, to);
    }

    /// Sends TimeoutNow once the transfer target's log matches ours.
    pub(super) fn maybe_send_timeout_now(
        &self,
        leader: &mut LeaderState,
        ctx: &mut Ctx,
        peer: NodeId,
    ) {
        let Some(transfer) = leader.transfer.as_mut() else {
            return;
        };
        let caught_up = leader.progress[&peer].matched == self.log.last_index();
        if transfer.to != peer || transfer.timeout_now_sent || !caught_up {
            return;
        }
        transfer.timeout_now_sent = true;
        leader.lease_revoked = true;
        ctx.out.send(
            peer,
            Message {
                term: self.hard_state.term,
                body: Body::TimeoutNow,
            },
        );
    }

    /// Abandons a transfer that did not finish within an election timeout;
    /// the leader takes operations again (its lease stays revoked if
    /// TimeoutNow went out).
    pub(super) fn tick_transfer(&self, leader: &mut LeaderState, ctx: &mut Ctx) {
        if leader
            .transfer
            .as_ref()
            .is_some_and(|transfer| ctx.now >= transfer.deadline)
        {
            leader.transfer = None;
        }
    }
}
