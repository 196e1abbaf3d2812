//! What a node says when it ignores an input names the right node: the
//! sender of a message, no one for the caller's own request, and a leader
//! only if the node still knows one.

use electorate::sim::scenario::replay::Replay;
use electorate::sim::scenario::script::Script;

/// The outputs of `text`'s cases, which must all run.
fn run(text: &str) -> Vec<String> {
    let replay = Replay::run(Script::parse("inline.txt", text).expect("parse"));
    assert_eq!(replay.error, None);
    replay.outputs
}

const LEADER_1: &str = "cluster nodes=3\n----\n\ncampaign 1\n----\n\nstabilize\n----\n\n";

/// Nodes 2 and 3 both campaign while leader 1 is alive: each has forgotten
/// its leader (a campaigning node follows no one), so when 2 refuses 3's
/// pre-vote it cannot name one. Before, it named itself: `2: dropped from
/// 3: leader 2 is still alive`.
#[test]
fn a_campaigning_node_refusing_a_pre_vote_names_no_leader() {
    let text =
        format!("{LEADER_1}campaign 2\n----\n\ncampaign 3\n----\n\ndeliver from=3 to=2\n----\n\n");
    let outputs = run(&text);
    let refusal = outputs.last().expect("the delivery");
    assert_eq!(
        refusal,
        "3->2 PreVote term=2 last=1/1\n  2: dropped from 3: heard from a leader less than an election timeout ago\n"
    );
    // A follower that still follows leader 1 names it.
    let text = format!("{LEADER_1}campaign 3\n----\n\ndeliver from=3 to=2\n----\n\n");
    let outputs = run(&text);
    assert_eq!(
        outputs.last().expect("the delivery"),
        "3->2 PreVote term=2 last=1/1\n  2: dropped from 3: leader 1 is still alive\n"
    );
}

/// A transfer asked of a follower is the caller's request, not a message
/// from the target. Before, it printed `2: dropped from 3`.
#[test]
fn a_transfer_asked_of_a_follower_is_dropped_from_no_one() {
    let outputs = run(&format!("{LEADER_1}transfer 2 to=3\n----\n\n"));
    assert_eq!(
        outputs.last().expect("the transfer"),
        "  2: dropped: unexpected for a follower\n"
    );
}
