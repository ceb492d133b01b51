//! `keju winsorize`: the Stata and R type-7 rules on hand-computed cases, groups, missing
//! values, counts, and values computed by R's quantile(type = 7) (tests/fixtures/winsorize).

mod common;

use common::*;
use serde_json::Value;

fn run(content: &str, args: &[&str]) -> (Value, String) {
    let (dir, p) = write_csv("d.csv", content);
    let p = p.display().to_string();
    let mut a = vec![
        "winsorize",
        "--data",
        &p,
        "--out",
        "w.csv",
        "--format",
        "json",
    ];
    a.extend_from_slice(args);
    let o = keju_in(dir.path(), &a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (
        serde_json::from_slice(&o.stdout).unwrap(),
        std::fs::read_to_string(dir.path().join("w.csv")).unwrap(),
    )
}

fn one_to_twenty() -> String {
    let mut s = String::from("x\n");
    for i in 1..=20 {
        s.push_str(&format!("{i}\n"));
    }
    s
}

fn column(csv: &str, j: usize) -> Vec<String> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').nth(j).unwrap().to_string())
        .collect()
}

#[test]
fn stata_rule_one_to_twenty() {
    let (r, out) = run(&one_to_twenty(), &["--vars", "x", "--p", "0.1"]);
    assert_eq!(r["schema"], "keju.winsorize/1");
    let v = &r["variables"][0];
    assert_eq!(
        (v["n_clipped_low"].as_u64(), v["n_clipped_high"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(v["groups"][0]["lower"], 2.5);
    assert_eq!(v["groups"][0]["upper"], 18.5);
    let x = column(&out, 0);
    assert_eq!(&x[..3], ["2.5", "2.5", "3.0"]);
    assert_eq!(&x[17..], ["18.0", "18.5", "18.5"]);
}

#[test]
fn r7_rule_one_to_twenty() {
    let (r, _) = run(
        &one_to_twenty(),
        &["--vars", "x", "--p", "0.1", "--quantile-rule", "r7"],
    );
    let g = &r["variables"][0]["groups"][0];
    assert_close(g["lower"].as_f64().unwrap(), 2.9, 1e-12, "lower");
    assert_close(g["upper"].as_f64().unwrap(), 18.1, 1e-12, "upper");
}

#[test]
fn missing_and_ties_and_groups() {
    // Group a: 1, 1, 1, 1, 100 and a missing value; group b: 5..9.
    let csv = "g,x\na,1\na,1\na,\na,1\na,1\na,100\nb,5\nb,6\nb,7\nb,8\nb,9\n";
    let (r, out) = run(csv, &["--vars", "x", "--p", "0.2", "--by", "g"]);
    let v = &r["variables"][0];
    assert_eq!(v["n_missing"], 1);
    assert_eq!(v["n"], 10);
    // a: n·p = 1 → (x₁ + x₂)/2 = 1; upper n·p = 4 → (x₄ + x₅)/2 = 50.5.
    let a = &v["groups"][0];
    assert_eq!(
        (a["lower"].as_f64(), a["upper"].as_f64()),
        (Some(1.0), Some(50.5))
    );
    // b: lower (5 + 6)/2 = 5.5, upper (8 + 9)/2 = 8.5.
    let b = &v["groups"][1];
    assert_eq!(
        (b["lower"].as_f64(), b["upper"].as_f64()),
        (Some(5.5), Some(8.5))
    );
    assert_eq!(v["n_clipped_low"], 1);
    assert_eq!(v["n_clipped_high"], 2);
    let x = column(&out, 1);
    assert_eq!(
        x,
        ["1.0", "1.0", "", "1.0", "1.0", "50.5", "5.5", "6.0", "7.0", "8.0", "8.5"]
    );
}

#[test]
fn matches_r_quantile_type7() {
    // Values and quantiles from tests/fixtures/winsorize/make_reference.R.
    let text = std::fs::read_to_string(fixture("winsorize/expected.json")).unwrap();
    let exp: Value = serde_json::from_str(&text).unwrap();
    let mut csv = String::from("x\n");
    for v in exp["x"].as_array().unwrap() {
        csv.push_str(&format!("{}\n", v.as_f64().unwrap()));
    }
    for (p, lo, hi) in exp["cases"].as_array().unwrap().iter().map(|c| {
        (
            c["p"].as_f64().unwrap(),
            c["lower"].as_f64().unwrap(),
            c["upper"].as_f64().unwrap(),
        )
    }) {
        let ps = p.to_string();
        let (r, _) = run(&csv, &["--vars", "x", "--p", &ps, "--quantile-rule", "r7"]);
        let g = &r["variables"][0]["groups"][0];
        assert_close(g["lower"].as_f64().unwrap(), lo, 1e-12, "lower");
        assert_close(g["upper"].as_f64().unwrap(), hi, 1e-12, "upper");
    }
}

#[test]
fn bad_input() {
    let (dir, p) = write_csv("d.csv", "x,s\n1,a\n2,b\n");
    let p = p.display().to_string();
    let (code, err) = keju_fails(
        dir.path(),
        &[
            "winsorize",
            "--data",
            &p,
            "--vars",
            "x",
            "--p",
            "0.6",
            "--out",
            "w.csv",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--p"), "{err}");
    let (code, err) = keju_fails(
        dir.path(),
        &["winsorize", "--data", &p, "--vars", "y", "--out", "w.csv"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("\"y\" not found"), "{err}");
}
