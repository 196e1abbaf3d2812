//! What the core refuses, each refusal stated as the property it keeps:
//! settings that would break an assumption are refused with their typed
//! error; durable state that cannot have come from a correct run is refused
//! at restart; a message that no correct peer sends is dropped, reported,
//! and leaves the node as it was. These paths are taken by no correct run,
//! so no model spec or swarm sweep reaches them; the fuzz targets reach
//! some, and these tests reach and judge each one.

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::core::node::{DropReason, Input, Node, NodeId, Role};
use crate::core::raft::counters::MAX_TERM;
use crate::core::raft::{
    Append, Body, Command, Config, ConfigError, DurableState, Entry, HardState, InstallSnapshot,
    LogIndex, Message, RaftActions, RaftNode, Round, Snapshot, Term,
};
use crate::core::time::Time;
use std::time::Duration;

const MEMBERS: [NodeId; 3] = [1, 2, 3];

fn entry(index: u64, term: u64) -> Entry {
    Entry {
        term: Term::new(term),
        index: LogIndex::new(index),
        command: Arc::new(Command::Noop),
    }
}

fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(11)
}

/// A setting, what it is, and whether an error is the one it must get.
type ConfigCase = (&'static str, Config, fn(&ConfigError) -> bool);

/// What a damaged durable state is refused for, and the damage.
type DamageCase = (&'static str, fn(&mut DurableState));

#[test]
fn every_setting_that_breaks_an_assumption_is_refused_with_its_error() {
    let millis = Duration::from_millis;
    let cases: [ConfigCase; 8] = [
        (
            "no heartbeat",
            Config {
                heartbeat_interval: Duration::ZERO,
                ..Config::default()
            },
            |error| matches!(error, ConfigError::ZeroHeartbeat),
        ),
        (
            "heartbeat as slow as the election timeout",
            Config {
                heartbeat_interval: Config::default().election_timeout_min,
                ..Config::default()
            },
            |error| matches!(error, ConfigError::HeartbeatTooSlow { .. }),
        ),
        (
            "empty timeout range",
            Config {
                election_timeout_max: Config::default().election_timeout_min,
                ..Config::default()
            },
            |error| matches!(error, ConfigError::EmptyElectionTimeoutRange { .. }),
        ),
        (
            "no entries per append",
            Config {
                max_entries_per_append: 0,
                ..Config::default()
            },
            |error| matches!(error, ConfigError::ZeroFlowControl),
        ),
        (
            "no bytes per append",
            Config {
                max_bytes_per_append: 0,
                ..Config::default()
            },
            |error| matches!(error, ConfigError::ZeroFlowControl),
        ),
        (
            "no appends in flight",
            Config {
                max_inflight_appends: 0,
                ..Config::default()
            },
            |error| matches!(error, ConfigError::ZeroFlowControl),
        ),
        (
            "a zero lease",
            Config {
                lease_duration: Duration::ZERO,
                ..Config::default()
            },
            |error| matches!(error, ConfigError::ZeroLease),
        ),
        (
            "a lease that outlives the election timeout",
            Config {
                lease_duration: millis(140),
                clock_drift_bound: millis(20),
                ..Config::default()
            },
            |error| matches!(error, ConfigError::LeaseOutlivesElectionTimeout { .. }),
        ),
    ];
    for (what, config, expected) in cases {
        let refused = config.validate(1, &MEMBERS).expect_err(what);
        assert!(expected(&refused), "{what}: refused with {refused:?}");
        // The node cannot be built with it either: a constructor validates.
        assert!(RaftNode::new(1, &MEMBERS, config, Time::ZERO, &mut rng()).is_err());
    }
}

#[test]
fn lease_settings_are_judged_only_when_lease_reads_are_on() {
    let without_leases = Config {
        lease_reads: false,
        check_quorum: false,
        lease_duration: Duration::ZERO,
        ..Config::default()
    };
    assert_eq!(without_leases.validate(1, &MEMBERS), Ok(()));
}

/// A durable state a correct run can leave: a snapshot through index 2 of
/// term 1, entries 3 and 4 of term 2, the term 2 with a vote for node 2.
fn consistent() -> DurableState {
    DurableState {
        hard_state: HardState {
            term: Term::new(2),
            voted_for: Some(2),
        },
        snapshot: Some(Arc::new(Snapshot {
            index: LogIndex::new(2),
            term: Term::new(1),
            members: MEMBERS.to_vec(),
            kv: Default::default(),
        })),
        log: vec![entry(3, 2), entry(4, 2)],
    }
}

fn with_snapshot(durable: &mut DurableState, change: impl FnOnce(&mut Snapshot)) {
    let mut snapshot = durable.snapshot.as_deref().cloned().expect("a snapshot");
    change(&mut snapshot);
    durable.snapshot = Some(Arc::new(snapshot));
}

#[test]
fn a_restart_refuses_durable_state_no_correct_run_leaves() {
    let restart = |durable: DurableState| {
        RaftNode::restart(
            1,
            &MEMBERS,
            Config::default(),
            durable,
            Time::ZERO,
            &mut rng(),
        )
    };
    assert!(restart(consistent()).is_ok());
    // The limits themselves are durable states a correct run leaves: a
    // term of exactly MAX_TERM, a log with no snapshot before it.
    let mut at_the_limit = consistent();
    at_the_limit.hard_state.term = MAX_TERM;
    assert!(restart(at_the_limit).is_ok(), "a term of MAX_TERM");
    let mut from_the_start = consistent();
    from_the_start.snapshot = None;
    from_the_start.log = vec![entry(1, 1), entry(2, 2)];
    assert!(restart(from_the_start).is_ok(), "a log from index 1");
    let cases: [DamageCase; 7] = [
        ("the snapshot's members are not the cluster's", |d| {
            with_snapshot(d, |s| s.members = vec![1, 2])
        }),
        ("a snapshot at index 0", |d| {
            with_snapshot(d, |s| s.index = LogIndex::ZERO);
            d.log = vec![entry(1, 2)];
        }),
        ("log indexes are not contiguous from the snapshot's", |d| {
            d.log[1] = entry(5, 2)
        }),
        ("log terms decrease", |d| d.log[0] = entry(3, 0)),
        (
            "persisted term is beyond the highest term a node accepts",
            |d| d.hard_state.term = Term::new(MAX_TERM.get() + 1),
        ),
        (
            "log has entries from a term later than the persisted term",
            |d| d.hard_state.term = Term::new(1),
        ),
        ("persisted vote for a non-member", |d| {
            d.hard_state.voted_for = Some(9)
        }),
    ];
    for (reason, damage) in cases {
        let mut durable = consistent();
        damage(&mut durable);
        assert_eq!(
            restart(durable).err(),
            Some(ConfigError::InconsistentDurableState { reason }),
            "{reason}"
        );
    }
}

/// Steps `message` from node 1 into `node` and returns what came out.
fn step_message(node: &mut RaftNode, message: Message) -> RaftActions {
    let mut actions = RaftActions::default();
    let input = Input::Message { from: 1, message };
    node.step(Time::from_millis(10), &mut rng(), input, &mut actions);
    actions
}

/// A follower in term 2 with two entries of term 2.
fn follower() -> RaftNode {
    let mut durable = consistent();
    durable.snapshot = None;
    durable.log = vec![entry(1, 2), entry(2, 2)];
    let node = RaftNode::restart(
        2,
        &MEMBERS,
        Config::default(),
        durable,
        Time::ZERO,
        &mut rng(),
    );
    node.expect("a consistent durable state")
}

/// The message is dropped with `reason`: nothing is persisted or sent and
/// the node is the node it was.
fn assert_refused(message: Message, reason: DropReason) {
    let mut node = follower();
    let before = node.durable_state();
    let actions = step_message(&mut node, message);
    assert_eq!(actions.dropped(), vec![reason]);
    assert!(actions.persist.is_empty(), "{:?}", actions.persist);
    assert!(actions.messages.is_empty(), "{:?}", actions.messages);
    assert_eq!(node.durable_state(), before);
    assert_eq!(node.committed(), LogIndex::ZERO);
}

#[test]
fn a_message_from_beyond_the_highest_term_is_dropped_and_changes_nothing() {
    let term = MAX_TERM.get() + 1;
    let heartbeat = Append {
        prev_log_index: LogIndex::ZERO,
        prev_log_term: Term::ZERO,
        entries: Vec::new(),
        leader_commit: LogIndex::ZERO,
        round: Round::new(1),
    };
    let message = Message {
        term: Term::new(term),
        body: Body::Append(heartbeat),
    };
    assert_refused(message, DropReason::TermOutOfRange { term });
}

#[test]
fn an_append_whose_entries_go_back_in_term_is_dropped_before_anything_changes() {
    let append = Append {
        prev_log_index: LogIndex::new(2),
        prev_log_term: Term::new(2),
        entries: vec![entry(3, 2), entry(4, 1)],
        leader_commit: LogIndex::new(4),
        round: Round::new(1),
    };
    let message = Message {
        term: Term::new(2),
        body: Body::Append(append),
    };
    assert_refused(message, DropReason::IndexOutOfRange { index: 4 });
}

fn install(index: u64, snapshot_term: u64) -> Message {
    Message {
        term: Term::new(2),
        body: Body::InstallSnapshot(InstallSnapshot {
            index: LogIndex::new(index),
            snapshot_term: Term::new(snapshot_term),
            members: MEMBERS.to_vec(),
            offset: 0,
            pairs: Vec::new(),
            done: true,
            round: Round::new(1),
        }),
    }
}

#[test]
fn a_snapshot_no_leader_could_have_taken_is_dropped_before_anything_changes() {
    // No entry of a snapshot is of a term later than its sender's. (One at
    // index 0 never gets this far: it is covered by any commit index and
    // answered as held.)
    assert_refused(install(5, 3), DropReason::IndexOutOfRange { index: 5 });
}

#[test]
fn a_node_at_the_highest_term_never_campaigns() {
    let mut durable = consistent();
    durable.hard_state.term = MAX_TERM;
    let config = Config::default();
    let mut node =
        RaftNode::restart(1, &MEMBERS, config.clone(), durable, Time::ZERO, &mut rng()).unwrap();
    let mut actions = RaftActions::default();
    let late = Time::ZERO.saturating_add(config.election_timeout_max * 4);
    node.step(late, &mut rng(), Input::Tick, &mut actions);
    node.step(late, &mut rng(), Input::Campaign, &mut actions);
    assert_eq!(node.current_term(), MAX_TERM);
    assert_eq!(node.role(), Role::Follower);
    assert!(actions.persist.is_empty() && actions.messages.is_empty());
}

#[test]
fn an_acknowledgement_of_a_round_never_sent_is_dropped_and_confirms_no_lease() {
    use crate::core::raft::testing::elected_leader;
    use crate::core::raft::HeartbeatResponse;
    let (mut leader, mut rng) = elected_leader();
    let now = Time::from_millis(402);
    let lease_before = leader.lease_expiry(now);
    let forged = Message {
        term: leader.current_term(),
        body: Body::HeartbeatResponse(HeartbeatResponse {
            round: Round::new(99),
        }),
    };
    let mut actions = RaftActions::default();
    let input = Input::Message {
        from: 2,
        message: forged,
    };
    leader.step(now, &mut rng, input, &mut actions);
    assert_eq!(
        actions.dropped(),
        vec![DropReason::IndexOutOfRange { index: 99 }]
    );
    assert_eq!(leader.lease_expiry(now), lease_before);
}
