//! `electorate lincheck`: exit statuses, the text, JSON and HTML outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn knossos(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/knossos/cas-register")
        .join(relative)
}

/// The hand-made histories of `model`.
pub(crate) fn hand_made(model: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/lincheck")
        .join(model)
}

fn lincheck(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_electorate"))
        .arg("lincheck")
        .args(arguments)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Asserts that `text`, a command's output, contains `expected`; shows the
/// whole output if it does not.
fn assert_contains(text: &str, expected: &str) {
    assert!(text.contains(expected), "{expected:?} not in:\n{text}");
}

/// Asserts that every JSON report in `json_lines` has the verdict its
/// file's directory names (`good/`: linearizable, `bad/`: not); returns how
/// many good and bad files there were.
pub(crate) fn assert_verdicts_follow_directories(json_lines: &str) -> (usize, usize) {
    let mut counts = (0, 0);
    for line in json_lines.lines() {
        let json: serde_json::Value = serde_json::from_str(line).unwrap();
        let source = json["source"].as_str().unwrap();
        let expected = if source.contains("/good/") {
            counts.0 += 1;
            "linearizable"
        } else {
            counts.1 += 1;
            "not-linearizable"
        };
        assert_eq!(json["verdict"], expected, "{source}: {json}");
    }
    counts
}

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("electorate-lincheck-{}-{name}", std::process::id()))
}

/// Runs `electorate lincheck` on a scratch file `name` holding `history`,
/// then `options`; removes the file. Returns the output and the file's path
/// (which messages name).
fn lincheck_history(name: &str, history: &str, options: &[&str]) -> (Output, PathBuf) {
    let path = scratch(name);
    std::fs::write(&path, history).unwrap();
    let mut arguments = vec![path.to_str().unwrap()];
    arguments.extend_from_slice(options);
    let output = lincheck(&arguments);
    std::fs::remove_file(&path).unwrap();
    (output, path)
}

/// Asserts that lincheck refused the history at `path`: exit status 2, and
/// on stderr the file's name, then `message`.
fn assert_refused(output: &Output, path: &Path, message: &str) {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_contains(&stderr(output), &format!("{}: {message}", path.display()));
}

