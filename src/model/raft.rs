//! The stateright model of a Raft cluster, built from a [`ModelSpec`]. It
//! drives the production `RaftNode` through `Node::step` exactly as the
//! simulator does (persist, then send, then reply); nothing of the protocol
//! is written twice.
//!
//! stateright's timers carry no durations and it has no clock, so the model
//! implements [`Model`] directly and keeps time itself: a discrete real time
//! in quanta, and per node a clock that may run up to `time.clock_drift`
//! quanta ahead of real time. Any two clocks measuring the same interval then
//! disagree by at most that many quanta, which is what the core's
//! `clock_drift_bound` promises. Real time never passes `time.max_time`.
//!
//! Ticks are lazy: a node may be ticked at any instant once its local clock
//! has reached `next_deadline()`, never before. A late tick is a paused
//! process, which safety must survive anyway; see `super::rng` for why this
//! makes the minimum election timeout cover every draw.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use stateright::{Model, Property as CheckerProperty};

use crate::check::properties::{NodeView, SafetyMonitor};
use crate::core::client::{ClientReply, ClientRequest, RequestId};
use crate::core::node::{Input, Node, NodeId, Role};
use crate::core::raft::{Config, DurableState, Message, RaftActions, RaftNode};
use crate::core::time::Time;
use crate::model::action::Action;
use crate::model::network::{Envelope, Network};
use crate::model::properties::{self, Violations, LINEARIZABILITY, NODE_INVARIANTS};
use crate::model::register::{CasRegister, RegisterOp, RegisterRet};
use crate::model::rng::StepRng;
use crate::model::spec::ModelSpec;
use crate::model::state::{ClientStatus, ClusterState, NodeSlot, Panic};

#[derive(Clone, Debug)]
pub struct RaftModel {
    spec: ModelSpec,
    config: Config,
    members: Vec<NodeId>,
    quantum_micros: u64,
}

impl RaftModel {
    pub fn new(spec: ModelSpec) -> RaftModel {
        let config = spec.config();
        let members = spec.members();
        let quantum_micros =
            u64::try_from(spec.time.quantum.as_micros()).expect("validated: a small quantum");
        RaftModel {
            spec,
            config,
            members,
            quantum_micros,
        }
    }

