//! CSV output: [`CsvWriter`] writes each [`Grid`] row by row with numbers at full precision
//! (the shortest decimal that reads back to the same `f64`), stars appended and statistics in
//! parentheses as in the rendered table; notes follow as rows whose first cell is `note`.

use super::grid::{Grid, TableWriter};

/// Renders tables as CSV (RFC 4180 quoting).
#[derive(Debug, Clone, Copy)]
pub struct CsvWriter;

/// Quote a field when it holds a comma, quote, or line break.
pub fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn record(cells: impl IntoIterator<Item = String>) -> String {
    let v: Vec<String> = cells.into_iter().map(|c| field(&c)).collect();
    format!("{}\n", v.join(","))
}

impl TableWriter for CsvWriter {
    fn write(&self, grids: &[Grid]) -> String {
        let mut out = String::new();
        for (i, grid) in grids.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let last = grid.header.len().saturating_sub(1);
            for (h, row) in grid.header.iter().enumerate() {
                let stub = if h == last {
                    grid.stub.clone()
                } else {
                    String::new()
                };
                out.push_str(&record(std::iter::once(stub).chain(row.iter().cloned())));
            }
            for row in grid.sections.iter().flatten() {
                out.push_str(&record(
                    std::iter::once(row.label.clone())
                        .chain(row.cells.iter().map(|c| c.full_precision())),
                ));
            }
            for note in &grid.notes {
                out.push_str(&record(["note".to_string(), note.clone()]));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_when_needed() {
        assert_eq!(field("a"), "a");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
