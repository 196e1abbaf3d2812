//! Checking a spec: run the search, compare what it found with what the spec
//! expects, and find the shortest counterexample of each violated property.
//! Used by `electorate check` and by the tests.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use stateright::{Checker, HasDiscoveries, Model, Path};

use crate::check::properties::Property;
use crate::harness::algorithm::{Bully, Ring};
use crate::model::cluster::{ActionOf, ClusterModel, RaftModel};
use crate::model::properties;
use crate::model::spec::{Algorithm, ModelSpec, Strategy};
use crate::model::trace::{trace, TraceStep};
use crate::model::variant::{ModelVariant, StateOf};

/// A snapshot of a search under way, for progress displays.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub elapsed: Duration,
}

/// How to search, overriding the spec's `[check]` section where set.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Called about twice a second while the search runs.
    pub progress: Option<fn(&Progress)>,
    pub strategy: Option<Strategy>,
    pub threads: Option<usize>,
    /// Stop searching after this long; the result is then incomplete.
    pub timeout: Option<Duration>,
    /// Skip the search for shortest counterexamples.
    pub skip_counterexamples: bool,
    /// Explore at most this many actions deep, overriding the spec's
    /// `bounds.max_depth`.
    pub max_depth: Option<usize>,
    /// Turn the spec's symmetry reduction (`check.symmetry`) off. (Turning
    /// it on is the spec's business: only a spec can be validated for it.)
    pub no_symmetry: bool,
    /// Judge the verdicts alone and leave the spec's pinned state count out.
    /// A pinned count goes red on any change of behaviour, harmless or not:
    /// it detects change and proves nothing, so the runs that measure what
    /// the suite catches (mutation testing, coverage by checker) set this.
    pub verdicts_only: bool,
}

/// What the spec expects of one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expected {
    Hold,
    Violated,
    Reachable,
    Unreachable,
    /// A `sometimes` property the spec says nothing about.
    Unchecked,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct PropertyReport {
    pub name: &'static str,
    /// `always` or `sometimes`.
    pub kind: &'static str,
    pub expected: Expected,
    /// A counterexample (`always`) or an example (`sometimes`) was found.
    pub discovered: bool,
    pub as_expected: bool,
    /// The shortest counterexample, for a violated `always` property.
    pub counterexample: Option<Vec<TraceStep>>,
    /// The same path as action indexes, for the web explorer's
    /// `#/steps/...` address.
    pub explorer_path: Option<String>,
}

impl PropertyReport {
    /// The verdict in words.
    pub fn verdict(&self) -> &'static str {
        match (self.kind, self.discovered) {
            ("always", false) => "holds",
            ("always", true) => "VIOLATED",
            (_, true) => "reached",
            (_, false) => "not reached",
        }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct SpecReport {
    pub spec: String,
    pub description: String,
    pub strategy: Strategy,
    pub threads: usize,
    /// Symmetry reduction was on: `unique_states` counts classes of states
    /// that differ only in node names.
    pub symmetry: bool,
    pub unique_states: usize,
    pub expected_unique_states: Option<usize>,
    pub total_states: usize,
    pub max_depth: usize,
    pub seconds: f64,
    /// Every state within the bounds was visited.
    pub complete: bool,
    /// The kinds of input (`input Tick`), client operation (`operation
    /// cas`) and message (`message Append`) the search delivered to a node
    /// (`crate::model::delivered`), in that order.
    pub delivered: Vec<String>,
    pub properties: Vec<PropertyReport>,
    /// Why the verdicts differ from the spec's expectations (a property's
    /// outcome, a search that timed out); empty if they do not.
    pub mismatches: Vec<String>,
    /// Why the count of unique states differs from the spec's pinned count,
    /// if it does. Kept apart from `mismatches`: a pinned count detects a
    /// change of behaviour and proves nothing about it.
    pub count_mismatch: Option<String>,
}

impl SpecReport {
    /// The verdicts and the pinned count are as the spec expects.
    pub fn as_expected(&self) -> bool {
        self.verdicts_as_expected() && self.count_mismatch.is_none()
    }

    /// Every property's verdict is as the spec expects, and the search
    /// finished: what the semantic checks judge.
    pub fn verdicts_as_expected(&self) -> bool {
        self.mismatches.is_empty()
    }

