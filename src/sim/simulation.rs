//! The deterministic simulator: one seeded run of a whole cluster under a
//! fault schedule, with the safety monitors judging every step.
//!
//! Everything happens on one thread, in the order of a priority queue keyed
//! by (simulated real time, sequence number): message deliveries, node
//! timers, client operations, faults. Randomness comes from ChaCha streams
//! derived from the seed (one each for the network, the nodes and the
//! clients), so the same options give the same run, bit for bit.

use std::collections::VecDeque;
use std::time::Duration;

use arrayvec::ArrayVec;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::check::lock_service::{LockMonitor, LockView};
use crate::check::properties::{NodeView, Property, SafetyMonitor};
use crate::check::{check, Budget, History, KeyValue, Verdict};
use crate::codec::PeerMessage;
use crate::core::client::{ClientReply, ClientRequest, RequestId};
use crate::core::node::{Event, Input, Node, NodeId, Role};
use crate::core::raft::MAX_MEMBERS;
use crate::core::time::Time;
use crate::harness::algorithm::{Algorithm, MessageOf};
use crate::harness::apply::{Outputs, Stepper};
use crate::harness::disk::{step_on_failing_disk, FailingWrite, WriteFailed};
use crate::harness::slot::Slot;
use crate::harness::views::views;
use crate::sim::agenda::Agenda;
use crate::sim::clock::DriftingClock;
use crate::sim::faults::{
    leader_link_follower, partition_links, DiskFault, Fault, Partition, RaceStrike, ScheduledFault,
    TransferRace,
};
use crate::sim::metrics::{duration_micros, micros_between, Metrics};
use crate::sim::network::{Fate, Network, NetworkOptions};
use crate::sim::trace::TraceHash;
use crate::sim::workload::{jepsen_events, HistoryEvent, HistoryKind, Workload, WorkloadOptions};

/// Everything that determines a run, besides the algorithm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimulationOptions {
    pub nodes: u64,
    pub seed: u64,
    /// Length of the safety phase, in which faults strike.
    pub duration: Duration,
    pub network: NetworkOptions,
    pub faults: Vec<ScheduledFault>,
    /// Each node's clock rate, in parts per million (empty: all exact).
    pub clock_rates_ppm: Vec<i64>,
    pub workload: WorkloadOptions,
    /// After the safety phase: heal a majority core, which must then elect
    /// a leader that commits within the bound.
    pub liveness: Option<LivenessOptions>,
    /// Check the client history for linearizability (per key) at the end,
    /// with at most this many search steps (deterministic, unlike a
    /// timeout); `None` skips the check.
    pub linearizability_steps: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LivenessOptions {
    /// The nodes healed and connected; the others stay cut off.
    pub core: Vec<NodeId>,
    /// How long the core may take to elect a leader that serves.
    pub bound: Duration,
    /// After the bound, how long terms must then stay put.
    pub stable_for: Duration,
}

/// A property that failed, when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordedViolation {
    pub at_micros: u64,
    pub property: String,
    pub detail: String,
    /// A Lease Safety violation after a clock jumped beyond the drift bound:
    /// reported, but not a bug of the algorithm.
    pub excused_by_clock_jump: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub at_micros: u64,
    pub text: String,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub violations: Vec<RecordedViolation>,
    pub metrics: Metrics,
    pub history: Vec<HistoryEvent>,
    pub timeline: Vec<TimelineEntry>,
    pub trace_hash: u64,
    pub events_processed: u64,
    /// Inputs that handed a node two or more client requests at once
    /// (`workload.batch_window`).
    pub client_batches: u64,
    /// Distinct snapshots the monitors saw, and how many of them they
    /// rebuilt from the committed entries they replace
    /// ([`SafetyMonitor::snapshots_checked`]).
    pub snapshots_seen: usize,
    pub snapshots_rebuilt: usize,
    /// Committed indexes the monitors never saw an entry for
    /// ([`SafetyMonitor::unseen_commits`]; 0 on two nodes or more).
    pub commits_unseen: u64,
}

impl Outcome {
    /// Violations that are bugs (not excused by a clock jump).
    pub fn failures(&self) -> impl Iterator<Item = &RecordedViolation> {
        self.violations
            .iter()
            .filter(|violation| !violation.excused_by_clock_jump)
    }
}

/// The default search budget of the linearizability check of a run: ample
/// for the histories of a few clients over tens of seconds.
pub const LINEARIZABILITY_STEPS: u64 = 20_000_000;

/// Members of a run at most: a full cluster, and one service member (a
/// lock service's store) beside it.
const MAX_SLOTS: usize = MAX_MEMBERS + 1;
/// Timeline entries beyond this many are dropped (the run goes on).
const MAX_TIMELINE: usize = 10_000;
/// Inputs queued at a paused node beyond this many are lost.
const MAX_PAUSED_INBOX: usize = 10_000;
/// A run that processes more events than this is stuck in a loop.
const MAX_EVENTS: u64 = 500_000_000;

