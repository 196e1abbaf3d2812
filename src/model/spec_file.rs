//! The raw shape of a model spec file, as serde reads it. Unknown keys are
//! refused; defaults are the design's timings scaled to 50 ms quanta. What
//! the types cannot say is checked in [`super::spec`].

use crate::model::spec::RunMode;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// What the configuration is for, in a sentence or two.
    pub description: String,
    /// The algorithm variant the model runs (see `super::variant`).
    pub algorithm: Algorithm,
    pub run: RunMode,
    pub cluster: ClusterFile,
    #[serde(default)]
    pub raft: RaftFile,
    /// Only for `algorithm = "lease-lock"`.
    pub lease_lock: Option<LeaseLockFile>,
    /// Only for `algorithm = "zk-sequential"`.
    pub zk_sequential: Option<ZkSequentialFile>,
    pub time: TimeFile,
    pub network: NetworkFile,
    pub bounds: BoundsFile,
    #[serde(default)]
    pub disk: DiskFile,
    #[serde(default)]
    pub clients: ClientsFile,
    #[serde(default)]
    pub check: CheckFile,
    pub expect: ExpectFile,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Raft,
    Bully,
    Ring,
    /// Lease-based election on a linearizable store (`[lease_lock]`).
    #[serde(rename = "lease-lock")]
    LeaseLock,
    /// ZooKeeper's ephemeral sequential election on the same store
    /// (`[zk_sequential]`).
    #[serde(rename = "zk-sequential")]
    ZkSequential,
}

impl<'de> serde::Deserialize<'de> for RunMode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Raw {
            Default,
            Explicit,
        }
        Ok(match Raw::deserialize(deserializer)? {
            Raw::Default => RunMode::Default,
            Raw::Explicit => RunMode::Explicit,
        })
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    pub nodes: u64,
    #[serde(default)]
    pub max_crashes: u32,
    /// Leadership transfers an operator may ask for in one run.
    #[serde(default)]
    pub max_transfers: u32,
    /// Operator campaigns (`Input::Campaign`: start an election now, as
    /// etcd's `Campaign`) one run may hold, each to any node that is up
    /// and does not lead (a leader ignores it).
    #[serde(default)]
    pub max_campaigns: u32,
    /// Operator snapshots (`Input::Snapshot`: snapshot the state machine
    /// now and compact the log) one run may hold, each to any node that is
    /// up; one that finds nothing applied since its last snapshot does
    /// nothing and is not offered as a step.
    #[serde(default)]
    pub max_snapshots: u32,
    /// Also let a crash land inside a step that takes or installs a
    /// snapshot, after the snapshot's record is durable and before the log
    /// is compacted through it (each such crash counts against
    /// `max_crashes`).
    #[serde(default)]
    pub crash_before_compaction: bool,
}

/// Raft options; timings in quanta of model time (`time.quantum_ms`).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaftFile {
    pub pre_vote: bool,
    pub check_quorum: bool,
    pub lease_reads: bool,
    pub heartbeat: u64,
    /// `[min, max)`, as in the core's configuration.
    pub election_timeout: [u64; 2],
    pub lease: u64,
    pub clock_drift_bound: u64,
    /// Take a snapshot (and compact the log through it) every this many
    /// applied entries; 0, the default, never does.
    pub snapshot_every: u64,
    /// The most entries one append carries, and the most pairs one chunk
    /// of a snapshot carries (`Config::max_entries_per_append`); at 1, a
    /// snapshot of two keys travels in two chunks.
    pub max_entries_per_append: u64,
    /// Deliberate bugs of the core to turn on (`"install-older-snapshot"`,
    /// or a coalescing bug: `DeliberateBugs::named`), so that a spec can
    /// show the counterexample one gives; accepted only by a build with the
    /// `deliberate-bugs` feature (the test build).
    pub deliberate_bugs: Vec<String>,
}

impl Default for RaftFile {
    /// DESIGN.md's timings in 50 ms quanta: heartbeat 50 ms, election timeout
    /// [150, 300) ms, lease 100 ms, drift bound 50 ms; every feature on.
    fn default() -> Self {
        RaftFile {
            pre_vote: true,
            check_quorum: true,
            lease_reads: true,
            heartbeat: 1,
            election_timeout: [3, 6],
            lease: 2,
            clock_drift_bound: 1,
            snapshot_every: 0,
            max_entries_per_append: 64,
            deliberate_bugs: Vec::new(),
        }
    }
}

/// lease-lock's options; timings in quanta of model time. The drift bound
/// the core checks the margin against is not a key: it is `time.clock_drift`
/// over one TTL, the most two clocks of the model can disagree.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeaseLockFile {
    /// The lease asked of the store, in store time.
    pub ttl: u64,
    /// The holder renews this many thousandths of the TTL after its last
    /// grant's request was sent.
    pub renew_permille: u32,
    /// The holder stops leading this long before its lease ends by its own
    /// clock.
    pub safety_margin: u64,
    /// `[min, max)` delay before a refused candidate tries again.
    pub retry: [u64; 2],
    pub request_timeout: u64,
    /// A holder's job: the time between its check that it leads and its
    /// write to the protected resource.
    pub work_duration: u64,
    /// The pause between one write and the next job.
    pub work_pause: u64,
    /// Whether the protected resource refuses tokens older than the newest
    /// it accepted.
    pub fencing: bool,
    /// Who decides that a lease expired: `"store"` (etcd's leases: the
    /// store's clock) or `"challenger"` (Kubernetes' client-go: the store
    /// never expires the record; a challenger that saw it unchanged for
    /// `ttl` by its own clock takes it over by compare-and-set).
    pub expiry: String,
}

