//! A spec that is malformed or contradicts itself is refused with an error
//! naming the file, the key and why.

use super::*;

/// A spec text for unit tests: a 3-node Raft cluster run as `run`, with
/// the small bounds every probe shares (4 quanta, 3 messages in flight,
/// terms and logs up to 2) and `more`: each `(table, lines)` adds the lines
/// to that table, which is added if the probe has none.
pub(crate) fn probe(run: &str, more: &[(&str, &str)]) -> String {
    let mut tables: Vec<(&str, Vec<&str>)> = vec![
        ("cluster", vec!["nodes = 3"]),
        ("time", vec!["max_time = 4"]),
        ("network", vec!["max_in_flight = 3"]),
        ("bounds", vec!["max_term = 2", "max_log = 2"]),
    ];
    for &(table, lines) in more {
        match tables.iter_mut().find(|(name, _)| *name == table) {
            Some((_, existing)) => existing.push(lines),
            None => tables.push((table, vec![lines])),
        }
    }
    if !tables.iter().any(|(name, _)| *name == "expect") {
        tables.push(("expect", Vec::new()));
    }
    let mut text = format!("description = \"probe\"\nalgorithm = \"raft\"\nrun = \"{run}\"\n");
    for (table, lines) in tables {
        text.push_str(&format!("\n[{table}]\n"));
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

/// A spec that parses, with clients and an expectation.
fn good() -> String {
    probe(
        "default",
        &[
            ("cluster", "max_crashes = 1"),
            ("clients", "operations = [\"write 1\", \"read\"]"),
            (
                "expect",
                "reachable = [\"a leader is elected\", \"a leader is replaced after a crash\"]",
            ),
        ],
    )
}

fn parse(text: &str) -> Result<ModelSpec, SpecError> {
    ModelSpec::parse(Path::new("models/probe.toml"), text)
}

/// `spec` is refused with an error that names the file and says each of
/// `says`.
fn assert_spec_refused(spec: &str, says: &[&str]) {
    let text = parse(spec).expect_err("the spec is refused").to_string();
    assert!(text.starts_with("models/probe.toml"), "no file in {text:?}");
    for needle in says {
        assert!(text.contains(needle), "no {needle:?} in {text}");
    }
}

/// [`good`] with `from` replaced by `to` is refused, saying each of `says`.
fn assert_refused(from: &str, to: &str, says: &[&str]) {
    let good = good();
    assert!(good.contains(from), "{from:?} is not in the good spec");
    assert_spec_refused(&good.replace(from, to), says);
}

#[test]
fn a_good_spec_parses() {
    let spec = parse(&good()).unwrap();
    assert_eq!(spec.nodes, 3);
    assert_eq!(spec.operations.len(), 2);
    assert!(spec.expect.reachable.contains(&Property::LeaderElected));
}

#[test]
fn unknown_keys_and_wrong_types_are_syntax_errors() {
    let typo = "max_in_flight = 3\nmax_infligth = 2";
    assert_refused("max_in_flight = 3", typo, &["max_infligth"]);
    assert_refused("nodes = 3", "nodes = \"three\"", &["nodes"]);
}

#[test]
fn impossible_values_name_their_key() {
    assert_refused("nodes = 3", "nodes = 12", &["`cluster.nodes`"]);
    let operation = "`clients.operations`";
    assert_refused("\"write 1\"", "\"write one\"", &[operation]);
}

#[test]
fn contradictions_are_refused() {
    // A leader cannot be replaced after a crash when nothing may crash.
    let says = ["`expect.reachable`", "cannot happen"];
    assert_refused("max_crashes = 1", "max_crashes = 0", &says);
}

#[test]
fn an_unsafe_raft_configuration_is_refused_by_the_core() {
    assert_refused("[time]", "[raft]\nlease = 3\n\n[time]", &["`raft`"]);
}

#[test]
fn symmetry_is_accepted_for_raft_searched_depth_first() {
    let spec = parse(&good().replace(
        "[expect]",
        "[check]\nstrategy = \"dfs\"\nsymmetry = true\n\n[expect]",
    ))
    .unwrap();
    assert!(spec.check.symmetry);
    assert!(!parse(&good()).unwrap().check.symmetry);
}

#[test]
fn symmetry_is_refused_where_node_ids_matter() {
    let symmetric = "[check]\nstrategy = \"dfs\"\nsymmetry = true\n\n[expect]";
    // Breadth first: stateright would silently ignore it.
    let bfs = "[check]\nsymmetry = true\n\n[expect]";
    assert_refused("[expect]", bfs, &["`check.symmetry`", "depth-first"]);
    // A seeded jitter draws timeouts from the node id.
    let seeded = good()
        .replace("[time]", "[time]\njitter = \"seeded\"")
        .replace("[expect]", symmetric);
    assert_spec_refused(&seeded, &["`check.symmetry`", "seeded"]);
    // Bully elects the highest id.
    let bully = good()
        .replace("algorithm = \"raft\"", "algorithm = \"bully\"")
        .replace("[expect]", symmetric);
    assert_spec_refused(&bully, &["`check.symmetry`", "Bully"]);
    // Too many nodes to try every order of look-alikes.
    let nine = good()
        .replace("nodes = 3", "nodes = 9")
        .replace("[expect]", symmetric);
    assert_spec_refused(&nine, &["`check.symmetry`"]);
}

#[test]
fn what_an_algorithm_cannot_do_is_refused() {
    let bully = good()
        .replace("algorithm = \"raft\"", "algorithm = \"bully\"")
        .replace(
            "reachable = [\"a leader is elected\", \"a leader is replaced after a crash\"]",
            "reachable = [\"a leader is elected\"]",
        );
    // Bully has no clients, no transfers and no log.
    assert_spec_refused(&bully, &["`clients.operations`"]);
    let bully = bully.replace("operations = [\"write 1\", \"read\"]", "operations = []");
    parse(&bully).expect("no clients");
    let transfers = bully.replace("max_crashes = 1", "max_crashes = 1\nmax_transfers = 1");
    assert_spec_refused(&transfers, &["`cluster.max_transfers`"]);
    let log = bully.replace("[expect]", "[expect]\nviolated = [\"Log Matching\"]");
    let says = ["`expect.violated`", "unknown property \"Log Matching\""];
    assert_spec_refused(&log, &says);
}

#[test]
fn disk_faults_are_off_by_default_and_parse_when_given() {
    assert_eq!(parse(&good()).unwrap().disk, DiskSpec::default());
    let text = good().replace(
        "[clients]",
        "[disk]\nmax_power_losses = 2\nmax_damaged_nodes = 1\n\n[clients]",
    );
    let disk = parse(&text).unwrap().disk;
    assert_eq!((disk.max_power_losses, disk.max_damaged_nodes), (2, 1));
}

#[test]
fn bad_disk_budgets_name_their_key() {
    // A majority damaged for good would leave nothing able to elect.
    let says = ["`disk.max_damaged_nodes`", "minority"];
    assert_refused(
        "[clients]",
        "[disk]\nmax_damaged_nodes = 2\n\n[clients]",
        &says,
    );
    // Storage is found damaged only by a restart, so something must crash.
    let no_crash = good()
        .replace("max_crashes = 1", "max_crashes = 0")
        .replace(", \"a leader is replaced after a crash\"", "")
        .replace("[clients]", "[disk]\nmax_damaged_nodes = 1\n\n[clients]");
    assert_spec_refused(&no_crash, &["`disk.max_damaged_nodes`"]);
    // A typo or a wrong type is a syntax error naming the key.
    for (budget, says) in [
        ("max_power_loss = 1", "max_power_loss"),
        ("max_power_losses = -1", "max_power_losses"),
        ("max_power_losses = 100", "`disk.max_power_losses`"),
    ] {
        assert_refused(
            "[clients]",
            &format!("[disk]\n{budget}\n\n[clients]"),
            &[says],
        );
    }
}

/// The snapshot keys reach the core's configuration; bad values are
/// refused naming the key.
#[test]
fn snapshot_keys_reach_the_core_and_bad_ones_are_refused() {
    let text = probe(
        "explicit",
        &[
            ("cluster", "max_crashes = 1\ncrash_before_compaction = true"),
            ("raft", "snapshot_every = 1"),
        ],
    );
    let spec = parse(&text).unwrap();
    assert_eq!(spec.config().snapshot_every, 1);
    assert!(spec.crash_before_compaction);
    assert_spec_refused(
        &probe("explicit", &[("raft", "snapshot_every = 65")]),
        &["`raft.snapshot_every`", "65"],
    );
    assert_spec_refused(
        &probe("explicit", &[("raft", "snapshot_every = -1")]),
        &["snapshot_every"],
    );
    assert_spec_refused(
        &probe("explicit", &[("raft", "snapshot_every = \"often\"")]),
        &["snapshot_every"],
    );
    assert_spec_refused(
        &probe(
            "explicit",
            &[("cluster", "max_crashes = 1\ncrash_before_compaction = true")],
        ),
        &["`cluster.crash_before_compaction`", "snapshot_every"],
    );
    assert_spec_refused(
        &probe(
            "explicit",
            &[
                ("cluster", "crash_before_compaction = true"),
                ("raft", "snapshot_every = 1"),
            ],
        ),
        &["`cluster.crash_before_compaction`", "max_crashes"],
    );
    let bully = probe("explicit", &[("raft", "snapshot_every = 1")])
        .replace("algorithm = \"raft\"", "algorithm = \"bully\"");
    assert_spec_refused(&bully, &["`raft.snapshot_every`", "Bully"]);
}

/// `raft.max_entries_per_append` reaches the core; 0 (which the core
/// refuses), more than the core's default and a Bully spec are refused.
#[test]
fn entries_per_append_reach_the_core_and_bad_ones_are_refused() {
    let spec = parse(&probe(
        "explicit",
        &[("raft", "max_entries_per_append = 1")],
    ))
    .unwrap();
    assert_eq!(spec.config().max_entries_per_append, 1);
    assert_eq!(parse(&good()).unwrap().config().max_entries_per_append, 64);
    for (value, says) in [("0", "at least 1"), ("65", "65")] {
        assert_spec_refused(
            &probe(
                "explicit",
                &[("raft", &format!("max_entries_per_append = {value}"))],
            ),
            &["`raft.max_entries_per_append`", says],
        );
    }
    let bully = probe("explicit", &[("raft", "max_entries_per_append = 1")])
        .replace("algorithm = \"raft\"", "algorithm = \"bully\"");
    assert_spec_refused(&bully, &["`raft.max_entries_per_append`", "Bully"]);
}

/// Operations work on the default key unless they name one; the keys are
/// collected in the order they first appear, and more than the model has
/// registers for are refused.
#[test]
fn operations_name_their_keys_within_the_registers_the_model_has() {
    let two = probe(
        "explicit",
        &[(
            "clients",
            "operations = [\"write 1\", \"y: write 2\", \"read\"]",
        )],
    );
    let spec = parse(&two).unwrap();
    assert_eq!(spec.keys, ["x", "y"]);
    assert_eq!(spec.operations[1].key(), "y");
    assert_eq!(spec.operations[2].key(), "x");
    let four = probe(
        "explicit",
        &[(
            "clients",
            "operations = [\"a: read\", \"b: read\", \"c: read\", \"d: read\"]",
        )],
    );
    assert_spec_refused(&four, &["`clients.operations`", "4 keys", "a, b, c, d"]);
    let bad = probe("explicit", &[("clients", "operations = [\"Y: read\"]")]);
    assert_spec_refused(&bad, &["`clients.operations`", "is not a key"]);
}

/// `raft.deliberate_bugs` switches the named bugs on in a build that has
/// them, and refuses unknown and repeated names.
#[test]
fn deliberate_bugs_are_named_and_need_the_feature() {
    let named = |list: &str| {
        probe(
            "explicit",
            &[("raft", &format!("deliberate_bugs = {list}"))],
        )
    };
    let text = named("[\"install-older-snapshot\", \"commit-ahead\"]");
    if DeliberateBugs::AVAILABLE {
        let bugs = parse(&text).unwrap().config().bugs;
        assert!(bugs.install_older_snapshot && bugs.coalesced_commit_ahead);
        assert!(!bugs.unpersisted_vote);
    } else {
        assert_spec_refused(&text, &["`raft.deliberate_bugs`", "no deliberate bugs"]);
    }
    let unknown = named("[\"off-by-one\"]");
    let says: &[&str] = if DeliberateBugs::AVAILABLE {
        &["`raft.deliberate_bugs`", "\"off-by-one\""]
    } else {
        &["`raft.deliberate_bugs`"]
    };
    assert_spec_refused(&unknown, says);
    if DeliberateBugs::AVAILABLE {
        assert_spec_refused(
            &named("[\"anywhere\", \"anywhere\"]"),
            &["`raft.deliberate_bugs`", "twice"],
        );
    }
    assert_eq!(
        parse(&named("[]")).unwrap().config().bugs,
        DeliberateBugs::default()
    );
}

/// `time.jitter` names one of three ways to draw timeouts; `"extremes"`
/// keeps symmetry reduction (both draws are offered to every node alike),
/// and only it (or `"seeded"`) can reach a timeout above the minimum.
#[test]
fn jitter_is_one_of_three_and_extremes_keeps_symmetry() {
    let extremes = good().replace("[time]", "[time]\njitter = \"extremes\"");
    assert_eq!(parse(&extremes).unwrap().time.jitter, Jitter::Extremes);
    let symmetric = extremes.replace(
        "[expect]",
        "[check]\nstrategy = \"dfs\"\nsymmetry = true\n\n[expect]",
    );
    assert!(parse(&symmetric).unwrap().check.symmetry);
    let unknown = good().replace("[time]", "[time]\njitter = \"maximum\"");
    assert_spec_refused(&unknown, &["`time.jitter`", "\"maximum\"", "\"extremes\""]);
    let goal =
        "[expect]\nreachable = [\"a node follows a leader with an election timeout above the \
                minimum\"]";
    let minimum = probe("default", &[]).replace("[expect]", goal);
    assert_spec_refused(&minimum, &["`expect.reachable`", "`time.jitter`"]);
    let reached = minimum.replace("[time]", "[time]\njitter = \"extremes\"");
    assert!(parse(&reached).is_ok());
}

/// Operator campaigns and snapshots are Raft's, like transfers; a snapshot
/// budget alone makes the snapshot goals possible.
#[test]
fn operator_budgets_are_refused_where_the_model_has_no_such_input() {
    let bully = probe("default", &[("cluster", "max_campaigns = 1")])
        .replace("algorithm = \"raft\"", "algorithm = \"bully\"");
    assert_spec_refused(&bully, &["`cluster.max_campaigns`", "Bully"]);
    let bully = probe("default", &[("cluster", "max_snapshots = 1")])
        .replace("algorithm = \"raft\"", "algorithm = \"bully\"");
    assert_spec_refused(&bully, &["`cluster.max_snapshots`", "Bully"]);
    let goal = "[expect]\nreachable = [\"a snapshot is taken\"]";
    let without = probe("default", &[]).replace("[expect]", goal);
    assert_spec_refused(&without, &["`expect.reachable`", "`cluster.max_snapshots`"]);
    let with = probe("default", &[("cluster", "max_snapshots = 1")]).replace("[expect]", goal);
    let spec = parse(&with).unwrap();
    assert_eq!((spec.max_snapshots, spec.max_campaigns), (1, 0));
}
