//! Paths of the model as readable steps: what happened, and the cluster
//! after it, one line each; the last step says which property broke and how.

use std::fmt::Write;

use stateright::{Model, Path};

use crate::core::node::Node;
use crate::model::cluster::{ActionOf, ClusterModel};
use crate::model::state::ClientStatus;
use crate::model::variant::{ModelVariant, StateOf};

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
pub fn trace<V: ModelVariant>(
    model: &ClusterModel<V>,
    path: Path<StateOf<V>, ActionOf<V>>,
) -> Vec<TraceStep> {
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

/// The cluster in one line: per node what the variant says of it (for
/// Raft: role, term, log and commit index), its clock and lease; then the
/// clients and the messages in flight.
pub fn summary<V: ModelVariant>(model: &ClusterModel<V>, state: &StateOf<V>) -> String {
    let mut line = String::new();
    for &id in model.members() {
        let slot = state.slot(id);
        let clock = state.local_quanta(id);
        match slot.node.as_deref() {
            Some(node) => {
                let local = state.local_time(id, model.quantum_micros());
                let lease = node.holds_lease(local);
                let _ = write!(line, "{id}: {} clock={clock}", V::describe(node, local));
                if lease {
                    line.push_str(" LEASE");
                }
            }
            None => {
                let _ = write!(
                    line,
                    "{id}: down term={} last={}",
                    V::durable_term(&slot.durable),
                    V::durable_log_len(&slot.durable)
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
