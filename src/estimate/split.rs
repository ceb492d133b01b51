//! Sample splits (`keju fit --split`): the same model fitted once per group, and a test that
//! the coefficient of interest is equal across groups. The paper's Tables 3-5 are this.
//!
//! Rules ([`SplitRule::parse`]):
//! - `COL`: one group per level of COL (text or numbers), as fixest's `split =`;
//! - `COL > mean`, `COL >= median`, `COL < mean by year`, ...: two groups, the rows where the
//!   comparison with the statistic holds and the rest. The statistic is computed over the
//!   pooled estimation sample (rows the model would use without the split, where COL is not
//!   missing); with `by G`, within each level of G (the paper's "above the yearly median");
//! - any other boolean expression (`pc == 0`, `size > 22 & lev < 0.5`): two groups, the rows
//!   where it holds and the rest.
//!
//! Each group is its own sample: missing values, singletons and collinearity are handled per
//! group, and rows of the other groups are counted in `removed.other_groups`.
//!
//! Equality test: a pooled model on the union of the groups, fully interacted: every
//! regressor is interacted with the group dummies and every fixed effect with the group (the
//! intercept becomes a group fixed effect), so the group coefficients equal those of the
//! separate fits, and their joint variance (same variance type and clustering; a firm in
//! two groups links them) gives the test, as Stata's `suest` or a Chow test would. The Wald
//! statistic for `β_term,1 = … = β_term,G` is divided by G − 1 and compared with
//! F(G − 1, df), df the t degrees of freedom of the pooled model. With two groups it is the
//! square of the t statistic of the difference. Only for OLS (the pooled model of IV and GLM
//! would not share this form); other models report the groups without the test.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

use super::{fit, FitOptions, FitResult, Model, KEJU_VERSION};
use crate::data::{Column, Frame};
use crate::design::{Block, Design};
use crate::error::{Error, Result};
use crate::formula::{FixedEffectSpec, Formula};
use crate::subset::Subset;

/// Statistic a threshold split compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitStat {
    Mean,
    Median,
}

/// How rows are split into groups.
#[derive(Debug, Clone, PartialEq)]
pub enum SplitRule {
    /// One group per level of a column.
    Levels(String),
    /// `var op stat [by group]`.
    Threshold {
        var: String,
        op: String,
        stat: SplitStat,
        by: Option<String>,
    },
    /// A boolean row filter and its complement.
    Condition(String),
}

