//! Raft's messages. Every message carries the sender's term; the body says
//! what it is. Responses echo what lets the receiver discard stale ones (the
//! heartbeat round, the rejected index).

use crate::core::client::Value;
use crate::core::node::NodeId;
use crate::core::raft::counters::Round;
use crate::core::raft::log::{Entry, LogIndex, Term};

#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Message {
    pub term: Term,
    pub body: Body,
}

/// Each variant carries its own struct, so a handler takes the message whole
/// (`handle_append(ctx, from, append)`) instead of a row of integers.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Body {
    VoteRequest(VoteRequest),
    VoteResponse(VoteResponse),
    Append(Append),
    AppendResponse(AppendResponse),
    Heartbeat(Heartbeat),
    HeartbeatResponse(HeartbeatResponse),
    /// Leadership transfer: campaign now, without waiting for a timeout.
    TimeoutNow,
    /// One chunk of a snapshot, for a follower that needs entries the
    /// leader compacted away (paper §7).
    InstallSnapshot(InstallSnapshot),
    /// A chunk arrived (or was refused); the follower wants the pairs from
    /// `received` on. The last chunk is answered with an accepting
    /// [`AppendResponse`] instead: the follower's log then matches the
    /// leader's through the snapshot's index.
    InstallSnapshotResponse(InstallSnapshotResponse),
}

/// A chunk of the leader's snapshot at `index`: the key-value pairs from
/// `offset` on (counted in pairs, in key order), as many as the
/// per-append limits allow. `done` marks the last chunk. `round` is the
/// leader's latest heartbeat round, echoed as in an append.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstallSnapshot {
    pub index: LogIndex,
    pub snapshot_term: Term,
    pub members: Vec<NodeId>,
    pub offset: u64,
    pub pairs: Vec<(String, Value)>,
    pub done: bool,
    pub round: Round,
}

/// The follower holds the first `received` pairs of the snapshot at
/// `index` and wants the rest.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstallSnapshotResponse {
    pub index: LogIndex,
    pub received: u64,
    pub round: Round,
}

/// RequestVote, or its pre-vote probe (thesis §9.6). A pre-vote request
/// carries the term the sender would campaign in, without having moved to
/// it. `transfer` marks an election started by TimeoutNow, which voters
/// honour even while they still hear from the (departing) leader.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VoteRequest {
    pub pre_vote: bool,
    pub last_log_index: LogIndex,
    pub last_log_term: Term,
    pub transfer: bool,
}

#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VoteResponse {
    pub pre_vote: bool,
    pub granted: bool,
}

/// AppendEntries. `round` is the leader's latest heartbeat round at send
/// time, echoed in the response for the lease.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Append {
    pub prev_log_index: LogIndex,
    pub prev_log_term: Term,
    pub entries: Vec<Entry>,
    pub leader_commit: LogIndex,
    pub round: Round,
}

#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AppendResponse {
    pub result: AppendResult,
    pub round: Round,
}

/// A heartbeat round: keeps followers' faith, carries a commit index the
/// follower is known to hold (`min(match, commit)`), and measures the
/// lease.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Heartbeat {
    pub leader_commit: LogIndex,
    pub round: Round,
}

#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HeartbeatResponse {
    pub round: Round,
}

#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AppendResult {
    /// The follower's log matches the leader's up to `match_index`.
    Accepted { match_index: LogIndex },
    /// The consistency check failed at `rejected_index` (the request's
    /// `prev_log_index`). The hint lets the leader skip a whole term at once
    /// (fast back-off): the follower's entry there has `conflict_term`, whose
    /// first entry is at `conflict_index`; or, if the follower's log is too
    /// short, `conflict_term` is `None` and `conflict_index` is its last
    /// index + 1.
    Rejected {
        rejected_index: LogIndex,
        conflict_term: Option<Term>,
        conflict_index: LogIndex,
    },
}

impl Body {
    /// A short name for logs and scenario output.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::VoteRequest(request) if request.pre_vote => "PreVote",
            Body::VoteRequest(_) => "Vote",
            Body::VoteResponse(response) if response.pre_vote => "PreVoteResponse",
            Body::VoteResponse(_) => "VoteResponse",
            Body::Append(_) => "Append",
            Body::AppendResponse(_) => "AppendResponse",
            Body::Heartbeat(_) => "Heartbeat",
            Body::HeartbeatResponse(_) => "HeartbeatResponse",
            Body::TimeoutNow => "TimeoutNow",
            Body::InstallSnapshot(_) => "InstallSnapshot",
            Body::InstallSnapshotResponse(_) => "InstallSnapshotResponse",
        }
    }
}

impl std::fmt::Display for Message {
    /// One line per message, for logs and scenario files, e.g.
    /// `Append term=2 prev=1/3 entries=[2/4 noop] commit=3 round=1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} term={}", self.body.kind(), self.term)?;
        match &self.body {
            Body::VoteRequest(VoteRequest {
                last_log_index,
                last_log_term,
                transfer,
                ..
            }) => {
                write!(f, " last={last_log_term}/{last_log_index}")?;
                if *transfer {
                    write!(f, " transfer")?;
                }
                Ok(())
            }
            Body::VoteResponse(VoteResponse { granted, .. }) => {
                f.write_str(if *granted { " granted" } else { " rejected" })
            }
            Body::Append(Append {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                round,
            }) => {
                write!(f, " prev={prev_log_term}/{prev_log_index} entries=[")?;
                for (position, entry) in entries.iter().enumerate() {
                    if position > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{entry}")?;
                }
                write!(f, "] commit={leader_commit} round={round}")
            }
            Body::AppendResponse(AppendResponse { result, round }) => match result {
                AppendResult::Accepted { match_index } => {
                    write!(f, " accepted match={match_index} round={round}")
                }
                AppendResult::Rejected {
                    rejected_index,
                    conflict_term,
                    conflict_index,
                } => {
                    let term = conflict_term.map_or("-".to_owned(), |term| term.to_string());
                    write!(
                        f,
                        " rejected at={rejected_index} hint={term}/{conflict_index} round={round}"
                    )
                }
            },
            Body::Heartbeat(Heartbeat {
                leader_commit,
                round,
            }) => write!(f, " commit={leader_commit} round={round}"),
            Body::HeartbeatResponse(HeartbeatResponse { round }) => write!(f, " round={round}"),
            Body::TimeoutNow => Ok(()),
            Body::InstallSnapshot(InstallSnapshot {
                index,
                snapshot_term,
                members,
                offset,
                pairs,
                done,
                round,
            }) => {
                write!(
                    f,
                    " snapshot={snapshot_term}/{index} members={members:?} offset={offset} pairs=["
                )?;
                for (position, (key, value)) in pairs.iter().enumerate() {
                    if position > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{key}={value}")?;
                }
                write!(f, "]{} round={round}", if *done { " done" } else { "" })
            }
            Body::InstallSnapshotResponse(InstallSnapshotResponse {
                index,
                received,
                round,
            }) => write!(f, " snapshot={index} received={received} round={round}"),
        }
    }
}
