//! Target `decode_then_step`: a fuzzer-chosen sequence of ticks, client
//! requests, operator inputs and peer messages, every one of them encoded and decoded on the
//! way in, drives one Raft node of a 3-node cluster. Nothing may panic, the
//! node's invariants must hold after every step, its persist records must
//! rebuild its durable state, and everything it sends must round-trip
//! through the codec too.

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::codec::fuzzing::fuzz_codec;
use crate::codec::{Codec, Family, Frame, Payload};
use crate::core::client::ClientReply;
use crate::core::raft::{Body, Config, DurableState, Message, RaftNode, Term};
use crate::core::{ClientRequest, Input, Node, NodeId, Time};
use crate::harness::algorithm::Raft;
use crate::harness::apply::{infallible, Check, Outputs, Stepper};
use crate::harness::memory::Memory;

/// The node under test is member 1 of {1, 2, 3}.
const NODE: NodeId = 1;
const MEMBERS: [NodeId; 3] = [1, 2, 3];
/// Bounds the work of one input, so a long input cannot time out the run.
const MAX_STEPS: usize = 512;

#[derive(Arbitrary, Debug)]
enum Step {
    /// Local time advances by up to 255 ms, then the node is ticked.
    Tick {
        advance_ms: u8,
    },
    /// A structured message from sender `from` (see [`sender`]).
    Deliver {
        from: u8,
        message: Message,
    },
    /// A message whose term is the node's own, give or take a little:
    /// guessing a 64-bit term exactly is what keeps a fuzzer from ever
    /// winning an election for the node, and so from the leader's code.
    DeliverNearTerm {
        from: u8,
        term_offset: i8,
        body: Body,
    },
    /// Raw bytes behind a valid header: mostly rejected, sometimes a message
    /// no `Arbitrary` derive would have built.
    DeliverRaw {
        from: u8,
        body: Vec<u8>,
    },
    Client(ClientRequest),
    TransferLeadership {
        to: u8,
    },
    Campaign,
    /// An operator asks for a snapshot now: compaction, and then appends
    /// and snapshot transfers from a compacted log, reach the fuzzer.
    Snapshot,
}

/// Senders 0 to 4: a client id, the node itself, its two peers and a
/// stranger, so the node's sender checks are exercised too.
fn sender(from: u8) -> NodeId {
    NodeId::from(from % 5)
}

pub fn decode_then_step(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let Ok(seed) = u64::arbitrary(&mut input) else {
        return;
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let codec = fuzz_codec();
    let mut node = RaftNode::new(NODE, &MEMBERS, Config::default(), Time::ZERO, &mut rng)
        .expect("the default configuration is valid");
    let mut durable = DurableState::default();
    let mut now = Time::ZERO;
    let mut stepper = Stepper::new(Check::Invariants);
    let mut outputs = RoundTrip(codec.with_max_frame_len(crate::codec::DEFAULT_MAX_FRAME_LEN));
    for _ in 0..MAX_STEPS {
        let Ok(step) = Step::arbitrary(&mut input) else {
            return;
        };
        if let Step::Tick { advance_ms } = step {
            now = now.saturating_add(Duration::from_millis(u64::from(advance_ms)));
        }
        let Some(input) = decode_input(&codec, step, node.term()) else {
            continue;
        };
        let mut memory = Memory::<Raft>(&mut durable);
        infallible(stepper.step(&mut node, now, &mut rng, input, &mut memory, &mut outputs));
        assert_eq!(
            durable,
            node.durable_state(),
            "persist records diverge from the node"
        );
    }
}

/// `term` moved by `offset` folded into -2..=2, without wrapping.
fn near(term: u64, offset: i8) -> Term {
    Term::new(term.saturating_add_signed(i64::from(offset % 3)))
}

/// Turns a step into the node's input, sending messages and requests
/// through the codec first. `None` when the bytes do not decode (or decode
/// to something a Raft node is never handed).
fn decode_input(codec: &Codec, step: Step, node_term: u64) -> Option<Input<Message>> {
    let frame = match step {
        Step::Tick { .. } => return Some(Input::Tick),
        Step::TransferLeadership { to } => {
            return Some(Input::TransferLeadership { to: sender(to) })
        }
        Step::Campaign => return Some(Input::Campaign),
        Step::Snapshot => return Some(Input::Snapshot),
        Step::Deliver { from, message } => round_trip(codec, sender(from), Payload::Raft(message))?,
        Step::DeliverNearTerm {
            from,
            term_offset,
            body,
        } => {
            let term = near(node_term, term_offset);
            round_trip(codec, sender(from), Payload::Raft(Message { term, body }))?
        }
        Step::Client(request) => round_trip(codec, 0, Payload::ClientRequest(request))?,
        Step::DeliverRaw { from, body } => codec
            .decode(&codec.seal_raw_body(Family::Raft, sender(from), &body))
            .ok()?,
    };
    match frame.payload {
        Payload::Raft(message) => Some(Input::Message {
            from: frame.sender,
            message,
        }),
        Payload::ClientRequest(request) => Some(Input::Client(request)),
        Payload::ClientBatch(requests) => Some(Input::ClientBatch(requests)),
        // Replies go to clients; Bully, Ring, lock-service and foreign
        // frames to other protocols.
        Payload::ClientReply(_)
        | Payload::Bully(_)
        | Payload::Ring(_)
        | Payload::Foreign(_)
        | Payload::Lock(_) => None,
    }
}

/// Encodes and decodes one frame, which must come back unchanged. `None`
/// only when it is too large for the codec's limit.
pub(super) fn round_trip(codec: &Codec, sender: NodeId, payload: Payload) -> Option<Frame> {
    let frame = Frame { sender, payload };
    let bytes = codec.encode_to_vec(&frame).ok()?;
    let decoded = codec.decode(&bytes).expect("an encoded frame decodes");
    assert_eq!(decoded, frame, "round trip changed the frame");
    Some(decoded)
}

/// The node's output, each message and reply checked to round-trip
/// through the codec (under the default frame limit) as it leaves.
struct RoundTrip(Codec);

impl Outputs<Message> for RoundTrip {
    fn send(&mut self, _to: NodeId, message: Message) {
        round_trip(&self.0, NODE, Payload::Raft(message))
            .expect("the node's messages fit in a frame");
    }

    fn reply(&mut self, reply: ClientReply) {
        round_trip(&self.0, NODE, Payload::ClientReply(reply))
            .expect("the node's replies fit in a frame");
    }
}
