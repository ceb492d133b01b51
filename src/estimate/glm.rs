//! Probit and logit by maximum likelihood, with Stata's separation rule.
//!
//! Data flow: [`Design::build`] gives `y` and `X` (absorbed fixed effects become explicit
//! dummies here, up to [`MAX_FE_LEVELS`] levels in total); the outcome is checked to be 0/1;
//! [`separation`] drops binary regressors that predict the outcome perfectly, with the rows
//! they predict; collinear columns are dropped by [`select_independent`]; Newton-Raphson with
//! step-halving maximizes the log-likelihood; the variance is the inverse expected information
//! (iid), or the sandwich with the scores (hetero, cluster) through [`vcov::compute`].
//!
//! **Source**: McCullagh & Nelder (1989) for the likelihood and the information; Stata
//! `logit`/`probit` (separation rule, robust factor n/(n−1), cluster factor G/(G−1)); R `glm`
//! (expected information, which differs from the observed one for probit); formulas in
//! `docs/estimators.md`.

use faer::Mat;
use statrs::function::erf::erfc;

use super::{
    coefficient_table, gram, select_independent, spd_inverse, submatrix, to_rows, DroppedTerm,
    FitOptions, FitResult, FitStats, FixedEffectInfo, MarginalEffect, Model, VcovInfo,
    KEJU_VERSION,
};
use crate::data::Frame;
use crate::design::Design;
use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::vcov::{self, VcovInput, VcovKind};

/// Most fixed-effect levels (all fixed effects together) turned into dummies for a GLM.
pub const MAX_FE_LEVELS: usize = 1000;

/// Newton-Raphson stops when the relative change of the log-likelihood is below this…
const LL_TOL: f64 = 1e-12;
/// …and the largest absolute step is below this.
const STEP_TOL: f64 = 1e-10;
const MAX_ITER: usize = 200;

/// How the likelihood is maximized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum GlmAlgorithm {
    /// Newton-Raphson with the observed Hessian and step-halving, to a relative change of the
    /// log-likelihood below 1e-12 and steps below 1e-10; variance from the expected
    /// information at the estimate. Default.
    #[default]
    Newton,
    /// R `glm.fit` exactly: IRLS (Fisher scoring) from μ = (y + 0.5)/2, stopping when the
    /// relative change of the deviance is below 1e-8, variance from the weights of the last
    /// iteration. Reproduces R's printed numbers, which for probit can be ~1e-5 (relative)
    /// away from the maximum.
    RIrls,
}

/// R's `glm.control()$epsilon`.
const R_EPSILON: f64 = 1e-8;

/// The link of a binary model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// P(y = 1) = Φ(η).
    Probit,
    /// P(y = 1) = 1 / (1 + e^(−η)).
    Logit,
}

