//! `electorate cluster --disk-faults`: while a killed node is down, its
//! data is damaged the way a power loss or a failing disk would.
//!
//! - An **unsynced tail** on any node: bytes after the synced length (torn
//!   garbage, or a whole record that was never acknowledged). The node must
//!   start, cut it and say so.
//! - **A leftover compaction file** on any node: a `raft.snapshot.new` or
//!   `raft.log.new` a crash left before its rename, never acknowledged. The
//!   node must start (recovery drops it).
//! - **Synced damage** on at most a minority of the nodes over the whole
//!   run: a flipped bit in a synced record, a zeroed sector, the file cut
//!   short inside its synced part, both copies of term and vote, or (once
//!   the node took a snapshot) a flipped bit in `raft.snapshot` or that
//!   file cut short. The node must refuse to start, and stays down
//!   (bringing it back is repair from peers, not done yet).
//!
//! Every damage is counted by kind, and every restart after one by outcome.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::core::node::NodeId;
use crate::core::raft::{Command, Entry, LogIndex, Persist};
use crate::driver::storage::format::{self, Identity};
use crate::driver::storage::{
    LOG_FILE, NEW_LOG_FILE, NEW_SNAPSHOT_FILE, SNAPSHOT_FILE, STATE_FILE,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DamageKind {
    UnsyncedGarbageTail,
    UnsyncedRecordTail,
    /// A `raft.snapshot.new` or `raft.log.new` whose rename never happened.
    LeftoverCompactionFile,
    SyncedBitFlip,
    SyncedZeroedSector,
    SyncedTruncation,
    TermAndVote,
    /// A flipped bit in `raft.snapshot`.
    SnapshotBitFlip,
    /// `raft.snapshot` cut short.
    SnapshotTruncation,
}

impl DamageKind {
    /// Whether acknowledged data is damaged (the node must refuse to
    /// start), as opposed to what a crash leaves that was never
    /// acknowledged (it must start).
    pub fn is_synced(self) -> bool {
        !matches!(
            self,
            DamageKind::UnsyncedGarbageTail
                | DamageKind::UnsyncedRecordTail
                | DamageKind::LeftoverCompactionFile
        )
    }
}

/// What `--disk-faults` did and what came of it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DiskFaultReport {
    pub injected: BTreeMap<DamageKind, usize>,
    /// Restarts that cut an unsynced tail and went on.
    pub tails_cut: usize,
    /// Restarts that went on past a leftover compaction file.
    pub leftovers_accepted: usize,
    /// Restarts that refused damaged synced data (those nodes stay down).
    pub refused: usize,
    pub refused_nodes: BTreeSet<NodeId>,
    /// Outcomes that break the rules: a refusal of an unsynced tail, a
    /// start on damaged synced data, a refusal that does not say where.
    pub wrong: Vec<String>,
}

impl DiskFaultReport {
    pub fn total_injected(&self) -> usize {
        self.injected.values().sum()
    }
}

/// A damaged node whose restart is awaited.
struct Awaited {
    kind: DamageKind,
    log: PathBuf,
    /// Where its log file ended when it was damaged.
    log_offset: u64,
}

pub struct Damager {
    rng: ChaCha8Rng,
    cluster_id: u64,
    /// At most this many nodes get synced damage.
    max_synced: usize,
    awaited: BTreeMap<NodeId, Awaited>,
    pub report: DiskFaultReport,
}

