//! Exhaustive model checking of the production Raft core (`src/model`):
//! every spec in `models/` marked `run = "default"` must give exactly the
//! verdicts it expects; the bigger specs run with `cargo test --release
//! --test models -- --ignored` or `electorate check`.
//!
//! The pinned counts of unique states are compared by the tests named
//! `change_detector_…`, apart from the verdicts: a count goes red on any
//! change of behaviour, harmless or not, so it proves nothing, and the runs
//! that measure what the semantic checks catch (mutation testing, coverage
//! by checker) leave those tests out with `--skip change_detector`.
//!
//! Known bugs: each deliberate deviation of the core (feature
//! `deliberate-bugs`, on only in test builds) must give a counterexample on
//! a small spec on which the correct core has none; so must each deliberate
//! mistake of the storage layer under the model's disk faults (`[disk]`).
//!
//! Symmetry reduction (`[check] symmetry`) must give the same verdicts as
//! the full search with fewer states, and the paths it reports must replay.

use std::collections::BTreeSet;
use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use electorate::check::properties::Property;
use electorate::core::lock_service::LockMember;
use electorate::core::raft::deliberate_bugs::DeliberateBugs;
use electorate::core::store::Store;
use electorate::core::time::Time;
use electorate::harness::disk::DiskBugs;
use electorate::harness::lock_service::ZkSequential;
use electorate::model::spec::{Jitter, RunMode, Strategy};
use electorate::model::trace::summary as summary_of;
use electorate::model::variant::StateOf;
use electorate::model::ClusterModel;
use electorate::model::{check_model, check_spec, CheckOptions, ModelSpec, RaftModel, SpecReport};
use stateright::{Checker, HasDiscoveries, Model};

fn specs(run: RunMode) -> Vec<ModelSpec> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&directory)
        .expect("models/ exists")
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "toml")
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| ModelSpec::load(path).unwrap_or_else(|error| panic!("{error}")))
        .filter(|spec| spec.run == run)
        .collect()
}

fn summary(report: &SpecReport) -> String {
    format!(
        "{}: {} unique states, depth {}, {:.1} s; {}",
        report.spec,
        report.unique_states,
        report.max_depth,
        report.seconds,
        if report.mismatches.is_empty() {
            "as expected".to_owned()
        } else {
            report.mismatches.join("; ")
        }
    )
}

/// Fails with the summary of every report `judged` finds wrong.
fn assert_every(reports: &[SpecReport], judged: fn(&SpecReport) -> bool) {
    let failures: Vec<String> = reports
        .iter()
        .filter(|report| !judged(report))
        .map(summary)
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The report of every spec of `run`, each printed as it is done.
fn reports_of(run: RunMode) -> Vec<SpecReport> {
    let specs = specs(run);
    assert!(!specs.is_empty(), "no {run:?} specs in models/");
    specs
        .iter()
        .map(|spec| {
            let report = check_spec(spec, &CheckOptions::default());
            println!("{}", summary(&report));
            report
        })
        .collect()
}

/// The default specs' reports, searched once for the tests that judge
/// them (their outcomes, and what they deliver to the core).
fn default_reports() -> &'static [SpecReport] {
    static REPORTS: OnceLock<Vec<SpecReport>> = OnceLock::new();
    REPORTS.get_or_init(|| reports_of(RunMode::Default))
}

#[test]
fn every_default_spec_gives_its_expected_verdicts() {
    assert_every(default_reports(), SpecReport::verdicts_as_expected);
}

/// A change detector, not a proof: see the module's docs.
#[test]
fn change_detector_every_default_spec_visits_its_pinned_count_of_states() {
    assert_every(default_reports(), SpecReport::as_expected);
}

/// Kinds no default spec can deliver yet, each with the reason. The test
/// below also requires that each is indeed not delivered, so closing a
/// gap means striking it from here.
/// (Empty: `models/raft-snapshot-chunks.toml` closed the last, the
/// InstallSnapshotResponse a snapshot of more than one chunk needs.)
const NOT_YET_DELIVERED: &[(&str, &str)] = &[];

