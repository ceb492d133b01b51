//! `keju check`: panel checks on a data file before estimating.

use std::path::PathBuf;

use clap::Args;
use keju::check::{check_panel, render_check, CheckFormat, CheckOptions};

/// Arguments of `keju check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Data file (any format keju reads; see the Input flags).
    #[arg(long, short = 'd')]
    pub data: PathBuf,

    #[command(flatten)]
    pub input: super::input::LoadArgs,

    /// Firm (panel unit) column, e.g. Stkcd.
    #[arg(long)]
    pub id: String,

    /// Period column, e.g. year (or a date column; see --year-from).
    #[arg(long)]
    pub time: String,

    /// Examples listed per finding.
    #[arg(long, default_value_t = 10)]
    pub max_listed: usize,

    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,

    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

/// Run `keju check`: print the report; fail (exit 1) when firm-periods are duplicated.
pub fn run(args: &CheckArgs) -> keju::Result<()> {
    let frame = args.input.load(&args.data)?;
    let opts = CheckOptions {
        max_listed: args.max_listed,
        ..CheckOptions::new(&args.id, &args.time)
    };
    let report = check_panel(&frame, &opts)?;
    super::emit(&render_check(&report, args.format), args.output.as_deref())?;
    match report.duplicate_error() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
