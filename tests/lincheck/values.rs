//! Values of every scalar type, `jepsen.independent` tuples and `:info`
//! completions as Knossos reads them, through the library: which operation
//! is blamed, in which key, in which state.

use std::path::{Path, PathBuf};

use electorate::check::{
    check, read_history, read_history_file, Budget, CasRegister, HistoryFormat, Value, Verdict,
    Violation,
};

fn hand_made(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/lincheck/cas-register")
        .join(relative)
}

fn outcome_of(relative: &str) -> electorate::check::CheckOutcome {
    let read = read_history_file(&hand_made(relative)).unwrap();
    check(
        &read.history,
        &CasRegister::default(),
        Budget::steps(1_000_000),
    )
    .unwrap()
}

fn assert_linearizable(relative: &str) {
    let verdict = outcome_of(relative).verdict;
    assert!(verdict.is_linearizable(), "{relative}: {verdict:?}");
}

fn violation_of(relative: &str) -> Violation {
    match outcome_of(relative).verdict {
        Verdict::NotLinearizable(violation) => *violation,
        other => panic!("{relative}: {other:?}"),
    }
}

#[test]
fn negative_string_keyword_and_boolean_values_are_compared_by_equality() {
    assert_linearizable("good/mixed-values.edn");
    let violation = violation_of("bad/string-is-not-keyword.edn");
    assert_eq!(violation.operation, 1);
    assert_eq!(violation.state, ":x");
    assert!(violation.impossible_in_state);
    let violation = violation_of("bad/negative-stale-read.edn");
    assert_eq!(violation.state, "\"a\"");
}

#[test]
fn independent_tuples_are_checked_key_by_key() {
    let outcome = outcome_of("good/independent.edn");
    assert!(outcome.verdict.is_linearizable());
    assert_eq!(outcome.statistics.partition_count, 2, "keys 1 and :k");
    let violation = violation_of("bad/independent-crossed-keys.edn");
    assert_eq!(violation.partition_key, Some(Value::from(1u64)));
    assert_eq!(violation.state, "3");
}

#[test]
fn info_writes_take_effect_with_their_invocations_value_or_not_at_all() {
    assert_linearizable("good/nil-info-writes.edn");
    let violation = violation_of("bad/nil-info-write-before-invocation.edn");
    assert_eq!(violation.operation, 0, "the read of 1 is blamed");
    assert_eq!(violation.state, "nil");
    assert!(violation_of("bad/nil-info-write-seen-twice.edn").operation > 0);
}

#[test]
fn a_json_lines_history_carries_the_same_values() {
    let history = [
        r#"{"process":0,"type":"invoke","f":"write","key":true,"value":-7}"#,
        r#"{"process":0,"type":"ok","f":"write","key":true,"value":-7}"#,
        r#"{"process":1,"type":"invoke","f":"cas","key":true,"value":[-7,"s"]}"#,
        r#"{"process":1,"type":"info","f":"cas","key":true,"value":null}"#,
        r#"{"process":2,"type":"invoke","f":"read","key":true,"value":null}"#,
        r#"{"process":2,"type":"ok","f":"read","key":true,"value":"s"}"#,
    ]
    .join("\n");
    let read = read_history(&history, HistoryFormat::JsonLines).unwrap();
    let model = CasRegister::default();
    let outcome = check(&read.history, &model, Budget::steps(1_000)).unwrap();
    assert!(outcome.verdict.is_linearizable(), "{:?}", outcome.verdict);
    let stale = history.replace(r#""value":"s"}"#, r#""value":-8}"#);
    let read = read_history(&stale, HistoryFormat::JsonLines).unwrap();
    let outcome = check(&read.history, &model, Budget::steps(1_000)).unwrap();
    let Verdict::NotLinearizable(violation) = outcome.verdict else {
        panic!("{:?}", outcome.verdict)
    };
    assert_eq!(violation.partition_key, Some(Value::Boolean(true)));
}