impl Damager {
    pub fn new(seed: u64, cluster_id: u64, nodes: usize) -> Damager {
        Damager {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0xd15c),
            cluster_id,
            max_synced: (nodes - 1) / 2,
            awaited: BTreeMap::new(),
            report: DiskFaultReport::default(),
        }
    }

    /// Whether a damaged node's restart has not shown its outcome yet.
    pub fn awaiting(&self) -> bool {
        !self.awaited.is_empty()
    }

    /// Nodes that refused to start: they stay down.
    pub fn refused(&self) -> &BTreeSet<NodeId> {
        &self.report.refused_nodes
    }

    /// Damages the data of node `id` (killed, down) in `dir`; `log` is its
    /// process log, where the outcome of the restart will show.
    pub fn damage(&mut self, id: NodeId, dir: &Path, log: &Path) -> Result<(), String> {
        let has_snapshot = dir.join(SNAPSHOT_FILE).exists();
        let synced_budget = self.report.refused_nodes.len()
            + self.awaited.values().filter(|a| a.kind.is_synced()).count()
            < self.max_synced;
        let synced = synced_budget && self.rng.random_bool(0.3);
        let kind = if synced {
            let mut kinds = vec![
                DamageKind::SyncedBitFlip,
                DamageKind::SyncedZeroedSector,
                DamageKind::SyncedTruncation,
                DamageKind::TermAndVote,
            ];
            // The snapshot only once there is one.
            if has_snapshot {
                kinds.extend([DamageKind::SnapshotBitFlip, DamageKind::SnapshotTruncation]);
            }
            kinds[self.rng.random_range(0..kinds.len())]
        } else {
            [
                DamageKind::UnsyncedGarbageTail,
                DamageKind::UnsyncedRecordTail,
                DamageKind::LeftoverCompactionFile,
            ][self.rng.random_range(0..3)]
        };
        self.inflict(id, dir, log, kind).map(|_| ())
    }

    /// Does `kind` of damage to node `id`'s data in `dir` and awaits the
    /// restart's outcome in `log`. Returns whether it was done: a node
    /// killed before its files were whole, or a log damage kind on a log
    /// with no synced record, is left alone.
    fn inflict(
        &mut self,
        id: NodeId,
        dir: &Path,
        log: &Path,
        kind: DamageKind,
    ) -> Result<bool, String> {
        let identity = Identity {
            cluster_id: self.cluster_id,
            node_id: id,
        };
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|error| format!("{}: {error}", dir.join(name).display()))
        };
        let (state_bytes, mut log_bytes) = (read(STATE_FILE)?, read(LOG_FILE)?);
        let Ok(state) = format::read_state(&state_bytes, identity) else {
            return Ok(false);
        };
        let synced_len = state.state.synced_len;
        let Ok(replay) = format::replay_log(&log_bytes, synced_len, identity) else {
            return Ok(false);
        };
        let spans = &replay.spans;
        let log_damage = matches!(
            kind,
            DamageKind::SyncedBitFlip
                | DamageKind::SyncedZeroedSector
                | DamageKind::SyncedTruncation
        );
        if log_damage && spans.is_empty() {
            return Ok(false);
        }
        let mut snapshot = match kind {
            DamageKind::SnapshotBitFlip | DamageKind::SnapshotTruncation => {
                match std::fs::read(dir.join(SNAPSHOT_FILE)) {
                    Ok(bytes) if !bytes.is_empty() => Some(bytes),
                    _ => return Ok(false),
                }
            }
            _ => None,
        };
        let mut leftover = None;
        let mut state_out = state_bytes.clone();
        log_bytes.truncate(synced_len as usize);
        match kind {
            DamageKind::UnsyncedGarbageTail => {
                let len = self.rng.random_range(1..600);
                log_bytes.extend((0..len).map(|_| self.rng.random::<u8>()));
            }
            DamageKind::UnsyncedRecordTail => {
                // A whole, valid record that never got its synced length.
                let next = LogIndex::from_count(replay.log.len() + 1);
                let entry = Persist::AppendEntry(Entry {
                    term: state.state.hard_state.term,
                    index: next,
                    command: Command::Noop.into(),
                });
                format::encode_record(&entry, &mut log_bytes);
            }
            DamageKind::LeftoverCompactionFile => {
                // Torn: some of what was being written aside, then garbage.
                let name = [NEW_SNAPSHOT_FILE, NEW_LOG_FILE][self.rng.random_range(0..2)];
                let len = self.rng.random_range(1..700);
                let bytes: Vec<u8> = (0..len).map(|_| self.rng.random::<u8>()).collect();
                leftover = Some((name, bytes));
            }
            DamageKind::SyncedBitFlip => {
                let span = spans[self.rng.random_range(0..spans.len())];
                let at = span.offset + self.rng.random_range(0..span.len);
                log_bytes[at as usize] ^= 1 << self.rng.random_range(0..8);
            }
            DamageKind::SyncedZeroedSector => {
                let span = spans[self.rng.random_range(0..spans.len())];
                let start = (span.offset / 512 * 512) as usize;
                let end = (start + 512).min(log_bytes.len());
                log_bytes[start..end].fill(0);
            }
            DamageKind::SyncedTruncation => {
                let span = spans[self.rng.random_range(0..spans.len())];
                log_bytes.truncate((span.offset + self.rng.random_range(0..span.len)) as usize);
            }
            DamageKind::TermAndVote => {
                for copy in [0, format::STATE_COPY_STRIDE] {
                    let at = copy + self.rng.random_range(0..format::STATE_COPY_LEN);
                    state_out[at] ^= 1 << self.rng.random_range(0..8);
                }
            }
            DamageKind::SnapshotBitFlip => {
                let bytes = snapshot.as_mut().expect("read above");
                let at = self.rng.random_range(0..bytes.len());
                bytes[at] ^= 1 << self.rng.random_range(0..8);
            }
            DamageKind::SnapshotTruncation => {
                let bytes = snapshot.as_mut().expect("read above");
                let len = self.rng.random_range(0..bytes.len());
                bytes.truncate(len);
            }
        }
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(dir.join(name), bytes)
                .map_err(|error| format!("{}: {error}", dir.join(name).display()))
        };
        write(LOG_FILE, &log_bytes)?;
        write(STATE_FILE, &state_out)?;
        if let Some(bytes) = &snapshot {
            write(SNAPSHOT_FILE, bytes)?;
        }
        if let Some((name, bytes)) = &leftover {
            write(name, bytes)?;
        }
        *self.report.injected.entry(kind).or_default() += 1;
        let log_offset = std::fs::metadata(log).map_or(0, |meta| meta.len());
        self.awaited.insert(
            id,
            Awaited {
                kind,
                log: log.to_owned(),
                log_offset,
            },
        );
        Ok(true)
    }

    /// Node `id` exited by itself; returns whether that was the refusal its
    /// damage called for.
    pub fn exited(&mut self, id: NodeId) -> bool {
        let Some(awaited) = self.awaited.remove(&id) else {
            return false;
        };
        let said = new_log(&awaited);
        if !awaited.kind.is_synced() {
            self.report.wrong.push(format!(
                "node {id} refused to start after never-acknowledged data ({:?}): {}",
                awaited.kind,
                last_line(&said)
            ));
        } else if !(said.contains("refusing to start") && said.contains("at byte")) {
            self.report.wrong.push(format!(
                "node {id} exited after {:?} without naming the damage: {}",
                awaited.kind,
                last_line(&said)
            ));
        }
        self.report.refused += 1;
        self.report.refused_nodes.insert(id);
        true
    }

    /// Looks at the logs of damaged nodes that restarted: one that started
    /// is an outcome too.
    pub fn poll(&mut self) {
        let started: Vec<NodeId> = self
            .awaited
            .iter()
            .filter(|(_, awaited)| new_log(awaited).contains("node started"))
            .map(|(&id, _)| id)
            .collect();
        for id in started {
            let awaited = self.awaited.remove(&id).expect("awaited");
            if awaited.kind.is_synced() {
                self.report.wrong.push(format!(
                    "node {id} started on damaged synced data ({:?})",
                    awaited.kind
                ));
            } else if awaited.kind == DamageKind::LeftoverCompactionFile {
                // Nothing to report: recovery drops the file silently.
                self.report.leftovers_accepted += 1;
            } else if new_log(&awaited).contains("cut an unsynced log tail") {
                self.report.tails_cut += 1;
            } else {
                self.report.wrong.push(format!(
                    "node {id} started without reporting the unsynced tail it cut ({:?})",
                    awaited.kind
                ));
            }
        }
    }
}

