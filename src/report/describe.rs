//! Descriptive statistics: [`summarize`] computes N, mean, SD, min, p25, median, p75 and max of
//! numeric variables (optionally by group) into [`Summary`] rows; [`correlate`] computes the
//! pairwise Pearson correlation matrix with p-values ([`Correlation`]); [`describe`] turns both
//! into [`Grid`]s for any writer.
//!
//! Conventions (stated once, tested below):
//! - Missing values (`NaN`, empty cells) are skipped per variable; N counts the rest.
//! - SD uses the n − 1 denominator (R `sd`, Stata `summarize`).
//! - Quantiles use **type 7** of Hyndman & Fan (1996), R's `quantile()` default and numpy's
//!   `linear`: with sorted x₁..xₙ and h = (n − 1)p, q = x₍⌊h⌋+1₎ + (h − ⌊h⌋)(x₍⌊h⌋+2₎ − x₍⌊h⌋+1₎).
//!   Stata's `summarize, detail` uses another rule (the average of two order statistics when np
//!   is whole, else x₍⌈np⌉₎), so its p25/p75 can differ in small samples.
//! - Correlations use pairwise-complete observations (Stata `pwcorr`); the p-value is two-sided
//!   from t = r √((n − 2)/(1 − r²)) with n − 2 degrees of freedom.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::grid::{Cell, Grid, Row, RowKind};
use super::table::{format_level, DEFAULT_STARS};
use crate::data::Frame;
use crate::error::{Error, Result};

/// What `keju describe` computes.
#[derive(Debug, Clone, PartialEq)]
pub struct DescribeOptions {
    /// Numeric variables, in output order.
    pub vars: Vec<String>,
    /// Group variable: one block of statistics per level (levels in sorted order).
    pub by: Option<String>,
    /// Also compute the correlation matrix.
    pub corr: bool,
    /// Decimals shown. Default 3.
    pub digits: usize,
    /// Significance levels for stars on correlations, strictly decreasing. Default
    /// [`DEFAULT_STARS`].
    pub stars: Vec<f64>,
}

impl Default for DescribeOptions {
    fn default() -> Self {
        DescribeOptions {
            vars: Vec::new(),
            by: None,
            corr: false,
            digits: 3,
            stars: DEFAULT_STARS.to_vec(),
        }
    }
}

/// Summary statistics of one variable (in one group). Statistics are `NaN` when `n` is too
/// small (no values; SD needs two).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    pub var: String,
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    pub min: f64,
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    pub max: f64,
}

/// Quantile of sorted data by Hyndman-Fan type 7. `NaN` for empty input.
///
/// **Panics**: if `p` is outside [0, 1] (an invariant of the callers).
#[track_caller]
pub fn quantile_type7(sorted: &[f64], p: f64) -> f64 {
    assert!((0.0..=1.0).contains(&p), "quantile level in [0, 1]");
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Summary of the non-missing values of `values`.
///
/// **Complexity**: O(n log n) (sorting for quantiles).
pub fn summary(var: &str, values: impl Iterator<Item = f64>) -> Summary {
    let mut x: Vec<f64> = values.filter(|v| v.is_finite()).collect();
    x.sort_by(|a, b| a.total_cmp(b));
    let n = x.len();
    let mean = if n > 0 {
        x.iter().sum::<f64>() / n as f64
    } else {
        f64::NAN
    };
    let sd = if n > 1 {
        (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    Summary {
        var: var.to_string(),
        n,
        mean,
        sd,
        min: x.first().copied().unwrap_or(f64::NAN),
        p25: quantile_type7(&x, 0.25),
        median: quantile_type7(&x, 0.5),
        p75: quantile_type7(&x, 0.75),
        max: x.last().copied().unwrap_or(f64::NAN),
    }
}

/// A block of results: all rows, or one level of the `by` variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Block<T> {
    /// `None` for the whole sample, else the group level as text.
    pub group: Option<String>,
    pub value: T,
}

/// Pearson correlations, `k × k` row-major in variable order.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    pub vars: Vec<String>,
    pub r: Vec<Vec<f64>>,
    pub p: Vec<Vec<f64>>,
    /// Pairwise-complete observations.
    pub n: Vec<Vec<usize>>,
}

/// Pearson correlation of the pairs where both values are finite: (r, two-sided p, n).
pub fn pearson(a: &[f64], b: &[f64]) -> (f64, f64, usize) {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| (*x, *y))
        .collect();
    let n = pairs.len();
    if n < 2 {
        return (f64::NAN, f64::NAN, n);
    }
    let (ma, mb) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n as f64,
        pairs.iter().map(|p| p.1).sum::<f64>() / n as f64,
    );
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    let r = sab / (saa * sbb).sqrt();
    let p = if n > 2 && r.abs() < 1.0 {
        let t = r * ((n - 2) as f64 / (1.0 - r * r)).sqrt();
        let dist = StudentsT::new(0.0, 1.0, (n - 2) as f64).expect("df > 0");
        2.0 * dist.sf(t.abs())
    } else if r.abs() >= 1.0 && n > 2 {
        0.0
    } else {
        f64::NAN
    };
    (r, p, n)
}

