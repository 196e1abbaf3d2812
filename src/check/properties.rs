//! The suite's one vocabulary of properties ([`Property`]: every name the
//! model checker, the simulator, the tests and the reports use), and the
//! safety monitors of five of them, named as in DESIGN.md: Election Safety,
//! Lease Safety, Log Matching, Leader Completeness and State Machine Safety.
//!
//! A monitor is fed views of every node ([`NodeView`]) after each step
//! and remembers what it must (the leader of each term, the committed log) to
//! judge the whole run, not just the current instant. It never looks inside
//! the protocol: the same monitor judges the simulator, the model checker and
//! the threaded driver.
//!
//! Logs may be compacted: a view holds the entries after its snapshot's
//! index, and the snapshot stands for the rest. Log Matching then starts
//! where the kept entries start (the first one's predecessor is the
//! snapshot's entry); committed entries a node compacted before the monitor
//! saw them committed are recovered from the entries seen in logs earlier;
//! and every snapshot is judged as state: two snapshots at one index must be
//! equal, and a snapshot must equal the state machine built by applying the
//! committed entries it replaces (checked as soon as the monitor knows
//! them all).

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::FixedState;
use std::fmt;

use crate::core::kv::KvStore;
use crate::core::node::{NodeId, Role};
use crate::core::raft::{Entry, LogIndex, Snapshot, Term};

/// Every property the suite checks, by the one name the model checker, the
/// simulator, the tests and the reports use for it (DESIGN.md's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Property {
    /// At most one leader per term.
    ElectionSafety,
    /// At no instant of real time do two nodes both hold a valid lease.
    LeaseSafety,
    /// Two logs with an entry of the same index and term agree up to it.
    LogMatching,
    /// A leader's log holds every entry committed in earlier terms.
    LeaderCompleteness,
    /// No two nodes apply different entries at the same index.
    StateMachineSafety,
    /// Every client history is linearizable.
    Linearizability,
    /// No step panics: every node's `invariants()` hold after every step.
    NodeInvariants,
    /// Once a majority is connected and stable, a leader is elected within
    /// a bounded time and terms stop growing (the simulator).
    Liveness,
    /// Reachable: some node leads (the model's `sometimes` goals show that
    /// a bounded model is not vacuous).
    LeaderElected,
    /// Reachable: a client's write or compare-and-set is acknowledged.
    WriteCommitted,
    /// Reachable: a leader crashes and a node leads a later term.
    LeaderReplaced,
    /// Reachable: a read is answered from the leader's lease.
    LeaseReadServed,
    /// Lock services: the protected resource never accepts a write from a
    /// holder that has been superseded (`crate::check::lock_service`).
    FencedWrites,
    /// Lock services: at every instant of real time, at most one
    /// candidate's own clock says it holds the lease.
    ExclusiveHolding,
    /// Reachable: a node takes a snapshot and compacts its log through it.
    SnapshotTaken,
    /// Reachable: a follower installs a snapshot its leader sent.
    SnapshotInstalled,
    /// Reachable: a node that crashed after a snapshot's record was
    /// durable but before its log was compacted restarts.
    RestartBeforeCompaction,
    /// Reachable: a node follows a leader while its own election timeout
    /// is longer than the minimum (timeouts of unequal length: the model's
    /// `time.jitter = "extremes"`).
    LongTimeoutFollows,
}

/// What kind of claim a property makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Holds in every state of every run.
    Safety,
    /// Holds eventually, under stated conditions.
    Liveness,
    /// Some run reaches it: a check that the search is not vacuous.
    Reachability,
}

impl Property {
    /// Every property, safety first.
    pub const ALL: [Property; 18] = [
        Property::ElectionSafety,
        Property::LeaseSafety,
        Property::LogMatching,
        Property::LeaderCompleteness,
        Property::StateMachineSafety,
        Property::Linearizability,
        Property::NodeInvariants,
        Property::Liveness,
        Property::LeaderElected,
        Property::WriteCommitted,
        Property::LeaderReplaced,
        Property::LeaseReadServed,
        Property::FencedWrites,
        Property::ExclusiveHolding,
        Property::SnapshotTaken,
        Property::SnapshotInstalled,
        Property::RestartBeforeCompaction,
        Property::LongTimeoutFollows,
    ];

    /// The lock-service properties, after the others in [`Property::ALL`] but the
    /// snapshot goals: judged by
    /// [`crate::check::lock_service::LockMonitor`] in the simulator and
    /// the model checker.
    pub const LOCK_SERVICE: [Property; 2] = [Property::FencedWrites, Property::ExclusiveHolding];

    /// The properties [`SafetyMonitor`] judges, in the order it checks them.
    pub const MONITORED: [Property; 5] = [
        Property::ElectionSafety,
        Property::LeaseSafety,
        Property::LogMatching,
        Property::StateMachineSafety,
        Property::LeaderCompleteness,
    ];

