//! One member of a lock-service run: a candidate or the service. Runners
//! hold a list of members of one type, so the service stands in that list
//! beside the candidates, addressed by its own id, and every fault a runner
//! applies to a member (network, clock, pause) reaches it too.

use rand::RngCore;

use crate::core::lock_service::{LockMessage, ServiceNode};
use crate::core::node::{Actions, Input, Node, NodeId, Role};
use crate::core::store::{IdealStore, Store};
use crate::core::time::Time;

/// A candidate of election variant `C`, or the service (store `S` and the
/// protected resource).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LockMember<C, S = IdealStore> {
    Candidate(C),
    Service(ServiceNode<S>),
}

impl<C, S> LockMember<C, S> {
    pub fn candidate(&self) -> Option<&C> {
        match self {
            LockMember::Candidate(candidate) => Some(candidate),
            LockMember::Service(_) => None,
        }
    }

    pub fn service(&self) -> Option<&ServiceNode<S>> {
        match self {
            LockMember::Candidate(_) => None,
            LockMember::Service(service) => Some(service),
        }
    }
}

/// Every call goes to the candidate or the service, whichever this is.
macro_rules! either {
    ($self:expr, $node:ident => $body:expr) => {
        match $self {
            LockMember::Candidate($node) => $body,
            LockMember::Service($node) => $body,
        }
    };
}

impl<C, S> Node for LockMember<C, S>
where
    C: Node<Message = LockMessage>,
    S: Store + Clone + std::fmt::Debug,
{
    type Message = LockMessage;
    type Persist = C::Persist;

    fn id(&self) -> NodeId {
        either!(self, node => node.id())
    }

    fn step(
        &mut self,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<LockMessage>,
        actions: &mut Actions<LockMessage, C::Persist>,
    ) {
        match self {
            LockMember::Candidate(candidate) => candidate.step(now, rng, input, actions),
            LockMember::Service(service) => service.handle(now, input, actions),
        }
    }

    fn next_deadline(&self) -> Time {
        either!(self, node => node.next_deadline())
    }

    fn role(&self) -> Role {
        either!(self, node => node.role())
    }

    fn term(&self) -> u64 {
        either!(self, node => node.term())
    }

    fn leader(&self) -> Option<NodeId> {
        either!(self, node => node.leader())
    }

    fn commit_index(&self) -> u64 {
        either!(self, node => node.commit_index())
    }

    fn holds_lease(&self, now: Time) -> bool {
        either!(self, node => node.holds_lease(now))
    }

    fn invariants(&self) {
        either!(self, node => node.invariants())
    }
}
