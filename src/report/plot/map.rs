//! Firm maps: [`FirmMap`] places firms on a longitude/latitude plane (equirectangular,
//! longitude [`LON_RANGE`], latitude [`LAT_RANGE`]: mainland China) coloured by a culture
//! measure (viridis, with a colour bar), optionally over the historical jinshi prefectures of
//! the shipped data ([`crate::culture::Builtin::Jinshi`]) drawn as hollow circles with area
//! proportional to their count, so a user can check that the measure is high where the jinshi
//! were.
//!
//! Data flow: a firm [`Frame`] → locations from a city column (geocoded with
//! [`Gazetteer::builtin`], as `keju culture --city`) or lat/lon columns → rows with a location
//! and a finite measure inside the extent → [`FirmMap`] → [`super::save`].

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{font, tick_label, viridis, DrawResult, Figure};
use crate::culture::{Builtin, Gazetteer, Location, PointSet};
use crate::data::Frame;
use crate::error::{Error, Result};

/// Longitude extent in degrees east.
pub const LON_RANGE: (f64, f64) = (73.0, 135.0);
/// Latitude extent in degrees north.
pub const LAT_RANGE: (f64, f64) = (18.0, 54.0);

/// How to build a firm map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapOptions {
    /// Numeric measure column that colours the firms.
    pub measure: String,
    /// Where firm locations come from.
    pub location: Location,
    /// Overlay the Ming + Qing jinshi prefectures. Default false.
    pub prefectures: bool,
    /// Colour-bar title (default: the measure's column name).
    pub measure_label: Option<String>,
    /// Figure caption (default none).
    pub title: Option<String>,
    /// Width and height in pixels. Default 1100 × 680.
    pub size: (u32, u32),
}

impl MapOptions {
    /// Options with the defaults: no prefectures, column name as label, no title, 1100 × 680.
    pub fn new(measure: &str, location: Location) -> MapOptions {
        MapOptions {
            measure: measure.to_string(),
            location,
            prefectures: false,
            measure_label: None,
            title: None,
            size: (1100, 680),
        }
    }
}

/// A firm map ready to draw.
///
/// **Shapes**: `lat_deg`, `lon_deg`, `value`: one per plotted firm row. **Units**: degrees.
#[derive(Debug, Clone)]
pub struct FirmMap {
    pub lat_deg: Vec<f64>,
    pub lon_deg: Vec<f64>,
    pub value: Vec<f64>,
    /// Colour-bar title.
    pub measure_label: String,
    /// The jinshi prefectures (count > 0) when overlaid.
    pub prefectures: Option<PointSet>,
    /// Rows in the firm file.
    pub n_rows: usize,
    /// Rows not plotted: no location or a missing measure.
    pub n_missing: usize,
    /// Rows not plotted: located outside the extent.
    pub n_outside: usize,
    pub title: Option<String>,
    pub size: (u32, u32),
}

