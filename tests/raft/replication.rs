//! Log replication (paper §5.3) on a node stepped directly, from the sides
//! `paper` leaves to them: the leader's use of a rejection's hint (the
//! optimisation at the end of §5.3), and the follower's refusal of an
//! append whose entries break the log's shape before anything changes.

use electorate::core::node::{DropReason, Event, Input, Node, Role};
use electorate::core::raft::{
    AppendResponse, AppendResult, Body, Config, HeartbeatResponse, LogIndex, RaftActions, RaftNode,
    Round, Term,
};

use crate::fixtures::*;
use crate::support::{sent, step};

/// Node 1 as leader of the term after the last of `terms`, its log holding
/// one entry of each of `terms` (from the leader of that last term) and its
/// own no-op after them. Its peers are still to be probed.
fn leader_with_log_of_terms(terms: &[u64]) -> RaftNode {
    let last_term = *terms.last().expect("at least one entry");
    let entries = terms
        .iter()
        .enumerate()
        .map(|(position, &term)| entry(term, position as u64 + 1))
        .collect();
    let mut node = new_node(1, plain_voter());
    step(
        &mut node,
        0,
        message(2, last_term, append((0, 0), entries, 0)),
    );
    step(&mut node, 1, Input::Campaign);
    step(&mut node, 2, message(3, last_term + 1, vote(false, true)));
    assert_eq!(node.role(), Role::Leader);
    node
}

fn rejected(rejected_index: u64, conflict_term: Option<u64>, conflict_index: u64) -> Body {
    Body::AppendResponse(AppendResponse {
        result: AppendResult::Rejected {
            rejected_index: LogIndex::new(rejected_index),
            conflict_term: conflict_term.map(Term::new),
            conflict_index: LogIndex::new(conflict_index),
        },
        round: Round::new(1),
    })
}

/// The bodies of the messages the step sent to `peer`, in order.
fn bodies_to(actions: &RaftActions, peer: u64) -> Vec<Body> {
    sent(actions)
        .into_iter()
        .filter(|(to, _)| *to == peer)
        .map(|(_, message)| message.body)
        .collect()
}

/// The `prev_log_index` of every append the step sent to `peer`.
fn appends_to(actions: &RaftActions, peer: u64) -> Vec<LogIndex> {
    bodies_to(actions, peer)
        .into_iter()
        .filter_map(|body| match body {
            Body::Append(append) => Some(append.prev_log_index),
            _ => None,
        })
        .collect()
}

#[test]
fn a_rejection_moves_the_leader_past_the_followers_whole_conflicting_term_at_once() {
    // Reference: section 5.3 ("the leader can decrement nextIndex to bypass
    // all of the conflicting entries in that term; one AppendEntries RPC
    // will be required for each term with conflicting entries").
    // The leader's log: terms 1 1 3 3, then its no-op of term 4 at 5.
    let terms = [1, 1, 3, 3];
    let cases = [
        // (the follower's conflict term, its conflict index, the leader's next)
        // A follower whose log ends at 1: everything from 2 goes.
        (None, 2, 2),
        // A follower in term 2 from 3 on, a term the leader lacks: skip it.
        (Some(2), 3, 3),
        // A follower in term 1 from 1 on: the leader holds term 1 through 2,
        // so it resumes after its own last entry of that term.
        (Some(1), 1, 3),
        // A hint beyond the rejected append counts for no more than the
        // rejection itself: the leader backs off at least one entry.
        (None, 9, 4),
    ];
    for (conflict_term, conflict_index, expected_next) in cases {
        let mut leader = leader_with_log_of_terms(&terms);
        let (matched, next) = leader.progress_of(2).expect("a peer");
        assert_eq!((matched, next), (LogIndex::ZERO, LogIndex::new(5)));
        let probe = next.prev().get();
        let actions = step(
            &mut leader,
            3,
            message(2, 4, rejected(probe, conflict_term, conflict_index)),
        );
        let expected = LogIndex::new(expected_next);
        assert_eq!(
            leader.progress_of(2),
            Some((LogIndex::ZERO, expected)),
            "hint {conflict_term:?} at {conflict_index}"
        );
        assert_eq!(
            appends_to(&actions, 2),
            vec![expected.prev()],
            "the leader probes again at once, from the hinted index"
        );
    }
}

