//! Client operations under Bully and Ring: the node that believes it leads
//! applies them to its own [`KvStore`] at once and answers; any other node
//! redirects. Nothing is replicated and nothing waits for a quorum, so two
//! nodes that both believe they lead (split brain) both serve reads and
//! writes, which the linearizability checker and the Lease Safety monitor
//! are there to show.

use crate::core::client::{ClientError, ClientReply, ClientRequest, Operation, Outcome};
use crate::core::kv::KvStore;
use crate::core::node::{Actions, NodeId};

/// Answers `request` in `out`: applied to `kv` if `leads`, otherwise
/// `NotLeader` with the leader this node believes in.
pub fn serve<M, P>(
    kv: &mut KvStore,
    leads: bool,
    leader_hint: Option<NodeId>,
    request: ClientRequest,
    out: &mut Actions<M, P>,
) {
    out.replies.push(answer(kv, leads, leader_hint, request));
}

fn answer(
    kv: &mut KvStore,
    leads: bool,
    leader_hint: Option<NodeId>,
    request: ClientRequest,
) -> ClientReply {
    if !leads {
        return ClientReply {
            id: request.id,
            result: Err(ClientError::NotLeader { leader_hint }),
        };
    }
    let outcome = match &request.operation {
        Operation::Read { key } => Outcome::Read(kv.read(key)),
        Operation::Write { key, value } => kv.write(key, *value),
        Operation::CompareAndSet { key, expected, new } => kv.compare_and_set(key, *expected, *new),
    };
    ClientReply {
        id: request.id,
        result: Ok(outcome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::client::RequestId;

    fn request(sequence: u64, operation: Operation) -> ClientRequest {
        ClientRequest {
            id: RequestId {
                client: 1,
                sequence,
            },
            operation,
        }
    }

    #[test]
    fn a_leader_applies_at_once_and_a_follower_redirects() {
        let mut kv = KvStore::default();
        let write = request(
            1,
            Operation::Write {
                key: "x".into(),
                value: 7,
            },
        );
        let redirected = answer(&mut kv, false, Some(5), write.clone());
        assert_eq!(
            redirected.result,
            Err(ClientError::NotLeader {
                leader_hint: Some(5)
            })
        );
        assert_eq!(kv.read("x"), None, "a follower must not apply");
        assert_eq!(
            answer(&mut kv, true, Some(1), write).result,
            Ok(Outcome::Written)
        );
        let read = request(2, Operation::Read { key: "x".into() });
        assert_eq!(
            answer(&mut kv, true, Some(1), read).result,
            Ok(Outcome::Read(Some(7)))
        );
    }
}