enum Action<M> {
    Deliver {
        from: NodeId,
        to: NodeId,
        message: M,
    },
    Timer {
        node: NodeId,
        generation: u64,
    },
    ClientArrive {
        node: NodeId,
        request: ClientRequest,
    },
    /// The batch window of `node` closes: the requests that reached it
    /// since it opened go in as one input (`workload.batch_window`).
    ClientBatchDue {
        node: NodeId,
    },
    ClientReply {
        reply: ClientReply,
    },
    ClientInvoke {
        client: usize,
    },
    ClientTimeout {
        client: usize,
        id: RequestId,
    },
    Fault(Fault),
    Resume {
        node: NodeId,
    },
    LivenessStart,
    LivenessCheck,
    End,
}

/// A member as the simulator keeps it: the harness's slot (node, durable
/// state, drifting clock) and what pauses and timers need.
struct SimSlot<A: Algorithm> {
    member: Slot<A, DriftingClock>,
    paused: bool,
    inbox: VecDeque<Input<MessageOf<A>>>,
    /// The timer event that counts; older ones are ignored when they fire.
    timer_generation: u64,
    timer_at: Option<Time>,
    can_serve: bool,
    /// A disk fault waiting for the node's next write of a batch.
    failing_write: Option<FailingWrite>,
    /// Down for the rest of the run: its fsync failed or its synced data
    /// is damaged, so it refuses to start.
    lost_for_good: bool,
    /// Client requests waiting for the batch window to close.
    batching: Vec<ClientRequest>,
}

/// Where a stepping node's output goes: its messages into the network (and
/// the message counts), its replies back to the clients after a client
/// latency, its events into the metrics and the timeline.
struct Outbound<'a, A: Algorithm> {
    from: NodeId,
    now: Time,
    /// No leader could serve when the step began.
    leaderless: bool,
    agenda: &'a mut Agenda<Action<MessageOf<A>>>,
    network: &'a mut Network,
    network_rng: &'a mut ChaCha8Rng,
    metrics: &'a mut Metrics,
    timeline: &'a mut Vec<TimelineEntry>,
    wire_scratch: &'a mut Vec<u8>,
}

impl<A: Algorithm> Outputs<MessageOf<A>> for Outbound<'_, A> {
    fn send(&mut self, to: NodeId, message: MessageOf<A>) {
        let (from, now, metrics) = (self.from, self.now, &mut *self.metrics);
        let bytes = message.frame_len(self.wire_scratch) as u64;
        metrics.messages_sent += 1;
        metrics.bytes_sent += bytes;
        if self.leaderless {
            metrics.leaderless_messages += 1;
            metrics.leaderless_bytes += bytes;
            if metrics.first_leader_micros.is_none() {
                metrics.cold_start_messages += 1;
                metrics.cold_start_bytes += bytes;
            }
        }
        match self.network.route(from, to, now, self.network_rng) {
            Fate::Cut => metrics.messages_undeliverable += 1,
            Fate::Lost => metrics.messages_lost += 1,
            Fate::Deliver { at, duplicate_at } => {
                if let Some(again) = duplicate_at {
                    metrics.messages_duplicated += 1;
                    let copy = message.clone();
                    let deliver = Action::Deliver {
                        from,
                        to,
                        message: copy,
                    };
                    self.agenda.schedule(now, again, deliver);
                }
                self.agenda
                    .schedule(now, at, Action::Deliver { from, to, message });
            }
        }
    }

    fn reply(&mut self, reply: ClientReply) {
        let latency = self.network.client_latency(self.network_rng);
        let at = self.now.saturating_add(latency);
        self.agenda
            .schedule(self.now, at, Action::ClientReply { reply });
    }

    fn event(&mut self, event: Event) {
        if let Event::Snapshot { from, .. } = event {
            match from {
                None => self.metrics.snapshots_taken += 1,
                Some(_) => self.metrics.snapshots_installed += 1,
            }
        }
        if let Event::RoleChanged { role, term } = event {
            match role {
                Role::Candidate => self.metrics.elections += 1,
                Role::PreCandidate => self.metrics.pre_elections += 1,
                Role::Leader => note(
                    self.timeline,
                    self.now,
                    format!("{} became leader of term {term}", self.from),
                ),
                Role::Follower => {}
            }
        }
    }
}

/// Adds a line to the timeline, unless it is full.
fn note(timeline: &mut Vec<TimelineEntry>, now: Time, text: String) {
    if timeline.len() < MAX_TIMELINE {
        timeline.push(TimelineEntry {
            at_micros: now.as_micros(),
            text,
        });
    }
}

/// A leader crash whose successor has not served yet.
#[derive(Clone, Copy, Debug)]
struct Failover {
    /// The crashed leader's term: a successor serves in a later one.
    term: u64,
    crashed_at: Time,
    /// Whether, at some point since the crash, no majority of nodes was up
    /// (running, not paused) on a whole network: no algorithm could fail
    /// over then, so the sample says nothing of the algorithm's speed.
    quorum_lost: bool,
}

