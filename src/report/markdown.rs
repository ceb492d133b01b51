//! Markdown output: [`MarkdownWriter`] renders [`Grid`]s as pipe tables (GitHub-flavoured), with
//! the notes as lines beneath. Numbers are rounded as shown; stars follow the number.

use super::grid::{Grid, RowKind, TableWriter};

/// Renders tables as Markdown pipe tables.
#[derive(Debug, Clone, Copy)]
pub struct MarkdownWriter;

/// Escape a cell for a pipe table: `|` would end the cell.
pub fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

fn line(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

fn table(grid: &Grid, out: &mut String) {
    if let Some(t) = &grid.title {
        out.push_str(&format!("**{}**\n\n", escape(t)));
    }
    // Markdown has one header row: the last header row goes there (with the stub label), any
    // rows above it become the first body rows.
    let (first, rest) = match grid.header.split_last() {
        Some((last, above)) => (last.clone(), above.to_vec()),
        None => (vec![String::new(); grid.n_cols], Vec::new()),
    };
    let head = if rest.is_empty() {
        first.clone()
    } else {
        // For regression tables: "(1)" above "inv" reads as "(1) inv" in one header cell.
        (0..grid.n_cols)
            .map(|j| {
                let mut parts: Vec<&str> = rest.iter().map(|r| r[j].as_str()).collect();
                parts.push(first[j].as_str());
                parts
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    let mut cells = vec![escape(&grid.stub)];
    cells.extend(head.iter().map(|s| escape(s)));
    out.push_str(&line(&cells));
    let mut rule = vec![":---".to_string()];
    rule.extend(std::iter::repeat_n("---:".to_string(), grid.n_cols));
    out.push_str(&line(&rule));
    for section in &grid.sections {
        for row in section {
            let mut cells = vec![if row.kind == RowKind::Heading {
                format!("*{}*", escape(&row.label))
            } else {
                escape(&row.label)
            }];
            cells.extend(row.cells.iter().map(|c| {
                let (text, stars) = c.rounded("-");
                format!("{}{}", escape(&text), "*".repeat(stars))
            }));
            out.push_str(&line(&cells));
        }
    }
    if !grid.notes.is_empty() {
        out.push('\n');
        for note in &grid.notes {
            // Stars would start a list or emphasis outside a table.
            out.push_str(&format!("{}  \n", note.replace('*', "\\*")));
        }
    }
}

impl TableWriter for MarkdownWriter {
    fn write(&self, grids: &[Grid]) -> String {
        let mut out = String::new();
        for (i, g) in grids.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            table(g, &mut out);
        }
        out
    }
}
