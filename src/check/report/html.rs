//! The report as one self-contained HTML page (inline CSS and SVG, a short
//! script, no external assets): the verdict and its explanation on top,
//! then the final paths (the operation that could not be linearized and
//! the concurrent ones the search tried in its place, each with the state
//! it would lead to), then a timeline per key with one lane per process.
//!
//! Every operation is a bar from its invocation to its completion (to the
//! right edge when its outcome is unknown), labelled with its function,
//! arguments and result; hovering it shows its details in a panel.
//! Operations of the longest linearizable prefix carry their place in it,
//! the offending one is red and scrolled into view, the concurrent ones
//! are outlined. `:nemesis` faults are drawn as bands across the lanes.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::check::history::{Operation, OperationId, Outcome, ProcessId};
use crate::check::linearizability::Verdict;
use crate::check::report::fault_bands::{fault_bands, FaultBand};
use crate::check::report::{counted, format_duration, Report};

const LANE_HEIGHT_PX: usize = 22;
const BAR_HEIGHT_PX: usize = 16;
const AXIS_HEIGHT_PX: usize = 24;
const LABEL_WIDTH_PX: usize = 110;
/// The timeline aims at this width; long histories scroll sideways.
const TARGET_WIDTH_PX: usize = 1600;
const EVENT_WIDTH_PX_MIN: usize = 3;
const EVENT_WIDTH_PX_MAX: usize = 60;

