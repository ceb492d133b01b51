//! The estimation sample: evaluates a [`Formula`] on a [`Frame`], applies the subset, the
//! missing-value mask and singleton removal, and returns contiguous column-major buffers.
//!
//! One exclusion mask covers outcome, regressors, endogenous variables, instruments, fixed
//! effects, cluster variables and weights. Rows removed are counted by reason in [`Removed`].

use std::borrow::Cow;
use std::collections::HashMap;

use crate::absorb::{drop_singletons, FixedEffects};
use crate::data::{Factor, Frame};
use crate::error::{Error, Result};
use crate::formula::{Formula, Term};
use crate::subset::Subset;

/// Most dummies one `i()` term may create; more is almost surely a continuous variable or a
/// fixed effect that should be absorbed.
pub const MAX_DUMMIES: usize = 1000;

/// Rows removed before estimation, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Removed {
    /// Excluded by `--subset`.
    pub subset: usize,
    /// A missing (or non-finite) value in any variable of the model.
    pub missing: usize,
    /// Weight zero or negative.
    pub nonpositive_weight: usize,
    /// Singletons in a fixed effect (iteratively).
    pub singletons: usize,
    /// Perfectly predicted by a separating variable (probit/logit).
    pub separation: usize,
    /// In another group of a split (`--split`).
    pub other_groups: usize,
}

/// What the design needs besides the formula.
#[derive(Debug, Clone, Default)]
pub struct DesignOptions {
    pub subset: Option<String>,
    pub cluster: Vec<String>,
    pub weights: Option<String>,
    pub keep_singletons: bool,
    /// Rows of one split group (`true` = in the group); rows outside are counted in
    /// [`Removed::other_groups`]. Length: the frame's row count.
    pub group: Option<Vec<bool>>,
}

/// A block of named columns, n_obs × names.len(), column-major.
#[derive(Debug, Clone, Default)]
pub struct Block {
    pub names: Vec<String>,
    pub data: Vec<f64>,
}

impl Block {
    /// Column `j` as a slice of length `n_obs`.
    pub fn col(&self, j: usize, n_obs: usize) -> &[f64] {
        &self.data[j * n_obs..(j + 1) * n_obs]
    }
}

/// The model's data on the estimation sample.
///
/// **Shapes**: `y`: n_obs; `x`: n_obs × k (includes `(Intercept)` when the model has one and no
/// fixed effects); `endogenous`, `instruments`: n_obs × their counts; `clusters[c]`: n_obs codes.
#[derive(Debug, Clone)]
pub struct Design {
    pub n_obs: usize,
    pub outcome: String,
    pub y: Vec<f64>,
    pub x: Block,
    pub endogenous: Block,
    pub instruments: Block,
    pub fixed_effects: FixedEffects,
    pub cluster_names: Vec<String>,
    pub clusters: Vec<Vec<u32>>,
    pub n_clusters: Vec<usize>,
    pub weights: Option<Vec<f64>>,
    pub removed: Removed,
    /// Row index in the input frame of each observation.
    pub rows: Vec<usize>,
    /// Whether an intercept is estimated explicitly (no fixed effects and not removed).
    pub intercept: bool,
}

enum Evaluated<'a> {
    Num {
        label: String,
        values: Cow<'a, [f64]>,
    },
    Factor {
        var: String,
        reference: Option<String>,
        factor: Factor,
    },
}

fn evaluate_terms<'a>(frame: &'a Frame, terms: &[Term]) -> Result<Vec<Evaluated<'a>>> {
    let n = frame.n_rows();
    let lookup = |name: &str| frame.numeric(name);
    terms
        .iter()
        .map(|t| match t {
            Term::Numeric { label, factors } => {
                // A plain variable is borrowed from the frame, not copied.
                let values = match factors.as_slice() {
                    [f] => f.eval_cow(n, &lookup)?,
                    _ => {
                        let mut values = vec![1.0; n];
                        for f in factors {
                            let v = f.eval_cow(n, &lookup)?;
                            values.iter_mut().zip(v.iter()).for_each(|(a, b)| *a *= b);
                        }
                        Cow::Owned(values)
                    }
                };
                Ok(Evaluated::Num {
                    label: label.clone(),
                    values,
                })
            }
            Term::Factor { var, reference, .. } => Ok(Evaluated::Factor {
                var: var.clone(),
                reference: reference.clone(),
                factor: frame.column(var)?.factorize(),
            }),
        })
        .collect()
}

