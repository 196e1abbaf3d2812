//! The report as one self-contained HTML page (inline CSS and SVG, a
//! two-line script, no external assets): the verdict and its explanation on
//! top, then a timeline with one lane per process, each operation a bar
//! from its invocation to its completion (to the right edge when it never
//! completed). Linearized-prefix operations carry their place in the
//! linearization, the offending operation is red and scrolled into view,
//! and operations concurrent with it are outlined. Every bar has a tooltip.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::check::history::{Operation, OperationId, Outcome, ProcessId};
use crate::check::linearizability::Verdict;
use crate::check::report::{format_duration, Report};

const LANE_HEIGHT_PX: usize = 22;
const BAR_HEIGHT_PX: usize = 14;
const AXIS_HEIGHT_PX: usize = 24;
const LABEL_WIDTH_PX: usize = 110;
/// The timeline aims at this width; long histories scroll sideways.
const TARGET_WIDTH_PX: usize = 1600;
const EVENT_WIDTH_PX_MIN: usize = 3;
const EVENT_WIDTH_PX_MAX: usize = 30;

const STYLE: &str = "
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { margin: 0 0 .3em; }
h1.linearizable { color: #2e7d32; } h1.not-linearizable { color: #c62828; } h1.unknown { color: #ef6c00; }
dl { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; }
dt { font-weight: 600; } dd { margin: 0; }
code, ol, .mono { font-family: ui-monospace, monospace; font-size: 13px; }
.legend span { display: inline-block; margin-right: 1.2em; }
.swatch { display: inline-block; width: 1.4em; height: .9em; vertical-align: middle; margin-right: .3em; border: 1px solid #555; }
.timeline { display: flex; border: 1px solid #ccc; margin-top: .8em; }
.labels { flex: none; background: #fafafa; border-right: 1px solid #ccc; }
.lanes { overflow-x: auto; }
rect.ok { fill: #81c784; } rect.fail { fill: #e0e0e0; } rect.info, rect.pending { fill: #ffcc80; fill-opacity: .6; stroke: #ef6c00; stroke-dasharray: 3 2; }
rect.prefix { stroke: #1b5e20; stroke-width: 1.5; }
rect.concurrent { stroke: #6a1b9a; stroke-width: 2; stroke-dasharray: 4 2; }
rect.offending { fill: #e53935; stroke: #7f0000; stroke-width: 2.5; }
text.order { font: 10px ui-monospace, monospace; fill: #111; pointer-events: none; }
text.label { font: 12px ui-monospace, monospace; }
line.tick { stroke: #eee; } text.tick { font: 10px ui-monospace, monospace; fill: #777; }
";

/// The report as an HTML page.
pub fn render_html(report: &Report) -> String {
    let mut html = String::new();
    let verdict = &report.outcome.verdict;
    let class = verdict.name().replace(' ', "-");
    let title = report.source.map_or_else(
        || verdict.name().to_string(),
        |source| format!("{}: {source}", verdict.name()),
    );
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>lincheck — {}</title><style>{STYLE}</style></head><body>\n\
         <h1 class=\"{class}\">{}</h1>\n",
        escape(&title),
        escape(&capitalized(verdict.name()))
    );
    write_summary(&mut html, report);
    write_legend(&mut html);
    write_timeline(&mut html, report);
    html.push_str(
        "<script>const offending = document.getElementById('offending');\n\
         if (offending) offending.scrollIntoView({block: 'center', inline: 'center'});</script>\n</body></html>\n",
    );
    html
}

fn capitalized(text: &str) -> String {
    let mut characters = text.chars();
    characters.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(characters).collect()
    })
}

/// `text` safe inside HTML text and quoted attributes.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(character),
        }
    }
    escaped
}

fn write_summary(html: &mut String, report: &Report) {
    let history = report.history;
    let statistics = &report.outcome.statistics;
    html.push_str("<dl>\n");
    let mut item = |term: &str, description: String| {
        let _ = writeln!(html, "<dt>{term}</dt><dd>{}</dd>", escape(&description));
    };
    if let Some(source) = report.source {
        item("history", source.to_string());
    }
    item("model", report.model.to_string());
    item(
        "size",
        format!(
            "{} events, {} operations, {} processes, {} non-client events skipped",
            history.events().len(),
            history.operations().len(),
            history.processes().len(),
            report.skipped_event_count
        ),
    );
    item(
        "search",
        format!(
            "{} steps, {} configurations, {} partition{}{}",
            statistics.steps,
            statistics.memo_entry_count,
            statistics.partition_count,
            if statistics.partition_count == 1 {
                ""
            } else {
                "s"
            },
            report.elapsed.map_or_else(String::new, |elapsed| format!(
                ", {}",
                format_duration(elapsed)
            ))
        ),
    );
    match &report.outcome.verdict {
        Verdict::Linearizable => {}
        Verdict::Unknown { reason, .. } => item("why unknown", reason.to_string()),
        Verdict::NotLinearizable(violation) => {
            if let Some(key) = &violation.partition_key {
                item("key", key.to_string());
            }
            item(
                "cannot linearize",
                format!(
                    "[{}] {}",
                    violation.operation,
                    report.operation(violation.operation)
                ),
            );
            let how = if violation.impossible_in_state {
                "impossible"
            } else {
                "a dead end"
            };
            item(
                "state",
                format!("{} (the operation is {how} there)", violation.state),
            );
        }
    }
    html.push_str("</dl>\n");
    if let Verdict::NotLinearizable(violation) = &report.outcome.verdict {
        let _ = write!(
            html,
            "<details><summary>Longest linearizable prefix: {} operations</summary><ol class=\"mono\">",
            violation.linearized_prefix.len()
        );
        for &id in &violation.linearized_prefix {
            let _ = write!(
                html,
                "<li>[{id}] {}</li>",
                escape(&report.operation(id).to_string())
            );
        }
        html.push_str("</ol></details>\n");
    }
}

fn write_legend(html: &mut String) {
    html.push_str("<p class=\"legend\">");
    let swatches = [
        ("#81c784", "ok"),
        ("#e0e0e0", "fail"),
        (
            "#ffcc80",
            "info / pending (may take effect any time after invocation)",
        ),
        ("#e53935", "cannot be linearized"),
    ];
    for (colour, meaning) in swatches {
        let _ = write!(
            html,
            "<span><span class=\"swatch\" style=\"background:{colour}\"></span>{meaning}</span>"
        );
    }
    html.push_str(
        "<span>numbers: place in the longest linearizable prefix</span>\
         <span>dashed purple outline: concurrent with the offending operation</span></p>\n",
    );
}

/// Where things go on the timeline.
struct Layout {
    event_width_px: usize,
    width_px: usize,
}

/// How an operation is drawn.
struct Marks {
    /// Place in the linearized prefix, from 1.
    order_by_operation: BTreeMap<OperationId, usize>,
    offending: Option<OperationId>,
    concurrent: Vec<OperationId>,
}

fn write_timeline(html: &mut String, report: &Report) {
    let processes = report.history.processes();
    let lane_of: BTreeMap<ProcessId, usize> = processes
        .iter()
        .enumerate()
        .map(|(lane, &process)| (process, lane))
        .collect();
    let event_count = report.history.events().len();
    let event_width_px =
        (TARGET_WIDTH_PX / event_count.max(1)).clamp(EVENT_WIDTH_PX_MIN, EVENT_WIDTH_PX_MAX);
    let width_px = (event_count + 1) * event_width_px;
    let layout = Layout {
        event_width_px,
        width_px,
    };
    let height_px = AXIS_HEIGHT_PX + processes.len() * LANE_HEIGHT_PX;
    let marks = marks(report);

    let _ = write!(
        html,
        "<div class=\"timeline\"><svg class=\"labels\" width=\"{LABEL_WIDTH_PX}\" height=\"{height_px}\">\
         <text class=\"tick\" x=\"6\" y=\"16\">process \\ event</text>"
    );
    for (lane, process) in processes.iter().enumerate() {
        let y = AXIS_HEIGHT_PX + lane * LANE_HEIGHT_PX + BAR_HEIGHT_PX;
        let _ = write!(
            html,
            "<text class=\"label\" x=\"6\" y=\"{y}\">{process}</text>"
        );
    }
    let _ = write!(
        html,
        "</svg><div class=\"lanes\"><svg width=\"{width_px}\" height=\"{height_px}\">"
    );
    let tick_every = (80 / event_width_px).max(1).next_power_of_two();
    for event in (0..=event_count).step_by(tick_every) {
        let x = event * event_width_px;
        let _ = write!(
            html,
            "<line class=\"tick\" x1=\"{x}\" y1=\"20\" x2=\"{x}\" y2=\"{height_px}\"/>\
             <text class=\"tick\" x=\"{}\" y=\"14\">{event}</text>",
            x + 2
        );
    }
    for (id, operation) in report.history.operations().iter().enumerate() {
        let lane = lane_of[&operation.process];
        write_bar(html, report, (id, operation), lane, &layout, &marks);
    }
    html.push_str("</svg></div></div>\n");
}

fn marks(report: &Report) -> Marks {
    match &report.outcome.verdict {
        Verdict::NotLinearizable(violation) => Marks {
            order_by_operation: violation
                .linearized_prefix
                .iter()
                .enumerate()
                .map(|(order, &id)| (id, order + 1))
                .collect(),
            offending: Some(violation.operation),
            concurrent: report.concurrent_with_violation().to_vec(),
        },
        _ => Marks {
            order_by_operation: BTreeMap::new(),
            offending: None,
            concurrent: Vec::new(),
        },
    }
}

/// Draws operation `id` in lane `lane`.
fn write_bar(
    html: &mut String,
    report: &Report,
    (id, operation): (OperationId, &Operation),
    lane: usize,
    layout: &Layout,
    marks: &Marks,
) {
    let Layout {
        event_width_px,
        width_px,
    } = *layout;
    let x = operation.invoke_index * event_width_px + event_width_px / 2;
    let end_px = match operation.complete_index {
        Some(complete) if operation.outcome != Outcome::Info => {
            complete * event_width_px + event_width_px / 2
        }
        // Unknown outcome: it may take effect any time from now on.
        _ => width_px,
    };
    let bar_width_px = end_px.saturating_sub(x).max(2);
    let y = AXIS_HEIGHT_PX + lane * LANE_HEIGHT_PX + (LANE_HEIGHT_PX - BAR_HEIGHT_PX) / 2;
    let order = marks.order_by_operation.get(&id);
    let mut classes = vec![operation.outcome.name()];
    if order.is_some() {
        classes.push("prefix");
    }
    if marks.concurrent.contains(&id) {
        classes.push("concurrent");
    }
    let is_offending = marks.offending == Some(id);
    if is_offending {
        classes.push("offending");
    }
    let mut tooltip = format!("[{id}] {operation}");
    if let Some(order) = order {
        let _ = write!(tooltip, "\n#{order} in the longest linearizable prefix");
    }
    if let Some(position) = report.history.events()[operation.invoke_index].position {
        let _ = write!(tooltip, "\ninvoked at {position}");
    }
    let _ = write!(
        html,
        "<rect{} class=\"{}\" x=\"{x}\" y=\"{y}\" width=\"{bar_width_px}\" height=\"{BAR_HEIGHT_PX}\" rx=\"3\">\
         <title>{}</title></rect>",
        if is_offending { " id=\"offending\"" } else { "" },
        classes.join(" "),
        escape(&tooltip)
    );
    if let Some(order) = order.filter(|_| bar_width_px >= 18) {
        let _ = write!(
            html,
            "<text class=\"order\" x=\"{}\" y=\"{}\">{order}</text>",
            x + 3,
            y + BAR_HEIGHT_PX - 3
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn capitalizes_the_verdict() {
        assert_eq!(capitalized("not linearizable"), "Not linearizable");
        assert_eq!(capitalized(""), "");
    }
}
