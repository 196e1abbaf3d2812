//! Snapshots on the simulated disk: a crash at any disk operation of a
//! snapshot (the snapshot file, the compacted log, the state file naming
//! it) or of the restart that finishes one recovers everything that was
//! acknowledged, and recovers the state before the snapshot or after it;
//! a damaged snapshot file or compacted log is refused. The model is
//! [`DurableState`] applying the same records.

use std::sync::Arc;

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::core::kv::KvStore;
use crate::core::raft::snapshot::Snapshot;
use crate::core::raft::LogIndex;

fn snapshot(index: u64, term: u64, pairs: u64) -> Persist {
    let mut kv = KvStore::default();
    for i in 0..pairs {
        kv.write(&format!("key-{i:05}"), index * 1000 + i);
    }
    Persist::Snapshot(Arc::new(Snapshot {
        index: LogIndex::new(index),
        term: Term::new(term),
        members: vec![1, 2, 3],
        kv,
    }))
}

/// Votes and entries, a snapshot the node takes (its last entry is in the
/// log: the entries after it stay) in the middle of a batch, more entries,
/// a conflict repaired after the snapshot, then a snapshot installed from a
/// leader (beyond the log: every entry goes) and entries after that. The
/// snapshots hold 400 pairs: several sectors, so a power loss can tear them.
fn snapshot_batches() -> Vec<Vec<Persist>> {
    vec![
        vec![vote(1, Some(2))],
        (1..=20).map(|i| entry(i, 1)).collect(),
        [entry(21, 2), entry(22, 2)]
            .into_iter()
            .chain([snapshot(20, 1, 400)])
            .chain((23..=30).map(|i| entry(i, 2)))
            .collect(),
        vec![
            vote(3, Some(3)),
            Persist::TruncateLog {
                from: LogIndex::new(28),
            },
            entry(28, 3),
        ],
        vec![vote(5, Some(1)), snapshot(60, 5, 400)],
        (61..=70).map(|i| entry(i, 5)).collect(),
        vec![snapshot(65, 5, 10), entry(71, 5), vote(6, None)],
    ]
}

/// Writes `batches`, stopping at the first error; how many were
/// acknowledged (append and sync both returned Ok).
fn write_until_failure(disk: &SimDisk, batches: &[Vec<Persist>]) -> usize {
    let Ok((mut log, _)) = open(disk) else {
        return 0;
    };
    for (done, batch) in batches.iter().enumerate() {
        if log.append(batch).and_then(|()| log.sync()).is_err() {
            return done;
        }
    }
    batches.len()
}

/// The states a crash while `batch` was in flight may recover, from `acked`
/// (the state before it): before it, after it, or at a snapshot inside it
/// (just before the snapshot, whose records were made durable first, or
/// just after it).
fn in_flight_states(acked: &DurableState, batch: &[Persist]) -> Vec<DurableState> {
    let mut cuts = vec![0, batch.len()];
    for (at, record) in batch.iter().enumerate() {
        if matches!(record, Persist::Snapshot(_)) {
            cuts.extend([at, at + 1]);
        }
    }
    cuts.into_iter()
        .map(|cut| {
            let mut state = acked.clone();
            state.apply_all(&batch[..cut]);
            state
        })
        .collect()
}

/// Judges one crash: the disk must open (nothing acknowledged is damaged
/// by a power loss), recover an allowed state, recover it again when
/// opened again, and take more records after it.
fn judge_crash(disk: &SimDisk, batches: &[Vec<Persist>], acknowledged: usize, what: &str) {
    let acked = applied(&batches[..acknowledged]);
    let allowed = match batches.get(acknowledged) {
        Some(batch) => in_flight_states(&acked, batch),
        None => vec![acked],
    };
    let (mut log, recovered) = open(disk).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        allowed.contains(&recovered.state),
        "{what}: recovered {:?}\nallowed {allowed:?}",
        recovered.state
    );
    // The node goes on: one more entry, synced, survives the next restart.
    let next = recovered
        .state
        .base_index()
        .plus(recovered.state.log.len() + 1);
    log.append(&[entry(next.get(), 9)]).unwrap();
    log.sync().unwrap();
    let mut expected = recovered.state.clone();
    expected.apply(&entry(next.get(), 9));
    let (_, again) = open(disk).unwrap_or_else(|e| panic!("{what}, reopened: {e}"));
    assert_eq!(again.state, expected, "{what}: reopened");
    assert!(
        !again.finished_compaction,
        "{what}: the first open finished it"
    );
}

