//! `keju winsorize`: clip variables at percentiles, pooled or by group.

use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;
use keju::data::Frame;
use keju::report::{to_json, ReportFormat};
use keju::transform::winsorize::{
    winsorize_frame, QuantileRule, WinsorizeOptions, WinsorizeReport,
};

/// Arguments of `keju winsorize`.
#[derive(Args, Debug)]
pub struct WinsorizeArgs {
    /// Data file: .csv (UTF-8, BOM allowed), .tsv or .parquet.
    #[arg(long, short = 'd')]
    pub data: PathBuf,

    /// Numeric variables to winsorize, comma-separated (replaced in the output).
    #[arg(long, value_delimiter = ',', required = true)]
    pub vars: Vec<String>,

    /// Winsorize within each level of this variable (e.g. year). Default: pooled.
    #[arg(long)]
    pub by: Option<String>,

    /// Tail probability: clip below the p-quantile and above the (1 − p)-quantile.
    #[arg(long, default_value_t = 0.01)]
    pub p: f64,

    /// Quantile definition: stata (default; _pctile as used by winsor2) or r7 (R's
    /// quantile type 7).
    #[arg(long, value_enum, default_value_t = QuantileRule::Stata)]
    pub quantile_rule: QuantileRule,

    /// Write the winsorized data here (.csv or .parquet).
    #[arg(long)]
    pub out: PathBuf,

    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

fn summary(r: &WinsorizeReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "winsorized at {} / {} quantiles ({} rule){}",
        r.p,
        1.0 - r.p,
        match r.quantile_rule {
            QuantileRule::Stata => "Stata _pctile",
            QuantileRule::R7 => "R type 7",
        },
        r.by.as_ref()
            .map_or(String::new(), |b| format!(", within {b}"))
    );
    if r.n_missing_group > 0 {
        let _ = writeln!(
            s,
            "{} rows with a missing group left unchanged",
            r.n_missing_group
        );
    }
    let _ = writeln!(
        s,
        "{:<20} {:>8} {:>8} {:>10} {:>10} {:>14} {:>14}",
        "variable", "n", "missing", "clip low", "clip high", "lower", "upper"
    );
    for v in &r.variables {
        let (lo, hi) = match v.groups.as_slice() {
            [g] if r.by.is_none() => (
                g.lower.map_or(String::new(), |x| format!("{x}")),
                g.upper.map_or(String::new(), |x| format!("{x}")),
            ),
            _ => ("(by group)".into(), "(by group)".into()),
        };
        let _ = writeln!(
            s,
            "{:<20} {:>8} {:>8} {:>10} {:>10} {:>14} {:>14}",
            v.variable, v.n, v.n_missing, v.n_clipped_low, v.n_clipped_high, lo, hi
        );
    }
    s
}

/// Run `keju winsorize`.
pub fn run(args: &WinsorizeArgs) -> keju::Result<()> {
    let opts = WinsorizeOptions {
        vars: args.vars.clone(),
        by: args.by.clone(),
        p: args.p,
        rule: args.quantile_rule,
    };
    opts.validate()?;
    let mut frame = Frame::load(&args.data)?;
    let report = winsorize_frame(&mut frame, &opts)?;
    frame.write(&args.out)?;
    let text = match args.format {
        ReportFormat::Text => summary(&report),
        ReportFormat::Json => to_json(&report),
    };
    super::emit(&text, args.output.as_deref())
}
