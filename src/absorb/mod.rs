//! Absorbing fixed effects: singleton removal, the demeaning (within) transform, and the
//! degrees of freedom the fixed effects use.
//!
//! Main types: [`FixedEffects`] (dense `u32` codes per fixed effect on the estimation sample)
//! and [`Demeaner`] (per-level weight sums, computed once), which projects columns onto the
//! orthogonal complement of the fixed-effect dummies, in place.
//!
//! Methods ([`Method`]):
//! - one fixed effect: a single pass of group means (exact);
//! - several (default, [`Algorithm::Schur`]): the fixed effect with the most levels is
//!   eliminated exactly and the normal equations of the others, reduced to their Schur
//!   complement, are solved directly (small) or by Jacobi-preconditioned CG (large); two passes
//!   over each column (see [`schur`]). Falls back to the iterative method when assembling the
//!   reduced matrix would cost more than a few passes;
//! - several, [`Algorithm::Iterative`] or the fallback: alternating projections (one sweep subtracts each fixed effect's group means in
//!   turn) with Irons-Tuck acceleration applied to the residual vector, as fixest does on the
//!   coefficients; if that has not converged after `ap_max_iter` accelerated steps, keju
//!   switches to conjugate gradients on the normal equations `D'WD a = D'Wx`, preconditioned
//!   by a symmetric block Gauss-Seidel sweep (forward and backward over the fixed effects, the
//!   diagonal blocks being the level weight sums), which handles sparse, poorly connected
//!   fixed-effect graphs (worker-firm-year) where alternating projections crawl.
//!
//! Convergence is judged relative to each column's own scale: a step is converged when the
//! largest change of any element is below `tol` times the column's weighted standard deviation.
//! Columns are demeaned in parallel (rayon), each sequentially, so results do not depend on the
//! thread count.

use rayon::prelude::*;

use crate::vcov::FeRedundancy;

pub mod schur;

/// How the fixed effects were absorbed in a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// No fixed effects.
    None,
    /// One fixed effect: group means, one pass.
    GroupMeans,
    /// Alternating projections with Irons-Tuck acceleration.
    AlternatingProjections,
    /// Alternating projections, then preconditioned conjugate gradients.
    ConjugateGradient,
    /// The largest fixed effect eliminated exactly, the rest solved from the reduced normal
    /// equations (dense pseudo-inverse or CG on the reduced matrix).
    SchurComplement,
}

/// Which demeaning algorithm to use with two or more fixed effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Algorithm {
    /// Eliminate the largest fixed effect exactly, solve the reduced system for the others
    /// (falls back to `iterative` when the reduced matrix would be too costly to build).
    #[default]
    Schur,
    /// Alternating projections with Irons-Tuck acceleration, then block Gauss-Seidel
    /// preconditioned CG on the full normal equations (the fixest/reghdfe family).
    Iterative,
}

/// Options of the demeaning step.
#[derive(Debug, Clone, Copy)]
pub struct DemeanOptions {
    /// Relative tolerance (per column, relative to its weighted SD). Default 1e-10.
    pub tol: f64,
    /// Accelerated alternating-projection steps before switching to CG. Default 200.
    pub ap_max_iter: usize,
    /// Conjugate-gradient iterations at most. Default 10,000.
    pub cg_max_iter: usize,
    /// Algorithm for two or more fixed effects. Default [`Algorithm::Schur`].
    pub algorithm: Algorithm,
}

impl Default for DemeanOptions {
    fn default() -> Self {
        DemeanOptions {
            tol: 1e-10,
            ap_max_iter: 10,
            cg_max_iter: 10_000,
            algorithm: Algorithm::Schur,
        }
    }
}

/// What happened to one column.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct DemeanInfo {
    pub method: Method,
    /// Sweeps over the data (an AP sweep or a CG matrix-vector product).
    pub iterations: usize,
    pub converged: bool,
}

