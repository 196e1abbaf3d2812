//! The ring election (Chang & Roberts, "An improved algorithm for
//! decentralized extrema-finding in circular configurations of processes",
//! CACM, 1979), with acknowledged hops that skip dead successors, stepped
//! directly and in a simulated cluster: who wins, how dead members are
//! skipped, and what an election costs in messages. The split brains and
//! liveness it shares with Bully and Raft are in `generic`. `invariants()`
//! runs after every step.

use std::time::Duration;

use electorate::core::chassis::Epoch;
use electorate::core::node::{DropReason, Input, Node, NodeId, Role};
use electorate::core::ring::{Body, Config, ConfigError, Message, RingNode};
use electorate::core::time::Time;
use electorate::harness::algorithm::Ring;
use electorate::sim::cluster::Trace;

use crate::support::{
    all_follow, election_after_crash, rng, run_ms, sent, settled_on_highest, step, step_at,
    term_of, ActionsOf,
};
use crate::unreplicated::{
    a_follower_redirects_and_a_leader_serves_from_its_own_store,
    each_is_dropped_and_changes_nothing, each_size_after_an_election_from_the_lowest_id, persisted,
    restarted_listening, sent_of_kinds, the_configuration_is_validated, the_highest_id_returns,
    MEMBERS,
};

fn new_node(id: NodeId) -> RingNode {
    node_of(id, &MEMBERS)
}

fn node_of(id: NodeId, members: &[NodeId]) -> RingNode {
    RingNode::new(id, members, Config::default(), Time::ZERO, &mut rng()).expect("valid config")
}

fn message(from: NodeId, epoch: u64, body: Body) -> Input<Message> {
    Input::Message {
        from,
        message: Message {
            epoch: Epoch::new(epoch),
            body,
        },
    }
}

fn election(candidate: NodeId, hop: u64) -> Body {
    Body::Election { candidate, hop }
}

fn coordinator_of(leader: NodeId, hop: u64) -> Body {
    Body::Coordinator { leader, hop }
}

fn to(id: NodeId, epoch: u64, body: Body) -> (NodeId, Message) {
    (
        id,
        Message {
            epoch: Epoch::new(epoch),
            body,
        },
    )
}

/// Node 5 of `MEMBERS` campaigns, node 1 acknowledges, and its id comes
/// home from node 4 as hop 7 at 2 ms: the node and what that last step did.
fn crowned() -> (RingNode, ActionsOf<RingNode>) {
    let mut node = new_node(5);
    step(&mut node, 0, Input::Campaign);
    step(&mut node, 1, message(1, 0, Body::Ack { hop: 1 }));
    let actions = step(&mut node, 2, message(4, 0, election(5, 7)));
    (node, actions)
}

/// Node 5 of `MEMBERS`, crowned in epoch 1 after its id went round. Its
/// COORDINATOR went to node 1 as hop 2.
fn coordinator() -> RingNode {
    let (node, _) = crowned();
    assert_eq!(node.role(), Role::Leader);
    node
}

// ---------------------------------------------------------------------------
// One node, stepped directly.

#[test]
fn an_election_sends_our_own_id_to_our_successor() {
    let mut node = new_node(2);
    let actions = step(&mut node, 0, Input::Campaign);
    assert_eq!(sent(&actions), vec![to(3, 0, election(2, 1))]);
    assert_eq!((node.role(), node.leader()), (Role::Candidate, None));
    assert_eq!(node.next_deadline(), Time::from_millis(50), "ack timeout");
    // The highest id passes to the lowest.
    assert_eq!(new_node(5).successor(), 1);
}

#[test]
fn a_lower_candidate_is_replaced_by_our_id_and_the_hop_acknowledged() {
    let mut node = new_node(3);
    let actions = step(&mut node, 0, message(2, 0, election(2, 9)));
    assert_eq!(
        sent(&actions),
        vec![to(2, 0, Body::Ack { hop: 9 }), to(4, 0, election(3, 1))]
    );
}

#[test]
fn a_higher_candidate_is_passed_on() {
    let mut node = new_node(2);
    let actions = step(&mut node, 0, message(1, 0, election(4, 9)));
    assert_eq!(
        sent(&actions),
        vec![to(1, 0, Body::Ack { hop: 9 }), to(3, 0, election(4, 1))]
    );
    assert_eq!(
        node.role(),
        Role::Candidate,
        "a participant until COORDINATOR"
    );
}

