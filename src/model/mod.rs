//! Exhaustive model checking of the production state machines with
//! stateright.
//!
//! A model spec (`models/*.toml`, see [`spec`]) describes one bounded
//! configuration: the algorithm and its options, the cluster, the network,
//! faults, clocks, the bounds of the search, the client operations and the
//! expected outcome. [`cluster::ClusterModel`] turns it into a stateright
//! [`Model`](stateright::Model) for any algorithm variant: its transitions
//! call `Node::step` on the real nodes, with explicit real time and
//! drifting local clocks, a network that may reorder, lose and duplicate,
//! crashes and restarts from durable state, disk faults ([`disk`]: power
//! lost during a write, a restart on damaged storage), and, for a variant with the
//! capability ([`variant`]), clients whose history must stay linearizable
//! ([`clients`]) and leadership transfers. [`run::check_spec`] runs the
//! search and compares the outcome with the spec; `electorate check` and
//! `tests/models.rs` are built on it. [`symmetry`] explores Raft states that
//! differ only in node names once.
//!
//! Snapshots: `raft.snapshot_every` makes the nodes compact their logs, and
//! the monitors judge the compacted logs (a compacted prefix is committed
//! and equal to its snapshot); `cluster.crash_before_compaction` adds a
//! crash between a snapshot's record and the compaction ([`disk`]); the
//! `sometimes` goals "a snapshot is taken", "a snapshot is installed" and
//! the restart after such a crash show a spec takes those paths.
//! `raft.deliberate_bugs` turns on a planted bug of the core, for a spec
//! whose `[expect]` names the property it breaks.
//!
//! Timeouts and the operator: `time.jitter = "extremes"` explores each
//! election-timeout draw as the shortest and the longest of its range
//! ([`rng`]); `cluster.max_campaigns` and `cluster.max_snapshots` add the
//! operator's campaign and snapshot inputs beside its transfers. Each
//! search records which kinds of input and message it delivered
//! ([`delivered`]).

pub mod action;
pub mod clients;
pub mod cluster;
pub mod delivered;
pub mod disk;
pub mod network;
pub mod operations;
pub mod properties;
pub mod register;
pub mod rng;
pub mod run;
pub mod spec;
mod spec_file;
pub mod state;
pub mod step;
pub mod symmetry;
pub mod trace;
pub mod variant;

pub use cluster::{ClusterModel, RaftModel};
pub use run::{check_model, check_spec, CheckOptions, SpecReport};
pub use spec::{ModelSpec, SpecError};
pub use variant::ModelVariant;
