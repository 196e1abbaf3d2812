//! The node's Prometheus metrics, all prefixed `electorate_` (the README's
//! operations section lists them). The node loop feeds them from what it
//! already handles — the core's `Event`s, the messages it sends and
//! receives, its fsyncs and client replies — so there is no second
//! bookkeeping of the node's state to drift from the core.

use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Metric, Registry, Unit};

use crate::core::node::{DropReason, Event, NodeId, Role};
use crate::core::raft::{Body, Message, Term};

/// Per-peer counters carry the peer's node id.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PeerLabel {
    pub peer: u64,
}

/// Drop and refusal counters carry a short reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

/// A float gauge (seconds on CLOCK_MONOTONIC).
type SecondsGauge = Gauge<f64, AtomicU64>;

/// Any metric, so that one table can register them all.
#[derive(Debug)]
struct Registered(Box<dyn Metric>);

/// One row of the registration table: the name after the `electorate_`
/// prefix, the help text, the unit, and the metric itself.
type Row = (&'static str, &'static str, Option<Unit>, Box<dyn Metric>);

impl EncodeMetric for Registered {
    fn encode(&self, encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        self.0.encode(encoder)
    }

    fn metric_type(&self) -> MetricType {
        self.0.metric_type()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Why the listener closed a connection, as a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The bytes were not a frame of this cluster's codec.
    BadFrame,
    /// The sender is not a member, or claims to be this node, or a client
    /// claims a node id.
    UnknownSender,
    /// A frame of a kind the connection's caller may not send.
    UnexpectedFrame,
}

impl Refusal {
    pub fn label(self) -> &'static str {
        match self {
            Refusal::BadFrame => "bad_frame",
            Refusal::UnknownSender => "unknown_sender",
            Refusal::UnexpectedFrame => "unexpected_frame",
        }
    }
}

/// The label of a drop reason: its kind, without the numbers it carries,
/// so the label set stays small.
pub fn drop_reason_label(reason: &DropReason) -> &'static str {
    match reason {
        DropReason::UnknownSender => "unknown_sender",
        DropReason::StaleTerm { .. } => "stale_term",
        DropReason::UnexpectedForRole { .. } => "unexpected_for_role",
        DropReason::IndexOutOfRange { .. } => "index_out_of_range",
        DropReason::LeaderStillAlive { .. } => "leader_still_alive",
        DropReason::LeaderRecentlyHeard => "leader_recently_heard",
        DropReason::InvalidTarget { .. } => "invalid_target",
        DropReason::TermOutOfRange { .. } => "term_out_of_range",
        DropReason::Stale => "stale",
        DropReason::NoSnapshots => "no_snapshots",
    }
}

/// The drop reason of an input that never reached the core: the node's
/// inbox was full.
pub const INBOX_FULL: &str = "inbox_full";

/// Every metric a node exports, and the registry that encodes them.
#[derive(Debug)]
pub struct NodeMetrics {
    registry: Registry,
    pub term: Gauge,
    pub is_leader: Gauge,
    pub lease_valid: Gauge,
    /// When the latest lease claim began and ends, on CLOCK_MONOTONIC.
    pub lease_start_seconds: SecondsGauge,
    pub lease_expiry_seconds: SecondsGauge,
    /// When this node's loop started, on CLOCK_MONOTONIC: tells one
    /// incarnation of a node from the next (its counters start again at 0).
    pub start_time_seconds: SecondsGauge,
    pub commit_index: Gauge,
    pub applied_index: Gauge,
    pub elections: Counter,
    pub elections_won: Counter,
    pub leader_changes: Counter,
    pub heartbeats_sent: Family<PeerLabel, Counter>,
    pub heartbeat_acks: Family<PeerLabel, Counter>,
    pub write_latency_seconds: Histogram,
    pub fsync_latency_seconds: Histogram,
    pub dropped_inputs: Family<ReasonLabel, Counter>,
    pub refused_connections: Family<ReasonLabel, Counter>,
    pub abdications: Counter,
    pub leadership_declined: Counter,
    pub health_fsync_p99_seconds: SecondsGauge,
    pub marked_slow: Family<PeerLabel, Gauge>,
    pub snapshots_taken: Counter,
    pub snapshots_installed: Counter,
    /// The index the node's latest snapshot covers (its log starts after).
    pub snapshot_index: Gauge,
    /// How long this incarnation took to open its storage and rebuild its
    /// state (read the snapshot, replay the log after it).
    pub recovery_seconds: SecondsGauge,
    /// Log records this incarnation replayed on start.
    pub recovered_records: Gauge,
    /// Bytes of the log file on disk, as of the last turn.
    pub log_bytes: Gauge,
}

