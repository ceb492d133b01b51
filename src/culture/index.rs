//! [`PointIndex`]: a static k-d tree over points on the unit sphere, for weighted sums within a
//! radius and nearest-point distances without a double loop.
//!
//! Points are stored as 3-D unit vectors ([`super::geo::unit_vector`]); a great-circle radius is
//! a chord radius in 3-D, so a ball query in the tree is exact and needs no special case at the
//! poles or the ±180° meridian. Every node keeps its bounding box and the sum of its weights, so
//! a plain (count) query adds whole subtrees that lie inside the ball without visiting their
//! points.

use super::geo::{chord_to_km, km_to_chord, unit_vector};
use super::kernel_eval::KernelSum;
use super::measure::Kernel;

/// Points farther than the radius by at most this much (1 mm) still count as inside, so a point
/// exactly on the radius is counted whatever the rounding of its coordinates.
pub const BOUNDARY_TOLERANCE_KM: f64 = 1e-6;

const LEAF_SIZE: usize = 32;
/// Depth-first stack capacity: the tree depth is at most log2(2^32 / LEAF_SIZE) + 1 < 30, and
/// the stack holds at most two entries per level.
const STACK: usize = 80;
const NO_CHILD: u32 = u32::MAX;
/// Points (squared chords and weights) gathered per query before a kernel batch is evaluated.
const BATCH: usize = 256;

/// The per-radius constants of a radius query: the squared chord radius (with
/// [`BOUNDARY_TOLERANCE_KM`]) and the kernel evaluator.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RadiusQuery {
    kernel: Kernel,
    c2: f64,
    eval: KernelSum,
}

impl RadiusQuery {
    /// **Units**: km.
    pub(crate) fn new(radius_km: f64, kernel: Kernel, bandwidth_km: f64) -> RadiusQuery {
        let c = km_to_chord(radius_km + BOUNDARY_TOLERANCE_KM);
        let c2 = c * c;
        RadiusQuery {
            kernel,
            c2,
            eval: KernelSum::new(kernel, bandwidth_km, c2),
        }
    }
}

#[derive(Debug, Clone)]
struct Node {
    lo: [f64; 3],
    hi: [f64; 3],
    start: u32,
    end: u32,
    left: u32,
    right: u32,
    weight_sum: f64,
}

/// A k-d tree over weighted points on the sphere.
///
/// **Shapes**: built from n points; stores n unit vectors, n weights and about 2n/32 nodes (leaves of at most 32 points).
///
/// **Complexity**: build O(n log n); a radius query visits O(√n + m) nodes for m points near the
/// boundary (whole subtrees inside the radius cost one node for [`Kernel::Count`]); nearest
/// O(log n) on average.
#[derive(Debug, Clone)]
pub struct PointIndex {
    // Struct of arrays in tree order, so a leaf's points are contiguous per coordinate and the
    // leaf loops below compile to branch-free, vectorisable code.
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    weight: Vec<f64>,
    original: Vec<u32>,
    nodes: Vec<Node>,
}

