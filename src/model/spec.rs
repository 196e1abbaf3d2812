//! Model specs: the TOML files in `models/`, one per bounded configuration,
//! like TLA+ `.cfg` files. A spec names the algorithm and its options, the
//! cluster, the network, the faults, the clocks, the bounds of the search,
//! the client operations and the outcome the check must give.
//!
//! Loading happens in two passes. Serde reads the file into the raw
//! structures of `spec_file`, which refuse unknown keys
//! (`deny_unknown_fields`), so a typo is an error rather than a silently
//! ignored setting. Then `ModelSpec::from_file` checks what the types
//! cannot: ranges, contradictions between keys, and whether the core accepts
//! the resulting Raft configuration. Every error names the file, the key and
//! why.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::check::properties::Property;
use crate::core::client::Operation;
use crate::core::lease_lock::{self, ConfigError, Expiry};
use crate::core::node::NodeId;
use crate::core::raft::deliberate_bugs::DeliberateBugs;
use crate::core::raft::{Config, MAX_MEMBERS};
use crate::harness::algorithm::{Bully, Raft, Ring};
use crate::harness::lock_service::{LeaseLock, ZkSequential};
use crate::model::operations::parse_operation;
use crate::model::properties;
use crate::model::register::MAX_KEYS;
pub use crate::model::spec_file::{Algorithm, Strategy};
use crate::model::spec_file::{
    DiskFile, ExpectFile, LeaseLockFile, NetworkFile, RaftFile, SpecFile, TimeFile,
};
use crate::model::symmetry::MAX_SYMMETRIC_NODES;
use crate::model::variant::{Capabilities, ModelVariant};

/// Why a spec was refused. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    /// Bad TOML, a missing or unknown key, or a value of the wrong type. The
    /// message from the TOML parser quotes the offending line and key.
    #[error("{file}: {message}")]
    Syntax { file: PathBuf, message: String },
    /// Well-formed, but impossible or contradictory.
    #[error("{file}: `{key}`: {reason}")]
    Invalid {
        file: PathBuf,
        key: &'static str,
        reason: String,
    },
}

/// Which test run checks a spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunMode {
    /// `cargo test` checks it.
    Default,
    /// Only `electorate check FILE` or the ignored test check it: too big for
    /// every `cargo test`.
    Explicit,
}

/// How the model draws election timeouts (see `super::rng`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Jitter {
    /// Every timeout is the minimum. Ticks are lazy (a node may fire at any
    /// instant after its deadline), so this covers every longer draw too.
    Minimum,
    /// A ChaCha8 draw seeded from the node, its term and its clock.
    Seeded,
    /// Every draw is the minimum or the maximum, and the checker explores
    /// both (`super::rng`): timeouts of unequal length, one node's the
    /// longest while a peer's is the shortest.
    Extremes,
}

/// The network's guarantees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NetworkSpec {
    /// Per-link FIFO (like TCP); otherwise any in-flight message may be
    /// delivered next.
    pub ordered: bool,
    /// Any in-flight message may be lost.
    pub lossy: bool,
    /// Any in-flight message may be delivered twice.
    pub duplicating: bool,
    /// States with more messages in flight are outside the search.
    pub max_in_flight: usize,
}

/// Raft's options and timings, with timings in quanta of model time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RaftSpec {
    pub pre_vote: bool,
    pub check_quorum: bool,
    pub lease_reads: bool,
    pub heartbeat: u64,
    pub election_timeout_min: u64,
    pub election_timeout_max: u64,
    pub lease: u64,
    pub clock_drift_bound: u64,
    /// `Config::snapshot_every`: a snapshot every this many applied
    /// entries (0: never).
    pub snapshot_every: u64,
    /// `Config::max_entries_per_append`: the most entries in one append,
    /// and the most pairs in one snapshot chunk.
    pub max_entries_per_append: usize,
    /// The core's deliberate bugs the spec turns on (`raft.deliberate_bugs`).
    pub bugs: DeliberateBugs,
}

/// Disk faults, each with a budget per run (`[disk]`, see
/// `crate::model::disk`). Both 0: storage is perfect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DiskSpec {
    /// Power losses in the middle of a step's write.
    pub max_power_losses: u32,
    /// Nodes that find their synced data damaged when they restart, refuse
    /// to start and stay down: at most a minority of the cluster.
    pub max_damaged_nodes: u32,
}

