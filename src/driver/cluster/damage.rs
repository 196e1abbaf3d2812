//! `electorate cluster --disk-faults`: while a killed node is down, its
//! data is damaged the way a power loss or a failing disk would.
//!
//! - An **unsynced tail** on any node: bytes after the synced length (torn
//!   garbage, or a whole record that was never acknowledged). The node must
//!   start, cut it and say so.
//! - **Synced damage** on at most a minority of the nodes over the whole
//!   run: a flipped bit in a synced record, a zeroed sector, the file cut
//!   short inside its synced part, or both copies of term and vote. The
//!   node must refuse to start, and stays down (bringing it back is repair
//!   from peers, not done yet).
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
use crate::driver::storage::{LOG_FILE, STATE_FILE};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DamageKind {
    UnsyncedGarbageTail,
    UnsyncedRecordTail,
    SyncedBitFlip,
    SyncedZeroedSector,
    SyncedTruncation,
    TermAndVote,
}

impl DamageKind {
    pub fn is_synced(self) -> bool {
        !matches!(
            self,
            DamageKind::UnsyncedGarbageTail | DamageKind::UnsyncedRecordTail
        )
    }
}

/// What `--disk-faults` did and what came of it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DiskFaultReport {
    pub injected: BTreeMap<DamageKind, usize>,
    /// Restarts that cut an unsynced tail and went on.
    pub tails_cut: usize,
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
        let identity = Identity {
            cluster_id: self.cluster_id,
            node_id: id,
        };
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|error| format!("{}: {error}", dir.join(name).display()))
        };
        let (state_bytes, mut log_bytes) = (read(STATE_FILE)?, read(LOG_FILE)?);
        // A node killed before its files were whole is left alone.
        let Ok(state) = format::read_state(&state_bytes, identity) else {
            return Ok(());
        };
        let synced_len = state.state.synced_len;
        let Ok(replay) = format::replay_log(&log_bytes, synced_len, identity) else {
            return Ok(());
        };
        let synced_budget = self.report.refused_nodes.len()
            + self.awaited.values().filter(|a| a.kind.is_synced()).count()
            < self.max_synced;
        let synced = synced_budget && !replay.spans.is_empty() && self.rng.random_bool(0.3);
        let kind = if synced {
            [
                DamageKind::SyncedBitFlip,
                DamageKind::SyncedZeroedSector,
                DamageKind::SyncedTruncation,
                DamageKind::TermAndVote,
            ][self.rng.random_range(0..4)]
        } else if self.rng.random_bool(0.5) {
            DamageKind::UnsyncedGarbageTail
        } else {
            DamageKind::UnsyncedRecordTail
        };
        let mut state_out = state_bytes.clone();
        log_bytes.truncate(synced_len as usize);
        let spans = &replay.spans;
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
        }
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(dir.join(name), bytes)
                .map_err(|error| format!("{}: {error}", dir.join(name).display()))
        };
        write(LOG_FILE, &log_bytes)?;
        write(STATE_FILE, &state_out)?;
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
        Ok(())
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
                "node {id} refused to start after an unsynced tail ({:?}): {}",
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