impl PointIndex {
    /// Build the tree.
    ///
    /// **Shapes**: `lat_deg`, `lon_deg`, `weight`: n each. **Units**: degrees.
    ///
    /// **Panics**: if the lengths differ or n ≥ 2³² (callers check coordinates beforehand).
    #[track_caller]
    pub fn new(lat_deg: &[f64], lon_deg: &[f64], weight: &[f64]) -> PointIndex {
        assert!(
            lat_deg.len() == lon_deg.len() && lon_deg.len() == weight.len(),
            "equal lengths"
        );
        assert!(lat_deg.len() < u32::MAX as usize, "fewer than 2^32 points");
        let xyz0: Vec<[f64; 3]> = lat_deg
            .iter()
            .zip(lon_deg)
            .map(|(a, b)| unit_vector(*a, *b))
            .collect();
        let mut order: Vec<u32> = (0..xyz0.len() as u32).collect();
        let mut nodes = Vec::with_capacity(2 * xyz0.len() / LEAF_SIZE + 1);
        if !xyz0.is_empty() {
            build(&xyz0, weight, &mut order, 0, &mut nodes);
        }
        PointIndex {
            x: order.iter().map(|&i| xyz0[i as usize][0]).collect(),
            y: order.iter().map(|&i| xyz0[i as usize][1]).collect(),
            z: order.iter().map(|&i| xyz0[i as usize][2]).collect(),
            weight: order.iter().map(|&i| weight[i as usize]).collect(),
            original: order,
            nodes,
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Σ weight·kernel(distance) over the points within `radius_km` of a location.
    ///
    /// A point counts when its great-circle distance d ≤ `radius_km` (+ [`BOUNDARY_TOLERANCE_KM`]).
    /// No point within the radius gives 0.
    ///
    /// **Units**: `lat_deg`, `lon_deg` in degrees; `radius_km`, `bandwidth_km` in km.
    pub fn sum_within(
        &self,
        lat_deg: f64,
        lon_deg: f64,
        radius_km: f64,
        kernel: Kernel,
        bandwidth_km: f64,
    ) -> f64 {
        let query = RadiusQuery::new(radius_km, kernel, bandwidth_km);
        self.sum_within_unit(&unit_vector(lat_deg, lon_deg), &query)
    }

    /// [`PointIndex::sum_within`] for a location given as a unit vector
    /// ([`super::geo::unit_vector`]), with the per-radius constants prepared once.
    pub(crate) fn sum_within_unit(&self, q: &[f64; 3], query: &RadiusQuery) -> f64 {
        if self.nodes.is_empty() {
            0.0
        } else if query.kernel == Kernel::Count {
            self.count_within(q, query.c2)
        } else {
            self.kernel_within(q, query.c2, query.eval)
        }
    }

    /// Σ weight within squared chord `c2`: whole subtrees inside the ball add their weight sum.
    fn count_within(&self, q: &[f64; 3], c2: f64) -> f64 {
        let mut total = 0.0;
        let mut stack = [0u32; STACK];
        let mut top = 1;
        while top > 0 {
            top -= 1;
            let node = &self.nodes[stack[top] as usize];
            let (near2, far2) = box_distances2(q, &node.lo, &node.hi);
            if near2 > c2 {
                continue;
            }
            if far2 <= c2 {
                total += node.weight_sum;
            } else if node.left == NO_CHILD {
                total += self.count_leaf(q, c2, node.start as usize..node.end as usize);
            } else {
                stack[top] = node.left;
                stack[top + 1] = node.right;
                top += 2;
            }
        }
        total
    }

    /// Σ weight·kernel within squared chord `c2`: the squared chords of the points inside are
    /// gathered (branch-free) into a fixed buffer and evaluated in batches by [`KernelSum`].
    fn kernel_within(&self, q: &[f64; 3], c2: f64, eval: KernelSum) -> f64 {
        let mut total = 0.0;
        let mut t = [0.0; BATCH];
        let mut w = [0.0; BATCH];
        let mut n = 0;
        let mut stack = [0u32; STACK];
        let mut top = 1;
        while top > 0 {
            top -= 1;
            let node = &self.nodes[stack[top] as usize];
            let (near2, far2) = box_distances2(q, &node.lo, &node.hi);
            if near2 > c2 {
                continue;
            }
            if far2 <= c2 {
                // A subtree's points are contiguous, and all inside the ball.
                let (mut i, end) = (node.start as usize, node.end as usize);
                while i < end {
                    let m = (end - i).min(BATCH - n);
                    self.dist2_into(q, i..i + m, &mut t[n..n + m], &mut w[n..n + m]);
                    (i, n) = (i + m, n + m);
                    if n == BATCH {
                        total += eval.sum(&mut t, &w);
                        n = 0;
                    }
                }
            } else if node.left == NO_CHILD {
                let (start, len) = (node.start as usize, (node.end - node.start) as usize);
                if n + len > BATCH {
                    total += eval.sum(&mut t[..n], &w[..n]);
                    n = 0;
                }
                self.dist2_into(
                    q,
                    start..start + len,
                    &mut t[n..n + len],
                    &mut w[n..n + len],
                );
                // Keep the points inside, in place (branch-free).
                let mut k = n;
                for j in n..n + len {
                    t[k] = t[j];
                    w[k] = w[j];
                    k += (t[j] <= c2) as usize;
                }
                n = k;
            } else {
                stack[top] = node.left;
                stack[top + 1] = node.right;
                top += 2;
            }
        }
        total + eval.sum(&mut t[..n], &w[..n])
    }

    /// The nearest point to a location: its index in the input order and its great-circle
    /// distance in km; `None` when the index is empty.
    pub fn nearest(&self, lat_deg: f64, lon_deg: f64) -> Option<(usize, f64)> {
        self.nearest_unit(&unit_vector(lat_deg, lon_deg))
    }

    /// [`PointIndex::nearest`] for a location given as a unit vector.
    pub(crate) fn nearest_unit(&self, q: &[f64; 3]) -> Option<(usize, f64)> {
        if self.nodes.is_empty() {
            return None;
        }
        let mut best = (usize::MAX, f64::INFINITY);
        let mut stack = [0u32; STACK];
        let mut top = 1;
        while top > 0 {
            top -= 1;
            let n = stack[top];
            let node = &self.nodes[n as usize];
            if box_distances2(q, &node.lo, &node.hi).0 > best.1 {
                continue;
            }
            if node.left == NO_CHILD {
                for i in node.start as usize..node.end as usize {
                    let d2 = self.dist2(q, i);
                    if d2 < best.1 || (d2 == best.1 && (self.original[i] as usize) < best.0) {
                        best = (self.original[i] as usize, d2);
                    }
                }
            } else {
                let (l, r) = (
                    &self.nodes[node.left as usize],
                    &self.nodes[node.right as usize],
                );
                let dl = box_distances2(q, &l.lo, &l.hi).0;
                let dr = box_distances2(q, &r.lo, &r.hi).0;
                // Visit the nearer child first (pushed last).
                let (first, second) = if dl <= dr {
                    (node.left, node.right)
                } else {
                    (node.right, node.left)
                };
                stack[top] = second;
                stack[top + 1] = first;
                top += 2;
            }
        }
        Some((best.0, chord_to_km(best.1.sqrt())))
    }
}

impl PointIndex {
    /// Squared chord from `q` to stored point `i` (the same expression, hence the same rounding,
    /// in every query, so whether a point is inside never depends on the code path).
    #[inline(always)]
    fn dist2(&self, q: &[f64; 3], i: usize) -> f64 {
        let (dx, dy, dz) = (q[0] - self.x[i], q[1] - self.y[i], q[2] - self.z[i]);
        dx * dx + dy * dy + dz * dz
    }

    /// Squared chords from `q` to the points of `range` into `t`, their weights into `w`.
    #[inline(always)]
    fn dist2_into(
        &self,
        q: &[f64; 3],
        range: std::ops::Range<usize>,
        t: &mut [f64],
        w: &mut [f64],
    ) {
        let (x, y, z) = (
            &self.x[range.clone()],
            &self.y[range.clone()],
            &self.z[range.clone()],
        );
        w.copy_from_slice(&self.weight[range]);
        for (j, t) in t.iter_mut().enumerate() {
            let (dx, dy, dz) = (q[0] - x[j], q[1] - y[j], q[2] - z[j]);
            *t = dx * dx + dy * dy + dz * dz;
        }
    }

    /// Σ weight over the points of `range` (at most [`LEAF_SIZE`]) with squared chord ≤ `c2`:
    /// the masked weights in one map loop (which vectorises), then four interleaved partial sums.
    #[inline(always)]
    fn count_leaf(&self, q: &[f64; 3], c2: f64, range: std::ops::Range<usize>) -> f64 {
        let len = range.len();
        let mut t = [0.0; LEAF_SIZE];
        let mut w = [0.0; LEAF_SIZE];
        self.dist2_into(q, range, &mut t[..len], &mut w[..len]);
        for (t, w) in t.iter_mut().zip(&w) {
            *t = if *t <= c2 { *w } else { 0.0 };
        }
        let mut acc = [0.0; 4];
        for c in t.chunks_exact(4) {
            for l in 0..4 {
                acc[l] += c[l];
            }
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3])
    }
}

/// Squared distance from `q` to the nearest and the farthest point of a box.
fn box_distances2(q: &[f64; 3], lo: &[f64; 3], hi: &[f64; 3]) -> (f64, f64) {
    let mut near = 0.0;
    let mut far = 0.0;
    // Plain comparisons rather than f64::max (whose NaN rules cost extra instructions; the
    // coordinates are finite).
    let max = |a: f64, b: f64| if a > b { a } else { b };
    for k in 0..3 {
        let below = lo[k] - q[k];
        let above = q[k] - hi[k];
        let gap = max(max(below, above), 0.0);
        near += gap * gap;
        far += max(below * below, above * above);
    }
    (near, far)
}

fn build(
    xyz: &[[f64; 3]],
    weight: &[f64],
    order: &mut [u32],
    start: usize,
    nodes: &mut Vec<Node>,
) -> u32 {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    let mut weight_sum = 0.0;
    for &i in order.iter() {
        let p = &xyz[i as usize];
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
        weight_sum += weight[i as usize];
    }
    let id = nodes.len() as u32;
    nodes.push(Node {
        lo,
        hi,
        start: start as u32,
        end: (start + order.len()) as u32,
        left: NO_CHILD,
        right: NO_CHILD,
        weight_sum,
    });
    if order.len() > LEAF_SIZE {
        let axis = (0..3)
            .max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b])))
            .expect("three axes");
        let mid = order.len() / 2;
        order.select_nth_unstable_by(mid, |&a, &b| {
            xyz[a as usize][axis].total_cmp(&xyz[b as usize][axis])
        });
        let (left_part, right_part) = order.split_at_mut(mid);
        let left = build(xyz, weight, left_part, start, nodes);
        let right = build(xyz, weight, right_part, start + mid, nodes);
        nodes[id as usize].left = left;
        nodes[id as usize].right = right;
    }
    id
}

