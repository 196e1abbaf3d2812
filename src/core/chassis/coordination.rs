//! What a Bully node and a Ring node keep alike: the members, the highest
//! epoch seen, the coordinator believed in, the local store a coordinator
//! serves from, and the node's clock. Each protocol's node holds one
//! [`Coordination`] beside the state of its own election, so the epoch rule
//! (raise, make durable, stamp every message), the invariants every
//! coordinator protocol keeps and the client path are written once.

use std::time::Duration;

use rand::RngCore;

use crate::core::chassis::config::random_timeout;
use crate::core::chassis::context::Context;
use crate::core::chassis::epoch::{DurableState, Epoch, Persist, Stamped};
use crate::core::chassis::local_store::serve;
use crate::core::chassis::membership::Membership;
use crate::core::chassis::ConfigError;
use crate::core::client::ClientRequest;
use crate::core::kv::KvStore;
use crate::core::node::NodeId;
use crate::core::time::Time;

/// The state a coordinator protocol's node shares with every other such
/// protocol. Its own election (roles, timers, hops) lives beside it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Coordination {
    pub membership: Membership,
    /// The highest epoch seen or crowned. Invariant: made durable (pushed to
    /// `persist`) in the same step that raised it ([`Self::raise_epoch`]).
    pub epoch: Epoch,
    /// The coordinator we believe in. Invariant: `Some(id)` exactly when we
    /// lead ([`Self::check`]).
    pub leader: Option<NodeId>,
    /// The local store a coordinator serves clients from; never replicated.
    pub kv: KvStore,
    /// The latest `now` seen; time never runs backwards inside the node.
    pub now: Time,
    /// `[min, max)` of the leader timeout, from the protocol's config.
    leader_timeout: (Duration, Duration),
}

impl Coordination {
    /// Node `id` of `members` coming (back) up at `now` with what it made
    /// durable, believing in no coordinator yet; a follower gives up on its
    /// coordinator after a timeout drawn from `leader_timeout`'s `[min, max)`.
    pub fn restart(
        id: NodeId,
        members: &[NodeId],
        durable: DurableState,
        now: Time,
        leader_timeout: (Duration, Duration),
    ) -> Result<Coordination, ConfigError> {
        Ok(Coordination {
            membership: Membership::new(id, members)?,
            epoch: durable.epoch,
            leader: None,
            kv: KvStore::default(),
            now,
            leader_timeout,
        })
    }

    pub fn id(&self) -> NodeId {
        self.membership.id()
    }

    /// What a crash would leave behind if every persist record so far was
    /// made durable.
    pub fn durable_state(&self) -> DurableState {
        DurableState { epoch: self.epoch }
    }

    /// Raises the epoch to `epoch` and makes it durable before anything that
    /// carries it is sent: a restart never crowns a second coordinator in an
    /// epoch it has seen.
    pub fn raise_epoch<M>(&mut self, ctx: &mut Context<M, Persist>, epoch: Epoch) {
        assert!(epoch > self.epoch, "epochs only grow");
        self.epoch = epoch;
        ctx.out.persist.push(Persist { epoch });
    }

    /// A message from a later epoch: someone crowned (or saw) a coordinator
    /// we do not know, so whoever we followed belongs to an older epoch. The
    /// protocol steps its own role down if it led.
    pub fn adopt_epoch<M>(&mut self, ctx: &mut Context<M, Persist>, epoch: Epoch) {
        self.raise_epoch(ctx, epoch);
        self.leader = None;
    }

    /// Sends `body` to `to`, stamped with our epoch.
    pub fn send<B>(&self, ctx: &mut Context<Stamped<B>, Persist>, to: NodeId, body: B) {
        let epoch = self.epoch;
        ctx.out.send(to, Stamped { epoch, body });
    }

    /// When a follower that just heard from (or started listening for) a
    /// coordinator at `now` gives up on it.
    pub fn leader_deadline(&self, rng: &mut dyn RngCore, now: Time) -> Time {
        let (min, max) = self.leader_timeout;
        now.saturating_add(random_timeout(rng, min, max))
    }

    /// Answers a client: from the local store if `leads`, otherwise with the
    /// coordinator we believe in.
    pub fn serve<M>(&mut self, ctx: &mut Context<M, Persist>, leads: bool, request: ClientRequest) {
        serve(&mut self.kv, leads, self.leader, request, ctx.out);
    }

    /// The invariants every coordinator protocol keeps, given whether its
    /// role says it `leads`; panics (a bug) if one is broken.
    pub fn check(&self, leads: bool) {
        self.membership.check();
        assert_eq!(
            leads,
            self.leader == Some(self.id()),
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
    }
}
