//! The Bully node: its state, the step dispatch, validation of what it
//! receives, epoch adoption, and the invariants checked after every step.

use std::time::Duration;

use rand::RngCore;

use crate::core::bully::config::Config;
use crate::core::bully::message::{Body, Message};
use crate::core::bully::BullyActions;
use crate::core::chassis::config::random_timeout;
use crate::core::chassis::local_store::serve;
use crate::core::chassis::{self, Context, Membership, Protocol};
use crate::core::chassis::{ConfigError, DurableState, Epoch, Persist};
use crate::core::client::ClientRequest;
use crate::core::kv::KvStore;
use crate::core::node::{DropReason, Input, Node, NodeId, Role};
use crate::core::time::Time;

/// The step context of a Bully handler.
pub(super) type Ctx<'a> = Context<'a, Message, Persist>;

/// Where a node is in the algorithm. Each state owns the one timer that
/// matters in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum RoleState {
    /// Watching the coordinator (or, just up, listening for one): with no
    /// HEARTBEAT or COORDINATOR by `leader_deadline`, start an election.
    Follower { leader_deadline: Time },
    /// ELECTION went to every higher id. With no ANSWER by
    /// `answer_deadline`, no higher node is alive: crown ourselves.
    Electing { answer_deadline: Time },
    /// A higher node answered and took the election over. With no
    /// COORDINATOR by `coordinator_deadline`, it died on the way: start over.
    AwaitingCoordinator { coordinator_deadline: Time },
    /// We are the coordinator; the next HEARTBEAT is due at
    /// `heartbeat_deadline`.
    Leader { heartbeat_deadline: Time },
}

/// A Bully node. Build it with [`BullyNode::new`] or [`BullyNode::restart`]
/// and drive it through [`Node::step`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BullyNode {
    /// This node and the others; ELECTION goes only to the ids above it.
    pub(super) membership: Membership,
    pub(super) config: Config,
    /// The highest epoch seen or crowned. Invariant: made durable (pushed to
    /// `persist`) in the same step that raised it.
    pub(super) epoch: Epoch,
    /// The coordinator we believe in. Invariant: `Some(id)` exactly when we
    /// lead.
    pub(super) leader: Option<NodeId>,
    pub(super) role: RoleState,
    /// The local store a coordinator serves clients from; never replicated.
    pub(super) kv: KvStore,
    /// The latest `now` seen; time never runs backwards inside the node.
    pub(super) now: Time,
}

impl BullyNode {
    /// A node coming up for the first time.
    pub fn new(
        id: NodeId,
        members: &[NodeId],
        config: Config,
        now: Time,
        rng: &mut dyn RngCore,
    ) -> Result<BullyNode, ConfigError> {
        Self::restart(id, members, config, DurableState::default(), now, rng)
    }

