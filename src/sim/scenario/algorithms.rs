//! What the scenario language knows about each algorithm: how `cluster`
//! builds one ([`Choice`]), how `status` prints a node, and which commands
//! make no sense for it (Bully and Ring keep no log, hold no lease and
//! cannot hand leadership over; raft-rs with ReadIndex reads holds no
//! lease; the lock-service candidates serve no clients and the idealised
//! store never crashes), so that those are refused with a typed refusal
//! before anything runs instead of failing inside the cluster.

use std::borrow::Cow;
use std::fmt::Display;
use std::time::Duration;

#[cfg(feature = "raft-rs")]
use crate::adapters::raft_rs::{RaftRs, RaftRsLog, RaftRsNode, Settings};
use crate::check::lock_service::LockView;
use crate::core::bully::BullyNode;
use crate::core::kv::KvStore;
use crate::core::node::{Node, NodeId};
use crate::core::raft::{DurableState, Entry, RaftNode};
#[cfg(feature = "raft-rs")]
use crate::core::raft::{LogIndex, Term};
use crate::core::ring::RingNode;
use crate::core::time::Time;
use crate::harness::algorithm::{Algorithm, Bully, Raft, Ring};
use crate::harness::lock_service::{LeaseLock, ZkSequential};
use crate::sim::cluster::Cluster;

/// An algorithm the scenario language can drive.
pub trait Scripted: Algorithm<Node: Node<Message: Display>> {
    /// What `status` prints of an up node after `N: `, at its local time.
    fn status(node: &Self::Node, local: Time) -> String;

    /// The node's applied state machine; `None` for algorithms that keep
    /// none (the lock-service members).
    fn kv(node: &Self::Node) -> Option<&KvStore>;

    /// The log a crashed node left on disk, for `logs`, as electorate
    /// prints one (a foreign log is converted).
    fn durable_log(durable: &Self::Durable) -> Cow<'_, [Entry]>;

    /// Why `command` makes no sense for this algorithm, if it does not.
    fn refuses(command: &str) -> Option<&'static str>;

    /// `snapshot N`: what the operator's request for a snapshot now
    /// printed beyond the trace. Only Raft takes one; every other
    /// algorithm refuses the command first ([`Scripted::refuses`]).
    fn snapshot_now(cluster: &mut Cluster<Self>, id: NodeId) -> String
    where
        Self: Sized,
    {
        let _ = (cluster, id);
        unreachable!(
            "`snapshot` is refused for {}",
            std::any::type_name::<Self>()
        )
    }
}

impl Scripted for Raft {
    fn status(node: &RaftNode, local: Time) -> String {
        let leader = node
            .leader()
            .map_or("none".to_owned(), |leader| leader.to_string());
        let log = node.log();
        let lease = if node.holds_lease(local) {
            " lease"
        } else {
            ""
        };
        format!(
            "{} term={} leader={leader} commit={} last={}/{}{lease}",
            node.role(),
            node.term(),
            node.commit_index(),
            log.last_term(),
            log.last_index()
        )
    }

    fn kv(node: &RaftNode) -> Option<&KvStore> {
        Some(node.kv())
    }

    fn durable_log(durable: &DurableState) -> Cow<'_, [Entry]> {
        Cow::Borrowed(&durable.log)
    }

    fn refuses(_: &str) -> Option<&'static str> {
        None
    }

    /// The snapshot's event is in the trace; a request that takes none
    /// says why.
    fn snapshot_now(cluster: &mut Cluster<Raft>, id: NodeId) -> String {
        if cluster.node(id).is_none() {
            return format!("  {id}: down: no snapshot\n");
        }
        if cluster.is_paused(id) {
            return format!("  {id}: paused: no snapshot\n");
        }
        let base = |cluster: &Cluster<Raft>| cluster.node(id).map(|node| node.log().base_index());
        let before = base(cluster);
        cluster.snapshot(id);
        if base(cluster) == before {
            format!("  {id}: no snapshot: nothing applied since the last one\n")
        } else {
            String::new()
        }
    }
}

/// `status` of a Bully or Ring node: its role, epoch and leader.
fn epoch_status(node: &impl Node) -> String {
    let leader = node
        .leader()
        .map_or("none".to_owned(), |leader| leader.to_string());
    format!("{} epoch={} leader={leader}", node.role(), node.term())
}

/// Bully and Ring replicate nothing: a leader serves clients from its own
/// store, so logs, leases and leadership transfer do not exist.
fn refuses_unreplicated(command: &str) -> Option<&'static str> {
    match command {
        "logs" => Some("keeps no log (a leader serves clients from its own store)"),
        "leases" => Some("holds no lease: every leader serves reads (`status` shows them)"),
        "transfer" => Some("has no leadership transfer"),
        "snapshot" => Some("keeps no log to compact"),
        _ => None,
    }
}