    /// The property's name as DESIGN.md spells it. A `&'static str`, because
    /// stateright names its properties that way.
    pub const fn name(self) -> &'static str {
        match self {
            Property::ElectionSafety => "Election Safety",
            Property::LeaseSafety => "Lease Safety",
            Property::LogMatching => "Log Matching",
            Property::LeaderCompleteness => "Leader Completeness",
            Property::StateMachineSafety => "State Machine Safety",
            Property::Linearizability => "Linearizability",
            Property::NodeInvariants => "Node Invariants",
            Property::Liveness => "Liveness",
            Property::LeaderElected => "a leader is elected",
            Property::WriteCommitted => "a write is committed",
            Property::LeaderReplaced => "a leader is replaced after a crash",
            Property::LeaseReadServed => "a lease read is served",
            Property::FencedWrites => "Fenced Writes",
            Property::ExclusiveHolding => "Exclusive Holding",
            Property::SnapshotTaken => "a snapshot is taken",
            Property::SnapshotInstalled => "a snapshot is installed",
            Property::RestartBeforeCompaction => {
                "a node restarts from a crash between a snapshot and the compaction"
            }
            Property::LongTimeoutFollows => {
                "a node follows a leader with an election timeout above the minimum"
            }
        }
    }

    pub const fn kind(self) -> Kind {
        match self {
            Property::Liveness => Kind::Liveness,
            Property::LeaderElected
            | Property::WriteCommitted
            | Property::LeaderReplaced
            | Property::LeaseReadServed
            | Property::SnapshotTaken
            | Property::SnapshotInstalled
            | Property::RestartBeforeCompaction
            | Property::LongTimeoutFollows => Kind::Reachability,
            _ => Kind::Safety,
        }
    }

    /// The property named `name`, as [`Property::name`] spells it.
    pub fn from_name(name: &str) -> Option<Property> {
        Property::ALL
            .into_iter()
            .find(|property| property.name() == name)
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub property: Property,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} violated: {}", self.property, self.detail)
    }
}

/// One node as the monitor sees it at one instant of real time. `log` is
/// `None` for algorithms without a replicated log (Bully, Ring); it holds
/// the entries after `snapshot`'s index, when the node compacted its log.
#[derive(Clone, Copy, Debug)]
pub struct NodeView<'a> {
    pub id: NodeId,
    pub role: Role,
    pub term: Term,
    /// Whether the node holds a valid leader lease at this instant, judged on
    /// its own clock.
    pub holds_lease: bool,
    pub log: Option<&'a [Entry]>,
    /// The snapshot standing for the log through its index.
    pub snapshot: Option<&'a Snapshot>,
    pub commit_index: LogIndex,
    /// Which life of the node this is: counted up at every restart. Within
    /// one life the commit index and the snapshot's index never go back.
    /// `None` when the caller does not count restarts (the model checker,
    /// whose states leave it out to stay small): every drop is then taken
    /// for a restart, and only what the node commits again is judged.
    pub incarnation: Option<u64>,
}

impl NodeView<'_> {
    /// The last compacted index and its term ((0, 0) when nothing is).
    fn base(&self) -> (LogIndex, Term) {
        self.snapshot
            .map_or((LogIndex::ZERO, Term::ZERO), |snapshot| {
                (snapshot.index, snapshot.term)
            })
    }

    /// The kept entry at `index` (`None` if compacted or beyond the log).
    fn entry(&self, index: LogIndex) -> Option<&Entry> {
        let (base, _) = self.base();
        let position = index.get().checked_sub(base.get())?.checked_sub(1)?;
        self.log?.get(usize::try_from(position).ok()?)
    }
}

/// A snapshot some node held, and whether the monitor rebuilt its state
/// from the committed entries it replaces.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SeenSnapshot {
    snapshot: Snapshot,
    verified: bool,
}

/// How far a node had got in one life: a commit index or a snapshot that
/// goes back within it is a node forgetting what it applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Life {
    incarnation: u64,
    commit_index: LogIndex,
    snapshot_index: LogIndex,
}

/// A committed entry, with the term of the node that first treated it as
/// committed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CommittedEntry {
    entry: Entry,
    seen_committed_in_term: Term,
}

/// Watches a run for safety violations. Feed it [`SafetyMonitor::observe`]
/// after every step; it returns the first violation it finds at that
/// instant.
///
/// The checks are incremental so that a long simulation pays per step only
/// for what changed: entries appended or committed since the last look, and
/// leaders not seen before.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafetyMonitor {
    leader_of_term: BTreeMap<Term, NodeId>,
    /// The committed log as far as any node has committed it; `None` at an
    /// index that every node compacted before the monitor saw its entry.
    committed: Vec<Option<CommittedEntry>>,
    /// Per node, the commit index up to which its log was checked against
    /// `committed`.
    checked_commit: BTreeMap<NodeId, LogIndex>,
    /// Every (index, term) seen in any log, with the entry and the term of
    /// the entry before it. Log Matching holds iff each (index, term) always
    /// comes with the same entry and the same predecessor term: by induction
    /// on the index, two logs sharing (index, term) then share the prefix.
    entries_seen: HashMap<(LogIndex, Term), (Entry, Term), FixedState>,
    /// Per node, the index through which its log is known to be
    /// registered in `entries_seen`.
    checked_log: BTreeMap<NodeId, LogIndex>,
    /// The first snapshot seen at each index.
    snapshots: BTreeMap<LogIndex, SeenSnapshot>,
    /// Per node, the index of the snapshot it was last checked with.
    checked_snapshot: BTreeMap<NodeId, LogIndex>,
    /// The term in which each node was last checked as a leader for Leader
    /// Completeness.
    checked_leaders: BTreeMap<NodeId, Term>,
    /// Per node that counts its restarts, how far it got in its latest life.
    lives: BTreeMap<NodeId, Life>,
    /// Indexes committed at this observation, which every leader must hold
    /// (judged once the snapshots of the observation are judged too).
    fresh_commits: Vec<LogIndex>,
    /// Committed indexes whose entries no log the monitor saw held: a node
    /// appended, committed and compacted them in one step (a one-node
    /// cluster does). Only the snapshot standing for them can be judged,
    /// and only by its agreement with other snapshots.
    unseen_commits: u64,
}

