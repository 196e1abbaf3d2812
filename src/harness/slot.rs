//! One cluster member as every in-memory harness keeps it: its node while
//! it is up, the durable state that survives its crashes, and its clock.
//! Runners that need more per member (a paused flag, a timer) wrap a
//! [`Slot`] rather than repeat it.

use std::fmt;
use std::hash::{Hash, Hasher};

use rand::RngCore;

use crate::check::properties::NodeView;
use crate::core::node::{Input, NodeId};
use crate::core::time::Time;
use crate::harness::algorithm::{Algorithm, Boot, MessageOf};
use crate::harness::apply::{infallible, Outputs, Stepper};
use crate::harness::clock::{ExactClock, LocalClock};
use crate::harness::memory::Memory;
use crate::harness::views::view;

/// Member `id`: up (`node` is `Some`) or crashed, with what it persisted.
pub struct Slot<A: Algorithm, C = ExactClock> {
    pub id: NodeId,
    pub node: Option<A::Node>,
    pub durable: A::Durable,
    pub clock: C,
    /// How many times the member restarted: the safety monitors judge each
    /// life on its own ([`NodeView::incarnation`]).
    pub incarnation: u64,
}

impl<A: Algorithm, C: LocalClock> Slot<A, C> {
    /// A fresh member, started at real time `now` (read on its own clock).
    pub fn start(
        algorithm: &A,
        id: NodeId,
        members: &[NodeId],
        clock: C,
        now: Time,
        rng: &mut dyn RngCore,
    ) -> Slot<A, C> {
        let now = clock.local(now);
        let node = algorithm.start(Boot {
            id,
            members,
            now,
            rng,
        });
        Slot {
            id,
            node: Some(node),
            durable: A::Durable::default(),
            clock,
            incarnation: 0,
        }
    }

    pub fn is_up(&self) -> bool {
        self.node.is_some()
    }

    /// The member's local time at real time `now`.
    pub fn local(&self, now: Time) -> Time {
        self.clock.local(now)
    }

    /// Gives the up node one input at real time `now` and applies the
    /// step: records into [`Slot::durable`] first, then `outputs`.
    ///
    /// Panics if the member is down: a runner delivers nothing to a
    /// crashed node.
    pub fn step<O: Outputs<MessageOf<A>>>(
        &mut self,
        stepper: &mut Stepper<A::Node>,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<MessageOf<A>>,
        outputs: &mut O,
    ) {
        let local = self.clock.local(now);
        let node = self.node.as_mut().expect("only an up member steps");
        let mut durable = Memory::<A>(&mut self.durable);
        infallible(stepper.step(node, local, rng, input, &mut durable, outputs));
    }

    /// Power off: the node and everything it did not persist are gone.
    /// Returns the node that was up, if any.
    pub fn crash(&mut self) -> Option<A::Node> {
        self.node.take()
    }

    /// Brings a crashed member back from its durable state at real time
    /// `now`. Returns false (and changes nothing) if it is up.
    pub fn restart(
        &mut self,
        algorithm: &A,
        members: &[NodeId],
        now: Time,
        rng: &mut dyn RngCore,
    ) -> bool {
        if self.node.is_some() {
            return false;
        }
        let boot = Boot {
            id: self.id,
            members,
            now: self.clock.local(now),
            rng,
        };
        self.node = Some(algorithm.restart(boot, &self.durable));
        self.incarnation += 1;
        true
    }

    /// What the safety monitors see of the member at real time `now`, if it
    /// is up.
    pub fn view(&self, now: Time) -> Option<NodeView<'_>> {
        let node = self.node.as_ref()?;
        Some(NodeView {
            incarnation: Some(self.incarnation),
            ..view::<A>(self.id, node, self.clock.local(now))
        })
    }
}

// By hand: derives would ask `A` itself, not its node and durable state, to
// be `Clone`, `Eq` and `Hash`.
impl<A: Algorithm, C: Clone> Clone for Slot<A, C> {
    fn clone(&self) -> Self {
        Slot {
            id: self.id,
            node: self.node.clone(),
            durable: self.durable.clone(),
            clock: self.clock.clone(),
            incarnation: self.incarnation,
        }
    }
}

impl<A: Algorithm, C: fmt::Debug> fmt::Debug for Slot<A, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("id", &self.id)
            .field("node", &self.node)
            .field("durable", &self.durable)
            .field("clock", &self.clock)
            .field("incarnation", &self.incarnation)
            .finish()
    }
}

impl<A: Algorithm, C: PartialEq> PartialEq for Slot<A, C>
where
    A::Node: PartialEq,
    A::Durable: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.node == other.node
            && self.durable == other.durable
            && self.clock == other.clock
            && self.incarnation == other.incarnation
    }
}

impl<A: Algorithm, C: Eq> Eq for Slot<A, C>
where
    A::Node: Eq,
    A::Durable: Eq,
{
}

impl<A: Algorithm, C: Hash> Hash for Slot<A, C>
where
    A::Node: Hash,
    A::Durable: Hash,
{
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
        self.node.hash(state);
        self.durable.hash(state);
        self.clock.hash(state);
        self.incarnation.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::client::ClientReply;
    use crate::core::node::{Node, Role};
    use crate::core::raft::Message;
    use crate::harness::algorithm::Raft;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    struct Discard;

    impl Outputs<Message> for Discard {
        fn send(&mut self, _: NodeId, _: Message) {}
        fn reply(&mut self, _: ClientReply) {}
    }

    #[test]
    fn a_restarted_member_keeps_what_it_persisted_and_only_up_members_are_seen() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut raft = Raft::default();
        // Without PreVote a campaign persists the new term and vote.
        raft.config.pre_vote = false;
        let members = [1, 2, 3];
        let mut slot: Slot<Raft> =
            Slot::start(&raft, 1, &members, ExactClock, Time::ZERO, &mut rng);
        let mut stepper = Stepper::default();
        slot.step(
            &mut stepper,
            Time::ZERO,
            &mut rng,
            Input::Campaign,
            &mut Discard,
        );
        let term = slot.node.as_ref().unwrap().term();
        assert!(term > 0);
        assert_eq!(slot.durable.hard_state.term.get(), term);
        assert_eq!(slot.view(Time::ZERO).unwrap().role, Role::Candidate);

        assert!(slot.crash().is_some());
        assert!(!slot.is_up() && slot.view(Time::ZERO).is_none());
        assert!(slot.restart(&raft, &members, Time::ZERO, &mut rng));
        assert!(
            !slot.restart(&raft, &members, Time::ZERO, &mut rng),
            "already up"
        );
        let node = slot.node.as_ref().unwrap();
        assert_eq!((node.term(), node.role()), (term, Role::Follower));
    }
}
