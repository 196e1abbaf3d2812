//! The model's network: the messages in flight, as a canonical value so that
//! two states that differ only in the order messages were sent hash the same.
//!
//! Unordered, it is a multiset of envelopes: any one may be delivered next,
//! lost (if lossy) or duplicated (if duplicating). Ordered, it is one FIFO
//! queue per directed link: only a queue's head may be delivered, though any
//! message may be lost (if lossy).

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::fast::FixedState;

use crate::core::node::NodeId;
use crate::core::raft::Message;

/// A message on the wire (a Raft message unless said otherwise).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Envelope<M = Message> {
    pub from: NodeId,
    pub to: NodeId,
    pub message: M,
}

impl<M: fmt::Display> fmt::Display for Envelope<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}->{} {}", self.from, self.to, self.message)
    }
}

/// How many copies of one envelope an unordered network holds at most:
/// delivering the same message a third time shows nothing a second did not.
pub const MAX_COPIES: u8 = 2;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Network<M = Message> {
    /// Each envelope with its number of copies (at least 1).
    Unordered(BTreeMap<Envelope<M>, u8>),
    /// Each link's queue, oldest first. Invariant: no queue is empty.
    Ordered(BTreeMap<(NodeId, NodeId), VecDeque<M>>),
}

impl<M: Clone + Ord> Network<M> {
    pub fn new(ordered: bool) -> Network<M> {
        if ordered {
            Network::Ordered(BTreeMap::new())
        } else {
            Network::Unordered(BTreeMap::new())
        }
    }

