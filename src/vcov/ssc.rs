//! Small-sample corrections ("ssc", as fixest calls them) and the parameter count K.
//!
//! Defaults follow reghdfe and fixest: `fixef_k = nonnested`, `cluster_df = min`.

/// Which fixed-effect parameters count in K.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum FixefK {
    /// Fixed effects nested in a cluster variable are not counted (each counts as one
    /// parameter, like an intercept). reghdfe and fixest default.
    #[default]
    Nonnested,
    /// Every fixed-effect parameter counts, as Stata's `regress` with dummies and R's `lm`.
    Full,
}

/// How many fixed-effect levels are redundant (collinear with the others) when K counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum FeRedundancy {
    /// Exact between the first two fixed effects (one redundant level per connected component
    /// of their bipartite graph), one per further fixed effect: reghdfe's `firstpair`
    /// (part of its default `dofadjustments(all)`).
    #[default]
    Firstpair,
    /// One per fixed effect after the first, whatever the graph: pyfixest (and fixest issue
    /// 554). Differs from `firstpair` when the first two fixed effects are not connected
    /// (sparse worker-firm mobility).
    Simple,
}

impl FeRedundancy {
    /// Name used in output.
    pub fn name(self) -> &'static str {
        match self {
            FeRedundancy::Firstpair => "firstpair",
            FeRedundancy::Simple => "simple",
        }
    }
}

/// How two-way clustering applies G/(G−1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ClusterDf {
    /// One factor with G = min(G_A, G_B): reghdfe and fixest.
    #[default]
    Min,
    /// Each of V_A, V_B, V_AB with its own G/(G−1): R sandwich, cgmreg, Petersen (2009).
    Conventional,
}

impl FixefK {
    /// Name used in output.
    pub fn name(self) -> &'static str {
        match self {
            FixefK::Nonnested => "nonnested",
            FixefK::Full => "full",
        }
    }
}

impl ClusterDf {
    /// Name used in output.
    pub fn name(self) -> &'static str {
        match self {
            ClusterDf::Min => "min",
            ClusterDf::Conventional => "conventional",
        }
    }
}

/// K, the parameter count of the small-sample factors.
///
/// `k` regressors (intercept included when estimated), `fe_params` = Σ levels − redundant
/// levels ([`crate::absorb::FixedEffects::n_params`]). With `Nonnested`, each fixed effect
/// nested in a cluster variable (`nested_levels[q] = Some(levels)`) is counted as one
/// parameter instead of its levels: `K = k + fe_params − Σ nested levels + #nested`
/// (fixest `K.fixef = "nonnested"`, pyfixest `_count_fixef_fully_nested`).
pub fn dof_k(k: usize, fe_params: usize, nested_levels: &[usize], fixef_k: FixefK) -> usize {
    match fixef_k {
        FixefK::Full => k + fe_params,
        FixefK::Nonnested => {
            let nested: usize = nested_levels.iter().sum();
            (k + fe_params + nested_levels.len()).saturating_sub(nested)
        }
    }
}

/// (n − 1)/(n − K), the factor applied to cluster-robust variances.
pub fn adj_factor(n: usize, k: usize) -> f64 {
    (n as f64 - 1.0) / (n as f64 - k as f64)
}

/// n/(n − K), HC1 (Stata `robust`, R sandwich `HC1`).
pub fn hetero_factor(n: usize, k: usize) -> f64 {
    n as f64 / (n as f64 - k as f64)
}

/// G/(G − 1).
pub fn cluster_factor(g: usize) -> f64 {
    g as f64 / (g as f64 - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_fixed_effects_count_as_one() {
        // Grunfeld: 2 regressors, firm (10) + year (20) − 1 redundant; firm nested in cluster.
        assert_eq!(dof_k(2, 29, &[10], FixefK::Nonnested), 22);
        assert_eq!(dof_k(2, 29, &[10], FixefK::Full), 31);
        assert_eq!(dof_k(1, 500, &[500], FixefK::Nonnested), 2);
    }
}
