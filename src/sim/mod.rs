//! Deterministic simulation of whole clusters of core nodes.

pub mod cluster;
