//! The stateright model of a cluster, for every algorithm variant, built
//! from a [`ModelSpec`]. It drives the production nodes through `Node::step`
//! exactly as the simulator does (persist, then send, then reply); nothing
//! of a protocol is written twice, and nothing of the model is written per
//! protocol: what a variant can do is its [`ModelVariant`] capabilities.
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

use std::sync::Arc;

use stateright::semantics::LinearizabilityTester;
use stateright::{Model, Property as CheckerProperty};

use crate::check::lock_service::{LockMonitor, LockView};
use crate::check::properties::{NodeView, Property, SafetyMonitor, Violation};
use crate::core::node::{Input, Node, NodeId, Role};
use crate::core::raft::Config;
use crate::core::time::Time;
use crate::harness::algorithm::{Boot, MessageOf, Raft};
use crate::harness::disk::DiskBugs;
use crate::harness::views::view;
use crate::model::action::Action;
use crate::model::network::Network;
use crate::model::properties::{self, Violations};
use crate::model::register::CasRegister;
use crate::model::rng::StepRng;
use crate::model::spec::ModelSpec;
use crate::model::state::{ClientStatus, ClusterState, NodeSlot, Panic};
use crate::model::step::{Fault, WentDown};
use crate::model::variant::{ModelVariant, StateOf};
use crate::model::{clients, disk, step};

/// The model of `spec` for variant `V`.
#[derive(Clone, Debug)]
pub struct ClusterModel<V> {
    variant: V,
    spec: ModelSpec,
    /// The spec's nodes, then the variant's service members (a lock
    /// service's store and resource), which never crash.
    members: Vec<NodeId>,
    quantum_micros: u64,
    disk_bugs: DiskBugs,
}

/// The Raft model: the one most specs check.
pub type RaftModel = ClusterModel<Raft>;

impl RaftModel {
    /// Raft as the spec's `[raft]` section configures it.
    pub fn new(spec: ModelSpec) -> RaftModel {
        RaftModel::with_config(spec.clone(), spec.config())
    }

    /// The model of `spec` with the core configured by `config` instead of
    /// the spec's `[raft]` section: how the known-bug tests turn on a
    /// deliberate deviation.
    pub fn with_config(spec: ModelSpec, config: Config) -> RaftModel {
        ClusterModel::of(Raft { config }, spec)
    }
}

impl<V: ModelVariant> ClusterModel<V> {
    pub fn of(variant: V, spec: ModelSpec) -> ClusterModel<V> {
        let mut members = spec.members();
        members.extend(spec.nodes + 1..=spec.nodes + variant.service_members());
        let quantum_micros =
            u64::try_from(spec.time.quantum.as_micros()).expect("validated: a small quantum");
        ClusterModel {
            variant,
            spec,
            members,
            quantum_micros,
            disk_bugs: DiskBugs::default(),
        }
    }

    /// The model with the storage layer's deliberate bugs `bugs` on: how
    /// the known-bug tests show that the disk faults have teeth.
    pub fn with_disk_bugs(self, bugs: DiskBugs) -> ClusterModel<V> {
        ClusterModel {
            disk_bugs: bugs,
            ..self
        }
    }

