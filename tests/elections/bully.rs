//! The Bully algorithm (Garcia-Molina, "Elections in a Distributed
//! Computing System", IEEE Trans. Computers, 1982), stepped directly and in
//! a simulated cluster: who wins, how a dead coordinator is replaced, how a
//! returning higher node takes over, and what an election costs in
//! messages. The split brains and liveness it shares with Ring and Raft are
//! in `generic`. `invariants()` runs after every step.

use std::time::Duration;

use electorate::check::properties::Property;
use electorate::core::bully::{Body, BullyNode, Config, ConfigError, Message};
use electorate::core::chassis::Epoch;
use electorate::core::node::{DropReason, Input, Node, NodeId, Role};
use electorate::core::time::Time;
use electorate::harness::algorithm::Bully;
use electorate::sim::cluster::Trace;

use crate::support::{
    all_follow, election_after_crash, rng, run_ms, sent, settled_on_highest, step, step_at,
    term_of, violated,
};
use crate::unreplicated::{
    a_follower_redirects_and_a_leader_serves_from_its_own_store,
    each_is_dropped_and_changes_nothing, each_size_after_an_election_from_the_lowest_id, persisted,
    restarted_listening, sent_of_kinds, the_configuration_is_validated, the_highest_id_returns,
    MEMBERS,
};

