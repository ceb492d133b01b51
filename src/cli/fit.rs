//! `keju fit`: one regression.

use std::path::PathBuf;

use clap::Args;
use keju::absorb::{Algorithm, DemeanOptions};
use keju::estimate::glm::GlmAlgorithm;
use keju::estimate::split::{fit_split, render_text, SplitRule};
use keju::estimate::{fit_owned, FitOptions, Model};
use keju::formula::Formula;
use keju::report::text::first_stage_tables;
use keju::report::{render_fit, FitFormat};
use keju::subset::Subset;
use keju::vcov::{ClusterDf, FeRedundancy, FixefK, VcovKind};

/// Arguments of `keju fit`.
#[derive(Args, Debug)]
pub struct FitArgs {
    /// Model formula in fixest syntax: "y ~ x1 + x2 | fe1 + fe2", with an IV part for 2SLS:
    /// "y ~ exog | fe | endog ~ instruments". Functions log(), exp(),
    /// sqrt(), abs(), I(a^2); i(var) factor dummies; a:b products; fe1^fe2 combined fixed
    /// effects; `backticks` for names with spaces.
    pub formula: String,

    /// Data file: .csv/.txt/.tsv (UTF-8 or GBK, comma or tab, CSMAR layout), .xlsx/.xls,
    /// .dta or .parquet; see the Input flags.
    #[arg(long, short = 'd')]
    pub data: PathBuf,

    #[command(flatten)]
    pub input: super::input::LoadArgs,

    /// Estimator: ols (default; 2SLS when the formula has an IV part), probit or logit
    /// (maximum likelihood; outcome must be 0/1).
    #[arg(long, value_enum, default_value_t = Model::Ols)]
    pub model: Model,

    /// Fit the model once per group: a column (one group per level, as fixest's split=), a
    /// threshold rule "hhi > mean" / "formal > median by year" (statistic over the pooled
    /// estimation sample), or a condition "pc == 0" (it and its complement). Reports a test
    /// that the coefficient of --split-term is equal across groups (OLS).
    #[arg(long)]
    pub split: Option<String>,

    /// Term whose equality across split groups is tested (default: the first regressor).
    #[arg(long, requires = "split")]
    pub split_term: Option<String>,

    /// IV: print the first-stage regressions in full (text output; JSON always has them).
    #[arg(long)]
    pub first_stage: bool,

    /// Probit/logit: report average marginal effects with delta-method standard errors.
    #[arg(long)]
    pub margins: bool,

    /// Probit/logit maximization: newton (default; Newton-Raphson to a relative
    /// log-likelihood change below 1e-12) or r-irls (R glm.fit's IRLS, stopping at a relative
    /// deviance change of 1e-8, to reproduce R's printed numbers).
    #[arg(long, value_enum, default_value_t = GlmAlgorithm::Newton)]
    pub glm_algorithm: GlmAlgorithm,

    /// Variance: iid, hetero (HC1) or cluster (CR1). Default: cluster when --cluster is
    /// given, iid otherwise (as reghdfe).
    #[arg(long, value_enum)]
    pub vcov: Option<VcovKind>,

    /// Cluster variable(s), comma-separated; two names give two-way clustering. Implies
    /// --vcov cluster.
    #[arg(long, value_delimiter = ',')]
    pub cluster: Vec<String>,

    /// Which fixed-effect levels count in K for the small-sample factor: nonnested (default;
    /// reghdfe, fixest) skips fixed effects nested in a cluster; full counts all (lm, regress).
    #[arg(long, value_enum, default_value_t = FixefK::Nonnested)]
    pub fixef_k: FixefK,

    /// Redundant fixed-effect levels in K: firstpair (default; reghdfe) counts connected
    /// components of the first two fixed effects exactly; simple (pyfixest) assumes one per
    /// fixed effect after the first.
    #[arg(long, value_enum, default_value_t = FeRedundancy::Firstpair)]
    pub fe_redundancy: FeRedundancy,

    /// Two-way clustering: min (default; reghdfe, fixest) applies one G/(G-1) with the
    /// smaller G; conventional gives each term its own (R sandwich, cgmreg).
    #[arg(long, value_enum, default_value_t = ClusterDf::Min)]
    pub cluster_df: ClusterDf,

    /// Keep singleton groups (default: drop them iteratively, as reghdfe).
    #[arg(long)]
    pub keep_singletons: bool,

    /// Keep only rows where this is true, e.g. "year == 1995", "province != \"北京\"",
    /// "size > 20 & lev < 0.9".
    #[arg(long)]
    pub subset: Option<String>,

    /// Analytic weights column (also used in demeaning).
    #[arg(long)]
    pub weights: Option<String>,