/// Latency buckets from 100 µs to about 3.3 s, doubling: fine enough for a
/// p99 of an fsync on a fast disk and of a write across a slow network.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
}

impl Default for NodeMetrics {
    fn default() -> Self {
        NodeMetrics::new()
    }
}

impl NodeMetrics {
    pub fn new() -> NodeMetrics {
        let mut metrics = NodeMetrics {
            registry: Registry::with_prefix("electorate"),
            term: Gauge::default(),
            is_leader: Gauge::default(),
            lease_valid: Gauge::default(),
            lease_start_seconds: SecondsGauge::default(),
            lease_expiry_seconds: SecondsGauge::default(),
            start_time_seconds: SecondsGauge::default(),
            commit_index: Gauge::default(),
            applied_index: Gauge::default(),
            elections: Counter::default(),
            elections_won: Counter::default(),
            leader_changes: Counter::default(),
            heartbeats_sent: Family::default(),
            heartbeat_acks: Family::default(),
            write_latency_seconds: latency_histogram(),
            fsync_latency_seconds: latency_histogram(),
            dropped_inputs: Family::default(),
            refused_connections: Family::default(),
            abdications: Counter::default(),
            leadership_declined: Counter::default(),
            health_fsync_p99_seconds: SecondsGauge::default(),
            marked_slow: Family::default(),
            snapshots_taken: Counter::default(),
            snapshots_installed: Counter::default(),
            snapshot_index: Gauge::default(),
            recovery_seconds: SecondsGauge::default(),
            recovered_records: Gauge::default(),
            log_bytes: Gauge::default(),
        };
        metrics.register();
        metrics
    }

    /// Registers every metric from one table of [`Row`]s: name (after the
    /// `electorate_` prefix), help, unit, metric.
    fn register(&mut self) {
        let table: [Row; 27] = [
            ("term", "The node's current term", None, Box::new(self.term.clone())),
            ("is_leader", "1 while the node leads", None, Box::new(self.is_leader.clone())),
            ("lease_valid", "1 while the node holds a valid leader lease (as of its last turn)", None, Box::new(self.lease_valid.clone())),
            ("lease_start", "When the node's latest lease claim began, on CLOCK_MONOTONIC", Some(Unit::Seconds), Box::new(self.lease_start_seconds.clone())),
            ("lease_expiry", "When the node's latest lease claim ends, on CLOCK_MONOTONIC", Some(Unit::Seconds), Box::new(self.lease_expiry_seconds.clone())),
            ("start_time", "When this incarnation of the node started, on CLOCK_MONOTONIC", Some(Unit::Seconds), Box::new(self.start_time_seconds.clone())),
            ("commit_index", "The highest log index the node knows committed", None, Box::new(self.commit_index.clone())),
            ("applied_index", "The highest log index applied to the node's state machine", None, Box::new(self.applied_index.clone())),
            ("elections", "Elections this node started (it became a candidate)", None, Box::new(self.elections.clone())),
            ("elections_won", "Elections this node won (it became leader)", None, Box::new(self.elections_won.clone())),
            ("leader_changes", "Times this node learned of a new leader", None, Box::new(self.leader_changes.clone())),
            ("heartbeats_sent", "Heartbeats this node sent as leader, by peer", None, Box::new(self.heartbeats_sent.clone())),
            ("heartbeat_acks", "Heartbeat acknowledgements this leader received in its term, by peer", None, Box::new(self.heartbeat_acks.clone())),
            ("write_latency", "From a client write's arrival to its acknowledgement (replication and fsync included)", Some(Unit::Seconds), Box::new(self.write_latency_seconds.clone())),
            ("fsync_latency", "How long each fsync of the node's log took", Some(Unit::Seconds), Box::new(self.fsync_latency_seconds.clone())),
            ("dropped_inputs", "Inputs the node dropped, by reason", None, Box::new(self.dropped_inputs.clone())),
            ("refused_connections", "Connections the node closed on bad input, by reason", None, Box::new(self.refused_connections.clone())),
            ("abdications", "Hand-overs this node started as leader because its disk was slow or failing", None, Box::new(self.abdications.clone())),
            ("leadership_declined", "Hand-overs this node declined because its own disk was slow", None, Box::new(self.leadership_declined.clone())),
            ("health_fsync_p99", "This node's fsync p99 over the health window (0 while too few fsyncs)", Some(Unit::Seconds), Box::new(self.health_fsync_p99_seconds.clone())),
            ("marked_slow", "1 for each follower this leader marks slow (it declined a hand-over), by peer", None, Box::new(self.marked_slow.clone())),
            ("snapshots_taken", "Snapshots of the state machine this node took (by policy or on request), compacting its log", None, Box::new(self.snapshots_taken.clone())),
            ("snapshots_installed", "Snapshots this node installed from a leader", None, Box::new(self.snapshots_installed.clone())),
            ("snapshot_index", "The log index the node's latest snapshot covers", None, Box::new(self.snapshot_index.clone())),
            ("recovery", "How long this incarnation took to open its storage and rebuild its state on start", Some(Unit::Seconds), Box::new(self.recovery_seconds.clone())),
            ("recovered_records", "Log records this incarnation replayed on start (those after its snapshot)", None, Box::new(self.recovered_records.clone())),
            ("log_size", "Bytes of the node's log file on disk", Some(Unit::Bytes), Box::new(self.log_bytes.clone())),
        ];
        for (name, help, unit, metric) in table {
            match unit {
                Some(unit) => {
                    self.registry
                        .register_with_unit(name, help, unit, Registered(metric))
                }
                None => self.registry.register(name, help, Registered(metric)),
            }
        }
    }

