//! The real node loop ([`NodeLoop::turn`], the real [`Log`] format) on
//! simulated disks, a simulated network and simulated time, crashed by
//! power loss at seeded points — between turns, or in the middle of a
//! turn's disk operations — with the damage a disk does, and checked:
//!
//! - every write a client saw acknowledged is in the final leader's state
//!   machine (unique keys, so a lost write cannot hide behind a later one);
//! - no node grants two candidates its vote in one term, and no term has
//!   two leaders (judged from the messages the loops sent);
//! - a node whose synced data was damaged refuses to start (and stays
//!   down), and one whose data was not damaged never refuses;
//! - a node whose fsync fails stops, never to acknowledge anything more,
//!   and the others fail over: a write is acknowledged after it.
//!
//! Deterministic: the seed decides every delay, drop, crash and damage.
//! At most a minority of the nodes is ever refused or stopped, so the
//! rest must elect a leader at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::core::client::{ClientError, ClientReply, ClientRequest, Operation, Outcome, RequestId};
use crate::core::node::{Node, NodeId, Role};
use crate::core::raft::{Body, Config, Message, VoteResponse};
use crate::core::time::Time;
use crate::driver::mailbox::{Mailbox, Received};
use crate::driver::node::{DriverError, NodeInput, NodeLoop, NodeSettings, Transport};
use crate::driver::storage::format::{self, Identity};
use crate::driver::storage::simulated::{PowerLoss, SimDisk, SimFaults};
use crate::driver::storage::{Log, StorageError, LOG_FILE, STATE_FILE};
// The shim, not std: the loop's mailboxes are built on it, so this harness
// must compile under `--cfg loom` too (it only runs in a normal build).
use crate::driver::sync::{lock, Arc, Mutex};

/// What a run does.
#[derive(Clone, Debug)]
pub struct CrashSimOptions {
    pub nodes: usize,
    pub seed: u64,
    /// Simulated time of the workload (an end phase follows).
    pub duration: Duration,
    /// Mean simulated time between power failures.
    pub crash_every: Duration,
    /// The longest a crashed node stays down.
    pub max_downtime: Duration,
    /// Damage synced data of crashed nodes (at most a minority of nodes).
    pub damage: bool,
    /// Fail one fsync of one node during the run.
    pub fsync_error: bool,
    /// Clients, each with one write at a time.
    pub clients: usize,
}

impl CrashSimOptions {
    pub fn new(nodes: usize, seed: u64) -> CrashSimOptions {
        CrashSimOptions {
            nodes,
            seed,
            duration: Duration::from_secs(8),
            crash_every: Duration::from_millis(400),
            max_downtime: Duration::from_millis(1200),
            damage: false,
            fsync_error: false,
            clients: 2,
        }
    }
}

/// Where synced data was damaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DamagePlace {
    FirstRecord,
    MiddleRecord,
    LastRecord,
    TermAndVote,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DamageKind {
    BitFlip,
    ZeroedSector,
    MisdirectedSector,
}

/// What happened in a run, and what was wrong.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CrashSimReport {
    pub seed: u64,
    pub acknowledged_writes: usize,
    /// Power failures, and how many struck in the middle of a disk operation.
    pub crashes: usize,
    pub crashes_mid_operation: usize,
    pub lost_unsynced_sectors: usize,
    /// Damage injected into synced data, and the refusal that followed.
    pub damaged: Vec<(NodeId, DamagePlace, DamageKind)>,
    pub refused: Vec<(NodeId, String)>,
    /// Nodes stopped by a failed fsync, with the reason they gave.
    pub fsync_failures: Vec<(NodeId, String)>,
    /// Writes acknowledged after the first fsync failure.
    pub acknowledged_after_fsync_failure: usize,
    pub final_leader: Option<NodeId>,
    pub violations: Vec<String>,
}

type Outbox = Arc<Mutex<Vec<(NodeId, NodeId, Message)>>>;

/// A transport that hands messages to the simulation.
struct SimTransport {
    from: NodeId,
    outbox: Outbox,
}

