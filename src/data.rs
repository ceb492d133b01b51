//! Loading a data file into a [`Frame`]: named columns, numeric ([`Column::Num`], `f64` with
//! `NaN` for missing) or text ([`Column::Str`]).
//!
//! Data leave polars once, here. Inside keju every variable is a contiguous `Vec<f64>`, and
//! grouping variables become dense `u32` codes through [`Column::factorize`].
//!
//! Formats (documented in `docs/inputs.md`): CSV/TXT ([`text`]), Excel ([`excel`]), Stata
//! `.dta` ([`stata`]), Parquet. [`Frame::load_with`] takes [`LoadOptions`] (encoding, header
//! rows, sheet, delimiter, a fiscal year from a date column, a Parquet column projection);
//! [`Frame::load`] detects all and loads every column.
//!
//! CSV rules (also applied to Excel cells):
//! - UTF-8 with or without a byte-order mark, or GBK/GB18030 (detected when the bytes are not
//!   UTF-8); comma or tab delimited (from the header line); the first line is the header, or
//!   the first three lines in the CSMAR layout (codes, names kept as [`Frame::labels`], units).
//! - Missing cells: empty, `NA`, `NaN`, `nan`, `.` (Stata's missing).
//! - A column is numeric when every non-missing cell parses as a number and none has a
//!   leading zero (`000001` is a stock code, kept as text so its zeros survive).
//! - Other columns are text. Text columns can be fixed effects, clusters and factors; using
//!   one as a number is an [`Error::Parse`] naming the first bad cell and its line.
//!
//! Parquet: numeric and boolean columns become `f64`, strings stay text. A Parquet file can be
//! loaded with a column projection ([`LoadOptions::columns`]): only the columns a command
//! needs are read and converted; the names of the others stay in [`Frame::unloaded`] for
//! did-you-mean hints.

mod excel;
mod options;
mod stata;
mod table;
mod text;
mod year;

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use polars_arrow::array::PrimitiveArray;
use rayon::prelude::*;

use crate::error::{closest, Error, Result};

pub use options::{Delimiter, Encoding, HeaderRows, LoadOptions, Sheet};
pub use year::year_of;

/// One column of a [`Frame`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers; `NaN` marks a missing value. Length: n_rows.
    Num(Vec<f64>),
    /// Text; `None` marks a missing value. Length: n_rows.
    Str(Vec<Option<String>>),
}

/// A grouping variable as dense codes.
///
/// **Shapes**: `codes`: n_rows, each in `0..levels.len()` or [`Factor::MISSING`].
#[derive(Debug, Clone)]
pub struct Factor {
    pub codes: Vec<u32>,
    /// Level labels in code order: numeric order for numeric columns, byte order for text.
    pub levels: Vec<String>,
}

impl Factor {
    /// Code of a missing value.
    pub const MISSING: u32 = u32::MAX;
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Num(v) => v.len(),
            Column::Str(v) => v.len(),
        }
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether row `i` is missing.
    pub fn is_missing(&self, i: usize) -> bool {
        match self {
            Column::Num(v) => v[i].is_nan(),
            Column::Str(v) => v[i].is_none(),
        }
    }

    /// The value of row `i` as text (numbers printed as integers when they are whole).
    pub fn cell_text(&self, i: usize) -> Option<String> {
        match self {
            Column::Num(v) => (!v[i].is_nan()).then(|| format_number(v[i])),
            Column::Str(v) => v[i].clone(),
        }
    }

    /// Dense group codes and the number of groups, without level labels: what fixed effects
    /// and clusters need. Same codes as [`Column::factorize`].
    pub fn group_codes(&self) -> (Vec<u32>, usize) {
        match self {
            Column::Num(v) => {
                let (codes, values) = number_codes(v);
                (codes, values.len())
            }
            Column::Str(_) => {
                let f = self.factorize();
                let n = f.levels.len();
                (f.codes, n)
            }
        }
    }

    /// Dense group codes, levels sorted (numerically for numbers).
    ///
    /// **Complexity**: O(n log n) for text, O(n log L) for numbers.
    pub fn factorize(&self) -> Factor {
        match self {
            Column::Num(v) => {
                let (codes, values) = number_codes(v);
                Factor {
                    codes,
                    levels: values.into_iter().map(format_number).collect(),
                }
            }
            Column::Str(v) => {
                let mut uniq: Vec<&str> = v.iter().flatten().map(|s| s.as_str()).collect();
                uniq.sort_unstable();
                uniq.dedup();
                let map: std::collections::HashMap<&str, u32> = uniq
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (*s, i as u32))
                    .collect();
                let codes = v
                    .iter()
                    .map(|x| x.as_deref().map_or(Factor::MISSING, |s| map[s]))
                    .collect();
                Factor {
                    codes,
                    levels: uniq.into_iter().map(String::from).collect(),
                }
            }
        }
    }
}