/// Model time: a discrete real time and one local clock per node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeSpec {
    pub quantum: Duration,
    /// Real time runs from 0 to this many quanta.
    pub max_time: u64,
    /// How many quanta a node's clock may gain on real time in a run, so two
    /// clocks measuring the same interval disagree by at most this much.
    pub clock_drift: u64,
    pub jitter: Jitter,
}

/// Limits of the search, beyond time: states past them are not explored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bounds {
    pub max_term: u64,
    pub max_log: u64,
    /// A bound on path length; `None` explores every state within the other
    /// bounds.
    pub max_depth: Option<usize>,
}

/// The outcome the check must give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectations {
    /// `always` properties that must have a counterexample. Every other
    /// `always` property must hold.
    pub violated: BTreeSet<Property>,
    /// `sometimes` properties that must have an example.
    pub reachable: BTreeSet<Property>,
    /// `sometimes` properties that must have none.
    pub unreachable: BTreeSet<Property>,
    /// The number of unique states the complete search must visit.
    pub unique_states: Option<usize>,
}

/// How the checker searches, unless the command line says otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckSpec {
    pub strategy: Strategy,
    pub threads: usize,
    /// Symmetry reduction: one representative per class of states that
    /// differ only in node names (`crate::model::symmetry`).
    pub symmetry: bool,
}

/// A validated model spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    /// The file it came from, for messages.
    pub path: PathBuf,
    pub description: String,
    pub algorithm: Algorithm,
    pub run: RunMode,
    pub nodes: u64,
    pub max_crashes: u32,
    pub max_transfers: u32,
    /// Operator campaigns (`Input::Campaign`) in one run
    /// (`cluster.max_campaigns`).
    pub max_campaigns: u32,
    /// Operator snapshots (`Input::Snapshot`) in one run
    /// (`cluster.max_snapshots`).
    pub max_snapshots: u32,
    /// A crash may land between a snapshot's record and the log's
    /// compaction (`cluster.crash_before_compaction`, see
    /// `crate::model::disk`).
    pub crash_before_compaction: bool,
    pub disk: DiskSpec,
    pub raft: RaftSpec,
    /// lease-lock as `[lease_lock]` configures it, its timings scaled by
    /// the quantum (the defaults for other algorithms, which ignore it).
    pub lease_lock: LeaseLock,
    /// zk-sequential as `[zk_sequential]` configures it, likewise.
    pub zk_sequential: ZkSequential,
    pub time: TimeSpec,
    pub network: NetworkSpec,
    pub bounds: Bounds,
    /// Client operations, each issued at most once by its own client.
    pub operations: Vec<Operation>,
    /// The keys the operations name, in the order they first appear: the
    /// registers of the linearizability check (`register::CasRegisters`).
    pub keys: Vec<String>,
    /// Whether two idle clients may also send as one batch
    /// ([`Action::ClientBatch`](crate::model::action::Action::ClientBatch)).
    pub client_batches: bool,
    pub check: CheckSpec,
    pub expect: Expectations,
}

/// The key an operation works on unless it names another: one register is
/// enough to check linearizability, and more keys multiply states; a
/// second key serves a snapshot of two pairs.
pub const KEY: &str = "x";

