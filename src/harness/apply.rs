//! The step-and-apply loop, written once: a node takes one input, then the
//! step's actions are carried out in the order the core's contract asks
//! (see [`crate::core::node::Node`]):
//!
//! 1. every persist record is made durable, in order, through a
//!    [`Durability`] — before anything leaves the node;
//! 2. the messages go out through [`Outputs::send`];
//! 3. the client replies through [`Outputs::reply`];
//! 4. the events are reported to [`Outputs::event`].
//!
//! If persisting fails, nothing of the step leaves: the messages, replies
//! and events are discarded and the error returned, so the caller stops the
//! node (a node that cannot persist must not speak).
//!
//! Both targets are type parameters, not trait objects, and the actions
//! buffer lives in the [`Stepper`] and is reused, so a step allocates
//! nothing the node itself does not.

use std::convert::Infallible;

use rand::RngCore;

use crate::core::client::ClientReply;
use crate::core::node::{Actions, Event, Input, Node, NodeId};
use crate::core::time::Time;

/// Where a step's persist records go: in-memory durable state in the
/// simulator and the model checker ([`crate::harness::memory::Memory`]),
/// a fsynced log for real nodes (`crate::driver::node`).
pub trait Durability<R> {
    type Error;

    /// Makes every record of `records` durable, in order, before it
    /// returns, and leaves `records` empty. Called only with at least one
    /// record. An error means none may be relied on.
    fn persist(&mut self, records: &mut Vec<R>) -> Result<(), Self::Error>;
}

/// Where a step's output goes once its records are durable.
pub trait Outputs<M> {
    /// A message to peer `to`.
    fn send(&mut self, to: NodeId, message: M);

    /// A reply to a client.
    fn reply(&mut self, reply: ClientReply);

    /// Something that happened in the step, for logs and metrics. Ignored
    /// unless the caller wants it.
    fn event(&mut self, event: Event) {
        let _ = event;
    }
}

/// Whether a step also checks the node's own invariants
/// ([`Node::invariants`]), as the model checker and the fuzz target do
/// after every step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Check {
    #[default]
    Nothing,
    Invariants,
}

type NodeActions<N> = Actions<<N as Node>::Message, <N as Node>::Persist>;

/// Steps nodes of type `N` and applies what they ask, reusing one actions
/// buffer for every step.
pub struct Stepper<N: Node> {
    actions: NodeActions<N>,
    check: Check,
}

impl<N: Node> Default for Stepper<N> {
    fn default() -> Self {
        Stepper::new(Check::Nothing)
    }
}

impl<N: Node> Stepper<N> {
    pub fn new(check: Check) -> Stepper<N> {
        Stepper {
            actions: Actions::default(),
            check,
        }
    }

    /// Gives `node` one input at its local time `now`, then applies the
    /// step's actions in the contract's order (see the module docs).
    pub fn step<D, O>(
        &mut self,
        node: &mut N,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<N::Message>,
        durability: &mut D,
        outputs: &mut O,
    ) -> Result<(), D::Error>
    where
        D: Durability<N::Persist>,
        O: Outputs<N::Message>,
    {
        self.stage(node, now, rng, input);
        self.apply(durability, outputs)
    }

    /// Gives `node` one input without applying its actions yet: a caller
    /// that batches several inputs into one fsync (group commit) stages
    /// each, then calls [`Stepper::apply`] once.
    pub fn stage(
        &mut self,
        node: &mut N,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<N::Message>,
    ) {
        node.step(now, rng, input, &mut self.actions);
        if self.check == Check::Invariants {
            node.invariants();
        }
    }

    /// Carries out the staged actions: persist every record, then send,
    /// then reply, then report the events. On a persist error nothing is
    /// sent and the staged actions are discarded.
    pub fn apply<D, O>(&mut self, durability: &mut D, outputs: &mut O) -> Result<(), D::Error>
    where
        D: Durability<N::Persist>,
        O: Outputs<N::Message>,
    {
        let actions = &mut self.actions;
        if !actions.persist.is_empty() {
            if let Err(error) = durability.persist(&mut actions.persist) {
                actions.clear();
                return Err(error);
            }
            assert!(
                actions.persist.is_empty(),
                "a durability target must take every record before anything is sent"
            );
        }
        for outgoing in actions.messages.drain(..) {
            outputs.send(outgoing.to, outgoing.message);
        }
        for reply in actions.replies.drain(..) {
            outputs.reply(reply);
        }
        for event in actions.events.drain(..) {
            outputs.event(event);
        }
        Ok(())
    }

    /// What the steps staged since the last [`Stepper::apply`].
    pub fn staged(&self) -> &NodeActions<N> {
        &self.actions
    }
}

/// Unwraps the result of a step whose durability cannot fail.
pub fn infallible(result: Result<(), Infallible>) {
    match result {
        Ok(()) => {}
        Err(never) => match never {},
    }
}
