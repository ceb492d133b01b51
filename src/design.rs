//! The estimation sample: evaluates a [`Formula`] on a [`Frame`], applies the subset, the
//! missing-value mask and singleton removal, and returns contiguous column-major buffers.
//!
//! One exclusion mask covers outcome, regressors, endogenous variables, instruments, fixed
//! effects, cluster variables and weights. Rows removed are counted by reason in [`Removed`].

use std::borrow::Cow;
use std::collections::HashMap;

use rayon::prelude::*;

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

/// Where a column of the design comes from.
enum Source<'s> {
    /// A numeric variable on all input rows.
    Num(&'s [f64]),
    /// The dummy of one level of a factor (codes on all input rows).
    Dummy(&'s [u32], u32),
    /// The intercept.
    Ones,
}

/// Which column of a block comes from where (the copies are made by [`fill_block`]); dummies
/// for the levels of `i()` factors present in `rows`. A factor with more than
/// [`MAX_DUMMIES`] levels is skipped and reported in `too_many`.
fn plan<'s>(
    evaluated: &'s [Evaluated<'_>],
    rows: &[usize],
    names: &mut Vec<String>,
    too_many: &mut Option<(String, usize)>,
) -> Vec<Source<'s>> {
    let mut sources = Vec::new();
    for t in evaluated {
        match t {
            Evaluated::Num { label, values } => {
                names.push(label.clone());
                sources.push(Source::Num(&values[..]));
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
                let levels: Vec<usize> = (0..factor.levels.len()).filter(|&l| present[l]).collect();
                if levels.len() > MAX_DUMMIES {
                    *too_many = Some((var.clone(), levels.len()));
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
                    names.push(format!("{var}::{}", factor.levels[l]));
                    sources.push(Source::Dummy(&factor.codes, l as u32));
                }
            }
        }
    }
    sources
}

/// Rows per block of the parallel missing-value mask.
const MASK_BLOCK: usize = 1 << 16;

/// `src` on the estimation sample (`rows`, or every row when `None`) into `out`.
fn copy_rows(src: &[f64], rows: Option<&[usize]>, out: &mut [f64]) {
    match rows {
        None => out.copy_from_slice(src),
        Some(r) => out.iter_mut().zip(r).for_each(|(o, &i)| *o = src[i]),
    }
}

