//! The client library: read, write and compare-and-set against a cluster
//! over TCP, with a deadline per operation, following leader hints and
//! retrying where that is safe.
//!
//! Retrying is only safe while the operation certainly has not taken
//! effect: a `NotLeader` or `TransferInProgress` reply, or a node that could
//! not be reached at all. Once a write or compare-and-set may have reached a
//! leader (the connection broke while waiting, the deadline passed, or the
//! leader answered `LeadershipLost`), its outcome is unknown, and the call
//! returns [`CallError::Indefinite`] instead of sending it again: a second
//! copy could take effect after later operations and break linearizability.
//! Reads have no effect, so they are retried on any failure.
//!
//! [`recorder::Recorder`] turns calls into a Jepsen-style history.

pub mod recorder;

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::codec::{write_frame, Codec, Frame, FrameReader, Payload};
use crate::core::client::{ClientError, ClientRequest, Operation, Outcome, RequestId};
use crate::core::node::NodeId;

const CONNECT_TIMEOUT: Duration = Duration::from_millis(100);
/// How long to wait before asking again when no node knows a leader.
const NO_LEADER_BACKOFF: Duration = Duration::from_millis(10);

/// An operation that completed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completed {
    pub outcome: Outcome,
    /// The node that answered: for a write, the leader that committed it.
    pub by: NodeId,
}

/// Why an operation did not complete.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// It certainly did not take effect (Jepsen's `fail`).
    #[error("failed: {0}")]
    Failed(String),
    /// It may or may not take effect (Jepsen's `info`).
    #[error("outcome unknown: {0}")]
    Indefinite(String),
}

impl CallError {
    pub fn is_indefinite(&self) -> bool {
        matches!(self, CallError::Indefinite(_))
    }
}

/// A connection to one node.
struct Connection {
    reader: FrameReader<BufReader<TcpStream>>,
    writer: BufWriter<TcpStream>,
}

/// A client of one cluster. Not shared between threads: give each thread
/// its own, with its own `client_id`.
pub struct Client {
    codec: Codec,
    nodes: BTreeMap<NodeId, SocketAddr>,
    connections: BTreeMap<NodeId, Connection>,
    /// Who answered last, or the last leader hint.
    leader: Option<NodeId>,
    /// Round-robin position when no leader is known.
    next_guess: usize,
    client_id: u64,
    sequence: u64,
    timeout: Duration,
    buffer: Vec<u8>,
}

impl Client {
    /// A client with id `client_id` (unique among the cluster's clients; it
    /// is half of every request id) and a deadline of `timeout` per call.
    pub fn new(
        cluster_id: u64,
        nodes: BTreeMap<NodeId, SocketAddr>,
        client_id: u64,
        timeout: Duration,
    ) -> Client {
        Client {
            codec: Codec::new(cluster_id),
            nodes,
            connections: BTreeMap::new(),
            leader: None,
            next_guess: 0,
            client_id,
            sequence: 0,
            timeout,
            buffer: Vec::new(),
        }
    }

    pub fn write(&mut self, key: &str, value: u64) -> Result<Completed, CallError> {
        self.call(Operation::Write {
            key: key.to_owned(),
            value,
        })
    }

    pub fn read(&mut self, key: &str) -> Result<Completed, CallError> {
        self.call(Operation::Read {
            key: key.to_owned(),
        })
    }

    pub fn compare_and_set(
        &mut self,
        key: &str,
        expected: Option<u64>,
        new: u64,
    ) -> Result<Completed, CallError> {
        self.call(Operation::CompareAndSet {
            key: key.to_owned(),
            expected,
            new,
        })
    }