/// Fixed effects on the estimation sample.
///
/// **Shapes**: `codes[q]`: n_obs, each below `n_levels[q]`; every level occurs at least once.
#[derive(Debug, Clone, Default)]
pub struct FixedEffects {
    /// As written in the formula (`firm`, `industry^year`).
    pub names: Vec<String>,
    pub codes: Vec<Vec<u32>>,
    pub n_levels: Vec<usize>,
}

impl FixedEffects {
    /// Number of fixed effects.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True when there are no fixed effects.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Parameters the fixed effects use: Σ levels minus redundant ones.
    ///
    /// Redundancy: between the first two fixed effects it is exact (one per connected
    /// component of their bipartite graph); each further fixed effect is assumed to lose one
    /// level. This is what reghdfe and fixest do.
    pub fn n_params(&self) -> usize {
        self.n_params_with(FeRedundancy::Firstpair)
    }

    /// Parameters the fixed effects use under a redundancy rule ([`FeRedundancy`]).
    pub fn n_params_with(&self, rule: FeRedundancy) -> usize {
        let total: usize = self.n_levels.iter().sum();
        match rule {
            FeRedundancy::Firstpair => total - self.redundant(),
            FeRedundancy::Simple => total - self.len().saturating_sub(1),
        }
    }

    /// Redundant fixed-effect levels (see [`FixedEffects::n_params`]).
    pub fn redundant(&self) -> usize {
        match self.len() {
            0 | 1 => 0,
            q => {
                connected_components(
                    &self.codes[0],
                    self.n_levels[0],
                    &self.codes[1],
                    self.n_levels[1],
                ) + (q - 2)
            }
        }
    }

    /// Whether fixed effect `q` is nested in the grouping `cluster` (every level of the fixed
    /// effect lies within one cluster).
    pub fn is_nested_in(&self, q: usize, cluster: &[u32]) -> bool {
        let mut owner = vec![u32::MAX; self.n_levels[q]];
        for (g, c) in self.codes[q].iter().zip(cluster) {
            let o = &mut owner[*g as usize];
            if *o == u32::MAX {
                *o = *c;
            } else if *o != *c {
                return false;
            }
        }
        true
    }
}

/// Connected components of the bipartite graph between two groupings (union-find).
fn connected_components(a: &[u32], la: usize, b: &[u32], lb: usize) -> usize {
    let mut parent: Vec<usize> = (0..la + lb).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for (x, y) in a.iter().zip(b) {
        let (rx, ry) = (
            find(&mut parent, *x as usize),
            find(&mut parent, la + *y as usize),
        );
        if rx != ry {
            parent[rx] = ry;
        }
    }
    (0..la + lb).filter(|&i| find(&mut parent, i) == i).count()
}

/// Mark singleton rows as dropped, iterating over every fixed effect until none remain
/// (reghdfe's default: dropping one singleton can create another).
///
/// `codes[q][i]` are group codes on all rows (`u32::MAX` never occurs for kept rows);
/// `keep[i]` is updated in place. Returns the number of rows dropped.
///
/// **Complexity**: O(n_rows · Q) per round; rounds are few in practice.
pub fn drop_singletons(codes: &[&[u32]], n_levels: &[usize], keep: &mut [bool]) -> usize {
    let mut dropped = 0;
    let mut counts: Vec<Vec<u32>> = n_levels.iter().map(|l| vec![0; *l]).collect();
    loop {
        let mut changed = false;
        for (q, c) in codes.iter().enumerate() {
            let cnt = &mut counts[q];
            cnt.iter_mut().for_each(|x| *x = 0);
            for (g, k) in c.iter().zip(keep.iter()) {
                if *k {
                    cnt[*g as usize] += 1;
                }
            }
            if !cnt.contains(&1) {
                // No level with a single row: nothing to drop for this fixed effect.
                continue;
            }
            for (g, k) in c.iter().zip(keep.iter_mut()) {
                if *k && cnt[*g as usize] == 1 {
                    *k = false;
                    dropped += 1;
                    changed = true;
                }
            }
        }
        if !changed || codes.len() == 1 {
            break;
        }
    }
    dropped
}