    /// How many messages are in flight, counting copies.
    pub fn len(&self) -> usize {
        match self {
            Network::Unordered(envelopes) => {
                envelopes.values().map(|&copies| usize::from(copies)).sum()
            }
            Network::Ordered(links) => links.values().map(VecDeque::len).sum(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn send(&mut self, envelope: Envelope<M>) {
        match self {
            Network::Unordered(envelopes) => {
                // A resend of a message still in flight is a second copy.
                let copies = envelopes.entry(envelope).or_insert(0);
                *copies = copies.saturating_add(1);
            }
            Network::Ordered(links) => links
                .entry((envelope.from, envelope.to))
                .or_default()
                .push_back(envelope.message),
        }
    }

    /// Drops every message to `id`: a node down for good never reads one.
    pub fn discard_to(&mut self, id: NodeId) {
        match self {
            Network::Unordered(envelopes) => envelopes.retain(|envelope, _| envelope.to != id),
            Network::Ordered(links) => links.retain(|&(_, to), _| to != id),
        }
    }

    /// The envelopes that may be delivered next, each once.
    pub fn deliverable(&self) -> Vec<Envelope<M>> {
        match self {
            Network::Unordered(envelopes) => envelopes.keys().cloned().collect(),
            Network::Ordered(links) => links
                .iter()
                .map(|(&(from, to), queue)| Envelope {
                    from,
                    to,
                    message: queue.front().expect("queues are never empty").clone(),
                })
                .collect(),
        }
    }

    /// Every distinct envelope in flight, each once (what may be lost).
    pub fn distinct(&self) -> Vec<Envelope<M>> {
        match self {
            Network::Unordered(envelopes) => envelopes.keys().cloned().collect(),
            Network::Ordered(links) => {
                let mut distinct: Vec<Envelope<M>> = links
                    .iter()
                    .flat_map(|(&(from, to), queue)| {
                        queue.iter().map(move |message| Envelope {
                            from,
                            to,
                            message: message.clone(),
                        })
                    })
                    .collect();
                distinct.sort();
                distinct.dedup();
                distinct
            }
        }
    }

    /// Whether another copy of `envelope` may be added by duplication.
    pub fn can_duplicate(&self, envelope: &Envelope<M>) -> bool {
        match self {
            Network::Unordered(envelopes) => envelopes
                .get(envelope)
                .is_some_and(|&copies| copies < MAX_COPIES),
            Network::Ordered(_) => false,
        }
    }

    /// Removes one copy of `envelope` (the oldest, on an ordered link).
    /// Panics if it is not in flight: the model only removes what it listed.
    pub fn remove(&mut self, envelope: &Envelope<M>) {
        match self {
            Network::Unordered(envelopes) => {
                let copies = envelopes
                    .get_mut(envelope)
                    .expect("removed envelope is in flight");
                *copies -= 1;
                if *copies == 0 {
                    envelopes.remove(envelope);
                }
            }
            Network::Ordered(links) => {
                let link = (envelope.from, envelope.to);
                let queue = links.get_mut(&link).expect("removed envelope is in flight");
                let position = queue
                    .iter()
                    .position(|message| *message == envelope.message)
                    .expect("removed envelope is in flight");
                queue.remove(position);
                if queue.is_empty() {
                    links.remove(&link);
                }
            }
        }
    }
}

impl<M: Clone + Ord + Hash> Network<M> {
    /// The same messages between the same nodes, with every node id `id`
    /// replaced by `rename(id)` (a permutation of the members).
    pub fn relabeled(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Network<M> {
        match self {
            Network::Unordered(envelopes) => Network::Unordered(
                envelopes
                    .iter()
                    .map(|(envelope, &copies)| {
                        let renamed = Envelope {
                            from: rename(envelope.from),
                            to: rename(envelope.to),
                            message: envelope.message.clone(),
                        };
                        (renamed, copies)
                    })
                    .collect(),
            ),
            Network::Ordered(links) => Network::Ordered(
                links
                    .iter()
                    .map(|(&(from, to), queue)| ((rename(from), rename(to)), queue.clone()))
                    .collect(),
            ),
        }
    }

    /// Feeds `state` what is in flight to and from node `id`, without the
    /// ids of the nodes at the other end: the same for `id` here and for
    /// `rename(id)` in the renamed network.
    pub fn hash_anonymous_of<H: Hasher>(&self, id: NodeId, state: &mut H) {
        let hasher = FixedState::with_seed(0);
        let (mut incoming, mut outgoing): (Vec<u64>, Vec<u64>) = (Vec::new(), Vec::new());
        match self {
            Network::Unordered(envelopes) => {
                for (envelope, copies) in envelopes {
                    let hash = hasher.hash_one((&envelope.message, copies));
                    if envelope.to == id {
                        incoming.push(hash);
                    }
                    if envelope.from == id {
                        outgoing.push(hash);
                    }
                }
            }
            Network::Ordered(links) => {
                for (&(from, to), queue) in links {
                    let hash = hasher.hash_one(queue);
                    if to == id {
                        incoming.push(hash);
                    }
                    if from == id {
                        outgoing.push(hash);
                    }
                }
            }
        }
        incoming.sort_unstable();
        outgoing.sort_unstable();
        incoming.hash(state);
        outgoing.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::raft::{Body, HeartbeatResponse, Round, Term};

    fn envelope(from: NodeId, to: NodeId, round: u64) -> Envelope {
        Envelope {
            from,
            to,
            message: Message {
                term: Term::new(1),
                body: Body::HeartbeatResponse(HeartbeatResponse {
                    round: Round::new(round),
                }),
            },
        }
    }

    #[test]
    fn unordered_network_is_canonical_whatever_the_send_order() {
        let mut first = Network::new(false);
        let mut second = Network::new(false);
        first.send(envelope(1, 2, 1));
        first.send(envelope(2, 1, 1));
        second.send(envelope(2, 1, 1));
        second.send(envelope(1, 2, 1));
        assert_eq!(first, second);
    }

    #[test]
    fn unordered_network_counts_copies() {
        let mut network = Network::new(false);
        network.send(envelope(1, 2, 1));
        assert!(network.can_duplicate(&envelope(1, 2, 1)));
        network.send(envelope(1, 2, 1));
        assert!(!network.can_duplicate(&envelope(1, 2, 1)));
        assert_eq!(network.len(), 2);
        network.remove(&envelope(1, 2, 1));
        network.remove(&envelope(1, 2, 1));
        assert!(network.is_empty());
    }

    #[test]
    fn ordered_network_delivers_heads_only_but_loses_anything() {
        let mut network = Network::new(true);
        network.send(envelope(1, 2, 1));
        network.send(envelope(1, 2, 2));
        network.send(envelope(2, 1, 3));
        assert_eq!(
            network.deliverable(),
            vec![envelope(1, 2, 1), envelope(2, 1, 3)]
        );
        assert_eq!(network.distinct().len(), 3);
        network.remove(&envelope(1, 2, 2));
        assert_eq!(network.len(), 2);
        assert!(!network.can_duplicate(&envelope(1, 2, 1)));
    }
}
