//! Excel input (`.xlsx`, `.xlsm`, `.xls`, `.xlsb`, `.ods`) through calamine: one sheet
//! ([`super::Sheet`]), cells turned into text the way a CSV export would show them, then typed
//! by the CSV rules ([`super::table::build_frame`]), so a sheet and its CSV export load alike.
//!
//! Cells: numbers print in shortest round-trip form (`0.1`, `2018`); text cells stay text (a
//! code stored as text, `000001`, keeps its zeros); dates become `YYYY-MM-DD` (with the time
//! when it is not midnight); booleans 1/0; error cells (`#DIV/0!`) stay text so that using the
//! column as a number names them.

use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};

use super::table::{build_frame, TextTable};
use super::{first_line, Frame, LoadOptions};
use crate::error::{Error, Result};

/// Load one sheet of a workbook. Lines in messages are the sheet's row numbers.
///
/// **Errors**: [`Error::Io`] when the file cannot be opened; [`Error::Schema`] when it is not a
/// readable workbook (corrupt, truncated), when the sheet does not exist (listing the sheets),
/// or when the sheet is empty.
pub(super) fn load_excel(path: &Path, source: &str, opts: &LoadOptions) -> Result<Frame> {
    let schema_err = |m: String| Error::Schema {
        path: source.to_string(),
        message: m,
    };
    let mut book = open_workbook_auto(path).map_err(|e| {
        schema_err(format!(
            "cannot read as an Excel workbook (corrupt or truncated?): {}",
            first_line(&e.to_string())
        ))
    })?;
    let sheets = book.sheet_names();
    let listed = || {
        sheets
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{i}: \"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let name = match &opts.sheet {
        None => sheets
            .first()
            .cloned()
            .ok_or_else(|| schema_err("the workbook has no sheets".into()))?,
        Some(s) => match sheets.iter().find(|n| **n == s.0) {
            Some(n) => n.clone(),
            None => match s.0.trim().parse::<usize>() {
                Ok(i) if i < sheets.len() => sheets[i].clone(),
                _ => {
                    return Err(schema_err(format!(
                        "no sheet \"{s}\"; the sheets are {}{}",
                        listed(),
                        crate::error::closest(&s.0, sheets.iter().map(|s| s.as_str()))
                            .filter(|_| s.0.trim().parse::<usize>().is_err())
                            .map_or(String::new(), |c| format!("\nhint: did you mean \"{c}\"?"))
                    )))
                }
            },
        },
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| schema_err(format!("sheet \"{name}\": {}", first_line(&e.to_string()))))?;
    let source = if sheets.len() > 1 {
        format!("{source} [sheet \"{name}\"]")
    } else {
        source.to_string()
    };
    let Some((row0, _)) = range.start() else {
        return Err(Error::Schema {
            path: source,
            message: "the sheet is empty".into(),
        });
    };
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(|c| cell_text(c).unwrap_or_default()).collect())
        .unwrap_or_default();
    let width = header.len();
    let mut cells: Vec<Vec<Option<String>>> = vec![Vec::new(); width];
    for row in rows {
        for (j, col) in cells.iter_mut().enumerate() {
            col.push(row.get(j).and_then(cell_text));
        }
    }
    let columns = cells
        .iter()
        .map(|c| c.iter().map(|s| s.as_deref()).collect())
        .collect();
    let table = TextTable {
        names: header.into_iter().map(|s| s.trim().to_string()).collect(),
        columns,
        header_line: row0 as usize + 1,
    };
    build_frame(&source, table, opts.header_rows)
}

/// A cell as the text a CSV export would hold; `None` for an empty cell.
fn cell_text(cell: &Data) -> Option<String> {
    match cell {
        Data::Empty => None,
        Data::String(s) => (!s.trim().is_empty()).then(|| s.clone()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(x) => Some(format!("{x}")),
        Data::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
        Data::DateTime(d) if d.is_datetime() => {
            let (y, m, day, h, min, s, _) = d.to_ymd_hms_milli();
            Some(if (h, min, s) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{day:02}")
            } else {
                format!("{y:04}-{m:02}-{day:02} {h:02}:{min:02}:{s:02}")
            })
        }
        Data::DateTime(d) => Some(format!("{}", d.as_f64())),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s.clone()),
        Data::Error(e) => Some(format!("{e}")),
    }
}
