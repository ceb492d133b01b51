//! `keju plot`: figures. `coef` (coefficient plot of saved fit results) and `map` (firms
//! coloured by a culture measure); arguments convert into [`keju::report::plot`] options.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use keju::data::Frame;
use keju::report::plot::coef::{CoefOptions, CoefPlot};
use keju::report::plot::map::{FirmMap, MapOptions};
use keju::report::plot::save;
use keju::report::table::{load_labels, FitRecord};

/// Arguments of `keju plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    #[command(subcommand)]
    pub figure: PlotCommand,
}

#[derive(Subcommand, Debug)]
pub enum PlotCommand {
    /// Coefficient plot: each term's estimate per saved fit result with 90% and 95% confidence
    /// intervals (thick and thin whiskers), one series per model, a zero line.
    Coef(CoefArgs),
    /// Firms on a longitude/latitude plane coloured by a culture measure, optionally over the
    /// historical jinshi prefectures.
    Map(MapArgs),
}

const COEF_AFTER_HELP: &str = "\
Intervals: estimate ± q·se with q from Student's t with the result's vcov.df_t degrees of freedom
(the standard normal when df_t is 0, as for probit/logit); the 95% interval equals keju fit's.
Text uses the bundled WenQuanYi Micro Hei font, so Chinese labels render in PNG and SVG.
Example (Js_200 across split samples):
  keju plot coef soe.json non_soe.json --terms js_200 --titles SOE,Non-SOE --out js200.png
See docs/plots.md.";

/// Arguments of `keju plot coef`.
#[derive(Args, Debug)]
#[command(after_help = COEF_AFTER_HELP)]
pub struct CoefArgs {
    /// Fit results saved by `keju fit --format json`, one series each, in order
    #[arg(required = true, value_name = "RESULT.json")]
    pub results: Vec<PathBuf>,

    /// Output image: .svg or .png (by extension)
    #[arg(long, short = 'o', visible_alias = "output", value_name = "FILE")]
    pub out: PathBuf,

    /// Terms to plot, comma-separated, in order (default: every term except the intercept)
    #[arg(long, value_delimiter = ',')]
    pub terms: Vec<String>,

    /// Variable labels: a CSV with columns term,label (as for keju table), for terms and
    /// outcomes
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,

    /// Series names, comma-separated, one per result (default: "(i) outcome")
    #[arg(long, value_delimiter = ',')]
    pub titles: Option<Vec<String>>,

    /// Confidence levels in percent, comma-separated (narrowest drawn thickest)
    #[arg(long, value_delimiter = ',', default_value = "90,95")]
    pub level: Vec<f64>,

    /// Figure caption (default: none)
    #[arg(long)]
    pub title: Option<String>,

    /// Width in pixels
    #[arg(long, default_value_t = 900)]
    pub width: u32,

    /// Height in pixels
    #[arg(long, default_value_t = 600)]
    pub height: u32,
}

const MAP_AFTER_HELP: &str = "\
Projection: equirectangular (longitude and latitude as plane coordinates), longitude 73-135°E,
latitude 18-54°N; firms outside, or without a location or a value, are left out and counted on
stderr. Colours: viridis from the lowest to the highest plotted value, with a colour bar.
--prefectures: the Ming + Qing jinshi prefectures shipped with keju culture (CBDB, CC BY-NC-SA
4.0), hollow circles with area proportional to the count.
Example: keju plot map --firms firms_js.csv --city city --measure js_200 --prefectures --out map.png
See docs/plots.md.";

/// Arguments of `keju plot map`.
#[derive(Args, Debug)]
#[command(after_help = MAP_AFTER_HELP)]
pub struct MapArgs {
    /// Firm file, CSV or Parquet (e.g. the output of keju culture)
    #[arg(long, value_name = "FILE")]
    pub firms: PathBuf,

    /// Numeric column that colours the firms (e.g. js_200)
    #[arg(long, value_name = "COL")]
    pub measure: String,

    #[command(flatten)]
    pub location: super::input::LocationArgs,

    /// Overlay the historical (Ming + Qing) jinshi prefectures, sized by count
    #[arg(long)]
    pub prefectures: bool,

    /// Output image: .svg or .png (by extension)
    #[arg(long, short = 'o', visible_alias = "output", value_name = "FILE")]
    pub out: PathBuf,

    /// Variable labels: a CSV with columns term,label; the measure's label titles the colour
    /// bar
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,

    /// Figure caption (default: none)
    #[arg(long)]
    pub title: Option<String>,

    /// Width in pixels
    #[arg(long, default_value_t = 1100)]
    pub width: u32,

    /// Height in pixels
    #[arg(long, default_value_t = 680)]
    pub height: u32,

    /// Do not print the summary note on stderr
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn check_size(width: u32, height: u32) -> keju::Result<(u32, u32)> {
    if !(200..=10_000).contains(&width) || !(150..=10_000).contains(&height) {
        return Err(keju::Error::usage(format!(
            "--width {width} --height {height}: the size must be 200-10000 × 150-10000 pixels"
        )));
    }
    Ok((width, height))
}

impl CoefArgs {
    /// Convert into the library's options (reads the labels file).
    pub fn options(&self) -> keju::Result<CoefOptions> {
        Ok(CoefOptions {
            terms: self.terms.clone(),
            titles: self.titles.clone(),
            labels: match &self.labels {
                Some(p) => load_labels(p)?,
                None => Default::default(),
            },
            levels_pct: self.level.clone(),
            title: self.title.clone(),
            size: check_size(self.width, self.height)?,
        })
    }
}

impl MapArgs {
    /// Convert into the library's options (reads the labels file).
    pub fn options(&self) -> keju::Result<MapOptions> {
        let location = self.location.location()?;
        let mut opts = MapOptions::new(&self.measure, location);
        opts.prefectures = self.prefectures;
        opts.title = self.title.clone();
        opts.size = check_size(self.width, self.height)?;
        if let Some(p) = &self.labels {
            opts.measure_label = load_labels(p)?.remove(&self.measure);
        }
        Ok(opts)
    }
}

/// Run `keju plot`.
pub fn run(args: &PlotArgs) -> keju::Result<()> {
    match &args.figure {
        PlotCommand::Coef(a) => {
            keju::report::plot::PlotFormat::from_path(&a.out)?;
            let opts = a.options()?;
            let results = a
                .results
                .iter()
                .map(|p| FitRecord::load(p))
                .collect::<keju::Result<Vec<_>>>()?;
            save(&CoefPlot::build(&results, &opts)?, &a.out)
        }
        PlotCommand::Map(a) => {
            keju::report::plot::PlotFormat::from_path(&a.out)?;
            let opts = a.options()?;
            let frame = Frame::load(&a.firms)?;
            let map = FirmMap::build(&frame, &opts)?;
            save(&map, &a.out)?;
            if !a.quiet {
                eprintln!(
                    "note: {} of {} firm rows plotted ({} without a location or a value of \"{}\", {} outside the map){}",
                    map.value.len(),
                    map.n_rows,
                    map.n_missing,
                    a.measure,
                    map.n_outside,
                    if a.prefectures {
                        "; prefectures: CBDB Ming + Qing jinshi (CC BY-NC-SA 4.0), Ming Nan-Zhili counts missing"
                    } else {
                        ""
                    }
                );
            }
            Ok(())
        }
    }
}