/// Hashes what the monitor remembers of the run (leaders by term, the
/// committed log, how far each node was checked); the index of every entry
/// ever seen is left out: it follows from the logs, and equal monitors still
/// hash equally. The model checker hashes states that hold a monitor.
impl std::hash::Hash for SafetyMonitor {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.leader_of_term.hash(state);
        self.committed.hash(state);
        self.checked_commit.hash(state);
        self.checked_leaders.hash(state);
        self.snapshots.hash(state);
        self.checked_snapshot.hash(state);
        self.lives.hash(state);
    }
}

impl SafetyMonitor {
    pub fn new() -> SafetyMonitor {
        SafetyMonitor::default()
    }

    /// Judges one instant. `nodes` are the nodes that are up.
    pub fn observe(&mut self, nodes: &[NodeView]) -> Result<(), Violation> {
        self.fresh_commits.clear();
        self.check_election_safety(nodes)?;
        check_lease_safety(nodes)?;
        for node in nodes {
            self.check_log_matching(node)?;
        }
        self.check_lives(nodes)?;
        self.check_state_machine_safety(nodes)?;
        self.check_snapshots(nodes)?;
        self.check_leader_completeness(nodes, nodes)
    }

    /// Judges one instant after a step of node `changed` only: every other
    /// node is as it was at the last observation, so only what `changed`
    /// did needs checking. `nodes` are all the nodes that are up (including
    /// `changed`). This is what a simulator calls after every step.
    pub fn observe_step(&mut self, nodes: &[NodeView], changed: NodeId) -> Result<(), Violation> {
        let Some(node) = nodes.iter().find(|node| node.id == changed) else {
            return Ok(());
        };
        let node = std::slice::from_ref(node);
        self.fresh_commits.clear();
        self.check_election_safety(node)?;
        if node[0].holds_lease {
            check_lease_safety(nodes)?;
        }
        self.check_log_matching(&node[0])?;
        self.check_lives(node)?;
        self.check_state_machine_safety_of(node)?;
        self.check_snapshots(node)?;
        self.check_leader_completeness(node, nodes)
    }

    /// Judges one instant like [`SafetyMonitor::observe`], but runs every
    /// check and returns every violation, so that one broken property does
    /// not hide another (the model checker reports each property on its own).
    pub fn observe_all(&mut self, nodes: &[NodeView]) -> Vec<Violation> {
        self.fresh_commits.clear();
        let mut found = Vec::new();
        found.extend(self.check_election_safety(nodes).err());
        found.extend(check_lease_safety(nodes).err());
        found.extend(
            nodes
                .iter()
                .find_map(|node| self.check_log_matching(node).err()),
        );
        found.extend(self.check_lives(nodes).err());
        found.extend(self.check_state_machine_safety(nodes).err());
        found.extend(self.check_snapshots(nodes).err());
        found.extend(self.check_leader_completeness(nodes, nodes).err());
        found
    }

    /// The same record with every node id `id` replaced by `rename(id)`, a
    /// permutation of the members: what the monitor would hold had the nodes
    /// been named that way (the model checker's symmetry reduction).
    pub fn relabeled(&self, rename: &dyn Fn(NodeId) -> NodeId) -> SafetyMonitor {
        fn rename_keys<V: Clone>(
            map: &BTreeMap<NodeId, V>,
            rename: &dyn Fn(NodeId) -> NodeId,
        ) -> BTreeMap<NodeId, V> {
            map.iter()
                .map(|(&id, value)| (rename(id), value.clone()))
                .collect()
        }
        SafetyMonitor {
            leader_of_term: self
                .leader_of_term
                .iter()
                .map(|(&term, &leader)| (term, rename(leader)))
                .collect(),
            committed: self.committed.clone(),
            checked_commit: rename_keys(&self.checked_commit, rename),
            entries_seen: self.entries_seen.clone(),
            checked_log: rename_keys(&self.checked_log, rename),
            checked_leaders: rename_keys(&self.checked_leaders, rename),
            snapshots: self.snapshots.clone(),
            checked_snapshot: rename_keys(&self.checked_snapshot, rename),
            lives: rename_keys(&self.lives, rename),
            fresh_commits: self.fresh_commits.clone(),
            unseen_commits: self.unseen_commits,
        }
    }

