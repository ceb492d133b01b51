//! `keju culture`: Confucian-culture measures for firm locations.
//!
//! Data flow: [`CultureOptions`] → load the firm file ([`crate::data::Frame`]) → locations from
//! a city-name column ([`geocode::Gazetteer`]) or lat/lon columns → unique locations → radius
//! measures against a point set ([`points::PointSet`], [`index::PointIndex`],
//! [`measure::radius_measures`]) and nearest distances ([`measure::nearest_km`]) → columns
//! appended to the firm file, row order kept → written as CSV or Parquet.
//!
//! Modules: [`geo`] (haversine, sphere radius), [`index`] (k-d tree), [`measure`] (kernels,
//! transform, naming), [`points`] (shipped and user point sets), [`geocode`] (city names).

pub mod geo;
pub mod geocode;
pub mod index;
mod kernel_eval;
pub mod measure;
pub mod points;

use std::collections::HashMap;
use std::path::PathBuf;

use crate::data::{Column, Frame};
use crate::error::{Error, Result};

pub use geo::{haversine_km, EARTH_RADIUS_KM};
pub use geocode::{Gazetteer, Match, Place, PlaceLevel};
pub use index::PointIndex;
pub use measure::{measure_column, Kernel, Transform};
pub use points::{Builtin, PointSet};

/// Where firm locations come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    /// A column of registered-city names, geocoded with the shipped gazetteer.
    City(String),
    /// Latitude and longitude columns in decimal degrees (no geocoding).
    LatLon { lat: String, lon: String },
}

/// A point set named on the command line: a shipped set or a user file.
#[derive(Debug, Clone, PartialEq)]
pub enum PointsChoice {
    Builtin(Builtin),
    File(PathBuf),
}

impl PointsChoice {
    /// A shipped set's name (`jinshi`, `counties`, ...) or else a file path.
    pub fn parse(value: &str) -> PointsChoice {
        match Builtin::from_name(value) {
            Some(b) => PointsChoice::Builtin(b),
            None => PointsChoice::File(PathBuf::from(value)),
        }
    }

    /// The default column prefix / name stem: the set's prefix, or the file stem with every
    /// character other than letters, digits and `_` replaced by `_`.
    pub fn stem(&self) -> String {
        match self {
            PointsChoice::Builtin(b) => b.prefix().to_string(),
            PointsChoice::File(p) => p
                .file_stem()
                .map(|s| s.to_string_lossy())
                .unwrap_or_default()
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect(),
        }
    }

    /// Load the points; `weight` is the weight column of a user file.
    ///
    /// **Errors**: as [`PointSet::load`].
    pub fn load(&self, weight: Option<&str>) -> Result<PointSet> {
        match self {
            PointsChoice::Builtin(b) => Ok(PointSet::builtin(*b)),
            PointsChoice::File(p) => PointSet::load(p, weight),
        }
    }
}

/// Everything `keju culture` needs, validated by [`CultureOptions::validate`].
///
/// **Units**: `radii_km`, `bandwidth_km` in km.
#[derive(Debug, Clone)]
pub struct CultureOptions {
    /// Firm file (CSV or Parquet).
    pub firms: PathBuf,
    /// Firm id column; must exist (it keys the output rows, which keep the input order).
    pub id: String,
    pub location: Location,
    /// Point set for the radius measures (default: Ming + Qing jinshi).
    pub points: PointsChoice,
    /// Weight column of a user point file (default: every point weighs 1).
    pub weight: Option<String>,
    /// Radii in km (default: 200).
    pub radii_km: Vec<f64>,
    pub kernel: Kernel,
    /// Kernel bandwidth in km; required for every kernel but count.
    pub bandwidth_km: Option<f64>,
    /// Point sets for nearest distances, one `dist_<stem>` column each.
    pub nearest: Vec<PointsChoice>,
    pub transform: Transform,
    /// Column prefix for radius measures (default: [`PointsChoice::stem`]).
    pub prefix: Option<String>,
    /// Output file (CSV or Parquet by extension).
    pub out: PathBuf,
}

impl CultureOptions {
    /// Options with the documented defaults: jinshi, 200 km, count, no transform, no nearest.
    pub fn new(
        firms: impl Into<PathBuf>,
        id: &str,
        location: Location,
        out: impl Into<PathBuf>,
    ) -> Self {
        CultureOptions {
            firms: firms.into(),
            id: id.to_string(),
            location,
            points: PointsChoice::Builtin(Builtin::Jinshi),
            weight: None,
            radii_km: vec![200.0],
            kernel: Kernel::Count,
            bandwidth_km: None,
            nearest: Vec::new(),
            transform: Transform::None,
            prefix: None,
            out: out.into(),
        }
    }

