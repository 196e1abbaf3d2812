//! Replaying scenario files: run each case in order, compare its output with
//! the expected one, and (to rewrite the file) render the file with the
//! outputs observed. The test harness (`tests/scenarios.rs`) and `electorate
//! scenario` both replay through here, so they judge a file the same way.
//!
//! A case may expect to be refused: its expected output is `error: ` and
//! the refusal's message (a configuration the core refuses, say); the
//! refusal is then its output and the run goes on. Any other refusal, and a
//! panic inside a command (a bug), stop the file's run with a
//! [`ScriptError`] at that line; such a run has no rewritten text, so
//! `--rewrite` never records a broken run.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use crate::core::panic_message::panic_message;
use crate::sim::scenario::command::Refusal;
use crate::sim::scenario::script::{Case, Script, ScriptError};
use crate::sim::scenario::Scenario;

/// How an expected output says that the case is refused.
pub const REFUSED: &str = "error: ";

/// The outcome of running one scenario file.
pub struct Replay {
    pub script: Script,
    /// The output of each case that ran, in order.
    pub outputs: Vec<String>,
    /// Why the run stopped before the last case, if it did.
    pub error: Option<ScriptError>,
}

/// A case whose output differs from the expected one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub path: String,
    pub line: usize,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: the output differs\nexpected:\n{}actual:\n{}",
            self.path, self.line, self.expected, self.actual
        )
    }
}

impl Replay {
    /// Reads, parses and runs the file at `path`.
    pub fn file(path: &Path) -> Result<Replay, ScriptError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ScriptError {
            path: name.clone(),
            line: 0,
            message: format!("cannot read: {error}"),
        })?;
        Ok(Replay::run(Script::parse(&name, &text)?))
    }

    /// Runs every case of `script` on a fresh [`Scenario`], stopping at the
    /// first case refused without expecting it, or panicking.
    pub fn run(script: Script) -> Replay {
        let mut scenario = Scenario::new();
        let mut outputs = Vec::new();
        let mut error = None;
        for case in script.cases() {
            let stop = match execute(&mut scenario, case) {
                Ok(output) => {
                    outputs.push(output);
                    continue;
                }
                // A refusal the file expects (it changed nothing) is the
                // case's output, and the run goes on.
                Err(Failure::Refused(refusal)) if case.expected.starts_with(REFUSED) => {
                    outputs.push(format!("{REFUSED}{}\n", refusal.message));
                    continue;
                }
                Err(Failure::Refused(refusal)) => (refusal.line, refusal.message),
                Err(Failure::Panicked(message)) => (
                    case.line,
                    format!("{} panicked (a bug): {message}", case.command),
                ),
            };
            error = Some(ScriptError {
                path: script.path.clone(),
                line: stop.0,
                message: stop.1,
            });
            break;
        }
        Replay {
            script,
            outputs,
            error,
        }
    }

    /// What `electorate scenario` prints for the cases that ran: each
    /// command and its input behind `> `, then its output and a blank line.
    pub fn transcript(&self) -> String {
        let mut text = String::new();
        for (case, output) in self.script.cases().zip(&self.outputs) {
            text.push_str("> ");
            text.push_str(&case.text);
            text.push('\n');
            for line in &case.input {
                text.push_str("> ");
                text.push_str(line);
                text.push('\n');
            }
            text.push_str(output);
            text.push('\n');
        }
        text
    }

    /// The cases that ran with an output other than the expected one.
    pub fn mismatches(&self) -> Vec<Mismatch> {
        self.script
            .cases()
            .zip(&self.outputs)
            .filter(|(case, output)| case.expected != **output)
            .map(|(case, output)| Mismatch {
                path: self.script.path.clone(),
                line: case.line,
                expected: case.expected.clone(),
                actual: output.clone(),
            })
            .collect()
    }

    /// The file's text with the observed outputs, or `None` if the run
    /// stopped early (a file is never rewritten from part of a run).
    pub fn rewritten(&self) -> Option<String> {
        if self.error.is_some() {
            return None;
        }
        Some(self.script.render(&self.outputs))
    }
}

/// How a case can fail to run.
enum Failure {
    Refused(Refusal),
    Panicked(String),
}

/// Runs one case, catching a panic.
fn execute(scenario: &mut Scenario, case: &Case) -> Result<String, Failure> {
    // A panic is a bug in the cluster or the core; the scenario is not used
    // after one (the run stops), so unwind safety is not a concern.
    match panic::catch_unwind(AssertUnwindSafe(|| scenario.execute(case))) {
        Ok(result) => result.map_err(Failure::Refused),
        Err(payload) => Err(Failure::Panicked(panic_message(&*payload))),
    }
}

/// The scenario files at `path`: the file itself, or every file below the
/// directory in path order, skipping hidden and editor backup files.
pub fn scenario_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut directories = vec![path.to_path_buf()];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory)? {
            let entry = entry?.path();
            let name = entry
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with('.') || name.ends_with('~') || name.starts_with('#') {
                continue;
            }
            if entry.is_dir() {
                directories.push(entry);
            } else {
                files.push(entry);
            }
        }
    }
    files.sort();
    Ok(files)
}
