//! Measures for a set of locations against a point set: weighted counts and kernel-weighted sums
//! within radii ([`radius_measures`]), the `log1p` transform ([`Transform`]), nearest-point
//! distances ([`nearest_km`]), and the column-naming rule ([`measure_column`]).
//!
//! Work is done once per unique location (callers deduplicate rows first), in parallel over
//! locations with rayon; each location's sum is sequential, so results do not depend on the
//! thread count.

use rayon::prelude::*;

use super::geo::unit_vector;
use super::index::{PointIndex, RadiusQuery};

/// How a point at distance d contributes to a radius measure (times its weight), for points with
/// d ≤ radius; points beyond the radius contribute 0.
///
/// **Units**: d and the bandwidth h in km.
///
/// **Source**: keju's definitions (stated in `docs/culture.md`): count 1; inverse 1/(1 + d/h)
/// (inverse distance, regularised so a point at the firm's location weighs 1, not ∞);
/// exponential exp(−d/h); gaussian exp(−½ (d/h)²).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Weight 1: the weighted count within the radius (the paper's measure).
    Count,
    /// 1/(1 + d/h).
    Inverse,
    /// exp(−d/h).
    Exponential,
    /// exp(−½ (d/h)²).
    Gaussian,
}

impl Kernel {
    /// Every kernel with its option name and its column label (`None`: no label).
    pub const TABLE: [(Kernel, &'static str, Option<&'static str>); 4] = [
        (Kernel::Count, "count", None),
        (Kernel::Inverse, "inverse", Some("idw")),
        (Kernel::Exponential, "exponential", Some("exp")),
        (Kernel::Gaussian, "gaussian", Some("gauss")),
    ];

    /// Option names, in [`Kernel::TABLE`] order.
    pub const NAMES: [&'static str; 4] = ["count", "inverse", "exponential", "gaussian"];

    /// The kernel for an option name.
    ///
    /// **Errors**: [`crate::Error::Usage`] listing the names.
    pub fn from_name(name: &str) -> crate::Result<Kernel> {
        Kernel::TABLE
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(k, _, _)| *k)
            .ok_or_else(|| {
                crate::Error::usage(format!(
                    "unknown kernel \"{name}\" (expected one of {})",
                    Kernel::NAMES.join(", ")
                ))
            })
    }

    /// The option name.
    pub fn name(self) -> &'static str {
        Kernel::TABLE
            .iter()
            .find(|(k, _, _)| *k == self)
            .expect("every kernel is in the table")
            .1
    }

    /// The label in column names (`idw`, `exp`, `gauss`; none for count).
    pub fn label(self) -> Option<&'static str> {
        Kernel::TABLE
            .iter()
            .find(|(k, _, _)| *k == self)
            .expect("every kernel is in the table")
            .2
    }

    /// Weight of a point at `distance_km` with bandwidth `bandwidth_km` (ignored for count).
    pub fn weight(self, distance_km: f64, bandwidth_km: f64) -> f64 {
        let u = distance_km / bandwidth_km;
        match self {
            Kernel::Count => 1.0,
            Kernel::Inverse => 1.0 / (1.0 + u),
            Kernel::Exponential => (-u).exp(),
            Kernel::Gaussian => (-0.5 * u * u).exp(),
        }
    }
}

/// Transform applied to radius measures (not to distances).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// The sum as is.
    None,
    /// ln(1 + sum): the paper's Js_200 = ln(1 + jinshi within 200 km).
    Log1p,
}

impl Transform {
    /// Option names.
    pub const NAMES: [&'static str; 2] = ["none", "log1p"];

    /// The transform for an option name. **Errors**: [`crate::Error::Usage`].
    pub fn from_name(name: &str) -> crate::Result<Transform> {
        match name {
            "none" => Ok(Transform::None),
            "log1p" => Ok(Transform::Log1p),
            _ => Err(crate::Error::usage(format!(
                "unknown transform \"{name}\" (expected none or log1p)"
            ))),
        }
    }

    /// Apply to one value.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Transform::None => x,
            Transform::Log1p => x.ln_1p(),
        }
    }
}

