//! The real node loop ([`crate::driver::node::NodeLoop::turn`], the real
//! [`crate::driver::storage::Log`] format) on
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
//!
//! The parts, one job each: [`options`] and [`report`] (what a run does and
//! what it found), `nodes` (starting, crashing and stopping node loops on
//! their disks), `faults` and `damage` (power failures, a failed fsync,
//! damaged synced data), `network` (delivering what the loops send),
//! `monitor` (one vote and one leader per term, from the messages),
//! `clients` (the writes and their acknowledgements), `slow` (disks whose
//! fsyncs turn slow, and who led when, for the abdication checks).

pub mod abdication;
mod clients;
mod damage;
mod faults;
mod monitor;
mod network;
mod nodes;
pub mod options;
pub mod report;
mod slow;

use std::collections::BTreeMap;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::core::node::{Node, NodeId, Role};
use crate::core::time::Time;
use crate::driver::mailbox::Mailbox;
use crate::driver::storage::simulated::SimDisk;
// The shim, not std: the loop's mailboxes are built on it, so this harness
// must compile under `--cfg loom` too (it only runs in a normal build).
use crate::driver::sync::{Arc, Mutex};

use clients::SimClient;
use monitor::OneVotePerTerm;
use network::{Delivery, Outbox};
use nodes::{Down, Slot};
pub use options::{CrashSimOptions, SlowDisks, SlowFsync};
pub use report::{CrashSimReport, DamageKind, DamagePlace};

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
    elections: OneVotePerTerm,
    next_crash: Time,
    fsync_error_at: Option<Time>,
    disk_full_at: Option<Time>,
    first_fsync_failure: Option<Time>,
    /// Faults stop here; the cluster must settle.
    faults_end: Time,
    next_value: u64,
    /// A slow-disk fault still to strike.
    slow_fsync: Option<options::SlowFsync>,
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
    let disk_full_at = options
        .disk_full
        .then(|| at(options.duration.mul_f64(rng.random_range(0.1..0.5))));
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
        elections: OneVotePerTerm::default(),
        fsync_error_at,
        disk_full_at,
        first_fsync_failure: None,
        next_value: 0,
        slow_fsync: options.slow_fsync,
        report: CrashSimReport {
            seed: options.seed,
            snapshot_every: options.snapshot_every,
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
                filling: false,
                busy_until: Time::ZERO,
            },
        );
    }
    sim.run();
    sim.report
}

impl Sim {
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
                self.slow_disks();
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
                // A node busy with a slow fsync takes its next turn after.
                (Some(node), _) => next = next.min(node.next_deadline().max(slot.busy_until)),
                (None, Some(Down::Until(time))) => next = next.min(time),
                _ => {}
            }
        }
        if self.now < self.faults_end {
            next = next.min(self.next_crash);
            let slow_from = self.slow_fsync.map(|slow| at(slow.from));
            for time in [self.fsync_error_at, self.disk_full_at, slow_from]
                .into_iter()
                .flatten()
            {
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

    fn leader(&self) -> Option<NodeId> {
        self.running().into_iter().find(|id| {
            self.slots[id].running.as_ref().is_some_and(|node| {
                let core = node.node();
                core.role() == Role::Leader && core.committed() == core.log().last_index()
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
        self.count_hand_overs();
        self.count_snapshots();
        self.report.fsync_failure_at = self.first_fsync_failure;
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