impl ModelSpec {
    pub fn load(path: &Path) -> Result<ModelSpec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            file: path.to_owned(),
            source,
        })?;
        ModelSpec::parse(path, &text)
    }

    /// Parses and validates `text`, which came from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<ModelSpec, SpecError> {
        let file: SpecFile = toml::from_str(text).map_err(|error| SpecError::Syntax {
            file: path.to_owned(),
            message: error.to_string().trim_end().to_owned(),
        })?;
        ModelSpec::from_file(path, file)
    }

    fn from_file(path: &Path, file: SpecFile) -> Result<ModelSpec, SpecError> {
        let invalid = |key: &'static str, reason: String| SpecError::Invalid {
            file: path.to_owned(),
            key,
            reason,
        };
        let nodes = file.cluster.nodes;
        if !(1..=MAX_MEMBERS as u64).contains(&nodes) {
            return Err(invalid(
                "cluster.nodes",
                format!("a cluster has 1 to {MAX_MEMBERS} nodes, not {nodes}"),
            ));
        }
        let raft = raft_spec(&file.raft).map_err(|(key, reason)| invalid(key, reason))?;
        let time = time_spec(&file.time).map_err(|(key, reason)| invalid(key, reason))?;
        let network = network_spec(&file.network).map_err(|(key, reason)| invalid(key, reason))?;
        let disk = disk_spec(&file.disk, &file).map_err(|(key, reason)| invalid(key, reason))?;
        let lease_lock =
            lease_lock_spec(&file, &time).map_err(|(key, reason)| invalid(key, reason))?;
        let zk_sequential = zk_sequential::zk_sequential_spec(&file, &time)
            .map_err(|(key, reason)| invalid(key, reason))?;
        let bounds = Bounds {
            max_term: file.bounds.max_term,
            max_log: file.bounds.max_log,
            max_depth: file.bounds.max_depth,
        };
        if bounds.max_depth == Some(0) {
            return Err(invalid(
                "bounds.max_depth",
                "must be positive (leave it out for no depth bound)".into(),
            ));
        }
        let mut operations = Vec::new();
        for text in &file.clients.operations {
            let operation = parse_operation(KEY, text).map_err(|reason| {
                invalid(
                    "clients.operations",
                    format!("operation {text:?}: {reason}"),
                )
            })?;
            operations.push(operation);
        }
        let keys = keys_of(&operations).map_err(|reason| invalid("clients.operations", reason))?;
        let check =
            check_spec(&file, &time, &bounds).map_err(|(key, reason)| invalid(key, reason))?;
        capable(&file).map_err(|(key, reason)| invalid(key, reason))?;
        let spec = ModelSpec {
            path: path.to_owned(),
            description: file.description,
            algorithm: file.algorithm,
            run: file.run,
            nodes,
            max_crashes: file.cluster.max_crashes,
            max_transfers: file.cluster.max_transfers,
            max_campaigns: file.cluster.max_campaigns,
            max_snapshots: file.cluster.max_snapshots,
            crash_before_compaction: file.cluster.crash_before_compaction,
            disk,
            raft,
            lease_lock,
            zk_sequential,
            time,
            network,
            bounds,
            operations,
            keys,
            client_batches: file.clients.batches,
            check,
            expect: Expectations {
                violated: BTreeSet::new(),
                reachable: BTreeSet::new(),
                unreachable: BTreeSet::new(),
                unique_states: file.expect.unique_states,
            },
        };
        // The core must accept the configuration as every node would see it.
        spec.config()
            .validate(1, &spec.members())
            .map_err(|error| invalid("raft", error.to_string()))?;
        let expect =
            expectations(&spec, &file.expect).map_err(|(key, reason)| invalid(key, reason))?;
        Ok(ModelSpec { expect, ..spec })
    }

    /// A short name for reports: the file name without `.toml`.
    pub fn name(&self) -> String {
        self.path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }

    pub fn members(&self) -> Vec<NodeId> {
        (1..=self.nodes).collect()
    }

    /// `quanta` quanta of model time as a duration.
    pub fn quanta(&self, quanta: u64) -> Duration {
        self.time.quantum * u32::try_from(quanta).expect("validated: small")
    }

    /// The core configuration every node runs with: the spec's timings
    /// scaled by the quantum.
    pub fn config(&self) -> Config {
        Config {
            heartbeat_interval: self.quanta(self.raft.heartbeat),
            election_timeout_min: self.quanta(self.raft.election_timeout_min),
            election_timeout_max: self.quanta(self.raft.election_timeout_max),
            lease_duration: self.quanta(self.raft.lease),
            clock_drift_bound: self.quanta(self.raft.clock_drift_bound),
            pre_vote: self.raft.pre_vote,
            check_quorum: self.raft.check_quorum,
            lease_reads: self.raft.lease_reads,
            snapshot_every: self.raft.snapshot_every,
            max_entries_per_append: self.raft.max_entries_per_append,
            bugs: self.raft.bugs,
            ..Config::default()
        }
    }
}

