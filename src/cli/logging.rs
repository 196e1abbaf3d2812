//! Structured logs through `tracing`, off unless asked for: `--log FILTER`
//! on the command line or the `ELECTORATE_LOG` environment variable (an
//! `EnvFilter` such as `info` or `electorate=debug`), written to stderr.

use tracing_subscriber::EnvFilter;

/// The variable that turns logging on when no `--log` is given.
pub const LOG_VARIABLE: &str = "ELECTORATE_LOG";

pub fn init(flag: Option<&str>) {
    let filter = flag
        .map(str::to_owned)
        .or_else(|| std::env::var(LOG_VARIABLE).ok());
    let Some(filter) = filter else {
        return;
    };
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|error| {
        eprintln!("bad log filter {filter:?} ({error}); logging at info");
        EnvFilter::new("info")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A seed for runs that were not given one; printed so they can be repeated.
pub fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}