/// Bully and Ring print, store and refuse alike.
macro_rules! unreplicated {
    ($algorithm:ty, $node:ty) => {
        impl Scripted for $algorithm {
            fn status(node: &$node, _: Time) -> String {
                epoch_status(node)
            }

            fn kv(node: &$node) -> Option<&KvStore> {
                Some(node.kv())
            }

            fn durable_log(_: &Self::Durable) -> Cow<'_, [Entry]> {
                Cow::Borrowed(&[])
            }

            fn refuses(command: &str) -> Option<&'static str> {
                refuses_unreplicated(command)
            }
        }
    };
}

unreplicated!(Bully, BullyNode);
unreplicated!(Ring, RingNode);

/// A lock-service member as `status` prints it: a candidate's role and the
/// token it holds by its own clock, or the resource's accepted writes.
fn lock_status<A: Algorithm>(node: &A::Node, local: Time) -> String {
    match A::lock_view(node, local) {
        Some(LockView::Candidate { holding, .. }) => {
            let holding = holding.map_or("none".to_owned(), |token| token.to_string());
            format!("{} epoch={} holding={holding}", node.role(), node.term())
        }
        Some(LockView::Resource { accepted, last }) => {
            let last = last.map_or("none".to_owned(), |write| {
                format!(
                    "{} from {} token={}",
                    write.value, write.writer, write.token
                )
            });
            format!("service accepted={accepted} last={last}")
        }
        None => epoch_status(node),
    }
}

/// The lock-service candidates serve no clients and keep no log; they hold
/// the lock, not a read lease (`status` shows the token held).
fn refuses_lock_service(command: &str) -> Option<&'static str> {
    match command {
        "write" | "cas" | "read" | "kv" => {
            Some("serves no clients: its candidates hold a lock and write to the fenced resource")
        }
        "logs" => Some("keeps no log"),
        "leases" => Some("holds no read lease (`status` shows the lock's holder and its token)"),
        "transfer" => Some("has no leadership transfer"),
        "campaign" => Some("has no campaign: a candidate asks the store on its own timer"),
        "snapshot" => Some("keeps no log to compact"),
        _ => None,
    }
}

/// lease-lock and zk-sequential print and refuse alike.
macro_rules! lock_service {
    ($algorithm:ty) => {
        impl Scripted for $algorithm {
            fn status(node: &Self::Node, local: Time) -> String {
                lock_status::<$algorithm>(node, local)
            }

            fn kv(_: &Self::Node) -> Option<&KvStore> {
                None
            }

            fn durable_log(_: &Self::Durable) -> Cow<'_, [Entry]> {
                Cow::Borrowed(&[])
            }

            fn refuses(command: &str) -> Option<&'static str> {
                refuses_lock_service(command)
            }
        }
    };
}

lock_service!(LeaseLock);
lock_service!(ZkSequential);

/// raft-rs through its adapter: every command drives it (campaign, tick,
/// client operations, transfer, crashes, clocks), except `leases` on a
/// cluster with ReadIndex reads, where no node ever holds one.
#[cfg(feature = "raft-rs")]
impl Scripted for RaftRs {
    fn status(node: &RaftRsNode, local: Time) -> String {
        let leader = node
            .leader()
            .map_or("none".to_owned(), |leader| leader.to_string());
        let (last_term, last_index) = node
            .log_view()
            .last()
            .map_or((Term::ZERO, LogIndex::ZERO), |entry| {
                (entry.term, entry.index)
            });
        let lease = if node.holds_lease(local) {
            " lease"
        } else {
            ""
        };
        format!(
            "{} term={} leader={leader} commit={} last={last_term}/{last_index}{lease}",
            node.role(),
            node.term(),
            node.commit_index(),
        )
    }

    fn kv(node: &RaftRsNode) -> Option<&KvStore> {
        Some(node.kv())
    }

    fn durable_log(durable: &RaftRsLog) -> Cow<'_, [Entry]> {
        Cow::Owned(durable.entry_views())
    }

    fn refuses(command: &str) -> Option<&'static str> {
        match command {
            "leases" => Some(
                "holds no lease: reads go through ReadIndex (`algo=raft-rs-lease` serves lease reads)",
            ),
            "snapshot" => RAFT_RS_SNAPSHOT,
            _ => None,
        }
    }
}

/// `raft-rs-lease`: the same as `raft-rs`, and `leases` shows which nodes
/// raft-rs lets serve lease reads.
#[cfg(feature = "raft-rs")]
fn refuses_raft_rs(settings: &Settings, command: &str) -> Option<&'static str> {
    if command == "snapshot" {
        return RAFT_RS_SNAPSHOT;
    }
    if settings.lease_reads {
        None
    } else {
        RaftRs::refuses(command)
    }
}

/// raft-rs through its adapter takes no snapshot on request.
#[cfg(feature = "raft-rs")]
const RAFT_RS_SNAPSHOT: Option<&str> =
    Some("takes no snapshot on request (the adapter does not drive raft-rs's snapshots)");

