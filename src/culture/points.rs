//! Point sets: the shipped ones ([`Builtin`], embedded from `data/` with `include_str!`) and user
//! point files ([`PointSet::load`]), as [`PointSet`] (names, coordinates, weights).
//!
//! User point file schema: CSV or Parquet with columns `lat` and `lon` (decimal degrees, WGS-84
//! or GCJ-02; north and east positive), an optional `name`, and an optional weight column chosen
//! by `--weight` (finite, ≥ 0; without it every point weighs 1). Every row is a point: a missing
//! or out-of-range coordinate or weight is an error naming the line, never a dropped row.

use std::path::Path;

use crate::data::Frame;
use crate::error::{Error, Result};

use super::geo::valid_lat_lon;

/// Ming + Qing jinshi per historical prefecture (CBDB, CC BY-NC-SA 4.0); see `data/README.md`.
pub const JINSHI_CSV: &str = include_str!("../../data/jinshi_prefectures.csv");
/// Modern places for geocoding (cpca, MIT).
pub const PLACES_CSV: &str = include_str!("../../data/places_modern.csv");
/// County and district points, the temple proxy (cpca, MIT).
pub const COUNTIES_CSV: &str = include_str!("../../data/temple_proxy_counties.csv");
/// Qufu, the default Confucian centre.
pub const CONFUCIAN_CENTRES_CSV: &str = include_str!("../../data/confucian_centres.csv");
/// Illustrative Ming-Qing printing centres (not the paper's list).
pub const PRINTING_CENTRES_CSV: &str = include_str!("../../data/printing_centres_illustrative.csv");
/// Traditional → simplified character pairs for place names (OpenCC, Apache-2.0).
pub const TRAD_SIMP_CSV: &str = include_str!("../../data/trad_simp.csv");

/// The CBDB gap, stated wherever Ming or Ming+Qing jinshi are used.
pub const NANZHILI_GAP_NOTE: &str = "the CBDB jinshi extract lacks almost all Ming jinshi from \
Nan-Zhili (today's Jiangsu, Anhui, Shanghai; about 3,800 persons), so Ming and Ming+Qing counts \
are too low near the lower Yangzi; --points jinshi-qing is complete";

/// A shipped point set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Ming + Qing jinshi per prefecture, weight `jinshi_total`.
    Jinshi,
    /// Ming jinshi only, weight `jinshi_ming` (Nan-Zhili gap).
    JinshiMing,
    /// Qing jinshi only, weight `jinshi_qing` (complete).
    JinshiQing,
    /// County and district points, weight 1: the temple proxy.
    Counties,
    /// Qufu, the default Confucian centre (for nearest distances).
    ConfucianCentres,
    /// Seven illustrative printing centres (for nearest distances).
    PrintingCentres,
}

impl Builtin {
    /// Every set with its option name and its default column prefix.
    pub const TABLE: [(Builtin, &'static str, &'static str); 6] = [
        (Builtin::Jinshi, "jinshi", "js"),
        (Builtin::JinshiMing, "jinshi-ming", "js_ming"),
        (Builtin::JinshiQing, "jinshi-qing", "js_qing"),
        (Builtin::Counties, "counties", "counties"),
        (
            Builtin::ConfucianCentres,
            "confucian-centres",
            "confucian_centres",
        ),
        (
            Builtin::PrintingCentres,
            "printing-centres",
            "printing_centres",
        ),
    ];

    /// The set for an option name, `None` for anything else (then it is a file path).
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::TABLE
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(b, _, _)| *b)
    }

    /// The option name.
    pub fn name(self) -> &'static str {
        Builtin::TABLE
            .iter()
            .find(|(b, _, _)| *b == self)
            .expect("every set is in the table")
            .1
    }

    /// The default column prefix (`js`, `js_ming`, ...).
    pub fn prefix(self) -> &'static str {
        Builtin::TABLE
            .iter()
            .find(|(b, _, _)| *b == self)
            .expect("every set is in the table")
            .2
    }
}

