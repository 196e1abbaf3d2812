//! The Ring node: its state, the step dispatch, validation of what it
//! receives, epoch adoption, and the invariants checked after every step.

use std::collections::BTreeMap;

use rand::RngCore;

use crate::core::chassis::{self, Context, Coordination, Membership, Protocol};
use crate::core::chassis::{ConfigError, DurableState, Epoch, Persist};
use crate::core::client::ClientRequest;
use crate::core::kv::KvStore;
use crate::core::node::{DropReason, Input, Node, NodeId, Role};
use crate::core::ring::config::Config;
use crate::core::ring::hops::{PendingHop, MAX_PENDING_HOPS};
use crate::core::ring::message::{Body, Hop, Message};
use crate::core::ring::topology::successor_of;
use crate::core::ring::RingActions;
use crate::core::time::Time;

/// The step context of a Ring handler.
pub(super) type Ctx<'a> = Context<'a, Message, Persist>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum RoleState {
    /// Watching the coordinator (or, just up, listening for one): with no
    /// HEARTBEAT or COORDINATOR by `leader_deadline`, start an election.
    /// While taking part in an election, `Participation::deadline` rules
    /// instead.
    Follower { leader_deadline: Time },
    /// We are the coordinator; the next HEARTBEAT is due at
    /// `heartbeat_deadline`.
    Leader { heartbeat_deadline: Time },
}

/// Chang–Roberts' "participant" mark: this node has sent an ELECTION on in
/// the current election.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Participation {
    /// The highest candidate we have sent on. A lower one arriving later is
    /// swallowed: a higher one is already going round. Invariant: at least
    /// our own id, since a lower candidate is always replaced by ours.
    pub forwarded_max: NodeId,
    /// With no COORDINATOR by then, the election stalled: start over.
    pub deadline: Time,
}

/// A Ring node. Build it with [`RingNode::new`] or [`RingNode::restart`] and
/// drive it through [`Node::step`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RingNode {
    /// The members, whose ascending order is the ring's (`topology`); the
    /// epoch; the coordinator believed in (`None` also while a non-leader
    /// takes part in an election); the local store and the clock.
    pub(super) coordination: Coordination,
    pub(super) config: Config,
    pub(super) role: RoleState,
    pub(super) participation: Option<Participation>,
    /// The last COORDINATOR we passed on (its epoch and leader). Each node
    /// passes a given announcement on once, which is what ends its lap even
    /// when the leader died before it came home.
    pub(super) forwarded_coordinator: Option<(Epoch, NodeId)>,
    /// Hops sent and not yet acknowledged, by hop number. Invariant: at most
    /// `MAX_PENDING_HOPS`, every hop below `next_hop`, every target a peer.
    pub(super) pending: BTreeMap<Hop, PendingHop>,
    /// Volatile: a restart numbers from 1 again, so a late ACK from before a
    /// crash may match a new hop to the same successor. That successor was
    /// alive moments ago; if it died since, the lap stalls and the
    /// coordinator timeout recovers, as for any lost message.
    pub(super) next_hop: Hop,
}

impl RingNode {
    /// A node coming up for the first time.
    pub fn new(
        id: NodeId,
        members: &[NodeId],
        config: Config,
        now: Time,
        rng: &mut dyn RngCore,
    ) -> Result<RingNode, ConfigError> {
        Self::restart(id, members, config, DurableState::default(), now, rng)
    }