#[test]
fn a_participant_swallows_a_lower_candidate() {
    let mut node = new_node(3);
    step(&mut node, 0, Input::Campaign);
    let actions = step(&mut node, 1, message(2, 0, election(2, 5)));
    // Our own, higher, id is already going round.
    assert_eq!(sent(&actions), vec![to(2, 0, Body::Ack { hop: 5 })]);
    assert_eq!(actions.dropped(), vec![DropReason::Stale]);
}

#[test]
fn an_election_carries_the_highest_epoch_of_its_lap() {
    let mut node = new_node(3);
    let actions = step(&mut node, 0, message(2, 4, election(2, 9)));
    assert_eq!(actions.persist, persisted(&[4]));
    assert_eq!(sent(&actions)[1], to(4, 4, election(3, 1)));
}

#[test]
fn a_node_whose_id_comes_home_wins_and_sends_coordinator_round() {
    let (mut node, actions) = crowned();
    assert_eq!(
        (node.role(), node.leader(), node.term()),
        (Role::Leader, Some(5), 1)
    );
    // Persist before send: the epoch is durable before COORDINATOR leaves.
    assert_eq!(actions.persist, persisted(&[1]));
    assert_eq!(
        sent(&actions),
        vec![
            to(4, 0, Body::Ack { hop: 7 }),
            to(1, 1, coordinator_of(5, 2))
        ]
    );
    // Its own COORDINATOR coming home ends the lap, quietly.
    let actions = step(&mut node, 3, message(4, 1, coordinator_of(5, 8)));
    assert_eq!(sent(&actions), vec![to(4, 1, Body::Ack { hop: 8 })]);
    assert!(actions.dropped().is_empty());
}

#[test]
fn a_coordinator_is_passed_on_once() {
    let mut node = new_node(2);
    let actions = step(&mut node, 0, message(1, 1, coordinator_of(5, 3)));
    assert_eq!(
        sent(&actions),
        vec![
            to(1, 1, Body::Ack { hop: 3 }),
            to(3, 1, coordinator_of(5, 1))
        ]
    );
    assert_eq!(
        (node.role(), node.leader(), node.term()),
        (Role::Follower, Some(5), 1)
    );
    let actions = step(&mut node, 1, message(1, 1, coordinator_of(5, 4)));
    assert_eq!(sent(&actions), vec![to(1, 1, Body::Ack { hop: 4 })]);
    assert_eq!(actions.dropped(), vec![DropReason::Stale]);
}

#[test]
fn a_successor_that_does_not_acknowledge_is_skipped() {
    let mut node = new_node(2);
    step(&mut node, 0, Input::Campaign);
    assert!(step(&mut node, 49, Input::Tick).messages.is_empty());
    let actions = step(&mut node, 50, Input::Tick);
    assert_eq!(sent(&actions), vec![to(4, 0, election(2, 2))]);
    step(&mut node, 51, message(4, 0, Body::Ack { hop: 2 }));
    assert_eq!(
        node.next_deadline(),
        Time::from_millis(1_000),
        "only the coordinator timeout is left"
    );
    // Node 3's acknowledgement, too late: we gave up on it.
    let actions = step(&mut node, 52, message(3, 0, Body::Ack { hop: 1 }));
    assert_eq!(actions.dropped(), vec![DropReason::Stale]);
}

#[test]
fn a_dead_candidate_is_replaced_by_the_node_that_skips_it() {
    let mut node = new_node(4);
    let actions = step(&mut node, 0, message(3, 0, election(5, 3)));
    assert_eq!(sent(&actions)[1], to(5, 0, election(5, 1)));
    // Node 5 does not acknowledge: its id can never come home to win.
    let actions = step(&mut node, 50, Input::Tick);
    assert_eq!(sent(&actions), vec![to(1, 0, election(4, 2))]);
}

#[test]
fn a_node_that_nobody_acknowledges_crowns_itself() {
    let mut node = node_of(1, &[1, 2, 3]);
    step(&mut node, 0, Input::Campaign);
    let actions = step(&mut node, 50, Input::Tick);
    assert_eq!(sent(&actions), vec![to(3, 0, election(1, 2))]);
    let actions = step(&mut node, 100, Input::Tick);
    assert_eq!((node.role(), node.term()), (Role::Leader, 1));
    assert_eq!(sent(&actions), vec![to(2, 1, coordinator_of(1, 3))]);
}

#[test]
fn a_ring_of_one_crowns_itself_when_its_listening_ends() {
    let mut node = node_of(1, &[1]);
    assert_eq!(node.successor(), 1);
    let deadline = node.next_deadline();
    let actions = step_at(&mut node, deadline, Input::Tick);
    assert_eq!((node.role(), node.term()), (Role::Leader, 1));
    assert_eq!(actions.persist, persisted(&[1]));
    assert!(actions.messages.is_empty());
}