    /// The leader recorded for each term so far.
    pub fn leaders(&self) -> &BTreeMap<Term, NodeId> {
        &self.leader_of_term
    }

    /// How many entries are known committed.
    pub fn committed_len(&self) -> LogIndex {
        LogIndex::from_count(self.committed.len())
    }

    /// How many distinct snapshots were seen, and how many of them the
    /// monitor rebuilt from the committed entries they replace (the rest
    /// replace entries it never saw: only their agreement with every other
    /// snapshot at their index was judged).
    pub fn snapshots_checked(&self) -> (usize, usize) {
        let verified = self.snapshots.values().filter(|seen| seen.verified).count();
        (self.snapshots.len(), verified)
    }

    /// How many committed indexes the monitor never saw an entry for (a
    /// node appended, committed and compacted them in one step): 0 in any
    /// cluster of two nodes or more, where an entry is committed in a later
    /// step than the one that appended it.
    pub fn unseen_commits(&self) -> u64 {
        self.unseen_commits
    }

    /// Within one life of a node (see [`NodeView::incarnation`]) its commit
    /// index and its snapshot's index never go back: a node that did would
    /// forget entries it applied and may have answered clients for.
    fn check_lives(&mut self, nodes: &[NodeView]) -> Result<(), Violation> {
        for node in nodes {
            let Some(incarnation) = node.incarnation else {
                continue;
            };
            let now = Life {
                incarnation,
                commit_index: node.commit_index,
                snapshot_index: node.base().0,
            };
            let before = self.lives.insert(node.id, now);
            let Some(before) = before.filter(|before| before.incarnation == incarnation) else {
                continue;
            };
            let went_back = |what: &str, from: LogIndex, to: LogIndex| Violation {
                property: Property::StateMachineSafety,
                detail: format!(
                    "node {}'s {what} went back from {from} to {to} without a restart",
                    node.id
                ),
            };
            if now.commit_index < before.commit_index {
                return Err(went_back(
                    "commit index",
                    before.commit_index,
                    now.commit_index,
                ));
            }
            if now.snapshot_index < before.snapshot_index {
                return Err(went_back(
                    "snapshot",
                    before.snapshot_index,
                    now.snapshot_index,
                ));
            }
        }
        Ok(())
    }

    fn check_election_safety(&mut self, nodes: &[NodeView]) -> Result<(), Violation> {
        for node in nodes.iter().filter(|node| node.role == Role::Leader) {
            let leader = *self.leader_of_term.entry(node.term).or_insert(node.id);
            if leader != node.id {
                return Err(Violation {
                    property: Property::ElectionSafety,
                    detail: format!(
                        "nodes {leader} and {} were both leaders of term {}",
                        node.id, node.term
                    ),
                });
            }
        }
        Ok(())
    }

    /// Paper §5.3: if two logs contain an entry with the same index and
    /// term, the logs are identical in all entries up through that index.
    /// A compacted log is judged from its first kept entry, whose
    /// predecessor is the snapshot's entry (the snapshot's term).
    fn check_log_matching(&mut self, node: &NodeView) -> Result<(), Violation> {
        let Some(log) = node.log else { return Ok(()) };
        let (base, base_term) = node.base();
        let last = base.plus(log.len());
        let checked = self.checked_log.entry(node.id).or_insert(LogIndex::ZERO);
        // Walk back over entries replaced since the last look (conflict
        // truncation, an installed snapshot): everything before them is
        // registered unchanged.
        *checked = (*checked).min(last).max(base);
        while *checked > base {
            let entry = &log[(*checked).get().abs_diff(base.get()) as usize - 1];
            match self.entries_seen.get(&(entry.index, entry.term)) {
                Some((known, _)) if known == entry => break,
                _ => *checked = checked.prev(),
            }
        }
        let first = checked.get().abs_diff(base.get()) as usize;
        for position in first..log.len() {
            let entry = &log[position];
            let previous_term = if position == 0 {
                base_term
            } else {
                log[position - 1].term
            };
            let key = (entry.index, entry.term);
            match self.entries_seen.get(&key) {
                None => {
                    self.entries_seen
                        .insert(key, (entry.clone(), previous_term));
                }
                Some((known, known_previous_term)) => {
                    if known != entry || *known_previous_term != previous_term {
                        return Err(Violation {
                            property: Property::LogMatching,
                            detail: format!(
                                "node {} holds {entry} after an entry of term {previous_term}, \
                                 but another log holds {known} after an entry of term \
                                 {known_previous_term}",
                                node.id
                            ),
                        });
                    }
                }
            }
        }
        *checked = last;
        Ok(())
    }

    /// The entries up to `last` of the log whose entry at `last` has term
    /// `last_term`, back to `from` or to the latest entry no log seen so
    /// far held, as those logs held them (by Log Matching that prefix is
    /// one and the same in every log): how the monitor learns entries a
    /// node compacted before it was seen committing them. In index order,
    /// ending at `last`.
    fn seen_prefix(&self, from: LogIndex, last: LogIndex, last_term: Term) -> Vec<Entry> {
        let mut prefix = Vec::new();
        let (mut index, mut term) = (last, last_term);
        while index >= from && index > LogIndex::ZERO {
            let Some((entry, previous_term)) = self.entries_seen.get(&(index, term)) else {
                break;
            };
            prefix.push(entry.clone());
            index = index.prev();
            term = *previous_term;
        }
        prefix.reverse();
        prefix
    }

