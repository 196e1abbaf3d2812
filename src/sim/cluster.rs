//! An in-process cluster of any [`Algorithm`] under manual control: the
//! harness behind the scenario files and the tests of every algorithm.
//!
//! Real (simulated) time, each node's drifting local clock, an in-flight
//! message queue, link cuts and crashes are all explicit. Nothing happens on
//! its own: the caller delivers messages, lets time pass (`elapse` fires
//! timers only; `run_for` also delivers messages after a fixed latency),
//! crashes and restarts nodes. After every step the safety monitors judge
//! the cluster; violations are recorded, not panicked on, so a test can
//! assert that a broken configuration is caught.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::check::lock_service::{LockMonitor, LockView};
use crate::check::properties::{NodeView, SafetyMonitor, Violation};
use crate::core::client::{ClientReply, ClientRequest, Operation, RequestId, Value};
use crate::core::node::{Event, Input, Node, NodeId, Role};
use crate::core::raft::{Config, ConfigError};
use crate::core::time::Time;
pub use crate::harness::algorithm::MessageOf;
use crate::harness::algorithm::{Algorithm, Raft};
use crate::harness::apply::{Outputs, Stepper};
use crate::harness::slot::Slot;
use crate::harness::views::views;
use crate::sim::clock::DriftingClock;

/// A message on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope<M> {
    pub from: NodeId,
    pub to: NodeId,
    pub message: M,
    /// Real time at which `run_for` delivers it.
    pub deliver_at: Time,
}

/// Something that happened, in order, for scenario output and debugging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trace<M> {
    Delivered(Envelope<M>),
    /// The message was lost: its link is down or its receiver crashed.
    Lost {
        envelope: Envelope<M>,
        why: &'static str,
    },
    Node {
        id: NodeId,
        event: Event,
    },
    Reply {
        node: NodeId,
        reply: ClientReply,
    },
    Crashed(NodeId),
    Restarted(NodeId),
    /// The node stopped taking steps (a stop-the-world pause), keeping its
    /// state; its clock runs on.
    Paused(NodeId),
    /// The paused node takes steps again; what reached it meanwhile
    /// arrives now.
    Resumed(NodeId),
    Violation(Violation),
}

/// Where one step's output goes: messages into flight, events and
/// replies aside, so the trace shows a step's events before its replies.
struct StepOutputs<'a, M> {
    from: NodeId,
    deliver_at: Time,
    in_flight: &'a mut VecDeque<Envelope<M>>,
    events: Vec<Event>,
    replies: Vec<ClientReply>,
}

impl<M> Outputs<M> for StepOutputs<'_, M> {
    fn send(&mut self, to: NodeId, message: M) {
        self.in_flight.push_back(Envelope {
            from: self.from,
            to,
            message,
            deliver_at: self.deliver_at,
        });
    }

    fn reply(&mut self, reply: ClientReply) {
        self.replies.push(reply);
    }

    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
}

/// The most events `elapse` or `run_for` processes at one instant of real
/// time. Events that move time on are progress, however many a long run
/// needs (it ends when time reaches its end); this many without time
/// moving is a loop of messages or timers, a bug worth a panic.
const MAX_EVENTS_PER_INSTANT: usize = 1_000_000;

/// A cluster of `A`'s nodes (Raft unless said otherwise).
pub struct Cluster<A: Algorithm = Raft> {
    algorithm: A,
    members: Vec<NodeId>,
    now: Time,
    /// Each member on the harness's slot: its node while up, what it
    /// persisted, its drifting clock.
    slots: BTreeMap<NodeId, Slot<A, DriftingClock>>,
    in_flight: VecDeque<Envelope<MessageOf<A>>>,
    /// Nodes that take no steps until resumed, and the messages that
    /// reached them meanwhile, in arrival order.
    paused: BTreeSet<NodeId>,
    held: Vec<Envelope<MessageOf<A>>>,
    down_links: BTreeSet<(NodeId, NodeId)>,
    latency: Duration,
    rng: ChaCha8Rng,
    monitor: SafetyMonitor,
    /// Fenced Writes and Exclusive Holding, for lock-service algorithms.
    lock_monitor: LockMonitor,
    violations: Vec<Violation>,
    trace: Vec<(Time, Trace<MessageOf<A>>)>,
    replies: Vec<(NodeId, ClientReply)>,
    next_sequence: u64,
    stepper: Stepper<A::Node>,
}