impl Transport for SimTransport {
    fn send(&mut self, to: NodeId, message: Message) {
        lock(&self.outbox).push((self.from, to, message));
    }
}

type SimLoop = NodeLoop<Log<SimDisk>, SimTransport>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Down {
    /// Crashed; restarts at the given time.
    Until(Time),
    /// Refused to start, or stopped on a failed fsync: down for good.
    Failed,
}

struct Slot {
    disk: SimDisk,
    running: Option<SimLoop>,
    down: Option<Down>,
    incarnation: u64,
    /// Synced data was damaged while down: a refusal is due.
    damaged: bool,
}

enum Delivery {
    Peer { from: NodeId, message: Message },
    Client(ClientRequest),
}

struct SimClient {
    id: u64,
    replies: Arc<Mailbox<ClientReply>>,
    target: NodeId,
    /// The write in flight: its id, key, value and when it gives up.
    outstanding: Option<(RequestId, String, u64, Time)>,
    next_at: Time,
    sequence: u64,
}

struct Sim {
    options: CrashSimOptions,
    rng: ChaCha8Rng,
    now: Time,
    members: Vec<NodeId>,
    slots: BTreeMap<NodeId, Slot>,
    outbox: Outbox,
    /// Deliveries by (time, sequence number).
    in_flight: BTreeMap<(Time, u64), (NodeId, Delivery)>,
    sent: u64,
    clients: Vec<SimClient>,
    acknowledged: Vec<(String, u64, NodeId, Time)>,
    votes: BTreeMap<(NodeId, u64), NodeId>,
    leaders: BTreeMap<u64, NodeId>,
    next_crash: Time,
    fsync_error_at: Option<Time>,
    first_fsync_failure: Option<Time>,
    /// Faults stop here; the cluster must settle.
    faults_end: Time,
    next_value: u64,
    report: CrashSimReport,
}

fn at(duration: Duration) -> Time {
    Time::ZERO.saturating_add(duration)
}

/// Runs one seeded simulation.
pub fn run(options: &CrashSimOptions) -> CrashSimReport {
    let members: Vec<NodeId> = (1..=options.nodes as NodeId).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let fsync_error_at = options
        .fsync_error
        .then(|| at(options.duration.mul_f64(rng.random_range(0.2..0.6))));
    let clients = (0..options.clients.max(1) as u64)
        .map(|i| SimClient {
            id: 100 + i,
            replies: Arc::new(Mailbox::new(1024)),
            target: members[i as usize % members.len()],
            outstanding: None,
            next_at: Time::from_millis(10),
            sequence: 0,
        })
        .collect();
    let mut sim = Sim {
        next_crash: at(options.crash_every),
        faults_end: at(options.duration),
        options: options.clone(),
        rng,
        now: Time::ZERO,
        slots: BTreeMap::new(),
        outbox: Arc::new(Mutex::new(Vec::new())),
        in_flight: BTreeMap::new(),
        sent: 0,
        clients,
        acknowledged: Vec::new(),
        votes: BTreeMap::new(),
        leaders: BTreeMap::new(),
        fsync_error_at,
        first_fsync_failure: None,
        next_value: 0,
        report: CrashSimReport {
            seed: options.seed,
            ..CrashSimReport::default()
        },
        members,
    };
    for &id in &sim.members.clone() {
        sim.slots.insert(
            id,
            Slot {
                disk: SimDisk::new(),
                running: None,
                down: Some(Down::Until(Time::ZERO)),
                incarnation: 0,
                damaged: false,
            },
        );
    }
    sim.run();
    sim.report
}

impl Sim {
    fn settings(&self, id: NodeId, incarnation: u64) -> NodeSettings {
        NodeSettings {
            id,
            members: self.members.clone(),
            config: Config::default(),
            data_dir: format!("simulated/node-{id}").into(),
            seed: self.options.seed ^ (id << 32) ^ incarnation,
            cluster_id: 1,
            lazy_disk: false,
        }
    }

    fn minority(&self) -> usize {
        (self.members.len() - 1) / 2
    }

