//! The log on the simulated disk: what was synced always comes back, what
//! was not may vanish, and damaged acknowledged data is refused.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::disk::{Disk, FileDisk};
use super::format::{Identity, Place, STATE_COPY_STRIDE};
use super::simulated::{PowerLoss, SimDisk, SimFaults};
use super::*;
use crate::core::raft::{Command, Entry, LogIndex, Term};

const ME: Identity = Identity {
    cluster_id: 7,
    node_id: 2,
};

fn entry(index: u64, term: u64) -> Persist {
    Persist::AppendEntry(Entry {
        term: Term::new(term),
        index: LogIndex::new(index),
        command: Command::Write {
            key: format!("key-{index}"),
            value: index * 10,
        }
        .into(),
    })
}

fn vote(term: u64, voted_for: Option<u64>) -> Persist {
    Persist::HardState(HardState {
        term: Term::new(term),
        voted_for,
    })
}

/// Batches that vote, append, truncate a conflict and append again.
fn batches() -> Vec<Vec<Persist>> {
    let mut batches = vec![vec![vote(1, Some(2))]];
    batches.push((1..=5).map(|i| entry(i, 1)).collect());
    batches.push(vec![vote(2, Some(3)), entry(6, 2)]);
    batches.push(vec![
        Persist::TruncateLog {
            from: LogIndex::new(5),
        },
        entry(5, 2),
    ]);
    batches.push((6..=40).map(|i| entry(i, 2)).collect());
    batches.push(vec![vote(3, None)]);
    batches
}

fn applied(batches: &[Vec<Persist>]) -> DurableState {
    let mut state = DurableState::default();
    for batch in batches {
        state.apply_all(batch);
    }
    state
}

fn open(disk: &SimDisk) -> Result<(Log<SimDisk>, Recovered), StorageError> {
    Log::open(disk.clone(), ME)
}

/// A disk holding every batch, synced.
fn written_disk() -> SimDisk {
    let disk = SimDisk::new();
    let (mut log, recovered) = open(&disk).unwrap();
    assert!(recovered.fresh);
    for batch in batches() {
        log.append(&batch).unwrap();
        log.sync().unwrap();
    }
    disk
}

#[test]
fn every_synced_batch_comes_back() {
    let disk = written_disk();
    let (_, recovered) = open(&disk).unwrap();
    assert_eq!(recovered.state, applied(&batches()));
    assert!(!recovered.fresh);
    assert_eq!(recovered.cut_tail_bytes, 0);
}

#[test]
fn an_unsynced_batch_is_cut_whatever_part_of_it_landed() {
    for seed in 0..200 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let disk = written_disk();
        let (mut log, _) = open(&disk).unwrap();
        log.append(&(41..=60).map(|i| entry(i, 3)).collect::<Vec<_>>())
            .unwrap();
        log.append(&[vote(4, Some(1))]).unwrap();
        let mode = [PowerLoss::LoseAll, PowerLoss::KeepAll, PowerLoss::Random][seed as usize % 3];
        disk.power_loss(&mut rng, mode);
        let (_, recovered) = open(&disk).unwrap();
        assert_eq!(recovered.state, applied(&batches()), "seed {seed}");
        if mode == PowerLoss::KeepAll {
            assert!(recovered.cut_tail_bytes > 0);
        }
    }
}

/// Power fails at every operation of a run (its creation included): the
/// node always comes back, with everything acknowledged and nothing that
/// was not about to be.
#[test]
fn power_failing_at_any_operation_loses_nothing_acknowledged() {
    let batches = batches();
    for at in 1..60 {
        for seed in 0..8 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let disk = SimDisk::new();
            disk.set_faults(SimFaults {
                power_fails_at_op: Some(at),
                ..SimFaults::default()
            });
            let mut acknowledged = 0;
            if let Ok((mut log, _)) = open(&disk) {
                for batch in &batches {
                    if log.append(batch).and_then(|()| log.sync()).is_err() {
                        break;
                    }
                    acknowledged += 1;
                }
            }
            disk.power_loss(&mut rng, PowerLoss::Random);
            let (_, recovered) = open(&disk).unwrap_or_else(|e| panic!("op {at} seed {seed}: {e}"));
            let acked = applied(&batches[..acknowledged]);
            let in_flight = applied(&batches[..(acknowledged + 1).min(batches.len())]);
            assert!(
                recovered.state == acked || recovered.state == in_flight,
                "op {at} seed {seed}: {:?}",
                recovered.state
            );
        }
    }
}

fn spans(disk: &SimDisk) -> Vec<format::Span> {
    let state = format::read_state(&disk.synced_bytes(STATE_FILE).unwrap(), ME).unwrap();
    let log = disk.synced_bytes(LOG_FILE).unwrap();
    format::replay_log(&log, state.state.synced_len, ME)
        .unwrap()
        .spans
}

/// Damages a disk; false if nothing changed.
type Damage<'a> = dyn Fn(&SimDisk) -> bool + 'a;

