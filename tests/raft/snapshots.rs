//! Snapshots and log compaction (paper §7): a node stepped directly shows
//! the follower's three rules (a snapshot its commit index covers is
//! ignored and answered; one overlapping its log with a matching term keeps
//! the suffix; any other replaces the log) and chunked transfer; the
//! simulator's cluster, under its safety monitors, shows a lagging follower
//! caught up by a snapshot and a node restarted from one.

use std::sync::Arc;
use std::time::Duration;

use electorate::check::properties::Property;
use electorate::core::client::Value;
use electorate::core::kv::KvStore;
use electorate::core::node::{Event, Input};
use electorate::core::raft::{
    Append, AppendResponse, AppendResult, Body, Command, Config, Entry, InstallSnapshot,
    InstallSnapshotResponse, LogIndex, Message, Persist, RaftActions, RaftNode, Round, Snapshot,
    Term,
};
use electorate::core::time::Time;
use electorate::sim::cluster::{Cluster, Envelope, Trace};

use crate::support::{count_sent, rng, sent, step};

fn write_entry(term: u64, index: u64) -> Entry {
    Entry {
        term: Term::new(term),
        index: LogIndex::new(index),
        command: Arc::new(Command::Write {
            key: format!("k{index}"),
            value: index,
        }),
    }
}

fn from_leader(term: u64, body: Body) -> Input<Message> {
    Input::Message {
        from: 1,
        message: Message {
            term: Term::new(term),
            body,
        },
    }
}

/// Follower 2 of three holding `terms.len()` entries (entry `i` of term
/// `terms[i - 1]`) from leader 1 of term `leader_term`, `commit` of them
/// committed.
fn follower(leader_term: u64, terms: &[u64], commit: u64) -> RaftNode {
    follower_with(Config::default(), leader_term, terms, commit)
}

/// [`follower`], configured with `config`.
fn follower_with(config: Config, leader_term: u64, terms: &[u64], commit: u64) -> RaftNode {
    let mut node = RaftNode::new(2, &[1, 2, 3], config, Time::ZERO, &mut rng()).unwrap();
    let entries = (1..=terms.len() as u64)
        .map(|index| write_entry(terms[index as usize - 1], index))
        .collect();
    let append = Append {
        prev_log_index: LogIndex::ZERO,
        prev_log_term: Term::ZERO,
        entries,
        leader_commit: LogIndex::new(commit),
        round: Round::new(1),
    };
    step(
        &mut node,
        10,
        from_leader(leader_term, Body::Append(append)),
    );
    assert_eq!(node.log().last_index(), LogIndex::from_count(terms.len()));
    assert_eq!(node.committed(), LogIndex::new(commit));
    node
}

/// The state after applying writes `k1=1 .. k{index}=index`.
fn state_through(index: u64) -> KvStore {
    let mut kv = KvStore::default();
    for written in 1..=index {
        kv.write(&format!("k{written}"), written);
    }
    kv
}

/// The whole snapshot through `index` (of `term`) in one chunk.
fn install(index: u64, term: u64) -> Body {
    let pairs: Vec<(String, Value)> = state_through(index)
        .iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect();
    Body::InstallSnapshot(InstallSnapshot {
        index: LogIndex::new(index),
        snapshot_term: Term::new(term),
        members: vec![1, 2, 3],
        offset: 0,
        pairs,
        done: true,
        round: Round::new(2),
    })
}

fn accepted(actions: &RaftActions) -> Vec<LogIndex> {
    sent(actions)
        .into_iter()
        .filter_map(|(_, message)| match message.body {
            Body::AppendResponse(AppendResponse {
                result: AppendResult::Accepted { match_index },
                ..
            }) => Some(match_index),
            _ => None,
        })
        .collect()
}

