//! Model formulas in fixest syntax: `y ~ x1 + x2 | fe1 + fe2^fe3 | endog ~ instruments`.
//!
//! [`Formula::parse`] turns the text into a [`Formula`]: the outcome [`Expr`], the regressor
//! [`Term`]s, the fixed effects, and the optional IV part. Supported:
//! - functions `log()`, `exp()`, `sqrt()`, `abs()`, and `I(...)` with `+ - * / ^`;
//! - `0`, `+0` or `-1` for no intercept;
//! - `a:b` products of numeric variables, `a*b` = `a + b + a:b`;
//! - `i(var)` / `i(var, ref = level)`: a factor expanded to dummies, first level the reference;
//! - combined fixed effects `fe1^fe2`;
//! - any UTF-8 name; names with spaces or symbols in backticks: `` `total assets` ``.
//!
//! Term labels are the formula text as written (`log(rprice)`, `I(age^2)`).

use crate::error::{Error, Result};

/// A numeric expression over columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A column by name.
    Var(String),
    /// A literal number.
    Num(f64),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary arithmetic operation.
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// A function of one argument.
    Call(Func, Box<Expr>),
}

/// Arithmetic operators allowed in expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// Functions allowed in expressions. `log` is the natural logarithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Log,
    Exp,
    Sqrt,
    Abs,
}

impl Func {
    fn from_name(name: &str) -> Option<Func> {
        match name {
            "log" | "ln" => Some(Func::Log),
            "exp" => Some(Func::Exp),
            "sqrt" => Some(Func::Sqrt),
            "abs" => Some(Func::Abs),
            _ => None,
        }
    }

    /// Apply the function to one value (NaN outside its domain, e.g. `log(0)` is -inf → NaN).
    pub fn apply(self, x: f64) -> f64 {
        let r = match self {
            Func::Log => x.ln(),
            Func::Exp => x.exp(),
            Func::Sqrt => x.sqrt(),
            Func::Abs => x.abs(),
        };
        if r.is_finite() {
            r
        } else {
            f64::NAN
        }
    }
}

impl Expr {
    /// Column names the expression reads, in order of first appearance.
    pub fn vars(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_vars(&mut out);
        out
    }

    fn collect_vars(&self, out: &mut Vec<String>) {
        match self {
            Expr::Var(v) => {
                if !out.contains(v) {
                    out.push(v.clone())
                }
            }
            Expr::Num(_) => {}
            Expr::Neg(e) | Expr::Call(_, e) => e.collect_vars(out),
            Expr::Bin(_, a, b) => {
                a.collect_vars(out);
                b.collect_vars(out);
            }
        }
    }

    /// Evaluate like [`Expr::eval`], borrowing the column itself when the expression is a plain
    /// variable (no copy).
    pub fn eval_cow<'a, F>(&self, n_rows: usize, lookup: &F) -> Result<std::borrow::Cow<'a, [f64]>>
    where
        F: Fn(&str) -> Result<&'a [f64]>,
    {
        match self {
            Expr::Var(v) => Ok(std::borrow::Cow::Borrowed(lookup(v)?)),
            _ => Ok(std::borrow::Cow::Owned(self.eval(n_rows, lookup)?)),
        }
    }

    /// Evaluate over all rows, given a lookup from column name to values.
    ///
    /// Non-finite results (division by zero, log of a non-positive number) become NaN, i.e.
    /// missing, as in R and Stata.
    pub fn eval<'a, F>(&self, n_rows: usize, lookup: &F) -> Result<Vec<f64>>
    where
        F: Fn(&str) -> Result<&'a [f64]>,
    {
        let out = match self {
            Expr::Var(v) => lookup(v)?.to_vec(),
            Expr::Num(x) => vec![*x; n_rows],
            Expr::Neg(e) => {
                let mut v = e.eval(n_rows, lookup)?;
                v.iter_mut().for_each(|x| *x = -*x);
                v
            }
            Expr::Call(f, e) => {
                let mut v = e.eval(n_rows, lookup)?;
                v.iter_mut().for_each(|x| *x = f.apply(*x));
                v
            }
            Expr::Bin(op, a, b) => {
                let mut va = a.eval(n_rows, lookup)?;
                let vb = b.eval(n_rows, lookup)?;
                for (x, y) in va.iter_mut().zip(&vb) {
                    let r = match op {
                        BinOp::Add => *x + y,
                        BinOp::Sub => *x - y,
                        BinOp::Mul => *x * y,
                        BinOp::Div => *x / y,
                        BinOp::Pow => x.powf(*y),
                    };
                    *x = if r.is_finite() { r } else { f64::NAN };
                }
                va
            }
        };
        Ok(out)
    }
}

