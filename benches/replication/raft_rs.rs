//! The same 3-node in-memory cluster on raft-rs (crates.io `raft` 0.7):
//! `RawNode` over `MemStorage`, messages moved between nodes in process,
//! each `Ready` handled the way raft-rs's own examples do (send, apply,
//! persist entries and hard state, send the persisted messages, advance).
//! A batch of writes is one proposal message carrying every entry, handled
//! in one `Ready`, with `batch_append` on: raft-rs's own batching.

use std::collections::{BTreeMap, VecDeque};

use raft::eraftpb::{ConfState, Entry, EntryType, Message, MessageType};
use raft::storage::MemStorage;
use raft::{Config, RawNode, StateRole};

pub struct RaftRsCluster {
    nodes: Vec<RawNode<MemStorage>>,
    /// Each node's state machine: the key-value map the writes update.
    applied: Vec<BTreeMap<Vec<u8>, u64>>,
    in_flight: VecDeque<Message>,
    /// Writes the leader (node 1) has applied: its committed writes.
    committed_on_leader: u64,
}

impl RaftRsCluster {
    pub fn new(size: u64) -> RaftRsCluster {
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let voters: Vec<u64> = (1..=size).collect();
        let nodes = voters
            .iter()
            .map(|&id| {
                let config = Config {
                    id,
                    election_tick: 10,
                    heartbeat_tick: 3,
                    pre_vote: true,
                    check_quorum: true,
                    // electorate's defaults: up to 64 entries per append
                    // (a batch fits one message) and 256 appends in flight.
                    max_size_per_msg: u64::MAX,
                    max_inflight_msgs: 256,
                    // electorate tells followers of a commit on the next
                    // append, not with an extra round; so does this.
                    skip_bcast_commit: true,
                    // raft-rs's own coalescing: appends to a follower still
                    // waiting in the node's message buffer take the new
                    // entries (the counterpart of electorate's batching).
                    batch_append: true,
                    ..Config::default()
                };
                let storage =
                    MemStorage::new_with_conf_state(ConfState::from((voters.clone(), vec![])));
                RawNode::new(&config, storage, &logger).expect("a valid raft-rs config")
            })
            .collect();
        RaftRsCluster {
            nodes,
            applied: vec![BTreeMap::new(); size as usize],
            in_flight: VecDeque::new(),
            committed_on_leader: 0,
        }
    }

    /// Node 1 campaigns; the cluster runs until quiet.
    pub fn elect(&mut self) -> bool {
        self.nodes[0].campaign().expect("campaign");
        self.run();
        self.nodes[0].raft.state == StateRole::Leader
    }

    /// Proposes one write to the leader.
    pub fn submit(&mut self, key: &[u8], value: u64) {
        self.nodes[0]
            .propose(vec![], write_data(key, value))
            .expect("the leader accepts");
    }

    /// Proposes writes of `key` to each of `values` to the leader in one
    /// proposal message (what `RawNode::propose` sends, with every entry
    /// in it), so they are appended, and sent to each follower, together.
    pub fn submit_batch(&mut self, key: &[u8], values: std::ops::Range<u64>) {
        let entries: Vec<Entry> = values
            .map(|value| Entry {
                data: write_data(key, value).into(),
                ..Default::default()
            })
            .collect();
        let mut proposal = Message::default();
        proposal.set_msg_type(MessageType::MsgPropose);
        proposal.from = self.nodes[0].raft.id;
        proposal.set_entries(entries.into());
        self.nodes[0].step(proposal).expect("the leader accepts");
    }

    pub fn committed_on_leader(&self) -> u64 {
        self.committed_on_leader
    }

    /// Handles every node's Ready and delivers messages until quiet.
    pub fn run(&mut self) {
        loop {
            let mut progressed = false;
            for index in 0..self.nodes.len() {
                progressed |= self.handle_ready(index);
            }
            while let Some(message) = self.in_flight.pop_front() {
                progressed = true;
                let to = (message.to - 1) as usize;
                // A message the protocol refuses is dropped, as on a wire.
                let _ = self.nodes[to].step(message);
            }
            if !progressed {
                return;
            }
        }
    }

    fn handle_ready(&mut self, index: usize) -> bool {
        if !self.nodes[index].has_ready() {
            return false;
        }
        let mut ready = self.nodes[index].ready();
        self.in_flight.extend(ready.take_messages());
        let committed = ready.take_committed_entries();
        self.apply(index, committed);
        {
            let store = self.nodes[index].raft.raft_log.store.clone();
            let mut store = store.wl();
            store.append(ready.entries()).expect("append to memory");
            if let Some(hard_state) = ready.hs() {
                store.set_hardstate(hard_state.clone());
            }
        }
        self.in_flight.extend(ready.take_persisted_messages());
        let mut light = self.nodes[index].advance(ready);
        if let Some(commit) = light.commit_index() {
            let store = self.nodes[index].raft.raft_log.store.clone();
            store.wl().mut_hard_state().set_commit(commit);
        }
        self.in_flight.extend(light.take_messages());
        let committed = light.take_committed_entries();
        self.apply(index, committed);
        self.nodes[index].advance_apply();
        true
    }

    fn apply(&mut self, index: usize, entries: Vec<Entry>) {
        for entry in entries {
            if entry.get_entry_type() != EntryType::EntryNormal || entry.data.len() < 8 {
                continue; // the leader's empty entry of its term
            }
            let (key, value) = entry.data.split_at(entry.data.len() - 8);
            let value = u64::from_le_bytes(value.try_into().expect("8 bytes"));
            // As electorate's state machine: copy the key only when new.
            match self.applied[index].get_mut(key) {
                Some(slot) => *slot = value,
                None => {
                    self.applied[index].insert(key.to_vec(), value);
                }
            }
            if index == 0 {
                self.committed_on_leader += 1;
            }
        }
    }
}

/// A write's entry data: the key, then the value's 8 bytes.
fn write_data(key: &[u8], value: u64) -> Vec<u8> {
    let mut data = Vec::with_capacity(key.len() + 8);
    data.extend_from_slice(key);
    data.extend_from_slice(&value.to_le_bytes());
    data
}