    /// The node this client believes leads.
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// Runs `operation` until it completes, certainly fails, may have taken
    /// effect, or the deadline passes.
    pub fn call(&mut self, operation: Operation) -> Result<Completed, CallError> {
        let deadline = Instant::now() + self.timeout;
        let mut last_problem = String::from("no node answered");
        loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return Err(CallError::Failed(format!("timed out: {last_problem}")));
            };
            let target = self.target();
            self.sequence += 1;
            let request = ClientRequest {
                id: RequestId {
                    client: self.client_id,
                    sequence: self.sequence,
                },
                operation: operation.clone(),
            };
            if let Err(problem) = self.send(target, &request) {
                // Not sent (or not fully): a node that could not be reached
                // took no request from us.
                self.forget(target);
                last_problem = problem;
                std::thread::sleep(NO_LEADER_BACKOFF.min(left));
                continue;
            }
            match self.await_reply(target, request.id, left) {
                Ok(Ok(outcome)) => {
                    self.leader = Some(target);
                    return Ok(Completed {
                        outcome,
                        by: target,
                    });
                }
                Ok(Err(ClientError::NotLeader { leader_hint })) => {
                    last_problem = format!("node {target} is not the leader");
                    self.leader = leader_hint.filter(|&hint| hint != target);
                    if self.leader.is_none() {
                        std::thread::sleep(NO_LEADER_BACKOFF.min(left));
                    }
                }
                Ok(Err(ClientError::TransferInProgress)) => {
                    last_problem = format!("node {target} is transferring leadership");
                    std::thread::sleep(NO_LEADER_BACKOFF.min(left));
                }
                Ok(Err(error @ ClientError::LeadershipLost)) => {
                    self.leader = None;
                    if operation.is_read() {
                        last_problem = error.to_string();
                        continue;
                    }
                    return Err(CallError::Indefinite(format!("node {target}: {error}")));
                }
                Err(problem) => {
                    self.forget(target);
                    if operation.is_read() {
                        last_problem = problem;
                        continue;
                    }
                    return Err(CallError::Indefinite(format!("node {target}: {problem}")));
                }
            }
        }
    }

    /// The known leader, or the next node in turn.
    fn target(&mut self) -> NodeId {
        if let Some(leader) = self.leader.filter(|leader| self.nodes.contains_key(leader)) {
            return leader;
        }
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        self.next_guess = (self.next_guess + 1) % ids.len().max(1);
        ids.get(self.next_guess).copied().unwrap_or(0)
    }

    fn forget(&mut self, node: NodeId) {
        self.connections.remove(&node);
        if self.leader == Some(node) {
            self.leader = None;
        }
    }

    fn send(&mut self, target: NodeId, request: &ClientRequest) -> Result<(), String> {
        if !self.connections.contains_key(&target) {
            let connection = self.connect(target)?;
            self.connections.insert(target, connection);
        }
        let Some(connection) = self.connections.get_mut(&target) else {
            return Err(format!("no connection to node {target}"));
        };
        let frame = Frame {
            sender: 0,
            payload: Payload::ClientRequest(request.clone()),
        };
        write_frame(
            &self.codec,
            &mut connection.writer,
            &frame,
            &mut self.buffer,
        )
        .map_err(|error| error.to_string())?;
        connection
            .writer
            .flush()
            .map_err(|error| format!("sending to node {target}: {error}"))
    }

    fn connect(&self, target: NodeId) -> Result<Connection, String> {
        let address = self
            .nodes
            .get(&target)
            .ok_or_else(|| format!("node {target} has no address"))?;
        let stream = TcpStream::connect_timeout(address, CONNECT_TIMEOUT)
            .map_err(|error| format!("connecting to node {target}: {error}"))?;
        stream
            .set_nodelay(true)
            .map_err(|error| error.to_string())?;
        let read_half = stream.try_clone().map_err(|error| error.to_string())?;
        Ok(Connection {
            reader: FrameReader::new(self.codec, BufReader::new(read_half)),
            writer: BufWriter::new(stream),
        })
    }

    /// Reads replies from `target` until the one for `id` (an earlier
    /// call's late reply is skipped) or until `left` runs out.
    fn await_reply(
        &mut self,
        target: NodeId,
        id: RequestId,
        left: Duration,
    ) -> Result<Result<Outcome, ClientError>, String> {
        let deadline = Instant::now() + left;
        let Some(connection) = self.connections.get_mut(&target) else {
            return Err(format!("no connection to node {target}"));
        };
        loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return Err(format!("no reply from node {target} in time"));
            };
            connection
                .reader
                .get_ref()
                .get_ref()
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .map_err(|error| error.to_string())?;
            match connection.reader.read_frame() {
                Ok(Some(Frame {
                    payload: Payload::ClientReply(reply),
                    ..
                })) if reply.id == id => return Ok(reply.result),
                Ok(Some(_)) => continue,
                Ok(None) => return Err(format!("node {target} closed the connection")),
                Err(error) => return Err(format!("waiting for node {target}: {error}")),
            }
        }
    }
}
