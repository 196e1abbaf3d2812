//! Property tests: histories generated from real executions of a register
//! are always linearizable, and stay so through the JSON lines writer and
//! reader; corrupting one read to a value never written makes them not
//! linearizable, with that read blamed and an explanation that replays.
//!
//! The generator runs a sequence of operations on a real compare-and-set
//! register of mixed values (integers of both signs, a string and the
//! keyword of the same name, a boolean), each taking effect at its own instant; every operation gets a
//! random window around that instant (its invocation before, its completion
//! after), and the windows are handed to processes that are free at the
//! time. Some operations crash: they complete as `info` early (before they
//! take effect, so the checker must allow effects after an `info`), or
//! never complete, and they may or may not take effect.
//!
//! The readers are also fed damaged histories: they must return errors,
//! never panic.

use proptest::prelude::*;

use electorate::check::read::{read_history, read_json_lines, to_json_lines, HistoryFormat};
use electorate::check::{
    check, Budget, CasRegister, Command, Event, EventKind, History, Model, Value, Values, Verdict,
};

const INITIAL: u64 = 0;
/// Written values are below this; a read of it is impossible.
const VALUE_LIMIT: u64 = 5;
const BUDGET: Budget = Budget {
    max_steps: Some(5_000_000),
    timeout: None,
};

#[derive(Clone, Debug)]
enum Planned {
    Read,
    Write(u64),
    CompareAndSet(u64, u64),
}

#[derive(Clone, Copy, Debug)]
enum Fate {
    Completes,
    /// Reported as `info` right after the invocation; `bool`: takes effect.
    ReportedInfo(bool),
    /// Never completes; `bool`: takes effect.
    Pending(bool),
}

#[derive(Clone, Debug)]
struct PlannedOperation {
    planned: Planned,
    /// Time units from invocation to the instant it takes effect.
    lead: u64,
    /// Time units from that instant to its completion.
    lag: u64,
    fate: Fate,
}

fn planned_operation() -> impl Strategy<Value = PlannedOperation> {
    let planned = prop_oneof![
        2 => Just(Planned::Read),
        2 => (0..VALUE_LIMIT).prop_map(Planned::Write),
        2 => (0..VALUE_LIMIT, 0..VALUE_LIMIT).prop_map(|(expected, new)| Planned::CompareAndSet(expected, new)),
    ];
    let fate = prop_oneof![
        10 => Just(Fate::Completes),
        1 => any::<bool>().prop_map(Fate::ReportedInfo),
        1 => any::<bool>().prop_map(Fate::Pending),
    ];
    (planned, 0..6u64, 0..6u64, fate).prop_map(|(planned, lead, lag, fate)| PlannedOperation {
        planned,
        lead,
        lag,
        fate,
    })
}

/// Runs `plan` on a real register and records what clients would see.
fn execute(plan: &[PlannedOperation]) -> Vec<Event> {
    let mut register = INITIAL;
    // (time, event); times are spaced so that an invocation (4k), an effect
    // (4k + 1) and a completion (4k + 2) never tie.
    let mut timed: Vec<(u64, Event)> = Vec::new();
    let mut windows = Vec::new();
    for (index, operation) in plan.iter().enumerate() {
        let effect_at = 4 * (index as u64 + 10) + 1;
        let invoke_at = effect_at - 1 - 4 * operation.lead;
        let takes_effect = match operation.fate {
            Fate::Completes => true,
            Fate::ReportedInfo(takes_effect) | Fate::Pending(takes_effect) => takes_effect,
        };
        let (command, succeeded) = match operation.planned {
            Planned::Read => (Command::read_returning(value(register)), true),
            Planned::Write(value) => {
                if takes_effect {
                    register = value;
                }
                (Command::write(self::value(value)), true)
            }
            Planned::CompareAndSet(expected, new) => {
                let swaps = register == expected;
                if swaps && takes_effect {
                    register = new;
                }
                (Command::compare_and_set(value(expected), value(new)), swaps)
            }
        };
        let completion = match operation.fate {
            Fate::Completes => Some((
                effect_at + 1 + 4 * operation.lag,
                if succeeded {
                    EventKind::Ok
                } else {
                    EventKind::Fail
                },
            )),
            Fate::ReportedInfo(_) => Some((invoke_at + 2, EventKind::Info)),
            Fate::Pending(_) => None,
        };
        windows.push((invoke_at, command, completion));
    }
    // Hand each window to a process that is free when it starts.
    windows.sort_by_key(|(invoke_at, _, _)| *invoke_at);
    let mut busy_until: Vec<u64> = Vec::new();
    for (invoke_at, command, completion) in windows {
        let process = match busy_until.iter().position(|&until| until < invoke_at) {
            Some(process) => process,
            None => {
                busy_until.push(0);
                busy_until.len() - 1
            }
        };
        busy_until[process] = completion.map_or(u64::MAX, |(at, _)| at);
        let invocation_command = match &command {
            read if read.is_read() => Command::read(),
            other => other.clone(),
        };
        timed.push((invoke_at, Event::invoke(process as u64, invocation_command)));
        if let Some((at, kind)) = completion {
            let completion_command = match (&command, kind) {
                (read, EventKind::Info) if read.is_read() => Command::read(),
                _ => command,
            };
            timed.push((at, Event::new(process as u64, kind, completion_command)));
        }
    }
    timed.sort_by_key(|(at, _)| *at);
    timed.into_iter().map(|(_, event)| event).collect()
}

fn model() -> CasRegister {
    CasRegister {
        initial: value(INITIAL),
    }
}