/// Projects columns onto the complement of the fixed-effect dummies, with optional weights.
///
/// **Source**: Guimarães & Portugal (2010) alternating projections; Irons & Tuck (1969)
/// acceleration as used in fixest (Bergé 2018); PCG on the normal equations as in LSMR/CG
/// backends of pyfixest.
pub struct Demeaner<'a> {
    fe: &'a FixedEffects,
    weights: Option<&'a [f64]>,
    /// Per fixed effect, 1 / (sum of weights of each level).
    inv_wsum: Vec<Vec<f64>>,
    opts: DemeanOptions,
    /// The reduced system for [`Algorithm::Schur`] (None: iterative).
    reduced: Option<schur::Reduced>,
}

impl<'a> Demeaner<'a> {
    /// Precompute level weight sums.
    ///
    /// **Panics**: if a weight vector's length differs from the codes' length.
    #[track_caller]
    pub fn new(fe: &'a FixedEffects, weights: Option<&'a [f64]>, opts: DemeanOptions) -> Self {
        let inv_wsum = fe
            .codes
            .par_iter()
            .zip(&fe.n_levels)
            .map(|(c, l)| {
                let mut s = vec![0.0; *l];
                match weights {
                    Some(w) => {
                        assert_eq!(w.len(), c.len(), "weights have one entry per row");
                        c.iter().zip(w).for_each(|(g, wi)| s[*g as usize] += wi)
                    }
                    None => c.iter().for_each(|g| s[*g as usize] += 1.0),
                }
                s.iter_mut()
                    .for_each(|x| *x = if *x > 0.0 { 1.0 / *x } else { 0.0 });
                s
            })
            .collect::<Vec<Vec<f64>>>();
        let reduced = if fe.len() >= 2 && opts.algorithm == Algorithm::Schur {
            schur::Reduced::new(fe, weights, &inv_wsum)
        } else {
            None
        };
        Demeaner {
            fe,
            weights,
            inv_wsum,
            opts,
            reduced,
        }
    }

    /// Demean every column of `data` (n_obs × p, column-major) in place, in parallel.
    ///
    /// **Panics**: if `data.len()` is not a multiple of n_obs.
    #[track_caller]
    pub fn demean_columns(&self, data: &mut [f64], n_obs: usize) -> Vec<DemeanInfo> {
        if n_obs == 0 {
            return Vec::new();
        }
        assert_eq!(data.len() % n_obs, 0, "data is n_obs × p");
        data.par_chunks_mut(n_obs)
            .map(|col| self.demean(col))
            .collect()
    }

    /// Demean each column in place, columns in parallel (each sequentially, so the result does
    /// not depend on the thread count).
    pub fn demean_slices(&self, cols: &mut [&mut [f64]]) -> Vec<DemeanInfo> {
        cols.par_iter_mut().map(|c| self.demean(c)).collect()
    }

    /// Demean one column in place.
    pub fn demean(&self, x: &mut [f64]) -> DemeanInfo {
        if let Some(reduced) = &self.reduced {
            let (iterations, converged) = reduced.demean(
                self.fe,
                self.weights,
                x,
                self.opts.tol,
                self.opts.cg_max_iter,
            );
            return DemeanInfo {
                method: Method::SchurComplement,
                iterations,
                converged,
            };
        }
        self.demean_iterative(x)
    }

