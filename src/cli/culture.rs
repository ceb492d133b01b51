//! `keju culture`: arguments, conversion into [`keju::culture::CultureOptions`], notes to stderr.

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use keju::culture::{self, CultureOptions, Kernel, PointsChoice, Transform};

const AFTER_HELP: &str = "\
Distances: great-circle (haversine) on a sphere of radius 6371.0088 km (the IUGG mean radius).
Data gap: the shipped jinshi counts (CBDB, CC BY-NC-SA 4.0, non-commercial) lack almost all Ming
jinshi from Nan-Zhili (today's Jiangsu, Anhui, Shanghai; about 3,800 persons), so --points jinshi
and jinshi-ming are too low near the lower Yangzi; --points jinshi-qing is complete.
Columns: <prefix>_<radius> for counts (js_200), <prefix>_<idw|exp|gauss>_<radius> for kernel sums
(js_idw_300), dist_<name> in km for --nearest (dist_confucian_centres); a radius of 12.5 is written
12p5. Output: the firm file with these columns appended, rows in input order.
Example (the paper's Js_200): keju culture --firms firms.csv --id code --city city \\
    --transform log1p --out firms_js.csv
See docs/culture.md.";

/// Confucian-culture measures for firm locations: jinshi (or other points) within radii,
/// kernel-weighted sums, and distances to the nearest Confucian or printing centre.
/// (The subcommand's `--help` text; the data gap and distance notes are in `AFTER_HELP`.)
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct CultureArgs {
    /// Firm file, CSV or Parquet (one row per firm or firm-year)
    #[arg(long, value_name = "FILE")]
    pub firms: PathBuf,

    /// Firm id column (must exist; output rows keep the input order)
    #[arg(long, value_name = "COL")]
    pub id: String,

    #[command(flatten)]
    pub location: super::input::LocationArgs,

    /// Points for the radius measures: jinshi (Ming + Qing, the paper's; Ming Nan-Zhili gap),
    /// jinshi-ming (gap), jinshi-qing (complete), counties (county and district points, the
    /// temple proxy), or a CSV/Parquet FILE with columns name, lat, lon [and --weight COL]
    #[arg(long, value_name = "SET|FILE", default_value = "jinshi")]
    pub points: String,

    /// Weight column of a --points FILE (default: each point counts 1)
    #[arg(long, value_name = "COL")]
    pub weight: Option<String>,

    /// Radii in km, comma-separated; one column per radius. A point at distance <= radius counts
    #[arg(
        long = "radius",
        value_name = "KM[,KM...]",
        value_delimiter = ',',
        default_value = "200"
    )]
    pub radius_km: Vec<f64>,

    /// Weight of a point within the radius by its distance d: count (1), inverse (1/(1+d/h)),
    /// exponential (exp(-d/h)), gaussian (exp(-(d/h)^2/2)); h = --bandwidth
    #[arg(long, value_name = "KERNEL", default_value = "count", value_parser = PossibleValuesParser::new(Kernel::NAMES))]
    pub kernel: String,

    /// Kernel bandwidth h in km (required for inverse, exponential, gaussian; no default)
    #[arg(long = "bandwidth", value_name = "KM")]
    pub bandwidth_km: Option<f64>,

    /// Add dist_<name>: distance in km to the nearest point of confucian-centres (Qufu,
    /// 35.60 N 116.99 E), printing-centres (seven illustrative Ming-Qing printing centres, not
    /// the paper's list) or a FILE with name, lat, lon. Repeatable
    #[arg(long, value_name = "SET|FILE")]
    pub nearest: Vec<String>,

    /// Transform of the radius measures: none or log1p (ln(1 + x), the paper's Js_200);
    /// distances are never transformed
    #[arg(long, value_name = "T", default_value = "none", value_parser = PossibleValuesParser::new(Transform::NAMES))]
    pub transform: String,

    /// Prefix of the radius-measure columns (default: js, js_ming, js_qing, counties, or the
    /// point file's name)
    #[arg(long, value_name = "NAME")]
    pub prefix: Option<String>,

    /// Output file: .csv or .parquet
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

impl CultureArgs {
    /// The library options for these arguments (no computation, no I/O).
    pub fn to_options(&self) -> keju::Result<CultureOptions> {
        let location = self.location.location()?;
        let mut opts = CultureOptions::new(&self.firms, &self.id, location, &self.out);
        opts.points = PointsChoice::parse(&self.points);
        opts.weight = self.weight.clone();
        opts.radii_km = self.radius_km.clone();
        opts.kernel = Kernel::from_name(&self.kernel)?;
        opts.bandwidth_km = self.bandwidth_km;
        opts.nearest = self
            .nearest
            .iter()
            .map(|s| PointsChoice::parse(s))
            .collect();
        opts.transform = Transform::from_name(&self.transform)?;
        opts.prefix = self.prefix.clone();
        Ok(opts)
    }
}

/// Run `keju culture`: measures to the output file, notes to stderr.
pub fn run(args: &CultureArgs) -> keju::Result<()> {
    let opts = args.to_options()?;
    let s = culture::run(&opts)?;
    eprintln!(
        "note: {} rows, {} distinct locations, {} points; wrote {} ({})",
        s.n_rows,
        s.n_locations,
        s.n_points,
        opts.out.display(),
        s.columns.join(", ")
    );
    if s.n_missing_location > 0 {
        let lines: Vec<String> = s.missing_lines.iter().map(|l| l.to_string()).collect();
        eprintln!(
            "note: {} row{} without a location (missing city or lat/lon): measures missing; line {}{}",
            s.n_missing_location,
            if s.n_missing_location == 1 { "" } else { "s" },
            lines.join(", "),
            if s.n_missing_location > lines.len() { ", ..." } else { "" }
        );
    }
    for n in &s.notes {
        eprintln!("note: {n}");
    }
    Ok(())
}
