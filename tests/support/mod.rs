//! Helpers the test binaries share: stepping one node directly (any
//! [`Node`]), building client inputs, reading a step's actions, and
//! driving a simulated [`Cluster`] of any [`Algorithm`] (who leads, who
//! follows, random faults, message counts); for real nodes, [`driver`].
//!
//! Each binary includes it with `mod support;` and uses what it needs.

#![allow(dead_code)] // each test binary uses a different part

pub mod driver;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::time::Duration;

use electorate::check::properties::Property;
use electorate::core::client::{ClientRequest, Operation, RequestId};
use electorate::core::node::{Actions, Input, Node, NodeId};
use electorate::core::time::Time;
use electorate::harness::algorithm::Algorithm;
use electorate::sim::cluster::{Cluster, MessageOf, Trace};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The RNG of a node stepped directly: the same every time.
pub fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(7)
}

/// The actions one step of `node` asks for.
pub type ActionsOf<N> = Actions<<N as Node>::Message, <N as Node>::Persist>;

/// Steps `node` at local time `now_ms` milliseconds.
pub fn step<N: Node>(node: &mut N, now_ms: u64, input: Input<N::Message>) -> ActionsOf<N> {
    step_at(node, Time::from_millis(now_ms), input)
}

/// Steps at an exact local time (deadlines are in microseconds).
pub fn step_at<N: Node>(node: &mut N, now: Time, input: Input<N::Message>) -> ActionsOf<N> {
    let mut actions = Actions::default();
    node.step(now, &mut rng(), input, &mut actions);
    actions
}

/// The messages a step sends, with their receivers.
pub fn sent<M: Clone, P>(actions: &Actions<M, P>) -> Vec<(NodeId, M)> {
    actions
        .messages
        .iter()
        .map(|outgoing| (outgoing.to, outgoing.message.clone()))
        .collect()
}

/// A request of client 1.
pub fn client<M>(sequence: u64, operation: Operation) -> Input<M> {
    Input::Client(ClientRequest {
        id: RequestId {
            client: 1,
            sequence,
        },
        operation,
    })
}

/// Client 1 writes `value` to key `x`.
pub fn write<M>(sequence: u64, value: u64) -> Input<M> {
    let key = "x".into();
    client(sequence, Operation::Write { key, value })
}

/// Client 1 reads key `x`.
pub fn read<M>(sequence: u64) -> Input<M> {
    client(sequence, Operation::Read { key: "x".into() })
}

// ---------------------------------------------------------------------------
// A simulated cluster of any algorithm.

/// Nodes `1..=size` of `algorithm` on a network that delivers at once, as
/// a hand-drawn message diagram would.
pub fn cluster<A: Algorithm>(algorithm: A, size: u64, seed: u64) -> Cluster<A> {
    let mut cluster = Cluster::start(algorithm, size, seed);
    cluster.set_latency(Duration::ZERO);
    cluster
}

/// A cluster of `size` that has run for a second and settled on its
/// highest id, its trace taken.
pub fn settled_on_highest<A: Algorithm>(algorithm: A, size: u64, seed: u64) -> Cluster<A> {
    let mut cluster = cluster(algorithm, size, seed);
    run_ms(&mut cluster, 1_000);
    assert!(all_follow(&cluster, size), "settled on {size}");
    cluster.take_trace();
    cluster
}

pub fn run_ms<A: Algorithm>(cluster: &mut Cluster<A>, millis: u64) {
    cluster.run_for(Duration::from_millis(millis));
}

/// Every node up follows (or is) `leader`, in one term or epoch.
pub fn all_follow<A: Algorithm>(cluster: &Cluster<A>, leader: NodeId) -> bool {
    let up: Vec<&A::Node> = cluster
        .members()
        .iter()
        .filter_map(|&id| cluster.node(id))
        .collect();
    let terms: BTreeSet<u64> = up.iter().map(|node| node.term()).collect();
    terms.len() == 1 && up.iter().all(|node| node.leader() == Some(leader))
}

pub fn term_of<A: Algorithm>(cluster: &Cluster<A>, id: NodeId) -> u64 {
    cluster.node(id).expect("the node is up").term()
}

pub fn violated<A: Algorithm>(cluster: &Cluster<A>, property: Property) -> bool {
    cluster
        .violations()
        .iter()
        .any(|violation| violation.property == property)
}

/// How many messages of each kind (the first word of their display) were
/// sent in `trace`, delivered or lost.
pub fn count_sent<M: Display>(trace: &[(Time, Trace<M>)]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (_, line) in trace {
        let envelope = match line {
            Trace::Delivered(envelope) | Trace::Lost { envelope, .. } => envelope,
            _ => continue,
        };
        let text = envelope.message.to_string();
        let kind = text.split(' ').next().unwrap_or_default().to_owned();
        *counts.entry(kind).or_insert(0) += 1;
    }
    counts
}

/// Runs `faults` random faults (crashes, restarts, partitions, heals,
/// spurious campaigns at random times), then heals the network, restarts
/// every node and lets the cluster settle for `settle_ms`.
pub fn run_random_faults<A: Algorithm>(
    cluster: &mut Cluster<A>,
    seed: u64,
    faults: usize,
    settle_ms: u64,
) {
    let members = cluster.members().to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..faults {
        let id = members[rng.random_range(0..members.len())];
        match rng.random_range(0..6) {
            0 => cluster.crash(id),
            1 => cluster.restart(id),
            2 => {
                let (left, right): (Vec<NodeId>, Vec<NodeId>) =
                    members.iter().partition(|_| rng.random_bool(0.5));
                cluster.partition(&[left, right]);
            }
            3 => cluster.heal(),
            4 => cluster.campaign(id),
            _ => {}
        }
        run_ms(cluster, rng.random_range(1..400));
        // The trace is for printing; a long run would only grow it.
        cluster.take_trace();
    }
    cluster.heal();
    for &id in &members {
        cluster.restart(id);
    }
    run_ms(cluster, settle_ms);
}

/// Crashes `crashed`, has `starter` campaign and lets `millis` pass;
/// asserts that every node up then follows `winner`. Returns the trace of
/// the election (what was sent, delivered or lost).
pub fn election_after_crash<A: Algorithm>(
    cluster: &mut Cluster<A>,
    crashed: NodeId,
    starter: NodeId,
    millis: u64,
    winner: NodeId,
) -> Vec<(Time, Trace<MessageOf<A>>)> {
    cluster.crash(crashed);
    cluster.take_trace();
    cluster.campaign(starter);
    run_ms(cluster, millis);
    assert!(
        all_follow(cluster, winner),
        "{starter} started, {crashed} dead"
    );
    cluster.take_trace()
}

/// A Raft configuration whose lease (150 ms, the shortest election
/// timeout) counts on clocks that never drift: it passes validation, and
/// only real drift shows it unsafe.
pub fn lease_without_drift_margin() -> electorate::core::raft::Config {
    electorate::core::raft::Config {
        lease_duration: Duration::from_millis(150),
        clock_drift_bound: Duration::ZERO,
        ..electorate::core::raft::Config::default()
    }
}