#[cfg(test)]
mod tests {
    use super::super::geo::haversine_km;
    use super::*;

    /// Deterministic pseudo-random points in a box (xorshift; no test dependency).
    fn points(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut s = seed;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut lat = Vec::new();
        let mut lon = Vec::new();
        let mut w = Vec::new();
        for _ in 0..n {
            lat.push(18.0 + 35.0 * next());
            lon.push(75.0 + 60.0 * next());
            w.push((10.0 * next()).floor());
        }
        (lat, lon, w)
    }

    #[test]
    fn sums_match_brute_force() {
        let (lat, lon, w) = points(3000, 42);
        let idx = PointIndex::new(&lat, &lon, &w);
        let (qlat, qlon, _) = points(50, 7);
        for kernel in [
            Kernel::Count,
            Kernel::Inverse,
            Kernel::Exponential,
            Kernel::Gaussian,
        ] {
            for r in [50.0, 200.0, 1000.0] {
                for (a, b) in qlat.iter().zip(&qlon) {
                    let brute: f64 = (0..lat.len())
                        .map(|i| {
                            let d = haversine_km(*a, *b, lat[i], lon[i]);
                            if d <= r {
                                w[i] * kernel.weight(d, 100.0)
                            } else {
                                0.0
                            }
                        })
                        .sum();
                    let got = idx.sum_within(*a, *b, r, kernel, 100.0);
                    assert!(
                        (got - brute).abs() <= 1e-9 * brute.max(1.0),
                        "{kernel:?} r {r}: {got} vs {brute}"
                    );
                }
            }
        }
    }

