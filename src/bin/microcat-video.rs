//! `microcat-video`: the one executable that links FFmpeg. The server runs it as the media
//! worker for films and audio, and `microcat poster` hands over to it. FFmpeg's ~130 shared
//! libraries take ~60 ms to load; kept out of `microcat`, every other process (the server,
//! photo jobs, `microcat thumbnail`) starts without them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use microcat::cli::OneShot;
use microcat::config::{Overrides, Settings};
use microcat::media::{video, worker};

/// microcat's film and audio decoding (FFmpeg).
#[derive(Debug, Parser)]
#[command(name = "microcat-video", version, about)]
struct Cli {
    /// TOML settings file (for the decoding limits).
    #[arg(long, global = true, env = "MICROCAT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Internal: process one film or audio file described by a JSON request on stdin.
    #[command(hide = true)]
    MediaWorker,
    /// Write a JPEG poster of a film: the most detailed of a few frames after ~10%, upright.
    Poster(OneShot),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::MediaWorker => worker::run_worker_process(Some(video::process_film)),
        Command::Poster(job) => poster(cli.config.as_deref(), job),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("microcat-video: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn poster(config: Option<&Path>, job: &OneShot) -> anyhow::Result<()> {
    let settings = Settings::load(config, &Overrides::default())?;
    Ok(video::poster_file(&job.input, &job.output, job.size, microcat::app::decode_limits(&settings))?)
}
