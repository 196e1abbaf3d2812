//! The lock-service variants as [`Algorithm`]s: `lease-lock` candidates
//! with the service (store and protected resource) as one more member, so
//! every runner built on the harness (the simulator now, the model checker
//! later) runs the service beside the candidates with no code of its own.
//!
//! A run of `n` candidates has `n + 1` members: ids `1..=n` are the
//! candidates, id `n + 1` the service. Messages to and from the service
//! cross the run's network like any other; its clock drifts at the rate the
//! run gives member `n + 1`; faults aimed at candidates (crashes, pauses)
//! leave it alone, which is what makes the store idealised.

use crate::check::lock_service::LockView;
use crate::core::fencing::FencedResource;
use crate::core::lease_lock::{Config, LeaseLockNode};
use crate::core::lock_service::{LockMember, ServiceNode};
use crate::core::node::{Node, NodeId};
use crate::core::raft::Entry;
use crate::core::store::IdealStore;
use crate::core::time::Time;
use crate::harness::algorithm::{Algorithm, Boot};

/// `lease-lock` on the idealised store, with the protected resource's
/// fencing on or off.
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

/// The service's id among `members`: the last.
fn service_of(members: &[NodeId]) -> NodeId {
    *members
        .last()
        .expect("a lock-service run has its service member")
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
    fn election_bound(&self) -> std::time::Duration {
        let config = &self.config;
        config.ttl + config.retry_max * 2 + config.request_timeout * 2
    }

    fn start(&self, boot: Boot<'_>) -> Self::Node {
        let service = service_of(boot.members);
        if boot.id == service {
            let resource = FencedResource::new(self.fencing);
            LockMember::Service(ServiceNode::new(boot.id, IdealStore::new(), resource))
        } else {
            let config = self.config.clone();
            let candidate = LeaseLockNode::new(boot.id, service, config, boot.now, boot.rng);
            LockMember::Candidate(candidate)
        }
    }

    /// Nothing of a candidate is durable: a restarted candidate knows no
    /// revision and holds no lease, and learns the key from the store.
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
        Some(match node {
            LockMember::Candidate(candidate) => LockView::Candidate {
                id: candidate.id(),
                holding: candidate.holding_at(local),
            },
            LockMember::Service(service) => LockView::Resource {
                accepted: service.resource().accepted(),
                last: service.resource().last_accepted(),
            },
        })
    }
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
        let algorithm = LeaseLock::default();
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
