//! Exact elimination of one fixed effect: the reduced (Schur complement) normal equations.
//!
//! With fixed effects `D = [D_E, Z]`, where `D_E` holds the dummies of the fixed effect with the
//! most levels (eliminated exactly) and `Z` the dummies of the others (m columns), the
//! residual of a column `x` on `D` (weights `W`) is
//!
//! ```text
//! M_D x = M_E x − M_E Z θ,   where   S θ = Z' W M_E x,   S = Z' W M_E Z = Z'WZ − B' N⁻¹ B,
//! ```
//!
//! `M_E` subtracts weighted means within the eliminated levels, `B = D_E' W Z` (one sparse row
//! `v_e` per eliminated level, the weight of each remaining level within it) and
//! `N = diag(D_E' W D_E)`. `S` is small (m × m, e.g. 20,000 firms + 5 years once 200,000
//! workers are eliminated, or just 10 years once 100,000 firms are), so every column costs two
//! passes over the data; the iterative part works on `S` only:
//!
//! - m ≤ [`DENSE_MAX`]: `θ = S⁺ r` with the pseudo-inverse from a symmetric eigendecomposition
//!   (exact up to rounding; `S` is singular, e.g. the constant is shared);
//! - otherwise: conjugate gradients on the sparse `S` with a Jacobi preconditioner. `S` is
//!   positive semi-definite and the right-hand side lies in its range, so CG converges to a
//!   solution; the null-space part of `θ` does not change `M_E Z θ`.
//!
//! Per column, with `x̄_e` the weighted mean of `x` in eliminated level `e` and
//! `c_e = x̄_e − v_e'θ / n_e`, the residual is `x_i − c_{e(i)} − z_i'θ` (one pass to get the
//! level sums and `Z'Wx`, one to write the residual).
//!
//! **Source**: block elimination (Frisch-Waugh-Lovell on the largest fixed effect), as
//! Abowd, Creecy & Kramarz (2002, "Computing person and firm effects using linked longitudinal
//! employer-employee data") do for worker-firm models: person effects swept out exactly,
//! conjugate gradients on the firm effects. Tested against the iterative algorithm and
//! pyfixest (`tests/cli_fit.rs`).

use rayon::prelude::*;

use super::FixedEffects;

/// Rows per block of the two passes over a column.
const PASS_BLOCK: usize = 2048;

/// Reduced systems up to this size are solved with a dense pseudo-inverse.
pub const DENSE_MAX: usize = 400;

/// Relative size below which an eigenvalue of `S` counts as zero (times m and the largest one).
const EIGEN_TOL: f64 = 1e3 * f64::EPSILON;

/// A diagonal element of `S` at most this fraction of the level's weight sum is treated as
/// exactly zero (the level is absorbed by the eliminated fixed effect, e.g. a firm whose
/// workers never move).
const ZERO_DIAG_TOL: f64 = 1e-9;

/// The eliminated fixed effect, `B`, and the factored (dense) or sparse reduced matrix `S`.
pub(super) struct Reduced {
    /// Index of the eliminated fixed effect.
    elim: usize,
    /// Indices of the other fixed effects and their offsets in the m-vector θ.
    rest: Vec<usize>,
    offset: Vec<usize>,
    m: usize,
    /// 1 / weight sum of each eliminated level (0 for an empty level).
    inv_n: Vec<f64>,
    /// Euclidean norm of the weight sums of the remaining levels (scale of Z'W x).
    wsum_norm: f64,
    /// B in CSR by eliminated level (empty when `runs` and a dense S make it unnecessary:
    /// see [`dense_from_runs`]).
    b_ptr: Vec<usize>,
    b_idx: Vec<u32>,
    b_val: Vec<f64>,
    /// When the rows come in level order of the eliminated fixed effect: where each level's
    /// run of rows starts (g + 1 entries).
    runs: Option<Vec<usize>>,
    solver: Solver,
}

/// Borrowed parts of a [`Reduced`] used while assembling S.
struct Views<'a> {
    rest: &'a [usize],
    offset: &'a [usize],
    m: usize,
    b_ptr: &'a [usize],
    b_idx: &'a [u32],
    b_val: &'a [f64],
    inv_n: &'a [f64],
}

enum Solver {
    /// m × m pseudo-inverse of S and S itself (to check each solve), column-major.
    Dense { pinv: Vec<f64>, s: Vec<f64> },
    /// S in CSR, and the Jacobi preconditioner (0 where the diagonal is zero).
    Sparse {
        ptr: Vec<usize>,
        idx: Vec<u32>,
        val: Vec<f64>,
        inv_diag: Vec<f64>,
    },
}

