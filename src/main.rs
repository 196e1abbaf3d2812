//! The `electorate` command-line tool.

mod cli;

fn main() -> std::process::ExitCode {
    restore_default_sigpipe();
    cli::main()
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`electorate
/// simulate | head`) would panic. Let the signal end the process quietly,
/// as every Unix filter does.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; resetting
    // a signal to its default disposition has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
