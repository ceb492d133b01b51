//! Estimators and their common result type [`FitResult`].
//!
//! - [`ols`]: least squares with absorbed fixed effects, weights, and iid / HC1 / CR1 variances.
//! - [`iv`]: two-stage least squares (`y ~ exog | fe | endog ~ instruments`) with first stages.
//! - [`glm`]: probit and logit by Fisher scoring, with separation checks.
//! - [`psm`]: propensity-score matching (logit score from [`glm`], MatchIt's nearest
//!   neighbour), ATT and covariate balance.
//!
//! [`fit`] picks the estimator: the IV part of the formula selects [`iv`], `model` in
//! [`FitOptions`] selects [`glm`], OLS otherwise.
//!
//! Shared kernels: [`gram`] (X'X, threaded by faer), [`select_independent`] (the collinearity
//! rule), [`coefficient_table`] (t, p and confidence intervals from a variance matrix).

pub mod glm;
pub mod iv;
pub mod ols;
pub mod psm;
pub mod split;

use faer::Mat;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::absorb::DemeanInfo;
use crate::design::Removed;
use crate::vcov::{ClusterDf, FeRedundancy, FixefK, VcovKind};

pub use glm::fit_glm;
pub use iv::fit_iv;
pub use ols::{fit_ols, FitOptions};

/// The estimator family of `keju fit --model`. IV is chosen by the formula, not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Least squares (2SLS when the formula has an IV part). Default.
    #[default]
    Ols,
    /// Binary probit, maximum likelihood.
    Probit,
    /// Binary logit, maximum likelihood.
    Logit,
}

impl Model {
    /// Name used in JSON (`model`) and text output.
    pub fn name(self) -> &'static str {
        match self {
            Model::Ols => "ols",
            Model::Probit => "probit",
            Model::Logit => "logit",
        }
    }
}

/// Fit the model the formula and options ask for: 2SLS when the formula has an IV part,
/// probit/logit when `opts.model` says so, OLS otherwise.
///
/// **Errors**: those of [`fit_ols`], [`fit_iv`], [`fit_glm`]; [`crate::Error::Usage`] for an IV
/// formula with `--model probit|logit`.
pub fn fit(
    frame: &crate::data::Frame,
    formula: &crate::formula::Formula,
    opts: &FitOptions,
) -> crate::Result<FitResult> {
    match (opts.model, formula.iv.is_some()) {
        (Model::Ols, true) => fit_iv(frame, formula, opts),
        (Model::Ols, false) => fit_ols(frame, formula, opts),
        (m, true) => Err(crate::Error::usage(format!(
            "--model {} cannot be combined with an IV part (endog ~ instruments) in the formula",
            m.name()
        ))),
        (_, false) => fit_glm(frame, formula, opts),
    }
}

/// [`fit`], taking the frame by value: for OLS the frame is freed once the estimation sample
/// is built, so the peak memory holds the input columns or the demeaned ones, not both.
pub fn fit_owned(
    frame: crate::data::Frame,
    formula: &crate::formula::Formula,
    opts: &FitOptions,
) -> crate::Result<FitResult> {
    match (opts.model, formula.iv.is_some()) {
        (Model::Ols, false) => ols::fit_ols_owned(frame, formula, opts),
        _ => fit(&frame, formula, opts),
    }
}

/// The first stage of one endogenous variable in 2SLS.
#[derive(Debug, Clone, Serialize)]
pub struct FirstStage {
    /// The endogenous variable as written in the formula.
    pub endogenous: String,
    /// Partial F of the excluded instruments: Wald statistic under the fit's variance type
    /// divided by the number of excluded instruments (the classic F when iid).
    pub f_stat: f64,
    /// Numerator degrees of freedom of `f_stat` (excluded instruments).
    pub f_df1: usize,
    /// Denominator degrees of freedom (those of the variance: n − K, or G − 1 clustered).
    pub f_df2: usize,
    /// p-value of `f_stat` from F(f_df1, f_df2).
    pub f_p: f64,
    /// Kleibergen-Paap rk Wald F. Only with one endogenous variable, where it equals the
    /// Wald F of the excluded instruments under the fit's variance (`f_stat`); `null` with
    /// several endogenous variables (the general rk statistic is not implemented).
    pub kp_f: Option<f64>,
    /// First-stage coefficients (exogenous regressors, then excluded instruments).
    pub coefficients: Vec<Coefficient>,
    /// R² of the first stage (within R² with fixed effects).
    pub r2: f64,
}

