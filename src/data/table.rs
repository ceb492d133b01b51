//! From a grid of text cells to a typed [`Frame`], shared by CSV/TXT and Excel: CSMAR header
//! detection ([`HeaderRows`]), labels, and keju's typing rules (see the `data` module doc).

use std::collections::BTreeMap;

use super::{keeps_text, parse_cell, Column, Frame, HeaderRows, MISSING_TOKENS};
use crate::error::{Error, Result};

/// Cells of one table as text, column by column, before typing.
pub(super) struct TextTable<'a> {
    /// Column names from the first header row.
    pub names: Vec<String>,
    /// `columns[j][i]`: row `i` (after the first header row) of column `j`; `None` = empty.
    pub columns: Vec<Vec<Option<&'a str>>>,
    /// Editor line (or spreadsheet row) of the first header row, 1-based.
    pub header_line: usize,
}

/// Type the cells of `table` into a frame, taking CSMAR's two extra header rows out first when
/// asked or detected (their first row becomes the column labels).
///
/// **Errors**: [`Error::Schema`] for no columns, an empty or repeated column name, or
/// `--header-rows 3` on a table with fewer than two rows under the header.
pub(super) fn build_frame(
    source: &str,
    table: TextTable<'_>,
    header_rows: HeaderRows,
) -> Result<Frame> {
    let schema_err = |m: String| Error::Schema {
        path: source.to_string(),
        message: m,
    };
    let TextTable {
        names,
        mut columns,
        header_line,
    } = table;
    if names.is_empty() {
        return Err(schema_err("the file has no columns".into()));
    }
    let n_rows = columns.first().map_or(0, Vec::len);
    let csmar = match header_rows {
        HeaderRows::One => false,
        HeaderRows::Three => {
            if n_rows < 2 {
                return Err(schema_err(
                    "--header-rows 3: the file has fewer than three rows".into(),
                ));
            }
            true
        }
        HeaderRows::Auto => looks_like_csmar(&columns),
    };
    let mut frame = Frame::new(source);
    frame.header_lines = header_line;
    let mut labels = BTreeMap::new();
    if csmar {
        frame.header_lines = header_line + 2;
        for (name, col) in names.iter().zip(&mut columns) {
            if let Some(label) = col[0].map(str::trim).filter(|s| !s.is_empty()) {
                labels.insert(name.clone(), label.to_string());
            }
            col.drain(..2);
        }
        if header_rows == HeaderRows::Auto {
            frame.notes.push(format!(
                "{source}: CSMAR layout (field codes, names, units): lines {}-{} are headers; \
                 the field names are kept as labels (--header-rows 1 to turn this off)",
                header_line,
                header_line + 2
            ));
        }
    }
    for (j, (mut name, cells)) in names.into_iter().zip(columns).enumerate() {
        if name.trim().is_empty() {
            if cells.iter().all(Option::is_none) {
                continue; // an empty trailing column, as Excel and some exports leave
            }
            // R's write.csv leaves the row-name column unnamed: name it by position.
            name = format!("column_{}", j + 1);
            if frame.names.contains(&name) {
                return Err(schema_err(format!(
                    "column {} has no name in the header (line {header_line})",
                    j + 1
                )));
            }
            frame.notes.push(format!(
                "{source}: column {} has no name in the header; it is called \"{name}\"",
                j + 1
            ));
        }
        // polars renames a repeated header `x` to `x_duplicated_0`
        let duplicated = name.rsplit_once("_duplicated_").is_some_and(|(base, k)| {
            k.parse::<usize>().is_ok() && frame.names.iter().any(|n| n == base)
        });
        if frame.names.contains(&name) || duplicated {
            let name = name.split("_duplicated_").next().unwrap_or(&name);
            return Err(schema_err(format!(
                "column \"{name}\" appears twice in the header"
            )));
        }
        frame.columns.push(typed_column(&cells));
        frame.names.push(name);
    }
    frame.labels = labels;
    Ok(frame)
}

/// CSMAR exports: the two rows under the header are field names (all filled, none a number)
/// and units (none a number, none equal to the name above), above at least one column
/// holding only numbers.
fn looks_like_csmar(columns: &[Vec<Option<&str>>]) -> bool {
    let n_rows = columns.first().map_or(0, Vec::len);
    if n_rows < 3 {
        return false;
    }
    let is_number = |c: Option<&str>| {
        c.is_some_and(|s| !MISSING_TOKENS.contains(&s.trim()) && parse_cell(s).is_some())
    };
    let names_row = columns
        .iter()
        .all(|c| c[0].is_some_and(|s| !s.trim().is_empty()) && !is_number(c[0]));
    // units differ from names; in data, two text cells atop a numeric column are usually the
    // same missing marker ("n.a.", "--")
    let units_row = columns
        .iter()
        .all(|c| !is_number(c[1]) && c[1].map(str::trim) != c[0].map(str::trim));
    let numeric_below = columns.iter().any(|c| {
        c[2..].iter().any(|x| is_number(*x))
            && c[2..]
                .iter()
                .all(|x| x.is_none_or(|s| parse_cell(s).is_some()))
    });
    names_row && units_row && numeric_below
}

