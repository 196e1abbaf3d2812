//! The report for a terminal: the verdict first, then the explanation.

use std::fmt::Write;

use crate::check::history::OperationId;
use crate::check::linearizability::Verdict;
use crate::check::report::{counted, format_duration, Report};

/// Prefix operations shown in full; a long prefix shows its last ones (the
/// ones next to the violation) and says how many came before.
const PREFIX_OPERATIONS_SHOWN: usize = 12;
const CONCURRENT_OPERATIONS_SHOWN: usize = 12;

/// The report as text, ending in a newline.
pub fn render_text(report: &Report) -> String {
    let mut text = String::new();
    let history = report.history;
    if let Some(source) = report.source {
        let _ = writeln!(text, "history: {source}");
    }
    let _ = write!(
        text,
        "{} events, {} operations, {} processes",
        history.events().len(),
        history.operations().len(),
        history.processes().len()
    );
    if report.skipped_event_count > 0 {
        let _ = write!(
            text,
            " ({} non-client events skipped)",
            report.skipped_event_count
        );
    }
    let _ = writeln!(text, "\nmodel: {}", report.model);
    match &report.outcome.verdict {
        Verdict::Linearizable => text.push_str("verdict: linearizable\n"),
        Verdict::Unknown {
            reason,
            partition_key,
        } => {
            let _ = write!(text, "verdict: unknown: {reason}");
            if let Some(key) = partition_key {
                let _ = write!(text, " (while checking key {key})");
            }
            text.push('\n');
        }
        Verdict::NotLinearizable(violation) => {
            text.push_str("verdict: NOT linearizable\n");
            if let Some(key) = &violation.partition_key {
                let _ = writeln!(text, "  in key {key}");
            }
            let _ = writeln!(
                text,
                "  cannot linearize operation {}: {}{}",
                violation.operation,
                report.operation(violation.operation),
                source_position(report, violation.operation)
            );
            if violation.impossible_in_state {
                let _ = writeln!(text, "  it is impossible in state {}", violation.state);
            } else {
                let _ = writeln!(
                    text,
                    "  it is possible in state {}, but every order of the operations after it fails",
                    violation.state
                );
            }
            write_prefix(
                &mut text,
                report,
                &violation.linearized_prefix,
                &violation.state,
            );
            write_concurrent(&mut text, report);
        }
    }
    let statistics = &report.outcome.statistics;
    let _ = write!(
        text,
        "searched {} steps, {} configurations, {} operations in {}",
        statistics.steps,
        statistics.memo_entry_count,
        statistics.operation_count,
        counted(statistics.partition_count, "partition"),
    );
    if let Some(elapsed) = report.elapsed {
        let _ = write!(text, " in {}", format_duration(elapsed));
    }
    text.push('\n');
    text
}

fn source_position(report: &Report, id: OperationId) -> String {
    let operation = report.operation(id);
    match report.history.events()[operation.invoke_index].position {
        Some(position) => format!(", invoked at {position}"),
        None => String::new(),
    }
}

fn write_prefix(text: &mut String, report: &Report, prefix: &[OperationId], state: &str) {
    let _ = writeln!(
        text,
        "  longest linearizable prefix: {}, leading to state {state}",
        counted(prefix.len(), "operation"),
    );
    let skipped = prefix.len().saturating_sub(PREFIX_OPERATIONS_SHOWN);
    if skipped > 0 {
        let _ = writeln!(text, "    … {skipped} earlier operations");
    }
    for (order, &id) in prefix.iter().enumerate().skip(skipped) {
        let _ = writeln!(
            text,
            "    {:>4}. [{id}] {}",
            order + 1,
            report.operation(id)
        );
    }
}

fn write_concurrent(text: &mut String, report: &Report) {
    let concurrent = report.concurrent_with_violation();
    if concurrent.is_empty() {
        return;
    }
    let _ = writeln!(
        text,
        "  concurrent with it and not linearized ({}):",
        concurrent.len()
    );
    for &id in concurrent.iter().take(CONCURRENT_OPERATIONS_SHOWN) {
        let _ = writeln!(text, "          [{id}] {}", report.operation(id));
    }
    if concurrent.len() > CONCURRENT_OPERATIONS_SHOWN {
        let _ = writeln!(
            text,
            "          … {} more",
            concurrent.len() - CONCURRENT_OPERATIONS_SHOWN
        );
    }
}