#[test]
fn a_stalled_election_starts_over_after_the_coordinator_timeout() {
    let mut node = new_node(2);
    step(&mut node, 0, Input::Campaign);
    step(&mut node, 1, message(3, 0, Body::Ack { hop: 1 }));
    assert!(step(&mut node, 999, Input::Tick).messages.is_empty());
    let actions = step(&mut node, 1_000, Input::Tick);
    assert_eq!(sent(&actions), vec![to(3, 0, election(2, 2))]);
    assert_eq!(node.role(), Role::Candidate);
}

#[test]
fn heartbeats_keep_a_follower_and_the_newer_or_higher_claim_wins() {
    let mut node = new_node(2);
    step(&mut node, 0, message(1, 2, coordinator_of(5, 1)));
    step(&mut node, 1, message(3, 2, Body::Ack { hop: 1 }));
    let deadline = node.next_deadline();
    step(&mut node, 100, message(5, 2, Body::Heartbeat));
    assert!(node.next_deadline() > deadline);
    // A lower coordinator in the same epoch is not believed; an older epoch
    // is stale; a newer epoch is, whoever claims it.
    let actions = step(&mut node, 101, message(3, 2, Body::Heartbeat));
    assert_eq!(
        actions.dropped(),
        vec![DropReason::LeaderStillAlive { leader: 5 }]
    );
    let actions = step(&mut node, 102, message(4, 1, Body::Heartbeat));
    assert_eq!(
        actions.dropped(),
        vec![DropReason::StaleTerm {
            message_term: 1,
            current_term: 2
        }]
    );
    step(&mut node, 103, message(4, 3, Body::Heartbeat));
    assert_eq!((node.leader(), node.term()), (Some(4), 3));
    // Silence for a whole leader timeout: an election.
    let silent_until = node.next_deadline();
    let actions = step_at(&mut node, silent_until, Input::Tick);
    assert_eq!(sent(&actions), vec![to(3, 3, election(2, 2))]);
}

#[test]
fn a_participant_waits_for_the_coordinator_not_for_heartbeats() {
    let mut node = new_node(2);
    step(&mut node, 0, Input::Campaign);
    let actions = step(&mut node, 1, message(5, 0, Body::Heartbeat));
    assert_eq!(
        actions.dropped(),
        vec![DropReason::UnexpectedForRole {
            role: Role::Candidate
        }]
    );
    assert_eq!(node.role(), Role::Candidate);
}

#[test]
fn bad_input_is_dropped_with_a_reason_and_changes_nothing() {
    let mut node = new_node(3);
    step(&mut node, 1, message(2, 1, coordinator_of(5, 1)));
    let cases = [
        (message(9, 7, Body::Heartbeat), DropReason::UnknownSender),
        (message(3, 7, Body::Heartbeat), DropReason::UnknownSender),
        (
            message(2, 7, election(9, 1)),
            DropReason::InvalidTarget { target: 9 },
        ),
        (
            message(2, 7, coordinator_of(9, 1)),
            DropReason::InvalidTarget { target: 9 },
        ),
        // We never crowned ourselves in epoch 7.
        (
            message(2, 7, coordinator_of(3, 1)),
            DropReason::InvalidTarget { target: 3 },
        ),
    ];
    each_is_dropped_and_changes_nothing(&mut node, 1, cases.into());
    let actions = step(&mut node, 1, message(4, 1, Body::Ack { hop: 42 }));
    assert_eq!(actions.dropped(), vec![DropReason::Stale]);
}

#[test]
fn a_follower_redirects_clients_and_a_coordinator_serves_them_from_its_own_store() {
    let mut follower = new_node(2);
    step(&mut follower, 0, message(1, 1, coordinator_of(5, 1)));
    a_follower_redirects_and_a_leader_serves_from_its_own_store(follower, coordinator(), 5, 3);
}

#[test]
fn a_restarted_node_crowns_itself_above_its_persisted_epoch() {
    let (mut node, listen_until) = restarted_listening(&Ring::default(), 5, 7);
    let actions = step_at(&mut node, listen_until, Input::Tick);
    assert_eq!(sent(&actions), vec![to(1, 7, election(5, 1))]);
    let actions = step_at(&mut node, listen_until, message(4, 7, election(5, 3)));
    assert_eq!(actions.persist, persisted(&[8]));
    assert_eq!(node.role(), Role::Leader);
}

