//! The report for programs: one JSON object.
//!
//! ```text
//! {"verdict":"not-linearizable","model":"cas-register (initial 0)",
//!  "source":"h.edn","event_count":8,"operation_count":4,"process_count":4,
//!  "skipped_event_count":0,
//!  "violation":{"partition_key":null,"operation":{...},"state":"0",
//!               "impossible_in_state":true,"linearized_prefix":[{...}],
//!               "concurrent":[{...}]},
//!  "unknown_reason":null,
//!  "statistics":{"steps":12,"memo_entry_count":5,"operation_count":4,"partition_count":1},
//!  "elapsed_seconds":0.0001}
//! ```
//!
//! An operation is `{"id","process","f","key","value","outcome",
//! "invoke_index","complete_index","line","column"}` with Jepsen's `value`
//! as JSON (`[expected, new]` for cas; nil is null, a keyword its EDN text
//! `":x"`); `line` and `column` locate the invocation in the source file,
//! or are null.

use serde::Serialize;

use crate::check::history::{OperationId, Value};
use crate::check::linearizability::Verdict;
use crate::check::report::Report;

#[derive(Serialize)]
struct JsonReport<'a> {
    verdict: &'static str,
    model: &'a str,
    source: Option<&'a str>,
    event_count: usize,
    operation_count: usize,
    process_count: usize,
    skipped_event_count: usize,
    violation: Option<JsonViolation<'a>>,
    unknown_reason: Option<String>,
    statistics: JsonStatistics,
    elapsed_seconds: Option<f64>,
}

#[derive(Serialize)]
struct JsonViolation<'a> {
    partition_key: Option<&'a Value>,
    operation: JsonOperation<'a>,
    state: &'a str,
    impossible_in_state: bool,
    linearized_prefix: Vec<JsonOperation<'a>>,
    concurrent: Vec<JsonOperation<'a>>,
}

#[derive(Serialize)]
struct JsonOperation<'a> {
    id: OperationId,
    process: u64,
    f: &'static str,
    key: Option<&'a Value>,
    value: &'a Value,
    outcome: &'static str,
    invoke_index: usize,
    complete_index: Option<usize>,
    line: Option<usize>,
    column: Option<usize>,
}

#[derive(Serialize)]
struct JsonStatistics {
    steps: u64,
    memo_entry_count: usize,
    operation_count: usize,
    partition_count: usize,
}

fn operation<'a>(report: &Report<'a>, id: OperationId) -> JsonOperation<'a> {
    let operation = &report.history.operations()[id];
    let position = report.history.events()[operation.invoke_index].position;
    JsonOperation {
        id,
        process: operation.process,
        f: operation.command.function_name(),
        key: operation.command.key(),
        value: &operation.command.value,
        outcome: operation.outcome.name(),
        invoke_index: operation.invoke_index,
        complete_index: operation.complete_index,
        line: position.map(|position| position.line),
        column: position.map(|position| position.column),
    }
}

/// The report as one line of JSON (no trailing newline).
pub fn render_json(report: &Report) -> String {
    let statistics = report.outcome.statistics;
    let (verdict, violation, unknown_reason) = match &report.outcome.verdict {
        Verdict::Linearizable => ("linearizable", None, None),
        Verdict::Unknown { reason, .. } => ("unknown", None, Some(reason.to_string())),
        Verdict::NotLinearizable(violation) => {
            let operations =
                |ids: &[OperationId]| ids.iter().map(|&id| operation(report, id)).collect();
            let violation = JsonViolation {
                partition_key: violation.partition_key.as_ref(),
                operation: operation(report, violation.operation),
                state: &violation.state,
                impossible_in_state: violation.impossible_in_state,
                linearized_prefix: operations(&violation.linearized_prefix),
                concurrent: operations(&violation.concurrent),
            };
            ("not-linearizable", Some(violation), None)
        }
    };
    let json = JsonReport {
        verdict,
        model: report.model,
        source: report.source,
        event_count: report.history.events().len(),
        operation_count: report.history.operations().len(),
        process_count: report.history.processes().len(),
        skipped_event_count: report.skipped_event_count,
        violation,
        unknown_reason,
        statistics: JsonStatistics {
            steps: statistics.steps,
            memo_entry_count: statistics.memo_entry_count,
            operation_count: statistics.operation_count,
            partition_count: statistics.partition_count,
        },
        elapsed_seconds: report.elapsed.map(|elapsed| elapsed.as_secs_f64()),
    };
    serde_json::to_string(&json)
        .expect("the report serializes: it has only strings, numbers and lists")
}
