//! An in-memory network between node threads of one process, for tests:
//! messages go straight into the receiver's mailbox. Links can be cut in
//! one direction or both, to partition the cluster.

use std::collections::{BTreeMap, BTreeSet};

use crate::core::node::NodeId;
use crate::core::raft::Message;
use crate::driver::mailbox::Mailbox;
use crate::driver::node::{NodeInput, Transport};
use crate::driver::sync::{lock, Arc, Mutex};

/// The nodes' inboxes and the links that are cut.
#[derive(Default)]
pub struct MemoryNetwork {
    inboxes: Mutex<BTreeMap<NodeId, Arc<Mailbox<NodeInput>>>>,
    /// `(from, to)` pairs whose messages are dropped.
    cut: Mutex<BTreeSet<(NodeId, NodeId)>>,
}

impl MemoryNetwork {
    pub fn new() -> Arc<MemoryNetwork> {
        Arc::new(MemoryNetwork::default())
    }

    /// Routes messages for `id` to `inbox` (replacing a previous one, as a
    /// restarted node does).
    pub fn attach(&self, id: NodeId, inbox: Arc<Mailbox<NodeInput>>) {
        lock(&self.inboxes).insert(id, inbox);
    }

    /// Messages to `id` are dropped until it attaches again.
    pub fn detach(&self, id: NodeId) {
        lock(&self.inboxes).remove(&id);
    }

    /// Drops messages from `from` to `to`.
    pub fn cut(&self, from: NodeId, to: NodeId) {
        lock(&self.cut).insert((from, to));
    }

    /// Cuts every link between `node` and the others, both ways.
    pub fn isolate(&self, node: NodeId, others: &[NodeId]) {
        for &other in others.iter().filter(|&&other| other != node) {
            self.cut(node, other);
            self.cut(other, node);
        }
    }

    pub fn heal(&self) {
        lock(&self.cut).clear();
    }

    /// The transport of node `from`.
    pub fn transport(network: &Arc<MemoryNetwork>, from: NodeId) -> MemoryTransport {
        MemoryTransport {
            from,
            network: network.clone(),
        }
    }

    fn deliver(&self, from: NodeId, to: NodeId, message: Message) {
        if lock(&self.cut).contains(&(from, to)) {
            return;
        }
        let inbox = lock(&self.inboxes).get(&to).cloned();
        if let Some(inbox) = inbox {
            // A full or closed inbox drops the message, as a network would.
            let _ = inbox.push(NodeInput::Peer { from, message });
        }
    }
}

pub struct MemoryTransport {
    from: NodeId,
    network: Arc<MemoryNetwork>,
}

impl Transport for MemoryTransport {
    fn send(&mut self, to: NodeId, message: Message) {
        self.network.deliver(self.from, to, message);
    }
}

/// Sends one client request straight into `inbox` and waits up to `timeout`
/// for its reply: an in-process client for tests.
pub fn request(
    inbox: &Mailbox<NodeInput>,
    request: crate::core::client::ClientRequest,
    timeout: std::time::Duration,
) -> Option<crate::core::client::ClientReply> {
    let reply_to = Arc::new(Mailbox::new(1));
    let id = request.id;
    inbox
        .push(NodeInput::Client {
            request,
            reply_to: reply_to.clone(),
        })
        .ok()?;
    let deadline = crate::driver::sync::Deadline::after(timeout);
    while let Some(left) = deadline.remaining() {
        match reply_to.recv_timeout(left) {
            crate::driver::mailbox::Received::Item(reply) if reply.id == id => return Some(reply),
            crate::driver::mailbox::Received::Item(_) => {}
            _ => return None,
        }
    }
    None
}
