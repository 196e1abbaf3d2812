//! One test per claim of the Raft paper (Ongaro & Ousterhout, "In Search of
//! an Understandable Consensus Algorithm", 2014) and of Ongaro's thesis,
//! each naming its section, in the manner of etcd's `raft_paper_test.go`.
//! Nodes are stepped directly; `invariants()` runs after every step.

use std::time::Duration;

use electorate::core::client::{ClientError, ClientRequest, Operation, Outcome, RequestId};
use electorate::core::node::{DropReason, Event, Input, Node, NodeId, Role};
use electorate::core::raft::{
    Append, AppendResponse, AppendResult, Body, Command, Config, ConfigError, DurableState, Entry,
    HardState, Heartbeat, HeartbeatResponse, InstallSnapshotResponse, LogIndex, MembershipError,
    Message, Persist, RaftActions, RaftNode, Round, Term, VoteRequest, VoteResponse,
};
use electorate::core::time::Time;
use electorate::sim::cluster::Cluster;

use crate::support::{rng, sent, step, step_at};

use crate::fixtures::*;

#[test]
fn a_message_with_a_higher_term_makes_any_role_a_follower_of_that_term() {
    // Reference: section 5.1
    let (mut leader, _) = leader_of_term_one(Config::default());
    step(
        &mut leader,
        2,
        message(
            3,
            5,
            Body::HeartbeatResponse(HeartbeatResponse {
                round: Round::new(0),
            }),
        ),
    );
    assert_eq!(leader.role(), Role::Follower);
    assert_eq!(leader.term(), 5);
    assert_eq!(leader.hard_state().voted_for, None);

    let mut candidate = candidate_of_term_one(Config::default());
    step(&mut candidate, 1, message(2, 3, append((0, 0), vec![], 0)));
    assert_eq!(candidate.role(), Role::Follower);
    assert_eq!((candidate.term(), candidate.leader()), (3, Some(2)));
}

#[test]
fn a_request_with_a_stale_term_is_rejected_with_the_current_term() {
    // Reference: section 5.1
    let mut node = new_node(1, Config::default());
    step(&mut node, 0, message(2, 4, append((0, 0), vec![], 0)));
    let actions = step(&mut node, 1, message(3, 2, append((0, 0), vec![], 0)));
    assert_eq!(sent(&actions).len(), 1);
    assert_eq!(
        sent(&actions)[0].1.term,
        Term::new(4),
        "the reply carries our term"
    );
    assert!(actions.events.contains(&Event::Dropped {
        from: Some(3),
        reason: DropReason::StaleTerm {
            message_term: 2,
            current_term: 4
        },
    }));
    let actions = step(&mut node, 2, message(3, 3, vote_request(false, 9, 9)));
    assert_eq!(
        sent(&actions),
        vec![(
            3,
            Message {
                term: Term::new(4),
                body: vote(false, false)
            }
        )]
    );
}

#[test]
fn nodes_start_as_followers_and_campaign_when_the_election_timeout_fires() {
    // Reference: section 5.2
    let config = without_pre_vote(Config::default());
    let mut node = new_node(1, config.clone());
    assert_eq!((node.role(), node.term()), (Role::Follower, 0));
    let deadline = node.next_deadline();
    assert!(deadline >= Time::ZERO.saturating_add(config.election_timeout_min));
    assert!(deadline < Time::ZERO.saturating_add(config.election_timeout_max));

    let early = step(&mut node, deadline.as_micros() / 1_000 - 1, Input::Tick);
    assert!(
        early.messages.is_empty(),
        "nothing happens before the timeout"
    );
    let mut actions = RaftActions::default();
    node.step(deadline, &mut rng(), Input::Tick, &mut actions);
    assert_eq!((node.role(), node.term()), (Role::Candidate, 1));
    assert_eq!(
        node.hard_state().voted_for,
        Some(1),
        "a candidate votes for itself"
    );
    let requests: Vec<NodeId> = sent(&actions).iter().map(|(to, _)| *to).collect();
    assert_eq!(requests, vec![2, 3], "it asks every peer for a vote");
}

#[test]
fn election_timeouts_are_randomized_within_the_configured_range() {
    // Reference: section 5.2 ("randomized election timeouts")
    let config = Config::default();
    let mut deadlines = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed);
        let node = RaftNode::new(1, &MEMBERS, config.clone(), Time::ZERO, &mut rng).unwrap();
        let deadline = node.next_deadline().saturating_since(Time::ZERO);
        assert!(deadline >= config.election_timeout_min && deadline < config.election_timeout_max);
        deadlines.insert(deadline);
    }
    assert!(
        deadlines.len() > 150,
        "timeouts spread out: {} distinct",
        deadlines.len()
    );
}

