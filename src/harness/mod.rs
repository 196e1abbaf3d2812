//! What every checker and runner shares above the core, so none of them
//! imports another for it and the core's contract is applied in one place:
//!
//! - [`algorithm`]: an algorithm variant ([`algorithm::Algorithm`]: how its
//!   nodes start, restart and store what survives a crash);
//! - [`apply`]: the step-and-apply loop ([`apply::Stepper`]): one input, then
//!   persist every record, then send, then reply, then report events, with
//!   the persist and send targets as type parameters;
//! - [`memory`]: in-memory durable state as a persist target, and
//!   [`disk`]: one whose next write fails (power loss, fsync error);
//! - [`slot`] and [`clock`]: one member (node, durable state, local clock);
//! - [`views`]: the nodes as the safety monitors see them;
//! - [`stats`]: the figures a run measures;
//! - [`lock_service`]: the lock-service variants, whose service (store and
//!   protected resource) runs as one more member beside the candidates.
//!
//! The simulator, the lockstep cluster, the driver's node loop, the crash
//! simulator and the fuzz step target run on it.

pub mod algorithm;
pub mod apply;
pub mod clock;
pub mod disk;
pub mod lock_service;
pub mod memory;
pub mod slot;
pub mod stats;
pub mod views;
