//! Reading what researchers have: the same panel as CSV (UTF-8, GBK, tab, BOM), CSMAR layout,
//! Excel (.xlsx, .xls) and Stata (.dta 114/117/118) gives the same regression; bad inputs give
//! clear errors and a non-zero exit, never a panic. Fixtures: tests/fixtures/formats/SOURCE.md.

mod common;

use common::*;
use serde_json::Value;

const FE: &str = "ROA ~ Lev + Size | Stkcd + year";

fn formats(rel: &str) -> String {
    fixture(&format!("formats/{rel}")).display().to_string()
}

fn fit(formula: &str, file: &str, extra: &[&str]) -> Value {
    let data = formats(file);
    let mut args = vec![
        "fit",
        formula,
        "--data",
        &data,
        "--cluster",
        "Stkcd",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    keju_json(&args)
}

/// (term, estimate, std_error) of every coefficient, compared exactly.
fn coefs(v: &Value) -> Vec<(String, f64, f64)> {
    v["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["term"].as_str().unwrap().to_string(),
                c["estimate"].as_f64().unwrap(),
                c["std_error"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn same_regression_from_every_format() {
    let reference = fit(FE, "panel.csv", &[]);
    assert_eq!(reference["nobs"], 23, "24 rows, one missing Lev");
    let want = coefs(&reference);
    assert_eq!(want.len(), 2);
    let cases: &[(&str, &[&str])] = &[
        ("panel_gbk.csv", &[]),
        ("panel_gbk.csv", &["--encoding", "gbk"]),
        ("panel_gbk.csv", &["--encoding", "gb18030"]),
        ("panel_tab.txt", &[]),
        (
            "panel_tab.txt",
            &["--delimiter", "tab", "--encoding", "utf8"],
        ),
        ("panel_csmar.csv", &["--year-from", "Accper"]),
        (
            "panel_csmar.csv",
            &["--year-from", "Accper", "--header-rows", "3"],
        ),
        ("panel_csmar_gbk.txt", &["--year-from", "Accper"]),
        ("panel.xlsx", &["--sheet", "data"]),
        ("panel.xlsx", &["--sheet", "1"]),
        ("panel.xlsx", &["--sheet", "data", "--year-from", "Accper"]),
        ("panel.dta", &["--year-from", "Accper"]),
        ("panel.xls", &[]),
        ("panel.dta", &[]),
        ("panel_v117.dta", &[]),
        ("panel_v114.dta", &[]),
    ];
    for (file, extra) in cases {
        let got = fit(FE, file, extra);
        assert_eq!(got["nobs"], reference["nobs"], "{file} {extra:?}");
        assert_eq!(coefs(&got), want, "{file} {extra:?}");
    }
}

/// Value labels of a .dta file become the same string levels as the CSV's text column.
#[test]
fn dta_value_labels_are_levels() {
    let formula = "ROA ~ Lev + Size + i(Indnme) | year";
    let want = coefs(&fit(formula, "panel.csv", &[]));
    assert!(want.iter().any(|c| c.0 == "Indnme::银行"), "{want:?}");
    for (file, extra) in [
        ("panel.dta", &[][..]),
        ("panel.xlsx", &["--sheet", "data"][..]),
    ] {
        assert_eq!(coefs(&fit(formula, file, extra)), want, "{file}");
    }
}

#[test]
fn csmar_detected_with_note_and_editor_lines() {
    let dir = tempfile::tempdir().unwrap();
    // header rows detected: the note says so; data start on line 4
    let text = std::fs::read_to_string(fixture("formats/panel_csmar.csv")).unwrap();
    let bad = text.replacen("0.2144", "n.a.", 1); // line 5: 000001, 2019
    let p = dir.path().join("csmar.csv");
    std::fs::write(&p, bad).unwrap();
    let (code, err) = keju_fails(
        dir.path(),
        &["fit", "ROA ~ Lev", "--data", p.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("note:") && err.contains("CSMAR layout"),
        "{err}"
    );
    assert!(
        err.contains("column \"ROA\", line 5: \"n.a.\" is not a number"),
        "{err}"
    );
    // forced to one header row, the name and unit rows make the columns text
    let (_, err) = keju_fails(
        dir.path(),
        &[
            "fit",
            "ROA ~ Lev",
            "--data",
            &formats("panel_csmar.csv"),
            "--header-rows",
            "1",
        ],
    );
    assert!(err.contains("line 2: \"总资产净利润率\""), "{err}");
}

#[test]
fn stock_codes_keep_leading_zeros() {
    // cluster levels are the codes as text; the check report lists them with their zeros
    for (file, extra) in [
        ("panel.csv", &[][..]),
        ("panel.xlsx", &["--sheet", "data"][..]),
        ("panel.xls", &[][..]),
        ("panel.dta", &[][..]),
        ("panel_gbk.csv", &[][..]),
    ] {
        let data = formats(file);
        let mut args = vec![
            "check", "--data", &data, "--id", "Stkcd", "--time", "year", "--format", "json",
        ];
        args.extend_from_slice(extra);
        let v = keju_json(&args);
        let stkcd = v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "Stkcd")
            .unwrap();
        assert_eq!(stkcd["kind"], "text", "{file}");
        assert_eq!(v["n_firms"], 6, "{file}");
    }
}

#[test]
fn labels_from_csmar_and_stata() {
    for (file, extra) in [
        ("panel_csmar.csv", &[][..]),
        ("panel_csmar_gbk.txt", &[][..]),
        ("panel.dta", &[][..]),
    ] {
        let data = formats(file);
        let mut args = vec![
            "check", "--data", &data, "--id", "Stkcd", "--time", "Stkcd", "--format", "json",
        ];
        args.extend_from_slice(extra);
        let out = keju_in(std::path::Path::new("."), &args);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let roa = v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "ROA")
            .unwrap();
        assert_eq!(roa["label"], "总资产净利润率", "{file}");
    }
}

#[test]
fn corrupt_and_truncated_files_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "panel.xlsx",
            "trunc.xlsx",
            "cannot read as an Excel workbook",
        ),
        ("panel.xls", "trunc.xls", "cannot read as an Excel workbook"),
        ("panel.dta", "trunc.dta", "cannot read as a Stata .dta file"),
    ];
    for (src, dst, msg) in cases {
        let bytes = std::fs::read(fixture(&format!("formats/{src}"))).unwrap();
        // (an .xls ends in padding sectors, a .dta in its closing tag `</stata_dta>`: cutting
        // those leaves the data whole and readable)
        let tail = match src {
            "panel.xls" => 600,
            "panel.dta" => 20,
            _ => 10,
        };
        for len in [0, 10, bytes.len() / 2, bytes.len() - tail] {
            let p = dir.path().join(dst);
            std::fs::write(&p, &bytes[..len]).unwrap();
            let (code, err) = keju_fails(dir.path(), &["fit", FE, "--data", dst]);
            assert_eq!(code, 1, "{dst} at {len} bytes: {err}");
            assert!(!err.contains("panicked"), "{dst} at {len} bytes: {err}");
            if len > 0 {
                assert!(
                    err.contains(msg) || err.contains(dst),
                    "{dst} at {len}: {err}"
                );
            }
        }
    }
    // a text file named .xlsx
    std::fs::write(dir.path().join("fake.xlsx"), "Stkcd,year\n").unwrap();
    let (code, err) = keju_fails(dir.path(), &["fit", FE, "--data", "fake.xlsx"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("fake.xlsx: cannot read as an Excel workbook"),
        "{err}"
    );
}

#[test]
fn wrong_sheet_lists_the_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let data = formats("panel.xlsx");
    let (code, err) = keju_fails(dir.path(), &["fit", FE, "--data", &data, "--sheet", "dat"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no sheet \"dat\"; the sheets are 0: \"说明\", 1: \"data\""),
        "{err}"
    );
    assert!(err.contains("did you mean \"data\""), "{err}");
    let (_, err) = keju_fails(dir.path(), &["fit", FE, "--data", &data, "--sheet", "7"]);
    assert!(err.contains("no sheet \"7\""), "{err}");
    // the first sheet by default: here the notes, so the column is not there
    let (_, err) = keju_fails(dir.path(), &["fit", FE, "--data", &data]);
    assert!(
        err.contains("[sheet \"说明\"]: column \"ROA\" not found"),
        "{err}"
    );
}

