//! The skeleton of [`Node::step`], written once: advance the node's clock,
//! drop messages from non-members, dispatch the input, report what the step
//! changed, check the invariants. A protocol implements [`Protocol`] (what
//! it does on a tick, a message, a client request, a campaign, a transfer)
//! and its `Node::step` is a call to [`step`].

use rand::RngCore;

use crate::core::chassis::context::Context;
use crate::core::chassis::membership::Membership;
use crate::core::chassis::report::Observed;
use crate::core::client::ClientRequest;
use crate::core::node::{Actions, DropReason, Input, Node, NodeId, Role};
use crate::core::time::Time;

/// The step context of protocol `P`.
pub type ContextOf<'a, P> = Context<'a, <P as Node>::Message, <P as Node>::Persist>;

/// What a protocol writes; [`step`] writes the rest.
pub trait Protocol: Node + Sized {
    fn membership(&self) -> &Membership;

    /// The latest local time the node has seen. [`step`] moves it to the
    /// step's `now`, never back: a caller's clock that steps backwards
    /// cannot rewind the node.
    fn clock_mut(&mut self) -> &mut Time;

    /// Local time has advanced: fire the timers that are due.
    fn on_tick(&mut self, ctx: &mut ContextOf<Self>);

    /// A message from `from`, a peer (checked by [`step`]).
    fn on_message(&mut self, ctx: &mut ContextOf<Self>, from: NodeId, message: Self::Message);

    fn on_client(&mut self, ctx: &mut ContextOf<Self>, request: ClientRequest);

    /// An operator asks a node that does not lead to start an election now.
    fn on_campaign(&mut self, ctx: &mut ContextOf<Self>);

    /// An operator asks this node to hand leadership to `to`. By default
    /// the protocol has no transfer: the request is dropped with the reason.
    fn on_transfer(&mut self, ctx: &mut ContextOf<Self>, to: NodeId) {
        let reason = if self.membership().is_peer(to) {
            DropReason::UnexpectedForRole { role: self.role() }
        } else {
            DropReason::InvalidTarget { target: to }
        };
        ctx.out.drop_input(None, reason);
    }

    /// An operator asks for a snapshot of the state machine now. By
    /// default the protocol keeps no log: the request is dropped.
    fn on_snapshot(&mut self, ctx: &mut ContextOf<Self>) {
        ctx.out.drop_input(None, DropReason::NoSnapshots);
    }

    /// Reports what the step changed, comparing against how the node
    /// looked before it. By default: a role or leader change, once per
    /// step ([`Observed::finish_step`]).
    fn after_step(&self, before: Observed, ctx: &mut ContextOf<Self>) {
        before.finish_step(self, &mut ctx.out.events);
    }
}

/// One step of `node`: the body of every protocol's [`Node::step`].
pub fn step<P: Protocol>(
    node: &mut P,
    now: Time,
    rng: &mut dyn RngCore,
    input: Input<P::Message>,
    actions: &mut Actions<P::Message, P::Persist>,
) {
    let clock = node.clock_mut();
    *clock = (*clock).max(now);
    let now = *clock;
    let before = Observed::of(node);
    let mut ctx = Context {
        now,
        rng,
        out: actions,
    };
    match input {
        Input::Tick => node.on_tick(&mut ctx),
        Input::Message { from, message } => {
            if node.membership().is_peer(from) {
                node.on_message(&mut ctx, from, message);
            } else {
                ctx.out.drop_input(Some(from), DropReason::UnknownSender);
            }
        }
        clients @ (Input::Client(_) | Input::ClientBatch(_)) => {
            for request in clients.into_client_requests() {
                node.on_client(&mut ctx, request);
            }
        }
        Input::TransferLeadership { to } => node.on_transfer(&mut ctx, to),
        Input::Campaign => {
            if node.role() != Role::Leader {
                node.on_campaign(&mut ctx);
            }
        }
        Input::Snapshot => node.on_snapshot(&mut ctx),
    }
    node.after_step(before, &mut ctx);
    if cfg!(any(test, debug_assertions)) {
        node.invariants();
    }
}
