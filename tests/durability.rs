//! Durability of the real node loop on the simulated disk
//! (`electorate::driver::crash_sim`): seeded power failures between and in
//! the middle of disk operations, damage to synced data, fsync errors, a
//! full disk (ENOSPC) — and all of it again on nodes taking snapshots
//! (`CrashSimOptions::snapshot_every`), with damage to `raft.snapshot` and
//! leftover compaction files.
//!
//! A few seeds run here; `DURABILITY_SEEDS=2000 cargo test
//! --test durability` runs thousands (the test profile is optimised; a
//! failure prints its seed and the whole report).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use electorate::core::raft::{
    Append, Body, Command, Config, Entry, LogIndex, Message, Round, Term,
};
use electorate::core::time::Time;
use electorate::core::NodeId;
use electorate::driver::crash_sim::{
    run, CrashSimOptions, CrashSimReport, DamageKind, DamagePlace,
};
use electorate::driver::node::{DriverError, NodeInput, NodeLoop, NodeSettings, Transport};
use electorate::driver::storage::format::Identity;
use electorate::driver::storage::simulated::{PowerLoss, SimDisk, SimFaults};
use electorate::driver::storage::{Log, StorageError, LOG_FILE, SNAPSHOT_FILE};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn seeds(default: u64) -> u64 {
    std::env::var("DURABILITY_SEEDS")
        .ok()
        .and_then(|seeds| seeds.parse().ok())
        .unwrap_or(default)
}

fn passed(report: &CrashSimReport) {
    assert!(
        report.violations.is_empty(),
        "seed {}: {:#?}",
        report.seed,
        report
    );
    assert!(
        report.acknowledged_writes > 0,
        "seed {}: no writes",
        report.seed
    );
}

#[test]
fn power_loss_at_seeded_points_loses_no_acknowledged_write_and_no_vote() {
    let (mut crashes, mut mid_operation, mut lost) = (0, 0, 0);
    for seed in 0..seeds(6) {
        for nodes in [3, 5] {
            let report = run(&CrashSimOptions::new(nodes, seed));
            passed(&report);
            crashes += report.crashes;
            mid_operation += report.crashes_mid_operation;
            lost += report.lost_unsynced_sectors;
        }
    }
    assert!(
        crashes > 0 && mid_operation > 0 && lost > 0,
        "{crashes} {mid_operation} {lost}"
    );
}

/// The crash simulator with nodes snapshotting every 3 applied entries:
/// power fails between and inside snapshot writes and log compactions (and
/// one fsync fails on odd seeds), and still every acknowledged write is on
/// the final leader, no term has two votes from a node or two leaders, and
/// every node recovers (finishing the compactions a crash interrupted).
#[test]
fn power_loss_in_a_cluster_taking_snapshots_loses_no_acknowledged_write() {
    let (mut from_snapshot, mut finished, mut mid_operation) = (0, 0, 0);
    for seed in 0..seeds(6) {
        for nodes in [3, 5] {
            let options = CrashSimOptions {
                snapshot_every: 3,
                fsync_error: seed % 2 == 1,
                ..CrashSimOptions::new(nodes, seed)
            };
            let report = run(&options);
            passed(&report);
            assert!(
                report.snapshots_taken > 0,
                "seed {seed}, {nodes} nodes: no snapshot taken: {report:#?}"
            );
            from_snapshot += report.restarts_from_snapshot;
            finished += report.finished_compactions;
            mid_operation += report.crashes_mid_operation;
        }
    }
    assert!(
        from_snapshot > 0 && finished > 0 && mid_operation > 0,
        "{from_snapshot} restarts from a snapshot, {finished} interrupted compactions finished, {mid_operation} crashes mid-operation"
    );
}