#[test]
fn a_candidate_with_a_majority_of_votes_becomes_leader_and_sends_heartbeats() {
    // Reference: section 5.2
    let config = Config::default();
    let (mut leader, actions) = leader_of_term_one(config.clone());
    assert_eq!(leader.leader(), Some(1));
    // Its first appends carry the no-op of its term (section 8).
    let appends = sent(&actions);
    assert_eq!(appends.len(), 2);
    for (_, message) in &appends {
        let Body::Append(Append { entries, .. }) = &message.body else {
            panic!("not an append: {message}")
        };
        assert_eq!(*entries[0].command, Command::Noop);
        assert_eq!(entries[0].term, Term::new(1));
    }
    let heartbeat_at = leader.next_deadline();
    assert_eq!(
        heartbeat_at,
        Time::from_millis(1).saturating_add(config.heartbeat_interval)
    );
    let mut actions = RaftActions::default();
    leader.step(heartbeat_at, &mut rng(), Input::Tick, &mut actions);
    let heartbeats = sent(&actions);
    assert_eq!(heartbeats.len(), 2);
    assert!(heartbeats
        .iter()
        .all(|(_, message)| matches!(message.body, Body::Heartbeat(_))));
}

#[test]
fn a_candidate_rejected_by_a_majority_steps_down() {
    // Reference: section 5.2
    let mut node = candidate_of_term_one(Config::default());
    step(&mut node, 1, message(2, 1, vote(false, false)));
    assert_eq!(
        node.role(),
        Role::Candidate,
        "one rejection of three is not decisive"
    );
    step(&mut node, 2, message(3, 1, vote(false, false)));
    assert_eq!((node.role(), node.term()), (Role::Follower, 1));
}

#[test]
fn a_candidate_hearing_from_a_leader_of_its_term_becomes_its_follower() {
    // Reference: section 5.2
    let mut node = candidate_of_term_one(Config::default());
    step(&mut node, 1, message(2, 1, append((0, 0), vec![], 0)));
    assert_eq!(
        (node.role(), node.leader(), node.term()),
        (Role::Follower, Some(2), 1)
    );
}

#[test]
fn a_node_votes_at_most_once_per_term_first_come_first_served() {
    // Reference: section 5.2
    let mut node = new_node(1, plain_voter());
    let first = step(&mut node, 0, message(2, 1, vote_request(false, 0, 0)));
    let second = step(&mut node, 1, message(3, 1, vote_request(false, 0, 0)));
    let again = step(&mut node, 2, message(2, 1, vote_request(false, 0, 0)));
    let granted = |actions: &RaftActions| {
        matches!(
            sent(actions)[0].1.body,
            Body::VoteResponse(VoteResponse { granted: true, .. })
        )
    };
    assert!(granted(&first));
    assert!(!granted(&second), "already voted for 2 in term 1");
    assert!(
        granted(&again),
        "a repeated request from the same candidate is granted again"
    );
}

#[test]
fn a_follower_of_the_terms_leader_votes_for_no_other_candidate_of_that_term() {
    // Reference: section 5.2 (the term's election is over once its leader
    // is known) and thesis section 9.6 (a pre-vote for a later term binds
    // nothing, so it is free even then)
    let mut node = new_node(1, plain_voter());
    step(&mut node, 0, message(2, 1, append((0, 0), vec![], 0)));
    assert_eq!((node.leader(), node.term()), (Some(2), 1));
    let cases = [
        // (pre-vote, the request's term, granted)
        (false, 1, false), // a vote in the term that has a leader
        (true, 1, false),  // a pre-vote for that same term
        (true, 2, true),   // a pre-vote for the next term
    ];
    for (pre_vote, term, granted) in cases {
        // Past the minimum election timeout, so that PreVote's own check
        // (the leader is still heard) does not answer for the vote rule.
        let actions = step(
            &mut node,
            200,
            message(3, term, vote_request(pre_vote, 0, 0)),
        );
        assert_eq!(
            sent(&actions)[0].1.body,
            vote(pre_vote, granted),
            "pre-vote {pre_vote} for term {term}"
        );
        assert_eq!(
            node.hard_state().voted_for,
            None,
            "no request here binds a vote"
        );
    }
}

