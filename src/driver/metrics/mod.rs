//! What a running node tells its operator: Prometheus metrics, counted
//! where the events happen, and the HTTP endpoint that serves them.
//!
//! - [`registry`]: the node's metrics ([`NodeMetrics`]), fed by the node
//!   loop from the core's `Event`s and the messages it sends and receives,
//!   and by the TCP listener from the connections it refuses.
//! - [`lease_claim`]: the interval of the lease a node holds, on
//!   CLOCK_MONOTONIC, from which `electorate cluster` computes its
//!   split-brain alert.
//! - [`server`]: `GET /metrics` in the text exposition format.
//! - [`exposition`]: reads that format back (what `electorate cluster`
//!   scrapes, with [`scrape`]), and [`clock`]: the node's clock on
//!   CLOCK_MONOTONIC.

pub mod clock;
pub mod exposition;
pub mod lease_claim;
pub mod registry;
pub mod scrape;
pub mod server;

pub use registry::NodeMetrics;
