//! A node on TCP: the node loop, a listener for peers and clients, and one
//! outbound link per peer, all speaking the codec's frames.
//!
//! Connection setup is checked on both ends: every frame carries the
//! cluster id (a frame of another cluster fails to decode) and its sender,
//! which must be a member other than this node; see [`inbound`] for what
//! closes a connection.

pub mod inbound;
pub mod outbound;
pub mod partition;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};

use crate::codec::Codec;
use crate::core::node::NodeId;
use crate::driver::mailbox::Mailbox;
use crate::driver::node::{spawn_node, DriverError, NodeHandle, NodeSettings};
use crate::driver::sync::Arc;
use crate::driver::tuning::Limits;
use inbound::{InboundCounters, Listener, Wiring};
use outbound::Links;
use partition::Partition;

/// Where every member listens, and the cluster's id.
#[derive(Clone, Debug)]
pub struct TcpCluster {
    pub cluster_id: u64,
    pub addresses: BTreeMap<NodeId, SocketAddr>,
}

/// A running node with its network threads.
pub struct TcpNode {
    pub node: NodeHandle,
    pub inbound: Arc<InboundCounters>,
    /// The peers this node is cut off from (none unless asked).
    pub partition: Arc<Partition>,
    listener: Listener,
    links: Links,
}

impl TcpNode {
    /// Starts node `settings.id` on `listener` (already bound, so a caller
    /// can pick port 0 and learn the port before the peers start).
    pub fn start(
        settings: NodeSettings,
        listener: TcpListener,
        cluster: &TcpCluster,
    ) -> Result<TcpNode, DriverError> {
        TcpNode::start_with(settings, listener, cluster, Limits::default())
    }

    /// [`TcpNode::start`] with the queue bounds of `limits`.
    pub fn start_with(
        settings: NodeSettings,
        listener: TcpListener,
        cluster: &TcpCluster,
        limits: Limits,
    ) -> Result<TcpNode, DriverError> {
        let id = settings.id;
        let members = settings.members.clone();
        let codec = Codec::new(cluster.cluster_id);
        let thread_error = |source| DriverError::Thread { id, source };
        let inbox = Arc::new(Mailbox::new(limits.inbox_capacity));
        let partition = Arc::new(Partition::default());
        let (transport, links) =
            Links::start(id, codec, &cluster.addresses, partition.clone()).map_err(thread_error)?;
        let node = match spawn_node(settings, inbox.clone(), transport) {
            Ok(node) => node,
            Err(error) => {
                links.stop();
                return Err(error);
            }
        };
        let inbound = Arc::new(InboundCounters::default());
        let wiring = Wiring {
            inbox,
            counters: inbound.clone(),
            metrics: node.metrics.clone(),
            partition: partition.clone(),
            reply_capacity: limits.reply_capacity,
        };
        let listener =
            Listener::start(listener, id, members, codec, wiring).map_err(thread_error)?;
        Ok(TcpNode {
            node,
            inbound,
            partition,
            listener,
            links,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.address()
    }

    /// Stops listening, stops the loop, then the links.
    pub fn stop(self) -> Result<(), DriverError> {
        self.listener.stop();
        let stopped = self.node.stop();
        self.links.stop();
        stopped
    }
}
