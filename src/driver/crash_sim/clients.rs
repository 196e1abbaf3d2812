//! The clients: each keeps one write of a unique key in flight, follows
//! leader hints, gives up after a timeout, and records what was
//! acknowledged (and whether after the fsync failure).

use std::time::Duration;

use rand::Rng;

use crate::core::client::{ClientError, ClientReply, ClientRequest, Operation, Outcome, RequestId};
use crate::core::node::NodeId;
use crate::core::time::Time;
use crate::driver::mailbox::{Mailbox, Received};
use crate::driver::sync::Arc;

use super::network::Delivery;
use super::Sim;

pub(super) struct SimClient {
    pub(super) id: u64,
    pub(super) replies: Arc<Mailbox<ClientReply>>,
    pub(super) target: NodeId,
    /// The write in flight: its id, key, value and when it gives up.
    pub(super) outstanding: Option<(RequestId, String, u64, Time)>,
    pub(super) next_at: Time,
    pub(super) sequence: u64,
}

impl Sim {
    pub(super) fn clients(&mut self) {
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
}
