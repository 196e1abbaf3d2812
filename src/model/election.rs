//! The stateright model of the leader-election algorithms without a log
//! (Bully, Ring), over the production nodes through the simulator's
//! [`Algorithm`] adapters: the same time, clocks, network and crashes as
//! the Raft model, no clients. The shared monitors judge every state; on a
//! lossy network (a partition is messages that never arrive) both
//! algorithms crown two leaders at once, and their specs expect it.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use stateright::{Model, Property as CheckerProperty};

use crate::check::properties::{NodeView, SafetyMonitor};
use crate::core::node::{Actions, Input, Node, NodeId, Role};
use crate::core::time::Time;
use crate::harness::algorithm::Algorithm;
use crate::model::network::{Envelope, Network};
use crate::model::properties::{
    Violations, ELECTION_SAFETY, LEADER_ELECTED, LEADER_REPLACED, LEASE_SAFETY, NODE_INVARIANTS,
};
use crate::model::rng::StepRng;
use crate::model::spec::ModelSpec;

/// The `always` properties an election model judges.
pub const ELECTION_ALWAYS: [&str; 3] = [ELECTION_SAFETY, LEASE_SAFETY, NODE_INVARIANTS];
/// Its `sometimes` properties.
pub const ELECTION_SOMETIMES: [&str; 2] = [LEADER_ELECTED, LEADER_REPLACED];

type Message<A> = <<A as Algorithm>::Node as Node>::Message;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ElectionState<N, D, M> {
    pub real_time: u64,
    /// Node `id` at index `id - 1`; `None` while crashed.
    pub nodes: Vec<Option<Arc<N>>>,
    pub durable: Vec<D>,
    /// Quanta each clock has gained on real time (drift), at most the
    /// spec's `time.clock_drift`.
    pub clock_gain: Vec<u64>,
    pub network: Network<M>,
    pub crashes: u32,
    pub monitor: SafetyMonitor,
    pub violations: Violations,
    /// The epoch of the last leader that crashed.
    pub crashed_leader_epoch: Option<u64>,
}

pub type StateOf<A> = ElectionState<<A as Algorithm>::Node, <A as Algorithm>::Durable, Message<A>>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ElectionAction<M> {
    AdvanceTime,
    ClockJump(NodeId),
    Tick(NodeId),
    Deliver(Envelope<M>),
    Drop(Envelope<M>),
    Duplicate(Envelope<M>),
    Crash(NodeId),
    Restart(NodeId),
}

impl<M: fmt::Display> fmt::Display for ElectionAction<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElectionAction::AdvanceTime => write!(f, "time advances one quantum"),
            ElectionAction::ClockJump(id) => write!(f, "clock of {id} gains one quantum"),
            ElectionAction::Tick(id) => write!(f, "tick {id}"),
            ElectionAction::Deliver(envelope) => write!(f, "deliver {envelope}"),
            ElectionAction::Drop(envelope) => write!(f, "lose {envelope}"),
            ElectionAction::Duplicate(envelope) => write!(f, "duplicate {envelope}"),
            ElectionAction::Crash(id) => write!(f, "crash {id}"),
            ElectionAction::Restart(id) => write!(f, "restart {id}"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ElectionModel<A> {
    algorithm: A,
    spec: ModelSpec,
    members: Vec<NodeId>,
    quantum_micros: u64,
}

impl<A> ElectionModel<A>
where
    A: Algorithm + Clone,
    A::Node: Hash + Eq,
    A::Durable: Hash + Eq,
    Message<A>: Ord + Hash + fmt::Display,
{
    pub fn new(algorithm: A, spec: ModelSpec) -> ElectionModel<A> {
        let members = spec.members();
        let quantum_micros = u64::try_from(spec.time.quantum.as_micros()).unwrap_or(u64::MAX);
        ElectionModel {
            algorithm,
            spec,
            members,
            quantum_micros,
        }
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    fn local_time(&self, state: &StateOf<A>, id: NodeId) -> Time {
        Time::from_micros((state.real_time + state.clock_gain[index(id)]) * self.quantum_micros)
    }

    fn step(&self, state: &mut StateOf<A>, id: NodeId, input: Input<Message<A>>) {
        let now = self.local_time(state, id);
        let slot = index(id);
        let Some(node) = state.nodes[slot].as_mut() else {
            return;
        };
        let node = Arc::make_mut(node);
        let mut rng = StepRng::new(self.spec.time.jitter, id, node.term(), now.as_micros());
        let mut actions = Actions::default();
        let stepped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            node.step(now, &mut rng, input, &mut actions);
            node.invariants();
        }));
        if stepped.is_err() {
            state.violations.record(NODE_INVARIANTS);
            return;
        }
        for record in actions.persist {
            A::persist(&mut state.durable[slot], record);
        }
        for outgoing in actions.messages {
            state.network.send(Envelope {
                from: id,
                to: outgoing.to,
                message: outgoing.message,
            });
        }
    }

    fn observe(&self, state: &mut StateOf<A>) {
        let views: Vec<NodeView> = self
            .members
            .iter()
            .filter_map(|&id| {
                let node = state.nodes[index(id)].as_deref()?;
                Some(NodeView {
                    id,
                    role: node.role(),
                    term: node.term(),
                    holds_lease: node.holds_lease(self.local_time(state, id)),
                    log: None,
                    commit_index: 0,
                })
            })
            .collect();
        let mut monitor = std::mem::take(&mut state.monitor);
        for violation in monitor.observe_all(&views) {
            state.violations.record(violation.property.name());
        }
        state.monitor = monitor;
    }
}

