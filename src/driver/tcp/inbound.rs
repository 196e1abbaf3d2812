//! Inbound connections: the listener thread accepts, and one thread per
//! connection reads frames and hands them to the node loop.
//!
//! The first frame says who is calling: a member of the cluster (its id in
//! the frame header, a Raft message in the body) or a client (sender 0, a
//! client request or a batch of them, which the node steps as one input
//! and answers request by request). The codec has already refused frames of another cluster.
//! From then on every frame must come from the same caller and be of the
//! kind it started with. Anything else — bytes that are not a frame, an
//! oversize frame, an unknown member, a change of identity — closes that
//! connection with a logged reason; the node itself never sees it.

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::codec::{write_frame, Codec, Frame, FrameReader, Payload};
use crate::core::node::NodeId;
use crate::driver::mailbox::{Mailbox, PushError, Received};
use crate::driver::metrics::registry::{Refusal, INBOX_FULL};
use crate::driver::metrics::NodeMetrics;
use crate::driver::node::NodeInput;
use crate::driver::sync::{lock, Arc, Mutex};
use crate::driver::tcp::partition::Partition;

/// Counts of what the listener saw, for tests and logs.
#[derive(Debug, Default)]
pub struct InboundCounters {
    pub accepted: AtomicU64,
    /// Connections closed because of what they sent.
    pub refused: AtomicU64,
    /// Inputs dropped because the node's inbox was full.
    pub dropped: AtomicU64,
}

/// What every connection thread shares.
struct Shared {
    me: NodeId,
    members: Vec<NodeId>,
    codec: Codec,
    inbox: Arc<Mailbox<NodeInput>>,
    counters: Arc<InboundCounters>,
    metrics: std::sync::Arc<NodeMetrics>,
    partition: Arc<Partition>,
    /// Replies one client connection queues before it drops more.
    reply_capacity: usize,
    stopping: AtomicBool,
    /// Open connections, so stopping can shut them down.
    open: Mutex<BTreeMap<u64, TcpStream>>,
}

/// The listener thread and its connections.
pub struct Listener {
    address: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Where the listener's inputs go and what it reports to.
pub struct Wiring {
    pub inbox: Arc<Mailbox<NodeInput>>,
    pub counters: Arc<InboundCounters>,
    pub metrics: std::sync::Arc<NodeMetrics>,
    pub partition: Arc<Partition>,
    /// Replies one client connection queues before it drops more.
    pub reply_capacity: usize,
}

impl Listener {
    pub fn start(
        listener: TcpListener,
        me: NodeId,
        members: Vec<NodeId>,
        codec: Codec,
        wiring: Wiring,
    ) -> std::io::Result<Listener> {
        let address = listener.local_addr()?;
        let Wiring {
            inbox,
            counters,
            metrics,
            partition,
            reply_capacity,
        } = wiring;
        let shared = Arc::new(Shared {
            me,
            members,
            codec,
            inbox,
            counters,
            metrics,
            partition,
            reply_capacity,
            stopping: AtomicBool::new(false),
            open: Mutex::new(BTreeMap::new()),
        });
        let accepting = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("node-{me}-accept"))
            .spawn(move || accept_loop(listener, accepting))?;
        Ok(Listener {
            address,
            shared,
            thread: Some(thread),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops accepting and shuts every open connection down.
    pub fn stop(mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocked accept with a connection of our own.
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_millis(200));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        for stream in lock(&self.shared.open).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut next_connection = 0u64;
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(node = shared.me, "accept failed: {error}");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        shared.counters.accepted.fetch_add(1, Ordering::Relaxed);
        next_connection += 1;
        let connection = next_connection;
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.open).insert(connection, clone);
        }
        let serving = shared.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("node-{}-conn-{connection}", shared.me))
            .spawn(move || {
                serve(stream, &serving);
                lock(&serving.open).remove(&connection);
            });
        if let Err(error) = spawned {
            tracing::warn!(node = shared.me, "cannot serve a connection: {error}");
            lock(&shared.open).remove(&connection);
        }
    }
}

/// Who is at the other end, once its first frame said so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Peer(NodeId),
    Client,
}

