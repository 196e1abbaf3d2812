//! A tiny in-test network for Bully and Ring nodes (any [`Node`] whose
//! durable record is the shared epoch record): instant FIFO delivery, a
//! partition into groups, crashes and restarts, and time that jumps from one
//! node deadline to the next. Every message sent is logged, delivered or
//! lost, so tests can count the messages of an election; the safety
//! monitors judge the cluster after every step and record what they find.
//!
//! All nodes share one clock here (no drift): the split brains these tests
//! show need no clock trouble at all.

#![allow(dead_code)] // each test binary uses a different part

pub mod faults;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Display;

use electorate::check::properties::{NodeView, Property, SafetyMonitor, Violation};
use electorate::core::chassis::{DurableState, Persist};
use electorate::core::client::ClientReply;
use electorate::core::node::{Actions, Event, Input, Node, NodeId, Role};
use electorate::core::time::Time;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A message as it was sent, at the router's time.
#[derive(Clone, Debug)]
pub struct Envelope<M> {
    pub at: Time,
    pub from: NodeId,
    pub to: NodeId,
    pub message: M,
}

/// The most deliveries of one `deliver_all`, and timer rounds of one
/// `run_until`: beyond them the cluster is in a loop, a bug worth a panic.
const MAX_DELIVERIES: usize = 100_000;
const MAX_TIMER_ROUNDS: usize = 100_000;

pub struct Router<N: Node<Persist = Persist>> {
    pub now: Time,
    /// The nodes that are up.
    nodes: BTreeMap<NodeId, N>,
    /// What every node, up or down, has made durable.
    durable: BTreeMap<NodeId, DurableState>,
    queue: VecDeque<Envelope<N::Message>>,
    /// Partition groups by node; empty when fully connected.
    group_of: BTreeMap<NodeId, usize>,
    rng: ChaCha8Rng,
    /// Every message sent, in order, whether delivered or lost.
    pub sent: Vec<Envelope<N::Message>>,
    pub events: Vec<(Time, NodeId, Event)>,
    pub replies: Vec<(NodeId, ClientReply)>,
    monitor: SafetyMonitor,
    pub violations: Vec<Violation>,
}