/// What the node's process log gained since the damage.
fn new_log(awaited: &Awaited) -> String {
    let bytes = std::fs::read(&awaited.log).unwrap_or_default();
    String::from_utf8_lossy(bytes.get(awaited.log_offset as usize..).unwrap_or_default())
        .into_owned()
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("(nothing logged)")
}

#[cfg(test)]
mod tests {
    //! The damager on a real data directory holding a snapshot: each kind
    //! of damage to `raft.snapshot` makes recovery refuse (naming the file
    //! and the byte), a leftover compaction file does not, and the damager
    //! judges a start or an exit after each the same way.

    use std::sync::Arc;

    use super::*;
    use crate::core::kv::KvStore;
    use crate::core::raft::snapshot::Snapshot;
    use crate::core::raft::{HardState, Term};
    use crate::driver::storage::{open_directory, Storage, StorageError};

    const CLUSTER: u64 = 9;
    const NODE: NodeId = 2;

    fn identity() -> Identity {
        Identity {
            cluster_id: CLUSTER,
            node_id: NODE,
        }
    }

    /// A node's data directory with a vote, 8 entries and a snapshot
    /// through entry 6 (the log compacted after it), and an empty process
    /// log beside it.
    fn data_dir(name: &str) -> (PathBuf, PathBuf) {
        let root =
            std::env::temp_dir().join(format!("electorate-damage-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("node-2");
        let (mut storage, _) = open_directory(&dir, identity(), false).expect("a new node");
        let mut records = vec![Persist::HardState(HardState {
            term: Term::new(1),
            voted_for: Some(NODE),
        })];
        records.extend((1..=8).map(|index| {
            Persist::AppendEntry(Entry {
                term: Term::new(1),
                index: LogIndex::new(index),
                command: Command::Write {
                    key: format!("k{index}"),
                    value: index,
                }
                .into(),
            })
        }));
        storage
            .append(&records)
            .and_then(|()| storage.sync())
            .unwrap();
        let mut kv = KvStore::default();
        for index in 1..=6 {
            kv.write(&format!("k{index}"), index);
        }
        let snapshot = Persist::Snapshot(Arc::new(Snapshot {
            index: LogIndex::new(6),
            term: Term::new(1),
            members: vec![1, 2, 3],
            kv,
        }));
        storage
            .append(&[snapshot])
            .and_then(|()| storage.sync())
            .unwrap();
        drop(storage);
        assert!(dir.join(SNAPSHOT_FILE).exists(), "no snapshot written");
        let log = root.join("node-2.log");
        std::fs::write(&log, "").unwrap();
        (dir, log)
    }

    fn appends(log: &Path, text: &str) {
        let mut old = std::fs::read_to_string(log).unwrap();
        old.push_str(text);
        std::fs::write(log, old).unwrap();
    }

    /// A flipped bit in `raft.snapshot` or the file cut short: recovery
    /// refuses, naming the snapshot file and a byte, over many seeds (so
    /// every byte position class and cut length is tried); the damager
    /// takes the node's refusal as the outcome due and a start as wrong.
    #[test]
    fn damage_to_the_snapshot_file_is_refused_and_a_start_on_it_is_wrong() {
        for kind in [DamageKind::SnapshotBitFlip, DamageKind::SnapshotTruncation] {
            for seed in 0..24 {
                let (dir, log) = data_dir(&format!("{kind:?}-{seed}"));
                let before = std::fs::read(dir.join(SNAPSHOT_FILE)).unwrap();
                let mut damager = Damager::new(seed, CLUSTER, 3);
                assert!(damager.inflict(NODE, &dir, &log, kind).unwrap());
                assert_ne!(std::fs::read(dir.join(SNAPSHOT_FILE)).unwrap(), before);
                let error = open_directory(&dir, identity(), false)
                    .err()
                    .unwrap_or_else(|| panic!("{kind:?}, seed {seed}: started on it"));
                assert!(
                    matches!(&error, StorageError::Damaged { path, .. } if path.ends_with(SNAPSHOT_FILE)),
                    "{kind:?}, seed {seed}: {error}"
                );
                assert!(error.to_string().contains("at byte"), "{error}");

                appends(&log, &format!("ERROR refusing to start: {error}\n"));
                assert!(damager.exited(NODE));
                assert_eq!(damager.report.refused, 1);
                assert!(
                    damager.report.wrong.is_empty(),
                    "{:?}",
                    damager.report.wrong
                );

                // Had the node started on it, the damager says so.
                std::fs::write(dir.join(SNAPSHOT_FILE), &before).unwrap();
                let mut damager = Damager::new(seed, CLUSTER, 3);
                assert!(damager.inflict(NODE, &dir, &log, kind).unwrap());
                appends(&log, "INFO node started\n");
                damager.poll();
                assert_eq!(
                    damager.report.wrong.len(),
                    1,
                    "{kind:?}: a start is not judged"
                );
                assert!(damager.report.wrong[0].contains("started on damaged synced data"));
                let _ = std::fs::remove_dir_all(dir.parent().unwrap());
            }
        }
    }

    /// A leftover `raft.snapshot.new` or `raft.log.new` was never
    /// acknowledged: recovery starts (and drops it), and the damager takes
    /// a start as the outcome due and a refusal as wrong.
    #[test]
    fn a_leftover_compaction_file_is_accepted_and_a_refusal_of_it_is_wrong() {
        let mut names = BTreeSet::new();
        for seed in 0..12 {
            let (dir, log) = data_dir(&format!("leftover-{seed}"));
            let mut damager = Damager::new(seed, CLUSTER, 3);
            let kind = DamageKind::LeftoverCompactionFile;
            assert!(damager.inflict(NODE, &dir, &log, kind).unwrap());
            let left: Vec<&str> = [NEW_SNAPSHOT_FILE, NEW_LOG_FILE]
                .into_iter()
                .filter(|name| dir.join(name).exists())
                .collect();
            assert_eq!(left.len(), 1, "seed {seed}: {left:?}");
            names.insert(left[0]);
            let (_, recovered) = open_directory(&dir, identity(), false)
                .unwrap_or_else(|error| panic!("seed {seed}: {error}"));
            assert_eq!(
                recovered.snapshot_pairs, 6,
                "seed {seed}: the snapshot is kept"
            );
            assert!(!dir.join(left[0]).exists(), "seed {seed}: {} kept", left[0]);

            appends(&log, "INFO node started\n");
            damager.poll();
            assert!(!damager.awaiting());
            assert_eq!(damager.report.leftovers_accepted, 1);
            assert!(
                damager.report.wrong.is_empty(),
                "{:?}",
                damager.report.wrong
            );

            let mut damager = Damager::new(seed, CLUSTER, 3);
            assert!(damager.inflict(NODE, &dir, &log, kind).unwrap());
            assert!(damager.exited(NODE));
            assert_eq!(damager.report.wrong.len(), 1, "a refusal is not judged");
            let _ = std::fs::remove_dir_all(dir.parent().unwrap());
        }
        assert_eq!(names.len(), 2, "both leftovers tried: {names:?}");
    }

    /// Snapshot damage is chosen only when `raft.snapshot` exists: the
    /// damager never claims it damaged a file that is not there.
    #[test]
    fn snapshot_damage_is_never_chosen_without_a_snapshot() {
        let (dir, log) = data_dir("no-snapshot");
        std::fs::remove_file(dir.join(SNAPSHOT_FILE)).unwrap();
        let whole: Vec<_> = [STATE_FILE, LOG_FILE]
            .map(|name| (name, std::fs::read(dir.join(name)).unwrap()))
            .into();
        let mut damager = Damager::new(1, CLUSTER, 101);
        for _ in 0..200 {
            // Each damage on the whole files, not on the last one's result.
            for (name, bytes) in &whole {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
            damager.damage(NODE, &dir, &log).unwrap();
            damager.awaited.clear();
        }
        let injected = &damager.report.injected;
        assert!(injected.len() > 3, "{injected:?}");
        for kind in [DamageKind::SnapshotBitFlip, DamageKind::SnapshotTruncation] {
            assert!(!injected.contains_key(&kind), "{injected:?}");
        }
        assert!(
            !damager
                .inflict(NODE, &dir, &log, DamageKind::SnapshotBitFlip)
                .unwrap(),
            "damaged a missing snapshot"
        );
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    }
}
