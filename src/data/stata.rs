//! Stata `.dta` input (releases 102-119) through the `dta` crate.
//!
//! - Numeric variables become [`Column::Num`] (every Stata missing value, `.` and `.a`-`.z`,
//!   is `NaN`); `float` values are promoted to `f64` exactly, as Stata computes with them.
//! - Numeric variables with a value label become [`Column::Str`] holding the labels (a value
//!   without a label keeps its number as text): `i(industry)` then shows the label names.
//! - `str#` and `strL` variables stay text (so `000001` keeps its zeros); `""` is missing.
//! - Variables with a daily (`%td`) or clock (`%tc`, `%tC`) format become `YYYY-MM-DD` text.
//! - Variable labels become [`Frame::labels`].
//!
//! Text is UTF-8 for releases 118-119 and Windows-1252 before, as Stata wrote it; Chinese
//! files saved by Stata 13 or older are usually GBK: read them with `--encoding gbk`.
//! Lines in messages are observation numbers (1 = the first observation).

use std::collections::BTreeMap;
use std::path::Path;

use dta::stata::dta::dta_reader::DtaReader;
use dta::stata::dta::long_string_ref::LongStringRef;
use dta::stata::dta::long_string_table::LongStringTable;
use dta::stata::dta::value::Value;
use dta::stata::dta::value_label_table::ValueLabelTable;
use dta::stata::dta::variable_type::VariableType;
use dta::stata::stata_byte::StataByte;
use dta::stata::stata_double::StataDouble;
use dta::stata::stata_float::StataFloat;
use dta::stata::stata_int::StataInt;
use dta::stata::stata_long::StataLong;

use super::{Column, Encoding, Frame, LoadOptions};
use crate::error::{Error, Result};

enum Buffer {
    Num(Vec<f64>),
    Str(Vec<Option<String>>),
}

