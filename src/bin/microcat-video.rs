//! `microcat-video`: the one executable that links FFmpeg. The server runs it as the media
//! worker for films and audio, and `microcat poster` hands over to it. FFmpeg's ~130 shared
//! libraries take ~60 ms to load; kept out of `microcat`, every other process (the server,
//! photo jobs, `microcat thumbnail`) starts without them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use microcat::cli::{OneShot, PreviewJob};
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
    /// Write a film's playable MP4 preview, as the server makes it.
    Preview(PreviewJob),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::MediaWorker => worker::run_worker_process(Some(video::process_film)),
        Command::Poster(job) => poster(cli.config.as_deref(), job),
        Command::Preview(job) => preview(cli.config.as_deref(), job),
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

/// The server's transcode, with a progress bar on a terminal and a line per 10% otherwise.
fn preview(config: Option<&Path>, job: &PreviewJob) -> anyhow::Result<()> {
    let mut settings = Settings::load(config, &Overrides::default())?;
    if let Some(size) = job.size {
        settings.preview_size = size;
    }
    if let Some(crf) = job.crf {
        settings.preview_crf = crf;
    }
    if let Some(preset) = &job.preset {
        settings.preview_preset.clone_from(preset);
    }
    let settings = settings.validate()?;
    let (_, encoding) = settings.preview()?;
    let limits = microcat::app::decode_limits(&settings);
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar = indicatif::ProgressBar::new(100);
    if terminal {
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos:>3}%  {elapsed_precise} (ETA {eta})")
                .expect("a valid template"),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut last_line = None;
    let mut report = |percent: u8| {
        bar.set_position(u64::from(percent));
        if !terminal && last_line.is_none_or(|last: u8| percent >= last + 10 || percent == 100) {
            eprintln!("preview: {percent}%");
            last_line = Some(percent);
        }
    };
    let started = std::time::Instant::now();
    video::preview_file(&job.input, &job.output, &encoding, limits, &mut report)?;
    bar.finish_and_clear();
    eprintln!("preview: {} written in {:.1} s", job.output.display(), started.elapsed().as_secs_f64());
    Ok(())
}
