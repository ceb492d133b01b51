//! Unscaled sandwich pieces: meats from scores, bread-meat-bread, and the PSD repair.

use std::collections::HashMap;

use faer::{Mat, MatRef, Side};

/// `Σ_i s_i s_i'` for scores `s` (k columns of n). **Complexity**: O(n k²), threaded.
pub fn meat_hetero(scores: &[&[f64]], n: usize) -> Mat<f64> {
    crate::estimate::gram_columns(scores, n)
}

/// `Σ_g S_g S_g'` with `S_g` the sum of the scores of cluster g.
///
/// **Shapes**: `scores`: k columns of n; `codes`: n, each below `g`. **Complexity**:
/// O(n k + g k²).
pub fn meat_cluster(scores: &[&[f64]], codes: &[u32], g: usize) -> Mat<f64> {
    use rayon::prelude::*;
    let k = scores.len();
    // Cluster sums, one score column per task (each summed in row order).
    let sums: Vec<Vec<f64>> = scores
        .par_iter()
        .map(|col| {
            let mut dst = vec![0.0; g];
            for (c, v) in codes.iter().zip(col.iter()) {
                dst[*c as usize] += v;
            }
            dst
        })
        .collect();
    let agg = MatRef::from_column_major_slice(&sums.concat(), g, k).to_owned();
    agg.transpose() * &agg
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