/// Issue 24's bar for the model: every input the core accepts
/// (`Input`'s variants, client operations of each kind) and every kind of
/// Raft message is delivered to a node by at least one default spec, so
/// the paths of the core that handle it are judged by every property of
/// that spec. Each default spec's search records what its steps delivered
/// (`SpecReport::delivered`).
#[test]
fn every_input_and_every_raft_message_kind_is_delivered_by_a_default_spec() {
    use electorate::harness::algorithm::Raft;
    use electorate::model::delivered::{INPUT_KINDS, OPERATION_KINDS};
    use electorate::model::ModelVariant;
    let required: Vec<String> = INPUT_KINDS
        .iter()
        .map(|kind| format!("input {kind}"))
        .chain(
            OPERATION_KINDS
                .iter()
                .map(|kind| format!("operation {kind}")),
        )
        .chain(
            Raft::MESSAGE_KINDS
                .iter()
                .map(|kind| format!("message {kind}")),
        )
        .collect();
    let mut by: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for report in default_reports() {
        for kind in &report.delivered {
            by.entry(kind.as_str())
                .or_default()
                .push(report.spec.clone());
        }
    }
    for (kind, specs) in &by {
        println!("{kind}: {}", specs.join(", "));
    }
    let gaps: Vec<&str> = NOT_YET_DELIVERED.iter().map(|(kind, _)| *kind).collect();
    let missing: Vec<&String> = required
        .iter()
        .filter(|kind| !by.contains_key(kind.as_str()) && !gaps.contains(&kind.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "no default spec delivers {missing:?}: add a default spec (or an option to one) that does"
    );
    for (kind, reason) in NOT_YET_DELIVERED {
        assert!(
            required.iter().any(|known| known == kind),
            "{kind} is no kind"
        );
        assert!(
            !by.contains_key(kind),
            "{kind} is delivered now (by {:?}): strike it from NOT_YET_DELIVERED ({reason})",
            by[kind]
        );
    }
}

/// `models/raft-timeouts.toml` draws every election timeout as the
/// shortest or the longest of its range (`time.jitter = "extremes"`). The
/// goal that needs a long draw (a leader followed by a node whose timeout
/// is above the minimum) is reached there and not with the minimum alone,
/// so the longer draws are explored; and every other verdict is the one
/// the minimum gives, which is what `src/model/rng.rs` argues: the
/// minimum loses nothing, since the core reads a drawn length only for
/// its election deadline and ticks are lazy.
#[test]
fn unequal_timeouts_reach_what_the_minimum_cannot_and_keep_every_verdict() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/raft-timeouts.toml");
    let extremes = ModelSpec::load(&path).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(extremes.time.jitter, Jitter::Extremes);
    let goal = Property::LongTimeoutFollows;
    assert!(extremes.expect.reachable.contains(&goal));
    let mut minimum = extremes.clone();
    minimum.time.jitter = Jitter::Minimum;
    minimum.expect.unique_states = None;
    minimum.expect.reachable.remove(&goal);
    minimum.expect.unreachable.insert(goal);
    let options = CheckOptions {
        skip_counterexamples: true,
        ..CheckOptions::default()
    };
    let (long, short) = (
        check_spec(&extremes, &options),
        check_spec(&minimum, &options),
    );
    println!("{}", summary(&long));
    println!("{}", summary(&short));
    assert!(long.verdicts_as_expected(), "{}", summary(&long));
    assert!(short.verdicts_as_expected(), "{}", summary(&short));
    let others = |report: &SpecReport| -> Vec<(&'static str, bool)> {
        verdicts(report)
            .into_iter()
            .filter(|(name, _)| *name != goal.name())
            .collect()
    };
    assert_eq!(others(&long), others(&short));
    assert!(
        short.unique_states < long.unique_states,
        "{} states with the minimum, {} with the extremes",
        short.unique_states,
        long.unique_states
    );
}

#[test]
#[ignore = "large: run with --release"]
fn every_explicit_spec_gives_its_expected_outcome() {
    assert_every(&reports_of(RunMode::Explicit), SpecReport::as_expected);
}