    /// Group means (one fixed effect) or accelerated projections, then CG (several), in place.
    fn demean_iterative(&self, x: &mut [f64]) -> DemeanInfo {
        let q = self.fe.len();
        if q == 0 {
            return DemeanInfo {
                method: Method::None,
                iterations: 0,
                converged: true,
            };
        }
        // Centre first: a no-op for the projection (constants lie in every fixed effect's
        // span) that removes the cancellation error of large means.
        let (mean, sd) = self.weighted_mean_sd(x);
        x.iter_mut().for_each(|v| *v -= mean);
        if sd == 0.0 {
            x.iter_mut().for_each(|v| *v = 0.0);
            return DemeanInfo {
                method: if q == 1 {
                    Method::GroupMeans
                } else {
                    Method::AlternatingProjections
                },
                iterations: 0,
                converged: true,
            };
        }
        let mut sums: Vec<Vec<f64>> = self.fe.n_levels.iter().map(|l| vec![0.0; *l]).collect();
        if q == 1 {
            self.project_out(0, x, &mut sums[0]);
            return DemeanInfo {
                method: Method::GroupMeans,
                iterations: 1,
                converged: true,
            };
        }
        let threshold = self.opts.tol * sd;
        let n = x.len();
        let mut gx = vec![0.0; n];
        let mut ggx = vec![0.0; n];
        let mut sweeps = 0;
        for _ in 0..self.opts.ap_max_iter {
            gx.copy_from_slice(x);
            self.sweep(&mut gx, &mut sums);
            ggx.copy_from_slice(&gx);
            self.sweep(&mut ggx, &mut sums);
            sweeps += 2;
            let max_step = ggx
                .iter()
                .zip(&gx)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            if max_step <= threshold {
                x.copy_from_slice(&ggx);
                return DemeanInfo {
                    method: Method::AlternatingProjections,
                    iterations: sweeps,
                    converged: true,
                };
            }
            // Irons-Tuck: x' = GGx - <ΔGx, Δ²x>/<Δ²x, Δ²x> ΔGx.
            let (mut num, mut den) = (0.0, 0.0);
            for i in 0..n {
                let d_gx = ggx[i] - gx[i];
                let d2 = ggx[i] - 2.0 * gx[i] + x[i];
                num += d_gx * d2;
                den += d2 * d2;
            }
            if den <= 0.0 || !den.is_finite() {
                x.copy_from_slice(&ggx);
                continue;
            }
            let coef = num / den;
            for i in 0..n {
                x[i] = ggx[i] - coef * (ggx[i] - gx[i]);
            }
        }
        let (iters, converged) = self.conjugate_gradient(x, threshold);
        DemeanInfo {
            method: Method::ConjugateGradient,
            iterations: sweeps + iters,
            converged,
        }
    }

    fn weighted_mean_sd(&self, x: &[f64]) -> (f64, f64) {
        let (mut sw, mut sx) = (0.0, 0.0);
        for (i, v) in x.iter().enumerate() {
            let w = self.weights.map_or(1.0, |w| w[i]);
            sw += w;
            sx += w * v;
        }
        let mean = sx / sw;
        let ss: f64 = x
            .iter()
            .enumerate()
            .map(|(i, v)| self.weights.map_or(1.0, |w| w[i]) * (v - mean).powi(2))
            .sum();
        (mean, (ss / sw).sqrt())
    }

    /// Subtract fixed effect `q`'s weighted group means from `x`.
    fn project_out(&self, q: usize, x: &mut [f64], sums: &mut [f64]) {
        let codes = &self.fe.codes[q];
        let inv = &self.inv_wsum[q];
        sums.iter_mut().for_each(|s| *s = 0.0);
        match self.weights {
            Some(w) => {
                for ((g, v), wi) in codes.iter().zip(x.iter()).zip(w) {
                    sums[*g as usize] += wi * v;
                }
            }
            None => {
                for (g, v) in codes.iter().zip(x.iter()) {
                    sums[*g as usize] += v;
                }
            }
        }
        sums.iter_mut().zip(inv).for_each(|(s, i)| *s *= i);
        for (g, v) in codes.iter().zip(x.iter_mut()) {
            *v -= sums[*g as usize];
        }
    }

    fn sweep(&self, x: &mut [f64], sums: &mut [Vec<f64>]) {
        for (q, s) in sums.iter_mut().enumerate() {
            self.project_out(q, x, s);
        }
    }

