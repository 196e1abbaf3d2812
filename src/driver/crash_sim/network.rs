//! The simulated network: what the node loops send goes through the
//! election monitor, is dropped now and then while faults strike, and is
//! delivered after a seeded delay, as are the clients' requests.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::Rng;

use crate::core::client::ClientRequest;
use crate::core::node::NodeId;
use crate::core::raft::Message;
use crate::driver::node::{NodeInput, Transport};
use crate::driver::sync::{lock, Arc, Mutex};

use super::Sim;

pub(super) type Outbox = Arc<Mutex<Vec<(NodeId, NodeId, Message)>>>;

/// A transport that hands messages to the simulation.
pub(super) struct SimTransport {
    pub(super) from: NodeId,
    pub(super) outbox: Outbox,
}

impl Transport for SimTransport {
    fn send(&mut self, to: NodeId, message: Message) {
        lock(&self.outbox).push((self.from, to, message));
    }
}

pub(super) enum Delivery {
    Peer { from: NodeId, message: Message },
    Client(ClientRequest),
}

impl Sim {
    pub(super) fn deliver_and_turn(&mut self) {
        let mut arrived: BTreeMap<NodeId, Vec<Delivery>> = BTreeMap::new();
        while let Some(entry) = self.in_flight.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let (to, delivery) = entry.remove();
            arrived.entry(to).or_default().push(delivery);
        }
        for id in self.members.clone() {
            let deliveries = arrived.remove(&id).unwrap_or_default();
            let busy_until = self.slots[&id].busy_until;
            if busy_until > self.now {
                // Busy with a slow fsync: what arrived waits in its inbox.
                for delivery in deliveries {
                    self.sent += 1;
                    self.in_flight
                        .insert((busy_until, self.sent), (id, delivery));
                }
                continue;
            }
            let batch: Vec<NodeInput> = deliveries
                .into_iter()
                .map(|delivery| self.input(delivery))
                .collect();
            let Some(slot) = self.slots.get_mut(&id) else {
                continue;
            };
            let ops_before = slot.disk.ops();
            let Some(node) = slot.running.as_mut() else {
                continue; // a down node's messages are lost
            };
            if batch.is_empty() && node.next_deadline() > self.now {
                continue;
            }
            let turned = node.turn(self.now, batch);
            // A turn that wrote took the disk's fsync time: the node is
            // busy that long, and what it sent leaves after.
            let wrote = slot.disk.ops() > ops_before;
            let took = match slot.disk.faults().sync_latency {
                latency if wrote => latency,
                _ => Duration::ZERO,
            };
            slot.busy_until = self.now.saturating_add(took);
            self.route_outbox(took);
            self.note_leader(id);
            if let Err(error) = turned {
                self.stopped(id, error);
            }
        }
    }

    fn input(&self, delivery: Delivery) -> NodeInput {
        match delivery {
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
        }
    }

    /// Checks and schedules what the loops sent, `after` the sender's
    /// fsync.
    pub(super) fn route_outbox(&mut self, after: Duration) {
        let sent = std::mem::take(&mut *lock(&self.outbox));
        for (from, to, message) in sent {
            self.elections
                .observe(from, to, &message, &mut self.report.violations);
            let faulty = self.now < self.faults_end;
            if faulty && self.rng.random_bool(0.01) {
                continue;
            }
            let delay = self.rng.random_range(100..3_000) + after.as_micros() as u64;
            self.schedule(delay, to, Delivery::Peer { from, message });
        }
    }

    pub(super) fn schedule(&mut self, delay_micros: u64, to: NodeId, delivery: Delivery) {
        self.sent += 1;
        let time = self.now.saturating_add(Duration::from_micros(delay_micros));
        self.in_flight.insert((time, self.sent), (to, delivery));
    }
}