impl Default for LeaseLockFile {
    /// The smallest timings that still show a handover: a 2-quantum lease
    /// renewed after half a quantum, a margin of one quantum (which covers
    /// `time.clock_drift = 1`), retries after one quantum, jobs of one
    /// quantum with long pauses between them (one write per lease in a
    /// short run), requests given up after 4 quanta; fencing on, the store
    /// expiring leases.
    fn default() -> Self {
        LeaseLockFile {
            ttl: 2,
            renew_permille: 250,
            safety_margin: 1,
            retry: [1, 2],
            request_timeout: 4,
            work_duration: 1,
            work_pause: 8,
            fencing: true,
            expiry: "store".to_owned(),
        }
    }
}

/// zk-sequential's options; timings in quanta of model time. As for
/// lease-lock, the drift bound the margin is checked against is
/// `time.clock_drift` over one session timeout.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZkSequentialFile {
    /// A session ends once no request of it reached the store for this
    /// long, store time, and its entry goes with it.
    pub session_timeout: u64,
    /// A candidate keeps its session alive this long after the send time
    /// of its last answered request.
    pub keep_alive: u64,
    /// The leader stops leading this long before its session could have
    /// ended by its own clock.
    pub safety_margin: u64,
    /// `[min, max)` delay before a candidate opens its first session.
    pub retry: [u64; 2],
    pub request_timeout: u64,
    /// A leader's job: the time between its check that it leads and its
    /// write to the protected resource.
    pub work_duration: u64,
    /// The pause between one write and the next job.
    pub work_pause: u64,
    /// Whether the protected resource refuses tokens older than the newest
    /// it accepted.
    pub fencing: bool,
}

impl Default for ZkSequentialFile {
    /// The smallest timings that show a handover without drift: a session
    /// timeout of 2 quanta kept alive every quantum, no margin (none is
    /// needed while clocks do not drift; a spec with `time.clock_drift`
    /// needs one), the first session opened after one quantum, jobs of one
    /// quantum with long pauses between them (one write per leader in a
    /// short run), requests given up after 4; fencing on.
    fn default() -> Self {
        ZkSequentialFile {
            session_timeout: 2,
            keep_alive: 1,
            safety_margin: 0,
            retry: [1, 2],
            request_timeout: 4,
            work_duration: 1,
            work_pause: 8,
            fencing: true,
        }
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeFile {
    #[serde(default = "default_quantum_ms")]
    pub quantum_ms: u64,
    pub max_time: u64,
    #[serde(default)]
    pub clock_drift: u64,
    /// How election timeouts are drawn: `"minimum"` (the default: every
    /// draw the range's lower bound), `"seeded"` (a ChaCha8 draw seeded
    /// from the node, its term and its clock) or `"extremes"` (each draw
    /// the lower or the upper bound, both explored).
    #[serde(default = "default_jitter")]
    pub jitter: String,
}

fn default_quantum_ms() -> u64 {
    50
}

fn default_jitter() -> String {
    "minimum".to_owned()
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    #[serde(default)]
    pub ordered: bool,
    #[serde(default)]
    pub lossy: bool,
    #[serde(default)]
    pub duplicating: bool,
    pub max_in_flight: usize,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundsFile {
    pub max_term: u64,
    pub max_log: u64,
    #[serde(default)]
    pub max_depth: Option<usize>,
}

/// Disk faults (see `super::disk`); both budgets 0, the default, keep
/// storage perfect: a step's records are durable the moment it ends.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskFile {
    /// Crashes in the middle of a step's write: the batch reaches the disk
    /// whole or not at all, nothing of the step is sent, the node is down.
    pub max_power_losses: u32,
    /// Crashed nodes whose synced data is found damaged on restart: each
    /// refuses to start and stays down for good. At most a minority.
    pub max_damaged_nodes: u32,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsFile {
    /// One client per operation: `"write 1"`, `"cas 1 2"`, `"cas nil 1"`,
    /// `"read"`, on key `x`, or on the key named first: `"y: write 1"`.
    #[serde(default)]
    pub operations: Vec<String>,
    /// Also let any two idle clients send their operations to a leader
    /// together, as one `Input::ClientBatch`: the writes of a batch then
    /// reach each follower in one coalesced append.
    #[serde(default)]
    pub batches: bool,
}

/// The search strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Bfs,
    Dfs,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckFile {
    pub strategy: Strategy,
    pub threads: usize,
    /// Explore states that differ only in node names once (see
    /// `model::symmetry`); needs `strategy = "dfs"`.
    pub symmetry: bool,
}

impl Default for CheckFile {
    fn default() -> Self {
        CheckFile {
            strategy: Strategy::Bfs,
            threads: 2,
            symmetry: false,
        }
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectFile {
    #[serde(default)]
    pub violated: Vec<String>,
    #[serde(default)]
    pub reachable: Vec<String>,
    #[serde(default)]
    pub unreachable: Vec<String>,
    pub unique_states: Option<usize>,
}
