//! A seeded in-memory disk that keeps what was written apart from what was
//! synced, and fails the way disks fail (TigerBeetle's storage simulator is
//! the model):
//!
//! - **power loss** ([`SimDisk::power_loss`]): every sector written since
//!   its file's last fsync is lost or lands — all, none, or any subset, so a
//!   multi-sector write can land with later sectors present and earlier
//!   ones missing; creations, renames and removals since the last directory fsync are
//!   undone. Power can also fail *during* an operation
//!   ([`SimFaults::power_fails_at_op`]): that operation and every later one
//!   fail until the loss is applied, as if the process died there.
//! - **corruption at rest** ([`SimDisk::flip_bit`], [`SimDisk::zero_sector`],
//!   [`SimDisk::misdirect`]): synced data that reads back damaged.
//! - **fsync error** ([`SimFaults::fail_next_sync`]): the fsync reports EIO
//!   and, as Linux does, the dirty data it failed to write is dropped from
//!   the dirty set — a retried fsync "succeeds" without writing it, and a
//!   power loss loses it (the PostgreSQL "fsyncgate" lesson).
//! - **disk full** ([`SimFaults::capacity`]): a write that does not fit
//!   writes the part that fits, unsynced (a short write), and fails with
//!   `StorageFull` (ENOSPC).
//!
//! A [`SimDisk`] is a handle: clones share one disk, so a test keeps one
//! to crash and damage the disk a node's log writes through.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rand::Rng;

use super::disk::Disk;

/// The unit a disk writes atomically, and the unit of damage.
pub const SECTOR: u64 = 512;

/// What a power loss does to the unsynced sectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerLoss {
    LoseAll,
    KeepAll,
    /// Each sector lands or not, independently.
    Random,
}

/// Faults armed on a disk.
#[derive(Clone, Debug, Default)]
pub struct SimFaults {
    /// Power fails when the operation count reaches this (counting writes,
    /// truncations, fsyncs, renames, removals and directory fsyncs from the
    /// disk's creation).
    pub power_fails_at_op: Option<u64>,
    /// The next fsync of a file fails with EIO.
    pub fail_next_sync: bool,
    /// The fsync (of a file or of the directory) that is operation number
    /// N, counted as `power_fails_at_op` counts, fails with EIO: reaches
    /// each fsync of a sequence in turn.
    pub fail_sync_at_op: Option<u64>,
    /// The most bytes all files may hold together.
    pub capacity: Option<u64>,
    /// How long each fsync takes in simulated time (zero: instant). A slow
    /// disk for the health checks; the data is unaffected.
    pub sync_latency: std::time::Duration,
}

#[derive(Clone, Debug, Default)]
struct SimFile {
    /// What survives a power loss.
    durable: Vec<u8>,
    /// What a read sees (the page cache).
    current: Vec<u8>,
    /// Sectors written since the last fsync.
    dirty: BTreeSet<u64>,
    /// Whether the length changed since the last fsync.
    resized: bool,
    /// Reads of sector `key` return sector `value` (a misdirected read).
    misdirected: BTreeMap<u64, u64>,
}

#[derive(Debug, Default)]
struct State {
    files: Vec<SimFile>,
    names: BTreeMap<String, usize>,
    /// The directory as of its last fsync.
    durable_names: BTreeMap<String, usize>,
    faults: SimFaults,
    ops: u64,
    /// Fsyncs of files and of the directory asked for so far.
    syncs: u64,
    /// Power is off: every operation fails until the loss is applied.
    dead: bool,
}

/// A simulated disk (a cheap handle; clones share the disk).
#[derive(Clone, Debug, Default)]
pub struct SimDisk {
    state: Arc<Mutex<State>>,
}

fn power_off() -> io::Error {
    io::Error::other("simulated power loss")
}

