//! A deliberately broken Raft for the property test to find: a follower
//! answers reads from its own state machine instead of redirecting to the
//! leader. Its state lags the leader's by at least the commit notification,
//! and by whole terms when it is cut off, so reads go stale; only the
//! linearizability check of the client history can see it (every monitor
//! of the logs and leaders stays silent).

use std::time::Duration;

use electorate::core::client::{ClientReply, Operation, Outcome};
use electorate::core::node::{Actions, Input, Node, NodeId, Role};
use electorate::core::raft::{Entry, Message, Persist, RaftNode};
use electorate::core::time::Time;
use electorate::harness::algorithm::{Algorithm, Raft};
use rand::RngCore;

#[derive(Clone, Debug)]
pub struct FollowerReadsNode(RaftNode);

impl Node for FollowerReadsNode {
    type Message = Message;
    type Persist = Persist;

    fn id(&self) -> NodeId {
        self.0.id()
    }

    fn step(
        &mut self,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<Message>,
        actions: &mut Actions<Message, Persist>,
    ) {
        if let Input::Client(request) = &input {
            if let Operation::Read { key } = &request.operation {
                if self.0.role() != Role::Leader {
                    // The bug: no ReadIndex, no lease, no redirect.
                    actions.replies.push(ClientReply {
                        id: request.id,
                        result: Ok(Outcome::Read(self.0.kv().read(key))),
                    });
                    return;
                }
            }
        }
        self.0.step(now, rng, input, actions)
    }

    fn next_deadline(&self) -> Time {
        self.0.next_deadline()
    }

    fn role(&self) -> Role {
        self.0.role()
    }

    fn term(&self) -> u64 {
        self.0.term()
    }

    fn leader(&self) -> Option<NodeId> {
        self.0.leader()
    }

    fn commit_index(&self) -> u64 {
        self.0.commit_index()
    }

    fn holds_lease(&self, now: Time) -> bool {
        self.0.holds_lease(now)
    }

    fn invariants(&self) {
        self.0.invariants()
    }
}

/// Raft with the default configuration and [`FollowerReadsNode`]s.
#[derive(Clone, Debug, Default)]
pub struct FollowerReads(pub Raft);

impl Algorithm for FollowerReads {
    type Node = FollowerReadsNode;
    type Durable = <Raft as Algorithm>::Durable;

    fn name(&self) -> &'static str {
        "raft-with-follower-reads"
    }

    fn election_bound(&self) -> Duration {
        self.0.election_bound()
    }

    fn start(
        &self,
        id: NodeId,
        members: &[NodeId],
        now: Time,
        rng: &mut dyn RngCore,
    ) -> FollowerReadsNode {
        FollowerReadsNode(self.0.start(id, members, now, rng))
    }

    fn restart(
        &self,
        id: NodeId,
        members: &[NodeId],
        durable: &Self::Durable,
        now: Time,
        rng: &mut dyn RngCore,
    ) -> FollowerReadsNode {
        FollowerReadsNode(self.0.restart(id, members, durable, now, rng))
    }

    fn persist(durable: &mut Self::Durable, record: Persist) {
        Raft::persist(durable, record)
    }

    fn log(node: &FollowerReadsNode) -> Option<&[Entry]> {
        Raft::log(&node.0)
    }

    fn can_serve(node: &FollowerReadsNode) -> bool {
        Raft::can_serve(&node.0)
    }
}
