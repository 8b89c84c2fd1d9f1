//! The `microcat` binary: parse the command line, start logging, load settings, dispatch.

use clap::Parser;

fn main() -> std::process::ExitCode {
    cap_malloc_arenas();
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

/// glibc gives each thread that allocates under contention an arena of its own, and freed
/// memory stays in it: under 100 concurrent clients that held ~300 MiB. One arena per core
/// keeps allocation parallel without that. A fixed mmap threshold keeps large short-lived
/// buffers (argon2's 19 MiB, decode and upload buffers) out of the arenas, so freeing them
/// returns the memory; glibc would otherwise raise the threshold after the first such free.
fn cap_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        // SAFETY: mallopt only changes allocator tuning; called before any thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, cores.clamp(1, 64) as libc::c_int);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
            // Fixing the mmap threshold also pins the trim threshold at 128 KiB, which makes
            // every burst of frees shrink and regrow the heap; keep up to 8 MiB instead.
            libc::mallopt(libc::M_TRIM_THRESHOLD, 8 * 1024 * 1024);
        }
    }
}
