//! The abdication experiment: the real node loops on simulated disks, one
//! of three ways — the leader's disk turns slow, no disk does, or every
//! disk does — and the property each must show:
//!
//! - **slow leader:** leadership leaves the slow node within
//!   [`hand_over_bound`] of the slowness, and no term after it is led by a
//!   slow node;
//! - **healthy:** no hand-over is started and one leader serves the run;
//! - **all slow:** leadership does not move (no term begins after the
//!   slowness), though the cluster keeps committing.
//!
//! Both the tests and `electorate abdication` judge runs with [`judge`].

use std::time::Duration;

use serde::Serialize;

use crate::core::raft::Config;
use crate::core::time::Time;
use crate::driver::health::HealthSettings;

use super::options::{CrashSimOptions, SlowDisks, SlowFsync};
use super::report::CrashSimReport;

/// Which disks turn slow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    SlowLeader,
    Healthy,
    AllSlow,
}

/// A run of `scenario`: no crashes, two clients writing, thresholds short
/// enough that a few seconds of simulated time show a hand-over.
pub fn options(scenario: Scenario, nodes: usize, seed: u64) -> CrashSimOptions {
    let slow = |disks| SlowFsync {
        disks,
        latency: Duration::from_millis(40),
        from: Duration::from_secs(2),
    };
    CrashSimOptions {
        duration: Duration::from_secs(8),
        crash_every: Duration::from_secs(3_600),
        slow_fsync: match scenario {
            Scenario::SlowLeader => Some(slow(SlowDisks::Leader)),
            Scenario::Healthy => None,
            Scenario::AllSlow => Some(slow(SlowDisks::All)),
        },
        health: HealthSettings {
            fsync_p99_max: Duration::from_millis(20),
            window: Duration::from_secs(1),
            samples_min: 10,
            time_in_office_min: Duration::from_secs(1),
        },
        ..CrashSimOptions::new(nodes, seed)
    }
}

/// How soon after its disk turns slow a leader must have lost leadership:
/// the window must fill with slow fsyncs, the leader must have served its
/// minimum time, and the target's election must finish (two of the longest
/// election timeouts cover a declined target's lapse and the next try).
pub fn hand_over_bound(health: &HealthSettings) -> Duration {
    health.window + health.time_in_office_min + Config::default().election_timeout_max * 2
}

/// What a run showed, for printing.
#[derive(Clone, Debug, Serialize)]
pub struct Judgement {
    pub scenario: Scenario,
    pub seed: u64,
    pub slow_nodes: Vec<u64>,
    pub slow_since: Option<Time>,
    /// Each term's leader as it took office: when, who, the term.
    pub leaders: Vec<(Time, u64, u64)>,
    pub abdications: u64,
    pub leadership_declined: u64,
    pub acknowledged_writes: usize,
    /// The property's breaches; empty when it holds.
    pub failures: Vec<String>,
}

/// Judges `report`, a run of `scenario` with `options`, by the property
/// of its scenario (this module's documentation).
pub fn judge(scenario: Scenario, options: &CrashSimOptions, report: &CrashSimReport) -> Judgement {
    let mut failures = report.violations.clone();
    let terms_after = |since: Time| report.leaders.iter().filter(move |&&(at, ..)| at > since);
    match (scenario, report.slow_since) {
        (Scenario::Healthy, _) => {
            if report.abdications > 0 {
                failures.push(format!(
                    "{} hand-overs on healthy disks",
                    report.abdications
                ));
            }
            if report.leaders.len() != 1 {
                failures.push(format!("leadership moved: {:?}", report.leaders));
            }
        }
        (Scenario::SlowLeader, Some(since)) => {
            let bound = since.saturating_add(hand_over_bound(&options.health));
            for &(at, leader, term) in terms_after(since) {
                if report.slow_nodes.contains(&leader) {
                    failures.push(format!("term {term} at {at} is led by slow node {leader}"));
                }
            }
            if !terms_after(since).any(|&(at, ..)| at <= bound) {
                failures.push(format!("leadership was still on the slow node at {bound}"));
            }
        }
        (Scenario::AllSlow, Some(since)) => {
            if let Some(moved) = terms_after(since).next() {
                failures.push(format!(
                    "leadership moved on uniformly slow disks: {moved:?}"
                ));
            }
        }
        (_, None) => failures.push("no disk was made slow".to_owned()),
    }
    if report.acknowledged_writes == 0 {
        failures.push("no write was acknowledged".to_owned());
    }
    Judgement {
        scenario,
        seed: options.seed,
        slow_nodes: report.slow_nodes.clone(),
        slow_since: report.slow_since,
        leaders: report.leaders.clone(),
        abdications: report.abdications,
        leadership_declined: report.leadership_declined,
        acknowledged_writes: report.acknowledged_writes,
        failures,
    }
}
