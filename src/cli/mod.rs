//! Subcommands, one file each: a clap `Args` struct and a `run`.

pub mod culture;
pub mod describe;
pub mod fit;
pub mod plot;
pub mod table;

use std::io::Write;
use std::path::Path;

use clap::{Parser, Subcommand};

/// keju (科舉): panel-data econometrics for Chinese listed firms.
///
/// Fixed-effects OLS with cluster-robust inference matching reghdfe and fixest.
#[derive(Parser, Debug)]
#[command(name = "keju", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Fit a regression: fixed-effects OLS with iid, HC1 or clustered standard errors.
    Fit(fit::FitArgs),
    /// Confucian-culture measures: jinshi within radii, kernel-weighted sums, distances to
    /// centres, from real historical geography.
    Culture(culture::CultureArgs),
    /// Combine saved fit results (keju fit --format json) into a publication table: LaTeX,
    /// Markdown, CSV or JSON.
    Table(table::TableArgs),
    /// Summary statistics (N, mean, SD, min, quartiles, max) and correlations of variables.
    Describe(describe::DescribeArgs),
    /// Figures: coefficient plots of saved fit results, maps of firms coloured by a culture
    /// measure (SVG or PNG).
    Plot(plot::PlotArgs),
}

impl Cli {
    /// Whether errors should be printed as JSON (the subcommand asked for JSON output).
    pub fn json_errors(&self) -> bool {
        match &self.command {
            Command::Fit(a) => a.format == keju::report::FitFormat::Json,
            Command::Culture(_) => false,
            Command::Table(a) => a.format == keju::report::TableFormat::Json,
            Command::Describe(a) => a.format == keju::report::TableFormat::Json,
            // Figures have no JSON output; errors are plain text.
            Command::Plot(_) => false,
        }
    }
}

/// Run the chosen subcommand.
pub fn run(cli: Cli) -> keju::Result<()> {
    match cli.command {
        Command::Fit(args) => fit::run(&args),
        Command::Culture(args) => culture::run(&args),
        Command::Table(args) => table::run(&args),
        Command::Describe(args) => describe::run(&args),
        Command::Plot(args) => plot::run(&args),
    }
}

/// Write `text` to `output` (a file) or to stdout. A closed pipe is not an error.
pub fn emit(text: &str, output: Option<&Path>) -> keju::Result<()> {
    match output {
        Some(p) => std::fs::write(p, text).map_err(|e| keju::Error::Io {
            path: p.display().to_string(),
            message: e.to_string(),
        }),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
                Err(e) => Err(keju::Error::Io {
                    path: "<stdout>".into(),
                    message: e.to_string(),
                }),
                Ok(()) => Ok(()),
            }
        }
    }
}
