//! Propensity-score matching: [`run_psm`] turns a frame and [`PsmOptions`] into a
//! [`PsmOutput`] (the report [`PsmResult`], schema `keju.psm/1`, and the matched rows).
//!
//! Data flow: the score model `treat ~ covariates` is a logit fitted by
//! [`super::glm::fit_glm_fitted`] (the same code as `keju fit --model logit`); its fitted
//! probabilities are the distance; [`match_nearest`] pairs treated and control units greedily
//! (MatchIt's `method = "nearest"`); [`matching_weights`] gives MatchIt's weights; the ATT is the
//! weighted mean difference of the outcome and its standard error comes from `keju fit` on the
//! matched sample; [`balance`] compares covariate means before and after.
//!
//! **Source**: Ho, Imai, King & Stuart (2011), MatchIt 4.5.1 (`matchit`, `summary.matchit`);
//! conventions in `docs/psm.md`. Checked against MatchIt on the LaLonde data
//! (`tests/fixtures/psm/`).

use serde::Serialize;

use super::{fit, FitOptions, FitResult, Model, KEJU_VERSION};
use crate::data::{Column, Frame};
use crate::design::{Design, DesignOptions};
use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::vcov::VcovKind;

/// What `keju psm` is asked to do.
#[derive(Debug, Clone)]
pub struct PsmOptions {
    /// The 0/1 treatment column.
    pub treat: String,
    /// Right-hand side of the score model in formula syntax (`a + b + i(c) + I(a^2)`).
    pub covariates: String,
    /// The outcome column (its mean difference is the ATT).
    pub outcome: String,
    /// Caliper in standard deviations of the propensity score (SD over all units in the
    /// matching sample, n − 1 denominator); `None` for no caliper.
    pub caliper: Option<f64>,
    /// Controls per treated unit (1:K matching). Default 1.
    pub ratio: usize,
    /// Whether a control can be matched to several treated units.
    pub replace: bool,
    /// Which nearest-neighbour search (default [`MatchRule::Nearest`]).
    pub rule: MatchRule,
}

/// The nearest-neighbour search of [`match_nearest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    /// The available control with the smallest |score difference|; equal differences go to
    /// the lowest row index. Default.
    #[default]
    Nearest,
    /// What MatchIt 4.5.1's C++ matcher for a scalar distance (`nn_matchC_vec`) does: it
    /// compares distances with C++ `abs()` on integers, so |differences| below 1 all count as
    /// 0: the treated unit takes the nearest available control at or below its score in
    /// (score, row) order, the nearest above only when none is below, and a caliper never
    /// binds on the probability scale. Reproduces MatchIt 4.5.1 (and the LaLonde ATT 770.39
    /// in the project's reference set) exactly; not a nearest-neighbour match.
    #[value(name = "matchit-4.5.1")]
    #[serde(rename = "matchit-4.5.1")]
    Matchit451,
}

impl PsmOptions {
    /// Check the option values.
    ///
    /// **Errors**: [`Error::Usage`] for `ratio` = 0 or a caliper that is not a positive
    /// finite number.
    pub fn validate(&self) -> Result<()> {
        if self.ratio == 0 {
            return Err(Error::usage("--ratio must be at least 1"));
        }
        if let Some(c) = self.caliper {
            if !(c > 0.0 && c.is_finite()) {
                return Err(Error::usage(format!(
                    "--caliper must be a positive number of standard deviations of the propensity score, got {c}"
                )));
            }
        }
        Ok(())
    }
}

/// The result of greedy nearest-neighbour matching on a score.
#[derive(Debug, Clone, PartialEq)]
pub struct Matching {
    /// For each treated unit (index into the score vector), its controls in the order they
    /// were matched; empty when the unit found no match.
    pub pairs: Vec<(usize, Vec<usize>)>,
    /// Treated units left without any control because every available control was outside
    /// the caliper.
    pub n_caliper_discarded: usize,
}