    /// Check the option values that the argument parser cannot.
    ///
    /// **Errors**: [`Error::Usage`] for no radius, a radius or bandwidth that is not a positive
    /// finite number, a repeated radius, a kernel without `--bandwidth` (or a bandwidth with
    /// count), `--weight` with a shipped set, or an empty prefix.
    pub fn validate(&self) -> Result<()> {
        if self.radii_km.is_empty() {
            return Err(Error::usage("--radius needs at least one radius in km"));
        }
        for (i, r) in self.radii_km.iter().enumerate() {
            if !(r.is_finite() && *r > 0.0) {
                return Err(Error::usage(format!(
                    "--radius {r}: a radius is a positive number of km"
                )));
            }
            if self.radii_km[..i].contains(r) {
                return Err(Error::usage(format!("--radius {r} is given twice")));
            }
        }
        match (self.kernel, self.bandwidth_km) {
            (Kernel::Count, Some(_)) => {
                return Err(Error::usage(
                    "--bandwidth is only used with --kernel inverse, exponential or gaussian",
                ))
            }
            (Kernel::Count, None) => {}
            (k, None) => {
                return Err(Error::usage(format!(
                    "--kernel {} needs --bandwidth KM",
                    k.name()
                )))
            }
            (_, Some(h)) if !(h.is_finite() && h > 0.0) => {
                return Err(Error::usage(format!(
                    "--bandwidth {h}: a bandwidth is a positive number of km"
                )))
            }
            _ => {}
        }
        if let (Some(w), PointsChoice::Builtin(b)) = (&self.weight, &self.points) {
            return Err(Error::usage(format!(
                "--weight {w} applies to a point file; the shipped set \"{}\" has its own weights",
                b.name()
            )));
        }
        if self.prefix.as_deref() == Some("") {
            return Err(Error::usage("--prefix must not be empty"));
        }
        Ok(())
    }

    /// The prefix of the radius-measure columns.
    pub fn column_prefix(&self) -> String {
        self.prefix.clone().unwrap_or_else(|| self.points.stem())
    }
}

/// What [`add_measures`] did, for the notes printed to stderr.
#[derive(Debug, Clone, Default)]
pub struct CultureSummary {
    pub n_rows: usize,
    pub n_locations: usize,
    /// Rows without a location (missing city or lat/lon): their measures are missing.
    pub n_missing_location: usize,
    /// 1-based lines (header = 1) of the first few such rows.
    pub missing_lines: Vec<usize>,
    pub n_points: usize,
    pub columns: Vec<String>,
    /// Caveats to show the user (the Nan-Zhili gap, proxies).
    pub notes: Vec<String>,
}

/// Load the firm file, add the measures, write the output.
///
/// **Errors**: everything from [`CultureOptions::validate`], [`Frame::load`], [`add_measures`]
/// and [`Frame::write`].
pub fn run(opts: &CultureOptions) -> Result<CultureSummary> {
    opts.validate()?;
    let mut frame = Frame::load(&opts.firms)?;
    let summary = add_measures(&mut frame, opts)?;
    frame.write(&opts.out)?;
    Ok(summary)
}