    pub(crate) fn disk_bugs(&self) -> DiskBugs {
        self.disk_bugs
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// Whether `id` is a service member rather than one of the spec's nodes.
    fn is_service(&self, id: NodeId) -> bool {
        id > self.spec.nodes
    }

    pub fn quantum_micros(&self) -> u64 {
        self.quantum_micros
    }

    pub(crate) fn local_time(&self, state: &StateOf<V>, id: NodeId) -> Time {
        state.local_time(id, self.quantum_micros)
    }

    /// The RNG for a step of node `id` in `term` at local time `now`.
    pub(crate) fn rng(&self, id: NodeId, term: u64, now: Time) -> StepRng {
        StepRng::new(self.spec.time.jitter, id, term, now.as_micros())
    }

    fn initial_state(&self) -> StateOf<V> {
        let nodes = self
            .members
            .iter()
            .map(|&id| {
                let mut rng = self.rng(id, 0, Time::ZERO);
                let node = self
                    .variant
                    .start(Boot::at_zero(id, &self.members, &mut rng));
                NodeSlot {
                    node: Some(Arc::new(node)),
                    durable: Arc::new(V::Durable::default()),
                    clock_gain: 0,
                    lost_for_good: false,
                    torn: false,
                }
            })
            .collect();
        let mut state = ClusterState {
            real_time: 0,
            nodes,
            network: Network::new(self.spec.network.ordered),
            crashes: 0,
            power_losses: 0,
            transfers: 0,
            clients: vec![ClientStatus::Idle; self.spec.operations.len()],
            history: LinearizabilityTester::new(CasRegister::default()),
            monitor: SafetyMonitor::new(),
            lock_monitor: LockMonitor::new(),
            violations: Violations::default(),
            crashed_leader_term: None,
            panic: None,
            goals: Default::default(),
        };
        self.observe(&mut state);
        state
    }

    fn crash(&self, state: &mut StateOf<V>, id: NodeId) {
        self.take_down(state, id);
        state.crashes += 1;
    }

    /// Node `id` goes down, with everything it did not persist.
    pub(crate) fn take_down(&self, state: &mut StateOf<V>, id: NodeId) {
        let node = state.slot_mut(id).node.take().expect("only up nodes crash");
        if node.role() == Role::Leader {
            let term = node.term();
            state.crashed_leader_term =
                Some(state.crashed_leader_term.map_or(term, |t| t.max(term)));
        }
    }

    /// Crashed node `id` restarts from its durable state. A restart that
    /// refuses that state (the variant panics: the node wrote what it
    /// cannot read back) is a broken invariant like a step's panic, and
    /// ends the run as one.
    pub(crate) fn restart(&self, state: &mut StateOf<V>, id: NodeId) {
        let now = self.local_time(state, id);
        let slot = state.slot_mut(id);
        let mut rng = self.rng(id, V::durable_term(&slot.durable), now);
        let boot = Boot {
            id,
            members: &self.members,
            now,
            rng: &mut rng,
        };
        let durable = &slot.durable;
        let restarted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.variant.restart(boot, durable)
        }));
        match restarted {
            Ok(node) => slot.node = Some(Arc::new(node)),
            Err(payload) => {
                state.panic = Some(Panic {
                    node: id,
                    message: format!("restart: {}", step::panic_message(&payload)),
                });
                state.violations.record(Property::NodeInvariants);
            }
        }
    }

    /// `step` with a crash landing after the snapshot record of its batch
    /// is durable and before the log is compacted through it; `None` if the
    /// step takes or installs no snapshot (then it is the plain step).
    fn crash_before_compaction(&self, state: &mut StateOf<V>, step: ActionOf<V>) -> Option<()> {
        let id = step.stepped_node().expect("a crash during a step");
        match self.take_step(state, step, Some(Fault::BeforeCompaction)) {
            Ok(()) => None,
            Err(WentDown) => {
                state.crashes += 1;
                state.slot_mut(id).torn = true;
                self.take_down(state, id);
                Some(())
            }
        }
    }

    /// Runs the safety monitors (and the lock-service monitor, for a
    /// variant with a lock service) over the nodes that are up, at this
    /// instant of real time, and records what they find.
    fn observe(&self, state: &mut StateOf<V>) {
        let mut monitor = std::mem::take(&mut state.monitor);
        let mut violations = monitor.observe_all(&self.views(state));
        state.monitor = monitor;
        let mut lock_monitor = std::mem::take(&mut state.lock_monitor);
        violations.extend(self.observe_lock_service(&mut lock_monitor, state));
        state.lock_monitor = lock_monitor;
        for violation in violations {
            state.violations.record(violation.property);
        }
    }

    /// What `monitor` finds in the lock-service members of `state`, each
    /// judged on its own clock; nothing for variants without a lock
    /// service.
    fn observe_lock_service(
        &self,
        monitor: &mut LockMonitor,
        state: &StateOf<V>,
    ) -> Vec<Violation> {
        let views: Vec<LockView> = self
            .members
            .iter()
            .filter_map(|&id| V::lock_view(state.node(id)?, self.local_time(state, id)))
            .collect();
        if views.is_empty() {
            return Vec::new();
        }
        monitor.observe_all(&views)
    }

    /// The nodes that are up, as the monitors see them at this instant.
    fn views<'a>(&self, state: &'a StateOf<V>) -> Vec<NodeView<'a>> {
        self.members
            .iter()
            .filter_map(|&id| Some(view::<V>(id, state.node(id)?, self.local_time(state, id))))
            .collect()
    }

    /// What went wrong in the step from `before` to `after`, in words: the
    /// monitors' descriptions of new violations, a panic, a history that
    /// stopped being linearizable.
    pub fn explain(&self, before: &StateOf<V>, after: &StateOf<V>) -> Vec<String> {
        let mut explanations = Vec::new();
        if let (None, Some(panic)) = (&before.panic, &after.panic) {
            explanations.push(format!("{} violated: {panic}", Property::NodeInvariants));
        }
        let mut monitor = before.monitor.clone();
        let mut lock_monitor = before.lock_monitor.clone();
        let found = monitor
            .observe_all(&self.views(after))
            .into_iter()
            .chain(self.observe_lock_service(&mut lock_monitor, after));
        for violation in found {
            if !before.violations.contains(violation.property) {
                explanations.push(violation.to_string());
            }
        }
        if !before.violations.contains(Property::StateMachineSafety) {
            explanations.extend(
                self.went_back(before, after)
                    .into_iter()
                    .map(|detail| format!("{} violated: {detail}", Property::StateMachineSafety)),
            );
        }
        explanations.extend(clients::explain(&self.spec, before, after));
        explanations
    }

    /// Within one life a node's commit index and its snapshot never go
    /// back: one that did forgot entries it applied, and may have
    /// acknowledged them (State Machine Safety, as the monitors judge it
    /// where restarts are counted: `NodeView::incarnation`). The model
    /// leaves restart counts out of its states, so it judges each
    /// transition instead: a node up before and after one lived through it.
    /// What went back, in words, for the first node that did.
    fn went_back(&self, before: &StateOf<V>, after: &StateOf<V>) -> Option<String> {
        self.members.iter().find_map(|&id| {
            let (old, new) = (before.node(id)?, after.node(id)?);
            let snapshot_index = |node: &V::Node| V::snapshot(node).map_or(0, |s| s.index.get());
            let (old_commit, new_commit) = (old.commit_index(), new.commit_index());
            let (old_base, new_base) = (snapshot_index(old), snapshot_index(new));
            if new_commit < old_commit {
                Some(format!(
                    "node {id}'s commit index went back from {old_commit} to {new_commit} \
                     without a restart"
                ))
            } else if new_base < old_base {
                Some(format!(
                    "node {id}'s snapshot went back from {old_base} to {new_base} without a \
                     restart"
                ))
            } else {
                None
            }
        })
    }

    fn node_actions(&self, state: &StateOf<V>, id: NodeId, actions: &mut Vec<ActionOf<V>>) {
        let time = &self.spec.time;
        if state.slot(id).lost_for_good {
            return;
        }
        if state.slot(id).clock_gain < time.clock_drift {
            actions.push(Action::ClockJump(id));
        }
        let Some(node) = state.node(id) else {
            actions.push(Action::Restart(id));
            if disk::may_be_damaged::<V>(&self.spec.disk, state) {
                actions.push(Action::RestartOnDamagedStorage(id));
            }
            return;
        };
        if self.local_time(state, id) >= node.next_deadline() {
            actions.push(Action::Tick(id));
        }
        if state.crashes < self.spec.max_crashes && !self.is_service(id) {
            actions.push(Action::Crash(id));
        }
        if node.role() != Role::Leader {
            return;
        }
        // Clients send to nodes that believe they lead: a follower would
        // only refuse, changing nothing. (A spec gives clients and transfers
        // only to a variant with those capabilities.)
        for (client, status) in state.clients.iter().enumerate() {
            if *status == ClientStatus::Idle {
                actions.push(Action::Client { client, node: id });
            }
        }
        if self.spec.client_batches {
            clients::batch_actions::<V>(state, id, actions);
        }
        if state.transfers < self.spec.max_transfers {
            for &to in self.members.iter().filter(|&&to| to != id) {
                actions.push(Action::Transfer { from: id, to });
            }
        }
    }

    /// Takes `action`, one step of one node ([`Action::stepped_node`]), on
    /// a disk whose write goes wrong as `failing` says.
    pub(crate) fn take_step(
        &self,
        state: &mut StateOf<V>,
        action: ActionOf<V>,
        failing: Option<Fault>,
    ) -> Result<(), WentDown> {
        match action {
            Action::Tick(id) => step::step(self, state, id, Input::Tick, failing),
            Action::Deliver(envelope) => {
                state.network.remove(&envelope);
                let input = Input::Message {
                    from: envelope.from,
                    message: envelope.message,
                };
                step::step(self, state, envelope.to, input, failing)
            }
            Action::Client { client, node } => {
                clients::invoke(self, state, &[client], node, failing)
            }
            Action::ClientBatch { clients, node } => {
                clients::invoke(self, state, &clients, node, failing)
            }
            Action::Transfer { from, to } => {
                state.transfers += 1;
                let input = Input::TransferLeadership { to };
                step::step(self, state, from, input, failing)
            }
            other => panic!("`{other}` is not a step of one node"),
        }
    }

    fn network_actions(&self, state: &StateOf<V>, actions: &mut Vec<ActionOf<V>>) {
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

/// The model's action type for variant `V`.
pub type ActionOf<V> = Action<MessageOf<V>>;

impl<V: ModelVariant> Model for ClusterModel<V> {
    type State = StateOf<V>;
    type Action = ActionOf<V>;

    fn init_states(&self) -> Vec<Self::State> {
        vec![self.initial_state()]
    }

    fn actions(&self, state: &Self::State, actions: &mut Vec<Self::Action>) {
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
        if self.spec.crash_before_compaction && state.crashes < self.spec.max_crashes {
            disk::crash_before_compaction_actions(actions);
        }
        disk::power_loss_actions(&self.spec.disk, state.power_losses, actions);
    }

    fn next_state(&self, state: &Self::State, action: Self::Action) -> Option<Self::State> {
        let mut next = state.clone();
        match action {
            Action::AdvanceTime => next.real_time += 1,
            Action::ClockJump(id) => next.slot_mut(id).clock_gain += 1,
            Action::Drop(envelope) => next.network.remove(&envelope),
            Action::Duplicate(envelope) => next.network.send(envelope),
            Action::Crash(id) => self.crash(&mut next, id),
            Action::Restart(id) => {
                if std::mem::take(&mut next.slot_mut(id).torn) {
                    next.goals.restarted_before_compaction = true;
                }
                self.restart(&mut next, id)
            }
            Action::CrashBeforeCompaction(step) => {
                self.crash_before_compaction(&mut next, *step)?
            }
            Action::PowerLoss {
                step,
                batch_survives,
            } => self.power_loss(&mut next, *step, batch_survives)?,
            Action::RestartOnDamagedStorage(id) => self.restart_on_damaged_storage(&mut next, id),
            step @ (Action::Tick(_)
            | Action::Deliver(_)
            | Action::Client { .. }
            | Action::ClientBatch { .. }
            | Action::Transfer { .. }) => {
                let written = self.take_step(&mut next, step, None);
                assert!(written.is_ok(), "a write to a healthy disk cannot fail");
            }
        }
        if next.panic.is_none() {
            self.observe(&mut next);
            if self.went_back(state, &next).is_some() {
                next.violations.record(Property::StateMachineSafety);
            }
        }
        Some(next)
    }

    fn properties(&self) -> Vec<CheckerProperty<Self>> {
        properties::checker_properties()
    }

    /// The bounds of the search: terms, log lengths and messages in flight.
    /// (Real time is bounded by disabling `AdvanceTime`.)
    fn within_boundary(&self, state: &Self::State) -> bool {
        let bounds = &self.spec.bounds;
        state.network.len() <= self.spec.network.max_in_flight
            && state.nodes.iter().all(|slot| {
                let term = slot
                    .node
                    .as_ref()
                    .map_or(0, |node| node.term())
                    .max(V::durable_term(&slot.durable));
                term <= bounds.max_term && V::durable_log_len(&slot.durable) <= bounds.max_log
            })
    }

    fn format_action(&self, action: &Self::Action) -> String {
        match action {
            Action::CrashBeforeCompaction(step) => format!(
                "crash during `{}`, after its snapshot is durable and before the log is compacted",
                self.format_action(step)
            ),
            Action::PowerLoss {
                step,
                batch_survives,
            } => format!(
                "power lost during the write of `{}` ({})",
                self.format_action(step),
                if *batch_survives {
                    "the batch survives whole"
                } else {
                    "the batch is lost"
                }
            ),
            Action::Client { client, node } => {
                format!(
                    "client c{client} sends `{}` to {node}",
                    self.spec.operations[*client]
                )
            }
            Action::ClientBatch {
                clients: [first, second],
                node,
            } => format!(
                "clients c{first} and c{second} send `{}` and `{}` to {node} as one batch",
                self.spec.operations[*first], self.spec.operations[*second]
            ),
            action => action.to_string(),
        }
    }
}