/// Small specs for the known bugs, on each of which the correct core keeps
/// every property. PreVote is off in all three (and CheckQuorum where the
/// bug needs no lease) so the runs that expose a bug are short.
const UNPERSISTED_VOTE_SPEC: &str = r#"
description = "known bug: a vote forgotten by a crash lets the voter vote again in the term"
algorithm = "raft"
run = "explicit"
[cluster]
nodes = 3
max_crashes = 1
[raft]
pre_vote = false
check_quorum = false
lease_reads = false
[time]
max_time = 4
clock_drift = 0
[network]
ordered = true
max_in_flight = 4
[bounds]
max_term = 1
max_log = 1
[expect]
"#;

const STALE_CANDIDATE_SPEC: &str = r#"
description = "known bug: a node that missed a committed write is elected in term 2"
algorithm = "raft"
run = "explicit"

[cluster]
nodes = 3
max_crashes = 0

[raft]
pre_vote = false
check_quorum = false
lease_reads = false

[time]
max_time = 7
clock_drift = 0

[network]
ordered = true
max_in_flight = 3

[bounds]
max_term = 2
max_log = 2

[clients]
operations = ["write 1"]

[expect]
"#;

/// Short timings (election timeout 2-4 quanta, lease 1, drift bound 1) so
/// that a round's acknowledgement can arrive a quantum late within the
/// bound on real time.
const LEASE_SPEC: &str = r#"
description = "known bug: a lease measured from the acknowledgement outlives the followers' promise"
algorithm = "raft"
run = "explicit"
[cluster]
nodes = 3
[raft]
pre_vote = false
election_timeout = [2, 4]
lease = 1
[time]
max_time = 4
clock_drift = 1
[network]
ordered = true
lossy = false
max_in_flight = 3
[bounds]
max_term = 2
max_log = 2
[expect]
"#;

/// The unpersisted-vote spec with disk faults instead of plain crashes: one
/// power loss during a write (`power_losses`) and, after a crash, one
/// restart on damaged storage (`damaged`).
fn disk_spec(name: &str, power_losses: u32, damaged: u32) -> ModelSpec {
    let text = UNPERSISTED_VOTE_SPEC
        .replace(
            "max_crashes = 1",
            &format!("max_crashes = {}", u32::from(power_losses == 0)),
        )
        .replace(
            "[expect]",
            &format!(
                "[disk]\nmax_power_losses = {power_losses}\nmax_damaged_nodes = {damaged}\n[expect]"
            ),
        );
    spec(name, &text)
}

fn lost_batch_spec() -> ModelSpec {
    disk_spec("lost-batch-reported-persisted", 1, 0)
}

fn damaged_restart_spec() -> ModelSpec {
    disk_spec("damaged-restart-blank", 0, 1)
}

fn spec(name: &str, text: &str) -> ModelSpec {
    ModelSpec::parse(Path::new(name), text).unwrap_or_else(|error| panic!("{error}"))
}

fn unpersisted_vote_spec() -> ModelSpec {
    spec("unpersisted-vote", UNPERSISTED_VOTE_SPEC)
}

fn stale_candidate_spec() -> ModelSpec {
    spec("vote-without-log-check", STALE_CANDIDATE_SPEC)
}

fn lease_spec() -> ModelSpec {
    spec("lease-from-ack", LEASE_SPEC)
}

/// `spec` with the core's deliberate `bugs` on.
fn with_bugs(spec: ModelSpec, bugs: DeliberateBugs) -> RaftModel {
    let mut config = spec.config();
    config.bugs = bugs;
    RaftModel::with_config(spec, config)
}

/// Searches `model` breadth first until `property` is violated and returns
/// the length of the counterexample: the first one a breadth-first search
/// finds is a shortest one, and a known bug needs no more of the search
/// than that. Fails if the whole space keeps the property.
fn shortest_violation(model: RaftModel, property: Property) -> usize {
    let name = property.name();
    let checker = model
        .checker()
        .finish_when(HasDiscoveries::AnyOf(BTreeSet::from([name])))
        .spawn_bfs()
        .join();
    let path = checker.discovery(name).unwrap_or_else(|| {
        panic!(
            "{name} holds in all {} states",
            checker.unique_state_count()
        )
    });
    assert!(
        path.last_state().violations.contains(property),
        "the counterexample of {name} ends in a state that keeps it"
    );
    let steps = path.into_actions().len();
    println!(
        "{name}: shortest counterexample {steps} steps ({} states searched)",
        checker.unique_state_count()
    );
    steps
}