#[test]
fn a_rejection_of_an_append_no_longer_awaited_moves_nothing() {
    // Reference: section 5.3 (nextIndex moves back only on the rejection of
    // the append in flight; a delayed or duplicated one must not undo what
    // was learned since).
    let mut leader = leader_with_log_of_terms(&[1, 1, 3, 3]);
    // The probe in flight is at 4: a rejection of an earlier probe (at 2,
    // before the leader's log grew past it) is not its answer.
    step(&mut leader, 3, message(2, 4, rejected(2, None, 1)));
    let probing_at_five = Some((LogIndex::ZERO, LogIndex::new(5)));
    assert_eq!(leader.progress_of(2), probing_at_five, "not the probe");
    step(&mut leader, 3, message(2, 4, rejected(4, None, 2)));
    let probing_at_two = leader.progress_of(2);
    assert_eq!(probing_at_two, Some((LogIndex::ZERO, LogIndex::new(2))));
    // The first rejection again, duplicated: it rejects an append after the
    // one now in flight.
    step(&mut leader, 4, message(2, 4, rejected(4, None, 2)));
    assert_eq!(leader.progress_of(2), probing_at_two, "a stale rejection");
    // The follower now matches through 3 and says so; a rejection of
    // anything at or before what it matched is stale too.
    step(&mut leader, 5, message(2, 4, accepted(3, 1)));
    let matched_three = leader.progress_of(2).expect("a peer");
    assert_eq!(matched_three.0, LogIndex::new(3));
    // Replicating now, the leader has sent everything after 3: a rejection
    // at or after its `next` rejects nothing it sent.
    let next = matched_three.1.get();
    for stale in [1, 3, next, next + 1] {
        step(&mut leader, 6, message(2, 4, rejected(stale, None, 1)));
        assert_eq!(leader.progress_of(2), Some(matched_three), "at {stale}");
    }
}

/// Node 1 following node 2 in term 3, its log 1:t1 2:t2 committed and
/// 3:t2 not.
fn follower_with_a_committed_prefix() -> RaftNode {
    let mut node = new_node(1, Config::default());
    step(
        &mut node,
        0,
        message(
            2,
            3,
            append((0, 0), vec![entry(1, 1), entry(2, 2), entry(2, 3)], 2),
        ),
    );
    assert_eq!(node.commit_index(), 2);
    node
}

#[test]
fn an_append_whose_entries_break_the_logs_shape_is_dropped_whole() {
    // Reference: section 5.3 (Log Matching: entries follow the previous
    // entry contiguously, their terms never decrease, none is later than the
    // leader's term) and 5.4 (a committed entry is never replaced). A bad
    // message is dropped before anything changes: no entry of it is kept.
    let malformed = [
        // (previous entry, entries, the index reported)
        (
            "a gap after the previous entry",
            (2, 2),
            vec![entry(3, 4)],
            4,
        ),
        (
            "terms that decrease",
            (2, 2),
            vec![entry(3, 3), entry(2, 4)],
            4,
        ),
        (
            "a term before the previous entry's",
            (2, 2),
            vec![entry(1, 3)],
            3,
        ),
        (
            "a term later than the leader's",
            (2, 2),
            vec![entry(4, 3)],
            3,
        ),
        (
            "a committed entry replaced",
            (0, 0),
            vec![entry(1, 1), entry(3, 2)],
            2,
        ),
    ];
    for (what, prev, entries, index) in malformed {
        let mut node = follower_with_a_committed_prefix();
        let before = node.clone();
        let actions = step(&mut node, 1, message(2, 3, append(prev, entries, 2)));
        assert_eq!(
            actions.events,
            vec![Event::Dropped {
                from: Some(2),
                reason: DropReason::IndexOutOfRange { index }
            }],
            "{what}"
        );
        assert!(actions.persist.is_empty(), "{what}: nothing persisted");
        assert!(sent(&actions).is_empty(), "{what}: nothing answered");
        assert_eq!(node.log(), before.log(), "{what}: the log is untouched");
        assert_eq!(node.commit_index(), 2, "{what}");
    }
}