impl FirmMap {
    /// Build the map from a firm table.
    ///
    /// **Errors**: [`Error::ColumnNotFound`] for the measure or location columns;
    /// [`Error::Parse`] for a non-numeric measure or coordinate; geocoding errors from
    /// [`Gazetteer::geocode_column`] (every unknown or ambiguous city listed);
    /// [`Error::Schema`] when no row can be plotted.
    pub fn build(frame: &Frame, opts: &MapOptions) -> Result<FirmMap> {
        let value = frame.numeric(&opts.measure)?;
        let n = frame.n_rows();
        let (lat, lon): (Vec<f64>, Vec<f64>) = match &opts.location {
            Location::City(col) => {
                let gaz = Gazetteer::builtin();
                let place = gaz.geocode_column(frame.column(col)?, &frame.source, col)?;
                place
                    .iter()
                    .map(|p| match p {
                        Some(i) => (gaz.places()[*i].lat_deg, gaz.places()[*i].lon_deg),
                        None => (f64::NAN, f64::NAN),
                    })
                    .unzip()
            }
            Location::LatLon { lat, lon } => {
                (frame.numeric(lat)?.to_vec(), frame.numeric(lon)?.to_vec())
            }
        };
        let mut map = FirmMap {
            lat_deg: Vec::new(),
            lon_deg: Vec::new(),
            value: Vec::new(),
            measure_label: opts
                .measure_label
                .clone()
                .unwrap_or_else(|| opts.measure.clone()),
            prefectures: None,
            n_rows: n,
            n_missing: 0,
            n_outside: 0,
            title: opts.title.clone(),
            size: opts.size,
        };
        for i in 0..n {
            if !(value[i].is_finite() && lat[i].is_finite() && lon[i].is_finite()) {
                map.n_missing += 1;
            } else if !inside(lat[i], lon[i]) {
                map.n_outside += 1;
            } else {
                map.lat_deg.push(lat[i]);
                map.lon_deg.push(lon[i]);
                map.value.push(value[i]);
            }
        }
        if map.value.is_empty() {
            return Err(Error::Schema {
                path: frame.source.clone(),
                message: format!(
                    "no firm to plot: {} rows without a location or a value of \"{}\", {} outside longitude {}-{}, latitude {}-{}",
                    map.n_missing, opts.measure, map.n_outside, LON_RANGE.0, LON_RANGE.1, LAT_RANGE.0, LAT_RANGE.1
                ),
            });
        }
        if opts.prefectures {
            let set = PointSet::builtin(Builtin::Jinshi);
            let keep: Vec<usize> = (0..set.weight.len())
                .filter(|&i| set.weight[i] > 0.0 && inside(set.lat_deg[i], set.lon_deg[i]))
                .collect();
            map.prefectures = Some(PointSet {
                source: set.source.clone(),
                name: keep.iter().map(|&i| set.name[i].clone()).collect(),
                lat_deg: keep.iter().map(|&i| set.lat_deg[i]).collect(),
                lon_deg: keep.iter().map(|&i| set.lon_deg[i]).collect(),
                weight: keep.iter().map(|&i| set.weight[i]).collect(),
            });
        }
        Ok(map)
    }

    /// The measure's range over plotted firms.
    pub fn value_range(&self) -> (f64, f64) {
        self.value
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            })
    }

    fn scale(&self, v: f64) -> f64 {
        let (lo, hi) = self.value_range();
        if hi > lo {
            (v - lo) / (hi - lo)
        } else {
            0.5
        }
    }
}

fn inside(lat: f64, lon: f64) -> bool {
    (LAT_RANGE.0..=LAT_RANGE.1).contains(&lat) && (LON_RANGE.0..=LON_RANGE.1).contains(&lon)
}

/// Width of the colour-bar panel in pixels.
const BAR_PANEL_PX: u32 = 170;

impl Figure for FirmMap {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (w, _) = self.size;
        let (left, right) = root.split_horizontally(w.saturating_sub(BAR_PANEL_PX));
        let mut builder = ChartBuilder::on(&left);
        builder
            .margin(20)
            .x_label_area_size(55)
            .y_label_area_size(65);
        if let Some(t) = &self.title {
            builder.caption(t, font(24.0));
        }
        let mut chart =
            builder.build_cartesian_2d(LON_RANGE.0..LON_RANGE.1, LAT_RANGE.0..LAT_RANGE.1)?;
        let deg_e = |v: &f64| format!("{v:.0}°E");
        let deg_n = |v: &f64| format!("{v:.0}°N");
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(230, 230, 230))
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&deg_e)
            .y_label_formatter(&deg_n)
            .x_desc("Longitude")
            .y_desc("Latitude")
            .label_style(font(15.0))
            .axis_desc_style(font(16.0))
            .draw()?;
        if let Some(p) = &self.prefectures {
            let max = p.weight.iter().cloned().fold(1.0f64, f64::max);
            let grey = RGBColor(120, 120, 120);
            chart
                .draw_series((0..p.weight.len()).map(|i| {
                    let r = 1.0 + 14.0 * (p.weight[i] / max).sqrt();
                    Circle::new(
                        (p.lon_deg[i], p.lat_deg[i]),
                        r.round() as i32,
                        grey.mix(0.7).stroke_width(1),
                    )
                }))?
                .label(format!(
                    "Ming-Qing jinshi prefectures (area ∝ count, max {})",
                    tick_label(max)
                ))
                .legend(move |(x, y)| Circle::new((x + 8, y), 6, grey.stroke_width(1)));
        }
        // Firms, low values first so the high ones stay visible on top.
        let mut order: Vec<usize> = (0..self.value.len()).collect();
        order.sort_by(|&a, &b| self.value[a].total_cmp(&self.value[b]));
        chart
            .draw_series(order.iter().map(|&i| {
                Circle::new(
                    (self.lon_deg[i], self.lat_deg[i]),
                    5,
                    viridis(self.scale(self.value[i])).filled(),
                )
            }))?
            .label(format!("firms ({})", self.value.len()))
            .legend(|(x, y)| Circle::new((x + 8, y), 5, viridis(0.6).filled()));
        chart.draw_series(order.iter().map(|&i| {
            Circle::new(
                (self.lon_deg[i], self.lat_deg[i]),
                5,
                RGBColor(40, 40, 40).stroke_width(1),
            )
        }))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .label_font(font(14.0))
            .draw()?;
        self.draw_colour_bar(&right)
    }
}

