//! What the model checker needs of an algorithm variant beyond
//! [`Algorithm`]: which of the model's capabilities it has (a replicated
//! log, clients whose history must be linearizable, leadership transfer,
//! interchangeable node ids, a lock service), what a crashed node's
//! durable state says for the search's bounds, and how a node reads in a
//! trace.
//!
//! One model ([`super::ClusterModel`]) serves every variant; what differs
//! between Raft and the elections without a log is declared here, not
//! written as a second model.

use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::sync::Arc;

use crate::core::lock_service::{LockMember, ServiceNode};
use crate::core::node::{Node, Role};
use crate::core::raft::message::Body;
use crate::core::raft::{DurableState, Persist};
use crate::core::store::{Revision, Store};
use crate::core::time::Time;
use crate::harness::algorithm::{Algorithm, Bully, MessageOf, PersistOf, Raft, Ring};
use crate::harness::lock_service::{LeaseLock, ZkSequential};
use crate::model::state::ClusterState;

/// The model's state for variant `V`.
pub type StateOf<V> = ClusterState<<V as Algorithm>::Node, <V as Algorithm>::Durable, MessageOf<V>>;

/// A state's canonical representative under symmetry reduction.
pub type RepresentativeFn<V> = fn(&StateOf<V>) -> StateOf<V>;

/// What a variant can do in the model. A spec that asks for something its
/// algorithm cannot do is refused (`super::spec`), and the properties a
/// variant lacks the means for are not reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// A replicated log: Log Matching, Leader Completeness and State
    /// Machine Safety apply.
    pub log: bool,
    /// Client operations (`clients.operations`) on the register, whose
    /// history must be linearizable.
    pub clients: bool,
    /// Leadership transfer (`cluster.max_transfers`).
    pub transfers: bool,
    /// Node ids are interchangeable: symmetry reduction is sound.
    pub symmetry: bool,
    /// Candidates of a lock service, which runs as one more member (the
    /// store and the fenced resource, after the candidates' ids): Fenced
    /// Writes and Exclusive Holding apply, and the service never crashes
    /// (the idealised store).
    pub lock_service: bool,
}

impl Capabilities {
    /// Everything a replicated log offers (Raft).
    pub const ALL: Capabilities = Capabilities {
        lock_service: false,
        ..Capabilities::each(true)
    };
    /// An election and nothing more: no log, no clients, no transfers, and
    /// node ids that decide who wins (Bully, Ring).
    pub const ELECTION_ONLY: Capabilities = Capabilities::each(false);
    /// Candidates of a lock service (lease-lock, zk-sequential): an
    /// election judged by the lock-service properties, with nothing
    /// durable.
    pub const LOCK_SERVICE: Capabilities = Capabilities {
        lock_service: true,
        ..Capabilities::each(false)
    };

    const fn each(present: bool) -> Capabilities {
        Capabilities {
            log: present,
            clients: present,
            transfers: present,
            symmetry: present,
            lock_service: present,
        }
    }
}

/// An algorithm variant the model checker can explore.
pub trait ModelVariant:
    Algorithm<
        Node: Node<Message: Ord + Hash + Display + Send + Sync> + Hash + Eq + Send + Sync,
        Durable: Hash + Eq + Send + Sync,
    > + Clone
    + Debug
    + Send
    + Sync
    + 'static
{
    const CAPABILITIES: Capabilities;

    /// The term (or epoch) a crashed node's durable state records: the
    /// search bounds terms of crashed nodes too, and a restart seeds its
    /// RNG with it.
    fn durable_term(durable: &Self::Durable) -> u64;

    /// How many log entries the durable state holds (0 without a log).
    fn durable_log_len(durable: &Self::Durable) -> u64;

    /// What a restart finds after a crash that landed in the middle of the
    /// batch `records`, after its snapshot's record was durable and before
    /// the log was compacted through it: `durable` becomes that state and
    /// the answer is `true`. `false` (and `durable` untouched) when the
    /// batch holds no snapshot: then there is no such crash point. Only
    /// Raft takes snapshots.
    fn durable_before_compaction(durable: &mut Self::Durable, records: &[PersistOf<Self>]) -> bool {
        let _ = (durable, records);
        false
    }

    /// The kinds of message the variant's nodes exchange, for the report
    /// of what a search delivered (`crate::model::delivered`); none named
    /// for a variant that does not name them.
    const MESSAGE_KINDS: &'static [&'static str] = &[];

    /// The position of `message`'s kind in [`ModelVariant::MESSAGE_KINDS`].
    fn message_kind(message: &MessageOf<Self>) -> Option<usize> {
        let _ = message;
        None
    }

    /// The election timeout the node drew last, for a variant whose nodes
    /// draw one (Raft): what the goal "a node follows a leader with an
    /// election timeout above the minimum" reads.
    fn election_timeout(node: &Self::Node) -> Option<std::time::Duration> {
        let _ = node;
        None
    }

    /// The node in a trace line, at its local time `local`: role, term
    /// and what else matters.
    fn describe(node: &Self::Node, local: Time) -> String;

    /// The symmetry reduction, for variants whose node ids are
    /// interchangeable.
    fn representative() -> Option<RepresentativeFn<Self>> {
        None
    }
}

