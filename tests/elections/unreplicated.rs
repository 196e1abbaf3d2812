//! What Bully and Ring nodes share as nodes, checked once for both: a
//! leader serves clients from its own store and a follower redirects them,
//! bad input is dropped with its reason and changes nothing, and the
//! membership is validated at construction.

use electorate::core::chassis::{ConfigError, MembershipError};
use electorate::core::client::{ClientError, Outcome};
use electorate::core::node::{DropReason, Input, Node, NodeId};
use electorate::core::time::Time;

use crate::support::{dropped, read, step, write};

/// `follower` follows `leader_id`; `leader` leads, at local time `now_ms`
/// and on.
pub fn a_follower_redirects_and_a_leader_serves_from_its_own_store<N: Node>(
    mut follower: N,
    mut leader: N,
    leader_id: NodeId,
    now_ms: u64,
) {
    let actions = step(&mut follower, now_ms, write(1, 7));
    let redirect = ClientError::NotLeader {
        leader_hint: Some(leader_id),
    };
    assert_eq!(actions.replies[0].result, Err(redirect));
    let actions = step(&mut leader, now_ms, write(1, 7));
    assert_eq!(actions.replies[0].result, Ok(Outcome::Written));
    assert!(actions.messages.is_empty(), "nothing is replicated");
    let actions = step(&mut leader, now_ms + 1, read(2));
    assert_eq!(actions.replies[0].result, Ok(Outcome::Read(Some(7))));
    let later = Time::from_millis(now_ms + 1);
    assert!(leader.holds_lease(later));
    assert!(!follower.holds_lease(later));
    assert_eq!(leader.commit_index(), 0, "no log");
}

/// Each input of `cases`, given to `node` at `now_ms`, is dropped with its
/// reason, sends and persists nothing (a malformed hop is not even
/// acknowledged) and leaves the node as it was.
pub fn each_is_dropped_and_changes_nothing<N>(
    node: &mut N,
    now_ms: u64,
    cases: Vec<(Input<N::Message>, DropReason)>,
) where
    N: Node + Clone + PartialEq + std::fmt::Debug,
{
    for (input, reason) in cases {
        let before = node.clone();
        let actions = step(node, now_ms, input);
        assert_eq!(dropped(&actions), vec![reason]);
        assert!(actions.messages.is_empty(), "{:?}", actions.messages);
        assert!(actions.persist.is_empty());
        assert_eq!(*node, before, "a dropped input changes nothing");
    }
}

/// The membership a node is built with is checked, with one error each
/// (`build` makes a node with the default configuration; a cluster of one
/// is allowed).
pub fn the_membership_is_validated_at_construction(
    build: impl Fn(NodeId, &[NodeId]) -> Option<ConfigError>,
) {
    let refused = |id, members: &[NodeId]| match build(id, members) {
        Some(ConfigError::Membership(error)) => error,
        other => panic!("{id} in {members:?}: {other:?}"),
    };
    assert_eq!(
        refused(4, &[1, 2, 3]),
        MembershipError::NotAMember { id: 4 }
    );
    assert_eq!(
        refused(1, &[1, 1]),
        MembershipError::DuplicateMember { id: 1 }
    );
    assert_eq!(refused(0, &[0, 1]), MembershipError::ZeroMemberId);
    let ten: Vec<NodeId> = (1..=10).collect();
    assert_eq!(refused(1, &ten), MembershipError::MemberCount { count: 10 });
    assert_eq!(build(1, &[1]), None, "a cluster of one is allowed");
}
