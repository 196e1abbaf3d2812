//! One step of one node in the model, through the harness's step-and-apply
//! loop ([`Stepper`]): the input at the node's local time, then the
//! contract's order (persist into the slot's durable state, send into the
//! model's network, reply to the model's clients). A panic (a broken
//! invariant: a bug) ends the run and is reported as a violation of Node
//! Invariants. A step may also be taken on a disk whose write fails
//! ([`FailingStep`], the simulator's disk faults), or with a crash landing
//! between a snapshot's record and the log's compaction
//! ([`Fault::BeforeCompaction`]): then nothing of it leaves and the caller
//! takes the node down.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crate::check::properties::Property;
use crate::core::client::ClientReply;
use crate::core::node::{Event, Input, Node, NodeId};
use crate::core::panic_message::panic_message;
use crate::harness::algorithm::{MessageOf, PersistOf};
use crate::harness::apply::{infallible, Check, Durability, Outputs, Stepper};
use crate::harness::disk::{FailingStep, Member};
use crate::harness::memory::Memory;
use crate::model::clients;
use crate::model::cluster::ClusterModel;
use crate::model::network::{Envelope, Network};
use crate::model::rng::Draw;
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
    /// The step took a snapshot of its own, or installed its leader's.
    took_snapshot: bool,
    installed_snapshot: bool,
}

/// How a step's write goes wrong, if it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The disk fails the write (`crate::model::disk`'s power losses).
    Write(FailingStep),
    /// The node crashes after the snapshot record of its batch is durable
    /// and before the log is compacted through it
    /// (`cluster.crash_before_compaction`): what a restart finds is
    /// [`ModelVariant::durable_before_compaction`]. A step whose batch
    /// holds no snapshot has no such crash point and completes normally.
    BeforeCompaction,
}

/// What a step that completed did, for the actions that are no step
/// unless it did something: a long-timeout variant of a step that drew no
/// timeout, an operator snapshot that took none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stepped {
    /// The node drew an election timeout (`crate::model::rng`).
    pub drew_timeout: bool,
    /// The node took a snapshot of its own.
    pub took_snapshot: bool,
}

/// The step's write did not complete: the node must be taken down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WentDown;

/// A disk that takes a batch's records up to its snapshot, then loses
/// power before the log is compacted; a batch without a snapshot is
/// written whole.
struct CrashingBeforeCompaction<'a, V: ModelVariant> {
    durable: &'a mut V::Durable,
}

impl<V: ModelVariant> Durability<PersistOf<V>> for CrashingBeforeCompaction<'_, V> {
    type Error = WentDown;

    fn persist(&mut self, records: &mut Vec<PersistOf<V>>) -> Result<(), WentDown> {
        if V::durable_before_compaction(self.durable, records) {
            records.clear();
            return Err(WentDown);
        }
        infallible(Memory::<V>(self.durable).persist(records));
        Ok(())
    }
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

    fn event(&mut self, event: Event) {
        match event {
            Event::Snapshot { from: None, .. } => self.took_snapshot = true,
            Event::Snapshot { from: Some(_), .. } => self.installed_snapshot = true,
            _ => {}
        }
    }
}

/// Steps node `id` (which is up) of `state` with `input`, on a disk whose
/// write goes wrong as `failing` says, its election-timeout draws giving
/// `draw`. On `Err` the node must be taken down: its write failed and
/// nothing of the step left it (unless a deliberate bug reported the
/// write done).
pub fn step<V: ModelVariant>(
    model: &ClusterModel<V>,
    state: &mut StateOf<V>,
    id: NodeId,
    input: Input<MessageOf<V>>,
    failing: Option<Fault>,
    draw: Draw,
) -> Result<Stepped, WentDown> {
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
    let mut rng = model.rng(draw, id, node.term(), now);
    // What the core is handed, recorded as handed: a step that then turns
    // out to be no distinct action (`Stepped`) still ran that input's path.
    model.record_delivered(&input);
    let mut outputs = ModelOutputs {
        from: id,
        network: &mut state.network,
        lost_for_good,
        replies: Vec::new(),
        took_snapshot: false,
        installed_snapshot: false,
    };
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut stepper = Stepper::new(Check::Invariants);
        match failing {
            None => {
                let mut memory = Memory::<V>(durable);
                infallible(stepper.step(node, now, &mut rng, input, &mut memory, &mut outputs));
                Ok(())
            }
            Some(Fault::Write(failing)) => {
                let member = Member::<V> { node, durable };
                failing
                    .run(&mut stepper, member, now, &mut rng, input, &mut outputs)
                    .map_err(|_| WentDown)
            }
            Some(Fault::BeforeCompaction) => {
                let mut disk = CrashingBeforeCompaction::<V> { durable };
                stepper.step(node, now, &mut rng, input, &mut disk, &mut outputs)
            }
        }
    }));
    let replies = outputs.replies;
    let stepped = Stepped {
        drew_timeout: rng.drew(),
        took_snapshot: outputs.took_snapshot,
    };
    state.goals.snapshot_taken |= outputs.took_snapshot;
    state.goals.snapshot_installed |= outputs.installed_snapshot;
    let written = match outcome {
        Ok(written) => written,
        Err(payload) => {
            state.panic = Some(Panic {
                node: id,
                message: panic_message(&*payload),
            });
            state.violations.record(Property::NodeInvariants);
            return Ok(stepped);
        }
    };
    for reply in replies {
        clients::record_reply(state, id, reply);
    }
    written.map(|()| stepped)
}
