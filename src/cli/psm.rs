//! `keju psm`: propensity-score matching, ATT, balance, and the matched sample.

use std::path::PathBuf;

use clap::Args;
use keju::data::Frame;
use keju::estimate::psm::{run_psm, MatchRule, PsmOptions};
use keju::report::psm::psm_summary;
use keju::report::{to_json, ReportFormat};

/// Arguments of `keju psm`.
#[derive(Args, Debug)]
pub struct PsmArgs {
    /// Treatment column, 0/1.
    #[arg(long)]
    pub treat: String,

    /// Covariates of the logit propensity-score model in formula syntax, e.g.
    /// "age + educ + i(race) + I(age^2)".
    #[arg(long)]
    pub covariates: String,

    /// Outcome column; the ATT is its weighted mean difference in the matched sample.
    #[arg(long)]
    pub outcome: String,

    /// Caliper in standard deviations of the propensity score (SD over all units in the
    /// matching sample, n − 1 denominator). Default: no caliper.
    #[arg(long)]
    pub caliper: Option<f64>,

    /// Controls matched to each treated unit (1:K). Default 1.
    #[arg(long, default_value_t = 1)]
    pub ratio: usize,

    /// Match with replacement (a control can serve several treated units). Default: without.
    #[arg(long)]
    pub replace: bool,

    /// Control search: nearest (default; smallest |score difference|, ties to the lowest row)
    /// or matchit-4.5.1 (MatchIt 4.5.1's matcher, which truncates score differences to
    /// integers: nearest control below the score first; reproduces its published numbers).
    #[arg(long, value_enum, default_value_t = MatchRule::Nearest)]
    pub match_rule: MatchRule,

    /// Data file: .csv (UTF-8, BOM allowed), .tsv or .parquet.
    #[arg(long, short = 'd')]
    pub data: PathBuf,

    /// Write the matched rows (input columns plus _weight, _subclass, _pscore) here: .csv or
    /// .parquet.
    #[arg(long)]
    pub out: PathBuf,

    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

impl PsmArgs {
    /// Convert into the library's options.
    pub fn options(&self) -> PsmOptions {
        PsmOptions {
            treat: self.treat.clone(),
            covariates: self.covariates.clone(),
            outcome: self.outcome.clone(),
            caliper: self.caliper,
            ratio: self.ratio,
            replace: self.replace,
            rule: self.match_rule,
        }
    }
}

/// Run `keju psm`.
pub fn run(args: &PsmArgs) -> keju::Result<()> {
    let opts = args.options();
    opts.validate()?;
    let frame = Frame::load(&args.data)?;
    let out = run_psm(&frame, &opts)?;
    out.matched.write(&args.out)?;
    for w in &out.result.warnings {
        eprintln!("warning: {w}");
    }
    let text = match args.format {
        ReportFormat::Text => psm_summary(&out.result),
        ReportFormat::Json => to_json(&out.result),
    };
    super::emit(&text, args.output.as_deref())
}
