//! Regression tests for problems found by the hostile-input review of `keju fit`
//! (2026-11-30, bug log in the commit message of the hardening change).

mod common;

use common::*;

fn fit_args(csv: &std::path::Path, formula: &str, extra: &[&str]) -> Vec<String> {
    let mut v = vec![
        "fit".to_string(),
        formula.to_string(),
        "--data".into(),
        csv.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn ok(csv: &std::path::Path, formula: &str, extra: &[&str]) -> serde_json::Value {
    let a = fit_args(csv, formula, extra);
    keju_json(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>())
}

fn fails(csv: &std::path::Path, formula: &str, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let a = fit_args(csv, formula, extra);
    keju_fails(
        dir.path(),
        &a.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    )
}

#[test]
fn infinite_cells_are_missing() {
    let (_d, p) = write_csv(
        "inf.csv",
        "y,x\n1,2\n2,inf\n3,5\n4,1\n5,-Inf\n6,3\n7,1e400\n8,2\n9,7\n",
    );
    let r = ok(&p, "y ~ x", &[]);
    assert_eq!(r["removed"]["missing"], 3);
    assert_eq!(r["nobs"], 6);
    assert!(r["dropped_terms"].as_array().unwrap().is_empty());
}

#[test]
fn one_cluster_is_an_error() {
    let (_d, p) = write_csv("c.csv", "g,x,y\n1,1,2\n1,2,3\n1,3,3\n1,4,6\n");
    let (code, err) = fails(&p, "y ~ x", &["--cluster", "g"]);
    assert_eq!(code, 1);
    assert!(err.contains("at least 2 clusters"), "{err}");
}

#[test]
fn same_cluster_twice_and_outcome_as_regressor_are_errors() {
    let p = fixture("reference/petersen.csv");
    let (_, err) = fails(&p, "y ~ x", &["--cluster", "firm,firm"]);
    assert!(err.contains("twice"), "{err}");
    let (_, err) = fails(&p, "y ~ y", &[]);
    assert!(err.contains("also appears as a regressor"), "{err}");
}

#[test]
fn weight_scale_changes_nothing() {
    let mut a = String::from("firm,x,y,w1,w2\n");
    for i in 0..60 {
        let x = (i as f64 * 0.31).cos();
        let y = 0.5 + x + ((i * 13 % 7) as f64 - 3.0) * 0.2;
        let w = 1 + i % 4;
        a += &format!("{},{x},{y},{w},{}\n", i % 6, w as f64 * 1e250);
    }
    let (_d, p) = write_csv("w.csv", &a);
    let r1 = ok(
        &p,
        "y ~ x | firm",
        &["--weights", "w1", "--cluster", "firm"],
    );
    let r2 = ok(
        &p,
        "y ~ x | firm",
        &["--weights", "w2", "--cluster", "firm"],
    );
    for key in ["estimate", "std_error"] {
        assert_close(
            coef(&r2, "x")[key].as_f64().unwrap(),
            coef(&r1, "x")[key].as_f64().unwrap(),
            1e-10,
            key,
        );
    }
    assert_close(
        r2["fit"]["rmse"].as_f64().unwrap(),
        r1["fit"]["rmse"].as_f64().unwrap(),
        1e-10,
        "rmse",
    );
}

#[test]
fn continuous_variable_in_i_is_refused_early() {
    let p = fixture("reference/petersen.csv");
    let (_, err) = fails(&p, "y ~ i(x)", &[]);
    assert!(err.contains("dummies") && err.contains("| x"), "{err}");
}

#[test]
fn duplicate_header_names_are_an_error() {
    let (_d, p) = write_csv("dup.csv", "y,x,x\n1,2,3\n2,3,4\n3,5,6\n4,1,1\n");
    let (code, err) = fails(&p, "y ~ x", &[]);
    assert_eq!(code, 1);
    assert!(err.contains("appears twice"), "{err}");
}

#[test]
fn hostile_formula_sizes_do_not_crash() {
    let p = fixture("reference/petersen.csv");
    let deep = format!("y ~ {}x{}", "(".repeat(2000), ")".repeat(2000));
    let (code, _) = fails(&p, &deep, &[]);
    assert_eq!(code, 1);
    let flat = format!("y ~ I({})", vec!["x"; 3000].join("+"));
    let (code, _) = fails(&p, &flat, &[]);
    assert_eq!(code, 1);
    let (code, _) = fails(
        &p,
        "y ~ x",
        &["--subset", &format!("{}x > 1", "!".repeat(5000))],
    );
    assert_eq!(code, 1);
}

#[test]
fn overflowing_magnitudes_are_an_error_not_a_silent_drop() {
    let p = fixture("reference/petersen.csv");
    let (_, err) = fails(&p, "y ~ I(1e300 * x)", &[]);
    assert!(err.contains("too large"), "{err}");
    // The outcome too; a huge value only in a row that leaves the sample is no error (the
    // check runs on the estimation sample).
    let (_d, csv) = write_csv(
        "big.csv",
        "y,x,z\n1,2,1\n2,3,2\n3,5,NA\n4,4,4\n1e200,6,5\n5,1e200,NA\n6,2,7\n",
    );
    let (_, err) = fails(&csv, "y ~ x", &[]);
    assert!(
        err.contains("regressor") && err.contains("too large"),
        "{err}"
    );
    let (_, err) = fails(&csv, "y ~ z", &[]);
    assert!(
        err.contains("outcome") && err.contains("too large"),
        "{err}"
    );
    let r = ok(&csv, "y ~ x + z", &["--subset", "y < 100"]);
    assert_eq!(r["nobs"], 4);
}

/// Second review (2026-11-30, Schur-complement demeaning): when every other fixed effect is
/// nested in the eliminated one (industry within firm), or a regressor is constant within
/// firms, the reduced right-hand side is rounding noise; the dense solve must still count as
/// converged (no spurious warning), and agree with the iterative algorithm.
#[test]
fn nested_fixed_effects_converge_without_warning() {
    let mut csv = String::from("firm,year,ind,w,fx,x,y\n");
    for f in 0..60u32 {
        for t in 0..6u32 {
            let x = ((f * 7 + t * 13) % 11) as f64 * 0.37 + (t as f64).sin();
            let fx = (f * f) as f64 / 7.3;
            let y =
                0.5 * x + (f % 5) as f64 + 0.2 * t as f64 + ((f * 31 + t * 17) % 7) as f64 * 0.1;
            let w = 0.5 + ((f + t) % 4) as f64 * 0.5;
            csv.push_str(&format!("{f},{t},{},{w},{fx},{x},{y}\n", f % 7));
        }
    }
    let (_d, p) = write_csv("nested.csv", &csv);
    for (formula, extra) in [
        ("y ~ x | firm + ind", vec![]),
        ("y ~ fx + x | firm + year", vec!["--weights", "w"]),
        ("y ~ fx + x | firm + year", vec![]),
    ] {
        let mut args = extra.clone();
        args.extend(["--cluster", "firm"]);
        let schur = ok(&p, formula, &args);
        assert_eq!(
            schur["absorb"]["converged"], true,
            "{formula}: {}",
            schur["absorb"]
        );
        assert!(
            schur["warnings"].as_array().is_none_or(|w| w.is_empty()),
            "{formula}: {}",
            schur["warnings"]
        );
        args.extend(["--demean-algorithm", "iterative"]);
        let iterative = ok(&p, formula, &args);
        let (a, b) = (coef(&schur, "x"), coef(&iterative, "x"));
        for key in ["estimate", "std_error"] {
            let (u, v) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
            assert!(rel_diff(u, v) < 1e-9, "{formula} {key}: {u} vs {v}");
        }
    }
}

/// Second hostile review (2026-11-30, after the Parquet projection and the owned design).
mod second_review {
    use super::*;
    use polars::prelude::*;

    /// −0 and 0 in a numeric fixed effect that needs the general coding path (a fraction)
    /// made factorize panic; they are one group, as in pandas and pyfixest.
    #[test]
    fn negative_zero_and_zero_are_one_group() {
        let (_d, p) = write_csv(
            "nz.csv",
            "g,x,y\n0,1,2\n-0,2,3\n0.5,3,5\n0,4,4\n-0,5,7\n0.5,6,6\n",
        );
        for extra in [&[][..], &["--cluster", "g"][..]] {
            let r = ok(&p, "y ~ x | g", extra);
            assert_eq!(r["fixed_effects"][0]["levels"], 2, "{r}");
        }
        let r = ok(&p, "y ~ x + i(g)", &[]);
        assert_eq!(r["coefficients"].as_array().unwrap().len(), 3, "{r}");
    }

    /// The outcome written another way on the right-hand side is refused like `y ~ y`.
    #[test]
    fn outcome_written_differently_is_refused() {
        let p = fixture("reference/petersen.csv");
        for f in ["y ~ x + (y)", "y ~ x + I(y)", "log(y + 10) ~ log( y + 10 )"] {
            let (code, err) = fails(&p, f, &[]);
            assert_eq!(code, 1, "{f}");
            assert!(err.contains("also appears as a regressor"), "{f}: {err}");
        }
    }

    /// A `--subset` or `--split` that does not parse is reported as such, before loading (a
    /// column keju cannot decode in the file was reported instead).
    #[test]
    fn subset_and_split_errors_come_before_loading() {
        let p = fixture("formats/panel_wide.parquet");
        let (_, err) = fails(&p, "ROA ~ Lev | Stkcd", &["--subset", "Stkcd = 1"]);
        assert!(err.contains("=="), "{err}");
        assert!(!err.contains("Cash"), "{err}");
        let (_, err) = fails(&p, "ROA ~ Lev | Stkcd", &["--split", "Lev >"]);
        assert!(!err.contains("Cash") && err.contains("Lev >"), "{err}");
    }

    /// 18-digit integer ids (beyond 2^53) in Parquet int64 or CSV stay text, so distinct ids
    /// do not merge; the same ids below 2^53 give the same fit.
    #[test]
    fn integer_ids_beyond_2_53_stay_distinct() {
        let dir = tempfile::tempdir().unwrap();
        let n = 60usize;
        let firm: Vec<i64> = (0..n as i64).map(|i| i % 12).collect();
        let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 11) as f64 / 3.0).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| x[i] * 0.7 + (firm[i] as f64) * 0.3 + ((i * 13) % 7) as f64 / 5.0)
            .collect();
        let big: Vec<i64> = firm.iter().map(|f| (1i64 << 53) + f).collect();
        let mut df = DataFrame::new_infer_height(vec![
            Column::new("small".into(), &firm),
            Column::new("big".into(), &big),
            Column::new("x".into(), &x),
            Column::new("y".into(), &y),
        ])
        .unwrap();
        let pq = dir.path().join("ids.parquet");
        ParquetWriter::new(std::fs::File::create(&pq).unwrap())
            .finish(&mut df)
            .unwrap();
        let csv = dir.path().join("ids.csv");
        let mut text = String::from("small,big,x,y\n");
        for i in 0..n {
            text += &format!("{},{},{},{}\n", firm[i], big[i], x[i], y[i]);
        }
        std::fs::write(&csv, text).unwrap();
        let reference = ok(&pq, "y ~ x | small", &["--cluster", "small"]);
        assert_eq!(reference["fixed_effects"][0]["levels"], 12);
        for p in [&pq, &csv] {
            let r = ok(p, "y ~ x | big", &["--cluster", "big"]);
            assert_eq!(r["fixed_effects"][0]["levels"], 12, "{}", p.display());
            assert_eq!(
                r["coefficients"],
                reference["coefficients"],
                "{}",
                p.display()
            );
            // As a number it is refused with the reason, not rounded.
            let (code, err) = fails(p, "y ~ x + big", &[]);
            assert_eq!(code, 1);
            assert!(err.contains("2^53"), "{err}");
        }
        // 2^53 and 2^53 + 1: the larger rounds onto the smaller as a double, so the column
        // stays text even though its largest value, as a double, is exactly 2^53 (review:
        // the two firms merged). Parquet in one and in two row groups, and CSV.
        let pair: Vec<i64> = (0..n as i64).map(|i| (1i64 << 53) + i % 2).collect();
        let mut df = DataFrame::new_infer_height(vec![
            Column::new("pair".into(), &pair),
            Column::new("x".into(), &x),
            Column::new("y".into(), &y),
        ])
        .unwrap();
        let mut text = String::from("pair,x,y\n");
        for i in 0..n {
            text += &format!("{},{},{}\n", pair[i], x[i], y[i]);
        }
        let csv2 = dir.path().join("pair.csv");
        std::fs::write(&csv2, text).unwrap();
        let mut files = vec![csv2];
        for groups in [None, Some(25)] {
            let p = dir
                .path()
                .join(format!("pair{}.parquet", groups.unwrap_or(0)));
            ParquetWriter::new(std::fs::File::create(&p).unwrap())
                .with_row_group_size(groups)
                .finish(&mut df)
                .unwrap();
            files.push(p);
        }
        for p in &files {
            let r = ok(p, "y ~ x | pair", &["--cluster", "pair"]);
            assert_eq!(r["fixed_effects"][0]["levels"], 2, "{}", p.display());
        }
    }
}