const STYLE: &str = "
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { margin: 0 0 .3em; } h2 { font-size: 1.1em; margin: 1em 0 .3em; }
h1.linearizable { color: #2e7d32; } h1.not-linearizable { color: #c62828; } h1.unknown { color: #ef6c00; }
dl { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; }
dt { font-weight: 600; } dd { margin: 0; }
code, ol, ul.paths, .mono { font-family: ui-monospace, monospace; font-size: 13px; }
ul.paths li.offending { color: #b71c1c; font-weight: 600; }
.legend span { display: inline-block; margin-right: 1.2em; }
.swatch { display: inline-block; width: 1.4em; height: .9em; vertical-align: middle; margin-right: .3em; border: 1px solid #555; }
#details { position: sticky; top: 0; background: #fffde7; border: 1px solid #e0d890; padding: .4em .6em; white-space: pre-wrap; z-index: 1; }
details.view > summary { font-weight: 600; cursor: pointer; margin-top: .6em; }
.timeline { display: flex; border: 1px solid #ccc; margin-top: .4em; }
.labels { flex: none; background: #fafafa; border-right: 1px solid #ccc; }
.lanes { overflow-x: auto; }
rect.ok { fill: #81c784; } rect.fail { fill: #e0e0e0; } rect.info, rect.pending { fill: #ffcc80; fill-opacity: .6; stroke: #ef6c00; stroke-dasharray: 3 2; }
rect.prefix { stroke: #1b5e20; stroke-width: 1.5; }
rect.concurrent { stroke: #6a1b9a; stroke-width: 2.5; stroke-dasharray: 4 2; }
rect.offending { fill: #e53935; stroke: #7f0000; stroke-width: 2.5; }
rect.fault { fill: #90caf9; fill-opacity: .28; }
line.nemesis { stroke: #1565c0; stroke-width: 1; stroke-dasharray: 2 2; }
text.fault { font: 10px ui-monospace, monospace; fill: #0d47a1; }
text.op { font: 10px ui-monospace, monospace; fill: #111; pointer-events: none; }
text.label { font: 12px ui-monospace, monospace; }
line.tick { stroke: #eee; } text.tick { font: 10px ui-monospace, monospace; fill: #777; }
";

const SCRIPT: &str = "
const details = document.getElementById('details');
for (const bar of document.querySelectorAll('rect[data-details]')) {
  bar.addEventListener('mouseenter', () => { details.textContent = bar.dataset.details; });
}
const offending = document.getElementById('offending');
if (offending) {
  details.textContent = offending.dataset.details;
  offending.scrollIntoView({block: 'center', inline: 'center'});
}
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
    write_final_paths(&mut html, report);
    write_legend(&mut html);
    html.push_str("<div id=\"details\">Hover over an operation to see its details.</div>\n");
    write_views(&mut html, report);
    let _ = write!(html, "<script>{SCRIPT}</script>\n</body></html>\n");
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
            '\n' => escaped.push_str("&#10;"),
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
            "{} events, {} operations, {} processes, {} nemesis events",
            history.events().len(),
            history.operations().len(),
            history.processes().len(),
            report.nemesis.len()
        ),
    );
    item(
        "search",
        format!(
            "{} steps, {} configurations, {}{}",
            statistics.steps,
            statistics.memo_entry_count,
            counted(statistics.partition_count, "partition"),
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
}

/// Knossos' final paths: from the state the longest prefix leads to, what
/// each operation the search could try next would do.
fn write_final_paths(html: &mut String, report: &Report) {
    let Verdict::NotLinearizable(violation) = &report.outcome.verdict else {
        return;
    };
    let _ = write!(
        html,
        "<h2>Final paths</h2><p>After the longest linearizable prefix ({} operations), \
         in state <code>{}</code>, operation [{}] must take effect before it completes, \
         but no order of it and the operations concurrent with it works. From that state:</p>\
         <ul class=\"paths\">",
        violation.linearized_prefix.len(),
        escape(&violation.state),
        violation.operation
    );
    for attempt in &violation.tried {
        let class = if attempt.operation == violation.operation {
            " class=\"offending\""
        } else {
            ""
        };
        let after = attempt
            .state_after
            .as_ref()
            .map_or_else(|| "impossible".to_string(), |state| format!("→ {state}"));
        let _ = write!(
            html,
            "<li{class}>[{}] {} {}</li>",
            attempt.operation,
            escape(&report.operation(attempt.operation).to_string()),
            escape(&after)
        );
    }
    html.push_str("</ul>\n");
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
        ("#c8e1f8", "nemesis fault in force"),
    ];
    for (colour, meaning) in swatches {
        let _ = write!(
            html,
            "<span><span class=\"swatch\" style=\"background:{colour}\"></span>{meaning}</span>"
        );
    }
    html.push_str(
        "<span>numbers: place in the longest linearizable prefix</span>\
         <span>dashed purple outline: tried in place of the offending operation</span></p>\n",
    );
}

/// One timeline per key, the key of the violation first and open; with
/// several keys, a last one of every operation.
fn write_views(html: &mut String, report: &Report) {
    let partitions = &report.outcome.partitions;
    let violating_key = match &report.outcome.verdict {
        Verdict::NotLinearizable(violation) => Some(&violation.partition_key),
        Verdict::Unknown { partition_key, .. } => Some(partition_key),
        Verdict::Linearizable => None,
    };
    let mut views: Vec<(String, Vec<OperationId>, bool)> = Vec::new();
    if partitions.len() > 1 {
        let mut ordered: Vec<_> = partitions.iter().collect();
        // The violating key first; the rest in key order.
        ordered.sort_by_key(|partition| Some(&partition.key) != violating_key);
        for partition in ordered {
            let name = partition.key.as_ref().map_or_else(
                || "operations without a key".to_string(),
                |key| format!("key {key}"),
            );
            let open = Some(&partition.key) == violating_key;
            views.push((name, partition.operations.clone(), open));
        }
    }
    let everything: Vec<OperationId> = (0..report.history.operations().len()).collect();
    let open_all = views.iter().all(|(_, _, open)| !open) && views.is_empty();
    views.push(("every operation".to_string(), everything, open_all));
    let mut offending_drawn = false;
    for (name, operations, open) in views {
        let _ = write!(
            html,
            "<details class=\"view\"{}><summary>{} ({} operations)</summary>",
            if open { " open" } else { "" },
            escape(&name),
            operations.len()
        );
        // Only the first drawing of the offending operation gets the id
        // that the script scrolls to.
        write_timeline(html, report, &operations, &mut offending_drawn);
        html.push_str("</details>\n");
    }
}

/// How an operation is drawn.
struct Marks {
    /// Place in the linearized prefix, from 1.
    order_by_operation: BTreeMap<OperationId, usize>,
    offending: Option<OperationId>,
    concurrent: Vec<OperationId>,
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
            concurrent: violation.concurrent.clone(),
        },
        _ => Marks {
            order_by_operation: BTreeMap::new(),
            offending: None,
            concurrent: Vec::new(),
        },
    }
}

/// Where things go on one timeline: only the events of its operations get
/// a column, so a key's view is as compact as its own history.
struct Layout {
    /// The history's event indices shown, ascending.
    columns: Vec<usize>,
    event_width_px: usize,
    width_px: usize,
}

impl Layout {
    /// The x of event `index` (or of where it would be, if not shown).
    fn x(&self, index: usize) -> usize {
        self.columns.partition_point(|&column| column < index) * self.event_width_px
            + self.event_width_px / 2
    }
}

fn write_timeline(
    html: &mut String,
    report: &Report,
    operations: &[OperationId],
    offending_drawn: &mut bool,
) {
    let all = report.history.operations();
    let mut columns: Vec<usize> = operations
        .iter()
        .flat_map(|&id| [Some(all[id].invoke_index), all[id].complete_index])
        .flatten()
        .collect();
    columns.sort_unstable();
    let mut processes: Vec<ProcessId> = operations.iter().map(|&id| all[id].process).collect();
    processes.sort_unstable();
    processes.dedup();
    let lane_of: BTreeMap<ProcessId, usize> = processes
        .iter()
        .enumerate()
        .map(|(lane, &process)| (process, lane))
        .collect();
    let event_width_px =
        (TARGET_WIDTH_PX / columns.len().max(1)).clamp(EVENT_WIDTH_PX_MIN, EVENT_WIDTH_PX_MAX);
    let layout = Layout {
        width_px: (columns.len() + 1) * event_width_px,
        columns,
        event_width_px,
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
        "</svg><div class=\"lanes\"><svg width=\"{}\" height=\"{height_px}\">",
        layout.width_px
    );
    write_ticks(html, &layout, height_px);
    write_faults(html, report, &layout, height_px);
    for &id in operations {
        let lane = lane_of[&all[id].process];
        write_bar(
            html,
            report,
            (id, &all[id]),
            lane,
            &layout,
            &marks,
            offending_drawn,
        );
    }
    html.push_str("</svg></div></div>\n");
}

fn write_ticks(html: &mut String, layout: &Layout, height_px: usize) {
    let tick_every = (80 / layout.event_width_px).max(1).next_power_of_two();
    for (column, &event) in layout.columns.iter().enumerate().step_by(tick_every) {
        let x = column * layout.event_width_px;
        let _ = write!(
            html,
            "<line class=\"tick\" x1=\"{x}\" y1=\"20\" x2=\"{x}\" y2=\"{height_px}\"/>\
             <text class=\"tick\" x=\"{}\" y=\"14\">{event}</text>",
            x + 2
        );
    }
}

/// The nemesis: a band for each fault in force, a dashed line at each event.
fn write_faults(html: &mut String, report: &Report, layout: &Layout, height_px: usize) {
    for FaultBand {
        start,
        end,
        description,
    } in fault_bands(report.nemesis)
    {
        let x = layout.x(start);
        let end_px = end.map_or(layout.width_px, |end| layout.x(end));
        let _ = write!(
            html,
            "<rect class=\"fault\" x=\"{x}\" y=\"{AXIS_HEIGHT_PX}\" width=\"{}\" height=\"{}\">\
             <title>nemesis: {}</title></rect>",
            end_px.saturating_sub(x).max(2),
            height_px - AXIS_HEIGHT_PX,
            escape(&description)
        );
    }
    for event in report.nemesis {
        let x = layout.x(event.before_event);
        let _ = write!(
            html,
            "<line class=\"nemesis\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{height_px}\"><title>nemesis {}</title></line>\
             <text class=\"fault\" x=\"{}\" y=\"{}\">{}</text>",
            AXIS_HEIGHT_PX - 4,
            escape(&event.summary()),
            x + 2,
            AXIS_HEIGHT_PX - 2,
            escape(&event.function)
        );
    }
}

/// The bar's label: function, key, arguments and (for an `ok` read) result.
fn label(operation: &Operation) -> String {
    let command = &operation.command;
    if command.function.returns_value() && operation.outcome != Outcome::Ok {
        match &command.key {
            Some(key) => format!("{} {key}", command.function_name()),
            None => command.function_name().to_string(),
        }
    } else {
        command.to_string()
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
    offending_drawn: &mut bool,
) {
    let x = layout.x(operation.invoke_index);
    let end_px = match operation.complete_index {
        Some(complete) if operation.outcome != Outcome::Info => layout.x(complete),
        // Unknown outcome: it may take effect any time from now on.
        _ => layout.width_px,
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
    let mut details = format!("[{id}] {operation}");
    if let Some(order) = order {
        let _ = write!(details, "\n#{order} in the longest linearizable prefix");
    }
    if is_offending {
        details.push_str("\ncannot be linearized");
    } else if marks.concurrent.contains(&id) {
        details.push_str("\ntried in place of the offending operation");
    }
    for (what, index) in [
        ("invoked", Some(operation.invoke_index)),
        ("completed", operation.complete_index),
    ] {
        if let Some(position) = index.and_then(|index| report.history.events()[index].position) {
            let _ = write!(details, "\n{what} at {position}");
        }
    }
    let anchor = is_offending && !std::mem::replace(offending_drawn, true);
    let _ = write!(
        html,
        "<rect{} class=\"{}\" x=\"{x}\" y=\"{y}\" width=\"{bar_width_px}\" height=\"{BAR_HEIGHT_PX}\" rx=\"3\" data-details=\"{}\">\
         <title>{}</title></rect>",
        if anchor { " id=\"offending\"" } else { "" },
        classes.join(" "),
        escape(&details),
        escape(&details)
    );
    let text = match order {
        Some(order) => format!("#{order} {}", label(operation)),
        None => label(operation),
    };
    // A nested SVG clips the label to its bar.
    let _ = write!(
        html,
        "<svg x=\"{x}\" y=\"{y}\" width=\"{bar_width_px}\" height=\"{BAR_HEIGHT_PX}\">\
         <text class=\"op\" x=\"3\" y=\"{}\">{}</text></svg>",
        BAR_HEIGHT_PX - 4,
        escape(&text)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'\n"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&#10;"
        );
    }

    #[test]
    fn capitalizes_the_verdict() {
        assert_eq!(capitalized("not linearizable"), "Not linearizable");
        assert_eq!(capitalized(""), "");
    }
}