#[test]
fn an_append_of_well_formed_entries_is_accepted_whatever_it_repeats_or_replaces() {
    // Reference: section 5.3 (what the follower keeps: entries of the
    // leader's term or earlier, repeating committed ones, replacing
    // uncommitted conflicting ones).
    let accepted_cases = [
        // (what, previous entry, entries, the log's terms after)
        (
            "entries of the leader's term",
            (2, 2),
            vec![entry(3, 3), entry(3, 4)],
            vec![1, 2, 3, 3],
        ),
        (
            "an entry of the previous entry's term",
            (2, 2),
            vec![entry(2, 3), entry(2, 4)],
            vec![1, 2, 2, 2],
        ),
        (
            "the committed entries repeated",
            (0, 0),
            vec![entry(1, 1), entry(2, 2)],
            vec![1, 2, 2],
        ),
        (
            "an uncommitted entry replaced",
            (2, 2),
            vec![entry(3, 3)],
            vec![1, 2, 3],
        ),
    ];
    for (what, prev, entries, terms) in accepted_cases {
        let mut node = follower_with_a_committed_prefix();
        let actions = step(&mut node, 1, message(2, 3, append(prev, entries, 2)));
        let answers: Vec<_> = sent(&actions)
            .into_iter()
            .map(|(to, message)| (to, message.body))
            .collect();
        assert!(
            matches!(
                answers.as_slice(),
                [(
                    2,
                    Body::AppendResponse(AppendResponse {
                        result: AppendResult::Accepted { .. },
                        ..
                    })
                )]
            ),
            "{what}: {answers:?}"
        );
        let log_terms: Vec<u64> = node.log().entries().iter().map(|e| e.term.get()).collect();
        assert_eq!(log_terms, terms, "{what}");
    }
}

#[test]
fn a_follower_whose_next_entry_was_compacted_gets_the_snapshot_at_a_heartbeat_even_with_its_window_full(
) {
    // Reference: section 7 ("the leader must occasionally send snapshots to
    // followers that lag behind": when the entry a follower needs next was
    // discarded, the snapshot goes instead, whatever appends are in flight).
    let config = Config {
        max_inflight_appends: 1,
        ..Config::default()
    };
    let (mut leader, _) = leader_of_term_one(config);
    step(&mut leader, 2, message(2, 1, accepted(1, 1)));
    step(&mut leader, 2, message(3, 1, accepted(1, 1)));
    // Write 1 (index 2) goes to both followers; write 2 (index 3) only to
    // node 2, because node 3's one append in flight fills its window.
    step(&mut leader, 3, write(1));
    step(&mut leader, 4, message(2, 1, accepted(2, 1)));
    step(&mut leader, 5, write(2));
    step(&mut leader, 6, message(2, 1, accepted(3, 1)));
    assert_eq!(leader.commit_index(), 3);
    step(&mut leader, 7, Input::Snapshot);
    assert_eq!(leader.log().base_index(), LogIndex::new(3));
    // Node 3 needs index 3 next, and index 3 is compacted.
    assert_eq!(
        leader.progress_of(3),
        Some((LogIndex::new(1), LogIndex::new(3)))
    );
    let heartbeat_response = Body::HeartbeatResponse(HeartbeatResponse {
        round: Round::new(1),
    });
    let actions = step(&mut leader, 8, message(3, 1, heartbeat_response));
    let to_three = bodies_to(&actions, 3);
    assert!(
        matches!(to_three.as_slice(), [Body::InstallSnapshot(_)]),
        "the snapshot goes to node 3: {to_three:?}"
    );
}