impl Cluster<Raft> {
    /// Raft nodes `1..=size` with `config`, all starting at real time 0 with
    /// accurate clocks.
    pub fn new(size: u64, config: Config, seed: u64) -> Result<Cluster<Raft>, ConfigError> {
        let members: Vec<NodeId> = (1..=size).collect();
        for &id in &members {
            config.validate(id, &members)?;
        }
        Ok(Cluster::start(Raft { config }, size, seed))
    }

    pub fn config(&self) -> &Config {
        &self.algorithm.config
    }
}

impl<A: Algorithm> Cluster<A> {
    /// Nodes `1..=size` of `algorithm`, and its service members after them
    /// (a lock service's store), all starting at real time 0 with accurate
    /// clocks. Precondition: the algorithm's configuration is valid for
    /// this membership.
    pub fn start(algorithm: A, size: u64, seed: u64) -> Cluster<A> {
        let members: Vec<NodeId> = (1..=size + algorithm.service_members()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut slots = BTreeMap::new();
        for &id in &members {
            let clock = DriftingClock::default();
            let slot = Slot::start(&algorithm, id, &members, clock, Time::ZERO, &mut rng);
            slots.insert(id, slot);
        }
        Cluster {
            algorithm,
            members,
            now: Time::ZERO,
            slots,
            in_flight: VecDeque::new(),
            paused: BTreeSet::new(),
            held: Vec::new(),
            down_links: BTreeSet::new(),
            latency: Duration::from_millis(1),
            rng,
            monitor: SafetyMonitor::new(),
            lock_monitor: LockMonitor::new(),
            violations: Vec::new(),
            trace: Vec::new(),
            replies: Vec::new(),
            next_sequence: 0,
            stepper: Stepper::default(),
        }
    }

    pub fn algorithm(&self) -> &A {
        &self.algorithm
    }

    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// Real (simulated) time.
    pub fn now(&self) -> Time {
        self.now
    }

    pub fn set_latency(&mut self, latency: Duration) {
        self.latency = latency;
    }

    /// The node, if it is up.
    pub fn node(&self, id: NodeId) -> Option<&A::Node> {
        self.slots.get(&id).and_then(|slot| slot.node.as_ref())
    }

    pub fn durable(&self, id: NodeId) -> Option<&A::Durable> {
        self.slots.get(&id).map(|slot| &slot.durable)
    }

    pub fn local_time(&self, id: NodeId) -> Time {
        self.slots[&id].clock.local(self.now)
    }

    /// Sets a clock's rate. Precondition: no time has passed (a rate
    /// applies from real time 0, so changed later the clock would leap,
    /// backwards if it slowed) and `rate_ppm > -1_000_000`.
    pub fn set_clock_rate(&mut self, id: NodeId, rate_ppm: i64) {
        assert_eq!(self.now, Time::ZERO, "set clock rates before time passes");
        let slot = self.slots.get_mut(&id).expect("a member");
        slot.clock = DriftingClock::with_rate_ppm(rate_ppm);
    }

    /// The leader of the highest term among nodes that are up, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.slots
            .values()
            .filter_map(|slot| slot.node.as_ref())
            .filter(|node| node.role() == Role::Leader)
            .max_by_key(|node| node.term())
            .map(|node| node.id())
    }

    /// Every node up that believes it leads, in id order (more than one is
    /// a split brain).
    pub fn leaders(&self) -> Vec<NodeId> {
        self.slots
            .iter()
            .filter(|(_, slot)| {
                slot.node
                    .as_ref()
                    .is_some_and(|node| node.role() == Role::Leader)
            })
            .map(|(&id, _)| id)
            .collect()
    }