    /// Each node's newly committed entries must agree with what others
    /// committed at the same indexes.
    fn check_state_machine_safety(&mut self, nodes: &[NodeView]) -> Result<(), Violation> {
        self.check_state_machine_safety_of(nodes)
    }

    /// Checks the new commits of `changed`, and lists the indexes first
    /// committed now in `fresh_commits`.
    fn check_state_machine_safety_of(&mut self, changed: &[NodeView]) -> Result<(), Violation> {
        for node in changed {
            if node.log.is_none() {
                continue;
            }
            let checked = self.checked_commit.entry(node.id).or_insert(LogIndex::ZERO);
            // A restarted node forgets its commit index and learns it again
            // (a drop within one life is judged by `check_lives`).
            let first_new = (*checked).min(node.commit_index).next();
            *checked = node.commit_index;
            // Committed entries the node compacted already: from the logs
            // seen before, as far back as they go.
            let (base, base_term) = node.base();
            let compacted = if first_new <= base {
                self.seen_prefix(first_new, base, base_term)
            } else {
                Vec::new()
            };
            let first_seen = base.get() + 1 - compacted.len() as u64;
            for index in first_new.through(node.commit_index) {
                let entry = if index <= base {
                    if index.get() < first_seen {
                        self.unseen_commits += 1;
                        continue;
                    }
                    &compacted[(index.get() - first_seen) as usize]
                } else {
                    match node.entry(index) {
                        Some(entry) => entry,
                        None => {
                            return Err(Violation {
                                property: Property::StateMachineSafety,
                                detail: format!(
                                    "node {} committed {index}, beyond its log",
                                    node.id
                                ),
                            })
                        }
                    }
                };
                self.check_committed(node, index, entry)?;
            }
        }
        Ok(())
    }

    /// `node` committed `entry` at `index`: it must be what was committed
    /// there before, if anything was.
    fn check_committed(
        &mut self,
        node: &NodeView,
        index: LogIndex,
        entry: &Entry,
    ) -> Result<(), Violation> {
        if self.committed.len() < index.count() {
            self.committed.resize(index.count(), None);
        }
        match &self.committed[index.position()] {
            Some(known) if known.entry != *entry => Err(Violation {
                property: Property::StateMachineSafety,
                detail: format!(
                    "node {} committed {} at index {index}, but {} was committed there before",
                    node.id, entry, known.entry
                ),
            }),
            Some(_) => Ok(()),
            None => {
                let known = CommittedEntry {
                    entry: entry.clone(),
                    seen_committed_in_term: node.term,
                };
                self.committed[index.position()] = Some(known);
                self.fresh_commits.push(index);
                Ok(())
            }
        }
    }

    /// Snapshots are state machine states: one taken or installed at an
    /// index must equal every other seen there, have the term of the entry
    /// committed there, and equal what applying the committed entries up
    /// to it gives. Snapshots whose entries the monitor did not know yet
    /// are rebuilt again at each new snapshot.
    fn check_snapshots(&mut self, nodes: &[NodeView]) -> Result<(), Violation> {
        let mut fresh = false;
        for node in nodes {
            let Some(snapshot) = node.snapshot else {
                continue;
            };
            if self.checked_snapshot.insert(node.id, snapshot.index) == Some(snapshot.index) {
                continue;
            }
            let index = snapshot.index;
            if let Some(Some(known)) = self.committed.get(index.position()) {
                if known.entry.term != snapshot.term {
                    return Err(Violation {
                        property: Property::StateMachineSafety,
                        detail: format!(
                            "node {} holds a snapshot through {index} of term {}, but {} was \
                             committed there",
                            node.id, snapshot.term, known.entry
                        ),
                    });
                }
            }
            match self.snapshots.get(&index) {
                Some(seen) if seen.snapshot != *snapshot => {
                    return Err(Violation {
                        property: Property::StateMachineSafety,
                        detail: format!(
                            "node {} holds a snapshot through {index} of term {} with {} keys, \
                             but another through the same index has term {} and {} keys, or \
                             other values",
                            node.id,
                            snapshot.term,
                            snapshot.kv.len(),
                            seen.snapshot.term,
                            seen.snapshot.kv.len()
                        ),
                    });
                }
                Some(_) => {}
                None => {
                    fresh = true;
                    let seen = SeenSnapshot {
                        snapshot: snapshot.clone(),
                        verified: false,
                    };
                    self.snapshots.insert(index, seen);
                }
            }
        }
        if fresh {
            self.rebuild_snapshots()?;
        }
        Ok(())
    }

