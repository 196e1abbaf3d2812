//! Simulated clients: each runs one operation at a time against the node it
//! believes leads, follows leader hints, gives up after a timeout, and
//! records a Jepsen-style history of invocations and completions.

use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::core::client::{ClientError, ClientReply, ClientRequest, Operation, Outcome, RequestId};
use crate::core::node::NodeId;
use crate::core::time::Time;
use crate::sim::units::format_duration;
use crate::sim::validate::InvalidOptions;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadOptions {
    pub clients: usize,
    /// Mean pause between one operation's completion and the next.
    pub mean_think_time: Duration,
    /// A client that hears nothing for this long gives up: the operation's
    /// outcome is unknown (`info`).
    pub request_timeout: Duration,
    /// Operations touch keys `k0..k{keys-1}`.
    pub keys: usize,
    /// Batched clients: a request reaching a node waits this long for
    /// others to the same node, and they are handed over together as one
    /// `Input::ClientBatch` (a driver batching its clients' frames). `None`:
    /// each request is handed over on its own.
    #[serde(default)]
    pub batch_window: Option<Duration>,
}

impl WorkloadOptions {
    /// A batch window is a wait before a request is handed over, so it must
    /// be positive (zero would hand every request over alone, which is
    /// `None`) and shorter than the client's patience.
    pub fn check_batch_window(&self, window: Duration) -> Result<(), InvalidOptions> {
        if window.is_zero() || window >= self.request_timeout {
            return Err(InvalidOptions::BatchWindow {
                window: format_duration(window),
                timeout: format_duration(self.request_timeout),
            });
        }
        Ok(())
    }
}

impl Default for WorkloadOptions {
    fn default() -> Self {
        WorkloadOptions {
            clients: 3,
            mean_think_time: Duration::from_millis(20),
            request_timeout: Duration::from_millis(1_000),
            keys: 1,
            batch_window: None,
        }
    }
}

/// Jepsen's event types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryKind {
    Invoke,
    /// Took effect.
    Ok,
    /// Certainly did not take effect.
    Fail,
    /// May or may not have taken effect.
    Info,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEvent {
    /// Real (simulated) time.
    pub time: Time,
    /// Jepsen's process: a client gets a fresh one after an `info`, since its
    /// old operation may still be in flight.
    pub process: u64,
    pub kind: HistoryKind,
    pub request: ClientRequest,
    /// What an `ok` operation returned.
    pub outcome: Option<Outcome>,
}

#[derive(Clone, Debug)]
struct Pending {
    request: ClientRequest,
    invoked_at: Time,
}

#[derive(Clone, Debug)]
struct Client {
    process: u64,
    /// Where the next request goes: the last leader hint, else a guess.
    target: Option<NodeId>,
    pending: Option<Pending>,
    next_sequence: u64,
}

/// A completed operation, for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    pub kind: HistoryKind,
    pub is_write: bool,
    pub latency: Duration,
}

#[derive(Clone, Debug)]
pub struct Workload {
    options: WorkloadOptions,
    members: Vec<NodeId>,
    clients: Vec<Client>,
    history: Vec<HistoryEvent>,
    next_value: u64,
    rng: ChaCha8Rng,
}

impl Workload {
    pub fn new(options: WorkloadOptions, members: Vec<NodeId>, rng: ChaCha8Rng) -> Workload {
        let clients = (0..options.clients)
            .map(|index| Client {
                process: index as u64,
                target: None,
                pending: None,
                next_sequence: 0,
            })
            .collect();
        Workload {
            options,
            members,
            clients,
            history: Vec::new(),
            next_value: 0,
            rng,
        }
    }

    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    pub fn history(&self) -> &[HistoryEvent] {
        &self.history
    }

    pub fn options(&self) -> &WorkloadOptions {
        &self.options
    }

    pub fn think_time(&mut self) -> Duration {
        let mean = self.options.mean_think_time.as_micros().max(1) as f64;
        Duration::from_micros((-mean * (1.0 - self.rng.random::<f64>()).ln()) as u64)
    }