/// The same with damage: a node whose `raft.snapshot` had a bit flipped, a
/// sector zeroed or misdirected, or was cut short refuses to start (and
/// stays down) naming the snapshot file, as for any other synced damage;
/// one left with a never-acknowledged `raft.snapshot.new` or
/// `raft.log.new` starts (a refusal would be a "cannot start" violation)
/// and drops it.
#[test]
fn a_damaged_snapshot_is_refused_and_a_leftover_compaction_file_is_not() {
    let (mut snapshot_kinds, mut leftovers) = (BTreeSet::new(), BTreeSet::new());
    for seed in 0..seeds(12) {
        for nodes in [3, 5] {
            let options = CrashSimOptions {
                snapshot_every: 3,
                damage: true,
                ..CrashSimOptions::new(nodes, seed)
            };
            let report = run(&options);
            passed(&report);
            assert_eq!(
                report.damaged.len(),
                report.refused.len(),
                "seed {seed}: {report:#?}"
            );
            let snapshot_damage: Vec<_> = report
                .damaged
                .iter()
                .filter(|(_, place, _)| *place == DamagePlace::Snapshot)
                .collect();
            for (id, _, kind) in &snapshot_damage {
                let (_, error) = report
                    .refused
                    .iter()
                    .find(|(refused, _)| refused == id)
                    .unwrap_or_else(|| panic!("seed {seed}: node {id} not refused"));
                assert!(error.contains("simulated/raft.snapshot"), "{error}");
                assert!(error.contains("at byte"), "{error}");
                snapshot_kinds.insert(*kind);
            }
            leftovers.extend(report.leftovers.iter().map(|(_, name)| *name));
        }
    }
    for kind in [
        DamageKind::BitFlip,
        DamageKind::ZeroedSector,
        DamageKind::MisdirectedSector,
        DamageKind::Cut,
    ] {
        assert!(
            snapshot_kinds.contains(&kind),
            "{kind:?} never done to a snapshot: {snapshot_kinds:?}"
        );
    }
    assert_eq!(
        leftovers.into_iter().collect::<Vec<_>>(),
        ["raft.log.new", "raft.snapshot.new"],
        "both leftovers left"
    );
}

#[test]
fn a_node_whose_synced_data_is_damaged_refuses_to_start_and_the_rest_keep_every_write() {
    let mut places = BTreeSet::new();
    for seed in 0..seeds(16) {
        for nodes in [3, 5] {
            let options = CrashSimOptions {
                damage: true,
                ..CrashSimOptions::new(nodes, seed)
            };
            let report = run(&options);
            passed(&report);
            assert_eq!(report.damaged.len(), report.refused.len(), "seed {seed}");
            for (_, error) in &report.refused {
                assert!(error.contains("simulated/raft."), "{error}");
                assert!(error.contains("at byte"), "{error}");
            }
            places.extend(report.damaged.iter().map(|(_, place, _)| *place));
        }
    }
    for place in [
        DamagePlace::FirstRecord,
        DamagePlace::MiddleRecord,
        DamagePlace::LastRecord,
        DamagePlace::TermAndVote,
    ] {
        assert!(
            places.contains(&place),
            "{place:?} never damaged: {places:?}"
        );
    }
}

#[test]
fn an_fsync_error_stops_the_node_and_the_cluster_fails_over() {
    let mut failures = 0;
    for seed in 0..seeds(6) {
        // Three nodes without crashes (two left must carry on), and five
        // with them.
        let options = if seed % 2 == 0 {
            CrashSimOptions {
                crash_every: Duration::from_secs(3600),
                ..CrashSimOptions::new(3, seed)
            }
        } else {
            CrashSimOptions::new(5, seed)
        };
        let options = CrashSimOptions {
            fsync_error: true,
            ..options
        };
        let report = run(&options);
        passed(&report);
        for (_, reason) in &report.fsync_failures {
            assert!(reason.contains("fsync failed"), "{reason}");
        }
        failures += report.fsync_failures.len();
    }
    assert!(failures > 0);
}

/// Every message a node loop sent, shared with the test.
#[derive(Clone, Default)]
struct Sent(Arc<Mutex<Vec<(NodeId, Message)>>>);

impl Transport for Sent {
    fn send(&mut self, to: NodeId, message: Message) {
        self.0.lock().unwrap().push((to, message));
    }
}