#[test]
fn a_candidate_counts_only_votes_of_its_own_round() {
    // Reference: section 5.2 and thesis section 9.6: a pre-vote grant binds
    // its sender to nothing, so a candidate that counted one as a vote
    // could win a term whose majority votes for another.
    let mut node = new_node(1, Config::default());
    step(&mut node, 0, Input::Campaign);
    step(&mut node, 1, message(2, 1, vote(true, true)));
    assert_eq!((node.role(), node.term()), (Role::Candidate, 1));
    step(&mut node, 2, message(3, 1, vote(true, true)));
    assert_eq!(
        node.role(),
        Role::Candidate,
        "a late pre-vote grant of term 1 is not a vote in term 1"
    );
    step(&mut node, 3, message(3, 1, vote(false, true)));
    assert_eq!(node.role(), Role::Leader);
}

#[test]
fn a_pre_candidate_counts_only_pre_votes_of_its_own_round() {
    // Reference: thesis section 9.6: the refusals of a finished vote round
    // say nothing about the pre-vote round that follows it.
    let mut node = new_node(1, Config::default());
    step(&mut node, 0, Input::Campaign);
    step(&mut node, 1, message(2, 1, vote(true, true)));
    step(&mut node, 400, Input::Campaign);
    assert_eq!((node.role(), node.term()), (Role::PreCandidate, 1));
    for voter in [2, 3] {
        step(&mut node, 401, message(voter, 1, vote(false, false)));
    }
    assert_eq!(
        node.role(),
        Role::PreCandidate,
        "two late refusals of term 1's vote do not end the pre-vote for term 2"
    );
    step(&mut node, 402, message(2, 2, vote(true, true)));
    assert_eq!((node.role(), node.term()), (Role::Candidate, 2));
}

#[test]
fn a_vote_is_durable_before_the_response_leaves() {
    // Reference: section 5.2, Figure 2 ("persistent state ... updated on
    // stable storage before responding to RPCs")
    let config = plain_voter();
    let mut node = new_node(1, config.clone());
    let actions = step(&mut node, 0, message(2, 1, vote_request(false, 0, 0)));
    assert_eq!(
        actions.persist,
        vec![
            Persist::HardState(HardState {
                term: Term::new(1),
                voted_for: None
            }),
            Persist::HardState(HardState {
                term: Term::new(1),
                voted_for: Some(2)
            }),
        ]
    );
    // A crash after the reply loses nothing: the restarted node refuses
    // another candidate in the same term.
    let mut durable = DurableState::default();
    durable.apply_all(&actions.persist);
    let mut restarted = RaftNode::restart(
        1,
        &MEMBERS,
        config,
        durable,
        Time::from_millis(500),
        &mut rng(),
    )
    .unwrap();
    let actions = step(
        &mut restarted,
        1_000,
        message(3, 1, vote_request(false, 0, 0)),
    );
    assert!(matches!(
        sent(&actions)[0].1.body,
        Body::VoteResponse(VoteResponse { granted: false, .. })
    ));
}

#[test]
fn a_voter_denies_a_candidate_whose_log_is_less_up_to_date() {
    // Reference: section 5.4.1
    let mut node = new_node(1, plain_voter());
    step(
        &mut node,
        0,
        message(2, 2, append((0, 0), vec![entry(1, 1), entry(2, 2)], 0)),
    );
    let cases = [
        // (candidate's last term, last index, granted)
        (1, 5, false), // older last term loses however long
        (2, 1, false), // same term, shorter log
        (2, 2, true),  // equal
        (3, 1, true),  // newer last term wins however short
    ];
    for (term_offset, (last_term, last_index, granted)) in cases.into_iter().enumerate() {
        let term = 3 + term_offset as u64;
        let actions = step(
            &mut node,
            1,
            message(3, term, vote_request(false, last_term, last_index)),
        );
        let response = &sent(&actions)[0].1.body;
        assert_eq!(
            response,
            &vote(false, granted),
            "candidate log {last_term}/{last_index}"
        );
    }
}

#[test]
fn a_follower_rejects_an_append_whose_previous_entry_it_lacks() {
    // Reference: section 5.3 (consistency check)
    let mut node = new_node(1, Config::default());
    let actions = step(
        &mut node,
        0,
        message(2, 2, append((1, 3), vec![entry(2, 4)], 0)),
    );
    assert_eq!(
        sent(&actions)[0].1.body,
        Body::AppendResponse(AppendResponse {
            result: AppendResult::Rejected {
                rejected_index: LogIndex::new(3),
                conflict_term: None,
                conflict_index: LogIndex::new(1)
            },
            round: Round::new(0)
        })
    );
    assert_eq!(node.log().last_index(), LogIndex::ZERO, "nothing appended");
}

