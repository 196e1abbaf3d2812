//! The output of a run over many histories: a table with a row per
//! history, the reasons for those that are not linearizable or undecided,
//! and a summary line.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use crate::cli::lincheck::one::{Checked, Conclusion};

/// The table, the reasons and the summary line.
pub fn render(checked: &[Checked], elapsed: Duration, threads: usize) -> String {
    let width = checked
        .iter()
        .map(|checked| checked.source.chars().count())
        .max()
        .unwrap_or(0)
        .max("file".len());
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<width$}  {:>9}  {:>10}  {:<16}  {:>9}",
        "file", "events", "operations", "verdict", "time"
    );
    let count =
        |value: Option<usize>| value.map_or_else(|| "-".to_string(), |value| value.to_string());
    for row in checked {
        let _ = writeln!(
            text,
            "{:<width$}  {:>9}  {:>10}  {:<16}  {:>9}",
            row.source,
            count(row.event_count),
            count(row.operation_count),
            row.conclusion.name(),
            format!("{:.1} ms", row.elapsed.as_secs_f64() * 1e3),
        );
    }
    let failing: Vec<&Checked> = checked
        .iter()
        .filter(|checked| checked.conclusion != Conclusion::Linearizable)
        .collect();
    if !failing.is_empty() {
        text.push('\n');
        for row in failing {
            let _ = writeln!(
                text,
                "{} ({}): {}",
                row.source,
                row.conclusion.name(),
                row.reason
            );
        }
    }
    text.push('\n');
    text.push_str(&summary_line(checked, elapsed, threads));
    text.push('\n');
    text
}

/// `120 histories: 113 linearizable, 7 not linearizable, 0 unknown, 0 errors in 1.23 s (2 threads)`.
pub fn summary_line(checked: &[Checked], elapsed: Duration, threads: usize) -> String {
    let count = |conclusion: Conclusion| {
        checked
            .iter()
            .filter(|checked| checked.conclusion == conclusion)
            .count()
    };
    format!(
        "{} histories: {} linearizable, {} not linearizable, {} unknown, {} errors in {:.2} s ({} threads)",
        checked.len(),
        count(Conclusion::Linearizable),
        count(Conclusion::NotLinearizable),
        count(Conclusion::Unknown),
        count(Conclusion::Error),
        elapsed.as_secs_f64(),
        threads.clamp(1, checked.len().max(1)),
    )
}

/// The file name of `path`'s HTML report in a directory of reports: its
/// path with separators replaced, so reports of `a/x.edn` and `b/x.edn`
/// do not collide.
pub fn html_name(path: &Path) -> String {
    let flat: String = path
        .to_string_lossy()
        .trim_start_matches(['.', '/'])
        .chars()
        .map(|character| {
            if matches!(character, '/' | '\\') {
                '_'
            } else {
                character
            }
        })
        .collect();
    format!("{flat}.html")
}
