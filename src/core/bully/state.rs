//! The Bully node: its state, the step dispatch, validation of what it
//! receives, epoch adoption, and the invariants checked after every step.

use rand::RngCore;

use crate::core::bully::config::Config;
use crate::core::bully::message::{Body, Message};
use crate::core::bully::BullyActions;
use crate::core::chassis::{self, Context, Coordination, Membership, Protocol};
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
    /// The members (ELECTION goes only to the ids above this node), the
    /// epoch, the coordinator believed in, the local store and the clock.
    pub(super) coordination: Coordination,
    pub(super) config: Config,
    pub(super) role: RoleState,
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
        let leader_timeout = (config.leader_timeout_min, config.leader_timeout_max);
        let coordination = Coordination::restart(id, members, durable, now, leader_timeout)?;
        let node = BullyNode {
            role: RoleState::Follower {
                leader_deadline: coordination.leader_deadline(rng, now),
            },
            coordination,
            config,
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

    pub fn kv(&self) -> &KvStore {
        &self.coordination.kv
    }

    /// What a crash would leave behind if every persist record so far was
    /// made durable.
    pub fn durable_state(&self) -> DurableState {
        self.coordination.durable_state()
    }

    /// Whether an election this node takes part in is under way.
    pub(super) fn in_election(&self) -> bool {
        matches!(
            self.role,
            RoleState::Electing { .. } | RoleState::AwaitingCoordinator { .. }
        )
    }

    /// A message from a later epoch: someone crowned (or saw) a coordinator
    /// we do not know. Whoever we followed, or our own leadership, belongs
    /// to an older epoch now.
    fn adopt_epoch(&mut self, ctx: &mut Ctx, epoch: Epoch) {
        self.coordination.adopt_epoch(ctx, epoch);
        if let RoleState::Leader { .. } = self.role {
            self.role = RoleState::Follower {
                leader_deadline: self.new_leader_deadline(ctx),
            };
        }
    }

    /// When a follower that just heard from (or started listening for) a
    /// coordinator gives up on it.
    pub(super) fn new_leader_deadline(&self, ctx: &mut Ctx) -> Time {
        self.coordination.leader_deadline(ctx.rng, ctx.now)
    }

    pub(super) fn send(&self, ctx: &mut Ctx, to: NodeId, body: Body) {
        self.coordination.send(ctx, to, body);
    }

    /// Bad input is dropped before it changes anything: a message Bully
    /// never sends in that direction (`chassis::step` has dropped unknown
    /// senders already).
    fn validate(&self, from: NodeId, message: &Message) -> Result<(), DropReason> {
        let misdirected = match message.body {
            // ELECTION only ever goes up, ANSWER only ever down.
            Body::Election => from > self.coordination.id(),
            Body::Answer => from < self.coordination.id(),
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
        if message.epoch > self.coordination.epoch {
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
        self.coordination
            .check(matches!(self.role, RoleState::Leader { .. }));
        if self.in_election() {
            assert!(
                self.coordination.leader.is_none(),
                "electing while following someone"
            );
            // With no higher id there is nobody to ask: such a node crowns
            // itself at once instead of electing.
            assert!(
                !self.coordination.membership.higher().is_empty(),
                "the highest id never waits"
            );
        }
    }
}

impl Protocol for BullyNode {
    fn membership(&self) -> &Membership {
        &self.coordination.membership
    }

    fn clock_mut(&mut self) -> &mut Time {
        &mut self.coordination.now
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
        self.coordination.serve(ctx, leads, request);
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
        self.coordination.id()
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
        self.coordination.epoch.get()
    }

    fn leader(&self) -> Option<NodeId> {
        self.coordination.leader
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