#[test]
fn a_follower_truncates_conflicting_entries_and_keeps_matching_ones() {
    // Reference: section 5.3 ("if an existing entry conflicts with a new one
    // ... delete the existing entry and all that follow it")
    let mut node = new_node(1, Config::default());
    step(
        &mut node,
        0,
        message(
            2,
            1,
            append((0, 0), vec![entry(1, 1), entry(1, 2), entry(1, 3)], 1),
        ),
    );
    let actions = step(
        &mut node,
        1,
        message(3, 2, append((1, 1), vec![entry(2, 2)], 1)),
    );
    assert_eq!(
        actions.persist,
        vec![
            Persist::HardState(HardState {
                term: Term::new(2),
                voted_for: None
            }),
            Persist::TruncateLog {
                from: LogIndex::new(2)
            },
            Persist::AppendEntry(entry(2, 2)),
        ],
        "truncation and append are persisted before the acceptance is sent"
    );
    assert_eq!(node.log().entries(), &[entry(1, 1), entry(2, 2)]);
    // A delayed, shorter append of entries we hold truncates nothing.
    let actions = step(
        &mut node,
        2,
        message(3, 2, append((0, 0), vec![entry(1, 1)], 1)),
    );
    assert!(actions.persist.is_empty());
    assert_eq!(node.log().entries(), &[entry(1, 1), entry(2, 2)]);
}

#[test]
fn a_rejection_hints_the_conflicting_term_so_the_leader_skips_it() {
    // Reference: section 5.3 (the optimization at the end of the section)
    let mut node = new_node(1, Config::default());
    step(
        &mut node,
        0,
        message(
            2,
            2,
            append(
                (0, 0),
                vec![entry(1, 1), entry(2, 2), entry(2, 3), entry(2, 4)],
                1,
            ),
        ),
    );
    let actions = step(&mut node, 1, message(3, 3, append((3, 4), vec![], 1)));
    assert_eq!(
        sent(&actions)[0].1.body,
        Body::AppendResponse(AppendResponse {
            result: AppendResult::Rejected {
                rejected_index: LogIndex::new(4),
                conflict_term: Some(Term::new(2)),
                conflict_index: LogIndex::new(2)
            },
            round: Round::new(0)
        })
    );
}

#[test]
fn a_leader_commits_a_majority_replicated_entry_of_its_term_and_answers_the_client() {
    // Reference: section 5.3
    let (mut leader, _) = leader_of_term_one(Config::default());
    step(&mut leader, 2, message(2, 1, accepted(1, 1)));
    let proposal = step(&mut leader, 3, write(7));
    assert_eq!(
        proposal.persist,
        vec![Persist::AppendEntry(Entry {
            term: Term::new(1),
            index: LogIndex::new(2),
            command: Command::Write {
                key: "x".into(),
                value: 7
            }
            .into()
        })]
    );
    assert!(
        proposal.replies.is_empty(),
        "not acknowledged before it is committed"
    );
    assert_eq!(leader.commit_index(), 1);
    let ack = step(&mut leader, 4, message(3, 1, accepted(2, 1)));
    assert_eq!(leader.commit_index(), 2);
    assert_eq!(ack.replies.len(), 1);
    assert_eq!(ack.replies[0].result, Ok(Outcome::Written));
    assert_eq!(
        leader.kv().read("x"),
        Some(7),
        "applied to the state machine"
    );
}

#[test]
fn a_leader_never_commits_an_earlier_term_entry_by_counting_replicas() {
    // Reference: section 5.4.2, Figure 8
    let mut node = new_node(1, without_pre_vote(Config::default()));
    // Entries of term 1 and 2 from earlier leaders; nothing committed.
    step(
        &mut node,
        0,
        message(2, 2, append((0, 0), vec![entry(1, 1), entry(2, 2)], 0)),
    );
    step(&mut node, 1, Input::Campaign);
    step(&mut node, 2, message(2, 3, vote(false, true)));
    assert_eq!((node.role(), node.term()), (Role::Leader, 3));
    // Node 3 now holds index 2 as well: a majority, but of term 2.
    step(&mut node, 3, message(3, 3, accepted(2, 1)));
    assert_eq!(
        node.commit_index(),
        0,
        "index 2 is from term 2, not the current term"
    );
    // Once the no-op of term 3 is on a majority, everything before commits.
    step(&mut node, 4, message(3, 3, accepted(3, 1)));
    assert_eq!(node.commit_index(), 3);
}