/// One run. Build it with [`Simulation::new`], then [`Simulation::run`].
pub struct Simulation<A: Algorithm> {
    algorithm: A,
    options: SimulationOptions,
    members: Vec<NodeId>,
    now: Time,
    agenda: Agenda<Action<MessageOf<A>>>,
    slots: Vec<SimSlot<A>>,
    network: Network,
    network_rng: ChaCha8Rng,
    node_rng: ChaCha8Rng,
    workload: Workload,
    monitor: SafetyMonitor,
    /// Fenced Writes and Exclusive Holding, for lock-service algorithms.
    lock_monitor: LockMonitor,
    metrics: Metrics,
    violations: Vec<RecordedViolation>,
    timeline: Vec<TimelineEntry>,
    trace: TraceHash,
    stepper: Stepper<A::Node>,
    serving: usize,
    serving_since: Option<Time>,
    /// A crashed leader's term and crash time, until a successor serves.
    failover_from: Option<Failover>,
    clock_jumped: bool,
    liveness_started_at: Option<Time>,
    term_at_liveness_check: Option<u64>,
    /// The serving leader of the healed core at the liveness check, and
    /// its commit index then: every core member must reach it by the end.
    commit_at_liveness_check: Option<(NodeId, u64)>,
    events_processed: u64,
    /// Inputs of two or more client requests (see [`Outcome`]).
    client_batches: u64,
    /// Reused to encode each message once for the byte counts.
    wire_scratch: Vec<u8>,
}

fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

impl<A: Algorithm> Simulation<A> {
    pub fn new(algorithm: A, mut options: SimulationOptions) -> Simulation<A> {
        assert!((1..=9).contains(&options.nodes), "1 to 9 nodes");
        // The algorithm's service members (a lock service's store) follow
        // the candidates, and belong to every liveness core: the
        // candidates cannot elect without them.
        let size = options.nodes + algorithm.service_members();
        let members: Vec<NodeId> = (1..=size).collect();
        assert!(members.len() <= MAX_SLOTS, "at most {MAX_SLOTS} members");
        if let Some(liveness) = &mut options.liveness {
            liveness.core.extend(options.nodes + 1..=size);
        }
        let mut node_rng = stream(options.seed, 1);
        let slots = members
            .iter()
            .map(|&id| {
                let rate = options
                    .clock_rates_ppm
                    .get((id - 1) as usize)
                    .copied()
                    .unwrap_or(0);
                let clock = DriftingClock::with_rate_ppm(rate);
                SimSlot {
                    member: Slot::start(&algorithm, id, &members, clock, Time::ZERO, &mut node_rng),
                    paused: false,
                    inbox: VecDeque::new(),
                    timer_generation: 0,
                    timer_at: None,
                    can_serve: false,
                    failing_write: None,
                    lost_for_good: false,
                    batching: Vec::new(),
                }
            })
            .collect();
        let workload = Workload::new(
            options.workload.clone(),
            members[..options.nodes as usize].to_vec(),
            stream(options.seed, 3),
        );
        let mut simulation = Simulation {
            network: Network::new(members.len(), options.network.clone()),
            network_rng: stream(options.seed, 2),
            node_rng,
            workload,
            algorithm,
            members,
            now: Time::ZERO,
            agenda: Agenda::default(),
            slots,
            monitor: SafetyMonitor::new(),
            lock_monitor: LockMonitor::new(),
            metrics: Metrics::default(),
            violations: Vec::new(),
            timeline: Vec::new(),
            trace: TraceHash::default(),
            stepper: Stepper::default(),
            serving: 0,
            serving_since: None,
            failover_from: None,
            clock_jumped: false,
            liveness_started_at: None,
            term_at_liveness_check: None,
            commit_at_liveness_check: None,
            events_processed: 0,
            client_batches: 0,
            wire_scratch: Vec::new(),
            options,
        };
        simulation.schedule_start();
        simulation
    }

    fn schedule_start(&mut self) {
        for id in self.members.clone() {
            self.reschedule_timer(id);
        }
        for client in 0..self.workload.clients() {
            let think = self.workload.think_time();
            self.schedule(
                self.now.saturating_add(think),
                Action::ClientInvoke { client },
            );
        }
        for fault in self.options.faults.clone() {
            self.schedule(fault.at, Action::Fault(fault.fault));
        }
        let safety_end = Time::ZERO.saturating_add(self.options.duration);
        match self.options.liveness.clone() {
            Some(liveness) => {
                self.schedule(safety_end, Action::LivenessStart);
                let check = safety_end.saturating_add(liveness.bound);
                self.schedule(check, Action::LivenessCheck);
                self.schedule(check.saturating_add(liveness.stable_for), Action::End);
            }
            None => self.schedule(safety_end, Action::End),
        }
        self.metrics.leaderless_windows = 1;
    }

    fn schedule(&mut self, at: Time, action: Action<MessageOf<A>>) {
        self.agenda.schedule(self.now, at, action);
    }

    /// Runs to the end and returns what happened.
    pub fn run(mut self) -> Outcome {
        while let Some((at, action)) = self.agenda.pop() {
            self.now = at;
            self.events_processed += 1;
            assert!(
                self.events_processed < MAX_EVENTS,
                "simulation stuck in a loop"
            );
            if matches!(action, Action::End) {
                break;
            }
            self.handle(action);
        }
        self.finish()
    }