type KeyError = (&'static str, String);

/// The distinct keys of `operations`, in the order they first appear; at
/// most `register::MAX_KEYS` of them.
fn keys_of(operations: &[Operation]) -> Result<Vec<String>, String> {
    let mut keys: Vec<String> = Vec::new();
    for operation in operations {
        if !keys.iter().any(|key| key == operation.key()) {
            keys.push(operation.key().to_owned());
        }
    }
    if keys.len() > MAX_KEYS {
        return Err(format!(
            "the operations name {} keys ({}); the model has registers for {MAX_KEYS}",
            keys.len(),
            keys.join(", ")
        ));
    }
    Ok(keys)
}

impl Algorithm {
    /// What the model can do with this algorithm.
    pub fn capabilities(self) -> Capabilities {
        match self {
            Algorithm::Raft => Raft::CAPABILITIES,
            Algorithm::Bully => Bully::CAPABILITIES,
            Algorithm::Ring => Ring::CAPABILITIES,
            Algorithm::LeaseLock => LeaseLock::CAPABILITIES,
            Algorithm::ZkSequential => ZkSequential::CAPABILITIES,
        }
    }
}

/// Refuses clients and transfers for an algorithm without them: the model
/// would never offer them, and a spec must not seem to check what it does
/// not.
fn capable(file: &SpecFile) -> Result<(), KeyError> {
    let capabilities = file.algorithm.capabilities();
    if !capabilities.clients && !file.clients.operations.is_empty() {
        return Err((
            "clients.operations",
            format!(
                "the {:?} model has no clients (only Raft's history is checked for \
                 linearizability); leave the operations out",
                file.algorithm
            ),
        ));
    }
    if file.clients.batches && file.clients.operations.len() < 2 {
        return Err((
            "clients.batches",
            "a batch takes two clients: give at least two operations".to_owned(),
        ));
    }
    if file.lease_lock.is_some() && file.algorithm != Algorithm::LeaseLock {
        return Err((
            "lease_lock",
            format!(
                "the section configures lease-lock, not {:?}; leave it out",
                file.algorithm
            ),
        ));
    }
    if file.zk_sequential.is_some() && file.algorithm != Algorithm::ZkSequential {
        return Err((
            "zk_sequential",
            format!(
                "the section configures zk-sequential, not {:?}; leave it out",
                file.algorithm
            ),
        ));
    }
    if capabilities.lock_service
        && (file.disk.max_power_losses > 0 || file.disk.max_damaged_nodes > 0)
    {
        return Err((
            "disk",
            "lock-service candidates keep nothing on disk and the idealised store does not \
             crash: disk faults would change nothing; leave `[disk]` out"
                .to_owned(),
        ));
    }
    if !capabilities.transfers && file.cluster.max_transfers > 0 {
        return Err((
            "cluster.max_transfers",
            format!(
                "the {:?} model has no leadership transfer; set it to 0",
                file.algorithm
            ),
        ));
    }
    // The operator's inputs are modelled for Raft, the variant with
    // transfers: a Bully or Ring campaign is its own election timer's
    // business, and a lock-service candidate has no election to start.
    if !capabilities.transfers && file.cluster.max_campaigns > 0 {
        return Err((
            "cluster.max_campaigns",
            format!(
                "the {:?} model has no operator campaign; set it to 0",
                file.algorithm
            ),
        ));
    }
    if !capabilities.log && file.cluster.max_snapshots > 0 {
        return Err((
            "cluster.max_snapshots",
            format!(
                "the {:?} model has no log to snapshot; set it to 0",
                file.algorithm
            ),
        ));
    }
    snapshots_are_possible(file)
}

/// Refuses the snapshot keys where no snapshot can be taken: snapshots
/// are Raft's (a log to compact), and a crash between a snapshot and the
/// compaction needs both a snapshot threshold and a crash budget.
fn snapshots_are_possible(file: &SpecFile) -> Result<(), KeyError> {
    if file.algorithm != Algorithm::Raft {
        let key = if file.raft.snapshot_every > 0 {
            Some("raft.snapshot_every")
        } else if file.raft.max_entries_per_append != RaftFile::default().max_entries_per_append {
            Some("raft.max_entries_per_append")
        } else if !file.raft.deliberate_bugs.is_empty() {
            Some("raft.deliberate_bugs")
        } else if file.cluster.crash_before_compaction {
            Some("cluster.crash_before_compaction")
        } else {
            None
        };
        if let Some(key) = key {
            return Err((
                key,
                format!(
                    "snapshots and Raft's deliberate bugs are Raft's; the {:?} model has no \
                     log to compact",
                    file.algorithm
                ),
            ));
        }
    }
    if file.cluster.crash_before_compaction {
        if file.raft.snapshot_every == 0 {
            return Err((
                "cluster.crash_before_compaction",
                "no snapshot is ever taken (`raft.snapshot_every` is 0), so no crash can land \
                 between one and the compaction"
                    .into(),
            ));
        }
        if file.cluster.max_crashes == 0 {
            return Err((
                "cluster.crash_before_compaction",
                "such a crash counts against `cluster.max_crashes`, which is 0".into(),
            ));
        }
    }
    Ok(())
}

/// The largest number of quanta any timing or bound may span: enough for
/// any model that finishes, small enough that arithmetic never overflows.
const MAX_QUANTA: u64 = 1_000;

fn at_most(key: &'static str, value: u64, max: u64) -> Result<u64, KeyError> {
    if value > max {
        return Err((key, format!("{value} is more than the supported {max}")));
    }
    Ok(value)
}

fn raft_spec(raft: &RaftFile) -> Result<RaftSpec, KeyError> {
    let [min, max] = raft.election_timeout;
    if min >= max {
        return Err((
            "raft.election_timeout",
            format!("[{min}, {max}) is an empty range: the first bound is inclusive, the second exclusive"),
        ));
    }
    Ok(RaftSpec {
        pre_vote: raft.pre_vote,
        check_quorum: raft.check_quorum,
        lease_reads: raft.lease_reads,
        heartbeat: at_most("raft.heartbeat", raft.heartbeat, MAX_QUANTA)?,
        election_timeout_min: min,
        election_timeout_max: at_most("raft.election_timeout", max, MAX_QUANTA)?,
        lease: at_most("raft.lease", raft.lease, MAX_QUANTA)?,
        clock_drift_bound: at_most("raft.clock_drift_bound", raft.clock_drift_bound, MAX_QUANTA)?,
        snapshot_every: at_most(
            "raft.snapshot_every",
            raft.snapshot_every,
            MAX_SNAPSHOT_EVERY,
        )?,
        max_entries_per_append: per_append(raft.max_entries_per_append)?,
        bugs: deliberate_bugs(&raft.deliberate_bugs)?,
    })
}

/// `raft.max_entries_per_append`, between 1 (the core refuses 0) and the
/// core's default, 64.
fn per_append(value: u64) -> Result<usize, KeyError> {
    let key = "raft.max_entries_per_append";
    if value == 0 {
        return Err((key, "must be at least 1".into()));
    }
    let max = Config::default().max_entries_per_append as u64;
    Ok(at_most(key, value, max)? as usize)
}

/// The largest `raft.snapshot_every`: a model's logs hold a handful of
/// entries (`bounds.max_log`), so a larger threshold could never be met.
const MAX_SNAPSHOT_EVERY: u64 = 64;

/// The bugs `raft.deliberate_bugs` names, all switched on together. Refused
/// in a build that cannot switch them on: the spec would claim to show a
/// bug the core then does not have.
fn deliberate_bugs(names: &[String]) -> Result<DeliberateBugs, KeyError> {
    let key = "raft.deliberate_bugs";
    if !names.is_empty() && !DeliberateBugs::AVAILABLE {
        return Err((
            key,
            "this build has no deliberate bugs (only a build with the `deliberate-bugs` \
             feature, such as the test build, can switch them on)"
                .into(),
        ));
    }
    let mut bugs = DeliberateBugs::default();
    for name in names {
        let Some(named) = DeliberateBugs::named(name) else {
            return Err((
                key,
                format!(
                    "no deliberate bug is named {name:?} (\"install-older-snapshot\", \
                     \"commit-ahead\", \"loses-entry\", \"across-terms\", \"anywhere\")"
                ),
            ));
        };
        let merged = either(bugs, named);
        if merged == bugs {
            return Err((key, format!("{name:?} is listed twice")));
        }
        bugs = merged;
    }
    Ok(bugs)
}

/// Every bug on in `a` or in `b`. (Written field by field, so that a new
/// bug of the core fails to compile here until it is merged too.)
fn either(a: DeliberateBugs, b: DeliberateBugs) -> DeliberateBugs {
    DeliberateBugs {
        unpersisted_vote: a.unpersisted_vote || b.unpersisted_vote,
        vote_without_log_check: a.vote_without_log_check || b.vote_without_log_check,
        lease_from_ack: a.lease_from_ack || b.lease_from_ack,
        unchecked_lease: a.unchecked_lease || b.unchecked_lease,
        coalesced_commit_ahead: a.coalesced_commit_ahead || b.coalesced_commit_ahead,
        coalesce_loses_entry: a.coalesce_loses_entry || b.coalesce_loses_entry,
        coalesce_across_terms: a.coalesce_across_terms || b.coalesce_across_terms,
        coalesce_anywhere: a.coalesce_anywhere || b.coalesce_anywhere,
        install_older_snapshot: a.install_older_snapshot || b.install_older_snapshot,
    }
}

fn time_spec(time: &TimeFile) -> Result<TimeSpec, KeyError> {
    if time.quantum_ms == 0 {
        return Err(("time.quantum_ms", "must be positive".into()));
    }
    let jitter = match time.jitter.as_str() {
        "minimum" => Jitter::Minimum,
        "seeded" => Jitter::Seeded,
        "extremes" => Jitter::Extremes,
        other => {
            return Err((
                "time.jitter",
                format!("{other:?} is not one of \"minimum\", \"seeded\", \"extremes\""),
            ))
        }
    };
    Ok(TimeSpec {
        quantum: Duration::from_millis(at_most("time.quantum_ms", time.quantum_ms, 60_000)?),
        max_time: at_most("time.max_time", time.max_time, MAX_QUANTA)?,
        clock_drift: at_most("time.clock_drift", time.clock_drift, MAX_QUANTA)?,
        jitter,
    })
}

/// The lease-lock variant of `[lease_lock]` (its defaults if the section is
/// left out), timings scaled by `time.quantum_ms`. The core's drift bound
/// is derived from `time.clock_drift`: the rate at which two clocks part by
/// `clock_drift` quanta over one TTL. The core refuses a margin below the
/// drift allowance; so does the spec, unless it expects Exclusive Holding
/// violated, which is what such a margin shows.
fn lease_lock_spec(file: &SpecFile, time: &TimeSpec) -> Result<LeaseLock, KeyError> {
    let default = LeaseLockFile::default();
    let section = file.lease_lock.as_ref().unwrap_or(&default);
    let expiry = match section.expiry.as_str() {
        "store" => Expiry::Store,
        "challenger" => Expiry::Challenger,
        other => {
            return Err((
                "lease_lock.expiry",
                format!("{other:?} is not one of \"store\", \"challenger\""),
            ))
        }
    };
    let [retry_min, retry_max] = section.retry;
    let quanta = |key: &'static str, value: u64| -> Result<Duration, KeyError> {
        let value = at_most(key, value, MAX_QUANTA)?;
        Ok(time.quantum * u32::try_from(value).expect("at most MAX_QUANTA"))
    };
    let ttl = at_most("lease_lock.ttl", section.ttl, MAX_QUANTA)?;
    let config = lease_lock::Config {
        ttl: quanta("lease_lock.ttl", ttl)?,
        renew_permille: section.renew_permille,
        safety_margin: quanta("lease_lock.safety_margin", section.safety_margin)?,
        clock_drift_ppm: drift_ppm(time.clock_drift, ttl),
        retry_min: quanta("lease_lock.retry", retry_min)?,
        retry_max: quanta("lease_lock.retry", retry_max)?,
        request_timeout: quanta("lease_lock.request_timeout", section.request_timeout)?,
        work_duration: quanta("lease_lock.work_duration", section.work_duration)?,
        work_pause: quanta("lease_lock.work_pause", section.work_pause)?,
        expiry,
    };
    match config.validate() {
        Ok(()) => {}
        Err(error @ ConfigError::MarginBelowDrift { .. }) => {
            margin_below_drift(file, "lease_lock.safety_margin", &error)?
        }
        Err(error) => return Err(("lease_lock", error.to_string())),
    }
    Ok(LeaseLock {
        config,
        fencing: section.fencing,
    })
}