    /// Demeaning tolerance, relative to each variable's standard deviation.
    #[arg(long, default_value_t = 1e-10)]
    pub tol: f64,

    /// Algorithm for two or more fixed effects: `schur` eliminates the fixed effect with the
    /// most levels exactly and solves the reduced system of the others (default); `iterative`
    /// is accelerated alternating projections, then preconditioned CG (as fixest/reghdfe).
    #[arg(long, value_enum, default_value_t = Algorithm::Schur)]
    pub demean_algorithm: Algorithm,

    /// Print wall time per phase (load, sample, demean, solve, vcov) to stderr.
    #[arg(long)]
    pub timings: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FitFormat::Text)]
    pub format: FitFormat,

    /// Write the output to this file instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

impl FitArgs {
    /// Convert into the library's options.
    pub fn options(&self) -> keju::Result<FitOptions> {
        if !(self.tol > 0.0 && self.tol < 1e-2) {
            return Err(keju::Error::usage("--tol must be in (0, 0.01)"));
        }
        Ok(FitOptions {
            vcov: self.vcov,
            cluster: self.cluster.iter().map(|c| c.trim().to_string()).collect(),
            fixef_k: self.fixef_k,
            fe_redundancy: self.fe_redundancy,
            cluster_df: self.cluster_df,
            keep_singletons: self.keep_singletons,
            subset: self.subset.clone(),
            weights: self.weights.clone(),
            demean: DemeanOptions {
                tol: self.tol,
                algorithm: self.demean_algorithm,
                ..DemeanOptions::default()
            },
            model: self.model,
            margins: self.margins,
            glm_algorithm: self.glm_algorithm,
            ..FitOptions::default()
        })
    }
}

/// The columns `keju fit` reads, without repeats: the formula's variables (outcome,
/// regressors, fixed effects, IV part), `--cluster`, `--weights`, and the columns of
/// `--subset` and `--split` (`--year-from` is added by the loader). Names not in the data are
/// kept, so that the fit reports them as unknown columns.
///
/// **Errors**: a `--subset` or `--split` that does not parse, reported before anything is
/// loaded (as without a projection: the data play no part in parsing them).
fn needed_columns(args: &FitArgs, formula: &Formula) -> keju::Result<Vec<String>> {
    let mut cols = formula.vars();
    cols.extend(args.cluster.iter().map(|c| c.trim().to_string()));
    cols.extend(args.weights.iter().cloned());
    if let Some(s) = &args.subset {
        cols.extend(Subset::parse(s)?.columns());
    }
    if let Some(rule) = &args.split {
        cols.extend(SplitRule::parse(rule)?.columns()?);
    }
    let mut seen = std::collections::HashSet::new();
    cols.retain(|c| seen.insert(c.clone()));
    Ok(cols)
}

/// Run `keju fit`.
pub fn run(args: &FitArgs) -> keju::Result<()> {
    let opts = args.options()?;
    opts.vcov_kind()?;
    let formula = Formula::parse(&args.formula)?;
    let t0 = std::time::Instant::now();
    // Only the columns the fit reads: a wide Parquet file loads a handful of its columns, and
    // a column keju cannot decode matters only when the model uses it.
    let frame = args
        .input
        .load_columns(&args.data, Some(needed_columns(args, &formula)?))?;
    let load_time = t0.elapsed().as_secs_f64();
    if let Some(rule) = &args.split {
        let rule = SplitRule::parse(rule)?;
        let result = fit_split(&frame, &formula, &opts, &rule, args.split_term.as_deref())?;
        if args.timings {
            // One fit per group plus the pooled test: no per-phase breakdown.
            eprintln!("timing load    {load_time:>9.4} s");
            eprintln!("timing total   {:>9.4} s", t0.elapsed().as_secs_f64());
        }
        let out = match args.format {
            FitFormat::Text => render_text(&result),
            FitFormat::Json => {
                serde_json::to_string_pretty(&result).expect("split results serialize") + "\n"
            }
        };
        return super::emit(&out, args.output.as_deref());
    }
    let result = fit_owned(frame, &formula, &opts)?;
    if args.timings {
        eprintln!("timing load    {load_time:>9.4} s");
        for (phase, secs) in &result.timings {
            eprintln!("timing {phase:<7} {secs:>9.4} s");
        }
        eprintln!("timing total   {:>9.4} s", t0.elapsed().as_secs_f64());
    }
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    let mut out = render_fit(&result, args.format);
    if args.first_stage && args.format == FitFormat::Text {
        out.push_str(&first_stage_tables(&result));
    }
    super::emit(&out, args.output.as_deref())
}