/// One letter per role, for trace lines.
pub fn role_letter(role: Role) -> &'static str {
    match role {
        Role::Follower => "F",
        Role::PreCandidate => "P",
        Role::Candidate => "C",
        Role::Leader => "L",
    }
}

impl ModelVariant for Raft {
    const CAPABILITIES: Capabilities = Capabilities::ALL;

    fn durable_term(durable: &Self::Durable) -> u64 {
        durable.hard_state.term.get()
    }

    /// The last index of the durable log, compacted entries included: the
    /// bound on logs is on what a node holds, not on what it still keeps.
    fn durable_log_len(durable: &Self::Durable) -> u64 {
        durable.base_index().get() + durable.log.len() as u64
    }

    /// The records before the batch's first snapshot record reach the disk,
    /// then the snapshot does, and the crash comes before the log is
    /// rewritten: the disk holds the new snapshot and the log as it was,
    /// which still starts after the older snapshot (if any) and may hold
    /// entries the new one covers. The restart recovers from the two as
    /// the core says ([`DurableState::recovered`]).
    fn durable_before_compaction(durable: &mut DurableState, records: &[Persist]) -> bool {
        let Some(position) = records
            .iter()
            .position(|record| matches!(record, Persist::Snapshot(_)))
        else {
            return false;
        };
        durable.apply_all(&records[..position]);
        let Persist::Snapshot(snapshot) = &records[position] else {
            unreachable!("found above");
        };
        let log = std::mem::take(&mut durable.log);
        *durable = DurableState::recovered(durable.hard_state, Some(Arc::clone(snapshot)), log);
        true
    }

    /// Every kind of Raft message, by `Body::kind`'s names (votes and
    /// pre-votes apart).
    const MESSAGE_KINDS: &'static [&'static str] = &[
        "PreVote",
        "Vote",
        "PreVoteResponse",
        "VoteResponse",
        "Append",
        "AppendResponse",
        "Heartbeat",
        "HeartbeatResponse",
        "TimeoutNow",
        "InstallSnapshot",
        "InstallSnapshotResponse",
    ];

    fn message_kind(message: &MessageOf<Self>) -> Option<usize> {
        // Exhaustive, so a new kind of message fails to compile here until
        // it is named; the names are the core's own (a unit test compares).
        Some(match &message.body {
            Body::VoteRequest(request) if request.pre_vote => 0,
            Body::VoteRequest(_) => 1,
            Body::VoteResponse(response) if response.pre_vote => 2,
            Body::VoteResponse(_) => 3,
            Body::Append(_) => 4,
            Body::AppendResponse(_) => 5,
            Body::Heartbeat(_) => 6,
            Body::HeartbeatResponse(_) => 7,
            Body::TimeoutNow => 8,
            Body::InstallSnapshot(_) => 9,
            Body::InstallSnapshotResponse(_) => 10,
        })
    }

    fn election_timeout(node: &Self::Node) -> Option<std::time::Duration> {
        Some(node.election_timeout())
    }

    fn describe(node: &Self::Node, _local: Time) -> String {
        let log: Vec<String> = node
            .log()
            .entries()
            .iter()
            .map(|entry| entry.to_string())
            .collect();
        // The compacted prefix shows as the snapshot's index and term.
        let base = match node.snapshot() {
            Some(snapshot) => format!("snap={}/{} ", snapshot.term, snapshot.index),
            None => String::new(),
        };
        format!(
            "{} term={} {base}log=[{}] commit={}",
            role_letter(node.role()),
            node.term(),
            log.join(", "),
            node.commit_index()
        )
    }

    fn representative() -> Option<RepresentativeFn<Self>> {
        Some(crate::model::symmetry::representative)
    }
}

