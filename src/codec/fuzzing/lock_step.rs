//! Target `decode_then_step_lock`: a fuzzer-chosen sequence of ticks and
//! lock-service messages, every one of them encoded and decoded on the way
//! in, drives one member of a lock-service run — a lease-lock candidate
//! (expiry decided by the store or by the challengers), a zk-sequential
//! candidate, or the service (the store and the fenced
//! resource) — of the run {1, 2, service 3}. Nothing may panic, the
//! member's invariants must hold after every step (a held token is a seen
//! revision, a zk leader's entry is the lowest, the store's and the
//! resource's own invariants), and everything it sends must round-trip
//! through the codec too.

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::codec::fuzzing::fuzz_codec;
use crate::codec::fuzzing::step::round_trip;
use crate::codec::{Codec, Family, Payload, DEFAULT_MAX_FRAME_LEN};
use crate::core::client::ClientReply;
use crate::core::lease_lock::{Config, Expiry};
use crate::core::lock_service::LockMessage;
use crate::core::{Input, Node, NodeId, Time};
use crate::harness::algorithm::{Algorithm, Boot};
use crate::harness::apply::{infallible, Check, Outputs, Stepper};
use crate::harness::lock_service::{LeaseLock, ZkSequential};
use crate::harness::memory::Memory;

/// Candidates 1 and 2; the service is the last member.
const MEMBERS: [NodeId; 3] = [1, 2, 3];
/// Bounds the work of one input, so a long input cannot time out the run.
const MAX_STEPS: usize = 512;

/// Which member of the run is under test.
#[derive(Arbitrary, Debug)]
enum Member {
    /// Candidate 1 of lease-lock, fencing on or off, its lease expired by
    /// the store or by the challengers.
    LeaseLock { fencing: bool, challenger: bool },
    /// Candidate 1 of zk-sequential, fencing on or off.
    ZkSequential { fencing: bool },
    /// The service (member 3) of a lease-lock run.
    Service { fencing: bool },
}

#[derive(Arbitrary, Debug)]
enum Step {
    /// Local time advances by up to 2.55 s in steps of 10 ms (leases and
    /// sessions last about a second), then the member is ticked.
    Tick { advance_10ms: u8 },
    /// A structured message from sender `from` (see [`sender`]).
    Deliver { from: u8, message: LockMessage },
    /// Raw bytes behind a valid header: mostly rejected, sometimes a
    /// message no `Arbitrary` derive would have built.
    DeliverRaw { from: u8, body: Vec<u8> },
}

/// Senders 0 to 4: a stranger, the candidates, the service and one more
/// stranger, so the member's sender checks are exercised too.
fn sender(from: u8) -> NodeId {
    NodeId::from(from % 5)
}

pub fn decode_then_step_lock(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let (Ok(seed), Ok(member)) = (u64::arbitrary(&mut input), Member::arbitrary(&mut input)) else {
        return;
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    match member {
        Member::LeaseLock {
            fencing,
            challenger,
        } => drive(
            LeaseLock {
                fencing,
                config: Config {
                    expiry: if challenger {
                        Expiry::Challenger
                    } else {
                        Expiry::Store
                    },
                    ..Config::default()
                },
            },
            1,
            &mut rng,
            &mut input,
        ),
        Member::ZkSequential { fencing } => drive(
            ZkSequential {
                fencing,
                ..ZkSequential::default()
            },
            1,
            &mut rng,
            &mut input,
        ),
        Member::Service { fencing } => drive(
            LeaseLock {
                fencing,
                ..LeaseLock::default()
            },
            3,
            &mut rng,
            &mut input,
        ),
    }
}

/// Steps member `id` of `algorithm`'s run with the rest of `input`.
fn drive<A>(algorithm: A, id: NodeId, rng: &mut ChaCha8Rng, input: &mut Unstructured<'_>)
where
    A: Algorithm<Node: Node<Message = LockMessage>>,
{
    assert_eq!(algorithm.service_members(), 1, "one service member");
    let codec = fuzz_codec();
    let mut node = algorithm.start(Boot::at_zero(id, &MEMBERS, rng));
    let mut durable = A::Durable::default();
    let mut now = Time::ZERO;
    let mut stepper = Stepper::new(Check::Invariants);
    let mut outputs = RoundTrip {
        codec: codec.with_max_frame_len(DEFAULT_MAX_FRAME_LEN),
        id,
    };
    for _ in 0..MAX_STEPS {
        let Ok(step) = Step::arbitrary(input) else {
            return;
        };
        if let Step::Tick { advance_10ms } = step {
            let advance = Duration::from_millis(10 * u64::from(advance_10ms));
            now = now.saturating_add(advance);
        }
        let Some(input) = decode_input(&codec, step) else {
            continue;
        };
        let mut memory = Memory::<A>(&mut durable);
        infallible(stepper.step(&mut node, now, rng, input, &mut memory, &mut outputs));
    }
}

/// Turns a step into the member's input, sending messages through the
/// codec first. `None` when the bytes do not decode (or decode to a frame
/// of another protocol).
fn decode_input(codec: &Codec, step: Step) -> Option<Input<LockMessage>> {
    let frame = match step {
        Step::Tick { .. } => return Some(Input::Tick),
        Step::Deliver { from, message } => round_trip(codec, sender(from), Payload::Lock(message))?,
        Step::DeliverRaw { from, body } => codec
            .decode(&codec.seal_raw_body(Family::Lock, sender(from), &body))
            .ok()?,
    };
    match frame.payload {
        Payload::Lock(message) => Some(Input::Message {
            from: frame.sender,
            message,
        }),
        _ => None,
    }
}

/// The member's output, each message checked to round-trip through the
/// codec (under the default frame limit) as it leaves. Lock-service
/// members answer no clients.
struct RoundTrip {
    codec: Codec,
    id: NodeId,
}

impl Outputs<LockMessage> for RoundTrip {
    fn send(&mut self, _to: NodeId, message: LockMessage) {
        round_trip(&self.codec, self.id, Payload::Lock(message))
            .expect("the member's messages fit in a frame");
    }

    fn reply(&mut self, reply: ClientReply) {
        panic!("a lock-service member answered a client: {reply:?}");
    }
}
