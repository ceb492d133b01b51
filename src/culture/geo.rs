//! Great-circle geometry on a spherical Earth: [`haversine_km`], [`EARTH_RADIUS_KM`], and the
//! unit-vector / chord conversions that the spatial index ([`super::index`]) uses.
//!
//! Data flow: degrees (`lat`, `lon`) → [`unit_vector`] (3-D point on the unit sphere) → chord
//! lengths compared in the index → [`chord_to_km`] for the reported distance. For two points the
//! chord route and the haversine formula are the same formula (d = 2R·asin(chord/2), chord/2 =
//! sqrt(haversine)), so they agree to rounding.

/// Mean Earth radius used for every distance in keju, in km.
///
/// **Source**: IUGG mean radius R1 = (2a + b)/3 of the GRS 80 / WGS 84 ellipsoid, 6371.0088 km
/// (Moritz 2000, "Geodetic Reference System 1980", J. Geodesy 74). The sphere, not the ellipsoid:
/// distances differ from ellipsoidal (Vincenty) ones by up to about 0.5%.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance between two points, in km, on a sphere of radius [`EARTH_RADIUS_KM`].
///
/// **Units**: latitudes and longitudes in decimal degrees (north and east positive); result in km.
///
/// **Source**: the haversine formula, d = 2R·asin(sqrt(sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)))
/// (Sinnott 1984, "Virtues of the haversine", Sky and Telescope 68(2)); the argument of asin is
/// clamped to 1 so antipodal points give πR instead of NaN.
pub fn haversine_km(lat1_deg: f64, lon1_deg: f64, lat2_deg: f64, lon2_deg: f64) -> f64 {
    let (phi1, phi2) = (lat1_deg.to_radians(), lat2_deg.to_radians());
    let dphi = phi2 - phi1;
    let dlambda = (lon2_deg - lon1_deg).to_radians();
    let h = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The point on the unit sphere for a latitude and longitude in degrees.
///
/// **Shapes**: returns `[x, y, z]` with x² + y² + z² = 1 (to rounding).
pub fn unit_vector(lat_deg: f64, lon_deg: f64) -> [f64; 3] {
    let (phi, lambda) = (lat_deg.to_radians(), lon_deg.to_radians());
    [
        phi.cos() * lambda.cos(),
        phi.cos() * lambda.sin(),
        phi.sin(),
    ]
}

/// Great-circle distance in km for a chord length on the unit sphere (0 ≤ chord ≤ 2).
pub fn chord_to_km(chord: f64) -> f64 {
    2.0 * EARTH_RADIUS_KM * (chord / 2.0).min(1.0).asin()
}

/// Chord length on the unit sphere for a great-circle distance in km; 2 (the diameter) for
/// distances of half the circumference or more.
pub fn km_to_chord(distance_km: f64) -> f64 {
    let half_angle = distance_km / (2.0 * EARTH_RADIUS_KM);
    if half_angle >= std::f64::consts::FRAC_PI_2 {
        2.0
    } else {
        2.0 * half_angle.sin()
    }
}

/// Whether a latitude/longitude pair in degrees is finite and in range (|lat| ≤ 90, |lon| ≤ 180).
pub fn valid_lat_lon(lat_deg: f64, lon_deg: f64) -> bool {
    lat_deg.is_finite() && lon_deg.is_finite() && lat_deg.abs() <= 90.0 && lon_deg.abs() <= 180.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_shanghai_is_about_1067_km() {
        // Tiananmen (39.9042 N, 116.4074 E) to People's Square (31.2304 N, 121.4737 E).
        // Independent value: R·acos(sin φ1 sin φ2 + cos φ1 cos φ2 cos Δλ) (spherical law of
        // cosines) = 1067.3 km; published great-circle distance ≈ 1,067 km.
        let d = haversine_km(39.9042, 116.4074, 31.2304, 121.4737);
        let (p1, p2) = (39.9042f64.to_radians(), 31.2304f64.to_radians());
        let dl = (121.4737f64 - 116.4074).to_radians();
        let law = EARTH_RADIUS_KM * (p1.sin() * p2.sin() + p1.cos() * p2.cos() * dl.cos()).acos();
        assert!((d - law).abs() < 0.1, "{d} vs {law}");
        assert!((d - 1067.0).abs() < 1.0, "{d}");
    }

    #[test]
    fn known_city_pairs_to_a_tenth_of_a_km() {
        // One degree of latitude along a meridian = πR/180 = 111.1951 km.
        let one_deg = std::f64::consts::PI * EARTH_RADIUS_KM / 180.0;
        assert!((haversine_km(30.0, 120.0, 31.0, 120.0) - one_deg).abs() < 1e-6);
        // One degree of longitude on the equator is the same.
        assert!((haversine_km(0.0, 10.0, 0.0, 11.0) - one_deg).abs() < 1e-6);
        // Guangzhou (23.1291, 113.2644) to Beijing (39.9042, 116.4074): law of cosines 1888.6 km.
        let d = haversine_km(23.1291, 113.2644, 39.9042, 116.4074);
        assert!((d - 1888.6).abs() < 0.1, "{d}");
        // Antipodes: half the circumference.
        let half = std::f64::consts::PI * EARTH_RADIUS_KM;
        assert!((haversine_km(0.0, 0.0, 0.0, 180.0) - half).abs() < 1e-6);
    }

    #[test]
    fn chord_route_agrees_with_haversine() {
        let pairs = [
            (39.9, 116.4, 31.2, 121.5),
            (35.6, 116.99, 35.61, 117.0),
            (10.0, -170.0, -20.0, 175.0),
        ];
        for (a, b, c, d) in pairs {
            let (u, v) = (unit_vector(a, b), unit_vector(c, d));
            let chord =
                ((u[0] - v[0]).powi(2) + (u[1] - v[1]).powi(2) + (u[2] - v[2]).powi(2)).sqrt();
            let h = haversine_km(a, b, c, d);
            assert!((chord_to_km(chord) - h).abs() < 1e-6, "{h}");
            assert!((km_to_chord(h) - chord).abs() < 1e-12);
        }
        assert_eq!(km_to_chord(30_000.0), 2.0);
    }
}
