//! The simulator's figures are the harness's statistics
//! ([`crate::harness::stats`]); this path keeps the simulator's callers'
//! imports.

pub use crate::harness::stats::{
    duration_micros, micros_between, millis, percentile, Distribution, Metrics, Summary,
};
