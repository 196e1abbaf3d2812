//! The lock-service variants as [`Algorithm`]s: `lease-lock` and
//! `zk-sequential` candidates with the service (store and protected
//! resource) as one more member, so every runner built on the harness (the
//! simulator now, the model checker later) runs the service beside the
//! candidates with no code of its own.
//!
//! A run of `n` candidates has `n + 1` members: ids `1..=n` are the
//! candidates, id `n + 1` the service. Messages to and from the service
//! cross the run's network like any other; its clock drifts at the rate the
//! run gives member `n + 1`; faults aimed at candidates (crashes, pauses)
//! leave it alone, which is what makes the store idealised.

use crate::check::lock_service::LockView;
use crate::core::fencing::FencedResource;
use crate::core::lease_lock::{Config, Expiry, LeaseLockNode};
use crate::core::lock_service::{LockMember, LockMessage, ServiceNode};
use crate::core::node::{Node, NodeId};
use crate::core::raft::Entry;
use crate::core::store::{IdealStore, Revision};
use crate::core::time::Time;
use crate::core::zk_sequential::ZkSequentialNode;
use crate::harness::algorithm::{Algorithm, Boot};

/// `lease-lock` on the idealised store, with the protected resource's
/// fencing on or off; `config.expiry` says who decides that a lease
/// expired (the store or the challengers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseLock {
    pub config: Config,
    /// Whether the resource refuses tokens older than the newest it
    /// accepted. Off only to show what fencing prevents.
    pub fencing: bool,
}

impl Default for LeaseLock {
    fn default() -> LeaseLock {
        LeaseLock {
            config: Config::default(),
            fencing: true,
        }
    }
}

/// `zk-sequential` on the idealised store, with the protected resource's
/// fencing on or off. Its `config.ttl` is the session timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkSequential {
    pub config: Config,
    /// Whether the resource refuses tokens older than the newest it
    /// accepted. Off only to show what fencing prevents.
    pub fencing: bool,
}

impl Default for ZkSequential {
    fn default() -> ZkSequential {
        ZkSequential {
            config: Config::default(),
            fencing: true,
        }
    }
}

/// A lock-service algorithm: its candidates' timings, for the runners'
/// drift bounds.
pub trait LockAlgorithm: Algorithm {
    fn config(&self) -> &Config;
}

impl LockAlgorithm for LeaseLock {
    fn config(&self) -> &Config {
        &self.config
    }
}

impl LockAlgorithm for ZkSequential {
    fn config(&self) -> &Config {
        &self.config
    }
}

/// A lock-service candidate as the monitors see it.
pub trait LockCandidate: Node<Message = LockMessage> {
    /// The token it would write under at its local time `local`, if its
    /// own clock says it holds.
    fn holding_at(&self, local: Time) -> Option<Revision>;
}

impl LockCandidate for LeaseLockNode {
    fn holding_at(&self, local: Time) -> Option<Revision> {
        LeaseLockNode::holding_at(self, local)
    }
}

impl LockCandidate for ZkSequentialNode {
    fn holding_at(&self, local: Time) -> Option<Revision> {
        ZkSequentialNode::holding_at(self, local)
    }
}

/// The service's id among `members`: the last.
fn service_of(members: &[NodeId]) -> NodeId {
    *members
        .last()
        .expect("a lock-service run has its service member")
}

