//! `keju replicate specs/hu2025.toml` on the shipped simulated panel: every table in every
//! format, truth checks, the LaTeX compiles, and spec errors stop before any model runs.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn spec_path() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("specs/hu2025.toml")
        .display()
        .to_string()
}

#[test]
fn hu2025_replicates_every_table_with_truth_checks() {
    let dir = tempfile::tempdir().unwrap();
    let out = keju_in(
        dir.path(),
        &["replicate", &spec_path(), "--out", "res", "--quiet"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let res = dir.path().join("res");
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(res.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["schema"], "keju.replicate/1");
    let ids: Vec<&str> = index["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    for id in [
        "describe",
        "table1",
        "table1_cluster",
        "table2",
        "table3",
        "table4",
        "table5",
        "robust_iv",
        "robust_proxies",
        "robust_outcomes",
        "robust_samples",
        "robust_radii",
    ] {
        assert!(ids.contains(&id), "table {id} missing from {ids:?}");
        for ext in ["tex", "md", "csv", "json"] {
            let f = res.join(format!("{id}.{ext}"));
            assert!(
                f.exists() && std::fs::metadata(&f).unwrap().len() > 100,
                "{}",
                f.display()
            );
        }
    }
    // Table 1 column 3 in Markdown holds the Js_200 row and N; Table 2 has nine columns.
    let t1 = std::fs::read_to_string(res.join("table1.md")).unwrap();
    assert!(t1.contains("Js_200") && t1.contains("Industry FE"), "{t1}");
    let t2: Value =
        serde_json::from_str(&std::fs::read_to_string(res.join("table2.json")).unwrap()).unwrap();
    assert_eq!(t2["tables"][0]["n_cols"], 9, "{t2}");
    // Split tables carry the equality test.
    let t3 = std::fs::read_to_string(res.join("table3.md")).unwrap();
    assert!(t3.contains("across groups"), "{t3}");
    // Truth checks: every checked column is reported; most true values are covered.
    let checks = index["truth_checks"].as_array().unwrap();
    assert!(checks.len() >= 20, "{}", checks.len());
    let covered = checks.iter().filter(|c| c["covered"] == true).count();
    assert!(
        covered * 10 >= checks.len() * 8,
        "{covered} of {} covered",
        checks.len()
    );
    for c in checks {
        let (lo, hi, est) = (
            c["ci_low"].as_f64().unwrap(),
            c["ci_high"].as_f64().unwrap(),
            c["estimate"].as_f64().unwrap(),
        );
        assert!(lo <= est && est <= hi);
    }
    // The paper's coefficients are listed beside ours.
    assert!(index["paper"].as_array().unwrap().len() >= 17);
    let log = std::fs::read_to_string(res.join("log.txt")).unwrap();
    assert!(
        log.contains("removed:") && log.contains("equality of js_200"),
        "{log}"
    );
    // The LaTeX compiles with XeLaTeX.
    let tex = Command::new("xelatex")
        .args(["-interaction=nonstopmode", "-halt-on-error", "table3.tex"])
        .current_dir(&res)
        .output()
        .expect("xelatex runs (CI installs it)");
    assert!(
        tex.status.success(),
        "{}",
        String::from_utf8_lossy(&tex.stdout)
    );
    assert!(res.join("table3.pdf").exists());
}

use std::process::Command;

fn run_bad_spec(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/simulated/hu2025_panel.parquet");
    let spec = text.replace("PANEL", &data.display().to_string());
    std::fs::write(dir.path().join("s.toml"), spec).unwrap();
    let (code, err) = keju_fails(
        dir.path(),
        &["replicate", "s.toml", "--out", "res", "--quiet"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        !dir.path().join("res").exists(),
        "no output before validation passes"
    );
    err
}

const GOOD_HEAD: &str =
    "[data]\npanel = \"PANEL\"\nid = \"stkcd\"\ntime = \"year\"\n[defaults]\nterm = \"js_200\"\n";

#[test]
fn spec_errors_name_the_problem_before_any_model() {
    let err = run_bad_spec(&format!(
        "{GOOD_HEAD}[[table]]\nid = \"t\"\ntitle = \"t\"\n[[table.column]]\noutcome = \"esgg\"\n"
    ));
    assert!(
        err.contains("esgg") && err.contains("did you mean \"esg\"") && err.contains("line"),
        "{err}"
    );
    let err = run_bad_spec(&format!("{GOOD_HEAD}[[table]]\nid = \"t\"\ntitle = \"t\"\n[[table.column]]\noutcome = \"esg\"\nestimator = \"tobit\"\n"));
    assert!(err.contains("tobit") && err.contains("line 12"), "{err}");
    let err = run_bad_spec(&GOOD_HEAD.replace("PANEL", "/nonexistent/panel.csv"));
    assert!(err.contains("/nonexistent/panel.csv"), "{err}");
    let err = run_bad_spec(&format!("{GOOD_HEAD}[sample]\nbaseline = \"stt == 0\"\n"));
    assert!(err.contains("stt"), "{err}");
}
