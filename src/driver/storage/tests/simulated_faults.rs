//! The simulated disk fails the way its module documentation says, and no
//! other way: every durability test trusts it to, so a fault model that
//! quietly kept an unsynced write, or lost a synced one, would make them
//! pass for the wrong reason. Each test states one rule of the model.

use std::io;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::super::disk::Disk;
use super::super::simulated::{PowerLoss, SimDisk, SimFaults, SECTOR};

const S: usize = SECTOR as usize;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn read(disk: &SimDisk, name: &str) -> Option<Vec<u8>> {
    disk.clone().read(name).expect("a read of a live disk")
}

/// A disk whose file `f` holds two sectors of 1s, fsynced and its creation
/// made durable, then 2s written unsynced over its second sector and into
/// two new sectors after it.
fn half_synced() -> SimDisk {
    let mut disk = SimDisk::new();
    disk.write("f", 0, &[1; 2 * S]).unwrap();
    disk.sync("f").unwrap();
    disk.sync_dir().unwrap();
    disk.write("f", S as u64, &[2; 3 * S]).unwrap();
    disk
}

#[test]
fn a_power_loss_keeps_every_synced_byte_and_lands_or_loses_each_unsynced_sector_whole() {
    let disk = half_synced();
    assert_eq!(disk.power_loss(&mut rng(0), PowerLoss::LoseAll), 3);
    assert_eq!(read(&disk, "f"), Some(vec![1; 2 * S]));

    let disk = half_synced();
    assert_eq!(disk.power_loss(&mut rng(0), PowerLoss::KeepAll), 0);
    let mut written = vec![1; S];
    written.extend([2; 3 * S]);
    assert_eq!(read(&disk, "f"), Some(written));

    // At random each sector lands or not on its own, so a later sector may
    // land after an earlier one was lost (the gap reads as zeros).
    let mut landed = [0; 4];
    for seed in 0..64 {
        let disk = half_synced();
        let lost = disk.power_loss(&mut rng(seed), PowerLoss::Random);
        let bytes = read(&disk, "f").unwrap();
        assert_eq!(&bytes[..S], &[1; S], "an untouched synced sector");
        let mut missing = 0;
        for (sector, before) in [(1, 1), (2, 0), (3, 0)] {
            let got = bytes.get(sector * S..(sector + 1) * S);
            if got == Some(&[2; S][..]) {
                landed[sector] += 1;
            } else {
                missing += 1;
                assert!(
                    got.is_none_or(|got| got == [before; S]),
                    "seed {seed}: sector {sector} is neither old nor new"
                );
            }
        }
        assert_eq!(lost, missing, "seed {seed}: the count of lost sectors");
        assert_eq!(
            disk.synced_bytes("f"),
            Some(bytes),
            "what survives is synced"
        );
    }
    for (sector, &times) in landed.iter().enumerate().skip(1) {
        assert!(
            (1..64).contains(&times),
            "sector {sector} landed {times} times in 64"
        );
    }
}

#[test]
fn an_unsynced_truncation_may_or_may_not_survive_a_power_loss_and_a_synced_one_does() {
    let mut outcomes = std::collections::BTreeSet::new();
    for seed in 0..32 {
        let mut disk = SimDisk::new();
        disk.write("f", 0, &[1; 3 * S]).unwrap();
        disk.sync("f").unwrap();
        disk.sync_dir().unwrap();
        disk.truncate("f", S as u64).unwrap();
        assert_eq!(read(&disk, "f").unwrap().len(), S, "a read sees the cut");
        disk.power_loss(&mut rng(seed), PowerLoss::LoseAll);
        let bytes = read(&disk, "f").unwrap();
        assert!(bytes.iter().all(|&b| b == 1), "seed {seed}: data changed");
        outcomes.insert(bytes.len());
    }
    assert_eq!(outcomes, [S, 3 * S].into(), "cut or kept, both happen");

    let mut disk = SimDisk::new();
    disk.write("f", 0, &[1; 3 * S]).unwrap();
    disk.truncate("f", S as u64).unwrap();
    disk.sync("f").unwrap();
    disk.sync_dir().unwrap();
    disk.power_loss(&mut rng(0), PowerLoss::KeepAll);
    assert_eq!(read(&disk, "f"), Some(vec![1; S]));
}