impl Sent {
    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

fn settings() -> NodeSettings {
    NodeSettings {
        id: 1,
        members: vec![1, 2, 3],
        config: Config::default(),
        data_dir: "simulated/node-1".into(),
        seed: 7,
        cluster_id: 1,
        lazy_disk: false,
        health: electorate::driver::health::HealthSettings::default(),
        slow_fsync: std::time::Duration::ZERO,
    }
}

fn identity() -> Identity {
    settings().identity()
}

/// Node 2, leader of term 1, appends entry `index` after `index - 1`.
fn append(index: u64) -> NodeInput {
    append_committing(index, 0)
}

/// [`append`], telling the follower that entries through `commit` are
/// committed (so it applies them, and takes its snapshots).
fn append_committing(index: u64, commit: u64) -> NodeInput {
    let entry = Entry {
        term: Term::new(1),
        index: LogIndex::new(index),
        command: Arc::new(Command::Write {
            key: "x".into(),
            value: index,
        }),
    };
    NodeInput::Peer {
        from: 2,
        message: Message {
            term: Term::new(1),
            body: Body::Append(Append {
                prev_log_index: LogIndex::new(index - 1),
                prev_log_term: Term::new(u64::from(index > 1)),
                entries: vec![entry],
                leader_commit: LogIndex::new(commit),
                round: Round::new(index),
            }),
        },
    }
}

/// The node loop on a simulated disk that fills up at a seeded write: the
/// loop stops with a typed "disk full" error naming the log, nothing of
/// that turn leaves it (not the acknowledgement of the entry it could not
/// write), and once space is freed it restarts on every record it had
/// acknowledged, the partly written one cut as an unsynced tail.
#[test]
fn a_full_disk_stops_the_node_loop_sending_nothing_and_a_restart_keeps_every_synced_record() {
    for seed in 0..seeds(8) {
        let disk = SimDisk::new();
        let (storage, recovered) = Log::open(disk.clone(), identity()).unwrap();
        let sent = Sent::default();
        let mut node = NodeLoop::start(&settings(), storage, recovered, Time::ZERO, sent.clone())
            .expect("the node starts");
        let acknowledged = 1 + seed;
        for index in 1..=acknowledged {
            node.turn(Time::from_millis(index), [append(index)])
                .expect("room on the disk");
            assert_eq!(sent.count() as u64, index, "each entry is acknowledged");
        }
        // Room for a part of the next record only (its header is 8 bytes,
        // its payload more): a short write, then ENOSPC.
        disk.set_faults(SimFaults {
            capacity: Some(disk.used_bytes() + seed % 12),
            ..SimFaults::default()
        });
        let next = acknowledged + 1;
        let error = node
            .turn(Time::from_millis(next), [append(next)])
            .expect_err("the disk is full");
        let DriverError::Storage {
            source: source @ StorageError::DiskFull { path, .. },
            ..
        } = &error
        else {
            panic!("seed {seed}: not a disk-full error: {error}");
        };
        assert!(path.ends_with(LOG_FILE), "{path:?}");
        assert!(error.to_string().contains("disk full"), "{error}");
        assert!(source.to_string().contains(LOG_FILE), "{source}");
        assert_eq!(
            sent.count() as u64,
            acknowledged,
            "seed {seed}: the entry that was not written was acknowledged"
        );
        drop(node);

        disk.set_faults(SimFaults::default());
        let (_, recovered) = Log::open(disk.clone(), identity()).expect("space was freed");
        let indexes: Vec<u64> = recovered
            .state
            .log
            .iter()
            .map(|entry| entry.index.get())
            .collect();
        assert_eq!(
            indexes,
            (1..=acknowledged).collect::<Vec<_>>(),
            "seed {seed}: every acknowledged entry, and nothing more"
        );
        assert_eq!(recovered.state.hard_state.term, Term::new(1));
        assert_eq!(
            recovered.cut_tail_bytes,
            seed % 12,
            "seed {seed}: the short write is cut as an unsynced tail"
        );
    }
}

/// The crash simulator with one disk filling up: the node stops with
/// "disk full", restarts when space is freed, and the cluster keeps every
/// acknowledged write and one vote per term.
#[test]
fn a_full_disk_in_a_crashing_cluster_loses_no_acknowledged_write() {
    let (mut stops, mut restarts) = (0, 0);
    for seed in 0..seeds(6) {
        let options = CrashSimOptions {
            disk_full: true,
            ..CrashSimOptions::new(if seed % 2 == 0 { 3 } else { 5 }, seed)
        };
        let report = run(&options);
        passed(&report);
        for (_, reason) in &report.disk_full_stops {
            assert!(reason.contains("disk full"), "{reason}");
        }
        stops += report.disk_full_stops.len();
        restarts += report.restarts_after_disk_full.len();
    }
    assert!(
        stops > 0 && restarts > 0,
        "{stops} stops, {restarts} restarts"
    );
}

/// Runs the node loop of a follower that takes a snapshot every 4 applied
/// entries over `entries` committed appends, on `disk`, until the disk
/// fails; returns how many appends were acknowledged.
fn run_snapshotting_follower(disk: &SimDisk, entries: u64) -> u64 {
    let mut settings = settings();
    settings.config.snapshot_every = 4;
    let Ok((storage, recovered)) = Log::open(disk.clone(), identity()) else {
        return 0;
    };
    let sent = Sent::default();
    let mut node = NodeLoop::start(&settings, storage, recovered, Time::ZERO, sent.clone())
        .expect("the node starts");
    for index in 1..=entries {
        if node
            .turn(Time::from_millis(index), [append_committing(index, index)])
            .is_err()
        {
            break;
        }
    }
    sent.count() as u64
}

/// The real node loop with snapshots on (the core's own snapshot records,
/// not hand-made ones), power failing at every disk operation of a run:
/// the restart finds every acknowledged entry, in the snapshot or in the
/// log after it, the snapshot holds the state machine at its index, and
/// the node starts from what was recovered.
#[test]
fn a_follower_taking_snapshots_loses_no_acknowledged_entry_at_any_power_loss() {
    const ENTRIES: u64 = 14;
    let whole = SimDisk::new();
    assert_eq!(run_snapshotting_follower(&whole, ENTRIES), ENTRIES);
    assert!(
        whole.synced_bytes(SNAPSHOT_FILE).is_some(),
        "no snapshot taken"
    );
    let (mut with_snapshot, mut mid_compaction) = (0, 0);
    for at in 1..=whole.ops() {
        let disk = SimDisk::new();
        disk.set_faults(SimFaults {
            power_fails_at_op: Some(at),
            ..SimFaults::default()
        });
        let acknowledged = run_snapshotting_follower(&disk, ENTRIES);
        disk.power_loss(&mut ChaCha8Rng::seed_from_u64(at), PowerLoss::Random);
        let (storage, recovered) = Log::open(disk.clone(), identity())
            .unwrap_or_else(|error| panic!("power off at op {at}: {error}"));
        let state = &recovered.state;
        let last = state.base_index().get() + state.log.len() as u64;
        assert!(
            last >= acknowledged,
            "power off at op {at}: {acknowledged} acknowledged, {last} recovered"
        );
        for (position, entry) in state.log.iter().enumerate() {
            assert_eq!(
                entry.index,
                state.base_index().plus(position + 1),
                "power off at op {at}"
            );
        }
        if let Some(snapshot) = &state.snapshot {
            // Entry n writes x = n: the state machine at the snapshot's index.
            assert_eq!(
                snapshot.kv.read("x"),
                Some(snapshot.index.get()),
                "power off at op {at}"
            );
            with_snapshot += 1;
        }
        mid_compaction += usize::from(recovered.finished_compaction);
        NodeLoop::start(&settings(), storage, recovered, Time::ZERO, Sent::default())
            .unwrap_or_else(|error| {
                panic!("power off at op {at}: the node does not start: {error}")
            });
    }
    assert!(
        with_snapshot > 0 && mid_compaction > 0,
        "{with_snapshot} restarts from a snapshot, {mid_compaction} mid-compaction"
    );
}