/// One right-hand-side term.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// A numeric regressor: the product of its factors (one factor unless written `a:b`).
    Numeric { label: String, factors: Vec<Expr> },
    /// `i(var, ref = level)`: dummies for every level of `var` but the reference.
    Factor {
        label: String,
        var: String,
        reference: Option<String>,
    },
}

impl Term {
    /// The term as written in the formula.
    pub fn label(&self) -> &str {
        match self {
            Term::Numeric { label, .. } | Term::Factor { label, .. } => label,
        }
    }
}

/// A fixed effect: one variable, or several combined with `^`.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedEffectSpec {
    /// As written, e.g. `firm` or `industry^year`.
    pub label: String,
    pub vars: Vec<String>,
}

/// The instrumental-variables part `endog ~ instruments`.
#[derive(Debug, Clone, PartialEq)]
pub struct IvPart {
    pub endogenous: Vec<Term>,
    pub instruments: Vec<Term>,
}

/// A parsed formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    /// The text as given.
    pub text: String,
    /// The outcome as written, e.g. `log(packs)`.
    pub outcome_label: String,
    pub outcome: Expr,
    /// Exogenous regressors, in formula order (without the intercept).
    pub terms: Vec<Term>,
    /// Whether an intercept is estimated (it is absorbed when there are fixed effects).
    pub intercept: bool,
    pub fixed_effects: Vec<FixedEffectSpec>,
    pub iv: Option<IvPart>,
}

impl Formula {
    /// Parse a formula.
    ///
    /// **Errors**: [`Error::Formula`] with the 1-based character position of the problem.
    pub fn parse(text: &str) -> Result<Formula> {
        let toks = lex(text)?;
        check_size(text, &toks)?;
        let mut p = Parser { text, toks, pos: 0 };
        p.formula()
    }

    /// Every column the formula reads (outcome, terms, fixed effects, IV part).
    pub fn vars(&self) -> Vec<String> {
        let mut out = self.outcome.vars();
        let mut add = |v: String| {
            if !out.contains(&v) {
                out.push(v)
            }
        };
        let term_vars = |t: &Term| -> Vec<String> {
            match t {
                Term::Numeric { factors, .. } => factors.iter().flat_map(|f| f.vars()).collect(),
                Term::Factor { var, .. } => vec![var.clone()],
            }
        };
        for t in &self.terms {
            term_vars(t).into_iter().for_each(&mut add);
        }
        if let Some(iv) = &self.iv {
            for t in iv.endogenous.iter().chain(&iv.instruments) {
                term_vars(t).into_iter().for_each(&mut add);
            }
        }
        for fe in &self.fixed_effects {
            fe.vars.iter().cloned().for_each(&mut add);
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    Op(char),
}

/// A token and its byte span in the text.
#[derive(Debug, Clone)]
struct Spanned {
    tok: Tok,
    start: usize,
    end: usize,
}

const OPS: &str = "~|+-*/^:(),=";

fn formula_error(text: &str, byte_pos: usize, message: impl Into<String>) -> Error {
    Error::Formula {
        formula: text.to_string(),
        position: text[..byte_pos.min(text.len())].chars().count() + 1,
        message: message.into(),
    }
}

fn lex(text: &str) -> Result<Vec<Spanned>> {
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
        } else if OPS.contains(c) {
            it.next();
            out.push(Spanned {
                tok: Tok::Op(c),
                start: i,
                end: i + c.len_utf8(),
            });
        } else if c == '`' || c == '"' || c == '\'' {
            it.next();
            let mut s = String::new();
            let mut end = None;
            for (j, d) in it.by_ref() {
                if d == c {
                    end = Some(j + 1);
                    break;
                }
                s.push(d);
            }
            let end = end.ok_or_else(|| formula_error(text, i, format!("unclosed {c}")))?;
            let tok = if c == '`' { Tok::Ident(s) } else { Tok::Str(s) };
            out.push(Spanned { tok, start: i, end });
        } else if c.is_ascii_digit() || (c == '.' && next_is_digit(text, i)) {
            let mut end = i;
            let mut prev = ' ';
            while let Some(&(j, d)) = it.peek() {
                let ok = d.is_ascii_digit()
                    || d == '.'
                    || d == 'e'
                    || d == 'E'
                    || ((d == '-' || d == '+') && (prev == 'e' || prev == 'E'));
                if !ok {
                    break;
                }
                prev = d;
                end = j + d.len_utf8();
                it.next();
            }
            let s = &text[i..end];
            let x: f64 = s
                .parse()
                .map_err(|_| formula_error(text, i, format!("\"{s}\" is not a number")))?;
            out.push(Spanned {
                tok: Tok::Num(x),
                start: i,
                end,
            });
        } else {
            let mut end = i;
            while let Some(&(j, d)) = it.peek() {
                if d.is_whitespace() || OPS.contains(d) || d == '`' || d == '"' || d == '\'' {
                    break;
                }
                end = j + d.len_utf8();
                it.next();
            }
            out.push(Spanned {
                tok: Tok::Ident(text[i..end].to_string()),
                start: i,
                end,
            });
        }
    }
    Ok(out)
}