/// Points with weights.
///
/// **Shapes**: `name`, `lat_deg`, `lon_deg`, `weight`: n_points each. **Units**: degrees.
#[derive(Debug, Clone)]
pub struct PointSet {
    /// Where the points came from (a path, or `builtin:<name>`), for messages.
    pub source: String,
    pub name: Vec<String>,
    pub lat_deg: Vec<f64>,
    pub lon_deg: Vec<f64>,
    pub weight: Vec<f64>,
}

impl PointSet {
    /// A shipped set, parsed from the embedded CSV.
    ///
    /// **Panics**: never for the shipped files (their shape is checked by the unit tests).
    pub fn builtin(set: Builtin) -> PointSet {
        let (text, weight_col) = match set {
            Builtin::Jinshi => (JINSHI_CSV, Some("jinshi_total")),
            Builtin::JinshiMing => (JINSHI_CSV, Some("jinshi_ming")),
            Builtin::JinshiQing => (JINSHI_CSV, Some("jinshi_qing")),
            Builtin::Counties => (COUNTIES_CSV, None),
            Builtin::ConfucianCentres => (CONFUCIAN_CENTRES_CSV, None),
            Builtin::PrintingCentres => (PRINTING_CENTRES_CSV, None),
        };
        let table = EmbeddedCsv::parse(text);
        let num = |row: &[String], col: &str| -> f64 {
            row[table.col(col)]
                .parse()
                .expect("shipped data has numeric coordinates and counts")
        };
        let mut ps = PointSet {
            source: format!("builtin:{}", set.name()),
            name: Vec::new(),
            lat_deg: Vec::new(),
            lon_deg: Vec::new(),
            weight: Vec::new(),
        };
        for row in &table.rows {
            ps.name.push(row[table.col("name")].clone());
            ps.lat_deg.push(num(row, "lat"));
            ps.lon_deg.push(num(row, "lon"));
            ps.weight.push(weight_col.map_or(1.0, |c| num(row, c)));
        }
        ps
    }

    /// Load a user point file (schema in the module doc).
    ///
    /// **Errors**: [`Error::Io`] / [`Error::Schema`] from [`Frame::load`]; [`Error::ColumnNotFound`]
    /// for a missing `lat`, `lon` or weight column; [`Error::Parse`] naming the line of a missing
    /// or out-of-range coordinate or a missing, negative or non-finite weight; [`Error::Schema`]
    /// for a file without rows.
    pub fn load(path: &Path, weight: Option<&str>) -> Result<PointSet> {
        let frame = Frame::load(path)?;
        let n = frame.n_rows();
        if n == 0 {
            return Err(Error::Schema {
                path: frame.source.clone(),
                message: "the point file has no rows".into(),
            });
        }
        let lat = frame.numeric("lat")?;
        let lon = frame.numeric("lon")?;
        let bad = |column: &str, i: usize, value: f64, expected: &str| Error::Parse {
            path: frame.source.clone(),
            column: column.to_string(),
            line: i + 2,
            value: if value.is_nan() {
                String::new()
            } else {
                crate::data::format_number(value)
            },
            expected: expected.to_string(),
        };
        for i in 0..n {
            if !(lat[i].is_finite() && lat[i].abs() <= 90.0) {
                return Err(bad("lat", i, lat[i], "a latitude in degrees (-90 to 90)"));
            }
            if !valid_lat_lon(lat[i], lon[i]) {
                return Err(bad(
                    "lon",
                    i,
                    lon[i],
                    "a longitude in degrees (-180 to 180)",
                ));
            }
        }
        let weight = match weight {
            None => vec![1.0; n],
            Some(col) => {
                let w = frame.numeric(col)?;
                if let Some(i) = w.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
                    return Err(bad(col, i, w[i], "a weight (a finite number >= 0)"));
                }
                w.to_vec()
            }
        };
        let name = match frame.column("name") {
            Ok(c) => (0..n).map(|i| c.cell_text(i).unwrap_or_default()).collect(),
            Err(_) => (0..n).map(|i| format!("line {}", i + 2)).collect(),
        };
        Ok(PointSet {
            source: frame.source.clone(),
            name,
            lat_deg: lat.to_vec(),
            lon_deg: lon.to_vec(),
            weight,
        })
    }
}

