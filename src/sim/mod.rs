//! Deterministic simulation of whole clusters of core nodes: simulated real
//! time, drifting local clocks, an explicit network, crashes. The same seed
//! gives the same run.

pub mod clock;
pub mod cluster;
pub mod scenario;
