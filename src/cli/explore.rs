//! `electorate explore SPEC [--port 3000]`: serves stateright's web explorer
//! for one spec, to step through the model by hand (pick an action, see the
//! next state, see which properties hold). A counterexample printed by
//! `electorate check` opens at `http://localhost:PORT/#/steps/PATH`.

use std::path::PathBuf;
use std::process::ExitCode;

use electorate::model::run::serve;
use electorate::model::ModelSpec;

#[derive(clap::Args)]
pub struct Args {
    /// The spec to explore.
    spec: PathBuf,
    /// The port to listen on, on localhost only.
    #[arg(long, default_value_t = 3000)]
    port: u16,
}

pub fn run(args: Args) -> ExitCode {
    let spec = match ModelSpec::load(&args.spec) {
        Ok(spec) => spec,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let address = ("127.0.0.1", args.port);
    println!(
        "exploring {} at http://localhost:{}/ (Ctrl-C to stop)",
        args.spec.display(),
        args.port
    );
    // Serves until the process is stopped.
    serve(spec, address);
    ExitCode::SUCCESS
}