/// Bully and Ring: elections that replicate nothing, and whose node ids
/// decide who wins (the highest id, the token's order). Their durable state
/// is the chassis's epoch.
macro_rules! election_variant {
    ($($algorithm:ident),*) => {$(
        impl ModelVariant for $algorithm {
            const CAPABILITIES: Capabilities = Capabilities::ELECTION_ONLY;

            fn durable_term(durable: &Self::Durable) -> u64 {
                durable.epoch.get()
            }

            fn durable_log_len(_: &Self::Durable) -> u64 {
                0
            }

            fn describe(node: &Self::Node, _local: Time) -> String {
                format!("{} epoch={}", role_letter(node.role()), node.term())
            }
        }
    )*};
}

election_variant!(Bully, Ring);

/// lease-lock: candidates with nothing durable, and the service member
/// (store and fenced resource) after them.
impl ModelVariant for LeaseLock {
    const CAPABILITIES: Capabilities = Capabilities::LOCK_SERVICE;

    fn durable_term(_: &()) -> u64 {
        0
    }

    fn durable_log_len(_: &()) -> u64 {
        0
    }

    /// A candidate: role, the newest revision it has seen, and the token
    /// of the lease it leads under. The service: the key by its own clock
    /// and the resource's accepted writes.
    fn describe(node: &Self::Node, local: Time) -> String {
        match node {
            LockMember::Candidate(candidate) => {
                let token = candidate
                    .token()
                    .map_or_else(|| "-".to_owned(), |token| token.to_string());
                format!(
                    "{} rev={} token={token}",
                    role_letter(candidate.role()),
                    candidate.term()
                )
            }
            LockMember::Service(service) => {
                let key = service.store().key(local);
                let holder = key
                    .holder
                    .map_or_else(|| "free".to_owned(), |holder| format!("held by {holder}"));
                format!(
                    "service rev={} {holder}; {}",
                    key.revision,
                    describe_resource(service)
                )
            }
        }
    }
}

/// The protected resource in a trace line: its accepted writes and the
/// last of them.
fn describe_resource(service: &ServiceNode) -> String {
    let resource = service.resource();
    let last = resource.last_accepted().map_or_else(
        || "-".to_owned(),
        |write| {
            format!(
                "{} from {} under {}",
                write.value, write.writer, write.token
            )
        },
    );
    format!("resource accepted={} last={last}", resource.accepted())
}

/// zk-sequential: candidates with nothing durable (a restarted one opens a
/// new session), and the service member after them, as for lease-lock.
impl ModelVariant for ZkSequential {
    const CAPABILITIES: Capabilities = Capabilities::LOCK_SERVICE;

    fn durable_term(_: &()) -> u64 {
        0
    }

    fn durable_log_len(_: &()) -> u64 {
        0
    }

