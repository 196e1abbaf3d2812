//! The client operations a raft-rs leader owes an answer, and when each is
//! answered — with electorate's Raft's rules, so the two face the same
//! client history checks: a write once its entry is applied, a ReadIndex
//! read once raft-rs confirms its read index and the state machine has
//! reached it; when leadership ends, writes are answered "outcome unknown"
//! (a successor may still commit them) and reads "not the leader" (they
//! never happened).

use std::collections::BTreeMap;

use crate::core::client::{ClientError, ClientReply, Outcome, RequestId};
use crate::core::kv::KvStore;

#[derive(Clone, Debug, Default)]
pub struct Pending {
    /// Writes proposed, by the log index raft-rs appended them at.
    writes: BTreeMap<u64, RequestId>,
    /// Reads handed to raft-rs's ReadIndex, with their keys.
    reads_in_flight: BTreeMap<RequestId, String>,
    /// Reads whose read index raft-rs confirmed (a quorum acknowledged the
    /// leader after the read arrived), in confirmation order: read index,
    /// request, key.
    reads_confirmed: Vec<(u64, RequestId, String)>,
    /// Reads that arrived before the leader committed an entry of its own
    /// term. raft-rs silently drops a ReadIndex request then; the adapter
    /// holds them and hands them over once it has (as TiKV retries them).
    reads_deferred: Vec<(RequestId, String)>,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
            && self.reads_in_flight.is_empty()
            && self.reads_confirmed.is_empty()
            && self.reads_deferred.is_empty()
    }

    pub fn write_proposed(&mut self, index: u64, id: RequestId) {
        let previous = self.writes.insert(index, id);
        assert!(previous.is_none(), "one proposal per log index");
    }

    pub fn defer_read(&mut self, id: RequestId, key: String) {
        self.reads_deferred.push((id, key));
    }

    /// The deferred reads, to hand to ReadIndex now.
    pub fn take_deferred_reads(&mut self) -> Vec<(RequestId, String)> {
        std::mem::take(&mut self.reads_deferred)
    }

    pub fn has_deferred_reads(&self) -> bool {
        !self.reads_deferred.is_empty()
    }

    pub fn read_submitted(&mut self, id: RequestId, key: String) {
        self.reads_in_flight.insert(id, key);
    }

    /// raft-rs confirmed the read `id` at `index` (unknown ids are reads of
    /// an earlier leadership, already answered).
    pub fn read_confirmed(&mut self, id: RequestId, index: u64) {
        if let Some(key) = self.reads_in_flight.remove(&id) {
            self.reads_confirmed.push((index, id, key));
        }
    }

    /// The entry at `index` was applied, with `outcome`; `proposer` is the
    /// request the entry carries. A pending write at that index whose
    /// request is another was overwritten: its own entry is gone from this
    /// log, but it may live on in a successor's, so its outcome is unknown.
    pub fn applied(
        &mut self,
        index: u64,
        proposer: Option<RequestId>,
        outcome: Option<Outcome>,
        replies: &mut Vec<ClientReply>,
    ) {
        let Some(id) = self.writes.remove(&index) else {
            return;
        };
        let result = match outcome {
            Some(outcome) if proposer == Some(id) => Ok(outcome),
            _ => Err(ClientError::LeadershipLost),
        };
        replies.push(ClientReply { id, result });
    }

    /// Answers every confirmed read whose read index the state machine has
    /// reached.
    pub fn serve_reads(&mut self, applied: u64, kv: &KvStore, replies: &mut Vec<ClientReply>) {
        self.reads_confirmed.retain(|(index, id, key)| {
            if *index > applied {
                return true;
            }
            replies.push(ClientReply {
                id: *id,
                result: Ok(Outcome::Read(kv.read(key))),
            });
            false
        });
    }

    /// Leadership ended: answers everything still owed.
    pub fn step_down(&mut self, replies: &mut Vec<ClientReply>) {
        for (_, id) in std::mem::take(&mut self.writes) {
            replies.push(ClientReply {
                id,
                result: Err(ClientError::LeadershipLost),
            });
        }
        let in_flight = std::mem::take(&mut self.reads_in_flight).into_keys();
        let confirmed = std::mem::take(&mut self.reads_confirmed)
            .into_iter()
            .map(|(_, id, _)| id);
        let deferred = std::mem::take(&mut self.reads_deferred)
            .into_iter()
            .map(|(id, _)| id);
        for id in in_flight.chain(confirmed).chain(deferred) {
            replies.push(ClientReply {
                id,
                result: Err(ClientError::NotLeader { leader_hint: None }),
            });
        }
    }
}