    /// A node coming (back) up with what it made durable. It listens for one
    /// leader timeout before it starts an election, so that a live
    /// coordinator's heartbeat, if any, tells it who leads and in which
    /// epoch first.
    pub fn restart(
        id: NodeId,
        members: &[NodeId],
        config: Config,
        durable: DurableState,
        now: Time,
        rng: &mut dyn RngCore,
    ) -> Result<RingNode, ConfigError> {
        config.validate(id, members)?;
        let leader_timeout = (config.leader_timeout_min, config.leader_timeout_max);
        let coordination = Coordination::restart(id, members, durable, now, leader_timeout)?;
        let node = RingNode {
            role: RoleState::Follower {
                leader_deadline: coordination.leader_deadline(rng, now),
            },
            coordination,
            config,
            participation: None,
            forwarded_coordinator: None,
            pending: BTreeMap::new(),
            next_hop: 1,
        };
        node.invariants();
        Ok(node)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn members(&self) -> &[NodeId] {
        self.coordination.membership.members()
    }

    /// The next member round the ring (the node itself only in a ring of
    /// one), whether or not it is alive.
    pub fn successor(&self) -> NodeId {
        successor_of(&self.coordination.membership, self.coordination.id())
    }

    pub fn kv(&self) -> &KvStore {
        &self.coordination.kv
    }

    /// What a crash would leave behind if every persist record so far was
    /// made durable.
    pub fn durable_state(&self) -> DurableState {
        self.coordination.durable_state()
    }

    pub(super) fn leads(&self) -> bool {
        matches!(self.role, RoleState::Leader { .. })
    }

    /// A message from a later epoch: someone crowned (or saw) a coordinator
    /// we do not know. Whoever we followed, or our own leadership, belongs
    /// to an older epoch now. Taking part in an election goes on: the
    /// epoch only tells us how high the next coordinator must number itself.
    fn adopt_epoch(&mut self, ctx: &mut Ctx, epoch: Epoch) {
        self.coordination.adopt_epoch(ctx, epoch);
        if self.leads() {
            self.role = RoleState::Follower {
                leader_deadline: self.new_leader_deadline(ctx),
            };
        }
    }

    pub(super) fn new_leader_deadline(&self, ctx: &mut Ctx) -> Time {
        self.coordination.leader_deadline(ctx.rng, ctx.now)
    }

    /// Bad input is dropped before it changes anything: a candidate or
    /// leader that is not a member, or an announcement of our own leadership
    /// in an epoch we never reached (`chassis::step` has dropped unknown
    /// senders already).
    fn validate(&self, message: &Message) -> Result<(), DropReason> {
        match message.body {
            Body::Election { candidate, .. }
                if !self.coordination.membership.contains(candidate) =>
            {
                Err(DropReason::InvalidTarget { target: candidate })
            }
            Body::Coordinator { leader, .. } if !self.coordination.membership.contains(leader) => {
                Err(DropReason::InvalidTarget { target: leader })
            }
            Body::Coordinator { leader, .. }
                if leader == self.coordination.id() && message.epoch > self.coordination.epoch =>
            {
                Err(DropReason::InvalidTarget { target: leader })
            }
            _ => Ok(()),
        }
    }

    fn step_message(&mut self, ctx: &mut Ctx, from: NodeId, message: Message) {
        if let Err(reason) = self.validate(&message) {
            ctx.out.drop_input(Some(from), reason);
            return;
        }
        if message.epoch > self.coordination.epoch {
            self.adopt_epoch(ctx, message.epoch);
        }
        let epoch = message.epoch;
        match message.body {
            Body::Election { candidate, hop } => self.handle_election(ctx, from, candidate, hop),
            Body::Coordinator { leader, hop } => {
                self.handle_coordinator(ctx, from, leader, epoch, hop)
            }
            Body::Ack { hop } => self.handle_ack(ctx, from, hop),
            Body::Heartbeat => self.handle_heartbeat(ctx, from, epoch),
        }
    }

    /// Checks the node's own invariants; panics (a bug) if one is broken.
    pub fn invariants(&self) {
        self.coordination.check(self.leads());
        assert!(
            self.successor() != self.coordination.id() || self.coordination.membership.len() == 1,
            "a node is its own successor only in a ring of one"
        );
        if let Some(participation) = self.participation {
            assert!(participation.forwarded_max >= self.coordination.id());
            assert!(self
                .coordination
                .membership
                .contains(participation.forwarded_max));
            if !self.leads() {
                assert!(
                    self.coordination.leader.is_none(),
                    "electing while following someone"
                );
            }
        }
        if let Some((epoch, leader)) = self.forwarded_coordinator {
            assert!(
                epoch <= self.coordination.epoch && self.coordination.membership.contains(leader)
            );
        }
        assert!(self.pending.len() <= MAX_PENDING_HOPS, "unbounded hops");
        for (&hop, pending) in &self.pending {
            assert!(hop < self.next_hop, "hop numbered ahead of the counter");
            assert!(
                self.coordination.membership.is_peer(pending.to),
                "hop to a non-peer"
            );
        }
    }
}

impl Protocol for RingNode {
    fn membership(&self) -> &Membership {
        &self.coordination.membership
    }