/// A lock service's safety margin below its clocks' drift allowance lets
/// two holders overlap: a spec may run one only to show it, expecting
/// Exclusive Holding violated; otherwise the margin is refused at
/// `setting` with the core's `error`.
fn margin_below_drift(
    file: &SpecFile,
    setting: &'static str,
    error: &dyn std::fmt::Display,
) -> Result<(), KeyError> {
    let exclusive = Property::ExclusiveHolding.name();
    if file.expect.violated.iter().any(|name| name == exclusive) {
        return Ok(());
    }
    Err((
        setting,
        format!("{error}; a spec may run such a margin only to show it, expecting \"{exclusive}\" violated"),
    ))
}

/// The drift rate, in parts per million, at which a fast and a slow clock
/// part by `drift` quanta over `ttl` quanta of real time: `2ρ/(1+ρ) · ttl =
/// drift`, rounded down so that the core's allowance never exceeds `drift`
/// quanta (a margin of `drift` quanta is then exactly enough). Over a
/// million when the drift is twice the TTL or more, which the core
/// refuses.
fn drift_ppm(drift: u64, ttl: u64) -> u32 {
    let Some(span) = (2 * ttl).checked_sub(drift).filter(|&span| span > 0) else {
        return u32::MAX;
    };
    u32::try_from(drift * 1_000_000 / span).unwrap_or(u32::MAX)
}