impl Reduced {
    /// Build the reduced system, or `None` when it would cost more than alternating
    /// projections (a few large eliminated levels spanning many other levels, as in a
    /// balanced firm × day panel, where `Σ_e nnz(v_e)²` explodes but projections converge in
    /// a few sweeps).
    ///
    /// **Shapes**: `fe` has at least two fixed effects on n rows; `weights`: n or `None`;
    /// `inv_wsum[q]`: 1 / level weight sums of fixed effect q.
    pub(super) fn new(
        fe: &FixedEffects,
        weights: Option<&[f64]>,
        inv_wsum: &[Vec<f64>],
    ) -> Option<Reduced> {
        let q = fe.len();
        debug_assert!(q >= 2);
        let n = fe.codes[0].len();
        let mut elim = 0;
        for j in 1..q {
            if fe.n_levels[j] > fe.n_levels[elim] {
                elim = j;
            }
        }
        let rest: Vec<usize> = (0..q).filter(|&j| j != elim).collect();
        let mut offset = Vec::with_capacity(rest.len() + 1);
        let mut m = 0;
        for &j in &rest {
            offset.push(m);
            m += fe.n_levels[j];
        }
        offset.push(m);
        if m >= u32::MAX as usize {
            return None;
        }
        let g = fe.n_levels[elim];
        let codes_e = &fe.codes[elim];

        // Rows grouped by eliminated level: a counting sort, skipped when the rows already
        // come in level order (a panel sorted by firm): then row k of the grouping is row k.
        let mut row_ptr = vec![0usize; g + 1];
        for &c in codes_e {
            row_ptr[c as usize + 1] += 1;
        }
        for e in 0..g {
            row_ptr[e + 1] += row_ptr[e];
        }
        let order: Option<Vec<u32>> = if codes_e.windows(2).all(|p| p[0] <= p[1]) {
            None
        } else {
            let mut next = row_ptr[..g].to_vec();
            let mut order = vec![0u32; n];
            for (i, &c) in codes_e.iter().enumerate() {
                order[next[c as usize]] = i as u32;
                next[c as usize] += 1;
            }
            Some(order)
        };
        let order = order.as_deref();
        let w = |i: usize| weights.map_or(1.0, |w| w[i]);
        let inv_n = inv_wsum[elim].clone();
        // Weight sum of each remaining level: the diagonal of Z'WZ, and the scale for "zero"
        // diagonal elements of S.
        let mut wsum = vec![0.0; m];
        for (t, &qq) in rest.iter().enumerate() {
            for (i, c) in fe.codes[qq].iter().enumerate() {
                wsum[offset[t] + *c as usize] += w(i);
            }
        }
        // Budget: assembling S costs Σ_e nnz(v_e)² (plus m² if dense); projections cost a
        // few passes.
        let budget = (40.0 * n as f64).max(4e7);

        if let (None, [q], true) = (order, &rest[..], m <= DENSE_MAX) {
            // Sorted rows, one other fixed effect, small S (a firm-year panel sorted by firm):
            // S is assembled from the runs of rows directly and B is never stored; the
            // demeaning's runs path does not use it.
            let codes_q = &fe.codes[*q][..];
            let (s, cost) = dense_from_runs(codes_q, weights, &row_ptr, &inv_n, &wsum, m);
            if cost > budget || (m * m) as f64 > budget {
                return None;
            }
            let pinv = pseudo_inverse(&s, &wsum, m);
            return Some(Reduced {
                elim,
                rest,
                offset,
                m,
                inv_n,
                wsum_norm: wsum.iter().map(|v| v * v).sum::<f64>().sqrt(),
                b_ptr: Vec::new(),
                b_idx: Vec::new(),
                b_val: Vec::new(),
                runs: Some(row_ptr),
                solver: Solver::Dense { pinv, s },
            });
        }

        // B = D_E' W Z, one row per eliminated level, built over fixed chunks of levels in
        // parallel (the result does not depend on the thread count). A chunk has at most
        // (its rows × remaining fixed effects) entries: each writes into its own slice of
        // that size, and the slices are then moved together. The buffers are written before
        // they are read, so only the pages used are ever touched.
        let chunk = g.div_ceil(64).max(1);
        let n_chunks = g.div_ceil(chunk);
        let levels = |c: usize| (c * chunk, ((c + 1) * chunk).min(g));
        let bound: Vec<usize> = (0..n_chunks)
            .map(|c| {
                let (lo, hi) = levels(c);
                (row_ptr[hi] - row_ptr[lo]) * rest.len()
            })
            .collect();
        let total: usize = bound.iter().sum();
        let mut b_idx = vec![0u32; total];
        let mut b_val = vec![0.0f64; total];
        let mut b_len = vec![0usize; g];
        let (mut idx_parts, mut val_parts) = (Vec::new(), Vec::new());
        {
            let (mut idx_rest, mut val_rest) = (&mut b_idx[..], &mut b_val[..]);
            for &b in &bound {
                let (i, ir) = idx_rest.split_at_mut(b);
                let (v, vr) = val_rest.split_at_mut(b);
                idx_parts.push(i);
                val_parts.push(v);
                idx_rest = ir;
                val_rest = vr;
            }
        }
        let filled: Vec<(usize, f64)> = idx_parts
            .into_par_iter()
            .zip(val_parts)
            .zip(b_len.par_chunks_mut(chunk))
            .enumerate()
            .map(|(c, ((idx, val), len))| {
                let (lo, hi) = levels(c);
                let mut v_e = SparseAccumulator::new(m);
                let (mut used, mut cost) = (0usize, 0.0);
                for e in lo..hi {
                    v_e.start(e);
                    for k in row_ptr[e]..row_ptr[e + 1] {
                        let i = order.map_or(k, |o| o[k] as usize);
                        let wi = w(i);
                        for (t, &qq) in rest.iter().enumerate() {
                            v_e.add(offset[t] + fe.codes[qq][i] as usize, wi);
                        }
                    }
                    cost += (v_e.touched.len() as f64).powi(2);
                    len[e - lo] = v_e.touched.len();
                    for &j in &v_e.touched {
                        idx[used] = j;
                        val[used] = v_e.acc[j as usize];
                        used += 1;
                    }
                }
                (used, cost)
            })
            .collect();
        let cost: f64 = filled.iter().map(|f| f.1).sum();
        if cost > budget || (m <= DENSE_MAX && (m * m) as f64 > budget) {
            return None;
        }
        let mut nnz_b = 0;
        let mut start = 0;
        for (&(used, _), &b) in filled.iter().zip(&bound) {
            if start != nnz_b {
                b_idx.copy_within(start..start + used, nnz_b);
                b_val.copy_within(start..start + used, nnz_b);
            }
            nnz_b += used;
            start += b;
        }
        b_idx.truncate(nnz_b);
        b_val.truncate(nnz_b);
        // Unused room at the end is returned (in place for mapped buffers).
        b_idx.shrink_to_fit();
        b_val.shrink_to_fit();
        let mut b_ptr = Vec::with_capacity(g + 1);
        b_ptr.push(0);
        for l in b_len {
            b_ptr.push(b_ptr.last().copied().unwrap_or(0) + l);
        }
        // Sorted rows: each level is a run of rows, and the passes walk the runs.
        let runs = order.is_none().then_some(row_ptr);

        let mut reduced = Reduced {
            elim,
            rest,
            offset,
            m,
            inv_n,
            wsum_norm: wsum.iter().map(|v| v * v).sum::<f64>().sqrt(),
            b_ptr,
            b_idx,
            b_val,
            runs,
            solver: Solver::Dense {
                pinv: Vec::new(),
                s: Vec::new(),
            },
        };
        reduced.solver = if m <= DENSE_MAX {
            reduced.dense_solver(fe, weights, &wsum)
        } else {
            reduced.sparse_solver(fe, weights, &wsum)
        };
        Some(reduced)
    }

