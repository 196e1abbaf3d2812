//! The seed material's monitoring KPIs, computed from the nodes' scraped
//! metrics: elections per minute, leader changes, heartbeat success per
//! follower (flagged under 99 %), write latency p50/p99 (p99 flagged over
//! 50 ms), and the split-brain alert.
//!
//! A node's counters start again at 0 when it restarts, so the scrapes are
//! kept per incarnation (told apart by `electorate_start_time_seconds`) and
//! a counter's total is the sum of each incarnation's last scrape. A killed
//! incarnation is counted as of its last scrape, up to one scrape interval
//! before its death.
//!
//! The split-brain alert does not sample "who leads now": two leaders at
//! one instant would almost never fall on a scrape. Each node reports the
//! interval of its lease claim on CLOCK_MONOTONIC (shared by every process
//! on the host), and the alert counts the pairs of claims of different
//! nodes that overlap. Lease Safety says there are none.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::core::node::NodeId;
use crate::driver::metrics::exposition::Samples;

/// A follower's heartbeat success below this is flagged (the seed's
/// "below 99 % means network trouble").
pub const HEARTBEAT_SUCCESS_MIN: f64 = 0.99;
/// A write latency p99 above this is flagged (the seed's 50 ms, with
/// replication).
pub const WRITE_LATENCY_P99_MAX_MS: f64 = 50.0;

/// One lease claim of a node, in seconds on CLOCK_MONOTONIC.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LeaseInterval {
    pub node: NodeId,
    pub began: f64,
    pub ends: f64,
}

impl LeaseInterval {
    pub fn overlaps(&self, other: &LeaseInterval) -> bool {
        self.began < other.ends && other.began < self.ends
    }
}

/// Every scrape that matters: the last one of each incarnation of each
/// node, and every lease claim seen.
#[derive(Clone, Debug, Default)]
pub struct Scrapes {
    /// By node, then by incarnation start (the bits of the `f64`, which
    /// order like the value for positive numbers).
    latest: BTreeMap<NodeId, BTreeMap<u64, Samples>>,
    /// By node and claim start (bits, as above): the latest end seen.
    claims: BTreeMap<(NodeId, u64), f64>,
    /// The largest log file any node had, over every scrape (a gauge's
    /// last value would miss the peak before a snapshot compacted it).
    largest_log_bytes: f64,
    pub scrapes: u64,
    pub failed_scrapes: u64,
}

impl Scrapes {
    pub fn record(&mut self, node: NodeId, samples: Samples) {
        self.scrapes += 1;
        if let Some(bytes) = samples.get("electorate_log_size_bytes") {
            self.largest_log_bytes = self.largest_log_bytes.max(bytes);
        }
        let started = samples.get("electorate_start_time_seconds").unwrap_or(0.0);
        if let (Some(began), Some(ends)) = (
            samples.get("electorate_lease_start_seconds"),
            samples.get("electorate_lease_expiry_seconds"),
        ) {
            // A node that never held a lease reports both as 0.
            if ends > 0.0 {
                let end = self.claims.entry((node, began.to_bits())).or_insert(ends);
                *end = end.max(ends);
            }
        }
        self.latest
            .entry(node)
            .or_default()
            .insert(started.to_bits(), samples);
    }

    pub fn record_failure(&mut self) {
        self.failed_scrapes += 1;
    }

    /// The last scrape of every incarnation.
    fn incarnations(&self) -> impl Iterator<Item = (NodeId, &Samples)> {
        self.latest
            .iter()
            .flat_map(|(&node, by_start)| by_start.values().map(move |samples| (node, samples)))
    }

    /// A counter summed over every incarnation of every node.
    fn total(&self, name: &str) -> f64 {
        self.incarnations()
            .filter_map(|(_, samples)| samples.get(name))
            .sum()
    }

    pub fn lease_intervals(&self) -> Vec<LeaseInterval> {
        self.claims
            .iter()
            .map(|(&(node, began), &ends)| LeaseInterval {
                node,
                began: f64::from_bits(began),
                ends,
            })
            .collect()
    }

    /// What the restarts cost and how large the logs grew: every
    /// incarnation after a node's first is a restart from its disk.
    fn storage(&self) -> StorageKpis {
        let restarts: Vec<&Samples> = self
            .latest
            .values()
            .flat_map(|by_start| by_start.values().skip(1))
            .collect();
        let most = |name: &str| {
            restarts
                .iter()
                .filter_map(|samples| samples.get(name))
                .fold(None, |most: Option<f64>, value| {
                    Some(most.map_or(value, |m| m.max(value)))
                })
        };
        StorageKpis {
            restarts: restarts.len(),
            slowest_restart_ms: most("electorate_recovery_seconds").map(|seconds| seconds * 1e3),
            most_records_replayed: most("electorate_recovered_records")
                .map(|records| records as u64),
            largest_log_bytes: self.largest_log_bytes as u64,
            snapshots_taken: self.total("electorate_snapshots_taken_total") as u64,
            snapshots_installed: self.total("electorate_snapshots_installed_total") as u64,
        }
    }

