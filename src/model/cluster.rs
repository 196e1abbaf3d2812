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
use crate::core::panic_message::panic_message;
use crate::core::raft::Config;
use crate::core::time::Time;
use crate::harness::algorithm::{Boot, MessageOf, Raft};
use crate::harness::disk::DiskBugs;
use crate::harness::views::view;
use crate::model::action::Action;
use crate::model::delivered::{self, Delivered};
use crate::model::network::Network;
use crate::model::properties::{self, Violations};
use crate::model::register::CasRegisters;
use crate::model::rng::{Draw, StepRng};
use crate::model::spec::{Jitter, ModelSpec};
use crate::model::state::{ClientStatus, ClusterState, NodeSlot, Panic};
use crate::model::step::{Fault, Stepped, WentDown};
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
    /// The kinds of input and message the search's steps delivered,
    /// shared by every clone of the model (the checker's threads).
    delivered: Delivered,
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
            delivered: Delivered::default(),
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

    /// The kinds of input, client operation and message the steps taken so
    /// far delivered to a node, named (`crate::model::delivered`).
    pub fn delivered(&self) -> Vec<String> {
        self.delivered.names(V::MESSAGE_KINDS)
    }

    /// Records that a step handed `input` to a node.
    pub(crate) fn record_delivered(&self, input: &Input<MessageOf<V>>) {
        self.delivered
            .record(delivered::of_input(input, V::message_kind));
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

    /// The RNG for a step of node `id` in `term` at local time `now`, its
    /// draws giving `draw` under `time.jitter = "extremes"`.
    pub(crate) fn rng(&self, draw: Draw, id: NodeId, term: u64, now: Time) -> StepRng {
        StepRng::new(self.spec.time.jitter, draw, id, term, now.as_micros())
    }

    /// The draws the checker explores: both extremes under `"extremes"`,
    /// the one the RNG gives otherwise.
    fn draws(&self) -> &'static [Draw] {
        match self.spec.time.jitter {
            Jitter::Extremes => &[Draw::Shortest, Draw::Longest],
            Jitter::Minimum | Jitter::Seeded => &[Draw::Shortest],
        }
    }

    /// Every way the members may boot: one initial state, or under
    /// `"extremes"` one per choice of the shortest or the longest first
    /// timeout for each member whose boot draws one.
    fn initial_states(&self) -> Vec<StateOf<V>> {
        let mut boots: Vec<Vec<NodeSlot<V::Node, V::Durable>>> = vec![Vec::new()];
        for &id in &self.members {
            let mut choices = Vec::new();
            for &draw in self.draws() {
                let mut rng = self.rng(draw, id, 0, Time::ZERO);
                let node = self
                    .variant
                    .start(Boot::at_zero(id, &self.members, &mut rng));
                if draw == Draw::Longest && !rng.drew() {
                    continue;
                }
                choices.push(NodeSlot {
                    node: Some(Arc::new(node)),
                    durable: Arc::new(V::Durable::default()),
                    clock_gain: 0,
                    lost_for_good: false,
                    torn: false,
                });
            }
            boots = boots
                .into_iter()
                .flat_map(|boot| {
                    choices.iter().map(move |slot| {
                        let mut boot = boot.clone();
                        boot.push(slot.clone());
                        boot
                    })
                })
                .collect();
        }
        boots
            .into_iter()
            .map(|nodes| self.initial_state(nodes))
            .collect()
    }

    fn initial_state(&self, nodes: Vec<NodeSlot<V::Node, V::Durable>>) -> StateOf<V> {
        let mut state = ClusterState {
            real_time: 0,
            nodes,
            network: Network::new(self.spec.network.ordered),
            crashes: 0,
            power_losses: 0,
            transfers: 0,
            campaigns: 0,
            snapshots: 0,
            clients: vec![ClientStatus::Idle; self.spec.operations.len()],
            history: LinearizabilityTester::new(CasRegisters::default()),
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

    /// Crashed node `id` restarts from its durable state, its first
    /// election timeout the `draw` extreme under `"extremes"`; whether the
    /// restart drew one. A restart that refuses that state (the variant
    /// panics: the node wrote what it cannot read back) is a broken
    /// invariant like a step's panic, and ends the run as one.
    pub(crate) fn restart(&self, state: &mut StateOf<V>, id: NodeId, draw: Draw) -> bool {
        let now = self.local_time(state, id);
        let slot = state.slot_mut(id);
        let mut rng = self.rng(draw, id, V::durable_term(&slot.durable), now);
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
        let drew = rng.drew();
        match restarted {
            Ok(node) => slot.node = Some(Arc::new(node)),
            Err(payload) => {
                state.panic = Some(Panic {
                    node: id,
                    message: format!("restart: {}", panic_message(&*payload)),
                });
                state.violations.record(Property::NodeInvariants);
            }
        }
        drew
    }

    /// `step` with a crash landing after the snapshot record of its batch
    /// is durable and before the log is compacted through it; `None` if the
    /// step takes or installs no snapshot (then it is the plain step).
    fn crash_before_compaction(&self, state: &mut StateOf<V>, step: ActionOf<V>) -> Option<()> {
        let id = step.stepped_node().expect("a crash during a step");
        match self.take_step(state, step, Some(Fault::BeforeCompaction), Draw::Shortest) {
            Ok(_) => None,
            Err(WentDown) => {
                state.crashes += 1;
                state.slot_mut(id).torn = true;
                self.take_down(state, id);
                Some(())
            }
        }
    }

    /// `action` (a step of one node or a restart) with every election
    /// timeout it draws the longest; `None` if it draws none, since it is
    /// then the plain action.
    fn long_timeout(&self, state: &mut StateOf<V>, action: ActionOf<V>) -> Option<()> {
        let drew = match action {
            Action::Restart(id) => {
                if std::mem::take(&mut state.slot_mut(id).torn) {
                    state.goals.restarted_before_compaction = true;
                }
                self.restart(state, id, Draw::Longest)
            }
            step => {
                self.take_step(state, step, None, Draw::Longest)
                    .expect("a write to a healthy disk cannot fail")
                    .drew_timeout
            }
        };
        drew.then_some(())
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
        // An operator's snapshot goes to any node that is up (one with
        // nothing new applied gives no step: `next_state`); a campaign to
        // any that does not lead, since a leader ignores it.
        if state.snapshots < self.spec.max_snapshots && !self.is_service(id) {
            actions.push(Action::Snapshot(id));
        }
        if node.role() != Role::Leader {
            if state.campaigns < self.spec.max_campaigns && !self.is_service(id) {
                actions.push(Action::Campaign(id));
            }
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
    /// a disk whose write goes wrong as `failing` says, its timeout draws
    /// giving `draw`.
    pub(crate) fn take_step(
        &self,
        state: &mut StateOf<V>,
        action: ActionOf<V>,
        failing: Option<Fault>,
        draw: Draw,
    ) -> Result<Stepped, WentDown> {
        match action {
            Action::Tick(id) => step::step(self, state, id, Input::Tick, failing, draw),
            Action::Deliver(envelope) => {
                state.network.remove(&envelope);
                let input = Input::Message {
                    from: envelope.from,
                    message: envelope.message,
                };
                step::step(self, state, envelope.to, input, failing, draw)
            }
            Action::Client { client, node } => {
                clients::invoke(self, state, &[client], node, failing, draw)
            }
            Action::ClientBatch { clients, node } => {
                clients::invoke(self, state, &clients, node, failing, draw)
            }
            Action::Transfer { from, to } => {
                state.transfers += 1;
                let input = Input::TransferLeadership { to };
                step::step(self, state, from, input, failing, draw)
            }
            Action::Campaign(id) => {
                state.campaigns += 1;
                step::step(self, state, id, Input::Campaign, failing, draw)
            }
            Action::Snapshot(id) => {
                state.snapshots += 1;
                step::step(self, state, id, Input::Snapshot, failing, draw)
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

impl<V: ModelVariant> ClusterModel<V> {
    /// `next_state`'s work: the state after `action`, `None` if the action
    /// turns out to be no step (see the actions that return it).
    fn successor(&self, state: &StateOf<V>, action: ActionOf<V>) -> Option<StateOf<V>> {
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
                self.restart(&mut next, id, Draw::Shortest);
            }
            Action::LongTimeout(action) => self.long_timeout(&mut next, *action)?,
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
            | Action::Transfer { .. }
            | Action::Campaign(_)
            | Action::Snapshot(_)) => {
                let is_snapshot = matches!(step, Action::Snapshot(_));
                let stepped = self
                    .take_step(&mut next, step, None, Draw::Shortest)
                    .expect("a write to a healthy disk cannot fail");
                if is_snapshot && !stepped.took_snapshot {
                    // Nothing new to snapshot: the step changed nothing
                    // but the budget, and is not offered as a step.
                    return None;
                }
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
}

/// Adds the long-timeout variant of every plain step of a node and every
/// restart among `actions` (`time.jitter = "extremes"`). Disk faults are
/// not varied: a node they strike goes down, and its drawn timeout with
/// it. Nor is an operator's snapshot, which draws nothing.
fn long_timeout_actions<M: Clone>(actions: &mut Vec<Action<M>>) {
    let long: Vec<Action<M>> = actions
        .iter()
        .filter(|action| {
            matches!(
                action,
                Action::Tick(_)
                    | Action::Deliver(_)
                    | Action::Client { .. }
                    | Action::ClientBatch { .. }
                    | Action::Transfer { .. }
                    | Action::Campaign(_)
                    | Action::Restart(_)
            )
        })
        .map(|action| Action::LongTimeout(Box::new(action.clone())))
        .collect();
    actions.extend(long);
}

/// The model's action type for variant `V`.
pub type ActionOf<V> = Action<MessageOf<V>>;

impl<V: ModelVariant> Model for ClusterModel<V> {
    type State = StateOf<V>;
    type Action = ActionOf<V>;

    fn init_states(&self) -> Vec<Self::State> {
        self.initial_states()
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
        if self.spec.time.jitter == Jitter::Extremes {
            long_timeout_actions(actions);
        }
    }

    fn next_state(&self, state: &Self::State, action: Self::Action) -> Option<Self::State> {
        self.successor(state, action)
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
            Action::LongTimeout(step) => format!(
                "{}, drawing the longest election timeout",
                self.format_action(step)
            ),
            action => action.to_string(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::spec::tests::probe;

    type State = StateOf<Raft>;

    fn model(more: &[(&str, &str)]) -> RaftModel {
        let text = probe("explicit", more);
        RaftModel::new(ModelSpec::parse(Path::new("probe.toml"), &text).expect("the probe parses"))
    }

    /// Every action `model` offers in `state`.
    pub(crate) fn actions(model: &RaftModel, state: &State) -> Vec<ActionOf<Raft>> {
        let mut actions = Vec::new();
        model.actions(state, &mut actions);
        actions
    }

    /// The first initial state with time advanced until node 1 may time
    /// out.
    pub(crate) fn before_timeout(model: &RaftModel) -> State {
        let mut state = model.init_states().remove(0);
        while !actions(model, &state).contains(&Action::Tick(1)) {
            state = model.next_state(&state, Action::AdvanceTime).unwrap();
        }
        state
    }

    fn long(action: ActionOf<Raft>) -> ActionOf<Raft> {
        Action::LongTimeout(Box::new(action))
    }

    #[test]
    fn under_extremes_each_boot_draw_is_either_extreme() {
        assert_eq!(model(&[]).init_states().len(), 1);
        let extremes = model(&[("time", "jitter = \"extremes\"")]);
        let states = extremes.init_states();
        assert_eq!(states.len(), 8, "two first timeouts for each of 3 nodes");
        let config = extremes.spec().config();
        let longest = config.election_timeout_max - std::time::Duration::from_micros(1);
        let long_boots = states
            .iter()
            .filter(|state| {
                state
                    .up_nodes()
                    .all(|node| node.election_timeout() == longest)
            })
            .count();
        assert_eq!(long_boots, 1);
    }

    /// A long variant exists for a step that draws a timeout (a campaign
    /// resets the timer) and for none that draws nothing (granting a
    /// pre-vote leaves the timer alone); only "extremes" offers them.
    #[test]
    fn a_long_timeout_is_a_step_only_where_a_timeout_is_drawn() {
        let minimum = model(&[]);
        let state = before_timeout(&minimum);
        assert!(!actions(&minimum, &state)
            .iter()
            .any(|action| matches!(action, Action::LongTimeout(_))));
        let extremes = model(&[("time", "jitter = \"extremes\"")]);
        let state = before_timeout(&extremes);
        assert!(actions(&extremes, &state).contains(&long(Action::Tick(1))));
        let short = extremes.next_state(&state, Action::Tick(1)).unwrap();
        let drawn = extremes.next_state(&state, long(Action::Tick(1))).unwrap();
        assert_ne!(
            short.node(1).unwrap().election_timeout(),
            drawn.node(1).unwrap().election_timeout()
        );
        let pre_vote = short
            .network
            .deliverable()
            .into_iter()
            .find(|envelope| envelope.to == 2)
            .expect("a pre-vote request to node 2");
        let deliver = Action::Deliver(pre_vote);
        assert!(extremes.next_state(&short, deliver.clone()).is_some());
        assert!(extremes.next_state(&short, long(deliver)).is_none());
    }

    /// Operator campaigns go to nodes that do not lead, while the budget
    /// lasts; an operator snapshot with nothing applied is no step.
    #[test]
    fn operator_inputs_are_offered_within_their_budgets() {
        let model = model(&[("cluster", "max_campaigns = 1\nmax_snapshots = 1")]);
        let state = model.init_states().remove(0);
        let offered = actions(&model, &state);
        for id in 1..=3 {
            assert!(offered.contains(&Action::Campaign(id)), "{offered:?}");
            assert!(offered.contains(&Action::Snapshot(id)), "{offered:?}");
        }
        assert!(
            model.next_state(&state, Action::Snapshot(1)).is_none(),
            "nothing is applied yet"
        );
        let campaigned = model.next_state(&state, Action::Campaign(1)).unwrap();
        assert_eq!(campaigned.campaigns, 1);
        assert_eq!(campaigned.network.len(), 2, "a vote request to each peer");
        let offered = actions(&model, &campaigned);
        assert!(!offered
            .iter()
            .any(|action| matches!(action, Action::Campaign(_))));
        assert!(model.delivered().contains(&"input Campaign".to_owned()));
    }
}
