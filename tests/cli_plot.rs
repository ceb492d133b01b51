//! `keju plot`: coefficient plots from real fits (petersen, grunfeld) in SVG and PNG, Chinese
//! labels, a firm map from city names, and the error messages.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Fit petersen (y ~ x, clustered by firm) and grunfeld (inv ~ value + capital, firm + year FE)
/// into `dir`; return the result paths.
fn fits(dir: &Path) -> Vec<PathBuf> {
    let p = fixture("reference/petersen.csv");
    let g = fixture("reference/grunfeld.csv");
    let specs: [(&str, &Path, &[&str]); 3] = [
        ("y ~ x", &p, &["--cluster", "firm"]),
        (
            "inv ~ value + capital | firm + year",
            &g,
            &["--cluster", "firm"],
        ),
        ("inv ~ value + capital", &g, &[]),
    ];
    specs
        .iter()
        .enumerate()
        .map(|(i, (f, data, extra))| {
            let out = dir.join(format!("m{}.json", i + 1));
            let mut args = vec![
                "fit",
                f,
                "--data",
                data.to_str().unwrap(),
                "--format",
                "json",
                "--output",
                out.to_str().unwrap(),
            ];
            args.extend_from_slice(extra);
            let o = keju_in(dir, &args);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            out
        })
        .collect()
}

