//! Panel checks before estimation: [`check_panel`] turns a [`Frame`] and its firm and period
//! columns into a [`PanelReport`] (structure, balance, gaps, duplicate firm-periods, missing
//! rates, text cells in mostly-numeric columns, constant columns), rendered by
//! [`render_check`] as text or JSON (schema `keju.check/1`). `keju check` prints it;
//! `keju replicate` can run it first and stop on [`PanelReport::duplicate_error`].

use std::collections::BTreeSet;

use serde::Serialize;

use crate::data::{parse_cell, Column, Factor, Frame};
use crate::error::{Error, Result};

/// Output format of `keju check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CheckFormat {
    /// A readable report.
    #[default]
    Text,
    /// The [`PanelReport`] as JSON, schema `keju.check/1`.
    Json,
}

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Firm (panel unit) column.
    pub id: String,
    /// Period column (year, or dates).
    pub time: String,
    /// How many examples to list per finding. Default: 10.
    pub max_listed: usize,
}

impl CheckOptions {
    /// Options for firm column `id` and period column `time`, listing 10 examples.
    pub fn new(id: impl Into<String>, time: impl Into<String>) -> Self {
        CheckOptions {
            id: id.into(),
            time: time.into(),
            max_listed: 10,
        }
    }
}

/// Result of [`check_panel`].
#[derive(Debug, Clone, Serialize)]
pub struct PanelReport {
    pub data: String,
    pub id: String,
    pub time: String,
    pub n_rows: usize,
    pub n_columns: usize,
    /// Distinct firms (non-missing id).
    pub n_firms: usize,
    /// Distinct periods (non-missing time).
    pub n_periods: usize,
    pub first_period: Option<String>,
    pub last_period: Option<String>,
    /// Distinct periods per firm: min, max, mean.
    pub periods_per_firm: PeriodsPerFirm,
    /// Every firm observed once in every period, and no row without id or period.
    pub balanced: bool,
    /// Rows whose id or period is missing.
    pub rows_missing_key: usize,
    pub gaps: Gaps,
    pub duplicates: Duplicates,
    pub columns: Vec<ColumnReport>,
    /// Names of columns with at most one distinct non-missing value.
    pub constant_columns: Vec<String>,
}

/// Distinct periods per firm.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodsPerFirm {
    pub min: usize,
    pub max: usize,
    pub mean: f64,
}

/// Firms with holes between their first and last period. Steps are years when the period
/// column holds whole numbers, otherwise the periods seen anywhere in the data.
#[derive(Debug, Clone, Serialize)]
pub struct Gaps {
    pub n_firms: usize,
    /// The first few firms with gaps.
    pub examples: Vec<FirmGaps>,
}

/// One firm's missing periods.
#[derive(Debug, Clone, Serialize)]
pub struct FirmGaps {
    pub firm: String,
    pub missing: Vec<String>,
}

/// Firm-periods that appear on more than one row.
#[derive(Debug, Clone, Serialize)]
pub struct Duplicates {
    /// Firm-period pairs on more than one row.
    pub n_pairs: usize,
    /// Rows involved in them.
    pub n_rows: usize,
    /// The first few, in file order.
    pub examples: Vec<Duplicate>,
}

/// One duplicated firm-period and its lines.
#[derive(Debug, Clone, Serialize)]
pub struct Duplicate {
    pub firm: String,
    pub period: String,
    /// Lines as an editor shows them (records for Stata and Parquet).
    pub lines: Vec<usize>,
}

/// Per-column findings.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnReport {
    pub name: String,
    pub label: Option<String>,
    /// `number` or `text`.
    pub kind: &'static str,
    pub n_missing: usize,
    /// n_missing / n_rows (0 for no rows).
    pub missing_rate: f64,
    pub constant: bool,
    /// For a text column whose cells are mostly numbers: the cells that are not.
    pub text_cells: Option<TextCells>,
}

/// Text cells in a column that is mostly numbers (what keeps it from being numeric).
#[derive(Debug, Clone, Serialize)]
pub struct TextCells {
    pub n_cells: usize,
    pub examples: Vec<Cell>,
}

/// A cell and its line.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub line: usize,
    pub value: String,
}