/// Most tokens and parenthesis depth a formula may have: the parser and the evaluator
/// recurse, and a bound keeps hostile input from exhausting the stack.
pub const MAX_TOKENS: usize = 1500;
/// See [`MAX_TOKENS`].
pub const MAX_DEPTH: usize = 64;

fn check_size(text: &str, toks: &[Spanned]) -> Result<()> {
    if toks.len() > MAX_TOKENS {
        return Err(formula_error(
            text,
            toks[MAX_TOKENS].start,
            format!("the formula is too long (more than {MAX_TOKENS} tokens)"),
        ));
    }
    let mut depth = 0usize;
    for t in toks {
        match t.tok {
            Tok::Op('(') => depth += 1,
            Tok::Op(')') => depth = depth.saturating_sub(1),
            Tok::Op('-') => {}
            _ => continue,
        }
        if depth > MAX_DEPTH {
            return Err(formula_error(
                text,
                t.start,
                format!("parentheses nested more than {MAX_DEPTH} deep"),
            ));
        }
    }
    Ok(())
}

fn next_is_digit(text: &str, i: usize) -> bool {
    text[i + 1..]
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// Parser

struct Parser<'t> {
    text: &'t str,
    toks: Vec<Spanned>,
    pos: usize,
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|s| &s.tok)
    }

    fn peek_op(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Op(c))
    }

    fn here(&self) -> usize {
        self.toks.get(self.pos).map_or(self.text.len(), |s| s.start)
    }

    fn last_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|p| self.toks.get(p))
            .map_or(0, |s| s.end)
    }

    fn err(&self, message: impl Into<String>) -> Error {
        formula_error(self.text, self.here(), message)
    }

    fn expect_op(&mut self, c: char) -> Result<()> {
        if self.peek_op(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(format!("expected \"{c}\"")))
        }
    }

    fn formula(&mut self) -> Result<Formula> {
        if self.toks.is_empty() {
            return Err(self.err("the formula is empty"));
        }
        let start = self.here();
        let outcome = self.arith()?;
        let outcome_label = self.text[start..self.last_end()].trim().to_string();
        if !self.peek_op('~') {
            return Err(self.err("expected \"~\" after the outcome"));
        }
        self.pos += 1;
        let (terms, intercept) = self.term_list(true)?;
        let mut fixed_effects = Vec::new();
        let mut iv = None;
        while self.peek_op('|') {
            self.pos += 1;
            // An IV part has a top-level "~" before the next "|".
            let has_tilde = self.toks[self.pos..]
                .iter()
                .take_while(|t| t.tok != Tok::Op('|'))
                .any(|t| t.tok == Tok::Op('~'));
            if has_tilde {
                if iv.is_some() {
                    return Err(self.err("only one instrumental-variables part is allowed"));
                }
                let (endogenous, _) = self.term_list(false)?;
                self.expect_op('~')?;
                let (instruments, _) = self.term_list(false)?;
                if endogenous.is_empty() || instruments.is_empty() {
                    return Err(self.err("the IV part needs endogenous variables and instruments"));
                }
                iv = Some(IvPart {
                    endogenous,
                    instruments,
                });
            } else {
                if iv.is_some() {
                    return Err(self.err("fixed effects come before the IV part"));
                }
                if !fixed_effects.is_empty() {
                    return Err(self.err("only one fixed-effects part is allowed"));
                }
                fixed_effects = self.fe_list()?;
            }
        }
        if self.pos < self.toks.len() {
            return Err(self.err("unexpected text"));
        }
        Ok(Formula {
            text: self.text.to_string(),
            outcome_label,
            outcome,
            terms,
            intercept,
            fixed_effects,
            iv,
        })
    }

    /// Terms separated by + and -, up to "|", "~" or the end. Returns (terms, intercept).
    fn term_list(&mut self, allow_intercept: bool) -> Result<(Vec<Term>, bool)> {
        let mut terms: Vec<Term> = Vec::new();
        let mut intercept = true;
        let mut sign = 1.0;
        let mut first = true;
        loop {
            if self.peek_op('-') {
                self.pos += 1;
                sign = -1.0;
            } else if self.peek_op('+') {
                if first {
                    return Err(self.err("expected a term"));
                }
                self.pos += 1;
                sign = 1.0;
            } else if !first {
                break;
            }
            first = false;
            match self.peek() {
                Some(Tok::Num(x)) if *x == 0.0 || *x == 1.0 => {
                    let x = *x;
                    if !allow_intercept {
                        return Err(self.err("an intercept term is not allowed here"));
                    }
                    self.pos += 1;
                    intercept = (x == 1.0) == (sign > 0.0);
                }
                None | Some(Tok::Op('|')) | Some(Tok::Op('~')) => {
                    return Err(self.err("expected a term"));
                }
                _ => {
                    let new = self.product()?;
                    if sign < 0.0 {
                        terms.retain(|t| !new.iter().any(|n| n.label() == t.label()));
                    } else {
                        for t in new {
                            if !terms.iter().any(|o| o.label() == t.label()) {
                                terms.push(t);
                            }
                        }
                    }
                }
            }
        }
        Ok((terms, intercept))
    }

    /// `a:b:c`, `a*b` (crossing: `a + b + a:b`) or a single atom.
    fn product(&mut self) -> Result<Vec<Term>> {
        let left = self.colon_chain()?;
        if !self.peek_op('*') {
            return Ok(vec![left]);
        }
        self.pos += 1;
        let right = self.colon_chain()?;
        if self.peek_op('*') {
            return Err(self.err("chains of \"*\" are not supported; write the terms out"));
        }
        let inter = match (&left, &right) {
            (Term::Numeric { factors: a, .. }, Term::Numeric { factors: b, .. }) => Term::Numeric {
                label: format!("{}:{}", left.label(), right.label()),
                factors: a.iter().chain(b).cloned().collect(),
            },
            _ => return Err(self.err("\"*\" works on numeric variables only")),
        };
        Ok(vec![left, right, inter])
    }

    /// `a:b:c` or a single atom, as one term labelled as written.
    fn colon_chain(&mut self) -> Result<Term> {
        let start = self.here();
        let mut factors = vec![self.atom()?];
        while self.peek_op(':') {
            self.pos += 1;
            factors.push(self.atom()?);
        }
        let label = self.text[start..self.last_end()].trim().to_string();
        make_term(label, factors).map_err(|m| self.err(m))
    }

    /// A top-level atom: a variable, a function of an expression, `I(...)`, or `i(...)`.
    fn atom(&mut self) -> Result<Atom> {
        match self.peek().cloned() {
            Some(Tok::Ident(name)) if name == "i" && self.next_is_paren() => {
                self.pos += 2;
                let var = match self.peek().cloned() {
                    Some(Tok::Ident(v)) => v,
                    _ => return Err(self.err("i() needs a variable name")),
                };
                self.pos += 1;
                let mut reference = None;
                if self.peek_op(',') {
                    self.pos += 1;
                    match self.peek().cloned() {
                        Some(Tok::Ident(k)) if k == "ref" => self.pos += 1,
                        _ => return Err(self.err("expected \"ref = level\"")),
                    }
                    self.expect_op('=')?;
                    reference = Some(match self.peek().cloned() {
                        Some(Tok::Str(s)) | Some(Tok::Ident(s)) => s,
                        Some(Tok::Num(x)) => crate::data::format_number(x),
                        _ => return Err(self.err("expected a reference level")),
                    });
                    self.pos += 1;
                }
                self.expect_op(')')?;
                Ok(Atom::Factor { var, reference })
            }
            Some(Tok::Ident(_)) | Some(Tok::Num(_)) | Some(Tok::Op('(')) | Some(Tok::Op('-')) => {
                Ok(Atom::Expr(self.power_atom()?))
            }
            _ => Err(self.err("expected a variable")),
        }
    }

    /// At top level `x^2` outside `I()` is not arithmetic in R; only allow a primary here.
    fn power_atom(&mut self) -> Result<Expr> {
        let e = self.primary()?;
        if self.peek_op('^') {
            return Err(self.err("write powers inside I(), e.g. I(x^2)"));
        }
        Ok(e)
    }

    fn next_is_paren(&self) -> bool {
        self.toks.get(self.pos + 1).map(|s| &s.tok) == Some(&Tok::Op('('))
    }

    /// Arithmetic: sum of products.
    fn arith(&mut self) -> Result<Expr> {
        let mut e = self.arith_term()?;
        loop {
            let op = if self.peek_op('+') {
                BinOp::Add
            } else if self.peek_op('-') {
                BinOp::Sub
            } else {
                break;
            };
            self.pos += 1;
            let r = self.arith_term()?;
            e = Expr::Bin(op, Box::new(e), Box::new(r));
        }
        Ok(e)
    }

    fn arith_term(&mut self) -> Result<Expr> {
        let mut e = self.arith_unary()?;
        loop {
            let op = if self.peek_op('*') {
                BinOp::Mul
            } else if self.peek_op('/') {
                BinOp::Div
            } else {
                break;
            };
            self.pos += 1;
            let r = self.arith_unary()?;
            e = Expr::Bin(op, Box::new(e), Box::new(r));
        }
        Ok(e)
    }

    fn arith_unary(&mut self) -> Result<Expr> {
        if self.peek_op('-') {
            self.pos += 1;
            return Ok(Expr::Neg(Box::new(self.arith_unary()?)));
        }
        let base = self.primary()?;
        if self.peek_op('^') {
            self.pos += 1;
            let exp = self.arith_unary()?;
            return Ok(Expr::Bin(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Expr> {
        match self.peek().cloned() {
            Some(Tok::Num(x)) => {
                self.pos += 1;
                Ok(Expr::Num(x))
            }
            Some(Tok::Op('(')) => {
                self.pos += 1;
                let e = self.arith()?;
                self.expect_op(')')?;
                Ok(e)
            }
            Some(Tok::Op('-')) => {
                self.pos += 1;
                Ok(Expr::Neg(Box::new(self.primary()?)))
            }
            Some(Tok::Ident(name)) => {
                if self.next_is_paren() {
                    let func = if name == "I" {
                        None
                    } else {
                        Some(Func::from_name(&name).ok_or_else(|| {
                            self.err(format!(
                                "unknown function \"{name}\" (known: log, exp, sqrt, abs, I, i)"
                            ))
                        })?)
                    };
                    self.pos += 2;
                    let inner = self.arith()?;
                    self.expect_op(')')?;
                    Ok(match func {
                        None => inner,
                        Some(f) => Expr::Call(f, Box::new(inner)),
                    })
                } else {
                    self.pos += 1;
                    Ok(Expr::Var(name))
                }
            }
            _ => Err(self.err("expected a variable, number or \"(\"")),
        }
    }

    fn fe_list(&mut self) -> Result<Vec<FixedEffectSpec>> {
        let mut out = Vec::new();
        loop {
            let start = self.here();
            let mut vars = Vec::new();
            loop {
                match self.peek().cloned() {
                    Some(Tok::Ident(v)) => {
                        self.pos += 1;
                        vars.push(v);
                    }
                    _ => return Err(self.err("expected a fixed-effect variable")),
                }
                if self.peek_op('^') {
                    self.pos += 1;
                } else {
                    break;
                }
            }
            let label = self.text[start..self.last_end()].trim().to_string();
            if !out.iter().any(|f: &FixedEffectSpec| f.label == label) {
                out.push(FixedEffectSpec { label, vars });
            }
            if self.peek_op('+') {
                self.pos += 1;
            } else {
                break;
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Clone)]
enum Atom {
    Expr(Expr),
    Factor {
        var: String,
        reference: Option<String>,
    },
}

fn make_term(label: String, factors: Vec<Atom>) -> std::result::Result<Term, &'static str> {
    if factors.len() == 1 {
        if let Atom::Factor { var, reference } = &factors[0] {
            return Ok(Term::Factor {
                label,
                var: var.clone(),
                reference: reference.clone(),
            });
        }
    }
    let mut exprs = Vec::with_capacity(factors.len());
    for f in factors {
        match f {
            Atom::Expr(e) => exprs.push(e),
            Atom::Factor { .. } => return Err("i() cannot be part of an interaction here"),
        }
    }
    Ok(Term::Numeric {
        label,
        factors: exprs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(f: &Formula) -> Vec<&str> {
        f.terms.iter().map(|t| t.label()).collect()
    }

    #[test]
    fn basic_with_fixed_effects() {
        let f = Formula::parse("y ~ x1 + log(x2) + I(age^2) | firm + ind^year").unwrap();
        assert_eq!(f.outcome, Expr::Var("y".into()));
        assert_eq!(labels(&f), vec!["x1", "log(x2)", "I(age^2)"]);
        assert!(f.intercept);
        assert_eq!(f.fixed_effects.len(), 2);
        assert_eq!(f.fixed_effects[1].vars, vec!["ind", "year"]);
        assert_eq!(f.fixed_effects[1].label, "ind^year");
    }

    #[test]
    fn intercept_removal_and_interactions() {
        let f = Formula::parse("y ~ 0 + a:b").unwrap();
        assert!(!f.intercept);
        assert_eq!(labels(&f), vec!["a:b"]);
        let f = Formula::parse("y ~ a - 1").unwrap();
        assert!(!f.intercept);
        let f = Formula::parse("y ~ a*b").unwrap();
        assert_eq!(labels(&f), vec!["a", "b", "a:b"]);
    }

    #[test]
    fn iv_and_factor_and_chinese() {
        let f = Formula::parse("log(packs) ~ log(rincome) | log(rprice) ~ tdiff + I(tax / cpi)")
            .unwrap();
        assert_eq!(f.outcome_label, "log(packs)");
        let iv = f.iv.unwrap();
        assert_eq!(iv.endogenous[0].label(), "log(rprice)");
        assert_eq!(iv.instruments[1].label(), "I(tax / cpi)");
        let f = Formula::parse("ESG ~ 儒家 + i(行业, ref = \"C39\") + `total assets`").unwrap();
        assert_eq!(
            f.terms[1],
            Term::Factor {
                label: "i(行业, ref = \"C39\")".into(),
                var: "行业".into(),
                reference: Some("C39".into())
            }
        );
        assert_eq!(f.vars(), vec!["ESG", "儒家", "行业", "total assets"]);
    }

    #[test]
    fn errors_have_positions() {
        for bad in [
            "",
            "y",
            "y ~",
            "y ~ x +",
            "y ~ foo(x)",
            "y ~ x | ",
            "y ~ (x",
            "y ~ x^2",
            "~ x",
        ] {
            match Formula::parse(bad) {
                Err(Error::Formula { position, .. }) => assert!(position >= 1, "{bad}"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn eval_arithmetic() {
        let f = Formula::parse("y ~ I((a - b) / 2 + a^2)").unwrap();
        let a = [1.0, 2.0];
        let b = [3.0, 0.0];
        let look = |n: &str| -> Result<&[f64]> { Ok(if n == "a" { &a[..] } else { &b[..] }) };
        let Term::Numeric { factors, .. } = &f.terms[0] else {
            panic!()
        };
        let v = factors[0].eval(2, &look).unwrap();
        assert_eq!(v, vec![0.0, 5.0]);
    }

    #[test]
    fn hostile_sizes_are_errors_not_stack_overflows() {
        let deep = format!("y ~ {}x{}", "(".repeat(100), ")".repeat(100));
        assert!(Formula::parse(&deep)
            .unwrap_err()
            .to_string()
            .contains("nested"));
        let deeper = format!("y ~ {}x{}", "(".repeat(2000), ")".repeat(2000));
        assert!(Formula::parse(&deeper).is_err());
        let long = format!("y ~ I({})", vec!["x"; 3000].join("+"));
        assert!(Formula::parse(&long)
            .unwrap_err()
            .to_string()
            .contains("too long"));
        let logs = format!("y ~ {}x{}", "log(".repeat(100), ")".repeat(100));
        assert!(Formula::parse(&logs).is_err());
    }

    #[test]
    fn parser_never_panics_on_junk() {
        let pieces = [
            "y", "~", "x", "|", "+", "-", "(", ")", "^", ":", "*", "i(", "I(", "log(", ",", "ref",
            "=", "0", "1", "`a b`", "\"", "北京",
        ];
        // A small exhaustive walk over short token sequences.
        let mut seqs = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for s in &seqs {
                for p in pieces {
                    next.push(format!("{s} {p}"));
                }
            }
            for s in &next {
                let _ = Formula::parse(s);
            }
            seqs = next.into_iter().step_by(7).collect();
        }
    }
}