    fn views(&self) -> Views<'_> {
        Views {
            rest: &self.rest,
            offset: &self.offset,
            m: self.m,
            b_ptr: &self.b_ptr,
            b_idx: &self.b_idx,
            b_val: &self.b_val,
            inv_n: &self.inv_n,
        }
    }

    /// Small S (m ≤ [`DENSE_MAX`]): assembled dense, Z'WZ from one pass, B'N⁻¹B over fixed
    /// chunks of eliminated levels (partial sums added in chunk order), then pseudo-inverted.
    fn dense_solver(&self, fe: &FixedEffects, weights: Option<&[f64]>, wsum: &[f64]) -> Solver {
        let Views {
            rest,
            offset,
            m,
            b_ptr,
            b_idx,
            b_val,
            inv_n,
        } = self.views();
        let g = inv_n.len();
        let w = |i: usize| weights.map_or(1.0, |w| w[i]);
        let mut s = vec![0.0; m * m];
        for j in 0..m {
            s[j * m + j] = wsum[j];
        }
        for (t, &qa) in rest.iter().enumerate() {
            for (u, &qb) in rest.iter().enumerate().skip(t + 1) {
                for (i, (ca, cb)) in fe.codes[qa].iter().zip(&fe.codes[qb]).enumerate() {
                    let (a, b) = (offset[t] + *ca as usize, offset[u] + *cb as usize);
                    s[a * m + b] += w(i);
                    s[b * m + a] += w(i);
                }
            }
        }
        let chunk = g.div_ceil(8).max(1);
        let partials: Vec<Vec<f64>> = (0..g.div_ceil(chunk))
            .into_par_iter()
            .map(|c| {
                let mut part = vec![0.0; m * m];
                for e in c * chunk..((c + 1) * chunk).min(g) {
                    let range = b_ptr[e]..b_ptr[e + 1];
                    for ka in range.clone() {
                        let f = b_val[ka] * inv_n[e];
                        let col = b_idx[ka] as usize * m;
                        for kb in range.clone() {
                            part[col + b_idx[kb] as usize] -= f * b_val[kb];
                        }
                    }
                }
                part
            })
            .collect();
        for part in &partials {
            s.iter_mut().zip(part).for_each(|(a, b)| *a += b);
        }
        let pinv = pseudo_inverse(&s, wsum, m);
        Solver::Dense { pinv, s }
    }

    /// Large S: sparse, row by row (Gustavson's product with a dense accumulator per thread),
    /// with the Jacobi preconditioner for CG.
    fn sparse_solver(&self, fe: &FixedEffects, weights: Option<&[f64]>, wsum: &[f64]) -> Solver {
        let Views {
            rest,
            offset,
            m,
            b_ptr,
            b_idx,
            b_val,
            inv_n,
        } = self.views();
        let g = inv_n.len();
        let w = |i: usize| weights.map_or(1.0, |w| w[i]);
        let n = fe.codes[0].len();
        // Bᵀ: for each remaining level, the eliminated levels that touch it.
        let mut bt_ptr = vec![0usize; m + 1];
        for &j in b_idx {
            bt_ptr[j as usize + 1] += 1;
        }
        for j in 0..m {
            bt_ptr[j + 1] += bt_ptr[j];
        }
        let mut next = bt_ptr[..m].to_vec();
        let mut bt_e = vec![0u32; b_idx.len()];
        let mut bt_val = vec![0.0; b_idx.len()];
        for e in 0..g {
            for k in b_ptr[e]..b_ptr[e + 1] {
                let j = b_idx[k] as usize;
                bt_e[next[j]] = e as u32;
                bt_val[next[j]] = b_val[k];
                next[j] += 1;
            }
        }
        drop(next);

        // Z'WZ: the level weight sums on the diagonal; between two remaining fixed effects,
        // their cross-tabulation, from the rows grouped by each remaining level.
        let level_rows: Vec<(Vec<usize>, Vec<u32>)> = if rest.len() > 1 {
            rest.par_iter()
                .enumerate()
                .map(|(t, &qq)| {
                    let levels = offset[t + 1] - offset[t];
                    let mut ptr = vec![0usize; levels + 1];
                    for &c in &fe.codes[qq] {
                        ptr[c as usize + 1] += 1;
                    }
                    for l in 0..levels {
                        ptr[l + 1] += ptr[l];
                    }
                    let mut next = ptr[..levels].to_vec();
                    let mut rows = vec![0u32; n];
                    for (i, &c) in fe.codes[qq].iter().enumerate() {
                        rows[next[c as usize]] = i as u32;
                        next[c as usize] += 1;
                    }
                    (ptr, rows)
                })
                .collect()
        } else {
            Vec::new()
        };

        // Which remaining fixed effect a level of θ belongs to.
        let block_of = |j: usize| offset.partition_point(|&o| o <= j) - 1;

        // Row j of S = (Z'WZ)_j − Σ_{e ∋ j} b_ej v_e / n_e (Gustavson's row-by-row product
        // with a dense accumulator per thread).
        let rows: Vec<(Vec<u32>, Vec<f64>)> = (0..m)
            .into_par_iter()
            .map_init(
                || SparseAccumulator::new(m),
                |row, j| {
                    let t = block_of(j);
                    let level = j - offset[t];
                    row.start(j);
                    let mut add = |k: usize, v: f64| row.add(k, v);
                    add(j, wsum[j]);
                    if let Some((ptr, group)) = level_rows.get(t) {
                        for &i in &group[ptr[level]..ptr[level + 1]] {
                            let i = i as usize;
                            let wi = w(i);
                            for (tt, &qq) in rest.iter().enumerate() {
                                if tt != t {
                                    add(offset[tt] + fe.codes[qq][i] as usize, wi);
                                }
                            }
                        }
                    }
                    for s in bt_ptr[j]..bt_ptr[j + 1] {
                        let e = bt_e[s] as usize;
                        let f = bt_val[s] * inv_n[e];
                        for k in b_ptr[e]..b_ptr[e + 1] {
                            add(b_idx[k] as usize, -f * b_val[k]);
                        }
                    }
                    let idx: Vec<u32> = std::mem::take(&mut row.touched);
                    let val: Vec<f64> = idx.iter().map(|&k| row.acc[k as usize]).collect();
                    row.touched = Vec::with_capacity(idx.len());
                    (idx, val)
                },
            )
            .collect();
        drop((level_rows, bt_ptr, bt_e, bt_val));

        {
            let mut ptr = Vec::with_capacity(m + 1);
            ptr.push(0);
            let nnz: usize = rows.iter().map(|r| r.0.len()).sum();
            let mut idx = Vec::with_capacity(nnz);
            let mut val = Vec::with_capacity(nnz);
            let mut inv_diag = vec![0.0; m];
            for (j, (ri, rv)) in rows.into_iter().enumerate() {
                for (k, v) in ri.iter().zip(&rv) {
                    if *k as usize == j && *v > ZERO_DIAG_TOL * wsum[j] {
                        inv_diag[j] = 1.0 / v;
                    }
                }
                idx.extend_from_slice(&ri);
                val.extend_from_slice(&rv);
                ptr.push(idx.len());
            }
            Solver::Sparse {
                ptr,
                idx,
                val,
                inv_diag,
            }
        }
    }

    /// Replace `x` (n rows) by its residual on all fixed-effect dummies.
    ///
    /// The column is shifted by its first value first (any constant lies in the span, so this
    /// only removes the cancellation error of a large common level). `tol`: CG stops when a
    /// step moves no residual element by more than `tol` times the column's weighted standard
    /// deviation. Returns (CG iterations, converged); a dense solve reports (0, true).
    ///
    /// Rows sorted by the eliminated fixed effect with one other fixed effect (a firm-year
    /// panel sorted by firm) take a path that walks each level's run of rows and needs no B:
    /// the reduced right-hand side `Z'W(x − x̄_e)` and `v_e'θ = Σ_{i∈e} wᵢ θ_{z(i)}` are summed
    /// over the run itself (it is in cache), and each residual is written once.
    pub(super) fn demean(
        &self,
        fe: &FixedEffects,
        weights: Option<&[f64]>,
        x: &mut [f64],
        tol: f64,
        max_iter: usize,
    ) -> (usize, bool) {
        let g = self.inv_n.len();
        let shift = x.first().copied().unwrap_or(0.0);
        let runs = match (&self.runs, &self.rest[..]) {
            (Some(runs), [q]) => Some((&runs[..], &fe.codes[*q][..])),
            _ => None,
        };
        // Pass 1: the means of x within eliminated levels, rhs = Z'W(x − x̄_e) (= Z'Wx − B'x̄),
        // and the moments for the standard deviation.
        let (mut sw, mut s1, mut s2) = (0.0, 0.0, 0.0);
        let mut means = vec![0.0; g];
        let mut rhs = vec![0.0; self.m];
        if let Some((runs, codes)) = runs {
            for (e, mean) in means.iter_mut().enumerate() {
                let (lo, hi) = (runs[e], runs[e + 1]);
                let (xr, cr) = (&x[lo..hi], &codes[lo..hi]);
                let mut acc = 0.0;
                match weights {
                    None => {
                        for v in xr {
                            let d = v - shift;
                            acc += d;
                            s1 += d;
                            s2 += d * d;
                        }
                        sw += (hi - lo) as f64;
                        let xbar = acc * self.inv_n[e];
                        for (v, c) in xr.iter().zip(cr) {
                            rhs[*c as usize] += (v - shift) - xbar;
                        }
                        *mean = xbar;
                    }
                    Some(w) => {
                        let wr = &w[lo..hi];
                        for (v, wi) in xr.iter().zip(wr) {
                            let dv = v - shift;
                            let d = wi * dv;
                            sw += wi;
                            acc += d;
                            s1 += d;
                            s2 += d * dv;
                        }
                        let xbar = acc * self.inv_n[e];
                        for ((v, c), wi) in xr.iter().zip(cr).zip(wr) {
                            rhs[*c as usize] += wi * ((v - shift) - xbar);
                        }
                        *mean = xbar;
                    }
                }
            }
        } else {
            self.pass1_blocks(
                fe,
                weights,
                x,
                shift,
                &mut means,
                &mut rhs,
                (&mut sw, &mut s1, &mut s2),
            );
            // Means within eliminated levels; rhs = Z'Wx − B' x̄.
            for (e, (s, inv)) in means.iter_mut().zip(&self.inv_n).enumerate() {
                *s *= inv;
                let xbar = *s;
                for k in self.b_ptr[e]..self.b_ptr[e + 1] {
                    rhs[self.b_idx[k] as usize] -= self.b_val[k] * xbar;
                }
            }
        }
        let mean = s1 / sw;
        let sd = (s2 / sw - mean * mean).max(0.0).sqrt();
        let (theta, iters, converged) = self.solve(&rhs, tol * sd, sd, max_iter);
        // Pass 2: the residual x − c_e − z'θ, with c_e = x̄_e − v_e'θ / n_e.
        if let Some((runs, codes)) = runs {
            for (e, xbar) in means.iter().enumerate() {
                let (lo, hi) = (runs[e], runs[e + 1]);
                let cr = &codes[lo..hi];
                let vt: f64 = match weights {
                    None => cr.iter().map(|c| theta[*c as usize]).sum(),
                    Some(w) => cr
                        .iter()
                        .zip(&w[lo..hi])
                        .map(|(c, wi)| wi * theta[*c as usize])
                        .sum(),
                };
                let ce_val = xbar - vt * self.inv_n[e];
                for (o, c) in x[lo..hi].iter_mut().zip(cr) {
                    *o = ((*o - shift) - ce_val) - theta[*c as usize];
                }
            }
        } else {
            let mut c = means;
            for (e, (ce_val, inv)) in c.iter_mut().zip(&self.inv_n).enumerate() {
                let mut vt = 0.0;
                for k in self.b_ptr[e]..self.b_ptr[e + 1] {
                    vt += self.b_val[k] * theta[self.b_idx[k] as usize];
                }
                *ce_val -= vt * inv;
            }
            let ce = &fe.codes[self.elim];
            let n = x.len();
            // In the same blocks as pass 1.
            for lo in (0..n).step_by(PASS_BLOCK) {
                let hi = (lo + PASS_BLOCK).min(n);
                for (o, e) in x[lo..hi].iter_mut().zip(&ce[lo..hi]) {
                    *o = (*o - shift) - c[*e as usize];
                }
                for (t, &qq) in self.rest.iter().enumerate() {
                    let seg = &theta[self.offset[t]..self.offset[t + 1]];
                    for (o, cq) in x[lo..hi].iter_mut().zip(&fe.codes[qq][lo..hi]) {
                        *o -= seg[*cq as usize];
                    }
                }
            }
        }
        (iters, converged)
    }

    /// θ from the reduced right-hand side `rhs` (m): the dense pseudo-inverse (checked) or
    /// CG. `threshold`: CG's step tolerance; `sd`: the column's weighted standard deviation
    /// (scale of the dense check's floor). Returns (θ, CG iterations, converged).
    fn solve(
        &self,
        rhs: &[f64],
        threshold: f64,
        sd: f64,
        max_iter: usize,
    ) -> (Vec<f64>, usize, bool) {
        match &self.solver {
            Solver::Dense { pinv, s } => {
                let m = self.m;
                let matvec = |a: &[f64], v: &[f64]| {
                    let mut out = vec![0.0; m];
                    for (c, r) in v.iter().enumerate() {
                        if *r != 0.0 {
                            let col = &a[c * m..(c + 1) * m];
                            out.iter_mut().zip(col).for_each(|(t, p)| *t += p * r);
                        }
                    }
                    out
                };
                let theta = matvec(pinv, rhs);
                // The pseudo-inverse must solve the system: a residual above 1e-8 of the
                // right-hand side means an eigenvalue was cut that mattered (reported as not
                // converged, which the fit turns into a warning). The floor covers a right-hand
                // side that is itself rounding noise (the other fixed effects nested in the
                // eliminated one, or a regressor constant within its levels): noise is about
                // ε·sd·‖level weight sums‖, the floor 10⁶ times that.
                let st = matvec(s, &theta);
                let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|a| a * a).sum::<f64>().sqrt();
                let res = norm(&mut st.iter().zip(rhs).map(|(a, b)| a - b));
                let scale = norm(&mut rhs.iter().copied());
                (theta, 0, res <= 1e-8 * scale + 1e-10 * sd * self.wsum_norm)
            }
            Solver::Sparse {
                ptr,
                idx,
                val,
                inv_diag,
            } => self.conjugate_gradient(ptr, idx, val, inv_diag, rhs, threshold, max_iter),
        }
    }

    /// Pass 1 over rows in blocks that stay in cache, each fixed effect in its own tight loop:
    /// the weighted sums of `x − shift` within eliminated levels (`sums_e`), Z'W(x − shift)
    /// (`ztx`) and the moments (Σw, Σw·d, Σw·d²) for the standard deviation.
    #[allow(clippy::too_many_arguments)]
    fn pass1_blocks(
        &self,
        fe: &FixedEffects,
        weights: Option<&[f64]>,
        x: &[f64],
        shift: f64,
        sums_e: &mut [f64],
        ztx: &mut [f64],
        (sw, s1, s2): (&mut f64, &mut f64, &mut f64),
    ) {
        let ce = &fe.codes[self.elim];
        let n = x.len();
        let mut wd = [0.0; PASS_BLOCK];
        for lo in (0..n).step_by(PASS_BLOCK) {
            let hi = (lo + PASS_BLOCK).min(n);
            let wd = &mut wd[..hi - lo];
            match weights {
                None => {
                    for (d, v) in wd.iter_mut().zip(&x[lo..hi]) {
                        *d = v - shift;
                        *s1 += *d;
                        *s2 += *d * *d;
                    }
                    *sw += (hi - lo) as f64;
                }
                Some(w) => {
                    for ((d, v), wi) in wd.iter_mut().zip(&x[lo..hi]).zip(&w[lo..hi]) {
                        let dv = v - shift;
                        *d = wi * dv;
                        *sw += wi;
                        *s1 += *d;
                        *s2 += *d * dv;
                    }
                }
            }
            for (d, e) in wd.iter().zip(&ce[lo..hi]) {
                sums_e[*e as usize] += d;
            }
            for (t, &qq) in self.rest.iter().enumerate() {
                let seg = &mut ztx[self.offset[t]..self.offset[t + 1]];
                for (d, c) in wd.iter().zip(&fe.codes[qq][lo..hi]) {
                    seg[*c as usize] += d;
                }
            }
        }
    }

    /// Jacobi-preconditioned CG on the sparse S from θ = 0. Returns (θ, iterations, converged).
    #[allow(clippy::too_many_arguments)]
    fn conjugate_gradient(
        &self,
        ptr: &[usize],
        idx: &[u32],
        val: &[f64],
        inv_diag: &[f64],
        rhs: &[f64],
        threshold: f64,
        max_iter: usize,
    ) -> (Vec<f64>, usize, bool) {
        let m = self.m;
        let mut theta = vec![0.0; m];
        let mut r: Vec<f64> = rhs.to_vec();
        // Levels with a zero diagonal are absorbed: keep them out of every search direction.
        r.iter_mut()
            .zip(inv_diag)
            .for_each(|(v, d)| *v = if *d > 0.0 { *v } else { 0.0 });
        let mut z: Vec<f64> = r.iter().zip(inv_diag).map(|(a, b)| a * b).collect();
        let mut p = z.clone();
        let mut ap = vec![0.0; m];
        let mut rz: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
        let rz0 = rz;
        if rz0 == 0.0 {
            return (theta, 0, true);
        }
        // Past convergence, CG on a singular system only amplifies rounding along the null
        // space (the residual recurrence stalls near rz0·1e-30, then grows): keep the iterate
        // with the smallest residual and stop once the residual grows well above it.
        let mut best = (rz, theta.clone());
        let done = |best: (f64, Vec<f64>), it: usize, ok: bool| (best.1, it, ok);
        for it in 1..=max_iter {
            for j in 0..m {
                let mut s = 0.0;
                for k in ptr[j]..ptr[j + 1] {
                    s += val[k] * p[idx[k] as usize];
                }
                ap[j] = s;
            }
            let pap: f64 = p.iter().zip(&ap).map(|(a, b)| a * b).sum();
            if pap <= 0.0 || !pap.is_finite() {
                // No curvature left along p: the residual is rounding along the null space.
                let ok = best.0 <= rz0 * 1e-20;
                return done(best, it, ok);
            }
            let alpha = rz / pap;
            // A step changes a residual element by α(z_i'p − v_e'p/n_e): at most twice the
            // sum over fixed effects of the largest |p| in each.
            let mut bound = 0.0;
            for t in 0..self.rest.len() {
                let block = &p[self.offset[t]..self.offset[t + 1]];
                bound += block.iter().fold(0.0f64, |mx, v| mx.max(v.abs()));
            }
            for j in 0..m {
                theta[j] += alpha * p[j];
                r[j] -= alpha * ap[j];
            }
            for j in 0..m {
                z[j] = r[j] * inv_diag[j];
            }
            let rz_new: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
            if rz_new < best.0 {
                best.0 = rz_new;
                best.1.copy_from_slice(&theta);
            }
            if 2.0 * alpha.abs() * bound <= threshold || rz_new <= rz0 * 1e-30 {
                return done(best, it, true);
            }
            if rz_new > 1e6 * best.0 && best.0 <= rz0 * 1e-20 {
                return done(best, it, true);
            }
            let beta = rz_new / rz;
            rz = rz_new;
            for j in 0..m {
                p[j] = z[j] + beta * p[j];
            }
        }
        let ok = best.0 <= rz0 * 1e-20;
        done(best, max_iter, ok)
    }
}

