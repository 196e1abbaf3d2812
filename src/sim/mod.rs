//! Deterministic simulation of whole clusters of core nodes: simulated real
//! time, drifting local clocks, an explicit network, crashes and pauses. The
//! same seed gives the same run.
//!
//! - [`simulation`]: the seeded, event-driven simulator for any
//!   [`crate::harness::algorithm::Algorithm`], with monitors, metrics and client histories;
//! - [`swarm`]: draws per-seed fault rates and schedules (swarm testing);
//! - [`cluster`] and [`scenario`]: a Raft cluster under manual control, for
//!   the scenario files.

pub mod agenda;
pub mod clock;
pub mod cluster;
pub mod experiments;
pub mod faults;
pub mod lock_service;
pub mod lockstep;
pub mod metrics;
pub mod network;
pub mod partition;
pub mod scenario;
pub mod simulation;
pub mod swarm;
pub mod trace;
pub mod units;
pub mod validate;
pub mod workload;