/// Copy the planned columns onto the estimation sample (`rows`, or every row when `None`),
/// columns in parallel.
fn fill_block(
    names: Vec<String>,
    sources: &[Source],
    rows: Option<&[usize]>,
    n_obs: usize,
) -> Block {
    let mut data = vec![0.0; n_obs * sources.len()];
    data.par_chunks_mut(n_obs.max(1))
        .zip(sources.par_iter())
        .for_each(|(out, source)| match (source, rows) {
            (Source::Num(v), _) => copy_rows(v, rows, out),
            (Source::Dummy(c, l), None) => out
                .iter_mut()
                .zip(c.iter())
                .for_each(|(o, ci)| *o = f64::from(u8::from(ci == l))),
            (Source::Dummy(c, l), Some(r)) => out
                .iter_mut()
                .zip(r)
                .for_each(|(o, &i)| *o = f64::from(u8::from(c[i] == *l))),
            (Source::Ones, _) => out.fill(1.0),
        });
    Block { names, data }
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
        // Each distinct grouping (fixed effects, clusters) is coded once, in parallel: a cluster
        // variable that is also a fixed effect shares its codes.
        let mut keys: Vec<Vec<String>> = Vec::new();
        let mut key_of = |vars: &[String]| match keys.iter().position(|k| k == vars) {
            Some(i) => i,
            None => {
                keys.push(vars.to_vec());
                keys.len() - 1
            }
        };
        let fe_key: Vec<usize> = formula
            .fixed_effects
            .iter()
            .map(|fe| key_of(&fe.vars))
            .collect();
        let cluster_key: Vec<usize> = opts
            .cluster
            .iter()
            .map(|c| key_of(std::slice::from_ref(c)))
            .collect();
        let groupings: Vec<Factor> = keys
            .par_iter()
            .map(|k| grouping(frame, k))
            .collect::<Result<_>>()?;
        let fe_factors: Vec<&Factor> = fe_key.iter().map(|&i| &groupings[i]).collect();
        let weights_all = match &opts.weights {
            Some(w) => Some(frame.numeric(w)?.to_vec()),
            None => None,
        };

        // Missing-value mask: every column over blocks of rows, blocks in parallel.
        let mut nums: Vec<&[f64]> = vec![&y_all];
        let mut codes: Vec<&[u32]> = groupings.iter().map(|f| &f.codes[..]).collect();
        for t in terms.iter().chain(&endog).chain(&instr) {
            match t {
                Evaluated::Num { values, .. } => nums.push(values),
                Evaluated::Factor { factor, .. } => codes.push(&factor.codes),
            }
        }
        if let Some(w) = &weights_all {
            nums.push(w);
        }
        let mut missing = vec![false; n];
        missing
            .par_chunks_mut(MASK_BLOCK)
            .enumerate()
            .for_each(|(b, m)| {
                let lo = b * MASK_BLOCK;
                let hi = lo + m.len();
                for v in &nums {
                    m.iter_mut()
                        .zip(&v[lo..hi])
                        .for_each(|(mi, x)| *mi |= x.is_nan());
                }
                for c in &codes {
                    m.iter_mut()
                        .zip(&c[lo..hi])
                        .for_each(|(mi, x)| *mi |= *x == Factor::MISSING);
                }
            });
        drop((nums, codes));
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

        let rows_or_all = if n_obs == n { None } else { Some(&rows[..]) };
        let mut y = vec![0.0; n_obs];
        copy_rows(&y_all, rows_or_all, &mut y);

        let intercept = formula.intercept && formula.fixed_effects.is_empty();
        let mut too_many: Option<(String, usize)> = None;
        let mut x_names = Vec::new();
        let mut x_sources = Vec::new();
        if intercept {
            x_names.push("(Intercept)".to_string());
            x_sources.push(Source::Ones);
        }
        x_sources.extend(plan(&terms, &rows, &mut x_names, &mut too_many));
        let mut endog_names = Vec::new();
        let endog_sources = plan(&endog, &rows, &mut endog_names, &mut too_many);
        let mut instr_names = Vec::new();
        let instr_sources = plan(&instr, &rows, &mut instr_names, &mut too_many);
        let x = fill_block(x_names, &x_sources, rows_or_all, n_obs);
        let endogenous = fill_block(endog_names, &endog_sources, rows_or_all, n_obs);
        let instruments = fill_block(instr_names, &instr_sources, rows_or_all, n_obs);
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

        // Codes on the estimation sample, once per distinct grouping, in parallel.
        let mut compact: Vec<(Vec<u32>, usize)> = groupings
            .par_iter()
            .map(|f| compact_codes(&f.codes, f.levels.len(), &rows))
            .collect();
        let mut uses = vec![0usize; compact.len()];
        fe_key
            .iter()
            .chain(&cluster_key)
            .for_each(|&i| uses[i] += 1);
        let mut take = |i: usize| {
            uses[i] -= 1;
            if uses[i] == 0 {
                std::mem::take(&mut compact[i])
            } else {
                compact[i].clone()
            }
        };
        let mut fixed_effects = FixedEffects::default();
        for (spec, &i) in formula.fixed_effects.iter().zip(&fe_key) {
            let (codes, levels) = take(i);
            fixed_effects.names.push(spec.label.clone());
            fixed_effects.codes.push(codes);
            fixed_effects.n_levels.push(levels);
        }
        let mut clusters = Vec::new();
        let mut n_clusters = Vec::new();
        for &i in &cluster_key {
            let (codes, levels) = take(i);
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
            let mut out = vec![0.0; n_obs];
            copy_rows(&w, rows_or_all, &mut out);
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
            let maxes: Vec<f64> = block
                .data
                .par_chunks(n_obs)
                .map(|c| c.iter().fold(0.0f64, |m, v| m.max(v.abs())))
                .collect();
            for (name, &max) in block.names.iter().zip(&maxes) {
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
