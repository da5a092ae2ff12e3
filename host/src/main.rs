//! `order-host`: runs the order-management component for real. The
//! arguments are in `cli/args.rs`, each command group in its own module
//! under `cli/`, the exit codes in `cli/exit.rs`.

mod cli;

use std::process::ExitCode;

use cli::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::from_env();
    // A server logs its requests by default; the other commands only warnings.
    let default_filter = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => cli::exit::report(&error),
    }
}