#[test]
fn encodings_unknown_and_mismatched() {
    let dir = tempfile::tempdir().unwrap();
    let data = formats("panel_gbk.csv");
    let (code, err) = keju_fails(
        dir.path(),
        &["fit", FE, "--data", &data, "--encoding", "latin1"],
    );
    assert_eq!(code, 2, "a usage error");
    assert!(
        err.contains("invalid value 'latin1'") && err.contains("gbk"),
        "{err}"
    );
    let (code, err) = keju_fails(
        dir.path(),
        &["fit", FE, "--data", &data, "--encoding", "utf8"],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("line 2") && err.contains("not valid UTF-8"),
        "{err}"
    );
    // bytes that are neither UTF-8 nor GB18030
    std::fs::write(dir.path().join("bin.csv"), b"a,b\n\xff\xff,1\n").unwrap();
    let (code, err) = keju_fails(dir.path(), &["fit", "b ~ a", "--data", "bin.csv"]);
    assert_eq!(code, 1);
    assert!(err.contains("line 2") && err.contains("GB18030"), "{err}");
}

#[test]
fn year_from_rejects_non_dates() {
    let dir = tempfile::tempdir().unwrap();
    let data = formats("panel.csv");
    let (code, err) = keju_fails(
        dir.path(),
        &["fit", FE, "--data", &data, "--year-from", "Indnme"],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("column \"Indnme\", line 2: \"银行\" is not a date"),
        "{err}"
    );
}

