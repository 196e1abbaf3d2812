//! Running the core for real: threads, the monotonic clock, sockets and
//! disk — the same `RaftNode` the simulator and the model checker step.
//!
//! - [`node`]: the node loop (step with real time, fsync, then send) and the
//!   [`node::Transport`] it sends through.
//! - [`mailbox`]: the bounded hand-off between threads, over the [`sync`]
//!   shim that is `std` normally and loom under `--cfg loom`.
//! - [`storage`]: term, vote and log on disk, the interface the loop
//!   persists through, and a simulated disk that loses and corrupts writes.
//! - [`memory`] and [`tcp`]: in-process channels for tests, TCP with the
//!   codec's frames for real clusters.
//! - [`client`]: the client library (leader hints, retries, timeouts) and
//!   the history it records; [`cluster`]: `electorate cluster`'s
//!   multi-process cluster, workload, leader kills and failover figures.
//! - [`metrics`]: the node's Prometheus metrics and `GET /metrics`;
//!   [`tuning`]: every timing and limit, from flags and a TOML file.
//! - [`health`]: a leader with a slow or failing disk hands over.

pub mod client;
pub mod cluster;
pub mod crash_sim;
pub mod health;
pub mod mailbox;
pub mod memory;
pub mod metrics;
pub mod node;
pub mod storage;
pub mod sync;
pub mod tcp;
pub mod tuning;
