//! The format-independent table model, [`Grid`], and the one trait every output format
//! implements, [`TableWriter`].
//!
//! Data flow: a builder ([`super::table::RegressionTable`], [`super::describe`]) turns results
//! into [`Grid`]s of [`Cell`]s that keep numbers at full precision together with how they are
//! shown (digits, stars, parentheses); a writer ([`super::latex`], [`super::markdown`],
//! [`super::csv`], [`super::json`]) chosen by [`TableFormat`] renders them. Rounding happens only
//! in the writers that show rounded numbers (LaTeX, Markdown); CSV and JSON carry full precision.

use serde::Serialize;

/// One cell of a table body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cell {
    /// Nothing (a term the column does not have).
    Empty,
    /// Text shown as is (e.g. "Yes", "No").
    Text { text: String },
    /// A real number shown with `digits` decimals, followed by `stars` stars, in parentheses
    /// when `parens` is set. `value` is `None` when the result had no finite number (shown as
    /// an empty cell).
    Number {
        value: Option<f64>,
        digits: usize,
        stars: usize,
        parens: bool,
    },
    /// A confidence interval, shown as `[low, high]`.
    Interval {
        low: Option<f64>,
        high: Option<f64>,
        digits: usize,
    },
    /// A count, shown without decimals.
    Count { value: u64 },
}

impl Cell {
    /// A plain number with `digits` decimals.
    pub fn number(value: f64, digits: usize) -> Cell {
        Cell::Number {
            value: value.is_finite().then_some(value),
            digits,
            stars: 0,
            parens: false,
        }
    }

    /// Text cell.
    pub fn text(text: impl Into<String>) -> Cell {
        Cell::Text { text: text.into() }
    }

    /// The cell as rounded text, without stars, with `minus` used for the minus sign (`"-"` in
    /// plain text, `"$-$"` in LaTeX). Stars are returned apart so writers can typeset them.
    pub fn rounded(&self, minus: &str) -> (String, usize) {
        let num = |v: f64, d: usize| {
            let s = format!("{:.*}", d, v);
            // "-0.000" reads as a sign error; print it as 0.000.
            let s = if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
                s[1..].to_string()
            } else {
                s
            };
            match s.strip_prefix('-') {
                Some(rest) => format!("{minus}{rest}"),
                None => s,
            }
        };
        match self {
            Cell::Empty => (String::new(), 0),
            Cell::Text { text } => (text.clone(), 0),
            Cell::Number {
                value: None,
                parens,
                ..
            } => (if *parens { "(.)".into() } else { ".".into() }, 0),
            Cell::Number {
                value: Some(v),
                digits,
                stars,
                parens,
            } => {
                let s = num(*v, *digits);
                (if *parens { format!("({s})") } else { s }, *stars)
            }
            Cell::Interval { low, high, digits } => {
                let f = |x: &Option<f64>| x.map_or(".".to_string(), |v| num(v, *digits));
                (format!("[{}, {}]", f(low), f(high)), 0)
            }
            Cell::Count { value } => (value.to_string(), 0),
        }
    }

    /// The cell at full precision (shortest text that reads back to the same `f64`), with
    /// stars appended and parentheses kept: what CSV output carries.
    pub fn full_precision(&self) -> String {
        let f = |x: &Option<f64>| x.map_or(String::new(), |v| format!("{v}"));
        match self {
            Cell::Empty => String::new(),
            Cell::Text { text } => text.clone(),
            Cell::Number {
                value,
                stars,
                parens,
                ..
            } => {
                let s = format!("{}{}", f(value), "*".repeat(*stars));
                if *parens {
                    format!("({s})")
                } else {
                    s
                }
            }
            Cell::Interval { low, high, .. } => format!("[{}, {}]", f(low), f(high)),
            Cell::Count { value } => value.to_string(),
        }
    }
}

/// What a row holds; writers use it for layout (e.g. no label under a coefficient).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    /// A coefficient estimate.
    Coefficient,
    /// The statistic beneath a coefficient (t, standard error, p-value or interval).
    Statistic,
    /// A Yes/No row (fixed effects, controls).
    Indicator,
    /// A model statistic (N, R², first-stage F) or a descriptive statistic.
    Summary,
    /// A heading spanning the table (e.g. the group of a `--by` section).
    Heading,
}