    /// The point at great-circle distance `d_km` from (lat, lon) on initial bearing `bearing`
    /// (radians), by the spherical destination formula.
    fn destination(lat: f64, lon: f64, d_km: f64, bearing: f64) -> (f64, f64) {
        let (p1, l1) = (lat.to_radians(), lon.to_radians());
        let delta = d_km / super::super::geo::EARTH_RADIUS_KM;
        let p2 = (p1.sin() * delta.cos() + p1.cos() * delta.sin() * bearing.cos()).asin();
        let l2 =
            l1 + (bearing.sin() * delta.sin() * p1.cos()).atan2(delta.cos() - p1.sin() * p2.sin());
        (p2.to_degrees(), (l2.to_degrees() + 540.0) % 360.0 - 180.0)
    }

    #[test]
    fn every_kernel_and_nearest_match_brute_force_with_points_on_the_radius() {
        // Random points with fractional weights, plus, around each query, eight points exactly
        // on each radius (up to rounding, far inside the 1 mm tolerance): they must all count.
        let (mut lat, mut lon, mut w) = points(4000, 99);
        for x in w.iter_mut() {
            *x += 0.37;
        }
        let (qlat, qlon, _) = points(12, 5);
        let radii = [1.0, 50.0, 200.0, 1000.0, 7000.0];
        for (a, b) in qlat.iter().zip(&qlon) {
            for r in radii {
                for k in 0..8 {
                    let (p, l) = destination(*a, *b, r, k as f64 * 0.785 + 0.1);
                    lat.push(p);
                    lon.push(l);
                    w.push(1.5);
                }
            }
        }
        let idx = PointIndex::new(&lat, &lon, &w);
        for kernel in [
            Kernel::Count,
            Kernel::Inverse,
            Kernel::Exponential,
            Kernel::Gaussian,
        ] {
            for h in [0.7, 30.0, 400.0] {
                for r in radii {
                    for (a, b) in qlat.iter().zip(&qlon) {
                        let mut on_radius = 0;
                        let brute: f64 = (0..lat.len())
                            .map(|i| {
                                let d = haversine_km(*a, *b, lat[i], lon[i]);
                                if (d - r).abs() < 1e-7 {
                                    on_radius += 1;
                                }
                                if d <= r + BOUNDARY_TOLERANCE_KM {
                                    w[i] * kernel.weight(d, h)
                                } else {
                                    0.0
                                }
                            })
                            .sum();
                        assert!(on_radius >= 8);
                        let got = idx.sum_within(*a, *b, r, kernel, h);
                        assert!(
                            (got - brute).abs() <= 1e-12 * brute.max(1e-300),
                            "{kernel:?} h {h} r {r}: {got} vs {brute}"
                        );
                    }
                }
            }
        }
        for (a, b) in qlat.iter().zip(&qlon) {
            let (bi, bd) = (0..lat.len())
                .map(|i| (i, haversine_km(*a, *b, lat[i], lon[i])))
                .min_by(|x, y| x.1.total_cmp(&y.1))
                .unwrap();
            let (gi, gd) = idx.nearest(*a, *b).unwrap();
            assert!(
                (gd - bd).abs() < 1e-6
                    && (gi == bi || (haversine_km(*a, *b, lat[gi], lon[gi]) - bd).abs() < 1e-9)
            );
        }
    }