    fn handle(&mut self, action: Action<MessageOf<A>>) {
        match action {
            Action::Deliver { from, to, message } => {
                self.trace.add(1 ^ (from << 8) ^ (to << 16));
                self.metrics.messages_delivered += 1;
                self.input(to, Input::Message { from, message });
            }
            Action::Timer { node, generation } => self.fire_timer(node, generation),
            Action::ClientArrive { node, request } => self.client_arrive(node, request),
            Action::ClientBatchDue { node } => self.client_batch_due(node),
            Action::ClientReply { reply } => self.client_reply(reply),
            Action::ClientInvoke { client } => self.client_invoke(client),
            Action::ClientTimeout { client, id } => {
                if self.workload.time_out(client, id, self.now) {
                    self.metrics.operations_unknown += 1;
                    self.schedule_next_invoke(client);
                }
            }
            Action::Fault(fault) => self.inject(fault),
            Action::Resume { node } => self.resume(node),
            Action::LivenessStart => self.start_liveness(),
            Action::LivenessCheck => self.check_liveness(),
            Action::End => {}
        }
    }

    fn slot(&mut self, id: NodeId) -> &mut SimSlot<A> {
        &mut self.slots[(id - 1) as usize]
    }

    /// Hands one input to a node: now, or when it resumes from a pause.
    fn input(&mut self, id: NodeId, input: Input<MessageOf<A>>) {
        let slot = self.slot(id);
        if slot.member.node.is_none() {
            if matches!(input, Input::Message { .. }) {
                self.metrics.messages_undeliverable += 1;
            }
            return;
        }
        if slot.paused {
            if slot.inbox.len() < MAX_PAUSED_INBOX {
                slot.inbox.push_back(input);
            } else {
                self.metrics.messages_lost += 1;
            }
            return;
        }
        self.step(id, input);
    }

    /// Steps node `id` through the harness (persist, then send, then
    /// reply, then events), then updates what depends on its new state.
    fn step(&mut self, id: NodeId, input: Input<MessageOf<A>>) {
        let now = self.now;
        let sim_slot = &mut self.slots[(id - 1) as usize];
        let failing_write = sim_slot.failing_write;
        let slot = &mut sim_slot.member;
        let mut outbound = Outbound::<A> {
            from: id,
            now,
            leaderless: self.serving == 0,
            agenda: &mut self.agenda,
            network: &mut self.network,
            network_rng: &mut self.network_rng,
            metrics: &mut self.metrics,
            timeline: &mut self.timeline,
            wire_scratch: &mut self.wire_scratch,
        };
        if let Some(write) = failing_write {
            let stepped = step_on_failing_disk(
                slot,
                &mut self.stepper,
                now,
                &mut self.node_rng,
                input,
                write,
                &mut outbound,
            );
            if let Err(WriteFailed(write)) = stepped {
                self.write_failed(id, write);
                return;
            }
        } else {
            slot.step(
                &mut self.stepper,
                now,
                &mut self.node_rng,
                input,
                &mut outbound,
            );
        }
        let node = slot.node.as_ref().expect("a step does not crash the node");
        let (role, term) = (node.role(), node.term());
        self.trace.add(id ^ (term << 8) ^ ((role as u64) << 56));
        self.metrics.max_term = self.metrics.max_term.max(term);
        self.update_serving(id);
        self.reschedule_timer(id);
        self.observe(Some(id));
    }

    fn note(&mut self, text: String) {
        note(&mut self.timeline, self.now, text);
    }

    /// Tracks whether some leader can serve: availability, failover and the
    /// messages spent while nobody could.
    fn update_serving(&mut self, id: NodeId) {
        let now = self.now;
        let slot = &self.slots[(id - 1) as usize];
        let can_serve = slot.member.node.as_ref().is_some_and(A::can_serve);
        let term = slot.member.node.as_ref().map_or(0, |node| node.term());
        self.set_serving(id, can_serve);
        if !can_serve {
            return;
        }
        if self.metrics.first_leader_micros.is_none() {
            self.metrics.first_leader_micros = Some(now.as_micros());
        }
        if let Some(failover) = self.failover_from {
            if term > failover.term {
                let micros = micros_between(failover.crashed_at, now);
                self.metrics.failover_micros.push(micros);
                if !failover.quorum_lost {
                    self.metrics.failover_with_quorum_micros.push(micros);
                }
                self.failover_from = None;
            }
        }
    }

    fn set_serving(&mut self, id: NodeId, can_serve: bool) {
        let now = self.now;
        let slot = self.slot(id);
        if slot.can_serve == can_serve {
            return;
        }
        slot.can_serve = can_serve;
        if can_serve {
            self.metrics.leaders_elected += 1;
            if self.serving == 0 {
                self.serving_since = Some(now);
            }
            self.serving += 1;
        } else {
            self.serving -= 1;
            if self.serving == 0 {
                if let Some(since) = self.serving_since.take() {
                    self.metrics.serving_micros += micros_between(since, now);
                }
                self.metrics.leaderless_windows += 1;
            }
        }
    }