/// A shipped CSV parsed in memory: header and rows of text cells (RFC 4180 quoting).
#[derive(Debug, Clone)]
pub(crate) struct EmbeddedCsv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl EmbeddedCsv {
    pub fn parse(text: &str) -> EmbeddedCsv {
        let mut lines = text.lines().filter(|l| !l.is_empty());
        let header = split_csv_line(lines.next().expect("shipped CSV has a header"));
        let rows = lines
            .map(|l| {
                let r = split_csv_line(l);
                assert_eq!(
                    r.len(),
                    header.len(),
                    "shipped CSV rows have as many cells as the header"
                );
                r
            })
            .collect();
        EmbeddedCsv { header, rows }
    }

    /// Position of a column that the shipped file has.
    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .expect("shipped CSV has the column")
    }
}

fn split_csv_line(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    cells.push(cur);
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_sets_have_the_documented_totals() {
        let js = PointSet::builtin(Builtin::Jinshi);
        assert_eq!(js.name.len(), 494);
        let sum = |b| PointSet::builtin(b).weight.iter().sum::<f64>();
        // Kept after dropping the 4 coordinate-less prefectures (data/README.md).
        assert_eq!(sum(Builtin::JinshiMing), 20716.0);
        assert_eq!(sum(Builtin::JinshiQing), 25091.0);
        assert_eq!(sum(Builtin::Jinshi), 20716.0 + 25091.0);
        assert_eq!(PointSet::builtin(Builtin::Counties).name.len(), 2847);
        let q = PointSet::builtin(Builtin::ConfucianCentres);
        assert_eq!((q.lat_deg[0], q.lon_deg[0]), (35.60, 116.99));
        let p = PointSet::builtin(Builtin::PrintingCentres);
        assert_eq!(
            p.name,
            ["建陽", "四堡", "南京", "蘇州", "杭州", "徽州", "北京"]
        );
        for b in Builtin::TABLE.map(|t| t.0) {
            let s = PointSet::builtin(b);
            assert!(s
                .lat_deg
                .iter()
                .zip(&s.lon_deg)
                .all(|(a, o)| valid_lat_lon(*a, *o)));
        }
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(split_csv_line(r#"a,"b, c",d"#), ["a", "b, c", "d"]);
        assert_eq!(split_csv_line(r#""x ""y""",z"#), ["x \"y\"", "z"]);
    }

    #[test]
    fn user_point_file_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pts.csv");
        std::fs::write(&p, "name,lat,lon,n\na,30,120,1\nb,31,,2\n").unwrap();
        let e = PointSet::load(&p, None).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("\"lon\""), "{e}");
        std::fs::write(&p, "name,lat,lon,n\na,30,120,1\nb,31,121,-2\n").unwrap();
        let e = PointSet::load(&p, Some("n")).unwrap_err().to_string();
        assert!(
            e.contains("line 3") && e.contains("\"n\"") && e.contains("-2"),
            "{e}"
        );
        let e = PointSet::load(&p, Some("count")).unwrap_err().to_string();
        assert!(e.contains("column \"count\" not found"), "{e}");
        std::fs::write(&p, "name,lat,lon,n\na,30,120,1\nb,31,121,2.5\n").unwrap();
        let s = PointSet::load(&p, Some("n")).unwrap();
        assert_eq!(s.weight, [1.0, 2.5]);
        assert_eq!(PointSet::load(&p, None).unwrap().weight, [1.0, 1.0]);
    }
}
