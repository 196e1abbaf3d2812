//! A disk that fails under an in-memory member, for the simulator's disk
//! faults: the node steps as usual, and if the step has records to persist
//! the write goes wrong instead of completing. Nothing of such a step leaves
//! the node (the harness sends only after a persist succeeds); the caller
//! then takes the node down.
//!
//! What survives follows the project's log format rather than raw sectors:
//! a batch is acknowledged only after the log and then the state file are
//! fsynced, and recovery cuts an unsynced tail, so power lost during a batch
//! leaves the whole batch or none of it. The durability tests
//! (`tests/durability.rs`, the crash simulator) check that claim against a
//! simulated disk that tears and reorders sectors.

use rand::RngCore;

use crate::core::node::Input;
use crate::core::time::Time;
use crate::harness::algorithm::{Algorithm, MessageOf, PersistOf};
use crate::harness::apply::{infallible, Durability, Outputs, Stepper};
use crate::harness::clock::LocalClock;
use crate::harness::memory::Memory;
use crate::harness::slot::Slot;

/// How the next write of a batch fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailingWrite {
    /// Power is lost while the batch is written: it reaches the disk whole
    /// (`batch_survives`) or not at all.
    PowerLoss { batch_survives: bool },
    /// The fsync reports an error: nothing can be relied on any more.
    FsyncError,
}

/// The write failed; the member must go down now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WriteFailed(pub FailingWrite);

/// Deliberate mistakes of the storage layer, so the model checker can be
/// shown to catch them (`tests/models.rs`). Like the core's
/// `DeliberateBugs`, a flag changes nothing unless the `deliberate-bugs`
/// feature is on, which only the test build enables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DiskBugs {
    /// A batch that power loss destroyed is reported persisted: the step's
    /// messages leave before the node goes down, promising a vote or
    /// entries it will not remember.
    pub lost_batch_reported_persisted: bool,
    /// A node whose synced data is damaged starts anyway, as a blank node
    /// with no term, no vote and no log: the truncating recovery the log
    /// format was made to replace.
    pub damaged_restart_blank: bool,
}

/// Whether deliberate bugs can be switched on in this build.
const BUGS_ENABLED: bool = cfg!(feature = "deliberate-bugs");

impl DiskBugs {
    pub fn lost_batch_reported_persisted(&self) -> bool {
        BUGS_ENABLED && self.lost_batch_reported_persisted
    }

    pub fn damaged_restart_blank(&self) -> bool {
        BUGS_ENABLED && self.damaged_restart_blank
    }
}

/// Persists as [`Memory`] would, or not at all, then fails.
struct FailingDisk<'a, A: Algorithm> {
    durable: &'a mut A::Durable,
    write: FailingWrite,
    bugs: DiskBugs,
}

impl<A: Algorithm> Durability<PersistOf<A>> for FailingDisk<'_, A> {
    type Error = WriteFailed;

    fn persist(&mut self, records: &mut Vec<PersistOf<A>>) -> Result<(), WriteFailed> {
        match self.write {
            FailingWrite::PowerLoss {
                batch_survives: true,
            } => infallible(Memory::<A>(self.durable).persist(records)),
            FailingWrite::PowerLoss {
                batch_survives: false,
            } => {
                records.clear();
                if self.bugs.lost_batch_reported_persisted() {
                    return Ok(());
                }
            }
            FailingWrite::FsyncError => records.clear(),
        }
        Err(WriteFailed(self.write))
    }
}

/// Steps the up member like [`Slot::step`], except that if the step has
/// anything to persist, the write fails as `write` says: nothing of the
/// step leaves, and the error tells the caller to take the member down. A
/// step with nothing to persist completes normally and returns `Ok` (the
/// disk fault is still to come).
pub fn step_on_failing_disk<A, C, O>(
    slot: &mut Slot<A, C>,
    stepper: &mut Stepper<A::Node>,
    now: Time,
    rng: &mut dyn RngCore,
    input: Input<MessageOf<A>>,
    write: FailingWrite,
    outputs: &mut O,
) -> Result<(), WriteFailed>
where
    A: Algorithm,
    C: LocalClock,
    O: Outputs<MessageOf<A>>,
{
    let local = slot.local(now);
    let node = slot.node.as_mut().expect("only an up member steps");
    let step = FailingStep {
        write,
        bugs: DiskBugs::default(),
    };
    let member = Member::<A> {
        node,
        durable: &mut slot.durable,
    };
    step.run(stepper, member, local, rng, input, outputs)
}

/// The member a [`FailingStep`] steps: its node and the durable state its
/// disk holds, borrowed from wherever the runner keeps them.
pub struct Member<'a, A: Algorithm> {
    pub node: &'a mut A::Node,
    pub durable: &'a mut A::Durable,
}

