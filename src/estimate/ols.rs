//! Least squares with absorbed fixed effects (the within estimator), analytic weights, and
//! iid / HC1 / CR1 variances: what `keju fit` runs.
//!
//! Steps: build the sample ([`Design::build`]); centre (intercept models) or demean (fixed
//! effects) `y` and the columns of `X` in place, columns in parallel; scale by √w; drop
//! regressors absorbed by the fixed effects or collinear with earlier ones, naming each; solve
//! the normal equations by Cholesky; form scores `x̃ᵢ eᵢ` and the variance.
//!
//! **Source**: Frisch-Waugh-Lovell; conventions of reghdfe (Correia 2017) and fixest
//! (Bergé 2018); formulas in `docs/conventions.md`.

use faer::Mat;
use rayon::prelude::*;

use super::{
    coefficient_table, gram_columns, select_independent, spd_inverse, submatrix, to_rows,
    AbsorbInfo, DroppedTerm, FitResult, FitStats, FixedEffectInfo, VcovInfo, KEJU_VERSION,
};
use crate::absorb::{DemeanOptions, Demeaner};
use crate::data::Frame;
use crate::design::{Design, DesignOptions};
use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::vcov::{self, ssc, ClusterDf, FeRedundancy, FixefK, VcovInput, VcovKind};

/// Options of `keju fit`, validated.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// `None`: cluster when `cluster` is given, iid otherwise (Stata/reghdfe default).
    pub vcov: Option<VcovKind>,
    /// One or two cluster variables.
    pub cluster: Vec<String>,
    pub fixef_k: FixefK,
    /// Redundant fixed-effect levels in K: reghdfe's `firstpair` (default) or pyfixest's rule.
    pub fe_redundancy: FeRedundancy,
    pub cluster_df: ClusterDf,
    pub keep_singletons: bool,
    pub subset: Option<String>,
    /// Analytic weights column.
    pub weights: Option<String>,
    pub demean: DemeanOptions,
    /// Collinearity tolerance (see [`select_independent`]); default 1e-10.
    pub collin_tol: f64,
    /// Estimator family; default OLS (2SLS when the formula has an IV part).
    pub model: super::Model,
    /// Average marginal effects (probit/logit only).
    pub margins: bool,
    /// How probit/logit maximize the likelihood; default Newton-Raphson.
    pub glm_algorithm: super::glm::GlmAlgorithm,
    /// Rows of one split group (see [`super::split`]); `None` for the whole sample.
    pub group: Option<Vec<bool>>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            vcov: None,
            cluster: Vec::new(),
            fixef_k: FixefK::default(),
            fe_redundancy: FeRedundancy::default(),
            cluster_df: ClusterDf::default(),
            keep_singletons: false,
            subset: None,
            weights: None,
            demean: DemeanOptions::default(),
            collin_tol: 1e-10,
            model: super::Model::Ols,
            margins: false,
            glm_algorithm: super::glm::GlmAlgorithm::Newton,
            group: None,
        }
    }
}

impl FitOptions {
    /// The variance kind after applying the defaults.
    ///
    /// **Errors**: [`Error::Usage`] for `cluster` without variables, variables with another
    /// kind, or more than two cluster variables.
    pub fn vcov_kind(&self) -> Result<VcovKind> {
        if self.cluster.len() > 2 {
            return Err(Error::usage(
                "at most two cluster variables (two-way clustering)",
            ));
        }
        match (self.vcov, self.cluster.is_empty()) {
            (None, true) => Ok(VcovKind::Iid),
            (None, false) | (Some(VcovKind::Cluster), false) => Ok(VcovKind::Cluster),
            (Some(VcovKind::Cluster), true) => {
                Err(Error::usage("--vcov cluster needs --cluster COL[,COL]"))
            }
            (Some(kind), false) => Err(Error::usage(format!(
                "--cluster was given with --vcov {}; clustering needs --vcov cluster",
                kind.name()
            ))),
            (Some(kind), true) => Ok(kind),
        }
    }

    /// The sample options for [`Design::build`].
    pub fn design_options(&self) -> DesignOptions {
        DesignOptions {
            subset: self.subset.clone(),
            cluster: self.cluster.clone(),
            weights: self.weights.clone(),
            keep_singletons: self.keep_singletons,
            group: self.group.clone(),
        }
    }
}