#[test]
fn a_follower_lagging_at_a_heartbeat_is_sent_the_entries_it_lacks_when_its_window_has_room() {
    // Reference: section 5.3 ("if followers crash or run slowly, or if
    // network packets are lost, the leader retries AppendEntries
    // indefinitely ... until all followers eventually store all log
    // entries"): a heartbeat response from a lagging follower is a chance
    // to send what it lacks, not only to probe.
    let config = Config {
        max_inflight_appends: 2,
        max_entries_per_append: 1,
        ..Config::default()
    };
    let (mut leader, _) = leader_of_term_one(config);
    step(&mut leader, 2, message(2, 1, accepted(1, 1)));
    step(&mut leader, 2, message(3, 1, accepted(1, 1)));
    // Indexes 2 and 3 fill node 3's window; 4 and 5 wait.
    for value in 1..=4 {
        step(&mut leader, 3, write(value));
    }
    // One acknowledgement of both appends in flight frees the window; the
    // response sends one append (index 4), so the window has room again
    // while index 5 still waits.
    let actions = step(&mut leader, 4, message(3, 1, accepted(3, 1)));
    assert_eq!(appends_to(&actions, 3), vec![LogIndex::new(3)]);
    assert_eq!(
        leader.progress_of(3),
        Some((LogIndex::new(3), LogIndex::new(5)))
    );
    let heartbeat_response = Body::HeartbeatResponse(HeartbeatResponse {
        round: Round::new(1),
    });
    let actions = step(&mut leader, 5, message(3, 1, heartbeat_response));
    let entries_to_three: Vec<Vec<LogIndex>> = bodies_to(&actions, 3)
        .into_iter()
        .filter_map(|body| match body {
            Body::Append(append) => Some(append.entries.iter().map(|e| e.index).collect()),
            _ => None,
        })
        .collect();
    assert_eq!(entries_to_three, vec![vec![LogIndex::new(5)]]);
}

/// The end of §5.3: "when rejecting an AppendEntries request, the follower
/// can include the term of the conflicting entry and the first index it
/// stores for that term". The follower's log here holds terms 1 1 2 2 2
/// with entry 1 committed; a leader of term 4 probes it where the term-2
/// run sits, where the term-1 run reaches into the committed prefix, and
/// past its end.
#[test]
fn a_rejection_names_the_conflicting_term_and_the_first_index_the_follower_holds_of_it() {
    let entries: Vec<_> = [1, 1, 2, 2, 2]
        .iter()
        .zip(1..)
        .map(|(&term, index)| entry(term, index))
        .collect();
    let cases = [
        // (the probe's previous entry as (term, index), the rejection:
        // the index, the conflicting term, the first index of it)
        ((3, 5), (5, Some(2), 3)),
        ((3, 4), (4, Some(2), 3)),
        // The term-1 run starts at 1, but 1 is committed: it matches any
        // leader, so the hint starts after it.
        ((3, 2), (2, Some(1), 2)),
        ((3, 7), (7, None, 6)),
    ];
    for ((prev_term, prev_index), (rejected_index, conflict_term, conflict_index)) in cases {
        let mut follower = new_node(2, plain_voter());
        step(
            &mut follower,
            0,
            message(1, 2, append((0, 0), entries.clone(), 1)),
        );
        assert_eq!(follower.commit_index(), 1);
        let actions = step(
            &mut follower,
            1,
            message(3, 4, append((prev_term, prev_index), Vec::new(), 1)),
        );
        let expected = Body::AppendResponse(AppendResponse {
            result: AppendResult::Rejected {
                rejected_index: LogIndex::new(rejected_index),
                conflict_term: conflict_term.map(Term::new),
                conflict_index: LogIndex::new(conflict_index),
            },
            round: Round::ZERO,
        });
        assert_eq!(
            bodies_to(&actions, 3),
            vec![expected],
            "probe after {prev_term}/{prev_index}"
        );
    }
}