#[test]
fn a_leader_never_overwrites_or_deletes_its_own_entries() {
    // Reference: section 5.3 (Leader Append-Only)
    let (mut leader, _) = leader_of_term_one(Config::default());
    step(&mut leader, 2, write(1));
    let before = leader.log().entries().to_vec();
    // A (forged) append of its own term from a peer is dropped, not applied.
    let actions = step(
        &mut leader,
        3,
        message(2, 1, append((0, 0), vec![entry(1, 1)], 0)),
    );
    assert_eq!(leader.log().entries(), before.as_slice());
    assert!(actions.persist.is_empty());
    assert!(matches!(
        actions.events[0],
        Event::Dropped {
            reason: DropReason::UnexpectedForRole { role: Role::Leader },
            ..
        }
    ));
}

#[test]
fn duplicated_appends_are_idempotent() {
    // Reference: section 5.5 ("Raft RPCs are idempotent")
    let mut node = new_node(1, Config::default());
    let request = message(2, 1, append((0, 0), vec![entry(1, 1), entry(1, 2)], 1));
    let first = step(&mut node, 0, request.clone());
    let state = node.durable_state();
    let second = step(&mut node, 1, request);
    assert_eq!(node.durable_state(), state);
    assert!(second.persist.is_empty());
    assert_eq!(sent(&first), sent(&second));
}

#[test]
fn a_follower_answers_writes_with_a_leader_hint() {
    // Reference: section 8 ("if the client contacts a follower, the
    // follower will reject its request and supply information about the
    // most recent leader it has heard from")
    let mut node = new_node(1, Config::default());
    step(&mut node, 0, message(2, 1, append((0, 0), vec![], 0)));
    let actions = step(&mut node, 1, write(1));
    assert_eq!(
        actions.replies[0].result,
        Err(ClientError::NotLeader {
            leader_hint: Some(2)
        })
    );
    assert_eq!(node.log().last_index(), LogIndex::ZERO);
}

#[test]
fn a_pre_candidate_does_not_bump_its_term() {
    // Reference: thesis section 9.6
    let mut node = new_node(1, Config::default());
    let actions = step(&mut node, 0, Input::Campaign);
    assert_eq!((node.role(), node.term()), (Role::PreCandidate, 0));
    assert!(
        actions.persist.is_empty(),
        "nothing durable changes in a pre-vote"
    );
    for (_, message) in sent(&actions) {
        assert_eq!(
            message.term,
            Term::new(1),
            "it asks about the term it would campaign in"
        );
        assert!(matches!(
            message.body,
            Body::VoteRequest(VoteRequest { pre_vote: true, .. })
        ));
    }
    step(&mut node, 1, message(2, 1, vote(true, true)));
    assert_eq!(
        (node.role(), node.term()),
        (Role::Candidate, 1),
        "a pre-vote majority starts the real election"
    );
}

/// `node`, a follower in term 1, ignores node 3's pre-vote request for
/// term 2 at `now`: it still trusts its leader.
fn ignores_a_pre_vote_for_term_two_at(node: &mut RaftNode, now: Time) {
    let actions = step_at(node, now, message(3, 2, vote_request(true, 5, 5)));
    assert!(
        actions.messages.is_empty(),
        "a pre-vote answered at {now:?}, while the leader is trusted: {:?}",
        actions.messages
    );
}

#[test]
fn a_node_that_hears_from_a_leader_grants_no_pre_vote_and_keeps_its_term() {
    // Reference: thesis section 9.6 (and 4.2.3 for CheckQuorum's vote
    // stickiness)
    let mut node = new_node(1, Config::default());
    step(&mut node, 0, message(2, 1, append((0, 0), vec![], 0)));
    for (pre_vote, now) in [(true, 10), (false, 20)] {
        let actions = step(&mut node, now, message(3, 2, vote_request(pre_vote, 5, 5)));
        assert!(
            actions.messages.is_empty(),
            "ignored while the leader is alive"
        );
        assert_eq!(node.term(), 1);
    }
    // The promise lasts the minimum election timeout from the leader's last
    // contact (a lease counts on it, thesis 6.4.1): still ignored just
    // before, granted at that instant.
    ignores_a_pre_vote_for_term_two_at(&mut node, Time::from_micros(149_999));
    let actions = step(&mut node, 150, message(3, 2, vote_request(true, 5, 5)));
    assert_eq!(
        sent(&actions)[0].1,
        Message {
            term: Term::new(2),
            body: vote(true, true)
        }
    );
    assert_eq!(node.term(), 1, "granting a pre-vote does not move the term");
}

