//! The election (Chang & Roberts, 1979, "An improved algorithm for
//! decentralized extrema-finding in circular configurations of processes"):
//! an ELECTION carries the highest id seen on its lap; a node passes a
//! higher id on, replaces a lower one by its own unless it already sent one
//! round, and wins when its own id comes back.
//!
//! One lap from the highest live id always succeeds, so a stalled election
//! (a candidate died, a message was lost) is recovered by the coordinator
//! timeout: the node starts over with its own id.

use crate::core::node::{DropReason, NodeId};
use crate::core::ring::hops::Circulating;
use crate::core::ring::message::Hop;
use crate::core::ring::state::{Ctx, Participation, RingNode, RoleState};

impl RingNode {
    /// Starts (or starts over) an election with our own id.
    pub(super) fn start_election(&mut self, ctx: &mut Ctx) {
        assert!(!self.leads(), "a coordinator does not elect");
        self.participation = None;
        self.participate(ctx, self.coordination.id());
        if self.coordination.membership.len() == 1 {
            self.become_leader(ctx);
            return;
        }
        self.send_around(
            ctx,
            Circulating::Election {
                candidate: self.coordination.id(),
            },
        );
    }

    /// Marks us as a participant that has sent `candidate` on. A node that
    /// does not lead forgets its coordinator: the election is choosing a new
    /// one.
    pub(super) fn participate(&mut self, ctx: &mut Ctx, candidate: NodeId) {
        if !self.leads() {
            self.coordination.leader = None;
        }
        let deadline = ctx.now.saturating_add(self.config.coordinator_timeout);
        let participation = self.participation.get_or_insert(Participation {
            forwarded_max: candidate,
            deadline,
        });
        participation.forwarded_max = candidate;
    }

    pub(super) fn handle_election(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        candidate: NodeId,
        hop: Hop,
    ) {
        self.acknowledge(ctx, from, hop);
        let forwarded_max = self.participation.map(|p| p.forwarded_max);
        if candidate == self.coordination.id() {
            // Our id went all the way round: nobody live outranks us. One
            // that we no longer carry (we outbid it, or the election ended)
            // is a leftover.
            if forwarded_max == Some(self.coordination.id()) {
                self.become_leader(ctx);
            } else {
                ctx.out.drop_input(Some(from), DropReason::Stale);
            }
            return;
        }
        let send_on = if candidate > self.coordination.id() {
            // A higher id runs: pass it on, unless it (or a higher one)
            // already went through us.
            forwarded_max
                .is_none_or(|max| candidate > max)
                .then_some(candidate)
        } else {
            // A lower id runs: replace it by ours, unless ours (or a higher
            // one) already went round.
            forwarded_max.is_none().then_some(self.coordination.id())
        };
        match send_on {
            Some(candidate) => {
                self.participate(ctx, candidate);
                self.send_around(ctx, Circulating::Election { candidate });
            }
            None => ctx.out.drop_input(Some(from), DropReason::Stale),
        }
    }

    /// Our id came home: crown ourselves one epoch above anything seen on
    /// the lap (every node on it raised the message's epoch to its own) and
    /// send COORDINATOR round.
    pub(super) fn become_leader(&mut self, ctx: &mut Ctx) {
        let epoch = self.coordination.epoch.next();
        self.coordination.raise_epoch(ctx, epoch);
        self.participation = None;
        self.role = RoleState::Leader {
            heartbeat_deadline: ctx.now.saturating_add(self.config.heartbeat_interval),
        };
        self.coordination.leader = Some(self.coordination.id());
        self.forwarded_coordinator = Some((epoch, self.coordination.id()));
        if self.coordination.membership.len() > 1 {
            self.send_around(
                ctx,
                Circulating::Coordinator {
                    leader: self.coordination.id(),
                },
            );
        }
    }
}
