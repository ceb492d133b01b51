//! Rendering results: [`text`] summaries for the terminal and JSON (the serialized
//! [`crate::estimate::FitResult`], schema `keju.fit/1`); publication tables built as a
//! format-independent [`grid::Grid`] by [`table`] (regressions) and [`describe`] (summary
//! statistics, correlations), rendered by one [`grid::TableWriter`] per format: [`latex`],
//! [`markdown`], [`csv`], [`json`]; figures (coefficient plots, firm maps) in [`plot`].

pub mod csv;
pub mod describe;
pub mod grid;
pub mod html;
pub mod json;
pub mod latex;
pub mod markdown;
pub mod plot;
pub mod psm;
pub mod table;
pub mod text;

pub use grid::{render_tables, TableFormat, WriterOptions};

use crate::estimate::FitResult;

/// Output formats of `keju fit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FitFormat {
    /// A readable summary.
    #[default]
    Text,
    /// The full result as JSON (schema `keju.fit/1`).
    Json,
}

/// Output formats of reports that are not tables (`keju psm`, `keju winsorize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReportFormat {
    /// A readable summary.
    #[default]
    Text,
    /// The report as JSON (a versioned schema, see docs/json.md).
    Json,
}

/// Serialize a report as pretty JSON with a final newline.
pub fn to_json<T: serde::Serialize>(report: &T) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("reports serialize");
    s.push('\n');
    s
}

/// Render a fit result in a format.
pub fn render_fit(result: &FitResult, format: FitFormat) -> String {
    match format {
        FitFormat::Text => text::fit_summary(result),
        FitFormat::Json => {
            let mut s = serde_json::to_string_pretty(result).expect("fit results serialize");
            s.push('\n');
            s
        }
    }
}
