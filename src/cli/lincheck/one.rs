//! Checking one history file: read it, check it, and render what the run
//! prints about it (its full report, its JSON object, its table row).

use std::path::Path;
use std::time::{Duration, Instant};

use electorate::check::report::{render_html, render_json, render_text, Report};
use electorate::check::{check, read_history_file, Budget, Model, Verdict};

/// What became of one history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conclusion {
    Linearizable,
    NotLinearizable,
    Unknown,
    /// Unreadable, malformed, or not judgeable by the model.
    Error,
}

impl Conclusion {
    pub fn name(self) -> &'static str {
        match self {
            Conclusion::Linearizable => "linearizable",
            Conclusion::NotLinearizable => "NOT linearizable",
            Conclusion::Unknown => "unknown",
            Conclusion::Error => "error",
        }
    }
}

/// One history, checked.
pub struct Checked {
    /// The file, as given or found.
    pub source: String,
    pub event_count: Option<usize>,
    pub operation_count: Option<usize>,
    pub conclusion: Conclusion,
    /// Reading and checking.
    pub elapsed: Duration,
    /// The full text report, or the error (naming the file).
    pub text: String,
    /// Why it is not linearizable or undecided, in one line; empty if it is.
    pub reason: String,
    /// The JSON object.
    pub json: String,
}

impl Checked {
    pub fn unreadable(source: String, message: String) -> Checked {
        Checked {
            json: serde_json::json!({ "source": source, "verdict": "error", "error": message })
                .to_string(),
            source,
            event_count: None,
            operation_count: None,
            conclusion: Conclusion::Error,
            elapsed: Duration::ZERO,
            reason: message.clone(),
            text: message,
        }
    }
}

/// Reads and checks the history at `path`; writes its HTML report to
/// `html` if asked.
pub fn check_file<M: Model>(
    path: &Path,
    model: &M,
    budget: Budget,
    html: Option<&Path>,
) -> Checked {
    let start = Instant::now();
    let source = path.display().to_string();
    let read = match read_history_file(path) {
        Ok(read) => read,
        Err(error) => return Checked::unreadable(source, error.to_string()),
    };
    let outcome = match check(&read.history, model, budget) {
        Ok(outcome) => outcome,
        Err(error) => return Checked::unreadable(source.clone(), format!("{source}: {error}")),
    };
    let elapsed = start.elapsed();
    let description = model.description();
    let report = Report {
        history: &read.history,
        outcome: &outcome,
        model: &description,
        source: Some(&source),
        skipped_event_count: read.skipped_event_count,
        nemesis: &read.nemesis,
        elapsed: Some(elapsed),
    };
    let (conclusion, reason) = match &outcome.verdict {
        Verdict::Linearizable => (Conclusion::Linearizable, String::new()),
        Verdict::NotLinearizable(violation) => {
            let key = violation
                .partition_key
                .as_ref()
                .map_or_else(String::new, |key| format!("key {key}: "));
            let operation = &read.history.operations()[violation.operation];
            let reason = format!(
                "{key}cannot linearize operation {}: {operation}",
                violation.operation
            );
            (Conclusion::NotLinearizable, reason)
        }
        Verdict::Unknown { reason, .. } => (Conclusion::Unknown, reason.to_string()),
    };
    let mut text = render_text(&report);
    if let Some(html) = html {
        if let Err(error) = std::fs::write(html, render_html(&report)) {
            return Checked::unreadable(
                source,
                format!("cannot write {}: {error}", html.display()),
            );
        }
        text.push_str(&format!("report: {}\n", html.display()));
    }
    Checked {
        json: render_json(&report),
        event_count: Some(read.history.events().len()),
        operation_count: Some(read.history.operations().len()),
        conclusion,
        elapsed,
        text,
        reason,
        source,
    }
}