#[test]
fn creations_renames_and_removals_since_the_last_directory_fsync_are_undone_by_a_power_loss() {
    let mut disk = SimDisk::new();
    for name in ["kept", "renamed", "removed"] {
        disk.write(name, 0, name.as_bytes()).unwrap();
        disk.sync(name).unwrap();
    }
    disk.sync_dir().unwrap();
    disk.write("created", 0, b"new").unwrap();
    disk.sync("created").unwrap();
    disk.rename("renamed", "moved").unwrap();
    disk.remove("removed").unwrap();
    assert_eq!(read(&disk, "moved"), Some(b"renamed".to_vec()));
    assert_eq!(read(&disk, "removed"), None);
    disk.power_loss(&mut rng(0), PowerLoss::KeepAll);
    let names = ["kept", "renamed", "removed", "created", "moved"];
    let present: Vec<bool> = names
        .iter()
        .map(|name| read(&disk, name).is_some())
        .collect();
    assert_eq!(present, [true, true, true, false, false], "{names:?}");
    assert_eq!(read(&disk, "renamed"), Some(b"renamed".to_vec()));

    disk.rename("renamed", "moved").unwrap();
    disk.sync_dir().unwrap();
    disk.power_loss(&mut rng(0), PowerLoss::LoseAll);
    assert_eq!(read(&disk, "moved"), Some(b"renamed".to_vec()));
    assert_eq!(read(&disk, "renamed"), None);
}

#[test]
fn a_failed_fsync_forgets_the_pages_it_failed_so_a_retry_succeeds_without_making_them_durable() {
    let mut disk = SimDisk::new();
    disk.write("f", 0, &[1; S]).unwrap();
    disk.sync("f").unwrap();
    disk.sync_dir().unwrap();
    disk.write("f", 0, &[2; S]).unwrap();
    disk.set_faults(SimFaults {
        fail_next_sync: true,
        ..SimFaults::default()
    });
    assert!(disk.sync("f").is_err());
    assert!(!disk.faults().fail_next_sync, "the fault fires once");
    assert_eq!(
        read(&disk, "f"),
        Some(vec![2; S]),
        "the page cache keeps it"
    );
    disk.sync("f").unwrap();
    assert_eq!(disk.synced_bytes("f"), Some(vec![1; S]), "never written");
    disk.power_loss(&mut rng(0), PowerLoss::KeepAll);
    assert_eq!(read(&disk, "f"), Some(vec![1; S]));
}

#[test]
fn the_fsync_at_a_given_operation_fails_and_no_other_operation_does() {
    let mut disk = SimDisk::new();
    disk.write("f", 0, b"x").unwrap();
    let at = disk.ops() + 3;
    disk.set_faults(SimFaults {
        fail_sync_at_op: Some(at),
        ..SimFaults::default()
    });
    disk.write("f", 1, b"y").unwrap(); // at - 2
    disk.sync("f").unwrap(); // at - 1
    assert!(disk.sync_dir().is_err(), "the directory fsync at {at}");
    assert_eq!(disk.ops(), at);
    disk.sync("f").unwrap();
    disk.sync_dir().unwrap();
    // The directory fsync that failed decided nothing: the next one made
    // the file durable.
    disk.power_loss(&mut rng(0), PowerLoss::LoseAll);
    assert_eq!(read(&disk, "f"), Some(b"xy".to_vec()));
}