/// Checks `model` exhaustively; returns the violated `always` properties.
fn violated_by(model: RaftModel) -> Vec<&'static str> {
    let report = check_model(
        model,
        &CheckOptions {
            skip_counterexamples: true,
            ..CheckOptions::default()
        },
    );
    println!("{}", summary(&report));
    assert!(report.complete, "the search did not finish");
    report
        .properties
        .iter()
        .filter(|property| property.kind == "always" && property.discovered)
        .map(|property| property.name)
        .collect()
}

/// The experiment behind the coalescing bugs: `models/raft-write-batch.toml`
/// with the bug `COALESCE_BUG` names on (`DeliberateBugs::coalescing`),
/// printing the properties it violates.
/// `COALESCE_BUG=loses-entry cargo test --locked --test models
/// batched_writes_with_a_coalescing_bug -- --ignored --nocapture`
#[test]
#[ignore = "an experiment: prints what a coalescing bug breaks"]
fn batched_writes_with_a_coalescing_bug() {
    let name = std::env::var("COALESCE_BUG").unwrap_or_else(|_| "loses-entry".into());
    let bugs = DeliberateBugs::coalescing(&name).expect("a coalescing bug's name");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/raft-write-batch.toml");
    let spec = ModelSpec::load(&path).unwrap_or_else(|error| panic!("{error}"));
    println!("{name}: violated {:?}", violated_by(with_bugs(spec, bugs)));
}

/// The correct core keeps every property on each known bug's spec (so the
/// bug, not the spec, is what breaks it). The specs whose nodes differ only
/// in their names are searched with symmetry reduction, which keeps every
/// verdict (`symmetry_reduction_keeps_every_verdict_with_fewer_states`);
/// the disk-fault specs in full.
#[test]
fn the_correct_core_has_no_counterexample_on_the_known_bug_specs() {
    for (spec, symmetry) in [
        (unpersisted_vote_spec(), true),
        (stale_candidate_spec(), true),
        (lease_spec(), true),
        (lost_batch_spec(), false),
        (damaged_restart_spec(), false),
    ] {
        let name = spec.path.display().to_string();
        let spec = if symmetry {
            depth_first(&spec, true)
        } else {
            spec
        };
        let violated = violated_by(RaftModel::new(spec));
        assert!(violated.is_empty(), "{name}: {violated:?}");
    }
}

#[test]
fn a_vote_not_made_durable_breaks_election_safety() {
    let bugs = DeliberateBugs {
        unpersisted_vote: true,
        ..DeliberateBugs::default()
    };
    shortest_violation(
        with_bugs(unpersisted_vote_spec(), bugs),
        Property::ElectionSafety,
    );
}

#[test]
fn a_vote_without_the_log_check_loses_committed_writes() {
    let bugs = DeliberateBugs {
        vote_without_log_check: true,
        ..DeliberateBugs::default()
    };
    shortest_violation(
        with_bugs(stale_candidate_spec(), bugs),
        Property::LeaderCompleteness,
    );
}

#[test]
fn a_lease_measured_from_the_acknowledgement_breaks_lease_safety() {
    let bugs = DeliberateBugs {
        lease_from_ack: true,
        ..DeliberateBugs::default()
    };
    shortest_violation(with_bugs(lease_spec(), bugs), Property::LeaseSafety);
}

/// Power lost during the write of a granted vote: if the lost batch is
/// reported persisted, the grant leaves, the voter restarts without it and
/// grants another candidate the same term.
#[test]
fn a_lost_batch_reported_persisted_breaks_election_safety() {
    let bugs = DiskBugs {
        lost_batch_reported_persisted: true,
        ..DiskBugs::default()
    };
    shortest_violation(
        RaftModel::new(lost_batch_spec()).with_disk_bugs(bugs),
        Property::ElectionSafety,
    );
}

/// A voter that crashed restarts on damaged storage: starting it blank (as
/// truncating recovery did) lets it vote again in the term it voted in.
#[test]
fn a_restart_on_damaged_storage_as_a_blank_node_breaks_election_safety() {
    let bugs = DiskBugs {
        damaged_restart_blank: true,
        ..DiskBugs::default()
    };
    shortest_violation(
        RaftModel::new(damaged_restart_spec()).with_disk_bugs(bugs),
        Property::ElectionSafety,
    );
}