    #[test]
    fn nearest_matches_brute_force() {
        let (lat, lon, w) = points(2000, 3);
        let idx = PointIndex::new(&lat, &lon, &w);
        let (qlat, qlon, _) = points(100, 11);
        for (a, b) in qlat.iter().zip(&qlon) {
            let (bi, bd) = (0..lat.len())
                .map(|i| (i, haversine_km(*a, *b, lat[i], lon[i])))
                .min_by(|x, y| x.1.total_cmp(&y.1))
                .unwrap();
            let (gi, gd) = idx.nearest(*a, *b).unwrap();
            assert_eq!(gi, bi);
            assert!((gd - bd).abs() < 1e-6);
        }
    }

    #[test]
    fn point_exactly_on_the_radius_counts_and_just_beyond_does_not() {
        // A point due east of (0, 0) on the equator at longitude L is exactly R·L(rad) km away.
        let r = 200.0;
        let lon_deg = (r / super::super::geo::EARTH_RADIUS_KM).to_degrees();
        let beyond = ((r + 0.01) / super::super::geo::EARTH_RADIUS_KM).to_degrees();
        let idx = PointIndex::new(&[0.0, 0.0], &[lon_deg, beyond], &[1.0, 5.0]);
        assert_eq!(idx.sum_within(0.0, 0.0, r, Kernel::Count, 0.0), 1.0);
        assert_eq!(idx.sum_within(0.0, 0.0, r + 0.02, Kernel::Count, 0.0), 6.0);
        assert_eq!(idx.sum_within(0.0, 0.0, 10.0, Kernel::Count, 0.0), 0.0);
    }

    #[test]
    fn empty_index() {
        let idx = PointIndex::new(&[], &[], &[]);
        assert_eq!(idx.sum_within(30.0, 120.0, 100.0, Kernel::Count, 0.0), 0.0);
        assert!(idx.nearest(30.0, 120.0).is_none());
    }
}