/// Dense codes of a numeric column and its distinct values in increasing order: the integer
/// fast path ([`integer_codes`]) when it applies, a sort of the distinct values otherwise.
fn number_codes(v: &[f64]) -> (Vec<u32>, Vec<f64>) {
    if let Some(found) = integer_codes(v) {
        return found;
    }
    // `+ 0.0` turns −0 into 0: one group, as in the integer path (and pandas); total_cmp
    // alone would order −0 before 0 and dedup would then merge them.
    let mut uniq: Vec<f64> = v.iter().filter(|x| !x.is_nan()).map(|x| x + 0.0).collect();
    uniq.sort_by(|a, b| a.total_cmp(b));
    uniq.dedup();
    let codes = v
        .iter()
        .map(|x| {
            if x.is_nan() {
                Factor::MISSING
            } else {
                let x = x + 0.0;
                uniq.binary_search_by(|u| u.total_cmp(&x))
                    .expect("value is among the unique values") as u32
            }
        })
        .collect();
    (codes, uniq)
}

/// Dense codes for whole numbers in a range at most a few times the row count (firm ids,
/// years): one parallel pass for the range, one to mark the values present, one (parallel) to
/// code them, no sort. Returns the codes and the level values in numeric order, as the
/// general path gives; `None` when the values do not qualify.
fn integer_codes(v: &[f64]) -> Option<(Vec<u32>, Vec<f64>)> {
    const CHUNK: usize = 1 << 16;
    let (lo, hi, whole) = v
        .par_chunks(CHUNK)
        .map(|c| {
            c.iter().filter(|x| !x.is_nan()).fold(
                (f64::INFINITY, f64::NEG_INFINITY, true),
                |(lo, hi, whole), x| {
                    // `x.fract() == 0.0` without a libm call per value (the build targets
                    // baseline x86-64, which has no rounding instruction): the cast
                    // truncates, and saturates beyond i64, where the range test below fails.
                    (lo.min(*x), hi.max(*x), whole && (*x as i64) as f64 == *x)
                },
            )
        })
        .reduce(
            || (f64::INFINITY, f64::NEG_INFINITY, true),
            |a, b| (a.0.min(b.0), a.1.max(b.1), a.2 && b.2),
        );
    if !whole {
        return None;
    }
    if lo > hi {
        return Some((vec![Factor::MISSING; v.len()], Vec::new()));
    }
    let range = hi - lo;
    if range > (4 * v.len() + 1024) as f64 {
        return None;
    }
    let mut slot = vec![u32::MAX; range as usize + 1];
    for x in v.iter().filter(|x| !x.is_nan()) {
        slot[(x - lo) as usize] = 0;
    }
    let mut values = Vec::new();
    for (k, s) in slot.iter_mut().enumerate() {
        if *s == 0 {
            *s = values.len() as u32;
            values.push(lo + k as f64);
        }
    }
    let codes = v
        .par_iter()
        .map(|x| {
            if x.is_nan() {
                Factor::MISSING
            } else {
                slot[(x - lo) as usize]
            }
        })
        .collect();
    Some((codes, values))
}

/// Print a number the way a user typed it: integers without a decimal point.
pub fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Cells read as missing in CSV input.
pub const MISSING_TOKENS: [&str; 5] = ["", "NA", "NaN", "nan", "."];

/// Parse one CSV cell as a number: `Some(NaN)` for a missing token, `None` when not a number.
pub fn parse_cell(s: &str) -> Option<f64> {
    let t = s.trim();
    if MISSING_TOKENS.contains(&t) {
        return Some(f64::NAN);
    }
    // Infinite values (`inf`, `-Inf`, `1e400`) are missing, as non-finite results are.
    t.parse::<f64>()
        .ok()
        .map(|x| if x.is_finite() { x } else { f64::NAN })
}

/// 2^53: every integer of smaller magnitude is exact as an `f64`. An integer of this magnitude
/// or more may be the rounding of a neighbour (2^53 + 1 becomes 2^53), so distinct ids
/// (18-digit codes) would merge when stored as numbers: such columns stay text.
pub const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// Whether a cell that parses as `x` must keep its column text: a leading zero (`000001`, a
/// stock code), or an integer written in full at or beyond [`EXACT_INTEGER_LIMIT`] and within the
/// 64-bit range of ids (longer digit strings are magnitudes, not ids, and stay numbers).
fn keeps_text(s: &str, x: f64) -> bool {
    let t = s.trim().trim_start_matches(['-', '+']);
    has_leading_zero(s)
        || (x.abs() >= EXACT_INTEGER_LIMIT
            && x.abs() < 18_446_744_073_709_551_616.0
            && t.bytes().all(|b| b.is_ascii_digit()))
}

fn has_leading_zero(s: &str) -> bool {
    let t = s.trim().trim_start_matches(['-', '+']);
    let b = t.as_bytes();
    b.len() > 1 && b[0] == b'0' && b[1].is_ascii_digit()
}

/// A data set: named columns of equal length, and the file it came from.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Where the data came from, as given by the user; used in error messages.
    pub source: String,
    pub names: Vec<String>,
    pub columns: Vec<Column>,
    /// Column labels by column name: CSMAR field names, Stata variable labels. For tables.
    pub labels: BTreeMap<String, String>,
    /// Lines above the first data row (1 for a CSV header, 3 for the CSMAR layout, 0 for
    /// Stata and Parquet, whose "lines" are record numbers); see [`Frame::line_of`].
    pub header_lines: usize,
    /// What loading detected on its own (an encoding, a CSMAR layout), for the CLI to print
    /// as notes on stderr.
    pub notes: Vec<String>,
    /// Columns of the file that a projection ([`LoadOptions::columns`]) left out, in file
    /// order; empty when every column was loaded. Never in `names`: they cannot be used, but
    /// [`Frame::index_of`] draws its did-you-mean suggestion from them too.
    pub unloaded: Vec<String>,
}

