//! Checking a Bully or Ring spec: the same search and report as for Raft
//! (`super::run`), over an [`ElectionModel`], with each violated property's
//! shortest counterexample as a numbered trace of actions.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::hash::Hash;
use std::time::Instant;

use stateright::{Checker, HasDiscoveries, Model, Path};

use crate::core::node::Node;
use crate::model::election::{
    ElectionAction, ElectionModel, StateOf, ELECTION_ALWAYS, ELECTION_SOMETIMES,
};
use crate::model::run::{
    depth_limit, mismatches, CheckOptions, Expected, PropertyReport, SpecReport,
};
use crate::model::spec::Strategy;
use crate::model::trace::TraceStep;
use crate::sim::algorithm::Algorithm;

type Message<A> = <<A as Algorithm>::Node as Node>::Message;

pub fn check_election<A>(model: ElectionModel<A>, options: &CheckOptions) -> SpecReport
where
    A: Algorithm + Clone + Send + Sync + 'static,
    A::Node: Hash + Eq + Send + Sync,
    A::Durable: Hash + Eq + Send + Sync,
    Message<A>: Ord + Hash + fmt::Display + fmt::Debug + Send + Sync,
{
    let spec = model.spec().clone();
    let strategy = options.strategy.unwrap_or(spec.check.strategy);
    let threads = options.threads.unwrap_or(spec.check.threads);
    let start = Instant::now();
    let mut builder = model.clone().checker().threads(threads);
    if let Some(depth) = spec.bounds.max_depth {
        builder = builder.target_max_depth(depth_limit(depth));
    }
    if let Some(timeout) = options.timeout {
        builder = builder.timeout(timeout);
    }
    let (discoveries, counts) = match strategy {
        Strategy::Bfs => summarize(builder.spawn_bfs().join()),
        Strategy::Dfs => summarize(builder.spawn_dfs().join()),
    };
    let elapsed = start.elapsed();
    let timed_out = options.timeout.is_some_and(|timeout| elapsed >= timeout);
    let stopped_early = discoveries.len() == model.properties().len();
    let expect = &spec.expect;
    let properties = ELECTION_ALWAYS
        .iter()
        .map(|&name| (name, true))
        .chain(ELECTION_SOMETIMES.iter().map(|&name| (name, false)))
        .map(|(name, always)| {
            let discovered = discoveries.contains_key(name);
            let expected = match (always, expect.violated.contains(name)) {
                (true, true) => Expected::Violated,
                (true, false) => Expected::Hold,
                _ if expect.reachable.contains(name) => Expected::Reachable,
                _ if expect.unreachable.contains(name) => Expected::Unreachable,
                _ => Expected::Unchecked,
            };
            let as_expected = match expected {
                Expected::Hold | Expected::Unreachable => !discovered,
                Expected::Violated | Expected::Reachable => discovered,
                Expected::Unchecked => true,
            };
            let shortest = (always && discovered && !options.skip_counterexamples)
                .then(|| shortest(&model, name))
                .flatten();
            PropertyReport {
                name,
                kind: if always { "always" } else { "sometimes" },
                expected,
                discovered,
                as_expected,
                explorer_path: shortest.as_ref().map(|path| path.encode(&model)),
                counterexample: shortest.map(trace::<A>),
            }
        })
        .collect();
    let mut report = SpecReport {
        spec: spec.path.display().to_string(),
        description: spec.description.clone(),
        strategy,
        threads,
        unique_states: counts[0],
        expected_unique_states: spec.expect.unique_states,
        total_states: counts[1],
        max_depth: counts[2],
        seconds: elapsed.as_secs_f64(),
        complete: !timed_out && !stopped_early,
        properties,
        mismatches: Vec::new(),
    };
    report.mismatches = mismatches(&report, timed_out, stopped_early);
    report
}

/// What the search found, and its unique states, states and depth.
/// Each property's discovery, by name.
type Discoveries<M> = HashMap<&'static str, Path<<M as Model>::State, <M as Model>::Action>>;

fn summarize<M, C>(checker: C) -> (Discoveries<M>, [usize; 3])
where
    M: Model,
    M::State: Clone + Hash + PartialEq + fmt::Debug,
    M::Action: Clone + PartialEq + fmt::Debug,
    C: Checker<M>,
{
    let counts = [
        checker.unique_state_count(),
        checker.state_count(),
        checker.max_depth(),
    ];
    (checker.discoveries(), counts)
}

type ElectionPath<A> = Path<StateOf<A>, ElectionAction<Message<A>>>;

/// The shortest path to a state violating `name`: breadth-first on one
/// thread, stopping at the first discovery, repeated with the depth bounded
/// below it until nothing shorter is found (as for Raft).
fn shortest<A>(model: &ElectionModel<A>, name: &'static str) -> Option<ElectionPath<A>>
where
    A: Algorithm + Clone + Send + Sync + 'static,
    A::Node: Hash + Eq + Send + Sync,
    A::Durable: Hash + Eq + Send + Sync,
    Message<A>: Ord + Hash + fmt::Display + fmt::Debug + Send + Sync,
{
    let mut best: Option<ElectionPath<A>> = None;
    loop {
        let mut builder = model
            .clone()
            .checker()
            .threads(1)
            .finish_when(HasDiscoveries::AnyOf(BTreeSet::from([name])));
        let bound = match &best {
            Some(path) => Some(path.clone().into_actions().len().saturating_sub(1)),
            None => model.spec().bounds.max_depth,
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

/// The path as numbered steps: each action, then each node's role and
/// epoch in the state it led to.
fn trace<A>(path: ElectionPath<A>) -> Vec<TraceStep>
where
    A: Algorithm,
    Message<A>: fmt::Display,
{
    let steps = path.into_vec();
    steps
        .iter()
        .zip(steps.iter().skip(1))
        .filter_map(|((_, action), (after, _))| Some((action.as_ref()?, after)))
        .map(|(action, state)| {
            let nodes: Vec<String> = state
                .nodes
                .iter()
                .enumerate()
                .map(|(position, node)| match node {
                    Some(node) => {
                        format!("{}: {:?} epoch {}", position + 1, node.role(), node.term())
                    }
                    None => format!("{}: down", position + 1),
                })
                .collect();
            TraceStep {
                time: state.real_time,
                action: action.to_string(),
                state: nodes.join(", "),
                violations: Vec::new(),
            }
        })
        .collect()
}