#[test]
fn every_synced_snapshot_and_the_log_after_it_come_back() {
    let batches = snapshot_batches();
    let disk = SimDisk::new();
    assert_eq!(write_until_failure(&disk, &batches), batches.len());
    let (_, recovered) = open(&disk).unwrap();
    let expected = applied(&batches);
    assert_eq!(recovered.state, expected);
    let snapshot = expected.snapshot.as_ref().unwrap();
    assert_eq!(snapshot.index, LogIndex::new(65));
    // The log holds what the last snapshot left, not the node's history.
    assert_eq!(recovered.records, expected.log.len());
    assert_eq!(recovered.snapshot_pairs, 10);
    assert_eq!(
        recovered.snapshot_bytes,
        disk.synced_bytes(SNAPSHOT_FILE).unwrap().len() as u64
    );
    assert_eq!(
        recovered.log_bytes,
        disk.synced_bytes(LOG_FILE).unwrap().len() as u64
    );
    assert!(!recovered.finished_compaction);
    // Nothing is left aside.
    for name in [NEW_SNAPSHOT_FILE, NEW_LOG_FILE] {
        assert!(disk.synced_bytes(name).is_none(), "{name}");
    }
}

/// The operation counts at which each batch starts and ends, on a disk
/// that does not fail.
fn batch_ops(batches: &[Vec<Persist>]) -> Vec<(u64, u64)> {
    let disk = SimDisk::new();
    let (mut log, _) = open(&disk).unwrap();
    batches
        .iter()
        .map(|batch| {
            let before = disk.ops();
            log.append(batch).unwrap();
            log.sync().unwrap();
            (before, disk.ops())
        })
        .collect()
}

/// Power fails at every disk operation of every batch that holds a
/// snapshot, the unsynced sectors landing in every way (none, all, any
/// subset: torn snapshot files and logs).
#[test]
fn power_failing_at_any_operation_of_a_snapshot_loses_nothing_acknowledged() {
    let batches = snapshot_batches();
    let ops = batch_ops(&batches);
    let mut crashed_between = 0;
    for (number, batch) in batches.iter().enumerate() {
        if !batch.iter().any(|r| matches!(r, Persist::Snapshot(_))) {
            continue;
        }
        let (first, last) = ops[number];
        for at in first + 1..=last + 1 {
            for seed in 0..6 {
                let mode =
                    [PowerLoss::LoseAll, PowerLoss::KeepAll, PowerLoss::Random][seed as usize % 3];
                let disk = SimDisk::new();
                disk.set_faults(SimFaults {
                    power_fails_at_op: Some(at),
                    ..SimFaults::default()
                });
                let acknowledged = write_until_failure(&disk, &batches);
                disk.power_loss(&mut ChaCha8Rng::seed_from_u64(seed), mode);
                // A crash between the snapshot's rename and the log's
                // compaction, or between that and the state file.
                if let Ok((_, recovered)) = open(&disk.clone()) {
                    crashed_between += usize::from(recovered.finished_compaction);
                }
                // Opening twice must be harmless: judge from a fresh copy.
                let disk = rebuild(at, seed, mode, &batches);
                judge_crash(
                    &disk,
                    &batches,
                    acknowledged,
                    &format!("batch {number}, power off at op {at}, seed {seed}"),
                );
            }
        }
    }
    assert!(crashed_between > 0, "no crash came mid-compaction");
}