/// `spec` searched depth first, with or without symmetry reduction, with no
/// pinned state count (the full search and the reduced one count
/// differently).
fn depth_first(spec: &ModelSpec, symmetry: bool) -> ModelSpec {
    let mut spec = spec.clone();
    spec.check.strategy = Strategy::Dfs;
    spec.check.symmetry = symmetry;
    spec.expect.unique_states = None;
    spec
}

/// Each property and whether the search found an example or counterexample.
fn verdicts(report: &SpecReport) -> Vec<(&'static str, bool)> {
    report
        .properties
        .iter()
        .map(|property| (property.name, property.discovered))
        .collect()
}

/// Symmetry reduction may only shrink the search: on the first election
/// (every property holds, a leader is elected) and on the unpersisted-vote
/// bug (Election Safety violated after a crash), the reduced search must
/// give every verdict the full one gives, with fewer unique states.
#[test]
fn symmetry_reduction_keeps_every_verdict_with_fewer_states() {
    let election =
        ModelSpec::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/raft-election.toml"))
            .expect("the spec loads");
    let vote_bug = DeliberateBugs {
        unpersisted_vote: true,
        ..DeliberateBugs::default()
    };
    for (spec, bugs) in [
        (election, DeliberateBugs::default()),
        (unpersisted_vote_spec(), vote_bug),
    ] {
        let options = CheckOptions {
            skip_counterexamples: true,
            ..CheckOptions::default()
        };
        let run =
            |symmetry: bool| check_model(with_bugs(depth_first(&spec, symmetry), bugs), &options);
        let (full, reduced) = (run(false), run(true));
        println!("{}", summary(&full));
        println!("{}", summary(&reduced));
        assert!(full.complete && reduced.complete);
        assert!(!full.symmetry && reduced.symmetry);
        assert_eq!(
            verdicts(&reduced),
            verdicts(&full),
            "{}",
            spec.path.display()
        );
        assert!(
            reduced.unique_states < full.unique_states,
            "{}: {} unique states with symmetry, {} without",
            spec.path.display(),
            reduced.unique_states,
            full.unique_states
        );
        println!(
            "{}: symmetry reduction {:.2}x ({} -> {} unique states)",
            spec.path.display(),
            full.unique_states as f64 / reduced.unique_states as f64,
            full.unique_states,
            reduced.unique_states
        );
    }
}

/// Under symmetry reduction the search goes on from the states it
/// generated, not from their representatives, so every path it reports
/// replays action by action from the initial state and ends where it says:
/// in a state violating the property, or reaching it.
#[test]
fn paths_found_under_symmetry_reduction_replay() {
    let lease_bug = DeliberateBugs {
        lease_from_ack: true,
        ..DeliberateBugs::default()
    };
    let model = with_bugs(depth_first(&lease_spec(), true), lease_bug);
    let checker = model
        .clone()
        .checker()
        .symmetry()
        .threads(2)
        .finish_when(HasDiscoveries::AllOf(BTreeSet::from([
            "Lease Safety",
            "a leader is elected",
        ])))
        .spawn_dfs()
        .join();
    // Replaying happens here: stateright rebuilds each path from its action
    // indexes and panics if an action is not there.
    let discoveries = checker.discoveries();
    let violation = discoveries
        .get("Lease Safety")
        .expect("the lease bug is found under symmetry reduction");
    let last = violation.last_state();
    assert!(last.violations.contains(Property::LeaseSafety), "{last:?}");
    let elected = discoveries
        .get("a leader is elected")
        .expect("a leader is elected under symmetry reduction");
    let property = model.property("a leader is elected");
    assert!(
        (property.condition)(&model, elected.last_state()),
        "the example path does not end with a leader"
    );
}

/// A lock-service spec of `models/`.
fn lease_lock_spec(name: &str) -> ModelSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(format!("{name}.toml"));
    ModelSpec::load(&path).unwrap_or_else(|error| panic!("{error}"))
}