    /// Finish the projection of `x` by preconditioned CG on `D'WD a = D'W x`; then
    /// `x -= D a`. Returns (iterations, converged).
    fn conjugate_gradient(&self, x: &mut [f64], threshold: f64) -> (usize, bool) {
        let fe = self.fe;
        let n = x.len();
        let w = |i: usize| self.weights.map_or(1.0, |w| w[i]);
        let new_coef = || -> Vec<Vec<f64>> { fe.n_levels.iter().map(|l| vec![0.0; *l]).collect() };
        // r = D'W x
        let mut r = new_coef();
        for (q, c) in fe.codes.iter().enumerate() {
            for (i, g) in c.iter().enumerate() {
                r[q][*g as usize] += w(i) * x[i];
            }
        }
        // Symmetric block Gauss-Seidel preconditioner (a forward and a backward sweep over the
        // fixed effects): M = (D + L) D⁻¹ (D + U) for the block splitting of A = D'WD, whose
        // diagonal blocks are the level weight sums. M is symmetric positive definite.
        let mut acc = vec![0.0; n];
        let mut t = new_coef();
        let mut precondition = |r: &[Vec<f64>], z: &mut [Vec<f64>]| {
            let nq = r.len();
            acc.iter_mut().for_each(|v| *v = 0.0);
            for q in 0..nq {
                let c = &fe.codes[q];
                let zq = &mut z[q];
                zq.copy_from_slice(&r[q]);
                if q > 0 {
                    for (i, g) in c.iter().enumerate() {
                        zq[*g as usize] -= w(i) * acc[i];
                    }
                }
                zq.iter_mut()
                    .zip(&self.inv_wsum[q])
                    .for_each(|(v, iw)| *v *= iw);
                if q + 1 < nq {
                    for (i, g) in c.iter().enumerate() {
                        acc[i] += zq[*g as usize];
                    }
                }
            }
            for q in 0..nq {
                for l in 0..t[q].len() {
                    let iw = self.inv_wsum[q][l];
                    t[q][l] = if iw > 0.0 { z[q][l] / iw } else { 0.0 };
                }
            }
            acc.iter_mut().for_each(|v| *v = 0.0);
            for q in (0..nq).rev() {
                let c = &fe.codes[q];
                let zq = &mut z[q];
                zq.copy_from_slice(&t[q]);
                if q + 1 < nq {
                    for (i, g) in c.iter().enumerate() {
                        zq[*g as usize] -= w(i) * acc[i];
                    }
                }
                zq.iter_mut()
                    .zip(&self.inv_wsum[q])
                    .for_each(|(v, iw)| *v *= iw);
                if q > 0 {
                    for (i, g) in c.iter().enumerate() {
                        acc[i] += zq[*g as usize];
                    }
                }
            }
        };
        let dot = |a: &[Vec<f64>], b: &[Vec<f64>]| -> f64 {
            a.iter()
                .zip(b)
                .map(|(u, v)| u.iter().zip(v).map(|(s, t)| s * t).sum::<f64>())
                .sum()
        };
        let mut z = new_coef();
        precondition(&r, &mut z);
        let mut p = z.clone();
        let mut ap = new_coef();
        let mut dp = vec![0.0; n];
        let mut da = vec![0.0; n];
        let mut rz = dot(&r, &z);
        let rz0 = rz;
        for it in 1..=self.opts.cg_max_iter {
            // dp = D p ; ap = D'W dp
            dp.iter_mut().for_each(|v| *v = 0.0);
            for (q, c) in fe.codes.iter().enumerate() {
                for (i, g) in c.iter().enumerate() {
                    dp[i] += p[q][*g as usize];
                }
            }
            for v in ap.iter_mut() {
                v.iter_mut().for_each(|s| *s = 0.0);
            }
            for (q, c) in fe.codes.iter().enumerate() {
                for (i, g) in c.iter().enumerate() {
                    ap[q][*g as usize] += w(i) * dp[i];
                }
            }
            let pap = dot(&p, &ap);
            if pap <= 0.0 || !pap.is_finite() {
                break;
            }
            let alpha = rz / pap;
            let mut max_step = 0.0f64;
            for i in 0..n {
                let s = alpha * dp[i];
                da[i] += s;
                max_step = max_step.max(s.abs());
            }
            for q in 0..r.len() {
                for l in 0..r[q].len() {
                    r[q][l] -= alpha * ap[q][l];
                }
            }
            // Converged when a step moves no element by more than the threshold, or when the
            // preconditioned residual has vanished (past that point the iteration only
            // amplifies rounding along the null space of the singular system).
            if max_step <= threshold || rz <= rz0 * 1e-30 {
                x.iter_mut().zip(&da).for_each(|(v, d)| *v -= d);
                return (it, true);
            }
            precondition(&r, &mut z);
            let rz_new = dot(&r, &z);
            let beta = rz_new / rz;
            rz = rz_new;
            for q in 0..p.len() {
                for l in 0..p[q].len() {
                    p[q][l] = z[q][l] + beta * p[q][l];
                }
            }
        }
        x.iter_mut().zip(&da).for_each(|(v, d)| *v -= d);
        (self.opts.cg_max_iter, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fe(codes: Vec<Vec<u32>>) -> FixedEffects {
        let n_levels = codes
            .iter()
            .map(|c| c.iter().max().map_or(0, |m| *m as usize + 1))
            .collect();
        FixedEffects {
            names: (0..codes.len()).map(|q| format!("fe{q}")).collect(),
            codes,
            n_levels,
        }
    }

    /// Residual of `x` after OLS on the dummies, by normal equations (brute force).
    fn brute_residual(f: &FixedEffects, x: &[f64]) -> Vec<f64> {
        // Iterate plain AP to machine precision.
        let d = Demeaner::new(f, None, DemeanOptions::default());
        let mut y = x.to_vec();
        let mut sums: Vec<Vec<f64>> = f.n_levels.iter().map(|l| vec![0.0; *l]).collect();
        for _ in 0..20000 {
            d.sweep(&mut y, &mut sums);
        }
        y
    }

    #[test]
    fn staircase_needs_several_singleton_rounds() {
        // firm:  0 0 1 1 2   year: 0 1 1 2 2 ; removing row 4 (firm 2 singleton) makes
        // year 2 a singleton (row 3), then firm 1 (row 2), then year 1 (row 1)...
        let firm = vec![0, 0, 1, 1, 2];
        let year = vec![0, 1, 1, 2, 2];
        let mut keep = vec![true; 5];
        let dropped = drop_singletons(&[&firm, &year], &[3, 3], &mut keep);
        assert_eq!(dropped, 5);
        assert!(keep.iter().all(|k| !k));
    }

    #[test]
    fn ap_and_cg_agree_with_brute_force() {
        // 3 fixed effects on 60 rows with an irregular pattern.
        let n = 60;
        let a: Vec<u32> = (0..n).map(|i| (i % 7) as u32).collect();
        let b: Vec<u32> = (0..n).map(|i| ((i * 3 / 5) % 5) as u32).collect();
        let c: Vec<u32> = (0..n).map(|i| ((i * i) % 4) as u32).collect();
        let f = fe(vec![a, b, c]);
        let x: Vec<f64> = (0..n)
            .map(|i| ((i as f64) * 0.37).sin() * 10.0 + i as f64)
            .collect();
        let want = brute_residual(&f, &x);
        let mut got = x.clone();
        let info = Demeaner::new(&f, None, DemeanOptions::default()).demean(&mut got);
        assert_eq!(info.method, Method::SchurComplement);
        assert!(info.converged);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-8, "{g} vs {w}");
        }
        // Force CG from the start.
        let opts = DemeanOptions {
            ap_max_iter: 0,
            algorithm: Algorithm::Iterative,
            ..Default::default()
        };
        let mut cg = x.clone();
        let info = Demeaner::new(&f, None, opts).demean(&mut cg);
        assert_eq!(info.method, Method::ConjugateGradient);
        assert!(info.converged);
        for (g, w) in cg.iter().zip(&want) {
            assert!((g - w).abs() < 1e-8, "{g} vs {w}");
        }
        // Idempotent: demeaning twice changes nothing.
        let mut again = got.clone();
        Demeaner::new(&f, None, DemeanOptions::default()).demean(&mut again);
        for (g, w) in again.iter().zip(&got) {
            assert!((g - w).abs() < 1e-9);
        }
    }

