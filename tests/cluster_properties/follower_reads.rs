//! A deliberately broken Raft for the property test to find: a follower
//! answers reads from its own state machine instead of redirecting to the
//! leader. Its state lags the leader's by at least the commit notification,
//! and by whole terms when it is cut off, so reads go stale; only the
//! linearizability check of the client history can see it (every monitor
//! of the logs and leaders stays silent).

use electorate::core::client::{Operation, Outcome};
use electorate::core::node::{Actions, Input, Node, Role};
use electorate::core::raft::{Message, Persist, RaftNode};
use electorate::core::time::Time;
use electorate::harness::algorithm::{AlgorithmWrapper, Raft};
use rand::RngCore;

#[derive(Clone, Debug)]
pub struct FollowerReadsNode(RaftNode);

impl Node for FollowerReadsNode {
    type Message = Message;
    type Persist = Persist;

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
                    actions.reply(request.id, Ok(Outcome::Read(self.0.kv().read(key))));
                    return;
                }
            }
        }
        self.0.step(now, rng, input, actions)
    }

    electorate::delegate_node_queries!(0);
}

/// Raft with the default configuration and [`FollowerReadsNode`]s.
#[derive(Clone, Debug, Default)]
pub struct FollowerReads(pub Raft);

impl AlgorithmWrapper for FollowerReads {
    type Inner = Raft;
    type Node = FollowerReadsNode;

    fn inner(&self) -> &Raft {
        &self.0
    }

    fn wrap(&self, node: RaftNode) -> FollowerReadsNode {
        FollowerReadsNode(node)
    }

    fn unwrap(node: &FollowerReadsNode) -> &RaftNode {
        &node.0
    }

    fn wrapper_name(&self) -> &'static str {
        "raft-with-follower-reads"
    }
}