    /// Client `index` invokes its next operation, unless one is pending.
    /// Returns the node it goes to.
    pub fn invoke(&mut self, index: usize, now: Time) -> Option<(NodeId, ClientRequest)> {
        if self.clients[index].pending.is_some() {
            return None;
        }
        let operation = self.draw_operation();
        let guess = self.members[self.rng.random_range(0..self.members.len())];
        let client = &mut self.clients[index];
        client.next_sequence += 1;
        let request = ClientRequest {
            id: RequestId {
                client: index as u64,
                sequence: client.next_sequence,
            },
            operation,
        };
        let target = client.target.unwrap_or(guess);
        client.pending = Some(Pending {
            request: request.clone(),
            invoked_at: now,
        });
        self.history.push(HistoryEvent {
            time: now,
            process: client.process,
            kind: HistoryKind::Invoke,
            request: request.clone(),
            outcome: None,
        });
        Some((target, request))
    }

    fn draw_operation(&mut self) -> Operation {
        let key = format!("k{}", self.rng.random_range(0..self.options.keys.max(1)));
        match self.rng.random_range(0..10) {
            0..4 => Operation::Read { key },
            4..8 => {
                self.next_value += 1;
                Operation::Write {
                    key,
                    value: self.next_value,
                }
            }
            _ => {
                self.next_value += 1;
                let expected = self.rng.random_range(0..self.next_value);
                Operation::CompareAndSet {
                    key,
                    expected: (expected > 0).then_some(expected),
                    new: self.next_value,
                }
            }
        }
    }

    /// A reply reached its client. Stale replies (to an operation the client
    /// already gave up on) are ignored.
    pub fn complete(&mut self, reply: ClientReply, now: Time) -> Option<Completion> {
        let index = usize::try_from(reply.id.client).ok()?;
        let client = self.clients.get_mut(index)?;
        if client.pending.as_ref()?.request.id != reply.id {
            return None;
        }
        let pending = client.pending.take().expect("checked above");
        let (kind, outcome) = match &reply.result {
            Ok(Outcome::CompareAndSet { swapped: false }) => (HistoryKind::Fail, None),
            Ok(outcome) => (HistoryKind::Ok, Some(outcome.clone())),
            Err(error) if error.is_indefinite() => (HistoryKind::Info, None),
            Err(_) => (HistoryKind::Fail, None),
        };
        if let Err(ClientError::NotLeader { leader_hint }) = &reply.result {
            client.target = *leader_hint;
        }
        let completion = Completion {
            kind,
            is_write: !pending.request.operation.is_read(),
            latency: now.saturating_since(pending.invoked_at),
        };
        self.record_completion(index, pending.request, kind, outcome, now);
        Some(completion)
    }

    /// Client `index` gave up waiting for request `id`.
    pub fn time_out(&mut self, index: usize, id: RequestId, now: Time) -> bool {
        let client = &mut self.clients[index];
        if client
            .pending
            .as_ref()
            .is_none_or(|pending| pending.request.id != id)
        {
            return false;
        }
        let pending = client.pending.take().expect("checked above");
        client.target = None;
        self.record_completion(index, pending.request, HistoryKind::Info, None, now);
        true
    }

    fn record_completion(
        &mut self,
        index: usize,
        request: ClientRequest,
        kind: HistoryKind,
        outcome: Option<Outcome>,
        now: Time,
    ) {
        let client = &mut self.clients[index];
        self.history.push(HistoryEvent {
            time: now,
            process: client.process,
            kind,
            request,
            outcome,
        });
        if kind == HistoryKind::Info {
            client.process += self.options.clients as u64;
        }
    }
}

/// The recorded history in the checker's terms (Jepsen events, keyed).
pub fn jepsen_events(history: &[HistoryEvent]) -> Vec<crate::check::Event> {
    use crate::check::{Command, Event, EventKind};
    history
        .iter()
        .map(|event| {
            let mut command = Command::from(&event.request.operation);
            if let (Some(Outcome::Read(read)), true) = (&event.outcome, command.is_read()) {
                command = command.returning(*read);
            }
            let kind = match event.kind {
                HistoryKind::Invoke => EventKind::Invoke,
                HistoryKind::Ok => EventKind::Ok,
                HistoryKind::Fail => EventKind::Fail,
                HistoryKind::Info => EventKind::Info,
            };
            Event::new(event.process, kind, command)
        })
        .collect()
}
