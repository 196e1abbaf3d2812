//! The interface every algorithm variant implements, so the simulator, the
//! model checker, the threaded driver and the benches drive Raft, Bully and
//! Ring the same way.

use std::fmt;

use rand::RngCore;

use crate::core::client::{ClientError, ClientReply, ClientRequest, Outcome, RequestId};
use crate::core::time::Time;

/// A cluster member. Ids are small positive integers chosen by the operator.
pub type NodeId = u64;

/// The role a node plays. Bully and Ring use the subset that applies to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Follower,
    /// Raft PreVote: probing whether an election could be won, without
    /// bumping the term.
    PreCandidate,
    Candidate,
    Leader,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Role::Follower => "follower",
            Role::PreCandidate => "pre-candidate",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        };
        f.write_str(name)
    }
}

/// The one input of a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input<M> {
    /// Local time has advanced to the step's `now`: fire whatever timers are
    /// due (election timeout, heartbeat, CheckQuorum). Callers tick at
    /// [`Node::next_deadline`], but any tick is harmless.
    Tick,
    /// A message from a peer.
    Message { from: NodeId, message: M },
    /// A client operation.
    Client(ClientRequest),
    /// Many client operations handed over at once (the requests a driver
    /// found waiting, a client's batch of writes). Each is handled as its
    /// own [`Input::Client`] would be, in order, within one step; each gets
    /// its own reply. A Raft leader sends the writes among them to each
    /// follower together, in as few appends as flow control allows.
    ClientBatch(Vec<ClientRequest>),
    /// An operator asks this node, if it leads, to hand leadership to `to`.
    TransferLeadership { to: NodeId },
    /// An operator asks this node to start an election now, as if its
    /// election timeout had fired (etcd's `Campaign`, raft-rs's `campaign`).
    /// A leader ignores it.
    Campaign,
    /// An operator asks this node to snapshot its state machine now and
    /// compact its log through the applied index (etcd's and raft-rs's
    /// manual snapshot). A node with nothing applied since its last
    /// snapshot has nothing to do; a protocol that keeps no log drops it
    /// ([`DropReason::NoSnapshots`]).
    Snapshot,
}

impl<M> Input<M> {
    /// The client requests this input hands over, in order: the one of an
    /// [`Input::Client`], each of an [`Input::ClientBatch`], none for any
    /// other input. This is the one expansion of a batch: a node handles
    /// each request it yields as it handles a single request, within the
    /// same step, so a batch and its requests one at a time are answered
    /// alike (a node may still gain from seeing them in one step, as a Raft
    /// leader sends them in one append).
    pub fn into_client_requests(self) -> impl Iterator<Item = ClientRequest> {
        let (single, batch) = match self {
            Input::Client(request) => (Some(request), Vec::new()),
            Input::ClientBatch(requests) => (None, requests),
            Input::Tick
            | Input::Message { .. }
            | Input::TransferLeadership { .. }
            | Input::Campaign
            | Input::Snapshot => (None, Vec::new()),
        };
        single.into_iter().chain(batch)
    }
}

/// A message to send to a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing<M> {
    pub to: NodeId,
    pub message: M,
}

