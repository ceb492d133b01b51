//! `keju fit` with an IV part (2SLS) against AER::ivreg + sandwich HC1 (Stock & Watson
//! cigarette demand), and fixed-effect absorption against explicit dummies.

mod common;

use common::*;
use serde_json::Value;

const TOL: f64 = 1e-6;

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

/// The case's derived variables written with I() (see its `derived` field), and the map from
/// our term names to the reference names.
const RINCOME: &str = "log(I(income / population / cpi))";
const RPRICE: &str = "log(I(price / cpi))";
const TDIFF: &str = "I((taxs - tax) / cpi)";

fn run_cigarettes(instruments: &str, vcov: &str) -> Value {
    let data = fixture("reference/cigarettes_sw.csv").display().to_string();
    let formula = format!("log(packs) ~ {RINCOME} | {RPRICE} ~ {instruments}");
    let args = vec![
        "fit",
        formula.as_str(),
        "--data",
        data.as_str(),
        "--subset",
        "year == 1995",
        "--vcov",
        vcov,
        "--format",
        "json",
    ];
    keju_json(&args)
}

fn check_case(id: &str, got: &Value) {
    let c = case(id);
    let exp = &c["expected"];
    assert_eq!(got["model"], "iv");
    assert_eq!(got["nobs"], exp["nobs"], "{id}: nobs");
    let ours = |t: &str| match t {
        "log(rincome)" => RINCOME.to_string(),
        "log(rprice)" => RPRICE.to_string(),
        other => other.to_string(),
    };
    let mut n = 0;
    for (term, b) in exp["coef"].as_object().unwrap() {
        let row = coef(got, &ours(term));
        assert_close(
            row["estimate"].as_f64().unwrap(),
            b.as_f64().unwrap(),
            TOL,
            &format!("{id}: coef {term}"),
        );
        assert_close(
            row["std_error"].as_f64().unwrap(),
            exp["se"][term].as_f64().unwrap(),
            TOL,
            &format!("{id}: se {term}"),
        );
        n += 1;
    }
    assert_eq!(n, 3);
    assert_eq!(got["coefficients"].as_array().unwrap().len(), 3);
}

#[test]
fn cigarettes_one_instrument_matches_ivreg_hc1() {
    let got = run_cigarettes(TDIFF, "hetero");
    check_case("cigarettes_iv_hc1", &got);
    let fs = &got["first_stage"].as_array().unwrap()[0];
    assert_eq!(fs["endogenous"], RPRICE);
    let want = case("cigarettes_iv_hc1")["first_stage_F_hc1"]
        .as_f64()
        .unwrap();
    assert_close(
        fs["f_stat"].as_f64().unwrap(),
        want,
        TOL,
        "first-stage F (HC1)",
    );
    // One endogenous, one instrument: KP rk Wald F = robust t² of the instrument.
    let t = coef(fs, TDIFF)["t"].as_f64().unwrap();
    assert_close(fs["kp_f"].as_f64().unwrap(), t * t, 1e-10, "KP F = t²");
}

#[test]
fn cigarettes_two_instruments_match_ivreg_hc1() {
    let got = run_cigarettes(&format!("{TDIFF} + I(tax / cpi)"), "hetero");
    check_case("cigarettes_iv_two_instruments_hc1", &got);
    let fs = &got["first_stage"].as_array().unwrap()[0];
    assert_eq!(fs["f_df1"], 2);
    assert!(fs["f_stat"].as_f64().unwrap() > 10.0);
}