    /// Keeps one timer event per node at its next deadline (in real time).
    fn reschedule_timer(&mut self, id: NodeId) {
        let now = self.now;
        let slot = self.slot(id);
        let Some(node) = slot.member.node.as_ref() else {
            return;
        };
        if slot.paused {
            return;
        }
        let due = slot
            .member
            .clock
            .real_time_of(node.next_deadline())
            .max(now);
        if slot.timer_at.is_some_and(|at| at <= due) {
            // The pending timer fires no later; it re-arms itself then.
            return;
        }
        slot.timer_generation += 1;
        slot.timer_at = Some(due);
        let generation = slot.timer_generation;
        self.schedule(
            due,
            Action::Timer {
                node: id,
                generation,
            },
        );
    }

    fn fire_timer(&mut self, id: NodeId, generation: u64) {
        let now = self.now;
        let slot = self.slot(id);
        if slot.timer_generation != generation {
            return;
        }
        slot.timer_at = None;
        if slot.paused || slot.member.node.is_none() {
            // `resume` and `restart` arm the timer again.
            return;
        }
        let local = slot.member.clock.local(now);
        let due = slot
            .member
            .node
            .as_ref()
            .is_some_and(|node| node.next_deadline() <= local);
        if due {
            self.trace.add(2 ^ (id << 8));
            self.step(id, Input::Tick);
        } else {
            self.reschedule_timer(id);
        }
    }

    /// Runs the safety monitors: over what node `changed` did in its step,
    /// or (`None`) over every node that is up.
    fn observe(&mut self, changed: Option<NodeId>) {
        let now = self.now;
        let views: ArrayVec<NodeView, MAX_SLOTS> =
            views(self.slots.iter().map(|slot| &slot.member), now).collect();
        let result = match changed {
            Some(id) => self.monitor.observe_step(&views, id),
            None => self.monitor.observe(&views),
        };
        drop(views);
        if let Err(violation) = result {
            self.record_violation(violation.property, violation.detail);
        }
        self.observe_lock_service();
    }

    /// Runs the lock-service monitors over every member that is up, each
    /// judged on its own clock; nothing for other algorithms.
    fn observe_lock_service(&mut self) {
        let now = self.now;
        let views: ArrayVec<LockView, MAX_SLOTS> = self
            .slots
            .iter()
            .filter_map(|slot| {
                let node = slot.member.node.as_ref()?;
                A::lock_view(node, slot.member.local(now))
            })
            .collect();
        if views.is_empty() {
            return;
        }
        if let Err(violation) = self.lock_monitor.observe(&views) {
            self.record_violation(violation.property, violation.detail);
        }
    }

    /// A monitor's violation, once per property and run.
    fn record_violation(&mut self, property: Property, detail: String) {
        let name = property.name();
        if self.violations.iter().any(|known| known.property == name) {
            return;
        }
        // Both lease properties rest on the drift bound, which a jump breaks.
        let lease = matches!(property, Property::LeaseSafety | Property::ExclusiveHolding);
        let excused = lease && self.clock_jumped;
        self.push_violation(property, detail, excused);
    }

    /// Notes the violation on the timeline and keeps it for the outcome.
    fn push_violation(&mut self, property: Property, detail: String, excused: bool) {
        let name = property.name();
        self.note(format!("VIOLATION {name}: {detail}"));
        self.violations.push(RecordedViolation {
            at_micros: self.now.as_micros(),
            property: name.to_owned(),
            detail,
            excused_by_clock_jump: excused,
        });
    }

    fn client_invoke(&mut self, client: usize) {
        let Some((node, request)) = self.workload.invoke(client, self.now) else {
            return;
        };
        let id = request.id;
        let latency = self.network.client_latency(&mut self.network_rng);
        self.schedule(
            self.now.saturating_add(latency),
            Action::ClientArrive { node, request },
        );
        let timeout = self.workload.options().request_timeout;
        self.schedule(
            self.now.saturating_add(timeout),
            Action::ClientTimeout { client, id },
        );
    }

    /// A request reaches `node`: in it goes, or into the batch the window
    /// of `node` collects.
    fn client_arrive(&mut self, node: NodeId, request: ClientRequest) {
        let Some(window) = self.workload.options().batch_window else {
            self.input(node, Input::Client(request));
            return;
        };
        let batching = &mut self.slot(node).batching;
        batching.push(request);
        if batching.len() == 1 {
            self.schedule(
                self.now.saturating_add(window),
                Action::ClientBatchDue { node },
            );
        }
    }

    fn client_batch_due(&mut self, node: NodeId) {
        let slot = self.slot(node);
        let mut requests = std::mem::take(&mut slot.batching);
        let up = slot.member.node.is_some();
        let input = if requests.len() == 1 {
            Input::Client(requests.pop().expect("one request"))
        } else {
            self.client_batches += u64::from(up);
            Input::ClientBatch(requests)
        };
        self.input(node, input);
    }

    fn client_reply(&mut self, reply: ClientReply) {
        let client = reply.id.client as usize;
        let Some(completion) = self.workload.complete(reply, self.now) else {
            return;
        };
        let latency = duration_micros(completion.latency);
        match completion.kind {
            HistoryKind::Ok => {
                self.metrics.operations_ok += 1;
                if completion.is_write {
                    self.metrics.write_latency_micros.push(latency);
                } else {
                    self.metrics.read_latency_micros.push(latency);
                }
            }
            HistoryKind::Fail => self.metrics.operations_failed += 1,
            HistoryKind::Info | HistoryKind::Invoke => self.metrics.operations_unknown += 1,
        }
        self.schedule_next_invoke(client);
    }

