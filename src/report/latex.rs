//! LaTeX output: [`LatexWriter`] renders [`Grid`]s as booktabs tables inside a
//! `threeparttable` with notes; `standalone` wraps them in a complete document for XeLaTeX with
//! xeCJK, so Chinese labels compile. [`escape`] makes any text safe for LaTeX.

use super::grid::{Cell, Grid, RowKind, TableWriter};

/// CJK font given to xeCJK in standalone documents (Debian package `fonts-noto-cjk`).
pub const DEFAULT_CJK_FONT: &str = "Noto Serif CJK SC";

/// Escape text for LaTeX: the ten special characters `_ % & # $ { } ~ ^ \`, and `²`/`³`
/// (typeset as superscripts so no font needs the glyph).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '_' | '%' | '&' | '#' | '$' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '²' => out.push_str("\\textsuperscript{2}"),
            '³' => out.push_str("\\textsuperscript{3}"),
            _ => out.push(c),
        }
    }
    out
}

/// Renders tables as LaTeX (booktabs, threeparttable).
#[derive(Debug, Clone)]
pub struct LatexWriter {
    /// Emit a complete document (compile with `xelatex`).
    pub standalone: bool,
    /// xeCJK main font for standalone documents.
    pub cjk_font: String,
}

fn cell(c: &Cell) -> String {
    let (text, stars) = c.rounded("$-$");
    let text = match c {
        Cell::Text { .. } => escape(&text),
        _ => text,
    };
    if stars > 0 {
        format!("{text}\\sym{{{}}}", "*".repeat(stars))
    } else {
        text
    }
}

fn table(grid: &Grid, out: &mut String) {
    let n = grid.n_cols;
    out.push_str("\\begin{table}[htbp]\\centering\n");
    out.push_str("\\begin{threeparttable}\n");
    if let Some(t) = &grid.title {
        out.push_str(&format!("\\caption{{{}}}\n", escape(t)));
    }
    out.push_str(&format!(
        "\\begin{{tabular}}{{l*{{{n}}}{{c}}}}\n\\toprule\n"
    ));
    let last = grid.header.len().saturating_sub(1);
    for (i, h) in grid.header.iter().enumerate() {
        let stub = if i == last {
            escape(&grid.stub)
        } else {
            String::new()
        };
        let cells: Vec<String> = h.iter().map(|s| escape(s)).collect();
        out.push_str(&format!("{stub} & {} \\\\\n", cells.join(" & ")));
    }
    for section in &grid.sections {
        out.push_str("\\midrule\n");
        for row in section {
            if row.kind == RowKind::Heading {
                out.push_str(&format!(
                    "\\multicolumn{{{}}}{{l}}{{\\textit{{{}}}}} \\\\\n",
                    n + 1,
                    escape(&row.label)
                ));
                continue;
            }
            let cells: Vec<String> = row.cells.iter().map(cell).collect();
            out.push_str(&format!(
                "{} & {} \\\\\n",
                escape(&row.label),
                cells.join(" & ")
            ));
        }
    }
    out.push_str("\\bottomrule\n\\end{tabular}\n");
    if !grid.notes.is_empty() {
        out.push_str("\\begin{tablenotes}[flushleft]\\footnotesize\n");
        for note in &grid.notes {
            out.push_str(&format!("\\item {}\n", escape(note)));
        }
        out.push_str("\\end{tablenotes}\n");
    }
    out.push_str("\\end{threeparttable}\n\\end{table}\n");
}

impl TableWriter for LatexWriter {
    fn write(&self, grids: &[Grid]) -> String {
        let mut out = String::new();
        if self.standalone {
            out.push_str(
                "% Compile with: xelatex FILE.tex\n\
                 \\documentclass[11pt]{article}\n\
                 \\usepackage{booktabs}\n\
                 \\usepackage{threeparttable}\n\
                 \\usepackage{xeCJK}\n",
            );
            out.push_str(&format!("\\setCJKmainfont{{{}}}\n", escape(&self.cjk_font)));
            out.push_str("\\pagestyle{empty}\n");
        }
        out.push_str(
            "% Stars are typeset by \\sym; requires booktabs and threeparttable.\n\
             \\providecommand{\\sym}[1]{\\ensuremath{^{#1}}}\n",
        );
        if self.standalone {
            out.push_str("\\begin{document}\n");
        }
        for (i, g) in grids.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            table(g, &mut out);
        }
        if self.standalone {
            out.push_str("\\end{document}\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::Row;

    #[test]
    fn escapes_all_specials() {
        assert_eq!(escape("js_200"), "js\\_200");
        assert_eq!(escape("50% & #1"), "50\\% \\& \\#1");
        assert_eq!(escape("$x$"), "\\$x\\$");
        assert_eq!(escape("{a}"), "\\{a\\}");
        assert_eq!(escape("a~b^c"), "a\\textasciitilde{}b\\textasciicircum{}c");
        assert_eq!(escape("a\\b"), "a\\textbackslash{}b");
        assert_eq!(escape("Adj. R²"), "Adj. R\\textsuperscript{2}");
        assert_eq!(escape("儒家文化"), "儒家文化");
    }

    #[test]
    fn backslash_is_not_double_escaped() {
        // The braces produced for \ must not be escaped again.
        assert_eq!(escape("\\_"), "\\textbackslash{}\\_");
    }

    #[test]
    fn renders_booktabs_and_stars() {
        let g = Grid {
            title: None,
            stub: String::new(),
            n_cols: 1,
            header: vec![vec!["(1)".into()], vec!["y_1".into()]],
            sections: vec![vec![Row {
                kind: RowKind::Coefficient,
                key: "x".into(),
                label: "x_1".into(),
                cells: vec![Cell::Number {
                    value: Some(-0.5),
                    digits: 3,
                    stars: 3,
                    parens: false,
                }],
            }]],
            notes: vec!["* p<0.10".into()],
        };
        let s = LatexWriter {
            standalone: false,
            cjk_font: DEFAULT_CJK_FONT.into(),
        }
        .write(&[g]);
        assert!(s.contains("\\toprule"), "{s}");
        assert!(s.contains(" & y\\_1 \\\\"), "{s}");
        assert!(s.contains("x\\_1 & $-$0.500\\sym{***} \\\\"), "{s}");
        assert!(s.contains("\\item * p<0.10"), "{s}");
        assert!(!s.contains("documentclass"));
    }
}