/// The violations described in the last step of `property`'s shortest
/// counterexample.
fn last_step_violations(report: &SpecReport, property: Property) -> Vec<String> {
    let found = report
        .properties
        .iter()
        .find(|found| found.name == property.name())
        .unwrap_or_else(|| panic!("{property} is judged"));
    let steps = found
        .counterexample
        .as_ref()
        .unwrap_or_else(|| panic!("{property} has a counterexample: {}", summary(report)));
    steps
        .last()
        .expect("a counterexample has steps")
        .violations
        .clone()
}

/// With fencing off, the shortest run to a broken Fenced Writes ends in
/// the resource accepting the paused holder's write under its old token
/// after its successor's under the newer one, whether the store or the
/// challenger decided that the holder's lease expired.
#[test]
fn lease_lock_without_fencing_accepts_the_paused_holders_stale_write() {
    for name in ["lease-lock-unfenced", "lease-lock-challenger-unfenced"] {
        assert_stale_write_accepted(name);
    }
}

/// Checks the unfenced spec `name` of `models/`, which must give its
/// expected outcome, and finds the resource accepting a write under token
/// 1 after one under token 2 at the end of the shortest counterexample.
fn assert_stale_write_accepted(name: &str) {
    let report = check_spec(&lease_lock_spec(name), &CheckOptions::default());
    assert!(report.verdicts_as_expected(), "{}", summary(&report));
    let violations = last_step_violations(&report, Property::FencedWrites);
    assert!(
        violations
            .iter()
            .any(|violation| violation.starts_with("Fenced Writes violated")
                && violation.contains("under token 1 after")
                && violation.contains("the newer token 2")),
        "{name}: {violations:?}"
    );
}

/// The fenced specs (store and challenger expiry) are not vacuous: the
/// same runs with fencing turned off reach the stale write, which fencing
/// is what refuses.
#[test]
fn lease_lock_fenced_spec_reaches_the_stale_write_that_fencing_refuses() {
    for name in ["lease-lock-fenced", "lease-lock-challenger-fenced"] {
        let mut spec = lease_lock_spec(name);
        spec.lease_lock.fencing = false;
        assert_reaches_the_stale_write(spec);
    }
}

/// `spec`, a fenced spec with its fencing turned off, breaks Fenced
/// Writes.
fn assert_reaches_the_stale_write(mut spec: ModelSpec) {
    spec.expect.unique_states = None;
    spec.expect.violated.insert(Property::FencedWrites);
    let options = CheckOptions {
        skip_counterexamples: true,
        ..CheckOptions::default()
    };
    let report = check_spec(&spec, &options);
    assert!(report.verdicts_as_expected(), "{}", summary(&report));
}

/// A margin below the drift bound: two candidates' clocks both say they
/// hold at one instant, when the store's clock runs fast against the
/// holder's (store expiry) or the challenger's does (challenger expiry);
/// the spec is refused unless it expects that.
#[test]
fn lease_lock_with_a_margin_below_the_drift_has_two_holders_at_once() {
    for name in [
        "lease-lock-margin-below-drift",
        "lease-lock-challenger-margin-below-drift",
    ] {
        let spec = lease_lock_spec(name);
        let report = check_spec(&spec, &CheckOptions::default());
        assert!(report.verdicts_as_expected(), "{}", summary(&report));
        let violations = last_step_violations(&report, Property::ExclusiveHolding);
        assert!(
            violations
                .iter()
                .any(|violation| violation.starts_with("Exclusive Holding violated")),
            "{violations:?}"
        );
        let path = spec.path.clone();
        let text = std::fs::read_to_string(&path).expect("readable");
        let unexpected = text.replace(
            r#"violated = ["Lease Safety", "Exclusive Holding"]"#,
            r#"violated = ["Lease Safety"]"#,
        );
        assert_ne!(text, unexpected);
        let error = ModelSpec::parse(&path, &unexpected).expect_err("the margin is refused");
        assert!(
            error.to_string().contains("lease_lock.safety_margin"),
            "{error}"
        );
    }
}

/// With fencing off, the shortest run to a broken Fenced Writes ends in
/// the resource accepting the paused zk-sequential leader's write under
/// its entry after its successor's under the newer entry.
#[test]
fn zk_sequential_without_fencing_accepts_the_paused_leaders_stale_write() {
    assert_stale_write_accepted("zk-sequential-unfenced");
}

