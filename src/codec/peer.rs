//! Peer messages of every protocol family behind one trait, so generic code
//! (the simulator's byte counts, a driver for any algorithm) can frame a
//! message without knowing which protocol it belongs to.

use crate::codec::frame::{Family, Payload, HEADER_LEN};
use crate::codec::{bully, lock, raft, ring};
use crate::core::lock_service::LockMessage;
use crate::core::{bully as core_bully, raft as core_raft, ring as core_ring};

/// A message one node sends another, with its place in the wire format.
pub trait PeerMessage: Clone {
    /// The family its frames carry in their header.
    const FAMILY: Family;

    /// Appends the frame body (tag and fields, no header) to `out`.
    fn encode_body(&self, out: &mut Vec<u8>);

    /// Wraps the message as a frame payload.
    fn into_payload(self) -> Payload;

    /// The bytes a frame carrying this message takes on the wire, header
    /// included. `scratch` is reused between calls so counting every message
    /// of a simulation allocates nothing in steady state.
    fn frame_len(&self, scratch: &mut Vec<u8>) -> usize {
        scratch.clear();
        self.encode_body(scratch);
        HEADER_LEN + scratch.len()
    }
}

/// Each family's message goes on the wire as its own codec module encodes
/// it, in the payload variant of the same name.
macro_rules! peer_message {
    ($message:ty, $family:ident, $codec:ident) => {
        impl PeerMessage for $message {
            const FAMILY: Family = Family::$family;

            fn encode_body(&self, out: &mut Vec<u8>) {
                $codec::encode(self, out)
            }

            fn into_payload(self) -> Payload {
                Payload::$family(self)
            }
        }
    };
}

peer_message!(core_raft::Message, Raft, raft);
peer_message!(core_bully::Message, Bully, bully);
peer_message!(core_ring::Message, Ring, ring);
peer_message!(LockMessage, Lock, lock);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Codec, Frame};
    use crate::core::chassis::Epoch;

    #[test]
    fn frame_len_is_the_length_of_the_encoded_frame() {
        let codec = Codec::new(1);
        let mut scratch = Vec::new();
        let raft = core_raft::Message {
            term: core_raft::Term::new(300),
            body: core_raft::Body::HeartbeatResponse(core_raft::HeartbeatResponse {
                round: core_raft::Round::new(1 << 20),
            }),
        };
        let ring = core_ring::Message {
            epoch: Epoch::new(2),
            body: core_ring::Body::Election {
                candidate: 3,
                hop: 900,
            },
        };
        let bully = core_bully::Message {
            epoch: Epoch::new(1 << 40),
            body: core_bully::Body::Answer,
        };
        let encoded_len = |payload| {
            codec
                .encode_to_vec(&Frame { sender: 1, payload })
                .unwrap()
                .len()
        };
        assert_eq!(
            raft.frame_len(&mut scratch),
            encoded_len(raft.into_payload())
        );
        assert_eq!(
            ring.frame_len(&mut scratch),
            encoded_len(ring.into_payload())
        );
        assert_eq!(
            bully.frame_len(&mut scratch),
            encoded_len(bully.into_payload())
        );
    }
}
