//! One step of one node in the model: feed the input at the node's local
//! time, then carry out the actions in the contract's order (persist, send,
//! reply). A panic (a broken invariant: a bug) ends the run and is
//! reported as a violation of Node Invariants.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crate::check::properties::Property;
use crate::core::node::{Actions, Input, Node, NodeId};
use crate::harness::algorithm::Algorithm;
use crate::model::clients;
use crate::model::cluster::ClusterModel;
use crate::model::network::Envelope;
use crate::model::state::Panic;
use crate::model::variant::{MessageOf, ModelVariant, StateOf};

type PersistOf<V> = <<V as Algorithm>::Node as Node>::Persist;

/// Steps node `id` (which is up) of `state` with `input`.
pub fn step<V: ModelVariant>(
    model: &ClusterModel<V>,
    state: &mut StateOf<V>,
    id: NodeId,
    input: Input<MessageOf<V>>,
) {
    let now = model.local_time(state, id);
    let slot = state.slot_mut(id);
    let node = Arc::make_mut(slot.node.as_mut().expect("only up nodes are stepped"));
    let durable = Arc::make_mut(&mut slot.durable);
    let mut rng = model.rng(id, node.term(), now);
    let mut actions = Actions::<MessageOf<V>, PersistOf<V>>::default();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        node.step(now, &mut rng, input, &mut actions);
        node.invariants();
        for record in actions.persist.drain(..) {
            V::persist(durable, record);
        }
    }));
    if let Err(payload) = outcome {
        state.panic = Some(Panic {
            node: id,
            message: panic_message(&payload),
        });
        state.violations.record(Property::NodeInvariants);
        return;
    }
    for outgoing in actions.messages {
        state.network.send(Envelope {
            from: id,
            to: outgoing.to,
            message: outgoing.message,
        });
    }
    for reply in actions.replies {
        clients::record_reply(state, id, reply);
    }
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
        .unwrap_or_else(|| "unknown panic".to_owned())
}