#[test]
fn a_leader_that_hears_from_no_majority_steps_down() {
    // Reference: thesis section 6.2 (CheckQuorum)
    let config = Config::default();
    let (mut leader, _) = leader_of_term_one(config.clone());
    let mut now = Time::from_millis(1);
    let mut stepped_down_at = None;
    for _ in 0..20 {
        now = leader.next_deadline();
        let mut actions = RaftActions::default();
        leader.step(now, &mut rng(), Input::Tick, &mut actions);
        if leader.role() != Role::Leader {
            stepped_down_at = Some(now);
            break;
        }
    }
    let stepped_down_at = stepped_down_at.expect("a leader without followers steps down");
    assert!(
        stepped_down_at.saturating_since(Time::from_millis(1)) <= config.election_timeout_min * 2
    );
    assert_eq!(leader.term(), 1, "stepping down is not a new term");
    let _ = now;
}

#[test]
fn a_lease_runs_from_the_send_time_of_the_round_a_majority_acknowledged() {
    // Reference: thesis section 6.4.1
    let config = Config::default();
    let (mut leader, _) = leader_of_term_one(config.clone());
    assert!(
        !leader.holds_lease(Time::from_millis(1)),
        "no round acknowledged yet"
    );
    // The no-op round was sent at 1 ms; node 2 acknowledges it at 40 ms.
    step(&mut leader, 40, message(2, 1, accepted(1, 1)));
    let expiry = Time::from_millis(1).saturating_add(config.lease_duration);
    assert!(leader.holds_lease(Time::from_millis(40)));
    assert!(leader.holds_lease(Time::from_micros(expiry.as_micros() - 1)));
    assert!(
        !leader.holds_lease(expiry),
        "measured from the send time, not the acknowledgement"
    );
}

#[test]
fn a_new_leader_serves_no_read_before_committing_in_its_term() {
    // Reference: section 8; thesis section 6.4
    let (mut leader, _) = leader_of_term_one(Config::default());
    let read = Input::Client(ClientRequest {
        id: RequestId {
            client: 1,
            sequence: 1,
        },
        operation: Operation::Read { key: "x".into() },
    });
    let actions = step(&mut leader, 2, read);
    assert!(
        actions.replies.is_empty(),
        "the read waits for the no-op to commit"
    );
    let actions = step(
        &mut leader,
        3,
        message(
            2,
            1,
            Body::HeartbeatResponse(HeartbeatResponse {
                round: Round::new(2),
            }),
        ),
    );
    assert!(
        actions.replies.is_empty(),
        "leadership confirmed, but no entry of term 1 committed"
    );
    let actions = step(&mut leader, 4, message(2, 1, accepted(1, 2)));
    assert_eq!(actions.replies.len(), 1);
    assert_eq!(actions.replies[0].result, Ok(Outcome::Read(None)));
}

#[test]
fn a_transferring_leader_gives_up_its_lease_and_takes_no_operations() {
    // Reference: thesis section 3.10
    let (mut leader, _) = leader_of_term_one(Config::default());
    step(&mut leader, 2, message(2, 1, accepted(1, 1)));
    assert!(leader.holds_lease(Time::from_millis(3)));
    let actions = step(&mut leader, 3, Input::TransferLeadership { to: 2 });
    assert!(!leader.holds_lease(Time::from_millis(3)));
    assert_eq!(
        sent(&actions),
        vec![(
            2,
            Message {
                term: Term::new(1),
                body: Body::TimeoutNow
            }
        )],
        "2 is caught up"
    );
    let actions = step(&mut leader, 4, write(9));
    assert_eq!(
        actions.replies[0].result,
        Err(ClientError::TransferInProgress)
    );
}

/// Whether `actions` send TimeoutNow, and to whom.
fn timeout_now_to(actions: &RaftActions) -> Vec<NodeId> {
    sent(actions)
        .into_iter()
        .filter(|(_, message)| message.body == Body::TimeoutNow)
        .map(|(to, _)| to)
        .collect()
}

/// Whether the leader takes a client write (a transfer refuses them).
fn takes_writes(leader: &mut RaftNode, now: u64) -> bool {
    let actions = step(leader, now, write(now));
    !actions
        .replies
        .iter()
        .any(|reply| reply.result == Err(ClientError::TransferInProgress))
}