    /// Rebuilds every snapshot not yet rebuilt from the committed entries:
    /// from the nearest rebuilt snapshot before it (or the empty state),
    /// applying the entries between. One that needs an entry the monitor
    /// has not seen committed waits for the next try.
    fn rebuild_snapshots(&mut self) -> Result<(), Violation> {
        let pending: Vec<LogIndex> = self
            .snapshots
            .iter()
            .filter(|(_, seen)| !seen.verified)
            .map(|(&index, _)| index)
            .collect();
        for index in pending {
            let (from, mut kv) = self
                .snapshots
                .range(..index)
                .rev()
                .find(|(_, seen)| seen.verified)
                .map_or((LogIndex::ZERO, KvStore::default()), |(&from, seen)| {
                    (from, seen.snapshot.kv.clone())
                });
            let mut complete = true;
            for applied in from.next().through(index) {
                match self.committed.get(applied.position()) {
                    Some(Some(known)) => {
                        known.entry.command.apply_to(&mut kv);
                    }
                    _ => {
                        complete = false;
                        break;
                    }
                }
            }
            if !complete {
                continue;
            }
            let seen = self.snapshots.get_mut(&index).expect("listed above");
            if seen.snapshot.kv != kv {
                return Err(Violation {
                    property: Property::StateMachineSafety,
                    detail: format!(
                        "a snapshot through {index} holds {:?}, but applying the entries \
                         committed up to it gives {:?}",
                        seen.snapshot.kv, kv
                    ),
                });
            }
            seen.verified = true;
        }
        Ok(())
    }

    /// A leader of term `t` must hold every entry committed in a term before
    /// `t` (paper §5.4.1). Checked in full once per new leader among
    /// `changed`; the entries committed at this observation are checked
    /// against every leader among `nodes`.
    fn check_leader_completeness(
        &mut self,
        changed: &[NodeView],
        nodes: &[NodeView],
    ) -> Result<(), Violation> {
        for node in changed.iter().filter(|node| node.role == Role::Leader) {
            if self.checked_leaders.get(&node.id) == Some(&node.term) {
                continue;
            }
            self.checked_leaders.insert(node.id, node.term);
            let mut compacted_held = None;
            for known in self.committed.iter().flatten() {
                self.check_leader_holds(node, known, &mut compacted_held)?;
            }
        }
        // Taken, so that a monitor between observations holds none.
        let fresh = std::mem::take(&mut self.fresh_commits);
        if fresh.is_empty() {
            return Ok(());
        }
        for node in nodes.iter().filter(|node| node.role == Role::Leader) {
            let mut compacted_held = None;
            for index in &fresh {
                let known = self.committed[index.position()]
                    .as_ref()
                    .expect("a fresh commit is known");
                self.check_leader_holds(node, known, &mut compacted_held)?;
            }
        }
        Ok(())
    }

    /// Whether leader `node` holds `known`. A compacted entry counts as held
    /// when the leader's snapshot was rebuilt from the committed entries
    /// (so it stands for every one of them), or when the monitor never saw
    /// some entry the snapshot replaces and so could not rebuild it (see
    /// [`SafetyMonitor::unseen_commits`]). `compacted_held` caches that
    /// answer for the leader.
    fn check_leader_holds(
        &self,
        node: &NodeView,
        known: &CommittedEntry,
        compacted_held: &mut Option<bool>,
    ) -> Result<(), Violation> {
        if node.log.is_none() || known.seen_committed_in_term >= node.term {
            return Ok(());
        }
        let index = known.entry.index;
        let (base, _) = node.base();
        let held = if index <= base {
            *compacted_held.get_or_insert_with(|| self.stands_for_committed(node))
        } else {
            node.entry(index) == Some(&known.entry)
        };
        if !held {
            return Err(Violation {
                property: Property::LeaderCompleteness,
                detail: format!(
                    "leader {} of term {} lacks {}, committed in term {}",
                    node.id, node.term, known.entry, known.seen_committed_in_term
                ),
            });
        }
        Ok(())
    }

    /// Whether `node`'s snapshot is one the monitor rebuilt from the
    /// committed entries, or one it could not rebuild because it never saw
    /// some entry at or before the snapshot's index.
    fn stands_for_committed(&self, node: &NodeView) -> bool {
        let Some(snapshot) = node.snapshot else {
            return true;
        };
        let verified = self
            .snapshots
            .get(&snapshot.index)
            .is_some_and(|seen| seen.verified && seen.snapshot == *snapshot);
        verified
            || self.committed.len() < snapshot.index.count()
            || self
                .committed
                .iter()
                .take(snapshot.index.count())
                .any(Option::is_none)
    }
}