/// The algorithm `cluster algo=...` asks for, configured.
#[derive(Clone, Debug, PartialEq)]
pub enum Choice {
    Raft(crate::core::raft::Config),
    Bully(crate::core::bully::Config),
    Ring(crate::core::ring::Config),
    LeaseLock(LeaseLock),
    ZkSequential(ZkSequential),
    /// raft-rs through its adapter: `raft-rs` or, with lease reads,
    /// `raft-rs-lease`.
    #[cfg(feature = "raft-rs")]
    RaftRs(Settings),
}

/// The names `algo=` takes.
#[cfg(feature = "raft-rs")]
pub const NAMES: &[&str] = &[
    "raft",
    "bully",
    "ring",
    "lease-lock",
    "zk-sequential",
    "raft-rs",
    "raft-rs-lease",
];
/// The names `algo=` takes.
#[cfg(not(feature = "raft-rs"))]
pub const NAMES: &[&str] = &["raft", "bully", "ring", "lease-lock", "zk-sequential"];

/// A scenario's cluster, of whichever algorithm it runs.
pub enum AnyCluster {
    Raft(Cluster<Raft>),
    Bully(Cluster<Bully>),
    Ring(Cluster<Ring>),
    LeaseLock(Cluster<LeaseLock>),
    ZkSequential(Cluster<ZkSequential>),
    #[cfg(feature = "raft-rs")]
    RaftRs(Cluster<RaftRs>),
}

/// Calls `$body` with `$cluster` bound to the typed cluster inside `$any`.
macro_rules! with_cluster {
    ($any:expr, $cluster:ident => $body:expr) => {
        match $any {
            AnyCluster::Raft($cluster) => $body,
            AnyCluster::Bully($cluster) => $body,
            AnyCluster::Ring($cluster) => $body,
            AnyCluster::LeaseLock($cluster) => $body,
            AnyCluster::ZkSequential($cluster) => $body,
            #[cfg(feature = "raft-rs")]
            AnyCluster::RaftRs($cluster) => $body,
        }
    };
}
pub(crate) use with_cluster;

impl AnyCluster {
    /// Nodes `1..=nodes` of `choice`. Precondition: the configuration was
    /// validated (by `Command::parse`).
    pub fn start(choice: Choice, nodes: u64, seed: u64, latency: Option<Duration>) -> AnyCluster {
        fn started<A: Algorithm>(
            algorithm: A,
            nodes: u64,
            seed: u64,
            latency: Option<Duration>,
        ) -> Cluster<A> {
            let mut cluster = Cluster::start(algorithm, nodes, seed);
            if let Some(latency) = latency {
                cluster.set_latency(latency);
            }
            cluster.take_trace();
            cluster
        }
        match choice {
            Choice::Raft(config) => {
                AnyCluster::Raft(started(Raft { config }, nodes, seed, latency))
            }
            Choice::Bully(config) => {
                AnyCluster::Bully(started(Bully { config }, nodes, seed, latency))
            }
            Choice::Ring(config) => {
                AnyCluster::Ring(started(Ring { config }, nodes, seed, latency))
            }
            Choice::LeaseLock(algorithm) => {
                AnyCluster::LeaseLock(started(algorithm, nodes, seed, latency))
            }
            Choice::ZkSequential(algorithm) => {
                AnyCluster::ZkSequential(started(algorithm, nodes, seed, latency))
            }
            #[cfg(feature = "raft-rs")]
            Choice::RaftRs(settings) => {
                // A script states its instants in whole ticks from 0: every
                // node ticks at the same instants, as raft-rs's own tests do.
                let settings = Settings {
                    random_tick_phase: false,
                    ..settings
                };
                AnyCluster::RaftRs(started(RaftRs { settings }, nodes, seed, latency))
            }
        }
    }

    pub fn members(&self) -> &[NodeId] {
        with_cluster!(self, cluster => cluster.members())
    }

    pub fn now(&self) -> Time {
        with_cluster!(self, cluster => cluster.now())
    }

    /// Whether `id` is a service member (a lock service's store).
    pub fn is_service(&self, id: NodeId) -> bool {
        with_cluster!(self, cluster => cluster.is_service(id))
    }

    pub fn name(&self) -> &'static str {
        with_cluster!(self, cluster => cluster.algorithm().name())
    }

    /// Why `command` makes no sense on this cluster, if it does not.
    pub fn refuses(&self, command: &str) -> Option<&'static str> {
        match self {
            AnyCluster::Raft(_) => Raft::refuses(command),
            AnyCluster::Bully(_) => Bully::refuses(command),
            AnyCluster::Ring(_) => Ring::refuses(command),
            AnyCluster::LeaseLock(_) => LeaseLock::refuses(command),
            AnyCluster::ZkSequential(_) => ZkSequential::refuses(command),
            #[cfg(feature = "raft-rs")]
            AnyCluster::RaftRs(cluster) => refuses_raft_rs(&cluster.algorithm().settings, command),
        }
    }
}
