//! `keju fit --model probit|logit` against R glm (Swiss labour participation), the separation
//! rule on a case with known answers, and input errors.

mod common;

use common::*;
use serde_json::Value;

const TOL: f64 = 1e-6;
const FORMULA: &str =
    "participation ~ income + age + I(age^2) + education + youngkids + oldkids + foreign";

fn case(id: &str) -> Value {
    let text = std::fs::read_to_string(fixture("reference/expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
        .clone()
}

/// The Swiss labour data with the case's `recode` applied (yes=1, no=0) in a temp CSV.
fn swiss01() -> (tempfile::TempDir, std::path::PathBuf) {
    let text = std::fs::read_to_string(fixture("reference/swiss_labor.csv")).unwrap();
    let recoded = text.replace("\"yes\"", "1").replace("\"no\"", "0");
    write_csv("swiss01.csv", &recoded)
}

fn run_swiss(model: &str, extra: &[&str]) -> Value {
    let (_d, p) = swiss01();
    let p = p.display().to_string();
    let mut args = vec![
        "fit", FORMULA, "--data", &p, "--model", model, "--format", "json",
    ];
    args.extend_from_slice(extra);
    keju_json(&args)
}

/// Compare coefficients and SEs at `tol`; loglik and pseudo R² at 1e-6.
fn check(model: &str, got: &Value, tol: f64) {
    let exp = &case(&format!("swiss_labor_{model}"))["expected"];
    assert_eq!(got["model"], model);
    assert_eq!(got["nobs"], exp["nobs"]);
    for (term, b) in exp["coef"].as_object().unwrap() {
        let row = coef(got, term);
        assert_close(
            row["estimate"].as_f64().unwrap(),
            b.as_f64().unwrap(),
            tol,
            term,
        );
        assert_close(
            row["std_error"].as_f64().unwrap(),
            exp["se"][term].as_f64().unwrap(),
            tol,
            &format!("se {term}"),
        );
    }
    assert_eq!(got["coefficients"].as_array().unwrap().len(), 8);
    assert_close(
        got["fit"]["loglik"].as_f64().unwrap(),
        exp["loglik"].as_f64().unwrap(),
        TOL,
        "loglik",
    );
    assert_close(
        got["fit"]["pseudo_r2"].as_f64().unwrap(),
        exp["pseudo_r2_mcfadden"].as_f64().unwrap(),
        TOL,
        "pseudo R2",
    );
}

#[test]
fn swiss_labor_logit_matches_r_glm() {
    check("logit", &run_swiss("logit", &[]), TOL);
    check(
        "logit",
        &run_swiss("logit", &["--glm-algorithm", "r-irls"]),
        TOL,
    );
}

#[test]
fn swiss_labor_probit_matches_r_glm_with_r_irls() {
    check(
        "probit",
        &run_swiss("probit", &["--glm-algorithm", "r-irls"]),
        TOL,
    );
}

/// R's glm stops probit's linearly converging IRLS at a relative deviance change of 1e-8,
/// ~5e-6 (relative) short of the maximum. The default Newton-Raphson goes to the maximum: it
/// agrees with R to 1e-5 and its log-likelihood is at least R's.
#[test]
fn swiss_labor_probit_newton_is_at_least_as_good_as_r() {
    let got = run_swiss("probit", &[]);
    check("probit", &got, 2e-5);
    let exp = &case("swiss_labor_probit")["expected"];
    assert!(got["fit"]["loglik"].as_f64().unwrap() >= exp["loglik"].as_f64().unwrap());
}

#[test]
fn robust_variance_uses_n_over_n_minus_1() {
    // Cluster on the row id = hetero with Stata's factors: G/(G-1) with G = n, and n/(n-1).
    let (_d, p) = swiss01();
    let text = std::fs::read_to_string(&p).unwrap();
    let mut csv = String::new();
    for (i, l) in text.lines().enumerate() {
        csv += &if i == 0 {
            format!("{l},id\n")
        } else {
            format!("{l},{i}\n")
        };
    }
    std::fs::write(&p, csv).unwrap();
    let ps = p.display().to_string();
    let run = |extra: &[&str]| {
        let mut a = vec![
            "fit", FORMULA, "--data", &ps, "--model", "logit", "--format", "json",
        ];
        a.extend_from_slice(extra);
        keju_json(&a)
    };
    let hc = run(&["--vcov", "hetero"]);
    let cl = run(&["--cluster", "id"]);
    let iid = run(&[]);
    for term in ["income", "foreign"] {
        let s_hc = coef(&hc, term)["std_error"].as_f64().unwrap();
        assert_close(
            s_hc,
            coef(&cl, term)["std_error"].as_f64().unwrap(),
            1e-10,
            term,
        );
        // Robust and model-based SEs are close on a well-specified logit, but not equal.
        let s_iid = coef(&iid, term)["std_error"].as_f64().unwrap();
        assert!(
            s_hc != s_iid && (s_hc / s_iid - 1.0).abs() < 0.2,
            "{s_hc} {s_iid}"
        );
    }
}

fn separation_case(model: &str) -> Value {
    let (_d, p) = write_csv("sep.csv", "d,y\n0,0\n0,0\n0,1\n1,1\n1,1\n1,1\n");
    let p = p.display().to_string();
    keju_json(&[
        "fit", "y ~ d", "--data", &p, "--model", model, "--format", "json",
    ])
}

#[test]
fn separation_drops_the_dummy_and_its_rows() {
    for (model, want) in [
        ("logit", 0.5f64.ln()),
        // Φ⁻¹(1/3) to 16 digits.
        ("probit", -0.430_727_299_295_457_5),
    ] {
        let r = separation_case(model);
        assert_eq!(r["removed"]["separation"], 3, "{model}");
        assert_eq!(r["nobs"], 3);
        let dropped = r["dropped_terms"].as_array().unwrap();
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0]["term"], "d");
        assert_eq!(dropped[0]["reason"], "perfectly predicts the outcome");
        let coefs = r["coefficients"].as_array().unwrap();
        assert_eq!(coefs.len(), 1, "{model}: only the constant is left");
        assert_close(
            coef(&r, "(Intercept)")["estimate"].as_f64().unwrap(),
            want,
            1e-8,
            &format!("{model} constant"),
        );
    }
}