    fn failed(&self) -> usize {
        self.slots
            .values()
            .filter(|slot| slot.down == Some(Down::Failed) || slot.damaged)
            .count()
    }

    fn run(&mut self) {
        let settle = Duration::from_secs(20);
        let end = self.faults_end.saturating_add(settle);
        while self.now < end {
            if self.now >= self.faults_end && self.settled() {
                break;
            }
            self.now = self.next_event().max(self.now);
            self.restarts();
            if self.now < self.faults_end {
                self.faults();
            }
            self.deliver_and_turn();
            self.clients();
        }
        self.final_check();
    }

    fn next_event(&self) -> Time {
        let mut next = Time::from_micros(u64::MAX);
        if let Some(((time, _), _)) = self.in_flight.first_key_value() {
            next = next.min(*time);
        }
        for slot in self.slots.values() {
            match (&slot.running, slot.down) {
                (Some(node), _) => next = next.min(node.next_deadline()),
                (None, Some(Down::Until(time))) => next = next.min(time),
                _ => {}
            }
        }
        if self.now < self.faults_end {
            next = next.min(self.next_crash);
            if let Some(time) = self.fsync_error_at {
                next = next.min(time);
            }
        }
        if self.now < self.faults_end || self.awaiting_failover() {
            for client in &self.clients {
                next = next.min(client.next_at);
                if let Some((.., gives_up)) = client.outstanding {
                    next = next.min(gives_up);
                }
            }
        }
        next
    }

    fn restarts(&mut self) {
        let due: Vec<NodeId> = self
            .slots
            .iter()
            .filter(|(_, slot)| matches!(slot.down, Some(Down::Until(time)) if time <= self.now))
            .map(|(&id, _)| id)
            .collect();
        for id in due {
            self.start(id);
        }
    }

    fn start(&mut self, id: NodeId) {
        let slot = self.slots.get_mut(&id).expect("member");
        slot.incarnation += 1;
        let settings = self.settings(id, self.slots[&id].incarnation);
        let slot = self.slots.get_mut(&id).expect("member");
        let identity = Identity {
            cluster_id: 1,
            node_id: id,
        };
        let opened = Log::open(slot.disk.clone(), identity);
        match (opened, slot.damaged) {
            (Err(error @ StorageError::Damaged { .. }), true) => {
                slot.down = Some(Down::Failed);
                self.report.refused.push((id, error.to_string()));
            }
            (Err(error @ StorageError::SyncFailed { .. }), _) => {
                slot.down = Some(Down::Failed);
                self.first_fsync_failure.get_or_insert(self.now);
                self.report.fsync_failures.push((id, error.to_string()));
            }
            (Err(error), _) => {
                slot.down = Some(Down::Failed);
                self.report
                    .violations
                    .push(format!("node {id} cannot start: {error}"));
            }
            (Ok((_, recovered)), true) => {
                slot.down = Some(Down::Failed);
                self.report.violations.push(format!(
                    "node {id} started on damaged synced data: {} records, {:?}",
                    recovered.records, recovered.state.hard_state
                ));
            }
            (Ok((storage, recovered)), false) => {
                let transport = SimTransport {
                    from: id,
                    outbox: self.outbox.clone(),
                };
                match NodeLoop::start(&settings, storage, recovered, self.now, transport) {
                    Ok(node) => {
                        slot.running = Some(node);
                        slot.down = None;
                    }
                    Err(error) => {
                        slot.down = Some(Down::Failed);
                        self.report
                            .violations
                            .push(format!("node {id} cannot start: {error}"));
                    }
                }
            }
        }
    }

    fn running(&self) -> Vec<NodeId> {
        self.slots
            .iter()
            .filter(|(_, slot)| slot.running.is_some())
            .map(|(&id, _)| id)
            .collect()
    }