/// Parquet columns of every integer width load as numbers, dates and timestamps as text
/// (`types.parquet`, written by pyarrow; see SOURCE.md): `small` is int8 with a null,
/// `u16` uint16, `day` date32, `stamp` timestamp[us].
#[test]
fn parquet_small_integers_and_dates() {
    let data = fixture("formats/types.parquet").display().to_string();
    let r = keju_json(&[
        "fit",
        "y ~ small + u16",
        "--data",
        &data,
        "--vcov",
        "hetero",
        "--format",
        "json",
    ]);
    assert_eq!(
        r["nobs"], 5,
        "the null in the int8 column is a missing value"
    );
    assert_eq!(r["removed"]["missing"], 1);
    // y on (1, small, u16) over the 5 complete rows: numpy.linalg.lstsq gives
    // (0.41194645, -0.32106076, 0.00599125).
    for (term, want) in [("small", -0.32106076), ("u16", 0.00599125)] {
        let got = coef(&r, term)["estimate"].as_f64().unwrap();
        assert!((got - want).abs() < 1e-8, "{term}: {got} vs {want}");
    }
    // A date used as a number is a clear error naming the column, not a panic.
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = keju_fails(dir.path(), &["fit", "y ~ day", "--data", &data]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("day") && err.contains("2020-01-01"), "{err}");
}

/// Second review (2026-11-30): Polars panicked (exit 101) on a corrupt Parquet footer and on
/// decimal and float16 columns; each must be a clear error with exit 1, no panic report.
#[test]
fn parquet_panics_become_errors() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["corrupt_footer", "decimal", "float16"] {
        let data = fixture(&format!("formats/{file}.parquet"))
            .display()
            .to_string();
        let (code, err) = keju_fails(dir.path(), &["fit", "y ~ c", "--data", &data]);
        assert_eq!(code, 1, "{file}: {err}");
        assert!(err.contains("cannot read as Parquet"), "{file}: {err}");
        assert!(!err.contains("panicked"), "{file}: {err}");
    }
}

/// `panel_wide.parquet`: `panel.csv` plus `Accper` (date32), `Cash` (decimal128), `Beta`
/// (float16) and `Tags` (list of strings), the last three columns keju cannot decode (see
/// SOURCE.md).
const WIDE: &str = "panel_wide.parquet";

/// `keju fit ... --format json` on a format fixture, with the `data` paths removed (the only
/// field that differs between two files holding the same data).
fn fit_json(file: &str, args: &[&str]) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("data");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let data = formats(file);
    let mut all = vec!["fit", "--data", &data, "--format", "json"];
    all.extend_from_slice(args);
    let mut v = keju_json(&all);
    strip(&mut v);
    v
}

/// `keju fit` reads only the columns the model uses from a Parquet file, so columns keju
/// cannot decode (decimal, float16, list) no longer fail a model that does not use them; the
/// fit equals the one on the CSV. A model using one of them still fails with exit 1, naming it.
#[test]
fn parquet_undecodable_columns_unused_by_the_model() {
    // y ~ 1: the mean of y = (1.5, 2, -0.5, 3.25), 1.5625 (SOURCE.md); c is not read.
    for file in ["decimal.parquet", "float16.parquet"] {
        let r = fit_json(file, &["y ~ 1"]);
        assert_eq!(r["nobs"], 4, "{file}");
        assert_eq!(coef(&r, "(Intercept)")["estimate"], 1.5625, "{file}");
    }
    let want = fit_json("panel.csv", &[FE, "--cluster", "Stkcd"]);
    assert_eq!(want["nobs"], 23);
    assert_eq!(fit_json(WIDE, &[FE, "--cluster", "Stkcd"]), want);
    let dir = tempfile::tempdir().unwrap();
    for (col, kind) in [
        ("Cash", "Decimal(12, 2)"),
        ("Beta", "Float16"),
        ("Tags", "list[str]"),
    ] {
        let formula = format!("ROA ~ Lev + {col} | Stkcd");
        let (code, err) = keju_fails(dir.path(), &["fit", &formula, "--data", &formats(WIDE)]);
        assert_eq!(code, 1, "{col}: {err}");
        assert!(
            err.contains(&format!("column \"{col}\" ({kind})")),
            "{col}: {err}"
        );
        assert!(
            err.contains("must be converted to numbers or text first"),
            "{col}: {err}"
        );
        assert!(!err.contains("panicked"), "{col}: {err}");
    }
}

