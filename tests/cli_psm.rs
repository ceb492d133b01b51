//! `keju psm` against MatchIt 4.5.1 on the LaLonde data (tests/fixtures/psm, made by
//! make_reference.R) and the project's reference case, hand-computed matching rules, and
//! input errors.

mod common;

use std::collections::HashMap;

use common::*;
use serde_json::Value;

const TOL: f64 = 1e-6;
const COVS: &str = "age + educ + i(race) + married + nodegree + re74 + re75";

fn reference() -> Value {
    let text = std::fs::read_to_string(fixture("psm/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Run keju psm on LaLonde; return (report, matched rows by row name → (weight, pscore)).
fn run_lalonde(extra: &[&str]) -> (Value, HashMap<String, (f64, f64)>) {
    let dir = tempfile::tempdir().unwrap();
    let data = fixture("reference/lalonde.csv").display().to_string();
    let out = dir.path().join("matched.csv").display().to_string();
    let mut args = vec![
        "psm",
        "--treat",
        "treat",
        "--covariates",
        COVS,
        "--outcome",
        "re78",
        "--data",
        &data,
        "--out",
        &out,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = keju_in(dir.path(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (w, p) = (col("_weight"), col("_pscore"));
    let rows = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].trim_matches('"').to_string(),
                (f[w].parse().unwrap(), f[p].parse().unwrap()),
            )
        })
        .collect();
    (report, rows)
}

fn check_case(id: &str, extra: &[&str]) {
    let refs = reference();
    let case = refs["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap();
    let mut args = vec!["--match-rule", "matchit-4.5.1"];
    args.extend_from_slice(extra);
    let (got, rows) = run_lalonde(&args);
    // Same matched set, same weights.
    let names: Vec<&str> = case["matched_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(rows.len(), names.len(), "{id}: matched rows");
    for (name, w) in names.iter().zip(case["weights"].as_array().unwrap()) {
        let (gw, _) = rows
            .get(*name)
            .unwrap_or_else(|| panic!("{id}: {name} not matched"));
        assert_close(
            *gw,
            w.as_f64().unwrap(),
            1e-12,
            &format!("{id}: weight {name}"),
        );
    }
    // Scores of the matched rows (R lists all 614 in file order).
    let all = std::fs::read_to_string(fixture("reference/lalonde.csv")).unwrap();
    let order: Vec<String> = all
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().trim_matches('"').to_string())
        .collect();
    for (name, ps) in order.iter().zip(case["pscore"].as_array().unwrap()) {
        if let Some((_, gp)) = rows.get(name) {
            assert!(
                (gp - ps.as_f64().unwrap()).abs() < TOL,
                "{id}: pscore {name}"
            );
        }
    }
    assert_close(
        got["att"].as_f64().unwrap(),
        case["att"].as_f64().unwrap(),
        TOL,
        "ATT",
    );
    assert_eq!(got["n_matched_treated"], case["n_matched_treated"]);
    assert_eq!(got["n_matched_control"], case["n_matched_control"]);
    for (term, want) in case["ps_coef"].as_object().unwrap() {
        let term = term.replace("race", "race::");
        assert_close(
            coef(&got["score_model"], &term)["estimate"]
                .as_f64()
                .unwrap(),
            want.as_f64().unwrap(),
            TOL,
            &term,
        );
    }
    let balance = got["balance"].as_array().unwrap();
    for (side, key) in [("before", "balance_all"), ("after", "balance_matched")] {
        for want in case[key].as_array().unwrap() {
            let term = want["term"].as_str().unwrap();
            let term = if term.starts_with("race") {
                term.replace("race", "race::")
            } else {
                term.to_string()
            };
            let Some(row) = balance.iter().find(|b| b["term"] == term) else {
                continue; // raceblack: the reference level is not a regressor
            };
            for f in ["mean_treated", "mean_control", "smd"] {
                let (g, w) = (row[side][f].as_f64().unwrap(), want[f].as_f64().unwrap());
                assert!((g - w).abs() < TOL, "{id}: {side} {term} {f}: {g} vs {w}");
            }
            match want["var_ratio"].as_f64() {
                Some(w) => assert_close(
                    row[side]["var_ratio"].as_f64().unwrap(),
                    w,
                    TOL,
                    term.as_str(),
                ),
                None => assert!(row[side]["var_ratio"].is_null()),
            }
        }
    }
}

#[test]
fn lalonde_1to1_matches_matchit() {
    check_case("nearest_1to1", &[]);
}

#[test]
fn lalonde_2to1_matches_matchit() {
    check_case("nearest_2to1", &["--ratio", "2"]);
}

#[test]
fn lalonde_replace_matches_matchit() {
    check_case("nearest_1to1_replace", &["--replace"]);
}

#[test]
fn lalonde_project_reference_case() {
    let (got, _) = run_lalonde(&["--match-rule", "matchit-4.5.1"]);
    assert_close(got["att"].as_f64().unwrap(), 770.390167837841, TOL, "ATT");
    assert_eq!(got["n_matched"], 370);
    assert_eq!(got["schema"], "keju.psm/1");
}

#[test]
fn nearest_rule_and_caliper() {
    // True nearest neighbour: same counts; a caliper of 0.1 SD binds.
    let (got, rows) = run_lalonde(&[]);
    assert_eq!(got["n_matched"], 370);
    assert_eq!(rows.len(), 370);
    let (cal, rows) = run_lalonde(&["--caliper", "0.1"]);
    let width = cal["matching"]["caliper_width"].as_f64().unwrap();
    assert!(width > 0.0 && width < 0.1);
    let unmatched = cal["n_unmatched_treated"].as_u64().unwrap();
    assert!(unmatched > 0);
    assert_eq!(cal["n_caliper_discarded"].as_u64().unwrap(), unmatched);
    assert_eq!(rows.len() as u64, cal["n_matched"].as_u64().unwrap());
}

#[test]
fn matched_file_refits_with_weights() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixture("reference/lalonde.csv").display().to_string();
    let o = keju_in(
        dir.path(),
        &[
            "psm",
            "--treat",
            "treat",
            "--covariates",
            COVS,
            "--outcome",
            "re78",
            "--data",
            &data,
            "--out",
            "m.csv",
            "--match-rule",
            "matchit-4.5.1",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fit = keju_in(
        dir.path(),
        &[
            "fit",
            "re78 ~ treat",
            "--data",
            "m.csv",
            "--weights",
            "_weight",
            "--format",
            "json",
        ],
    );
    assert!(
        fit.status.success(),
        "{}",
        String::from_utf8_lossy(&fit.stderr)
    );
    let v: Value = serde_json::from_slice(&fit.stdout).unwrap();
    assert_close(
        coef(&v, "treat")["estimate"].as_f64().unwrap(),
        770.390167837841,
        TOL,
        "refit",
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let (dir, p) = write_csv("d.csv", "t,x,y\n0,1,2\n1,0,3\n2,1,4\n0,0,5\n");
    let p = p.display().to_string();
    let base = |t: &str, c: &str, extra: &[&str]| {
        let mut a: Vec<&str> = vec![
            "psm",
            "--treat",
            t,
            "--covariates",
            c,
            "--outcome",
            "y",
            "--data",
            &p,
            "--out",
            "m.csv",
        ];
        a.extend_from_slice(extra);
        keju_fails(dir.path(), &a)
    };
    let (code, err) = base("t", "x", &[]);
    assert_eq!(code, 1);
    assert!(err.contains("line 4") && err.contains("0 or 1"), "{err}");
    let (_, err) = base("x", "nope", &[]);
    assert!(err.contains("\"nope\" not found"), "{err}");
    let (code, err) = base("t", "x", &["--caliper", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--caliper"), "{err}");
    let (d2, p2) = write_csv("e.csv", "t,x,y\n1,1,2\n1,2,3\n");
    let p2 = p2.display().to_string();
    let (code, err) = keju_fails(
        d2.path(),
        &[
            "psm",
            "--treat",
            "t",
            "--covariates",
            "x",
            "--outcome",
            "y",
            "--data",
            &p2,
            "--out",
            "m.csv",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("no control units"), "{err}");
}