fn index(id: NodeId) -> usize {
    usize::try_from(id - 1).unwrap_or(usize::MAX)
}

impl<A> Model for ElectionModel<A>
where
    A: Algorithm + Clone,
    A::Node: Hash + Eq,
    A::Durable: Hash + Eq,
    Message<A>: Ord + Hash + fmt::Display,
{
    type State = StateOf<A>;
    type Action = ElectionAction<Message<A>>;

    fn init_states(&self) -> Vec<Self::State> {
        let nodes = self
            .members
            .iter()
            .map(|&id| {
                let mut rng = StepRng::new(self.spec.time.jitter, id, 0, 0);
                Some(Arc::new(self.algorithm.start(
                    id,
                    &self.members,
                    Time::ZERO,
                    &mut rng,
                )))
            })
            .collect();
        let size = self.members.len();
        let mut state = ElectionState {
            real_time: 0,
            nodes,
            durable: vec![A::Durable::default(); size],
            clock_gain: vec![0; size],
            network: Network::new(self.spec.network.ordered),
            crashes: 0,
            monitor: SafetyMonitor::new(),
            violations: Violations::default(),
            crashed_leader_epoch: None,
        };
        self.observe(&mut state);
        vec![state]
    }

    fn actions(&self, state: &Self::State, actions: &mut Vec<Self::Action>) {
        if state.real_time < self.spec.time.max_time {
            actions.push(ElectionAction::AdvanceTime);
        }
        for &id in &self.members {
            if state.clock_gain[index(id)] < self.spec.time.clock_drift {
                actions.push(ElectionAction::ClockJump(id));
            }
            match &state.nodes[index(id)] {
                None => actions.push(ElectionAction::Restart(id)),
                Some(node) => {
                    if self.local_time(state, id) >= node.next_deadline() {
                        actions.push(ElectionAction::Tick(id));
                    }
                    if state.crashes < self.spec.max_crashes {
                        actions.push(ElectionAction::Crash(id));
                    }
                }
            }
        }
        for envelope in state.network.deliverable() {
            if state.nodes[index(envelope.to)].is_some() {
                actions.push(ElectionAction::Deliver(envelope));
            }
        }
        let network = &self.spec.network;
        if network.lossy || network.duplicating {
            for envelope in state.network.distinct() {
                if network.duplicating && state.network.can_duplicate(&envelope) {
                    actions.push(ElectionAction::Duplicate(envelope.clone()));
                }
                if network.lossy {
                    actions.push(ElectionAction::Drop(envelope));
                }
            }
        }
    }

    fn next_state(&self, state: &Self::State, action: Self::Action) -> Option<Self::State> {
        let mut next = state.clone();
        match action {
            ElectionAction::AdvanceTime => next.real_time += 1,
            ElectionAction::ClockJump(id) => next.clock_gain[index(id)] += 1,
            ElectionAction::Tick(id) => self.step(&mut next, id, Input::Tick),
            ElectionAction::Deliver(envelope) => {
                next.network.remove(&envelope);
                let input = Input::Message {
                    from: envelope.from,
                    message: envelope.message,
                };
                self.step(&mut next, envelope.to, input);
            }
            ElectionAction::Drop(envelope) => next.network.remove(&envelope),
            ElectionAction::Duplicate(envelope) => next.network.send(envelope),
            ElectionAction::Crash(id) => {
                if let Some(node) = next.nodes[index(id)].take() {
                    if node.role() == Role::Leader {
                        next.crashed_leader_epoch = Some(node.term());
                    }
                    next.crashes += 1;
                }
            }
            ElectionAction::Restart(id) => {
                let now = self.local_time(&next, id);
                let durable = &next.durable[index(id)];
                let mut rng = StepRng::new(self.spec.time.jitter, id, 0, now.as_micros());
                let node = self
                    .algorithm
                    .restart(id, &self.members, durable, now, &mut rng);
                next.nodes[index(id)] = Some(Arc::new(node));
            }
        }
        self.observe(&mut next);
        Some(next)
    }

    fn properties(&self) -> Vec<CheckerProperty<Self>> {
        // stateright takes plain function pointers, so one per property.
        let mut properties: Vec<CheckerProperty<Self>> = vec![
            CheckerProperty::always(ELECTION_SAFETY, |_: &Self, state: &Self::State| {
                !state.violations.contains(ELECTION_SAFETY)
            }),
            CheckerProperty::always(LEASE_SAFETY, |_: &Self, state: &Self::State| {
                !state.violations.contains(LEASE_SAFETY)
            }),
            CheckerProperty::always(NODE_INVARIANTS, |_: &Self, state: &Self::State| {
                !state.violations.contains(NODE_INVARIANTS)
            }),
        ];
        properties.push(CheckerProperty::sometimes(
            LEADER_ELECTED,
            |_: &Self, state: &Self::State| {
                state
                    .nodes
                    .iter()
                    .flatten()
                    .any(|node| node.role() == Role::Leader)
            },
        ));
        properties.push(CheckerProperty::sometimes(
            LEADER_REPLACED,
            |_: &Self, state: &Self::State| {
                state.crashed_leader_epoch.is_some_and(|epoch| {
                    state
                        .nodes
                        .iter()
                        .flatten()
                        .any(|node| node.role() == Role::Leader && node.term() > epoch)
                })
            },
        ));
        properties
    }

    fn within_boundary(&self, state: &Self::State) -> bool {
        state.network.len() <= self.spec.network.max_in_flight
            && state
                .nodes
                .iter()
                .flatten()
                .all(|node| node.term() <= self.spec.bounds.max_term)
    }

    fn format_action(&self, action: &Self::Action) -> String {
        action.to_string()
    }
}
