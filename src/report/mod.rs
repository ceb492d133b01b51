//! Rendering results: [`text`] summaries for the terminal and JSON (the serialized
//! [`crate::estimate::FitResult`], schema `keju.fit/1`).

pub mod text;

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