/// Combine several groupings into one (`fe1^fe2`): dense codes of the distinct tuples.
pub fn combine_factors(parts: &[Factor]) -> Factor {
    let n = parts.first().map_or(0, |p| p.codes.len());
    let mut map: HashMap<Vec<u32>, u32> = HashMap::new();
    let mut levels = Vec::new();
    let mut codes = Vec::with_capacity(n);
    let mut key = Vec::with_capacity(parts.len());
    for i in 0..n {
        key.clear();
        key.extend(parts.iter().map(|p| p.codes[i]));
        if key.contains(&Factor::MISSING) {
            codes.push(Factor::MISSING);
            continue;
        }
        let next = map.len() as u32;
        let code = *map.entry(key.clone()).or_insert_with(|| {
            levels.push(
                parts
                    .iter()
                    .zip(&key)
                    .map(|(p, c)| p.levels[*c as usize].as_str())
                    .collect::<Vec<_>>()
                    .join("^"),
            );
            next
        });
        codes.push(code);
    }
    Factor { codes, levels }
}

/// Re-code `codes` (each below `n_levels`) on the kept rows to dense 0..L in first-appearance
/// order. Returns (codes, L). **Complexity**: O(rows + n_levels), no hashing.
fn compact_codes(codes: &[u32], n_levels: usize, rows: &[usize]) -> (Vec<u32>, usize) {
    let mut map = vec![u32::MAX; n_levels];
    let mut next = 0u32;
    let out = rows
        .iter()
        .map(|&i| {
            let m = &mut map[codes[i] as usize];
            if *m == u32::MAX {
                *m = next;
                next += 1;
            }
            *m
        })
        .collect();
    (out, next as usize)
}

fn grouping(frame: &Frame, vars: &[String]) -> Result<Factor> {
    let parts: Vec<Factor> = vars
        .iter()
        .map(|v| Ok(frame.column(v)?.factorize()))
        .collect::<Result<_>>()?;
    Ok(if parts.len() == 1 {
        parts.into_iter().next().expect("one part")
    } else {
        combine_factors(&parts)
    })
}

