//! The verdict, explained: as text for people ([`render_text`]), as JSON
//! for programs ([`render_json`]) and as a self-contained HTML timeline
//! ([`render_html`]) with one lane per process and the offending operation
//! marked.

mod fault_bands;
mod html;
mod json;
mod text;

use std::time::Duration;

use crate::check::history::{History, Operation, OperationId};
use crate::check::linearizability::{CheckOutcome, Verdict};
use crate::check::read::NemesisEvent;

pub use html::render_html;
pub use json::render_json;
pub use text::render_text;

/// Everything a report shows.
#[derive(Clone, Copy, Debug)]
pub struct Report<'a> {
    pub history: &'a History,
    pub outcome: &'a CheckOutcome,
    /// The model's description, e.g. `cas-register (initial 0)`.
    pub model: &'a str,
    /// Where the history came from (a file name), if anywhere.
    pub source: Option<&'a str>,
    /// Non-client events the reader skipped (Jepsen's nemesis).
    pub skipped_event_count: usize,
    /// The nemesis events, drawn as faults on the HTML timeline.
    pub nemesis: &'a [NemesisEvent],
    /// How long the check took, if measured.
    pub elapsed: Option<Duration>,
}

impl Report<'_> {
    fn operation(&self, id: OperationId) -> &Operation {
        &self.history.operations()[id]
    }

    /// The operations the search tried in place of the offending one.
    fn concurrent_with_violation(&self) -> &[OperationId] {
        match &self.outcome.verdict {
            Verdict::NotLinearizable(violation) => &violation.concurrent,
            _ => &[],
        }
    }
}

/// `count` and `noun`, with an `s` unless there is exactly one:
/// `1 partition`, `3 partitions`.
fn counted(count: usize, noun: &str) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {noun}{plural}")
}

/// A duration as people read it: `850 µs`, `12.3 ms`, `4.56 s`.
fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 1e-3 {
        format!("{:.0} µs", seconds * 1e6)
    } else if seconds < 1.0 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{seconds:.2} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_micros(850)), "850 µs");
        assert_eq!(format_duration(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(format_duration(Duration::from_millis(4_561)), "4.56 s");
    }
}
