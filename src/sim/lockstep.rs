//! A Raft cluster that delivers every message at once and in order, with no
//! faults, no clock and no monitors: the least a cluster needs, so that
//! benches and allocation counts measure the core and nothing else.
//!
//! Storage is the in-memory [`DurableState`], made durable before the
//! step's messages are queued, as the core's contract asks. Time stands
//! still, so no timer fires: the cluster only moves when told to campaign
//! or handed client requests.

use std::collections::VecDeque;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::codec::PeerMessage;
use crate::core::client::{ClientReply, ClientRequest, Operation, RequestId};
use crate::core::node::{Input, Node, NodeId, Role};
use crate::core::raft::{Config, ConfigError, DurableState, Message, RaftNode};
use crate::core::time::Time;
use crate::harness::algorithm::Raft;
use crate::harness::apply::{Outputs, Stepper};
use crate::harness::slot::Slot;

pub struct Lockstep {
    slots: Vec<Slot<Raft>>,
    stepper: Stepper<RaftNode>,
    in_flight: VecDeque<(NodeId, NodeId, Message)>,
    replies: Vec<ClientReply>,
    rng: ChaCha8Rng,
    now: Time,
    delivered: u64,
    /// Wire bytes of the delivered messages, when counting
    /// ([`Lockstep::count_bytes`]); the scratch buffer they are encoded in.
    bytes: Option<(u64, Vec<u8>)>,
}

/// Where one node's step output goes: messages to the back of the queue,
/// replies to the list the caller takes.
struct Queue<'a> {
    from: NodeId,
    in_flight: &'a mut VecDeque<(NodeId, NodeId, Message)>,
    replies: &'a mut Vec<ClientReply>,
}

impl Outputs<Message> for Queue<'_> {
    fn send(&mut self, to: NodeId, message: Message) {
        self.in_flight.push_back((self.from, to, message));
    }

    fn reply(&mut self, reply: ClientReply) {
        self.replies.push(reply);
    }
}

impl Lockstep {
    /// Nodes `1..=size`, all followers at term 0.
    pub fn new(size: u64, config: Config, seed: u64) -> Result<Lockstep, ConfigError> {
        let members: Vec<NodeId> = (1..=size).collect();
        for &id in &members {
            config.validate(id, &members)?;
        }
        let algorithm = Raft { config };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let now = Time::ZERO;
        let slots = members
            .iter()
            .map(|&id| Slot::start(&algorithm, id, &members, Default::default(), now, &mut rng))
            .collect();
        Ok(Lockstep {
            slots,
            stepper: Stepper::default(),
            in_flight: VecDeque::new(),
            replies: Vec::new(),
            rng,
            now,
            delivered: 0,
            bytes: None,
        })
    }

    /// From now on, also count the wire bytes of every delivered message
    /// (each encoded once by the codec; benches leave this off).
    pub fn count_bytes(&mut self) {
        self.bytes.get_or_insert_with(|| (0, Vec::new()));
    }

    /// Wire bytes delivered since [`Lockstep::count_bytes`] (0 if never).
    pub fn delivered_bytes(&self) -> u64 {
        self.bytes.as_ref().map_or(0, |(bytes, _)| *bytes)
    }

    pub fn node(&self, id: NodeId) -> &RaftNode {
        self.slots[index(id)]
            .node
            .as_ref()
            .expect("no node of a lockstep cluster crashes")
    }

    pub fn durable(&self, id: NodeId) -> &DurableState {
        &self.slots[index(id)].durable
    }

    /// Messages delivered so far.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// `id` campaigns and the cluster runs until quiet; returns whether `id`
    /// then leads and has committed an entry of its term (so it serves).
    pub fn elect(&mut self, id: NodeId) -> bool {
        self.step(id, Input::Campaign);
        self.run();
        let node = self.node(id);
        node.role() == Role::Leader && node.commit_index() > 0
    }

    /// Hands `request` to node `id`; call [`Lockstep::run`] to let it commit.
    pub fn submit(&mut self, id: NodeId, request: ClientRequest) {
        self.step(id, Input::Client(request));
    }

    /// Hands `requests` to node `id` as one input ([`Input::ClientBatch`]);
    /// call [`Lockstep::run`] to let them commit.
    pub fn submit_batch(&mut self, id: NodeId, requests: Vec<ClientRequest>) {
        self.step(id, Input::ClientBatch(requests));
    }

    /// Delivers messages until none is in flight.
    pub fn run(&mut self) {
        while let Some((from, to, message)) = self.in_flight.pop_front() {
            self.delivered += 1;
            if let Some((bytes, scratch)) = &mut self.bytes {
                *bytes += message.frame_len(scratch) as u64;
            }
            self.step(to, Input::Message { from, message });
        }
    }

    /// The client replies produced so far, oldest first.
    pub fn take_replies(&mut self) -> std::vec::Drain<'_, ClientReply> {
        self.replies.drain(..)
    }

    fn step(&mut self, id: NodeId, input: Input<Message>) {
        let mut queue = Queue {
            from: id,
            in_flight: &mut self.in_flight,
            replies: &mut self.replies,
        };
        self.slots[index(id)].step(
            &mut self.stepper,
            self.now,
            &mut self.rng,
            input,
            &mut queue,
        );
    }
}

/// The write the benches and cost counts submit: client 0's request
/// `sequence`, setting key `k` to `sequence`.
pub fn write_request(sequence: u64) -> ClientRequest {
    ClientRequest {
        id: RequestId {
            client: 0,
            sequence,
        },
        operation: Operation::Write {
            key: "k".to_owned(),
            value: sequence,
        },
    }
}

fn index(id: NodeId) -> usize {
    (id - 1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::client::Outcome;

    #[test]
    fn a_leader_is_elected_and_commits_writes_on_every_node() {
        let mut cluster = Lockstep::new(3, Config::default(), 1).unwrap();
        assert!(cluster.elect(1));
        for sequence in 0..100 {
            cluster.submit(1, write_request(sequence));
        }
        cluster.run();
        let replies: Vec<ClientReply> = cluster.take_replies().collect();
        assert_eq!(replies.len(), 100);
        assert!(replies
            .iter()
            .all(|reply| reply.result == Ok(Outcome::Written)));
        // 100 writes and the leader's no-op, durable on the leader, and
        // on every follower (they learn the commit on the next append).
        for id in 1..=3 {
            assert_eq!(cluster.durable(id).log.len(), 101, "node {id}");
        }
        assert_eq!(cluster.node(1).commit_index(), 101);
    }

    #[test]
    fn one_write_costs_an_append_and_a_response_per_follower() {
        let mut cluster = Lockstep::new(5, Config::default(), 1).unwrap();
        assert!(cluster.elect(1));
        cluster.count_bytes();
        let before = cluster.delivered();
        cluster.submit(1, write_request(0));
        cluster.run();
        assert_eq!(cluster.delivered() - before, 8);
        // Four appends of one entry and four responses, each a 30-byte
        // header and a body of a few bytes.
        let bytes = cluster.delivered_bytes();
        assert!((8 * 32..8 * 45).contains(&bytes), "{bytes} bytes");
    }
}
