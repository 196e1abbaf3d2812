//! A spec that is malformed or contradicts itself is refused with an error
//! naming the file, the key and why.

use super::*;

const GOOD: &str = r#"
description = "probe"
algorithm = "raft"
run = "default"

[cluster]
nodes = 3
max_crashes = 1

[time]
max_time = 4

[network]
max_in_flight = 3

[bounds]
max_term = 2
max_log = 2

[clients]
operations = ["write 1", "read"]

[expect]
reachable = ["a leader is elected", "a leader is replaced after a crash"]
"#;

fn parse(text: &str) -> Result<ModelSpec, SpecError> {
    ModelSpec::parse(Path::new("models/probe.toml"), text)
}

/// The error for `GOOD` with `from` replaced by `to`, as a string.
fn refusal(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from:?} is not in the good spec");
    let error = parse(&GOOD.replace(from, to)).expect_err("the changed spec is refused");
    let text = error.to_string();
    assert!(text.starts_with("models/probe.toml"), "no file in {text:?}");
    text
}

#[test]
fn a_good_spec_parses() {
    let spec = parse(GOOD).unwrap();
    assert_eq!(spec.nodes, 3);
    assert_eq!(spec.operations.len(), 2);
    assert!(spec.expect.reachable.contains(&Property::LeaderElected));
}

#[test]
fn unknown_keys_and_wrong_types_are_syntax_errors() {
    let text = refusal("max_in_flight = 3", "max_in_flight = 3\nmax_infligth = 2");
    assert!(text.contains("max_infligth"), "{text}");
    let text = refusal("nodes = 3", "nodes = \"three\"");
    assert!(text.contains("nodes"), "{text}");
}

#[test]
fn impossible_values_name_their_key() {
    let text = refusal("nodes = 3", "nodes = 12");
    assert!(text.contains("`cluster.nodes`"), "{text}");
    let text = refusal("\"write 1\"", "\"write one\"");
    assert!(text.contains("`clients.operations`"), "{text}");
}

#[test]
fn contradictions_are_refused() {
    // A leader cannot be replaced after a crash when nothing may crash.
    let text = refusal("max_crashes = 1", "max_crashes = 0");
    assert!(text.contains("`expect.reachable`"), "{text}");
    assert!(text.contains("cannot happen"), "{text}");
}

#[test]
fn an_unsafe_raft_configuration_is_refused_by_the_core() {
    let text = refusal("[time]", "[raft]\nlease = 3\n\n[time]");
    assert!(text.contains("`raft`"), "{text}");
}

#[test]
fn symmetry_is_accepted_for_raft_searched_depth_first() {
    let spec = parse(&GOOD.replace(
        "[expect]",
        "[check]\nstrategy = \"dfs\"\nsymmetry = true\n\n[expect]",
    ))
    .unwrap();
    assert!(spec.check.symmetry);
    assert!(!parse(GOOD).unwrap().check.symmetry);
}

#[test]
fn symmetry_is_refused_where_node_ids_matter() {
    let symmetric = "[check]\nstrategy = \"dfs\"\nsymmetry = true\n\n[expect]";
    // Breadth first: stateright would silently ignore it.
    let text = refusal("[expect]", "[check]\nsymmetry = true\n\n[expect]");
    assert!(text.contains("`check.symmetry`"), "{text}");
    assert!(text.contains("depth-first"), "{text}");
    // A seeded jitter draws timeouts from the node id.
    let seeded = GOOD
        .replace("[time]", "[time]\njitter = \"seeded\"")
        .replace("[expect]", symmetric);
    let text = parse(&seeded).expect_err("seeded jitter").to_string();
    assert!(text.contains("`check.symmetry`"), "{text}");
    assert!(text.contains("seeded"), "{text}");
    // Bully elects the highest id.
    let bully = GOOD
        .replace("algorithm = \"raft\"", "algorithm = \"bully\"")
        .replace("[expect]", symmetric);
    let text = parse(&bully).expect_err("bully").to_string();
    assert!(text.contains("`check.symmetry`"), "{text}");
    assert!(text.contains("Bully"), "{text}");
    // Too many nodes to try every order of look-alikes.
    let text = parse(
        &GOOD
            .replace("nodes = 3", "nodes = 9")
            .replace("[expect]", symmetric),
    )
    .expect_err("9 nodes")
    .to_string();
    assert!(text.contains("`check.symmetry`"), "{text}");
}

#[test]
fn what_an_algorithm_cannot_do_is_refused() {
    let bully = GOOD
        .replace("algorithm = \"raft\"", "algorithm = \"bully\"")
        .replace(
            "reachable = [\"a leader is elected\", \"a leader is replaced after a crash\"]",
            "reachable = [\"a leader is elected\"]",
        );
    // Bully has no clients, no transfers and no log.
    let text = parse(&bully).expect_err("clients").to_string();
    assert!(text.contains("`clients.operations`"), "{text}");
    let bully = bully.replace("operations = [\"write 1\", \"read\"]", "operations = []");
    parse(&bully).expect("no clients");
    let transfers = bully.replace("max_crashes = 1", "max_crashes = 1\nmax_transfers = 1");
    let text = parse(&transfers).expect_err("transfers").to_string();
    assert!(text.contains("`cluster.max_transfers`"), "{text}");
    let log = bully.replace("[expect]", "[expect]\nviolated = [\"Log Matching\"]");
    let text = parse(&log).expect_err("log").to_string();
    assert!(text.contains("`expect.violated`"), "{text}");
    assert!(text.contains("unknown property \"Log Matching\""), "{text}");
}

#[test]
fn disk_faults_are_off_by_default_and_parse_when_given() {
    assert_eq!(parse(GOOD).unwrap().disk, DiskSpec::default());
    let text = GOOD.replace(
        "[clients]",
        "[disk]\nmax_power_losses = 2\nmax_damaged_nodes = 1\n\n[clients]",
    );
    let disk = parse(&text).unwrap().disk;
    assert_eq!((disk.max_power_losses, disk.max_damaged_nodes), (2, 1));
}

#[test]
fn bad_disk_budgets_name_their_key() {
    // A majority damaged for good would leave nothing able to elect.
    let text = refusal("[clients]", "[disk]\nmax_damaged_nodes = 2\n\n[clients]");
    assert!(text.contains("`disk.max_damaged_nodes`"), "{text}");
    assert!(text.contains("minority"), "{text}");
    // Storage is found damaged only by a restart, so something must crash.
    let no_crash = GOOD
        .replace("max_crashes = 1", "max_crashes = 0")
        .replace(", \"a leader is replaced after a crash\"", "")
        .replace("[clients]", "[disk]\nmax_damaged_nodes = 1\n\n[clients]");
    let text = parse(&no_crash).unwrap_err().to_string();
    assert!(text.contains("`disk.max_damaged_nodes`"), "{text}");
    // A typo or a wrong type is a syntax error naming the key.
    let text = refusal("[clients]", "[disk]\nmax_power_loss = 1\n\n[clients]");
    assert!(text.contains("max_power_loss"), "{text}");
    let text = refusal("[clients]", "[disk]\nmax_power_losses = -1\n\n[clients]");
    assert!(text.contains("max_power_losses"), "{text}");
    let text = refusal("[clients]", "[disk]\nmax_power_losses = 100\n\n[clients]");
    assert!(text.contains("`disk.max_power_losses`"), "{text}");
}
