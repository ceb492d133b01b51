//! Two-stage least squares with absorbed fixed effects: `y ~ exog | fe | endog ~ instruments`.
//!
//! Data flow: [`Design::build`] gives `y`, the exogenous block `X`, the endogenous block `D`
//! and the excluded instruments `Z` under one missing mask; all of them are demeaned together
//! (fixed effects) in one column-major buffer and scaled by √w; regressors and instruments
//! absorbed by the fixed effects or collinear are dropped and named. First stage per endogenous
//! variable: `d = [X Z] π + v`, with the partial F of the excluded instruments. Second stage:
//! `y = [X D̂] β + e` with `D̂` the first-stage fitted values, and the variance from the
//! structural residuals `e = y − [X D] β`.
//!
//! **Source**: Wooldridge (2010), ch. 5; conventions of AER `ivreg` + sandwich (HC1), fixest
//! `feols` IV and ivreg2 (Baum, Schaffer & Stillman 2007); formulas in `docs/estimators.md`.

use faer::Mat;
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

use super::ols::wss_centered;
use super::{
    coefficient_table, cross, gram, select_independent, spd_inverse, submatrix, to_rows,
    AbsorbInfo, DroppedTerm, FirstStage, FitOptions, FitResult, FitStats, FixedEffectInfo,
    VcovInfo, KEJU_VERSION,
};
use crate::absorb::Demeaner;
use crate::data::Frame;
use crate::design::Design;
use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::vcov::{self, ssc, VcovInput, VcovKind};

/// Fit a linear model with endogenous regressors by 2SLS.
///
/// **Errors**: everything [`Design::build`] reports; [`Error::Usage`] from
/// [`FitOptions::vcov_kind`]; [`Error::Estimation`] when the formula has no IV part, the model
/// is under-identified (fewer excluded instruments than endogenous variables after dropping
/// collinear ones), or too few observations remain.
pub fn fit_iv(frame: &Frame, formula: &Formula, opts: &FitOptions) -> Result<FitResult> {
    if formula.iv.is_none() {
        return Err(Error::estimation(
            "2SLS needs an IV part in the formula: y ~ exog | endog ~ instruments",
        ));
    }
    let kind = opts.vcov_kind()?;
    let design = Design::build(frame, formula, &opts.design_options())?;
    estimate(&design, formula, opts, kind, &frame.source)
}

/// Contiguous copy of the columns `idx` of `buf` (n_obs × p, column-major).
fn take_cols(buf: &[f64], n: usize, idx: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(n * idx.len());
    for &j in idx {
        out.extend_from_slice(&buf[j * n..(j + 1) * n]);
    }
    out
}

/// `b` (k) times the columns of `x` (n × k): the fitted values.
fn fitted(x: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; n];
    for (j, bj) in b.iter().enumerate() {
        let col = &x[j * n..(j + 1) * n];
        out.iter_mut().zip(col).for_each(|(o, v)| *o += bj * v);
    }
    out
}

/// `m v` for a k × k matrix.
fn matvec(m: &Mat<f64>, v: &[f64]) -> Vec<f64> {
    (0..m.nrows())
        .map(|i| (0..v.len()).map(|j| m[(i, j)] * v[j]).sum())
        .collect()
}

/// Scores `x_ij e_i`, n × k column-major.
fn scores_of(x: &[f64], n: usize, e: &[f64]) -> Vec<f64> {
    let mut s = Vec::with_capacity(x.len());
    for col in x.chunks(n) {
        s.extend(col.iter().zip(e).map(|(a, b)| a * b));
    }
    s
}

/// Wald F of the coefficients `idx`: `b_S' V_SS⁻¹ b_S / |S|`. `None` when `V_SS` is singular.
pub fn wald_f(beta: &[f64], v: &Mat<f64>, idx: &[usize]) -> Option<f64> {
    if idx.is_empty() {
        return None;
    }
    let vs = submatrix(v, idx);
    let inv = spd_inverse(&vs)?;
    let bs: Vec<f64> = idx.iter().map(|&j| beta[j]).collect();
    let w: f64 = (0..idx.len())
        .map(|i| {
            (0..idx.len())
                .map(|j| bs[i] * inv[(i, j)] * bs[j])
                .sum::<f64>()
        })
        .sum();
    Some(w / idx.len() as f64)
}