    pub fn is_up(&self, id: NodeId) -> bool {
        self.node(id).is_some()
    }

    pub fn in_flight(&self) -> &VecDeque<Envelope<MessageOf<A>>> {
        &self.in_flight
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    pub fn monitor(&self) -> &SafetyMonitor {
        &self.monitor
    }

    /// Every trace line since the last call.
    pub fn take_trace(&mut self) -> Vec<(Time, Trace<MessageOf<A>>)> {
        std::mem::take(&mut self.trace)
    }

    pub fn replies(&self) -> &[(NodeId, ClientReply)] {
        &self.replies
    }

    pub fn reply_to(&self, id: RequestId) -> Option<&ClientReply> {
        self.replies
            .iter()
            .map(|(_, reply)| reply)
            .find(|reply| reply.id == id)
    }

    /// Feeds one input to node `id` at its current local time, and applies
    /// the step on the harness, in contract order: persist, send, reply.
    pub fn step(&mut self, id: NodeId, input: Input<MessageOf<A>>) {
        let slot = self.slots.get_mut(&id).expect("a member");
        if !slot.is_up() || self.paused.contains(&id) {
            return;
        }
        let mut outputs = StepOutputs {
            from: id,
            deliver_at: self.now.saturating_add(self.latency),
            in_flight: &mut self.in_flight,
            events: Vec::new(),
            replies: Vec::new(),
        };
        slot.step(
            &mut self.stepper,
            self.now,
            &mut self.rng,
            input,
            &mut outputs,
        );
        let StepOutputs {
            events, replies, ..
        } = outputs;
        for event in events {
            self.record(Trace::Node { id, event });
        }
        for reply in replies {
            self.record(Trace::Reply {
                node: id,
                reply: reply.clone(),
            });
            self.replies.push((id, reply));
        }
        self.observe();
    }

    fn record(&mut self, trace: Trace<MessageOf<A>>) {
        self.trace.push((self.now, trace));
    }

    /// Runs the safety monitors over the nodes that are up, and the
    /// lock-service monitors over the members of a lock service, each
    /// judged on its own clock.
    fn observe(&mut self) {
        let views: Vec<NodeView> = views(self.slots.values(), self.now).collect();
        let mut found: Vec<Violation> = self.monitor.observe(&views).err().into_iter().collect();
        drop(views);
        let locks: Vec<LockView> = self
            .slots
            .values()
            .filter_map(|slot| A::lock_view(slot.node.as_ref()?, slot.clock.local(self.now)))
            .collect();
        if !locks.is_empty() {
            found.extend(self.lock_monitor.observe_all(&locks));
        }
        for violation in found {
            if !self
                .violations
                .iter()
                .any(|known| known.property == violation.property)
            {
                self.record(Trace::Violation(violation.clone()));
                self.violations.push(violation);
            }
        }
    }

    /// Whether `id` is one of the algorithm's service members (a lock
    /// service's store and resource), which follow the candidates.
    pub fn is_service(&self, id: NodeId) -> bool {
        let candidates = self.members.len() as u64 - self.algorithm.service_members();
        id > candidates
    }

    pub fn campaign(&mut self, id: NodeId) {
        self.step(id, Input::Campaign);
    }

    pub fn tick(&mut self, id: NodeId) {
        self.step(id, Input::Tick);
    }

    pub fn transfer(&mut self, from: NodeId, to: NodeId) {
        self.step(from, Input::TransferLeadership { to });
    }

    /// An operator asks node `id` for a snapshot now (`Input::Snapshot`),
    /// stepped like any input: its record made durable, its event traced,
    /// the monitors run.
    pub fn snapshot(&mut self, id: NodeId) {
        self.step(id, Input::Snapshot);
    }

    pub fn request(&mut self, id: NodeId, operation: Operation) -> RequestId {
        self.next_sequence += 1;
        let request_id = RequestId {
            client: 0,
            sequence: self.next_sequence,
        };
        let request = ClientRequest {
            id: request_id,
            operation,
        };
        self.step(id, Input::Client(request));
        request_id
    }

    pub fn write(&mut self, id: NodeId, key: &str, value: Value) -> RequestId {
        let key = key.to_owned();
        self.request(id, Operation::Write { key, value })
    }

    pub fn read(&mut self, id: NodeId, key: &str) -> RequestId {
        let key = key.to_owned();
        self.request(id, Operation::Read { key })
    }

    pub fn link_is_up(&self, from: NodeId, to: NodeId) -> bool {
        !self.down_links.contains(&(from, to))
    }

    /// Cuts the link from `from` to `to` (one direction).
    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        self.down_links.insert((from, to));
    }