    /// The model of `spec` with the core configured by `config` instead of
    /// the spec's `[raft]` section: how the known-bug tests turn on a
    /// deliberate deviation.
    pub fn with_config(spec: ModelSpec, config: Config) -> RaftModel {
        RaftModel {
            config,
            ..RaftModel::new(spec)
        }
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    pub fn quantum_micros(&self) -> u64 {
        self.quantum_micros
    }

    fn local_time(&self, state: &ClusterState, id: NodeId) -> Time {
        state.local_time(id, self.quantum_micros)
    }

    fn initial_state(&self) -> ClusterState {
        let nodes = self
            .members
            .iter()
            .map(|&id| {
                let mut rng = StepRng::new(self.spec.time.jitter, id, 0, 0);
                let node =
                    RaftNode::new(id, &self.members, self.config.clone(), Time::ZERO, &mut rng)
                        .expect("the spec validated the configuration");
                NodeSlot {
                    node: Some(Arc::new(node)),
                    durable: Arc::new(DurableState::default()),
                    clock_gain: 0,
                }
            })
            .collect();
        let mut state = ClusterState {
            real_time: 0,
            nodes,
            network: Network::new(self.spec.network.ordered),
            crashes: 0,
            transfers: 0,
            clients: vec![ClientStatus::Idle; self.spec.operations.len()],
            history: LinearizabilityTester::new(CasRegister::default()),
            monitor: SafetyMonitor::new(),
            violations: Violations::default(),
            crashed_leader_term: None,
            panic: None,
        };
        self.observe(&mut state);
        state
    }

    /// Feeds `input` to node `id` at its local time, then carries out the
    /// actions in contract order: persist, send, reply. A panic (a broken
    /// invariant: a bug) ends the run and is reported as a violation of
    /// [`NODE_INVARIANTS`].
    fn step(&self, state: &mut ClusterState, id: NodeId, input: Input<Message>) {
        let now = self.local_time(state, id);
        let jitter = self.spec.time.jitter;
        let slot = state.slot_mut(id);
        let node = Arc::make_mut(slot.node.as_mut().expect("only up nodes are stepped"));
        let durable = Arc::make_mut(&mut slot.durable);
        let mut rng = StepRng::new(jitter, id, node.term(), now.as_micros());
        let mut actions = RaftActions::default();
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            node.step(now, &mut rng, input, &mut actions);
            node.invariants();
            durable.apply_all(&actions.persist);
        }));
        if let Err(payload) = outcome {
            state.panic = Some(Panic {
                node: id,
                message: panic_message(&payload),
            });
            state.violations.record(NODE_INVARIANTS);
            return;
        }
        for outgoing in actions.messages {
            state.network.send(Envelope {
                from: id,
                to: outgoing.to,
                message: outgoing.message,
            });
        }
        for reply in actions.replies {
            self.record_reply(state, id, reply);
        }
    }

    fn record_reply(&self, state: &mut ClusterState, id: NodeId, reply: ClientReply) {
        let client = usize::try_from(reply.id.client).expect("client ids are indexes");
        let Some(result) = RegisterRet::from_result(&reply.result) else {
            // Outcome unknown: the operation stays in flight for ever.
            return;
        };
        if !matches!(
            state.clients.get(client),
            Some(ClientStatus::Pending { .. })
        ) {
            state.panic = Some(Panic {
                node: id,
                message: format!("a second reply to client c{client}: {reply:?}"),
            });
            state.violations.record(NODE_INVARIANTS);
            return;
        }
        state
            .history
            .on_return(client, result.clone())
            .expect("the client has an operation in flight");
        state.clients[client] = ClientStatus::Done {
            result,
            lease_read: false,
        };
        // Linearizability is prefix-closed, so judging the history when it
        // grows is enough; the verdict stays in `violations`.
        if !state.history.is_consistent() {
            state.violations.record(LINEARIZABILITY);
        }
    }

    fn client_request(&self, state: &mut ClusterState, client: usize, id: NodeId) {
        let operation = self.spec.operations[client].clone();
        let now = self.local_time(state, id);
        let by_lease =
            operation.is_read() && state.node(id).is_some_and(|node| node.holds_lease(now));
        state
            .history
            .on_invoke(client, RegisterOp::from_operation(&operation))
            .expect("each client invokes one operation");
        state.clients[client] = ClientStatus::Pending { node: id };
        let request = ClientRequest {
            id: RequestId {
                client: client as u64,
                sequence: 1,
            },
            operation,
        };
        self.step(state, id, Input::Client(request));
        if let ClientStatus::Done { lease_read, .. } = &mut state.clients[client] {
            *lease_read = by_lease;
        }
    }

    fn crash(&self, state: &mut ClusterState, id: NodeId) {
        let node = state.slot_mut(id).node.take().expect("only up nodes crash");
        if node.role() == Role::Leader {
            let term = node.term();
            state.crashed_leader_term =
                Some(state.crashed_leader_term.map_or(term, |t| t.max(term)));
        }
        state.crashes += 1;
    }

    fn restart(&self, state: &mut ClusterState, id: NodeId) {
        let now = self.local_time(state, id);
        let slot = state.slot_mut(id);
        let durable = DurableState::clone(&slot.durable);
        let mut rng = StepRng::new(
            self.spec.time.jitter,
            id,
            durable.hard_state.term,
            now.as_micros(),
        );
        let node = RaftNode::restart(
            id,
            &self.members,
            self.config.clone(),
            durable,
            now,
            &mut rng,
        )
        .expect("durable state written by the node itself is consistent");
        slot.node = Some(Arc::new(node));
    }

    /// Runs the safety monitors over the nodes that are up, at this instant
    /// of real time, and records what they find.
    fn observe(&self, state: &mut ClusterState) {
        let mut monitor = std::mem::take(&mut state.monitor);
        let violations = monitor.observe_all(&self.views(state));
        state.monitor = monitor;
        for violation in violations {
            state.violations.record(violation.property.name());
        }
    }

    /// The nodes that are up, as the monitors see them at this instant.
    fn views<'a>(&self, state: &'a ClusterState) -> Vec<NodeView<'a>> {
        self.members
            .iter()
            .filter_map(|&id| {
                let node = state.node(id)?;
                Some(NodeView {
                    id,
                    role: node.role(),
                    term: node.term(),
                    holds_lease: node.holds_lease(self.local_time(state, id)),
                    log: Some(node.log().entries()),
                    commit_index: node.commit_index(),
                })
            })
            .collect()
    }

    /// What went wrong in the step from `before` to `after`, in words: the
    /// monitors' descriptions of new violations, a panic, a history that
    /// stopped being linearizable.
    pub fn explain(&self, before: &ClusterState, after: &ClusterState) -> Vec<String> {
        let mut explanations = Vec::new();
        if let (None, Some(panic)) = (&before.panic, &after.panic) {
            explanations.push(format!("{NODE_INVARIANTS} violated: {panic}"));
        }
        let mut monitor = before.monitor.clone();
        for violation in monitor.observe_all(&self.views(after)) {
            if !before.violations.contains(violation.property.name()) {
                explanations.push(violation.to_string());
            }
        }
        if after.violations.contains(LINEARIZABILITY)
            && !before.violations.contains(LINEARIZABILITY)
        {
            let operations: Vec<String> = self
                .spec
                .operations
                .iter()
                .zip(&after.clients)
                .enumerate()
                .map(|(client, (operation, status))| format!("c{client} `{operation}`: {status:?}"))
                .collect();
            explanations.push(format!(
                "{LINEARIZABILITY} violated: no order of the operations explains the replies ({})",
                operations.join("; ")
            ));
        }
        explanations
    }

    fn node_actions(&self, state: &ClusterState, id: NodeId, actions: &mut Vec<Action>) {
        let time = &self.spec.time;
        if state.slot(id).clock_gain < time.clock_drift {
            actions.push(Action::ClockJump(id));
        }
        let Some(node) = state.node(id) else {
            actions.push(Action::Restart(id));
            return;
        };
        if self.local_time(state, id) >= node.next_deadline() {
            actions.push(Action::Tick(id));
        }
        if state.crashes < self.spec.max_crashes {
            actions.push(Action::Crash(id));
        }
        if node.role() != Role::Leader {
            return;
        }
        // Clients send to nodes that believe they lead: a follower would
        // only refuse, changing nothing.
        for (client, status) in state.clients.iter().enumerate() {
            if *status == ClientStatus::Idle {
                actions.push(Action::Client { client, node: id });
            }
        }
        if state.transfers < self.spec.max_transfers {
            for &to in self.members.iter().filter(|&&to| to != id) {
                actions.push(Action::Transfer { from: id, to });
            }
        }
    }

    fn network_actions(&self, state: &ClusterState, actions: &mut Vec<Action>) {
        for envelope in state.network.deliverable() {
            // A message to a crashed node waits for its restart (or is lost,
            // on a lossy network).
            if state.node(envelope.to).is_some() {
                actions.push(Action::Deliver(envelope));
            }
        }
        let network = &self.spec.network;
        if !network.lossy && !network.duplicating {
            return;
        }
        for envelope in state.network.distinct() {
            if network.duplicating && state.network.can_duplicate(&envelope) {
                actions.push(Action::Duplicate(envelope.clone()));
            }
            if network.lossy {
                actions.push(Action::Drop(envelope));
            }
        }
    }
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
        .unwrap_or_else(|| "unknown panic".to_owned())
}