/// Why a node ignored (part of) an input. Bad input is never a panic: it is
/// dropped with one of these, which the caller may log or count.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The sender is not a member of this cluster (or is this node itself).
    UnknownSender,
    /// The message's term is older than ours; a reply carrying our term was
    /// sent where the protocol needs one.
    StaleTerm {
        message_term: u64,
        current_term: u64,
    },
    /// The message does not make sense for our role (for example, a vote
    /// response while not campaigning).
    UnexpectedForRole { role: Role },
    /// An index in the message is impossible (beyond what we sent, or
    /// inconsistent with the message's own entries).
    IndexOutOfRange { index: u64 },
    /// A vote or pre-vote request arrived while we still hear from a live
    /// leader (CheckQuorum / lease stickiness).
    LeaderStillAlive { leader: NodeId },
    /// The same refusal from a node that no longer follows a leader (it is
    /// campaigning) but heard from one less than an election timeout ago.
    LeaderRecentlyHeard,
    /// The request names a node that is not a member, or this node.
    InvalidTarget { target: NodeId },
    /// The message's term is beyond the highest term a node accepts
    /// (`raft::MAX_TERM`): a forged or corrupt message, never an honest one.
    TermOutOfRange { term: u64 },
    /// The message is well-formed but answers something we no longer wait
    /// for (an old round, an old request).
    Stale,
    /// The node takes no snapshots (it keeps no replicated log, or, for
    /// the raft-rs adapter, this suite does not drive raft-rs's).
    NoSnapshots,
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropReason::UnknownSender => write!(f, "unknown sender"),
            DropReason::StaleTerm {
                message_term,
                current_term,
            } => write!(f, "stale term {message_term} < {current_term}"),
            DropReason::UnexpectedForRole { role } => write!(f, "unexpected for a {role}"),
            DropReason::IndexOutOfRange { index } => write!(f, "index {index} out of range"),
            DropReason::LeaderStillAlive { leader } => {
                write!(f, "leader {leader} is still alive")
            }
            DropReason::LeaderRecentlyHeard => {
                write!(f, "heard from a leader less than an election timeout ago")
            }
            DropReason::InvalidTarget { target } => write!(f, "invalid target {target}"),
            DropReason::TermOutOfRange { term } => write!(f, "term {term} out of range"),
            DropReason::Stale => write!(f, "stale"),
            DropReason::NoSnapshots => write!(f, "this node takes no snapshots"),
        }
    }
}

/// Something observable that happened in a step, for logs, metrics and
/// monitors.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    RoleChanged {
        role: Role,
        term: u64,
    },
    LeaderChanged {
        leader: Option<NodeId>,
        term: u64,
    },
    Dropped {
        from: Option<NodeId>,
        reason: DropReason,
    },
    /// A snapshot of the state machine through log index `index` replaced
    /// the log up to it: taken by the node itself (`from` is `None`) or
    /// installed from leader `from`.
    Snapshot {
        index: u64,
        from: Option<NodeId>,
    },
}

/// What a step asks of its caller, in this order: make `persist` durable,
/// then send `messages`, then deliver `replies`. `events` are informational.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actions<M, P> {
    pub persist: Vec<P>,
    pub messages: Vec<Outgoing<M>>,
    pub replies: Vec<ClientReply>,
    pub events: Vec<Event>,
}

impl<M, P> Default for Actions<M, P> {
    fn default() -> Self {
        Actions {
            persist: Vec::new(),
            messages: Vec::new(),
            replies: Vec::new(),
            events: Vec::new(),
        }
    }
}

impl<M, P> Actions<M, P> {
    pub fn clear(&mut self) {
        self.persist.clear();
        self.messages.clear();
        self.replies.clear();
        self.events.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.persist.is_empty()
            && self.messages.is_empty()
            && self.replies.is_empty()
            && self.events.is_empty()
    }

    pub fn send(&mut self, to: NodeId, message: M) {
        self.messages.push(Outgoing { to, message });
    }

    pub fn drop_input(&mut self, from: Option<NodeId>, reason: DropReason) {
        self.events.push(Event::Dropped { from, reason });
    }

    /// Why the steps behind these actions dropped (part of) their input,
    /// in the order they did.
    pub fn dropped(&self) -> Vec<DropReason> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Dropped { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    }

    /// Answers the client request `id`.
    pub fn reply(&mut self, id: RequestId, result: Result<Outcome, ClientError>) {
        self.replies.push(ClientReply { id, result });
    }

    /// Refuses the client request `id` because this node does not lead:
    /// the operation certainly did not take effect, and the client may try
    /// `leader_hint`, the leader this node believes in, if it knows one.
    pub fn refuse_not_leader(&mut self, id: RequestId, leader_hint: Option<NodeId>) {
        self.reply(id, Err(ClientError::NotLeader { leader_hint }));
    }
}

/// A protocol node: a pure state machine driven one input at a time.
///
/// Contract for callers:
/// - pass the node's local monotonic time as `now`, never decreasing;
/// - pass a seeded, portable RNG as `rng` (the node draws election jitter
///   from it and from nothing else);
/// - make every `actions.persist` record durable, in order, before sending any
///   of `actions.messages`;
/// - tick the node no later than [`Node::next_deadline`].
pub trait Node {
    type Message: Clone + fmt::Debug;
    /// One record of durable state, applied in order by the caller's storage.
    type Persist: Clone + fmt::Debug;

