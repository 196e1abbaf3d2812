//! Foreign Raft implementations behind electorate's node interface, so the
//! simulator, its safety monitors and the linearizability check judge them
//! exactly as they judge electorate's own core.

pub mod probe;
pub mod raft_rs;
