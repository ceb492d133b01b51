//! [`LoadOptions`]: how to read a data file (text encoding, header rows, Excel sheet,
//! delimiter, a fiscal year from a date column, a column projection for Parquet). Defaults
//! detect everything and load every column.

use std::fmt;

/// Text encoding of a CSV/TXT file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// UTF-8 when the bytes are valid UTF-8 (a byte-order mark is skipped), GB18030 otherwise.
    #[default]
    Auto,
    /// UTF-8; invalid bytes are an error naming their line.
    Utf8,
    /// GBK, read with the GB18030 decoder (a superset of GBK).
    Gbk,
    /// GB18030.
    Gb18030,
}

/// Number of header rows of a CSV/TXT file or an Excel sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
pub enum HeaderRows {
    /// One header row, or three when the file has the CSMAR layout (rows 2 and 3 are text in
    /// columns that hold only numbers below them).
    #[default]
    #[value(name = "auto")]
    #[serde(rename = "auto")]
    Auto,
    /// One header row: the column names.
    #[value(name = "1")]
    #[serde(rename = "1")]
    One,
    /// CSMAR layout: field codes (the column names), field names (kept as labels), units.
    #[value(name = "3")]
    #[serde(rename = "3")]
    Three,
}

/// Field delimiter of a CSV/TXT file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Delimiter {
    /// Tab when the header line has more tabs than commas, comma otherwise.
    #[default]
    Auto,
    Comma,
    Tab,
}

/// An Excel sheet: by name, or by 0-based position when no sheet has that name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet(pub String);

impl fmt::Display for Sheet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How to read a data file; `LoadOptions::default()` detects everything, as [`super::Frame::load`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// CSV/TXT text encoding. Default: auto (UTF-8, else GB18030).
    pub encoding: Encoding,
    /// CSV/TXT and Excel header rows. Default: auto (1, or 3 for the CSMAR layout).
    pub header_rows: HeaderRows,
    /// Excel sheet. Default: the first sheet.
    pub sheet: Option<Sheet>,
    /// CSV/TXT delimiter. Default: auto (tab or comma, from the header line; tab for `.tsv`).
    pub delimiter: Delimiter,
    /// Add (or replace) a numeric column `year`: the calendar year of the dates in this column
    /// (`2021-12-31`, `2021/12/31`, `20211231`, `2021`). For Chinese listed firms the fiscal
    /// year is the calendar year.
    pub year_from: Option<String>,
    /// Parquet only: load just these columns (a projection); `None` (the default) loads all.
    ///
    /// The loaded columns keep the file's order; a name listed twice is loaded once. Names
    /// that are not in the file are skipped, so that [`super::Frame::index_of`] later reports
    /// them as [`crate::Error::ColumnNotFound`], its suggestion drawn from all the file's
    /// columns (the others are kept in [`super::Frame::unloaded`]). The `year_from` column is
    /// loaded whether listed or not. Columns left out are never decoded, so a column type keju
    /// cannot read (decimal, float16, nested) fails the load only when it is requested.
    ///
    /// CSV/TXT, Excel and Stata files ignore this and load every column.
    pub columns: Option<Vec<String>>,
}
