//! What a scenario prints: the trace of a command (messages delivered and
//! lost, what the nodes did, client replies) and the state commands
//! (`status`, `logs`, `leases`, `kv`).

use std::fmt::Write as _;

use crate::core::client::{ClientError, Outcome};
use crate::core::node::{Event, Node, NodeId};
use crate::harness::algorithm::Algorithm;
use crate::sim::cluster::{Cluster, Trace};
use crate::sim::scenario::algorithms::Scripted;

/// Renders the trace since the last command. `messages`: show every
/// delivered and lost message (manual delivery) or only what the nodes did
/// (`run`, where messages are too many to read).
pub fn render_trace<A: Scripted>(cluster: &mut Cluster<A>, messages: bool) -> String {
    let mut output = String::new();
    for (time, trace) in cluster.take_trace() {
        let line = match &trace {
            Trace::Delivered(envelope) if messages => {
                format!("{}->{} {}", envelope.from, envelope.to, envelope.message)
            }
            Trace::Lost { envelope, why } if messages => format!(
                "{}->{} {} LOST ({why})",
                envelope.from, envelope.to, envelope.message
            ),
            Trace::Delivered(_) | Trace::Lost { .. } => continue,
            Trace::Node { id, event } => match render_event(*id, event, messages) {
                Some(line) => line,
                None => continue,
            },
            Trace::Reply { node, reply } => {
                let result = match &reply.result {
                    Ok(outcome) => render_outcome(outcome),
                    Err(error) => render_error(error),
                };
                format!("  {node}: reply {}: {result}", reply.id)
            }
            Trace::Crashed(id) => format!("{id} crashed"),
            Trace::Restarted(id) => format!("{id} restarted"),
            Trace::Paused(id) => format!("{id} paused"),
            Trace::Resumed(id) => format!("{id} resumed"),
            Trace::Violation(violation) => format!("VIOLATION {violation}"),
        };
        if messages {
            writeln!(output, "{line}").expect("write to string");
        } else {
            writeln!(output, "[{time}] {}", line.trim_start()).expect("write to string");
        }
    }
    output
}

fn render_event(id: NodeId, event: &Event, verbose: bool) -> Option<String> {
    match event {
        Event::RoleChanged { role, term } => Some(format!("  {id}: became {role} term={term}")),
        Event::LeaderChanged { leader, term } => {
            let leader = leader.map_or("none".to_owned(), |leader| leader.to_string());
            Some(format!("  {id}: leader={leader} term={term}"))
        }
        Event::Dropped { from, reason } if verbose => {
            let from = from.map_or(String::new(), |from| format!(" from {from}"));
            Some(format!("  {id}: dropped{from}: {reason}"))
        }
        Event::Dropped { .. } => None,
        Event::Snapshot { index, from: None } => Some(format!("  {id}: snapshot through {index}")),
        Event::Snapshot {
            index,
            from: Some(leader),
        } => Some(format!(
            "  {id}: installed {leader}'s snapshot through {index}"
        )),
    }
}

fn render_outcome(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Read(Some(value)) => format!("read {value}"),
        Outcome::Read(None) => "read nil".to_owned(),
        Outcome::Written => "written".to_owned(),
        Outcome::CompareAndSet { swapped: true } => "cas ok".to_owned(),
        Outcome::CompareAndSet { swapped: false } => "cas failed".to_owned(),
    }
}

fn render_error(error: &ClientError) -> String {
    match error {
        ClientError::NotLeader { leader_hint } => {
            let hint = leader_hint.map_or("none".to_owned(), |hint| hint.to_string());
            format!("not leader (hint {hint})")
        }
        ClientError::TransferInProgress => "transfer in progress".to_owned(),
        ClientError::LeadershipLost => "leadership lost (outcome unknown)".to_owned(),
    }
}

pub fn render_status<A: Scripted>(cluster: &Cluster<A>) -> String {
    let mut output = String::new();
    for &id in cluster.members() {
        let paused = if cluster.is_paused(id) {
            " (paused)"
        } else {
            ""
        };
        match cluster.node(id) {
            Some(node) => writeln!(
                output,
                "{id}: {}{paused}",
                A::status(node, cluster.local_time(id))
            ),
            None => writeln!(output, "{id}: down"),
        }
        .expect("write to string");
    }
    output
}

pub fn render_logs<A: Scripted>(cluster: &Cluster<A>) -> String {
    let mut output = String::new();
    for &id in cluster.members() {
        let entries: std::borrow::Cow<'_, [_]> = match cluster.node(id) {
            Some(node) => A::log(node).unwrap_or_default().into(),
            None => cluster.durable(id).map(A::durable_log).unwrap_or_default(),
        };
        let rendered: Vec<String> = entries.iter().map(ToString::to_string).collect();
        writeln!(output, "{id}: [{}]", rendered.join(", ")).expect("write to string");
    }
    output
}

pub fn render_leases<A: Algorithm>(cluster: &Cluster<A>) -> String {
    let holders: Vec<String> = cluster
        .members()
        .iter()
        .filter(|&&id| {
            cluster
                .node(id)
                .is_some_and(|node| node.holds_lease(cluster.local_time(id)))
        })
        .map(ToString::to_string)
        .collect();
    if holders.is_empty() {
        "no lease\n".to_owned()
    } else {
        format!("lease held by {}\n", holders.join(", "))
    }
}

pub fn render_kv<A: Scripted>(cluster: &Cluster<A>, id: NodeId) -> String {
    let Some(node) = cluster.node(id) else {
        return format!("{id}: down\n");
    };
    let Some(kv) = A::kv(node) else {
        return format!("{id}: keeps no state machine\n");
    };
    let pairs: Vec<String> = kv
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    format!("{{{}}}\n", pairs.join(", "))
}