    /// The KPIs over a run of `duration_seconds`.
    pub fn kpis(&self, duration_seconds: f64) -> Kpis {
        let minutes = (duration_seconds / 60.0).max(1e-9);
        let elections = self.total("electorate_elections_total");
        let leader_changes = self.total("electorate_elections_won_total");
        let heartbeat_success = self.heartbeat_success();
        let flagged = heartbeat_success
            .iter()
            .filter(|(_, follower)| follower.flagged)
            .map(|(&node, _)| node)
            .collect();
        let write_latency_ms = self.write_latency_ms();
        let intervals = self.lease_intervals();
        Kpis {
            scrapes: self.scrapes,
            failed_scrapes: self.failed_scrapes,
            elections: elections as u64,
            elections_per_minute: elections / minutes,
            leader_changes: leader_changes as u64,
            leader_changes_per_hour: leader_changes / minutes * 60.0,
            heartbeat_success,
            heartbeat_success_flagged: flagged,
            write_latency_p99_flagged: write_latency_ms
                .as_ref()
                .is_some_and(|latency| latency.p99 > WRITE_LATENCY_P99_MAX_MS),
            write_latency_ms,
            lease_claims: intervals.len(),
            split_brain_alerts: split_brain_alerts(&intervals),
            storage: self.storage(),
        }
    }

    /// Per follower: the heartbeats every leader sent it, and the
    /// acknowledgements they received from it.
    fn heartbeat_success(&self) -> BTreeMap<NodeId, HeartbeatSuccess> {
        let mut counts: BTreeMap<NodeId, (f64, f64)> = BTreeMap::new();
        for (_, samples) in self.incarnations() {
            for (name, acked) in [
                ("electorate_heartbeats_sent_total", false),
                ("electorate_heartbeat_acks_total", true),
            ] {
                for (key, value) in samples.all(name) {
                    let Some(peer) = key.label("peer").and_then(|peer| peer.parse().ok()) else {
                        continue;
                    };
                    let entry = counts.entry(peer).or_default();
                    if acked {
                        entry.1 += value;
                    } else {
                        entry.0 += value;
                    }
                }
            }
        }
        counts
            .into_iter()
            .map(|(peer, (sent, acked))| {
                let rate = if sent > 0.0 { acked / sent } else { 1.0 };
                let success = HeartbeatSuccess {
                    sent: sent as u64,
                    acked: acked as u64,
                    rate,
                    flagged: rate < HEARTBEAT_SUCCESS_MIN,
                };
                (peer, success)
            })
            .collect()
    }

    /// p50 and p99 of the write latency histograms of every incarnation,
    /// merged.
    fn write_latency_ms(&self) -> Option<Latency> {
        let mut buckets: BTreeMap<u64, f64> = BTreeMap::new();
        for (_, samples) in self.incarnations() {
            for (key, count) in samples.all("electorate_write_latency_seconds_bucket") {
                let Some(le) = key.label("le").and_then(parse_bound) else {
                    continue;
                };
                *buckets.entry(le.to_bits()).or_default() += count;
            }
        }
        let cumulative: Vec<(f64, f64)> = buckets
            .into_iter()
            .map(|(le, count)| (f64::from_bits(le), count))
            .collect();
        let count = cumulative.last().map_or(0.0, |&(_, count)| count);
        if count == 0.0 {
            return None;
        }
        Some(Latency {
            count: count as u64,
            p50: histogram_quantile(&cumulative, 0.50)? * 1_000.0,
            p99: histogram_quantile(&cumulative, 0.99)? * 1_000.0,
        })
    }
}

fn parse_bound(text: &str) -> Option<f64> {
    match text {
        "+Inf" => Some(f64::INFINITY),
        number => number.parse().ok(),
    }
}

/// The `q` quantile of a cumulative histogram (`(upper bound, count at or
/// below it)`, sorted by bound, the last bound `+Inf`), interpolated
/// linearly inside the bucket it falls in, as Prometheus's
/// `histogram_quantile` does. A quantile in the `+Inf` bucket is reported
/// as the highest finite bound.
pub fn histogram_quantile(cumulative: &[(f64, f64)], q: f64) -> Option<f64> {
    assert!((0.0..=1.0).contains(&q), "a quantile is in [0, 1]");
    let total = cumulative.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower = (0.0, 0.0);
    for &(bound, count) in cumulative {
        if count >= rank {
            if bound.is_infinite() {
                return Some(lower.0);
            }
            let in_bucket = count - lower.1;
            let fraction = if in_bucket > 0.0 {
                (rank - lower.1) / in_bucket
            } else {
                1.0
            };
            return Some(lower.0 + (bound - lower.0) * fraction);
        }
        lower = (bound, count);
    }
    Some(lower.0)
}

