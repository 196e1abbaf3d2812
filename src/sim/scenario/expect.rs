//! `expect`: a scenario states an outcome and the run stops at the line if
//! it does not hold, so a file checks who leads, what a node committed and
//! applied, and what a client was told, rather than only pinning a
//! transcript that `REWRITE=1` would accept whatever it says.
//!
//! | form | holds when |
//! |---|---|
//! | `expect leaders=3`, `leaders=1,3`, `leaders=none` | exactly these up nodes believe they lead |
//! | `expect N role=leader term=2 leader=3 commit=2 lease=true` (any of them) | node N is up and in that state |
//! | `expect N snapshot=3` | node N is up and its log is compacted through 3 (`snapshot=0`: it holds no snapshot) |
//! | `expect N key=x value=1` (`value=nil`: never written) | N's applied state machine holds that value |
//! | `expect reply=K outcome=read:1` | the K-th client request of the file got that answer |
//! | `expect violations=0` | the safety monitors have recorded that many violations |
//! | `expect violated=fenced-writes` | the monitors have recorded this property violated (its name, lower case, words joined by `-`) |
//!
//! Outcomes: `none` (no answer yet), `read:V`, `read:nil`, `written`,
//! `cas-ok`, `cas-failed`, `not-leader`, `transfer-in-progress`,
//! `leadership-lost`.

use crate::check::properties::Property;
use crate::core::client::{ClientError, ClientReply, Outcome, RequestId, Value};
use crate::core::node::{Node, NodeId, Role};
use crate::sim::cluster::Cluster;
use crate::sim::scenario::algorithms::Scripted;

/// One stated outcome of an `expect` line, its arguments checked.
#[derive(Clone, Debug, PartialEq)]
pub enum Expectation {
    /// The up nodes whose role is leader, in id order.
    Leaders(Vec<NodeId>),
    Role(NodeId, Role),
    Term(NodeId, u64),
    Leader(NodeId, Option<NodeId>),
    Commit(NodeId, u64),
    /// The index the node's snapshot covers (0: none).
    Snapshot(NodeId, u64),
    Lease(NodeId, bool),
    Value {
        node: NodeId,
        key: String,
        value: Option<Value>,
    },
    /// The answer to the client request with this sequence number.
    Reply {
        sequence: u64,
        outcome: String,
    },
    Violations(usize),
    /// The monitors have recorded this property violated.
    Violated(Property),
}

/// The outcome words `outcome=` takes besides `read:V`.
pub const OUTCOMES: &[&str] = &[
    "none",
    "read:nil",
    "written",
    "cas-ok",
    "cas-failed",
    "not-leader",
    "transfer-in-progress",
    "leadership-lost",
];

/// Checks `outcome=`: one of [`OUTCOMES`] or `read:` and a number.
pub fn parse_outcome(text: &str) -> Result<String, String> {
    let is_read_value = text
        .strip_prefix("read:")
        .is_some_and(|value| value.parse::<Value>().is_ok());
    if OUTCOMES.contains(&text) || is_read_value {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "expect: bad outcome={text} (one of: {}, or read:V)",
            OUTCOMES.join(", ")
        ))
    }
}

/// The role a word names, as `status` prints roles.
pub fn parse_role(text: &str) -> Result<Role, String> {
    const ROLES: [Role; 4] = [
        Role::Follower,
        Role::PreCandidate,
        Role::Candidate,
        Role::Leader,
    ];
    ROLES
        .into_iter()
        .find(|role| role.to_string() == text)
        .ok_or_else(|| {
            let names: Vec<String> = ROLES.iter().map(ToString::to_string).collect();
            format!("expect: bad role={text} (one of: {})", names.join(", "))
        })
}

/// How an answer reads in `outcome=`.
fn outcome_word(reply: Option<&ClientReply>) -> String {
    let Some(reply) = reply else {
        return "none".to_owned();
    };
    match &reply.result {
        Ok(Outcome::Read(Some(value))) => format!("read:{value}"),
        Ok(Outcome::Read(None)) => "read:nil".to_owned(),
        Ok(Outcome::Written) => "written".to_owned(),
        Ok(Outcome::CompareAndSet { swapped: true }) => "cas-ok".to_owned(),
        Ok(Outcome::CompareAndSet { swapped: false }) => "cas-failed".to_owned(),
        Err(ClientError::NotLeader { .. }) => "not-leader".to_owned(),
        Err(ClientError::TransferInProgress) => "transfer-in-progress".to_owned(),
        Err(ClientError::LeadershipLost) => "leadership-lost".to_owned(),
    }
}

