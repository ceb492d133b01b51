//! The estimation sample: evaluates a [`Formula`] on a [`Frame`], applies the subset, the
//! missing-value mask and singleton removal, and returns one contiguous `f64` buffer per column
//! ([`Design::build_owned`] moves the input columns in rather than copying them).
//!
//! One exclusion mask covers outcome, regressors, endogenous variables, instruments, fixed
//! effects, cluster variables and weights. Rows removed are counted by reason in [`Removed`].

use std::collections::HashMap;

use rayon::prelude::*;

use crate::absorb::{drop_singletons, FixedEffects};
use crate::data::{Factor, Frame};
use crate::error::{Error, Result};
use crate::formula::{Expr, Formula, Term};
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

/// A block of named columns: `columns[j]` has n_obs values (one buffer per column, so that a
/// column of the input frame can be moved in without a copy).
#[derive(Debug, Clone, Default)]
pub struct Block {
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
}

impl Block {
    /// Column `j`, of length n_obs.
    pub fn col(&self, j: usize) -> &[f64] {
        &self.columns[j]
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// True when the block has no columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The columns one after another (n_obs × len, column-major), for estimators that work
    /// on one buffer.
    pub fn concat(&self) -> Vec<f64> {
        self.columns.concat()
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

/// A numeric variable on all input rows.
enum Values {
    /// Column `index` of the frame (a numeric column), not copied.
    Column(usize),
    /// Computed from the frame (a transformation or a product).
    Computed(Vec<f64>),
}

impl Values {
    /// Evaluate `expr`: a plain variable stays a reference to its column.
    fn of(frame: &Frame, expr: &Expr) -> Result<Values> {
        match expr {
            Expr::Var(v) => Values::column(frame, v),
            _ => Ok(Values::Computed(
                expr.eval(frame.n_rows(), &|name: &str| frame.numeric(name))?,
            )),
        }
    }

    /// The numeric column `name`. **Errors**: as [`Frame::numeric`].
    fn column(frame: &Frame, name: &str) -> Result<Values> {
        frame.numeric(name)?;
        Ok(Values::Column(frame.index_of(name)?))
    }

    fn slice<'a>(&'a self, frame: &'a Frame) -> &'a [f64] {
        match self {
            Values::Column(i) => frame.numeric_at(*i),
            Values::Computed(v) => v,
        }
    }
}

enum Evaluated {
    Num {
        label: String,
        values: Values,
    },
    Factor {
        var: String,
        reference: Option<String>,
        factor: Factor,
    },
}

fn evaluate_terms(frame: &Frame, terms: &[Term]) -> Result<Vec<Evaluated>> {
    let n = frame.n_rows();
    let lookup = |name: &str| frame.numeric(name);
    terms
        .iter()
        .map(|t| match t {
            Term::Numeric { label, factors } => {
                // A plain variable refers to the frame's column (moved or copied later).
                let values = match factors.as_slice() {
                    [f] => Values::of(frame, f)?,
                    _ => {
                        let mut values = vec![1.0; n];
                        for f in factors {
                            let v = f.eval_cow(n, &lookup)?;
                            values.iter_mut().zip(v.iter()).for_each(|(a, b)| *a *= b);
                        }
                        Values::Computed(values)
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
///
/// When every row is kept (`all_rows`) and the levels already first appear in the order
/// 0, 1, 2, … (a panel sorted by the variable), the codes are returned as they are: the same
/// result, without a copy.
fn compact_codes(
    codes: Vec<u32>,
    n_levels: usize,
    rows: &[usize],
    all_rows: bool,
) -> (Vec<u32>, usize) {
    if all_rows {
        let mut next = 0u32;
        let in_order = codes.iter().all(|&c| {
            if c == next {
                next += 1;
            }
            c < next
        });
        if in_order {
            return (codes, next as usize);
        }
    }
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

/// Whether `v` holds a NaN, and its largest |value| (NaN aside), in one pass with eight
/// independent lanes (vectorizable; a single running maximum would be a dependency chain).
fn nan_and_largest(v: &[f64]) -> (bool, f64) {
    let mut nan = [false; 8];
    let mut big = [0.0f64; 8];
    let chunks = v.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            let a = c[k].abs();
            nan[k] |= a.is_nan();
            big[k] = if a > big[k] { a } else { big[k] };
        }
    }
    for (k, x) in tail.iter().enumerate() {
        let a = x.abs();
        nan[k] |= a.is_nan();
        big[k] = if a > big[k] { a } else { big[k] };
    }
    (
        nan.iter().any(|b| *b),
        big.iter().fold(0.0f64, |m, b| m.max(*b)),
    )
}

/// Where a column of the design comes from.
enum Source<'s> {
    /// A numeric variable on all input rows.
    Num(&'s Values),
    /// The dummy of one level of a factor (codes on all input rows).
    Dummy(&'s [u32], u32),
    /// The intercept.
    Ones,
}

/// Which column of a block comes from where (the columns are made by [`Input::fill`]);
/// dummies for the levels of `i()` factors present in `rows`. A factor with more than
/// [`MAX_DUMMIES`] levels is skipped and reported in `too_many`.
fn plan<'s>(
    evaluated: &'s [Evaluated],
    rows: &[usize],
    names: &mut Vec<String>,
    too_many: &mut Option<(String, usize)>,
) -> Vec<Source<'s>> {
    let mut sources = Vec::new();
    for t in evaluated {
        match t {
            Evaluated::Num { label, values } => {
                names.push(label.clone());
                sources.push(Source::Num(values));
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

/// Values beyond this magnitude cannot be squared and summed in floating point: a model
/// whose sample holds one is refused (rescale the variable).
const TOO_LARGE: f64 = 1e150;

/// `src` on the estimation sample (`rows`, or every row when `None`) into `out`.
fn copy_rows(src: &[f64], rows: Option<&[usize]>, out: &mut [f64]) {
    match rows {
        None => out.copy_from_slice(src),
        Some(r) => out.iter_mut().zip(r).for_each(|(o, &i)| *o = src[i]),
    }
}

/// One column of the design, before it is put on the estimation sample.
enum Pending<'s> {
    /// A frame column the design may own: moved when every row is kept, gathered and freed
    /// otherwise.
    Owned(Vec<f64>),
    /// Values that stay where they are: copied.
    Borrowed(&'s [f64]),
    Dummy(&'s [u32], u32),
    Ones,
}

impl Pending<'_> {
    /// The column on the estimation sample (`rows`, or every row when `None`).
    fn on_sample(self, rows: Option<&[usize]>, n_obs: usize) -> Vec<f64> {
        match (self, rows) {
            (Pending::Owned(v), None) => v,
            (Pending::Owned(v), Some(_)) => Pending::Borrowed(&v).on_sample(rows, n_obs),
            (Pending::Borrowed(v), _) => {
                let mut out = vec![0.0; n_obs];
                copy_rows(v, rows, &mut out);
                out
            }
            (Pending::Dummy(c, l), None) => {
                c.iter().map(|ci| f64::from(u8::from(ci == &l))).collect()
            }
            (Pending::Dummy(c, l), Some(r)) => {
                r.iter().map(|&i| f64::from(u8::from(c[i] == l))).collect()
            }
            (Pending::Ones, _) => vec![1.0; n_obs],
        }
    }
}

/// The frame a design is built from: borrowed (its columns are copied onto the sample) or
/// owned (a numeric column used once by the model is moved into the design when no row is
/// dropped, so the input is not held twice).
enum Input<'f> {
    Borrowed(&'f Frame),
    Owned(Frame),
}

impl Input<'_> {
    fn frame(&self) -> &Frame {
        match self {
            Input::Borrowed(f) => f,
            Input::Owned(f) => f,
        }
    }

    /// Put `sources` on the estimation sample, columns in parallel. When the frame is owned,
    /// numeric columns that `uses` counts once are taken out of it (and freed once gathered).
    fn fill(
        &mut self,
        sources: &[&Source],
        uses: &[usize],
        rows: Option<&[usize]>,
        n_obs: usize,
    ) -> Vec<Vec<f64>> {
        let mut taken: Vec<Option<Vec<f64>>> = vec![None; uses.len()];
        if let Input::Owned(frame) = self {
            for s in sources {
                if let Source::Num(Values::Column(i)) = s {
                    if uses[*i] == 1 {
                        taken[*i] = frame.take_numeric(*i);
                    }
                }
            }
        }
        let frame = self.frame();
        let pending: Vec<Pending> = sources
            .iter()
            .map(|s| match s {
                Source::Num(Values::Column(i)) => match taken[*i].take() {
                    Some(v) => Pending::Owned(v),
                    None => Pending::Borrowed(frame.numeric_at(*i)),
                },
                Source::Num(Values::Computed(v)) => Pending::Borrowed(v),
                Source::Dummy(c, l) => Pending::Dummy(c, *l),
                Source::Ones => Pending::Ones,
            })
            .collect();
        pending
            .into_par_iter()
            .map(|p| p.on_sample(rows, n_obs))
            .collect()
    }
}

/// Codes of a fixed effect or cluster on all input rows, and its number of levels; several
/// variables (`fe1^fe2`) are combined.
fn grouping(frame: &Frame, vars: &[String]) -> Result<(Vec<u32>, usize)> {
    if let [v] = vars {
        return Ok(frame.column(v)?.group_codes());
    }
    let parts: Vec<Factor> = vars
        .iter()
        .map(|v| Ok(frame.column(v)?.factorize()))
        .collect::<Result<_>>()?;
    let f = combine_factors(&parts);
    let n = f.levels.len();
    Ok((f.codes, n))
}

impl Design {
    /// Build the estimation sample from a borrowed frame (its columns are copied).
    ///
    /// **Errors**: [`Error::ColumnNotFound`] for any unknown column (outcome, terms, fixed
    /// effects, cluster, weights, subset); [`Error::Parse`] for a text column used as a number;
    /// [`Error::Estimation`] when no observation is left.
    pub fn build(frame: &Frame, formula: &Formula, opts: &DesignOptions) -> Result<Design> {
        Design::build_from(Input::Borrowed(frame), formula, opts)
    }

    /// [`Design::build`] consuming the frame: a numeric column the model uses once is moved
    /// into the design when every row is kept (no copy), and freed as soon as it is gathered
    /// otherwise, so the peak memory holds the input about once. Same results and errors.
    pub fn build_owned(frame: Frame, formula: &Formula, opts: &DesignOptions) -> Result<Design> {
        Design::build_from(Input::Owned(frame), formula, opts)
    }

    fn build_from(mut input: Input, formula: &Formula, opts: &DesignOptions) -> Result<Design> {
        let frame = input.frame();
        let n = frame.n_rows();
        let source = frame.source.clone();
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
            .find(|t| {
                // Same text, or the same expression written differently (`(y)`, `I(y)`,
                // `log( y )`).
                t.label() == formula.outcome_label
                    || matches!(t, Term::Numeric { factors, .. } if factors[..] == [formula.outcome.clone()])
            })
        {
            return Err(Error::Formula {
                formula: formula.text.clone(),
                position: 1,
                message: if t.label() == formula.outcome_label {
                    format!("the outcome \"{}\" also appears as a regressor", t.label())
                } else {
                    format!(
                        "the outcome \"{}\" also appears as a regressor (written \"{}\")",
                        formula.outcome_label,
                        t.label()
                    )
                },
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

        let y_all = Values::of(frame, &formula.outcome)?;
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
        let groupings: Vec<(Vec<u32>, usize)> = keys
            .par_iter()
            .map(|k| grouping(frame, k))
            .collect::<Result<_>>()?;
        let fe_groupings: Vec<&(Vec<u32>, usize)> = fe_key.iter().map(|&i| &groupings[i]).collect();
        let weights_all = match &opts.weights {
            Some(w) => Some(Values::column(frame, w)?),
            None => None,
        };

        // Missing-value mask: every column over blocks of rows, blocks in parallel. The same
        // pass finds the largest |value| of the outcome and the regressors over all rows, so
        // that the check for values too large to square (below) only runs when one is.
        let mut nums: Vec<&[f64]> = vec![y_all.slice(frame)];
        let mut codes: Vec<&[u32]> = groupings.iter().map(|(c, _)| &c[..]).collect();
        for t in terms.iter().chain(&endog).chain(&instr) {
            match t {
                Evaluated::Num { values, .. } => nums.push(values.slice(frame)),
                Evaluated::Factor { factor, .. } => codes.push(&factor.codes),
            }
        }
        let checked = nums.len();
        if let Some(w) = &weights_all {
            nums.push(w.slice(frame));
        }
        let mut missing = vec![false; n];
        let largest = missing
            .par_chunks_mut(MASK_BLOCK)
            .enumerate()
            .map(|(b, m)| {
                let lo = b * MASK_BLOCK;
                let hi = lo + m.len();
                let mut largest = 0.0f64;
                for (j, v) in nums.iter().enumerate() {
                    let block = &v[lo..hi];
                    // One branch-free pass for "any NaN" and the largest |x| (NaN compares
                    // false, so it never becomes the largest); rows are marked only in a block
                    // that has a NaN.
                    let (nan, big) = nan_and_largest(block);
                    if nan {
                        m.iter_mut()
                            .zip(block)
                            .for_each(|(mi, x)| *mi |= x.is_nan());
                    }
                    if j < checked {
                        largest = largest.max(big);
                    }
                }
                for c in &codes {
                    m.iter_mut()
                        .zip(&c[lo..hi])
                        .for_each(|(mi, x)| *mi |= *x == Factor::MISSING);
                }
                largest
            })
            .reduce(|| 0.0, f64::max);
        drop((nums, codes));
        for (k, m) in keep.iter_mut().zip(&missing) {
            if *k && *m {
                *k = false;
                removed.missing += 1;
            }
        }
        drop(missing);
        if let Some(w) = &weights_all {
            for (k, wi) in keep.iter_mut().zip(w.slice(frame)) {
                if *k && *wi <= 0.0 {
                    *k = false;
                    removed.nonpositive_weight += 1;
                }
            }
        }
        if !opts.keep_singletons && !fe_groupings.is_empty() {
            let codes: Vec<&[u32]> = fe_groupings.iter().map(|(c, _)| &c[..]).collect();
            let levels: Vec<usize> = fe_groupings.iter().map(|(_, l)| *l).collect();
            removed.singletons = drop_singletons(&codes, &levels, &mut keep);
        }
        let rows: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
        let n_obs = rows.len();
        if n_obs == 0 {
            let mut why = vec![
                format!("{} outside the subset", removed.subset),
                format!("{} with missing values", removed.missing),
                format!("{} singletons", removed.singletons),
            ];
            if opts.group.is_some() {
                why.push(format!("{} in other split groups", removed.other_groups));
            }
            if opts.weights.is_some() {
                why.push(format!(
                    "{} with a zero or negative weight",
                    removed.nonpositive_weight
                ));
            }
            return Err(Error::estimation(format!(
                "no observations left (of {n}: {})",
                why.join(", ")
            )));
        }

        let rows_or_all = if n_obs == n { None } else { Some(&rows[..]) };
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
        // y, X, endogenous, instruments and weights on the sample, in one parallel fill.
        let y_source = Source::Num(&y_all);
        let w_source = weights_all.as_ref().map(Source::Num);
        let all: Vec<&Source> = std::iter::once(&y_source)
            .chain(&x_sources)
            .chain(&endog_sources)
            .chain(&instr_sources)
            .chain(&w_source)
            .collect();
        let mut uses = vec![0usize; frame.names.len()];
        for s in &all {
            if let Source::Num(Values::Column(i)) = s {
                uses[*i] += 1;
            }
        }
        let mut filled = input.fill(&all, &uses, rows_or_all, n_obs).into_iter();
        // An owned frame's other columns (fixed effects and clusters, coded above; columns the
        // model does not use) are freed before the codes are compacted.
        drop(input);
        let mut next = |count: usize| -> Vec<Vec<f64>> { filled.by_ref().take(count).collect() };
        let y = next(1).pop().expect("the outcome is filled");
        let x = Block {
            names: x_names,
            columns: next(x_sources.len()),
        };
        let endogenous = Block {
            names: endog_names,
            columns: next(endog_sources.len()),
        };
        let instruments = Block {
            names: instr_names,
            columns: next(instr_sources.len()),
        };
        let weights_sample = next(usize::from(w_source.is_some())).pop();
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
                        path: source.clone(),
                        message: format!("column \"{var}\" has no level \"{r}\" (ref = \"{r}\")"),
                    });
                }
            }
        }

        // Codes on the estimation sample, once per distinct grouping, in parallel.
        drop(fe_groupings);
        let all_rows = n_obs == n;
        let mut compact: Vec<(Vec<u32>, usize)> = groupings
            .into_par_iter()
            .map(|(c, l)| compact_codes(c, l, &rows, all_rows))
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
        let weights = weights_sample.map(|mut out| {
            let max = out.iter().fold(0.0f64, |m, v| m.max(*v));
            out.iter_mut().for_each(|v| *v /= max);
            let mean = out.iter().sum::<f64>() / n_obs as f64;
            out.iter_mut().for_each(|v| *v /= mean);
            out
        });
        if largest > TOO_LARGE {
            // Some value somewhere is too large; find out whether one is in the sample.
            for (block, what) in [
                (&x, "regressor"),
                (&endogenous, "endogenous variable"),
                (&instruments, "instrument"),
            ] {
                let maxes: Vec<f64> = block
                    .columns
                    .par_iter()
                    .map(|c| c.iter().fold(0.0f64, |m, v| m.max(v.abs())))
                    .collect();
                for (name, &max) in block.names.iter().zip(&maxes) {
                    if max > TOO_LARGE {
                        return Err(Error::estimation(format!(
                            "{what} \"{name}\" has values up to {max:.1e}, too large to square in floating point; rescale it"
                        )));
                    }
                }
            }
            if y.iter().any(|v| v.abs() > TOO_LARGE) {
                return Err(Error::estimation(format!(
                    "outcome \"{}\" has values too large to square in floating point; rescale it",
                    formula.outcome_label
                )));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut for codes already in first-appearance order (every row kept) gives what
    /// the general re-coding gives, and codes out of that order still take the general path.
    #[test]
    fn compact_codes_shortcut_equals_the_general_path() {
        let all: Vec<usize> = (0..8).collect();
        for (codes, levels) in [
            (vec![0, 0, 1, 1, 2, 2, 3, 3], 4),
            (vec![0, 1, 0, 2, 1, 3, 3, 2], 4),
            (vec![2, 2, 0, 1, 1, 0, 3, 3], 4),
            (vec![0, 1, 1, 4, 4, 4, 2, 2], 6),
        ] {
            let fast = compact_codes(codes.clone(), levels, &all, true);
            let general = compact_codes(codes.clone(), levels, &all, false);
            assert_eq!(fast, general, "{codes:?}");
        }
        let (c, l) = compact_codes(vec![2, 2, 0, 1, 1, 0, 3, 3], 4, &all, true);
        assert_eq!((c, l), (vec![0, 0, 1, 2, 2, 1, 3, 3], 4));
    }
    use crate::data::Column;

    fn frame() -> Frame {
        let nan = f64::NAN;
        let mut f = Frame::new("mem");
        let cols: [(&str, Column); 6] = [
            ("firm", Column::Num(vec![1., 1., 2., 2., 3., 3., 4., 4.])),
            ("y", Column::Num(vec![1., 2., 3., 5., 8., 13., 21., 34.])),
            (
                "x",
                Column::Num(vec![0.5, 1.5, 0.2, 0.9, nan, 2.0, 1.1, 0.3]),
            ),
            ("z", Column::Num(vec![3., 1., 4., 1., 5., 9., 2., 6.])),
            ("w", Column::Num(vec![1., 2., 1., 2., 1., 2., 1., 2.])),
            (
                "g",
                Column::Str(
                    ["a", "b", "a", "b", "a", "b", "a", "b"]
                        .map(|s| Some(s.to_string()))
                        .to_vec(),
                ),
            ),
        ];
        for (name, col) in cols {
            f.names.push(name.into());
            f.columns.push(col);
        }
        f
    }

    fn assert_same(a: &Design, b: &Design) {
        assert_eq!(a.y, b.y);
        assert_eq!(a.x.names, b.x.names);
        assert_eq!(a.x.columns, b.x.columns);
        assert_eq!(a.endogenous.columns, b.endogenous.columns);
        assert_eq!(a.instruments.columns, b.instruments.columns);
        assert_eq!(a.weights, b.weights);
        assert_eq!(a.rows, b.rows);
        assert_eq!(a.removed, b.removed);
        assert_eq!(a.fixed_effects.codes, b.fixed_effects.codes);
        assert_eq!(a.clusters, b.clusters);
    }

    /// Moving the frame's columns into the design gives the same sample as copying them,
    /// with rows dropped (a missing x) or not, and with a column used twice (z as regressor
    /// and weights; y as outcome and inside a product).
    #[test]
    fn owned_and_borrowed_frames_give_the_same_design() {
        let opts = DesignOptions {
            weights: Some("z".into()),
            cluster: vec!["firm".into()],
            keep_singletons: true,
            ..Default::default()
        };
        for text in [
            "y ~ x + z + i(g) | firm",
            "y ~ z + w:y + log(w)",
            "y ~ z + w | firm | x ~ w:z",
            "log(y) ~ w + z",
        ] {
            let formula = Formula::parse(text).unwrap();
            let borrowed = Design::build(&frame(), &formula, &opts).unwrap();
            let owned = Design::build_owned(frame(), &formula, &opts).unwrap();
            assert_same(&borrowed, &owned);
        }
        // The missing x drops row 4 under the first formula only.
        let f = Formula::parse("y ~ x + z + i(g) | firm").unwrap();
        let d = Design::build_owned(frame(), &f, &opts).unwrap();
        assert_eq!(d.removed.missing, 1);
        assert_eq!(d.y, vec![1., 2., 3., 5., 13., 21., 34.]);
        assert_eq!(d.x.col(1), &[3., 1., 4., 1., 9., 2., 6.]);
        let f = Formula::parse("y ~ z + w").unwrap();
        let d = Design::build_owned(frame(), &f, &opts).unwrap();
        assert_eq!(d.n_obs, 8);
        assert_eq!(d.x.col(1), &[3., 1., 4., 1., 5., 9., 2., 6.]);
    }
}