/// A sparse row summed into a dense buffer of m slots (Gustavson's accumulator): `add`
/// sums into a slot, and `touched` lists the slots of the current row in the order they were
/// first touched. Starting a new row forgets the old one without clearing the buffer.
struct SparseAccumulator {
    acc: Vec<f64>,
    /// The row that last touched each slot.
    stamp: Vec<u32>,
    touched: Vec<u32>,
    /// The row being summed.
    current: u32,
}

impl SparseAccumulator {
    fn new(m: usize) -> Self {
        SparseAccumulator {
            acc: vec![0.0; m],
            stamp: vec![u32::MAX; m],
            touched: Vec::new(),
            current: u32::MAX,
        }
    }

    /// Begin row `row` (a key distinct from the previous rows').
    fn start(&mut self, row: usize) {
        self.touched.clear();
        self.current = row as u32;
    }

    #[inline(always)]
    fn add(&mut self, j: usize, v: f64) {
        let stamp = &mut self.stamp[j];
        if *stamp != self.current {
            *stamp = self.current;
            self.acc[j] = 0.0;
            self.touched.push(j as u32);
        }
        self.acc[j] += v;
    }
}

/// The dense reduced matrix `S = Z'WZ − B'N⁻¹B` (m × m, column-major) for rows sorted by the
/// eliminated fixed effect (`runs`: where each level's rows start) and one other fixed effect
/// (`codes`, m levels), without storing B: each level's row `v_e` of B is summed over its run
/// and used at once. The same products, added in the same order, as assembling S from a
/// stored B; fixed chunks of levels in parallel, partial sums added in chunk order. Returns S
/// and `Σ_e nnz(v_e)²` (the assembly cost).
fn dense_from_runs(
    codes: &[u32],
    weights: Option<&[f64]>,
    runs: &[usize],
    inv_n: &[f64],
    wsum: &[f64],
    m: usize,
) -> (Vec<f64>, f64) {
    let g = inv_n.len();
    let chunk = g.div_ceil(8).max(1);
    let partials: Vec<(Vec<f64>, f64)> = (0..g.div_ceil(chunk))
        .into_par_iter()
        .map(|c| {
            let mut part = vec![0.0; m * m];
            let mut v_e = SparseAccumulator::new(m);
            let mut cost = 0.0;
            for e in c * chunk..((c + 1) * chunk).min(g) {
                v_e.start(e);
                for i in runs[e]..runs[e + 1] {
                    v_e.add(codes[i] as usize, weights.map_or(1.0, |w| w[i]));
                }
                cost += (v_e.touched.len() as f64).powi(2);
                for &ja in &v_e.touched {
                    let f = v_e.acc[ja as usize] * inv_n[e];
                    let col = ja as usize * m;
                    for &jb in &v_e.touched {
                        part[col + jb as usize] -= f * v_e.acc[jb as usize];
                    }
                }
            }
            (part, cost)
        })
        .collect();
    let mut s = vec![0.0; m * m];
    for j in 0..m {
        s[j * m + j] = wsum[j];
    }
    let mut cost = 0.0;
    for (part, c) in &partials {
        s.iter_mut().zip(part).for_each(|(a, b)| *a += b);
        cost += c;
    }
    (s, cost)
}