fn new_node(id: NodeId) -> BullyNode {
    BullyNode::new(id, &MEMBERS, Config::default(), Time::ZERO, &mut rng()).expect("valid config")
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

fn to_each(ids: &[NodeId], epoch: u64, body: Body) -> Vec<(NodeId, Message)> {
    ids.iter()
        .map(|&id| {
            (
                id,
                Message {
                    epoch: Epoch::new(epoch),
                    body,
                },
            )
        })
        .collect()
}

/// Node 5 of `MEMBERS`, crowned in epoch 1.
fn coordinator() -> BullyNode {
    let mut node = new_node(5);
    step(&mut node, 0, Input::Campaign);
    assert_eq!(node.role(), Role::Leader);
    node
}

// ---------------------------------------------------------------------------
// One node, stepped directly.

#[test]
fn an_election_asks_only_the_higher_ids() {
    let mut node = new_node(2);
    let actions = step(&mut node, 0, Input::Campaign);
    assert_eq!(sent(&actions), to_each(&[3, 4, 5], 0, Body::Election));
    assert_eq!(node.role(), Role::Candidate);
    assert_eq!(node.leader(), None);
    assert_eq!(
        node.next_deadline(),
        Time::from_millis(50),
        "answer timeout"
    );
}

#[test]
fn the_highest_id_crowns_itself_at_once_in_a_new_epoch() {
    let mut node = new_node(5);
    let actions = step(&mut node, 0, Input::Campaign);
    assert_eq!(node.role(), Role::Leader);
    assert_eq!(node.leader(), Some(5));
    assert_eq!(node.term(), 1);
    // Persist before send: the epoch is durable before COORDINATOR leaves.
    assert_eq!(actions.persist, persisted(&[1]));
    assert_eq!(sent(&actions), to_each(&[1, 2, 3, 4], 1, Body::Coordinator));
}

#[test]
fn with_no_answer_within_the_answer_timeout_a_node_crowns_itself() {
    let mut node = new_node(3);
    step(&mut node, 0, Input::Campaign);
    let actions = step(&mut node, 49, Input::Tick);
    assert!(actions.messages.is_empty(), "still waiting for answers");
    let actions = step(&mut node, 50, Input::Tick);
    assert_eq!(node.role(), Role::Leader);
    assert_eq!(sent(&actions), to_each(&[1, 2, 4, 5], 1, Body::Coordinator));
    // The coordinator beats every heartbeat interval from then on.
    assert_eq!(node.next_deadline(), Time::from_millis(100));
    let actions = step(&mut node, 100, Input::Tick);
    assert_eq!(sent(&actions), to_each(&[1, 2, 4, 5], 1, Body::Heartbeat));
}

#[test]
fn an_answer_hands_the_election_over_and_a_missing_coordinator_restarts_it() {
    let mut node = new_node(3);
    step(&mut node, 0, Input::Campaign);
    let actions = step(&mut node, 10, message(4, 0, Body::Answer));
    assert!(actions.messages.is_empty());
    assert_eq!(node.role(), Role::Candidate);
    assert_eq!(
        node.next_deadline(),
        Time::from_millis(110),
        "coordinator timeout"
    );
    // The answer timeout no longer applies: a higher node is alive.
    let actions = step(&mut node, 50, Input::Tick);
    assert!(actions.messages.is_empty());
    assert_ne!(node.role(), Role::Leader);
    // No COORDINATOR by the coordinator timeout: node 4 died on the way.
    let actions = step(&mut node, 110, Input::Tick);
    assert_eq!(sent(&actions), to_each(&[4, 5], 0, Body::Election));
}

#[test]
fn an_election_from_below_is_answered_and_taken_over() {
    let mut node = new_node(3);
    let actions = step(&mut node, 0, message(1, 0, Body::Election));
    let mut expected = vec![(
        1,
        Message {
            epoch: Epoch::new(0),
            body: Body::Answer,
        },
    )];
    expected.extend(to_each(&[4, 5], 0, Body::Election));
    assert_eq!(sent(&actions), expected);
    // A second one, while the election runs, is only answered.
    let actions = step(&mut node, 1, message(2, 0, Body::Election));
    assert_eq!(sent(&actions), to_each(&[2], 0, Body::Answer));
}

#[test]
fn a_coordinator_answers_an_election_by_announcing_itself_again() {
    let mut node = coordinator();
    let actions = step(&mut node, 10, message(2, 1, Body::Election));
    assert_eq!(
        sent(&actions),
        vec![
            (
                2,
                Message {
                    epoch: Epoch::new(1),
                    body: Body::Answer
                }
            ),
            (
                2,
                Message {
                    epoch: Epoch::new(1),
                    body: Body::Coordinator
                }
            ),
        ]
    );
    assert_eq!(node.term(), 1, "same coordinator, same epoch");
    assert!(actions.persist.is_empty());
}

#[test]
fn a_higher_coordinator_is_followed_while_its_heartbeats_arrive() {
    let mut node = new_node(2);
    step(&mut node, 0, message(5, 1, Body::Coordinator));
    assert_eq!(
        (node.role(), node.leader(), node.term()),
        (Role::Follower, Some(5), 1)
    );
    let deadline = node.next_deadline();
    let timeout = deadline.saturating_since(Time::ZERO);
    assert!(timeout >= Duration::from_millis(150) && timeout < Duration::from_millis(300));
    step(&mut node, 100, message(5, 1, Body::Heartbeat));
    assert!(
        node.next_deadline() > deadline,
        "a heartbeat restarts the leader timeout"
    );
    // Silence for a whole leader timeout: the coordinator is presumed dead.
    let silent_until = node.next_deadline();
    let actions = step_at(&mut node, silent_until, Input::Tick);
    assert_eq!(sent(&actions), to_each(&[3, 4, 5], 1, Body::Election));
    assert_eq!(node.role(), Role::Candidate);
}

#[test]
fn a_lower_coordinator_is_bullied() {
    let mut node = new_node(4);
    let actions = step(&mut node, 0, message(3, 1, Body::Coordinator));
    // Node 4 outranks node 3, so it holds an election instead of obeying.
    assert_eq!(node.term(), 1, "the epoch is adopted all the same");
    assert_eq!(sent(&actions), to_each(&[5], 1, Body::Election));
    assert_eq!(node.leader(), None);
}

#[test]
fn a_stale_coordinator_is_dropped() {
    let mut node = new_node(2);
    step(&mut node, 0, message(5, 3, Body::Coordinator));
    let actions = step(&mut node, 1, message(4, 2, Body::Heartbeat));
    assert_eq!(
        actions.dropped(),
        vec![DropReason::StaleTerm {
            message_term: 2,
            current_term: 3
        }]
    );
    assert_eq!(node.leader(), Some(5));
}

#[test]
fn a_newer_epoch_deposes_a_coordinator_which_then_crowns_itself_above_it() {
    let mut node = coordinator();
    let actions = step(&mut node, 10, message(1, 4, Body::Election));
    // Epoch 4 was crowned somewhere we did not see: our reign (epoch 1) is
    // over. Node 5 is still the highest id, so its own election, held at
    // once, crowns it again above everything seen.
    assert_eq!(actions.persist, persisted(&[4, 5]));
    let mut expected = vec![(
        1,
        Message {
            epoch: Epoch::new(4),
            body: Body::Answer,
        },
    )];
    expected.extend(to_each(&[1, 2, 3, 4], 5, Body::Coordinator));
    assert_eq!(sent(&actions), expected);
    assert_eq!((node.role(), node.term()), (Role::Leader, 5));
}

#[test]
fn bad_input_is_dropped_with_a_reason_and_changes_nothing() {
    let mut node = new_node(3);
    step(&mut node, 1, message(5, 1, Body::Coordinator));
    let cases = [
        (message(9, 7, Body::Coordinator), DropReason::UnknownSender),
        (message(3, 7, Body::Heartbeat), DropReason::UnknownSender),
        // ELECTION only goes up and ANSWER only goes down.
        (
            message(4, 7, Body::Election),
            DropReason::UnexpectedForRole {
                role: Role::Follower,
            },
        ),
        (
            message(1, 7, Body::Answer),
            DropReason::UnexpectedForRole {
                role: Role::Follower,
            },
        ),
    ];
    each_is_dropped_and_changes_nothing(&mut node, 1, cases.into());
    // An answer to an election that is over is stale, not malformed.
    let actions = step(&mut node, 2, message(4, 1, Body::Answer));
    assert_eq!(actions.dropped(), vec![DropReason::Stale]);
}

#[test]
fn a_follower_redirects_clients_and_a_coordinator_serves_them_from_its_own_store() {
    let mut follower = new_node(2);
    step(&mut follower, 0, message(5, 1, Body::Coordinator));
    a_follower_redirects_and_a_leader_serves_from_its_own_store(follower, coordinator(), 5, 1);
}

#[test]
fn a_restarted_node_listens_first_then_crowns_itself_above_its_persisted_epoch() {
    let (mut node, listen_until) = restarted_listening(&Bully::default(), 5, 7);
    let actions = step_at(&mut node, Time::from_millis(149), Input::Tick);
    assert!(actions.is_empty(), "still listening");
    let actions = step_at(&mut node, listen_until, Input::Tick);
    assert_eq!(actions.persist, persisted(&[8]));
    assert_eq!(node.role(), Role::Leader);
}

#[test]
fn the_configuration_is_validated_at_construction() {
    let slow_heartbeat = Config {
        heartbeat_interval: Duration::from_millis(200),
        ..Config::default()
    };
    let error = ConfigError::HeartbeatTooSlow {
        heartbeat: slow_heartbeat.heartbeat_interval,
        leader_timeout_min: slow_heartbeat.leader_timeout_min,
    };
    the_configuration_is_validated(BullyNode::new, slow_heartbeat, error);
}

// ---------------------------------------------------------------------------
// A simulated cluster.

#[test]
fn a_returning_higher_node_bullies_its_way_back() {
    let mut cluster = the_highest_id_returns(Bully::default());
    // Node 5 listens first, hears node 4's heartbeat (epoch 2) within one
    // heartbeat interval, and, outranking node 4, holds an election it wins
    // at once, in epoch 3.
    run_ms(&mut cluster, 60);
    assert_eq!(cluster.leaders(), vec![5]);
    assert!(all_follow(&cluster, 5));
    assert_eq!(term_of(&cluster, 5), 3);
    // Epochs stayed unique (listening first is what keeps node 5 from
    // reusing epoch 2), but for the instant between node 5's crowning and
    // node 4 receiving it, both led: Bully has no lease, so even a plain
    // takeover, with no partition, has two nodes serving reads at once.
    assert!(!violated(&cluster, Property::ElectionSafety));
    assert!(violated(&cluster, Property::LeaseSafety));
}

// ---------------------------------------------------------------------------
// Message counts per election. Counted on a network that delivers at once,
// in send order, so every node receives all the ELECTIONs it will get
// before the COORDINATOR that ends its election, and the counts are exact.

/// ELECTIONs, ANSWERs and COORDINATORs sent in `trace`; panics if any other
/// message was.
fn election_counts(trace: &[(Time, Trace<Message>)]) -> (usize, usize, usize) {
    let (counts, total) = sent_of_kinds(trace, ["Election", "Answer", "Coordinator"]);
    assert_eq!(
        counts.iter().sum::<usize>(),
        total,
        "only election messages: {counts:?} of {total}"
    );
    let [elections, answers, coordinators] = counts;
    (elections, answers, coordinators)
}

#[test]
fn an_election_started_by_the_lowest_id_costs_n_squared_minus_one_messages() {
    // The coordinator is alive, and the lowest id starts an election anyway
    // (a lost heartbeat). Node i sends ELECTION to the n - i ids above it and
    // each answers: n(n-1)/2 ELECTIONs and as many ANSWERs. The coordinator
    // answers each of the n - 1 askers with COORDINATOR, without a new epoch.
    // Total n(n-1) + (n-1) = n² - 1: Bully's O(n²) worst case.
    each_size_after_an_election_from_the_lowest_id::<Bully>(|_, n, trace| {
        let n = n as usize;
        let pairs = n * (n - 1) / 2;
        assert_eq!(election_counts(trace), (pairs, pairs, n - 1), "n={n}");
        assert_eq!(2 * pairs + n - 1, n * n - 1);
    });
}

#[test]
fn the_lowest_id_detecting_a_dead_coordinator_costs_twenty_messages_of_five_nodes() {
    // Node 5 is dead and node 1 notices first. ELECTIONs: 1→{2,3,4,5},
    // 2→{3,4,5}, 3→{4,5}, 4→{5}: 10, four of them to the dead node. ANSWERs
    // only from the live higher ids: 3 + 2 + 1 = 6. Node 4 hears nothing
    // from node 5 within the answer timeout and broadcasts COORDINATOR to the
    // other 4 (the dead one included): 20 messages.
    let trace = election_after_crash(&mut settled_on_highest(Bully::default(), 5, 3), 5, 1, 50, 4);
    assert_eq!(election_counts(&trace), (10, 6, 4));
}

#[test]
fn the_highest_live_id_detecting_a_dead_coordinator_costs_n_messages() {
    // Best case: node 4 notices first. One ELECTION (to dead node 5), no
    // ANSWER, then COORDINATOR to the other four.
    let trace = election_after_crash(&mut settled_on_highest(Bully::default(), 5, 4), 5, 4, 50, 4);
    assert_eq!(election_counts(&trace), (1, 0, 4));
}
