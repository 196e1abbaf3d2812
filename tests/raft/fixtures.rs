//! The Raft fixtures the node-level tests share: a node of a three-node
//! cluster stepped directly, messages and entries built from plain numbers,
//! and nodes brought into a role (candidate, leader of term one).

use electorate::core::client::{ClientRequest, Operation, RequestId};
use electorate::core::node::{Input, Node, NodeId, Role};
use electorate::core::raft::{
    Append, AppendResponse, AppendResult, Body, Command, Config, Entry, LogIndex, Message,
    RaftActions, RaftNode, Round, Term, VoteRequest, VoteResponse,
};
use electorate::core::time::Time;

use crate::support::{rng, step};

pub(crate) const MEMBERS: [NodeId; 3] = [1, 2, 3];

pub(crate) fn new_node(id: NodeId, config: Config) -> RaftNode {
    RaftNode::new(id, &MEMBERS, config, Time::ZERO, &mut rng()).expect("valid config")
}

pub(crate) fn message(from: NodeId, term: u64, body: Body) -> Input<Message> {
    Input::Message {
        from,
        message: Message {
            term: Term::new(term),
            body,
        },
    }
}

pub(crate) fn vote_request(pre_vote: bool, last_log_term: u64, last_log_index: u64) -> Body {
    Body::VoteRequest(VoteRequest {
        pre_vote,
        last_log_index: LogIndex::new(last_log_index),
        last_log_term: Term::new(last_log_term),
        transfer: false,
    })
}

pub(crate) fn entry(term: u64, index: u64) -> Entry {
    Entry {
        term: Term::new(term),
        index: LogIndex::new(index),
        command: Command::Write {
            key: "x".into(),
            value: index,
        }
        .into(),
    }
}

pub(crate) fn append(prev: (u64, u64), entries: Vec<Entry>, commit: u64) -> Body {
    Body::Append(Append {
        prev_log_index: LogIndex::new(prev.1),
        prev_log_term: Term::new(prev.0),
        entries,
        leader_commit: LogIndex::new(commit),
        round: Round::ZERO,
    })
}

/// A follower's acknowledgement that its log matches up to `match_index`.
pub(crate) fn accepted(match_index: u64, round: u64) -> Body {
    Body::AppendResponse(AppendResponse {
        result: AppendResult::Accepted {
            match_index: LogIndex::new(match_index),
        },
        round: Round::new(round),
    })
}

/// A vote response, or with `pre_vote` a pre-vote response.
pub(crate) fn vote(pre_vote: bool, granted: bool) -> Body {
    Body::VoteResponse(VoteResponse { pre_vote, granted })
}

/// `config` with PreVote off, so that a campaign starts the real election.
pub(crate) fn without_pre_vote(config: Config) -> Config {
    Config {
        pre_vote: false,
        ..config
    }
}

/// A voter that answers every vote request on its merits: no PreVote, and
/// neither CheckQuorum nor a lease makes it ignore a candidate.
pub(crate) fn plain_voter() -> Config {
    Config {
        check_quorum: false,
        lease_reads: false,
        ..without_pre_vote(Config::default())
    }
}

/// Node 1, PreVote off, campaigning for term 1 at time 0.
pub(crate) fn candidate_of_term_one(config: Config) -> RaftNode {
    let mut node = new_node(1, without_pre_vote(config));
    step(&mut node, 0, Input::Campaign);
    node
}

pub(crate) fn write(value: u64) -> Input<Message> {
    Input::Client(ClientRequest {
        id: RequestId {
            client: 1,
            sequence: value,
        },
        operation: Operation::Write {
            key: "x".into(),
            value,
        },
    })
}

/// A node that has won term 1 in a three-node cluster (votes from 2).
pub(crate) fn leader_of_term_one(config: Config) -> (RaftNode, RaftActions) {
    let mut node = candidate_of_term_one(config);
    let actions = step(&mut node, 1, message(2, 1, vote(false, true)));
    assert_eq!(node.role(), Role::Leader);
    (node, actions)
}