fn refused(disk: &SimDisk, file: &str, place: impl Fn(Place) -> bool) {
    match open(disk) {
        Err(error @ StorageError::Damaged { .. }) => {
            let StorageError::Damaged {
                path, place: found, ..
            } = &error
            else {
                unreachable!()
            };
            assert!(path.ends_with(file), "{error}");
            assert!(place(*found), "{error}");
            let message = error.to_string();
            assert!(
                message.contains("byte") && message.contains("restore"),
                "{message}"
            );
        }
        Err(other) => panic!("refused for the wrong reason: {other}"),
        Ok((_, recovered)) => panic!("started on damaged data: {recovered:?}"),
    }
}

#[test]
fn damage_to_a_synced_record_refuses_to_start() {
    let spans = spans(&written_disk());
    let last = spans.len() - 1;
    for (which, span) in [
        ("first", spans[0]),
        ("middle", spans[last / 2]),
        ("last", spans[last]),
    ] {
        let middle_of = span.offset + span.len / 2;
        let damages: [(&str, &Damage<'_>); 3] = [
            ("bit flip", &|disk| disk.flip_bit(LOG_FILE, middle_of, 3)),
            ("zeroed sector", &|disk| {
                disk.zero_sector(LOG_FILE, middle_of)
            }),
            ("misdirected sector", &|disk| {
                disk.misdirect(LOG_FILE, middle_of, middle_of + 1024)
                    || disk.misdirect(LOG_FILE, middle_of, 0)
            }),
        ];
        for (kind, damage) in damages {
            let disk = written_disk();
            assert!(
                damage(&disk),
                "{kind} of the {which} record changed nothing"
            );
            refused(&disk, LOG_FILE, |place| {
                matches!(place, Place::Record(_) | Place::LogHeader)
            });
        }
    }
}

#[test]
fn damage_to_both_state_copies_refuses_to_start_and_one_copy_is_enough() {
    for (copy, other) in [(0, STATE_COPY_STRIDE as u64), (STATE_COPY_STRIDE as u64, 0)] {
        let disk = written_disk();
        assert!(disk.flip_bit(STATE_FILE, copy + 40, 1));
        let (_, recovered) = open(&disk).unwrap();
        assert_eq!(recovered.state, applied(&batches()));
        assert!(recovered.damaged_state_copy.is_some());
        // Opening rewrote both copies: the other one can go now.
        assert!(disk.zero_sector(STATE_FILE, other));
        let (_, recovered) = open(&disk).unwrap();
        assert_eq!(recovered.state, applied(&batches()));
    }
    let disk = written_disk();
    assert!(disk.zero_sector(STATE_FILE, 0));
    assert!(disk.misdirect(STATE_FILE, STATE_COPY_STRIDE as u64, 0));
    refused(&disk, STATE_FILE, |place| place == Place::TermAndVote);
}

#[test]
fn a_missing_or_short_synced_log_refuses_to_start() {
    let disk = written_disk();
    let (mut log, _) = open(&disk).unwrap();
    let len = disk.synced_bytes(LOG_FILE).unwrap().len() as u64;
    log.disk.truncate(LOG_FILE, len - 20).unwrap();
    log.disk.sync(LOG_FILE).unwrap();
    refused(&disk, LOG_FILE, |place| matches!(place, Place::Record(_)));
}

#[test]
fn another_nodes_or_clusters_data_and_unknown_versions_are_refused() {
    let disk = written_disk();
    for other in [
        Identity {
            cluster_id: 7,
            node_id: 3,
        },
        Identity {
            cluster_id: 8,
            node_id: 2,
        },
    ] {
        let error = Log::open(disk.clone(), other).err().unwrap();
        assert!(matches!(error, StorageError::WrongOwner { .. }), "{error}");
    }
    let mut bumped = disk.clone();
    let mut state = disk.synced_bytes(STATE_FILE).unwrap();
    for copy in [0, STATE_COPY_STRIDE] {
        state[copy + 8] = 9;
        let checksum = crc32c::crc32c(&state[copy..copy + format::STATE_COPY_LEN - 4]);
        state[copy + format::STATE_COPY_LEN - 4..copy + format::STATE_COPY_LEN]
            .copy_from_slice(&checksum.to_le_bytes());
    }
    bumped.write(STATE_FILE, 0, &state).unwrap();
    let error = open(&disk).err().unwrap();
    assert!(
        matches!(error, StorageError::UnknownVersion { found: 9, .. }),
        "{error}"
    );
}

#[test]
fn after_a_failed_fsync_nothing_more_is_written_or_acknowledged() {
    let disk = written_disk();
    let (mut log, _) = open(&disk).unwrap();
    disk.set_faults(SimFaults {
        fail_next_sync: true,
        ..SimFaults::default()
    });
    log.append(&[entry(41, 3)]).unwrap();
    let error = log.sync().unwrap_err();
    assert!(matches!(error, StorageError::SyncFailed { .. }), "{error}");
    assert!(error.to_string().contains("fsync failed"), "{error}");
    // A retry must not report success: the kernel forgot the pages.
    let again = log.sync().unwrap_err();
    assert!(matches!(again, StorageError::Stopped { .. }), "{again}");
    assert!(log.append(&[entry(42, 3)]).is_err());
    disk.power_loss(&mut ChaCha8Rng::seed_from_u64(1), PowerLoss::Random);
    let (_, recovered) = open(&disk).unwrap();
    assert_eq!(recovered.state, applied(&batches()));
}

#[test]
fn a_full_disk_is_a_clear_error_and_corrupts_nothing() {
    let disk = written_disk();
    let (mut log, _) = open(&disk).unwrap();
    disk.set_faults(SimFaults {
        capacity: Some(disk.synced_bytes(LOG_FILE).unwrap().len() as u64 + 4096 + 100),
        ..SimFaults::default()
    });
    let big: Vec<Persist> = (41..=200).map(|i| entry(i, 3)).collect();
    let error = log.append(&big).and_then(|()| log.sync()).unwrap_err();
    assert!(matches!(error, StorageError::DiskFull { .. }), "{error}");
    assert!(error.to_string().contains("disk full"), "{error}");
    disk.set_faults(SimFaults::default());
    let (mut log, recovered) = open(&disk).unwrap();
    assert_eq!(recovered.state, applied(&batches()));
    log.append(&big).unwrap();
    log.sync().unwrap();
}

#[test]
fn random_damage_anywhere_is_either_refused_or_harmless() {
    let synced = applied(&batches());
    for seed in 0..300 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let disk = written_disk();
        let file = if rng.random_bool(0.7) {
            LOG_FILE
        } else {
            STATE_FILE
        };
        let len = disk.synced_bytes(file).unwrap().len() as u64;
        let offset = rng.random_range(0..len);
        disk.flip_bit(file, offset, rng.random_range(0..8));
        match open(&disk) {
            // A flip in the padding between the state copies is harmless.
            Ok((_, recovered)) => assert_eq!(recovered.state, synced, "seed {seed}"),
            Err(StorageError::Damaged { .. }) => {}
            Err(other) => panic!("seed {seed}: {other}"),
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let directory =
        std::env::temp_dir().join(format!("electorate-storage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    directory
}

#[test]
fn real_files_round_trip_and_lazy_mode_keeps_unsynced_writes_out_of_the_file() {
    for lazy in [false, true] {
        let directory = scratch(if lazy { "lazy" } else { "plain" });
        let (mut log, recovered) = open_directory(&directory, ME, lazy).unwrap();
        assert!(recovered.fresh);
        for batch in batches() {
            log.append(&batch).unwrap();
            log.sync().unwrap();
        }
        let synced = std::fs::read(directory.join(LOG_FILE)).unwrap();
        log.append(&[entry(41, 3)]).unwrap();
        let after_write = std::fs::read(directory.join(LOG_FILE)).unwrap();
        assert_eq!(after_write == synced, lazy, "lazy {lazy}");
        // A process killed now: the lazy disk's buffer dies with it.
        drop(log);
        let (_, recovered) = open_directory(&directory, ME, lazy).unwrap();
        assert_eq!(recovered.state, applied(&batches()));
        assert_eq!(recovered.cut_tail_bytes > 0, !lazy);
        let _ = FileDisk::new(&directory, lazy).unwrap();
        let _ = std::fs::remove_dir_all(&directory);
    }
}

#[test]
fn a_file_that_cannot_be_read_is_an_error_never_an_absent_file() {
    // An absent state file means a node that never voted; a state file that
    // cannot be read means one whose vote is unknown. Taken for absent, it
    // would start fresh and could vote twice in a term.
    let directory = scratch("unreadable");
    std::fs::create_dir_all(directory.join(STATE_FILE)).unwrap();
    let mut disk = FileDisk::new(&directory, false).unwrap();
    assert!(disk.read(STATE_FILE).is_err(), "a directory read as a file");
    assert_eq!(disk.read(LOG_FILE).unwrap(), None, "an absent file");
    match open_directory(&directory, ME, false) {
        Err(StorageError::Io { .. }) => {}
        Err(other) => panic!("refused for another reason: {other}"),
        Ok((_, recovered)) => panic!("started (fresh: {})", recovered.fresh),
    }
    let _ = std::fs::remove_dir_all(&directory);
}

#[test]
fn a_removal_or_directory_sync_that_fails_is_reported_never_taken_for_done() {
    // The log's compaction removes and renames files and fsyncs the
    // directory to make that durable; a failure it is not told of would let
    // it go on as if the old file were gone, or the new name durable.
    let directory = scratch("failing-removal");
    let mut disk = FileDisk::new(&directory, false).unwrap();
    disk.remove("absent")
        .expect("removing an absent file is done already");
    std::fs::create_dir_all(directory.join("busy").join("inside")).unwrap();
    assert!(
        disk.remove("busy").is_err(),
        "a directory removed as a file"
    );
    disk.sync_dir().expect("a directory that exists syncs");
    std::fs::remove_dir_all(&directory).unwrap();
    assert!(
        disk.sync_dir().is_err(),
        "a directory that is gone cannot have been synced"
    );
}

mod disk_agreement;
mod simulated_faults;
mod snapshots;
