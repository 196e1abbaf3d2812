//! Outbound links: one thread per peer that dials it, reconnects with
//! exponential back-off, and writes the node's messages to it as frames.
//!
//! Each link has a bounded queue. While the peer is unreachable, what
//! queued is discarded (a network loses messages to a dead host; Raft
//! retransmits), so a dead or slow peer costs at most `LINK_CAPACITY`
//! messages of memory and never blocks the node loop.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::codec::{write_frame, Codec, Frame, Payload};
use crate::core::node::NodeId;
use crate::core::raft::Message;
use crate::driver::mailbox::{Mailbox, Received};
use crate::driver::node::Transport;
use crate::driver::sync::Arc;
use crate::driver::tcp::partition::Partition;

/// Messages queued for one peer before further ones are dropped.
pub const LINK_CAPACITY: usize = 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);
/// A peer that stops reading for this long is disconnected.
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);
const MIN_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// The node's side of every outbound link; the node loop's [`Transport`].
pub struct TcpTransport {
    links: BTreeMap<NodeId, Arc<Mailbox<Message>>>,
    partition: Arc<Partition>,
}

impl Transport for TcpTransport {
    fn send(&mut self, to: NodeId, message: Message) {
        if self.partition.is_blocked(to) {
            return;
        }
        if let Some(queue) = self.links.get(&to) {
            if queue.push(message).is_err() {
                tracing::debug!(to, "link queue full, message dropped");
            }
        }
    }
}

/// The links' threads, to stop them.
pub struct Links {
    queues: Vec<Arc<Mailbox<Message>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Links {
    /// Starts one link per peer (every entry of `peers` but `me`).
    pub fn start(
        me: NodeId,
        codec: Codec,
        peers: &BTreeMap<NodeId, SocketAddr>,
        partition: Arc<Partition>,
    ) -> std::io::Result<(TcpTransport, Links)> {
        let mut transport = TcpTransport {
            links: BTreeMap::new(),
            partition,
        };
        let mut links = Links {
            queues: Vec::new(),
            threads: Vec::new(),
        };
        for (&peer, &address) in peers.iter().filter(|(&peer, _)| peer != me) {
            let queue = Arc::new(Mailbox::new(LINK_CAPACITY));
            let link = Link {
                me,
                peer,
                address,
                codec,
                queue: queue.clone(),
            };
            let thread = std::thread::Builder::new()
                .name(format!("node-{me}-to-{peer}"))
                .spawn(move || link.run())?;
            transport.links.insert(peer, queue.clone());
            links.queues.push(queue);
            links.threads.push(thread);
        }
        Ok((transport, links))
    }

    pub fn stop(self) {
        for queue in &self.queues {
            queue.close();
        }
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

struct Link {
    me: NodeId,
    peer: NodeId,
    address: SocketAddr,
    codec: Codec,
    queue: Arc<Mailbox<Message>>,
}

impl Link {
    fn run(self) {
        let mut backoff = MIN_BACKOFF;
        loop {
            // Dial only when there is something to say.
            let first = match self.queue.recv_timeout(Duration::from_secs(1)) {
                Received::Item(message) => message,
                Received::TimedOut => continue,
                Received::Closed => return,
            };
            match self.connect() {
                Ok(stream) => {
                    backoff = MIN_BACKOFF;
                    tracing::debug!(node = self.me, peer = self.peer, "connected");
                    if !self.write_until_error(stream, first) {
                        return;
                    }
                }
                Err(error) => {
                    tracing::debug!(
                        node = self.me,
                        peer = self.peer,
                        retry_in = ?backoff,
                        "cannot connect: {error}"
                    );
                    if !self.discard_for(backoff) {
                        return;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    fn connect(&self) -> std::io::Result<TcpStream> {
        let stream = TcpStream::connect_timeout(&self.address, CONNECT_TIMEOUT)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
        Ok(stream)
    }

    /// Writes `first` and then whatever queues, until the connection fails
    /// (returns `true`: reconnect) or the link is closed (`false`).
    fn write_until_error(&self, stream: TcpStream, first: Message) -> bool {
        let mut writer = BufWriter::new(stream);
        let mut buffer = Vec::new();
        let mut next = Some(first);
        loop {
            let message = match next.take() {
                Some(message) => message,
                None => match self.queue.recv_timeout(Duration::from_secs(1)) {
                    Received::Item(message) => message,
                    Received::TimedOut => continue,
                    Received::Closed => return false,
                },
            };
            let frame = Frame {
                sender: self.me,
                payload: Payload::Raft(message),
            };
            let written = write_frame(&self.codec, &mut writer, &frame, &mut buffer)
                .map_err(|error| error.to_string())
                .and_then(|()| {
                    // Flush once the queue is empty: a burst goes out in
                    // few segments, a lone message goes out at once.
                    if self.queue.is_empty() {
                        writer.flush().map_err(|error| error.to_string())
                    } else {
                        Ok(())
                    }
                });
            if let Err(error) = written {
                tracing::debug!(node = self.me, peer = self.peer, "link lost: {error}");
                return true;
            }
        }
    }

    /// Waits out a back-off, discarding what queues meanwhile. `false` if
    /// the link was closed.
    fn discard_for(&self, backoff: Duration) -> bool {
        let deadline = std::time::Instant::now() + backoff;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return true;
            }
            match self.queue.recv_timeout(left) {
                Received::Item(_) => {}
                Received::TimedOut => return true,
                Received::Closed => return false,
            }
        }
    }
}