/// One row: a label and one cell per column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub kind: RowKind,
    /// What the row is about (term, fixed effect, statistic name), before labelling.
    pub key: String,
    /// Label shown in the first column.
    pub label: String,
    pub cells: Vec<Cell>,
}

/// A format-independent table: header rows, sections of body rows (separated by rules), notes.
///
/// **Shapes**: every header row and every body row has `n_cols` cells (the label column is
/// extra).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grid {
    /// Optional caption.
    pub title: Option<String>,
    /// Label of the first (stub) column in the last header row.
    pub stub: String,
    pub n_cols: usize,
    /// Header rows, top to bottom, each `n_cols` long.
    pub header: Vec<Vec<String>>,
    /// Body sections, separated by a rule.
    pub sections: Vec<Vec<Row>>,
    /// Notes printed under the table, one line each.
    pub notes: Vec<String>,
}

/// A renderer of [`Grid`]s into one output format.
pub trait TableWriter {
    /// Render one or more tables into a complete output (a file or stdout).
    fn write(&self, grids: &[Grid]) -> String;
}

/// Output formats of `keju table` and `keju describe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TableFormat {
    /// Markdown pipe table (terminal, README).
    #[default]
    Markdown,
    /// LaTeX: booktabs + threeparttable; `--standalone` for a complete XeLaTeX document.
    Latex,
    /// CSV, full-precision numbers.
    Csv,
    /// JSON (schema `keju.table/1`), full-precision numbers.
    Json,
    /// HTML `<table>` fragment.
    Html,
}

/// Options that only some writers use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterOptions {
    /// LaTeX: emit a complete document (`\documentclass` … `\end{document}`) for XeLaTeX.
    pub standalone: bool,
    /// LaTeX standalone: the CJK main font given to xeCJK.
    pub cjk_font: String,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            standalone: false,
            cjk_font: super::latex::DEFAULT_CJK_FONT.to_string(),
        }
    }
}

impl TableFormat {
    /// Name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TableFormat::Markdown => "markdown",
            TableFormat::Latex => "latex",
            TableFormat::Csv => "csv",
            TableFormat::Json => "json",
            TableFormat::Html => "html",
        }
    }

    /// The writer of this format.
    pub fn writer(self, opts: &WriterOptions) -> Box<dyn TableWriter> {
        match self {
            TableFormat::Markdown => Box::new(super::markdown::MarkdownWriter),
            TableFormat::Latex => Box::new(super::latex::LatexWriter {
                standalone: opts.standalone,
                cjk_font: opts.cjk_font.clone(),
            }),
            TableFormat::Csv => Box::new(super::csv::CsvWriter),
            TableFormat::Json => Box::new(super::json::JsonWriter),
            TableFormat::Html => Box::new(super::html::HtmlWriter),
        }
    }
}

/// Render `grids` in `format`.
pub fn render_tables(grids: &[Grid], format: TableFormat, opts: &WriterOptions) -> String {
    format.writer(opts).write(grids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_and_stars() {
        let c = Cell::Number {
            value: Some(-0.04999),
            digits: 3,
            stars: 2,
            parens: false,
        };
        assert_eq!(c.rounded("-"), ("-0.050".to_string(), 2));
        assert_eq!(c.rounded("$-$").0, "$-$0.050");
        assert_eq!(c.full_precision(), "-0.04999**");
        let z = Cell::Number {
            value: Some(-0.0001),
            digits: 3,
            stars: 0,
            parens: true,
        };
        assert_eq!(z.rounded("-").0, "(0.000)");
    }

    #[test]
    fn interval_and_count() {
        let c = Cell::Interval {
            low: Some(0.1234),
            high: Some(1.0),
            digits: 2,
        };
        assert_eq!(c.rounded("-").0, "[0.12, 1.00]");
        assert_eq!(Cell::Count { value: 5000 }.rounded("-").0, "5000");
    }
}