    fn schedule_next_invoke(&mut self, client: usize) {
        let think = self.workload.think_time();
        self.schedule(
            self.now.saturating_add(think),
            Action::ClientInvoke { client },
        );
    }

    fn inject(&mut self, fault: Fault) {
        if self.liveness_started_at.is_some() {
            return;
        }
        self.note(format!("fault: {fault}"));
        self.trace.add(3);
        *self
            .metrics
            .faults_injected
            .entry(fault.kind().name().to_owned())
            .or_default() += 1;
        match fault {
            Fault::Crash { node } => self.crash(node),
            Fault::CrashLeader { downtime } => {
                if let Some(leader) = self.current_leader() {
                    self.note(format!("crash leader {leader}"));
                    self.crash(leader);
                    let restart = Fault::Restart { node: leader };
                    self.schedule(self.now.saturating_add(downtime), Action::Fault(restart));
                }
            }
            Fault::Restart { node } => self.restart(node),
            Fault::Pause { node, duration } => {
                let slot = self.slot(node);
                if slot.member.node.is_some() && !slot.paused {
                    slot.paused = true;
                    self.schedule(self.now.saturating_add(duration), Action::Resume { node });
                }
            }
            Fault::Partition(partition) => self.partition(&partition),
            Fault::Flap {
                partition,
                period,
                times,
            } => {
                self.partition(&partition);
                self.schedule(
                    self.now.saturating_add(period / 2),
                    Action::Fault(Fault::Heal),
                );
                if times > 1 {
                    let again = Fault::Flap {
                        partition,
                        period,
                        times: times - 1,
                    };
                    self.schedule(self.now.saturating_add(period), Action::Fault(again));
                }
            }
            Fault::Transfer { follower, race } => self.transfer(follower, race),
            Fault::Campaign { node } => self.input(node, Input::Campaign),
            Fault::Snapshot { node } => self.input(node, Input::Snapshot),
            Fault::SnapshotLeader => {
                if let Some(leader) = self.current_leader() {
                    self.note(format!("{leader} snapshots"));
                    self.input(leader, Input::Snapshot);
                }
            }
            Fault::PowerOutage {
                nodes,
                window,
                downtime,
            } => {
                // A node writing within the window loses that batch (the
                // armed write crashes it); at the window's end the power
                // is off everywhere, so the rest crash then; everyone
                // comes back together.
                for &node in &nodes {
                    if self.slot(node).member.is_up() {
                        self.slot(node).failing_write = Some(FailingWrite::PowerLoss {
                            batch_survives: false,
                        });
                    }
                }
                let off = self.now.saturating_add(window);
                for node in nodes {
                    self.schedule(off, Action::Fault(Fault::Crash { node }));
                    let back = off.saturating_add(downtime);
                    self.schedule(back, Action::Fault(Fault::Restart { node }));
                }
            }
            Fault::Heal => self.network.heal(),
            Fault::Lossy { percent, duration } => self.network.lose_until(
                f64::from(percent) / 100.0,
                self.now.saturating_add(duration),
            ),
            Fault::ClockJump { node, by } => {
                self.clock_jumped = true;
                self.slot(node).member.clock.jump_forward(by);
                self.reschedule_timer(node);
            }
            Fault::Disk { node, fault } => self.disk_fault(node, fault),
        }
        self.note_quorum();
    }

    /// Cuts the links `partition` names; one of the leader's strikes the
    /// node leading now (or, with no leader, the node of the highest term).
    fn partition(&mut self, partition: &Partition) {
        let target = self.current_leader().or_else(|| self.highest_term_node());
        let size = self.members.len() as u64;
        if let (Partition::LeaderLink { follower }, Some(leader)) = (partition, target) {
            if let Some(other) = leader_link_follower(*follower, leader, size) {
                self.note(format!("cut link {leader} <-> {other}"));
            }
        }
        let links = partition_links(partition, target, size);
        self.network.set_all(links);
    }

    /// Asks the leader to hand leadership to its follower number
    /// `follower`, and schedules what races the transfer (printed in the
    /// timeline as the faults it injects).
    fn transfer(&mut self, follower: usize, race: Option<TransferRace>) {
        let Some(leader) = self.current_leader() else {
            self.note("no leader to transfer from".to_owned());
            return;
        };
        let Some(to) = leader_link_follower(follower, leader, self.options.nodes) else {
            return;
        };
        self.note(format!("{leader} asked to transfer leadership to {to}"));
        self.input(leader, Input::TransferLeadership { to });
        let Some(TransferRace { after, strike }) = race else {
            return;
        };
        let at = self.now.saturating_add(after);
        let (strike, repair, lasts) = match strike {
            RaceStrike::CrashTarget { downtime } => (
                Fault::Crash { node: to },
                Fault::Restart { node: to },
                downtime,
            ),
            RaceStrike::IsolateTarget { duration } => (
                Fault::Partition(Partition::Split { side: vec![to] }),
                Fault::Heal,
                duration,
            ),
            RaceStrike::CrashLeader { downtime } => (
                Fault::Crash { node: leader },
                Fault::Restart { node: leader },
                downtime,
            ),
        };
        self.schedule(at, Action::Fault(strike));
        self.schedule(at.saturating_add(lasts), Action::Fault(repair));
    }