fn network_spec(network: &NetworkFile) -> Result<NetworkSpec, KeyError> {
    if network.ordered && network.duplicating {
        return Err((
            "network.duplicating",
            "an ordered network is a FIFO link per pair of nodes (like TCP), which never \
             duplicates; set `ordered = false` to model duplication"
                .into(),
        ));
    }
    if network.max_in_flight == 0 {
        return Err((
            "network.max_in_flight",
            "must be positive: no message could ever be sent".into(),
        ));
    }
    Ok(NetworkSpec {
        ordered: network.ordered,
        lossy: network.lossy,
        duplicating: network.duplicating,
        max_in_flight: network.max_in_flight,
    })
}

/// Refuses disk budgets that would take a majority down for good (nothing
/// could be elected after, so `sometimes` goals and the search would mean
/// little) or that nothing could ever use.
fn disk_spec(disk: &DiskFile, file: &SpecFile) -> Result<DiskSpec, KeyError> {
    let nodes = file.cluster.nodes;
    let minority = (nodes.saturating_sub(1) / 2) as u32;
    if disk.max_damaged_nodes > minority {
        return Err((
            "disk.max_damaged_nodes",
            format!(
                "{} of {nodes} nodes is not a minority: a damaged node stays down for good, \
                 so at most {minority} may be",
                disk.max_damaged_nodes
            ),
        ));
    }
    if disk.max_damaged_nodes > 0 && file.cluster.max_crashes == 0 && disk.max_power_losses == 0 {
        return Err((
            "disk.max_damaged_nodes",
            "storage is found damaged when a crashed node restarts, and nothing may crash: \
             set `cluster.max_crashes` or `disk.max_power_losses`"
                .into(),
        ));
    }
    Ok(DiskSpec {
        max_power_losses: at_most("disk.max_power_losses", disk.max_power_losses.into(), 16)?
            as u32,
        max_damaged_nodes: disk.max_damaged_nodes,
    })
}

