//! Acknowledged hops: how ELECTION and COORDINATOR get round a ring with
//! dead members. Each hop is numbered and remembered until its receiver
//! acknowledges it; a successor that does not acknowledge within the ack
//! timeout is presumed dead and the message goes to the one after it.
//! Every new message starts at our immediate successor again: a node that
//! came back is used at once, at the price of one ack timeout per dead
//! member per lap.

use crate::core::chassis::{Epoch, MAX_MEMBERS};
use crate::core::node::{DropReason, NodeId};
use crate::core::ring::message::{Body, Hop, Message};
use crate::core::ring::state::{Ctx, RingNode};
use crate::core::ring::topology::successor_of;
use crate::core::time::Time;

/// The most hops awaiting acknowledgement. Honest traffic needs a few (an
/// ELECTION per higher candidate seen and one COORDINATOR); this bound only
/// stops a flood of forwarded input from growing memory: beyond it the
/// oldest hop is abandoned, as if lost, and the coordinator timeout
/// recovers.
pub(crate) const MAX_PENDING_HOPS: usize = 2 * MAX_MEMBERS;

/// What travels round the ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Circulating {
    Election { candidate: NodeId },
    Coordinator { leader: NodeId },
}

impl Circulating {
    fn body(self, hop: Hop) -> Body {
        match self {
            Circulating::Election { candidate } => Body::Election { candidate, hop },
            Circulating::Coordinator { leader } => Body::Coordinator { leader, hop },
        }
    }
}

/// A hop sent and not yet acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PendingHop {
    pub what: Circulating,
    /// The epoch the message was sent with; a COORDINATOR keeps the epoch
    /// its leader crowned itself in on every hop.
    pub epoch: Epoch,
    pub to: NodeId,
    /// Without an ACK by then, `to` is presumed dead.
    pub deadline: Time,
}

impl RingNode {
    /// Sends `what` to our successor, in our current epoch.
    pub(super) fn send_around(&mut self, ctx: &mut Ctx, what: Circulating) {
        let to = self.successor();
        let epoch = self.coordination.epoch;
        self.send_hop(ctx, what, epoch, to);
    }

    fn send_hop(&mut self, ctx: &mut Ctx, what: Circulating, epoch: Epoch, to: NodeId) {
        assert_ne!(to, self.coordination.id(), "a hop never goes to ourselves");
        if self.pending.len() == MAX_PENDING_HOPS {
            self.pending.pop_first();
        }
        let hop = self.next_hop;
        self.next_hop += 1;
        let deadline = ctx.now.saturating_add(self.config.ack_timeout);
        self.pending.insert(
            hop,
            PendingHop {
                what,
                epoch,
                to,
                deadline,
            },
        );
        ctx.out.send(
            to,
            Message {
                epoch,
                body: what.body(hop),
            },
        );
    }

    /// Acknowledges hop `hop` to `to`: we are alive and took the message,
    /// whatever we then make of it.
    pub(super) fn acknowledge(&self, ctx: &mut Ctx, to: NodeId, hop: Hop) {
        ctx.out.send(
            to,
            Message {
                epoch: self.coordination.epoch,
                body: Body::Ack { hop },
            },
        );
    }

    pub(super) fn handle_ack(&mut self, ctx: &mut Ctx, from: NodeId, hop: Hop) {
        match self.pending.get(&hop) {
            Some(pending) if pending.to == from => {
                self.pending.remove(&hop);
            }
            // An ACK for a hop we gave up on, or from the wrong node.
            _ => ctx.out.drop_input(Some(from), DropReason::Stale),
        }
    }

    /// Passes on every hop whose receiver did not acknowledge in time.
    pub(super) fn expire_hops(&mut self, ctx: &mut Ctx) {
        let expired: Vec<Hop> = self
            .pending
            .iter()
            .filter(|(_, pending)| ctx.now >= pending.deadline)
            .map(|(&hop, _)| hop)
            .collect();
        for hop in expired {
            if let Some(pending) = self.pending.remove(&hop) {
                self.skip(ctx, pending);
            }
        }
    }

    /// `pending.to` is presumed dead: try the member after it.
    fn skip(&mut self, ctx: &mut Ctx, pending: PendingHop) {
        let next = successor_of(&self.coordination.membership, pending.to);
        match pending.what {
            Circulating::Election { candidate } => {
                self.skip_election(ctx, pending, candidate, next)
            }
            // Skipping the leader (the lap's last stop) or coming back round
            // to ourselves means every live node on the lap has been told.
            Circulating::Coordinator { leader } => {
                if leader != pending.to && next != self.coordination.id() {
                    self.send_hop(ctx, pending.what, pending.epoch, next);
                }
            }
        }
    }

    fn skip_election(
        &mut self,
        ctx: &mut Ctx,
        pending: PendingHop,
        candidate: NodeId,
        next: NodeId,
    ) {
        // Only the highest candidate of the election we are still in is
        // worth carrying on; one we have since outbid or left is not.
        let Some(participation) = self.participation else {
            return;
        };
        if participation.forwarded_max != candidate {
            return;
        }
        if next == self.coordination.id() {
            // Nobody else acknowledges: we are the only live member.
            if self.leads() {
                self.participation = None;
            } else {
                self.become_leader(ctx);
            }
            return;
        }
        if candidate == pending.to {
            // The candidate itself is gone, so its id can never come home
            // to win: carry ours on in its place.
            self.participate(ctx, self.coordination.id());
            let epoch = self.coordination.epoch;
            let what = Circulating::Election {
                candidate: self.coordination.id(),
            };
            self.send_hop(ctx, what, epoch, next);
        } else {
            let epoch = self.coordination.epoch;
            self.send_hop(ctx, pending.what, epoch, next);
        }
    }
}