#[test]
fn non_binary_outcome_is_an_error_naming_the_column() {
    let (dir, p) = write_csv("bad.csv", "y,x\n0,1\n1,2\n2,3\n0,4\n");
    let (code, err) = keju_fails(
        dir.path(),
        &[
            "fit",
            "y ~ x",
            "--data",
            p.to_str().unwrap(),
            "--model",
            "probit",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("column \"y\""), "{err}");
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("0 or 1"), "{err}");
}

#[test]
fn absorbed_fixed_effects_equal_explicit_dummies() {
    // Swiss data with a made-up 5-level group.
    let (_d, p) = swiss01();
    let text = std::fs::read_to_string(&p).unwrap();
    let mut csv = String::new();
    for (i, l) in text.lines().enumerate() {
        csv += &if i == 0 {
            format!("{l},g\n")
        } else {
            format!("{l},{}\n", i % 5)
        };
    }
    std::fs::write(&p, csv).unwrap();
    let ps = p.display().to_string();
    let run = |f: &str| {
        keju_json(&[
            "fit", f, "--data", &ps, "--model", "logit", "--format", "json",
        ])
    };
    let fe = run("participation ~ income + age + foreign | g");
    let dm = run("participation ~ income + age + foreign + i(g)");
    for term in ["income", "age", "foreign"] {
        for key in ["estimate", "std_error"] {
            assert_close(
                coef(&fe, term)[key].as_f64().unwrap(),
                coef(&dm, term)[key].as_f64().unwrap(),
                1e-8,
                term,
            );
        }
    }
    assert_eq!(fe["coefficients"].as_array().unwrap().len(), 3);
    assert_close(
        fe["fit"]["loglik"].as_f64().unwrap(),
        dm["fit"]["loglik"].as_f64().unwrap(),
        1e-10,
        "loglik",
    );
}

#[test]
fn margins_are_mean_density_times_beta_for_logit() {
    let r = run_swiss("logit", &["--margins"]);
    let m = r["margins"].as_array().unwrap();
    assert_eq!(m.len(), 7, "all but the intercept");
    // AME_j / β_j is the same mean density for every regressor.
    let ratio = |t: &str| {
        let e = m.iter().find(|e| e["term"] == t).unwrap();
        e["ame"].as_f64().unwrap() / coef(&r, t)["estimate"].as_f64().unwrap()
    };
    let g = ratio("income");
    assert!(g > 0.0 && g < 0.25);
    assert_close(ratio("foreign"), g, 1e-12, "same density");
}