fn check_spec(file: &SpecFile, time: &TimeSpec, bounds: &Bounds) -> Result<CheckSpec, KeyError> {
    let check = &file.check;
    if check.threads == 0 {
        return Err(("check.threads", "must be at least 1".into()));
    }
    if bounds.max_depth.is_some() && check.threads > 1 {
        // With a depth bound, which states are cut off depends on the order
        // of the search, which several threads make nondeterministic.
        return Err((
            "check.threads",
            "a depth bound needs a single-threaded search to give a stable state count".into(),
        ));
    }
    if check.symmetry {
        symmetry_is_valid(file, time)?;
    }
    Ok(CheckSpec {
        strategy: check.strategy,
        threads: check.threads,
        symmetry: check.symmetry,
    })
}

/// Refuses `check.symmetry` where node ids are not interchangeable or the
/// search cannot use it (see `crate::model::symmetry`).
fn symmetry_is_valid(file: &SpecFile, time: &TimeSpec) -> Result<(), KeyError> {
    let refuse = |reason: &str| Err(("check.symmetry", reason.to_owned()));
    match file.algorithm {
        Algorithm::Raft => {}
        Algorithm::Bully => {
            return refuse(
                "Bully elects the node with the highest id: node ids are not interchangeable",
            )
        }
        Algorithm::Ring => {
            return refuse("Ring passes its token in id order: node ids are not interchangeable")
        }
        Algorithm::LeaseLock => {
            return refuse(
                "the renaming of lease-lock states (candidates, and the service after them) is \
                 not written; symmetry reduction is Raft's",
            )
        }
        Algorithm::ZkSequential => {
            return refuse(
                "entries are numbered in the order candidates join, and the renaming of \
                 zk-sequential states is not written; symmetry reduction is Raft's",
            )
        }
    }
    if time.jitter == Jitter::Seeded {
        return refuse(
            "`time.jitter = \"seeded\"` draws each node's election timeouts from its id, so \
             renamed nodes would time out differently; use \"minimum\"",
        );
    }
    if file.check.strategy != Strategy::Dfs {
        return refuse(
            "stateright reduces by symmetry only in its depth-first search: set \
             `check.strategy = \"dfs\"`",
        );
    }
    if file.cluster.nodes > MAX_SYMMETRIC_NODES {
        return refuse(&format!(
            "at most {MAX_SYMMETRIC_NODES} nodes: finding a state's representative may try \
             every order of nodes that look alike"
        ));
    }
    Ok(())
}