/// Correlation matrix of `columns` (each n_rows long), pairwise complete.
///
/// **Complexity**: O(k² n).
pub fn correlate(vars: &[String], columns: &[Vec<f64>]) -> Correlation {
    let k = vars.len();
    let mut r = vec![vec![f64::NAN; k]; k];
    let mut p = vec![vec![f64::NAN; k]; k];
    let mut n = vec![vec![0; k]; k];
    for i in 0..k {
        for j in 0..=i {
            let (rij, pij, nij) = pearson(&columns[i], &columns[j]);
            let rij = if i == j && nij > 1 { 1.0 } else { rij };
            r[i][j] = rij;
            r[j][i] = rij;
            p[i][j] = pij;
            p[j][i] = pij;
            n[i][j] = nij;
            n[j][i] = nij;
        }
    }
    Correlation {
        vars: vars.to_vec(),
        r,
        p,
        n,
    }
}

/// Everything `keju describe` computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    pub summaries: Vec<Block<Vec<Summary>>>,
    pub correlations: Vec<Block<Correlation>>,
}

/// Compute the description of `frame`.
///
/// **Errors**: [`Error::Usage`] when no variable is named or star levels are invalid;
/// [`Error::ColumnNotFound`] / [`Error::Parse`] for unknown or text variables (as
/// [`Frame::numeric`]); the `by` column may be text or numbers.
pub fn describe(frame: &Frame, opts: &DescribeOptions) -> Result<Description> {
    if opts.vars.is_empty() {
        return Err(Error::usage("--vars names no variable"));
    }
    if opts.stars.iter().any(|&s| !(s > 0.0 && s < 1.0))
        || opts.stars.windows(2).any(|w| w[1] >= w[0])
    {
        return Err(Error::usage(
            "--stars must be strictly decreasing levels in (0, 1), e.g. 0.1,0.05,0.01",
        ));
    }
    let columns: Vec<&[f64]> = opts
        .vars
        .iter()
        .map(|v| frame.numeric(v))
        .collect::<Result<_>>()?;
    // Groups: (label, row indices).
    let groups: Vec<(Option<String>, Vec<usize>)> = match &opts.by {
        None => vec![(None, (0..frame.n_rows()).collect())],
        Some(by) => {
            let f = frame.column(by)?.factorize();
            let mut rows = vec![Vec::new(); f.levels.len()];
            for (i, &c) in f.codes.iter().enumerate() {
                if c != crate::data::Factor::MISSING {
                    rows[c as usize].push(i);
                }
            }
            f.levels
                .iter()
                .zip(rows)
                .map(|(l, r)| (Some(l.clone()), r))
                .collect()
        }
    };
    let mut summaries = Vec::new();
    let mut correlations = Vec::new();
    for (group, rows) in &groups {
        summaries.push(Block {
            group: group.clone(),
            value: opts
                .vars
                .iter()
                .zip(&columns)
                .map(|(v, c)| summary(v, rows.iter().map(|&i| c[i])))
                .collect(),
        });
        if opts.corr {
            let sub: Vec<Vec<f64>> = columns
                .iter()
                .map(|c| rows.iter().map(|&i| c[i]).collect())
                .collect();
            correlations.push(Block {
                group: group.clone(),
                value: correlate(&opts.vars, &sub),
            });
        }
    }
    Ok(Description {
        summaries,
        correlations,
    })
}

fn heading(by: &str, group: &Option<String>, n_cols: usize) -> Option<Row> {
    group.as_ref().map(|g| Row {
        kind: RowKind::Heading,
        key: format!("{by}={g}"),
        label: format!("{by} = {g}"),
        cells: vec![Cell::Empty; n_cols],
    })
}

