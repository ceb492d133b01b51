//! Flags for reading a data file, shared by every subcommand that takes `--data`: flatten
//! [`LoadArgs`] into a subcommand's `Args` and call [`LoadArgs::load`].

use std::path::Path;

use clap::Args;
use keju::data::{Delimiter, Encoding, Frame, HeaderRows, LoadOptions, Sheet};

/// How to read `--data` (see docs/inputs.md). Every default detects.
#[derive(Args, Debug, Clone, Default)]
pub struct LoadArgs {
    /// Text encoding of a CSV/TXT file: auto (UTF-8, or GB18030 when the bytes are not UTF-8),
    /// utf8, gbk or gb18030. For Stata files older than release 118, gbk reads Chinese text.
    #[arg(long, value_enum, default_value_t = Encoding::Auto, help_heading = "Input")]
    pub encoding: Encoding,

    /// Header rows of a CSV/TXT file or Excel sheet: auto (1, or 3 when rows 2-3 look like
    /// CSMAR's field names and units), 1, or 3 (CSMAR: codes, names kept as labels, units).
    #[arg(long, value_enum, default_value_t = HeaderRows::Auto, help_heading = "Input")]
    pub header_rows: HeaderRows,

    /// Excel sheet: a name, or a 0-based position. Default: the first sheet.
    #[arg(long, help_heading = "Input")]
    pub sheet: Option<String>,

    /// Delimiter of a CSV/TXT file: auto (tab when the header line has more tabs than
    /// commas; tab for .tsv), comma or tab.
    #[arg(long, value_enum, default_value_t = Delimiter::Auto, help_heading = "Input")]
    pub delimiter: Delimiter,

    /// Add (or replace) a column `year`: the fiscal (calendar) year of the dates in this
    /// column, e.g. CSMAR's Accper (2021-12-31, 20211231, 2021).
    #[arg(long, value_name = "COL", help_heading = "Input")]
    pub year_from: Option<String>,
}

impl LoadArgs {
    /// The library's options.
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            encoding: self.encoding,
            header_rows: self.header_rows,
            sheet: self.sheet.clone().map(Sheet),
            delimiter: self.delimiter,
            year_from: self.year_from.clone(),
            columns: None,
        }
    }

    /// Load `path` with these options; print what was detected as notes on stderr.
    pub fn load(&self, path: &Path) -> keju::Result<Frame> {
        self.load_columns(path, None)
    }

    /// As [`LoadArgs::load`], reading only `columns` from a Parquet file (see
    /// [`LoadOptions::columns`]; `None` reads all, other formats always read all).
    pub fn load_columns(&self, path: &Path, columns: Option<Vec<String>>) -> keju::Result<Frame> {
        let opts = LoadOptions {
            columns,
            ..self.options()
        };
        let frame = Frame::load_with(path, &opts)?;
        for note in &frame.notes {
            eprintln!("note: {note}");
        }
        Ok(frame)
    }
}

/// Where firms are: a registered-city column to geocode, or latitude and longitude columns.
/// Shared by `keju culture` and `keju plot map`.
#[derive(clap::Args, Debug, Clone)]
pub struct LocationArgs {
    /// Registered-city column to geocode: simplified or traditional characters, with or without
    /// 市/地区/自治州/盟/区/县; prefecture-level and county-level cities and districts; put the
    /// province or prefecture first to resolve an ambiguous name (北京朝阳区). Unknown or
    /// ambiguous names are an error listing each
    #[arg(long, value_name = "COL", required_unless_present = "lat", conflicts_with_all = ["lat", "lon"])]
    pub city: Option<String>,

    /// Latitude column in decimal degrees (north positive), with --lon; bypasses geocoding
    #[arg(long, value_name = "COL", requires = "lon")]
    pub lat: Option<String>,

    /// Longitude column in decimal degrees (east positive), with --lat
    #[arg(long, value_name = "COL", requires = "lat")]
    pub lon: Option<String>,
}

impl LocationArgs {
    /// The library's location choice.
    ///
    /// **Errors**: [`keju::Error::Usage`] when neither a city nor both coordinates are given.
    pub fn location(&self) -> keju::Result<keju::culture::Location> {
        use keju::culture::Location;
        match (&self.city, &self.lat, &self.lon) {
            (Some(c), _, _) => Ok(Location::City(c.clone())),
            (None, Some(lat), Some(lon)) => Ok(Location::LatLon {
                lat: lat.clone(),
                lon: lon.clone(),
            }),
            _ => Err(keju::Error::usage(
                "give --city COL, or --lat COL and --lon COL",
            )),
        }
    }
}