/// Pseudo-inverse of the symmetric positive semi-definite S (m × m, column-major), column-major.
/// Levels whose diagonal is at most `ZERO_DIAG_TOL` of their weight sum `scale` (absorbed by the
/// eliminated fixed effect) are left out; eigenvalues below `EIGEN_TOL · m · λ_max` count as
/// zero.
fn pseudo_inverse(s_full: &[f64], scale: &[f64], m: usize) -> Vec<f64> {
    let keep: Vec<usize> = (0..m)
        .filter(|&j| s_full[j * m + j] > ZERO_DIAG_TOL * scale[j])
        .collect();
    let mk = keep.len();
    let s = faer::Mat::<f64>::from_fn(mk, mk, |a, b| s_full[keep[b] * m + keep[a]]);
    let mut out = vec![0.0; m * m];
    if mk == 0 {
        return out;
    }
    let Ok(evd) = s.self_adjoint_eigen(faer::Side::Lower) else {
        // The eigensolver does not fail on finite symmetric input; keep θ = 0 otherwise.
        return out;
    };
    let u = evd.U();
    let lambda = evd.S().column_vector();
    let lmax = (0..mk).fold(0.0f64, |mx, i| mx.max(lambda[i].abs()));
    let cut = EIGEN_TOL * mk as f64 * lmax;
    for (b, &jb) in keep.iter().enumerate() {
        for (a, &ja) in keep.iter().enumerate() {
            let mut v = 0.0;
            for l in 0..mk {
                if lambda[l] > cut {
                    v += u[(a, l)] * u[(b, l)] / lambda[l];
                }
            }
            out[jb * m + ja] = v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worker-firm-year panel of the absorb tests (each worker moves with probability
    /// `p_move` a year) and five columns: noise, a column with firm and year effects, an exact
    /// firm effect, a constant (nothing to solve), and a large level plus year effects.
    fn panel(
        workers: usize,
        firms: usize,
        years: usize,
        p_move: f64,
    ) -> (FixedEffects, Vec<Vec<f64>>, Vec<f64>) {
        let (fe, _, wt) = crate::absorb::tests::mobility_panel(workers, firms, years, p_move, 11);
        let (f, t) = (&fe.codes[1], &fe.codes[2]);
        let mut s: u64 = 0x2545f4914f6cdd1d;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let n = f.len();
        let firm_effect: Vec<f64> = (0..fe.n_levels[1]).map(|_| next() * 4.0 - 2.0).collect();
        let cols = vec![
            (0..n).map(|_| next()).collect(),
            (0..n)
                .map(|i| next() + firm_effect[f[i] as usize] + t[i] as f64 * 0.3)
                .collect(),
            (0..n).map(|i| firm_effect[f[i] as usize]).collect(),
            vec![2.5; n],
            (0..n)
                .map(|i| 1e4 + (t[i] * t[i]) as f64 + 0.1 * next())
                .collect(),
        ];
        (fe, cols, wt)
    }

    fn inv_level_sums(fe: &FixedEffects, weights: Option<&[f64]>) -> Vec<Vec<f64>> {
        fe.codes
            .iter()
            .zip(&fe.n_levels)
            .map(|(c, l)| {
                let mut s = vec![0.0; *l];
                for (i, g) in c.iter().enumerate() {
                    s[*g as usize] += weights.map_or(1.0, |w| w[i]);
                }
                s.iter()
                    .map(|v| if *v > 0.0 { 1.0 / v } else { 0.0 })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn sparse_cg_matches_the_dense_pseudo_inverse_of_the_same_s() {
        // 700 firms + 4 years: a sparse S, with stayer-only firms (zero diagonal).
        let (fe, cols, wt) = panel(3000, 700, 4, 0.15);
        for weights in [None, Some(&wt[..])] {
            let inv = inv_level_sums(&fe, weights);
            let mut red = Reduced::new(&fe, weights, &inv).expect("cheap to build");
            assert!(red.m > DENSE_MAX && matches!(red.solver, Solver::Sparse { .. }));
            let sparse: Vec<Vec<f64>> = cols
                .iter()
                .map(|x| {
                    let mut y = x.clone();
                    let (it, ok) = red.demean(&fe, weights, &mut y, 1e-14, 10_000);
                    assert!(ok && it < 10_000);
                    y
                })
                .collect();
            // The dense pseudo-inverse of the same S gives the same residuals.
            let mut wsum = vec![0.0; red.m];
            for (t, &qq) in red.rest.iter().enumerate() {
                for (i, c) in fe.codes[qq].iter().enumerate() {
                    wsum[red.offset[t] + *c as usize] += weights.map_or(1.0, |w| w[i]);
                }
            }
            red.solver = red.dense_solver(&fe, weights, &wsum);
            for (x, got) in cols.iter().zip(&sparse) {
                let mut dense = x.clone();
                assert_eq!(
                    red.demean(&fe, weights, &mut dense, 1e-14, 10_000),
                    (0, true)
                );
                let scale = dense.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                for (a, b) in got.iter().zip(&dense) {
                    assert!((a - b).abs() <= 1e-10 * scale, "{a} vs {b}");
                }
            }
        }
    }
}