/// Average marginal effect of one regressor in a probit/logit.
#[derive(Debug, Clone, Serialize)]
pub struct MarginalEffect {
    pub term: String,
    /// Mean over observations of ∂P(y=1)/∂x = g(η) β (g the density of the link).
    pub ame: f64,
    /// Delta-method standard error under the fit's variance.
    pub std_error: f64,
    pub z: f64,
    pub p: f64,
}

/// One row of the coefficient table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Coefficient {
    pub term: String,
    pub estimate: f64,
    pub std_error: f64,
    /// t statistic (z for GLMs).
    #[serde(rename = "t")]
    pub t_stat: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// 95% confidence interval.
    pub ci_low: f64,
    pub ci_high: f64,
}

/// How the variance was computed.
#[derive(Debug, Clone, Serialize)]
pub struct VcovInfo {
    #[serde(rename = "type")]
    pub kind: VcovKind,
    pub cluster: Vec<String>,
    pub n_clusters: Vec<usize>,
    pub fixef_k: FixefK,
    pub fe_redundancy: FeRedundancy,
    pub cluster_df: ClusterDf,
    /// K in the small-sample factor.
    pub dof_k: usize,
    /// Degrees of freedom of the t distribution.
    pub df_t: usize,
}

impl VcovInfo {
    /// The variance description of a fit: its kind, the design's cluster variables and counts
    /// (`n_clusters`), the options' conventions, K and the t degrees of freedom (0 = normal).
    pub fn new(
        kind: VcovKind,
        design: &crate::design::Design,
        n_clusters: &[usize],
        opts: &FitOptions,
        dof_k: usize,
        df_t: usize,
    ) -> VcovInfo {
        VcovInfo {
            kind,
            cluster: design.cluster_names.clone(),
            n_clusters: n_clusters.to_vec(),
            fixef_k: opts.fixef_k,
            fe_redundancy: opts.fe_redundancy,
            cluster_df: opts.cluster_df,
            dof_k,
            df_t,
        }
    }
}

/// Goodness of fit.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FitStats {
    pub r2: f64,
    pub adj_r2: f64,
    /// Only with fixed effects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_r2: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adj_within_r2: Option<f64>,
    /// sqrt(RSS / n).
    pub rmse: f64,
    pub rss: f64,
    /// Log-likelihood (probit/logit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loglik: Option<f64>,
    /// McFadden pseudo R², 1 − loglik / loglik of the intercept-only model (probit/logit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pseudo_r2: Option<f64>,
}

/// A fixed effect in the result.
#[derive(Debug, Clone, Serialize)]
pub struct FixedEffectInfo {
    pub name: String,
    pub levels: usize,
}

impl FixedEffectInfo {
    /// Name and level count of every fixed effect on the estimation sample.
    pub fn list(fe: &crate::absorb::FixedEffects) -> Vec<FixedEffectInfo> {
        fe.names
            .iter()
            .zip(&fe.n_levels)
            .map(|(name, levels)| FixedEffectInfo {
                name: name.clone(),
                levels: *levels,
            })
            .collect()
    }
}

/// A term that was dropped, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DroppedTerm {
    pub term: String,
    pub reason: String,
}

/// How fixed effects were absorbed (the slowest column).
#[derive(Debug, Clone, Serialize)]
pub struct AbsorbInfo {
    pub method: crate::absorb::Method,
    pub iterations: usize,
    pub converged: bool,
}

impl AbsorbInfo {
    /// Summarize per-column demeaning: the most iterations, converged only if all did.
    pub fn summarize(infos: &[DemeanInfo]) -> Option<AbsorbInfo> {
        let worst = infos.iter().max_by_key(|i| i.iterations)?;
        Some(AbsorbInfo {
            method: worst.method,
            iterations: worst.iterations,
            converged: infos.iter().all(|i| i.converged),
        })
    }

    /// The warning a fit carries when demeaning did not converge.
    pub fn warning(&self) -> Option<String> {
        (!self.converged).then(|| {
            format!(
                "fixed-effect demeaning did not converge in {} iterations; estimates may be inaccurate",
                self.iterations
            )
        })
    }
}