/// Member `boot.id` of a lock-service run: the service if it is the last,
/// else the candidate `candidate` makes (given the service's id).
fn start_member<C>(
    boot: Boot<'_>,
    fencing: bool,
    candidate: impl FnOnce(NodeId, Boot<'_>) -> C,
) -> LockMember<C> {
    let service = service_of(boot.members);
    if boot.id == service {
        let resource = FencedResource::new(fencing);
        LockMember::Service(ServiceNode::new(boot.id, IdealStore::new(), resource))
    } else {
        LockMember::Candidate(candidate(service, boot))
    }
}

/// The [`Algorithm`] methods every lock-service variant shares, inside its
/// `impl Algorithm`. Nothing of a candidate is durable: a restarted
/// candidate holds nothing and learns the store's state anew (a lease-lock
/// candidate the key's revision; a zk-sequential candidate opens a new
/// session, whose entry comes after every other, while its old session
/// ends by the store's clock).
macro_rules! shared_lock_methods {
    () => {
        fn restart(&self, boot: Boot<'_>, _durable: &()) -> Self::Node {
            self.start(boot)
        }

        fn persist(_durable: &mut (), _record: ()) {}

        fn log(_: &Self::Node) -> Option<&[Entry]> {
            None
        }

        fn service_members(&self) -> u64 {
            1
        }

        fn lock_view(node: &Self::Node, local: Time) -> Option<LockView> {
            Some(view_of(node, local))
        }
    };
}

/// How the lock-service monitors see `member` at its local time `local`.
fn view_of<C: LockCandidate>(member: &LockMember<C>, local: Time) -> LockView {
    match member {
        LockMember::Candidate(candidate) => LockView::Candidate {
            id: candidate.id(),
            holding: candidate.holding_at(local),
        },
        LockMember::Service(service) => LockView::Resource {
            accepted: service.resource().accepted(),
            last: service.resource().last_accepted(),
        },
    }
}

impl Algorithm for LeaseLock {
    type Node = LockMember<LeaseLockNode>;
    type Durable = ();

    fn name(&self) -> &'static str {
        "lease-lock"
    }

    /// A holder lost at the worst moment has just renewed: its grant lives
    /// a TTL (by a fast store clock, a little less), then a candidate's
    /// retry comes within `retry_max`, and a refused race costs one more.
    /// With challenger expiry a challenger first sees that renewal within a
    /// retry and a request (or a lost one's timeout), then waits a TTL by
    /// its own clock, which may run slow.
    fn election_bound(&self) -> std::time::Duration {
        let config = &self.config;
        let store = config.ttl + config.retry_max * 2 + config.request_timeout * 2;
        match config.expiry {
            Expiry::Store => store,
            Expiry::Challenger => {
                let slow = config.ttl * 2 * config.clock_drift_ppm / 1_000_000;
                store + slow + config.retry_max + config.request_timeout * 2
            }
        }
    }

    fn start(&self, boot: Boot<'_>) -> Self::Node {
        start_member(boot, self.fencing, |service, boot| {
            LeaseLockNode::new(boot.id, service, self.config.clone(), boot.now, boot.rng)
        })
    }

    shared_lock_methods!();
}

impl Algorithm for ZkSequential {
    type Node = LockMember<ZkSequentialNode>;
    type Durable = ();

    fn name(&self) -> &'static str {
        "zk-sequential"
    }

    /// A leader lost at the worst moment has just kept its session alive:
    /// the session lives a timeout (by a slow store clock, a little more),
    /// then the notice and the successor's watch take a round trip; a lost
    /// notice is made up by the successor's next keep-alive.
    fn election_bound(&self) -> std::time::Duration {
        let config = &self.config;
        let slow_store = config.ttl * config.clock_drift_ppm / 1_000_000;
        config.ttl + slow_store + config.renew_after() + config.request_timeout * 3
    }

    fn start(&self, boot: Boot<'_>) -> Self::Node {
        start_member(boot, self.fencing, |service, boot| {
            ZkSequentialNode::new(boot.id, service, self.config.clone(), boot.now, boot.rng)
        })
    }

    shared_lock_methods!();
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::core::client::ClientError;
    use crate::core::node::{Actions, Input};
    use crate::sim::lockstep::write_request as request;

    /// Neither a candidate nor the service serves key-value clients: each
    /// request, alone or in a batch, gets its own refusal, in order, and
    /// nothing else happens.
    #[test]
    fn every_member_refuses_each_client_request_alone_or_batched() {
        every_member_refuses_clients(&LeaseLock::default());
        every_member_refuses_clients(&ZkSequential::default());
    }

    fn every_member_refuses_clients<A: Algorithm>(algorithm: &A) {
        let members = [1, 2, 3];
        let mut rng = StdRng::seed_from_u64(1);
        for id in members {
            let mut member = algorithm.start(Boot::at_zero(id, &members, &mut rng));
            let mut actions = Actions::default();
            let batch = Input::ClientBatch(vec![request(2), request(1)]);
            member.step(Time::ZERO, &mut rng, batch, &mut actions);
            member.step(
                Time::ZERO,
                &mut rng,
                Input::Client(request(3)),
                &mut actions,
            );
            let answered: Vec<_> = actions.replies.iter().map(|r| r.id.sequence).collect();
            assert_eq!(answered, [2, 1, 3], "member {id}");
            for reply in &actions.replies {
                let refused = ClientError::NotLeader { leader_hint: None };
                assert_eq!(reply.result, Err(refused), "member {id}");
            }
            assert!(actions.messages.is_empty(), "member {id}");
        }
    }
}