    /// The metrics in the text exposition format (OpenMetrics flavour,
    /// which Prometheus scrapes).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            // Writing to a String cannot fail; keep the endpoint answering.
            let _ = writeln!(text, "# encoding failed");
        }
        text
    }

    /// Counts what a core event says happened.
    pub fn observe_event(&self, event: &Event) {
        match event {
            Event::RoleChanged {
                role: Role::Candidate,
                ..
            } => {
                self.elections.inc();
            }
            Event::RoleChanged {
                role: Role::Leader, ..
            } => {
                self.elections_won.inc();
            }
            Event::RoleChanged { .. } => {}
            Event::LeaderChanged { leader, .. } => {
                if leader.is_some() {
                    self.leader_changes.inc();
                }
            }
            Event::Dropped { reason, .. } => {
                self.drop_input(drop_reason_label(reason));
            }
            Event::Snapshot { index, from } => {
                match from {
                    None => self.snapshots_taken.inc(),
                    Some(_) => self.snapshots_installed.inc(),
                };
                self.snapshot_index
                    .set(i64::try_from(*index).unwrap_or(i64::MAX));
            }
        }
    }

    pub fn drop_input(&self, reason: &'static str) {
        self.dropped_inputs
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    pub fn refuse_connection(&self, refusal: Refusal) {
        self.refused_connections
            .get_or_create(&ReasonLabel {
                reason: refusal.label(),
            })
            .inc();
    }

    /// A message the node sends (after its records are durable).
    pub fn observe_sent(&self, to: NodeId, message: &Message) {
        if matches!(message.body, Body::Heartbeat(_)) {
            self.heartbeats_sent
                .get_or_create(&PeerLabel { peer: to })
                .inc();
        }
    }

    /// A message the node receives while it leads in `term`: a heartbeat
    /// response of that term acknowledges one of its heartbeats.
    pub fn observe_received_as_leader(&self, from: NodeId, message: &Message, term: Term) {
        if message.term == term && matches!(message.body, Body::HeartbeatResponse(_)) {
            self.heartbeat_acks
                .get_or_create(&PeerLabel { peer: from })
                .inc();
        }
    }

    pub fn observe_fsync(&self, took: Duration) {
        self.fsync_latency_seconds.observe(took.as_secs_f64());
    }

    pub fn observe_write(&self, took: Duration) {
        self.write_latency_seconds.observe(took.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::raft::{Heartbeat, HeartbeatResponse, LogIndex, Round};

    #[test]
    fn events_and_heartbeats_are_counted_under_their_names() {
        let metrics = NodeMetrics::new();
        metrics.observe_event(&Event::RoleChanged {
            role: Role::Candidate,
            term: 2,
        });
        metrics.observe_event(&Event::RoleChanged {
            role: Role::Leader,
            term: 2,
        });
        metrics.observe_event(&Event::Dropped {
            from: Some(3),
            reason: DropReason::Stale,
        });
        let heartbeat = Message {
            term: Term::new(2),
            body: Body::Heartbeat(Heartbeat {
                leader_commit: LogIndex::ZERO,
                round: Round::new(1),
            }),
        };
        metrics.observe_sent(2, &heartbeat);
        let ack = Message {
            term: Term::new(2),
            body: Body::HeartbeatResponse(HeartbeatResponse {
                round: Round::new(1),
            }),
        };
        metrics.observe_received_as_leader(2, &ack, Term::new(2));
        // An acknowledgement of an older term is not one of ours.
        metrics.observe_received_as_leader(2, &ack, Term::new(3));
        let text = metrics.encode();
        for line in [
            "electorate_elections_total 1",
            "electorate_elections_won_total 1",
            "electorate_dropped_inputs_total{reason=\"stale\"} 1",
            "electorate_heartbeats_sent_total{peer=\"2\"} 1",
            "electorate_heartbeat_acks_total{peer=\"2\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
