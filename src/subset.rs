//! Row filters such as `year == 1995`, `province != "北京"`, `size > 20 & lev < 0.9`.
//!
//! Grammar: comparisons `operand OP operand` with `==, !=, <, <=, >, >=`, combined with `&`
//! (and), `|` (or), `!` (not) and parentheses; `&&` and `||` are accepted too. An operand is a
//! column name (backticks for names with spaces or symbols), a number, or a quoted string.
//!
//! Missing values: a comparison involving a missing cell is false, so `!(x > 1)` keeps rows
//! where `x` is missing (as in Stata's `if !(x > 1)` minus its missing-as-infinity rule). Rows
//! excluded by a subset are counted as `subset` in every result.

use crate::data::{Column, Frame};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Num(f64),
    Str(String),
    Op(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Column(String),
    Num(f64),
    Str(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Cmp(Operand, &'static str, Operand),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
}

/// A parsed row filter.
#[derive(Debug, Clone)]
pub struct Subset {
    text: String,
    root: Node,
}

fn err(text: &str, message: impl Into<String>) -> Error {
    err_at(text, 1, message)
}

/// An error at character `position` (1-based) of the filter.
fn err_at(text: &str, position: usize, message: impl Into<String>) -> Error {
    Error::Formula {
        formula: text.to_string(),
        position,
        message: format!("subset: {}", message.into()),
    }
}

const OPS: [&str; 12] = [
    "==", "!=", "<=", ">=", "&&", "||", "<", ">", "&", "|", "!", "(",
];

/// Tokens, and the 1-based character position where each starts.
fn lex(text: &str) -> Result<(Vec<Tok>, Vec<usize>)> {
    let mut out = Vec::new();
    let mut starts = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if starts.len() < out.len() + 1 {
            starts.push(i + 1);
        }
        if c == ')' {
            out.push(Tok::Op(")"));
            i += 1;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        if let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) {
            out.push(Tok::Op(match *op {
                "&&" => "&",
                "||" => "|",
                o => o,
            }));
            i += op.chars().count();
            continue;
        }
        if c == '=' {
            let hint = match chars.get(i + 1) {
                Some('>') => "use \">=\" for greater than or equal",
                Some('<') => "use \"<=\" for less than or equal",
                _ => "use \"==\" to compare",
            };
            return Err(err_at(text, i + 1, hint));
        }
        if c == '"' || c == '\'' || c == '`' {
            let end = chars[i + 1..]
                .iter()
                .position(|d| *d == c)
                .ok_or_else(|| err(text, format!("unclosed {c}")))?;
            let s: String = chars[i + 1..i + 1 + end].iter().collect();
            out.push(if c == '`' { Tok::Name(s) } else { Tok::Str(s) });
            i += end + 2;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && !"=!<>&|()\"'`".contains(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let first = word.chars().next().unwrap_or(' ');
        if first.is_ascii_digit() || first == '.' || first == '-' {
            let x = word
                .parse::<f64>()
                .map_err(|_| err(text, format!("\"{word}\" is not a number")))?;
            out.push(Tok::Num(x));
        } else {
            out.push(Tok::Name(word));
        }
    }
    starts.truncate(out.len());
    Ok((out, starts))
}

struct P<'a> {
    text: &'a str,
    toks: Vec<Tok>,
    pos: usize,
}

impl P<'_> {
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Op(o)) if *o == op)
    }
    fn or(&mut self) -> Result<Node> {
        let mut n = self.and()?;
        while self.peek_op("|") {
            self.pos += 1;
            n = Node::Or(Box::new(n), Box::new(self.and()?));
        }
        Ok(n)
    }
    fn and(&mut self) -> Result<Node> {
        let mut n = self.not()?;
        while self.peek_op("&") {
            self.pos += 1;
            n = Node::And(Box::new(n), Box::new(self.not()?));
        }
        Ok(n)
    }
    fn not(&mut self) -> Result<Node> {
        if self.peek_op("!") {
            self.pos += 1;
            return Ok(Node::Not(Box::new(self.not()?)));
        }
        if self.peek_op("(") {
            self.pos += 1;
            let n = self.or()?;
            if !self.peek_op(")") {
                return Err(err(self.text, "expected \")\""));
            }
            self.pos += 1;
            return Ok(n);
        }
        let a = self.operand()?;
        let op = match self.toks.get(self.pos) {
            Some(Tok::Op(o)) if ["==", "!=", "<", "<=", ">", ">="].contains(o) => *o,
            _ => {
                return Err(err(
                    self.text,
                    "expected a comparison (==, !=, <, <=, >, >=)",
                ))
            }
        };
        self.pos += 1;
        let b = self.operand()?;
        Ok(Node::Cmp(a, op, b))
    }
    fn operand(&mut self) -> Result<Operand> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        match t {
            Some(Tok::Name(n)) => Ok(Operand::Column(n)),
            Some(Tok::Num(x)) => Ok(Operand::Num(x)),
            Some(Tok::Str(s)) => Ok(Operand::Str(s)),
            _ => Err(err(self.text, "expected a column, number or quoted string")),
        }
    }
}