    #[test]
    fn redundancy_counts_components() {
        // Two disconnected blocks: firms {0,1} with years {0,1}; firm 2 with year 2.
        let f = fe(vec![vec![0, 0, 1, 1, 2, 2], vec![0, 1, 0, 1, 2, 2]]);
        assert_eq!(f.redundant(), 2);
        assert_eq!(f.n_params(), 6 - 2);
        assert_eq!(f.n_params_with(FeRedundancy::Simple), 6 - 1);
        assert!(f.is_nested_in(0, &[5, 5, 6, 6, 7, 7]));
        assert!(!f.is_nested_in(1, &[5, 5, 6, 6, 7, 7]));
    }

    /// A worker-firm-year panel with a sparse mobility graph: `workers` × `years` rows, each
    /// worker moving with probability `p_move` a year; pseudo-random but deterministic.
    pub(super) fn mobility_panel(
        workers: usize,
        firms: usize,
        years: usize,
        p_move: f64,
        seed: u64,
    ) -> (FixedEffects, Vec<f64>, Vec<f64>) {
        let mut s = seed;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut w, mut f, mut t, mut x, mut wt) = (vec![], vec![], vec![], vec![], vec![]);
        for i in 0..workers {
            let mut firm = (next() * firms as f64) as u32;
            for y in 0..years {
                if y > 0 && next() < p_move {
                    firm = (next() * firms as f64) as u32;
                }
                w.push(i as u32);
                f.push(firm);
                t.push(y as u32);
                x.push(next() * 3.0 + firm as f64 * 0.01 + (y * y) as f64 * 0.1 + 1e3);
                wt.push(0.5 + next());
            }
        }
        // Firms that never occur are renumbered away.
        let mut map = vec![u32::MAX; firms];
        let mut nf = 0;
        for c in f.iter_mut() {
            if map[*c as usize] == u32::MAX {
                map[*c as usize] = nf;
                nf += 1;
            }
            *c = map[*c as usize];
        }
        (fe(vec![w, f, t]), x, wt)
    }

    fn assert_close(a: &[f64], b: &[f64], tol: f64) {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0);
        for (i, (u, v)) in a.iter().zip(b).enumerate() {
            assert!((u - v).abs() <= tol * scale, "row {i}: {u} vs {v}");
        }
    }

    #[test]
    fn schur_matches_iterative_dense_and_sparse_weighted_or_not() {
        let tight = |algorithm| DemeanOptions {
            tol: 1e-14,
            algorithm,
            ..Default::default()
        };
        // Dense reduced system (50 firms + 4 years) and sparse (≈ 600 firms + 4 years), each with
        // stayer-only firms (zero diagonal in S) and, at p_move = 0.02, several components.
        for (workers, firms, p) in [(300, 50, 0.3), (3000, 600, 0.2), (2000, 900, 0.02)] {
            let (f, x, wt) = mobility_panel(workers, firms, 4, p, 7 + firms as u64);
            for weights in [None, Some(&wt[..])] {
                let mut a = x.clone();
                let ia = Demeaner::new(&f, weights, tight(Algorithm::Schur)).demean(&mut a);
                assert_eq!(ia.method, Method::SchurComplement);
                assert!(
                    ia.converged,
                    "{workers} {firms} {p} {:?} {ia:?}",
                    weights.is_some()
                );
                let mut b = x.clone();
                let ib = Demeaner::new(&f, weights, tight(Algorithm::Iterative)).demean(&mut b);
                assert!(ib.converged);
                assert_close(&a, &b, 1e-9);
                // The residual is orthogonal to every fixed-effect dummy (weighted).
                for q in 0..3 {
                    let mut s = vec![0.0; f.n_levels[q]];
                    for (i, g) in f.codes[q].iter().enumerate() {
                        s[*g as usize] += weights.map_or(1.0, |w| w[i]) * a[i];
                    }
                    assert!(s.iter().all(|v| v.abs() < 1e-8), "fe {q}: {s:?}");
                }
            }
        }
    }

    /// Rows in level order of the eliminated fixed effect (the usual sorted panel) skip the
    /// counting sort; shuffled rows take it. Both give the same residuals, row for row.
    #[test]
    fn schur_gives_the_same_residuals_for_sorted_and_shuffled_rows() {
        // Worker + firm + year, and worker + year (one other fixed effect: the runs path).
        for (workers, firms, two_way) in [(300, 50, false), (3000, 600, false), (500, 50, true)] {
            let (mut f, x, wt) = mobility_panel(workers, firms, 4, 0.2, 5);
            if two_way {
                f = fe(vec![f.codes[0].clone(), f.codes[2].clone()]);
            }
            assert!(f.codes[0].windows(2).all(|p| p[0] <= p[1]));
            let n = x.len();
            // A fixed permutation: rows taken with a stride coprime to n.
            let stride = (1..n)
                .rev()
                .find(|s| gcd(*s, n) == 1 && *s > n / 3)
                .unwrap();
            let perm: Vec<usize> = (0..n).map(|k| (k * stride) % n).collect();
            let shuffled = FixedEffects {
                names: f.names.clone(),
                codes: f
                    .codes
                    .iter()
                    .map(|c| perm.iter().map(|&i| c[i]).collect())
                    .collect(),
                n_levels: f.n_levels.clone(),
            };
            let xs: Vec<f64> = perm.iter().map(|&i| x[i]).collect();
            let ws: Vec<f64> = perm.iter().map(|&i| wt[i]).collect();
            for (w, w_shuffled) in [(None, None), (Some(&wt[..]), Some(&ws[..]))] {
                let mut a = x.clone();
                let ia = Demeaner::new(&f, w, DemeanOptions::default()).demean(&mut a);
                let mut b = xs.clone();
                let ib =
                    Demeaner::new(&shuffled, w_shuffled, DemeanOptions::default()).demean(&mut b);
                assert_eq!(ia.method, Method::SchurComplement);
                assert_eq!(ib.method, Method::SchurComplement);
                let back: Vec<f64> = {
                    let mut v = vec![0.0; n];
                    for (k, &i) in perm.iter().enumerate() {
                        v[i] = b[k];
                    }
                    v
                };
                assert_close(&back, &a, 1e-10);
            }
        }
    }

    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }

    #[test]
    fn schur_two_way_is_exact_in_one_go() {
        // firm × year, unbalanced: the reduced system is the 6 × 6 year block (dense).
        let n = 200;
        let firm: Vec<u32> = (0..n).map(|i| (i / 4) as u32).collect();
        let year: Vec<u32> = (0..n).map(|i| ((i * 7 + i / 4) % 6) as u32).collect();
        let f = fe(vec![firm, year]);
        let x: Vec<f64> = (0..n)
            .map(|i| ((i as f64) * 0.91).cos() * 5.0 + 1e6)
            .collect();
        let want = brute_residual(&f, &x);
        let mut got = x.clone();
        let info = Demeaner::new(&f, None, DemeanOptions::default()).demean(&mut got);
        assert_eq!((info.method, info.iterations), (Method::SchurComplement, 0));
        assert_close(&got, &want, 1e-12);
    }
}