/// A boolean cell as pandas and R write it (`True`/`False`, `TRUE`/`FALSE`, `true`/`false`).
fn boolean(s: &str) -> Option<f64> {
    match s.trim() {
        "True" | "TRUE" | "true" => Some(1.0),
        "False" | "FALSE" | "false" => Some(0.0),
        _ => None,
    }
}

/// keju's typing rule: numeric when every non-missing cell is a number without a leading zero;
/// 1/0 when every non-missing cell is a boolean word (as Parquet booleans load); text
/// otherwise (trimmed, missing tokens as `None`).
pub(super) fn typed_column(cells: &[Option<&str>]) -> Column {
    let present = || {
        cells
            .iter()
            .flatten()
            .filter(|s| !MISSING_TOKENS.contains(&s.trim()))
    };
    if present().next().is_some() && present().all(|s| boolean(s).is_some()) {
        return Column::Num(
            cells
                .iter()
                .map(|c| c.and_then(boolean).unwrap_or(f64::NAN))
                .collect(),
        );
    }
    let mut nums = Vec::with_capacity(cells.len());
    for c in cells {
        match c {
            None => nums.push(f64::NAN),
            Some(s) => match parse_cell(s) {
                Some(x) if !keeps_text(s, x) => nums.push(x),
                _ => {
                    return Column::Str(
                        cells
                            .iter()
                            .map(|c| {
                                c.and_then(|s| {
                                    let t = s.trim();
                                    (!MISSING_TOKENS.contains(&t)).then(|| t.to_string())
                                })
                            })
                            .collect(),
                    )
                }
            },
        }
    }
    Column::Num(nums)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table<'a>(names: &[&str], rows: &[&[Option<&'a str>]]) -> TextTable<'a> {
        TextTable {
            names: names.iter().map(|s| s.to_string()).collect(),
            columns: (0..names.len())
                .map(|j| rows.iter().map(|r| r[j]).collect())
                .collect(),
            header_line: 1,
        }
    }

    #[test]
    fn boolean_words_are_one_and_zero() {
        let col = typed_column(&[
            Some("True"),
            Some("FALSE"),
            None,
            Some("NA"),
            Some(" true "),
        ]);
        match col {
            Column::Num(v) => {
                assert_eq!(v[..2], [1.0, 0.0]);
                assert!(v[2].is_nan() && v[3].is_nan());
                assert_eq!(v[4], 1.0);
            }
            c => panic!("{c:?}"),
        }
        // Mixed with other words, or all missing: not booleans.
        assert!(matches!(
            typed_column(&[Some("True"), Some("maybe")]),
            Column::Str(_)
        ));
        assert!(matches!(
            typed_column(&[Some("yes"), Some("no")]),
            Column::Str(_)
        ));
    }

    #[test]
    fn csmar_detected_labels_kept_lines_shifted() {
        let t = table(
            &["Stkcd", "ROA"],
            &[
                &[Some("证券代码"), Some("总资产净利润率")],
                &[Some("没有单位"), Some("比率")],
                &[Some("000001"), Some("0.1")],
                &[Some("000002"), Some("n.a.")],
            ],
        );
        let f = build_frame("a.csv", t, HeaderRows::Auto).unwrap();
        assert_eq!(f.n_rows(), 2);
        assert_eq!(f.label("ROA"), Some("总资产净利润率"));
        assert_eq!(f.header_lines, 3);
        let err = f.numeric("ROA").unwrap_err().to_string();
        assert!(err.contains("line 5") && err.contains("n.a."), "{err}");
    }

    #[test]
    fn text_in_first_rows_is_not_csmar() {
        // "n.a." twice at the top of a numeric column: not a header (other columns are data)
        let t = table(
            &["id", "y"],
            &[
                &[Some("a"), Some("n.a.")],
                &[Some("b"), Some("n.a.")],
                &[Some("c"), Some("1")],
            ],
        );
        let f = build_frame("a.csv", t, HeaderRows::Auto).unwrap();
        assert_eq!(f.n_rows(), 3);
        assert!(f.notes.is_empty());
        let t = table(
            &["id", "y"],
            &[
                &[Some("1"), Some("x")],
                &[Some("u"), None],
                &[Some("2"), Some("3")],
            ],
        );
        assert_eq!(
            build_frame("a.csv", t, HeaderRows::Auto).unwrap().n_rows(),
            3
        );
    }

    #[test]
    fn forced_three_header_rows_and_one() {
        let rows: &[&[Option<&str>]] = &[&[Some("名称")], &[Some("单位")], &[Some("1")]];
        let f = build_frame("a.csv", table(&["x"], rows), HeaderRows::Three).unwrap();
        assert_eq!(f.numeric("x").unwrap(), &[1.0]);
        let f = build_frame("a.csv", table(&["x"], rows), HeaderRows::One).unwrap();
        assert_eq!(f.n_rows(), 3);
        let short: &[&[Option<&str>]] = &[&[Some("1")]];
        let err = build_frame("a.csv", table(&["x"], short), HeaderRows::Three).unwrap_err();
        assert!(err.to_string().contains("fewer than three rows"), "{err}");
    }
}