/// Resolves the property names of `[expect]` and refuses expectations the
/// configuration makes impossible.
fn expectations(spec: &ModelSpec, expect: &ExpectFile) -> Result<Expectations, KeyError> {
    let capabilities = spec.algorithm.capabilities();
    let always = properties::always(capabilities);
    let sometimes = properties::sometimes(capabilities);
    let violated = property_names("expect.violated", &expect.violated, &always)?;
    let reachable = property_names("expect.reachable", &expect.reachable, &sometimes)?;
    let unreachable = property_names("expect.unreachable", &expect.unreachable, &sometimes)?;
    if let Some(property) = reachable.intersection(&unreachable).next() {
        return Err((
            "expect.unreachable",
            format!("{:?} is also listed as reachable", property.name()),
        ));
    }
    for &property in &reachable {
        if let Some(reason) = impossible(spec, property) {
            return Err((
                "expect.reachable",
                format!("{:?} cannot happen: {reason}", property.name()),
            ));
        }
    }
    Ok(Expectations {
        violated,
        reachable,
        unreachable,
        unique_states: expect.unique_states,
    })
}

fn property_names(
    key: &'static str,
    names: &[String],
    known: &[Property],
) -> Result<BTreeSet<Property>, KeyError> {
    let mut resolved = BTreeSet::new();
    for name in names {
        let Some(property) = Property::from_name(name).filter(|found| known.contains(found)) else {
            let known: Vec<&str> = known.iter().map(|property| property.name()).collect();
            return Err((
                key,
                format!("unknown property {name:?}; the properties here are {known:?}"),
            ));
        };
        if !resolved.insert(property) {
            return Err((key, format!("{name:?} is listed twice")));
        }
    }
    Ok(resolved)
}

/// Why a `sometimes` property cannot be reached in `spec`, if it cannot.
fn impossible(spec: &ModelSpec, property: Property) -> Option<&'static str> {
    let has_write = spec.operations.iter().any(|operation| !operation.is_read());
    let has_read = spec.operations.iter().any(Operation::is_read);
    match property {
        Property::WriteCommitted if !has_write => Some("`clients.operations` has no write or cas"),
        Property::LeaderReplaced if spec.max_crashes == 0 && spec.disk.max_power_losses == 0 => {
            Some("`cluster.max_crashes` and `disk.max_power_losses` are 0")
        }
        Property::LeaseReadServed if !spec.raft.lease_reads => Some("`raft.lease_reads` is off"),
        Property::LeaseReadServed if !has_read => Some("`clients.operations` has no read"),
        Property::SnapshotTaken | Property::SnapshotInstalled
            if spec.raft.snapshot_every == 0 && spec.max_snapshots == 0 =>
        {
            Some("`raft.snapshot_every` and `cluster.max_snapshots` are 0")
        }
        Property::LongTimeoutFollows if spec.time.jitter == Jitter::Minimum => {
            Some("`time.jitter` is \"minimum\": every election timeout is the minimum")
        }
        Property::RestartBeforeCompaction if !spec.crash_before_compaction => {
            Some("`cluster.crash_before_compaction` is off")
        }
        _ => None,
    }
}

mod zk_sequential;

#[cfg(test)]
pub(crate) mod tests;