impl Subset {
    /// Parse a filter. **Errors**: [`Error::Formula`] describing the problem.
    pub fn parse(text: &str) -> Result<Subset> {
        let (toks, starts) = lex(text)?;
        if toks.is_empty() {
            return Err(err(text, "the expression is empty"));
        }
        if toks.len() > crate::formula::MAX_TOKENS {
            return Err(err(text, "the expression is too long"));
        }
        let mut depth = 0usize;
        for t in &toks {
            match t {
                Tok::Op("(") | Tok::Op("!") => depth += 1,
                Tok::Op(")") => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > crate::formula::MAX_DEPTH {
                return Err(err(text, "the expression is nested too deeply"));
            }
        }
        let mut p = P { text, toks, pos: 0 };
        let root = p.or()?;
        if p.pos < p.toks.len() {
            let at = starts.get(p.pos).copied().unwrap_or(1);
            let rest: String = text.chars().skip(at - 1).collect();
            return Err(err_at(
                text,
                at,
                format!(
                    "unexpected \"{}\" after a complete condition; combine conditions with & \
                     (and) or | (or)",
                    rest.trim()
                ),
            ));
        }
        Ok(Subset {
            text: text.to_string(),
            root,
        })
    }

    /// The filter as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Columns the filter reads.
    pub fn columns(&self) -> Vec<String> {
        fn walk(n: &Node, out: &mut Vec<String>) {
            match n {
                Node::Cmp(a, _, b) => {
                    for o in [a, b] {
                        if let Operand::Column(c) = o {
                            if !out.contains(c) {
                                out.push(c.clone());
                            }
                        }
                    }
                }
                Node::And(a, b) | Node::Or(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Node::Not(a) => walk(a, out),
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    /// Evaluate on every row: `true` keeps the row.
    ///
    /// **Errors**: [`Error::ColumnNotFound`]; [`Error::Formula`] when a text column is
    /// compared with `<`/`>`.
    pub fn evaluate(&self, frame: &Frame) -> Result<Vec<bool>> {
        self.eval_node(&self.root, frame)
    }

    fn eval_node(&self, n: &Node, frame: &Frame) -> Result<Vec<bool>> {
        Ok(match n {
            Node::And(a, b) => {
                let mut x = self.eval_node(a, frame)?;
                let y = self.eval_node(b, frame)?;
                x.iter_mut().zip(y).for_each(|(p, q)| *p = *p && q);
                x
            }
            Node::Or(a, b) => {
                let mut x = self.eval_node(a, frame)?;
                let y = self.eval_node(b, frame)?;
                x.iter_mut().zip(y).for_each(|(p, q)| *p = *p || q);
                x
            }
            Node::Not(a) => self.eval_node(a, frame)?.into_iter().map(|v| !v).collect(),
            Node::Cmp(a, op, b) => self.compare(a, op, b, frame)?,
        })
    }

    fn compare(&self, a: &Operand, op: &str, b: &Operand, frame: &Frame) -> Result<Vec<bool>> {
        let n = frame.n_rows();
        let text_cmp = matches!(a, Operand::Str(_)) || matches!(b, Operand::Str(_));
        let is_text_col = |o: &Operand| -> Result<bool> {
            Ok(match o {
                Operand::Column(c) => matches!(frame.column(c)?, Column::Str(_)),
                _ => false,
            })
        };
        if text_cmp || is_text_col(a)? || is_text_col(b)? {
            if !matches!(op, "==" | "!=") {
                return Err(err(
                    &self.text,
                    format!("\"{op}\" compares numbers; text takes == or !="),
                ));
            }
            let cell = |o: &Operand, i: usize| -> Result<Option<String>> {
                Ok(match o {
                    Operand::Column(c) => frame.column(c)?.cell_text(i),
                    Operand::Num(x) => Some(crate::data::format_number(*x)),
                    Operand::Str(s) => Some(s.clone()),
                })
            };
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                let (x, y) = (cell(a, i)?, cell(b, i)?);
                out.push(match (x, y) {
                    (Some(x), Some(y)) => (x == y) == (op == "=="),
                    _ => false,
                });
            }
            return Ok(out);
        }
        let values = |o: &Operand| -> Result<Vec<f64>> {
            Ok(match o {
                Operand::Column(c) => frame.numeric(c)?.to_vec(),
                Operand::Num(x) => vec![*x; n],
                Operand::Str(_) => unreachable!("text operands handled above"),
            })
        };
        let (x, y) = (values(a)?, values(b)?);
        Ok(x.iter()
            .zip(&y)
            .map(|(p, q)| {
                if p.is_nan() || q.is_nan() {
                    return false;
                }
                match op {
                    "==" => p == q,
                    "!=" => p != q,
                    "<" => p < q,
                    "<=" => p <= q,
                    ">" => p > q,
                    _ => p >= q,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        let mut f = Frame::new("mem");
        f.set_column("year", Column::Num(vec![1995.0, 1985.0, 1995.0, f64::NAN]));
        f.set_column("size", Column::Num(vec![21.0, 22.0, 19.0, 25.0]));
        f.set_column(
            "province",
            Column::Str(vec![
                Some("北京".into()),
                Some("上海".into()),
                None,
                Some("北京".into()),
            ]),
        );
        f
    }

    #[test]
    fn comparisons_and_logic() {
        let f = frame();
        let e = |s: &str| Subset::parse(s).unwrap().evaluate(&f).unwrap();
        assert_eq!(e("year == 1995"), vec![true, false, true, false]);
        assert_eq!(e("province != \"北京\""), vec![false, true, false, false]);
        assert_eq!(
            e("size > 20 & year == 1995"),
            vec![true, false, false, false]
        );
        assert_eq!(
            e("size > 24 | (year < 1990)"),
            vec![false, true, false, true]
        );
        assert_eq!(e("!(size > 20)"), vec![false, false, true, false]);
        assert_eq!(
            e("size >= 21 && size <= 22"),
            vec![true, true, false, false]
        );
    }

    #[test]
    fn hostile_sizes() {
        assert!(Subset::parse(&format!("{}x == 1{}", "(".repeat(2000), ")".repeat(2000))).is_err());
        assert!(Subset::parse(&format!("{}x == 1", "!".repeat(5000))).is_err());
    }

    #[test]
    fn errors() {
        let f = frame();
        assert!(Subset::parse("year = 1995").is_err());
        // The position and the hint point at the mistake.
        let e = Subset::parse("year => 2013").unwrap_err().to_string();
        assert!(e.contains("character 6") && e.contains("\">=\""), "{e}");
        let e = Subset::parse("year >= 2013 and sector == 2")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("character 14") && e.contains("\"and sector == 2\""),
            "{e}"
        );
        assert!(Subset::parse("year ==").is_err());
        assert!(Subset::parse("(year == 1").is_err());
        assert!(Subset::parse("").is_err());
        let e = Subset::parse("yaer == 1")
            .unwrap()
            .evaluate(&f)
            .unwrap_err();
        assert!(e.to_string().contains("yaer"));
        assert!(Subset::parse("province > \"a\"")
            .unwrap()
            .evaluate(&f)
            .is_err());
    }
}