    /// Marks the failover under way (if any) as one without a quorum when
    /// fewer than a majority of nodes are up or the network is partitioned.
    fn note_quorum(&mut self) {
        let Some(failover) = &mut self.failover_from else {
            return;
        };
        let up = self
            .slots
            .iter()
            .filter(|slot| slot.member.node.is_some() && !slot.paused)
            .count();
        if up <= self.members.len() / 2 || self.network.is_partitioned() {
            failover.quorum_lost = true;
        }
    }

    fn current_leader(&self) -> Option<NodeId> {
        self.slots
            .iter()
            .zip(&self.members)
            .filter_map(|(slot, &id)| slot.member.node.as_ref().map(|node| (node, id)))
            .filter(|(node, _)| node.role() == Role::Leader)
            .max_by_key(|(node, _)| node.term())
            .map(|(_, id)| id)
    }

    /// The up node of the highest term (the lowest id among equals), for
    /// isolating the likeliest next leader when no node leads.
    fn highest_term_node(&self) -> Option<NodeId> {
        self.slots
            .iter()
            .zip(&self.members)
            .filter_map(|(slot, &id)| slot.member.node.as_ref().map(|node| (node.term(), id)))
            .min_by_key(|&(term, id)| (std::cmp::Reverse(term), id))
            .map(|(_, id)| id)
    }

    /// Arms a write failure for the node's next batch, or (corruption)
    /// crashes it for good: recovery refuses damaged synced data.
    fn disk_fault(&mut self, id: NodeId, fault: DiskFault) {
        let slot = self.slot(id);
        if !slot.member.is_up() {
            return;
        }
        let write = match fault {
            DiskFault::PowerLoss { batch_survives } => FailingWrite::PowerLoss { batch_survives },
            DiskFault::FsyncError => FailingWrite::FsyncError,
            DiskFault::Corruption => {
                self.crash(id);
                self.lose_for_good(id, "corruption", "its synced data is damaged");
                return;
            }
        };
        slot.failing_write = Some(write);
    }

    /// The node's write failed during a step: nothing of that step left
    /// it, and it goes down (for good after an fsync error).
    fn write_failed(&mut self, id: NodeId, write: FailingWrite) {
        self.crash(id);
        match write {
            FailingWrite::PowerLoss { batch_survives } => {
                let outcome = if batch_survives {
                    "power-loss, batch kept"
                } else {
                    "power-loss, batch lost"
                };
                self.note(format!("{id} lost power while writing ({outcome})"));
                *self
                    .metrics
                    .disk_failures
                    .entry(outcome.to_owned())
                    .or_default() += 1;
            }
            FailingWrite::FsyncError => {
                self.lose_for_good(
                    id,
                    "fsync-error",
                    "an fsync failed, so what is durable is unknown",
                );
            }
        }
    }

    /// Keeps a crashed node down for the rest of the run.
    fn lose_for_good(&mut self, id: NodeId, failure: &'static str, why: &'static str) {
        self.note(format!("{id} stops for good: {why}"));
        *self
            .metrics
            .disk_failures
            .entry(failure.to_owned())
            .or_default() += 1;
        self.slot(id).lost_for_good = true;
    }

    fn crash(&mut self, id: NodeId) {
        let now = self.now;
        let slot = self.slot(id);
        slot.failing_write = None;
        let Some(node) = slot.member.crash() else {
            return;
        };
        slot.paused = false;
        slot.inbox.clear();
        slot.timer_at = None;
        slot.timer_generation += 1;
        if slot.can_serve && self.failover_from.is_none() {
            self.failover_from = Some(Failover {
                term: node.term(),
                crashed_at: now,
                quorum_lost: false,
            });
        }
        self.set_serving(id, false);
        self.note_quorum();
        self.observe(None);
    }

    fn restart(&mut self, id: NodeId) {
        if self.slot(id).lost_for_good {
            return;
        }
        let slot = &mut self.slots[(id - 1) as usize].member;
        if !slot.restart(&self.algorithm, &self.members, self.now, &mut self.node_rng) {
            return;
        }
        self.reschedule_timer(id);
        self.observe(None);
    }

    fn resume(&mut self, id: NodeId) {
        let slot = self.slot(id);
        if !slot.paused {
            return;
        }
        slot.paused = false;
        let inbox = std::mem::take(&mut slot.inbox);
        // The node wakes to a clock far ahead: its timers fire first, as a
        // process resumed from a GC pause sees them.
        self.step(id, Input::Tick);
        for input in inbox {
            if self.slot(id).member.node.is_some() {
                self.step(id, input);
            }
        }
    }

