//! Small histories written by hand, each showing one rule of
//! linearizability as Jepsen and Knossos apply it.

use electorate::check::{
    check, Budget, CasRegister, CheckError, Command, Event, History, KeyValue, Model, Register,
    UnknownReason, Value, Verdict,
};

const BUDGET: Budget = Budget {
    max_steps: Some(1_000_000),
    timeout: None,
};

fn verdict(model: &impl Model, events: Vec<Event>) -> Verdict {
    let history = History::from_events(events).expect("a well-formed history");
    check(&history, model, BUDGET)
        .expect("the model supports the history")
        .verdict
}

/// The verdict against a compare-and-set register that starts at 0.
fn cas_verdict(events: Vec<Event>) -> Verdict {
    verdict(&CasRegister { initial: 0.into() }, events)
}

fn read(value: u64) -> Command {
    Command::read_returning(value)
}

fn write(value: u64) -> Command {
    Command::write(value)
}

/// Process `process` wrote `value`, and the write completed.
fn wrote(process: u64, value: u64) -> [Event; 2] {
    [
        Event::invoke(process, write(value)),
        Event::ok(process, write(value)),
    ]
}

/// Process `process` wrote `value`, and the write's outcome is unknown
/// (Jepsen's `info`): it may take effect at any time after its invocation,
/// or never.
fn wrote_unknown(process: u64, value: u64) -> [Event; 2] {
    [
        Event::invoke(process, write(value)),
        Event::info(process, write(value)),
    ]
}

/// Process `process` read, and the read returned `value`.
fn saw(process: u64, value: u64) -> [Event; 2] {
    [
        Event::invoke(process, Command::read()),
        Event::ok(process, read(value)),
    ]
}

/// What a history is written from: single events (where operations
/// overlap) and whole operations ([`wrote`], [`wrote_unknown`], [`saw`]).
trait Part {
    fn append_to(self, events: &mut Vec<Event>);
}

impl Part for Event {
    fn append_to(self, events: &mut Vec<Event>) {
        events.push(self);
    }
}

impl Part for [Event; 2] {
    fn append_to(self, events: &mut Vec<Event>) {
        events.extend(self);
    }
}

/// The events of a history, from its parts in order.
macro_rules! history {
    ($($part:expr),* $(,)?) => {{
        let mut events = Vec::new();
        $(Part::append_to($part, &mut events);)*
        events
    }};
}