/// The fenced zk-sequential spec is not vacuous: the same runs with
/// fencing turned off reach the stale write, which fencing is what
/// refuses.
#[test]
fn zk_sequential_fenced_spec_reaches_the_stale_write_that_fencing_refuses() {
    let mut spec = lease_lock_spec("zk-sequential-fenced");
    spec.zk_sequential.fencing = false;
    assert_reaches_the_stale_write(spec);
}

/// Three zk-sequential candidates, each of which may be paused (its ticks
/// late) at any moment, over two quanta.
const ZK_HERD_SPEC: &str = r#"
description = "zk-sequential: a deletion wakes at most one watcher"
algorithm = "zk-sequential"
run = "explicit"
[cluster]
nodes = 3
[time]
max_time = 2
clock_drift = 0
[network]
ordered = true
max_in_flight = 2
[bounds]
max_term = 3
max_log = 0
[expect]
reachable = ["a leader is elected"]
"#;

/// No herd effect, in every state of the search: no deletion of an entry
/// notified more than one watcher, because each candidate watches only its
/// predecessor. The sessions here time out after one quantum, shorter
/// than the core lets a leader run with (its keep-alive would be due no
/// earlier than it stops leading), so that every session that joins at
/// the first quantum ends at the second, with every watch set: what is
/// judged is which watchers a deletion wakes, not timing. Not vacuous:
/// some state has all three entries created and a deletion that did
/// notify its watcher. The search is written out here (breadth first over
/// the model's own transitions) because the property reads the store's
/// count of notices, which no property of the vocabulary does.
#[test]
fn zk_sequential_a_deletion_wakes_at_most_one_watcher() {
    let spec = spec("zk-herd", ZK_HERD_SPEC);
    let mut variant = spec.zk_sequential.clone();
    variant.config.ttl = spec.quanta(1);
    variant.config.renew_permille = 500;
    let model = ClusterModel::of(variant, spec);
    let service = model.members().last().copied().expect("a service member");
    let mut pending: VecDeque<StateOf<ZkSequential>> = model.init_states().into();
    let mut seen: HashSet<StateOf<ZkSequential>> = pending.iter().cloned().collect();
    let mut woken = false;
    while let Some(state) = pending.pop_front() {
        let store = state
            .node(service)
            .and_then(LockMember::service)
            .expect("the service never crashes")
            .store();
        let watches = store.watch_count();
        assert!(
            watches.most_per_deletion <= 1,
            "a deletion woke more than one watcher ({watches:?}): {}",
            summary_of(&model, &state)
        );
        woken |= watches.notifications > 0 && store.key(Time::ZERO).revision.get() >= 3;
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        for action in actions {
            let Some(next) = model.next_state(&state, action) else {
                continue;
            };
            if model.within_boundary(&next) && seen.insert(next.clone()) {
                pending.push_back(next);
            }
        }
    }
    println!("{} states searched", seen.len());
    assert!(woken, "no state with three entries and a notice sent");
}

/// The spec of the planted `install_older_snapshot` bug, outside
/// `models/` because only a build with deliberate bugs loads it.
fn older_snapshot_spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models/deliberate-bugs/raft-install-older-snapshot.toml")
}

