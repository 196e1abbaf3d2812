//! Election safety judged from the wire: no node grants two candidates its
//! vote in one term, and no term has two leaders (two senders of appends or
//! heartbeats).

use std::collections::BTreeMap;

use crate::core::node::NodeId;
use crate::core::raft::{Body, Message, Term, VoteResponse};

/// The votes and leaders seen so far, by term.
#[derive(Debug, Default)]
pub(super) struct OneVotePerTerm {
    votes: BTreeMap<(NodeId, Term), NodeId>,
    leaders: BTreeMap<Term, NodeId>,
}

impl OneVotePerTerm {
    /// Looks at one message `from` sent `to`; a second vote or a second
    /// leader in a term is described into `violations`.
    pub(super) fn observe(
        &mut self,
        from: NodeId,
        to: NodeId,
        message: &Message,
        violations: &mut Vec<String>,
    ) {
        let term = message.term;
        match &message.body {
            Body::VoteResponse(VoteResponse {
                pre_vote: false,
                granted: true,
            }) => {
                if let Some(&earlier) = self.votes.get(&(from, term)) {
                    if earlier != to {
                        violations.push(format!(
                            "node {from} voted for {earlier} and {to} in term {term}"
                        ));
                    }
                }
                self.votes.insert((from, term), to);
            }
            Body::Append(_) | Body::Heartbeat(_) => {
                if let Some(&earlier) = self.leaders.get(&term) {
                    if earlier != from {
                        violations.push(format!("nodes {earlier} and {from} both led term {term}"));
                    }
                }
                self.leaders.insert(term, from);
            }
            _ => {}
        }
    }
}