/// The result of an estimation: what `keju fit --format json` prints (schema `keju.fit/1`).
#[derive(Debug, Clone, Serialize)]
pub struct FitResult {
    pub keju_version: &'static str,
    pub schema: &'static str,
    /// `ols`, `iv`, `probit`, `logit`.
    pub model: String,
    pub formula: String,
    pub outcome: String,
    /// Data file.
    pub data: String,
    pub nobs: usize,
    pub coefficients: Vec<Coefficient>,
    pub vcov: VcovInfo,
    pub fit: FitStats,
    pub fixed_effects: Vec<FixedEffectInfo>,
    pub removed: Removed,
    pub dropped_terms: Vec<DroppedTerm>,
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absorb: Option<AbsorbInfo>,
    /// The variance matrix of the estimates, row-major, k × k in coefficient order.
    pub vcov_matrix: Vec<Vec<f64>>,
    /// Subset expression, when one was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<String>,
    /// Wall time per phase in seconds (`sample`, `demean`, `solve`, `vcov`), for `--timings`;
    /// not part of the JSON schema.
    #[serde(skip)]
    pub timings: Vec<(&'static str, f64)>,
    /// First stages, one per endogenous variable (IV only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_stage: Option<Vec<FirstStage>>,
    /// Average marginal effects (probit/logit with `--margins`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margins: Option<Vec<MarginalEffect>>,
}

/// Crate version written into every JSON result.
pub const KEJU_VERSION: &str = env!("CARGO_PKG_VERSION");

/// `X'X` for `x` (n × k, column-major).
///
/// Rows are cut into blocks of [`GRAM_BLOCK`]; each block's k × k upper triangle is computed
/// while its rows sit in cache, blocks run in parallel (rayon), and the partial sums are added
/// in block order, so the result does not depend on the thread count.
///
/// **Complexity**: O(n k²). faer's general matmul was measured at 2.1 s for n = 10⁶, k = 13
/// in this shape (tiny output, huge inner dimension); this kernel takes a small fraction of it.
pub fn gram(x: &[f64], n: usize, k: usize) -> Mat<f64> {
    let cols: Vec<&[f64]> = (0..k).map(|j| &x[j * n..(j + 1) * n]).collect();
    gram_columns(&cols, n)
}

/// [`gram`] over separate columns (each of length n): `C'C` for `C = [cols…]`.
pub fn gram_columns(cols: &[&[f64]], n: usize) -> Mat<f64> {
    use rayon::prelude::*;
    let k = cols.len();
    let blocks: Vec<Vec<f64>> = (0..n.div_ceil(GRAM_BLOCK))
        .into_par_iter()
        .map(|b| {
            let (lo, hi) = (b * GRAM_BLOCK, ((b + 1) * GRAM_BLOCK).min(n));
            let mut part = vec![0.0; k * k];
            for j in 0..k {
                let xj = &cols[j][lo..hi];
                for l in j..k {
                    let xl = &cols[l][lo..hi];
                    part[j * k + l] = dot(xj, xl);
                }
            }
            part
        })
        .collect();
    let mut g = Mat::<f64>::zeros(k, k);
    for part in &blocks {
        for j in 0..k {
            for l in j..k {
                g[(j, l)] += part[j * k + l];
            }
        }
    }
    for j in 0..k {
        for l in 0..j {
            g[(j, l)] = g[(l, j)];
        }
    }
    g
}

/// Rows per block in [`gram`].
pub const GRAM_BLOCK: usize = 8192;

/// Dot product with four independent accumulators (lets the compiler vectorize).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (p, q) in ca.zip(cb) {
        for i in 0..4 {
            acc[i] += p[i] * q[i];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(p, q)| p * q).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `X'y`. **Shapes**: `x` n × k column-major, `y` n; result k.
pub fn cross(x: &[f64], n: usize, k: usize, y: &[f64]) -> Vec<f64> {
    (0..k)
        .map(|j| {
            x[j * n..(j + 1) * n]
                .iter()
                .zip(y)
                .map(|(a, b)| a * b)
                .sum()
        })
        .collect()
}

/// Indices of the columns kept by the collinearity rule, in order.
///
/// Sequential Cholesky of `g` (k × k, symmetric): column j is dropped when its squared norm
/// left after projecting on the kept earlier columns is below `tol` times its own squared norm
/// (i.e. R² of j on the earlier columns above 1 − tol), or when its norm is zero. Earlier
/// columns win, as in Stata and fixest.
pub fn select_independent(g: &Mat<f64>, tol: f64) -> Vec<usize> {
    let k = g.nrows();
    let mut kept: Vec<usize> = Vec::new();
    // l[j][p] for kept p: row j of the Cholesky factor restricted to kept columns.
    let mut l = vec![vec![0.0; k]; k];
    for j in 0..k {
        let gjj = g[(j, j)];
        if gjj <= 0.0 || !gjj.is_finite() {
            continue;
        }
        for (pi, &m) in kept.iter().enumerate() {
            let mut s = g[(j, m)];
            for &p in &kept[..pi] {
                s -= l[j][p] * l[m][p];
            }
            l[j][m] = s / l[m][m];
        }
        let d = gjj - kept.iter().map(|&m| l[j][m] * l[j][m]).sum::<f64>();
        if d > tol * gjj {
            l[j][j] = d.sqrt();
            kept.push(j);
        }
    }
    kept
}

/// Inverse of a symmetric positive-definite matrix by Cholesky.
///
/// **Errors**: `None` when the matrix is not positive definite.
pub fn spd_inverse(g: &Mat<f64>) -> Option<Mat<f64>> {
    use faer::linalg::solvers::DenseSolveCore;
    let llt = g.llt(faer::Side::Lower).ok()?;
    Some(llt.inverse())
}

/// Sub-matrix of `g` on `idx` × `idx`.
pub fn submatrix(g: &Mat<f64>, idx: &[usize]) -> Mat<f64> {
    Mat::from_fn(idx.len(), idx.len(), |i, j| g[(idx[i], idx[j])])
}

/// Build the coefficient table: t = b/se, two-sided p from Student's t with `df` degrees of
/// freedom (the normal distribution when `df` is `None`), 95% intervals.
pub fn coefficient_table(
    names: &[String],
    beta: &[f64],
    vcov: &Mat<f64>,
    df: Option<usize>,
) -> Vec<Coefficient> {
    let dist = df.map(|d| StudentsT::new(0.0, 1.0, d as f64).expect("df > 0"));
    let normal = statrs::distribution::Normal::new(0.0, 1.0).expect("standard normal");
    let q = match &dist {
        Some(t) => t.inverse_cdf(0.975),
        None => normal.inverse_cdf(0.975),
    };
    names
        .iter()
        .zip(beta)
        .enumerate()
        .map(|(j, (name, b))| {
            let var = vcov[(j, j)];
            let se = if var > 0.0 { var.sqrt() } else { 0.0 };
            let t = if se > 0.0 { b / se } else { f64::NAN };
            let p = match &dist {
                _ if t.is_nan() => f64::NAN,
                Some(d) => 2.0 * d.sf(t.abs()),
                None => 2.0 * normal.sf(t.abs()),
            };
            Coefficient {
                term: name.clone(),
                estimate: *b,
                std_error: se,
                t_stat: t,
                p,
                ci_low: b - q * se,
                ci_high: b + q * se,
            }
        })
        .collect()
}

/// Row-major copy of a matrix, for JSON.
pub fn to_rows(m: &Mat<f64>) -> Vec<Vec<f64>> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gram_matches_naive_across_blocks() {
        let n = 2 * GRAM_BLOCK + 37;
        let k = 3;
        let x: Vec<f64> = (0..n * k)
            .map(|i| ((i * 7919) % 1000) as f64 / 100.0 - 5.0)
            .collect();
        let g = gram(&x, n, k);
        for j in 0..k {
            for l in 0..k {
                let naive: f64 = (0..n).map(|i| x[j * n + i] * x[l * n + i]).sum();
                assert!((g[(j, l)] - naive).abs() <= 1e-9 * naive.abs().max(1.0));
            }
        }
    }

    #[test]
    fn collinear_column_dropped_later_one() {
        // columns: a, 2a, b
        let n = 5;
        let a = [1.0, 2.0, 3.0, 4.0, 6.0];
        let b = [1.0, 0.0, 1.0, 0.0, 1.0];
        let x: Vec<f64> = a
            .iter()
            .chain(a.iter().map(|v| 2.0 * v).collect::<Vec<_>>().iter())
            .chain(&b)
            .copied()
            .collect();
        let g = gram(&x, n, 3);
        assert_eq!(select_independent(&g, 1e-10), vec![0, 2]);
    }
}
