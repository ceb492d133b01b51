//! HTML output: [`HtmlWriter`] renders [`Grid`]s as `<table>` elements (a fragment to paste
//! into a page or a notebook), header rows in `<thead>`, each body section in its own
//! `<tbody>`, notes in a `<p class="notes">` beneath. Text is escaped (`& < > "`).

use super::grid::{Grid, RowKind, TableWriter};

/// Renders tables as HTML fragments.
#[derive(Debug, Clone, Copy)]
pub struct HtmlWriter;

/// Escape text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            _ => s.push(c),
        }
    }
    s
}

fn table(grid: &Grid, out: &mut String) {
    out.push_str("<table class=\"keju-table\">\n");
    if let Some(t) = &grid.title {
        out.push_str(&format!("<caption>{}</caption>\n", escape(t)));
    }
    out.push_str("<thead>\n");
    let last = grid.header.len().saturating_sub(1);
    for (i, row) in grid.header.iter().enumerate() {
        let stub = if i == last {
            escape(&grid.stub)
        } else {
            String::new()
        };
        out.push_str(&format!("<tr><th>{stub}</th>"));
        for h in row {
            out.push_str(&format!("<th>{}</th>", escape(h)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</thead>\n");
    for section in &grid.sections {
        out.push_str("<tbody>\n");
        for row in section {
            if row.kind == RowKind::Heading {
                out.push_str(&format!(
                    "<tr><th colspan=\"{}\">{}</th></tr>\n",
                    grid.n_cols + 1,
                    escape(&row.label)
                ));
                continue;
            }
            out.push_str(&format!("<tr><td>{}</td>", escape(&row.label)));
            for c in &row.cells {
                let (text, stars) = c.rounded("&minus;");
                let text = match text.strip_prefix("&minus;") {
                    Some(rest) => format!("&minus;{}", escape(rest)),
                    None => escape(&text),
                };
                let sup = if stars > 0 {
                    format!("<sup>{}</sup>", "*".repeat(stars))
                } else {
                    String::new()
                };
                out.push_str(&format!("<td>{text}{sup}</td>"));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n");
    if !grid.notes.is_empty() {
        out.push_str("<p class=\"notes\">");
        let notes: Vec<String> = grid.notes.iter().map(|n| escape(n)).collect();
        out.push_str(&notes.join("<br>\n"));
        out.push_str("</p>\n");
    }
}

impl TableWriter for HtmlWriter {
    fn write(&self, grids: &[Grid]) -> String {
        let mut out = String::new();
        for g in grids {
            table(g, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::{Cell, Row};

    #[test]
    fn renders_escaped_cells_stars_and_notes() {
        let grid = Grid {
            title: Some("A & B".into()),
            stub: String::new(),
            n_cols: 1,
            header: vec![vec!["(1)".into()], vec!["<y>".into()]],
            sections: vec![vec![Row {
                kind: RowKind::Coefficient,
                key: "x".into(),
                label: "x_1".into(),
                cells: vec![Cell::number(-0.5, 3)],
            }]],
            notes: vec!["p < 0.1".into()],
        };
        let html = HtmlWriter.write(&[grid]);
        assert!(html.contains("<caption>A &amp; B</caption>"), "{html}");
        assert!(html.contains("<th>&lt;y&gt;</th>"), "{html}");
        assert!(html.contains("<td>x_1</td><td>&minus;0.500</td>"), "{html}");
        assert!(html.contains("<p class=\"notes\">p &lt; 0.1</p>"), "{html}");
    }
}