    /// Leaves up exactly the links between nodes of the same group.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) {
        let group_of = |id: NodeId| groups.iter().position(|group| group.contains(&id));
        self.set_links(|from, to| group_of(from).is_some() && group_of(from) == group_of(to));
    }

    /// Leaves up exactly the links (both directions) in `pairs`.
    pub fn connect_only(&mut self, pairs: &[(NodeId, NodeId)]) {
        self.set_links(|from, to| {
            pairs
                .iter()
                .any(|&(a, b)| (a, b) == (from, to) || (b, a) == (from, to))
        });
    }

    pub fn isolate(&mut self, id: NodeId) {
        self.set_links(|from, to| from != id && to != id);
    }

    pub fn heal(&mut self) {
        self.down_links.clear();
    }

    fn set_links(&mut self, is_up: impl Fn(NodeId, NodeId) -> bool) {
        self.down_links.clear();
        for &from in &self.members {
            for &to in &self.members {
                if from != to && !is_up(from, to) {
                    self.down_links.insert((from, to));
                }
            }
        }
    }

    /// Crashes a node: its volatile state is lost, its durable state stays.
    /// A paused node that crashes is no longer paused, and what was held
    /// for it is lost.
    pub fn crash(&mut self, id: NodeId) {
        let slot = self.slots.get_mut(&id).expect("a member");
        if slot.crash().is_some() {
            self.record(Trace::Crashed(id));
        }
        if self.paused.remove(&id) {
            let (lost, kept) = std::mem::take(&mut self.held)
                .into_iter()
                .partition(|envelope| envelope.to == id);
            self.held = kept;
            for envelope in lost {
                let why = "receiver down";
                self.record(Trace::Lost { envelope, why });
            }
        }
    }

    /// Pauses an up node, as a long garbage collection or a stopped VM
    /// does: it keeps its state, takes no step (no timer, no message)
    /// until resumed, and its clock runs on. Messages that reach it
    /// meanwhile wait for it.
    pub fn pause(&mut self, id: NodeId) {
        if self.slots[&id].is_up() && self.paused.insert(id) {
            self.record(Trace::Paused(id));
        }
    }

    /// Resumes a paused node: the messages held for it arrive first, in
    /// the order they reached it, then its due timers fire.
    pub fn resume(&mut self, id: NodeId) {
        if !self.paused.remove(&id) {
            return;
        }
        self.record(Trace::Resumed(id));
        let (arrived, kept) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|envelope| envelope.to == id);
        self.held = kept;
        for envelope in arrived {
            self.deliver_one(envelope);
        }
        if self.next_deadline_passed(id) {
            self.tick(id);
        }
    }

    /// Whether up node `id`'s timer is due at the current real time.
    fn next_deadline_passed(&self, id: NodeId) -> bool {
        let slot = &self.slots[&id];
        slot.node
            .as_ref()
            .is_some_and(|node| slot.clock.real_time_of(node.next_deadline()) <= self.now)
    }

    pub fn is_paused(&self, id: NodeId) -> bool {
        self.paused.contains(&id)
    }

    /// Restarts a crashed node from its durable state.
    pub fn restart(&mut self, id: NodeId) {
        let slot = self.slots.get_mut(&id).expect("a member");
        if !slot.restart(&self.algorithm, &self.members, self.now, &mut self.rng) {
            return;
        }
        self.record(Trace::Restarted(id));
        self.observe();
    }

    /// Delivers the messages in flight now (not those they cause) that
    /// `select` picks, in send order. Returns how many were picked.
    pub fn deliver(&mut self, select: impl Fn(&Envelope<MessageOf<A>>) -> bool) -> usize {
        let (picked, kept): (Vec<_>, Vec<_>) = self
            .in_flight
            .drain(..)
            .partition(|envelope| select(envelope));
        self.in_flight = kept.into();
        let count = picked.len();
        for envelope in picked {
            self.deliver_one(envelope);
        }
        count
    }

    /// Drops the messages in flight that `select` picks.
    pub fn drop_messages(&mut self, select: impl Fn(&Envelope<MessageOf<A>>) -> bool) -> usize {
        let before = self.in_flight.len();
        self.in_flight.retain(|envelope| !select(envelope));
        before - self.in_flight.len()
    }

    /// Delivers messages, and the messages they cause, until none are left
    /// (or `max_rounds` rounds passed). Time does not move.
    pub fn stabilize(&mut self, max_rounds: usize) {
        for _ in 0..max_rounds {
            if self.deliver(|_| true) == 0 {
                return;
            }
        }
    }

    fn deliver_one(&mut self, envelope: Envelope<MessageOf<A>>) {
        let up = self.slots[&envelope.to].node.is_some();
        let why = if !self.link_is_up(envelope.from, envelope.to) {
            Some("link down")
        } else if !up {
            Some("receiver down")
        } else {
            None
        };
        if let Some(why) = why {
            self.record(Trace::Lost { envelope, why });
            return;
        }
        if self.paused.contains(&envelope.to) {
            self.held.push(envelope);
            return;
        }
        self.record(Trace::Delivered(envelope.clone()));
        let input = Input::Message {
            from: envelope.from,
            message: envelope.message,
        };
        self.step(envelope.to, input);
    }

    /// Lets `duration` of real time pass, firing every timer that comes due,
    /// in time order. Messages stay in flight.
    pub fn elapse(&mut self, duration: Duration) {
        let until = self.now.saturating_add(duration);
        self.run_until(until, false);
    }

    /// Lets `duration` of real time pass with a working network: timers fire
    /// and messages arrive `latency` after they were sent.
    pub fn run_for(&mut self, duration: Duration) {
        let until = self.now.saturating_add(duration);
        self.run_until(until, true);
    }

    fn run_until(&mut self, until: Time, deliver: bool) {
        let mut instant = (self.now, 0);
        loop {
            if instant.0 != self.now {
                instant = (self.now, 0);
            }
            instant.1 += 1;
            assert!(
                instant.1 <= MAX_EVENTS_PER_INSTANT,
                "cluster made no progress: {MAX_EVENTS_PER_INSTANT} events at {:?} without time moving",
                self.now
            );
            let next_timer = self.next_timer();
            let next_message = if deliver {
                self.in_flight.front().map(|envelope| envelope.deliver_at)
            } else {
                None
            };
            let message_first = match (next_message, next_timer) {
                (Some(message), Some((timer, _))) => message <= timer,
                (Some(_), None) => true,
                _ => false,
            };
            let at = if message_first {
                next_message
            } else {
                next_timer.map(|(at, _)| at)
            };
            match at {
                Some(at) if at <= until => self.now = self.now.max(at),
                _ => {
                    self.now = self.now.max(until);
                    self.observe();
                    return;
                }
            }
            if message_first {
                let envelope = self.in_flight.pop_front().expect("peeked");
                self.deliver_one(envelope);
            } else if let Some((_, id)) = next_timer {
                self.tick(id);
            }
        }
    }

    /// The earliest real time at which an up, unpaused node's timer is due.
    fn next_timer(&self) -> Option<(Time, NodeId)> {
        self.slots
            .iter()
            .filter(|(id, _)| !self.paused.contains(id))
            .filter_map(|(&id, slot)| {
                let node = slot.node.as_ref()?;
                let due = slot.clock.real_time_of(node.next_deadline()).max(self.now);
                Some((due, id))
            })
            .min()
    }
}
