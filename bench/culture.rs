//! Timing of `keju culture`'s spatial core (no test asserts timings; numbers go to stdout).
//!
//! Run: `cargo bench --bench culture` (release profile). Scenarios:
//! 1. 1,000,000 distinct firm locations × 100,000 points spread over China, radius 200 km,
//!    count kernel (the scale target), then the gaussian, exponential and inverse
//!    kernels (bandwidth 100 km), then nearest distance.
//! 2. Paper scale end to end: 5,000 firms geocoded by city × the shipped 494 jinshi
//!    prefectures, radii 100/200/300 km, through `culture::add_measures`.
//!
//! Points and locations are deterministic pseudo-random (xorshift), uniform in the box
//! 18–53 N, 75–135 E, so the density (≈ 100,000 points / 2.3·10⁷ km²) puts ≈ 500–600 points
//! within 200 km of a location.

use std::time::Instant;

use keju::culture::{self, measure, CultureOptions, Kernel, Location, PointIndex, Transform};
use keju::data::{Column, Frame};

fn uniform(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut s = seed;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut lat = Vec::with_capacity(n);
    let mut lon = Vec::with_capacity(n);
    for _ in 0..n {
        lat.push(18.0 + 35.0 * next());
        lon.push(75.0 + 60.0 * next());
    }
    (lat, lon)
}

/// CPU seconds used by this process so far (all threads; Linux `/proc/self/stat` utime + stime,
/// 10 ms ticks), so timings can be read even when another job shares the machine.
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    if f.len() > 12 {
        (f[11] + f[12]) / 100.0
    } else {
        f64::NAN
    }
}

fn main() {
    println!("threads: {}", rayon::current_num_threads());
    let (plat, plon) = uniform(100_000, 1);
    let w = vec![1.0; plat.len()];
    let t = Instant::now();
    let index = PointIndex::new(&plat, &plon, &w);
    println!(
        "build k-d tree, 100,000 points: {:.3} s",
        t.elapsed().as_secs_f64()
    );
    let (flat, flon) = uniform(1_000_000, 2);
    for (kernel, h) in [
        (Kernel::Count, 1.0),
        (Kernel::Gaussian, 100.0),
        (Kernel::Exponential, 100.0),
        (Kernel::Inverse, 100.0),
    ] {
        let (t, c) = (Instant::now(), cpu_s());
        let m =
            measure::radius_measures(&index, &flat, &flon, &[200.0], kernel, h, Transform::None);
        let mean = m[0].iter().sum::<f64>() / m[0].len() as f64;
        println!(
            "1,000,000 locations x 100,000 points, r = 200 km, {}: {:.3} s, cpu {:.2} s (mean sum {mean:.6})",
            kernel.name(),
            t.elapsed().as_secs_f64(),
            cpu_s() - c
        );
    }
    let (t, c) = (Instant::now(), cpu_s());
    let d = measure::nearest_km(&index, &flat, &flon);
    println!(
        "1,000,000 locations, nearest of 100,000 points: {:.3} s, cpu {:.2} s (mean {:.6} km)",
        t.elapsed().as_secs_f64(),
        cpu_s() - c,
        d.iter().sum::<f64>() / d.len() as f64
    );

    // Paper scale, end to end in memory (gazetteer build + geocoding + measures).
    let cities = [
        "北京",
        "上海市",
        "深圳",
        "杭州市",
        "蘇州",
        "成都",
        "武汉市",
        "西安市",
        "曲阜市",
        "广州",
    ];
    let mut firms = Frame::new("bench firms");
    firms.set_column("id", Column::Num((0..5000).map(|i| i as f64).collect()));
    firms.set_column(
        "city",
        Column::Str(
            (0..5000)
                .map(|i| Some(cities[i % cities.len()].to_string()))
                .collect(),
        ),
    );
    let mut opts = CultureOptions::new("-", "id", Location::City("city".into()), "-");
    opts.radii_km = vec![100.0, 200.0, 300.0];
    opts.transform = Transform::Log1p;
    let t = Instant::now();
    culture::add_measures(&mut firms, &opts).expect("bench input is valid");
    println!(
        "5,000 firms by city x 494 jinshi prefectures, 3 radii: {:.3} s",
        t.elapsed().as_secs_f64()
    );
}