#[test]
fn a_linearizable_history_exits_0() {
    let path = knossos("good/memstress3-0.edn");
    let output = lincheck(&[path.to_str().unwrap(), "--initial", "0"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_contains(&stdout(&output), "verdict: linearizable");
}

#[test]
fn a_violation_exits_1_and_names_the_operation() {
    let path = knossos("bad/rethink-fail-minimal.edn");
    let output = lincheck(&[path.to_str().unwrap(), "--initial", "0"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = stdout(&output);
    assert_contains(&text, "verdict: NOT linearizable");
    assert_contains(&text, "cannot linearize operation 1: process 1 read → 3");
    assert_contains(&text, "invoked at line 4, column 2");
}

#[test]
fn json_output_is_machine_readable() {
    let path = knossos("bad/rethink-fail-minimal.edn");
    let output = lincheck(&[path.to_str().unwrap(), "--initial", "0", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["verdict"], "not-linearizable");
    assert_eq!(json["violation"]["operation"]["value"], 3);
    assert_eq!(json["violation"]["operation"]["line"], 4);
    assert_eq!(
        json["violation"]["linearized_prefix"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_spent_budget_exits_2() {
    let path = knossos("good/memstress3-0.edn");
    let output = lincheck(&[
        path.to_str().unwrap(),
        "--initial",
        "0",
        "--max-steps",
        "5",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["verdict"], "unknown");
}

#[test]
fn a_malformed_file_exits_2_with_line_and_column() {
    let history = "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n{\"process\":0,\"type\":\"ok\",\"f\":\"frob\"}\n";
    let (output, path) = lincheck_history("malformed.jsonl", history, &[]);
    assert_refused(
        &output,
        &path,
        "line 2, column 1: `f` must be one of read, write, cas",
    );
}

#[test]
fn a_key_value_history_in_json_lines_is_checked_per_key() {
    let history = [
        r#"{"process":1,"type":"invoke","f":"write","key":"x","value":3}"#,
        r#"{"process":1,"type":"ok","f":"write","key":"x","value":3}"#,
        r#"{"process":2,"type":"invoke","f":"read","key":"y","value":null}"#,
        r#"{"process":2,"type":"ok","f":"read","key":"y","value":3}"#,
    ];
    let options = ["--model", "kv", "--json"];
    let (output, _) = lincheck_history("kv.jsonl", &history.join("\n"), &options);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["violation"]["partition_key"], "y");
    assert_eq!(json["statistics"]["partition_count"], 2);
}

#[test]
fn the_html_report_is_self_contained_and_marks_the_offending_operation() {
    let path = knossos("bad/bad-analysis.edn");
    let html_path = scratch("report.html");
    let output = lincheck(&[
        path.to_str().unwrap(),
        "--initial",
        "0",
        "--html",
        html_path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let html = std::fs::read_to_string(&html_path).unwrap();
    std::fs::remove_file(&html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("id=\"offending\""));
    assert_eq!(
        html.matches("data-details=").count(),
        9,
        "one bar per operation"
    );
    assert!(html.contains("Final paths"), "the final paths are listed");
    for external in ["src=", "href=", "@import", "url("] {
        assert!(
            !html.contains(external),
            "the report loads nothing: found {external}"
        );
    }
}

#[test]
fn bad_arguments_are_rejected() {
    let path = knossos("good/memstress3-0.edn");
    let output = lincheck(&[path.to_str().unwrap(), "--initial", "minus-one"]);
    assert_eq!(output.status.code(), Some(2));
    let output = lincheck(&[path.to_str().unwrap(), "--timeout", "-1"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_value_the_model_cannot_take_is_an_error_naming_file_and_line() {
    let history = "[{:process 0, :type :invoke, :f :write, :value 1}\n {:process 0, :type :ok, :f :write, :value #{1}}]";
    let (output, path) = lincheck_history("set-write.edn", history, &[]);
    assert_refused(
        &output,
        &path,
        "line 2, column 2: operation 0 cannot be checked: a write takes a scalar",
    );
}

#[test]
fn every_knossos_history_gets_its_verdict_in_one_command() {
    let directory = knossos("");
    let output = lincheck(&[directory.to_str().unwrap(), "--initial", "0", "--json"]);
    assert_eq!(output.status.code(), Some(1), "the bad ones are found");
    let counts = assert_verdicts_follow_directories(&stdout(&output));
    assert_eq!(counts, (113, 7));
    assert_contains(
        &stderr(&output),
        "120 histories: 113 linearizable, 7 not linearizable, 0 unknown, 0 errors in",
    );
}

#[test]
fn many_histories_print_a_table_and_a_summary() {
    let directory = hand_made("mutex");
    let missing = scratch("missing.edn");
    let output = lincheck(&[
        "--model",
        "mutex",
        directory.join("good").to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unreadable file, no violation"
    );
    let text = stdout(&output);
    let header = text.lines().next().unwrap();
    for column in ["file", "events", "operations", "verdict", "time"] {
        assert_contains(header, column);
    }
    assert_contains(&text, "handover.edn");
    assert_contains(
        &text,
        &format!(
            "{} (error): {}: cannot read",
            missing.display(),
            missing.display()
        ),
    );
    assert_contains(
        &text,
        "3 histories: 2 linearizable, 0 not linearizable, 0 unknown, 1 errors in",
    );
    let output = lincheck(&[
        "--model",
        "mutex",
        directory.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a violation outweighs an error"
    );
}

#[test]
fn many_html_reports_go_into_a_directory() {
    let directory = hand_made("set");
    let reports = scratch("reports");
    let output = lincheck(&[
        "--model",
        "set",
        directory.to_str().unwrap(),
        "--html",
        reports.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let count = std::fs::read_dir(&reports).unwrap().count();
    std::fs::remove_dir_all(&reports).unwrap();
    assert_eq!(count, 4, "one report per history");
}

#[test]
fn the_html_report_has_a_view_per_key_final_paths_and_nemesis_bands() {
    let history = "[{:process 0, :type :invoke, :f :write, :value [:x 1]}
          {:process 0, :type :ok, :f :write, :value [:x 1]}
          {:process :nemesis, :type :info, :f :start, :value [:n1]}
          {:process 1, :type :invoke, :f :write, :value [:y 2]}
          {:process 2, :type :invoke, :f :read, :value [:y nil]}
          {:process 1, :type :ok, :f :write, :value [:y 2]}
          {:process 2, :type :ok, :f :read, :value [:y 3]}
          {:process :nemesis, :type :info, :f :stop, :value nil}]";
    let html_path = scratch("keys-and-faults.html");
    let options = ["--html", html_path.to_str().unwrap()];
    let (output, _) = lincheck_history("keys-and-faults.edn", history, &options);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let html = std::fs::read_to_string(&html_path).unwrap();
    std::fs::remove_file(&html_path).unwrap();
    // The violating key's view comes first, open; then :x; then everything.
    let views: Vec<&str> = html
        .match_indices("<details class=\"view\"")
        .map(|(at, _)| &html[at..at + 60])
        .collect();
    assert_eq!(views.len(), 3, "{views:?}");
    assert!(views[0].contains(" open><summary>key :y"), "{views:?}");
    assert!(views[1].contains("><summary>key :x"), "{views:?}");
    assert!(html.contains("<summary>every operation (3 operations)"));
    // The read of 3 is impossible in state 2, and so is every other order.
    assert!(
        html.contains("[2] process 2 read → [:y 3]"),
        "final paths list the offending read"
    );
    assert!(html.contains("class=\"fault\""), "the partition is a band");
    assert_contains(&html, "nemesis: info start [:n1] … info stop nil");
    assert!(html.contains(">write [:x 1]</text>"), "bars are labelled");
}
