//! Subcommands, one file each: a clap `Args` struct and a `run`.

pub mod check;
pub mod culture;
pub mod describe;
pub mod fit;
pub mod input;
pub mod plot;
pub mod psm;
pub mod replicate;
pub mod simulate;
pub mod table;
pub mod winsorize;

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
    /// Run a whole replication from a spec file: every table, truth checks, a log.
    Replicate(replicate::ReplicateArgs),
    /// Check a panel before estimating: firms, periods, balance, gaps, duplicate firm-periods,
    /// missing rates, text cells in numeric columns, constant columns.
    Check(check::CheckArgs),
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
    /// Propensity-score matching (logit score, greedy nearest neighbour as MatchIt): ATT,
    /// covariate balance, and the matched sample for later `keju fit --weights _weight`.
    Psm(psm::PsmArgs),
    /// Winsorize variables at the p and 1 − p quantiles (Stata winsor2's rule by default),
    /// pooled or by group.
    Winsorize(winsorize::WinsorizeArgs),
    /// Write the SIMULATED panel (paper's shape, real geography, known true coefficients) and
    /// its truth as JSON.
    Simulate(simulate::SimulateArgs),
}

impl Cli {
    /// Whether errors should be printed as JSON (the subcommand asked for JSON output).
    pub fn json_errors(&self) -> bool {
        match &self.command {
            Command::Fit(a) => a.format == keju::report::FitFormat::Json,
            Command::Check(a) => a.format == keju::check::CheckFormat::Json,
            Command::Culture(_) | Command::Replicate(_) => false,
            Command::Table(a) => a.format == keju::report::TableFormat::Json,
            Command::Describe(a) => a.format == keju::report::TableFormat::Json,
            // Figures have no JSON output; errors are plain text.
            Command::Plot(_) => false,
            Command::Psm(a) => a.format == keju::report::ReportFormat::Json,
            Command::Winsorize(a) => a.format == keju::report::ReportFormat::Json,
            Command::Simulate(_) => false,
        }
    }
}

/// Run the chosen subcommand.
pub fn run(cli: Cli) -> keju::Result<()> {
    match cli.command {
        Command::Fit(args) => fit::run(&args),
        Command::Replicate(args) => replicate::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Culture(args) => culture::run(&args),
        Command::Table(args) => table::run(&args),
        Command::Describe(args) => describe::run(&args),
        Command::Plot(args) => plot::run(&args),
        Command::Psm(args) => psm::run(&args),
        Command::Winsorize(args) => winsorize::run(&args),
        Command::Simulate(args) => simulate::run(&args),
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