    /// A candidate: role, its entry, the predecessor it watches, and the
    /// token it leads under. The service: the store's revision counter
    /// (the newest entry's number), the watch notices its deletions sent,
    /// and the resource's accepted writes.
    fn describe(node: &Self::Node, local: Time) -> String {
        let or_dash = |revision: Option<Revision>| {
            revision.map_or_else(|| "-".to_owned(), |revision| revision.to_string())
        };
        match node {
            LockMember::Candidate(candidate) => format!(
                "{} entry={} watching={} token={}",
                role_letter(candidate.role()),
                or_dash(candidate.entry()),
                or_dash(candidate.watching()),
                or_dash(candidate.token())
            ),
            LockMember::Service(service) => {
                let store = service.store();
                let watches = store.watch_count();
                format!(
                    "service rev={} deletions={} notices={}; {}",
                    store.key(local).revision,
                    watches.deletions,
                    watches.notifications,
                    describe_resource(service)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::kv::KvStore;
    use crate::core::raft::{Command, Entry, HardState, LogIndex, Snapshot, Term};

    fn entry(index: u64) -> Entry {
        Entry {
            term: Term::new(1),
            index: LogIndex::new(index),
            command: Arc::new(Command::Noop),
        }
    }

    /// The report names each Raft message kind as the core does, and
    /// tells every kind apart.
    #[test]
    fn raft_message_kinds_are_the_cores_names() {
        use crate::core::raft::message::{
            Append, AppendResponse, AppendResult, Heartbeat, HeartbeatResponse, InstallSnapshot,
            InstallSnapshotResponse, Message, VoteRequest, VoteResponse,
        };
        use crate::core::raft::Round;
        let round = Round::new(0);
        let vote = |pre_vote| {
            Body::VoteRequest(VoteRequest {
                pre_vote,
                last_log_index: LogIndex::ZERO,
                last_log_term: Term::new(0),
                transfer: false,
            })
        };
        let response = |pre_vote| {
            Body::VoteResponse(VoteResponse {
                pre_vote,
                granted: true,
            })
        };
        let bodies = [
            vote(true),
            vote(false),
            response(true),
            response(false),
            Body::Append(Append {
                prev_log_index: LogIndex::ZERO,
                prev_log_term: Term::new(0),
                entries: Vec::new(),
                leader_commit: LogIndex::ZERO,
                round,
            }),
            Body::AppendResponse(AppendResponse {
                result: AppendResult::Accepted {
                    match_index: LogIndex::ZERO,
                },
                round,
            }),
            Body::Heartbeat(Heartbeat {
                leader_commit: LogIndex::ZERO,
                round,
            }),
            Body::HeartbeatResponse(HeartbeatResponse { round }),
            Body::TimeoutNow,
            Body::InstallSnapshot(InstallSnapshot {
                index: LogIndex::new(1),
                snapshot_term: Term::new(1),
                members: vec![1, 2, 3],
                offset: 0,
                pairs: Vec::new(),
                done: true,
                round,
            }),
            Body::InstallSnapshotResponse(InstallSnapshotResponse {
                index: LogIndex::new(1),
                received: 0,
                round,
            }),
        ];
        assert_eq!(bodies.len(), Raft::MESSAGE_KINDS.len());
        for (position, body) in bodies.into_iter().enumerate() {
            let kind = body.kind();
            let message = Message {
                term: Term::new(1),
                body,
            };
            assert_eq!(Raft::message_kind(&message), Some(position));
            assert_eq!(Raft::MESSAGE_KINDS[position], kind);
        }
    }

    /// A crash between a snapshot's record and the compaction keeps the
    /// records before the snapshot's, then recovers the snapshot beside the
    /// uncompacted log to what the whole record would have left; the
    /// records after it are lost. A batch without a snapshot has no such
    /// crash point.
    #[test]
    fn a_crash_before_compaction_keeps_the_snapshot_and_what_preceded_it() {
        let snapshot = Arc::new(Snapshot {
            index: LogIndex::new(2),
            term: Term::new(1),
            members: vec![1, 2, 3],
            kv: KvStore::default(),
        });
        let hard_state = HardState {
            term: Term::new(1),
            voted_for: Some(1),
        };
        let records = [
            Persist::HardState(hard_state),
            Persist::AppendEntry(entry(3)),
            Persist::Snapshot(Arc::clone(&snapshot)),
            Persist::AppendEntry(entry(4)),
        ];
        let start = DurableState {
            log: vec![entry(1), entry(2)],
            ..DurableState::default()
        };
        let mut torn = start.clone();
        assert!(Raft::durable_before_compaction(&mut torn, &records));
        let mut whole_record = start.clone();
        whole_record.apply_all(&records[..3]);
        assert_eq!(torn, whole_record);
        assert_eq!(torn.hard_state, hard_state);
        assert_eq!(torn.log, vec![entry(3)], "entry 4 came after the crash");
        assert_eq!(
            Raft::durable_log_len(&torn),
            3,
            "the bound counts compacted entries"
        );
        let mut untouched = start.clone();
        assert!(!Raft::durable_before_compaction(
            &mut untouched,
            &records[..2]
        ));
        assert_eq!(untouched, start);
    }
}
