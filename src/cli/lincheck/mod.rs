//! `electorate lincheck PATH...`: checks recorded histories (Jepsen EDN or
//! JSON lines) for linearizability against a model. Each path is a history
//! file or a directory searched for `.edn` and `.jsonl` files; all of them
//! are checked in one process, in parallel across cores.
//!
//! One history prints its full report; several print a table (file,
//! events, operations, verdict, time), the reasons for every history that
//! is not linearizable or could not be judged, and a summary line with the
//! total time. `--json` prints one JSON object per history.
//!
//! Exit status: 0 every history is linearizable; 1 at least one is not (a
//! definite finding, whatever the others gave); 2 none is shown not
//! linearizable but at least one is unknown (budget spent) or could not be
//! read or judged.

mod inputs;
mod one;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use electorate::check::read::parse_value;
use electorate::check::{
    Budget, CasRegister, FifoQueue, KeyValue, KvAppend, Model, Mutex, Register, Set, Value,
};

use crate::cli::pool::{default_threads, map_in_parallel};
use one::{check_file, Checked, Conclusion};

const AFTER_HELP: &str = "\
Completions are read as Knossos reads them: `ok` took effect, with the
completion's value (a read's result); `fail` did not happen; `info` may have
happened at any time after its invocation, with the invocation's arguments
(the completion's own value, nil or :timed-out or anything, is ignored); an
invocation that never completes counts as `info`. A read of unknown outcome
constrains nothing and is left out.

Values may be nil, integers of either sign, strings, keywords and booleans,
compared by equality (\"x\" is not :x). Keys come from an event's :key, or
from jepsen.independent tuples (:value [key value]); every model checks each
key on its own.

An ok read of nil, by model:
  register, cas-register  matches any value (Knossos: nothing was read)
  kv                      the key is absent (never written)
  set                     matches any set (nothing was read)
  fifo-queue              a dequeue of nil found the queue empty
  kv-append               the key is absent
  mutex                   values are ignored";

#[derive(clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// History files (Jepsen EDN or JSON lines, told apart by the extension
    /// .edn or .jsonl, else by the content) or directories searched for
    /// .edn and .jsonl files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The sequential specification to check against.
    #[arg(long, value_enum, default_value_t = ModelName::CasRegister)]
    model: ModelName,
    /// Initial value of the register (of every key, for kv and kv-append),
    /// in EDN: nil (never written), 0, -1, "a", :x, true.
    #[arg(long, value_name = "V", default_value = "nil", value_parser = parse_value)]
    initial: Value,
    /// Also write the verdict as a self-contained HTML timeline: to the file
    /// OUT for one history, into the directory OUT (one page each) for several.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// Give up on a history after S seconds (verdict unknown).
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    timeout: Option<Duration>,
    /// Give up on a history after N search steps (deterministic, unlike --timeout).
    #[arg(long, value_name = "N")]
    max_steps: Option<u64>,
    /// Print one JSON object per history instead of text.
    #[arg(long)]
    json: bool,
    /// Threads to check on (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModelName {
    /// Read and write (Knossos `register`).
    Register,
    /// Read, write and compare-and-set (Knossos `cas-register`).
    CasRegister,
    /// Compare-and-set registers in which nil means absent.
    Kv,
    /// Acquire and release of a lock (Knossos `mutex`).
    Mutex,
    /// Add, and read of the whole set (Knossos `set`).
    Set,
    /// Enqueue and dequeue (Knossos `fifo-queue`).
    FifoQueue,
    /// Get, put and append of strings (Porcupine's kv).
    KvAppend,
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("`{text}` is not a non-negative number of seconds"))
}

pub fn run(args: Args) -> ExitCode {
    let initial = args.initial.clone();
    let has_initial = !initial.is_nil();
    let uses_initial = matches!(
        args.model,
        ModelName::Register | ModelName::CasRegister | ModelName::Kv | ModelName::KvAppend
    );
    if has_initial && !uses_initial {
        eprintln!(
            "error: --initial applies to the register, cas-register, kv and kv-append models"
        );
        return ExitCode::from(2);
    }
    match args.model {
        ModelName::Register => run_with(&args, &Register { initial }),
        ModelName::CasRegister => run_with(&args, &CasRegister { initial }),
        ModelName::Kv => run_with(&args, &KeyValue { initial }),
        ModelName::Mutex => run_with(&args, &Mutex),
        ModelName::Set => run_with(&args, &Set),
        ModelName::FifoQueue => run_with(&args, &FifoQueue),
        ModelName::KvAppend => {
            let initial = match &initial {
                Value::Nil => None,
                Value::String(text) => Some(Arc::clone(text)),
                other => {
                    eprintln!("error: kv-append holds strings: --initial must be nil or a string, not {other}");
                    return ExitCode::from(2);
                }
            };
            run_with(&args, &KvAppend { initial })
        }
    }
}

fn run_with<M: Model + Sync>(args: &Args, model: &M) -> ExitCode {
    let start = Instant::now();
    let files = inputs::history_files(&args.paths);
    let single = files.len() == 1 && !args.paths[0].is_dir();
    if let Some(directory) = args.html.as_ref().filter(|_| !single) {
        if let Err(error) = std::fs::create_dir_all(directory) {
            eprintln!("error: cannot create {}: {error}", directory.display());
            return ExitCode::from(2);
        }
    }
    let budget = Budget {
        max_steps: args.max_steps,
        timeout: args.timeout,
    };
    let progress = if args.json || single {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(files.len() as u64)
    };
    progress.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} histories {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let threads = args.threads.unwrap_or_else(default_threads);
    let checked: Vec<Checked> = map_in_parallel(
        files.len(),
        threads,
        |index| match &files[index] {
            Ok(path) => {
                let html = args.html.as_ref().map(|out| {
                    if single {
                        out.clone()
                    } else {
                        out.join(table::html_name(path))
                    }
                });
                check_file(path, model, budget, html.as_deref())
            }
            Err(error) => Checked::unreadable(error.path.display().to_string(), error.to_string()),
        },
        |checked| {
            if let Some(path) = checked.source.rsplit('/').next() {
                progress.set_message(path.to_string());
            }
            progress.inc(1);
        },
    );
    progress.finish_and_clear();
    let elapsed = start.elapsed();
    if args.json {
        for checked in &checked {
            println!("{}", checked.json);
        }
        if !single {
            eprintln!("{}", table::summary_line(&checked, elapsed, threads));
        }
    } else if single {
        let checked = &checked[0];
        if checked.conclusion == Conclusion::Error {
            eprintln!("error: {}", checked.text);
        } else {
            print!("{}", checked.text);
        }
    } else {
        print!("{}", table::render(&checked, elapsed, threads));
    }
    exit_status(&checked)
}

/// 1 if any history is not linearizable, else 2 if any is undecided, else 0.
fn exit_status(checked: &[Checked]) -> ExitCode {
    let any = |conclusion: Conclusion| {
        checked
            .iter()
            .any(|checked| checked.conclusion == conclusion)
    };
    if any(Conclusion::NotLinearizable) {
        ExitCode::from(1)
    } else if any(Conclusion::Unknown) || any(Conclusion::Error) {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
