//! [`KernelSum`]: Σ weight·kernel(distance) over a batch of squared chords, computed exactly
//! (to rounding) but without a libm call per point, so the loop vectorises.
//!
//! The index ([`super::index`]) finds the points within a radius as squared chords t = |q − p|²
//! on the unit sphere. The great-circle angle is θ = 2·asin(√t / 2) and the distance R·θ. The
//! scalar route (sqrt, `asin`, then `exp`, one libm call each per point) is what
//! [`super::measure::Kernel::weight`] does; here the same quantities come from power series in
//! t that are summed to full double precision, and `exp` from a branch-free Cody–Waite
//! reduction and a degree-11 polynomial:
//!
//! - θ = √t · Σₖ bₖ tᵏ, bₖ = C(2k, k) / (16ᵏ (2k + 1))  (the Maclaurin series of asin, Abramowitz
//!   and Stegun 4.4.40, at x = √t / 2);
//! - θ² = t · Σₘ sₘ tᵐ, sₘ = 2 / ((m + 1)² C(2m + 2, m + 1))  (the series
//!   asin²(x) = ½ Σₙ (2x)²ⁿ / (n² C(2n, n)), Abramowitz and Stegun 4.4.40 squared; Lehmer 1985,
//!   "Interesting series involving the central binomial coefficient", Amer. Math. Monthly 92),
//!   so the gaussian kernel needs neither a square root nor an asin.
//!
//! The number of terms is chosen per radius so the first omitted term is below 2⁻⁶⁰ relative
//! (the tail after it is at most 4/3 of it, since t ≤ 1 makes each ratio ≤ ¼); radii too large
//! for 24 terms (squared chord > 0.868, over ~6,170 km) fall back to the scalar route. Results
//! agree with the scalar route to a few units in the last place per point (tested).

use super::geo::{chord_to_km, EARTH_RADIUS_KM};
use super::measure::Kernel;

const TERMS: usize = 25;

/// bₖ = C(2k, k) / (16ᵏ (2k + 1)): θ = √t · Σ bₖ tᵏ.
const ANGLE_SERIES: [f64; TERMS] = angle_series();
/// sₘ = 2 / ((m + 1)² C(2m + 2, m + 1)): θ² = t · Σ sₘ tᵐ.
const ANGLE2_SERIES: [f64; TERMS] = angle2_series();
/// eʳ ≈ Σ cⱼ rʲ, j = 0..=11, on |r| ≤ ½ ln 2: a near-minimax (Chebyshev) fit, max relative error
/// 1.6·10⁻¹⁷ with the coefficients rounded to double (mpmath 1.3 `chebyfit(exp, [−a, a], 12)`,
/// a = 1.0001·½ ln 2, 50 digits); two terms fewer than the Taylor polynomial of the same accuracy.
const EXP_POLY: [f64; 12] = [
    1.0,
    1.0,
    0.500_000_000_000_001_9,
    0.166_666_666_666_666_8,
    0.041_666_666_666_487_95,
    0.008_333_333_333_319_589,
    0.001_388_888_895_235_286_3,
    0.000_198_412_698_900_764_03,
    2.480_148_544_156_131_3e-5,
    2.755_724_088_722_987e-6,
    2.763_265_472_252_779e-7,
    2.511_004_920_481_865_8e-8,
];

const fn angle_series() -> [f64; TERMS] {
    let mut b = [0.0; TERMS];
    // r = C(2k, k) / 16ᵏ, r_k / r_(k−1) = (2k − 1) / (8k).
    let mut r = 1.0;
    let mut k = 0;
    while k < TERMS {
        if k > 0 {
            r = r * (2 * k - 1) as f64 / (8 * k) as f64;
        }
        b[k] = r / (2 * k + 1) as f64;
        k += 1;
    }
    b
}

const fn angle2_series() -> [f64; TERMS] {
    let mut s = [0.0; TERMS];
    // s_0 = 1, s_m / s_(m−1) = m² / (2 (m + 1)(2m + 1)).
    s[0] = 1.0;
    let mut m = 1;
    while m < TERMS {
        s[m] = s[m - 1] * (m * m) as f64 / (2 * (m + 1) * (2 * m + 1)) as f64;
        m += 1;
    }
    s
}

/// Σ c_k tᵏ over the first N coefficients (Horner).
#[inline(always)]
fn horner<const N: usize>(c: &[f64; TERMS], t: f64) -> f64 {
    let mut p = c[N - 1];
    for k in (0..N - 1).rev() {
        p = p * t + c[k];
    }
    p
}