fn assert_not_linearizable(verdict: &Verdict) -> &electorate::check::Violation {
    match verdict {
        Verdict::NotLinearizable(violation) => violation,
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn an_empty_history_is_linearizable() {
    assert_eq!(cas_verdict(vec![]), Verdict::Linearizable);
}

#[test]
fn a_read_after_a_completed_write_must_see_it() {
    let events = history![wrote(1, 1), saw(2, 0)];
    let verdict = cas_verdict(events);
    let violation = assert_not_linearizable(&verdict);
    assert_eq!(violation.operation, 1, "the stale read is blamed");
    assert_eq!(violation.linearized_prefix, vec![0]);
    assert_eq!(violation.state, "1");
    assert!(violation.impossible_in_state);
}

#[test]
fn a_read_concurrent_with_a_write_may_see_either_value() {
    for seen in [0, 1] {
        let events = history![
            Event::invoke(1, write(1)),
            saw(2, seen),
            Event::ok(1, write(1)),
        ];
        assert_eq!(cas_verdict(events), Verdict::Linearizable, "read {seen}");
    }
}

#[test]
fn real_time_order_binds_operations_that_do_not_overlap() {
    // Write 1 completes before write 2 starts, so a later read cannot see 1.
    let events = history![wrote(1, 1), wrote(2, 2), saw(3, 1)];
    let verdict = cas_verdict(events);
    assert_eq!(assert_not_linearizable(&verdict).operation, 2);
}

#[test]
fn overlapping_writes_may_take_effect_in_either_order() {
    let events = history![
        Event::invoke(1, write(1)),
        Event::invoke(2, write(2)),
        Event::ok(1, write(1)),
        Event::ok(2, write(2)),
        saw(3, 1),
    ];
    assert_eq!(cas_verdict(events), Verdict::Linearizable);
}

#[test]
fn once_a_read_sees_a_write_later_reads_cannot_go_back() {
    let events = history![
        Event::invoke(1, write(1)),
        saw(2, 1),
        saw(2, 0),
        Event::ok(1, write(1)),
    ];
    assert_not_linearizable(&cas_verdict(events));
}

#[test]
fn an_info_write_may_take_effect_long_after_it_was_invoked() {
    let events = history![wrote_unknown(1, 1), saw(2, 0), saw(2, 1)];
    assert_eq!(cas_verdict(events), Verdict::Linearizable);
}

#[test]
fn an_info_write_may_never_take_effect() {
    let events = history![wrote_unknown(1, 1), saw(2, 0)];
    assert_eq!(cas_verdict(events), Verdict::Linearizable);
}

#[test]
fn an_info_operation_that_could_not_take_effect_anywhere_never_did() {
    // Taking effect "at the end" is not the same as never: this cas can
    // never find 5, so the only explanation is that it had no effect.
    let cas = Command::compare_and_set(5, 6);
    let events = history![
        Event::invoke(1, cas.clone()),
        Event::info(1, cas),
        saw(2, 0),
    ];
    assert_eq!(cas_verdict(events), Verdict::Linearizable);
}

#[test]
fn an_info_write_cannot_take_effect_before_it_is_invoked() {
    let events = history![saw(2, 1), wrote_unknown(1, 1)];
    assert_not_linearizable(&cas_verdict(events));
}

#[test]
fn an_info_write_takes_effect_at_most_once() {
    // Seen, overwritten, then seen again: that would need it to happen twice.
    let events = history![wrote_unknown(1, 1), saw(2, 1), wrote(2, 2), saw(2, 1)];
    assert_not_linearizable(&cas_verdict(events));
}

#[test]
fn a_pending_operation_counts_as_info() {
    let events = history![Event::invoke(1, write(1)), saw(2, 1)];
    assert_eq!(cas_verdict(events), Verdict::Linearizable);
}

#[test]
fn a_failed_write_never_takes_effect() {
    let events = history![
        Event::invoke(1, write(1)),
        Event::fail(1, write(1)),
        saw(2, 1),
    ];
    assert_not_linearizable(&cas_verdict(events));
}

#[test]
fn a_nil_read_matches_any_value_in_the_knossos_registers() {
    let events = history![
        wrote(1, 3),
        Event::invoke(2, Command::read()),
        Event::ok(2, Command::read()),
    ];
    assert_eq!(cas_verdict(events.clone()), Verdict::Linearizable);
    assert_eq!(
        verdict(
            &Register {
                initial: Value::Nil
            },
            events
        ),
        Verdict::Linearizable
    );
}

#[test]
fn concurrent_compare_and_sets_from_the_same_value_cannot_both_succeed() {
    let cas = Command::compare_and_set(0, 1);
    let events = history![
        Event::invoke(1, cas.clone()),
        Event::invoke(2, cas.clone()),
        Event::ok(1, cas.clone()),
        Event::ok(2, cas),
    ];
    assert_not_linearizable(&cas_verdict(events));
}

#[test]
fn concurrent_compare_and_sets_may_chain() {
    let first = Command::compare_and_set(0, 1);
    let second = Command::compare_and_set(1, 2);
    let events = history![
        Event::invoke(2, second.clone()),
        Event::invoke(1, first.clone()),
        Event::ok(2, second),
        Event::ok(1, first),
        saw(3, 2),
    ];
    assert_eq!(cas_verdict(events), Verdict::Linearizable);
}

#[test]
fn the_initial_value_is_configurable() {
    let events = history![saw(1, 7)];
    assert_eq!(
        verdict(&CasRegister { initial: 7.into() }, events.clone()),
        Verdict::Linearizable
    );
    assert_not_linearizable(&verdict(&CasRegister { initial: 0.into() }, events.clone()));
    assert_not_linearizable(&verdict(
        &CasRegister {
            initial: Value::Nil,
        },
        events,
    ));
}

#[test]
fn a_key_value_store_is_checked_key_by_key() {
    let x = |command: Command| command.with_key("x");
    let y = |command: Command| command.with_key("y");
    let linearizable = vec![
        Event::invoke(1, x(write(1))),
        Event::ok(1, x(write(1))),
        Event::invoke(2, y(Command::read())),
        // y was never written: absent.
        Event::ok(2, y(Command::read())),
        Event::invoke(2, x(Command::read())),
        Event::ok(2, x(read(1))),
    ];
    assert_eq!(
        verdict(
            &KeyValue {
                initial: Value::Nil
            },
            linearizable
        ),
        Verdict::Linearizable
    );
    let stale = vec![
        Event::invoke(1, y(write(1))),
        Event::ok(1, y(write(1))),
        Event::invoke(2, x(write(5))),
        Event::ok(2, x(write(5))),
        Event::invoke(2, y(Command::read())),
        Event::ok(2, y(Command::read())),
    ];
    let verdict = verdict(
        &KeyValue {
            initial: Value::Nil,
        },
        stale,
    );
    let violation = assert_not_linearizable(&verdict);
    assert_eq!(violation.partition_key, Some(Value::string("y")));
    assert_eq!(violation.operation, 2);
}

#[test]
fn a_spent_budget_gives_unknown() {
    let mut events = Vec::new();
    for process in 0..8 {
        events.push(Event::invoke(process, write(process)));
    }
    for process in 0..8 {
        events.push(Event::ok(process, write(process)));
    }
    let history = History::from_events(events).unwrap();
    let outcome = check(
        &history,
        &CasRegister { initial: 0.into() },
        Budget::steps(3),
    )
    .unwrap();
    assert_eq!(
        outcome.verdict,
        Verdict::Unknown {
            reason: UnknownReason::StepBudgetExhausted { max_steps: 3 },
            partition_key: None
        }
    );
}

#[test]
fn a_register_cannot_judge_compare_and_set() {
    let cas = Command::compare_and_set(0, 1);
    let history =
        History::from_events(vec![Event::invoke(1, cas.clone()), Event::ok(1, cas)]).unwrap();
    let error = check(&history, &Register { initial: 0.into() }, BUDGET).unwrap_err();
    assert!(
        matches!(error, CheckError::Unsupported { operation: 0, .. }),
        "{error}"
    );
}
