//! The text of a scenario file, in the format of etcd's datadriven tests:
//! each case is a command line, its input lines (if any), a `----` line and
//! the expected output, ending at a blank line (or, in the `----`/`----`
//! form, at a closing `----`/`----`, so the output may hold blank lines).
//! Lines outside cases (blank lines and `#` comments) are kept verbatim, so
//! a rewritten file differs from the original only in expected outputs.
//!
//! Parsing is strict: a case without its `----`, a `----` inside an
//! expected output (a blank line missing before the next case) or a
//! repeated argument is a [`ScriptError`] naming the file and line, never
//! a silently merged case.

use std::fmt;

/// A parsed scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// The path the file was read from, for error messages.
    pub path: String,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A blank or comment line outside any case, kept as it is.
    Verbatim(String),
    Case(Case),
}

/// One command with its input and expected output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The 1-based line of the command.
    pub line: usize,
    /// The command line as written (comment included).
    pub text: String,
    pub command: String,
    /// The arguments in the order written.
    pub args: Vec<Arg>,
    /// The input lines between the command and `----`.
    pub input: Vec<String>,
    /// The expected output, each line ending in a newline.
    pub expected: String,
}

/// One argument: `name=value`, or a bare word (a node id, a duration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Word(String),
    Named { name: String, value: String },
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Word(word) => f.write_str(word),
            Arg::Named { name, value } => write!(f, "{name}={value}"),
        }
    }
}

/// A problem in a scenario file, at a line of it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct ScriptError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

const SEPARATOR: &str = "----";

impl Script {
    /// Parses the text of the file at `path`.
    pub fn parse(path: &str, text: &str) -> Result<Script, ScriptError> {
        let lines: Vec<&str> = text.lines().collect();
        let error = |line: usize, message: String| ScriptError {
            path: path.to_owned(),
            line,
            message,
        };
        let mut items = Vec::new();
        let mut next = 0;
        while next < lines.len() {
            let line = lines[next];
            if strip_comment(line).trim().is_empty() {
                items.push(Item::Verbatim(line.to_owned()));
                next += 1;
                continue;
            }
            let (case, after) =
                parse_case(&lines, next).map_err(|(line, message)| error(line, message))?;
            items.push(Item::Case(case));
            next = after;
        }
        Ok(Script {
            path: path.to_owned(),
            items,
        })
    }

    pub fn cases(&self) -> impl Iterator<Item = &Case> {
        self.items.iter().filter_map(|item| match item {
            Item::Case(case) => Some(case),
            Item::Verbatim(_) => None,
        })
    }

    /// The file's text with each case's expected output replaced by
    /// `outputs` (one per case, in order). Precondition: one output per
    /// case.
    pub fn render(&self, outputs: &[String]) -> String {
        assert_eq!(outputs.len(), self.cases().count(), "one output per case");
        let mut outputs = outputs.iter();
        let mut text = String::new();
        for item in &self.items {
            match item {
                Item::Verbatim(line) => {
                    text.push_str(line);
                    text.push('\n');
                }
                Item::Case(case) => {
                    text.push_str(&case.text);
                    text.push('\n');
                    for line in &case.input {
                        text.push_str(line);
                        text.push('\n');
                    }
                    render_output(&mut text, outputs.next().expect("counted"));
                }
            }
        }
        text
    }
}

/// The expected output as the file holds it: below `----`, or between
/// `----`/`----` pairs when it holds a blank line (or is empty).
fn render_output(text: &mut String, output: &str) {
    let output = if output.is_empty() || output.ends_with('\n') {
        output.to_owned()
    } else {
        format!("{output}\n")
    };
    text.push_str(SEPARATOR);
    text.push('\n');
    if output.contains("\n\n") || output.starts_with('\n') {
        text.push_str(SEPARATOR);
        text.push('\n');
        text.push_str(&output);
        text.push_str(SEPARATOR);
        text.push('\n');
        text.push_str(SEPARATOR);
        text.push('\n');
    } else {
        text.push_str(&output);
    }
}

fn strip_comment(line: &str) -> &str {
    line.split_once('#').map_or(line, |(before, _)| before)
}

/// Parses the case whose command is at `lines[start]`; returns it and the
/// index of the line after it.
fn parse_case(lines: &[&str], start: usize) -> Result<(Case, usize), (usize, String)> {
    let line = start + 1;
    let text = lines[start];
    let mut words = strip_comment(text).split_whitespace();
    let command = words.next().expect("a non-blank line").to_owned();
    let mut args = Vec::new();
    for word in words {
        let arg = match word.split_once('=') {
            Some((name, value)) if !name.is_empty() && !value.is_empty() => {
                if args
                    .iter()
                    .any(|arg| matches!(arg, Arg::Named { name: other, .. } if other == name))
                {
                    return Err((line, format!("{command}: {name}= given twice")));
                }
                Arg::Named {
                    name: name.to_owned(),
                    value: value.to_owned(),
                }
            }
            Some(_) => {
                return Err((
                    line,
                    format!("{command}: bad argument {word:?} (name=value)"),
                ))
            }
            None => Arg::Word(word.to_owned()),
        };
        args.push(arg);
    }
    let mut next = start + 1;
    let mut input = Vec::new();
    loop {
        match lines.get(next) {
            Some(&SEPARATOR) => break,
            Some(input_line) if !input_line.trim().is_empty() => {
                input.push((*input_line).to_owned());
                next += 1;
            }
            _ => {
                return Err((
                    line,
                    format!("{command}: no `----` line after the command (and its input)"),
                ))
            }
        }
    }
    next += 1;
    let (expected, after) = if lines.get(next) == Some(&SEPARATOR) {
        parse_blank_mode_output(lines, next + 1, line)?
    } else {
        parse_output(lines, next)?
    };
    let case = Case {
        line,
        text: text.to_owned(),
        command,
        args,
        input,
        expected,
    };
    Ok((case, after))
}

/// An expected output that ends at a blank line or the end of the file.
fn parse_output(lines: &[&str], start: usize) -> Result<(String, usize), (usize, String)> {
    let mut expected = String::new();
    let mut next = start;
    while let Some(line) = lines.get(next) {
        if line.trim().is_empty() {
            break;
        }
        if *line == SEPARATOR {
            return Err((
                next + 1,
                "`----` inside an expected output: is a blank line missing before the command above it?"
                    .to_owned(),
            ));
        }
        expected.push_str(line);
        expected.push('\n');
        next += 1;
    }
    Ok((expected, next))
}

/// An expected output between `----`/`----` pairs, which may hold blank
/// lines.
fn parse_blank_mode_output(
    lines: &[&str],
    start: usize,
    case_line: usize,
) -> Result<(String, usize), (usize, String)> {
    let mut expected = String::new();
    let mut next = start;
    while next < lines.len() {
        if lines[next] == SEPARATOR && lines.get(next + 1) == Some(&SEPARATOR) {
            return Ok((expected, next + 2));
        }
        expected.push_str(lines[next]);
        expected.push('\n');
        next += 1;
    }
    Err((
        case_line,
        "the `----`/`----` output is never closed".to_owned(),
    ))
}
