//! The Ring node: its state, the step dispatch, validation of what it
//! receives, epoch adoption, and the invariants checked after every step.

use std::collections::BTreeMap;

use rand::RngCore;

use crate::core::client::ClientRequest;
use crate::core::kv::KvStore;
use crate::core::node::{DropReason, Input, Node, NodeId, Role};
use crate::core::ring::config::Config;
use crate::core::ring::hops::{PendingHop, MAX_PENDING_HOPS};
use crate::core::ring::message::{Body, Hop, Message};
use crate::core::ring::topology::RingOrder;
use crate::core::ring::RingActions;
use crate::core::time::Time;
use crate::core::unreplicated::config::random_timeout;
use crate::core::unreplicated::local_store::serve;
use crate::core::unreplicated::report::Observed;
use crate::core::unreplicated::{ConfigError, DurableState, Epoch, Persist};

/// The inputs every handler needs: the step's local time, the caller's RNG
/// and the actions being collected.
pub(super) struct Ctx<'a> {
    pub now: Time,
    pub rng: &'a mut dyn RngCore,
    pub out: &'a mut RingActions,
}

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
    pub(super) id: NodeId,
    pub(super) ring: RingOrder,
    /// The members without `id`, sorted.
    pub(super) peers: Vec<NodeId>,
    pub(super) config: Config,
    /// The highest epoch seen or crowned. Invariant: made durable (pushed to
    /// `persist`) in the same step that raised it.
    pub(super) epoch: Epoch,
    /// The coordinator we believe in. Invariant: `Some(id)` exactly when we
    /// lead; `None` while a non-leader takes part in an election.
    pub(super) leader: Option<NodeId>,
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
    /// The local store a coordinator serves clients from; never replicated.
    pub(super) kv: KvStore,
    /// The latest `now` seen; time never runs backwards inside the node.
    pub(super) now: Time,
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
        let ring = RingOrder::new(members);
        let peers = ring
            .members()
            .iter()
            .copied()
            .filter(|&peer| peer != id)
            .collect();
        let listen = random_timeout(rng, config.leader_timeout_min, config.leader_timeout_max);
        let node = RingNode {
            id,
            ring,
            peers,
            config,
            epoch: durable.epoch,
            leader: None,
            role: RoleState::Follower {
                leader_deadline: now.saturating_add(listen),
            },
            participation: None,
            forwarded_coordinator: None,
            pending: BTreeMap::new(),
            next_hop: 1,
            kv: KvStore::default(),
            now,
        };
        node.invariants();
        Ok(node)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn members(&self) -> &[NodeId] {
        self.ring.members()
    }

    /// The next member round the ring (the node itself only in a ring of
    /// one), whether or not it is alive.
    pub fn successor(&self) -> NodeId {
        self.ring.successor_of(self.id)
    }

    pub fn kv(&self) -> &KvStore {
        &self.kv
    }

    /// What a crash would leave behind if every persist record so far was
    /// made durable.
    pub fn durable_state(&self) -> DurableState {
        DurableState { epoch: self.epoch }
    }

    pub(super) fn leads(&self) -> bool {
        matches!(self.role, RoleState::Leader { .. })
    }

    /// Raises the epoch to `epoch` and makes it durable before anything that
    /// carries it is sent.
    pub(super) fn raise_epoch(&mut self, ctx: &mut Ctx, epoch: Epoch) {
        assert!(epoch > self.epoch, "epochs only grow");
        self.epoch = epoch;
        ctx.out.persist.push(Persist { epoch });
    }

    /// A message from a later epoch: someone crowned (or saw) a coordinator
    /// we do not know. Whoever we followed, or our own leadership, belongs
    /// to an older epoch now. Taking part in an election goes on: the
    /// epoch only tells us how high the next coordinator must number itself.
    fn adopt_epoch(&mut self, ctx: &mut Ctx, epoch: Epoch) {
        self.raise_epoch(ctx, epoch);
        self.leader = None;
        if self.leads() {
            self.role = RoleState::Follower {
                leader_deadline: self.new_leader_deadline(ctx),
            };
        }
    }

    pub(super) fn new_leader_deadline(&self, ctx: &mut Ctx) -> Time {
        let timeout = random_timeout(
            ctx.rng,
            self.config.leader_timeout_min,
            self.config.leader_timeout_max,
        );
        ctx.now.saturating_add(timeout)
    }

    /// Bad input is dropped before it changes anything: an unknown sender, a
    /// candidate or leader that is not a member, or an announcement of our
    /// own leadership in an epoch we never reached.
    fn validate(&self, from: NodeId, message: &Message) -> Result<(), DropReason> {
        if !self.peers.contains(&from) {
            return Err(DropReason::UnknownSender);
        }
        match message.body {
            Body::Election { candidate, .. } if !self.ring.contains(candidate) => {
                Err(DropReason::InvalidTarget { target: candidate })
            }
            Body::Coordinator { leader, .. } if !self.ring.contains(leader) => {
                Err(DropReason::InvalidTarget { target: leader })
            }
            Body::Coordinator { leader, .. } if leader == self.id && message.epoch > self.epoch => {
                Err(DropReason::InvalidTarget { target: leader })
            }
            _ => Ok(()),
        }
    }

    fn step_message(&mut self, ctx: &mut Ctx, from: NodeId, message: Message) {
        if let Err(reason) = self.validate(from, &message) {
            ctx.out.drop_input(Some(from), reason);
            return;
        }
        if message.epoch > self.epoch {
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

    fn tick(&mut self, ctx: &mut Ctx) {
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

    fn step_client(&mut self, ctx: &mut Ctx, request: ClientRequest) {
        let leads = self.leads();
        let reply = serve(&mut self.kv, leads, self.leader, request);
        ctx.out.replies.push(reply);
    }

    /// Ring has no leadership transfer: the highest id on an election's lap
    /// wins, whoever asked.
    fn step_transfer(&mut self, ctx: &mut Ctx, to: NodeId) {
        let reason = if self.peers.contains(&to) {
            DropReason::UnexpectedForRole { role: self.role() }
        } else {
            DropReason::InvalidTarget { target: to }
        };
        ctx.out.drop_input(None, reason);
    }

    fn observed(&self) -> Observed {
        Observed {
            role: self.role(),
            leader: self.leader,
            epoch: self.epoch,
        }
    }

    /// Checks the node's own invariants; panics (a bug) if one is broken.
    pub fn invariants(&self) {
        assert!(self.ring.contains(self.id), "not a member");
        assert_eq!(self.peers.len() + 1, self.ring.len());
        assert!(
            self.successor() != self.id || self.ring.len() == 1,
            "a node is its own successor only in a ring of one"
        );
        assert_eq!(
            self.leads(),
            self.leader == Some(self.id),
            "leads exactly when it believes itself the coordinator"
        );
        if let Some(leader) = self.leader {
            assert!(self.ring.contains(leader), "follows a non-member");
        }
        if self.leads() {
            assert!(
                self.epoch >= 1,
                "a coordinator crowns itself in epoch 1 or later"
            );
        }
        if let Some(participation) = self.participation {
            assert!(participation.forwarded_max >= self.id);
            assert!(self.ring.contains(participation.forwarded_max));
            if !self.leads() {
                assert!(self.leader.is_none(), "electing while following someone");
            }
        }
        if let Some((epoch, leader)) = self.forwarded_coordinator {
            assert!(epoch <= self.epoch && self.ring.contains(leader));
        }
        assert!(self.pending.len() <= MAX_PENDING_HOPS, "unbounded hops");
        for (&hop, pending) in &self.pending {
            assert!(hop < self.next_hop, "hop numbered ahead of the counter");
            assert!(self.peers.contains(&pending.to), "hop to a non-peer");
        }
    }
}

impl Node for RingNode {
    type Message = Message;
    type Persist = Persist;

    fn id(&self) -> NodeId {
        self.id
    }

    fn step(
        &mut self,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<Message>,
        actions: &mut RingActions,
    ) {
        self.now = self.now.max(now);
        let before = self.observed();
        let mut ctx = Ctx {
            now: self.now,
            rng,
            out: actions,
        };
        match input {
            Input::Tick => self.tick(&mut ctx),
            Input::Message { from, message } => self.step_message(&mut ctx, from, message),
            Input::Client(request) => self.step_client(&mut ctx, request),
            Input::TransferLeadership { to } => self.step_transfer(&mut ctx, to),
            Input::Campaign => {
                if !self.leads() {
                    self.start_election(&mut ctx);
                }
            }
        }
        before.report_changes(self.observed(), &mut ctx.out.events);
        if cfg!(any(test, debug_assertions)) {
            assert!(self.epoch >= before.epoch, "epoch went backwards");
            self.invariants();
        }
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
        self.epoch
    }

    fn leader(&self) -> Option<NodeId> {
        self.leader
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
