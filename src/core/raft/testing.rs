//! Helpers for the core's own unit tests: a node driven to a known state
//! through `Node::step`, as a caller would.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::core::node::{Input, Node, NodeId, Role};
use crate::core::raft::{
    AppendResponse, AppendResult, Body, Config, LogIndex, Message, RaftActions, RaftNode, Round,
    VoteResponse,
};
use crate::core::time::Time;

/// Delivers `body` from `from` in the node's current term at 401 ms.
pub(super) fn deliver(node: &mut RaftNode, rng: &mut ChaCha8Rng, from: NodeId, body: Body) {
    let message = Message {
        term: node.current_term(),
        body,
    };
    let mut actions = RaftActions::default();
    let input = Input::Message { from, message };
    node.step(Time::from_millis(401), rng, input, &mut actions);
}

/// Node 1 of three (no pre-vote), elected by node 2's vote, and the RNG
/// that drove it.
pub(super) fn elected_leader() -> (RaftNode, ChaCha8Rng) {
    elected_leader_with(Config::default())
}

/// [`elected_leader`] with `config` (pre-vote turned off).
pub(super) fn elected_leader_with(config: Config) -> (RaftNode, ChaCha8Rng) {
    let config = Config {
        pre_vote: false,
        ..config
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut node = RaftNode::new(1, &[1, 2, 3], config, Time::ZERO, &mut rng).unwrap();
    let mut actions = RaftActions::default();
    node.step(Time::from_millis(400), &mut rng, Input::Tick, &mut actions);
    let vote = VoteResponse {
        pre_vote: false,
        granted: true,
    };
    deliver(&mut node, &mut rng, 2, Body::VoteResponse(vote));
    assert_eq!(node.role(), Role::Leader);
    (node, rng)
}

/// [`elected_leader_with`], after both followers accepted the no-op: the
/// leader streams appends to them (its progress of each replicates).
pub(super) fn replicating_leader(config: Config) -> (RaftNode, ChaCha8Rng) {
    let (mut node, mut rng) = elected_leader_with(config);
    for peer in [2, 3] {
        let accepted = AppendResponse {
            result: AppendResult::Accepted {
                match_index: LogIndex::new(1),
            },
            round: Round::new(1),
        };
        deliver(&mut node, &mut rng, peer, Body::AppendResponse(accepted));
    }
    assert_eq!(node.commit_index(), 1, "the no-op is committed");
    (node, rng)
}
