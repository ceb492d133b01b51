//! `keju fit` against reference values from R (lm + sandwich) and pyfixest, and small cases
//! with known right answers. Everything runs the built binary and reads its JSON.

mod common;

use common::*;
use serde_json::Value;

const TOL: f64 = 1e-6;

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(fixture("reference/expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

/// keju flags for a reference case's variance and small-sample convention.
fn flags(case: &Value) -> Vec<String> {
    let mut f = Vec::new();
    match &case["vcov"] {
        Value::String(s) => f.extend(["--vcov".to_string(), s.clone()]),
        Value::Object(o) => {
            let names: Vec<&str> = o["cluster"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            f.extend(["--cluster".to_string(), names.join(",")]);
        }
        other => panic!("unknown vcov {other}"),
    }
    let ssc = case["ssc"].as_str().unwrap();
    if ssc.starts_with("conventional") {
        f.extend(["--cluster-df".into(), "conventional".into()]);
    }
    if ssc.starts_with("all fixed-effect levels counted") {
        f.extend(["--fixef-k".into(), "full".into()]);
    }
    f
}

fn run_case(case: &Value, formula: &str) -> Value {
    let data = fixture(&format!("reference/{}", case["data"].as_str().unwrap()));
    let mut args: Vec<String> = vec![
        "fit".into(),
        formula.into(),
        "--data".into(),
        data.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(flags(case));
    let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    keju_json(&refs)
}

fn check_stats(id: &str, got: &Value, exp: &Value) {
    assert_eq!(got["nobs"], exp["nobs"], "{id}: nobs");
    for (key, json_key) in [
        ("r2", "r2"),
        ("adj_r2", "adj_r2"),
        ("within_r2", "within_r2"),
    ] {
        if let Some(want) = exp[key].as_f64() {
            let g = got["fit"][json_key]
                .as_f64()
                .unwrap_or_else(|| panic!("{id}: no {key}"));
            assert_close(g, want, TOL, &format!("{id}: {key}"));
        }
    }
}

#[test]
fn reference_ols_cases_match_r_and_pyfixest() {
    let mut checked = 0;
    for case in cases().iter().filter(|c| c["model"] == "ols") {
        let id = case["id"].as_str().unwrap();
        let got = run_case(case, case["formula"].as_str().unwrap());
        let exp = &case["expected"];
        for (term, se) in exp["se"].as_object().unwrap() {
            let c = coef(&got, term);
            let b = exp["coef"][term].as_f64().unwrap();
            assert_close(
                c["estimate"].as_f64().unwrap(),
                b,
                TOL,
                &format!("{id}: coef {term}"),
            );
            assert_close(
                c["std_error"].as_f64().unwrap(),
                se.as_f64().unwrap(),
                TOL,
                &format!("{id}: se {term}"),
            );
        }
        check_stats(id, &got, exp);
        checked += 1;
    }
    assert_eq!(checked, 12, "every OLS reference case ran");
}

/// The Grunfeld case with all dummies counted: run it with explicit i() dummies too, and
/// compare every coefficient, the intercept and all dummies included (Frisch-Waugh-Lovell).
#[test]
fn grunfeld_explicit_dummies_match_lm() {
    let case = cases()
        .into_iter()
        .find(|c| c["id"] == "grunfeld_fe_cluster_firm_dummies_counted")
        .unwrap();
    let got = run_case(&case, "inv ~ value + capital + i(firm) + i(year)");
    let exp = &case["expected"];
    let coefs = exp["coef"].as_object().unwrap();
    for (term, b) in coefs {
        let ours = term
            .replace("factor(firm)", "i(firm)::")
            .replace("factor(year)", "i(year)::");
        let ours = ours
            .replace("i(firm)::", "firm::")
            .replace("i(year)::", "year::");
        let c = coef(&got, &ours);
        assert_close(
            c["estimate"].as_f64().unwrap(),
            b.as_f64().unwrap(),
            TOL,
            &format!("coef {term}"),
        );
    }
    assert_eq!(got["coefficients"].as_array().unwrap().len(), coefs.len());
    for (term, se) in exp["se"].as_object().unwrap() {
        assert_close(
            coef(&got, term)["std_error"].as_f64().unwrap(),
            se.as_f64().unwrap(),
            TOL,
            term,
        );
    }
    check_stats("grunfeld dummies", &got, exp);
}

fn fit_json(csv: &std::path::Path, formula: &str, extra: &[&str]) -> Value {
    let p = csv.display().to_string();
    let mut args = vec!["fit", formula, "--data", p.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    keju_json(&args)
}

#[test]
fn cluster_on_row_id_equals_hc1() {
    let mut csv = String::from("id,x,y\n");
    for i in 0..40 {
        let x = (i as f64 * 0.7).sin();
        let y = 1.0 + 2.0 * x + ((i * 7 % 11) as f64 - 5.0) * 0.1 * (1.0 + x.abs());
        csv += &format!("{i},{x},{y}\n");
    }
    let (_d, p) = write_csv("rows.csv", &csv);
    let hc1 = fit_json(&p, "y ~ x", &["--vcov", "hetero"]);
    let cl = fit_json(&p, "y ~ x", &["--cluster", "id"]);
    // CR1 with G = n: (n-1)/(n-K) · n/(n-1) = n/(n-K) = HC1.
    for term in ["(Intercept)", "x"] {
        assert_close(
            coef(&cl, term)["std_error"].as_f64().unwrap(),
            coef(&hc1, term)["std_error"].as_f64().unwrap(),
            1e-12,
            term,
        );
    }
}

#[test]
fn checkerboard_two_way_is_made_psd_with_warning() {
    // 2 firms × 2 years, y = +1 -1 / -1 +1 on a constant: raw V_A + V_B - V_AB = -0.25·c.
    let (_d, p) = write_csv("cb.csv", "firm,year,y\n1,1,1\n1,2,-1\n2,1,-1\n2,2,1\n");
    let r = fit_json(&p, "y ~ 1", &["--cluster", "firm,year"]);
    let c = coef(&r, "(Intercept)");
    assert_eq!(c["estimate"].as_f64().unwrap(), 0.0);
    let se = c["std_error"].as_f64().unwrap();
    assert!(
        se.is_finite() && se == 0.0,
        "PSD fix zeroes the negative variance: {se}"
    );
    let w = r["warnings"].as_array().unwrap();
    assert!(
        w.iter()
            .any(|w| w.as_str().unwrap().contains("not positive semi-definite")),
        "{w:?}"
    );
}

#[test]
fn staircase_singletons_removed_iteratively() {
    // Rows 1-5 form a staircase: each removal creates a new singleton; rows 6-11 are a full
    // 3 firms × 2 years block, which stays.
    let csv = "firm,year,x,y\n\
               1,1,1,1\n1,2,2,3\n2,2,3,2\n2,3,4,5\n3,3,5,4\n\
               4,4,1,2\n4,5,2,1\n5,4,3,5\n5,5,5,3\n6,4,2,2\n6,5,7,1\n";
    let (_d, p) = write_csv("stair.csv", csv);
    let r = fit_json(&p, "y ~ x | firm + year", &[]);
    assert_eq!(r["removed"]["singletons"], 5);
    assert_eq!(r["nobs"], 6);
    let k = fit_json(&p, "y ~ x | firm + year", &["--keep-singletons"]);
    assert_eq!(k["removed"]["singletons"], 0);
    assert_eq!(k["nobs"], 11);
}

fn unbalanced_panel_csv() -> String {
    let mut csv = String::from("firm,year,x1,x2,y\n");
    let mut s = 12345u64;
    let mut rnd = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64) / ((1u64 << 53) as f64) - 0.5
    };
    for f in 0..30 {
        for t in 0..8 {
            if (f * 7 + t * 3) % 5 == 0 {
                continue; // unbalanced
            }
            let x1 = rnd() + 0.1 * f as f64;
            let x2 = rnd() + 0.05 * t as f64;
            let y = 0.5 * x1 - 1.5 * x2 + 0.3 * f as f64 - 0.2 * t as f64 + rnd();
            csv += &format!("f{f},{},{x1},{x2},{y}\n", 2000 + t);
        }
    }
    csv
}

#[test]
fn absorbed_two_way_equals_explicit_dummies() {
    let (_d, p) = write_csv("panel.csv", &unbalanced_panel_csv());
    let a = fit_json(
        &p,
        "y ~ x1 + x2 | firm + year",
        &["--cluster", "firm", "--fixef-k", "full"],
    );
    let b = fit_json(
        &p,
        "y ~ x1 + x2 + i(firm) + i(year)",
        &["--cluster", "firm"],
    );
    for term in ["x1", "x2"] {
        for key in ["estimate", "std_error"] {
            assert_close(
                coef(&a, term)[key].as_f64().unwrap(),
                coef(&b, term)[key].as_f64().unwrap(),
                1e-8,
                &format!("{term} {key}"),
            );
        }
    }
    assert_close(
        a["fit"]["r2"].as_f64().unwrap(),
        b["fit"]["r2"].as_f64().unwrap(),
        1e-10,
        "r2",
    );
    assert_close(
        a["fit"]["adj_r2"].as_f64().unwrap(),
        b["fit"]["adj_r2"].as_f64().unwrap(),
        1e-10,
        "adj_r2",
    );
}

#[test]
fn variable_constant_within_fixed_effect_is_dropped_and_named() {
    let mut csv = String::from("firm,year,ind,x,z,y\n");
    for f in 0..12 {
        for t in 0..5 {
            let ind = f % 3;
            let z = f as f64 * 1.5; // constant within firm, varies across firms
            let x = ((f * 5 + t * 3) % 7) as f64;
            let y = x + (t as f64) * 0.3 + ((f * t) % 4) as f64;
            csv += &format!("{f},{t},{ind},{x},{z},{y}\n");
        }
    }
    let (_d, p) = write_csv("c.csv", &csv);
    for fe in [
        "firm",
        "firm + year",
        "year + firm",
        "ind^year + firm",
        "ind + firm",
        "firm + ind + year",
    ] {
        let r = fit_json(&p, &format!("y ~ x + z | {fe}"), &[]);
        let dropped = r["dropped_terms"].as_array().unwrap();
        assert!(
            dropped.iter().any(|d| d["term"] == "z"),
            "z must be dropped with FE {fe}: {dropped:?}"
        );
        assert!(r["coefficients"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["term"] != "z"));
    }
}

#[test]
fn rescaling_a_regressor_rescales_coefficient_and_se() {
    let base = unbalanced_panel_csv();
    let mut scaled = String::from("firm,year,x1,x2,y\n");
    for line in base.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let x1: f64 = f[2].parse().unwrap();
        scaled += &format!("{},{},{},{},{}\n", f[0], f[1], x1 * 1e10, f[3], f[4]);
    }
    let (_d1, p1) = write_csv("a.csv", &base);
    let (_d2, p2) = write_csv("b.csv", &scaled);
    let a = fit_json(&p1, "y ~ x1 + x2 | firm + year", &["--cluster", "firm"]);
    let b = fit_json(&p2, "y ~ x1 + x2 | firm + year", &["--cluster", "firm"]);
    let (ca, cb) = (coef(&a, "x1"), coef(&b, "x1"));
    assert_close(
        cb["estimate"].as_f64().unwrap() * 1e10,
        ca["estimate"].as_f64().unwrap(),
        1e-9,
        "beta",
    );
    assert_close(
        cb["std_error"].as_f64().unwrap() * 1e10,
        ca["std_error"].as_f64().unwrap(),
        1e-9,
        "se",
    );
    assert_close(
        cb["t"].as_f64().unwrap(),
        ca["t"].as_f64().unwrap(),
        1e-9,
        "t",
    );
}

#[test]
fn missing_outcome_and_cluster_remove_same_rows_as_prefiltering() {
    let base = unbalanced_panel_csv();
    let mut holes = String::from("firm,year,x1,x2,y\n");
    let mut clean = holes.clone();
    for (i, line) in base.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        if i % 9 == 0 {
            holes += &format!("{},{},{},{},NA\n", f[0], f[1], f[2], f[3]);
        } else if i % 13 == 0 {
            holes += &format!(",{},{},{},{}\n", f[1], f[2], f[3], f[4]);
        } else {
            holes += &format!("{line}\n");
            clean += &format!("{line}\n");
        }
    }
    let (_d1, p1) = write_csv("holes.csv", &holes);
    let (_d2, p2) = write_csv("clean.csv", &clean);
    let a = fit_json(&p1, "y ~ x1 + x2 | year", &["--cluster", "firm"]);
    let b = fit_json(&p2, "y ~ x1 + x2 | year", &["--cluster", "firm"]);
    assert_eq!(a["nobs"], b["nobs"]);
    let n_removed = a["removed"]["missing"].as_u64().unwrap();
    assert!(n_removed > 20, "{n_removed}");
    assert_eq!(
        n_removed + b["nobs"].as_u64().unwrap(),
        (base.lines().count() - 1) as u64
    );
    for key in ["estimate", "std_error"] {
        assert_eq!(coef(&a, "x1")[key], coef(&b, "x1")[key]);
    }
}

#[test]
fn chinese_column_names_work() {
    let mut csv = String::from("企业,年份,儒家文化,ESG得分\n");
    for f in 0..10 {
        for t in 0..4 {
            let x = ((f * 3 + t * 5) % 7) as f64 * 0.5;
            let y = 2.0 * x + f as f64 * 0.1 + ((f + t) % 3) as f64 * 0.2;
            csv += &format!("公司{f},{},{x},{y}\n", 2010 + t);
        }
    }
    let (_d, p) = write_csv("中文.csv", &csv);
    let r = fit_json(
        &p,
        "ESG得分 ~ 儒家文化 | 企业 + 年份",
        &["--cluster", "企业"],
    );
    assert!(coef(&r, "儒家文化")["estimate"].as_f64().unwrap() > 1.5);
    assert_eq!(r["vcov"]["n_clusters"][0], 10);
    assert_eq!(r["fixed_effects"][0]["name"], "企业");
}

#[test]
fn subset_and_weights() {
    let data = fixture("reference/petersen.csv");
    let p = data.display().to_string();
    let r = keju_json(&[
        "fit",
        "y ~ x",
        "--data",
        &p,
        "--subset",
        "year <= 5 & firm != 3",
        "--format",
        "json",
    ]);
    assert_eq!(r["nobs"], 2495);
    assert_eq!(r["removed"]["subset"], 2505);
}

#[test]
fn integer_weights_equal_duplicated_rows() {
    // Analytic weights w give the same coefficients as repeating each row w times, also with
    // absorbed fixed effects (weights enter the demeaning).
    let base = unbalanced_panel_csv();
    let mut weighted = String::from("firm,year,x1,x2,y,w\n");
    let mut repeated = String::from("firm,year,x1,x2,y\n");
    for (i, line) in base.lines().skip(1).enumerate() {
        let w = 1 + i % 3;
        weighted += &format!("{line},{w}\n");
        for _ in 0..w {
            repeated += &format!("{line}\n");
        }
    }
    let (_d1, p1) = write_csv("w.csv", &weighted);
    let (_d2, p2) = write_csv("r.csv", &repeated);
    let a = fit_json(&p1, "y ~ x1 + x2 | firm + year", &["--weights", "w"]);
    let b = fit_json(&p2, "y ~ x1 + x2 | firm + year", &[]);
    for term in ["x1", "x2"] {
        assert_close(
            coef(&a, term)["estimate"].as_f64().unwrap(),
            coef(&b, term)["estimate"].as_f64().unwrap(),
            1e-8,
            term,
        );
    }
    assert_close(
        a["fit"]["r2"].as_f64().unwrap(),
        b["fit"]["r2"].as_f64().unwrap(),
        1e-8,
        "r2",
    );
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixture("reference/petersen.csv");
    let p = data.display().to_string();
    let (code, err) = keju_fails(dir.path(), &["fit", "y ~ xx", "--data", &p]);
    assert_eq!(code, 1);
    assert!(
        err.contains("column \"xx\" not found") && err.contains("petersen.csv"),
        "{err}"
    );
    let (code, err) = keju_fails(
        dir.path(),
        &["fit", "y ~ x", "--data", &p, "--clustr", "firm"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--clustr"), "{err}");
    let (code, err) = keju_fails(
        dir.path(),
        &["fit", "y ~ x", "--data", &p, "--cluster", "frm"],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("\"frm\"") && err.contains("did you mean \"firm\""),
        "{err}"
    );
    let (_, err) = keju_fails(dir.path(), &["fit", "y ~ x", "--data", "nope.csv"]);
    assert!(
        err.contains("nope.csv") && err.contains("no such file"),
        "{err}"
    );
    let (_, err) = keju_fails(dir.path(), &["fit", "y ~ x +", "--data", &p]);
    assert!(err.contains("formula"), "{err}");
    let (_d, bad) = write_csv("bad.csv", "firm,x,y\n1,1,2\n2,n.a.,3\n3,2,4\n");
    let (code, err) = keju_fails(
        dir.path(),
        &["fit", "y ~ x", "--data", &bad.display().to_string()],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("column \"x\", line 3: \"n.a.\" is not a number"),
        "{err}"
    );
    let (_, err) = keju_fails(
        dir.path(),
        &["fit", "y ~ x", "--data", &p, "--vcov", "cluster"],
    );
    assert!(err.contains("--cluster"), "{err}");
    // JSON errors on stderr when JSON was asked for.
    let out = keju_in(
        dir.path(),
        &["fit", "y ~ xx", "--data", &p, "--format", "json"],
    );
    let v: Value = serde_json::from_slice(&out.stderr).expect("stderr is JSON");
    assert_eq!(v["error"]["kind"], "column_not_found");
    assert_eq!(v["error"]["column"], "xx");
}

#[test]
fn row_order_and_group_constants_do_not_change_estimates() {
    let base = unbalanced_panel_csv();
    let mut lines: Vec<&str> = base.lines().collect();
    let header = lines.remove(0);
    let reversed = std::iter::once(header)
        .chain(lines.iter().rev().copied())
        .collect::<Vec<_>>()
        .join("\n");
    // y plus a firm-specific constant (firm index × 10).
    let shifted = std::iter::once(header.to_string())
        .chain(lines.iter().map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let shift: f64 = f[0][1..].parse::<f64>().unwrap() * 10.0;
            let y: f64 = f[4].parse().unwrap();
            format!("{},{},{},{},{}", f[0], f[1], f[2], f[3], y + shift)
        }))
        .collect::<Vec<_>>()
        .join("\n");
    let (_d0, p0) = write_csv("base.csv", &base);
    let (_d1, p1) = write_csv("rev.csv", &reversed);
    let (_d2, p2) = write_csv("shift.csv", &shifted);
    let spec = "y ~ x1 + x2 | firm + year";
    let a = fit_json(&p0, spec, &["--cluster", "firm"]);
    for other in [
        fit_json(&p1, spec, &["--cluster", "firm"]),
        fit_json(&p2, spec, &["--cluster", "firm"]),
    ] {
        for term in ["x1", "x2"] {
            for key in ["estimate", "std_error"] {
                assert_close(
                    coef(&other, term)[key].as_f64().unwrap(),
                    coef(&a, term)[key].as_f64().unwrap(),
                    1e-9,
                    &format!("{term} {key}"),
                );
            }
        }
    }
}

/// Three-way fixed effects (worker + firm + year) on a sparse mobility graph with many
/// connected components, against pyfixest 0.60 (`fixtures/mobility`). With pyfixest's
/// redundancy rule (`--fe-redundancy simple`) coefficients and clustered SEs match, with
/// either demeaning algorithm; with reghdfe's exact `firstpair` rule only K differs, and the
/// SEs move by exactly the ratio of the small-sample factors.
#[test]
fn three_way_sparse_mobility_matches_pyfixest() {
    let text = std::fs::read_to_string(fixture("mobility/expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let data = fixture("mobility/panel.csv").display().to_string();
    for case in v["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let mut base: Vec<String> = [
            "fit",
            case["formula"].as_str().unwrap(),
            "--data",
            &data,
            "--cluster",
            "worker",
            "--format",
            "json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if let Some(w) = case["weights"].as_str() {
            base.extend(["--weights".into(), w.into()]);
        }
        let run = |extra: &[&str]| {
            let mut a: Vec<&str> = base.iter().map(|s| s.as_str()).collect();
            a.extend_from_slice(extra);
            keju_json(&a)
        };
        let coef = |r: &Value, t: &str, key: &str| {
            r["coefficients"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["term"] == t)
                .unwrap()[key]
                .as_f64()
                .unwrap()
        };
        for algo in ["schur", "iterative"] {
            let r = run(&["--fe-redundancy", "simple", "--demean-algorithm", algo]);
            assert_eq!(r["nobs"], case["nobs"], "{id} {algo}: nobs");
            for t in ["x1", "x2"] {
                for (key, exp) in [
                    ("estimate", &case["coef"][t]),
                    ("std_error", &case["se"][t]),
                ] {
                    let (g, e) = (coef(&r, t, key), exp.as_f64().unwrap());
                    assert!(
                        ((g - e) / e).abs() < 1e-8,
                        "{id} {algo} {t} {key}: {g} vs pyfixest {e}"
                    );
                }
            }
        }
        let simple = run(&["--fe-redundancy", "simple"]);
        let exact = run(&[]);
        let n = exact["nobs"].as_f64().unwrap();
        let (ks, ke) = (
            simple["vcov"]["dof_k"].as_f64().unwrap(),
            exact["vcov"]["dof_k"].as_f64().unwrap(),
        );
        assert!(
            ke < ks - 10.0,
            "{id}: firstpair finds the components ({ke} vs {ks})"
        );
        let ratio = ((n - ks) / (n - ke)).sqrt();
        for t in ["x1", "x2"] {
            assert!((coef(&exact, t, "estimate") - coef(&simple, t, "estimate")).abs() < 1e-12);
            let (se_e, se_s) = (coef(&exact, t, "std_error"), coef(&simple, t, "std_error"));
            assert!(((se_e / se_s) / ratio - 1.0).abs() < 1e-12, "{id} {t}");
        }
    }
}

/// Results do not depend on the number of threads (demeaning runs columns in parallel, the
/// reduced system is assembled in parallel, X'X is summed over fixed row blocks): a
/// 30,000-row worker-firm-year panel whose reduced system is sparse (900 firms), fitted with 1
/// and 2 threads and with both demeaning algorithms, agrees to 1e-12.
#[test]
fn thread_count_does_not_change_results() {
    let mut s: u64 = 0x9e3779b97f4a7c15;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut csv = String::from("worker,firm,year,x1,x2,y\n");
    for w in 0..6000 {
        let mut f = (next() * 900.0) as u32;
        for t in 0..5 {
            if t > 0 && next() < 0.1 {
                f = (next() * 900.0) as u32;
            }
            let (x1, x2) = (next() * 2.0 + f as f64 * 1e-3, next() + t as f64 * 0.2);
            let y = 0.5 * x1 - 0.3 * x2 + (w % 17) as f64 * 0.1 + next();
            csv.push_str(&format!("{w},{f},{t},{x1},{x2},{y}\n"));
        }
    }
    let (dir, path) = write_csv("threads.csv", &csv);
    let run = |threads: &str, algo: &str| -> Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_keju"))
            .args(["fit", "y ~ x1 + x2 | worker + firm + year", "--data"])
            .arg(&path)
            .args(["--cluster", "worker", "--format", "json"])
            .args(["--demean-algorithm", algo])
            .env("RAYON_NUM_THREADS", threads)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    for algo in ["schur", "iterative"] {
        let (one, two) = (run("1", algo), run("2", algo));
        for t in ["x1", "x2"] {
            for key in ["estimate", "std_error"] {
                let (a, b) = (
                    coef(&one, t)[key].as_f64().unwrap(),
                    coef(&two, t)[key].as_f64().unwrap(),
                );
                assert!(rel_diff(a, b) < 1e-12, "{algo} {t} {key}: {a} vs {b}");
            }
        }
    }
    let schur = run("2", "schur");
    assert_eq!(schur["absorb"]["method"], "schur_complement");
    assert!(
        schur["absorb"]["iterations"].as_u64().unwrap() > 0,
        "sparse reduced system (CG)"
    );
}
