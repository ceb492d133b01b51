//! Unscaled sandwich pieces: meats from scores, bread-meat-bread, and the PSD repair.

use std::collections::HashMap;

use faer::{Mat, MatRef, Side};

use super::Scores;

/// `Σ_i s_i s_i'` for scores `s` (k columns of n). **Complexity**: O(n k²), threaded.
pub fn meat_hetero(scores: &Scores<'_>, n: usize) -> Mat<f64> {
    match scores {
        Scores::Columns(cols) => crate::estimate::gram_columns(cols, n),
        Scores::Product { x, e } => {
            let owned: Vec<Vec<f64>> = x
                .iter()
                .map(|c| c.iter().zip(*e).map(|(a, b)| a * b).collect())
                .collect();
            let cols: Vec<&[f64]> = owned.iter().map(|c| &c[..]).collect();
            crate::estimate::gram_columns(&cols, n)
        }
    }
}

/// `Σ_g S_g S_g'` with `S_g` the sum of the scores of cluster g.
///
/// **Shapes**: `scores`: k columns of n; `codes`: n, each below `g`. **Complexity**:
/// O(n k + g k²); one pass over each score column (the product form `x_i e_i` is formed on
/// the fly, rounded as the materialized scores would be), columns in parallel, each summed in
/// row order (the result does not depend on the thread count).
pub fn meat_cluster(scores: &Scores<'_>, codes: &[u32], g: usize) -> Mat<f64> {
    use rayon::prelude::*;
    let k = scores.len();
    // G × k cluster sums, column-major. Zeros are written, not calloc'ed: the accumulation
    // would otherwise fault every page twice (zero page on the first read, copy on the write).
    let mut sums = Vec::with_capacity(g * k);
    sums.resize(g * k, 0.0);
    if g > 0 {
        sums.par_chunks_mut(g)
            .enumerate()
            .for_each(|(j, dst)| match scores {
                Scores::Columns(cols) => {
                    for (c, v) in codes.iter().zip(cols[j].iter()) {
                        dst[*c as usize] += v;
                    }
                }
                Scores::Product { x, e } => {
                    for ((c, xv), ev) in codes.iter().zip(x[j].iter()).zip(e.iter()) {
                        dst[*c as usize] += xv * ev;
                    }
                }
            });
    }
    let agg = MatRef::from_column_major_slice(&sums, g, k);
    agg.transpose() * agg
}

/// `B M B`.
pub fn sandwich(bread: &Mat<f64>, meat: &Mat<f64>) -> Mat<f64> {
    bread * meat * bread
}

/// Codes of the intersection of two groupings, and their count.
pub fn intersect(a: &[u32], b: &[u32]) -> (Vec<u32>, usize) {
    let mut map: HashMap<(u32, u32), u32> = HashMap::new();
    let codes = a
        .iter()
        .zip(b)
        .map(|(x, y)| {
            let next = map.len() as u32;
            *map.entry((*x, *y)).or_insert(next)
        })
        .collect();
    (codes, map.len())
}

/// Set negative eigenvalues of a symmetric matrix to zero. Returns a warning when it did.
///
/// **Source**: Cameron, Gelbach & Miller (2011), section 2.3; reghdfe does the same.
pub fn make_psd(v: &mut Mat<f64>) -> Option<String> {
    let k = v.nrows();
    // Symmetrize against rounding first.
    for i in 0..k {
        for j in 0..i {
            let m = 0.5 * (v[(i, j)] + v[(j, i)]);
            v[(i, j)] = m;
            v[(j, i)] = m;
        }
    }
    let evd = v.self_adjoint_eigen(Side::Lower).ok()?;
    let s = evd.S().column_vector();
    let scale = (0..k).map(|i| s[i].abs()).fold(0.0f64, f64::max);
    let negative: Vec<f64> = (0..k)
        .map(|i| s[i])
        .filter(|x| *x < -1e-12 * scale.max(f64::MIN_POSITIVE))
        .collect();
    if negative.is_empty() {
        return None;
    }
    let u = evd.U();
    let mut fixed = Mat::<f64>::zeros(k, k);
    for c in 0..k {
        let lambda = s[c].max(0.0);
        if lambda == 0.0 {
            continue;
        }
        for i in 0..k {
            for j in 0..k {
                fixed[(i, j)] += lambda * u[(i, c)] * u[(j, c)];
            }
        }
    }
    *v = fixed;
    Some(format!(
        "the two-way cluster variance was not positive semi-definite (smallest eigenvalue {:.3e}); negative eigenvalues were set to zero",
        negative.iter().cloned().fold(f64::INFINITY, f64::min)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product form gives the same meats as scores written out, to the last bit (the
    /// same products, summed in the same order).
    #[test]
    fn product_scores_equal_written_out_scores() {
        let n = 1000;
        let x: Vec<Vec<f64>> = (0..3)
            .map(|j| {
                (0..n)
                    .map(|i| ((i * 7 + j * 13) % 17) as f64 - 8.3)
                    .collect()
            })
            .collect();
        let e: Vec<f64> = (0..n).map(|i| ((i * 5) % 11) as f64 * 0.37 - 1.9).collect();
        let codes: Vec<u32> = (0..n).map(|i| (i % 37) as u32).collect();
        let written: Vec<Vec<f64>> = x
            .iter()
            .map(|c| c.iter().zip(&e).map(|(a, b)| a * b).collect())
            .collect();
        let xr: Vec<&[f64]> = x.iter().map(|c| &c[..]).collect();
        let wr: Vec<&[f64]> = written.iter().map(|c| &c[..]).collect();
        let product = Scores::Product { x: &xr, e: &e };
        let columns = Scores::Columns(&wr);
        for (a, b) in [
            (
                meat_cluster(&product, &codes, 37),
                meat_cluster(&columns, &codes, 37),
            ),
            (meat_hetero(&product, n), meat_hetero(&columns, n)),
        ] {
            assert!(a[(0, 0)] > 0.0);
            for i in 0..3 {
                for j in 0..3 {
                    assert_eq!(a[(i, j)].to_bits(), b[(i, j)].to_bits());
                }
            }
        }
        // And the cluster meat is Σ_g S_g S_g' computed by hand.
        let mut s = vec![[0.0f64; 3]; 37];
        for i in 0..n {
            for j in 0..3 {
                s[codes[i] as usize][j] += written[j][i];
            }
        }
        let m = meat_cluster(&product, &codes, 37);
        let hand: f64 = s.iter().map(|sg| sg[0] * sg[2]).sum();
        assert!((m[(0, 2)] - hand).abs() <= 1e-12 * hand.abs().max(1.0));
    }
}
