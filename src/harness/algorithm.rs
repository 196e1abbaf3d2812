//! What the simulator needs to know about an algorithm beyond the [`Node`]
//! interface: how to start and restart its nodes, how its durable records
//! are stored, and what the monitors may look at.

use std::fmt::Debug;

use rand::RngCore;

use crate::check::lock_service::LockView;
use crate::codec::PeerMessage;
use crate::core::node::{Node, NodeId, Role};
use crate::core::raft::{Config, DurableState, Entry, Persist, RaftNode, Snapshot};
use crate::core::time::Time;

/// The messages of algorithm `A`'s nodes.
pub type MessageOf<A> = <<A as Algorithm>::Node as Node>::Message;
/// One durable record of algorithm `A`'s nodes.
pub type PersistOf<A> = <<A as Algorithm>::Node as Node>::Persist;

/// Where and when a node comes up: what every algorithm's
/// [`Algorithm::start`] and [`Algorithm::restart`] hand to its node's
/// constructor.
pub struct Boot<'a> {
    pub id: NodeId,
    /// Every member of the run, the node among them.
    pub members: &'a [NodeId],
    /// The node's local time.
    pub now: Time,
    /// The node's seeded randomness.
    pub rng: &'a mut dyn RngCore,
}

impl<'a> Boot<'a> {
    /// Node `id` of `members` coming up at time zero, as every node of a
    /// run's first state does.
    pub fn at_zero(id: NodeId, members: &'a [NodeId], rng: &'a mut dyn RngCore) -> Boot<'a> {
        Boot {
            id,
            members,
            now: Time::ZERO,
            rng,
        }
    }
}

/// An algorithm variant under simulation.
pub trait Algorithm {
    /// Its messages have a wire format, so the simulator can count bytes.
    /// A node owns its state, borrowing nothing.
    type Node: Node<Message: PeerMessage> + Clone + Debug + 'static;
    /// What survives a crash.
    type Durable: Clone + Debug + Default;

    /// The name used on the command line and in reports.
    fn name(&self) -> &'static str;

    /// The longest an election may take after the leader is lost, by the
    /// algorithm's own timing: the liveness bound is derived from it.
    fn election_bound(&self) -> std::time::Duration;

    /// A fresh node, with nothing durable yet.
    fn start(&self, boot: Boot<'_>) -> Self::Node;

    /// A node coming back from what it had made durable.
    fn restart(&self, boot: Boot<'_>, durable: &Self::Durable) -> Self::Node;

    /// Makes one record durable. Records are handed over, not borrowed, so
    /// an appended entry is moved into storage rather than copied again.
    fn persist(durable: &mut Self::Durable, record: <Self::Node as Node>::Persist);

    /// The replicated log, for Log Matching and State Machine Safety (`None`
    /// for algorithms without one).
    fn log(node: &Self::Node) -> Option<&[Entry]>;

    /// The snapshot that the log's compacted prefix stands for: [`Algorithm::log`]
    /// holds the entries after its index. `None` while nothing is compacted
    /// (and for algorithms without snapshots).
    fn snapshot(node: &Self::Node) -> Option<&Snapshot> {
        let _ = node;
        None
    }

    /// Whether the node is a leader that can serve clients now: for Raft, one
    /// that has committed an entry of its term; for the others, any leader.
    fn can_serve(node: &Self::Node) -> bool {
        node.role() == Role::Leader
    }

    /// How many members the algorithm runs beside the candidates a run asks
    /// for (a lock service's store and resource): a runner gives them the
    /// ids after the candidates' and treats them as members in every other
    /// way (network, clock, monitors).
    fn service_members(&self) -> u64 {
        0
    }

    /// How the lock-service monitors ([`crate::check::lock_service`]) see
    /// `node` at its local time `local`; `None` for algorithms without a
    /// lock service.
    fn lock_view(node: &Self::Node, local: Time) -> Option<LockView> {
        let _ = (node, local);
        None
    }
}

/// An algorithm whose nodes are another algorithm's, each inside a wrapper
/// node (a probe, a deliberately broken variant; its queries written by
/// [`delegate_node_queries`](crate::delegate_node_queries)). Implement this
/// and [`Algorithm`] comes with it: nodes start, restart and persist as the
/// inner algorithm's do, and the monitors see the inner nodes.
pub trait AlgorithmWrapper {
    type Inner: Algorithm;
    type Node: Node<Message = MessageOf<Self::Inner>, Persist = PersistOf<Self::Inner>>
        + Clone
        + Debug
        + 'static;

    fn inner(&self) -> &Self::Inner;

    /// Puts a node the inner algorithm started into its wrapper.
    fn wrap(&self, node: <Self::Inner as Algorithm>::Node) -> Self::Node;

    /// The inner algorithm's node in `node`, for the monitors.
    fn unwrap(node: &Self::Node) -> &<Self::Inner as Algorithm>::Node;

    /// [`Algorithm::name`]: by default the inner algorithm's.
    fn wrapper_name(&self) -> &'static str {
        self.inner().name()
    }
}

impl<W: AlgorithmWrapper> Algorithm for W {
    type Node = W::Node;
    type Durable = <W::Inner as Algorithm>::Durable;