impl Design {
    /// Build the estimation sample.
    ///
    /// **Errors**: [`Error::ColumnNotFound`] for any unknown column (outcome, terms, fixed
    /// effects, cluster, weights, subset); [`Error::Parse`] for a text column used as a number;
    /// [`Error::Estimation`] when no observation is left.
    pub fn build(frame: &Frame, formula: &Formula, opts: &DesignOptions) -> Result<Design> {
        let n = frame.n_rows();
        // Check every name first so the user sees the first unknown column, whatever it is.
        for v in formula.vars() {
            frame.index_of(&v)?;
        }
        for v in opts.cluster.iter().chain(&opts.weights) {
            frame.index_of(v)?;
        }
        if opts.cluster.len() == 2 && opts.cluster[0] == opts.cluster[1] {
            return Err(Error::usage(format!(
                "--cluster names \"{}\" twice; two-way clustering needs two different variables",
                opts.cluster[0]
            )));
        }
        if let Some(t) = formula
            .terms
            .iter()
            .chain(formula.iv.iter().flat_map(|iv| iv.endogenous.iter()))
            .find(|t| t.label() == formula.outcome_label)
        {
            return Err(Error::Formula {
                formula: formula.text.clone(),
                position: 1,
                message: format!("the outcome \"{}\" also appears as a regressor", t.label()),
            });
        }
        let mut keep = match &opts.subset {
            Some(s) => Subset::parse(s)?.evaluate(frame)?,
            None => vec![true; n],
        };
        let mut removed = Removed {
            subset: keep.iter().filter(|k| !**k).count(),
            ..Default::default()
        };
        if let Some(group) = &opts.group {
            assert_eq!(group.len(), n, "group mask has one entry per row");
            for (k, g) in keep.iter_mut().zip(group) {
                if *k && !*g {
                    *k = false;
                    removed.other_groups += 1;
                }
            }
        }

        let y_all = formula
            .outcome
            .eval_cow(n, &|name: &str| frame.numeric(name))?;
        let terms = evaluate_terms(frame, &formula.terms)?;
        let (endog, instr) = match &formula.iv {
            Some(iv) => (
                evaluate_terms(frame, &iv.endogenous)?,
                evaluate_terms(frame, &iv.instruments)?,
            ),
            None => (Vec::new(), Vec::new()),
        };
        let fe_factors: Vec<Factor> = formula
            .fixed_effects
            .iter()
            .map(|fe| grouping(frame, &fe.vars))
            .collect::<Result<_>>()?;
        let cluster_factors: Vec<Factor> = opts
            .cluster
            .iter()
            .map(|c| grouping(frame, std::slice::from_ref(c)))
            .collect::<Result<_>>()?;
        let weights_all = match &opts.weights {
            Some(w) => Some(frame.numeric(w)?.to_vec()),
            None => None,
        };

        // Missing-value mask, one column at a time.
        let mut missing: Vec<bool> = y_all.iter().map(|v| v.is_nan()).collect();
        let mark_nan = |missing: &mut [bool], values: &[f64]| {
            missing
                .iter_mut()
                .zip(values)
                .for_each(|(m, v)| *m |= v.is_nan())
        };
        let mark_code = |missing: &mut [bool], codes: &[u32]| {
            missing
                .iter_mut()
                .zip(codes)
                .for_each(|(m, c)| *m |= *c == Factor::MISSING)
        };
        for t in terms.iter().chain(&endog).chain(&instr) {
            match t {
                Evaluated::Num { values, .. } => mark_nan(&mut missing, values),
                Evaluated::Factor { factor, .. } => mark_code(&mut missing, &factor.codes),
            }
        }
        for f in fe_factors.iter().chain(&cluster_factors) {
            mark_code(&mut missing, &f.codes);
        }
        if let Some(w) = &weights_all {
            mark_nan(&mut missing, w);
        }
        for (k, m) in keep.iter_mut().zip(&missing) {
            if *k && *m {
                *k = false;
                removed.missing += 1;
            }
        }
        drop(missing);
        if let Some(w) = &weights_all {
            for (k, wi) in keep.iter_mut().zip(w) {
                if *k && *wi <= 0.0 {
                    *k = false;
                    removed.nonpositive_weight += 1;
                }
            }
        }
        if !opts.keep_singletons && !fe_factors.is_empty() {
            let codes: Vec<Vec<u32>> = fe_factors.iter().map(|f| f.codes.clone()).collect();
            let levels: Vec<usize> = fe_factors.iter().map(|f| f.levels.len()).collect();
            removed.singletons = drop_singletons(&codes, &levels, &mut keep);
        }
        let rows: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
        let n_obs = rows.len();
        if n_obs == 0 {
            return Err(Error::estimation(format!(
                "no observations left (of {n}: {} outside the subset, {} with missing values, {} singletons)",
                removed.subset, removed.missing, removed.singletons
            )));
        }

        let all_rows = n_obs == n;
        let gather = |v: &[f64], out: &mut Vec<f64>| {
            if all_rows {
                out.extend_from_slice(v)
            } else {
                out.extend(rows.iter().map(|&i| v[i]))
            }
        };
        let mut y = Vec::with_capacity(n_obs);
        gather(&y_all, &mut y);

        let intercept = formula.intercept && formula.fixed_effects.is_empty();
        let mut x = Block::default();
        if intercept {
            x.names.push("(Intercept)".into());
            x.data.extend(std::iter::repeat_n(1.0, n_obs));
        }
        let mut too_many: Option<(String, usize)> = None;
        let mut fill = |block: &mut Block, evaluated: &[Evaluated]| {
            for t in evaluated {
                match t {
                    Evaluated::Num { label, values } => {
                        block.names.push(label.clone());
                        gather(values, &mut block.data);
                    }
                    Evaluated::Factor {
                        var,
                        reference,
                        factor,
                    } => {
                        // Levels present in the sample, in level order.
                        let mut present = vec![false; factor.levels.len()];
                        rows.iter()
                            .for_each(|&i| present[factor.codes[i] as usize] = true);
                        let levels: Vec<usize> =
                            (0..factor.levels.len()).filter(|&l| present[l]).collect();
                        if levels.len() > MAX_DUMMIES {
                            too_many = Some((var.clone(), levels.len()));
                            continue;
                        }
                        let reference = reference
                            .as_ref()
                            .and_then(|r| factor.levels.iter().position(|l| l == r))
                            .or_else(|| levels.first().copied());
                        for l in levels {
                            if Some(l) == reference {
                                continue;
                            }
                            block.names.push(format!("{var}::{}", factor.levels[l]));
                            block.data.extend(
                                rows.iter()
                                    .map(|&i| f64::from(u8::from(factor.codes[i] as usize == l))),
                            );
                        }
                    }
                }
            }
        };
        fill(&mut x, &terms);
        let mut endogenous = Block::default();
        fill(&mut endogenous, &endog);
        let mut instruments = Block::default();
        fill(&mut instruments, &instr);
        if let Some((var, levels)) = too_many {
            return Err(Error::estimation(format!(
                "i({var}) would create {levels} dummies (more than {MAX_DUMMIES}); absorb it as a fixed effect instead: \"... | {var}\""
            )));
        }

        for t in terms.iter().chain(&endog).chain(&instr) {
            if let Evaluated::Factor {
                var,
                reference: Some(r),
                factor,
                ..
            } = t
            {
                if !factor.levels.contains(r) {
                    return Err(Error::Schema {
                        path: frame.source.clone(),
                        message: format!("column \"{var}\" has no level \"{r}\" (ref = \"{r}\")"),
                    });
                }
            }
        }

        let mut fixed_effects = FixedEffects::default();
        for (spec, f) in formula.fixed_effects.iter().zip(&fe_factors) {
            let (codes, levels) = compact_codes(&f.codes, f.levels.len(), &rows);
            fixed_effects.names.push(spec.label.clone());
            fixed_effects.codes.push(codes);
            fixed_effects.n_levels.push(levels);
        }
        let mut clusters = Vec::new();
        let mut n_clusters = Vec::new();
        for f in &cluster_factors {
            let (codes, levels) = compact_codes(&f.codes, f.levels.len(), &rows);
            clusters.push(codes);
            n_clusters.push(levels);
        }
        for (name, g) in opts.cluster.iter().zip(&n_clusters) {
            if *g < 2 {
                return Err(Error::estimation(format!(
                    "clustering by \"{name}\" needs at least 2 clusters; the estimation sample has {g}"
                )));
            }
        }
        // Analytic weights are normalized to mean 1 (Stata's aweights sum to n): estimates and
        // standard errors do not change, RMSE and RSS become invariant to the weights' scale,
        // and huge weights cannot overflow.
        let weights = weights_all.map(|w| {
            let mut out = Vec::with_capacity(n_obs);
            gather(&w, &mut out);
            let max = out.iter().fold(0.0f64, |m, v| m.max(*v));
            out.iter_mut().for_each(|v| *v /= max);
            let mean = out.iter().sum::<f64>() / n_obs as f64;
            out.iter_mut().for_each(|v| *v /= mean);
            out
        });
        for (block, what) in [
            (&x, "regressor"),
            (&endogenous, "endogenous variable"),
            (&instruments, "instrument"),
        ] {
            for (j, name) in block.names.iter().enumerate() {
                let max = block
                    .col(j, n_obs)
                    .iter()
                    .fold(0.0f64, |m, v| m.max(v.abs()));
                if max > 1e150 {
                    return Err(Error::estimation(format!(
                        "{what} \"{name}\" has values up to {max:.1e}, too large to square in floating point; rescale it"
                    )));
                }
            }
        }
        if y.iter().any(|v| v.abs() > 1e150) {
            return Err(Error::estimation(format!(
                "outcome \"{}\" has values too large to square in floating point; rescale it",
                formula.outcome_label
            )));
        }
        Ok(Design {
            n_obs,
            outcome: formula.outcome_label.clone(),
            y,
            x,
            endogenous,
            instruments,
            fixed_effects,
            cluster_names: opts.cluster.clone(),
            clusters,
            n_clusters,
            weights,
            removed,
            rows,
            intercept,
        })
    }
}