#[test]
fn the_configuration_is_validated_at_construction() {
    let no_ack = Config {
        ack_timeout: Duration::ZERO,
        ..Config::default()
    };
    let error = ConfigError::ZeroDuration {
        setting: "ack_timeout",
    };
    the_configuration_is_validated(RingNode::new, no_ack, error);
}

// ---------------------------------------------------------------------------
// A simulated cluster.

#[test]
fn a_returning_higher_node_follows_the_current_coordinator() {
    // Unlike Bully, Ring does not hand leadership back to the highest id:
    // the returning node hears the coordinator's heartbeat and follows.
    let mut cluster = the_highest_id_returns(Ring::default());
    run_ms(&mut cluster, 1_000);
    assert_eq!(cluster.leaders(), vec![4]);
    assert!(all_follow(&cluster, 4));
    assert!(
        cluster.violations().is_empty(),
        "{:?}",
        cluster.violations()
    );
}

// ---------------------------------------------------------------------------
// Message counts per election. Counted on a network that delivers at once,
// with no time passing during a lap, so no heartbeat or timeout interferes.

/// ELECTIONs, COORDINATORs and ACKs sent in `trace`, heartbeats aside.
fn ring_counts(trace: &[(Time, Trace<Message>)]) -> (usize, usize, usize) {
    let ([elections, coordinators, acks], _) =
        sent_of_kinds(trace, ["Election", "Coordinator", "Ack"]);
    (elections, coordinators, acks)
}

#[test]
fn an_election_skips_a_dead_member_on_every_lap() {
    // Node 3 is dead. The lowest id starts: 1→2, 2→3 (lost; skipped after the
    // ack timeout), 2→4, 4→5, then node 5's own lap 5→1, 1→2, 2→3 (lost),
    // 2→4, 4→5: 9 ELECTIONs. COORDINATOR 5→1, 1→2, 2→3 (lost), 2→4, 4→5: 5.
    // Every delivered hop is acknowledged: 14 - 3 = 11 ACKs. Each lap past
    // the dead node costs one ack timeout.
    let mut cluster = settled_on_highest(Ring::default(), 5, 3);
    cluster.crash(3);
    cluster.take_trace();
    cluster.campaign(1);
    run_ms(&mut cluster, 150);
    assert!(all_follow(&cluster, 5));
    assert_eq!(term_of(&cluster, 5), 2);
    let trace = cluster.take_trace();
    let lost_to_3 = trace
        .iter()
        .filter(|(_, line)| match line {
            Trace::Lost { envelope, .. } => {
                envelope.to == 3 && !envelope.message.to_string().starts_with("Heartbeat")
            }
            _ => false,
        })
        .count();
    assert_eq!(lost_to_3, 3, "once per lap");
    assert_eq!(ring_counts(&trace), (9, 5, 11));
}

#[test]
fn an_election_started_by_the_lowest_id_costs_a_linear_number_of_messages() {
    // The lowest id starts while the coordinator (id n) is alive. Its
    // ELECTION climbs n - 1 hops to node n, each node replacing the
    // candidate by its own higher id; node n's id then makes a full lap of n
    // hops: 2n - 1 ELECTIONs. COORDINATOR makes one lap: n. Every hop is
    // acknowledged: 3n - 1 ACKs. Total 2(3n - 1): O(n) per lap, against
    // Bully's n² - 1 (Ring costs more below 6 nodes, because of the ACKs,
    // and less from 6 on).
    each_size_after_an_election_from_the_lowest_id::<Ring>(|cluster, n, trace| {
        assert_eq!(term_of(cluster, n), 2, "the coordinator is crowned again");
        let n = n as usize;
        let (counts, total) = sent_of_kinds(trace, ["Election", "Coordinator", "Ack"]);
        assert_eq!(counts, [2 * n - 1, n, 3 * n - 1], "n={n}");
        assert_eq!(total, 2 * (3 * n - 1), "nothing but the election");
    });
}

#[test]
fn the_lowest_id_detecting_a_dead_coordinator_costs_twenty_four_messages_of_five_nodes() {
    // Node 5 is dead and node 1 starts. ELECTION 1→2, 2→3, 3→4, 4→5 (lost;
    // the candidate, 4, is alive, so node 4 passes it on past 5) 4→1, 1→2,
    // 2→3, 3→4: 8. COORDINATOR 4→5 (lost), 4→1, 1→2, 2→3, 3→4: 5. Of these
    // 13 hops, the 11 delivered are acknowledged: 24 messages.
    let trace = election_after_crash(&mut settled_on_highest(Ring::default(), 5, 4), 5, 1, 100, 4);
    assert_eq!(ring_counts(&trace), (8, 5, 11));
}
