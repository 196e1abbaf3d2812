//! The clients of the model, for variants with the `clients` capability
//! (Raft): one client per operation of the spec, each sending its one
//! operation to a node that believes it leads, and the history of their
//! invocations and replies, which must stay linearizable against a
//! compare-and-set register.

use stateright::semantics::ConsistencyTester;

use crate::check::properties::Property;
use crate::core::client::{ClientReply, ClientRequest, RequestId};
use crate::core::node::{Input, Node, NodeId};
use crate::model::action::Action;
use crate::model::cluster::{ActionOf, ClusterModel};
use crate::model::register::{RegisterOp, RegisterRet};
use crate::model::rng::Draw;
use crate::model::spec::ModelSpec;
use crate::model::state::{ClientStatus, ClusterState, Panic};
use crate::model::step;
use crate::model::variant::{ModelVariant, StateOf};

/// Clients `clients` send their operations to node `id`: one client as
/// one request, several as one batch ([`Input::ClientBatch`], in order).
/// The node steps on a disk whose write fails if `failing` says so (see
/// [`step::step`]).
pub fn invoke<V: ModelVariant>(
    model: &ClusterModel<V>,
    state: &mut StateOf<V>,
    clients: &[usize],
    id: NodeId,
    failing: Option<step::Fault>,
    draw: Draw,
) -> Result<step::Stepped, step::WentDown> {
    let now = model.local_time(state, id);
    let holds_lease = state.node(id).is_some_and(|node| node.holds_lease(now));
    let mut requests = Vec::with_capacity(clients.len());
    for &client in clients {
        let operation = model.spec().operations[client].clone();
        state
            .history
            .on_invoke(
                client,
                RegisterOp::from_operation(&operation, &model.spec().keys),
            )
            .expect("each client invokes one operation");
        state.clients[client] = ClientStatus::Pending { node: id };
        requests.push(ClientRequest {
            id: RequestId {
                client: client as u64,
                sequence: 1,
            },
            operation,
        });
    }
    let by_lease: Vec<bool> = requests
        .iter()
        .map(|request| request.operation.is_read() && holds_lease)
        .collect();
    let input = match <[ClientRequest; 1]>::try_from(requests) {
        Ok([request]) => Input::Client(request),
        Err(requests) => Input::ClientBatch(requests),
    };
    let written = step::step(model, state, id, input, failing, draw);
    for (&client, by_lease) in clients.iter().zip(by_lease) {
        if let ClientStatus::Done { lease_read, .. } = &mut state.clients[client] {
            *lease_read = by_lease;
        }
    }
    written
}

/// The batches leader `id` may be sent (`[clients] batches`): every pair
/// of idle clients, in the order of their indexes only, to keep the state
/// space small (the other order differs in which write comes first in the
/// log, an order the single requests already explore).
pub fn batch_actions<V: ModelVariant>(
    state: &StateOf<V>,
    id: NodeId,
    actions: &mut Vec<ActionOf<V>>,
) {
    let idle: Vec<usize> = state
        .clients
        .iter()
        .enumerate()
        .filter(|(_, status)| **status == ClientStatus::Idle)
        .map(|(client, _)| client)
        .collect();
    for (position, &first) in idle.iter().enumerate() {
        for &second in &idle[position + 1..] {
            actions.push(Action::ClientBatch {
                clients: [first, second],
                node: id,
            });
        }
    }
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
