//! The `keju` binary: parse arguments, dispatch to a subcommand, map errors to exit codes.
//! Exit codes: 0 ok; 1 input, data or estimation error; 2 usage error.

mod cli;

use clap::Parser;

/// Large buffers (columns of a million rows) are mapped from the OS and returned to it when
/// freed. glibc otherwise raises its mmap threshold after the first large free, so later
/// column-sized allocations come from arenas that are not trimmed, and the peak memory holds
/// the input frame and the demeaned buffers at once.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters; called once, before any other thread
    // exists. A failure (return 0) leaves glibc's defaults, which are merely less frugal.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() {
    tune_allocator();
    let args = cli::Cli::parse();
    let json_errors = args.json_errors();
    if let Err(e) = cli::run(args) {
        if json_errors {
            eprintln!("{}", e.to_json());
        } else {
            eprintln!("error: {e}");
        }
        std::process::exit(match e {
            keju::Error::Usage { .. } => 2,
            _ => 1,
        });
    }
}
