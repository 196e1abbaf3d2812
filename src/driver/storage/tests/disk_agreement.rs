//! The simulated disk stands in for the real one in every durability test,
//! so until power fails it must behave exactly like it: on any sequence of
//! writes (holes and overwrites included), truncations, fsyncs, renames and
//! removals over a few files, [`SimDisk`], [`FileDisk`] and a lazy
//! [`FileDisk`] succeed or fail alike and every read sees the same bytes —
//! what a read sees is every write so far, fsynced or not (the page cache).
//! Power loss itself is the simulated disk's alone (`tests.rs` and
//! `tests/durability.rs` judge it); the lazy disk's one part of it, losing
//! what was not fsynced when the process dies, is checked last.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;

use super::super::disk::{Disk, FileDisk};
use super::super::simulated::SimDisk;

const NAMES: [&str; 3] = ["a", "b", "c"];

#[derive(Clone, Debug)]
enum Op {
    Write {
        name: usize,
        offset: u64,
        len: usize,
        byte: u8,
    },
    Truncate {
        name: usize,
        len: u64,
    },
    Sync {
        name: usize,
    },
    Rename {
        from: usize,
        to: usize,
    },
    Remove {
        name: usize,
    },
    SyncDir,
}

fn op() -> impl Strategy<Value = Op> {
    let name = 0..NAMES.len();
    prop_oneof![
        4 => (name.clone(), 0..2_000u64, 0..700usize, any::<u8>())
            .prop_map(|(name, offset, len, byte)| Op::Write { name, offset, len, byte }),
        1 => (name.clone(), 0..2_500u64).prop_map(|(name, len)| Op::Truncate { name, len }),
        2 => name.clone().prop_map(|name| Op::Sync { name }),
        1 => (name.clone(), name.clone()).prop_map(|(from, to)| Op::Rename { from, to }),
        1 => name.prop_map(|name| Op::Remove { name }),
        1 => Just(Op::SyncDir),
    ]
}

fn apply(disk: &mut dyn Disk, op: &Op) -> bool {
    match *op {
        Op::Write {
            name,
            offset,
            len,
            byte,
        } => disk.write(NAMES[name], offset, &vec![byte; len]),
        Op::Truncate { name, len } => disk.truncate(NAMES[name], len),
        Op::Sync { name } => disk.sync(NAMES[name]),
        Op::Rename { from, to } => disk.rename(NAMES[from], NAMES[to]),
        Op::Remove { name } => disk.remove(NAMES[name]),
        Op::SyncDir => disk.sync_dir(),
    }
    .is_ok()
}

fn reads(disk: &mut dyn Disk) -> Vec<Option<Vec<u8>>> {
    NAMES
        .iter()
        .map(|name| disk.read(name).expect("a read of a healthy disk"))
        .collect()
}

/// A fresh directory of its own for each disk of each case.
fn scratch() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let directory = std::env::temp_dir().join(format!(
        "electorate-disk-agreement-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&directory);
    directory
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_simulated_disk_reads_as_the_real_one_until_power_fails(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        let (plain_dir, lazy_dir) = (scratch(), scratch());
        let mut disks: Vec<(&str, Box<dyn Disk>)> = vec![
            ("simulated", Box::new(SimDisk::new())),
            ("plain", Box::new(FileDisk::new(&plain_dir, false).unwrap())),
            ("lazy", Box::new(FileDisk::new(&lazy_dir, true).unwrap())),
        ];
        for (step, op) in ops.iter().enumerate() {
            let mut outcomes = Vec::new();
            for (kind, disk) in &mut disks {
                outcomes.push((*kind, apply(disk.as_mut(), op), reads(disk.as_mut())));
            }
            let (_, ok, read) = &outcomes[0];
            for (kind, other_ok, other_read) in &outcomes[1..] {
                prop_assert_eq!(ok, other_ok, "step {} {:?}: {} disagrees on success", step, op, kind);
                prop_assert!(read == other_read, "step {} {:?}: {} reads otherwise", step, op, kind);
            }
        }
        // The process dies: the lazy disk's unfsynced writes die with it,
        // so what a fresh disk on the same directory reads is what was
        // written through by an fsync (or by a truncation or rename, which
        // hand the file's writes to the kernel first). Replaying only those
        // operations on a plain disk gives the same files.
        drop(disks);
        let replay_dir = scratch();
        let mut replayed = FileDisk::new(&replay_dir, false).unwrap();
        let mut pending: Vec<Vec<Op>> = vec![Vec::new(); NAMES.len()];
        for op in &ops {
            let flushed = match *op {
                Op::Write { name, .. } => {
                    pending[name].push(op.clone());
                    continue;
                }
                Op::Truncate { name, .. } | Op::Sync { name } => Some(name),
                Op::Rename { from, .. } => Some(from),
                Op::Remove { .. } | Op::SyncDir => None,
            };
            for write in flushed.map(|name| std::mem::take(&mut pending[name])).unwrap_or_default() {
                apply(&mut replayed, &write);
            }
            let done = apply(&mut replayed, op);
            match *op {
                Op::Remove { name } => pending[name].clear(),
                Op::Rename { to, .. } if done => pending[to].clear(),
                _ => {}
            }
        }
        let mut reopened = FileDisk::new(&lazy_dir, true).unwrap();
        prop_assert_eq!(reads(&mut reopened), reads(&mut replayed));
        for directory in [plain_dir, lazy_dir, replay_dir] {
            let _ = std::fs::remove_dir_all(directory);
        }
    }
}