/// `--timings` (new-user review, fourth session): OLS prints every phase on stderr and leaves
/// stdout as without the flag; `--split` printed nothing and now prints load and total.
#[test]
fn timings_go_to_stderr_for_fits_and_splits() {
    let p = fixture("reference/petersen.csv");
    let dir = tempfile::tempdir().unwrap();
    let data = p.display().to_string();
    let plain = keju_in(dir.path(), &["fit", "y ~ x | firm + year", "--data", &data]);
    let timed = keju_in(
        dir.path(),
        &["fit", "y ~ x | firm + year", "--data", &data, "--timings"],
    );
    assert!(plain.status.success() && timed.status.success());
    assert_eq!(plain.stdout, timed.stdout);
    let err = String::from_utf8_lossy(&timed.stderr);
    for phase in ["load", "sample", "demean", "solve", "vcov", "total"] {
        assert!(err.contains(&format!("timing {phase}")), "{err}");
    }
    let split = keju_in(
        dir.path(),
        &[
            "fit",
            "y ~ x",
            "--data",
            &data,
            "--split",
            "x > median",
            "--timings",
        ],
    );
    assert!(split.status.success());
    let err = String::from_utf8_lossy(&split.stderr);
    assert!(
        err.contains("timing load") && err.contains("timing total"),
        "{err}"
    );
}