#[test]
fn iid_first_stage_f_is_the_classic_f() {
    // Classic F from restricted and unrestricted OLS residual sums of squares.
    let got = run_cigarettes(&format!("{TDIFF} + I(tax / cpi)"), "iid");
    let data = fixture("reference/cigarettes_sw.csv").display().to_string();
    let ols = |f: &str| {
        keju_json(&[
            "fit",
            f,
            "--data",
            &data,
            "--subset",
            "year == 1995",
            "--format",
            "json",
        ])
    };
    let u = ols(&format!("{RPRICE} ~ {RINCOME} + {TDIFF} + I(tax / cpi)"));
    let r = ols(&format!("{RPRICE} ~ {RINCOME}"));
    let (rss_u, rss_r) = (
        u["fit"]["rss"].as_f64().unwrap(),
        r["fit"]["rss"].as_f64().unwrap(),
    );
    let f = (rss_r - rss_u) / 2.0 / (rss_u / (48.0 - 4.0));
    let fs = &got["first_stage"].as_array().unwrap()[0];
    assert_close(fs["f_stat"].as_f64().unwrap(), f, 1e-9, "classic F");
}

#[test]
fn first_stage_flag_prints_the_table() {
    let data = fixture("reference/cigarettes_sw.csv").display().to_string();
    let formula = format!("log(packs) ~ {RINCOME} | {RPRICE} ~ {TDIFF}");
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "fit",
        formula.as_str(),
        "--data",
        data.as_str(),
        "--subset",
        "year == 1995",
        "--vcov",
        "hetero",
    ];
    let plain = String::from_utf8(keju_in(dir.path(), &base).stdout).unwrap();
    let mut with = base.to_vec();
    with.push("--first-stage");
    let full = String::from_utf8(keju_in(dir.path(), &with).stdout).unwrap();
    assert!(!plain.contains("first stage, outcome"), "{plain}");
    assert!(
        full.contains("first stage, outcome: log(I(price / cpi))"),
        "{full}"
    );
    assert!(full.contains("Kleibergen-Paap rk Wald F: 44.73"), "{full}");
}

/// Grunfeld with a made-up instrument: IV with absorbed firm and year effects equals IV with
/// explicit dummies (Frisch-Waugh-Lovell), coefficients and clustered SEs.
#[test]
fn absorbed_fixed_effects_equal_explicit_dummies() {
    let text = std::fs::read_to_string(fixture("reference/grunfeld.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let mut csv = format!("{header},z\n");
    for (i, l) in lines.enumerate() {
        // Deterministic "instrument": a nonlinear function of the row number.
        let z = ((i as f64) * 0.37).sin() + 0.1 * ((i * 7 % 13) as f64);
        csv += &format!("{l},{z}\n");
    }
    let (_d, p) = write_csv("grunfeld_z.csv", &csv);
    let p = p.display().to_string();
    let run = |f: &str| {
        keju_json(&[
            "fit",
            f,
            "--data",
            &p,
            "--cluster",
            "firm",
            "--fixef-k",
            "full",
            "--format",
            "json",
        ])
    };
    let fe = run("inv ~ capital | firm + year | value ~ z + I(z * capital)");
    let dm = run("inv ~ capital + i(firm) + i(year) | value ~ z + I(z * capital)");
    for term in ["capital", "value"] {
        for key in ["estimate", "std_error"] {
            assert_close(
                coef(&fe, term)[key].as_f64().unwrap(),
                coef(&dm, term)[key].as_f64().unwrap(),
                1e-8,
                &format!("{term} {key}"),
            );
        }
    }
    let f_fe = fe["first_stage"][0]["f_stat"].as_f64().unwrap();
    let f_dm = dm["first_stage"][0]["f_stat"].as_f64().unwrap();
    assert_close(f_fe, f_dm, 1e-8, "first-stage F");
}

#[test]
fn under_identified_model_is_an_error() {
    let (dir, p) = write_csv(
        "u.csv",
        "y,x,d1,d2,z\n1,1,2,3,1\n2,3,1,4,2\n3,2,5,1,4\n4,5,3,3,3\n5,4,4,2,7\n6,7,6,5,5\n",
    );
    let (code, err) = keju_fails(
        dir.path(),
        &["fit", "y ~ x | d1 + d2 ~ z", "--data", p.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(err.contains("under-identified"), "{err}");
}