    /// Every reason the outcome differs from the spec, verdicts first.
    pub fn all_mismatches(&self) -> impl Iterator<Item = &String> {
        self.mismatches.iter().chain(&self.count_mismatch)
    }
}

/// Checks `spec` and compares the outcome with its expectations.
pub fn check_spec(spec: &ModelSpec, options: &CheckOptions) -> SpecReport {
    let mut spec = spec.clone();
    if options.max_depth.is_some() {
        spec.bounds.max_depth = options.max_depth;
    }
    if options.verdicts_only {
        spec.expect.unique_states = None;
    }
    match spec.algorithm {
        Algorithm::Raft => check_model(RaftModel::new(spec), options),
        Algorithm::Bully => check_model(ClusterModel::of(Bully::default(), spec), options),
        Algorithm::Ring => check_model(ClusterModel::of(Ring::default(), spec), options),
        Algorithm::LeaseLock => {
            let variant = spec.lease_lock.clone();
            check_model(ClusterModel::of(variant, spec), options)
        }
        Algorithm::ZkSequential => {
            let variant = spec.zk_sequential.clone();
            check_model(ClusterModel::of(variant, spec), options)
        }
    }
}

/// Serves stateright's web explorer for `spec`'s model, for its algorithm,
/// until the process is stopped (`electorate explore`).
pub fn serve(spec: ModelSpec, address: impl std::net::ToSocketAddrs) {
    match spec.algorithm {
        Algorithm::Raft => {
            RaftModel::new(spec).checker().serve(address);
        }
        Algorithm::Bully => {
            ClusterModel::of(Bully::default(), spec)
                .checker()
                .serve(address);
        }
        Algorithm::Ring => {
            ClusterModel::of(Ring::default(), spec)
                .checker()
                .serve(address);
        }
        Algorithm::LeaseLock => {
            ClusterModel::of(spec.lease_lock.clone(), spec)
                .checker()
                .serve(address);
        }
        Algorithm::ZkSequential => {
            ClusterModel::of(spec.zk_sequential.clone(), spec)
                .checker()
                .serve(address);
        }
    }
}

type SearchPath<V> = Path<StateOf<V>, ActionOf<V>>;

/// Searches `model` (its spec's bounds and expectations, perhaps with
/// another core configuration: see `RaftModel::with_config`), then
/// reports each property its variant is judged on against the spec's
/// expectations, with the shortest counterexample of each violated
/// `always` property as a trace. The variant's symmetry reduction, if it
/// has one, is used when the spec (or `options`) asks for it and the
/// search is depth first, the only search stateright reduces.
pub fn check_model<V: ModelVariant>(model: ClusterModel<V>, options: &CheckOptions) -> SpecReport {
    let spec = model.spec().clone();
    let strategy = options.strategy.unwrap_or(spec.check.strategy);
    let threads = options.threads.unwrap_or(spec.check.threads);
    let representative = V::representative()
        .filter(|_| spec.check.symmetry && !options.no_symmetry && strategy == Strategy::Dfs);
    let start = Instant::now();
    let mut builder = model.clone().checker().threads(threads);
    if let Some(representative) = representative {
        builder = builder.symmetry_fn(representative);
    }
    if let Some(depth) = spec.bounds.max_depth {
        builder = builder.target_max_depth(depth_limit(depth));
    }
    if let Some(timeout) = options.timeout {
        builder = builder.timeout(timeout);
    }
    let (discoveries, counts) = match strategy {
        Strategy::Bfs => summarize(wait(builder.spawn_bfs(), options.progress, start)),
        Strategy::Dfs => summarize(wait(builder.spawn_dfs(), options.progress, start)),
    };
    let elapsed = start.elapsed();
    // Before the searches for shortest counterexamples, which would add
    // nothing but might be cut short.
    let delivered = model.delivered();
    let timed_out = options.timeout.is_some_and(|timeout| elapsed >= timeout);
    // The checker stops early once every property has a discovery.
    let stopped_early = discoveries.len() == model.properties().len();
    let capabilities = V::CAPABILITIES;
    let properties = properties::always(capabilities)
        .into_iter()
        .map(|property| (property, true))
        .chain(
            properties::sometimes(capabilities)
                .into_iter()
                .map(|property| (property, false)),
        )
        .map(|(property, is_always)| {
            let name = property.name();
            let discovered = discoveries.contains_key(name);
            let (expected, as_expected) = expectation(&spec, property, is_always, discovered);
            let shortest = (is_always && discovered && !options.skip_counterexamples)
                .then(|| shortest_counterexample(&model, name, spec.bounds.max_depth))
                .flatten();
            PropertyReport {
                name,
                kind: if is_always { "always" } else { "sometimes" },
                expected,
                discovered,
                as_expected,
                explorer_path: shortest.as_ref().map(|path| path.encode(&model)),
                counterexample: shortest.map(|path| trace(&model, path)),
            }
        })
        .collect();
    let mut report = SpecReport {
        spec: spec.path.display().to_string(),
        description: spec.description.clone(),
        strategy,
        threads,
        symmetry: representative.is_some(),
        unique_states: counts.unique,
        expected_unique_states: spec.expect.unique_states,
        total_states: counts.total,
        max_depth: counts.max_depth,
        seconds: elapsed.as_secs_f64(),
        complete: !timed_out && !stopped_early,
        delivered,
        properties,
        mismatches: Vec::new(),
        count_mismatch: None,
    };
    report.mismatches = verdict_mismatches(&report, timed_out);
    report.count_mismatch = count_mismatch(&report, spec.check.symmetry, timed_out, stopped_early);
    report
}

/// Waits for the search to end, reporting progress meanwhile if asked.
fn wait<M: Model, C: Checker<M>>(checker: C, progress: Option<fn(&Progress)>, start: Instant) -> C {
    if let Some(report) = progress {
        while !checker.is_done() {
            std::thread::sleep(Duration::from_millis(500));
            report(&Progress {
                states: checker.state_count(),
                unique_states: checker.unique_state_count(),
                max_depth: checker.max_depth(),
                elapsed: start.elapsed(),
            });
        }
    }
    checker.join()
}

struct Counts {
    unique: usize,
    total: usize,
    max_depth: usize,
}

fn summarize<V: ModelVariant, C: Checker<ClusterModel<V>>>(
    checker: C,
) -> (HashMap<&'static str, SearchPath<V>>, Counts) {
    let counts = Counts {
        unique: checker.unique_state_count(),
        total: checker.state_count(),
        max_depth: checker.max_depth(),
    };
    (checker.discoveries(), counts)
}

/// The checker's depth of a state is one more than the actions leading to
/// it, and it skips states at or beyond its target: a path of `actions`
/// actions is explored if the target is `actions + 2`.
fn depth_limit(actions: usize) -> usize {
    actions + 2
}

/// What `spec` expects of `property`, and whether `discovered` agrees.
fn expectation(
    spec: &ModelSpec,
    property: Property,
    always: bool,
    discovered: bool,
) -> (Expected, bool) {
    let expect = &spec.expect;
    let expected = if always {
        if expect.violated.contains(&property) {
            Expected::Violated
        } else {
            Expected::Hold
        }
    } else if expect.reachable.contains(&property) {
        Expected::Reachable
    } else if expect.unreachable.contains(&property) {
        Expected::Unreachable
    } else {
        Expected::Unchecked
    };
    let as_expected = match expected {
        Expected::Hold | Expected::Unreachable => !discovered,
        Expected::Violated | Expected::Reachable => discovered,
        Expected::Unchecked => true,
    };
    (expected, as_expected)
}

/// The shortest path to a state violating `name`. stateright records the
/// last violating state it meets, not the first, so this searches
/// breadth-first on one thread, stops at the first discovery, and repeats
/// with the depth bounded below that discovery until none is found.
pub(crate) fn shortest_counterexample<V: ModelVariant>(
    model: &ClusterModel<V>,
    name: &'static str,
    max_depth: Option<usize>,
) -> Option<SearchPath<V>> {
    let mut best: Option<SearchPath<V>> = None;
    loop {
        let mut builder = model
            .clone()
            .checker()
            .threads(1)
            .finish_when(HasDiscoveries::AnyOf(BTreeSet::from([name])));
        let bound = match &best {
            Some(path) => Some(path.clone().into_actions().len().saturating_sub(1)),
            None => max_depth,
        };
        if let Some(actions) = bound {
            builder = builder.target_max_depth(depth_limit(actions));
        }
        match builder.spawn_bfs().join().discovery(name) {
            Some(path) => {
                let shorter = best.as_ref().is_none_or(|best| {
                    path.clone().into_actions().len() < best.clone().into_actions().len()
                });
                if !shorter {
                    return best;
                }
                best = Some(path);
            }
            None => return best,
        }
    }
}

fn verdict_mismatches(report: &SpecReport, timed_out: bool) -> Vec<String> {
    let mut mismatches: Vec<String> = report
        .properties
        .iter()
        .filter(|property| !property.as_expected)
        .map(|property| {
            let expected = match property.expected {
                Expected::Hold => "to hold",
                Expected::Violated => "to be violated",
                Expected::Reachable => "to be reached",
                Expected::Unreachable => "never to be reached",
                Expected::Unchecked => "nothing",
            };
            format!(
                "{}: {}, expected {expected}",
                property.name,
                property.verdict()
            )
        })
        .collect();
    if timed_out {
        mismatches.push("the search timed out before visiting every state".to_owned());
    }
    mismatches
}

fn count_mismatch(
    report: &SpecReport,
    pinned_with_symmetry: bool,
    timed_out: bool,
    stopped_early: bool,
) -> Option<String> {
    match report.expected_unique_states {
        Some(expected) if stopped_early => Some(format!(
            "every property had a discovery, so the search stopped early: \
             {} unique states cannot be compared with the pinned {expected}",
            report.unique_states
        )),
        // A count pinned with symmetry reduction is a count of classes, one
        // pinned without it a count of states: only like compares with like.
        Some(_) if report.symmetry != pinned_with_symmetry => None,
        Some(expected) if expected != report.unique_states && !timed_out => Some(format!(
            "{} unique states, expected {expected} (the model or the core changed: \
             review, then update `expect.unique_states`)",
            report.unique_states
        )),
        _ => None,
    }
}