/// The text contents of an SVG's `<text>` elements, trimmed.
fn svg_texts(path: &Path) -> Vec<String> {
    let svg = std::fs::read_to_string(path).unwrap();
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

/// Assert every string is the text of some `<text>` element.
#[track_caller]
fn assert_texts(path: &Path, want: &[&str]) {
    let texts = svg_texts(path);
    for s in want {
        assert!(
            texts.iter().any(|t| t == s),
            "{s:?} not a text of {texts:?}"
        );
    }
}

fn run_ok(dir: &Path, args: &[&str]) {
    let o = keju_in(dir, args);
    assert!(
        o.status.success(),
        "keju {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Decode a PNG; return (width, height).
fn png_size(path: &Path) -> (u32, u32) {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = png::Decoder::new(file)
        .read_info()
        .expect("a valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("the PNG decodes");
    assert!(buf.iter().any(|&b| b != 255), "the PNG is not blank white");
    (info.width, info.height)
}

#[test]
fn coef_plot_svg_and_png_from_real_fits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let r = fits(d);
    let svg = d.join("coef.svg");
    let png = d.join("coef.png");
    for out in [&svg, &png] {
        run_ok(
            d,
            &[
                "plot",
                "coef",
                r[1].to_str().unwrap(),
                r[2].to_str().unwrap(),
                "--terms",
                "value,capital",
                "--titles",
                "Firm and year FE,Pooled OLS",
                "--out",
                out.to_str().unwrap(),
            ],
        );
    }
    assert_texts(
        &svg,
        &[
            "value",
            "capital",
            "Firm and year FE",
            "Pooled OLS",
            "90% CI",
            "95% CI",
            "Term",
        ],
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("font-family=\"WenQuanYi Micro Hei, sans-serif\""));
    assert_eq!(png_size(&png), (900, 600));
}

#[test]
fn coef_plot_default_titles_are_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let r = fits(d);
    let svg = d.join("c.svg");
    run_ok(
        d,
        &[
            "plot",
            "coef",
            r[0].to_str().unwrap(),
            r[1].to_str().unwrap(),
            "--out",
            svg.to_str().unwrap(),
        ],
    );
    // Every term but the intercept: x (petersen), value and capital (grunfeld).
    assert_texts(&svg, &["(1) y", "(2) inv", "x", "value", "capital"]);
    assert!(!svg_texts(&svg).iter().any(|t| t == "(Intercept)"));
}

#[test]
fn chinese_labels_in_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let r = fits(d);
    let labels = d.join("labels.csv");
    std::fs::write(&labels, "term,label\nx,儒家文化\ny,企业ESG\n").unwrap();
    for name in ["zh.svg", "zh.png"] {
        run_ok(
            d,
            &[
                "plot",
                "coef",
                r[0].to_str().unwrap(),
                "--labels",
                labels.to_str().unwrap(),
                "--title",
                "儒家文化与ESG",
                "--out",
                name,
            ],
        );
    }
    assert_texts(
        &d.join("zh.svg"),
        &["儒家文化", "(1) 企业ESG", "儒家文化与ESG"],
    );
    assert_eq!(png_size(&d.join("zh.png")), (900, 600));
}

#[test]
fn map_from_city_names() {
    let (dir, firms) = write_csv(
        "firms.csv",
        "code,city,js_200\n1,北京,2.5\n2,上海,3.1\n3,苏州,4.2\n4,曲阜市,5.0\n5,广州,1.2\n6,,2.0\n",
    );
    let d = dir.path();
    let f = firms.to_str().unwrap();
    for name in ["map.svg", "map.png"] {
        let o = keju_in(
            d,
            &[
                "plot",
                "map",
                "--firms",
                f,
                "--city",
                "city",
                "--measure",
                "js_200",
                "--prefectures",
                "--out",
                name,
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("5 of 6 firm rows plotted"), "{err}");
    }
    assert_texts(
        &d.join("map.svg"),
        &["js_200", "firms (5)", "120°E", "30°N", "Longitude"],
    );
    assert!(svg_texts(&d.join("map.svg"))
        .iter()
        .any(|t| t.starts_with("Ming-Qing jinshi prefectures")));
    assert_eq!(png_size(&d.join("map.png")), (1100, 680));
}

#[test]
fn map_from_lat_lon() {
    let (dir, firms) = write_csv(
        "firms.csv",
        "code,lat,lon,m\n1,39.9,116.4,1\n2,31.2,121.5,2\n3,10.0,100.0,3\n",
    );
    let d = dir.path();
    let o = keju_in(
        d,
        &[
            "plot",
            "map",
            "--firms",
            firms.to_str().unwrap(),
            "--lat",
            "lat",
            "--lon",
            "lon",
            "--measure",
            "m",
            "--out",
            "m.png",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 outside the map"));
    assert!(d.join("m.png").exists());
}

#[test]
fn errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let r = fits(d);
    let m2 = r[1].to_str().unwrap();
    // Unknown term, with the closest as a hint.
    let (code, err) = keju_fails(
        d,
        &["plot", "coef", m2, "--terms", "valu", "--out", "a.svg"],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("\"valu\"") && err.contains("did you mean \"value\""),
        "{err}"
    );
    assert!(!d.join("a.svg").exists());
    // Unknown extension.
    let (code, err) = keju_fails(d, &["plot", "coef", m2, "--out", "a.pdf"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("\".pdf\"") && err.contains(".svg or .png"),
        "{err}"
    );
    // No results.
    let (code, err) = keju_fails(d, &["plot", "coef", "--out", "a.svg"]);
    assert_eq!(code, 2);
    assert!(err.contains("RESULT.json"), "{err}");
    // A level out of range.
    let (_, err) = keju_fails(
        d,
        &["plot", "coef", m2, "--level", "90,100", "--out", "a.svg"],
    );
    assert!(err.contains("--level"), "{err}");
    // A file that is not a fit result.
    let bad = d.join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let (code, err) = keju_fails(
        d,
        &["plot", "coef", bad.to_str().unwrap(), "--out", "a.svg"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("not a keju fit result"), "{err}");
    // Map: unknown city and unknown measure column.
    let firms = d.join("firms.csv");
    std::fs::write(&firms, "city,js\n北京,1\n火星,2\n").unwrap();
    let f = firms.to_str().unwrap();
    let (code, err) = keju_fails(
        d,
        &[
            "plot",
            "map",
            "--firms",
            f,
            "--city",
            "city",
            "--measure",
            "js",
            "--out",
            "m.svg",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("火星"), "{err}");
    let (_, err) = keju_fails(
        d,
        &[
            "plot",
            "map",
            "--firms",
            f,
            "--city",
            "city",
            "--measure",
            "jss",
            "--out",
            "m.svg",
        ],
    );
    assert!(err.contains("\"jss\""), "{err}");
}

/// The plotted 95% interval (recomputed from estimate, SE and `vcov.df_t`) equals the stored
/// `ci_low`/`ci_high` of `keju fit`, for t-based OLS fits and a normal-based probit fit.
#[test]
fn recomputed_95_interval_matches_fit() {
    use keju::report::plot::coef::{CoefOptions, CoefPlot};
    use keju::report::table::FitRecord;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut paths = fits(d);
    let mut csv = String::from("y,x\n");
    for i in 0..60 {
        let x = i as f64 / 10.0 - 3.0;
        let y = ((i * 37) % 10 < 3 + i / 12) as u8;
        csv.push_str(&format!("{y},{x}\n"));
    }
    std::fs::write(d.join("bin.csv"), csv).unwrap();
    let probit = d.join("probit.json");
    run_ok(
        d,
        &[
            "fit",
            "y ~ x",
            "--data",
            "bin.csv",
            "--model",
            "probit",
            "--format",
            "json",
            "--output",
            probit.to_str().unwrap(),
        ],
    );
    paths.push(probit);
    let opts = CoefOptions {
        levels_pct: vec![95.0],
        ..Default::default()
    };
    for p in &paths {
        let rec = FitRecord::load(p).unwrap();
        let plot = CoefPlot::build(std::slice::from_ref(&rec), &opts).unwrap();
        for pt in &plot.points {
            let c = rec
                .coefficients
                .iter()
                .find(|c| c.term == plot.terms[pt.term])
                .unwrap();
            let (lo, hi) = pt.intervals[0];
            assert_close(
                lo,
                c.ci_low.unwrap(),
                1e-9,
                &format!("{p:?} {} low", c.term),
            );
            assert_close(
                hi,
                c.ci_high.unwrap(),
                1e-9,
                &format!("{p:?} {} high", c.term),
            );
        }
    }
}