/// Greedy nearest-neighbour matching on `score`, as MatchIt's `method = "nearest"` with
/// `m.order = "largest"`.
///
/// Treated units are taken in descending order of score (ties: lower index first). Matching
/// runs in `ratio` rounds: in round r every treated unit that got a control in each earlier
/// round picks the control nearest in |score difference| among those not yet used (any control
/// when `replace`, but never one already matched to the same treated unit) and within
/// `caliper_width` (|difference| ≤ width); ties go to the lowest index. A treated unit that
/// finds nobody in round 1 stays unmatched.
///
/// **Shapes**: `score`, `treated`: n.
/// **Complexity**: O(ratio · n_treated · n_control).
pub fn match_nearest(
    score: &[f64],
    treated: &[bool],
    ratio: usize,
    replace: bool,
    caliper_width: Option<f64>,
    rule: MatchRule,
) -> Matching {
    if rule == MatchRule::Matchit451 {
        return match_matchit451(score, treated, ratio, replace, caliper_width);
    }
    let n = score.len();
    let mut order: Vec<usize> = (0..n).filter(|&i| treated[i]).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    let controls: Vec<usize> = (0..n).filter(|&i| !treated[i]).collect();
    let mut used = vec![false; n];
    let mut matched: Vec<Vec<usize>> = vec![Vec::new(); order.len()];
    let mut n_caliper_discarded = 0;
    for round in 0..ratio {
        for (slot, &t) in order.iter().enumerate() {
            if matched[slot].len() < round {
                continue;
            }
            let mut best: Option<(f64, usize)> = None;
            let mut any_available = false;
            for &c in &controls {
                if (!replace && used[c]) || matched[slot].contains(&c) {
                    continue;
                }
                any_available = true;
                let d = (score[t] - score[c]).abs();
                if caliper_width.is_some_and(|w| d > w) {
                    continue;
                }
                if best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, c));
                }
            }
            match best {
                Some((_, c)) => {
                    used[c] = true;
                    matched[slot].push(c);
                }
                None if round == 0 && any_available => n_caliper_discarded += 1,
                None => {}
            }
        }
    }
    Matching {
        pairs: order.into_iter().zip(matched).collect(),
        n_caliper_discarded,
    }
}

/// [`MatchRule::Matchit451`]: MatchIt 4.5.1's `nn_matchC_vec` step by step. All units are
/// sorted by (score, row); for each treated unit the first eligible control to its left and
/// to its right in that order are found (a caliper test on the truncated |difference| stops
/// the search on that side); the left one wins when trunc|d_left| ≤ trunc|d_right|. Rounds
/// as in [`match_nearest`], but a treated unit unmatched in round 1 may still match later.
fn match_matchit451(
    score: &[f64],
    treated: &[bool],
    ratio: usize,
    replace: bool,
    caliper_width: Option<f64>,
) -> Matching {
    let n = score.len();
    let mut order: Vec<usize> = (0..n).filter(|&i| treated[i]).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    let mut sorted: Vec<usize> = (0..n).collect();
    sorted.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(a.cmp(&b)));
    let mut position = vec![0; n];
    for (k, &i) in sorted.iter().enumerate() {
        position[i] = k;
    }
    let mut available: Vec<bool> = (0..n).map(|i| !treated[i]).collect();
    let mut matched: Vec<Vec<usize>> = vec![Vec::new(); order.len()];
    let trunc_abs = |d: f64| d.abs().trunc();
    let mut n_caliper_discarded = 0;
    for round in 0..ratio {
        for (slot, &t) in order.iter().enumerate() {
            let eligible = |c: usize, mine: &[usize]| available[c] && !mine.contains(&c);
            let search = |iter: &mut dyn Iterator<Item = usize>| -> Option<usize> {
                for k in iter {
                    let c = sorted[k];
                    if treated[c] || !eligible(c, &matched[slot]) {
                        continue;
                    }
                    if caliper_width.is_some_and(|w| trunc_abs(score[t] - score[c]) > w) {
                        return None;
                    }
                    return Some(c);
                }
                None
            };
            let p = position[t];
            let left = search(&mut (0..p).rev());
            let right = search(&mut (p + 1..n));
            let pick = match (left, right) {
                (Some(l), Some(r)) => {
                    if trunc_abs(score[l] - score[t]) <= trunc_abs(score[r] - score[t]) {
                        Some(l)
                    } else {
                        Some(r)
                    }
                }
                (l, r) => l.or(r),
            };
            match pick {
                Some(c) => {
                    if !replace {
                        available[c] = false;
                    }
                    matched[slot].push(c);
                }
                None if round == 0 && available.iter().any(|a| *a) => n_caliper_discarded += 1,
                None => {}
            }
        }
    }
    Matching {
        pairs: order.into_iter().zip(matched).collect(),
        n_caliper_discarded,
    }
}