/// eˣ for x ≤ 0, branch-free: x = k·ln 2 + r with |r| ≤ ½ ln 2 (Cody–Waite, fdlibm's split of
/// ln 2), eʳ by the degree-11 polynomial [`EXP_POLY`] (error < 2·10⁻¹⁷ relative), times 2ᵏ built
/// from its bits. With `WIDE`, 2ᵏ is built in two factors so results down to the subnormal range are
/// right and x < −1000 gives 0; without, x must be ≥ −708 (2ᵏ a normal number), which callers
/// check per radius.
#[inline(always)]
pub(crate) fn exp_nonpositive<const WIDE: bool>(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    // fdlibm's ln2_hi (low 21 mantissa bits zero, so k·LN2_HI is exact) and ln2_lo.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    // Adding 1.5·2⁵² rounds a value below 2⁵¹ in magnitude to an integer held in the low bits.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let x = if WIDE && x < -1000.0 { -1000.0 } else { x };
    let kt = x * LOG2E + SHIFT;
    let k = kt - SHIFT;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = EXP_POLY[11];
    for j in (0..11).rev() {
        p = p * r + EXP_POLY[j];
    }
    let pow2 =
        |t: f64| f64::from_bits(t.to_bits().wrapping_sub(SHIFT.to_bits()).wrapping_add(1023) << 52);
    if WIDE {
        // 2ᵏ = 2^k1 · 2^k2 with k1 = round(k/2): both factors are normal numbers for k ≥ −1443.
        let k1t = k * 0.5 + SHIFT;
        let k2t = (k - (k1t - SHIFT)) + SHIFT;
        p * pow2(k1t) * pow2(k2t)
    } else {
        p * pow2(kt)
    }
}

/// The smallest argument [`exp_nonpositive`] accepts without `WIDE`.
const EXP_NARROW_MIN: f64 = -708.0;

/// Evaluates Σ weight·kernel over batches of squared chords for one query radius.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KernelSum {
    kernel: Kernel,
    bandwidth_km: f64,
    /// R / h: the angle θ times this is d / h.
    scale: f64,
    /// Series terms (0: the scalar libm route).
    terms: usize,
    /// Whether exp's argument can fall below [`EXP_NARROW_MIN`] within the radius.
    wide: bool,
}

impl KernelSum {
    /// For squared chords up to `c2` (the squared chord radius).
    pub(crate) fn new(kernel: Kernel, bandwidth_km: f64, c2: f64) -> KernelSum {
        let t = c2.min(4.0);
        let terms = [4, 6, 8, 12, 16, 24]
            .into_iter()
            .find(|&n| {
                let bound = ANGLE_SERIES[n].max(ANGLE2_SERIES[n]) * t.powi(n as i32);
                bound <= 2f64.powi(-60)
            })
            .unwrap_or(0);
        KernelSum {
            kernel,
            bandwidth_km,
            scale: EARTH_RADIUS_KM / bandwidth_km,
            terms,
            wide: {
                // Largest angle within the radius, padded for rounding.
                let theta = 2.0 * (t.sqrt() / 2.0).min(1.0).asin() * (1.0 + 1e-9);
                let u = EARTH_RADIUS_KM / bandwidth_km * theta;
                match kernel {
                    Kernel::Gaussian => u.is_nan() || -0.5 * u * u < EXP_NARROW_MIN,
                    Kernel::Exponential => u.is_nan() || -u < EXP_NARROW_MIN,
                    Kernel::Count | Kernel::Inverse => false,
                }
            },
        }
    }