/// A follower that installs a snapshot its commit index covers goes back
/// on what it committed: the checker finds State Machine Safety violated
/// and its shortest counterexample ends in that violation, naming the
/// node whose commit index went back. `electorate check` prints that
/// trace. With the bug off the same spec keeps every property, so the bug
/// is what breaks it.
#[test]
fn a_follower_installing_an_older_snapshot_breaks_state_machine_safety() {
    let path = older_snapshot_spec_path();
    let spec = ModelSpec::load(&path).unwrap_or_else(|error| panic!("{error}"));
    assert!(spec.config().bugs.install_older_snapshot);
    let report = check_spec(&spec, &CheckOptions::default());
    println!("{}", summary(&report));
    assert!(report.verdicts_as_expected(), "{}", summary(&report));
    let violations = last_step_violations(&report, Property::StateMachineSafety);
    assert!(
        violations.iter().any(
            |violation| violation.starts_with("State Machine Safety violated")
                && violation.contains("went back")
        ),
        "{violations:?}"
    );

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_electorate"))
        .arg("check")
        .arg(&path)
        .output()
        .expect("run electorate check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("shortest counterexample"), "{stdout}");
    assert!(
        stdout.contains("=> State Machine Safety violated: node") && stdout.contains("went back"),
        "{stdout}"
    );
    assert!(stdout.contains("verdict: as expected"), "{stdout}");

    let mut fixed = spec.clone();
    fixed.raft.bugs = DeliberateBugs::default();
    fixed.expect.violated.clear();
    let report = check_spec(&fixed, &CheckOptions::default());
    println!("{}", summary(&report));
    assert!(
        report.verdicts_as_expected(),
        "without the bug: {}",
        summary(&report)
    );
}

/// A snapshot spec with the planted bug is refused in a build without
/// deliberate bugs, naming the key; in this (test) build it loads.
#[test]
fn the_planted_bug_spec_needs_a_build_with_deliberate_bugs() {
    let text = std::fs::read_to_string(older_snapshot_spec_path()).expect("readable");
    let parsed = ModelSpec::parse(&older_snapshot_spec_path(), &text);
    assert_eq!(parsed.is_ok(), DeliberateBugs::AVAILABLE);
    let unknown = text.replace("install-older-snapshot", "install-newer-snapshot");
    let error = ModelSpec::parse(&older_snapshot_spec_path(), &unknown).expect_err("refused");
    assert!(
        error.to_string().contains("`raft.deliberate_bugs`"),
        "{error}"
    );
}

/// A pinned count that no longer matches is a mismatch, unless the run
/// judges verdicts only: then the same spec, with the same verdicts, is as
/// expected. (The count must never hide or decide a verdict.)
#[test]
fn verdicts_only_leaves_the_pinned_count_out_and_nothing_else() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/bully-split-brain.toml");
    let text = std::fs::read_to_string(&path).expect("the spec is readable");
    let wrong_count = text.replace("unique_states = 26187", "unique_states = 1");
    assert_ne!(wrong_count, text, "the spec pins 26187 states");
    let edited = spec("bully-split-brain-wrong-count", &wrong_count);
    let pinned = check_spec(&edited, &CheckOptions::default());
    assert!(!pinned.as_expected(), "a wrong pinned count is a mismatch");
    assert!(
        pinned.verdicts_as_expected() && pinned.count_mismatch.is_some(),
        "a wrong pinned count is a count mismatch, and no verdict's: {:?}",
        pinned.mismatches
    );
    let judged = check_spec(
        &edited,
        &CheckOptions {
            verdicts_only: true,
            ..CheckOptions::default()
        },
    );
    assert!(judged.as_expected(), "{:?}", judged.mismatches);
    assert_eq!(verdicts(&judged), verdicts(&pinned));
    let broken_verdict = wrong_count.replace(
        "violated = [\"Election Safety\", \"Lease Safety\"]",
        "violated = [\"Lease Safety\"]",
    );
    let judged = check_spec(
        &spec("bully-split-brain-wrong-verdict", &broken_verdict),
        &CheckOptions {
            verdicts_only: true,
            ..CheckOptions::default()
        },
    );
    assert!(!judged.as_expected(), "a wrong verdict is still a mismatch");
}

/// zk-sequential refuses a safety margin below its clocks' drift allowance
/// as lease-lock does, naming the key, unless the spec expects the
/// Exclusive Holding violation such a margin shows.
#[test]
fn a_zk_sequential_margin_below_the_drift_is_refused_unless_the_spec_expects_the_overlap() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/zk-sequential-fenced.toml");
    let text = std::fs::read_to_string(&path).expect("readable");
    let drifting = text.replace("clock_drift = 0", "clock_drift = 1");
    assert_ne!(text, drifting);
    let error = ModelSpec::parse(&path, &drifting).expect_err("the margin is refused");
    assert!(
        error.to_string().contains("zk_sequential.safety_margin"),
        "{error}"
    );
    let expecting = drifting.replace(
        "[expect]\n",
        "[expect]\nviolated = [\"Exclusive Holding\"]\n",
    );
    ModelSpec::parse(&path, &expecting).expect("a spec may run the margin to show the overlap");
}