/// Pairs of lease claims of different nodes that overlap in time.
pub fn split_brain_alerts(intervals: &[LeaseInterval]) -> usize {
    let mut alerts = 0;
    for (index, first) in intervals.iter().enumerate() {
        for second in &intervals[index + 1..] {
            if first.node != second.node && first.overlaps(second) {
                tracing::warn!(
                    first = ?first,
                    second = ?second,
                    "split brain: two nodes claimed a lease at the same time"
                );
                alerts += 1;
            }
        }
    }
    alerts
}

#[derive(Clone, Debug, Serialize)]
pub struct HeartbeatSuccess {
    pub sent: u64,
    pub acked: u64,
    pub rate: f64,
    /// `rate` < 99 %.
    pub flagged: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50: f64,
    pub p99: f64,
}

/// What `electorate cluster` reports as `kpis`.
#[derive(Clone, Debug, Serialize)]
pub struct Kpis {
    pub scrapes: u64,
    pub failed_scrapes: u64,
    /// Elections started (a node became a candidate).
    pub elections: u64,
    pub elections_per_minute: f64,
    /// Elections won: each is a new leader.
    pub leader_changes: u64,
    pub leader_changes_per_hour: f64,
    /// By follower id: heartbeats the leaders sent it and it acknowledged.
    pub heartbeat_success: BTreeMap<NodeId, HeartbeatSuccess>,
    pub heartbeat_success_flagged: Vec<NodeId>,
    /// Client write latency at the leaders, p50 and p99, in milliseconds.
    pub write_latency_ms: Option<Latency>,
    pub write_latency_p99_flagged: bool,
    pub lease_claims: usize,
    /// Pairs of lease claims of different nodes that overlap.
    pub split_brain_alerts: usize,
    pub storage: StorageKpis,
}

/// Restart cost and log size: with snapshots both stay bounded by the
/// snapshot interval however long the cluster runs.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StorageKpis {
    /// Restarts from disk that were scraped (a node's second incarnation
    /// and later).
    pub restarts: usize,
    /// The longest a restarted node took to open its storage and rebuild
    /// its state (its own measurement, `electorate_recovery_seconds`).
    pub slowest_restart_ms: Option<f64>,
    /// The most log records one restart replayed.
    pub most_records_replayed: Option<u64>,
    /// The largest log file any node had at any scrape.
    pub largest_log_bytes: u64,
    pub snapshots_taken: u64,
    pub snapshots_installed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(node: NodeId, began: f64, ends: f64) -> LeaseInterval {
        LeaseInterval { node, began, ends }
    }

    #[test]
    fn overlapping_claims_of_different_nodes_raise_the_alert() {
        let claims = [
            claim(1, 10.0, 11.0),
            claim(2, 11.0, 12.0),  // touches, does not overlap
            claim(3, 11.5, 11.6),  // overlaps node 2
            claim(2, 11.55, 11.7), // overlaps node 3; same node as node 2's
        ];
        assert_eq!(split_brain_alerts(&claims), 2);
        assert_eq!(split_brain_alerts(&claims[..2]), 0);
    }

    #[test]
    fn the_quantile_is_interpolated_inside_its_bucket() {
        let buckets = [
            (0.001, 50.0),
            (0.002, 90.0),
            (0.004, 100.0),
            (f64::INFINITY, 100.0),
        ];
        assert_eq!(histogram_quantile(&buckets, 0.5), Some(0.001));
        let p99 = histogram_quantile(&buckets, 0.99).unwrap();
        assert!((p99 - 0.0038).abs() < 1e-9, "{p99}");
        assert_eq!(histogram_quantile(&[(f64::INFINITY, 0.0)], 0.5), None);
    }

    #[test]
    fn counters_add_up_over_incarnations_and_claims_keep_their_latest_end() {
        let scrape = |start: f64, elections: u64, lease: (f64, f64)| {
            Samples::parse(&format!(
                "electorate_start_time_seconds {start}\nelectorate_elections_total {elections}\n\
                 electorate_lease_start_seconds {}\nelectorate_lease_expiry_seconds {}\n\
                 electorate_heartbeats_sent_total{{peer=\"2\"}} 100\n\
                 electorate_heartbeat_acks_total{{peer=\"2\"}} 98\n",
                lease.0, lease.1
            ))
            .unwrap()
        };
        let mut scrapes = Scrapes::default();
        scrapes.record(1, scrape(1.0, 2, (5.0, 6.0)));
        scrapes.record(1, scrape(1.0, 3, (5.0, 7.0)));
        scrapes.record(1, scrape(9.0, 1, (0.0, 0.0)));
        let kpis = scrapes.kpis(60.0);
        assert_eq!(kpis.elections, 4);
        assert_eq!(scrapes.lease_intervals(), vec![claim(1, 5.0, 7.0)]);
        assert!(
            kpis.heartbeat_success[&2].flagged,
            "98 of 100 is under 99 %"
        );
    }
}
