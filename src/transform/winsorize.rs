//! Winsorizing: [`winsorize_frame`] clips variables of a [`Frame`] at their p and 1 − p
//! quantiles, pooled or within each level of a group variable, and returns a
//! [`WinsorizeReport`] (schema `keju.winsorize/1`) with the cut-offs and how many values were
//! clipped at each tail. Quantiles come from [`quantile`] under a [`QuantileRule`].
//!
//! Missing values stay missing and are not counted in n; rows whose group is missing are left
//! unchanged. **Source**: Stata `winsor2` (Yujun Lian), which calls `_pctile`; R `quantile`
//! (Hyndman & Fan 1996, type 7). Conventions in `docs/conventions.md`.

use serde::Serialize;

use crate::data::{Column, Frame};
use crate::error::{Error, Result};

/// How a quantile is computed from the sorted non-missing values x₍₁₎ ≤ … ≤ x₍ₙ₎.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum QuantileRule {
    /// Stata `_pctile` default (used by `winsor2`): with h = n·p, the average of x₍h₎ and
    /// x₍h+1₎ when h is an integer, else x₍⌈h⌉₎. Default.
    #[default]
    Stata,
    /// R `quantile(type = 7)`: h = (n − 1)·p + 1, x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎).
    R7,
}

/// Relative tolerance for "n·p is an integer" under the Stata rule (so that 0.07 × 100 counts
/// as 7 although it is 7.000000000000001 in binary).
const INTEGER_TOL: f64 = 1e-9;

/// The p-quantile of `sorted` (ascending, no NaN) under `rule`.
///
/// **Panics**: if `sorted` is empty or p is outside [0, 1].
#[track_caller]
pub fn quantile(sorted: &[f64], p: f64, rule: QuantileRule) -> f64 {
    assert!(!sorted.is_empty(), "quantile of at least one value");
    assert!((0.0..=1.0).contains(&p), "p in [0, 1]");
    let n = sorted.len();
    // 1-based order statistic, clamped to the sample.
    let x = |i: usize| sorted[i.clamp(1, n) - 1];
    match rule {
        QuantileRule::Stata => {
            let h = n as f64 * p;
            let r = h.round();
            if (h - r).abs() <= INTEGER_TOL * h.max(1.0) {
                let j = r as usize;
                if j == 0 {
                    x(1)
                } else if j >= n {
                    x(n)
                } else {
                    (x(j) + x(j + 1)) / 2.0
                }
            } else {
                x(h.ceil() as usize)
            }
        }
        QuantileRule::R7 => {
            let h = (n - 1) as f64 * p + 1.0;
            let lo = h.floor();
            let a = x(lo as usize);
            let b = x(lo as usize + 1);
            a + (h - lo) * (b - a)
        }
    }
}

/// Cut-offs and counts in one group of one variable.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupCut {
    /// The group's level (`null` when pooled).
    pub group: Option<String>,
    /// Non-missing values.
    pub n: usize,
    /// The p-quantile (values below become this); `null` when n = 0.
    pub lower: Option<f64>,
    /// The (1 − p)-quantile (values above become this).
    pub upper: Option<f64>,
    pub n_clipped_low: usize,
    pub n_clipped_high: usize,
}

/// What happened to one variable.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VariableReport {
    pub variable: String,
    /// Non-missing values (in rows with a group).
    pub n: usize,
    pub n_missing: usize,
    pub n_clipped_low: usize,
    pub n_clipped_high: usize,
    /// One entry when pooled, one per group level otherwise.
    pub groups: Vec<GroupCut>,
}

/// The report of `keju winsorize` (schema `keju.winsorize/1`).
#[derive(Debug, Clone, Serialize)]
pub struct WinsorizeReport {
    pub keju_version: &'static str,
    pub schema: &'static str,
    pub data: String,
    /// Tail probability: values below the p-quantile and above the (1 − p)-quantile are clipped.
    pub p: f64,
    pub quantile_rule: QuantileRule,
    pub by: Option<String>,
    /// Rows left unchanged because the group variable is missing.
    pub n_missing_group: usize,
    pub variables: Vec<VariableReport>,
}

/// Options of [`winsorize_frame`].
#[derive(Debug, Clone)]
pub struct WinsorizeOptions {
    pub vars: Vec<String>,
    /// Group variable; `None` pools all rows.
    pub by: Option<String>,
    /// Tail probability in (0, 0.5). Default 0.01 (1% and 99%).
    pub p: f64,
    pub rule: QuantileRule,
}

impl WinsorizeOptions {
    /// **Errors**: [`Error::Usage`] for p outside (0, 0.5) or no variables.
    pub fn validate(&self) -> Result<()> {
        if !(self.p > 0.0 && self.p < 0.5) {
            return Err(Error::usage(format!(
                "--p must be in (0, 0.5) (the tail probability, e.g. 0.01 for 1%/99%), got {}",
                self.p
            )));
        }
        if self.vars.is_empty() {
            return Err(Error::usage("--vars names no variable"));
        }
        Ok(())
    }
}