impl SimDisk {
    pub fn new() -> SimDisk {
        SimDisk::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Arms (or disarms) faults.
    pub fn set_faults(&self, faults: SimFaults) {
        self.state().faults = faults;
    }

    pub fn faults(&self) -> SimFaults {
        self.state().faults.clone()
    }

    /// Bytes all files hold together now, synced or not (for arming
    /// [`SimFaults::capacity`]).
    pub fn used_bytes(&self) -> u64 {
        self.state().total_len()
    }

    /// Operations so far (for arming [`SimFaults::power_fails_at_op`]).
    pub fn ops(&self) -> u64 {
        self.state().ops
    }

    /// Fsyncs (of files and of the directory) asked for so far.
    pub fn syncs(&self) -> u64 {
        self.state().syncs
    }

    /// Whether power failed during an operation and the loss is not yet
    /// applied.
    pub fn is_dead(&self) -> bool {
        self.state().dead
    }

    /// Cuts the power: unsynced sectors land or not as `mode` says, the
    /// directory reverts to its last fsync, and the disk works again.
    /// Returns how many unsynced sectors were lost.
    pub fn power_loss(&self, rng: &mut impl Rng, mode: PowerLoss) -> usize {
        let mut state = self.state();
        let mut lost = 0;
        for file in &mut state.files {
            let mut durable = file.durable.clone();
            if file.resized && file.current.len() < durable.len() && rng.random_bool(0.5) {
                durable.truncate(file.current.len());
            }
            for &sector in &file.dirty {
                let lands = match mode {
                    PowerLoss::LoseAll => false,
                    PowerLoss::KeepAll => true,
                    PowerLoss::Random => rng.random_bool(0.5),
                };
                let start = (sector * SECTOR) as usize;
                let end = (start + SECTOR as usize).min(file.current.len());
                if !lands || start >= end {
                    lost += usize::from(!lands);
                    continue;
                }
                if durable.len() < end {
                    durable.resize(end, 0);
                }
                durable[start..end].copy_from_slice(&file.current[start..end]);
            }
            file.durable = durable.clone();
            file.current = durable;
            file.dirty.clear();
            file.resized = false;
        }
        state.names = state.durable_names.clone();
        state.faults.power_fails_at_op = None;
        state.dead = false;
        lost
    }

    /// What survives a power loss of `name` now (`None`: it would vanish).
    pub fn synced_bytes(&self, name: &str) -> Option<Vec<u8>> {
        let state = self.state();
        let index = *state.durable_names.get(name)?;
        Some(state.files[index].durable.clone())
    }

    /// Damage at rest to synced data, seen by every later read.
    fn damage(&self, name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> bool {
        let mut state = self.state();
        let Some(&index) = state.names.get(name) else {
            return false;
        };
        let file = &mut state.files[index];
        let before = file.durable.clone();
        edit(&mut file.durable);
        let changed = file.durable != before;
        file.current = file.durable.clone();
        changed
    }

    /// Flips bit `bit` of byte `offset`; false if there is no such byte.
    pub fn flip_bit(&self, name: &str, offset: u64, bit: u8) -> bool {
        self.damage(name, |bytes| {
            if let Some(byte) = bytes.get_mut(offset as usize) {
                *byte ^= 1 << (bit % 8);
            }
        })
    }

    /// Zeroes the sector holding byte `offset`; false if nothing changed.
    pub fn zero_sector(&self, name: &str, offset: u64) -> bool {
        self.damage(name, |bytes| {
            let start = (offset / SECTOR * SECTOR) as usize;
            let end = (start + SECTOR as usize).min(bytes.len());
            if start < end {
                bytes[start..end].fill(0);
            }
        })
    }

    /// From now on reads of the sector holding byte `offset` return the
    /// sector holding byte `from` instead; false if the two read the same.
    pub fn misdirect(&self, name: &str, offset: u64, from: u64) -> bool {
        let mut state = self.state();
        let Some(&index) = state.names.get(name) else {
            return false;
        };
        let file = &mut state.files[index];
        let (sector, from) = (offset / SECTOR, from / SECTOR);
        let before = read_through(file);
        file.misdirected.insert(sector, from);
        read_through(file) != before
    }

    /// Counts an operation; fails it if power fails now or failed before.
    fn operation(state: &mut State) -> io::Result<()> {
        if state.dead {
            return Err(power_off());
        }
        state.ops += 1;
        if state
            .faults
            .power_fails_at_op
            .is_some_and(|at| state.ops >= at)
        {
            state.dead = true;
            return Err(power_off());
        }
        Ok(())
    }
}

/// `file`'s content as a read sees it, misdirected sectors included.
fn read_through(file: &SimFile) -> Vec<u8> {
    let mut bytes = file.current.clone();
    for (&sector, &from) in &file.misdirected {
        let len = bytes.len() as u64;
        let (start, source) = (sector * SECTOR, from * SECTOR);
        if start >= len {
            continue;
        }
        let end = (start + SECTOR).min(len);
        for i in 0..(end - start) {
            bytes[(start + i) as usize] = file
                .current
                .get((source + i) as usize)
                .copied()
                .unwrap_or(0);
        }
    }
    bytes
}

impl State {
    fn file_mut(&mut self, name: &str) -> &mut SimFile {
        if !self.names.contains_key(name) {
            self.files.push(SimFile::default());
            let index = self.files.len() - 1;
            self.names.insert(name.to_owned(), index);
        }
        let index = self.names[name];
        &mut self.files[index]
    }

    fn total_len(&self) -> u64 {
        self.names
            .values()
            .map(|&index| self.files[index].current.len() as u64)
            .sum()
    }
}

impl Disk for SimDisk {
    fn read(&mut self, name: &str) -> io::Result<Option<Vec<u8>>> {
        let state = self.state();
        if state.dead {
            return Err(power_off());
        }
        Ok(state
            .names
            .get(name)
            .map(|&index| read_through(&state.files[index])))
    }

    fn write(&mut self, name: &str, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let mut state = self.state();
        SimDisk::operation(&mut state)?;
        let old_len = state
            .names
            .get(name)
            .map_or(0, |&i| state.files[i].current.len() as u64);
        let room = state
            .faults
            .capacity
            .map(|capacity| capacity.saturating_sub(state.total_len()));
        // As write(2) does when the device fills: the part that fits is
        // written (a short write), then the rest fails with ENOSPC.
        let growth = (offset + bytes.len() as u64).saturating_sub(old_len);
        let full = room.is_some_and(|room| growth > room);
        let bytes = match room {
            Some(room) if full => {
                let fits = (old_len + room).saturating_sub(offset);
                &bytes[..usize::try_from(fits).map_or(bytes.len(), |fits| fits.min(bytes.len()))]
            }
            _ => bytes,
        };
        let end = offset + bytes.len() as u64;
        let file = state.file_mut(name);
        if !bytes.is_empty() {
            if file.current.len() < end as usize {
                file.current.resize(end as usize, 0);
            }
            file.current[offset as usize..end as usize].copy_from_slice(bytes);
            file.dirty.extend(offset / SECTOR..=(end - 1) / SECTOR);
        }
        if full {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device (simulated)",
            ));
        }
        Ok(())
    }

    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()> {
        let mut state = self.state();
        SimDisk::operation(&mut state)?;
        let file = state.file_mut(name);
        file.current.resize(len as usize, 0);
        file.resized = true;
        Ok(())
    }

