//! `keju check`: panel structure, duplicates (exit 1 with their lines), gaps, missing rates,
//! text cells in numeric columns, constant columns; text and JSON. Fixtures:
//! tests/fixtures/formats/SOURCE.md.

mod common;

use common::*;
use serde_json::Value;

fn data(rel: &str) -> String {
    fixture(&format!("formats/{rel}")).display().to_string()
}

#[test]
fn clean_panel_passes() {
    let v = keju_json(&[
        "check",
        "--data",
        &data("panel.csv"),
        "--id",
        "Stkcd",
        "--time",
        "year",
        "--format",
        "json",
    ]);
    assert_eq!(v["schema"], "keju.check/1");
    assert_eq!(
        (v["n_firms"].as_u64(), v["n_periods"].as_u64()),
        (Some(6), Some(4))
    );
    assert_eq!(v["balanced"], true);
    assert_eq!(v["duplicates"]["n_pairs"], 0);
    assert_eq!(v["gaps"]["n_firms"], 0);
    assert_eq!(
        (v["first_period"].as_str(), v["last_period"].as_str()),
        (Some("2018"), Some("2021"))
    );
    let lev = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Lev")
        .unwrap();
    assert_eq!(lev["n_missing"], 1);
    assert!((lev["missing_rate"].as_f64().unwrap() - 1.0 / 24.0).abs() < 1e-12);
}

#[test]
fn duplicates_fail_with_lines_and_report_everything() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "check",
        "--data",
        &data("panel_issues.csv"),
        "--id",
        "Stkcd",
        "--time",
        "year",
    ];
    let out = keju_in(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("1 duplicate firm-period pair(s) (Stkcd, year), 2 rows; first: 000001 2019 on lines 3, 4"),
        "{stderr}"
    );
    assert!(stdout.contains("000001 2019: lines 3, 4"), "{stdout}");
    assert!(stdout.contains("000002: missing 2019"), "{stdout}");
    assert!(stdout.contains("ROA: 1 cells: line 7 \"n.a.\""), "{stdout}");
    assert!(stdout.contains("constant columns: country"), "{stdout}");
    assert!(stdout.contains("unbalanced"), "{stdout}");

    // JSON: the report on stdout, the error as JSON on stderr
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let out = keju_in(dir.path(), &json_args);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["duplicates"]["examples"][0]["lines"],
        serde_json::json!([3, 4])
    );
    assert_eq!(v["duplicates"]["examples"][0]["firm"], "000001");
    assert_eq!(
        v["gaps"]["examples"][0]["missing"],
        serde_json::json!(["2019"])
    );
    let roa = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ROA")
        .unwrap();
    assert_eq!(
        roa["text_cells"]["examples"][0],
        serde_json::json!({"line": 7, "value": "n.a."})
    );
    assert_eq!(v["constant_columns"], serde_json::json!(["country"]));
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["kind"], "schema");
}

#[test]
fn lines_count_csmar_header_rows_and_dates_work_as_periods() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("formats/panel_csmar.csv")).unwrap();
    // duplicate the first data row (line 4) at the end (line 28)
    let first = text.lines().nth(3).unwrap().to_string();
    std::fs::write(dir.path().join("c.csv"), format!("{text}{first}\n")).unwrap();
    let (code, err) = keju_fails(
        dir.path(),
        &[
            "check", "--data", "c.csv", "--id", "Stkcd", "--time", "Accper",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("000001 2018-12-31 on lines 4, 28"), "{err}");
    // the same with --year-from: periods are years
    let (_, err) = keju_fails(
        dir.path(),
        &[
            "check",
            "--data",
            "c.csv",
            "--id",
            "Stkcd",
            "--time",
            "year",
            "--year-from",
            "Accper",
        ],
    );
    assert!(err.contains("000001 2018 on lines 4, 28"), "{err}");
}

#[test]
fn unknown_columns_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = keju_fails(
        dir.path(),
        &[
            "check",
            "--data",
            &data("panel.csv"),
            "--id",
            "stkcd",
            "--time",
            "year",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("column \"stkcd\" not found") && err.contains("Stkcd"),
        "{err}"
    );
}
