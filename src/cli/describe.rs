//! `keju describe`: summary statistics (and correlations) of variables.

use std::path::PathBuf;

use clap::Args;
use keju::data::Frame;
use keju::report::describe::{describe, describe_grids, DescribeOptions};
use keju::report::table::load_labels;
use keju::report::{render_tables, TableFormat, WriterOptions};

/// Arguments of `keju describe`.
#[derive(Args, Debug)]
pub struct DescribeArgs {
    /// Data file: .csv (UTF-8, BOM allowed), .tsv or .parquet.
    #[arg(long, short = 'd')]
    pub data: PathBuf,

    /// Numeric variables, comma-separated, in output order.
    #[arg(long, value_delimiter = ',', required = true)]
    pub vars: Vec<String>,

    /// Group variable: one block of statistics per level.
    #[arg(long)]
    pub by: Option<String>,

    /// Also print the Pearson correlation matrix (pairwise complete) with stars.
    #[arg(long)]
    pub corr: bool,

    /// Significance levels for *, **, *** on correlations; "none" for no stars.
    #[arg(long, default_value = "0.1,0.05,0.01")]
    pub stars: String,

    /// Decimals shown.
    #[arg(long, default_value_t = 3)]
    pub digits: usize,

    /// Variable labels: a CSV with columns term,label.
    #[arg(long)]
    pub labels: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Markdown)]
    pub format: TableFormat,

    /// Write the output to this file instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,

    /// LaTeX: emit a complete document to compile with xelatex.
    #[arg(long)]
    pub standalone: bool,

    /// LaTeX --standalone: CJK main font for xeCJK.
    #[arg(long, default_value = keju::report::latex::DEFAULT_CJK_FONT)]
    pub cjk_font: String,
}

impl DescribeArgs {
    /// Convert into the library's options.
    pub fn options(&self) -> keju::Result<DescribeOptions> {
        if self.digits > 12 {
            return Err(keju::Error::usage("--digits must be at most 12"));
        }
        Ok(DescribeOptions {
            vars: self.vars.clone(),
            by: self.by.clone(),
            corr: self.corr,
            digits: self.digits,
            stars: super::table::parse_stars(&self.stars)?,
        })
    }
}

/// Run `keju describe`.
pub fn run(args: &DescribeArgs) -> keju::Result<()> {
    let opts = args.options()?;
    let labels = match &args.labels {
        Some(p) => load_labels(p)?,
        None => Default::default(),
    };
    let frame = Frame::load(&args.data)?;
    let d = describe(&frame, &opts)?;
    let grids = describe_grids(&d, &opts, &labels);
    let wopts = WriterOptions {
        standalone: args.standalone,
        cjk_font: args.cjk_font.clone(),
    };
    super::emit(
        &render_tables(&grids, args.format, &wopts),
        args.output.as_deref(),
    )
}