impl<N> Router<N>
where
    N: Node<Persist = Persist>,
    N::Message: Display,
{
    pub fn new(nodes: Vec<N>, seed: u64) -> Router<N> {
        let durable = nodes
            .iter()
            .map(|node| (node.id(), DurableState::default()))
            .collect();
        Router {
            now: Time::ZERO,
            nodes: nodes.into_iter().map(|node| (node.id(), node)).collect(),
            durable,
            queue: VecDeque::new(),
            group_of: BTreeMap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            sent: Vec::new(),
            events: Vec::new(),
            replies: Vec::new(),
            monitor: SafetyMonitor::new(),
            violations: Vec::new(),
        }
    }

    pub fn node(&self, id: NodeId) -> &N {
        self.nodes.get(&id).expect("node is up")
    }

    pub fn is_up(&self, id: NodeId) -> bool {
        self.nodes.contains_key(&id)
    }

    pub fn durable(&self, id: NodeId) -> DurableState {
        self.durable[&id]
    }

    /// Steps node `id` with `input` now, persists, queues its messages.
    pub fn step(&mut self, id: NodeId, input: Input<N::Message>) {
        let mut actions = Actions::default();
        let node = self.nodes.get_mut(&id).expect("stepping a node that is up");
        node.step(self.now, &mut self.rng, input, &mut actions);
        // Persist before send.
        let durable = self.durable.get_mut(&id).expect("known node");
        durable.apply_all(&actions.persist);
        for outgoing in actions.messages {
            let envelope = Envelope {
                at: self.now,
                from: id,
                to: outgoing.to,
                message: outgoing.message,
            };
            self.sent.push(envelope.clone());
            self.queue.push_back(envelope);
        }
        let now = self.now;
        self.events
            .extend(actions.events.into_iter().map(|event| (now, id, event)));
        self.replies
            .extend(actions.replies.into_iter().map(|reply| (id, reply)));
        self.observe();
    }

    fn observe(&mut self) {
        let views: Vec<NodeView> = self
            .nodes
            .values()
            .map(|node| NodeView {
                id: node.id(),
                role: node.role(),
                term: node.term(),
                holds_lease: node.holds_lease(self.now),
                log: None,
                commit_index: node.commit_index(),
            })
            .collect();
        if let Err(violation) = self.monitor.observe(&views) {
            if self.violations.last() != Some(&violation) {
                self.violations.push(violation);
            }
        }
    }

    pub fn connected(&self, a: NodeId, b: NodeId) -> bool {
        self.group_of.get(&a) == self.group_of.get(&b)
    }

    /// Delivers queued messages, and those they cause, until none is left.
    /// A message to a node that is down or cut off is lost.
    pub fn deliver_all(&mut self) {
        for _ in 0..MAX_DELIVERIES {
            let Some(envelope) = self.queue.pop_front() else {
                return;
            };
            if self.nodes.contains_key(&envelope.to) && self.connected(envelope.from, envelope.to) {
                let input = Input::Message {
                    from: envelope.from,
                    message: envelope.message,
                };
                self.step(envelope.to, input);
            }
        }
        panic!("message storm: more than {MAX_DELIVERIES} deliveries");
    }

    /// Lets time run to `until`: delivers everything, then jumps to the
    /// earliest node deadline and ticks every node due, and so on.
    pub fn run_until(&mut self, until: Time) {
        for _ in 0..MAX_TIMER_ROUNDS {
            self.deliver_all();
            let due = self.nodes.values().map(|node| node.next_deadline()).min();
            match due {
                Some(deadline) if deadline <= until => {
                    self.now = self.now.max(deadline);
                    let now = self.now;
                    let ready: Vec<NodeId> = self
                        .nodes
                        .iter()
                        .filter(|(_, node)| node.next_deadline() <= now)
                        .map(|(&id, _)| id)
                        .collect();
                    for id in ready {
                        self.step(id, Input::Tick);
                    }
                }
                _ => {
                    self.now = self.now.max(until);
                    return;
                }
            }
        }
        panic!("timers fire without end");
    }

    pub fn run_for_ms(&mut self, millis: u64) {
        let until = Time::from_micros(self.now.as_micros() + millis * 1_000);
        self.run_until(until);
    }

    /// Crashes `id`: its volatile state is gone, its durable state stays,
    /// messages to it are lost.
    pub fn crash(&mut self, id: NodeId) {
        assert!(
            self.nodes.remove(&id).is_some(),
            "crashing a node that is up"
        );
    }

    /// Brings `id` back, built by `build` from its durable state.
    pub fn restart(
        &mut self,
        id: NodeId,
        build: impl FnOnce(DurableState, Time, &mut ChaCha8Rng) -> N,
    ) {
        assert!(
            !self.nodes.contains_key(&id),
            "restarting a node that is up"
        );
        let node = build(self.durable[&id], self.now, &mut self.rng);
        self.nodes.insert(id, node);
    }

    /// Cuts the network into `groups`: messages only flow within a group.
    pub fn partition(&mut self, groups: &[&[NodeId]]) {
        self.group_of = groups
            .iter()
            .enumerate()
            .flat_map(|(group, ids)| ids.iter().map(move |&id| (id, group)))
            .collect();
    }

    pub fn heal(&mut self) {
        self.group_of.clear();
    }

    /// The nodes up that believe they lead.
    pub fn leaders(&self) -> Vec<NodeId> {
        self.nodes
            .values()
            .filter(|node| node.role() == Role::Leader)
            .map(|node| node.id())
            .collect()
    }

    /// Every node up follows (or is) `leader`, in one epoch.
    pub fn all_follow(&self, leader: NodeId) -> bool {
        let epochs: BTreeSet<u64> = self.nodes.values().map(|node| node.term()).collect();
        epochs.len() == 1
            && self
                .nodes
                .values()
                .all(|node| node.leader() == Some(leader))
    }

    /// How many messages of each kind (the first word of their display) were
    /// sent since `sent[mark]`.
    pub fn count_since(&self, mark: usize) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for envelope in &self.sent[mark..] {
            let line = envelope.message.to_string();
            let kind = line.split(' ').next().unwrap_or_default().to_owned();
            *counts.entry(kind).or_insert(0) += 1;
        }
        counts
    }

    pub fn violated(&self, property: Property) -> bool {
        self.violations
            .iter()
            .any(|violation| violation.property == property)
    }

    /// The `Dropped` events of node `id`.
    pub fn drops_of(&self, id: NodeId) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|(_, node, event)| *node == id && matches!(event, Event::Dropped { .. }))
            .map(|(_, _, event)| event)
            .collect()
    }
}