/// 2SLS on a built design.
///
/// **Shapes**: `design.y` n; `design.x` n × k_x; `design.endogenous` n × p;
/// `design.instruments` n × q.
pub fn estimate(
    design: &Design,
    formula: &Formula,
    opts: &FitOptions,
    kind: VcovKind,
    source: &str,
) -> Result<FitResult> {
    let n = design.n_obs;
    let kx = design.x.names.len();
    let p = design.endogenous.names.len();
    let q = design.instruments.names.len();
    let w = design.weights.as_deref();
    let fe = &design.fixed_effects;
    let has_fe = !fe.is_empty();
    // Buffer columns: 0 = y, 1..=kx exogenous, then endogenous, then instruments.
    let ncol = 1 + kx + p + q;
    let names: Vec<&str> = std::iter::once(design.outcome.as_str())
        .chain(design.x.names.iter().map(|s| s.as_str()))
        .chain(design.endogenous.names.iter().map(|s| s.as_str()))
        .chain(design.instruments.names.iter().map(|s| s.as_str()))
        .collect();
    let role = |j: usize| -> &'static str {
        if j == 0 {
            "outcome"
        } else if j <= kx {
            "exogenous"
        } else if j <= kx + p {
            "endogenous"
        } else {
            "instrument"
        }
    };
    let mut buf = Vec::with_capacity(n * ncol);
    buf.extend_from_slice(&design.y);
    for block in [&design.x, &design.endogenous, &design.instruments] {
        block.columns.iter().for_each(|c| buf.extend_from_slice(c));
    }
    let ss_before: Vec<f64> = (0..ncol)
        .map(|j| wss_centered(&buf[j * n..(j + 1) * n], w))
        .collect();
    let tss = if has_fe || design.intercept {
        ss_before[0]
    } else {
        match w {
            Some(w) => design.y.iter().zip(w).map(|(a, b)| b * a * a).sum(),
            None => design.y.iter().map(|a| a * a).sum(),
        }
    };
    let mut absorb = None;
    if has_fe {
        let infos = Demeaner::new(fe, w, opts.demean).demean_columns(&mut buf, n);
        absorb = AbsorbInfo::summarize(&infos);
    }
    if let Some(w) = w {
        for col in buf.chunks_mut(n) {
            col.iter_mut().zip(w).for_each(|(v, wi)| *v *= wi.sqrt());
        }
    }

    // Columns absorbed by the fixed effects, or constant next to the intercept.
    let mut dropped = Vec::new();
    let mut usable = vec![true; ncol];
    for j in 1..ncol {
        let col = &buf[j * n..(j + 1) * n];
        let ss_after: f64 = col.iter().map(|v| v * v).sum();
        let is_intercept = design.intercept && j == 1;
        let reason =
            if has_fe && (ss_before[j] == 0.0 || ss_after <= opts.collin_tol * ss_before[j]) {
                Some("collinear with the fixed effects")
            } else if !is_intercept && !has_fe && design.intercept && ss_before[j] == 0.0 {
                Some("constant (collinear with the intercept)")
            } else {
                None
            };
        if let Some(reason) = reason {
            usable[j] = false;
            let term = if role(j) == "exogenous" {
                names[j].to_string()
            } else {
                format!("{} ({})", names[j], role(j))
            };
            dropped.push(DroppedTerm {
                term,
                reason: reason.into(),
            });
        }
    }
    // Instrument set [X Z]: earlier columns win, so exogenous regressors are kept first.
    let cand_z: Vec<usize> = (1..=kx)
        .chain(kx + p + 1..ncol)
        .filter(|&j| usable[j])
        .collect();
    let zbuf_all = take_cols(&buf, n, &cand_z);
    let kept_z_local = select_independent(&gram(&zbuf_all, n, cand_z.len()), opts.collin_tol);
    let kept_z: Vec<usize> = kept_z_local.iter().map(|&i| cand_z[i]).collect();
    let x_kept: Vec<usize> = kept_z.iter().copied().filter(|&j| j <= kx).collect();
    let z_excl: Vec<usize> = kept_z.iter().copied().filter(|&j| j > kx).collect();
    // Regressor set [X D].
    let cand_r: Vec<usize> = x_kept
        .iter()
        .copied()
        .chain((kx + 1..=kx + p).filter(|&j| usable[j]))
        .collect();
    let rbuf_all = take_cols(&buf, n, &cand_r);
    let kept_r_local = select_independent(&gram(&rbuf_all, n, cand_r.len()), opts.collin_tol);
    let kept_r: Vec<usize> = kept_r_local.iter().map(|&i| cand_r[i]).collect();
    let d_kept: Vec<usize> = kept_r.iter().copied().filter(|&j| j > kx).collect();
    let lost_z = cand_z.iter().filter(|j| !kept_z.contains(j));
    let lost_r = cand_r.iter().filter(|j| !kept_r.contains(j));
    for &j in lost_z.chain(lost_r) {
        {
            let term = if role(j) == "exogenous" {
                names[j].to_string()
            } else {
                format!("{} ({})", names[j], role(j))
            };
            dropped.push(DroppedTerm {
                term,
                reason: "collinear with other regressors".into(),
            });
        }
    }
    if d_kept.is_empty() {
        return Err(Error::estimation(
            "no endogenous variable is left after dropping collinear terms: nothing to instrument",
        ));
    }
    if z_excl.len() < d_kept.len() {
        return Err(Error::estimation(format!(
            "under-identified: {} endogenous variable(s) but {} excluded instrument(s) after dropping collinear terms",
            d_kept.len(),
            z_excl.len()
        )));
    }
    let fe_params = fe.n_params_with(opts.fe_redundancy);
    let kk = x_kept.len() + d_kept.len();
    let kz = kept_z.len();
    if n <= kz.max(kk) + fe_params {
        return Err(Error::estimation(format!(
            "{n} observations for {} parameters ({} instruments, {fe_params} fixed-effect levels): nothing left to estimate the variance",
            kz.max(kk) + fe_params,
            kz
        )));
    }
    let nested: Vec<usize> = if kind == VcovKind::Cluster {
        (0..fe.len())
            .filter(|&g| design.clusters.iter().any(|c| fe.is_nested_in(g, c)))
            .map(|g| fe.n_levels[g])
            .collect()
    } else {
        Vec::new()
    };
    let vcov_input = |dof_k: usize, rss: f64| VcovInput {
        kind,
        clusters: &design.clusters,
        n_clusters: &design.n_clusters,
        cluster_df: opts.cluster_df,
        n_obs: n,
        dof_k,
        rss,
        bread_is_vcov: false,
    };
    let mut warnings = Vec::new();

    // First stages.
    let zbuf = take_cols(&buf, n, &kept_z);
    let bread_z = spd_inverse(&gram(&zbuf, n, kz)).ok_or_else(|| {
        Error::estimation("Z'Z is not positive definite after dropping collinear instruments")
    })?;
    let dof_kz = ssc::dof_k(kz, fe_params, &nested, opts.fixef_k);
    let z_names: Vec<String> = kept_z.iter().map(|&j| names[j].to_string()).collect();
    let excl_idx: Vec<usize> = (x_kept.len()..kz).collect();
    let mut first_stage = Vec::with_capacity(d_kept.len());
    let mut dhat_cols = Vec::with_capacity(n * d_kept.len());
    for &j in &d_kept {
        let d = &buf[j * n..(j + 1) * n];
        let pi = matvec(&bread_z, &cross(&zbuf, n, kz, d));
        let dhat = fitted(&zbuf, n, &pi);
        let v: Vec<f64> = d.iter().zip(&dhat).map(|(a, b)| a - b).collect();
        let rss_v: f64 = v.iter().map(|e| e * e).sum();
        let scores = scores_of(&zbuf, n, &v);
        let vc = vcov::compute(
            &bread_z,
            vcov::Scores::Columns(&vcov::columns(&scores, n)),
            &vcov_input(dof_kz, rss_v),
        );
        warnings.extend(
            vc.warnings
                .iter()
                .map(|w| format!("first stage {}: {w}", names[j])),
        );
        let f = wald_f(&pi, &vc.matrix, &excl_idx).unwrap_or(f64::NAN);
        let df1 = excl_idx.len();
        let f_p = FisherSnedecor::new(df1 as f64, vc.df_t as f64)
            .map(|dist| dist.sf(f))
            .unwrap_or(f64::NAN);
        let tss_d = if has_fe {
            d.iter().map(|a| a * a).sum()
        } else {
            ss_before[j]
        };
        first_stage.push(FirstStage {
            endogenous: names[j].to_string(),
            f_stat: f,
            f_df1: df1,
            f_df2: vc.df_t,
            f_p,
            kp_f: None,
            coefficients: coefficient_table(&z_names, &pi, &vc.matrix, Some(vc.df_t)),
            r2: 1.0 - rss_v / tss_d,
        });
        dhat_cols.extend_from_slice(&dhat);
    }
    if first_stage.len() == 1 {
        // One endogenous variable: the rk Wald statistic reduces to the Wald F of the
        // excluded instruments under the chosen variance.
        first_stage[0].kp_f = Some(first_stage[0].f_stat);
    }
    for fs in &first_stage {
        if fs.f_stat < 10.0 {
            warnings.push(format!(
                "weak instruments: first-stage F for {} is {:.2} (< 10)",
                fs.endogenous, fs.f_stat
            ));
        }
    }

    // Second stage: X̂ = [X D̂], actual X_full = [X D].
    let mut xhat = take_cols(&buf, n, &x_kept);
    xhat.extend_from_slice(&dhat_cols);
    let xfull = take_cols(&buf, n, &kept_r);
    let ys = &buf[..n];
    let bread = spd_inverse(&gram(&xhat, n, kk)).ok_or_else(|| {
        Error::estimation("X̂'X̂ is not positive definite: the instruments do not identify the model")
    })?;
    let beta = matvec(&bread, &cross(&xhat, n, kk, ys));
    let fit_vals = fitted(&xfull, n, &beta);
    let resid: Vec<f64> = ys.iter().zip(&fit_vals).map(|(a, b)| a - b).collect();
    let rss: f64 = resid.iter().map(|e| e * e).sum();
    let scores = scores_of(&xhat, n, &resid);
    let dof_k = ssc::dof_k(kk, fe_params, &nested, opts.fixef_k);
    let v = vcov::compute(
        &bread,
        vcov::Scores::Columns(&vcov::columns(&scores, n)),
        &vcov_input(dof_k, rss),
    );
    warnings.extend(v.warnings);
    let coef_names: Vec<String> = kept_r.iter().map(|&j| names[j].to_string()).collect();
    let coefficients = coefficient_table(&coef_names, &beta, &v.matrix, Some(v.df_t));

    let nf = n as f64;
    let k_full = kk + fe_params;
    let r2 = 1.0 - rss / tss;
    let adj_r2 = if has_fe || design.intercept {
        1.0 - (1.0 - r2) * (nf - 1.0) / (nf - k_full as f64)
    } else {
        1.0 - (1.0 - r2) * nf / (nf - kk as f64)
    };
    let (within_r2, adj_within_r2) = if has_fe {
        let within_tss: f64 = ys.iter().map(|a| a * a).sum();
        let wr2 = 1.0 - rss / within_tss;
        let fp = fe_params as f64;
        (
            Some(wr2),
            Some(1.0 - (1.0 - wr2) * (nf - fp) / (nf - fp - kk as f64)),
        )
    } else {
        (None, None)
    };
    warnings.extend(absorb.as_ref().and_then(AbsorbInfo::warning));
    Ok(FitResult {
        keju_version: KEJU_VERSION,
        schema: "keju.fit/1",
        model: "iv".into(),
        formula: formula.text.clone(),
        outcome: design.outcome.clone(),
        data: source.to_string(),
        nobs: n,
        coefficients,
        vcov: VcovInfo::new(kind, design, &design.n_clusters, opts, dof_k, v.df_t),
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
        vcov_matrix: to_rows(&v.matrix),
        subset: opts.subset.clone(),
        weights: opts.weights.clone(),
        first_stage: Some(first_stage),
        margins: None,
        timings: Vec::new(),
    })
}