impl PanelReport {
    /// An [`Error::Schema`] naming the first duplicated firm-period and its lines, when there
    /// are duplicates: commands that need one row per firm and period stop with it.
    pub fn duplicate_error(&self) -> Option<Error> {
        let first = self.duplicates.examples.first()?;
        let lines: Vec<String> = first.lines.iter().map(|l| l.to_string()).collect();
        Some(Error::Schema {
            path: self.data.clone(),
            message: format!(
                "{} duplicate firm-period pair(s) ({}, {}), {} rows; first: {} {} on lines {}\n\
                 hint: a panel needs one row per firm and period; drop or aggregate the duplicates",
                self.duplicates.n_pairs,
                self.id,
                self.time,
                self.duplicates.n_rows,
                first.firm,
                first.period,
                lines.join(", ")
            ),
        })
    }
}

/// Check the panel structure of `frame` with firm column `opts.id` and period column
/// `opts.time`.
///
/// **Errors**: [`Error::ColumnNotFound`] for an unknown id or time column.
///
/// **Complexity**: O(n_rows · log n_rows + n_rows · n_columns).
pub fn check_panel(frame: &Frame, opts: &CheckOptions) -> Result<PanelReport> {
    let id_col = frame.column(&opts.id)?;
    let time_col = frame.column(&opts.time)?;
    let n_rows = frame.n_rows();
    let firms = id_col.factorize();
    let periods = time_col.factorize();
    let mut keyed: Vec<(u32, u32, usize)> = (0..n_rows)
        .filter(|&i| firms.codes[i] != Factor::MISSING && periods.codes[i] != Factor::MISSING)
        .map(|i| (firms.codes[i], periods.codes[i], i))
        .collect();
    let rows_missing_key = n_rows - keyed.len();
    keyed.sort_unstable();

    // duplicates: runs of equal (firm, period)
    let mut dup_groups: Vec<Vec<usize>> = Vec::new();
    let mut dup_rows = 0;
    for run in keyed.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        if run.len() > 1 {
            dup_rows += run.len();
            dup_groups.push(run.iter().map(|r| r.2).collect());
        }
    }
    dup_groups.sort_by_key(|g| g[0]);
    let duplicates = Duplicates {
        n_pairs: dup_groups.len(),
        n_rows: dup_rows,
        examples: dup_groups
            .iter()
            .take(opts.max_listed)
            .map(|g| Duplicate {
                firm: firms.levels[firms.codes[g[0]] as usize].clone(),
                period: periods.levels[periods.codes[g[0]] as usize].clone(),
                lines: g.iter().map(|&i| frame.line_of(i)).collect(),
            })
            .collect(),
    };

    // periods per firm and gaps
    let whole_years = match time_col {
        Column::Num(v) => v.iter().all(|x| x.is_nan() || x.fract() == 0.0),
        Column::Str(_) => false,
    };
    let level_values: Vec<f64> = periods
        .levels
        .iter()
        .map(|l| l.parse().unwrap_or(f64::NAN))
        .collect();
    let mut counts = Vec::new();
    let mut gap_firms = Vec::new();
    for firm_rows in keyed.chunk_by(|a, b| a.0 == b.0) {
        let mut codes: Vec<u32> = firm_rows.iter().map(|r| r.1).collect();
        codes.dedup();
        counts.push(codes.len());
        let missing: Vec<String> = if whole_years {
            let have: BTreeSet<i64> = codes
                .iter()
                .map(|&c| level_values[c as usize] as i64)
                .collect();
            let (lo, hi) = (*have.first().unwrap_or(&0), *have.last().unwrap_or(&0));
            (lo..=hi)
                .filter(|y| !have.contains(y))
                .map(|y| y.to_string())
                .collect()
        } else {
            let (lo, hi) = (codes[0], codes[codes.len() - 1]);
            (lo..=hi)
                .filter(|c| codes.binary_search(c).is_err())
                .map(|c| periods.levels[c as usize].clone())
                .collect()
        };
        if !missing.is_empty() {
            gap_firms.push(FirmGaps {
                firm: firms.levels[firm_rows[0].0 as usize].clone(),
                missing,
            });
        }
    }
    let n_firms = counts.len();
    let present: BTreeSet<u32> = keyed.iter().map(|r| r.1).collect();
    let n_periods = present.len();
    let periods_per_firm = PeriodsPerFirm {
        min: counts.iter().copied().min().unwrap_or(0),
        max: counts.iter().copied().max().unwrap_or(0),
        mean: if n_firms == 0 {
            0.0
        } else {
            counts.iter().sum::<usize>() as f64 / n_firms as f64
        },
    };
    let balanced = duplicates.n_pairs == 0
        && rows_missing_key == 0
        && n_firms > 0
        && counts.iter().all(|&c| c == n_periods);
    let gaps = Gaps {
        n_firms: gap_firms.len(),
        examples: gap_firms.into_iter().take(opts.max_listed).collect(),
    };

    let columns: Vec<ColumnReport> = frame
        .names
        .iter()
        .zip(&frame.columns)
        .map(|(name, col)| column_report(frame, name, col, opts.max_listed))
        .collect();
    let constant_columns = columns
        .iter()
        .filter(|c| c.constant)
        .map(|c| c.name.clone())
        .collect();
    Ok(PanelReport {
        data: frame.source.clone(),
        id: opts.id.clone(),
        time: opts.time.clone(),
        n_rows,
        n_columns: frame.names.len(),
        n_firms,
        n_periods,
        first_period: present.first().map(|&c| periods.levels[c as usize].clone()),
        last_period: present.last().map(|&c| periods.levels[c as usize].clone()),
        periods_per_firm,
        balanced,
        rows_missing_key,
        gaps,
        duplicates,
        columns,
        constant_columns,
    })
}