    /// A node coming (back) up with what it made durable. Garcia-Molina has
    /// a recovering node hold an election at once; this one first listens
    /// for one leader timeout, so that a live coordinator's heartbeat tells
    /// it the current epoch before it crowns itself (it then bullies a lower
    /// coordinator at once, see `leadership`). Crowning at once would reuse
    /// an epoch the cluster moved to while this node was down.
    pub fn restart(
        id: NodeId,
        members: &[NodeId],
        config: Config,
        durable: DurableState,
        now: Time,
        rng: &mut dyn RngCore,
    ) -> Result<BullyNode, ConfigError> {
        config.validate(id, members)?;
        let membership = Membership::new(id, members)?;
        let listen = random_timeout(rng, config.leader_timeout_min, config.leader_timeout_max);
        let node = BullyNode {
            membership,
            config,
            epoch: durable.epoch,
            leader: None,
            role: RoleState::Follower {
                leader_deadline: now.saturating_add(listen),
            },
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
        self.membership.members()
    }

    pub fn kv(&self) -> &KvStore {
        &self.kv
    }

    /// What a crash would leave behind if every persist record so far was
    /// made durable.
    pub fn durable_state(&self) -> DurableState {
        DurableState { epoch: self.epoch }
    }

    /// Whether an election this node takes part in is under way.
    pub(super) fn in_election(&self) -> bool {
        matches!(
            self.role,
            RoleState::Electing { .. } | RoleState::AwaitingCoordinator { .. }
        )
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
    /// to an older epoch now.
    fn adopt_epoch(&mut self, ctx: &mut Ctx, epoch: Epoch) {
        self.raise_epoch(ctx, epoch);
        self.leader = None;
        if let RoleState::Leader { .. } = self.role {
            self.role = RoleState::Follower {
                leader_deadline: self.new_leader_deadline(ctx),
            };
        }
    }

    /// When a follower that just heard from (or started listening for) a
    /// coordinator gives up on it.
    pub(super) fn new_leader_deadline(&self, ctx: &mut Ctx) -> Time {
        let timeout: Duration = random_timeout(
            ctx.rng,
            self.config.leader_timeout_min,
            self.config.leader_timeout_max,
        );
        ctx.now.saturating_add(timeout)
    }

    pub(super) fn send(&self, ctx: &mut Ctx, to: NodeId, body: Body) {
        let epoch = self.epoch;
        ctx.out.send(to, Message { epoch, body });
    }

    /// Bad input is dropped before it changes anything: a message Bully
    /// never sends in that direction (`chassis::step` has dropped unknown
    /// senders already).
    fn validate(&self, from: NodeId, message: &Message) -> Result<(), DropReason> {
        let misdirected = match message.body {
            // ELECTION only ever goes up, ANSWER only ever down.
            Body::Election => from > self.membership.id(),
            Body::Answer => from < self.membership.id(),
            Body::Coordinator | Body::Heartbeat => false,
        };
        if misdirected {
            return Err(DropReason::UnexpectedForRole { role: self.role() });
        }
        Ok(())
    }

    fn step_message(&mut self, ctx: &mut Ctx, from: NodeId, message: Message) {
        if let Err(reason) = self.validate(from, &message) {
            ctx.out.drop_input(Some(from), reason);
            return;
        }
        if message.epoch > self.epoch {
            self.adopt_epoch(ctx, message.epoch);
        }
        match message.body {
            Body::Election => self.handle_election(ctx, from),
            Body::Answer => self.handle_answer(ctx, from),
            Body::Coordinator | Body::Heartbeat => {
                self.handle_leader_claim(ctx, from, message.epoch)
            }
        }
    }

    /// Checks the node's own invariants; panics (a bug) if one is broken.
    pub fn invariants(&self) {
        self.membership.check();
        let leads = matches!(self.role, RoleState::Leader { .. });
        assert_eq!(
            leads,
            self.leader == Some(self.membership.id()),
            "leads exactly when it believes itself the coordinator"
        );
        if let Some(leader) = self.leader {
            assert!(self.membership.contains(leader), "follows a non-member");
        }
        if leads {
            assert!(
                self.epoch >= Epoch::new(1),
                "a coordinator crowns itself in epoch 1 or later"
            );
        }
        if self.in_election() {
            assert!(self.leader.is_none(), "electing while following someone");
            // With no higher id there is nobody to ask: such a node crowns
            // itself at once instead of electing.
            assert!(
                !self.membership.higher().is_empty(),
                "the highest id never waits"
            );
        }
    }
}

impl Protocol for BullyNode {
    fn membership(&self) -> &Membership {
        &self.membership
    }

    fn clock_mut(&mut self) -> &mut Time {
        &mut self.now
    }

    fn on_tick(&mut self, ctx: &mut Ctx) {
        match self.role {
            RoleState::Follower { leader_deadline } if ctx.now >= leader_deadline => {
                self.start_election(ctx)
            }
            RoleState::Electing { answer_deadline } if ctx.now >= answer_deadline => {
                self.become_leader(ctx)
            }
            RoleState::AwaitingCoordinator {
                coordinator_deadline,
            } if ctx.now >= coordinator_deadline => self.start_election(ctx),
            RoleState::Leader { heartbeat_deadline } if ctx.now >= heartbeat_deadline => {
                self.broadcast_heartbeat(ctx)
            }
            _ => {}
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, message: Message) {
        self.step_message(ctx, from, message);
    }

    fn on_client(&mut self, ctx: &mut Ctx, request: ClientRequest) {
        let leads = matches!(self.role, RoleState::Leader { .. });
        serve(&mut self.kv, leads, self.leader, request, ctx.out);
    }

    fn on_campaign(&mut self, ctx: &mut Ctx) {
        self.start_election(ctx);
    }

    // Bully has no leadership transfer (the default drops the request):
    // the highest live id always leads, so a coordinator that stepped aside
    // for a lower node would be bullied straight back.
}

impl Node for BullyNode {
    type Message = Message;
    type Persist = Persist;

    fn id(&self) -> NodeId {
        self.membership.id()
    }

    fn step(
        &mut self,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<Message>,
        actions: &mut BullyActions,
    ) {
        chassis::step(self, now, rng, input, actions);
    }

    fn next_deadline(&self) -> Time {
        match self.role {
            RoleState::Follower { leader_deadline } => leader_deadline,
            RoleState::Electing { answer_deadline } => answer_deadline,
            RoleState::AwaitingCoordinator {
                coordinator_deadline,
            } => coordinator_deadline,
            RoleState::Leader { heartbeat_deadline } => heartbeat_deadline,
        }
    }

    /// An election in progress (ours, or one a higher node took over) is
    /// `Candidate`: the node knows no coordinator until COORDINATOR arrives.
    fn role(&self) -> Role {
        match self.role {
            RoleState::Follower { .. } => Role::Follower,
            RoleState::Electing { .. } | RoleState::AwaitingCoordinator { .. } => Role::Candidate,
            RoleState::Leader { .. } => Role::Leader,
        }
    }

    fn term(&self) -> u64 {
        self.epoch.get()
    }

    fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    fn commit_index(&self) -> u64 {
        0
    }

    /// Bully has no lease: a node that believes it leads serves reads from
    /// its local store, so "holds a lease" is simply "believes it leads".
    fn holds_lease(&self, _now: Time) -> bool {
        matches!(self.role, RoleState::Leader { .. })
    }

    fn invariants(&self) {
        BullyNode::invariants(self)
    }
}