/// Fit a linear model by least squares.
///
/// **Errors**: everything [`Design::build`] reports; [`Error::Usage`] from
/// [`FitOptions::vcov_kind`]; [`Error::Estimation`] when the IV part is present (use
/// [`super::fit_iv`]) or too few observations remain.
pub fn fit_ols(frame: &Frame, formula: &Formula, opts: &FitOptions) -> Result<FitResult> {
    if formula.iv.is_some() {
        return Err(Error::estimation(
            "this formula has an IV part (endog ~ instruments); use the IV estimator (keju::estimate::fit or fit_iv)",
        ));
    }
    opts.vcov_kind()?;
    let t0 = std::time::Instant::now();
    let design = Design::build(frame, formula, &opts.design_options())?;
    let sample_time = t0.elapsed().as_secs_f64();
    estimate_timed(design, sample_time, formula, opts, &frame.source)
}

/// [`estimate`], with the sampling time first in the timings.
fn estimate_timed(
    design: Design,
    sample_time: f64,
    formula: &Formula,
    opts: &FitOptions,
    source: &str,
) -> Result<FitResult> {
    let mut result = estimate(design, formula, opts, opts.vcov_kind()?, source)?;
    result.timings.insert(0, ("sample", sample_time));
    Ok(result)
}

/// [`fit_ols`] consuming the frame ([`Design::build_owned`]): the model's columns move into
/// the sample instead of being copied, and the rest is dropped once the sample is built.
pub fn fit_ols_owned(frame: Frame, formula: &Formula, opts: &FitOptions) -> Result<FitResult> {
    if formula.iv.is_some() {
        return fit_ols(&frame, formula, opts);
    }
    opts.vcov_kind()?;
    let source = frame.source.clone();
    let t0 = std::time::Instant::now();
    let design = Design::build_owned(frame, formula, &opts.design_options())?;
    let sample_time = t0.elapsed().as_secs_f64();
    estimate_timed(design, sample_time, formula, opts, &source)
}

/// Rows per chunk of the residual pass.
const RESID_CHUNK: usize = 16384;

/// Weighted mean of a column.
pub(crate) fn wmean(x: &[f64], w: Option<&[f64]>) -> f64 {
    match w {
        Some(w) => {
            let sw: f64 = w.iter().sum();
            x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / sw
        }
        None => x.iter().sum::<f64>() / x.len() as f64,
    }
}

/// Weighted sum of squares around the weighted mean, `Σ wᵢ (xᵢ − x̄_w)²`.
///
/// One pass over memory: each chunk of rows (cache-resident) gets its own mean and sum of
/// squares by two passes, and the chunks are combined in order with the pairwise update of
/// Chan, Golub & LeVeque (1983), `M = M_a + M_b + δ² W_a W_b / (W_a + W_b)`: as accurate as
/// two passes over the whole column. Values are taken relative to the first one (any shift
/// leaves the sum of squares unchanged, and a large common level would otherwise round the
/// chunk means: y = 1e12 + noise lost six digits).
pub(crate) fn wss_centered(x: &[f64], w: Option<&[f64]>) -> f64 {
    const CHUNK: usize = 4096;
    let shift = x.first().copied().unwrap_or(0.0);
    // (weight sum, mean, sum of squares) of everything so far.
    let (mut wa, mut ma, mut sa) = (0.0f64, 0.0f64, 0.0f64);
    for (c, xc) in x.chunks(CHUNK).enumerate() {
        let wc = w.map(|w| &w[c * CHUNK..c * CHUNK + xc.len()]);
        let (wb, mb, sb) = match wc {
            None => {
                let wb = xc.len() as f64;
                let mb = lanes_sum(xc, |a| a - shift) / wb;
                (
                    wb,
                    mb,
                    lanes_sum(xc, |a| (a - shift - mb) * (a - shift - mb)),
                )
            }
            Some(wc) => {
                let wb: f64 = wc.iter().sum();
                if wb == 0.0 {
                    continue;
                }
                let mb = xc.iter().zip(wc).map(|(a, b)| b * (a - shift)).sum::<f64>() / wb;
                let sb = xc
                    .iter()
                    .zip(wc)
                    .map(|(a, b)| b * (a - shift - mb) * (a - shift - mb))
                    .sum::<f64>();
                (wb, mb, sb)
            }
        };
        if wa == 0.0 {
            (wa, ma, sa) = (wb, mb, sb);
            continue;
        }
        let total = wa + wb;
        let delta = mb - ma;
        sa += sb + delta * delta * (wa * wb / total);
        ma += delta * (wb / total);
        wa = total;
    }
    sa
}