#[test]
fn a_transfer_sends_timeout_now_once_and_only_when_the_targets_log_matches() {
    // Reference: thesis section 3.10: a target with a shorter log would
    // lose the election TimeoutNow starts, and the cluster would be
    // without a leader for nothing.
    let (mut leader, _) = leader_of_term_one(plain_voter());
    let actions = step(&mut leader, 2, Input::TransferLeadership { to: 2 });
    assert!(timeout_now_to(&actions).is_empty(), "2 lacks entry 1");
    let actions = step(&mut leader, 3, message(3, 1, accepted(1, 1)));
    assert!(
        timeout_now_to(&actions).is_empty(),
        "3 is caught up, but not the target"
    );
    let actions = step(&mut leader, 4, message(2, 1, accepted(1, 1)));
    assert_eq!(timeout_now_to(&actions), vec![2], "2 has caught up");
    let actions = step(&mut leader, 5, message(2, 1, accepted(1, 1)));
    assert!(timeout_now_to(&actions).is_empty(), "TimeoutNow goes once");
}

#[test]
fn a_transfer_not_done_within_an_election_timeout_is_abandoned() {
    // Reference: thesis section 3.10 ("if the transfer does not complete
    // within an election timeout, the prior leader aborts the transfer
    // and resumes accepting client requests")
    let (mut leader, _) = leader_of_term_one(plain_voter());
    step(&mut leader, 2, Input::TransferLeadership { to: 2 });
    assert!(!takes_writes(&mut leader, 3));
    // Asked again for the same target: the transfer keeps its deadline.
    step(&mut leader, 100, Input::TransferLeadership { to: 2 });
    step(&mut leader, 151, Input::Tick);
    assert!(!takes_writes(&mut leader, 151), "1 ms before the deadline");
    step(&mut leader, 152, Input::Tick);
    assert!(takes_writes(&mut leader, 152), "abandoned at its deadline");
    assert_eq!(leader.role(), Role::Leader);
}

#[test]
fn a_transfer_to_another_target_replaces_the_one_under_way() {
    // Reference: thesis section 3.10
    let (mut leader, _) = leader_of_term_one(plain_voter());
    step(&mut leader, 2, message(3, 1, accepted(1, 1)));
    let actions = step(&mut leader, 3, Input::TransferLeadership { to: 2 });
    assert!(timeout_now_to(&actions).is_empty(), "2 lacks entry 1");
    let actions = step(&mut leader, 4, Input::TransferLeadership { to: 3 });
    assert_eq!(timeout_now_to(&actions), vec![3], "3 is caught up");
}

#[test]
fn bad_input_is_dropped_with_a_reason_and_changes_nothing() {
    let mut node = new_node(1, Config::default());
    step(&mut node, 0, message(2, 1, append((0, 0), vec![], 0)));
    let before = node.clone();
    let actions = step(
        &mut node,
        0,
        message(9, 1, append((0, 0), vec![entry(1, 1)], 1)),
    );
    assert_eq!(
        actions.events,
        vec![Event::Dropped {
            from: Some(9),
            reason: DropReason::UnknownSender
        }]
    );
    // Entries whose indexes do not follow the previous entry.
    let actions = step(
        &mut node,
        0,
        message(2, 1, append((0, 0), vec![entry(1, 2)], 1)),
    );
    assert!(actions.events.iter().any(|event| matches!(
        event,
        Event::Dropped {
            reason: DropReason::IndexOutOfRange { index: 2 },
            ..
        }
    )));
    assert!(actions.persist.is_empty());
    assert_eq!(node.log(), before.log());
    // An acknowledgement beyond the leader's log.
    let (mut leader, _) = leader_of_term_one(Config::default());
    let actions = step(&mut leader, 2, message(2, 1, accepted(99, 1)));
    assert!(actions.events.iter().any(|event| matches!(
        event,
        Event::Dropped {
            reason: DropReason::IndexOutOfRange { index: 99 },
            ..
        }
    )));
    assert_eq!(
        leader.progress_of(2),
        Some((LogIndex::ZERO, LogIndex::new(1))),
        "progress unchanged"
    );
}

/// Each message of `cases`, from `from` to `node` at `now_ms`, is dropped
/// as unexpected for the node's role, sends and persists nothing and leaves
/// the node as it was.
fn each_is_unexpected_for(node: &mut RaftNode, now_ms: u64, from: NodeId, cases: Vec<Body>) {
    let role = node.role();
    for body in cases {
        let before = node.clone();
        let actions = step(node, now_ms, message(from, node.term(), body.clone()));
        assert_eq!(
            actions.dropped(),
            vec![DropReason::UnexpectedForRole { role }],
            "{body:?} to a {role}"
        );
        assert!(actions.messages.is_empty(), "{:?}", actions.messages);
        assert!(actions.persist.is_empty());
        assert_eq!(*node, before, "a dropped message changes nothing");
    }
}