fn column_report(frame: &Frame, name: &str, col: &Column, max_listed: usize) -> ColumnReport {
    let n = col.len();
    let n_missing = (0..n).filter(|&i| col.is_missing(i)).count();
    let (kind, constant, text_cells) = match col {
        Column::Num(v) => {
            let mut it = v.iter().filter(|x| !x.is_nan());
            let first = it.next();
            let constant = first.is_none_or(|f| it.all(|x| x == f));
            ("number", constant, None)
        }
        Column::Str(v) => {
            let mut it = v.iter().flatten();
            let first = it.next();
            let constant = first.is_none_or(|f| it.all(|x| x == f));
            let texts: Vec<usize> = (0..n)
                .filter(|&i| v[i].as_deref().is_some_and(|s| parse_cell(s).is_none()))
                .collect();
            let n_present = n - n_missing;
            let mostly_numeric = !texts.is_empty() && 2 * texts.len() < n_present;
            let text_cells = mostly_numeric.then(|| TextCells {
                n_cells: texts.len(),
                examples: texts
                    .iter()
                    .take(max_listed)
                    .map(|&i| Cell {
                        line: frame.line_of(i),
                        value: v[i].clone().unwrap_or_default(),
                    })
                    .collect(),
            });
            ("text", constant, text_cells)
        }
    };
    ColumnReport {
        name: name.to_string(),
        label: frame.label(name).map(String::from),
        kind,
        n_missing,
        missing_rate: if n == 0 {
            0.0
        } else {
            n_missing as f64 / n as f64
        },
        constant,
        text_cells,
    }
}

/// The report as text or JSON (schema `keju.check/1`, with `keju_version`).
pub fn render_check(report: &PanelReport, format: CheckFormat) -> String {
    match format {
        CheckFormat::Json => {
            let mut v = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
            if let serde_json::Value::Object(m) = &mut v {
                m.insert("keju_version".into(), env!("CARGO_PKG_VERSION").into());
                m.insert("schema".into(), "keju.check/1".into());
            }
            let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
            s.push('\n');
            s
        }
        CheckFormat::Text => render_text(report),
    }
}

