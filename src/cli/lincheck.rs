//! `electorate lincheck FILE`: checks a recorded history (Jepsen EDN or
//! JSON lines) for linearizability against a register, compare-and-set
//! register or key-value model.
//!
//! Exit status: 0 linearizable, 1 not linearizable, 2 unknown (budget
//! spent) or error (unreadable file, malformed history).

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::{Duration, Instant};

use electorate::check::history::Value;
use electorate::check::report::{render_html, render_json, render_text, Report};
use electorate::check::{
    check, read_history_file, Budget, CasRegister, HistoryRead, KeyValue, Model, Register, Verdict,
};

#[derive(clap::Args)]
pub struct Args {
    /// The history: Jepsen EDN or JSON lines (one event object per line),
    /// told apart by the extension (.edn, .jsonl) or else by the content.
    file: PathBuf,
    /// The sequential specification to check against.
    #[arg(long, value_enum, default_value_t = ModelName::CasRegister)]
    model: ModelName,
    /// Initial value of the register (of every key, for kv): an integer, or
    /// nil for never written.
    #[arg(long, value_name = "V", default_value = "nil")]
    initial: Initial,
    /// Also write the verdict as a self-contained HTML timeline to OUT.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// Give up after S seconds (verdict unknown, exit status 2).
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    timeout: Option<Duration>,
    /// Give up after N search steps (deterministic, unlike --timeout).
    #[arg(long, value_name = "N")]
    max_steps: Option<u64>,
    /// Print the verdict as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModelName {
    /// Read and write (Knossos `register`); a nil read matches anything.
    Register,
    /// Read, write and compare-and-set (Knossos `cas-register`); a nil read matches anything.
    CasRegister,
    /// Compare-and-set registers per key, checked key by key; a nil read means absent.
    Kv,
}

/// The `--initial` value: an integer or `nil`.
#[derive(Clone, Copy)]
struct Initial(Option<Value>);

impl FromStr for Initial {
    type Err = String;

    fn from_str(text: &str) -> Result<Initial, String> {
        if text == "nil" {
            return Ok(Initial(None));
        }
        text.parse()
            .map(|value| Initial(Some(value)))
            .map_err(|_| format!("`{text}` is neither a non-negative integer nor nil"))
    }
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("`{text}` is not a non-negative number of seconds"))
}

pub fn run(args: Args) -> ExitCode {
    let read = match read_history_file(&args.file) {
        Ok(read) => read,
        Err(error) => return fail(&args, &error.to_string()),
    };
    let initial = args.initial.0;
    match args.model {
        ModelName::Register => check_and_report(&args, &read, &Register { initial }),
        ModelName::CasRegister => check_and_report(&args, &read, &CasRegister { initial }),
        ModelName::Kv => check_and_report(&args, &read, &KeyValue { initial }),
    }
}

/// Reports an error the way the user asked for output; exit status 2.
fn fail(args: &Args, message: &str) -> ExitCode {
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "verdict": "error", "error": message })
        );
    } else {
        eprintln!("error: {}: {message}", args.file.display());
    }
    ExitCode::from(2)
}

fn check_and_report<M: Model>(args: &Args, read: &HistoryRead, model: &M) -> ExitCode {
    if !matches!(args.model, ModelName::Kv) && read.history.has_keys() {
        eprintln!(
            "warning: the history names keys, but the {} model is a single register: all keys are checked as one (use --model kv)",
            model.description()
        );
    }
    let budget = Budget {
        max_steps: args.max_steps,
        timeout: args.timeout,
    };
    let start = Instant::now();
    let outcome = match check(&read.history, model, budget) {
        Ok(outcome) => outcome,
        Err(error) => return fail(args, &error.to_string()),
    };
    let source = args.file.display().to_string();
    let description = model.description();
    let report = Report {
        history: &read.history,
        outcome: &outcome,
        model: &description,
        source: Some(&source),
        skipped_event_count: read.skipped_event_count,
        elapsed: Some(start.elapsed()),
    };
    if args.json {
        println!("{}", render_json(&report));
    } else {
        print!("{}", render_text(&report));
    }
    if let Some(path) = &args.html {
        if let Err(error) = std::fs::write(path, render_html(&report)) {
            eprintln!("error: cannot write {}: {error}", path.display());
            return ExitCode::from(2);
        }
    }
    match outcome.verdict {
        Verdict::Linearizable => ExitCode::SUCCESS,
        Verdict::NotLinearizable(_) => ExitCode::from(1),
        Verdict::Unknown { .. } => ExitCode::from(2),
    }
}