impl Frame {
    /// An empty frame with `source` for messages.
    pub fn new(source: impl Into<String>) -> Self {
        Frame {
            source: source.into(),
            names: Vec::new(),
            columns: Vec::new(),
            labels: BTreeMap::new(),
            header_lines: 1,
            notes: Vec::new(),
            unloaded: Vec::new(),
        }
    }

    /// Load a data file, detecting encoding, delimiter and header rows: as
    /// [`Frame::load_with`] with `LoadOptions::default()`.
    ///
    /// **Errors**: as [`Frame::load_with`].
    pub fn load(path: &Path) -> Result<Frame> {
        Frame::load_with(path, &LoadOptions::default())
    }

    /// Load a CSV (`.csv`, `.txt`, `.tsv`), Excel (`.xlsx`, `.xlsm`, `.xls`, `.xlsb`, `.ods`),
    /// Stata (`.dta`) or Parquet (`.parquet`, `.pq`) file, chosen by extension.
    ///
    /// With [`LoadOptions::columns`], a Parquet file loads only those columns (and
    /// `year_from`); other formats load all.
    ///
    /// **Errors**: [`Error::Io`] when the file cannot be read or its extension is unknown;
    /// [`Error::Schema`] when it is empty, corrupt or malformed, or the Excel sheet does not
    /// exist; [`Error::Parse`] for text not valid in the forced encoding, or a `year_from`
    /// cell that is not a date; [`Error::ColumnNotFound`] for a missing `year_from` column.
    pub fn load_with(path: &Path, opts: &LoadOptions) -> Result<Frame> {
        let mut frame = Frame::load_format(path, opts)?;
        if let Some(col) = &opts.year_from {
            frame.add_year_from(col)?;
        }
        Ok(frame)
    }

    fn load_format(path: &Path, opts: &LoadOptions) -> Result<Frame> {
        let source = path.display().to_string();
        if !path.exists() {
            return Err(Error::Io {
                path: source,
                message: "no such file".into(),
            });
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" | "tsv" => text::load_text(path, &source, opts),
            "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => excel::load_excel(path, &source, opts),
            "dta" => stata::load_dta(path, &source, opts),
            "parquet" | "pq" => {
                let projection = opts.columns.as_ref().map(|cols| {
                    let mut cols = cols.clone();
                    cols.extend(opts.year_from.iter().cloned());
                    cols
                });
                load_parquet(path, &source, projection.as_deref())
            }
            _ => Err(Error::Io {
                path: source,
                message: format!(
                    "unknown file type \".{ext}\" (expected .csv, .tsv, .txt, .xlsx, .xls, \
                     .dta or .parquet)"
                ),
            }),
        }
    }

    /// The line an editor shows for data row `row` (0-based): `row + header_lines + 1`; for
    /// Stata and Parquet, the record number.
    pub fn line_of(&self, row: usize) -> usize {
        row + self.header_lines + 1
    }

    /// The label of a column (CSMAR field name, Stata variable label), if any.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }

    /// Number of rows (0 for a frame without columns).
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    /// Position of a column.
    ///
    /// **Errors**: [`Error::ColumnNotFound`] with the closest name as a hint, chosen among the
    /// loaded and the [`Frame::unloaded`] columns; [`Error::Schema`] for a column of the file
    /// that a projection left out.
    pub fn index_of(&self, name: &str) -> Result<usize> {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Ok(i);
        }
        if self.unloaded.iter().any(|n| n == name) {
            return Err(Error::Schema {
                path: self.source.clone(),
                message: format!(
                    "column \"{name}\" is in the file but was not loaded (left out by the \
                     column projection, or of a type keju cannot decode: decimals, float16 and \
                     nested types must be converted to numbers or text first)"
                ),
            });
        }
        Err(Error::ColumnNotFound {
            path: self.source.clone(),
            column: name.to_string(),
            suggestion: closest(
                name,
                self.names.iter().chain(&self.unloaded).map(|s| s.as_str()),
            ),
        })
    }

    /// The numeric column at `index` (a position from [`Frame::index_of`]).
    ///
    /// **Panics** when that column is text: check with [`Frame::numeric`] first.
    pub fn numeric_at(&self, index: usize) -> &[f64] {
        match &self.columns[index] {
            Column::Num(v) => v,
            Column::Str(_) => panic!("column {index} is not numeric"),
        }
    }

    /// Move the numeric column at `index` out of the frame, leaving it empty (`None` for a text
    /// column). For building a sample from a frame that is dropped afterwards.
    pub fn take_numeric(&mut self, index: usize) -> Option<Vec<f64>> {
        match &mut self.columns[index] {
            Column::Num(v) => Some(std::mem::take(v)),
            Column::Str(_) => None,
        }
    }

    /// A column by name. **Errors**: as [`Frame::index_of`].
    pub fn column(&self, name: &str) -> Result<&Column> {
        Ok(&self.columns[self.index_of(name)?])
    }

    /// A numeric column by name.
    ///
    /// **Errors**: [`Error::ColumnNotFound`]; [`Error::Parse`] for a text column, naming the
    /// first cell that is not a number and its line (header = line 1).
    pub fn numeric(&self, name: &str) -> Result<&[f64]> {
        match self.column(name)? {
            Column::Num(v) => Ok(v),
            Column::Str(v) => {
                let (row, value) = v
                    .iter()
                    .enumerate()
                    .find_map(|(i, c)| {
                        c.as_deref().and_then(|s| {
                            parse_cell(s)
                                .is_none_or(|x| keeps_text(s, x))
                                .then_some((i, s))
                        })
                    })
                    .unwrap_or((0, ""));
                Err(Error::Parse {
                    path: self.source.clone(),
                    column: name.to_string(),
                    line: self.line_of(row),
                    value: value.to_string(),
                    expected: "a number (this column is text: a cell is not a number, has a leading zero, or is an integer of 2^53 or more that a number would not keep exactly; text columns can be fixed effects, clusters or i() factors)".into(),
                })
            }
        }
    }

    /// Add or replace a column.
    ///
    /// **Panics**: if the length differs from [`Frame::n_rows`] of a non-empty frame.
    #[track_caller]
    pub fn set_column(&mut self, name: &str, column: Column) {
        assert!(
            self.columns.is_empty() || column.len() == self.n_rows(),
            "column length equals the frame's row count"
        );
        match self.names.iter().position(|n| n == name) {
            Some(i) => self.columns[i] = column,
            None => {
                self.unloaded.retain(|n| n != name);
                self.names.push(name.to_string());
                self.columns.push(column);
            }
        }
    }

    /// Keep the rows where `keep` is true, in order.
    ///
    /// **Panics**: if `keep.len() != self.n_rows()`.
    #[track_caller]
    pub fn filter(&self, keep: &[bool]) -> Frame {
        assert_eq!(keep.len(), self.n_rows(), "mask length equals row count");
        let columns = self
            .columns
            .iter()
            .map(|c| match c {
                Column::Num(v) => Column::Num(
                    v.iter()
                        .zip(keep)
                        .filter(|(_, k)| **k)
                        .map(|(x, _)| *x)
                        .collect(),
                ),
                Column::Str(v) => Column::Str(
                    v.iter()
                        .zip(keep)
                        .filter(|(_, k)| **k)
                        .map(|(x, _)| x.clone())
                        .collect(),
                ),
            })
            .collect();
        Frame {
            source: self.source.clone(),
            names: self.names.clone(),
            columns,
            labels: self.labels.clone(),
            header_lines: self.header_lines,
            notes: self.notes.clone(),
            unloaded: self.unloaded.clone(),
        }
    }

    /// Write the frame as CSV or Parquet, chosen by the extension of `path`.
    ///
    /// Whole-number columns are written as integers, so years and counts read back unchanged.
    ///
    /// **Errors**: [`Error::Io`].
    pub fn write(&self, path: &Path) -> Result<()> {
        let dest = path.display().to_string();
        let io = |e: &dyn std::fmt::Display| Error::Io {
            path: dest.clone(),
            message: e.to_string(),
        };
        let mut df = self.to_polars().map_err(|e| io(&e))?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut file = std::fs::File::create(path).map_err(|e| io(&e))?;
        match ext.as_str() {
            "parquet" | "pq" => {
                ParquetWriter::new(&mut file)
                    .finish(&mut df)
                    .map_err(|e| io(&e))?;
            }
            "csv" | "txt" => {
                CsvWriter::new(&mut file)
                    .include_header(true)
                    .finish(&mut df)
                    .map_err(|e| io(&e))?;
            }
            _ => {
                return Err(io(&format!(
                    "unknown output type \".{ext}\" (expected .csv or .parquet)"
                )))
            }
        }
        Ok(())
    }

    fn to_polars(&self) -> PolarsResult<DataFrame> {
        let cols: Vec<polars::prelude::Column> = self
            .names
            .iter()
            .zip(&self.columns)
            .map(|(name, c)| {
                let s = match c {
                    Column::Num(v) => {
                        let whole = v
                            .iter()
                            .all(|x| x.is_nan() || (x.fract() == 0.0 && x.abs() < 9e15));
                        if whole {
                            let ints: Vec<Option<i64>> = v
                                .iter()
                                .map(|x| (!x.is_nan()).then_some(*x as i64))
                                .collect();
                            Series::new(name.as_str().into(), ints)
                        } else {
                            let f: Vec<Option<f64>> =
                                v.iter().map(|x| (!x.is_nan()).then_some(*x)).collect();
                            Series::new(name.as_str().into(), f)
                        }
                    }
                    Column::Str(v) => Series::new(name.as_str().into(), v.clone()),
                };
                s.into()
            })
            .collect();
        DataFrame::new_infer_height(cols)
    }
}

