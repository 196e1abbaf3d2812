//! The lock service as one participant: a [`Store`] and the
//! [`FencedResource`] it protects, answering candidates' messages at the
//! service's own local time.
//!
//! Store and resource are two separate objects that happen to share a
//! network address here, so one extra member carries both; nothing in
//! either looks at the other.

use rand::RngCore;

use crate::core::fencing::FencedResource;
use crate::core::lock_service::{refuse_clients, LockMessage};
use crate::core::node::{Actions, DropReason, Input, Node, NodeId, Role};
use crate::core::store::{IdealStore, Notice, Store};
use crate::core::time::Time;

/// A deadline that never comes, yet converts to real time on any drifting
/// clock without overflow (about 36 000 years).
const NEVER: Time = Time::from_micros(1 << 60);

/// The service member: store and protected resource.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServiceNode<S = IdealStore> {
    id: NodeId,
    store: S,
    resource: FencedResource,
    /// The notices of one step, reused (always empty between steps).
    notices: Vec<Notice>,
}

impl<S: Store> ServiceNode<S> {
    pub fn new(id: NodeId, store: S, resource: FencedResource) -> ServiceNode<S> {
        ServiceNode {
            id,
            store,
            resource,
            notices: Vec::new(),
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn resource(&self) -> &FencedResource {
        &self.resource
    }

    /// One input, with the caller's persist record type: the service keeps
    /// nothing durable of its own (the idealised store does not crash),
    /// so any member type can carry it. Whatever the input, the store first
    /// ends what expired by `now` and the fired watches are sent.
    pub fn handle<P>(
        &mut self,
        now: Time,
        input: Input<LockMessage>,
        actions: &mut Actions<LockMessage, P>,
    ) {
        self.store.expire(now, &mut self.notices);
        for notice in self.notices.drain(..) {
            let deleted = notice.deleted;
            actions.send(notice.watcher, LockMessage::Notify { deleted });
        }
        match input {
            Input::Message { from, .. } if from == self.id => {
                actions.drop_input(Some(from), DropReason::UnknownSender);
            }
            Input::Message { from, message } => self.receive(now, from, message, actions),
            // The service serves no key-value clients and knows of no
            // leader: each request, alone or in a batch, is refused.
            clients @ (Input::Client(_) | Input::ClientBatch(_)) => {
                refuse_clients(clients, None, actions);
            }
            Input::Tick | Input::TransferLeadership { .. } | Input::Campaign => {}
            Input::Snapshot => actions.drop_input(None, DropReason::NoSnapshots),
        }
    }

    fn receive<P>(
        &mut self,
        now: Time,
        from: NodeId,
        message: LockMessage,
        actions: &mut Actions<LockMessage, P>,
    ) {
        match message {
            LockMessage::Request { number, request } => {
                let reply = self.store.apply(now, from, &request);
                actions.send(from, LockMessage::Reply { number, reply });
            }
            LockMessage::Write { token, value } => {
                let accepted = self.resource.write(from, token, value);
                actions.send(from, LockMessage::WriteAck { token, accepted });
            }
            LockMessage::Reply { .. }
            | LockMessage::WriteAck { .. }
            | LockMessage::Notify { .. } => {
                let role = Role::Follower;
                actions.drop_input(Some(from), DropReason::UnexpectedForRole { role });
            }
        }
    }
}

impl<S: Store + Clone + std::fmt::Debug> Node for ServiceNode<S> {
    type Message = LockMessage;
    type Persist = ();

    fn id(&self) -> NodeId {
        self.id
    }

    fn step(
        &mut self,
        now: Time,
        _rng: &mut dyn RngCore,
        input: Input<LockMessage>,
        actions: &mut Actions<LockMessage, ()>,
    ) {
        self.handle(now, input, actions);
    }

    fn next_deadline(&self) -> Time {
        self.store.next_deadline().unwrap_or(NEVER)
    }

    fn role(&self) -> Role {
        Role::Follower
    }

    /// The service takes no part in elections: its term is always 0.
    fn term(&self) -> u64 {
        0
    }

    fn leader(&self) -> Option<NodeId> {
        None
    }

    fn commit_index(&self) -> u64 {
        0
    }

    fn holds_lease(&self, _now: Time) -> bool {
        false
    }

    fn invariants(&self) {
        self.store.invariants();
        self.resource.invariants();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::core::store::{Revision, StoreReply, StoreRequest};

    #[test]
    fn the_service_answers_each_request_to_its_sender() {
        let mut service = ServiceNode::new(9, IdealStore::new(), FencedResource::new(true));
        let mut actions = Actions::<LockMessage, ()>::default();
        let request = StoreRequest::Acquire {
            expected: Revision::ZERO,
            ttl: Duration::from_secs(1),
        };
        let message = LockMessage::Request { number: 4, request };
        service.handle(
            Time::ZERO,
            Input::Message { from: 2, message },
            &mut actions,
        );
        let write = LockMessage::Write {
            token: Revision::new(1),
            value: 7,
        };
        service.handle(
            Time::ZERO,
            Input::Message {
                from: 2,
                message: write,
            },
            &mut actions,
        );
        let revision = Revision::new(1);
        let sent: Vec<_> = actions
            .messages
            .iter()
            .map(|out| (out.to, &out.message))
            .collect();
        assert_eq!(
            sent,
            [
                (
                    2,
                    &LockMessage::Reply {
                        number: 4,
                        reply: StoreReply::Granted { revision }
                    }
                ),
                (
                    2,
                    &LockMessage::WriteAck {
                        token: revision,
                        accepted: true
                    }
                ),
            ]
        );
        service.invariants();
    }
}
