//! `keju fit --split`: per-group fits equal subset fits, thresholds are computed on the pooled
//! sample, and the equality test equals the Wald test from an explicitly interacted model.

mod common;

use common::*;
use serde_json::Value;

fn grunfeld_with_dummy() -> (tempfile::TempDir, std::path::PathBuf, f64) {
    // Add d = 1[value > mean(value)] and its complement nd, so the pooled interaction model can
    // also be written out by hand.
    let text = std::fs::read_to_string(fixture("reference/grunfeld.csv")).unwrap();
    let rows: Vec<Vec<String>> = text
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|s| s.trim_matches('"').to_string())
                .collect()
        })
        .collect();
    let mean = rows
        .iter()
        .map(|r| r[3].parse::<f64>().unwrap())
        .sum::<f64>()
        / rows.len() as f64;
    let mut csv = String::from("firm,year,inv,value,capital,d,nd\n");
    for r in &rows {
        let d = u8::from(r[3].parse::<f64>().unwrap() > mean);
        csv += &format!(
            "{},{},{},{},{},{d},{}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            1 - d
        );
    }
    let (dir, p) = write_csv("g.csv", &csv);
    (dir, p, mean)
}

#[test]
fn threshold_split_groups_equal_subset_fits_and_test_matches_hand_interaction() {
    let (_d, p, _mean) = grunfeld_with_dummy();
    let ps = p.display().to_string();
    let split = keju_json(&[
        "fit",
        "inv ~ value + capital | year",
        "--data",
        &ps,
        "--cluster",
        "firm",
        "--split",
        "value > mean",
        "--format",
        "json",
    ]);
    assert_eq!(split["schema"], "keju.split/1");
    let groups = split["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["group"], "value > mean");
    for (g, cond) in groups.iter().zip(["d == 1", "d == 0"]) {
        let sub = keju_json(&[
            "fit",
            "inv ~ value + capital | year",
            "--data",
            &ps,
            "--cluster",
            "firm",
            "--subset",
            cond,
            "--format",
            "json",
        ]);
        assert_eq!(g["result"]["nobs"], sub["nobs"]);
        for term in ["value", "capital"] {
            for key in ["estimate", "std_error"] {
                assert_close(
                    coef(&g["result"], term)[key].as_f64().unwrap(),
                    coef(&sub, term)[key].as_f64().unwrap(),
                    1e-10,
                    &format!("{cond} {term} {key}"),
                );
            }
        }
    }
    // The fully interacted pooled model written out by hand: value and capital interacted
    // with d/nd, year fixed effects interacted with d.
    let hand = keju_json(&[
        "fit",
        "inv ~ value:d + value:nd + capital:d + capital:nd | year^d",
        "--data",
        &ps,
        "--cluster",
        "firm",
        "--format",
        "json",
    ]);
    // Its group coefficients are those of the separate fits shown in the table, and so are
    // the pooled estimates the test reports.
    let pooled = split["equality_test"]["pooled_estimates"]
        .as_array()
        .unwrap();
    for (g, (term, est)) in groups
        .iter()
        .zip(["value:d", "value:nd"].iter().zip(pooled))
    {
        let shown = coef(&g["result"], "value")["estimate"].as_f64().unwrap();
        assert_close(
            coef(&hand, term)["estimate"].as_f64().unwrap(),
            shown,
            1e-8,
            term,
        );
        assert_close(est.as_f64().unwrap(), shown, 1e-8, "pooled estimate");
    }
    let terms: Vec<&str> = hand["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["term"].as_str().unwrap())
        .collect();
    let (i1, i0) = (
        terms.iter().position(|t| *t == "value:d").unwrap(),
        terms.iter().position(|t| *t == "value:nd").unwrap(),
    );
    let v = &hand["vcov_matrix"];
    let var = v[i1][i1].as_f64().unwrap() + v[i0][i0].as_f64().unwrap()
        - 2.0 * v[i1][i0].as_f64().unwrap();
    let diff = coef(&hand, "value:d")["estimate"].as_f64().unwrap()
        - coef(&hand, "value:nd")["estimate"].as_f64().unwrap();
    let test = &split["equality_test"];
    assert_eq!(test["term"], "value");
    assert_eq!(test["df1"], 1);
    assert_close(
        test["f_stat"].as_f64().unwrap(),
        diff * diff / var,
        1e-8,
        "F = t² of the difference",
    );
    let p = test["p"].as_f64().unwrap();
    assert!(p > 0.0 && p < 1.0);
}

#[test]
fn level_split_and_condition_split() {
    let data = fixture("reference/grunfeld.csv");
    let ps = data.display().to_string();
    let r: Value = keju_json(&[
        "fit",
        "inv ~ value + capital",
        "--data",
        &ps,
        "--split",
        "firm",
        "--format",
        "json",
    ]);
    assert_eq!(r["groups"].as_array().unwrap().len(), 10);
    assert_eq!(r["groups"][0]["group"], "firm = 1");
    assert_eq!(r["groups"][0]["result"]["nobs"], 20);
    assert_eq!(r["groups"][0]["result"]["removed"]["other_groups"], 180);
    assert_eq!(r["equality_test"]["df1"], 9);
    let c: Value = keju_json(&[
        "fit",
        "inv ~ value + capital | firm",
        "--data",
        &ps,
        "--split",
        "year <= 1944",
        "--split-term",
        "capital",
        "--format",
        "json",
    ]);
    assert_eq!(c["groups"][0]["result"]["nobs"], 100);
    assert_eq!(c["groups"][1]["group"], "!(year <= 1944)");
    assert_eq!(c["equality_test"]["term"], "capital");
}

#[test]
fn median_by_group_is_computed_within_each_level() {
    // Two years; the median of x is 2 in year 1 and 20 in year 2: "x > median by year" puts
    // exactly the rows above their own year's median in the first group.
    let mut csv = String::from("year,x,y,f\n");
    for (i, x) in [1.0, 2.0, 3.0, 10.0, 20.0, 30.0].iter().enumerate() {
        let year = if i < 3 { 1 } else { 2 };
        csv += &format!("{year},{x},{},{}\n", x * 0.5 + i as f64, i % 2);
    }
    for (i, x) in [1.5, 2.5, 15.0, 25.0].iter().enumerate() {
        let year = if i < 2 { 1 } else { 2 };
        csv += &format!("{year},{x},{},{}\n", x * 0.3, i % 2);
    }
    let (_d, p) = write_csv("m.csv", &csv);
    let r = keju_json(&[
        "fit",
        "y ~ x",
        "--data",
        &p.display().to_string(),
        "--split",
        "x > median by year",
        "--format",
        "json",
    ]);
    // year 1: 1,1.5,2,2.5,3 -> median 2 -> above: 2.5, 3; year 2: 10,15,20,25,30 -> median 20
    // -> above: 25, 30.
    assert_eq!(r["groups"][0]["result"]["nobs"], 4);
    assert_eq!(r["groups"][1]["result"]["nobs"], 6);
}