fn check_lease_safety(nodes: &[NodeView]) -> Result<(), Violation> {
    let holders: Vec<NodeId> = nodes
        .iter()
        .filter(|node| node.holds_lease)
        .map(|node| node.id)
        .collect();
    if holders.len() > 1 {
        return Err(Violation {
            property: Property::LeaseSafety,
            detail: format!("nodes {holders:?} hold valid leases at the same instant"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::raft::Command;

    fn entry(term: u64, index: u64, value: u64) -> Entry {
        Entry {
            term: Term::new(term),
            index: LogIndex::new(index),
            command: Command::Write {
                key: "x".into(),
                value,
            }
            .into(),
        }
    }

    fn view<'a>(id: NodeId, role: Role, term: u64, log: &'a [Entry], commit: u64) -> NodeView<'a> {
        NodeView {
            id,
            role,
            term: Term::new(term),
            holds_lease: false,
            log: Some(log),
            snapshot: None,
            commit_index: LogIndex::new(commit),
            incarnation: Some(0),
        }
    }

    /// The property a fresh monitor reports broken by `breaking`, after it
    /// accepted the observations `accepted` (panics if it refuses one of
    /// them, or accepts `breaking`).
    fn broken_by(accepted: &[&[NodeView]], breaking: &[NodeView]) -> Property {
        let mut monitor = SafetyMonitor::new();
        for (step, nodes) in accepted.iter().enumerate() {
            if let Err(violation) = monitor.observe(nodes) {
                panic!("observation {step} refused: {violation:?}");
            }
        }
        monitor.observe(breaking).unwrap_err().property
    }

    #[test]
    fn two_leaders_of_one_term_break_election_safety() {
        let first = view(1, Role::Leader, 2, &[], 0);
        let second = view(2, Role::Leader, 2, &[], 0);
        assert_eq!(broken_by(&[&[first]], &[second]), Property::ElectionSafety);
    }

    #[test]
    fn two_lease_holders_break_lease_safety() {
        let mut first = view(1, Role::Leader, 2, &[], 0);
        let mut second = view(2, Role::Leader, 3, &[], 0);
        first.holds_lease = true;
        second.holds_lease = true;
        assert_eq!(broken_by(&[], &[first, second]), Property::LeaseSafety);
    }

    #[test]
    fn diverging_prefix_breaks_log_matching() {
        let first = [entry(1, 1, 1), entry(2, 2, 2)];
        let second = [entry(1, 1, 9), entry(2, 2, 2)];
        let nodes = [
            view(1, Role::Follower, 2, &first, 0),
            view(2, Role::Follower, 2, &second, 0),
        ];
        assert_eq!(broken_by(&[], &nodes), Property::LogMatching);
    }

    #[test]
    fn different_committed_entries_break_state_machine_safety() {
        let first = [entry(1, 1, 1)];
        let second = [entry(2, 1, 2)];
        let committed = view(1, Role::Follower, 1, &first, 1);
        let other = view(2, Role::Follower, 2, &second, 1);
        assert_eq!(
            broken_by(&[&[committed]], &[other]),
            Property::StateMachineSafety
        );
    }

    #[test]
    fn leader_missing_a_committed_entry_breaks_leader_completeness() {
        let full = [entry(1, 1, 1)];
        let committed = view(1, Role::Leader, 1, &full, 1);
        let missing = view(2, Role::Leader, 2, &[], 0);
        assert_eq!(
            broken_by(&[&[committed]], &[missing]),
            Property::LeaderCompleteness
        );
    }

    #[test]
    fn every_name_is_distinct_and_reads_back() {
        for property in Property::ALL {
            assert_eq!(Property::from_name(property.name()), Some(property));
            assert_eq!(property.to_string(), property.name());
        }
        let mut names: Vec<&str> = Property::ALL.iter().map(|p| p.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Property::ALL.len());
        assert_eq!(Property::from_name("Election safety"), None);
    }

    fn snapshot(index: u64, term: u64, x: u64) -> Snapshot {
        let mut kv = KvStore::default();
        kv.write("x", x);
        Snapshot {
            index: LogIndex::new(index),
            term: Term::new(term),
            members: vec![1, 2],
            kv,
        }
    }

    /// A node whose log is compacted through `snapshot`, holding `log` after
    /// it.
    fn compacted<'a>(
        id: NodeId,
        snapshot: &'a Snapshot,
        log: &'a [Entry],
        commit: u64,
    ) -> NodeView<'a> {
        NodeView {
            snapshot: Some(snapshot),
            ..view(id, Role::Follower, 2, log, commit)
        }
    }

    #[test]
    fn a_snapshot_standing_for_the_committed_prefix_passes_and_is_rebuilt() {
        let full = [entry(1, 1, 1), entry(1, 2, 2), entry(1, 3, 3)];
        let taken = snapshot(2, 1, 2);
        let mut monitor = SafetyMonitor::new();
        monitor
            .observe(&[
                view(1, Role::Leader, 1, &full, 3),
                compacted(2, &taken, &full[2..], 3),
            ])
            .unwrap();
        assert_eq!(monitor.snapshots_checked(), (1, 1));
        // The leader compacts too, and becomes a leader of a later term:
        // the compacted entries count as held.
        let later = snapshot(3, 1, 3);
        let leader = NodeView {
            snapshot: Some(&later),
            ..view(1, Role::Leader, 3, &[], 3)
        };
        monitor.observe(&[leader]).unwrap();
        assert_eq!(monitor.snapshots_checked(), (2, 2));
    }

    #[test]
    fn a_snapshot_unlike_the_committed_prefix_breaks_state_machine_safety() {
        let full = [entry(1, 1, 1), entry(1, 2, 2), entry(1, 3, 3)];
        let wrong = snapshot(2, 1, 9);
        let nodes = [
            view(1, Role::Leader, 1, &full, 3),
            compacted(2, &wrong, &full[2..], 3),
        ];
        assert_eq!(broken_by(&[], &nodes), Property::StateMachineSafety);
    }

    #[test]
    fn two_snapshots_that_differ_at_one_index_break_state_machine_safety() {
        let (first, second) = (snapshot(2, 1, 2), snapshot(2, 1, 3));
        let one = compacted(1, &first, &[], 2);
        let other = compacted(2, &second, &[], 2);
        assert_eq!(broken_by(&[&[one]], &[other]), Property::StateMachineSafety);
    }

    #[test]
    fn a_compacted_log_kept_after_another_term_breaks_log_matching() {
        let full = [entry(1, 1, 1), entry(1, 2, 2), entry(2, 3, 3)];
        // Its snapshot through 2 says term 3 there; its entry 3 follows it.
        let other_term = snapshot(2, 3, 2);
        let nodes = [
            view(1, Role::Follower, 2, &full, 0),
            compacted(2, &other_term, &full[2..], 0),
        ];
        assert_eq!(broken_by(&[], &nodes), Property::LogMatching);
    }

    /// A node that compacts entries in the step that commits them: the
    /// monitor finds them in the logs it saw before, so a node committing
    /// otherwise there later is still caught.
    #[test]
    fn entries_compacted_as_they_commit_are_recovered_from_the_logs_seen() {
        let full = [entry(1, 1, 1), entry(1, 2, 2), entry(1, 3, 3)];
        let taken = snapshot(3, 1, 3);
        let uncommitted = view(1, Role::Follower, 1, &full, 0);
        let compacted_at_once = compacted(1, &taken, &[], 3);
        let mut monitor = SafetyMonitor::new();
        monitor.observe(&[uncommitted]).unwrap();
        monitor.observe(&[compacted_at_once]).unwrap();
        assert_eq!(monitor.committed_len(), LogIndex::new(3));
        assert_eq!(monitor.snapshots_checked(), (1, 1));
        let otherwise = [entry(1, 1, 1), entry(2, 2, 7)];
        let error = monitor
            .observe(&[view(2, Role::Follower, 2, &otherwise, 2)])
            .unwrap_err();
        assert_eq!(error.property, Property::StateMachineSafety);
    }

    /// Within one life a node's commit index never goes back; a restart
    /// (a new incarnation, or a caller that does not count restarts) may.
    #[test]
    fn a_commit_index_going_back_without_a_restart_breaks_state_machine_safety() {
        let log = [entry(1, 1, 1), entry(1, 2, 2)];
        let committed = view(1, Role::Follower, 1, &log, 2);
        let forgot = view(1, Role::Follower, 1, &log, 1);
        assert_eq!(
            broken_by(&[&[committed]], &[forgot]),
            Property::StateMachineSafety
        );
        for incarnation in [Some(1), None] {
            let restarted = NodeView {
                incarnation,
                ..forgot
            };
            let mut monitor = SafetyMonitor::new();
            monitor.observe(&[committed]).unwrap();
            monitor.observe(&[restarted]).unwrap();
        }
    }

    #[test]
    fn a_snapshot_going_back_without_a_restart_breaks_state_machine_safety() {
        let full = [entry(1, 1, 1), entry(1, 2, 2), entry(1, 3, 3)];
        let (older, newer) = (snapshot(2, 1, 2), snapshot(3, 1, 3));
        let accepted = [view(1, Role::Leader, 1, &full, 3)];
        let taken = compacted(2, &newer, &[], 3);
        let went_back = compacted(2, &older, &full[2..], 3);
        assert_eq!(
            broken_by(&[&accepted, &[taken]], &[went_back]),
            Property::StateMachineSafety
        );
    }

    #[test]
    fn a_commit_index_beyond_the_log_breaks_state_machine_safety() {
        let log = [entry(1, 1, 1)];
        let beyond = view(1, Role::Follower, 1, &log, 2);
        assert_eq!(broken_by(&[], &[beyond]), Property::StateMachineSafety);
    }

    /// A one-node cluster appends, commits and compacts an entry in one
    /// step: the monitor never sees it, and says so.
    #[test]
    fn entries_never_seen_in_any_log_are_counted() {
        let taken = snapshot(2, 1, 2);
        let mut monitor = SafetyMonitor::new();
        monitor.observe(&[compacted(1, &taken, &[], 2)]).unwrap();
        assert_eq!(monitor.unseen_commits(), 2);
        assert_eq!(monitor.snapshots_checked(), (1, 0));
    }

    #[test]
    fn consistent_run_passes() {
        let log = [entry(1, 1, 1), entry(1, 2, 2)];
        let mut monitor = SafetyMonitor::new();
        monitor
            .observe(&[
                view(1, Role::Leader, 1, &log, 2),
                view(2, Role::Follower, 1, &log[..1], 1),
            ])
            .unwrap();
        monitor
            .observe(&[
                view(2, Role::Leader, 2, &log, 2),
                view(1, Role::Follower, 2, &log, 2),
            ])
            .unwrap();
        assert_eq!(monitor.committed_len(), LogIndex::new(2));
    }
}