/// Lay out a description as tables: the summary statistics, then (with `corr`) the lower
/// triangle of the correlation matrix with stars. `labels` maps variable names to labels.
pub fn describe_grids(
    d: &Description,
    opts: &DescribeOptions,
    labels: &std::collections::HashMap<String, String>,
) -> Vec<Grid> {
    let label = |v: &str| labels.get(v).cloned().unwrap_or_else(|| v.to_string());
    let by = opts.by.clone().unwrap_or_default();
    let digits = opts.digits;
    let header: Vec<String> = ["N", "Mean", "SD", "Min", "p25", "Median", "p75", "Max"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let n_cols = header.len();
    let sections = d
        .summaries
        .iter()
        .map(|b| {
            let mut rows: Vec<Row> = heading(&by, &b.group, n_cols).into_iter().collect();
            rows.extend(b.value.iter().map(|s| {
                Row {
                    kind: RowKind::Summary,
                    key: s.var.clone(),
                    label: label(&s.var),
                    cells: std::iter::once(Cell::Count { value: s.n as u64 })
                        .chain(
                            [s.mean, s.sd, s.min, s.p25, s.median, s.p75, s.max]
                                .into_iter()
                                .map(|v| Cell::number(v, digits)),
                        )
                        .collect(),
                }
            }));
            rows
        })
        .collect();
    let mut grids = vec![Grid {
        title: Some("Summary statistics".into()),
        stub: "Variable".into(),
        n_cols,
        header: vec![header],
        sections,
        notes: vec![
            "SD with the n-1 denominator; quantiles by Hyndman-Fan type 7 (R's default).".into(),
        ],
    }];
    if !d.correlations.is_empty() {
        let k = opts.vars.len();
        let header: Vec<String> = (1..=k).map(|i| format!("({i})")).collect();
        let sections = d
            .correlations
            .iter()
            .map(|b| {
                let c = &b.value;
                let mut rows: Vec<Row> = heading(&by, &b.group, k).into_iter().collect();
                rows.extend((0..k).map(|i| {
                    Row {
                        kind: RowKind::Summary,
                        key: c.vars[i].clone(),
                        label: format!("({}) {}", i + 1, label(&c.vars[i])),
                        cells: (0..k)
                            .map(|j| {
                                if j > i {
                                    Cell::Empty
                                } else {
                                    let p = c.p[i][j];
                                    let stars = if i == j || !p.is_finite() {
                                        0
                                    } else {
                                        opts.stars.iter().filter(|&&s| p < s).count()
                                    };
                                    Cell::Number {
                                        value: c.r[i][j].is_finite().then_some(c.r[i][j]),
                                        digits,
                                        stars,
                                        parens: false,
                                    }
                                }
                            })
                            .collect(),
                    }
                }));
                rows
            })
            .collect();
        let mut notes = vec![
            "Pearson correlations, pairwise-complete observations; two-sided t test.".to_string(),
        ];
        if !opts.stars.is_empty() {
            let parts: Vec<String> = opts
                .stars
                .iter()
                .enumerate()
                .rev()
                .map(|(i, s)| format!("{} p<{}", "*".repeat(i + 1), format_level(*s)))
                .collect();
            notes.push(format!("{}.", parts.join(", ")));
        }
        grids.push(Grid {
            title: Some("Correlations".into()),
            stub: String::new(),
            n_cols: k,
            header: vec![header],
            sections,
            notes,
        });
    }
    grids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type7_matches_r() {
        // R: quantile(c(1, 2, 3, 4, 10), c(.25, .5, .75)) = 2, 3, 4
        let x = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile_type7(&x, 0.25), 2.0);
        assert_eq!(quantile_type7(&x, 0.5), 3.0);
        // R: quantile(1:4, .25) = 1.75; quantile(1:4, .75) = 3.25
        let y = [1.0, 2.0, 3.0, 4.0];
        assert!((quantile_type7(&y, 0.25) - 1.75).abs() < 1e-15);
        assert!((quantile_type7(&y, 0.75) - 3.25).abs() < 1e-15);
        assert_eq!(quantile_type7(&y, 1.0), 4.0);
        assert!(quantile_type7(&[], 0.5).is_nan());
    }

    #[test]
    fn summary_skips_missing() {
        let s = summary("x", [1.0, f64::NAN, 3.0].into_iter());
        assert_eq!(s.n, 2);
        assert_eq!(s.mean, 2.0);
        assert!((s.sd - 2f64.sqrt()).abs() < 1e-15);
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
    }

    #[test]
    fn pearson_known_values() {
        let (r, p, n) = pearson(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 6.0, 8.0]);
        assert_eq!(n, 4);
        assert!((r - 1.0).abs() < 1e-15);
        assert_eq!(p, 0.0);
        // R: cor.test(c(1,2,3,4,5), c(2,1,4,3,5)) -> r = 0.8, p = 0.1041
        let (r, p, _) = pearson(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]);
        assert!((r - 0.8).abs() < 1e-12);
        assert!((p - 0.104_088).abs() < 1e-5, "p = {p}");
    }
}
