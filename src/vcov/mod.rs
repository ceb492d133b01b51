//! Variance-covariance matrices of estimates: iid, heteroskedasticity-robust (HC1) and
//! cluster-robust (CR1, one- and two-way), from the scores of any estimator.
//!
//! [`sandwich`] computes the unscaled pieces; [`ssc`] holds the small-sample corrections, so
//! that Stata/reghdfe and fixest conventions swap without touching the estimators. OLS, IV and
//! GLM all call [`compute`] with their bread and scores.
//!
//! Formulas (n = observations, K = parameters counted by [`ssc::dof_k`], G = clusters):
//! - iid: `V = σ² B`, `σ² = Σ e²/(n − K)`, `B` = the bread (`(X'WX)⁻¹` for OLS);
//! - hetero (HC1): `V = n/(n − K) · B (Σ s_i s_i') B`, `s_i` the score of row i;
//! - cluster (CR1): `V = (n − 1)/(n − K) · G/(G − 1) · B (Σ_g S_g S_g') B`, `S_g` = Σ of the
//!   scores in cluster g;
//! - two-way (Cameron, Gelbach & Miller 2011): `V = V_A + V_B − V_AB`; with `--cluster-df min`
//!   (default; reghdfe, fixest) one factor `G/(G−1)` with `G = min(G_A, G_B)`; with
//!   `conventional` (R sandwich, cgmreg) each term has its own `G/(G−1)`. A result that is not
//!   positive semi-definite has its negative eigenvalues set to zero, with a warning.
//! - t statistics use `G − 1` degrees of freedom when clustered (smallest G), `n − K` otherwise.

pub mod sandwich;
pub mod ssc;

use faer::Mat;

pub use ssc::{ClusterDf, FeRedundancy, FixefK};

/// The kind of variance estimate.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
    Default,
)]
#[serde(rename_all = "snake_case")]
pub enum VcovKind {
    /// Classical, homoskedastic.
    #[default]
    Iid,
    /// Heteroskedasticity-robust, HC1.
    Hetero,
    /// Cluster-robust, CR1 (one- or two-way).
    Cluster,
}

impl VcovKind {
    /// Name used in JSON and text output.
    pub fn name(self) -> &'static str {
        match self {
            VcovKind::Iid => "iid",
            VcovKind::Hetero => "hetero",
            VcovKind::Cluster => "cluster",
        }
    }
}

/// The inputs of a variance estimate besides the scores.
pub struct VcovInput<'a> {
    pub kind: VcovKind,
    /// n_obs codes per cluster dimension (one or two).
    pub clusters: &'a [Vec<u32>],
    pub n_clusters: &'a [usize],
    pub cluster_df: ClusterDf,
    pub n_obs: usize,
    /// Parameters for the small-sample factor (see [`ssc::dof_k`]).
    pub dof_k: usize,
    /// Σ e² (weighted) for the iid variance; unused otherwise.
    pub rss: f64,
    /// Whether the iid variance is the bread alone (GLMs: the inverse information).
    pub bread_is_vcov: bool,
}

/// A variance estimate and what went into it.
#[derive(Debug, Clone)]
pub struct Vcov {
    /// k × k.
    pub matrix: Mat<f64>,
    /// Degrees of freedom for t tests and confidence intervals.
    pub df_t: usize,
    pub warnings: Vec<String>,
}

/// The scores of an estimator: row i is observation i's contribution to the estimating
/// equations.
#[derive(Debug, Clone, Copy)]
pub enum Scores<'a> {
    /// k columns of n_obs (`x_i e_i` for OLS, already formed).
    Columns(&'a [&'a [f64]]),
    /// `x_ij e_i`, formed where needed: k columns `x` of n_obs and the n_obs residuals `e`
    /// (OLS, whose scores need not be written out for a cluster or iid variance).
    Product { x: &'a [&'a [f64]], e: &'a [f64] },
}

impl Scores<'_> {
    /// The number of score columns (k).
    pub fn len(&self) -> usize {
        match self {
            Scores::Columns(c) => c.len(),
            Scores::Product { x, .. } => x.len(),
        }
    }

    /// Whether there are no score columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The columns of a column-major buffer of `n` rows, as [`compute`] takes its scores.
pub fn columns(buf: &[f64], n: usize) -> Vec<&[f64]> {
    if n == 0 {
        Vec::new()
    } else {
        buf.chunks(n).collect()
    }
}

/// Compute a variance matrix.
///
/// **Shapes**: `bread`: k × k (symmetric); `scores`: k columns of n_obs, row i the
/// contribution of observation i to the estimating equations (`x_i e_i` for OLS; see
/// [`Scores`]). The iid variance does not read them.
///
/// **Source**: Cameron & Miller (2015) for CR1; fixest `vcov` and reghdfe for conventions.
pub fn compute(bread: &Mat<f64>, scores: Scores<'_>, input: &VcovInput<'_>) -> Vcov {
    let n = input.n_obs;
    let mut warnings = Vec::new();
    let dof_resid = n.saturating_sub(input.dof_k).max(1);
    let (matrix, df_t) = match input.kind {
        VcovKind::Iid => {
            let m = if input.bread_is_vcov {
                bread.clone()
            } else {
                let sigma2 = input.rss / dof_resid as f64;
                bread * faer::Scale(sigma2)
            };
            (m, dof_resid)
        }
        VcovKind::Hetero => {
            let meat = sandwich::meat_hetero(&scores, n);
            let f = ssc::hetero_factor(n, input.dof_k);
            (sandwich::sandwich(bread, &meat) * faer::Scale(f), dof_resid)
        }
        VcovKind::Cluster => {
            let small = ssc::adj_factor(n, input.dof_k);
            let g_min = *input
                .n_clusters
                .iter()
                .min()
                .expect("at least one cluster dimension");
            let df_t = g_min.saturating_sub(1).max(1);
            if input.clusters.len() == 1 {
                let meat = sandwich::meat_cluster(&scores, &input.clusters[0], input.n_clusters[0]);
                let f = small * ssc::cluster_factor(input.n_clusters[0]);
                (sandwich::sandwich(bread, &meat) * faer::Scale(f), df_t)
            } else {
                let (a, b) = (&input.clusters[0], &input.clusters[1]);
                let (ab, g_ab) = sandwich::intersect(a, b);
                let (ga, gb) = (input.n_clusters[0], input.n_clusters[1]);
                let ma = sandwich::meat_cluster(&scores, a, ga);
                let mb = sandwich::meat_cluster(&scores, b, gb);
                let mab = sandwich::meat_cluster(&scores, &ab, g_ab);
                let meat = match input.cluster_df {
                    ClusterDf::Min => {
                        let c = ssc::cluster_factor(g_min);
                        (&ma + &mb - &mab) * faer::Scale(c)
                    }
                    ClusterDf::Conventional => {
                        &ma * faer::Scale(ssc::cluster_factor(ga))
                            + &mb * faer::Scale(ssc::cluster_factor(gb))
                            - &mab * faer::Scale(ssc::cluster_factor(g_ab))
                    }
                };
                let mut v = sandwich::sandwich(bread, &meat) * faer::Scale(small);
                if let Some(w) = sandwich::make_psd(&mut v) {
                    warnings.push(w);
                }
                (v, df_t)
            }
        }
    };
    Vcov {
        matrix,
        df_t,
        warnings,
    }
}