    fn id(&self) -> NodeId;

    /// Handles one input. `actions` is appended to, not cleared, so a caller
    /// may batch several steps before it persists and sends. What is in
    /// `actions` has not left the node yet, so a step may add to a message
    /// still waiting there (Raft adds new entries to a waiting append).
    fn step(
        &mut self,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<Self::Message>,
        actions: &mut Actions<Self::Message, Self::Persist>,
    );

    /// The latest local time at which the node must be ticked.
    fn next_deadline(&self) -> Time;

    fn role(&self) -> Role;

    /// The Raft term, or the leadership epoch of Bully and Ring.
    fn term(&self) -> u64;

    /// The leader this node currently believes in (itself if it leads).
    fn leader(&self) -> Option<NodeId>;

    /// The highest log index known to be committed (0 for algorithms without
    /// a log).
    fn commit_index(&self) -> u64;

    /// Whether this node holds a valid leader lease at local time `now`: it
    /// would serve a read from local state without asking its peers.
    fn holds_lease(&self, now: Time) -> bool;

    /// Panics if the node's own state is inconsistent. Called after every step
    /// in tests and debug builds.
    fn invariants(&self);
}

/// Writes the queries of [`Node`] for a node that is another node with
/// something added to its steps (a probe that counts what its node drops,
/// a deliberately broken variant for a checker to catch): each is answered
/// by the inner node, in the field named. Used inside the wrapper's
/// `impl Node`, beside its own `step`.
#[macro_export]
macro_rules! delegate_node_queries {
    ($inner:tt) => {
        fn id(&self) -> $crate::core::node::NodeId {
            self.$inner.id()
        }

        fn next_deadline(&self) -> $crate::core::time::Time {
            self.$inner.next_deadline()
        }

        fn role(&self) -> $crate::core::node::Role {
            self.$inner.role()
        }

        fn term(&self) -> u64 {
            self.$inner.term()
        }

        fn leader(&self) -> Option<$crate::core::node::NodeId> {
            self.$inner.leader()
        }

        fn commit_index(&self) -> u64 {
            self.$inner.commit_index()
        }

        fn holds_lease(&self, now: $crate::core::time::Time) -> bool {
            self.$inner.holds_lease(now)
        }

        fn invariants(&self) {
            self.$inner.invariants()
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::client::Operation;

    fn request(sequence: u64) -> ClientRequest {
        ClientRequest {
            id: RequestId {
                client: 1,
                sequence,
            },
            operation: Operation::Read { key: "x".into() },
        }
    }

    #[test]
    fn a_batch_is_its_requests_in_order_and_a_single_request_is_itself() {
        let batch = Input::<()>::ClientBatch(vec![request(3), request(1), request(2)]);
        let ids: Vec<u64> = batch
            .into_client_requests()
            .map(|r| r.id.sequence)
            .collect();
        assert_eq!(ids, [3, 1, 2]);
        let single: Vec<_> = Input::<()>::Client(request(7))
            .into_client_requests()
            .collect();
        assert_eq!(single, [request(7)]);
        let others = [
            Input::Tick,
            Input::Message {
                from: 2,
                message: (),
            },
            Input::TransferLeadership { to: 2 },
            Input::Campaign,
            Input::ClientBatch(Vec::new()),
        ];
        for input in others {
            assert_eq!(input.clone().into_client_requests().count(), 0, "{input:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_leader_this_node_believes_in() {
        let mut actions = Actions::<(), ()>::default();
        actions.refuse_not_leader(request(4).id, Some(3));
        actions.refuse_not_leader(request(5).id, None);
        let refusals: Vec<_> = actions
            .replies
            .iter()
            .map(|reply| (reply.id.sequence, reply.result.clone()))
            .collect();
        assert_eq!(
            refusals,
            [
                (
                    4,
                    Err(ClientError::NotLeader {
                        leader_hint: Some(3)
                    })
                ),
                (5, Err(ClientError::NotLeader { leader_hint: None })),
            ]
        );
    }
}