/// An fsync that fails at any point of a batch holding a snapshot (the
/// snapshot file's, the directory's after its rename, the compacted log's,
/// the state file's) stops the storage for good with `SyncFailed`, and a
/// power loss after it recovers what was acknowledged: what the failed
/// fsync was to make durable may or may not be there, as for a crash.
#[test]
fn a_failed_fsync_during_a_snapshot_stops_the_storage_and_loses_nothing_acknowledged() {
    let batches = snapshot_batches();
    let ops = batch_ops(&batches);
    let mut failed_syncs = 0;
    // How many fsyncs the snapshot batches ask for: each must fail when hit.
    let syncs = {
        let disk = SimDisk::new();
        let (mut log, _) = open(&disk).unwrap();
        let mut syncs = 0;
        for (number, batch) in batches.iter().enumerate() {
            let before = disk.syncs();
            log.append(batch).and_then(|()| log.sync()).unwrap();
            if [2, 4, 6].contains(&number) {
                syncs += disk.syncs() - before;
            }
        }
        syncs
    };
    for number in [2, 4, 6] {
        let (first, last) = ops[number];
        for at in first + 1..=last {
            for seed in 0..3 {
                let mode = [PowerLoss::LoseAll, PowerLoss::KeepAll, PowerLoss::Random][seed];
                let disk = SimDisk::new();
                disk.set_faults(SimFaults {
                    fail_sync_at_op: Some(at),
                    ..SimFaults::default()
                });
                let (mut log, _) = open(&disk).unwrap();
                let mut acknowledged = 0;
                let mut failure = None;
                for batch in &batches {
                    match log.append(batch).and_then(|()| log.sync()) {
                        Ok(()) => acknowledged += 1,
                        Err(error) => {
                            failure = Some(error);
                            break;
                        }
                    }
                }
                let Some(failure) = failure else {
                    break; // operation `at` is no fsync
                };
                failed_syncs += u64::from(seed == 0);
                let what = format!("batch {number}, fsync at op {at} fails, {mode:?}");
                assert_eq!(acknowledged, number, "{what}: failed in another batch");
                assert!(
                    matches!(failure, StorageError::SyncFailed { .. }),
                    "{what}: {failure}"
                );
                assert!(
                    matches!(log.sync(), Err(StorageError::Stopped { .. })),
                    "{what}: the storage goes on after a failed fsync"
                );
                drop(log);
                disk.set_faults(SimFaults::default());
                disk.power_loss(&mut ChaCha8Rng::seed_from_u64(seed as u64), mode);
                judge_crash(&disk, &batches, acknowledged, &what);
            }
        }
    }
    // Each snapshot batch has at least its snapshot's, its directory's,
    // its new log's and its state file's fsyncs, and every one surfaced.
    assert!(syncs >= 12, "only {syncs} fsyncs in the snapshot batches");
    assert_eq!(failed_syncs, syncs, "a failed fsync went unreported");
}

/// The disk a crash at `at` leaves (the runs are deterministic).
fn rebuild(at: u64, seed: u64, mode: PowerLoss, batches: &[Vec<Persist>]) -> SimDisk {
    let disk = SimDisk::new();
    disk.set_faults(SimFaults {
        power_fails_at_op: Some(at),
        ..SimFaults::default()
    });
    write_until_failure(&disk, batches);
    disk.power_loss(&mut ChaCha8Rng::seed_from_u64(seed), mode);
    disk
}

/// A restart that finds a compaction interrupted finishes it (rewrites the
/// log, then the state file); power fails at each of its operations too,
/// and the next restart still recovers the same state.
#[test]
fn power_failing_while_a_restart_finishes_a_compaction_loses_nothing() {
    let batches = snapshot_batches();
    let ops = batch_ops(&batches);
    let mut interrupted = 0;
    for number in [2, 4, 6] {
        let (first, last) = ops[number];
        for at in first + 1..=last {
            let seed = at;
            let disk = rebuild(at, seed, PowerLoss::Random, &batches);
            let start = disk.ops();
            let Ok((_, first_open)) = open(&disk) else {
                panic!("batch {number}, op {at}: refused");
            };
            if !first_open.finished_compaction {
                continue;
            }
            let open_ops = disk.ops() - start;
            for cut in 1..=open_ops {
                for mode in [PowerLoss::LoseAll, PowerLoss::KeepAll, PowerLoss::Random] {
                    let disk = rebuild(at, seed, PowerLoss::Random, &batches);
                    disk.set_faults(SimFaults {
                        power_fails_at_op: Some(disk.ops() + cut),
                        ..SimFaults::default()
                    });
                    assert!(open(&disk).is_err(), "power failed during the open");
                    disk.power_loss(&mut ChaCha8Rng::seed_from_u64(cut), mode);
                    let (_, recovered) = open(&disk).unwrap_or_else(|e| {
                        panic!("batch {number}, op {at}, open cut at {cut}: {e}")
                    });
                    assert_eq!(
                        recovered.state, first_open.state,
                        "batch {number}, op {at}, open cut at {cut}"
                    );
                    interrupted += 1;
                }
            }
        }
    }
    assert!(interrupted > 0, "no restart had a compaction to finish");
}

fn written_snapshot_disk() -> SimDisk {
    let disk = SimDisk::new();
    let batches = snapshot_batches();
    assert_eq!(write_until_failure(&disk, &batches[..6]), 6);
    disk
}

