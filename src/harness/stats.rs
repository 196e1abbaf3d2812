//! What a run measures, whichever harness ran it: message counts,
//! elections, failover times, availability and client latency. The
//! simulator fills [`Metrics`]; the real cluster reports [`Distribution`]s.

use std::time::Duration;

use serde::Serialize;

use crate::core::time::Time;

/// Raw counters and samples gathered during one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub messages_sent: u64,
    /// Wire bytes of the messages sent: each one's frame as the codec
    /// encodes it, header included.
    pub bytes_sent: u64,
    pub messages_delivered: u64,
    pub messages_lost: u64,
    /// Sent on a cut link, or to a node that was down when it arrived.
    pub messages_undeliverable: u64,
    pub messages_duplicated: u64,
    /// Delivered before a message sent earlier on the same link.
    pub messages_reordered: u64,
    /// Faults injected, by kind.
    pub faults_injected: std::collections::BTreeMap<String, u64>,
    /// Disk faults that struck, by what they did (`power-loss, batch kept`,
    /// `power-loss, batch lost`, `fsync-error`, `corruption`): a fault
    /// aimed at a node that is down, or that never writes again, does
    /// nothing.
    pub disk_failures: std::collections::BTreeMap<String, u64>,
    /// Nodes that became candidates (real elections started).
    pub elections: u64,
    /// Nodes that became pre-candidates (Raft PreVote probes).
    pub pre_elections: u64,
    pub max_term: u64,
    /// Times a node newly became a leader able to serve.
    pub leaders_elected: u64,
    /// From the start until the first leader could serve.
    pub first_leader_micros: Option<u64>,
    /// Per crash of a serving leader: until a new leader could serve.
    pub failover_micros: Vec<u64>,
    /// The subset of those during which a majority of nodes stayed up and
    /// connected: the algorithm's own failover time, not the faults'.
    pub failover_with_quorum_micros: Vec<u64>,
    /// Messages sent while no leader could serve, and how many such
    /// windows there were (cold start and failovers).
    pub leaderless_messages: u64,
    pub leaderless_bytes: u64,
    /// Messages sent from the start until the first leader could serve.
    pub cold_start_messages: u64,
    pub cold_start_bytes: u64,
    pub leaderless_windows: u64,
    /// Simulated time during which some leader could serve.
    pub serving_micros: u64,
    pub total_micros: u64,
    pub write_latency_micros: Vec<u64>,
    pub read_latency_micros: Vec<u64>,
    pub operations_ok: u64,
    pub operations_failed: u64,
    pub operations_unknown: u64,
    /// Snapshots nodes took of their own state machine (compacting their
    /// logs), and snapshots followers installed from a leader.
    pub snapshots_taken: u64,
    pub snapshots_installed: u64,
}

impl Metrics {
    /// The fraction of time a leader could serve.
    pub fn availability(&self) -> f64 {
        if self.total_micros == 0 {
            return 0.0;
        }
        self.serving_micros as f64 / self.total_micros as f64
    }

    /// Messages sent per leaderless window (per election, roughly).
    pub fn messages_per_election(&self) -> Option<f64> {
        (self.leaderless_windows > 0)
            .then(|| self.leaderless_messages as f64 / self.leaderless_windows as f64)
    }

    /// Wire bytes sent per leaderless window.
    pub fn bytes_per_election(&self) -> Option<f64> {
        (self.leaderless_windows > 0)
            .then(|| self.leaderless_bytes as f64 / self.leaderless_windows as f64)
    }

    pub fn summary(&self) -> Summary {
        Summary {
            availability: self.availability(),
            messages_per_election: self.messages_per_election(),
            bytes_per_election: self.bytes_per_election(),
            first_leader_ms: self.first_leader_micros.map(millis),
            failover_ms: Distribution::of(&self.failover_micros),
            failover_with_quorum_ms: Distribution::of(&self.failover_with_quorum_micros),
            write_latency_ms: Distribution::of(&self.write_latency_micros),
            read_latency_ms: Distribution::of(&self.read_latency_micros),
        }
    }
}

/// Derived figures for reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub availability: f64,
    pub messages_per_election: Option<f64>,
    pub bytes_per_election: Option<f64>,
    pub first_leader_ms: Option<f64>,
    pub failover_ms: Option<Distribution>,
    pub failover_with_quorum_ms: Option<Distribution>,
    pub write_latency_ms: Option<Distribution>,
    pub read_latency_ms: Option<Distribution>,
}

/// Percentiles of a sample, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Distribution {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Distribution {
    pub fn of(samples_micros: &[u64]) -> Option<Distribution> {
        if samples_micros.is_empty() {
            return None;
        }
        let mut sorted = samples_micros.to_vec();
        sorted.sort_unstable();
        Some(Distribution {
            count: sorted.len(),
            p50: millis(percentile(&sorted, 0.50)),
            p99: millis(percentile(&sorted, 0.99)),
            max: millis(*sorted.last().expect("non-empty")),
        })
    }
}

/// The nearest-rank percentile of a sorted, non-empty sample.
pub fn percentile(sorted: &[u64], fraction: f64) -> u64 {
    assert!(!sorted.is_empty(), "percentile of nothing");
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn millis(micros: u64) -> f64 {
    micros as f64 / 1_000.0
}

pub fn micros_between(from: Time, to: Time) -> u64 {
    to.saturating_since(from).as_micros() as u64
}

pub fn duration_micros(duration: Duration) -> u64 {
    duration.as_micros() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sample: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&sample, 0.5), 50);
        assert_eq!(percentile(&sample, 0.99), 99);
        assert_eq!(percentile(&sample, 1.0), 100);
        assert_eq!(percentile(&[7], 0.99), 7);
    }
}