fn render_text(r: &PanelReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "data: {} ({} rows, {} columns)",
        r.data, r.n_rows, r.n_columns
    );
    let span = match (&r.first_period, &r.last_period) {
        (Some(a), Some(b)) => format!(", {a} to {b}"),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "panel: {} firms ({}) x {} periods ({}){span}",
        r.n_firms, r.id, r.n_periods, r.time
    );
    let p = &r.periods_per_firm;
    let _ = writeln!(
        s,
        "periods per firm: min {}, max {}, mean {:.2}; {}",
        p.min,
        p.max,
        p.mean,
        if r.balanced { "balanced" } else { "unbalanced" }
    );
    if r.rows_missing_key > 0 {
        let _ = writeln!(s, "rows without firm or period: {}", r.rows_missing_key);
    }
    if r.gaps.n_firms == 0 {
        let _ = writeln!(s, "gaps: none");
    } else {
        let _ = writeln!(s, "gaps: {} firms", r.gaps.n_firms);
        for g in &r.gaps.examples {
            let _ = writeln!(s, "  {}: missing {}", g.firm, g.missing.join(", "));
        }
    }
    if r.duplicates.n_pairs == 0 {
        let _ = writeln!(s, "duplicate firm-periods: none");
    } else {
        let _ = writeln!(
            s,
            "duplicate firm-periods: {} pairs on {} rows",
            r.duplicates.n_pairs, r.duplicates.n_rows
        );
        for d in &r.duplicates.examples {
            let lines: Vec<String> = d.lines.iter().map(|l| l.to_string()).collect();
            let _ = writeln!(s, "  {} {}: lines {}", d.firm, d.period, lines.join(", "));
        }
    }
    let width = r
        .columns
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(s, "columns:");
    let _ = writeln!(
        s,
        "  {:<width$}  {:<6}  {:>8}  label",
        "name", "type", "missing"
    );
    for c in &r.columns {
        let _ = writeln!(
            s,
            "  {:<width$}  {:<6}  {:>7.1}%  {}{}",
            c.name,
            c.kind,
            100.0 * c.missing_rate,
            c.label.as_deref().unwrap_or(""),
            if c.constant { "  (constant)" } else { "" }
        );
    }
    let flagged: Vec<&ColumnReport> = r
        .columns
        .iter()
        .filter(|c| c.text_cells.is_some())
        .collect();
    if !flagged.is_empty() {
        let _ = writeln!(s, "text cells in mostly numeric columns:");
        for c in flagged {
            let t = c.text_cells.as_ref().expect("filtered on text_cells");
            let shown: Vec<String> = t
                .examples
                .iter()
                .map(|e| format!("line {} \"{}\"", e.line, e.value))
                .collect();
            let _ = writeln!(s, "  {}: {} cells: {}", c.name, t.n_cells, shown.join(", "));
        }
    }
    if !r.constant_columns.is_empty() {
        let _ = writeln!(s, "constant columns: {}", r.constant_columns.join(", "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        let mut f = Frame::new("p.csv");
        let ids = ["000001", "000001", "000001", "000002", "000002", "000003"];
        f.set_column(
            "id",
            Column::Str(ids.iter().map(|s| Some(s.to_string())).collect()),
        );
        f.set_column(
            "year",
            Column::Num(vec![2018.0, 2019.0, 2019.0, 2018.0, 2020.0, f64::NAN]),
        );
        f.set_column(
            "roa",
            Column::Str(
                ["0.1", "0.2", "n.a.", "0.3", "0.4", ""]
                    .iter()
                    .map(|s| (!s.is_empty()).then(|| s.to_string()))
                    .collect(),
            ),
        );
        f.set_column("k", Column::Num(vec![1.0; 6]));
        f
    }

    #[test]
    fn finds_duplicates_gaps_text_cells_constants() {
        let f = frame();
        let r = check_panel(&f, &CheckOptions::new("id", "year")).unwrap();
        assert_eq!((r.n_firms, r.n_periods, r.rows_missing_key), (2, 3, 1));
        assert!(!r.balanced);
        assert_eq!(r.duplicates.n_pairs, 1);
        assert_eq!(r.duplicates.examples[0].lines, vec![3, 4]);
        assert_eq!(r.duplicates.examples[0].period, "2019");
        assert_eq!(r.gaps.n_firms, 1);
        assert_eq!(r.gaps.examples[0].firm, "000002");
        assert_eq!(r.gaps.examples[0].missing, vec!["2019"]);
        let roa = r.columns.iter().find(|c| c.name == "roa").unwrap();
        let t = roa.text_cells.as_ref().unwrap();
        assert_eq!((t.n_cells, t.examples[0].line), (1, 4));
        assert_eq!(r.constant_columns, vec!["k"]);
        let e = r.duplicate_error().unwrap().to_string();
        assert!(e.contains("000001 2019 on lines 3, 4"), "{e}");
        let text = render_check(&r, CheckFormat::Text);
        assert!(text.contains("000001 2019: lines 3, 4"), "{text}");
        let json: serde_json::Value =
            serde_json::from_str(&render_check(&r, CheckFormat::Json)).unwrap();
        assert_eq!(json["schema"], "keju.check/1");
    }

    #[test]
    fn balanced_panel() {
        let mut f = Frame::new("p.csv");
        f.set_column("id", Column::Num(vec![1.0, 1.0, 2.0, 2.0]));
        f.set_column("t", Column::Num(vec![1.0, 2.0, 2.0, 1.0]));
        let r = check_panel(&f, &CheckOptions::new("id", "t")).unwrap();
        assert!(r.balanced && r.duplicate_error().is_none() && r.gaps.n_firms == 0);
        assert!(check_panel(&f, &CheckOptions::new("idd", "t")).is_err());
    }
}