/// Any damage to the acknowledged snapshot file (a flipped bit anywhere,
/// a zeroed or misdirected sector) is refused, never read as another
/// snapshot or as none.
#[test]
fn damage_to_the_snapshot_file_refuses_to_start() {
    let len = written_snapshot_disk()
        .synced_bytes(SNAPSHOT_FILE)
        .unwrap()
        .len() as u64;
    assert!(len > 2 * simulated::SECTOR, "{len} bytes: one sector");
    for offset in (0..len).step_by(97).chain([len - 1]) {
        let damages: [(&str, &Damage<'_>); 3] = [
            ("bit flip", &|disk| disk.flip_bit(SNAPSHOT_FILE, offset, 5)),
            ("zeroed sector", &|disk| {
                disk.zero_sector(SNAPSHOT_FILE, offset)
            }),
            ("misdirected sector", &|disk| {
                disk.misdirect(SNAPSHOT_FILE, offset, offset + 1024)
                    || disk.misdirect(SNAPSHOT_FILE, offset, 0)
            }),
        ];
        for (kind, damage) in damages {
            let disk = written_snapshot_disk();
            assert!(damage(&disk), "{kind} at {offset} changed nothing");
            refused(&disk, SNAPSHOT_FILE, |place| place == Place::Snapshot);
        }
    }
}

/// The log written after a snapshot is acknowledged data like any other:
/// damage to its header or a record is refused.
#[test]
fn damage_to_the_compacted_log_refuses_to_start() {
    let disk = written_snapshot_disk();
    let spans = spans(&disk);
    assert!(spans.len() >= 3, "{spans:?}");
    let mut offsets = vec![20];
    offsets.extend(spans.iter().map(|span| span.offset + span.len / 2));
    for offset in offsets {
        let disk = written_snapshot_disk();
        assert!(disk.flip_bit(LOG_FILE, offset, 2));
        refused(&disk, LOG_FILE, |place| {
            matches!(place, Place::Record(_) | Place::LogHeader)
        });
    }
}

/// A log (or state file) that follows a snapshot the directory no longer
/// holds, or holds only an older one of, lost acknowledged data.
#[test]
fn a_missing_or_older_snapshot_file_refuses_to_start() {
    let disk = written_snapshot_disk();
    let mut handle = disk.clone();
    handle.remove(SNAPSHOT_FILE).unwrap();
    handle.sync_dir().unwrap();
    refused(&disk, SNAPSHOT_FILE, |place| place == Place::Snapshot);

    // The snapshot at 20 put back where the one at 60 was.
    let older = SimDisk::new();
    assert_eq!(write_until_failure(&older, &snapshot_batches()[..3]), 3);
    let disk = written_snapshot_disk();
    let mut handle = disk.clone();
    let bytes = older.synced_bytes(SNAPSHOT_FILE).unwrap();
    handle.truncate(SNAPSHOT_FILE, 0).unwrap();
    handle.write(SNAPSHOT_FILE, 0, &bytes).unwrap();
    handle.sync(SNAPSHOT_FILE).unwrap();
    refused(&disk, SNAPSHOT_FILE, |place| place == Place::Snapshot);
}

/// Files left aside by a crash (never renamed in, so never acknowledged),
/// whatever they hold, are removed and change nothing.
#[test]
fn leftover_files_written_aside_are_removed() {
    let disk = written_snapshot_disk();
    let expected = applied(&snapshot_batches()[..6]);
    let mut handle = disk.clone();
    for name in [NEW_SNAPSHOT_FILE, NEW_LOG_FILE] {
        handle.write(name, 0, b"half a file").unwrap();
        handle.sync(name).unwrap();
    }
    handle.sync_dir().unwrap();
    let (_, recovered) = open(&disk).unwrap();
    assert_eq!(recovered.state, expected);
    for name in [NEW_SNAPSHOT_FILE, NEW_LOG_FILE] {
        assert!(
            handle.read(name).unwrap().is_none(),
            "{name} is still there"
        );
    }
}

/// Another node's snapshot file is refused as such.
#[test]
fn another_nodes_snapshot_file_is_refused() {
    let disk = written_snapshot_disk();
    let theirs = snapshot_file::encode_snapshot(
        Identity {
            cluster_id: 7,
            node_id: 3,
        },
        &Snapshot {
            index: LogIndex::new(60),
            term: Term::new(5),
            members: vec![1, 2, 3],
            kv: KvStore::default(),
        },
    );
    let mut handle = disk.clone();
    handle.truncate(SNAPSHOT_FILE, 0).unwrap();
    handle.write(SNAPSHOT_FILE, 0, &theirs).unwrap();
    handle.sync(SNAPSHOT_FILE).unwrap();
    let error = open(&disk).err().unwrap();
    assert!(matches!(error, StorageError::WrongOwner { .. }), "{error}");
}

/// A record that does not follow from what is written is refused before
/// anything is written, and nothing acknowledged is lost: an entry out of
/// order, a truncation inside the snapshot, a snapshot at or below the
/// durable one's index (the core takes and installs only newer ones).
#[test]
fn an_entry_out_of_order_or_a_truncation_inside_the_snapshot_is_refused() {
    for bad in [
        entry(75, 5),
        Persist::TruncateLog {
            from: LogIndex::new(60),
        },
        snapshot(60, 5, 400),
        snapshot(40, 3, 10),
    ] {
        let disk = written_snapshot_disk();
        let (mut log, _) = open(&disk).unwrap();
        let error = log.append(&[bad]).unwrap_err();
        assert!(
            matches!(error, StorageError::InvalidRecord { .. }),
            "{error}"
        );
        assert!(log.sync().is_err(), "the storage goes on after refusing");
        let (_, recovered) = open(&disk).unwrap();
        assert_eq!(recovered.state, applied(&snapshot_batches()[..6]));
    }
}

/// One step of a random run, turned into records against the state so far
/// (so every record is one the core could emit).
#[derive(Clone, Debug)]
enum Step {
    Append(u8),
    Truncate(u8),
    Vote,
    TakeSnapshot(u8),
    InstallSnapshot(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1..6u8).prop_map(Step::Append),
        1 => any::<u8>().prop_map(Step::Truncate),
        1 => Just(Step::Vote),
        1 => any::<u8>().prop_map(Step::TakeSnapshot),
        1 => (1..4u8).prop_map(Step::InstallSnapshot),
    ]
}

