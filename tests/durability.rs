//! Durability of the real node loop on the simulated disk
//! (`electorate::driver::crash_sim`): seeded power failures between and in
//! the middle of disk operations, damage to synced data, fsync errors.
//!
//! A few seeds run here; `DURABILITY_SEEDS=2000 cargo test
//! --test durability` runs thousands (the test profile is optimised; a
//! failure prints its seed and the whole report).

use std::collections::BTreeSet;
use std::time::Duration;

use electorate::driver::crash_sim::{run, CrashSimOptions, CrashSimReport, DamagePlace};

fn seeds(default: u64) -> u64 {
    std::env::var("DURABILITY_SEEDS")
        .ok()
        .and_then(|seeds| seeds.parse().ok())
        .unwrap_or(default)
}

fn passed(report: &CrashSimReport) {
    assert!(
        report.violations.is_empty(),
        "seed {}: {:#?}",
        report.seed,
        report
    );
    assert!(
        report.acknowledged_writes > 0,
        "seed {}: no writes",
        report.seed
    );
}

#[test]
fn power_loss_at_seeded_points_loses_no_acknowledged_write_and_no_vote() {
    let (mut crashes, mut mid_operation, mut lost) = (0, 0, 0);
    for seed in 0..seeds(6) {
        for nodes in [3, 5] {
            let report = run(&CrashSimOptions::new(nodes, seed));
            passed(&report);
            crashes += report.crashes;
            mid_operation += report.crashes_mid_operation;
            lost += report.lost_unsynced_sectors;
        }
    }
    assert!(
        crashes > 0 && mid_operation > 0 && lost > 0,
        "{crashes} {mid_operation} {lost}"
    );
}

#[test]
fn a_node_whose_synced_data_is_damaged_refuses_to_start_and_the_rest_keep_every_write() {
    let mut places = BTreeSet::new();
    for seed in 0..seeds(16) {
        for nodes in [3, 5] {
            let options = CrashSimOptions {
                damage: true,
                ..CrashSimOptions::new(nodes, seed)
            };
            let report = run(&options);
            passed(&report);
            assert_eq!(report.damaged.len(), report.refused.len(), "seed {seed}");
            for (_, error) in &report.refused {
                assert!(error.contains("simulated/raft."), "{error}");
                assert!(error.contains("at byte"), "{error}");
            }
            places.extend(report.damaged.iter().map(|(_, place, _)| *place));
        }
    }
    for place in [
        DamagePlace::FirstRecord,
        DamagePlace::MiddleRecord,
        DamagePlace::LastRecord,
        DamagePlace::TermAndVote,
    ] {
        assert!(
            places.contains(&place),
            "{place:?} never damaged: {places:?}"
        );
    }
}

#[test]
fn an_fsync_error_stops_the_node_and_the_cluster_fails_over() {
    let mut failures = 0;
    for seed in 0..seeds(6) {
        // Three nodes without crashes (two left must carry on), and five
        // with them.
        let options = if seed % 2 == 0 {
            CrashSimOptions {
                crash_every: Duration::from_secs(3600),
                ..CrashSimOptions::new(3, seed)
            }
        } else {
            CrashSimOptions::new(5, seed)
        };
        let options = CrashSimOptions {
            fsync_error: true,
            ..options
        };
        let report = run(&options);
        passed(&report);
        for (_, reason) in &report.fsync_failures {
            assert!(reason.contains("fsync failed"), "{reason}");
        }
        failures += report.fsync_failures.len();
    }
    assert!(failures > 0);
}