/// A radius in km as it appears in a column name: integers without a decimal point (`200`),
/// others with the point written `p` (`12.5` → `12p5`), so names stay valid identifiers.
pub fn radius_label(radius_km: f64) -> String {
    crate::data::format_number(radius_km).replace('.', "p")
}

/// The column name of a radius measure: `{prefix}_{radius}` for count and
/// `{prefix}_{label}_{radius}` for the other kernels (`js_200`, `js_ming_200`, `js_idw_300`).
pub fn measure_column(prefix: &str, kernel: Kernel, radius_km: f64) -> String {
    match kernel.label() {
        None => format!("{prefix}_{}", radius_label(radius_km)),
        Some(l) => format!("{prefix}_{l}_{}", radius_label(radius_km)),
    }
}

/// Radius measures for every location and radius.
///
/// **Shapes**: `lat_deg`, `lon_deg`: n_locations; returns one `Vec` of n_locations per radius,
/// in `radii_km` order. Values are transformed; a location with no point within the radius
/// gets 0 (ln 1 = 0 under log1p), never a missing value.
///
/// **Units**: degrees; km.
///
/// **Complexity**: n_locations × (k-d tree query), in parallel over locations.
pub fn radius_measures(
    index: &PointIndex,
    lat_deg: &[f64],
    lon_deg: &[f64],
    radii_km: &[f64],
    kernel: Kernel,
    bandwidth_km: f64,
    transform: Transform,
) -> Vec<Vec<f64>> {
    let order = spatial_order(lat_deg, lon_deg);
    let q = unit_vectors(&order, lat_deg, lon_deg);
    radii_km
        .iter()
        .map(|&r| {
            let query = RadiusQuery::new(r, kernel, bandwidth_km);
            in_order(&order, &q, |q| {
                transform.apply(index.sum_within_unit(q, &query))
            })
        })
        .collect()
}

/// Unit vectors of the locations, in `order` (gathered once, so queries read them
/// sequentially).
fn unit_vectors(order: &[u32], lat_deg: &[f64], lon_deg: &[f64]) -> Vec<[f64; 3]> {
    order
        .par_iter()
        .map(|&i| unit_vector(lat_deg[i as usize], lon_deg[i as usize]))
        .collect()
}