/// Run Polars' Parquet reading with its panics (corrupt metadata, a physical type this build
/// cannot decode, such as decimal or float16) turned into an error message (dates, times and
/// integers of any width are read: dates and times as text, integers as numbers); the default panic
/// report is silenced meanwhile.
fn without_panics<T>(read: impl FnOnce() -> Result<T>) -> std::result::Result<Result<T>, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    std::panic::set_hook(hook);
    out.map_err(panic_message)
}

/// The message of a caught panic.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown failure".into())
}

/// Load a Parquet file: every column, or those of the file named in `projection`.
fn load_parquet(path: &Path, source: &str, projection: Option<&[String]>) -> Result<Frame> {
    without_panics(|| read_parquet_columns(path, source, projection)).unwrap_or_else(|panic| {
        Err(Error::Schema {
            path: source.to_string(),
            message: format!(
                "cannot read as Parquet (corrupt file, or a column type keju cannot decode: \
                 decimals, float16 and nested types must be converted to numbers or text \
                 first): {}",
                first_line(&panic)
            ),
        })
    })
}

/// Polars data types (by name) that keju's Polars build cannot decode.
const UNDECODABLE: [&str; 5] = ["Decimal", "Float16", "List", "Array", "Struct"];

fn read_parquet_columns(path: &Path, source: &str, projection: Option<&[String]>) -> Result<Frame> {
    let schema_err = |m: String| Error::Schema {
        path: source.to_string(),
        message: m,
    };
    let open = || {
        std::fs::File::open(path).map_err(|e| Error::Io {
            path: source.to_string(),
            message: e.to_string(),
        })
    };
    let parquet_err = |e: PolarsError| {
        schema_err(format!(
            "cannot read as Parquet: {}",
            first_line(&e.to_string())
        ))
    };
    let schema = ParquetReader::new(open()?).schema().map_err(parquet_err)?;
    let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    // The projection, in file order; the rest are only remembered by name.
    let (names, mut unloaded): (Vec<String>, Vec<String>) = match projection {
        None => (names, Vec::new()),
        Some(wanted) => names.into_iter().partition(|n| wanted.contains(n)),
    };
    // Types keju cannot decode: an error when a model names the column (the projection), a
    // skipped column with a note when every column is read (`keju check`, `describe`, ...).
    let undecodable = |name: &str| {
        schema.get(name).is_some_and(|f| {
            let dtype = format!("{:?}", f.dtype());
            UNDECODABLE.iter().any(|t| dtype.contains(t))
        })
    };
    let mut notes = Vec::new();
    let names: Vec<String> = if projection.is_none() {
        let (skip, keep): (Vec<String>, Vec<String>) =
            names.into_iter().partition(|n| undecodable(n));
        for n in &skip {
            // `Decimal(12, 2)`, `Float16`; nested types by their outer name (`LargeList`).
            let dtype = schema.get(n.as_str()).map(|f| {
                let d = format!("{:?}", f.dtype());
                match d.split_once('(') {
                    Some((outer, _)) if !outer.starts_with("Decimal") => outer.to_string(),
                    _ => d,
                }
            });
            notes.push(format!(
                "column \"{n}\" ({}) skipped: keju cannot decode decimals, float16 or nested \
                 columns (convert it to numbers or text to use it)",
                dtype.unwrap_or_default()
            ));
        }
        unloaded.extend(skip);
        keep
    } else {
        names
    };
    // One column at a time per thread, each converted and its Polars copy freed before the
    // thread reads the next: the peak holds the frame plus one column in flight per thread.
    // Plain threads, not rayon's: Polars runs its own rayon pool, and a rayon worker waiting
    // on it would start reading further columns meanwhile (all columns in flight at once:
    // +500 MB on a 5e6-row file with several row groups).
    let read_column = |name: &String| -> Result<Column> {
        let read = || {
            ParquetReader::new(open()?)
                .with_columns(Some(vec![name.clone()]))
                .finish()
                .map_err(|e| {
                    schema_err(format!(
                        "column \"{name}\": cannot read this Parquet column ({}); \
                             decimals, float16 and nested types must be converted to numbers \
                             or text first",
                        first_line(&e.to_string())
                    ))
                })
        };
        // A panic here (Polars on a decimal or float16 column) is reported with the
        // column and its type; the caller's `without_panics` has silenced the hook.
        let mut df = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(
            |panic| {
                let dtype = schema
                    .get(name.as_str())
                    .map_or(String::new(), |f| format!(" ({:?})", f.dtype()));
                let unsupported = UNDECODABLE.iter().any(|t| dtype.contains(t));
                Err(schema_err(if unsupported {
                    // Polars' own message ("activate ... feature") is about its build,
                    // not the user's file.
                    format!(
                        "cannot read as Parquet: column \"{name}\"{dtype} has a type keju \
                             cannot decode: decimals, float16 and nested types must be converted \
                             to numbers or text first (e.g. pyarrow.compute.cast)"
                    )
                } else {
                    format!(
                        "cannot read as Parquet: column \"{name}\"{dtype} could not be \
                             decoded (corrupt?): {}",
                        first_line(&panic_message(panic))
                    )
                }))
            },
        )?;
        let col = df
            .drop_in_place(name)
            .map_err(|_| schema_err(format!("column \"{name}\" could not be read")))?;
        convert_parquet_column(name, col, &schema_err)
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = rayon::current_num_threads().clamp(1, names.len().max(1));
    let mut slots: Vec<Option<Result<Column>>> = (0..names.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(name) = names.get(i) else { break };
                        done.push((i, read_column(name)));
                    }
                    done
                })
            })
            .collect();
        for w in workers {
            // A panic escaping a reader (outside the per-column catch) resumes here and is
            // turned into an error by the caller's `without_panics`.
            for (i, r) in w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)) {
                slots[i] = Some(r);
            }
        }
    });
    let columns: Vec<Column> = slots
        .into_iter()
        .map(|r| r.expect("every column is read"))
        .collect::<Result<_>>()?;
    let mut frame = Frame::new(source);
    frame.names = names;
    frame.columns = columns;
    frame.unloaded = unloaded;
    frame.notes = notes;
    Ok(frame)
}