    /// Σ `w[i]`·kernel(distance for squared chord `t[i]`); `t` is overwritten.
    ///
    /// **Shapes**: `t`, `w`: equal lengths.
    pub(crate) fn sum(&self, t: &mut [f64], w: &[f64]) -> f64 {
        match self.terms {
            4 => self.values::<4>(t, w),
            6 => self.values::<6>(t, w),
            8 => self.values::<8>(t, w),
            12 => self.values::<12>(t, w),
            16 => self.values::<16>(t, w),
            24 => self.values::<24>(t, w),
            _ => {
                for (v, w) in t.iter_mut().zip(w) {
                    *v = w * self.kernel.weight(chord_to_km(v.sqrt()), self.bandwidth_km);
                }
            }
        }
        // Four interleaved partial sums.
        let mut acc = [0.0; 4];
        let mut chunks = t.chunks_exact(4);
        for c in &mut chunks {
            for l in 0..4 {
                acc[l] += c[l];
            }
        }
        for (l, v) in chunks.remainder().iter().enumerate() {
            acc[l] += v;
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3])
    }

    /// Overwrite each `t[i]` by `w[i]`·kernel, the series route with N terms.
    fn values<const N: usize>(&self, t: &mut [f64], w: &[f64]) {
        if self.wide {
            self.values_exp::<N, true>(t, w);
        } else {
            self.values_exp::<N, false>(t, w);
        }
    }

    fn values_exp<const N: usize, const WIDE: bool>(&self, t: &mut [f64], w: &[f64]) {
        let s = self.scale;
        match self.kernel {
            Kernel::Count => {
                for (v, w) in t.iter_mut().zip(w) {
                    *v = *w;
                }
            }
            Kernel::Gaussian => {
                let g = -0.5 * s * s;
                for (v, w) in t.iter_mut().zip(w) {
                    let theta2 = *v * horner::<N>(&ANGLE2_SERIES, *v);
                    *v = w * exp_nonpositive::<WIDE>(g * theta2);
                }
            }
            Kernel::Exponential => {
                for (v, w) in t.iter_mut().zip(w) {
                    let theta = v.sqrt() * horner::<N>(&ANGLE_SERIES, *v);
                    *v = w * exp_nonpositive::<WIDE>(-(s * theta));
                }
            }
            Kernel::Inverse => {
                for (v, w) in t.iter_mut().zip(w) {
                    let theta = v.sqrt() * horner::<N>(&ANGLE_SERIES, *v);
                    *v = w / (1.0 + s * theta);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        (a - b).abs() / (f64::EPSILON * b.abs().max(f64::MIN_POSITIVE))
    }

    #[test]
    fn exp_matches_libm() {
        let mut worst: f64 = 0.0;
        for i in 0..200_000 {
            let x = -(i as f64) * 0.003_7 - (i % 7) as f64 * 1e-9;
            let (got, want) = (exp_nonpositive::<true>(x), x.exp());
            if x >= EXP_NARROW_MIN {
                assert_eq!(exp_nonpositive::<false>(x), got, "{x}");
            }
            if want > 1e-300 {
                worst = worst.max(ulps(got, want));
            } else {
                assert!(
                    (got - want).abs() <= 1e-310 + 4.0 * f64::EPSILON * want,
                    "{x}"
                );
            }
        }
        assert!(worst <= 2.0, "worst {worst} ulp");
        assert_eq!(exp_nonpositive::<false>(0.0), 1.0);
        assert_eq!(exp_nonpositive::<true>(-1e5), 0.0);
        assert_eq!(exp_nonpositive::<true>(f64::NEG_INFINITY), 0.0);
        assert!((exp_nonpositive::<true>(-740.0) - (-740.0f64).exp()).abs() < 1e-320);
    }

    #[test]
    fn angle_series_match_asin() {
        // Over the whole range where the series route is used, and at small chords.
        for n in [4, 6, 8, 12, 16, 24] {
            // Largest squared chord this term count accepts.
            let mut tmax = 4.0;
            while ANGLE_SERIES[n].max(ANGLE2_SERIES[n]) * f64::powi(tmax, n as i32) > 2f64.powi(-60)
            {
                tmax *= 0.99;
            }
            for i in 1..=1000 {
                let t = tmax * i as f64 / 1000.0;
                let want = 2.0 * (t.sqrt() / 2.0).asin();
                let theta = match n {
                    4 => t.sqrt() * horner::<4>(&ANGLE_SERIES, t),
                    6 => t.sqrt() * horner::<6>(&ANGLE_SERIES, t),
                    8 => t.sqrt() * horner::<8>(&ANGLE_SERIES, t),
                    12 => t.sqrt() * horner::<12>(&ANGLE_SERIES, t),
                    16 => t.sqrt() * horner::<16>(&ANGLE_SERIES, t),
                    _ => t.sqrt() * horner::<24>(&ANGLE_SERIES, t),
                };
                let theta2 = match n {
                    4 => t * horner::<4>(&ANGLE2_SERIES, t),
                    6 => t * horner::<6>(&ANGLE2_SERIES, t),
                    8 => t * horner::<8>(&ANGLE2_SERIES, t),
                    12 => t * horner::<12>(&ANGLE2_SERIES, t),
                    16 => t * horner::<16>(&ANGLE2_SERIES, t),
                    _ => t * horner::<24>(&ANGLE2_SERIES, t),
                };
                assert!(ulps(theta, want) <= 4.0, "n {n} t {t}: {theta} vs {want}");
                assert!(ulps(theta2, want * want) <= 6.0, "n {n} t {t}");
            }
        }
    }

    #[test]
    fn batch_sums_match_the_scalar_kernel() {
        for kernel in [
            Kernel::Count,
            Kernel::Inverse,
            Kernel::Exponential,
            Kernel::Gaussian,
        ] {
            for (c2, h) in [
                (1e-6, 0.3),
                (1e-3, 100.0),
                (0.05, 40.0),
                (0.8, 2000.0),
                (3.9, 500.0),
                // exp arguments below −708 (the wide exp): −8,100 and −2,000 at the radius.
                (0.01, 5.0),
                (1e-4, 1.0),
            ] {
                let eval = KernelSum::new(kernel, h, c2);
                if c2 == 0.01 {
                    assert!(eval.wide == (kernel == Kernel::Gaussian));
                }
                let t: Vec<f64> = (0..1001).map(|i| c2 * i as f64 / 1000.0).collect();
                let w: Vec<f64> = (0..1001).map(|i| 1.0 + (i % 5) as f64).collect();
                let want: f64 = t
                    .iter()
                    .zip(&w)
                    .map(|(t, w)| w * kernel.weight(chord_to_km(t.sqrt()), h))
                    .sum();
                let got = eval.sum(&mut t.clone(), &w);
                assert!(
                    (got - want).abs() <= 1e-12 * want,
                    "{kernel:?} c2 {c2} h {h}: {got} vs {want}"
                );
            }
        }
    }
}
