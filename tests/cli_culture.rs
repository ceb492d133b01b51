//! Integration tests for `keju culture`: run the built binary in a temp dir and check values
//! worked out here independently (own CSV reading of the shipped files, own haversine).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const R_KM: f64 = 6371.0088;

fn keju(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keju"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the keju binary runs")
}

fn manifest_file(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Independent haversine (written again here on purpose).
fn hav(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (a, b) = (lat1.to_radians(), lat2.to_radians());
    let s1 = ((b - a) / 2.0).sin();
    let s2 = ((lon2 - lon1).to_radians() / 2.0).sin();
    2.0 * R_KM * (s1 * s1 + a.cos() * b.cos() * s2 * s2).sqrt().asin()
}

/// (lat, lon, ming, qing) of every row of the shipped jinshi file (no quoted cells in it).
fn jinshi() -> Vec<(f64, f64, f64, f64)> {
    let text = manifest_file("data/jinshi_prefectures.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "name,province,lat,lon,jinshi_ming,jinshi_qing,jinshi_total"
    );
    lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[2].parse().unwrap(),
                c[3].parse().unwrap(),
                c[4].parse().unwrap(),
                c[5].parse().unwrap(),
            )
        })
        .collect()
}

/// Coordinates of a place by exact official name in the shipped gazetteer.
fn place(name: &str) -> (f64, f64) {
    let text = manifest_file("data/places_modern.csv");
    let hits: Vec<(f64, f64)> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[1] == name)
        .map(|c| (c[5].parse().unwrap(), c[6].parse().unwrap()))
        .collect();
    assert_eq!(hits.len(), 1, "{name}");
    hits[0]
}

fn brute_count(lat: f64, lon: f64, radius_km: f64, which: usize) -> f64 {
    jinshi()
        .iter()
        .filter(|p| hav(lat, lon, p.0, p.1) <= radius_km)
        .map(|p| match which {
            0 => p.2 + p.3,
            1 => p.2,
            _ => p.3,
        })
        .sum()
}

