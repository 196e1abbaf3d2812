//! The clients of the model, for variants with the `clients` capability
//! (Raft): one client per operation of the spec, each sending its one
//! operation to a node that believes it leads, and the history of their
//! invocations and replies, which must stay linearizable against a
//! compare-and-set register.

use stateright::semantics::ConsistencyTester;

use crate::check::properties::Property;
use crate::core::client::{ClientReply, ClientRequest, RequestId};
use crate::core::node::{Input, Node, NodeId};
use crate::harness::disk::{FailingStep, WriteFailed};
use crate::model::cluster::ClusterModel;
use crate::model::register::{RegisterOp, RegisterRet};
use crate::model::spec::ModelSpec;
use crate::model::state::{ClientStatus, ClusterState, Panic};
use crate::model::step;
use crate::model::variant::{ModelVariant, StateOf};

/// Client `client` sends its operation to node `id`, which steps on a
/// disk whose write fails if `failing` says so (see [`step::step`]).
pub fn invoke<V: ModelVariant>(
    model: &ClusterModel<V>,
    state: &mut StateOf<V>,
    client: usize,
    id: NodeId,
    failing: Option<FailingStep>,
) -> Result<(), WriteFailed> {
    let operation = model.spec().operations[client].clone();
    let now = model.local_time(state, id);
    let by_lease = operation.is_read() && state.node(id).is_some_and(|node| node.holds_lease(now));
    state
        .history
        .on_invoke(client, RegisterOp::from_operation(&operation))
        .expect("each client invokes one operation");
    state.clients[client] = ClientStatus::Pending { node: id };
    let request = ClientRequest {
        id: RequestId {
            client: client as u64,
            sequence: 1,
        },
        operation,
    };
    let written = step::step(model, state, id, Input::Client(request), failing);
    if let ClientStatus::Done { lease_read, .. } = &mut state.clients[client] {
        *lease_read = by_lease;
    }
    written
}

/// Records node `id`'s reply in the history and judges it.
pub fn record_reply<N, D, M>(state: &mut ClusterState<N, D, M>, id: NodeId, reply: ClientReply) {
    let client = usize::try_from(reply.id.client).expect("client ids are indexes");
    let Some(result) = RegisterRet::from_result(&reply.result) else {
        // Outcome unknown: the operation stays in flight for ever.
        return;
    };
    if !matches!(
        state.clients.get(client),
        Some(ClientStatus::Pending { .. })
    ) {
        state.panic = Some(Panic {
            node: id,
            message: format!("a second reply to client c{client}: {reply:?}"),
        });
        state.violations.record(Property::NodeInvariants);
        return;
    }
    state
        .history
        .on_return(client, result.clone())
        .expect("the client has an operation in flight");
    state.clients[client] = ClientStatus::Done {
        result,
        lease_read: false,
    };
    // Linearizability is prefix-closed, so judging the history when it
    // grows is enough; the verdict stays in `violations`.
    if !state.history.is_consistent() {
        state.violations.record(Property::Linearizability);
    }
}

/// The history's new violation in the step from `before` to `after`, in
/// words, if it stopped being linearizable there.
pub fn explain<N, D, M>(
    spec: &ModelSpec,
    before: &ClusterState<N, D, M>,
    after: &ClusterState<N, D, M>,
) -> Option<String> {
    let property = Property::Linearizability;
    if !after.violations.contains(property) || before.violations.contains(property) {
        return None;
    }
    let operations: Vec<String> = spec
        .operations
        .iter()
        .zip(&after.clients)
        .enumerate()
        .map(|(client, (operation, status))| format!("c{client} `{operation}`: {status:?}"))
        .collect();
    Some(format!(
        "{property} violated: no order of the operations explains the replies ({})",
        operations.join("; ")
    ))
}
