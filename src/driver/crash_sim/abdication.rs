//! The abdication experiment: the real node loops on simulated disks, one
//! of three ways — the leader's disk turns slow, no disk does, or every
//! disk does — and the property each must show:
//!
//! - **slow leader:** leadership leaves the slow node within
//!   [`hand_over_bound`] of the slowness, and no term after it is led by a
//!   slow node;
//! - **healthy:** no hand-over is started and one leader serves the run;
//! - **all slow:** leadership does not move (no term begins after the
//!   slowness), though the cluster keeps committing; the leader backs off
//!   its declined hand-overs, so it starts at most [`hand_overs_max`] of
//!   them, and the cluster commits at least [`WRITES_KEPT_MIN`] of the
//!   writes the same run commits with abdication turned off (the cluster
//!   left alone, the best a uniformly slow cluster can do).
//!
//! Both the tests and `electorate abdication` run and judge a scenario
//! with [`run_scenario`].

use std::time::Duration;

use serde::Serialize;

use crate::core::raft::Config;
use crate::core::time::Time;
use crate::driver::health::HealthSettings;

use super::options::{CrashSimOptions, SlowDisks, SlowFsync};
use super::report::CrashSimReport;

/// The share of the left-alone run's writes a uniformly slow cluster must
/// still commit: its declined hand-overs may cost it little.
pub const WRITES_KEPT_MIN: f64 = 0.97;

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

/// `options` with abdication turned off: no disk counts as slow, so no
/// leader hands over and no follower declines.
pub fn left_alone(options: &CrashSimOptions) -> CrashSimOptions {
    CrashSimOptions {
        health: HealthSettings {
            fsync_p99_max: Duration::MAX,
            ..options.health
        },
        ..options.clone()
    }
}

/// The most hand-overs a leader whose every follower declines may start in
/// `slow_for`: the first, then one after each back-off, the waits starting
/// at the minimum time in office and doubling up to eight times it. (The
/// statement of the back-off, apart from its code.)
pub fn hand_overs_max(health: &HealthSettings, slow_for: Duration) -> u64 {
    let (mut tries, mut waited, mut wait) = (1, Duration::ZERO, health.time_in_office_min);
    while waited + wait <= slow_for {
        tries += 1;
        waited += wait;
        wait = (wait * 2).min(health.time_in_office_min * 8);
    }
    tries
}

/// Runs `scenario` on `nodes` nodes with `seed` — for all slow, also the
/// same run left alone — and judges it.
pub fn run_scenario(scenario: Scenario, nodes: usize, seed: u64) -> Judgement {
    let options = options(scenario, nodes, seed);
    let report = super::run(&options);
    let left_alone = (scenario == Scenario::AllSlow).then(|| super::run(&left_alone(&options)));
    judge(scenario, &options, &report, left_alone.as_ref())
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
    /// All slow: the writes of the same run left alone, and the most
    /// hand-overs the back-off allows.
    pub left_alone_writes: Option<usize>,
    pub hand_overs_max: Option<u64>,
    /// The property's breaches; empty when it holds.
    pub failures: Vec<String>,
}

/// Judges `report`, a run of `scenario` with `options`, by the property
/// of its scenario (this module's documentation); all slow needs the same
/// run `left_alone` to compare its writes with.
pub fn judge(
    scenario: Scenario,
    options: &CrashSimOptions,
    report: &CrashSimReport,
    left_alone: Option<&CrashSimReport>,
) -> Judgement {
    let mut failures = report.violations.clone();
    let mut hand_overs_allowed = None;
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
            let slow_for = options
                .duration
                .saturating_sub(since.saturating_since(Time::ZERO));
            let allowed = hand_overs_max(&options.health, slow_for);
            hand_overs_allowed = Some(allowed);
            if report.abdications > allowed {
                failures.push(format!(
                    "{} hand-overs started in {slow_for:?} of slow disks, the back-off allows {allowed}",
                    report.abdications
                ));
            }
            match left_alone {
                Some(alone) => {
                    let kept =
                        report.acknowledged_writes as f64 / alone.acknowledged_writes.max(1) as f64;
                    if kept < WRITES_KEPT_MIN {
                        failures.push(format!(
                            "{} writes against {} left alone: {kept:.3} kept, under {WRITES_KEPT_MIN}",
                            report.acknowledged_writes, alone.acknowledged_writes
                        ));
                    }
                }
                None => failures.push("no left-alone run to compare writes with".to_owned()),
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
        left_alone_writes: left_alone.map(|alone| alone.acknowledged_writes),
        hand_overs_max: hand_overs_allowed,
        failures,
    }
}