/// Standard normal density.
fn phi(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal distribution function, accurate in both tails.
fn cap_phi(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// log(1 + e^x) without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// Per-observation quantities at η for outcome y.
struct Point {
    /// log-likelihood contribution.
    ll: f64,
    /// ∂ll/∂η.
    score: f64,
    /// −∂²ll/∂η² (observed information).
    observed: f64,
    /// E[−∂²ll/∂η²] = g² / (μ(1 − μ)) (expected information).
    expected: f64,
    /// Density g(η) = dμ/dη.
    density: f64,
    /// g'(η).
    density_slope: f64,
}

impl Link {
    fn at(self, eta: f64, y: f64) -> Point {
        match self {
            Link::Logit => {
                let mu = 1.0 / (1.0 + (-eta).exp());
                let v = mu * (1.0 - mu);
                Point {
                    ll: if y > 0.5 {
                        -softplus(-eta)
                    } else {
                        -softplus(eta)
                    },
                    score: y - mu,
                    observed: v,
                    expected: v,
                    density: v,
                    density_slope: v * (1.0 - 2.0 * mu),
                }
            }
            Link::Probit => {
                let p1 = cap_phi(eta);
                let p0 = cap_phi(-eta);
                let d = phi(eta);
                let (ll, score, observed) = if y > 0.5 {
                    let lam = d / p1;
                    (p1.ln(), lam, lam * (lam + eta))
                } else {
                    let lam = d / p0;
                    (p0.ln(), -lam, lam * (lam - eta))
                };
                Point {
                    ll,
                    score,
                    observed,
                    expected: d * d / (p1 * p0),
                    density: d,
                    density_slope: -eta * d,
                }
            }
        }
    }

    /// The intercept of the intercept-only model with mean `p`.
    pub fn quantile(self, p: f64) -> f64 {
        use statrs::distribution::{ContinuousCDF, Normal};
        match self {
            Link::Logit => (p / (1.0 - p)).ln(),
            Link::Probit => Normal::new(0.0, 1.0)
                .expect("standard normal")
                .inverse_cdf(p),
        }
    }
}

/// Fit a probit or logit.
///
/// **Errors**: everything [`Design::build`] reports; [`Error::Usage`] for `opts.model` = OLS
/// or a bad variance choice; [`Error::Parse`] when the outcome is not 0/1 (names the column
/// and line); [`Error::Estimation`] when absorbed fixed effects have more than
/// [`MAX_FE_LEVELS`] levels, the outcome does not vary, or Newton-Raphson does not converge
/// (typically complete separation by a combination of regressors).
pub fn fit_glm(frame: &Frame, formula: &Formula, opts: &FitOptions) -> Result<FitResult> {
    fit_glm_fitted(frame, formula, opts).map(|(fit, _)| fit)
}

/// Fit a probit or logit and return, with the result, the fitted probability of every row
/// of `frame` (`NaN` for rows outside the estimation sample: missing values, rows dropped by
/// the separation rule). Used for propensity scores ([`crate::estimate::psm`]).
///
/// **Shapes**: the returned vector has `frame.n_rows()` entries.
/// **Errors**: as [`fit_glm`].
pub fn fit_glm_fitted(
    frame: &Frame,
    formula: &Formula,
    opts: &FitOptions,
) -> Result<(FitResult, Vec<f64>)> {
    let link = match opts.model {
        Model::Probit => Link::Probit,
        Model::Logit => Link::Logit,
        Model::Ols => return Err(Error::usage("fit_glm needs --model probit or logit")),
    };
    let kind = opts.vcov_kind()?;
    let design = Design::build(frame, formula, &opts.design_options())?;
    for (i, &v) in design.y.iter().enumerate() {
        if v != 0.0 && v != 1.0 {
            return Err(Error::Parse {
                path: frame.source.clone(),
                column: design.outcome.clone(),
                line: design.rows[i] + 2,
                value: crate::data::format_number(v),
                expected: format!(
                    "0 or 1 (the outcome of a {} must be binary)",
                    opts.model.name()
                ),
            });
        }
    }
    let (fit, fitted) = estimate(&design, formula, opts, kind, link, &frame.source)?;
    let mut probability = vec![f64::NAN; frame.n_rows()];
    for (i, eta) in fitted {
        // P(y = 1) = exp(ll at y = 1), accurate in both tails.
        probability[design.rows[i]] = link.at(eta, 1.0).ll.exp();
    }
    Ok((fit, probability))
}

/// Binary regressors that predict the outcome perfectly, found iteratively.
///
/// A column (other than the intercept) taking exactly two values on the active rows is
/// separating when all active rows with one of its values have the same outcome; those rows
/// are deactivated and the column dropped, and the search repeats until nothing changes
/// (Stata's rule for `logit`/`probit`: "x != 0 predicts success perfectly").
///
/// **Shapes**: `x` n × k column-major; `active` n; `usable` k (updated).
/// **Returns**: the dropped columns, in the order found.
pub fn separation(
    x: &[f64],
    n: usize,
    y: &[f64],
    skip: &[bool],
    active: &mut [bool],
    usable: &mut [bool],
) -> Vec<usize> {
    let k = usable.len();
    let mut found = Vec::new();
    loop {
        let mut changed = false;
        for j in 0..k {
            if !usable[j] || skip[j] {
                continue;
            }
            let col = &x[j * n..(j + 1) * n];
            let mut vals: Vec<f64> = Vec::with_capacity(3);
            for i in (0..n).filter(|&i| active[i]) {
                if !vals.contains(&col[i]) {
                    vals.push(col[i]);
                    if vals.len() > 2 {
                        break;
                    }
                }
            }
            if vals.len() != 2 {
                continue;
            }
            for v in vals {
                let mut outcome = None;
                let mut perfect = true;
                for i in (0..n).filter(|&i| active[i] && col[i] == v) {
                    match outcome {
                        None => outcome = Some(y[i]),
                        Some(o) if o != y[i] => {
                            perfect = false;
                            break;
                        }
                        _ => {}
                    }
                }
                if perfect {
                    for i in 0..n {
                        if active[i] && col[i] == v {
                            active[i] = false;
                        }
                    }
                    usable[j] = false;
                    found.push(j);
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            return found;
        }
    }
}

/// Cluster codes restricted to `rows`, re-coded densely, and their counts.
fn clusters_on(clusters: &[Vec<u32>], rows: &[usize]) -> (Vec<Vec<u32>>, Vec<usize>) {
    clusters
        .iter()
        .map(|codes| {
            let mut map = std::collections::HashMap::new();
            let out: Vec<u32> = rows
                .iter()
                .map(|&i| {
                    let next = map.len() as u32;
                    *map.entry(codes[i]).or_insert(next)
                })
                .collect();
            (out, map.len())
        })
        .unzip()
}

/// Maximum-likelihood estimates by Newton-Raphson with step-halving.
///
/// **Shapes**: `x` n × k column-major, `y`, `w` n. **Returns** (β, log-likelihood,
/// iterations, converged).
fn newton(
    x: &[f64],
    n: usize,
    k: usize,
    y: &[f64],
    w: &[f64],
    link: Link,
) -> (Vec<f64>, f64, usize, bool) {
    let eta_of = |b: &[f64]| -> Vec<f64> {
        let mut eta = vec![0.0; n];
        for (j, bj) in b.iter().enumerate() {
            x[j * n..(j + 1) * n]
                .iter()
                .zip(eta.iter_mut())
                .for_each(|(xv, e)| *e += bj * xv);
        }
        eta
    };
    let ll_of = |eta: &[f64]| -> f64 { (0..n).map(|i| w[i] * link.at(eta[i], y[i]).ll).sum() };
    let mut beta = vec![0.0; k];
    let mut eta = eta_of(&beta);
    let mut ll = ll_of(&eta);
    let mut xw = vec![0.0; n * k];
    for iter in 1..=MAX_ITER {
        let mut grad = vec![0.0; k];
        let mut hw = vec![0.0; n];
        let mut sw = vec![0.0; n];
        for i in 0..n {
            let pt = link.at(eta[i], y[i]);
            hw[i] = w[i] * pt.observed;
            sw[i] = w[i] * pt.score;
        }
        for j in 0..k {
            let col = &x[j * n..(j + 1) * n];
            grad[j] = col.iter().zip(&sw).map(|(a, b)| a * b).sum();
            for i in 0..n {
                xw[j * n + i] = col[i] * hw[i].sqrt();
            }
        }
        let Some(hinv) = spd_inverse(&gram(&xw, n, k)) else {
            return (beta, ll, iter, false);
        };
        let step: Vec<f64> = (0..k)
            .map(|a| (0..k).map(|b| hinv[(a, b)] * grad[b]).sum())
            .collect();
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + t * s).collect();
            let e = eta_of(&trial);
            let l = ll_of(&e);
            if l.is_finite() && l >= ll - 1e-12 * ll.abs() {
                accepted = Some((trial, e, l));
                break;
            }
            t *= 0.5;
        }
        let Some((trial, e, l)) = accepted else {
            return (beta, ll, iter, false);
        };
        let max_step = step.iter().fold(0.0f64, |m, s| m.max((t * s).abs()));
        let dll = (l - ll).abs() / (ll.abs() + 1e-300);
        beta = trial;
        eta = e;
        ll = l;
        if dll < LL_TOL && max_step < STEP_TOL {
            return (beta, ll, iter, true);
        }
    }
    (beta, ll, MAX_ITER, false)
}

/// IRLS as R's `glm.fit` (see [`GlmAlgorithm::RIrls`]). **Returns** (β, log-likelihood,
/// iterations, converged, (X'WX)⁻¹ with the weights of the last iteration).
fn irls_r(
    x: &[f64],
    n: usize,
    k: usize,
    y: &[f64],
    w: &[f64],
    link: Link,
) -> (Vec<f64>, f64, usize, bool, Option<Mat<f64>>) {
    let mut eta: Vec<f64> = (0..n)
        .map(|i| link.quantile((w[i] * y[i] + 0.5) / (w[i] + 1.0)))
        .collect();
    let ll_of = |eta: &[f64]| -> f64 { (0..n).map(|i| w[i] * link.at(eta[i], y[i]).ll).sum() };
    // Deviance of a binary outcome is −2 ll.
    let mut dev_old = {
        let mu: Vec<f64> = (0..n).map(|i| (w[i] * y[i] + 0.5) / (w[i] + 1.0)).collect();
        -2.0 * (0..n)
            .map(|i| {
                w[i] * if y[i] > 0.5 {
                    mu[i].ln()
                } else {
                    (1.0 - mu[i]).ln()
                }
            })
            .sum::<f64>()
    };
    let mut beta = vec![0.0; k];
    let mut xw = vec![0.0; n * k];
    let mut zw = vec![0.0; n];
    for iter in 1..=MAX_ITER {
        for i in 0..n {
            let pt = link.at(eta[i], y[i]);
            let wi = w[i] * pt.expected;
            // Working response z = η + (y − μ)/g; pt.score = (y − μ) g/(μ(1 − μ)) = (y − μ) g⁻¹ · W.
            let z = eta[i] + pt.score / pt.expected;
            zw[i] = z * wi.sqrt();
            for j in 0..k {
                xw[j * n + i] = x[j * n + i] * wi.sqrt();
            }
        }
        let Some(inv) = spd_inverse(&gram(&xw, n, k)) else {
            return (beta, ll_of(&eta), iter, false, None);
        };
        let xtz: Vec<f64> = (0..k)
            .map(|j| (0..n).map(|i| xw[j * n + i] * zw[i]).sum())
            .collect();
        beta = (0..k)
            .map(|a| (0..k).map(|b| inv[(a, b)] * xtz[b]).sum())
            .collect();
        for (i, e) in eta.iter_mut().enumerate() {
            *e = (0..k).map(|j| x[j * n + i] * beta[j]).sum();
        }
        let ll = ll_of(&eta);
        let dev = -2.0 * ll;
        if (dev - dev_old).abs() / (dev.abs() + 0.1) < R_EPSILON {
            return (beta, ll, iter, true, Some(inv));
        }
        dev_old = dev;
    }
    (beta, ll_of(&eta), MAX_ITER, false, None)
}

/// Probit or logit on a built design. **Returns** the result and (design row, η) of every
/// observation in the estimation sample.
fn estimate(
    design: &Design,
    formula: &Formula,
    opts: &FitOptions,
    kind: VcovKind,
    link: Link,
    source: &str,
) -> Result<(FitResult, Vec<(usize, f64)>)> {
    let n_all = design.n_obs;
    let fe = &design.fixed_effects;
    // Columns: the design's regressors, then (absorbed fixed effects) an intercept and
    // dummies for every level but the first of each fixed effect, hidden from the output.
    let mut names = design.x.names.clone();
    let mut xdata = design.x.concat();
    let n_visible = names.len();
    if !fe.is_empty() {
        let total: usize = fe.n_levels.iter().sum();
        if total > MAX_FE_LEVELS {
            return Err(Error::estimation(format!(
                "{} with absorbed fixed effects turns them into dummies, at most {MAX_FE_LEVELS} levels in total; these have {total}; use i(var) for small factors or a linear probability model (--model ols)",
                opts.model.name()
            )));
        }
        names.push("(Intercept)".into());
        xdata.extend(std::iter::repeat_n(1.0, n_all));
        for (q, codes) in fe.codes.iter().enumerate() {
            for l in 1..fe.n_levels[q] as u32 {
                names.push(format!("{}::#{l}", fe.names[q]));
                xdata.extend(codes.iter().map(|c| f64::from(u8::from(*c == l))));
            }
        }
    }
    let k_all = names.len();
    let skip: Vec<bool> = names.iter().map(|s| s == "(Intercept)").collect();
    let mut active = vec![true; n_all];
    let mut usable = vec![true; k_all];
    let separated = separation(&xdata, n_all, &design.y, &skip, &mut active, &mut usable);
    let mut dropped: Vec<DroppedTerm> = separated
        .iter()
        .map(|&j| DroppedTerm {
            term: names[j].clone(),
            reason: "perfectly predicts the outcome".into(),
        })
        .collect();
    let mut removed = design.removed;
    let rows: Vec<usize> = (0..n_all).filter(|&i| active[i]).collect();
    removed.separation = n_all - rows.len();
    let n = rows.len();
    let y: Vec<f64> = rows.iter().map(|&i| design.y[i]).collect();
    let w: Vec<f64> = match &design.weights {
        Some(wt) => rows.iter().map(|&i| wt[i]).collect(),
        None => vec![1.0; n],
    };
    let n_ones = y.iter().filter(|v| **v == 1.0).count();
    if n == 0 || n_ones == 0 || n_ones == n {
        return Err(Error::estimation(format!(
            "the outcome {} does not vary on the {n} observations left ({} removed as perfectly predicted): nothing to estimate",
            design.outcome, removed.separation
        )));
    }
    let cand: Vec<usize> = (0..k_all).filter(|&j| usable[j]).collect();
    let mut xc = Vec::with_capacity(n * cand.len());
    for &j in &cand {
        let col = &xdata[j * n_all..(j + 1) * n_all];
        xc.extend(rows.iter().map(|&i| col[i]));
    }
    let kept_local = select_independent(&gram(&xc, n, cand.len()), opts.collin_tol);
    let kept: Vec<usize> = kept_local.iter().map(|&i| cand[i]).collect();
    for &j in &cand {
        if !kept.contains(&j) && j < n_visible {
            dropped.push(DroppedTerm {
                term: names[j].clone(),
                reason: "collinear with other regressors".into(),
            });
        }
    }
    let k = kept.len();
    if n <= k {
        return Err(Error::estimation(format!(
            "{n} observations for {k} parameters: nothing left to estimate"
        )));
    }
    let mut x = Vec::with_capacity(n * k);
    for &li in &kept_local {
        x.extend_from_slice(&xc[li * n..(li + 1) * n]);
    }
    let (beta, ll, iterations, converged, r_bread) = match opts.glm_algorithm {
        GlmAlgorithm::Newton => {
            let (b, l, it, c) = newton(&x, n, k, &y, &w, link);
            (b, l, it, c, None)
        }
        GlmAlgorithm::RIrls => irls_r(&x, n, k, &y, &w, link),
    };
    if !converged {
        return Err(Error::estimation(format!(
            "{} did not converge in {iterations} iterations (log-likelihood {ll:.6}); the outcome is probably separated by a combination of regressors (complete or quasi-complete separation); drop or recode the offending regressors",
            opts.model.name()
        )));
    }
    let eta: Vec<f64> = (0..n)
        .map(|i| (0..k).map(|j| x[j * n + i] * beta[j]).sum())
        .collect();
    let pts: Vec<Point> = (0..n).map(|i| link.at(eta[i], y[i])).collect();
    // Expected information X' diag(w g²/(μ(1−μ))) X.
    let mut xw = vec![0.0; n * k];
    let mut scores = vec![0.0; n * k];
    for j in 0..k {
        for i in 0..n {
            let xv = x[j * n + i];
            xw[j * n + i] = xv * (w[i] * pts[i].expected).sqrt();
            scores[j * n + i] = xv * w[i] * pts[i].score;
        }
    }
    let bread = match r_bread {
        Some(b) => b,
        None => spd_inverse(&gram(&xw, n, k))
            .ok_or_else(|| Error::estimation("the information matrix is not positive definite"))?,
    };
    // K = 1 in the factors: hetero n/(n−1), cluster G/(G−1) (Stata's ML convention).
    let dof_k = 1;
    let (clusters, n_clusters) = clusters_on(&design.clusters, &rows);
    let v = vcov::compute(
        &bread,
        vcov::Scores::Columns(&vcov::columns(&scores, n)),
        &VcovInput {
            kind,
            clusters: &clusters,
            n_clusters: &n_clusters,
            cluster_df: opts.cluster_df,
            n_obs: n,
            dof_k,
            rss: 0.0,
            bread_is_vcov: true,
        },
    );
    let mut warnings = v.warnings;
    let extreme = pts
        .iter()
        .zip(&eta)
        .filter(|(_, e)| link.at(e.abs(), 1.0).ll > -1e-10)
        .count();
    if extreme > 0 {
        warnings.push(format!(
            "{extreme} observation(s) have a fitted probability within 1e-10 of 0 or 1: possible quasi-complete separation by a combination of regressors"
        ));
    }
    // Visible coefficients only (fixed-effect dummies and their intercept are hidden).
    let vis: Vec<usize> = (0..k).filter(|&i| kept[i] < n_visible).collect();
    let vis_names: Vec<String> = vis.iter().map(|&i| names[kept[i]].clone()).collect();
    let vis_beta: Vec<f64> = vis.iter().map(|&i| beta[i]).collect();
    let vmat = submatrix(&v.matrix, &vis);
    let coefficients = coefficient_table(&vis_names, &vis_beta, &vmat, None);

    let sw: f64 = w.iter().sum();
    let ybar = y.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() / sw;
    let ll0: f64 = y
        .iter()
        .zip(&w)
        .map(|(yi, wi)| {
            wi * if *yi > 0.5 {
                ybar.ln()
            } else {
                (1.0 - ybar).ln()
            }
        })
        .sum();
    let margins = opts.margins.then(|| {
        average_marginal_effects(&x, n, &w, &beta, &v.matrix, &eta, link, &vis, &kept, &names)
    });
    let fitted: Vec<(usize, f64)> = rows.iter().copied().zip(eta.iter().copied()).collect();
    let result = FitResult {
        keju_version: KEJU_VERSION,
        schema: "keju.fit/1",
        model: opts.model.name().into(),
        formula: formula.text.clone(),
        outcome: design.outcome.clone(),
        data: source.to_string(),
        nobs: n,
        coefficients,
        vcov: VcovInfo::new(kind, design, &n_clusters, opts, dof_k, 0),
        fit: FitStats {
            r2: f64::NAN,
            adj_r2: f64::NAN,
            within_r2: None,
            adj_within_r2: None,
            rmse: f64::NAN,
            rss: f64::NAN,
            loglik: Some(ll),
            pseudo_r2: Some(1.0 - ll / ll0),
        },
        fixed_effects: FixedEffectInfo::list(fe),
        removed,
        dropped_terms: dropped,
        warnings,
        absorb: None,
        vcov_matrix: to_rows(&vmat),
        subset: opts.subset.clone(),
        weights: opts.weights.clone(),
        first_stage: None,
        margins,
        timings: Vec::new(),
    };
    Ok((result, fitted))
}

/// Average marginal effects `mean_i g(η_i) β_j` of the visible non-intercept regressors, with
/// delta-method standard errors: `J_jm = mean_i [g(η_i) δ_jm + β_j g'(η_i) x_im]`, `V_AME =
/// J V J'`. Every regressor is treated as continuous (dummies too: a derivative, not a
/// discrete change).
#[allow(clippy::too_many_arguments)]
fn average_marginal_effects(
    x: &[f64],
    n: usize,
    w: &[f64],
    beta: &[f64],
    v: &Mat<f64>,
    eta: &[f64],
    link: Link,
    vis: &[usize],
    kept: &[usize],
    names: &[String],
) -> Vec<MarginalEffect> {
    use statrs::distribution::{ContinuousCDF, Normal};
    let normal = Normal::new(0.0, 1.0).expect("standard normal");
    let k = beta.len();
    let sw: f64 = w.iter().sum();
    let g: Vec<f64> = eta.iter().map(|e| link.at(*e, 1.0).density).collect();
    let gp: Vec<f64> = eta.iter().map(|e| link.at(*e, 1.0).density_slope).collect();
    let mean_g: f64 = g.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / sw;
    // mean_i g'(η_i) x_im, per m.
    let mean_gpx: Vec<f64> = (0..k)
        .map(|m| (0..n).map(|i| w[i] * gp[i] * x[m * n + i]).sum::<f64>() / sw)
        .collect();
    vis.iter()
        .filter(|&&j| names[kept[j]] != "(Intercept)")
        .map(|&j| {
            let ame = mean_g * beta[j];
            let jac: Vec<f64> = (0..k)
                .map(|m| beta[j] * mean_gpx[m] + if m == j { mean_g } else { 0.0 })
                .collect();
            let var: f64 = (0..k)
                .map(|a| (0..k).map(|b| jac[a] * v[(a, b)] * jac[b]).sum::<f64>())
                .sum();
            let se = var.max(0.0).sqrt();
            let z = ame / se;
            MarginalEffect {
                term: names[kept[j]].clone(),
                ame,
                std_error: se,
                z,
                p: 2.0 * normal.sf(z.abs()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separation_is_iterative_and_keeps_non_separating_columns() {
        // Columns: intercept, d (d = 1 → y = 1), e (continuous: never checked).
        let y = [0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let mut x = vec![1.0; 6];
        x.extend([0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
        x.extend([0.5, 1.5, 2.5, 1.0, 2.0, 3.0]);
        let mut active = vec![true; 6];
        let mut usable = vec![true; 3];
        let found = separation(&x, 6, &y, &[true, false, false], &mut active, &mut usable);
        assert_eq!(found, vec![1]);
        assert_eq!(active, vec![true, true, true, false, false, false]);
        assert_eq!(usable, vec![true, false, true]);
    }
}