/// MatchIt's matching weights for the ATT: 1 for a matched treated unit; for a control, the
/// sum over the treated units it is matched to of 1 / (that unit's number of controls), then
/// all control weights scaled to sum to the number of matched controls; 0 for unmatched units.
///
/// **Shapes**: result n.
pub fn matching_weights(matching: &Matching, n: usize) -> Vec<f64> {
    let mut w = vec![0.0; n];
    let mut is_control = vec![false; n];
    for (t, cs) in &matching.pairs {
        if cs.is_empty() {
            continue;
        }
        w[*t] = 1.0;
        for &c in cs {
            w[c] += 1.0 / cs.len() as f64;
            is_control[c] = true;
        }
    }
    let n_controls = is_control.iter().filter(|c| **c).count() as f64;
    let sum: f64 = (0..n).filter(|&i| is_control[i]).map(|i| w[i]).sum();
    if sum > 0.0 {
        for i in (0..n).filter(|&i| is_control[i]) {
            w[i] *= n_controls / sum;
        }
    }
    w
}

/// Balance of one covariate in one sample.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupBalance {
    pub mean_treated: f64,
    pub mean_control: f64,
    /// (mean_treated − mean_control) / SD of the treated group in the full (unmatched) sample.
    pub smd: f64,
    /// Variance of the treated / variance of the controls (weighted after matching); `null`
    /// for binary covariates.
    pub var_ratio: Option<f64>,
}

/// One row of the balance table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BalanceRow {
    /// `distance` (the propensity score) or the covariate term as in the score model.
    pub term: String,
    /// Whether the variable takes only the values 0 and 1.
    pub binary: bool,
    /// Full sample.
    pub before: GroupBalance,
    /// Matched sample, with the matching weights.
    pub after: GroupBalance,
}

/// Weighted mean and MatchIt's weighted variance of `x` over rows with `w > 0`: for binary
/// variables p(1 − p), otherwise the reliability-weights variance
/// Σ w (x − m)² / (1 − Σ w²) with w normalized to sum to 1 (= the n − 1 variance when unweighted).
fn weighted_moments(x: &[f64], w: &[f64], binary: bool) -> (f64, f64) {
    let sw: f64 = w.iter().sum();
    let mean: f64 = x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / sw;
    let var = if binary {
        mean * (1.0 - mean)
    } else {
        let ss: f64 = x
            .iter()
            .zip(w)
            .map(|(a, b)| b / sw * (a - mean).powi(2))
            .sum();
        let w2: f64 = w.iter().map(|b| (b / sw).powi(2)).sum();
        ss / (1.0 - w2)
    };
    (mean, var)
}