    fn clock_mut(&mut self) -> &mut Time {
        &mut self.coordination.now
    }

    fn on_tick(&mut self, ctx: &mut Ctx) {
        self.expire_hops(ctx);
        match self.role {
            RoleState::Leader { heartbeat_deadline } => {
                if ctx.now >= heartbeat_deadline {
                    self.broadcast_heartbeat(ctx);
                }
                // A coordinator that passed on a higher candidate waits for
                // nothing: if that election died, we still lead.
                if self.participation.is_some_and(|p| ctx.now >= p.deadline) {
                    self.participation = None;
                }
            }
            RoleState::Follower { leader_deadline } => {
                let deadline = self.participation.map_or(leader_deadline, |p| p.deadline);
                if ctx.now >= deadline {
                    self.start_election(ctx);
                }
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, message: Message) {
        self.step_message(ctx, from, message);
    }

    fn on_client(&mut self, ctx: &mut Ctx, request: ClientRequest) {
        let leads = self.leads();
        self.coordination.serve(ctx, leads, request);
    }

    fn on_campaign(&mut self, ctx: &mut Ctx) {
        self.start_election(ctx);
    }

    // Ring has no leadership transfer (the default drops the request): the
    // highest id on an election's lap wins, whoever asked.
}

impl Node for RingNode {
    type Message = Message;
    type Persist = Persist;

    fn id(&self) -> NodeId {
        self.coordination.id()
    }

    fn step(
        &mut self,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<Message>,
        actions: &mut RingActions,
    ) {
        chassis::step(self, now, rng, input, actions);
    }

    fn next_deadline(&self) -> Time {
        let role_deadline = match self.role {
            RoleState::Leader { heartbeat_deadline } => self
                .participation
                .map_or(heartbeat_deadline, |p| p.deadline.min(heartbeat_deadline)),
            RoleState::Follower { leader_deadline } => {
                self.participation.map_or(leader_deadline, |p| p.deadline)
            }
        };
        self.pending
            .values()
            .map(|pending| pending.deadline)
            .fold(role_deadline, Time::min)
    }

    /// Taking part in an election (as a non-leader) is `Candidate`: the node
    /// knows no coordinator until COORDINATOR arrives.
    fn role(&self) -> Role {
        match (self.role, self.participation) {
            (RoleState::Leader { .. }, _) => Role::Leader,
            (RoleState::Follower { .. }, Some(_)) => Role::Candidate,
            (RoleState::Follower { .. }, None) => Role::Follower,
        }
    }

    fn term(&self) -> u64 {
        self.coordination.epoch.get()
    }

    fn leader(&self) -> Option<NodeId> {
        self.coordination.leader
    }

    fn commit_index(&self) -> u64 {
        0
    }

    /// Ring has no lease: a node that believes it leads serves reads from its
    /// local store, so "holds a lease" is simply "believes it leads".
    fn holds_lease(&self, _now: Time) -> bool {
        self.leads()
    }

    fn invariants(&self) {
        RingNode::invariants(self)
    }
}