fn serve(stream: TcpStream, shared: &Shared) {
    let remote = stream
        .peer_addr()
        .map(|address| address.to_string())
        .unwrap_or_else(|_| "unknown".to_owned());
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = FrameReader::new(shared.codec, BufReader::new(read_half));
    let mut caller = None;
    let mut replies: Option<(Arc<Mailbox<_>>, JoinHandle<()>)> = None;
    let outcome = loop {
        let frame = match reader.read_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break Ok(()),
            Err(error) => break Err((Refusal::BadFrame, error.to_string())),
        };
        let who = match identify(shared, &frame) {
            Ok(who) => who,
            Err(reason) => break Err(reason),
        };
        if *caller.get_or_insert(who) != who {
            break Err((
                Refusal::UnknownSender,
                format!(
                    "a connection of {:?} sent a frame as {who:?}",
                    caller.unwrap_or(who)
                ),
            ));
        }
        let input = match (frame.payload, who) {
            (Payload::Raft(_), Caller::Peer(from)) if shared.partition.is_blocked(from) => continue,
            (Payload::Raft(message), Caller::Peer(from)) => NodeInput::Peer { from, message },
            (Payload::ClientRequest(request), Caller::Client) => {
                let (reply_to, _) =
                    replies.get_or_insert_with(|| start_reply_writer(&stream, shared));
                NodeInput::Client {
                    request,
                    reply_to: reply_to.clone(),
                }
            }
            (Payload::ClientBatch(requests), Caller::Client) => {
                let (reply_to, _) =
                    replies.get_or_insert_with(|| start_reply_writer(&stream, shared));
                NodeInput::ClientBatch {
                    requests,
                    reply_to: reply_to.clone(),
                }
            }
            (payload, _) => {
                break Err((
                    Refusal::UnexpectedFrame,
                    format!("a {:?} frame from {who:?}", payload.family()),
                ))
            }
        };
        match shared.inbox.push(input) {
            Ok(()) => {}
            Err(PushError::Full(_)) => {
                shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
                shared.metrics.drop_input(INBOX_FULL);
            }
            Err(PushError::Closed(_)) => break Ok(()),
        }
    };
    if let Err((refusal, reason)) = outcome {
        if !shared.stopping.load(Ordering::SeqCst) {
            shared.counters.refused.fetch_add(1, Ordering::Relaxed);
            shared.metrics.refuse_connection(refusal);
            tracing::warn!(node = shared.me, %remote, "closing connection: {reason}");
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    if let Some((reply_to, writer)) = replies {
        reply_to.close();
        let _ = writer.join();
    }
}

/// Checks that `frame` may come in on a connection at all.
fn identify(shared: &Shared, frame: &Frame) -> Result<Caller, (Refusal, String)> {
    match &frame.payload {
        Payload::Raft(_) => {
            if frame.sender == shared.me || !shared.members.contains(&frame.sender) {
                Err((
                    Refusal::UnknownSender,
                    format!("node {} is not a member", frame.sender),
                ))
            } else {
                Ok(Caller::Peer(frame.sender))
            }
        }
        Payload::ClientRequest(_) | Payload::ClientBatch(_) if frame.sender == 0 => {
            Ok(Caller::Client)
        }
        Payload::ClientRequest(_) | Payload::ClientBatch(_) => Err((
            Refusal::UnknownSender,
            format!("a client request claims to come from node {}", frame.sender),
        )),
        other => Err((
            Refusal::UnexpectedFrame,
            format!(
                "a {:?} frame is not accepted by a Raft node",
                other.family()
            ),
        )),
    }
}

/// A client connection's writer: replies queue in a mailbox the node loop
/// pushes to, and this thread writes them out.
fn start_reply_writer(
    stream: &TcpStream,
    shared: &Shared,
) -> (
    Arc<Mailbox<crate::core::client::ClientReply>>,
    JoinHandle<()>,
) {
    let (me, codec) = (shared.me, shared.codec);
    let replies = Arc::new(Mailbox::new(shared.reply_capacity));
    let queue = replies.clone();
    let stream = stream.try_clone();
    let thread = std::thread::spawn(move || {
        let Ok(stream) = stream else {
            queue.close();
            return;
        };
        let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
        let mut writer = BufWriter::new(stream);
        let mut buffer = Vec::new();
        loop {
            let reply = match queue.recv_timeout(Duration::from_secs(1)) {
                Received::Item(reply) => reply,
                Received::TimedOut => continue,
                Received::Closed => return,
            };
            let frame = Frame {
                sender: me,
                payload: Payload::ClientReply(reply),
            };
            let written = write_frame(&codec, &mut writer, &frame, &mut buffer)
                .map_err(|error| error.to_string())
                .and_then(|()| writer.flush().map_err(|error| error.to_string()));
            if written.is_err() {
                // The client is gone; stop taking replies for it.
                queue.close();
                return;
            }
        }
    });
    (replies, thread)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::core::client::{ClientReply, ClientRequest, Operation, Outcome, RequestId};

    fn write(sequence: u64) -> ClientRequest {
        ClientRequest {
            id: RequestId {
                client: 9,
                sequence,
            },
            operation: Operation::Write {
                key: "k".to_owned(),
                value: sequence,
            },
        }
    }

    /// A client's batch frame reaches the node loop as one batch input of
    /// its requests, in order, and the reply to each goes back on the
    /// client's connection.
    #[test]
    fn a_batch_frame_is_one_input_and_each_request_is_answered() {
        let codec = Codec::new(42);
        let inbox = Arc::new(Mailbox::new(16));
        let counters = Arc::new(InboundCounters::default());
        let wiring = Wiring {
            inbox: inbox.clone(),
            counters: counters.clone(),
            metrics: std::sync::Arc::new(NodeMetrics::new()),
            partition: Arc::new(Partition::default()),
            reply_capacity: 16,
        };
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let listener = Listener::start(socket, 1, vec![1, 2, 3], codec, wiring).unwrap();
        let mut stream = TcpStream::connect(listener.address()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let requests: Vec<ClientRequest> = (1..=3).map(write).collect();
        let frame = Frame {
            sender: 0,
            payload: Payload::ClientBatch(requests.clone()),
        };
        stream
            .write_all(&codec.encode_to_vec(&frame).unwrap())
            .unwrap();

        let Received::Item(NodeInput::ClientBatch {
            requests: handed,
            reply_to,
        }) = inbox.recv_timeout(Duration::from_secs(5))
        else {
            panic!("the batch frame did not reach the node as one batch input");
        };
        assert_eq!(handed, requests);
        for request in handed.iter().rev() {
            let reply = ClientReply {
                id: request.id,
                result: Ok(Outcome::Written),
            };
            assert!(reply_to.push(reply).is_ok());
        }
        let mut reader = FrameReader::new(codec, BufReader::new(stream.try_clone().unwrap()));
        let answered: Vec<RequestId> = (0..3)
            .map(|_| match reader.read_frame() {
                Ok(Some(Frame {
                    payload: Payload::ClientReply(reply),
                    ..
                })) => reply.id,
                other => panic!("not a reply: {other:?}"),
            })
            .collect();
        let expected: Vec<RequestId> = requests.iter().rev().map(|request| request.id).collect();
        assert_eq!(answered, expected);
        assert_eq!(counters.refused.load(Ordering::Relaxed), 0);
        listener.stop();
    }
}
