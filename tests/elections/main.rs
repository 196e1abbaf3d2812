//! The election algorithms on one harness: Bully and Ring stepped
//! directly (`bully`, `ring`, with what their nodes share in
//! `unreplicated`), and the tests every algorithm shares —
//! liveness and the split brains of a partition — written once over the
//! `Algorithm` trait and run on Raft, Bully and Ring alike (`generic`), all
//! on the simulator's cluster.

#[path = "../support/mod.rs"]
mod support;

mod bully;
mod generic;
mod ring;
mod unreplicated;
