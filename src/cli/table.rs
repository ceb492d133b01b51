//! `keju table`: combine saved fit results into one publication table.

use std::path::PathBuf;

use clap::Args;
use keju::report::table::{load_labels, FitRecord, RegressionTable, Stat, TableOptions};
use keju::report::{render_tables, TableFormat, WriterOptions};

/// Arguments of `keju table`.
#[derive(Args, Debug)]
pub struct TableArgs {
    /// Fit results saved by `keju fit --format json`, one column each, in order.
    #[arg(required = true)]
    pub results: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Markdown)]
    pub format: TableFormat,

    /// Write the output to this file instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,

    /// LaTeX: emit a complete document to compile with xelatex (xeCJK for Chinese labels).
    #[arg(long)]
    pub standalone: bool,

    /// LaTeX --standalone: CJK main font for xeCJK.
    #[arg(long, default_value = keju::report::latex::DEFAULT_CJK_FONT)]
    pub cjk_font: String,

    /// Statistic beneath each coefficient: t (default), se, p or ci (95% interval).
    #[arg(long, value_enum, default_value_t = Stat::T)]
    pub stat: Stat,

    /// Significance levels for *, **, ***, strictly decreasing; "none" for no stars.
    #[arg(long, default_value = "0.1,0.05,0.01")]
    pub stars: String,

    /// Decimals for coefficients, statistics and R².
    #[arg(long, default_value_t = 3)]
    pub digits: usize,

    /// Control terms, comma-separated: hidden from the coefficient rows and summarized by a
    /// "Controls Yes/No" row.
    #[arg(long, value_delimiter = ',')]
    pub controls: Vec<String>,

    /// Show only these terms, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub keep: Vec<String>,

    /// Hide these terms, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub drop: Vec<String>,

    /// Put these terms first, in this order, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub order: Vec<String>,

    /// Column titles, comma-separated, one per result (default: outcome names).
    #[arg(long, value_delimiter = ',')]
    pub titles: Option<Vec<String>>,

    /// Variable labels: a CSV with columns term,label (also used for outcomes and fixed
    /// effects).
    #[arg(long)]
    pub labels: Option<PathBuf>,

    /// Add a within-R² row (fixed-effects models).
    #[arg(long)]
    pub within_r2: bool,

    /// Table caption.
    #[arg(long)]
    pub title: Option<String>,
}

/// Parse a `--stars` list: "0.1,0.05,0.01" or "none".
pub fn parse_stars(s: &str) -> keju::Result<Vec<f64>> {
    if s.trim().eq_ignore_ascii_case("none") || s.trim().is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|x| {
            x.trim().parse::<f64>().map_err(|_| {
                keju::Error::usage(format!("--stars: \"{}\" is not a number", x.trim()))
            })
        })
        .collect()
}

impl TableArgs {
    /// Convert into the library's options (reads the labels file).
    pub fn options(&self) -> keju::Result<TableOptions> {
        Ok(TableOptions {
            stat: self.stat,
            stars: parse_stars(&self.stars)?,
            digits: self.digits,
            controls: self.controls.clone(),
            keep: self.keep.clone(),
            drop: self.drop.clone(),
            order: self.order.clone(),
            titles: self.titles.clone(),
            labels: match &self.labels {
                Some(p) => load_labels(p)?,
                None => Default::default(),
            },
            within_r2: self.within_r2,
            title: self.title.clone(),
        })
    }
}

/// Run `keju table`.
pub fn run(args: &TableArgs) -> keju::Result<()> {
    let opts = args.options()?;
    let results = args
        .results
        .iter()
        .map(|p| FitRecord::load(p))
        .collect::<keju::Result<Vec<_>>>()?;
    let grid = RegressionTable::build(results, opts)?;
    let wopts = WriterOptions {
        standalone: args.standalone,
        cjk_font: args.cjk_font.clone(),
    };
    super::emit(
        &render_tables(&[grid], args.format, &wopts),
        args.output.as_deref(),
    )
}