/// Load a Stata data set.
///
/// **Errors**: [`Error::Io`] when the file cannot be opened; [`Error::Schema`] when it is not
/// a readable `.dta` file (corrupt, truncated, unknown release).
pub(super) fn load_dta(path: &Path, source: &str, opts: &LoadOptions) -> Result<Frame> {
    let fail = |e: &dyn std::fmt::Display| Error::Schema {
        path: source.to_string(),
        message: format!("cannot read as a Stata .dta file (corrupt or truncated?): {e}"),
    };
    let file = std::fs::File::open(path).map_err(|e| Error::Io {
        path: source.to_string(),
        message: e.to_string(),
    })?;
    let mut reader = DtaReader::new();
    if matches!(opts.encoding, Encoding::Gbk | Encoding::Gb18030) {
        reader = reader.encoding(encoding_rs::GB18030);
    }
    let header_reader = reader.from_file(file);
    let schema_reader = header_reader.read_header().map_err(|e| fail(&e))?;
    let mut characteristics = schema_reader.read_schema().map_err(|e| fail(&e))?;
    characteristics.skip_to_end().map_err(|e| fail(&e))?;
    let mut records = characteristics.into_record_reader().map_err(|e| fail(&e))?;
    let schema = records.schema().clone();
    let variables = schema.variables();
    let n_obs = usize::try_from(records.header().observation_count()).unwrap_or(0);
    let mut buffers: Vec<Buffer> = variables
        .iter()
        .map(|v| match v.variable_type() {
            VariableType::FixedString(_) | VariableType::LongString => {
                Buffer::Str(Vec::with_capacity(n_obs))
            }
            _ => Buffer::Num(Vec::with_capacity(n_obs)),
        })
        .collect();
    let mut strl_refs: Vec<(usize, usize, LongStringRef)> = Vec::new();
    let mut row = 0usize;
    while let Some(record) = records.read_record().map_err(|e| fail(&e))? {
        for (j, value) in record.values().iter().enumerate() {
            match (&mut buffers[j], value) {
                (Buffer::Num(v), value) => v.push(number(value)),
                (Buffer::Str(v), Value::String(s)) => {
                    let t = s.trim_end_matches('\0');
                    v.push((!t.is_empty()).then(|| t.to_string()));
                }
                (Buffer::Str(v), Value::LongStringRef(r)) => {
                    v.push(None);
                    strl_refs.push((j, row, *r));
                }
                (Buffer::Str(v), _) => v.push(None),
            }
        }
        row += 1;
    }
    let mut long_strings = records.into_long_string_reader().map_err(|e| fail(&e))?;
    let encoding = long_strings.encoding();
    let mut table = LongStringTable::for_reading();
    long_strings
        .read_remaining_into(&mut table)
        .map_err(|e| fail(&e))?;
    for (j, i, r) in strl_refs {
        if let (Buffer::Str(v), Some(ls)) = (&mut buffers[j], table.get(&r)) {
            v[i] = ls
                .data_str(encoding)
                .map(|s| s.trim_end_matches('\0').to_string())
                .filter(|s| !s.is_empty());
        }
    }
    let mut value_labels = ValueLabelTable::new();
    long_strings
        .into_value_label_reader()
        .map_err(|e| fail(&e))?
        .read_remaining_into(&mut value_labels)
        .map_err(|e| fail(&e))?;

    let mut frame = Frame::new(source);
    frame.header_lines = 0;
    let mut labels = BTreeMap::new();
    for (var, buf) in variables.iter().zip(buffers) {
        let name = var.name().to_string();
        let format = var.format().trim_start_matches('%');
        let column = match buf {
            Buffer::Str(v) => Column::Str(v),
            Buffer::Num(v) if format.starts_with("td") || format.starts_with('d') => {
                Column::Str(v.iter().map(|x| date_text(*x, 1.0)).collect())
            }
            Buffer::Num(v) if format.starts_with("tc") || format.starts_with("tC") => {
                Column::Str(v.iter().map(|x| date_text(*x, 86_400_000.0)).collect())
            }
            Buffer::Num(v) if value_labels.get(var.value_label_name()).is_some() => Column::Str(
                v.iter()
                    .map(|x| {
                        (!x.is_nan()).then(|| {
                            let label = (x.fract() == 0.0 && x.abs() < 2.1e9)
                                .then(|| value_labels.label_for(var, *x as i32))
                                .flatten();
                            label.map_or_else(|| super::format_number(*x), str::to_string)
                        })
                    })
                    .collect(),
            ),
            Buffer::Num(v) => Column::Num(v),
        };
        if !var.label().trim().is_empty() {
            labels.insert(name.clone(), var.label().trim().to_string());
        }
        if frame.names.contains(&name) {
            return Err(fail(&format!("variable \"{name}\" appears twice")));
        }
        frame.names.push(name);
        frame.columns.push(column);
    }
    frame.labels = labels;
    if frame.names.is_empty() {
        return Err(Error::Schema {
            path: source.to_string(),
            message: "the file has no variables".into(),
        });
    }
    Ok(frame)
}

fn number(value: &Value<'_>) -> f64 {
    match value {
        Value::Byte(StataByte::Present(x)) => f64::from(*x),
        Value::Int(StataInt::Present(x)) => f64::from(*x),
        Value::Long(StataLong::Present(x)) => f64::from(*x),
        Value::Float(StataFloat::Present(x)) => f64::from(*x),
        Value::Double(StataDouble::Present(x)) => *x,
        _ => f64::NAN,
    }
}

/// A Stata date (`units_per_day` = 1 for `%td` days, 86 400 000 for `%tc` milliseconds since
/// 1960-01-01) as `YYYY-MM-DD`.
fn date_text(x: f64, units_per_day: f64) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    let days = (x / units_per_day).floor() as i64;
    let (y, m, d) = civil_from_days(days - 3653); // 1960-01-01 is 3653 days before 1970-01-01
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// Year, month, day of `days` since 1970-01-01 (proleptic Gregorian).
///
/// **Source**: H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stata_dates() {
        assert_eq!(date_text(0.0, 1.0).unwrap(), "1960-01-01");
        assert_eq!(date_text(22645.0, 1.0).unwrap(), "2021-12-31");
        assert_eq!(
            date_text(22645.0 * 86_400_000.0 + 5.0, 86_400_000.0).unwrap(),
            "2021-12-31"
        );
        assert!(date_text(f64::NAN, 1.0).is_none());
    }
}