/// The value written for `index`: one of each scalar type Jepsen writes,
/// and a string and a keyword of the same name, which must not be equal.
fn value(index: u64) -> Value {
    match index {
        0 => Value::from(0u64),
        1 => Value::from(-1i64),
        2 => Value::string("a"),
        3 => Value::keyword("a"),
        4 => Value::Boolean(true),
        _ => Value::string("never written"),
    }
}

/// `event` as JSON carries it: JSON has no keywords, so a keyword is
/// written as its EDN text and reads back as that string.
fn keywords_as_strings(mut event: Event) -> Event {
    fn convert(value: &Value) -> Value {
        match value {
            Value::Keyword(_) => Value::string(&value.to_string()),
            Value::Vector(items) => Value::vector(items.iter().map(convert).collect()),
            other => other.clone(),
        }
    }
    event.command.value = convert(&event.command.value);
    event
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn executions_of_a_real_register_are_linearizable(plan in prop::collection::vec(planned_operation(), 0..40)) {
        let events = execute(&plan);
        let history = History::from_events(events).unwrap();
        let outcome = check(&history, &model(), BUDGET).unwrap();
        prop_assert_eq!(outcome.verdict, Verdict::Linearizable);
    }

    #[test]
    fn histories_survive_json_lines(plan in prop::collection::vec(planned_operation(), 0..40)) {
        let events = execute(&plan);
        let read = read_json_lines(&to_json_lines(&events)).unwrap();
        let without_positions: Vec<Event> = read.events.into_iter().map(|event| Event { position: None, ..event }).collect();
        prop_assert_eq!(without_positions, events.iter().cloned().map(keywords_as_strings).collect::<Vec<_>>());
    }

    #[test]
    fn one_impossible_read_is_caught_and_blamed(
        plan in prop::collection::vec(planned_operation(), 1..40),
        choice in any::<prop::sample::Index>(),
    ) {
        let mut events = execute(&plan);
        let ok_reads: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, event)| event.kind == EventKind::Ok && event.command.is_read())
            .map(|(index, _)| index)
            .collect();
        prop_assume!(!ok_reads.is_empty());
        let corrupted = ok_reads[choice.index(ok_reads.len())];
        events[corrupted].command = Command::read_returning(value(VALUE_LIMIT));
        let history = History::from_events(events).unwrap();
        let outcome = check(&history, &model(), BUDGET).unwrap();
        let Verdict::NotLinearizable(violation) = &outcome.verdict else {
            return Err(TestCaseError::fail(format!("not caught: {:?}", outcome.verdict)));
        };
        let blamed = &history.operations()[violation.operation];
        prop_assert_eq!(blamed.complete_index, Some(corrupted));
        // The explanation holds up: the prefix replays in the model to the
        // state reported, and the blamed read is impossible there.
        let model = model();
        let mut values = Values::new();
        let mut state = model.initial_state(&mut values);
        for &id in &violation.linearized_prefix {
            let prepared = model.prepare(&history.operations()[id], &mut values).unwrap().expect("searched");
            state = model.step(&state, &prepared.op).expect("the prefix replays");
        }
        prop_assert_eq!(model.describe_state(&state, &values), violation.state.clone());
        prop_assert!(violation.impossible_in_state);
    }
}

/// A small EDN history with most of what the reader handles.
const SAMPLE_EDN: &str = "[{:process 0, :type :invoke, :f :write, :value 1, :time 5}
 ; a comment
 {:process :nemesis, :type :info, :f :start, :value \"cut [n1]\"}
 {:process 1, :type :invoke, :f :cas, :value [1 2] :key :x}
 {:process 0, :type :ok, :f :write, :value 1}
 {:process 1, :type :info, :f :cas, :value [1 2], :key :x, :error #_ignored nil}
 #jepsen.history.Op{:process 2, :type :invoke, :f :read, :value nil}]";

fn damaged(text: &str, edits: &[(prop::sample::Index, u8, char)]) -> String {
    let mut characters: Vec<char> = text.chars().collect();
    for (at, operation, character) in edits {
        if characters.is_empty() {
            break;
        }
        let at = at.index(characters.len());
        match operation % 3 {
            0 => {
                characters.remove(at);
            }
            1 => characters.insert(at, *character),
            _ => characters[at] = *character,
        }
    }
    characters.into_iter().collect()
}

proptest! {
    #[test]
    fn readers_never_panic_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = read_history(&text, HistoryFormat::Edn);
        let _ = read_history(&text, HistoryFormat::JsonLines);
    }

    #[test]
    fn readers_never_panic_on_damaged_histories(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), prop::sample::select(vec!['[', ']', '{', '}', '(', ')', '"', '\\', '#', '_', ':', ';', '\n', ' ', '-', '9', 'N', 'M', '.', ',', 'é'])), 1..6),
    ) {
        let edn = damaged(SAMPLE_EDN, &edits);
        let _ = read_history(&edn, HistoryFormat::Edn);
        let json = damaged(&to_json_lines(&execute(&[PlannedOperation { planned: Planned::CompareAndSet(1, 2), lead: 1, lag: 1, fate: Fate::Completes }])), &edits);
        let _ = read_history(&json, HistoryFormat::JsonLines);
    }
}

#[test]
fn the_damage_sample_is_a_valid_history() {
    let read = read_history(SAMPLE_EDN, HistoryFormat::Edn).unwrap();
    assert_eq!(read.history.events().len(), 5);
    assert_eq!(read.skipped_event_count, 1);
}