/// A Polars column as a keju column: numbers and booleans become `f64` (nulls and non-finite
/// values missing), anything else text.
///
/// A column that is one chunk of `f64` after the cast (the usual case for a column just read)
/// becomes the keju column without a copy: its buffer is taken over from Polars when Polars
/// holds the only reference, and missing values are marked in place.
fn convert_parquet_column(
    name: &str,
    col: polars::prelude::Column,
    schema_err: &dyn Fn(String) -> Error,
) -> Result<Column> {
    let dtype = col.dtype().clone();
    if dtype == DataType::Null {
        // A column with no value at all (pyarrow's null type): numeric and all missing, as
        // the same column in a CSV file.
        return Ok(Column::Num(vec![f64::NAN; col.len()]));
    }
    if !(dtype.is_primitive_numeric() || dtype == DataType::Boolean) {
        return parquet_text(name, &col, schema_err);
    }
    let col = if dtype == DataType::Int64 {
        match int64_in_place(col) {
            Ok(out) => return Ok(Column::Num(out)),
            Err(col) => *col,
        }
    } else {
        col
    };
    let f = if dtype == DataType::Float64 {
        col
    } else {
        let f = col
            .cast(&DataType::Float64)
            .map_err(|e| schema_err(format!("column \"{name}\": {e}")))?;
        // 64-bit integers of 2^53 or more (18-digit ids) are not exact as f64: distinct ids
        // would merge. Such a column stays text, as a CSV column of such numbers does.
        let ca = f.f64().map_err(|e| schema_err(e.to_string()))?;
        // Compared after the cast: 2^53 + 1 casts to 2^53, so 2^53 itself counts as inexact.
        let inexact = |m: Option<f64>| m.is_some_and(|m| m.abs() >= EXACT_INTEGER_LIMIT);
        if dtype.is_integer() && (inexact(ca.max()) || inexact(ca.min())) {
            return parquet_text(name, &col, schema_err);
        }
        f
    };
    let finite = |v: &mut f64| {
        if !v.is_finite() {
            *v = f64::NAN
        }
    };
    let mut out: Vec<f64> = Vec::new();
    for chunk in f.take_materialized_series().into_chunks() {
        let arr = chunk
            .as_any()
            .downcast_ref::<PrimitiveArray<f64>>()
            .ok_or_else(|| schema_err(format!("column \"{name}\": not a float column")))?
            .clone();
        // The clone shares the buffer; dropping the chunk leaves `arr` its only owner.
        drop(chunk);
        let (_, values, validity) = arr.into_inner();
        let start = out.len();
        if out.is_empty() {
            out = values.to_vec();
        } else {
            out.extend_from_slice(values.as_slice());
        }
        let part = &mut out[start..];
        match validity {
            None => part.iter_mut().for_each(finite),
            Some(valid) => part.iter_mut().zip(valid.iter()).for_each(|(v, ok)| {
                if ok {
                    finite(v)
                } else {
                    *v = f64::NAN
                }
            }),
        }
    }
    Ok(Column::Num(out))
}

/// A 64-bit integer column (ids, years) as `f64` in the buffer Polars decoded it into: the
/// values are converted in place when Polars holds the only reference (no second column
/// allocated, as a cast would), nulls become NaN. The column comes back unchanged when it is
/// not a single chunk, or holds a value of magnitude 2^53 or more (not exact as f64: the
/// caller keeps it as text).
fn int64_in_place(
    col: polars::prelude::Column,
) -> std::result::Result<Vec<f64>, Box<polars::prelude::Column>> {
    let fits = {
        let series = col.as_materialized_series();
        match series.chunks().as_slice() {
            [chunk] => chunk
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
                .is_some_and(|arr| {
                    // Below 2^53, as the cast path decides (which cannot tell 2^53 + 1 from
                    // 2^53).
                    let exact = |v: &i64| v.unsigned_abs() < EXACT_INTEGER_LIMIT as u64;
                    match arr.validity() {
                        None => arr.values().iter().all(exact),
                        Some(valid) => arr
                            .values()
                            .iter()
                            .zip(valid.iter())
                            .all(|(v, ok)| !ok || exact(v)),
                    }
                }),
            _ => false,
        }
    };
    if !fits {
        return Err(Box::new(col));
    }
    let mut chunks = col.take_materialized_series().into_chunks();
    let chunk = chunks.pop().expect("one chunk");
    let arr = chunk
        .as_any()
        .downcast_ref::<PrimitiveArray<i64>>()
        .expect("checked above")
        .clone();
    // The clone shares the buffer; dropping the chunk leaves `arr` its only owner.
    drop(chunk);
    let (_, values, validity) = arr.into_inner();
    let ints: Vec<i64> = values.to_vec();
    // Same size and alignment: the collect reuses the allocation.
    let mut out: Vec<f64> = ints.into_iter().map(|v| v as f64).collect();
    if let Some(valid) = validity {
        out.iter_mut().zip(valid.iter()).for_each(|(v, ok)| {
            if !ok {
                *v = f64::NAN
            }
        });
    }
    Ok(out)
}

