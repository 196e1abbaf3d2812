//! What Bully and Ring nodes share as nodes, checked once for both: a
//! leader serves clients from its own store and a follower redirects them,
//! bad input is dropped with its reason and changes nothing, the
//! configuration is validated at construction, and a restarted node
//! listens before it acts. Also what both count messages with.

use std::fmt::{Debug, Display};

use electorate::core::chassis::{ConfigError, DurableState, Epoch, MembershipError, Persist};
use electorate::core::client::{ClientError, Outcome};
use electorate::core::node::{DropReason, Input, Node, NodeId, Role};
use electorate::core::time::Time;
use electorate::harness::algorithm::{Algorithm, Boot};
use electorate::sim::cluster::{Cluster, MessageOf, Trace};
use rand::RngCore;

use crate::support::{
    all_follow, count_sent, read, rng, run_ms, settled_on_highest, step, term_of, write,
};

/// The cluster the nodes stepped directly belong to.
pub const MEMBERS: [NodeId; 5] = [1, 2, 3, 4, 5];

/// What a step that moved to each of `epochs` persists.
pub fn persisted(epochs: &[u64]) -> Vec<Persist> {
    let persist = |&epoch: &u64| Persist {
        epoch: Epoch::new(epoch),
    };
    epochs.iter().map(persist).collect()
}

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

/// Each input of `cases`, given to `node` (a follower, of [`MEMBERS`]) at
/// `now_ms`, is dropped with its reason, sends and persists nothing (a
/// malformed hop is not even acknowledged) and leaves the node as it was.
/// So is a leadership transfer, which neither protocol has: to a
/// non-member, an invalid target; to a peer, unexpected of a follower.
pub fn each_is_dropped_and_changes_nothing<N>(
    node: &mut N,
    now_ms: u64,
    mut cases: Vec<(Input<N::Message>, DropReason)>,
) where
    N: Node + Clone + PartialEq + std::fmt::Debug,
{
    cases.push((
        Input::TransferLeadership { to: 9 },
        DropReason::InvalidTarget { target: 9 },
    ));
    let follower = DropReason::UnexpectedForRole {
        role: Role::Follower,
    };
    cases.push((Input::TransferLeadership { to: 4 }, follower));
    for (input, reason) in cases {
        let before = node.clone();
        let actions = step(node, now_ms, input);
        assert_eq!(actions.dropped(), vec![reason]);
        assert!(actions.messages.is_empty(), "{:?}", actions.messages);
        assert!(actions.persist.is_empty());
        assert_eq!(*node, before, "a dropped input changes nothing");
    }
}

/// What a node is built with is checked, with one error each: the
/// membership, with the default configuration (a cluster of one is
/// allowed), and `bad`, the protocol's own faulty configuration, which a
/// node of two must refuse with `error`. `new` is the node's constructor.
pub fn the_configuration_is_validated<C: Default, N: Debug>(
    new: impl Fn(NodeId, &[NodeId], C, Time, &mut dyn RngCore) -> Result<N, ConfigError>,
    bad: C,
    error: ConfigError,
) {
    let build =
        |id, members: &[NodeId], config| new(id, members, config, Time::ZERO, &mut rng()).err();
    let refused = |id, members: &[NodeId]| match build(id, members, C::default()) {
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
    assert_eq!(
        build(1, &[1], C::default()),
        None,
        "a cluster of one is allowed"
    );
    assert_eq!(build(1, &[1, 2], bad), Some(error));
}

/// Node `id` of [`MEMBERS`], restarted by `algorithm` at time zero with
/// `epoch` durable. It comes back listening: a follower of nobody, in its
/// persisted epoch, until a leader timeout (150 ms at the least) has
/// passed. Returns the node and when its listening ends.
pub fn restarted_listening<A>(algorithm: &A, id: NodeId, epoch: u64) -> (A::Node, Time)
where
    A: Algorithm<Durable = DurableState>,
{
    let durable = DurableState {
        epoch: Epoch::new(epoch),
    };
    let node = algorithm.restart(Boot::at_zero(id, &MEMBERS, &mut rng()), &durable);
    assert_eq!(
        (node.role(), node.leader(), node.term()),
        (Role::Follower, None, epoch)
    );
    let listen_until = node.next_deadline();
    assert!(listen_until >= Time::from_millis(150), "{listen_until:?}");
    (node, listen_until)
}

/// A cluster of five settled on node 5, which crashes: within a second
/// node 4 leads. Node 5 then restarts, in its old epoch, 1.
pub fn the_highest_id_returns<A: Algorithm>(algorithm: A) -> Cluster<A> {
    let mut cluster = settled_on_highest(algorithm, 5, 2);
    cluster.crash(5);
    run_ms(&mut cluster, 1_000);
    assert_eq!(cluster.leaders(), vec![4]);
    cluster.restart(5);
    assert_eq!(
        term_of(&cluster, 5),
        1,
        "node 5 comes back in its old epoch"
    );
    cluster
}

/// For each cluster size n from 2 to 9: the cluster settles on node n,
/// then the lowest id starts an election anyway (as on a lost heartbeat)
/// and the cluster settles on node n again. `check` gets the cluster, n and
/// what was sent since it first settled.
pub fn each_size_after_an_election_from_the_lowest_id<A: Algorithm + Default>(
    mut check: impl FnMut(&Cluster<A>, u64, &[(Time, Trace<MessageOf<A>>)]),
) {
    for n in 2..=9u64 {
        let mut cluster = settled_on_highest(A::default(), n, n);
        cluster.campaign(1);
        cluster.stabilize(1_000);
        assert!(all_follow(&cluster, n), "n={n}");
        let trace = cluster.take_trace();
        check(&cluster, n, &trace);
    }
}

/// How many messages of each of `kinds` (the first word of their display)
/// were sent in `trace`, delivered or lost, and how many of every kind.
pub fn sent_of_kinds<M: Display, const N: usize>(
    trace: &[(Time, Trace<M>)],
    kinds: [&str; N],
) -> ([usize; N], usize) {
    let counts = count_sent(trace);
    let total = counts.values().sum();
    (
        kinds.map(|kind| counts.get(kind).copied().unwrap_or(0)),
        total,
    )
}
