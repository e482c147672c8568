//! The `konvent` binary: parses the command line, sets up logging, opens the store and
//! hands over to the library crates.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Fehler: die Laufzeitumgebung von tokio startet nicht: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli::Cli::parse())) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Fehler: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// tokio's scheduler for the cores this process may use. With one core (a container
/// limited to one CPU, or a process pinned to one), the single-threaded scheduler runs
/// every task on the thread that also accepts the connections; the multi-threaded one
/// would add a worker thread taking turns with it on that one core, and pay for work
/// stealing with nobody to steal from. The database's own threads (SQLite's workers,
/// password hashing) are separate in either case.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut builder = if cores == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()
}