/// `Σ f(xᵢ)` with eight independent accumulators (vectorizable; one running sum would be a
/// chain of dependent additions), combined pairwise at the end.
fn lanes_sum(x: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = x.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().map(|a| f(*a)).sum();
    for c in chunks {
        for k in 0..8 {
            acc[k] += f(c[k]);
        }
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

/// Least squares on a built design.
///
/// **Shapes**: uses `design.y` (n), `design.x` (n × k); takes the design so that their memory is
/// freed once they are demeaned.
pub fn estimate(
    mut design: Design,
    formula: &Formula,
    opts: &FitOptions,
    kind: VcovKind,
    source: &str,
) -> Result<FitResult> {
    let n = design.n_obs;
    let k = design.x.names.len();
    let w = design.weights.as_deref();
    let fe = &design.fixed_effects;
    let has_fe = !fe.is_empty();
    let p = k + 1;

    // Sums of squares before demeaning, one column per task: y's (the total sum of squares)
    // and each regressor's (to tell a regressor absorbed by the fixed effects).
    let centred = has_fe || design.intercept;
    let ss_all: Vec<f64> = std::iter::once(&design.y)
        .chain(&design.x.columns)
        .collect::<Vec<_>>()
        .par_iter()
        .enumerate()
        .map(|(j, c)| match (j, centred, w) {
            (0, false, Some(w)) => c.iter().zip(w).map(|(a, b)| b * a * a).sum(),
            (0, false, None) => c.iter().map(|a| a * a).sum(),
            _ => wss_centered(c, w),
        })
        .collect();
    let tss = ss_all[0];
    let ss_before = &ss_all[1..];
    let mut clock = std::time::Instant::now();
    let mut timings = Vec::new();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, f64)>| {
        timings.push((name, clock.elapsed().as_secs_f64()));
        clock = std::time::Instant::now();
    };
    // The sample's y and X are transformed in place (no second copy): column 0 = y, then X.
    let mut ys = std::mem::take(&mut design.y);
    let mut xs = std::mem::take(&mut design.x.columns);
    let mut means = vec![0.0; p];
    let mut absorb = None;
    {
        let mut cols: Vec<&mut [f64]> = std::iter::once(&mut ys[..])
            .chain(xs.iter_mut().map(|c| &mut c[..]))
            .collect();
        if has_fe {
            let infos = Demeaner::new(fe, w, opts.demean).demean_slices(&mut cols);
            absorb = AbsorbInfo::summarize(&infos);
        } else if design.intercept {
            // Centre every column but the intercept (column 1).
            for (j, col) in cols.iter_mut().enumerate().filter(|(j, _)| *j != 1) {
                means[j] = wmean(col, w);
                col.iter_mut().for_each(|v| *v -= means[j]);
            }
        }
        if let Some(w) = w {
            cols.par_iter_mut().for_each(|col| {
                col.iter_mut().zip(w).for_each(|(v, wi)| *v *= wi.sqrt());
            });
        }
    }
    lap("demean", &mut timings);

    // One threaded pass for [ỹ X̃]'[ỹ X̃]: X̃'X̃, X̃'ỹ, ỹ'ỹ and each column's sum of squares.
    let cols: Vec<&[f64]> = std::iter::once(&ys[..])
        .chain(xs.iter().map(|c| &c[..]))
        .collect();
    let g_yx = gram_columns(&cols, n);
    drop(cols);
    let all_x: Vec<usize> = (1..p).collect();
    let g_all = submatrix(&g_yx, &all_x);
    let xty_all: Vec<f64> = (1..p).map(|j| g_yx[(j, 0)]).collect();
    let within_tss = g_yx[(0, 0)];

    // Regressors absorbed by the fixed effects.
    let mut dropped = Vec::new();
    let mut candidates = Vec::new();
    for j in 0..k {
        let ss_after = g_all[(j, j)];
        let is_intercept = design.intercept && j == 0;
        if has_fe && (ss_before[j] == 0.0 || ss_after <= opts.collin_tol * ss_before[j]) {
            dropped.push(DroppedTerm {
                term: design.x.names[j].clone(),
                reason: "collinear with the fixed effects".into(),
            });
        } else if !is_intercept && !has_fe && design.intercept && ss_before[j] == 0.0 {
            dropped.push(DroppedTerm {
                term: design.x.names[j].clone(),
                reason: "constant (collinear with the intercept)".into(),
            });
        } else {
            candidates.push(j);
        }
    }
    let g_cand = submatrix(&g_all, &candidates);
    let kept_local = select_independent(&g_cand, opts.collin_tol);
    let kept: Vec<usize> = kept_local.iter().map(|&i| candidates[i]).collect();
    for j in &candidates {
        if !kept.contains(j) {
            dropped.push(DroppedTerm {
                term: design.x.names[*j].clone(),
                reason: "collinear with other regressors".into(),
            });
        }
    }
    let kk = kept.len();
    let fe_params = fe.n_params_with(opts.fe_redundancy);
    let k_full = kk + fe_params;
    if n <= k_full {
        return Err(Error::estimation(format!(
            "{n} observations for {k_full} parameters ({kk} coefficients, {fe_params} fixed-effect levels): nothing left to estimate the variance"
        )));
    }
    let g = submatrix(&g_all, &kept);
    let bread = if kk > 0 {
        spd_inverse(&g).ok_or_else(|| {
            Error::estimation("X'X is not positive definite after dropping collinear terms")
        })?
    } else {
        Mat::zeros(0, 0)
    };
    let xty: Vec<f64> = kept.iter().map(|&j| xty_all[j]).collect();
    let beta_star: Vec<f64> = (0..kk)
        .map(|i| (0..kk).map(|j| bread[(i, j)] * xty[j]).sum())
        .collect();
    // Residuals over ỹ, in place: rows in fixed chunks, in parallel (each residual is
    // formed column by column in the same order whatever the thread count; Σ e² adds the
    // chunks' sums in chunk order).
    let rss: f64 = ys
        .par_chunks_mut(RESID_CHUNK)
        .enumerate()
        .map(|(b, e)| {
            let lo = b * RESID_CHUNK;
            for (bj, &j) in beta_star.iter().zip(&kept) {
                let x = &xs[j][lo..lo + e.len()];
                e.iter_mut().zip(x).for_each(|(e, x)| *e -= bj * x);
            }
            e.iter().map(|v| v * v).sum::<f64>()
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    let resid: &[f64] = &ys;

    // Scores x̃ᵢ eᵢ (already √w-scaled on both sides: wᵢ x̃ᵢ eᵢ) over the kept columns of X̃;
    // the other columns are freed. The cluster sums form them on the fly; the robust
    // variance's Gram matrix needs them written out (in place); the iid variance does not
    // use them.
    let mut score_cols: Vec<Vec<f64>> = kept.iter().map(|&j| std::mem::take(&mut xs[j])).collect();
    drop(xs);
    if kind == VcovKind::Hetero {
        score_cols.par_iter_mut().for_each(|col| {
            col.iter_mut().zip(resid).for_each(|(x, e)| *x *= e);
        });
    }
    let score_refs: Vec<&[f64]> = score_cols.iter().map(|c| &c[..]).collect();
    let scores = match kind {
        VcovKind::Hetero => vcov::Scores::Columns(&score_refs),
        _ => vcov::Scores::Product {
            x: &score_refs,
            e: resid,
        },
    };
    lap("solve", &mut timings);
    let nested: Vec<usize> = if kind == VcovKind::Cluster {
        (0..fe.len())
            .filter(|&q| design.clusters.iter().any(|c| fe.is_nested_in(q, c)))
            .map(|q| fe.n_levels[q])
            .collect()
    } else {
        Vec::new()
    };
    let dof_k = ssc::dof_k(kk, fe_params, &nested, opts.fixef_k);
    let v = vcov::compute(
        &bread,
        scores,
        &VcovInput {
            kind,
            clusters: &design.clusters,
            n_clusters: &design.n_clusters,
            cluster_df: opts.cluster_df,
            n_obs: n,
            dof_k,
            rss,
            bread_is_vcov: false,
        },
    );
    lap("vcov", &mut timings);
    let mut vmat = v.matrix;
    let mut beta = beta_star;
    if design.intercept && kept.first() == Some(&0) {
        // Undo the centring: a = ȳ + a* − Σ x̄ⱼ bⱼ and V = A V* A'.
        let xbar: Vec<f64> = kept.iter().map(|&j| means[j + 1]).collect();
        beta[0] += means[0] - (1..kk).map(|i| xbar[i] * beta[i]).sum::<f64>();
        let a = Mat::from_fn(kk, kk, |i, j| {
            if i == 0 && j > 0 {
                -xbar[j]
            } else if i == j {
                1.0
            } else {
                0.0
            }
        });
        vmat = &a * &vmat * a.transpose();
    }
    let names: Vec<String> = kept.iter().map(|&j| design.x.names[j].clone()).collect();
    let coefficients = coefficient_table(&names, &beta, &vmat, Some(v.df_t));

    let nf = n as f64;
    let r2 = 1.0 - rss / tss;
    let adj_r2 = if has_fe || design.intercept {
        1.0 - (1.0 - r2) * (nf - 1.0) / (nf - k_full as f64)
    } else {
        1.0 - (1.0 - r2) * nf / (nf - kk as f64)
    };
    let (within_r2, adj_within_r2) = if has_fe {
        let wr2 = 1.0 - rss / within_tss;
        let fp = fe_params as f64;
        (
            Some(wr2),
            Some(1.0 - (1.0 - wr2) * (nf - fp) / (nf - fp - kk as f64)),
        )
    } else {
        (None, None)
    };
    let mut warnings = v.warnings;
    warnings.extend(absorb.as_ref().and_then(AbsorbInfo::warning));
    Ok(FitResult {
        keju_version: KEJU_VERSION,
        schema: "keju.fit/1",
        model: "ols".into(),
        formula: formula.text.clone(),
        outcome: design.outcome.clone(),
        data: source.to_string(),
        nobs: n,
        coefficients,
        vcov: VcovInfo::new(kind, &design, &design.n_clusters, opts, dof_k, v.df_t),
        fit: FitStats {
            r2,
            adj_r2,
            within_r2,
            adj_within_r2,
            rmse: (rss / nf).sqrt(),
            rss,
            loglik: None,
            pseudo_r2: None,
        },
        fixed_effects: FixedEffectInfo::list(fe),
        removed: design.removed,
        dropped_terms: dropped,
        warnings,
        absorb,
        vcov_matrix: to_rows(&vmat),
        subset: opts.subset.clone(),
        weights: opts.weights.clone(),
        timings,
        first_stage: None,
        margins: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunked one-pass sum of squares equals the two-pass one (computed here in
    /// extended care: mean first, then squares), also for a large common level, weights, and
    /// a length that is not a multiple of the chunk.
    #[test]
    fn chunked_sum_of_squares_matches_two_passes() {
        let n = 10_007;
        let x: Vec<f64> = (0..n)
            .map(|i| 1e8 + ((i as f64) * 0.731).sin() * 3.0 + (i % 7) as f64)
            .collect();
        let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 5) as f64 * 0.25).collect();
        for wt in [None, Some(&w[..])] {
            let (sw, sx) = match wt {
                None => (n as f64, x.iter().sum::<f64>()),
                Some(w) => (w.iter().sum(), x.iter().zip(w).map(|(a, b)| a * b).sum()),
            };
            let m = sx / sw;
            let want: f64 = x
                .iter()
                .enumerate()
                .map(|(i, a)| wt.map_or(1.0, |w| w[i]) * (a - m) * (a - m))
                .sum();
            let got = wss_centered(&x, wt);
            assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
        }
        // A level of 1e12 with noise of order 1 (the review's case: six digits were lost):
        // the noise is on a grid of 1/64, so x is exact and the reference, computed on the
        // noise alone, is exact to rounding.
        let noise: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 64.0).collect();
        let x: Vec<f64> = noise.iter().map(|e| 1e12 + e).collect();
        for wt in [None, Some(&w[..])] {
            let want = wss_centered(&noise, wt);
            let got = wss_centered(&x, wt);
            assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
        }
        assert_eq!(wss_centered(&[2.5; 9000], None), 0.0);
        assert_eq!(wss_centered(&[], None), 0.0);
    }
}