/// Append the measure columns to `frame` (rows keep their order).
///
/// Columns: one per radius, named by [`measure_column`] with [`CultureOptions::column_prefix`];
/// then `dist_<stem>` (km) per nearest set. Rows without a location get NaN (missing) and are
/// counted in the summary; a location with no point within a radius gets 0.
///
/// **Errors**: [`Error::ColumnNotFound`] for the id or location columns; [`Error::Schema`]
/// listing every city name that cannot be geocoded, or when an output column already exists;
/// [`Error::Parse`] for an out-of-range latitude or longitude (naming the line); point-file
/// errors from [`PointSet::load`].
pub fn add_measures(frame: &mut Frame, opts: &CultureOptions) -> Result<CultureSummary> {
    opts.validate()?;
    frame.index_of(&opts.id)?;
    let n = frame.n_rows();
    // Locations: a code per row into unique (lat, lon).
    let mut uniq_lat = Vec::new();
    let mut uniq_lon = Vec::new();
    let mut code: Vec<Option<u32>> = Vec::with_capacity(n);
    match &opts.location {
        Location::City(col) => {
            let gaz = Gazetteer::builtin();
            let place = gaz.geocode_column(frame.column(col)?, &frame.source, col)?;
            let mut seen: HashMap<usize, u32> = HashMap::new();
            for p in place {
                code.push(p.map(|i| {
                    *seen.entry(i).or_insert_with(|| {
                        uniq_lat.push(gaz.places()[i].lat_deg);
                        uniq_lon.push(gaz.places()[i].lon_deg);
                        (uniq_lat.len() - 1) as u32
                    })
                }));
            }
        }
        Location::LatLon { lat, lon } => {
            let (la, lo) = (frame.numeric(lat)?, frame.numeric(lon)?);
            let mut seen: HashMap<(u64, u64), u32> = HashMap::new();
            for i in 0..n {
                if la[i].is_nan() || lo[i].is_nan() {
                    code.push(None);
                    continue;
                }
                for (col, v, max) in [(lat, la[i], 90.0), (lon, lo[i], 180.0)] {
                    if !(v.is_finite() && v.abs() <= max) {
                        return Err(Error::Parse {
                            path: frame.source.clone(),
                            column: col.clone(),
                            line: i + 2,
                            value: crate::data::format_number(v),
                            expected: format!("decimal degrees between -{max} and {max}"),
                        });
                    }
                }
                let key = (la[i].to_bits(), lo[i].to_bits());
                code.push(Some(*seen.entry(key).or_insert_with(|| {
                    uniq_lat.push(la[i]);
                    uniq_lon.push(lo[i]);
                    (uniq_lat.len() - 1) as u32
                })));
            }
        }
    }
    let mut summary = CultureSummary {
        n_rows: n,
        n_locations: uniq_lat.len(),
        ..Default::default()
    };
    for (i, c) in code.iter().enumerate() {
        if c.is_none() {
            summary.n_missing_location += 1;
            if summary.missing_lines.len() < 10 {
                summary.missing_lines.push(i + 2);
            }
        }
    }
    let spread = |values: &[f64]| -> Column {
        Column::Num(
            code.iter()
                .map(|c| c.map_or(f64::NAN, |k| values[k as usize]))
                .collect(),
        )
    };
    // Radius measures.
    let set = opts.points.load(opts.weight.as_deref())?;
    if set.lat_deg.is_empty() {
        return Err(Error::Schema {
            path: set.source.clone(),
            message: "the point set is empty".into(),
        });
    }
    summary.n_points = set.lat_deg.len();
    let index = PointIndex::new(&set.lat_deg, &set.lon_deg, &set.weight);
    let prefix = opts.column_prefix();
    let mut new_columns: Vec<(String, Column)> = Vec::new();
    let sums = measure::radius_measures(
        &index,
        &uniq_lat,
        &uniq_lon,
        &opts.radii_km,
        opts.kernel,
        opts.bandwidth_km.unwrap_or(1.0),
        opts.transform,
    );
    for (r, values) in opts.radii_km.iter().zip(&sums) {
        new_columns.push((measure_column(&prefix, opts.kernel, *r), spread(values)));
    }
    // Nearest distances.
    for choice in &opts.nearest {
        let s = choice.load(None)?;
        if s.lat_deg.is_empty() {
            return Err(Error::Schema {
                path: s.source.clone(),
                message: "the point set is empty".into(),
            });
        }
        let idx = PointIndex::new(&s.lat_deg, &s.lon_deg, &s.weight);
        let d = measure::nearest_km(&idx, &uniq_lat, &uniq_lon);
        new_columns.push((format!("dist_{}", choice.stem()), spread(&d)));
    }
    for (i, (name, _)) in new_columns.iter().enumerate() {
        if frame.names.contains(name) || new_columns[..i].iter().any(|(m, _)| m == name) {
            return Err(Error::Schema {
                path: frame.source.clone(),
                message: format!(
                    "output column \"{name}\" already exists\nhint: choose another --prefix, or rename the column or the --nearest file"
                ),
            });
        }
    }
    // Notes.
    let uses = |b: Builtin| opts.points == PointsChoice::Builtin(b);
    if uses(Builtin::Jinshi) || uses(Builtin::JinshiMing) {
        summary.notes.push(points::NANZHILI_GAP_NOTE.to_string());
    }
    if uses(Builtin::Counties) {
        summary.notes.push(
            "counties: modern county and district points stand in for Confucian temples (every historical county seat had a school-temple); a proxy, and cities split into many districts get more points".into(),
        );
    }
    if opts
        .nearest
        .contains(&PointsChoice::Builtin(Builtin::PrintingCentres))
    {
        summary.notes.push(
            "printing-centres: an illustrative set of seven well-known Ming-Qing printing centres, not the paper's list".into(),
        );
    }
    for (name, col) in new_columns {
        summary.columns.push(name.clone());
        frame.set_column(&name, col);
    }
    Ok(summary)
}
