//! The cluster's KPIs, by the same names, from simulator runs: what
//! `sweep` and `compare` report beside their own figures, so the
//! simulator and the real cluster read alike. Heartbeat success does not
//! apply (the simulator counts no acknowledgements per follower).

use serde::Serialize;

use crate::check::properties::Property;
use crate::driver::cluster::kpis::{Latency, WRITE_LATENCY_P99_MAX_MS};
use crate::harness::stats::{Distribution, Metrics};
use crate::sim::simulation::RecordedViolation;

/// [`crate::driver::cluster::kpis::Kpis`]'s names, over simulated runs.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SimulatedKpis {
    /// Elections started (a node became a candidate).
    pub elections: u64,
    pub elections_per_minute: f64,
    /// Elections won: each is a new leader.
    pub leader_changes: u64,
    pub leader_changes_per_hour: f64,
    /// Client write latency, p50 and p99, in milliseconds.
    pub write_latency_ms: Option<Latency>,
    pub write_latency_p99_flagged: bool,
    /// Lease Safety violations not excused by a clock jump beyond the
    /// drift bound: two nodes' leases overlapped. A run records a
    /// property's first violation only, so each run adds 0 or 1.
    pub split_brain_alerts: usize,
}

impl SimulatedKpis {
    /// The KPIs over `runs`, each its metrics and its violations, pooled.
    pub fn of<'a>(runs: impl IntoIterator<Item = (&'a Metrics, &'a [RecordedViolation])>) -> Self {
        let (mut elections, mut leader_changes, mut micros) = (0, 0, 0);
        let (mut latencies, mut split_brain_alerts) = (Vec::new(), 0);
        for (metrics, violations) in runs {
            elections += metrics.elections;
            leader_changes += metrics.leaders_elected;
            micros += metrics.total_micros;
            latencies.extend_from_slice(&metrics.write_latency_micros);
            split_brain_alerts += violations
                .iter()
                .filter(|violation| {
                    violation.property == Property::LeaseSafety.name()
                        && !violation.excused_by_clock_jump
                })
                .count();
        }
        let minutes = (micros as f64 / 60e6).max(1e-9);
        let write_latency_ms = Distribution::of(&latencies).map(|d| Latency {
            count: d.count as u64,
            p50: d.p50,
            p99: d.p99,
        });
        SimulatedKpis {
            elections,
            elections_per_minute: elections as f64 / minutes,
            leader_changes,
            leader_changes_per_hour: leader_changes as f64 / minutes * 60.0,
            write_latency_p99_flagged: write_latency_ms
                .as_ref()
                .is_some_and(|latency| latency.p99 > WRITE_LATENCY_P99_MAX_MS),
            write_latency_ms,
            split_brain_alerts,
        }
    }

    /// One line of text, in the cluster's names.
    pub fn line(&self) -> String {
        let latency = match &self.write_latency_ms {
            Some(latency) => format!(
                "write_latency_ms p50 {:.1} p99 {:.1}{}",
                latency.p50,
                latency.p99,
                if self.write_latency_p99_flagged {
                    " (over 50 ms)"
                } else {
                    ""
                }
            ),
            None => "write_latency_ms none".to_owned(),
        };
        format!(
            "kpis: elections_per_minute {:.1}, leader_changes {} ({:.0} per hour), {latency}, \
             split_brain_alerts {}",
            self.elections_per_minute,
            self.leader_changes,
            self.leader_changes_per_hour,
            self.split_brain_alerts
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(property: Property, excused_by_clock_jump: bool) -> RecordedViolation {
        RecordedViolation {
            at_micros: 1,
            property: property.name().to_owned(),
            detail: String::new(),
            excused_by_clock_jump,
        }
    }

    #[test]
    fn runs_pool_into_the_cluster_names_and_only_unexcused_lease_overlaps_alert() {
        let run = Metrics {
            elections: 3,
            leaders_elected: 2,
            total_micros: 30_000_000,
            write_latency_micros: vec![1_000, 2_000, 60_000],
            ..Metrics::default()
        };
        let one = [violation(Property::LeaseSafety, false)];
        let other = [
            violation(Property::LeaseSafety, true),
            violation(Property::ElectionSafety, false),
        ];
        let kpis = SimulatedKpis::of([(&run, &one[..]), (&run, &other[..])]);
        assert_eq!(kpis.elections, 6);
        assert_eq!(kpis.elections_per_minute, 6.0);
        assert_eq!(kpis.leader_changes, 4);
        assert_eq!(kpis.split_brain_alerts, 1);
        assert!(kpis.write_latency_p99_flagged);
        assert_eq!(kpis.write_latency_ms.map(|latency| latency.count), Some(6));
    }
}