    /// Power failures (now, or armed to strike during a later disk
    /// operation) and the fsync error.
    fn faults(&mut self) {
        if self.fsync_error_at.is_some_and(|time| time <= self.now) {
            self.fsync_error_at = None;
            // The leader, if one runs: its failover is the interesting one.
            let leader = self.running().into_iter().find(|id| {
                self.slots[id]
                    .running
                    .as_ref()
                    .is_some_and(|node| node.node().role() == Role::Leader)
            });
            if let Some(id) = leader.or_else(|| self.running().first().copied()) {
                if self.failed() < self.minority() {
                    let disk = &self.slots[&id].disk;
                    disk.set_faults(SimFaults {
                        fail_next_sync: true,
                        ..disk.faults()
                    });
                }
            }
        }
        if self.now < self.next_crash {
            return;
        }
        let mean = self.options.crash_every.as_micros() as u64;
        self.next_crash = self
            .now
            .saturating_add(Duration::from_micros(self.rng.random_range(1..=2 * mean)));
        let running = self.running();
        if running.is_empty() {
            return;
        }
        let id = running[self.rng.random_range(0..running.len())];
        if self.rng.random_bool(0.5) {
            self.crash(id);
        } else {
            let disk = &self.slots[&id].disk;
            let strike = disk.ops() + self.rng.random_range(1..=12);
            disk.set_faults(SimFaults {
                power_fails_at_op: Some(strike),
                ..disk.faults()
            });
        }
    }

    fn crash(&mut self, id: NodeId) {
        let downtime = self.rng.random_range(
            Duration::from_millis(20).as_micros() as u64
                ..=self.options.max_downtime.as_micros() as u64,
        );
        let mode = [PowerLoss::LoseAll, PowerLoss::KeepAll, PowerLoss::Random]
            [self.rng.random_range(0..3)];
        let slot = self.slots.get_mut(&id).expect("member");
        slot.running = None;
        let lost = slot.disk.power_loss(&mut self.rng, mode);
        self.report.crashes += 1;
        self.report.lost_unsynced_sectors += lost;
        self.slots.get_mut(&id).expect("member").down = Some(Down::Until(
            self.now.saturating_add(Duration::from_micros(downtime)),
        ));
        if self.options.damage && self.failed() < self.minority() && self.rng.random_bool(0.3) {
            self.damage(id);
        }
    }

    /// Damages one synced place of a node that voted and logged entries.
    fn damage(&mut self, id: NodeId) {
        let disk = self.slots[&id].disk.clone();
        let (Some(state), Some(log)) = (disk.synced_bytes(STATE_FILE), disk.synced_bytes(LOG_FILE))
        else {
            return;
        };
        let identity = Identity {
            cluster_id: 1,
            node_id: id,
        };
        let Ok(state) = format::read_state(&state, identity) else {
            return;
        };
        let Ok(replay) = format::replay_log(&log, state.state.synced_len, identity) else {
            return;
        };
        if state.state.hard_state.voted_for.is_none() || replay.spans.len() < 3 {
            return;
        }
        let places = [
            DamagePlace::FirstRecord,
            DamagePlace::MiddleRecord,
            DamagePlace::LastRecord,
            DamagePlace::TermAndVote,
        ];
        let kinds = [
            DamageKind::BitFlip,
            DamageKind::ZeroedSector,
            DamageKind::MisdirectedSector,
        ];
        let place = places[self.rng.random_range(0..places.len())];
        let kind = kinds[self.rng.random_range(0..kinds.len())];
        let spans = &replay.spans;
        let span = match place {
            DamagePlace::FirstRecord => spans[0],
            DamagePlace::MiddleRecord => spans[spans.len() / 2],
            _ => spans[spans.len() - 1],
        };
        let targets: Vec<(&str, u64)> = match place {
            DamagePlace::TermAndVote => vec![
                (STATE_FILE, 20),
                (STATE_FILE, format::STATE_COPY_STRIDE as u64 + 20),
            ],
            _ => vec![(LOG_FILE, span.offset + self.rng.random_range(0..span.len))],
        };
        let file_len = |name: &str| {
            disk.synced_bytes(name)
                .map_or(0, |bytes| bytes.len() as u64)
        };
        let mut changed = true;
        for (name, offset) in targets {
            changed &= match kind {
                DamageKind::BitFlip => disk.flip_bit(name, offset, self.rng.random_range(0..8)),
                DamageKind::ZeroedSector => disk.zero_sector(name, offset),
                DamageKind::MisdirectedSector => {
                    let len = file_len(name);
                    let from = (offset + self.rng.random_range(1..len.max(2))) % len.max(1);
                    disk.misdirect(name, offset, from) || disk.misdirect(name, offset, len + 4096)
                }
            };
        }
        if changed {
            self.slots.get_mut(&id).expect("member").damaged = true;
            self.report.damaged.push((id, place, kind));
        }
    }