/// The answers a leader waits for, which no other role does.
fn leaders_answers() -> Vec<Body> {
    vec![
        accepted(0, 1),
        Body::HeartbeatResponse(HeartbeatResponse {
            round: Round::new(1),
        }),
        Body::InstallSnapshotResponse(InstallSnapshotResponse {
            index: LogIndex::new(1),
            received: 0,
            round: Round::new(1),
        }),
    ]
}

#[test]
fn a_message_no_role_waits_for_is_dropped_as_unexpected_for_that_role() {
    // A follower of 2 in term 1 waits for no answer, no vote, and no
    // TimeoutNow but its leader's.
    let mut follower = new_node(1, Config::default());
    step(&mut follower, 0, message(2, 1, append((0, 0), vec![], 0)));
    let mut cases = leaders_answers();
    cases.extend([vote(false, true), Body::TimeoutNow]);
    each_is_unexpected_for(&mut follower, 0, 3, cases);
    // A candidate counts votes of its round; a leader's answers and
    // TimeoutNow are not for it, nor is a pre-vote answer once it campaigns.
    let mut candidate = candidate_of_term_one(Config::default());
    let mut cases = leaders_answers();
    cases.extend([vote(true, true), Body::TimeoutNow]);
    each_is_unexpected_for(&mut candidate, 0, 2, cases);
}

#[test]
fn a_nodes_clock_never_runs_backwards_with_its_callers() {
    // Reference: thesis section 6.4.1 (a lease counts on each voter's
    // promise to grant no vote for the minimum election timeout after it
    // last heard the leader).
    let mut node = new_node(1, Config::default());
    step(&mut node, 1_000, message(2, 1, append((0, 0), vec![], 0)));
    // The caller's clock steps back a second; the leader's heartbeat comes
    // "at 0", but the node has already seen 1000 and acts then.
    let heartbeat = Body::Heartbeat(Heartbeat {
        leader_commit: LogIndex::ZERO,
        round: Round::new(1),
    });
    step(&mut node, 0, message(2, 1, heartbeat));
    // So its promise runs from 1000 (at least), not from 0: a pre-vote just
    // before its end is still ignored.
    ignores_a_pre_vote_for_term_two_at(&mut node, Time::from_micros(1_149_999));
    assert_eq!(node.role(), Role::Follower);
}

#[test]
fn clusters_of_one_to_nine_nodes_elect_a_leader_and_commit() {
    // Reference: section 5.2 (majority quorums of any cluster size)
    for size in 1..=9 {
        let mut cluster = Cluster::new(size, Config::default(), size).unwrap();
        cluster.run_for(Duration::from_secs(2));
        let leader = cluster
            .leader()
            .unwrap_or_else(|| panic!("{size} nodes: no leader"));
        let request = cluster.write(leader, "x", size);
        cluster.run_for(Duration::from_millis(100));
        let reply = cluster.reply_to(request).expect("answered");
        assert_eq!(reply.result, Ok(Outcome::Written), "{size} nodes");
        assert!(cluster.violations().is_empty());
    }
}

#[test]
fn unsafe_configurations_are_refused_at_construction() {
    let lease_too_long = Config {
        lease_duration: Duration::from_millis(101),
        ..Config::default()
    };
    let result = RaftNode::new(1, &MEMBERS, lease_too_long, Time::ZERO, &mut rng());
    assert!(matches!(
        result,
        Err(ConfigError::LeaseOutlivesElectionTimeout { .. })
    ));
    let result = RaftNode::new(
        1,
        &(1..=10).collect::<Vec<_>>(),
        Config::default(),
        Time::ZERO,
        &mut rng(),
    );
    assert!(matches!(
        result,
        Err(ConfigError::Membership(MembershipError::MemberCount {
            count: 10
        }))
    ));
    let corrupt = DurableState {
        hard_state: HardState {
            term: Term::new(1),
            voted_for: None,
        },
        snapshot: None,
        log: vec![entry(1, 2)],
    };
    let result = RaftNode::restart(
        1,
        &MEMBERS,
        Config::default(),
        corrupt,
        Time::ZERO,
        &mut rng(),
    );
    assert!(matches!(
        result,
        Err(ConfigError::InconsistentDurableState { .. })
    ));
}