/// One step of a node whose next write fails, for runners that keep node
/// and durable state their own way (the model checker keeps them behind
/// `Arc`s): [`step_on_failing_disk`] without the [`Slot`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FailingStep {
    pub write: FailingWrite,
    pub bugs: DiskBugs,
}

impl FailingStep {
    /// Steps `member` at its local time `now`; see [`step_on_failing_disk`].
    pub fn run<A, O>(
        self,
        stepper: &mut Stepper<A::Node>,
        member: Member<'_, A>,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<MessageOf<A>>,
        outputs: &mut O,
    ) -> Result<(), WriteFailed>
    where
        A: Algorithm,
        O: Outputs<MessageOf<A>>,
    {
        let Member { node, durable } = member;
        stepper.stage(node, now, rng, input);
        if stepper.staged().persist.is_empty() {
            infallible(stepper.apply(&mut Memory::<A>(durable), outputs));
            return Ok(());
        }
        let mut disk = FailingDisk::<A> {
            durable,
            write: self.write,
            bugs: self.bugs,
        };
        stepper.apply(&mut disk, outputs)?;
        // Only a deliberate bug gets here: the write was reported done, and
        // the power loss takes the node down right after its sends.
        Err(WriteFailed(self.write))
    }
}

/// What a crashed member whose synced data is damaged restarts from:
/// nothing, for it refuses to start (recovery never drops synced data, so
/// it stays down until its data is replaced); with the deliberate bug,
/// blank durable state.
pub fn recover_damaged<A: Algorithm>(bugs: DiskBugs) -> Option<A::Durable> {
    bugs.damaged_restart_blank().then(A::Durable::default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::client::ClientReply;
    use crate::core::node::NodeId;
    use crate::core::raft::{Body, LogIndex, Message, Term, VoteRequest};
    use crate::harness::algorithm::Raft;
    use crate::harness::clock::ExactClock;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[derive(Default)]
    struct Sent(usize);

    impl<M> Outputs<M> for Sent {
        fn send(&mut self, _to: NodeId, _message: M) {
            self.0 += 1;
        }
        fn reply(&mut self, _reply: ClientReply) {
            self.0 += 1;
        }
    }

    /// Node 2 asks for node 1's vote in term 1: granting it persists the
    /// new term and the vote before the answer may leave.
    fn vote_request() -> Input<Message> {
        let request = VoteRequest {
            pre_vote: false,
            last_log_index: LogIndex::ZERO,
            last_log_term: Term::ZERO,
            transfer: false,
        };
        Input::Message {
            from: 2,
            message: Message {
                term: Term::new(1),
                body: Body::VoteRequest(request),
            },
        }
    }

    fn start() -> (Slot<Raft>, ChaCha8Rng) {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let slot = Slot::start(&Raft::default(), 1, &[1, 2, 3], ExactClock, NOW, &mut rng);
        (slot, rng)
    }

    const NOW: Time = Time::ZERO;

    fn grant_on(write: FailingWrite) -> (Slot<Raft>, Result<(), WriteFailed>, usize) {
        let (mut slot, mut rng) = start();
        let mut sent = Sent::default();
        let result = step_on_failing_disk(
            &mut slot,
            &mut Stepper::default(),
            NOW,
            &mut rng,
            vote_request(),
            write,
            &mut sent,
        );
        (slot, result, sent.0)
    }

    #[test]
    fn on_a_healthy_disk_the_vote_is_persisted_and_sent() {
        let (mut slot, mut rng) = start();
        let mut sent = Sent::default();
        slot.step(
            &mut Stepper::default(),
            NOW,
            &mut rng,
            vote_request(),
            &mut sent,
        );
        assert_eq!(sent.0, 1, "the vote is granted");
        assert_eq!(slot.durable.hard_state.term, Term::new(1));
    }

    #[test]
    fn a_failed_write_lets_nothing_out_and_keeps_the_batch_only_if_it_survived() {
        let writes = [
            (
                FailingWrite::PowerLoss {
                    batch_survives: true,
                },
                true,
            ),
            (
                FailingWrite::PowerLoss {
                    batch_survives: false,
                },
                false,
            ),
            (FailingWrite::FsyncError, false),
        ];
        for (write, kept) in writes {
            let (slot, result, sent) = grant_on(write);
            assert_eq!(result, Err(WriteFailed(write)));
            assert_eq!(sent, 0, "{write:?}: nothing leaves a failed write");
            let term = slot.durable.hard_state.term;
            assert_eq!(term == Term::new(1), kept, "{write:?}: durable term {term}");
        }
    }
}
