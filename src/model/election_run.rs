//! Checking a Bully or Ring spec: the search and report of `super::run`
//! over an [`ElectionModel`], with its own properties and a trace of each
//! counterexample as numbered actions and the nodes' roles and epochs.

use std::fmt;
use std::hash::Hash;

use stateright::Path;

use crate::core::node::Node;
use crate::harness::algorithm::Algorithm;
use crate::model::election::{
    ElectionAction, ElectionModel, StateOf, ELECTION_ALWAYS, ELECTION_SOMETIMES,
};
use crate::model::run::{check_with, CheckOptions, SpecReport};
use crate::model::trace::TraceStep;

type Message<A> = <<A as Algorithm>::Node as Node>::Message;

pub fn check_election<A>(model: ElectionModel<A>, options: &CheckOptions) -> SpecReport
where
    A: Algorithm + Clone + Send + Sync + 'static,
    A::Node: Hash + Eq + Send + Sync,
    A::Durable: Hash + Eq + Send + Sync,
    Message<A>: Ord + Hash + fmt::Display + fmt::Debug + Send + Sync,
{
    let spec = model.spec().clone();
    let names = (&ELECTION_ALWAYS[..], &ELECTION_SOMETIMES[..]);
    // Node ids are not interchangeable in Bully or Ring: no symmetry.
    check_with(&model, &spec, names, options, None, trace::<A>)
}

type ElectionPath<A> = Path<StateOf<A>, ElectionAction<Message<A>>>;

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
