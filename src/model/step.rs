//! One step of one node in the model, through the harness's step-and-apply
//! loop ([`Stepper`]): the input at the node's local time, then the
//! contract's order (persist into the slot's durable state, send into the
//! model's network, reply to the model's clients). A panic (a broken
//! invariant: a bug) ends the run and is reported as a violation of Node
//! Invariants. A step may also be taken on a disk whose write fails
//! ([`FailingStep`], the simulator's disk faults): then nothing of it
//! leaves and the caller takes the node down.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crate::check::properties::Property;
use crate::core::client::ClientReply;
use crate::core::node::{Input, Node, NodeId};
use crate::harness::algorithm::MessageOf;
use crate::harness::apply::{infallible, Check, Outputs, Stepper};
use crate::harness::disk::{FailingStep, Member, WriteFailed};
use crate::harness::memory::Memory;
use crate::model::clients;
use crate::model::cluster::ClusterModel;
use crate::model::network::{Envelope, Network};
use crate::model::state::{index, Panic};
use crate::model::variant::{ModelVariant, StateOf};

/// Where a step's output goes in the model: messages onto the network,
/// replies kept for the clients, which judge them once the step is done.
struct ModelOutputs<'a, M> {
    from: NodeId,
    network: &'a mut Network<M>,
    /// Bit `index(id)` is set for each node down for good: messages to it
    /// are lost at once rather than left to fill the network.
    lost_for_good: u64,
    replies: Vec<ClientReply>,
}

impl<M: Clone + Ord> Outputs<M> for ModelOutputs<'_, M> {
    fn send(&mut self, to: NodeId, message: M) {
        if self.lost_for_good & (1 << index(to)) != 0 {
            return;
        }
        self.network.send(Envelope {
            from: self.from,
            to,
            message,
        });
    }

    fn reply(&mut self, reply: ClientReply) {
        self.replies.push(reply);
    }
}

/// Steps node `id` (which is up) of `state` with `input`, on a disk whose
/// write fails if `failing` says so. On `Err` the node must be taken down:
/// its write failed and nothing of the step left it (unless a deliberate
/// bug reported the write done).
pub fn step<V: ModelVariant>(
    model: &ClusterModel<V>,
    state: &mut StateOf<V>,
    id: NodeId,
    input: Input<MessageOf<V>>,
    failing: Option<FailingStep>,
) -> Result<(), WriteFailed> {
    let now = model.local_time(state, id);
    let lost_for_good = state
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, slot)| slot.lost_for_good)
        .fold(0, |lost, (position, _)| lost | 1 << position);
    let slot = &mut state.nodes[index(id)];
    let node = Arc::make_mut(slot.node.as_mut().expect("only up nodes are stepped"));
    let durable = Arc::make_mut(&mut slot.durable);
    let mut rng = model.rng(id, node.term(), now);
    let mut outputs = ModelOutputs {
        from: id,
        network: &mut state.network,
        lost_for_good,
        replies: Vec::new(),
    };
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut stepper = Stepper::new(Check::Invariants);
        match failing {
            None => {
                let mut memory = Memory::<V>(durable);
                infallible(stepper.step(node, now, &mut rng, input, &mut memory, &mut outputs));
                Ok(())
            }
            Some(failing) => {
                let member = Member::<V> { node, durable };
                failing.run(&mut stepper, member, now, &mut rng, input, &mut outputs)
            }
        }
    }));
    let replies = outputs.replies;
    let written = match outcome {
        Ok(written) => written,
        Err(payload) => {
            state.panic = Some(Panic {
                node: id,
                message: panic_message(&payload),
            });
            state.violations.record(Property::NodeInvariants);
            return Ok(());
        }
    };
    for reply in replies {
        clients::record_reply(state, id, reply);
    }
    written
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
        .unwrap_or_else(|| "unknown panic".to_owned())
}