/// Clip `values` (in place) at the p and 1 − p quantiles of the rows in `rows`.
///
/// **Complexity**: O(m log m) for m = rows.len().
pub fn winsorize_rows(values: &mut [f64], rows: &[usize], p: f64, rule: QuantileRule) -> GroupCut {
    let mut sorted: Vec<f64> = rows
        .iter()
        .map(|&i| values[i])
        .filter(|v| !v.is_nan())
        .collect();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let mut cut = GroupCut {
        group: None,
        n: sorted.len(),
        lower: None,
        upper: None,
        n_clipped_low: 0,
        n_clipped_high: 0,
    };
    if sorted.is_empty() {
        return cut;
    }
    let lo = quantile(&sorted, p, rule);
    let hi = quantile(&sorted, 1.0 - p, rule);
    for &i in rows {
        let v = values[i];
        if v < lo {
            values[i] = lo;
            cut.n_clipped_low += 1;
        } else if v > hi {
            values[i] = hi;
            cut.n_clipped_high += 1;
        }
    }
    cut.lower = Some(lo);
    cut.upper = Some(hi);
    cut
}

/// Winsorize `opts.vars` of `frame` in place.
///
/// **Errors**: [`Error::Usage`] for bad options; [`Error::ColumnNotFound`] for an unknown
/// variable or group; [`Error::Parse`] for a text variable.
pub fn winsorize_frame(frame: &mut Frame, opts: &WinsorizeOptions) -> Result<WinsorizeReport> {
    opts.validate()?;
    let n = frame.n_rows();
    let (groups, labels): (Vec<Vec<usize>>, Vec<Option<String>>) = match &opts.by {
        None => (vec![(0..n).collect()], vec![None]),
        Some(by) => {
            let f = frame.column(by)?.factorize();
            let mut g = vec![Vec::new(); f.levels.len()];
            for (i, &c) in f.codes.iter().enumerate() {
                if c != crate::data::Factor::MISSING {
                    g[c as usize].push(i);
                }
            }
            (g, f.levels.into_iter().map(Some).collect())
        }
    };
    let n_missing_group = n - groups.iter().map(Vec::len).sum::<usize>();
    let mut variables = Vec::with_capacity(opts.vars.len());
    for var in &opts.vars {
        let mut values = frame.numeric(var)?.to_vec();
        let n_missing = values.iter().filter(|v| v.is_nan()).count();
        let cuts: Vec<GroupCut> = groups
            .iter()
            .zip(&labels)
            .map(|(rows, label)| GroupCut {
                group: label.clone(),
                ..winsorize_rows(&mut values, rows, opts.p, opts.rule)
            })
            .collect();
        variables.push(VariableReport {
            variable: var.clone(),
            n: cuts.iter().map(|c| c.n).sum(),
            n_missing,
            n_clipped_low: cuts.iter().map(|c| c.n_clipped_low).sum(),
            n_clipped_high: cuts.iter().map(|c| c.n_clipped_high).sum(),
            groups: cuts,
        });
        frame.set_column(var, Column::Num(values));
    }
    Ok(WinsorizeReport {
        keju_version: crate::estimate::KEJU_VERSION,
        schema: "keju.winsorize/1",
        data: frame.source.clone(),
        p: opts.p,
        quantile_rule: opts.rule,
        by: opts.by.clone(),
        n_missing_group,
        variables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stata_rule_on_one_to_twenty() {
        let x: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(quantile(&x, 0.1, QuantileRule::Stata), 2.5);
        assert_eq!(quantile(&x, 0.9, QuantileRule::Stata), 18.5);
        // n·p = 2.2 → x₍₃₎; n·p = 17.8 → x₍₁₈₎.
        assert_eq!(quantile(&x, 0.11, QuantileRule::Stata), 3.0);
        assert_eq!(quantile(&x, 0.89, QuantileRule::Stata), 18.0);
        // R type 7: h = 19·0.1 + 1 = 2.9 → 2 + 0.9 = 2.9; h = 18.1 → 18.1.
        assert!((quantile(&x, 0.1, QuantileRule::R7) - 2.9).abs() < 1e-12);
        assert!((quantile(&x, 0.9, QuantileRule::R7) - 18.1).abs() < 1e-12);
    }

    #[test]
    fn clips_and_counts_missing_untouched() {
        let mut v: Vec<f64> = (1..=20).map(f64::from).collect();
        v.push(f64::NAN);
        let rows: Vec<usize> = (0..21).collect();
        let cut = winsorize_rows(&mut v, &rows, 0.1, QuantileRule::Stata);
        assert_eq!((cut.n, cut.n_clipped_low, cut.n_clipped_high), (20, 2, 2));
        assert_eq!(&v[..3], &[2.5, 2.5, 3.0]);
        assert_eq!(&v[17..20], &[18.0, 18.5, 18.5]);
        assert!(v[20].is_nan());
    }
}
