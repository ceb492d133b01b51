//! `keju replicate`: every table of a paper from one spec file.

use std::path::PathBuf;

use clap::Args;
use keju::spec::run::{replicate, summary, ReplicateOptions};
use keju::spec::LoadedSpec;

/// Arguments of `keju replicate`.
#[derive(Args, Debug)]
pub struct ReplicateArgs {
    /// The spec file (TOML), e.g. specs/hu2025.toml; see specs/README.md.
    pub spec: PathBuf,

    /// Output folder for the tables (LaTeX, Markdown, CSV, JSON), index.json and log.txt.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,

    /// No progress (stderr) and no summary (stdout).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Run `keju replicate`.
pub fn run(args: &ReplicateArgs) -> keju::Result<()> {
    let loaded = LoadedSpec::load(&args.spec)?;
    let t0 = std::time::Instant::now();
    let index = replicate(
        &loaded,
        &ReplicateOptions {
            out_dir: args.out.clone(),
            quiet: args.quiet,
        },
    )?;
    if !args.quiet {
        // The summary is the run's result: stdout (progress went to stderr).
        super::emit(&summary(&index), None)?;
        eprintln!(
            "\nwrote {} tables to {} in {:.2} s (index.json, log.txt)",
            index.tables.len(),
            args.out.display(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