/// Covariate balance as MatchIt's `summary.matchit(standardize = TRUE)` for the ATT.
///
/// `columns`: (term, values) with values per unit; `weights`: matching weights per unit.
/// The SMD denominator is the SD of the treated units in the full sample, both before and
/// after matching; a mean difference below 1e-8 in absolute value gives an SMD of 0.
///
/// **Shapes**: each value vector, `treated`, `weights`: n.
pub fn balance(
    columns: &[(String, Vec<f64>)],
    treated: &[bool],
    weights: &[f64],
) -> Vec<BalanceRow> {
    let split = |x: &[f64], w: Option<&[f64]>, t: bool| -> (Vec<f64>, Vec<f64>) {
        (0..x.len())
            .filter(|&i| treated[i] == t && w.is_none_or(|w| w[i] > 0.0))
            .map(|i| (x[i], w.map_or(1.0, |w| w[i])))
            .unzip()
    };
    columns
        .iter()
        .map(|(term, x)| {
            let binary = x.iter().all(|v| *v == 0.0 || *v == 1.0);
            let group = |w: Option<&[f64]>, sd_treated: Option<f64>| -> (GroupBalance, f64) {
                let (xt, wt) = split(x, w, true);
                let (xc, wc) = split(x, w, false);
                let (mt, vt) = weighted_moments(&xt, &wt, binary);
                let (mc, vc) = weighted_moments(&xc, &wc, binary);
                let sd = sd_treated.unwrap_or(vt.sqrt());
                let diff = mt - mc;
                let smd = if diff.abs() < 1e-8 { 0.0 } else { diff / sd };
                (
                    GroupBalance {
                        mean_treated: mt,
                        mean_control: mc,
                        smd,
                        var_ratio: (!binary).then_some(vt / vc),
                    },
                    sd,
                )
            };
            let (before, sd) = group(None, None);
            let (after, _) = group(Some(weights), Some(sd));
            BalanceRow {
                term: term.clone(),
                binary,
                before,
                after,
            }
        })
        .collect()
}

/// How units were matched, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct MatchMethod {
    /// `nearest`.
    pub method: &'static str,
    /// `logit propensity score`.
    pub distance: &'static str,
    /// `largest` (treated units by descending score).
    pub order: &'static str,
    pub rule: MatchRule,
    pub ratio: usize,
    pub replace: bool,
    /// Caliper in SDs of the propensity score, as given.
    pub caliper: Option<f64>,
    /// The caliper on the score scale: caliper × SD of the score over all units in the
    /// matching sample (n − 1 denominator).
    pub caliper_width: Option<f64>,
}

/// Rows left out of matching, by reason.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PsmRemoved {
    /// Treatment or outcome missing.
    pub missing_treat_or_outcome: usize,
    /// A covariate missing.
    pub missing_covariate: usize,
    /// Dropped by the logit's separation rule (no score).
    pub separation: usize,
}

/// The report of `keju psm` (schema `keju.psm/1`).
#[derive(Debug, Clone, Serialize)]
pub struct PsmResult {
    pub keju_version: &'static str,
    pub schema: &'static str,
    pub data: String,
    pub treat: String,
    pub outcome: String,
    pub covariates: String,
    pub matching: MatchMethod,
    /// Average treatment effect on the treated: weighted mean outcome of matched treated
    /// minus that of matched controls (matching weights).
    pub att: f64,
    /// Standard error of the ATT: weighted least squares of the outcome on the treatment in
    /// the matched sample, clustered by pair (`_subclass`, CR1) without replacement,
    /// heteroskedasticity-robust (HC1) with replacement.
    pub att_se: f64,
    /// `cluster` or `hetero`.
    pub att_se_vcov: VcovKind,
    /// Units in the matching sample.
    pub n_obs: usize,
    pub n_treated: usize,
    pub n_control: usize,
    /// Matched units (treated + distinct controls).
    pub n_matched: usize,
    pub n_matched_treated: usize,
    pub n_matched_control: usize,
    /// Treated units without a match (caliper or no controls left).
    pub n_unmatched_treated: usize,
    /// Treated units without a match because every available control was outside the caliper.
    pub n_caliper_discarded: usize,
    pub removed: PsmRemoved,
    /// The logit score model, as `keju fit --format json` prints it.
    pub score_model: FitResult,
    /// Balance of the propensity score (`distance`) and each covariate.
    pub balance: Vec<BalanceRow>,
    pub warnings: Vec<String>,
}

/// A report and the matched sample.
#[derive(Debug, Clone)]
pub struct PsmOutput {
    pub result: PsmResult,
    /// The matched input rows in input order, with `_weight`, `_subclass` (pair id, 1-based in
    /// input order of the treated units; missing with replacement) and `_pscore` added.
    pub matched: Frame,
}

/// Quote a column name for the formula parser.
fn quoted(name: &str) -> String {
    format!("`{name}`")
}