    fn name(&self) -> &'static str {
        self.wrapper_name()
    }

    fn election_bound(&self) -> std::time::Duration {
        self.inner().election_bound()
    }

    fn start(&self, boot: Boot<'_>) -> W::Node {
        self.wrap(self.inner().start(boot))
    }

    fn restart(&self, boot: Boot<'_>, durable: &Self::Durable) -> W::Node {
        self.wrap(self.inner().restart(boot, durable))
    }

    fn persist(durable: &mut Self::Durable, record: PersistOf<W::Inner>) {
        W::Inner::persist(durable, record);
    }

    fn log(node: &W::Node) -> Option<&[Entry]> {
        W::Inner::log(W::unwrap(node))
    }

    fn snapshot(node: &W::Node) -> Option<&Snapshot> {
        W::Inner::snapshot(W::unwrap(node))
    }

    fn can_serve(node: &W::Node) -> bool {
        W::Inner::can_serve(W::unwrap(node))
    }

    fn service_members(&self) -> u64 {
        self.inner().service_members()
    }

    fn lock_view(node: &W::Node, local: Time) -> Option<LockView> {
        W::Inner::lock_view(W::unwrap(node), local)
    }
}

/// Raft with a given configuration.
#[derive(Clone, Debug, Default)]
pub struct Raft {
    pub config: Config,
}

impl Algorithm for Raft {
    type Node = RaftNode;
    type Durable = DurableState;

    fn name(&self) -> &'static str {
        "raft"
    }

    fn election_bound(&self) -> std::time::Duration {
        // A stale leader steps down within two CheckQuorum periods, then one
        // maximal timeout plus pre-vote, vote and append round trips.
        self.config.election_timeout_min * 2 + self.config.election_timeout_max
    }

    fn start(&self, boot: Boot<'_>) -> RaftNode {
        RaftNode::new(
            boot.id,
            boot.members,
            self.config.clone(),
            boot.now,
            boot.rng,
        )
        .expect("the simulation validates the configuration first")
    }

    fn restart(&self, boot: Boot<'_>, durable: &DurableState) -> RaftNode {
        let durable = durable.clone();
        RaftNode::restart(
            boot.id,
            boot.members,
            self.config.clone(),
            durable,
            boot.now,
            boot.rng,
        )
        .expect("durable state written by the node itself is consistent")
    }

    fn persist(durable: &mut DurableState, record: Persist) {
        durable.apply_owned(record);
    }

    fn log(node: &RaftNode) -> Option<&[Entry]> {
        Some(node.log().entries())
    }

    fn snapshot(node: &RaftNode) -> Option<&Snapshot> {
        node.snapshot().map(|snapshot| &**snapshot)
    }

    fn can_serve(node: &RaftNode) -> bool {
        node.role() == Role::Leader
            && node.log().term_at(node.committed()) == Some(node.current_term())
    }
}

/// An algorithm built on the protocol chassis (`crate::core::chassis`):
/// its nodes start and restart the same way and persist the chassis's
/// durable state, so only the name and the election bound differ.
macro_rules! chassis_algorithm {
    ($(#[$doc:meta])* $name:ident, $protocol:ident, $node:ident, $label:literal, |$config:ident| $bound:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default)]
        pub struct $name {
            pub config: crate::core::$protocol::Config,
        }

        impl Algorithm for $name {
            type Node = crate::core::$protocol::$node;
            type Durable = crate::core::chassis::DurableState;

            fn name(&self) -> &'static str {
                $label
            }

            fn election_bound(&self) -> std::time::Duration {
                let $config = &self.config;
                $bound
            }

            fn start(&self, boot: Boot<'_>) -> Self::Node {
                let config = self.config.clone();
                Self::Node::new(boot.id, boot.members, config, boot.now, boot.rng)
                    .expect("the simulation validates the configuration first")
            }

            fn restart(&self, boot: Boot<'_>, durable: &Self::Durable) -> Self::Node {
                let config = self.config.clone();
                Self::Node::restart(boot.id, boot.members, config, *durable, boot.now, boot.rng)
                    .expect("durable state written by the node itself is consistent")
            }

            fn persist(durable: &mut Self::Durable, record: crate::core::chassis::Persist) {
                durable.apply(&record);
            }

            fn log(_: &Self::Node) -> Option<&[Entry]> {
                None
            }
        }
    };
}

chassis_algorithm!(
    /// Bully (Garcia-Molina) with a given configuration.
    Bully,
    bully,
    BullyNode,
    "bully",
    |config| config.leader_timeout_max + config.answer_timeout + config.coordinator_timeout
);

chassis_algorithm!(
    /// Ring (Chang–Roberts) with a given configuration.
    Ring,
    ring,
    RingNode,
    "ring",
    |config| config.leader_timeout_max + config.coordinator_timeout
);