impl SplitRule {
    /// Parse a `--split` value (see the module docs).
    ///
    /// **Errors**: [`Error::Usage`] for an empty rule; [`Error::Formula`] for a bad condition.
    pub fn parse(text: &str) -> Result<SplitRule> {
        let t = text.trim();
        if t.is_empty() {
            return Err(Error::usage("--split needs a column or a rule"));
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        let is_op = |w: &str| [">", ">=", "<", "<="].contains(&w);
        let stat = |w: &str| match w {
            "mean" => Some(SplitStat::Mean),
            "median" => Some(SplitStat::Median),
            _ => None,
        };
        if words.len() >= 3 && is_op(words[1]) {
            if let Some(s) = stat(words[2]) {
                let by = match &words[3..] {
                    [] => None,
                    ["by", g] => Some(g.trim_matches('`').to_string()),
                    _ => {
                        return Err(Error::usage(format!(
                            "--split \"{t}\": expected \"VAR OP mean|median [by GROUP]\""
                        )))
                    }
                };
                return Ok(SplitRule::Threshold {
                    var: words[0].trim_matches('`').to_string(),
                    op: words[1].to_string(),
                    stat: s,
                    by,
                });
            }
        }
        if t.contains(['=', '<', '>', '&', '|', '!']) {
            Subset::parse(t)?;
            return Ok(SplitRule::Condition(t.to_string()));
        }
        Ok(SplitRule::Levels(t.trim_matches('`').to_string()))
    }

    /// Columns the rule reads, without repeats: the column of [`SplitRule::Levels`]; the
    /// variable and the `by` group of a threshold; every column of a condition.
    ///
    /// **Errors**: [`Error::Formula`] when a condition does not parse (never for a rule
    /// returned by [`SplitRule::parse`], which parsed it).
    pub fn columns(&self) -> Result<Vec<String>> {
        Ok(match self {
            SplitRule::Levels(col) => vec![col.clone()],
            SplitRule::Threshold { var, by, .. } => {
                let mut out = vec![var.clone()];
                out.extend(by.iter().filter(|g| *g != var).cloned());
                out
            }
            SplitRule::Condition(expr) => Subset::parse(expr)?.columns(),
        })
    }

    /// Group labels and row masks (length n_rows each).
    ///
    /// `pooled` marks the rows of the pooled estimation sample (used for thresholds).
    fn groups(&self, frame: &Frame, pooled: &[bool]) -> Result<Vec<(String, Vec<bool>)>> {
        let n = frame.n_rows();
        match self {
            SplitRule::Levels(col) => {
                let f = frame.column(col)?.factorize();
                if f.levels.len() > 50 {
                    return Err(Error::usage(format!(
                        "--split {col}: {} levels; a split makes one model per level (at most 50)",
                        f.levels.len()
                    )));
                }
                Ok(f.levels
                    .iter()
                    .enumerate()
                    .map(|(l, label)| {
                        let mask = f.codes.iter().map(|c| *c as usize == l).collect();
                        (format!("{col} = {label}"), mask)
                    })
                    .collect())
            }
            SplitRule::Condition(expr) => {
                let mask = Subset::parse(expr)?.evaluate(frame)?;
                let not: Vec<bool> = mask.iter().map(|m| !m).collect();
                Ok(vec![(expr.clone(), mask), (format!("!({expr})"), not)])
            }
            SplitRule::Threshold { var, op, stat, by } => {
                let values = frame.numeric(var)?;
                let groups = match by {
                    Some(g) => frame.column(g)?.factorize(),
                    None => crate::data::Factor {
                        codes: vec![0; n],
                        levels: vec!["all".into()],
                    },
                };
                let mut cut = vec![f64::NAN; groups.levels.len()];
                for (l, c) in cut.iter_mut().enumerate() {
                    let mut v: Vec<f64> = (0..n)
                        .filter(|&i| {
                            pooled[i] && groups.codes[i] as usize == l && !values[i].is_nan()
                        })
                        .map(|i| values[i])
                        .collect();
                    if v.is_empty() {
                        continue;
                    }
                    *c = match stat {
                        SplitStat::Mean => v.iter().sum::<f64>() / v.len() as f64,
                        SplitStat::Median => {
                            v.sort_by(|a, b| a.total_cmp(b));
                            let m = v.len() / 2;
                            if v.len() % 2 == 1 {
                                v[m]
                            } else {
                                0.5 * (v[m - 1] + v[m])
                            }
                        }
                    };
                }
                let holds = |x: f64, c: f64| match op.as_str() {
                    ">" => x > c,
                    ">=" => x >= c,
                    "<" => x < c,
                    _ => x <= c,
                };
                let mut yes = vec![false; n];
                let mut no = vec![false; n];
                for i in 0..n {
                    let code = groups.codes[i];
                    if values[i].is_nan() || code == crate::data::Factor::MISSING {
                        continue;
                    }
                    let c = cut[code as usize];
                    if c.is_nan() {
                        continue;
                    }
                    if holds(values[i], c) {
                        yes[i] = true;
                    } else {
                        no[i] = true;
                    }
                }
                let stat_name = match stat {
                    SplitStat::Mean => "mean",
                    SplitStat::Median => "median",
                };
                let suffix = by.as_ref().map(|g| format!(" by {g}")).unwrap_or_default();
                let negated = match op.as_str() {
                    ">" => "<=",
                    ">=" => "<",
                    "<" => ">=",
                    _ => ">",
                };
                Ok(vec![
                    (format!("{var} {op} {stat_name}{suffix}"), yes),
                    (format!("{var} {negated} {stat_name}{suffix}"), no),
                ])
            }
        }
    }
}

/// One group's result.
#[derive(Debug, Clone, Serialize)]
pub struct SplitGroup {
    pub group: String,
    pub result: FitResult,
}

/// The test that a coefficient is equal across groups.
#[derive(Debug, Clone, Serialize)]
pub struct EqualityTest {
    pub term: String,
    /// How the test was computed.
    pub method: String,
    /// F statistic (Wald / (G − 1)).
    pub f_stat: f64,
    pub df1: usize,
    pub df2: usize,
    pub p: f64,
    /// Coefficient of the term in each group of the pooled model, in group order.
    pub pooled_estimates: Vec<f64>,
}

/// The result of `keju fit --split` (schema `keju.split/1`).
#[derive(Debug, Clone, Serialize)]
pub struct SplitResult {
    pub keju_version: &'static str,
    pub schema: &'static str,
    pub split: String,
    pub groups: Vec<SplitGroup>,
    /// `None` for IV and probit/logit, or when the term is missing from the pooled model.
    pub equality_test: Option<EqualityTest>,
}

/// Fit the model in every group of `rule` and test equality of `term` (default: the first
/// regressor of the formula).
///
/// **Errors**: those of [`fit`] for any group (naming the group), [`Error::Usage`] for a bad
/// rule or term.
pub fn fit_split(
    frame: &Frame,
    formula: &Formula,
    opts: &FitOptions,
    rule: &SplitRule,
    term: Option<&str>,
) -> Result<SplitResult> {
    let pooled_design = Design::build(frame, formula, &opts.design_options())?;
    let mut pooled = vec![false; frame.n_rows()];
    pooled_design.rows.iter().for_each(|&i| pooled[i] = true);
    let groups = rule.groups(frame, &pooled)?;
    let mut out = Vec::new();
    for (label, mask) in &groups {
        let mut o = opts.clone();
        o.group = Some(match &opts.group {
            Some(g) => g.iter().zip(mask).map(|(a, b)| *a && *b).collect(),
            None => mask.clone(),
        });
        let result =
            fit(frame, formula, &o).map_err(|e| e.context(format!("split group \"{label}\"")))?;
        out.push(SplitGroup {
            group: label.clone(),
            result,
        });
    }
    let term = match term {
        Some(t) => t.to_string(),
        None => formula
            .terms
            .first()
            .map(|t| t.label().to_string())
            .ok_or_else(|| Error::usage("--split: the formula has no regressor to compare"))?,
    };
    let equality_test = if opts.model == Model::Ols && formula.iv.is_none() {
        let masks: Vec<&Vec<bool>> = groups.iter().map(|(_, m)| m).collect();
        equality_test(frame, formula, opts, &masks, &term)?
    } else {
        None
    };
    Ok(SplitResult {
        keju_version: KEJU_VERSION,
        schema: "keju.split/1",
        split: match rule {
            SplitRule::Levels(c) => c.clone(),
            SplitRule::Condition(e) => e.clone(),
            SplitRule::Threshold { .. } => groups[0].0.clone(),
        },
        groups: out,
        equality_test,
    })
}

fn equality_test(
    frame: &Frame,
    formula: &Formula,
    opts: &FitOptions,
    masks: &[&Vec<bool>],
    term: &str,
) -> Result<Option<EqualityTest>> {
    let n_rows = frame.n_rows();
    // The group as a column: fixed effects are interacted with it, so the pooled model's
    // group coefficients are exactly those of the separate fits.
    const GROUP: &str = "__split_group";
    let mut pooled_frame = frame.clone();
    let code: Vec<f64> = (0..n_rows)
        .map(|i| {
            masks
                .iter()
                .position(|m| m[i])
                .map_or(f64::NAN, |g| g as f64)
        })
        .collect();
    pooled_frame.set_column(GROUP, Column::Num(code));
    let mut pooled_formula = formula.clone();
    if pooled_formula.fixed_effects.is_empty() {
        pooled_formula.fixed_effects.push(FixedEffectSpec {
            label: GROUP.into(),
            vars: vec![GROUP.into()],
        });
    } else {
        for fe in &mut pooled_formula.fixed_effects {
            fe.vars.push(GROUP.into());
            fe.label = format!("{}^{GROUP}", fe.label);
        }
    }
    let union: Vec<bool> = (0..n_rows).map(|i| masks.iter().any(|m| m[i])).collect();
    let mut o = opts.clone();
    o.group = Some(match &opts.group {
        Some(g) => g.iter().zip(&union).map(|(a, b)| *a && *b).collect(),
        None => union,
    });
    let mut design = Design::build(&pooled_frame, &pooled_formula, &o.design_options())?;
    if !design.x.names.iter().any(|t| t == term) {
        return Err(Error::usage(format!(
            "--split-term \"{term}\" is not a regressor of the model (regressors: {})",
            design.x.names.join(", ")
        )));
    }
    let group_of: Vec<usize> = design
        .rows
        .iter()
        .map(|&i| {
            masks
                .iter()
                .position(|m| m[i])
                .expect("row is in the union of the groups")
        })
        .collect();
    let g_count = masks.len();
    let mut x = Block::default();
    for (j, name) in design.x.names.iter().enumerate() {
        let col = design.x.col(j);
        for g in 0..g_count {
            x.names.push(format!("{name}@{g}"));
            x.columns.push(
                col.iter()
                    .zip(&group_of)
                    .map(|(v, gi)| if *gi == g { *v } else { 0.0 })
                    .collect(),
            );
        }
    }
    design.x = x;
    let kind = o.vcov_kind()?;
    let pooled = super::ols::estimate(design, &pooled_formula, &o, kind, &frame.source)?;
    let idx: Vec<Option<usize>> = (0..g_count)
        .map(|g| {
            let name = format!("{term}@{g}");
            pooled.coefficients.iter().position(|c| c.term == name)
        })
        .collect();
    if idx.iter().any(|i| i.is_none()) {
        return Ok(None);
    }
    let idx: Vec<usize> = idx.into_iter().flatten().collect();
    let b: Vec<f64> = idx
        .iter()
        .map(|&i| pooled.coefficients[i].estimate)
        .collect();
    let v = |a: usize, c: usize| pooled.vcov_matrix[idx[a]][idx[c]];
    // Restrictions β_g − β_last = 0, g < G − 1.
    let q = g_count - 1;
    let r: Vec<f64> = (0..q).map(|g| b[g] - b[q]).collect();
    let rv = faer::Mat::<f64>::from_fn(q, q, |a, c| v(a, c) - v(a, q) - v(q, c) + v(q, q));
    let inv = super::spd_inverse(&rv)
        .ok_or_else(|| Error::estimation("the variance of the group differences is singular"))?;
    let mut wald = 0.0;
    for a in 0..q {
        for c in 0..q {
            wald += r[a] * inv[(a, c)] * r[c];
        }
    }
    let f_stat = wald / q as f64;
    let df2 = pooled.vcov.df_t;
    let p = FisherSnedecor::new(q as f64, df2 as f64)
        .map(|d| d.sf(f_stat))
        .unwrap_or(f64::NAN);
    Ok(Some(EqualityTest {
        term: term.to_string(),
        method: "Wald test in a pooled, fully interacted model (every regressor and every fixed effect interacted with the groups, so the group coefficients are those of the separate fits), with the variance type and clustering of the fits".into(),
        f_stat,
        df1: q,
        df2,
        p,
        pooled_estimates: b,
    }))
}

/// Text rendering: each group's summary and the test.
pub fn render_text(r: &SplitResult) -> String {
    let mut s = String::new();
    for g in &r.groups {
        s.push_str(&format!("=== group: {} (N = {})\n", g.group, g.result.nobs));
        s.push_str(&crate::report::text::fit_summary(&g.result));
        s.push('\n');
    }
    match &r.equality_test {
        Some(t) => s.push_str(&format!(
            "equality of {} across groups: F({}, {}) = {:.4}, p = {:.4}\n  ({})\n",
            t.term, t.df1, t.df2, t.f_stat, t.p, t.method
        )),
        None => s.push_str("equality test: not available for this model\n"),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_columns() {
        let cols = |r: &str| SplitRule::parse(r).unwrap().columns().unwrap();
        assert_eq!(cols("Indnme"), vec!["Indnme"]);
        assert_eq!(cols("`total assets`"), vec!["total assets"]);
        assert_eq!(cols("hhi > mean"), vec!["hhi"]);
        assert_eq!(cols("formal <= median by year"), vec!["formal", "year"]);
        assert_eq!(cols("size >= median by size"), vec!["size"]);
        assert_eq!(
            cols("pc == 0 | (lev < 0.5 & pc != `total assets`)"),
            vec!["pc", "lev", "total assets"]
        );
        assert_eq!(cols("province != \"北京\""), vec!["province"]);
    }
}