/// Propensity-score matching: score model, matching, ATT and balance.
///
/// **Errors**: [`Error::Usage`] for bad options or covariates with fixed effects or an IV
/// part; [`Error::ColumnNotFound`] for an unknown treatment, outcome or covariate;
/// [`Error::Parse`] when the treatment is not 0/1 (line named); [`Error::Estimation`] when
/// there are no treated or no control units, or the score model fails.
pub fn run_psm(frame: &Frame, opts: &PsmOptions) -> Result<PsmOutput> {
    opts.validate()?;
    let formula = Formula::parse(&format!("{} ~ {}", quoted(&opts.treat), opts.covariates))?;
    if !formula.fixed_effects.is_empty() || formula.iv.is_some() {
        return Err(Error::usage(
            "--covariates takes terms only (no | fixed effects or IV part); use i(var) for factors",
        ));
    }
    let treat = frame.numeric(&opts.treat)?;
    let outcome = frame.numeric(&opts.outcome)?;
    for (i, &v) in treat.iter().enumerate() {
        if !v.is_nan() && v != 0.0 && v != 1.0 {
            return Err(Error::Parse {
                path: frame.source.clone(),
                column: opts.treat.clone(),
                line: i + 2,
                value: crate::data::format_number(v),
                expected: "0 or 1 (the treatment of keju psm must be 0/1)".into(),
            });
        }
    }
    let complete = |i: usize| !treat[i].is_nan() && !outcome[i].is_nan();
    let n_rows = frame.n_rows();
    let missing_treat_or_outcome = (0..n_rows).filter(|&i| !complete(i)).count();
    let n_t0 = (0..n_rows)
        .filter(|&i| complete(i) && treat[i] == 1.0)
        .count();
    let n_c0 = (0..n_rows)
        .filter(|&i| complete(i) && treat[i] == 0.0)
        .count();
    if n_t0 == 0 || n_c0 == 0 {
        let (what, value) = if n_t0 == 0 {
            ("treated", 1)
        } else {
            ("control", 0)
        };
        return Err(Error::estimation(format!(
            "{}: no {what} units ({} = {value}) with a non-missing outcome \"{}\": nothing to match",
            frame.source, opts.treat, opts.outcome
        )));
    }
    // Rows with a missing outcome leave the score model too: mark their treatment missing.
    let mut scored = frame.clone();
    scored.set_column(
        &opts.treat,
        Column::Num(
            (0..n_rows)
                .map(|i| if complete(i) { treat[i] } else { f64::NAN })
                .collect(),
        ),
    );
    let score_opts = FitOptions {
        model: Model::Logit,
        ..FitOptions::default()
    };
    let (score_model, pscore) = super::glm::fit_glm_fitted(&scored, &formula, &score_opts)
        .map_err(|e| e.context("propensity-score logit"))?;
    let design = Design::build(&scored, &formula, &DesignOptions::default())?;

    // The matching sample: rows with a score, in input order.
    let sample: Vec<usize> = (0..n_rows).filter(|&i| pscore[i].is_finite()).collect();
    let removed = PsmRemoved {
        missing_treat_or_outcome,
        missing_covariate: n_rows - missing_treat_or_outcome - design.n_obs,
        separation: design.n_obs - sample.len(),
    };
    let n = sample.len();
    let score: Vec<f64> = sample.iter().map(|&i| pscore[i]).collect();
    let is_treated: Vec<bool> = sample.iter().map(|&i| treat[i] == 1.0).collect();
    let n_treated = is_treated.iter().filter(|t| **t).count();
    let n_control = n - n_treated;
    if n_treated == 0 || n_control == 0 {
        return Err(Error::estimation(format!(
            "no {} units left after the score model (rows removed: {} missing covariates, {} separation): nothing to match",
            if n_treated == 0 { "treated" } else { "control" },
            removed.missing_covariate,
            removed.separation
        )));
    }
    let caliper_width = opts.caliper.map(|c| {
        let mean = score.iter().sum::<f64>() / n as f64;
        let var = score.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        c * var.sqrt()
    });
    let matching = match_nearest(
        &score,
        &is_treated,
        opts.ratio,
        opts.replace,
        caliper_width,
        opts.rule,
    );
    let weights = matching_weights(&matching, n);
    let n_matched_treated = (0..n)
        .filter(|&i| is_treated[i] && weights[i] > 0.0)
        .count();
    let n_matched_control = (0..n)
        .filter(|&i| !is_treated[i] && weights[i] > 0.0)
        .count();
    let mut warnings = score_model.warnings.clone();
    if n_matched_treated == 0 {
        return Err(Error::estimation(format!(
            "no treated unit found a control{}: nothing matched",
            caliper_width.map_or(String::new(), |w| format!(
                " within the caliper ({w:.6} on the score scale)"
            ))
        )));
    }
    if n_matched_treated < n_treated {
        warnings.push(format!(
            "{} of {n_treated} treated units are unmatched ({} by the caliper); the ATT is for the matched treated",
            n_treated - n_matched_treated,
            matching.n_caliper_discarded
        ));
    }

    let wmean = |t: bool| {
        let (s, sw) = (0..n)
            .filter(|&i| is_treated[i] == t && weights[i] > 0.0)
            .fold((0.0, 0.0), |(s, sw), i| {
                (s + weights[i] * outcome[sample[i]], sw + weights[i])
            });
        s / sw
    };
    let att = wmean(true) - wmean(false);

    // Matched sample: input rows with weight > 0, and the three added columns.
    let mut subclass = vec![f64::NAN; n];
    if !opts.replace {
        let mut treated_in_order: Vec<&(usize, Vec<usize>)> = matching
            .pairs
            .iter()
            .filter(|(_, cs)| !cs.is_empty())
            .collect();
        treated_in_order.sort_by_key(|(t, _)| *t);
        for (id, (t, cs)) in treated_in_order.into_iter().enumerate() {
            subclass[*t] = (id + 1) as f64;
            for &c in cs {
                subclass[c] = (id + 1) as f64;
            }
        }
    }
    let mut keep = vec![false; n_rows];
    let full = |v: &[f64]| {
        let mut out = vec![f64::NAN; n_rows];
        for (j, &i) in sample.iter().enumerate() {
            out[i] = v[j];
        }
        out
    };
    let (w_full, s_full, p_full) = (full(&weights), full(&subclass), full(&score));
    for (j, &i) in sample.iter().enumerate() {
        keep[i] = weights[j] > 0.0;
    }
    let filt = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(x, _)| *x)
            .collect()
    };
    let mut matched = frame.filter(&keep);
    matched.set_column("_weight", Column::Num(filt(&w_full)));
    matched.set_column("_subclass", Column::Num(filt(&s_full)));
    matched.set_column("_pscore", Column::Num(filt(&p_full)));

    let att_se_vcov = if opts.replace {
        VcovKind::Hetero
    } else {
        VcovKind::Cluster
    };
    let se_fit = fit(
        &matched,
        &Formula::parse(&format!(
            "{} ~ {}",
            quoted(&opts.outcome),
            quoted(&opts.treat)
        ))?,
        &FitOptions {
            vcov: Some(att_se_vcov),
            cluster: if opts.replace {
                Vec::new()
            } else {
                vec!["_subclass".into()]
            },
            weights: Some("_weight".into()),
            keep_singletons: true,
            ..FitOptions::default()
        },
    )
    .map_err(|e| e.context("standard error of the ATT"))?;
    let att_se = se_fit
        .coefficients
        .iter()
        .find(|c| c.term != "(Intercept)")
        .map_or(f64::NAN, |c| c.std_error);

    // Balance on the score and the score model's regressors (design rows = frame rows with
    // complete covariates; restrict to the matching sample).
    let pos: std::collections::HashMap<usize, usize> = design
        .rows
        .iter()
        .enumerate()
        .map(|(j, &r)| (r, j))
        .collect();
    let mut columns = vec![("distance".to_string(), score.clone())];
    for (j, name) in design.x.names.iter().enumerate() {
        if name == "(Intercept)" {
            continue;
        }
        let col = design.x.col(j);
        columns.push((name.clone(), sample.iter().map(|i| col[pos[i]]).collect()));
    }
    let balance = balance(&columns, &is_treated, &weights);

    Ok(PsmOutput {
        result: PsmResult {
            keju_version: KEJU_VERSION,
            schema: "keju.psm/1",
            data: frame.source.clone(),
            treat: opts.treat.clone(),
            outcome: opts.outcome.clone(),
            covariates: opts.covariates.clone(),
            matching: MatchMethod {
                method: "nearest",
                distance: "logit propensity score",
                order: "largest",
                rule: opts.rule,
                ratio: opts.ratio,
                replace: opts.replace,
                caliper: opts.caliper,
                caliper_width,
            },
            att,
            att_se,
            att_se_vcov,
            n_obs: n,
            n_treated,
            n_control,
            n_matched: n_matched_treated + n_matched_control,
            n_matched_treated,
            n_matched_control,
            n_unmatched_treated: n_treated - n_matched_treated,
            n_caliper_discarded: matching.n_caliper_discarded,
            removed,
            score_model,
            balance,
            warnings,
        },
        matched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_order_largest_first_and_ties_to_lowest_index() {
        // Treated 0 (0.9) goes first and takes control 3 (0.8, tie with 4 at 0.8 → lower
        // index); treated 1 (0.5) then takes 4.
        let score = [0.9, 0.5, 0.1, 0.8, 0.8];
        let treated = [true, true, false, false, false];
        let m = match_nearest(&score, &treated, 1, false, None, MatchRule::Nearest);
        assert_eq!(m.pairs, vec![(0, vec![3]), (1, vec![4])]);
        let w = matching_weights(&m, 5);
        assert_eq!(w, vec![1.0, 1.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn caliper_discards_and_replace_reuses() {
        let score = [0.9, 0.5, 0.85, 0.1];
        let treated = [true, true, false, false];
        // Width 0.1: treated 0 takes control 2; treated 1 has only control 3 (0.4 away).
        let m = match_nearest(&score, &treated, 1, false, Some(0.1), MatchRule::Nearest);
        assert_eq!(m.pairs, vec![(0, vec![2]), (1, vec![])]);
        assert_eq!(m.n_caliper_discarded, 1);
        // With replacement both take control 2.
        let m = match_nearest(&score, &treated, 1, true, None, MatchRule::Nearest);
        assert_eq!(m.pairs, vec![(0, vec![2]), (1, vec![2])]);
        let w = matching_weights(&m, 4);
        // Control 2 carries 2, scaled to the one matched control: 1.
        assert_eq!(w, vec![1.0, 1.0, 1.0, 0.0]);
    }

    #[test]
    fn ratio_two_matches_in_rounds() {
        // Round 1: t0 (0.9) → c2 (0.85), t1 (0.6) → c3 (0.55); round 2: t0 → c4 (0.7),
        // t1 → c5 (0.1).
        let score = [0.9, 0.6, 0.85, 0.55, 0.7, 0.1];
        let treated = [true, true, false, false, false, false];
        let m = match_nearest(&score, &treated, 2, false, None, MatchRule::Nearest);
        assert_eq!(m.pairs, vec![(0, vec![2, 4]), (1, vec![3, 5])]);
        let w = matching_weights(&m, 6);
        assert_eq!(w, vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn smd_uses_treated_sd_of_full_sample() {
        let x = vec![1.0, 3.0, 0.0, 2.0, 10.0];
        let treated = [true, true, false, false, false];
        let w = [1.0, 1.0, 1.0, 1.0, 0.0];
        let b = balance(&[("x".into(), x)], &treated, &w);
        let sd_t = 2.0f64.sqrt(); // var(1, 3) = 2
        assert!((b[0].before.smd - (2.0 - 4.0) / sd_t).abs() < 1e-12);
        assert!((b[0].after.smd - (2.0 - 1.0) / sd_t).abs() < 1e-12);
        assert_eq!(b[0].after.var_ratio, Some(1.0));
    }
}