/// An unknown column is reported as with a full load: the hint is the closest column of the
/// file, also when that column was not loaded (or could not be).
#[test]
fn parquet_unknown_column_hint_includes_unloaded_columns() {
    let dir = tempfile::tempdir().unwrap();
    for (file, formula, args, unknown, hint) in [
        (WIDE, "ROA ~ Lev + Sizee | Stkcd", &[][..], "Sizee", "Size"),
        (WIDE, "ROA ~ Lev + Cashh | Stkcd", &[], "Cashh", "Cash"),
        (
            WIDE,
            "ROA ~ Lev | Stkcd",
            &["--cluster", "Indnm"],
            "Indnm",
            "Indnme",
        ),
        (
            WIDE,
            "ROA ~ Lev | Stkcd",
            &["--subset", "yaer > 2018"],
            "yaer",
            "year",
        ),
        ("decimal.parquet", "y ~ cc", &[], "cc", "c"),
        ("float16.parquet", "yy ~ 1", &[], "yy", "y"),
    ] {
        let data = formats(file);
        let mut all = vec!["fit", formula, "--data", &data];
        all.extend_from_slice(args);
        let (code, err) = keju_fails(dir.path(), &all);
        assert_eq!(code, 1, "{formula}: {err}");
        assert!(
            err.contains(&format!("column \"{unknown}\" not found"))
                && err.contains(&format!("hint: did you mean \"{hint}\"?")),
            "{file} {formula} {args:?}: {err}"
        );
    }
}

/// Every option that names columns (--cluster, --weights, --subset, --split, --year-from)
/// gives the same result on the Parquet file, which loads only the columns named, as on the
/// CSV, which loads all. Each case uses a column that only that option names.
#[test]
fn parquet_projection_fits_equal_csv() {
    let cases: &[&[&str]] = &[
        &["ROA ~ Lev + Size | year", "--cluster", "Stkcd"],
        &["ROA ~ Lev + Size | year", "--cluster", "Stkcd,Indnme"],
        &["ROA ~ Lev | year", "--weights", "Size", "--vcov", "hetero"],
        &["ROA ~ Lev + Size | year", "--subset", "Indnme != \"银行\""],
        &[
            "ROA ~ Lev | Stkcd",
            "--subset",
            "(Size > 21 | Indnme == \"银行\") & year >= 2019",
        ],
        &["ROA ~ Lev | year", "--split", "Size > median by Indnme"],
        &["ROA ~ Lev | year", "--split", "Indnme == \"银行\""],
        &["ROA ~ Lev", "--split", "Indnme", "--vcov", "hetero"],
        &["ROA ~ Lev + i(Indnme) | year", "--vcov", "hetero"],
    ];
    for args in cases {
        let want = fit_json("panel.csv", args);
        assert!(
            want["coefficients"].is_array() || want["groups"].is_array(),
            "{args:?}: {want}"
        );
        assert_eq!(fit_json(WIDE, args), want, "{args:?}");
    }
    // `year` rebuilt from the dates in Accper, which only --year-from names
    let want = fit_json("panel.csv", &[FE, "--cluster", "Stkcd"]);
    let got = fit_json(WIDE, &[FE, "--cluster", "Stkcd", "--year-from", "Accper"]);
    assert_eq!(got, want);
}

/// Commands that read every column (`keju check`) skip the columns keju cannot decode with a
/// note naming each, instead of failing on the file; a model that names one still fails.
#[test]
fn full_reads_skip_undecodable_parquet_columns() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixture(&format!("formats/{WIDE}")).display().to_string();
    let out = keju_in(
        dir.path(),
        &["check", "--data", &data, "--id", "Stkcd", "--time", "year"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    for (col, ty) in [
        ("Cash", "Decimal(12, 2)"),
        ("Beta", "Float16"),
        ("Tags", "List"),
    ] {
        assert!(
            err.contains(&format!("column \"{col}\" (")) && err.contains(ty),
            "{col}: {err}"
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("6 firms (Stkcd) x 4 periods (year)"),
        "{text}"
    );
    let (code, err) = keju_fails(dir.path(), &["fit", "ROA ~ Cash", "--data", &data]);
    assert_eq!(code, 1);
    assert!(
        err.contains("\"Cash\"") && err.contains("cannot decode"),
        "{err}"
    );
}