impl FirmMap {
    /// The colour bar: a vertical viridis gradient, min at the bottom, with five ticks.
    fn draw_colour_bar<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (_, h) = area.dim_in_pixel();
        let (top, bottom) = (70i32, h as i32 - 90);
        let (x0, x1) = (20i32, 45i32);
        let span = (bottom - top).max(1);
        area.draw(&Text::new(
            self.measure_label.clone(),
            (x0, top - 35),
            font(16.0),
        ))?;
        for y in top..bottom {
            let t = (bottom - y) as f64 / span as f64;
            area.draw(&Rectangle::new([(x0, y), (x1, y + 1)], viridis(t).filled()))?;
        }
        area.draw(&Rectangle::new(
            [(x0, top), (x1, bottom)],
            BLACK.stroke_width(1),
        ))?;
        let (lo, hi) = self.value_range();
        let ticks = if hi > lo { 5 } else { 1 };
        for k in 0..ticks {
            let t = if ticks > 1 {
                k as f64 / (ticks - 1) as f64
            } else {
                0.5
            };
            let v = lo + t * (hi - lo);
            let y = bottom - (t * span as f64).round() as i32;
            area.draw(&PathElement::new(
                vec![(x1, y), (x1 + 5, y)],
                BLACK.stroke_width(1),
            ))?;
            area.draw(&Text::new(tick_label(v), (x1 + 9, y - 8), font(14.0)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Column;

    fn frame() -> Frame {
        let mut f = Frame::new("firms.csv");
        f.set_column(
            "city",
            Column::Str(
                ["北京", "上海", "苏州", "曲阜市", "广州"]
                    .iter()
                    .map(|s| Some(s.to_string()))
                    .collect(),
            ),
        );
        f.set_column("js", Column::Num(vec![1.0, 2.0, 3.0, 4.0, f64::NAN]));
        f
    }

    #[test]
    fn geocodes_cities_and_skips_missing_values() {
        let mut opts = MapOptions::new("js", Location::City("city".into()));
        opts.prefectures = true;
        let m = FirmMap::build(&frame(), &opts).unwrap();
        assert_eq!(m.value.len(), 4);
        assert_eq!(m.n_missing, 1);
        assert!((m.lat_deg[0] - 39.9).abs() < 0.5, "{}", m.lat_deg[0]);
        assert!(m.prefectures.as_ref().unwrap().weight.len() > 300);
        let svg = super::super::to_svg_string(&m).unwrap();
        let texts = super::super::svg_texts(&svg);
        assert!(texts.iter().any(|t| t == "js"), "{texts:?}");
        assert!(texts.iter().any(|t| t.contains("jinshi")), "{texts:?}");
    }

    #[test]
    fn missing_measure_column() {
        let opts = MapOptions::new("nope", Location::City("city".into()));
        assert!(FirmMap::build(&frame(), &opts).is_err());
    }
}