/// Read an output CSV (no quoted cells) into header and rows.
fn read_out(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], rows: &[Vec<String>], name: &str) -> Vec<f64> {
    let j = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    rows.iter()
        .map(|r| r[j].parse().unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn js_values_match_brute_force_over_the_shipped_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("firms.csv"),
        "code,city\n000001,北京\n000002,上海市\n000003,蘇州\n000004,曲阜市\n000005,苏州市\n",
    )
    .unwrap();
    let out = keju(
        dir.path(),
        &[
            "culture",
            "--firms",
            "firms.csv",
            "--id",
            "code",
            "--city",
            "city",
            "--radius",
            "100,200,300",
            "--transform",
            "log1p",
            "--out",
            "out.csv",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Nan-Zhili"), "{stderr}");
    let (header, rows) = read_out(&dir.path().join("out.csv"));
    assert_eq!(
        header,
        ["code", "city", "js_100", "js_200", "js_300"].map(String::from)
    );
    // Row order and ids preserved.
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["000001", "000002", "000003", "000004", "000005"]);
    let cities = ["北京市", "上海市", "苏州市", "曲阜市", "苏州市"];
    for r in [100.0, 200.0, 300.0] {
        let got = col(&header, &rows, &format!("js_{r}"));
        for (i, city) in cities.iter().enumerate() {
            let (lat, lon) = place(city);
            let n = brute_count(lat, lon, r, 0);
            assert!(n > 0.0, "{city} has jinshi within {r} km");
            assert!(
                (got[i] - n.ln_1p()).abs() < 1e-9,
                "{city} r {r}: {} vs ln(1+{n})",
                got[i]
            );
        }
    }
    // Traditional and simplified names of the same city give the same values.
    assert_eq!(rows[2][2..], rows[4][2..]);
}

#[test]
fn ming_qing_split_and_raw_counts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.csv"), "id,city\na,曲阜\nb,杭州\n").unwrap();
    for (set, prefix, which) in [("jinshi-ming", "js_ming", 1), ("jinshi-qing", "js_qing", 2)] {
        let out = keju(
            dir.path(),
            &[
                "culture", "--firms", "f.csv", "--id", "id", "--city", "city", "--points", set,
                "--out", "o.csv",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (h, rows) = read_out(&dir.path().join("o.csv"));
        let got = col(&h, &rows, &format!("{prefix}_200"));
        for (i, city) in ["曲阜市", "杭州市"].iter().enumerate() {
            let (lat, lon) = place(city);
            assert_eq!(got[i], brute_count(lat, lon, 200.0, which), "{set} {city}");
        }
    }
}

#[test]
fn boundary_point_zero_counts_kernels_and_nearest_with_user_files() {
    let dir = tempfile::tempdir().unwrap();
    // A point exactly 200 km due east of (0, 0) on the equator, one 300 km away, weights 2 and 5.
    let lon200 = (200.0 / R_KM).to_degrees();
    let lon300 = (300.0 / R_KM).to_degrees();
    std::fs::write(
        dir.path().join("academies.csv"),
        format!("name,lat,lon,n\nedge,0,{lon200:.15},2\nfar,0,{lon300:.15},5\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("f.csv"),
        "id,la,lo\n1,0,0\n2,60,-100\n3,,\n",
    )
    .unwrap();
    let out = keju(
        dir.path(),
        &[
            "culture",
            "--firms",
            "f.csv",
            "--id",
            "id",
            "--lat",
            "la",
            "--lon",
            "lo",
            "--points",
            "academies.csv",
            "--weight",
            "n",
            "--radius",
            "200,250,400",
            "--nearest",
            "academies.csv",
            "--out",
            "o.csv",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (h, rows) = read_out(&dir.path().join("o.csv"));
    assert_eq!(col(&h, &rows, "academies_200")[..2], [2.0, 0.0]);
    assert_eq!(col(&h, &rows, "academies_250")[..2], [2.0, 0.0]);
    assert_eq!(col(&h, &rows, "academies_400")[..2], [7.0, 0.0]);
    let d = col(&h, &rows, "dist_academies");
    assert!((d[0] - 200.0).abs() < 1e-6, "{}", d[0]);
    // A row without coordinates gets missing values, not 0; the note says so.
    assert!(col(&h, &rows, "academies_200")[2].is_nan());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 row"));

    // Gaussian kernel, bandwidth 100 km: 2·exp(-2) + 5·exp(-4.5); log1p of no point is 0.
    let out = keju(
        dir.path(),
        &[
            "culture",
            "--firms",
            "f.csv",
            "--id",
            "id",
            "--lat",
            "la",
            "--lon",
            "lo",
            "--points",
            "academies.csv",
            "--weight",
            "n",
            "--radius",
            "400",
            "--kernel",
            "gaussian",
            "--bandwidth",
            "100",
            "--transform",
            "log1p",
            "--prefix",
            "ac",
            "--out",
            "g.csv",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (h, rows) = read_out(&dir.path().join("g.csv"));
    let g = col(&h, &rows, "ac_gauss_400");
    let want = (2.0 * (-2.0f64).exp() + 5.0 * (-4.5f64).exp()).ln_1p();
    assert!((g[0] - want).abs() < 1e-9, "{} vs {want}", g[0]);
    assert_eq!(g[1], 0.0);
}

#[test]
fn nearest_shipped_centres_and_parquet_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.csv"), "id,city\n1,曲阜市\n2,北京\n").unwrap();
    let out = keju(
        dir.path(),
        &[
            "culture",
            "--firms",
            "f.csv",
            "--id",
            "id",
            "--city",
            "city",
            "--nearest",
            "confucian-centres",
            "--nearest",
            "printing-centres",
            "--out",
            "o.parquet",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f = keju::data::Frame::load(&dir.path().join("o.parquet")).unwrap();
    let d = f.numeric("dist_confucian_centres").unwrap();
    let (lat, lon) = place("曲阜市");
    assert!((d[0] - hav(lat, lon, 35.60, 116.99)).abs() < 1e-9);
    let (blat, blon) = place("北京市");
    assert!((d[1] - hav(blat, blon, 35.60, 116.99)).abs() < 1e-9);
    // Beijing is itself a printing centre in the illustrative set.
    assert_eq!(f.numeric("dist_printing_centres").unwrap()[1], 0.0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("illustrative"));
}

#[test]
fn unknown_and_ambiguous_cities_exit_nonzero_naming_rows_and_candidates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("f.csv"),
        "id,city\n1,北京\n2,苏洲\n3,鼓楼区\n",
    )
    .unwrap();
    let out = keju(
        dir.path(),
        &[
            "culture", "--firms", "f.csv", "--id", "id", "--city", "city", "--out", "o.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.starts_with("error: f.csv: column \"city\": 2 names"),
        "{e}"
    );
    assert!(
        e.contains("line 3: \"苏洲\": no such place; closest: 江苏省苏州市"),
        "{e}"
    );
    assert!(e.contains("line 4: \"鼓楼区\": matches 4 places"), "{e}");
    assert!(!dir.path().join("o.csv").exists(), "no output on error");
}

#[test]
fn usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.csv"), "id,city\n1,北京\n").unwrap();
    let base = [
        "culture", "--firms", "f.csv", "--id", "id", "--city", "city", "--out", "o.csv",
    ];
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        keju(dir.path(), &a)
    };
    // Invalid option combinations are usage errors: exit 2, as clap's own.
    let o = run(&["--kernel", "inverse"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs --bandwidth"));
    let o = run(&["--radius", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["--weight", "n"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("applies to a point file"));
    let o = run(&["--kernel", "idw"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "clap rejects unknown kernel names"
    );
    let o = keju(
        dir.path(),
        &[
            "culture", "--firms", "f.csv", "--id", "nope", "--city", "city", "--out", "o.csv",
        ],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("column \"nope\" not found"));
    let o = run(&["--points", "missing.csv"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.csv: no such file"));
}

#[test]
fn help_states_gap_qing_option_and_units() {
    let out = keju(Path::new("."), &["culture", "--help"]);
    let h = String::from_utf8_lossy(&out.stdout);
    for s in [
        "Nan-Zhili",
        "jinshi-qing",
        "6371.0088",
        "[default: 200]",
        "km",
        "Qufu",
        "illustrative",
    ] {
        assert!(h.contains(s), "help lacks {s}:\n{h}");
    }
}