/// A Polars column as a keju text column.
fn parquet_text(
    name: &str,
    col: &polars::prelude::Column,
    schema_err: &dyn Fn(String) -> Error,
) -> Result<Column> {
    let s = col.cast(&DataType::String).map_err(|e| {
        schema_err(format!(
            "column \"{name}\" ({}): {}; decimals, float16 and nested types must be converted \
             to numbers or text first",
            col.dtype(),
            first_line(&e.to_string())
        ))
    })?;
    let ca = s.str().map_err(|e| schema_err(e.to_string()))?;
    Ok(Column::Str(
        ca.iter().map(|x| x.map(String::from)).collect(),
    ))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_tmp(name: &str, content: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::File::create(&p)
            .unwrap()
            .write_all(content.as_bytes())
            .unwrap();
        (dir, p)
    }

    #[test]
    fn csv_types_missing_bom_and_leading_zeros() {
        let (_d, p) = write_tmp(
            "a.csv",
            "\u{feff}code,y,城市,z\n000001,1.5,北京,NA\n000002,,上海,n.a.\n",
        );
        let f = Frame::load(&p).unwrap();
        assert_eq!(f.names, vec!["code", "y", "城市", "z"]);
        assert!(matches!(f.column("code").unwrap(), Column::Str(_)));
        let y = f.numeric("y").unwrap();
        assert_eq!(y[0], 1.5);
        assert!(y[1].is_nan());
        let err = f.numeric("z").unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("n.a."), "{err}");
        let err = f.numeric("yy").unwrap_err().to_string();
        assert!(err.contains("did you mean \"y\""), "{err}");
    }

    /// Parquet numbers become f64 columns (taken over from Polars without a copy when possible):
    /// nulls and non-finite values are missing, integers and booleans converted, across row
    /// groups (several chunks).
    #[test]
    fn parquet_numbers_nulls_and_non_finite_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n.parquet");
        let mut df = DataFrame::new_infer_height(vec![
            polars::prelude::Column::new(
                "f".into(),
                [
                    Some(1.5),
                    None,
                    Some(f64::INFINITY),
                    Some(f64::NAN),
                    Some(-2.0),
                    Some(f64::NEG_INFINITY),
                ],
            ),
            polars::prelude::Column::new(
                "i".into(),
                [Some(3i64), Some(4), None, Some(-1), Some(0), Some(7)],
            ),
            polars::prelude::Column::new("b".into(), [true, false, true, true, false, false]),
            polars::prelude::Column::new("g".into(), [2.0f64, 4.0, 6.0, 8.0, 10.0, 12.0]),
            polars::prelude::Column::full_null("none".into(), 6, &DataType::Null),
        ])
        .unwrap();
        // Two row groups (two chunks: the cast path) and one (64-bit integers converted in
        // place).
        for groups in [Some(4), None] {
            ParquetWriter::new(std::fs::File::create(&p).unwrap())
                .with_row_group_size(groups)
                .finish(&mut df)
                .unwrap();
            let f = Frame::load(&p).unwrap();
            let show = |name: &str| -> Vec<String> {
                f.numeric(name)
                    .unwrap()
                    .iter()
                    .map(|v| format!("{v}"))
                    .collect()
            };
            assert_eq!(show("f"), ["1.5", "NaN", "NaN", "NaN", "-2", "NaN"]);
            assert_eq!(show("i"), ["3", "4", "NaN", "-1", "0", "7"]);
            assert_eq!(show("b"), ["1", "0", "1", "1", "0", "0"]);
            assert_eq!(show("g"), ["2", "4", "6", "8", "10", "12"]);
            // A column of the null type is numeric and all missing (it was text).
            assert_eq!(show("none"), ["NaN"; 6]);
        }
    }

    #[test]
    fn roundtrip_csv_and_parquet() {
        let mut f = Frame::new("mem");
        f.set_column("year", Column::Num(vec![2009.0, 2010.0]));
        f.set_column("v", Column::Num(vec![0.5, f64::NAN]));
        f.set_column("id", Column::Str(vec![Some("000001".into()), None]));
        let dir = tempfile::tempdir().unwrap();
        for name in ["o.csv", "o.parquet"] {
            let p = dir.path().join(name);
            f.write(&p).unwrap();
            let g = Frame::load(&p).unwrap();
            assert_eq!(g.names, f.names);
            assert_eq!(g.numeric("year").unwrap(), &[2009.0, 2010.0]);
            assert!(g.numeric("v").unwrap()[1].is_nan());
            assert_eq!(g.column("id").unwrap(), f.column("id").unwrap());
        }
        let text = std::fs::read_to_string(dir.path().join("o.csv")).unwrap();
        assert!(text.contains("2009,0.5,000001"), "{text}");
    }

    /// A projection loads the requested columns in file order, skips unknown names, keeps
    /// the others' names for hints, adds `year_from`; CSV ignores it.
    #[test]
    fn parquet_column_projection() {
        let mut f = Frame::new("mem");
        f.set_column("Stkcd", Column::Str(vec![Some("000001".into()), None]));
        f.set_column("Accper", Column::Str(vec![Some("2019-12-31".into()), None]));
        f.set_column("Size", Column::Num(vec![21.5, 22.0]));
        f.set_column("ROA", Column::Num(vec![0.1, f64::NAN]));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.parquet");
        f.write(&p).unwrap();
        let only = |cols: &[&str]| LoadOptions {
            columns: Some(cols.iter().map(|c| c.to_string()).collect()),
            ..LoadOptions::default()
        };
        let g = Frame::load_with(&p, &only(&["ROA", "Stkcd", "Sizee", "ROA"])).unwrap();
        assert_eq!(g.names, vec!["Stkcd", "ROA"]);
        assert_eq!(g.unloaded, vec!["Accper", "Size"]);
        assert_eq!(g.column("Stkcd").unwrap(), f.column("Stkcd").unwrap());
        assert_eq!(g.n_rows(), 2);
        // the hint comes from a column that was not loaded
        match g.index_of("Sizee").unwrap_err() {
            Error::ColumnNotFound { suggestion, .. } => assert_eq!(suggestion.unwrap(), "Size"),
            e => panic!("{e}"),
        }
        let err = g.index_of("Size").unwrap_err().to_string();
        assert!(
            err.contains("\"Size\" is in the file but was not loaded"),
            "{err}"
        );
        // year_from is loaded though not listed; the new `year` is a loaded column
        let opts = LoadOptions {
            year_from: Some("Accper".into()),
            ..only(&["ROA"])
        };
        let g = Frame::load_with(&p, &opts).unwrap();
        assert_eq!(g.names, vec!["Accper", "ROA", "year"]);
        assert_eq!(g.numeric("year").unwrap()[0], 2019.0);
        assert_eq!(g.unloaded, vec!["Stkcd", "Size"]);
        // a column set by name is no longer unloaded; filtering keeps the list
        let mut h = g.filter(&[true, false]);
        assert_eq!(h.unloaded, vec!["Stkcd", "Size"]);
        h.set_column("Size", Column::Num(vec![1.0]));
        assert_eq!(h.unloaded, vec!["Stkcd"]);
        // nothing requested is in the file: no columns, every name still suggested
        let g = Frame::load_with(&p, &only(&["roa2"])).unwrap();
        assert!(g.names.is_empty() && g.unloaded.len() == 4);
        assert!(g
            .index_of("roa2")
            .unwrap_err()
            .to_string()
            .contains("\"ROA\""));
        // CSV ignores the projection
        let c = dir.path().join("c.csv");
        f.write(&c).unwrap();
        let g = Frame::load_with(&c, &only(&["ROA"])).unwrap();
        assert_eq!(g.names, f.names);
        assert!(g.unloaded.is_empty());
    }

    #[test]
    fn integer_fast_path_equals_general_path() {
        let v = vec![209.0, 211.0, f64::NAN, 209.0, -3.0, 211.0];
        let (codes, values) = integer_codes(&v).unwrap();
        assert_eq!(values, vec![-3.0, 209.0, 211.0]);
        assert_eq!(codes, vec![1, 2, Factor::MISSING, 1, 0, 2]);
        assert!(integer_codes(&[0.5, 1.0]).is_none());
        assert!(integer_codes(&[0.0, 1e12]).is_none());
        // The general path (a non-integer forces it) codes the same order; group_codes agrees
        // with factorize on both paths.
        let col = Column::Num(v.clone());
        assert_eq!(col.factorize().levels, vec!["-3", "209", "211"]);
        assert_eq!(col.group_codes(), (codes, 3));
        // −0 and 0 are one group on both paths (a panic before: sorted apart, deduplicated
        // together).
        let zeros = Column::Num(vec![0.0, -0.0, 0.5, 0.0, -0.0]);
        assert_eq!(zeros.factorize().codes, vec![0, 0, 1, 0, 0]);
        assert_eq!(zeros.factorize().levels, vec!["0", "0.5"]);
        assert_eq!(
            Column::Num(vec![0.0, -0.0, 1.0]).group_codes(),
            (vec![0, 0, 1], 2)
        );
        let frac = Column::Num(vec![2.5, f64::NAN, -1.0, 2.5]);
        assert_eq!(frac.group_codes(), (frac.factorize().codes, 2));
        assert_eq!(frac.factorize().codes, vec![1, Factor::MISSING, 0, 1]);
    }

    #[test]
    fn factorize_sorts_numerically() {
        let c = Column::Num(vec![10.0, 2.0, f64::NAN, 2.0]);
        let f = c.factorize();
        assert_eq!(f.levels, vec!["2", "10"]);
        assert_eq!(f.codes, vec![1, 0, Factor::MISSING, 0]);
    }
}