/// The records of `steps`, in batches, valid against the state each
/// follows. Terms only grow, so each snapshot's term is its entry's.
fn materialise(steps: &[Vec<Step>]) -> Vec<Vec<Persist>> {
    let mut state = DurableState::default();
    let mut term = 1;
    steps
        .iter()
        .map(|batch| {
            let mut records = Vec::new();
            for step in batch {
                let base = state.base_index().get();
                let last = base + state.log.len() as u64;
                let record = match *step {
                    Step::Append(count) => {
                        for index in last + 1..last + u64::from(count) {
                            let record = entry(index, term);
                            state.apply(&record);
                            records.push(record);
                        }
                        entry(last + u64::from(count), term)
                    }
                    Step::Truncate(_) if last == base => continue,
                    Step::Truncate(at) => {
                        term += 1;
                        Persist::TruncateLog {
                            from: LogIndex::new(base + 1 + u64::from(at) % (last - base)),
                        }
                    }
                    Step::Vote => {
                        term += 1;
                        vote(term, Some(term % 3 + 1))
                    }
                    Step::TakeSnapshot(_) if last == base => continue,
                    Step::TakeSnapshot(at) => {
                        let index = base + 1 + u64::from(at) % (last - base);
                        let covered = &state.log[(index - base - 1) as usize];
                        snapshot(index, covered.term.get(), u64::from(at) * 3)
                    }
                    Step::InstallSnapshot(ahead) => {
                        term += 1;
                        snapshot(last + u64::from(ahead), term, 50)
                    }
                };
                state.apply(&record);
                records.push(record);
            }
            records
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Random runs of appends, conflict truncations, votes, snapshots taken
    /// and installed, with power failing at a random operation and the
    /// unsynced sectors landing at random: the restart recovers what was
    /// acknowledged (and at most the batch in flight, whole or cut at a
    /// snapshot), and goes on from it.
    #[test]
    fn random_runs_with_a_random_power_loss_lose_nothing_acknowledged(
        steps in proptest::collection::vec(proptest::collection::vec(step(), 1..5), 1..10),
        cut in 0.0..1.0f64,
        seed in any::<u64>(),
    ) {
        let batches = materialise(&steps);
        let total = batch_ops(&batches).last().map_or(1, |&(_, end)| end);
        let at = 1 + (cut * total as f64) as u64;
        let disk = SimDisk::new();
        disk.set_faults(SimFaults {
            power_fails_at_op: Some(at),
            ..SimFaults::default()
        });
        let acknowledged = write_until_failure(&disk, &batches);
        disk.power_loss(&mut ChaCha8Rng::seed_from_u64(seed), PowerLoss::Random);
        judge_crash(&disk, &batches, acknowledged, &format!("power off at op {at} of {total}"));
    }
}

/// The same on real files, plain and lazy: snapshots and compacted logs
/// come back, and files a crash left aside are removed from the directory.
#[test]
fn real_files_hold_snapshots_and_lose_their_leftovers() {
    let batches = snapshot_batches();
    for lazy in [false, true] {
        let directory = scratch(if lazy { "snapshots-lazy" } else { "snapshots" });
        let (mut log, _) = open_directory(&directory, ME, lazy).unwrap();
        for batch in &batches {
            log.append(batch).unwrap();
            log.sync().unwrap();
        }
        drop(log);
        for name in [NEW_SNAPSHOT_FILE, NEW_LOG_FILE] {
            std::fs::write(directory.join(name), b"never renamed in").unwrap();
        }
        let (_, recovered) = open_directory(&directory, ME, lazy).unwrap();
        assert_eq!(recovered.state, applied(&batches), "lazy {lazy}");
        assert_eq!(
            recovered.snapshot_bytes,
            std::fs::metadata(directory.join(SNAPSHOT_FILE))
                .unwrap()
                .len()
        );
        for name in [NEW_SNAPSHOT_FILE, NEW_LOG_FILE] {
            assert!(
                !directory.join(name).exists(),
                "lazy {lazy}: {name} is left"
            );
        }
        let _ = std::fs::remove_dir_all(&directory);
    }
}

/// A file too short to hold a header and its checksum is refused as
/// damaged, never read past its end — even one whose last four bytes are a
/// matching checksum of the rest (a forged file, or a collision): bad
/// bytes on disk never panic the node that reads them.
#[test]
fn a_snapshot_file_shorter_than_a_header_is_refused_even_with_a_matching_checksum() {
    use super::super::format::{crc, VERSION};
    use super::super::snapshot_file::{decode_snapshot, SNAPSHOT_HEADER_LEN, SNAPSHOT_MAGIC};
    for len in 0..SNAPSHOT_HEADER_LEN + 4 {
        // The magic and this version: a reader that let the file through
        // would go on to read the owner and the body.
        let header = SNAPSHOT_MAGIC.into_iter().chain(VERSION.to_le_bytes());
        let mut bytes: Vec<u8> = header.chain([0; 64]).collect();
        bytes.truncate(len);
        if len >= 4 {
            let checksum = crc(&bytes[..len - 4]);
            bytes[len - 4..].copy_from_slice(&checksum.to_le_bytes());
        }
        let read = std::panic::catch_unwind(|| decode_snapshot(&bytes, ME));
        match read {
            Ok(Err(FormatError::Damaged {
                place: Place::Snapshot,
                ..
            })) => {}
            Ok(other) => panic!("a file of {len} bytes: {other:?}"),
            Err(_) => panic!("a file of {len} bytes panicked its reader"),
        }
    }
}

/// A snapshot stands for the log through its index, so a file naming index
/// 0 (it covers nothing) or one beyond the largest base a log can have is
/// not one this code wrote: it is refused as damaged, though its checksum
/// matches. The largest base itself is read back.
#[test]
fn a_snapshot_file_of_index_zero_or_beyond_the_largest_base_is_refused() {
    use super::super::format::MAX_BASE_INDEX;
    use super::super::snapshot_file::decode_snapshot;
    let at = |index: u64| {
        let snapshot = Snapshot {
            index: LogIndex::new(index),
            term: Term::new(5),
            members: vec![1, 2, 3],
            kv: KvStore::default(),
        };
        decode_snapshot(&snapshot_file::encode_snapshot(ME, &snapshot), ME)
    };
    for index in [0, MAX_BASE_INDEX + 1, u64::MAX] {
        assert!(
            matches!(
                at(index),
                Err(FormatError::Damaged {
                    place: Place::Snapshot,
                    ..
                })
            ),
            "index {index}: {:?}",
            at(index)
        );
    }
    let largest = at(MAX_BASE_INDEX).expect("the largest base");
    assert_eq!(largest.index, LogIndex::new(MAX_BASE_INDEX));
}