    fn sync(&mut self, name: &str) -> io::Result<()> {
        let mut state = self.state();
        SimDisk::operation(&mut state)?;
        state.syncs += 1;
        let fail = std::mem::take(&mut state.faults.fail_next_sync)
            || state.faults.fail_sync_at_op == Some(state.ops);
        let file = state.file_mut(name);
        if fail {
            // The kernel forgets the pages it could not write: a later
            // fsync will not try again, and a power loss loses them.
            file.dirty.clear();
            file.resized = false;
            return Err(io::Error::other(
                "input/output error (simulated fsync failure)",
            ));
        }
        // Only what is dirty goes to the platter: sectors an earlier failed
        // fsync dropped stay stale there although reads show them new.
        let mut durable = std::mem::take(&mut file.durable);
        durable.resize(file.current.len(), 0);
        for &sector in &file.dirty {
            let start = (sector * SECTOR) as usize;
            let end = (start + SECTOR as usize).min(file.current.len());
            if start < end {
                durable[start..end].copy_from_slice(&file.current[start..end]);
            }
        }
        file.durable = durable;
        file.dirty.clear();
        file.resized = false;
        Ok(())
    }

    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        let mut state = self.state();
        SimDisk::operation(&mut state)?;
        let index = state
            .names
            .remove(from)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, from.to_owned()))?;
        state.names.insert(to.to_owned(), index);
        Ok(())
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        let mut state = self.state();
        SimDisk::operation(&mut state)?;
        state.names.remove(name);
        Ok(())
    }

    fn sync_dir(&mut self) -> io::Result<()> {
        let mut state = self.state();
        SimDisk::operation(&mut state)?;
        state.syncs += 1;
        if state.faults.fail_sync_at_op == Some(state.ops) {
            // The renames since the last directory fsync may or may not
            // be durable: left as they are, a power loss decides.
            return Err(io::Error::other(
                "input/output error (simulated directory fsync failure)",
            ));
        }
        state.durable_names = state.names.clone();
        Ok(())
    }

    fn path(&self, name: &str) -> PathBuf {
        PathBuf::from("simulated").join(name)
    }

    fn modelled_sync_latency(&self) -> Option<std::time::Duration> {
        Some(self.state().faults.sync_latency)
    }
}
