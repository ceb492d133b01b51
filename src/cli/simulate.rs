//! `keju simulate`: arguments, the panel to CSV/Parquet, the truth to JSON, a summary to stderr.

use std::path::PathBuf;

use keju::simulate::{simulate, SimulateOptions, DEFAULT_SEED};

const AFTER_HELP: &str = "\
The panel is SIMULATED: real geography (jinshi within radii of a real prefecture-level city) and
real yearly listing counts (Tushare A-share list), synthetic firms, controls and outcomes. The
true Js_200 coefficients (overall, by split group, for every mechanism) are written with --truth.
The shipped data/simulated/hu2025_panel.csv is `keju simulate --out FILE` with the default seed.
See docs/simulation.md.";

/// Write the simulated panel with the shape of Hu, Lin & Xiang (2025) and its known truth.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct SimulateArgs {
    /// Random seed; the same seed gives the same panel
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Multiply the number of firms (0.25 for a quick panel, 2 for a doubled one); in (0, 20]
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub firms_scale: f64,

    /// Output panel, CSV or Parquet by extension
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Write the true coefficients as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
}

pub fn run(args: &SimulateArgs) -> keju::Result<()> {
    let opts = SimulateOptions {
        seed: args.seed,
        firms_scale: args.firms_scale,
    };
    let (frame, truth) = simulate(&opts)?;
    frame.write(&args.out)?;
    if let Some(p) = &args.truth {
        let text = serde_json::to_string_pretty(&truth).expect("truth serializes") + "\n";
        super::emit(&text, Some(p))?;
    }
    eprintln!(
        "keju simulate: SIMULATED panel, seed {}: {} firm-years ({} baseline: st == 0, esg present), {} firms -> {}; true Js_200 coefficient on esg_score {:.4}",
        truth.seed,
        truth.counts["panel"],
        truth.counts["baseline"],
        truth.counts["firms"],
        args.out.display(),
        truth.beta_js_200["esg_score"],
    );
    Ok(())
}
