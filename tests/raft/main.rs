//! Raft, one binary: the claims of the paper, each on a node stepped
//! directly (`paper`, and `replication` for the leader's use of a
//! rejection's hint and the follower's checks of an append), and on the
//! simulator's cluster under manual control the lease's safety under clock drift (`lease_safety`), partial
//! connectivity (`partial_connectivity`) and random faults checked by the
//! safety monitors (`chaos`); snapshots and log compaction, on a node and
//! on the cluster (`snapshots`). `fixtures` builds the nodes and messages
//! of the node-level tests. The tests Raft shares with Bully and Ring
//! (liveness, split brain) are in the `elections` binary.

#[path = "../support/mod.rs"]
mod support;

mod chaos;
mod fixtures;
mod lease_safety;
mod paper;
mod partial_connectivity;
mod replication;
mod snapshots;