#[test]
fn a_write_that_does_not_fit_writes_the_part_that_fits_and_fails_with_storage_full() {
    let mut disk = SimDisk::new();
    disk.set_faults(SimFaults {
        capacity: Some(100),
        ..SimFaults::default()
    });
    disk.write("a", 0, &[1; 60]).unwrap();
    let error = disk.write("b", 10, &[2; 60]).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::StorageFull);
    let mut short = vec![0; 10];
    short.extend([2; 30]);
    assert_eq!(read(&disk, "b"), Some(short), "the part that fits");
    assert_eq!(disk.used_bytes(), 100);
    // A full disk still takes a write that does not grow any file.
    disk.write("a", 0, &[3; 60]).unwrap();
    assert_eq!(read(&disk, "a"), Some(vec![3; 60]));
    assert!(disk.write("a", 60, &[3]).is_err(), "nothing more fits");
}

#[test]
fn power_failing_at_an_operation_fails_it_and_every_later_one_until_the_loss_is_applied() {
    let mut disk = SimDisk::new();
    disk.write("f", 0, b"synced").unwrap();
    disk.sync("f").unwrap();
    disk.sync_dir().unwrap();
    let at = disk.ops() + 2;
    disk.set_faults(SimFaults {
        power_fails_at_op: Some(at),
        ..SimFaults::default()
    });
    disk.write("f", 0, b"landed").unwrap();
    assert!(!disk.is_dead());
    assert!(disk.write("f", 0, b"failed").is_err(), "operation {at}");
    assert!(disk.is_dead());
    assert!(disk.sync("f").is_err());
    assert!(disk.rename("f", "g").is_err());
    assert!(disk.clone().read("f").is_err(), "a dead disk reads nothing");
    assert_eq!(disk.ops(), at, "a dead disk counts no more operations");
    disk.power_loss(&mut rng(0), PowerLoss::KeepAll);
    assert!(!disk.is_dead());
    assert_eq!(disk.faults().power_fails_at_op, None, "the fault is spent");
    assert_eq!(read(&disk, "f"), Some(b"landed".to_vec()));
    disk.write("f", 0, b"again!").unwrap();
}

#[test]
fn damage_at_rest_changes_exactly_what_it_names_and_outlives_a_power_loss() {
    let mut disk = SimDisk::new();
    let mut bytes: Vec<u8> = (0..3 * S).map(|i| (i % 251) as u8).collect();
    disk.write("f", 0, &bytes).unwrap();
    disk.sync("f").unwrap();
    disk.sync_dir().unwrap();

    assert!(disk.flip_bit("f", 700, 3));
    bytes[700] ^= 1 << 3;
    assert_eq!(read(&disk, "f").as_ref(), Some(&bytes));
    assert!(!disk.flip_bit("f", 3 * S as u64, 0), "no such byte");
    assert!(!disk.flip_bit("missing", 0, 0));

    assert!(disk.zero_sector("f", S as u64 + 5));
    bytes[S..2 * S].fill(0);
    assert_eq!(read(&disk, "f").as_ref(), Some(&bytes));
    assert!(!disk.zero_sector("f", S as u64), "already zero");

    assert!(disk.misdirect("f", 0, 2 * S as u64));
    let mut seen = bytes.clone();
    seen.copy_within(2 * S..3 * S, 0);
    assert_eq!(read(&disk, "f").as_ref(), Some(&seen));
    assert!(!disk.misdirect("f", 0, 2 * S as u64), "it reads so already");

    disk.power_loss(&mut rng(0), PowerLoss::LoseAll);
    assert_eq!(read(&disk, "f"), Some(seen), "damage is on the platter");
}

#[test]
fn operations_and_fsyncs_are_counted_as_the_faults_count_them() {
    let mut disk = SimDisk::new();
    disk.write("f", 0, b"x").unwrap();
    disk.truncate("f", 0).unwrap();
    disk.sync("f").unwrap();
    disk.rename("f", "g").unwrap();
    disk.remove("g").unwrap();
    disk.sync_dir().unwrap();
    let _ = read(&disk, "g");
    assert_eq!(
        (disk.ops(), disk.syncs()),
        (6, 2),
        "reads count for nothing"
    );
    disk.set_faults(SimFaults {
        sync_latency: std::time::Duration::from_millis(7),
        ..SimFaults::default()
    });
    assert_eq!(
        disk.modelled_sync_latency(),
        Some(std::time::Duration::from_millis(7))
    );
}