impl Model for RaftModel {
    type State = ClusterState;
    type Action = Action;

    fn init_states(&self) -> Vec<ClusterState> {
        vec![self.initial_state()]
    }

    fn actions(&self, state: &ClusterState, actions: &mut Vec<Action>) {
        if state.panic.is_some() {
            // A node's state is garbage after a panic: nothing follows.
            return;
        }
        if state.real_time < self.spec.time.max_time {
            actions.push(Action::AdvanceTime);
        }
        for &id in &self.members {
            self.node_actions(state, id, actions);
        }
        self.network_actions(state, actions);
    }

    fn next_state(&self, state: &ClusterState, action: Action) -> Option<ClusterState> {
        let mut next = state.clone();
        match action {
            Action::AdvanceTime => next.real_time += 1,
            Action::ClockJump(id) => next.slot_mut(id).clock_gain += 1,
            Action::Tick(id) => self.step(&mut next, id, Input::Tick),
            Action::Deliver(envelope) => {
                next.network.remove(&envelope);
                let input = Input::Message {
                    from: envelope.from,
                    message: envelope.message,
                };
                self.step(&mut next, envelope.to, input);
            }
            Action::Drop(envelope) => next.network.remove(&envelope),
            Action::Duplicate(envelope) => next.network.send(envelope),
            Action::Crash(id) => self.crash(&mut next, id),
            Action::Restart(id) => self.restart(&mut next, id),
            Action::Client { client, node } => self.client_request(&mut next, client, node),
            Action::Transfer { from, to } => {
                next.transfers += 1;
                self.step(&mut next, from, Input::TransferLeadership { to });
            }
        }
        if next.panic.is_none() {
            self.observe(&mut next);
        }
        Some(next)
    }

    fn properties(&self) -> Vec<CheckerProperty<Self>> {
        properties::properties()
    }

    /// The bounds of the search: terms, log lengths and messages in flight.
    /// (Real time is bounded by disabling `AdvanceTime`.)
    fn within_boundary(&self, state: &ClusterState) -> bool {
        let bounds = &self.spec.bounds;
        state.network.len() <= self.spec.network.max_in_flight
            && state.nodes.iter().all(|slot| {
                let term = slot
                    .node
                    .as_ref()
                    .map_or(0, |node| node.term())
                    .max(slot.durable.hard_state.term);
                term <= bounds.max_term && slot.durable.log.len() as u64 <= bounds.max_log
            })
    }

    fn format_action(&self, action: &Action) -> String {
        match action {
            Action::Client { client, node } => {
                format!(
                    "client c{client} sends `{}` to {node}",
                    self.spec.operations[*client]
                )
            }
            action => action.to_string(),
        }
    }
}
