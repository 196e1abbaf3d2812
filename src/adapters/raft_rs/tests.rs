//! The adapter's own checks, a few seeds each: runs reproduce from their
//! seed, the safety monitors and the linearizability check pass under
//! every fault kind, and a crash keeps exactly what the persist path was
//! handed.

use std::collections::VecDeque;
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{RaftRs, RaftRsLog, RaftRsNode};
use crate::core::client::{ClientRequest, Operation, Outcome, RequestId};
use crate::core::node::{Actions, Input, Node, NodeId, Role};
use crate::core::time::Time;
use crate::harness::algorithm::{Algorithm, Boot};
use crate::sim::faults::FaultKind;
use crate::sim::simulation::Simulation;
use crate::sim::swarm::{draw, SwarmSettings};

fn swarm(seed: u64, nodes: u64, seconds: u64) -> crate::sim::simulation::SimulationOptions {
    let settings = SwarmSettings::new(
        nodes,
        Duration::from_secs(seconds),
        FaultKind::default_set(),
    );
    draw(seed, &settings)
}

#[test]
fn a_run_reproduces_from_its_seed() {
    let run = |seed| Simulation::new(RaftRs::default(), swarm(seed, 3, 4)).run();
    let (first, again, other) = (run(7), run(7), run(8));
    assert_eq!(first.trace_hash, again.trace_hash);
    assert_eq!(first.history, again.history);
    assert_eq!(first.events_processed, again.events_processed);
    assert_ne!(first.trace_hash, other.trace_hash, "the seed matters");
}

#[test]
fn swarm_runs_keep_every_property() {
    for seed in 0..4 {
        let outcome = Simulation::new(RaftRs::default(), swarm(seed, 5, 8)).run();
        let failures: Vec<_> = outcome.failures().collect();
        assert!(failures.is_empty(), "seed {seed}: {failures:?}");
        assert!(
            outcome.metrics.operations_ok > 0,
            "seed {seed}: clients were served"
        );
    }
}

/// Three nodes wired directly, every message delivered at once, storage
/// made durable before a step's messages are queued (as the simulator
/// does); time stands still, so only what the test asks for happens.
struct Wired {
    nodes: Vec<Option<RaftRsNode>>,
    durable: Vec<RaftRsLog>,
    rng: ChaCha8Rng,
    in_flight: VecDeque<(NodeId, NodeId, super::RaftRsMessage)>,
    replies: Vec<crate::core::client::ClientReply>,
}

const MEMBERS: [NodeId; 3] = [1, 2, 3];

impl Wired {
    fn new() -> Wired {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let nodes = MEMBERS
            .iter()
            .map(|&id| Some(RaftRs::default().start(Boot::at_zero(id, &MEMBERS, &mut rng))))
            .collect();
        Wired {
            nodes,
            durable: vec![RaftRsLog::default(); MEMBERS.len()],
            rng,
            in_flight: VecDeque::new(),
            replies: Vec::new(),
        }
    }

    fn node(&self, id: NodeId) -> &RaftRsNode {
        self.nodes[(id - 1) as usize].as_ref().expect("node is up")
    }

    fn step(&mut self, id: NodeId, input: Input<super::RaftRsMessage>) {
        let slot = (id - 1) as usize;
        let Some(node) = self.nodes[slot].as_mut() else {
            return;
        };
        let mut actions = Actions::default();
        node.step(Time::ZERO, &mut self.rng, input, &mut actions);
        node.invariants();
        for record in actions.persist {
            RaftRs::persist(&mut self.durable[slot], record);
        }
        for outgoing in actions.messages {
            self.in_flight
                .push_back((id, outgoing.to, outgoing.message));
        }
        self.replies.extend(actions.replies);
    }

    fn run(&mut self) {
        while let Some((from, to, message)) = self.in_flight.pop_front() {
            self.step(to, Input::Message { from, message });
        }
    }

    fn crash_and_restart(&mut self, id: NodeId) {
        let slot = (id - 1) as usize;
        self.nodes[slot] = None;
        let boot = Boot::at_zero(id, &MEMBERS, &mut self.rng);
        let node = RaftRs::default().restart(boot, &self.durable[slot]);
        self.nodes[slot] = Some(node);
        // Replays the committed entries into the fresh state machine.
        self.step(id, Input::Tick);
    }
}

fn write(sequence: u64, value: u64) -> ClientRequest {
    ClientRequest {
        id: RequestId {
            client: 1,
            sequence,
        },
        operation: Operation::Write {
            key: "x".to_owned(),
            value,
        },
    }
}

#[test]
fn a_crash_keeps_exactly_what_was_persisted() {
    let mut cluster = Wired::new();
    cluster.step(1, Input::Campaign);
    cluster.run();
    assert_eq!(cluster.node(1).role(), Role::Leader);
    for sequence in 1..=5 {
        cluster.step(1, Input::Client(write(sequence, sequence * 10)));
        cluster.run();
    }
    let written = cluster
        .replies
        .iter()
        .filter(|reply| reply.result == Ok(Outcome::Written))
        .count();
    assert_eq!(written, 5, "{:?}", cluster.replies);
    for id in MEMBERS {
        let before = cluster.node(id).clone();
        assert_eq!(
            before.durable(),
            &cluster.durable[(id - 1) as usize],
            "node {id}: everything raft-rs counts as persisted went through the persist path"
        );
        cluster.crash_and_restart(id);
        let after = cluster.node(id);
        assert_eq!(after.durable(), before.durable(), "node {id}");
        assert_eq!(
            (after.term(), after.applied()),
            (before.term(), before.applied())
        );
        assert_eq!(
            after.kv(),
            before.kv(),
            "node {id} replays its committed log"
        );
        assert_eq!(after.kv().read("x"), Some(50));
    }
}

#[test]
fn a_clone_shares_nothing_with_its_original() {
    let mut cluster = Wired::new();
    cluster.step(1, Input::Campaign);
    cluster.run();
    let copy = cluster.node(2).clone();
    cluster.step(1, Input::Client(write(1, 1)));
    cluster.run();
    assert_eq!(
        copy.durable().last_index() + 1,
        cluster.node(2).durable().last_index()
    );
    assert_eq!(copy.randomized_election_timeout(), {
        let original = cluster.node(2);
        original.randomized_election_timeout()
    });
}

/// Nodes started at one instant tick at phases drawn from the seed, as on
/// hosts whose tick timers start with their processes; with the phase off
/// (the scenario runner's setting) every node ticks one interval after it
/// starts.
#[test]
fn nodes_started_together_tick_at_seeded_phases() {
    let first_ticks = |algorithm: &RaftRs| -> Vec<Time> {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let members: Vec<NodeId> = (1..=5).collect();
        members
            .iter()
            .map(|&id| {
                let node = algorithm.start(Boot::at_zero(id, &members, &mut rng));
                node.next_deadline()
            })
            .collect()
    };
    let tick = Time::ZERO.saturating_add(RaftRs::default().settings.tick);
    let phased = first_ticks(&RaftRs::default());
    assert!(phased.iter().all(|&at| Time::ZERO < at && at <= tick));
    let mut distinct = phased.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), phased.len(), "{phased:?}");
    assert_eq!(phased, first_ticks(&RaftRs::default()), "seeded");
    let mut aligned = RaftRs::default();
    aligned.settings.random_tick_phase = false;
    assert_eq!(first_ticks(&aligned), vec![tick; 5]);
}