    fn start_liveness(&mut self) {
        let Some(liveness) = self.options.liveness.clone() else {
            return;
        };
        self.liveness_started_at = Some(self.now);
        self.note(format!("liveness phase: heal core {:?}", liveness.core));
        self.network.stop_losing();
        let core = liveness.core.clone();
        self.network
            .set_all(|from, to| core.contains(&from) == core.contains(&to));
        for &id in &liveness.core {
            // Faults have stopped: a disk fault still waiting for the
            // node's next write does not strike.
            self.slot(id).failing_write = None;
            self.restart(id);
            self.resume(id);
        }
    }

    fn check_liveness(&mut self) {
        let Some(liveness) = self.options.liveness.clone() else {
            return;
        };
        let serving_core = liveness
            .core
            .iter()
            .any(|&id| self.slots[(id - 1) as usize].can_serve);
        if !serving_core {
            let detail = format!(
                "no leader among the healed core {:?} could serve within {:?}",
                liveness.core, liveness.bound
            );
            self.record_liveness_violation(detail);
        }
        self.term_at_liveness_check = Some(self.core_max_term(&liveness.core));
        self.commit_at_liveness_check = liveness.core.iter().find_map(|&id| {
            let slot = &self.slots[(id - 1) as usize];
            let node = slot.member.node.as_ref().filter(|_| slot.can_serve)?;
            Some((id, node.commit_index()))
        });
    }

    /// Once the healed core is quiet, every member of it has caught up with
    /// what its leader had committed at the liveness check: a follower
    /// stuck behind (a snapshot transfer that never ends, a lost append
    /// never resent) fails here, though no safety property breaks.
    fn check_core_caught_up(&mut self, core: &[NodeId]) {
        let Some((leader, commit)) = self.commit_at_liveness_check else {
            return;
        };
        let behind: Vec<(NodeId, u64)> = core
            .iter()
            .filter_map(|&id| {
                let node = self.slots[(id - 1) as usize].member.node.as_ref()?;
                Some((id, node.commit_index()))
            })
            .filter(|&(_, reached)| reached < commit)
            .collect();
        if !behind.is_empty() {
            let detail = format!(
                "healed core members (node, commit index) {behind:?} never reached the {commit} \
                 that leader {leader} had committed at the liveness check"
            );
            self.record_liveness_violation(detail);
        }
    }

    fn core_max_term(&self, core: &[NodeId]) -> u64 {
        core.iter()
            .filter_map(|&id| self.slots[(id - 1) as usize].member.node.as_ref())
            .map(|node| node.term())
            .max()
            .unwrap_or(0)
    }

    fn record_liveness_violation(&mut self, detail: String) {
        self.push_violation(Property::Liveness, detail, false);
    }

    /// Judges the clients' history: every operation must appear to take
    /// effect at one instant between its invocation and its completion.
    fn check_linearizability(&mut self, max_steps: u64) {
        let events = jepsen_events(self.workload.history());
        let verdict = History::from_events(events)
            .map_err(|error| error.to_string())
            .and_then(|history| {
                let model = KeyValue::default();
                check(&history, &model, Budget::steps(max_steps))
                    .map(|outcome| (history, outcome))
                    .map_err(|error| error.to_string())
            });
        let detail = match verdict {
            Ok((_, outcome)) if outcome.verdict.is_linearizable() => return,
            Ok((history, outcome)) => match outcome.verdict {
                Verdict::NotLinearizable(violation) => {
                    let operation = &history.operations()[violation.operation];
                    format!(
                        "no order of the clients' operations explains process {}'s {}",
                        operation.process, operation.command
                    )
                }
                Verdict::Unknown { reason, .. } => {
                    self.note(format!("linearizability undecided: {reason}"));
                    return;
                }
                Verdict::Linearizable => return,
            },
            Err(error) => format!("the recorded history is malformed: {error}"),
        };
        // A clock that jumped beyond the bound may break a lease, and a
        // read served from it: such a run is reported but excused.
        self.push_violation(Property::Linearizability, detail, self.clock_jumped);
    }

    fn finish(mut self) -> Outcome {
        if let (Some(liveness), Some(term)) =
            (self.options.liveness.clone(), self.term_at_liveness_check)
        {
            let now_term = self.core_max_term(&liveness.core);
            if now_term != term {
                let detail = format!(
                    "terms kept growing in the healed core: {term} -> {now_term} within {:?}",
                    liveness.stable_for
                );
                self.record_liveness_violation(detail);
            }
            self.check_core_caught_up(&liveness.core);
        }
        if let Some(steps) = self.options.linearizability_steps {
            self.check_linearizability(steps);
        }
        if let Some(since) = self.serving_since.take() {
            self.metrics.serving_micros += micros_between(since, self.now);
        }
        self.metrics.total_micros = self.now.as_micros();
        self.metrics.messages_reordered = self.network.reordered;
        let (snapshots_seen, snapshots_rebuilt) = self.monitor.snapshots_checked();
        Outcome {
            violations: self.violations,
            metrics: self.metrics,
            history: self.workload.history().to_vec(),
            timeline: self.timeline,
            trace_hash: self.trace.value(),
            events_processed: self.events_processed,
            client_batches: self.client_batches,
            snapshots_seen,
            snapshots_rebuilt,
            commits_unseen: self.monitor.unseen_commits(),
        }
    }
}
