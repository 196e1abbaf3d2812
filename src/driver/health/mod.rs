//! Health-based abdication (the seed's pitfall 6): a leader whose disk is
//! slow or failing hands leadership to a healthy, up-to-date follower, so
//! the cluster's write latency is not set by its worst disk.
//!
//! - [`window`]: the sliding window of fsync latencies and its p99;
//! - [`decision`]: the pure decision — measurements and time in, a
//!   [`decision::Verdict`] out — table-tested;
//! - [`policy`]: the thin policy the node loop keeps: it feeds the window
//!   with the fsyncs the loop times, asks the decision after each turn,
//!   and turns a verdict into the core's leadership transfer;
//! - [`settings`]: the thresholds, validated.
//!
//! How a leader learns whether a follower is itself slow: the follower
//! knows, from its own window, and declines a hand-over while it is slow
//! (it ignores the leader's TimeoutNow, which to Raft is a lost message).
//! The leader sees the transfer lapse — it still leads when the transfer's
//! deadline has passed — and marks that follower slow for a window's
//! length, so it tries another or, when every follower is marked, stays.
//! Each try costs writes (a leader stops taking operations while a
//! transfer is pending), so declined tries back off exponentially, and a
//! leader every follower declined keeps them all marked for a window.
//! No message of the core's wire format changes.

pub mod decision;
pub mod policy;
pub mod settings;
pub mod window;

pub use decision::{decide, Declines, Follower, Measurements, Situation, StayReason, Verdict};
pub use policy::HealthPolicy;
pub use settings::{HealthError, HealthSettings};
pub use window::LatencyWindow;
