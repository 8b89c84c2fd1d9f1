//! The `microcat` binary: parse the command line, start logging, load settings, dispatch.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = microcat::cli::Cli::parse();
    microcat::telemetry::init();
    match microcat::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("microcat: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