fn snapshot_records(actions: &RaftActions) -> Vec<Arc<Snapshot>> {
    actions
        .persist
        .iter()
        .filter_map(|record| match record {
            Persist::Snapshot(snapshot) => Some(Arc::clone(snapshot)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_snapshot_the_commit_index_covers_is_ignored_and_answered() {
    let mut node = follower(1, &[1, 1, 1, 1, 1], 4);
    let before = node.clone();
    let actions = step(&mut node, 20, from_leader(1, install(3, 1)));
    assert_eq!(
        accepted(&actions),
        [LogIndex::new(4)],
        "answered with the commit"
    );
    assert!(actions.persist.is_empty(), "nothing persisted");
    assert_eq!(node.log(), before.log(), "the log is untouched");
    assert_eq!(node.kv(), before.kv());
    assert!(node.snapshot().is_none());
}

#[test]
fn a_snapshot_overlapping_the_log_with_its_term_keeps_the_suffix() {
    let mut node = follower(1, &[1, 1, 1, 1, 1], 2);
    let actions = step(&mut node, 20, from_leader(1, install(3, 1)));
    assert_eq!(accepted(&actions), [LogIndex::new(3)]);
    let records = snapshot_records(&actions);
    assert_eq!(records.len(), 1, "the snapshot is made durable");
    assert_eq!(records[0].kv, state_through(3));
    let log = node.log();
    assert_eq!(log.base_index(), LogIndex::new(3));
    assert_eq!(log.entries(), &[write_entry(1, 4), write_entry(1, 5)]);
    assert_eq!(node.committed(), LogIndex::new(3));
    assert_eq!(node.kv(), &state_through(3));
    // The durable state a restart starts from is the same node.
    let mut durable = electorate::core::raft::DurableState::default();
    let mut all = follower_records(1, &[1, 1, 1, 1, 1], 2);
    all.extend(actions.persist);
    durable.apply_all(&all);
    assert_eq!(durable, node.durable_state());
}

/// Every record that building [`follower`] persisted.
fn follower_records(leader_term: u64, terms: &[u64], commit: u64) -> Vec<Persist> {
    let node = follower(leader_term, terms, commit);
    let durable = node.durable_state();
    let mut records = vec![Persist::HardState(durable.hard_state)];
    records.extend(durable.log.into_iter().map(Persist::AppendEntry));
    records
}

#[test]
fn a_snapshot_conflicting_with_the_log_replaces_it() {
    // The entry at 4 has term 1; the snapshot through 4 is of term 2 (a
    // leader of term 2 overwrote it). And a log too short to overlap.
    for (terms, index) in [(&[1u64, 1, 1, 1, 1][..], 4), (&[1, 1][..], 4)] {
        let mut node = follower(2, terms, 1);
        let actions = step(&mut node, 20, from_leader(2, install(index, 2)));
        assert_eq!(accepted(&actions), [LogIndex::new(index)]);
        let log = node.log();
        assert_eq!(log.base_index(), LogIndex::new(index));
        assert_eq!(log.base_term(), Term::new(2));
        assert!(log.entries().is_empty(), "the conflicting log is gone");
        assert_eq!(node.kv(), &state_through(index));
        assert_eq!(node.committed(), LogIndex::new(index));
        node.invariants();
    }
}

fn append(prev: (u64, u64), entries: Vec<Entry>, leader_commit: u64) -> Body {
    Body::Append(Append {
        prev_log_index: LogIndex::new(prev.0),
        prev_log_term: Term::new(prev.1),
        entries,
        leader_commit: LogIndex::new(leader_commit),
        round: Round::new(3),
    })
}

/// The planted bug's case (`install_older_snapshot`): a follower that
/// installed a snapshot and then committed entries after it gets the same
/// snapshot again (a resend delivered late). It must keep its commit index
/// and its state machine, and answer with what it holds.
#[test]
fn a_stale_resend_of_an_installed_snapshot_changes_nothing() {
    let mut node = follower_with(Config::default(), 1, &[1, 1], 1);
    step(&mut node, 20, from_leader(1, install(4, 1)));
    assert_eq!(node.committed(), LogIndex::new(4));
    let entries = vec![write_entry(1, 5), write_entry(1, 6)];
    step(&mut node, 21, from_leader(1, append((4, 1), entries, 6)));
    assert_eq!(node.committed(), LogIndex::new(6));
    let actions = step(&mut node, 22, from_leader(1, install(4, 1)));
    assert_eq!(
        accepted(&actions),
        [LogIndex::new(6)],
        "answered with the commit"
    );
    assert!(actions.persist.is_empty(), "nothing persisted");
    assert_eq!(
        node.committed(),
        LogIndex::new(6),
        "the commit index went back"
    );
    assert_eq!(
        node.kv(),
        &state_through(6),
        "applied entries were forgotten"
    );
    assert_eq!(node.log().last_index(), LogIndex::new(6));
}

/// The entry at a follower's snapshot index still has a known term: an
/// append that contradicts it (only a broken leader sends one) is dropped,
/// not taken over the snapshot.
#[test]
fn an_append_contradicting_the_snapshots_entry_is_dropped() {
    let mut node = follower(1, &[1, 1], 1);
    step(&mut node, 20, from_leader(1, install(4, 1)));
    let before = node.clone();
    let contradicting = vec![
        Entry {
            term: Term::new(2),
            ..write_entry(2, 4)
        },
        write_entry(2, 5),
    ];
    let actions = step(
        &mut node,
        21,
        from_leader(2, append((3, 1), contradicting, 5)),
    );
    assert!(!actions.dropped().is_empty(), "dropped with a reason");
    assert!(accepted(&actions).is_empty());
    assert_eq!(node.log(), before.log(), "the log is untouched");
    assert_eq!(node.committed(), LogIndex::new(4));
}

#[test]
fn a_snapshot_travels_in_chunks_and_a_chunk_out_of_order_is_answered_with_the_offset() {
    let mut node = follower(1, &[1], 1);
    let before_install = node.clone();
    let Body::InstallSnapshot(whole) = install(6, 1) else {
        unreachable!()
    };
    let chunk = |offset: usize, done: bool| {
        Body::InstallSnapshot(InstallSnapshot {
            offset: offset as u64,
            pairs: whole.pairs[offset..(offset + 2).min(6)].to_vec(),
            done,
            ..whole.clone()
        })
    };
    let progress = |actions: &RaftActions| -> Vec<u64> {
        sent(actions)
            .into_iter()
            .filter_map(|(_, message)| match message.body {
                Body::InstallSnapshotResponse(InstallSnapshotResponse { received, .. }) => {
                    Some(received)
                }
                _ => None,
            })
            .collect()
    };
    let actions = step(&mut node, 20, from_leader(1, chunk(0, false)));
    assert_eq!(progress(&actions), [2]);
    // The chunk at 4 arrives before the one at 2: the follower says it
    // holds 2 pairs.
    let actions = step(&mut node, 21, from_leader(1, chunk(4, true)));
    assert_eq!(progress(&actions), [2]);
    assert!(node.snapshot().is_none(), "nothing installed out of order");
    // A duplicate of the first chunk changes nothing either (it does not
    // start the transfer over).
    let actions = step(&mut node, 22, from_leader(1, chunk(0, false)));
    assert_eq!(progress(&actions), [2]);
    assert_eq!(node.kv(), before_install.kv(), "nothing installed yet");
    let actions = step(&mut node, 23, from_leader(1, chunk(2, false)));
    assert_eq!(progress(&actions), [4]);
    let actions = step(&mut node, 24, from_leader(1, chunk(4, true)));
    assert_eq!(accepted(&actions), [LogIndex::new(6)]);
    assert_eq!(node.kv(), &state_through(6));
}

#[test]
fn a_chunk_with_keys_out_of_order_or_of_another_membership_is_dropped() {
    let Body::InstallSnapshot(whole) = install(3, 1) else {
        unreachable!()
    };
    let mut reversed = whole.clone();
    reversed.pairs.reverse();
    let mut foreign = whole.clone();
    foreign.members = vec![1, 2, 3, 4];
    for bad in [reversed, foreign] {
        let mut node = follower(1, &[1], 1);
        let before = node.clone();
        let actions = step(&mut node, 20, from_leader(1, Body::InstallSnapshot(bad)));
        assert!(
            actions
                .events
                .iter()
                .any(|event| matches!(event, Event::Dropped { .. })),
            "dropped with a reason"
        );
        assert!(actions.persist.is_empty() && sent(&actions).is_empty());
        assert_eq!(node.log(), before.log());
        assert_eq!(node.kv(), before.kv());
    }
}

fn snapshot_config() -> Config {
    Config {
        snapshot_every: 5,
        // Chunks of two pairs: a snapshot of nine keys takes five.
        max_entries_per_append: 2,
        ..Config::default()
    }
}

fn elected(seed: u64) -> Cluster {
    let mut cluster = Cluster::new(3, snapshot_config(), seed).unwrap();
    cluster.campaign(1);
    cluster.stabilize(100);
    assert_eq!(cluster.leader(), Some(1));
    cluster
}

fn write_keys(cluster: &mut Cluster, keys: std::ops::Range<u64>) {
    for key in keys {
        cluster.write(1, &format!("k{key}"), key);
        cluster.run_for(Duration::from_millis(5));
    }
}

/// Snapshot events in the trace: (taken, installed).
fn snapshot_events(cluster: &mut Cluster) -> (usize, usize) {
    let mut counts = (0, 0);
    for (_, line) in cluster.take_trace() {
        if let Trace::Node {
            event: Event::Snapshot { from, .. },
            ..
        } = line
        {
            match from {
                None => counts.0 += 1,
                Some(_) => counts.1 += 1,
            }
        }
    }
    counts
}

#[test]
fn a_follower_that_fell_behind_the_compacted_log_is_caught_up_by_a_snapshot() {
    for seed in 0..3 {
        let mut cluster = elected(seed);
        cluster.isolate(3);
        write_keys(&mut cluster, 0..12);
        let leader = cluster.node(1).unwrap();
        assert!(
            leader.log().base_index() >= LogIndex::new(10),
            "seed {seed}: the leader compacted"
        );
        cluster.take_trace();
        cluster.heal();
        cluster.run_for(Duration::from_millis(500));
        let trace = cluster.take_trace();
        let chunks = count_sent(&trace)
            .get("InstallSnapshot")
            .copied()
            .unwrap_or(0);
        // The snapshot through 10 holds nine keys (the no-op is entry 1).
        assert!(chunks >= 5, "seed {seed}: {chunks} chunks");
        let (leader, behind) = (cluster.node(1).unwrap(), cluster.node(3).unwrap());
        assert!(behind.snapshot().is_some(), "seed {seed}: installed");
        assert_eq!(behind.kv(), leader.kv(), "seed {seed}");
        assert_eq!(behind.committed(), leader.committed(), "seed {seed}");
        assert!(
            cluster.violations().is_empty(),
            "{:?}",
            cluster.violations()
        );
        let (seen, rebuilt) = cluster.monitor().snapshots_checked();
        assert!(
            seen > 0 && rebuilt == seen,
            "seed {seed}: {rebuilt} of {seen} rebuilt"
        );
    }
}

#[test]
fn a_node_restarts_from_its_snapshot_and_the_entries_after_it() {
    let mut cluster = elected(1);
    write_keys(&mut cluster, 0..13);
    let (taken, _) = snapshot_events(&mut cluster);
    assert!(taken >= 6, "every node took two snapshots: {taken}");
    let durable = cluster.durable(2).unwrap().clone();
    let snapshot = durable.snapshot.as_ref().expect("a durable snapshot");
    assert!(snapshot.index >= LogIndex::new(10));
    assert!(durable.log.len() < 5, "the durable log was compacted");
    cluster.crash(2);
    cluster.restart(2);
    let node = cluster.node(2).unwrap();
    assert_eq!(node.committed(), snapshot.index, "starts from the snapshot");
    assert_eq!(node.kv(), &snapshot.kv);
    cluster.run_for(Duration::from_millis(300));
    assert_eq!(cluster.node(2).unwrap().kv(), cluster.node(1).unwrap().kv());
    assert!(
        cluster.violations().is_empty(),
        "{:?}",
        cluster.violations()
    );
}

#[test]
fn an_operator_takes_a_snapshot_now() {
    let mut cluster = Cluster::new(3, Config::default(), 1).unwrap();
    cluster.campaign(1);
    cluster.stabilize(100);
    cluster.write(1, "x", 1);
    cluster.stabilize(100);
    let mut leader = cluster.node(1).unwrap().clone();
    let applied = leader.applied();
    let mut actions = RaftActions::default();
    assert_eq!(leader.take_snapshot(&mut actions), Some(applied));
    let records = snapshot_records(&actions);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].index, applied);
    assert_eq!(leader.log().base_index(), applied);
    assert!(leader.log().entries().is_empty());
    let mut again = RaftActions::default();
    assert_eq!(
        leader.take_snapshot(&mut again),
        None,
        "nothing new applied"
    );
    assert!(again.persist.is_empty());
    // The operator's input does the same through `step`: a snapshot only
    // when something was applied since the last one.
    let mut node = cluster.node(2).unwrap().clone();
    let taken = step(&mut node, 200, Input::Snapshot);
    assert_eq!(snapshot_records(&taken).len(), 1);
    assert_eq!(node.log().base_index(), node.applied());
    assert!(step(&mut node, 201, Input::Snapshot).persist.is_empty());
}

/// `snapshot_bytes`: a snapshot is due once the entries applied since the
/// last one carry that many payload bytes, and not before, however few
/// entries that is.
#[test]
fn a_snapshot_is_taken_once_the_applied_entries_carry_snapshot_bytes() {
    let config = Config {
        // A write of key `kN` (2 bytes) carries 10 payload bytes; the
        // leader's no-op carries none.
        snapshot_bytes: 30,
        ..Config::default()
    };
    let mut cluster = Cluster::new(3, config, 1).unwrap();
    cluster.campaign(1);
    cluster.stabilize(100);
    cluster.take_trace();
    for key in 1..=2 {
        cluster.write(1, &format!("k{key}"), key);
        cluster.stabilize(100);
    }
    assert_eq!(snapshot_events(&mut cluster), (0, 0), "20 bytes applied");
    cluster.write(1, "k3", 3);
    // Followers apply once a heartbeat tells them the commit index.
    cluster.run_for(Duration::from_millis(200));
    assert_eq!(
        snapshot_events(&mut cluster),
        (3, 0),
        "30 bytes applied: every node takes one"
    );
    assert_eq!(
        cluster.node(1).unwrap().log().base_index(),
        LogIndex::new(4)
    );
    // The count starts again from the snapshot.
    cluster.write(1, "k4", 4);
    cluster.run_for(Duration::from_millis(200));
    assert_eq!(snapshot_events(&mut cluster), (0, 0));
    assert!(
        cluster.violations().is_empty(),
        "{:?}",
        cluster.violations()
    );
}

/// Runs `cluster` a millisecond at a time until a message `pick` chooses
/// is in flight, and returns a copy of it.
fn in_flight_when(
    cluster: &mut Cluster,
    pick: impl Fn(&Envelope<Message>) -> bool,
) -> Envelope<Message> {
    for _ in 0..1_000 {
        if let Some(found) = cluster.in_flight().iter().find(|envelope| pick(envelope)) {
            return found.clone();
        }
        cluster.run_for(Duration::from_millis(1));
    }
    panic!("no such message within a second");
}

fn chunk_to_3(envelope: &Envelope<Message>) -> Option<&InstallSnapshot> {
    match &envelope.message.body {
        Body::InstallSnapshot(install) if envelope.to == 3 => Some(install),
        _ => None,
    }
}

/// The review's cluster recipe for the planted bug: node 3 is caught up
/// by a snapshot, commits past it, and gets that snapshot again, delivered
/// late; then the leader crashes. Returns the properties the monitors found
/// broken, and whether every node ended with one state machine.
fn stale_snapshot_resent(install_older_snapshot: bool) -> (Vec<Property>, bool) {
    let mut config = Config {
        // One chunk a snapshot: the late copy is a whole snapshot.
        snapshot_every: 5,
        ..Config::default()
    };
    config.bugs.install_older_snapshot = install_older_snapshot;
    let mut cluster = Cluster::new(3, config, 1).unwrap();
    cluster.campaign(1);
    cluster.stabilize(100);
    cluster.isolate(3);
    write_keys(&mut cluster, 0..12);
    cluster.heal();
    let late = in_flight_when(&mut cluster, |envelope| chunk_to_3(envelope).is_some());
    assert!(chunk_to_3(&late).expect("picked").done, "one chunk");
    cluster.run_for(Duration::from_millis(300));
    cluster.partition(&[vec![1, 3], vec![2]]);
    write_keys(&mut cluster, 12..16);
    assert!(
        cluster.node(3).unwrap().committed() > chunk_to_3(&late).unwrap().index,
        "node 3 committed past the snapshot"
    );
    cluster.step(
        3,
        Input::Message {
            from: late.from,
            message: late.message,
        },
    );
    cluster.crash(1);
    cluster.heal();
    cluster.run_for(Duration::from_secs(1));
    cluster.restart(1);
    cluster.run_for(Duration::from_secs(1));
    let kvs: Vec<&KvStore> = (1..=3).map(|id| cluster.node(id).unwrap().kv()).collect();
    let agree = kvs.windows(2).all(|pair| pair[0] == pair[1]);
    let broken = cluster.violations().iter().map(|v| v.property).collect();
    (broken, agree)
}

#[test]
fn a_stale_snapshot_resent_to_a_follower_that_committed_past_it_is_harmless() {
    let (broken, agree) = stale_snapshot_resent(false);
    assert!(broken.is_empty(), "{broken:?}");
    assert!(agree, "the state machines differ");
}

/// With the planted bug, the follower installs the stale snapshot and
/// forgets committed entries: the monitors say so.
#[test]
fn installing_an_older_snapshot_breaks_state_machine_safety() {
    let (broken, _) = stale_snapshot_resent(true);
    assert!(
        broken.contains(&Property::StateMachineSafety)
            || broken.contains(&Property::LeaderCompleteness),
        "{broken:?}"
    );
}

/// A snapshot transfer of five chunks (nine pairs, two a chunk) to node 3:
/// a snapshot the leader takes meanwhile does not start it over, and a late
/// answer to an earlier chunk never moves it back.
#[test]
fn a_transfer_finishes_the_snapshot_it_began_and_goes_only_forward() {
    let mut cluster = elected(2);
    cluster.isolate(3);
    write_keys(&mut cluster, 0..12);
    cluster.heal();
    let first = in_flight_when(&mut cluster, |envelope| chunk_to_3(envelope).is_some());
    let index = chunk_to_3(&first).unwrap().index;
    let answer_from_3 = |envelope: &Envelope<Message>| {
        envelope.from == 3 && matches!(envelope.message.body, Body::InstallSnapshotResponse(_))
    };
    let chunk_at = |offset: u64| {
        move |envelope: &Envelope<Message>| {
            chunk_to_3(envelope).is_some_and(|install| install.offset == offset)
        }
    };
    // Chunk 0 reaches 3; its answer (2 pairs held) is kept for later.
    cluster.deliver(chunk_at(0));
    let stale = in_flight_when(&mut cluster, answer_from_3);
    cluster.deliver(answer_from_3);
    // The chunk at 2 is lost, and the leader snapshots again meanwhile.
    cluster.cut(1, 3);
    write_keys(&mut cluster, 12..18);
    assert!(
        cluster.node(1).unwrap().log().base_index() > index,
        "the leader compacted again"
    );
    cluster.heal();
    let resent = in_flight_when(&mut cluster, |envelope| chunk_to_3(envelope).is_some());
    let resent = chunk_to_3(&resent).unwrap();
    assert_eq!(
        (resent.index, resent.offset),
        (index, 2),
        "the transfer went on with the snapshot it began"
    );
    cluster.deliver(chunk_at(2));
    in_flight_when(&mut cluster, answer_from_3);
    cluster.deliver(answer_from_3);
    assert_eq!(
        cluster.drop_messages(chunk_at(4)),
        1,
        "the chunk at 4 was sent"
    );
    cluster.step(
        1,
        Input::Message {
            from: 3,
            message: stale.message,
        },
    );
    let offsets: Vec<u64> = cluster
        .in_flight()
        .iter()
        .filter_map(chunk_to_3)
        .map(|install| install.offset)
        .collect();
    assert!(
        offsets.iter().all(|&offset| offset >= 4),
        "a late answer moved the transfer back: {offsets:?}"
    );
    cluster.run_for(Duration::from_millis(500));
    let (leader, behind) = (cluster.node(1).unwrap(), cluster.node(3).unwrap());
    assert_eq!(behind.committed(), leader.committed());
    assert_eq!(behind.kv(), leader.kv());
    assert!(
        cluster.violations().is_empty(),
        "{:?}",
        cluster.violations()
    );
}