    fn deliver_and_turn(&mut self) {
        let mut inputs: BTreeMap<NodeId, Vec<NodeInput>> = BTreeMap::new();
        while let Some(entry) = self.in_flight.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let (to, delivery) = entry.remove();
            let input = match delivery {
                Delivery::Peer { from, message } => NodeInput::Peer { from, message },
                Delivery::Client(request) => {
                    let client = self
                        .clients
                        .iter()
                        .find(|client| client.id == request.id.client)
                        .expect("a client of this run");
                    NodeInput::Client {
                        request,
                        reply_to: client.replies.clone(),
                    }
                }
            };
            inputs.entry(to).or_default().push(input);
        }
        for id in self.members.clone() {
            let batch = inputs.remove(&id).unwrap_or_default();
            let Some(node) = self
                .slots
                .get_mut(&id)
                .and_then(|slot| slot.running.as_mut())
            else {
                continue; // a down node's messages are lost
            };
            if batch.is_empty() && node.next_deadline() > self.now {
                continue;
            }
            let turned = node.turn(self.now, batch);
            self.route_outbox();
            if let Err(error) = turned {
                self.stopped(id, error);
            }
        }
    }

    fn stopped(&mut self, id: NodeId, error: DriverError) {
        let disk = self.slots[&id].disk.clone();
        if disk.is_dead() {
            self.report.crashes_mid_operation += 1;
            self.crash(id);
            return;
        }
        let slot = self.slots.get_mut(&id).expect("member");
        slot.running = None;
        slot.down = Some(Down::Failed);
        match error {
            DriverError::Storage {
                source: StorageError::SyncFailed { .. },
                ..
            } => {
                self.first_fsync_failure.get_or_insert(self.now);
                self.report.fsync_failures.push((id, error.to_string()));
            }
            other => self
                .report
                .violations
                .push(format!("node {id} stopped: {other}")),
        }
    }

    /// Checks and schedules what the loops sent.
    fn route_outbox(&mut self) {
        let sent = std::mem::take(&mut *lock(&self.outbox));
        for (from, to, message) in sent {
            self.observe(from, to, &message);
            let faulty = self.now < self.faults_end;
            if faulty && self.rng.random_bool(0.01) {
                continue;
            }
            let delay = self.rng.random_range(100..3_000);
            self.schedule(delay, to, Delivery::Peer { from, message });
        }
    }

    fn schedule(&mut self, delay_micros: u64, to: NodeId, delivery: Delivery) {
        self.sent += 1;
        let time = self.now.saturating_add(Duration::from_micros(delay_micros));
        self.in_flight.insert((time, self.sent), (to, delivery));
    }

    /// One vote per node and term, one leader per term.
    fn observe(&mut self, from: NodeId, to: NodeId, message: &Message) {
        let term = message.term;
        match &message.body {
            Body::VoteResponse(VoteResponse {
                pre_vote: false,
                granted: true,
            }) => {
                if let Some(&earlier) = self.votes.get(&(from, term)) {
                    if earlier != to {
                        self.report.violations.push(format!(
                            "node {from} voted for {earlier} and {to} in term {term}"
                        ));
                    }
                }
                self.votes.insert((from, term), to);
            }
            Body::Append(_) | Body::Heartbeat(_) => {
                if let Some(&earlier) = self.leaders.get(&term) {
                    if earlier != from {
                        self.report
                            .violations
                            .push(format!("nodes {earlier} and {from} both led term {term}"));
                    }
                }
                self.leaders.insert(term, from);
            }
            _ => {}
        }
    }

    fn clients(&mut self) {
        let now = self.now;
        let workload = now < self.faults_end || self.awaiting_failover();
        let mut requests = Vec::new();
        for index in 0..self.clients.len() {
            let client = &mut self.clients[index];
            let mut replies = Vec::new();
            while let Received::Item(reply) = client.replies.recv_timeout(Duration::ZERO) {
                replies.push(reply);
            }
            for reply in replies {
                let client = &mut self.clients[index];
                let Some((id, key, value, _)) = client.outstanding.clone() else {
                    continue;
                };
                if reply.id != id {
                    continue;
                }
                client.outstanding = None;
                client.next_at = now.saturating_add(Duration::from_millis(1));
                match reply.result {
                    Ok(Outcome::Written) => {
                        let by = client.target;
                        self.acknowledged.push((key, value, by, now));
                        if self.first_fsync_failure.is_some() {
                            self.report.acknowledged_after_fsync_failure += 1;
                        }
                    }
                    Err(ClientError::NotLeader {
                        leader_hint: Some(leader),
                    }) => client.target = leader,
                    _ => {
                        let target = self.members[self.rng.random_range(0..self.members.len())];
                        self.clients[index].target = target;
                    }
                }
            }
            let client = &mut self.clients[index];
            if let Some((.., gives_up)) = client.outstanding {
                if gives_up <= now {
                    // Outcome unknown: not counted either way.
                    client.outstanding = None;
                    client.next_at = now;
                    client.target = self.members[self.rng.random_range(0..self.members.len())];
                }
            }
            let client = &mut self.clients[index];
            if workload && client.outstanding.is_none() && client.next_at <= now {
                client.sequence += 1;
                self.next_value += 1;
                let id = RequestId {
                    client: client.id,
                    sequence: client.sequence,
                };
                let key = format!("k{}", self.next_value);
                let value = self.next_value;
                client.outstanding = Some((
                    id,
                    key.clone(),
                    value,
                    now.saturating_add(Duration::from_millis(400)),
                ));
                client.next_at = Time::from_micros(u64::MAX);
                requests.push((
                    client.target,
                    ClientRequest {
                        id,
                        operation: Operation::Write { key, value },
                    },
                ));
            }
        }
        for (to, request) in requests {
            let delay = self.rng.random_range(100..1_000);
            self.schedule(delay, to, Delivery::Client(request));
        }
    }

    fn leader(&self) -> Option<NodeId> {
        self.running().into_iter().find(|id| {
            self.slots[id].running.as_ref().is_some_and(|node| {
                let core = node.node();
                core.role() == Role::Leader && core.commit_index() == core.log().last_index()
            })
        })
    }

    fn settled(&self) -> bool {
        let pending = self
            .slots
            .values()
            .any(|slot| matches!(slot.down, Some(Down::Until(_))));
        !pending && self.leader().is_some() && !self.awaiting_failover()
    }

    /// A node stopped on a failed fsync and no write was acknowledged
    /// since: the clients go on (into the end phase) until one is.
    fn awaiting_failover(&self) -> bool {
        self.first_fsync_failure.is_some() && self.report.acknowledged_after_fsync_failure == 0
    }

    fn final_check(&mut self) {
        self.report.acknowledged_writes = self.acknowledged.len();
        let Some(leader) = self.leader() else {
            self.report.violations.push(format!(
                "no leader with every entry committed {} after the faults ended",
                crate::sim::units::format_duration(self.now.saturating_since(self.faults_end))
            ));
            return;
        };
        self.report.final_leader = Some(leader);
        let node = self.slots[&leader].running.as_ref().expect("running");
        for (key, value, by, time) in &self.acknowledged {
            let found = node.node().kv().read(key);
            if found != Some(*value) {
                self.report.violations.push(format!(
                    "write {key}={value}, acknowledged by node {by} at {time}, is {found:?} on the final leader {leader}"
                ));
            }
        }
        if self.options.fsync_error
            && !self.report.fsync_failures.is_empty()
            && self.report.acknowledged_after_fsync_failure == 0
        {
            self.report
                .violations
                .push("no write was acknowledged after the fsync failure".to_owned());
        }
    }
}