fn nodes_text(nodes: &[NodeId]) -> String {
    if nodes.is_empty() {
        return "none".to_owned();
    }
    let ids: Vec<String> = nodes.iter().map(ToString::to_string).collect();
    ids.join(",")
}

/// Whether every expectation holds on `cluster`; the first that does not
/// says what was found instead.
pub fn check<A: Scripted>(
    cluster: &Cluster<A>,
    expectations: &[Expectation],
) -> Result<(), String> {
    for expectation in expectations {
        check_one(cluster, expectation).map_err(|found| format!("expect: {found}"))?;
    }
    Ok(())
}

fn check_one<A: Scripted>(cluster: &Cluster<A>, expectation: &Expectation) -> Result<(), String> {
    let up = |id: NodeId| cluster.node(id).ok_or(format!("node {id} is down"));
    let differ = |what: String, found: String, wanted: String| {
        if found == wanted {
            Ok(())
        } else {
            Err(format!("{what} is {found}, not {wanted}"))
        }
    };
    match expectation {
        Expectation::Leaders(wanted) => differ(
            "the set of leaders".to_owned(),
            nodes_text(&cluster.leaders()),
            nodes_text(wanted),
        ),
        Expectation::Role(id, role) => differ(
            format!("node {id}'s role"),
            up(*id)?.role().to_string(),
            role.to_string(),
        ),
        Expectation::Term(id, term) => differ(
            format!("node {id}'s term"),
            up(*id)?.term().to_string(),
            term.to_string(),
        ),
        Expectation::Leader(id, leader) => {
            let text = |leader: Option<NodeId>| leader.map_or("none".to_owned(), |l| l.to_string());
            differ(
                format!("node {id}'s leader"),
                text(up(*id)?.leader()),
                text(*leader),
            )
        }
        Expectation::Commit(id, commit) => differ(
            format!("node {id}'s commit index"),
            up(*id)?.commit_index().to_string(),
            commit.to_string(),
        ),
        Expectation::Snapshot(id, index) => differ(
            format!("node {id}'s snapshot index"),
            A::snapshot(up(*id)?)
                .map_or(0, |snapshot| snapshot.index.get())
                .to_string(),
            index.to_string(),
        ),
        Expectation::Lease(id, held) => differ(
            format!("whether node {id} holds a lease"),
            up(*id)?.holds_lease(cluster.local_time(*id)).to_string(),
            held.to_string(),
        ),
        Expectation::Value { node, key, value } => {
            let text = |value: Option<Value>| value.map_or("nil".to_owned(), |v| v.to_string());
            differ(
                format!("{key} on node {node}"),
                text(
                    A::kv(up(*node)?)
                        .ok_or_else(|| format!("node {node} keeps no state machine"))?
                        .read(key),
                ),
                text(*value),
            )
        }
        Expectation::Reply { sequence, outcome } => {
            let id = RequestId {
                client: 0,
                sequence: *sequence,
            };
            differ(
                format!("the answer to request {id}"),
                outcome_word(cluster.reply_to(id)),
                outcome.clone(),
            )
        }
        Expectation::Violated(property) => {
            let found = cluster.violations();
            if found
                .iter()
                .any(|violation| violation.property == *property)
            {
                return Ok(());
            }
            let listed: Vec<String> = found.iter().map(|v| format!(": {v}")).collect();
            Err(format!(
                "{property} was not recorded violated ({} other violations{})",
                found.len(),
                listed.concat()
            ))
        }
        Expectation::Violations(count) => {
            let found = cluster.violations();
            if found.len() == *count {
                return Ok(());
            }
            let listed: Vec<String> = found.iter().map(|v| format!(": {v}")).collect();
            Err(format!(
                "{} safety violations were recorded, not {count}{}",
                found.len(),
                listed.concat()
            ))
        }
    }
}