/// Location indices sorted along a Z-order (Morton) curve of latitude and longitude, so that
/// consecutive queries touch the same part of the tree (cache locality).
fn spatial_order(lat_deg: &[f64], lon_deg: &[f64]) -> Vec<u32> {
    let spread = |x: u32| -> u64 {
        let mut v = x as u64;
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    };
    let mut keyed: Vec<(u64, u32)> = lat_deg
        .iter()
        .zip(lon_deg)
        .enumerate()
        .map(|(i, (a, b))| {
            let y = ((a + 90.0) / 180.0 * 65535.0) as u32;
            let x = ((b + 180.0) / 360.0 * 65535.0) as u32;
            ((spread(x) << 1) | spread(y), i as u32)
        })
        .collect();
    keyed.par_sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// `f(q[k])` for every location, computed in `order` (`q[k]` is location `order[k]`) in
/// parallel, returned in input order.
fn in_order(order: &[u32], q: &[[f64; 3]], f: impl Fn(&[f64; 3]) -> f64 + Sync) -> Vec<f64> {
    let values: Vec<f64> = q.par_iter().map(&f).collect();
    let mut out = vec![0.0; order.len()];
    for (k, &i) in order.iter().enumerate() {
        out[i as usize] = values[k];
    }
    out
}

/// Great-circle distance in km from every location to the nearest point of `index`.
///
/// **Shapes**: `lat_deg`, `lon_deg`: n_locations; returns n_locations (NaN when the index is
/// empty; callers reject empty point files first).
pub fn nearest_km(index: &PointIndex, lat_deg: &[f64], lon_deg: &[f64]) -> Vec<f64> {
    let order = spatial_order(lat_deg, lon_deg);
    let q = unit_vectors(&order, lat_deg, lon_deg);
    in_order(&order, &q, |q| {
        index.nearest_unit(q).map_or(f64::NAN, |(_, d)| d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_weights_at_known_distances() {
        let h = 100.0;
        for k in [
            Kernel::Count,
            Kernel::Inverse,
            Kernel::Exponential,
            Kernel::Gaussian,
        ] {
            assert_eq!(k.weight(0.0, h), 1.0, "{k:?} weighs 1 at distance 0");
        }
        assert_eq!(Kernel::Inverse.weight(100.0, h), 0.5);
        assert_eq!(Kernel::Inverse.weight(300.0, h), 0.25);
        assert!((Kernel::Exponential.weight(100.0, h) - (-1.0f64).exp()).abs() < 1e-15);
        assert!((Kernel::Gaussian.weight(200.0, h) - (-2.0f64).exp()).abs() < 1e-15);
        assert_eq!(Kernel::Count.weight(1e6, h), 1.0);
        // Decreasing in distance.
        for k in [Kernel::Inverse, Kernel::Exponential, Kernel::Gaussian] {
            assert!(k.weight(10.0, h) > k.weight(20.0, h));
        }
    }

    #[test]
    fn names_round_trip_and_columns() {
        for (k, n, _) in Kernel::TABLE {
            assert_eq!(Kernel::from_name(n).unwrap(), k);
            assert_eq!(k.name(), n);
        }
        assert!(Kernel::from_name("idw")
            .unwrap_err()
            .to_string()
            .contains("inverse"));
        assert_eq!(measure_column("js", Kernel::Count, 200.0), "js_200");
        assert_eq!(
            measure_column("js_ming", Kernel::Count, 100.0),
            "js_ming_100"
        );
        assert_eq!(measure_column("js", Kernel::Inverse, 300.0), "js_idw_300");
        assert_eq!(
            measure_column("js", Kernel::Gaussian, 12.5),
            "js_gauss_12p5"
        );
    }

    #[test]
    fn counts_grow_with_the_radius() {
        // Property over the shipped jinshi file and many locations: for r1 < r2 the count
        // within r1 is at most the count within r2, for every kernel.
        let set = super::super::points::PointSet::builtin(super::super::points::Builtin::Jinshi);
        let idx = PointIndex::new(&set.lat_deg, &set.lon_deg, &set.weight);
        let lat: Vec<f64> = (0..40).map(|i| 20.0 + i as f64 * 0.5).collect();
        let lon: Vec<f64> = (0..40).map(|i| 100.0 + i as f64 * 0.6).collect();
        let radii = [
            0.5, 10.0, 50.0, 100.0, 150.0, 200.0, 300.0, 500.0, 1000.0, 5000.0,
        ];
        for k in [
            Kernel::Count,
            Kernel::Inverse,
            Kernel::Exponential,
            Kernel::Gaussian,
        ] {
            let m = radius_measures(&idx, &lat, &lon, &radii, k, 150.0, Transform::None);
            for w in m.windows(2) {
                for (a, b) in w[0].iter().zip(&w[1]) {
                    assert!(a <= b, "{k:?}: {a} > {b}");
                }
            }
            // 5,000 km from central China covers every prefecture: the full total.
            if k == Kernel::Count {
                let total: f64 = set.weight.iter().sum();
                assert!(m[9].contains(&total));
            }
        }
    }

    #[test]
    fn no_point_within_radius_is_zero_not_missing() {
        let idx = PointIndex::new(&[30.0], &[120.0], &[7.0]);
        let m = radius_measures(
            &idx,
            &[0.0],
            &[0.0],
            &[100.0],
            Kernel::Count,
            1.0,
            Transform::Log1p,
        );
        assert_eq!(m[0][0], 0.0);
        let m = radius_measures(
            &idx,
            &[30.0],
            &[120.0],
            &[100.0],
            Kernel::Count,
            1.0,
            Transform::Log1p,
        );
        assert!((m[0][0] - 8f64.ln()).abs() < 1e-15);
    }
}
