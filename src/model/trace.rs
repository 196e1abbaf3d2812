//! Paths of the model as readable steps: what happened, and the cluster
//! after it, one line each; the last step says which property broke and how.

use std::fmt::Write;

use stateright::{Model, Path};

use crate::core::node::{Node, Role};
use crate::core::raft::RaftNode;
use crate::model::action::Action;
use crate::model::raft::RaftModel;
use crate::model::state::{ClientStatus, ClusterState};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TraceStep {
    /// Real time (in quanta) when the action happened.
    pub time: u64,
    pub action: String,
    /// The cluster after the action.
    pub state: String,
    /// Violations this step caused, as the monitors describe them.
    pub violations: Vec<String>,
}

/// The steps of `path`.
pub fn trace(model: &RaftModel, path: Path<ClusterState, Action>) -> Vec<TraceStep> {
    let steps = path.into_vec();
    steps
        .windows(2)
        .map(|pair| {
            let (before, action) = &pair[0];
            let (after, _) = &pair[1];
            let action = action
                .as_ref()
                .expect("every step but the last has an action");
            TraceStep {
                time: before.real_time,
                action: model.format_action(action),
                state: summary(model, after),
                violations: model.explain(before, after),
            }
        })
        .collect()
}

/// The cluster in one line: per node its role, term, log and commit index,
/// clock and lease; then the clients and the messages in flight.
pub fn summary(model: &RaftModel, state: &ClusterState) -> String {
    let mut line = String::new();
    for &id in model.members() {
        let slot = state.slot(id);
        let clock = state.local_quanta(id);
        match slot.node.as_deref() {
            Some(node) => {
                let lease = node.holds_lease(state.local_time(id, model.quantum_micros()));
                let _ = write!(line, "{id}: {} clock={clock}", describe_node(node));
                if lease {
                    line.push_str(" LEASE");
                }
            }
            None => {
                let _ = write!(
                    line,
                    "{id}: down term={} last={}",
                    slot.durable.hard_state.term,
                    slot.durable.log.len()
                );
            }
        }
        line.push_str(" | ");
    }
    for (client, status) in state.clients.iter().enumerate() {
        match status {
            ClientStatus::Idle => {}
            ClientStatus::Pending { node } => {
                let _ = write!(line, "c{client}@{node} pending | ");
            }
            ClientStatus::Done { result, lease_read } => {
                let how = if *lease_read { " (lease)" } else { "" };
                let _ = write!(line, "c{client} {result:?}{how} | ");
            }
        }
    }
    let _ = write!(line, "{} in flight", state.network.len());
    line
}

fn describe_node(node: &RaftNode) -> String {
    let role = match node.role() {
        Role::Follower => "F",
        Role::PreCandidate => "P",
        Role::Candidate => "C",
        Role::Leader => "L",
    };
    let log: Vec<String> = node
        .log()
        .entries()
        .iter()
        .map(|entry| entry.to_string())
        .collect();
    format!(
        "{role} term={} log=[{}] commit={}",
        node.term(),
        log.join(", "),
        node.commit_index()
    )
}
